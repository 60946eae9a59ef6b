//! What the web UI needs from the rest of the portal. The server implements
//! [`PortalData`] over its catalog and plugin host; this crate never depends
//! on either (it stays light to compile and easy to test with a fake).
//!
//! Entities travel as Backstage-shaped JSON and filters in Backstage's
//! predicate language (`{"$all": [{"kind": "component"}, …]}`), the two
//! shapes both sides already speak; plugin output, states and failures as the
//! typed seam of `portal-types`; software templates' schemas, tasks and task
//! events in the shapes of Backstage's scaffolder API (`/api/scaffolder/v2`).

use crate::model::PluginRow;
use async_trait::async_trait;
use futures::stream::BoxStream;
use portal_types::docs::{DocsPage, DocsSite, DocsStatus};
use portal_types::{PanelFailure, Placement, Widget};
use serde_json::{Map, Value};

/// A page of entities to fetch.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    /// Backstage filter predicate; `None` matches everything.
    pub filter: Option<Value>,
    /// Case-insensitive substring search.
    pub text: Option<TextSearch>,
    /// Sort keys; empty means by entity ref (`kind:namespace/name`), the fast path.
    pub order: Vec<SortKey>,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone)]
pub struct TextSearch {
    pub term: String,
    /// Entity paths searched, e.g. `metadata.name`.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct SortKey {
    pub field: String,
    pub desc: bool,
}

#[derive(Debug, Clone, Default)]
pub struct EntityPage {
    pub items: Vec<Value>,
    pub total: u64,
    pub has_next: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// One entity with what the catalog knows about it.
#[derive(Debug, Clone)]
pub struct EntityRecord {
    /// The entity as served, with `relations` and `status`.
    pub entity: Value,
    /// When its source last confirmed it (ms since the epoch).
    pub last_confirmed_ms: Option<u64>,
    /// After how long without confirmation it counts as stale.
    pub stale_after_ms: Option<u64>,
}

/// A panel that applies to an entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelInfo {
    pub plugin: String,
    pub id: String,
    pub title: String,
    pub placement: Placement,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

/// The answer to a request to run (or re-run) a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskRequest {
    /// The task's id.
    Started(String),
    /// Why it was not started, for the user (invalid values, no such
    /// template, actions not installed, ...).
    Refused(String),
}

#[async_trait]
pub trait PortalData: Send + Sync + 'static {
    /// One page of entities.
    async fn query_entities(&self, query: EntityQuery) -> Result<EntityPage, DataError>;
    /// Counts of the values of each field over the entities matching `filter`.
    async fn facets(
        &self,
        fields: Vec<String>,
        filter: Option<Value>,
    ) -> Result<Vec<(String, Vec<FacetCount>)>, DataError>;
    /// An entity by ref (`kind:namespace/name`, case-insensitive).
    async fn entity(&self, entity_ref: &str) -> Result<Option<EntityRecord>, DataError>;
    /// Entities by ref, in order, `None` for missing ones.
    async fn entities_by_refs(&self, refs: Vec<String>) -> Result<Vec<Option<Value>>, DataError>;
    /// The plugin panels that apply to an entity.
    async fn panels_for(&self, entity: &Value) -> Vec<PanelInfo>;
    /// Renders one panel: the widget tree the host checked, or why it cannot be shown.
    async fn render_panel(
        &self,
        plugin: &str,
        panel: &str,
        entity: &Value,
    ) -> Result<Widget, PanelFailure>;
    /// Every plugin file and its state, as the plugins page lists them.
    async fn plugins(&self) -> Vec<PluginRow>;
    /// The watched plugins directory, if any.
    fn plugins_dir(&self) -> Option<String>;
    /// This data as the request's asker may see it (the server binds the
    /// request's identity, which it left in the request's extensions);
    /// `None`: the same for everyone.
    fn for_request(&self, _parts: &http::request::Parts) -> Option<std::sync::Arc<dyn PortalData>> {
        None
    }
    /// Who is viewing, for the page frame.
    fn viewer(&self) -> Option<crate::model::Viewer> {
        None
    }
    /// A stream with one item (a short description) per change to the plugins.
    fn plugin_changes(&self) -> BoxStream<'static, String>;

    /// A Template entity's form pages in Backstage's parameter-schema shape
    /// (`{title, description, steps: [{title, description, schema}]}`);
    /// `None` when the catalog has no such template. A template that cannot
    /// be read is an error naming its problems.
    async fn template_parameter_schema(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, DataError>;
    /// Starts a task running `template_ref` (`template:namespace/name`).
    async fn create_task(
        &self,
        template_ref: &str,
        values: Map<String, Value>,
        secrets: Map<String, Value>,
    ) -> Result<TaskRequest, DataError>;
    /// A task, as `GET /api/scaffolder/v2/tasks/:id` answers it.
    async fn task(&self, id: &str) -> Result<Option<Value>, DataError>;
    /// A task's events after event `after`, as `GET .../events` answers
    /// them (without waiting for new ones).
    async fn task_events(&self, id: &str, after: u64) -> Result<Vec<Value>, DataError>;
    /// Asks a running task to stop; `false` when there is no such task.
    async fn cancel_task(&self, id: &str) -> Result<bool, DataError>;
    /// Runs a finished task again from its first step.
    async fn retry_task(&self, id: &str) -> Result<TaskRequest, DataError>;
    /// The template actions installed, by id, with their plugins' grants.
    async fn actions(&self) -> Vec<crate::model::ActionRow>;
    /// The template editor: the parameter schema of a pasted template's
    /// text (checked as task creation checks it), or every problem with it.
    async fn preview_template(&self, text: &str) -> Result<Value, Vec<String>>;
    /// A dry run of a pasted template with the files of a registered one
    /// (`files_from`, a template ref), answered as `POST /v2/dry-run` is
    /// (files as text, not base64).
    async fn dry_run_template(
        &self,
        text: &str,
        files_from: Option<String>,
        values: Map<String, Value>,
        secrets: Map<String, Value>,
    ) -> Result<Value, DataError>;

    /// A page of the audit log, if the viewer may read it.
    async fn audit(
        &self,
        _request: crate::model::AuditRequest,
    ) -> Result<crate::model::AuditView, DataError> {
        Ok(crate::model::AuditView::default())
    }

    /// One page of the portal's search (`/search`).
    async fn search(
        &self,
        _request: crate::model::SearchRequest,
    ) -> Result<crate::model::SearchView, DataError> {
        Err(DataError("this portal has no search".into()))
    }
    /// The search box's suggestions for what was typed so far.
    async fn suggest(&self, _term: &str) -> Vec<crate::model::Suggestion> {
        Vec::new()
    }

    /// A documented entity's TechDocs build status (`key`:
    /// `namespace/kind/name`, lowercase); `None` when it has none.
    async fn docs_status(&self, _key: &str) -> Option<DocsStatus> {
        None
    }
    /// A stored TechDocs site (nav, page list, problems), if built.
    async fn docs_site(&self, _key: &str) -> Option<DocsSite> {
        None
    }
    /// One page of a stored site by site path (`guide/setup/`, `""`).
    async fn docs_page(&self, _key: &str, _path: &str) -> Option<DocsPage> {
        None
    }
}
