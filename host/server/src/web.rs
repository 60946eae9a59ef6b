//! The web UI's view of the portal: [`portal_web::ssr::PortalData`] over the
//! catalog, the plugin host and the scaffolder. The UI crate never depends on
//! them; this is the only place they meet.

use crate::AppState;
use crate::request::RequestContext;
use crate::scaffolder_wiring::{FoundTemplate, find_template};
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use portal_catalog::{EntityQuery as CatalogQuery, FullTextFilter, OrderField, Page};
use portal_catalog_model::Predicate;
use portal_plugin_host::CallError;
use portal_plugin_host::PluginStatus;
use portal_scaffolder::{CreateError, NewTask, Template};
use portal_types::{PanelFailure, PanelFailureKind, Widget};
use portal_web::model::{CapabilityRow, PluginRow, QuotaRow};
use portal_web::ssr::data::{
    DataError, EntityPage, EntityQuery, EntityRecord, FacetCount, PanelInfo, PortalData,
    TaskRequest,
};
use portal_web::ssr::views::rfc3339;
use serde_json::{Map, Value};
use tokio_stream::wrappers::BroadcastStream;

/// The portal's data, as the UI asks for it.
pub struct WebData {
    state: AppState,
    /// The request this data answers (`for_request`); `None` outside one.
    request: Option<RequestContext>,
}

impl WebData {
    pub fn new(state: AppState) -> WebData {
        WebData {
            state,
            request: None,
        }
    }

    /// Who is viewing: the request's asker, or outside a request the
    /// ambient viewer (the guest in guest mode).
    fn context(&self) -> RequestContext {
        self.request
            .clone()
            .unwrap_or_else(|| crate::request::ambient_context(&self.state))
    }

    fn access(&self) -> portal_catalog::Access {
        self.context().access()
    }
}

fn predicate(filter: Option<Value>) -> Result<Option<Predicate>, DataError> {
    filter
        .map(|f| Predicate::parse(&f).map_err(|e| DataError(format!("invalid filter: {e}"))))
        .transpose()
}

#[async_trait]
impl PortalData for WebData {
    async fn query_entities(&self, query: EntityQuery) -> Result<EntityPage, DataError> {
        let q = CatalogQuery {
            filter: predicate(query.filter)?,
            order: query
                .order
                .into_iter()
                .map(|k| {
                    if k.desc {
                        OrderField::desc(k.field)
                    } else {
                        OrderField::asc(k.field)
                    }
                })
                .collect(),
            require_order_field: false,
            full_text: query.text.map(|t| FullTextFilter {
                term: t.term,
                fields: t.fields,
            }),
            page: Page::Offset {
                offset: query.offset,
                limit: Some(query.limit),
            },
        };
        let result = self.state.catalog.query(&q, &self.access());
        Ok(EntityPage {
            items: result.items.iter().map(|d| d.value()).collect(),
            total: result.total,
            has_next: result.has_next,
        })
    }

    async fn facets(
        &self,
        fields: Vec<String>,
        filter: Option<Value>,
    ) -> Result<Vec<(String, Vec<FacetCount>)>, DataError> {
        let filter = predicate(filter)?;
        Ok(self
            .state
            .catalog
            .facets(&fields, filter.as_ref(), &self.access())
            .into_iter()
            .map(|(field, counts)| {
                (
                    field,
                    counts
                        .into_iter()
                        .map(|c| FacetCount {
                            value: c.value,
                            count: c.count,
                        })
                        .collect(),
                )
            })
            .collect())
    }

    async fn entity(&self, entity_ref: &str) -> Result<Option<EntityRecord>, DataError> {
        let doc = self
            .state
            .catalog
            .get_by_ref(entity_ref, &self.access())
            .map_err(|e| DataError(e.to_string()))?;
        let stale_after_ms = self
            .state
            .catalog
            .config()
            .refresh_interval_seconds
            .saturating_mul(3_000);
        Ok(doc.map(|d| EntityRecord {
            last_confirmed_ms: Some(d.last_confirmed.0),
            // Three missed refreshes: the source has stopped confirming it.
            stale_after_ms: (stale_after_ms > 0).then_some(stale_after_ms),
            entity: d.value(),
        }))
    }

    async fn entities_by_refs(&self, refs: Vec<String>) -> Result<Vec<Option<Value>>, DataError> {
        Ok(self
            .state
            .catalog
            .get_by_refs(&refs, None, &self.access())
            .into_iter()
            .map(|d| d.map(|d| d.value()))
            .collect())
    }

    async fn panels_for(&self, entity: &Value) -> Vec<PanelInfo> {
        self.state
            .plugins
            .panels_for(entity)
            .into_iter()
            .map(|p| PanelInfo {
                plugin: p.plugin,
                id: p.panel.id,
                title: p.panel.title,
                placement: p.panel.placement,
            })
            .collect()
    }

    async fn render_panel(
        &self,
        plugin: &str,
        panel: &str,
        entity: &Value,
    ) -> Result<Widget, PanelFailure> {
        self.state
            .plugins
            .render_panel(
                plugin,
                panel,
                &entity.to_string(),
                Some(crate::catalog_wiring::CatalogService::for_viewer(
                    self.state.catalog.clone(),
                    &self.context(),
                )),
            )
            .await
            .map_err(|e| {
                let kind = match &e {
                    CallError::NoSuchPlugin(_) | CallError::NoSuchExtension { .. } => {
                        PanelFailureKind::Unavailable
                    }
                    CallError::Timeout { .. } | CallError::CpuLimit { .. } => {
                        PanelFailureKind::Timeout
                    }
                    CallError::InvalidOutput { .. } => PanelFailureKind::Invalid,
                    _ => PanelFailureKind::Failed,
                };
                PanelFailure::new(kind, e.to_string())
            })
    }

    async fn plugins(&self) -> Vec<PluginRow> {
        self.state
            .plugins
            .statuses()
            .into_iter()
            .map(plugin_row)
            .collect()
    }

    fn for_request(
        &self,
        parts: &axum::http::request::Parts,
    ) -> Option<std::sync::Arc<dyn PortalData>> {
        let request = parts.extensions.get::<RequestContext>()?.clone();
        Some(std::sync::Arc::new(WebData {
            state: self.state.clone(),
            request: Some(request),
        }))
    }

    fn viewer(&self) -> Option<portal_web::model::Viewer> {
        let context = self.context();
        let identity = context.principal.identity()?;
        // What they own, directly or through their groups.
        let ownership =
            crate::request::with_ownership(&self.state.catalog, identity.clone()).ownership_refs;
        let owned_href = format!(
            "/catalog?{}",
            ownership
                .iter()
                .map(|r| format!("owner={}", portal_web::model::encode_component(r)))
                .collect::<Vec<_>>()
                .join("&")
        );
        let (kind, rest) = identity.user_ref.split_once(':')?;
        let (namespace, name) = rest.split_once('/')?;
        Some(portal_web::model::Viewer {
            name: name.to_owned(),
            href: format!("/catalog/{namespace}/{kind}/{name}"),
            guest: matches!(context.principal, portal_auth::Principal::Guest(_)),
            signed_in: matches!(context.principal, portal_auth::Principal::User(_)),
            owned_href: Some(owned_href),
            may: portal_web::model::UI_PERMISSIONS
                .iter()
                .filter(|name| {
                    portal_auth::permission::by_name(name)
                        .is_some_and(|p| !matches!(context.decide(&p), portal_auth::Decision::Deny))
                })
                .map(|name| name.to_string())
                .collect(),
        })
    }

    async fn audit(
        &self,
        request: portal_web::model::AuditRequest,
    ) -> Result<portal_web::model::AuditView, DataError> {
        let context = self.context();
        if context.decide(&portal_auth::permission::AUDIT_READ) != portal_auth::Decision::Allow {
            return Ok(portal_web::model::AuditView::default());
        }
        const PAGE: usize = 100;
        let filter = portal_auth::AuditFilter {
            actor: Some(request.actor).filter(|a| !a.is_empty()),
            action: Some(request.action).filter(|a| !a.is_empty()),
            outcome: portal_auth::Outcome::parse(&request.outcome),
            before: request.before,
            limit: PAGE,
        };
        let auth = self.state.auth.clone();
        let events = tokio::task::spawn_blocking(move || auth.audit().read(&filter))
            .await
            .map_err(|e| DataError(e.to_string()))?;
        let next_before = (events.len() == PAGE)
            .then(|| events.last().map(|e| e.seq))
            .flatten();
        Ok(portal_web::model::AuditView {
            allowed: true,
            next_before,
            rows: events
                .into_iter()
                .map(|e| portal_web::model::AuditRow {
                    seq: e.seq,
                    time: e.time,
                    actor: e.actor,
                    action: e.action,
                    resource: e.resource,
                    outcome: e.outcome.as_str().to_owned(),
                    source: e.source,
                    detail: e.detail,
                })
                .collect(),
        })
    }

    fn plugins_dir(&self) -> Option<String> {
        shown_plugins_dir(&self.state)
    }

    fn plugin_changes(&self) -> BoxStream<'static, String> {
        BroadcastStream::new(self.state.plugins.subscribe())
            .filter_map(|event| async move {
                event.ok().map(|e| match &e.plugin {
                    Some(p) => format!("{} {p} ({})", e.kind, e.file),
                    None => format!("{} {}", e.kind, e.file),
                })
            })
            .boxed()
    }

    async fn template_parameter_schema(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, DataError> {
        self.schema_of(namespace, name)
    }

    async fn create_task(
        &self,
        template_ref: &str,
        values: Map<String, Value>,
        secrets: Map<String, Value>,
    ) -> Result<TaskRequest, DataError> {
        self.start_task(template_ref, values, secrets)
    }

    async fn task(&self, id: &str) -> Result<Option<Value>, DataError> {
        self.state
            .scaffolder
            .task(id)
            .map_err(|e| DataError(e.to_string()))?
            .map(|t| json(&t))
            .transpose()
    }

    async fn task_events(&self, id: &str, after: u64) -> Result<Vec<Value>, DataError> {
        self.state
            .scaffolder
            .events_after(id, after)
            .map_err(|e| DataError(e.to_string()))?
            .iter()
            .map(json)
            .collect()
    }

    async fn cancel_task(&self, id: &str) -> Result<bool, DataError> {
        self.context()
            .authorize(&portal_auth::permission::SCAFFOLDER_TASK_CANCEL, id)
            .map_err(|e| DataError(e.message))?;
        Ok(self
            .state
            .scaffolder
            .cancel(id)
            .map_err(|e| DataError(e.to_string()))?
            .is_some())
    }

    async fn retry_task(&self, id: &str) -> Result<TaskRequest, DataError> {
        if let Err(e) = self
            .context()
            .authorize(&portal_auth::permission::SCAFFOLDER_TASK_CREATE, id)
        {
            return Ok(TaskRequest::Refused(e.message));
        }
        let scaffolder = &self.state.scaffolder;
        // A task's secrets are not kept: it runs again without them.
        match scaffolder.retry(id, Map::new()) {
            Ok(Some(id)) => Ok(TaskRequest::Started(id)),
            Ok(None) => Ok(TaskRequest::Refused(format!(
                "Task with id {id} does not exist"
            ))),
            Err(e) => task_request(Err(e)),
        }
    }

    async fn search(
        &self,
        request: portal_web::model::SearchRequest,
    ) -> Result<portal_web::model::SearchView, DataError> {
        crate::search_view::search(&self.state, &self.context(), request).await
    }

    async fn suggest(&self, term: &str) -> Vec<portal_web::model::Suggestion> {
        crate::search_view::suggest(&self.state, &self.context(), term).await
    }

    async fn docs_status(&self, key: &str) -> Option<portal_types::docs::DocsStatus> {
        self.state.techdocs.status(key)
    }

    async fn docs_site(&self, key: &str) -> Option<portal_types::docs::DocsSite> {
        match self.state.techdocs.site(key) {
            Ok(site) => site.map(|s| (*s).clone()),
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        }
    }

    async fn docs_page(&self, key: &str, path: &str) -> Option<portal_types::docs::DocsPage> {
        self.state.techdocs.page(key, path).unwrap_or_else(|e| {
            tracing::error!("{e}");
            None
        })
    }

    async fn preview_template(&self, text: &str) -> Result<Value, Vec<String>> {
        crate::template_editor::preview(&self.state.scaffolder, text)
    }

    async fn dry_run_template(
        &self,
        text: &str,
        files_from: Option<String>,
        values: Map<String, Value>,
        secrets: Map<String, Value>,
    ) -> Result<Value, DataError> {
        let files_from = match files_from.filter(|r| !r.is_empty()) {
            Some(reference) => Some(
                self.find_template(&reference)?
                    .ok_or_else(|| DataError(format!("No template found for {reference}")))?,
            ),
            None => None,
        };
        crate::template_editor::dry_run(&self.state.scaffolder, text, files_from, values, secrets)
            .await
            .map_err(DataError)
    }

    async fn actions(&self) -> Vec<portal_web::model::ActionRow> {
        // Each action with its plugin's grants, read from the loaded plugins
        // (not `statuses`, which also reads every plugin's storage usage).
        let mut rows: Vec<_> = self
            .state
            .plugins
            .actions_with_grants()
            .into_iter()
            .map(|(plugin, action, granted)| portal_web::model::ActionRow {
                inputs: action
                    .input_schema
                    .as_ref()
                    .map(portal_web::model::schema_fields)
                    .unwrap_or_default(),
                outputs: action
                    .output_schema
                    .as_ref()
                    .map(portal_web::model::schema_fields)
                    .unwrap_or_default(),
                grants: grant_lines(&granted),
                missing_grants: crate::scaffolder_wiring::missing_grants(
                    &plugin,
                    action.input_schema.as_ref().unwrap_or(&Value::Null),
                    Some(&granted),
                ),
                id: action.id,
                description: action.description,
                plugin,
            })
            .collect();
        rows.sort_by(|a, b| a.id.cmp(&b.id));
        rows
    }
}

/// What a plugin's grants let its actions reach, one line each.
fn grant_lines(g: &portal_plugin_host::EffectiveGrants) -> Vec<String> {
    let mut lines = Vec::new();
    lines.extend(g.http_hosts.iter().map(|h| format!("HTTP to {h}")));
    lines.extend(g.secrets.iter().map(|s| format!("Secret {s}")));
    lines.extend(
        g.git_remotes
            .iter()
            .map(|r| format!("Push with git to {r}")),
    );
    lines.extend(
        g.register_locations
            .iter()
            .map(|r| format!("Register catalog locations under {r}")),
    );
    if g.catalog_read {
        lines.push("Read the catalog".to_owned());
    }
    lines
}

/// The plugins page's row for one plugin file.
fn plugin_row(s: PluginStatus) -> PluginRow {
    let mut capabilities = Vec::new();
    let requested = s.requested.clone().unwrap_or_default();
    let granted = s.granted.clone();
    let flag = |label: &str, r: bool, g: bool, out: &mut Vec<CapabilityRow>| {
        if r || g {
            out.push(CapabilityRow {
                capability: label.to_owned(),
                requested: r,
                granted: g,
            });
        }
    };
    let g = granted.as_ref();
    flag(
        "Read the catalog",
        requested.catalog_read,
        g.is_some_and(|g| g.catalog_read),
        &mut capabilities,
    );
    flag(
        "Private storage",
        requested.storage,
        g.is_some_and(|g| g.storage),
        &mut capabilities,
    );
    let lists: [(&str, &[String], Vec<String>); 5] = [
        (
            "HTTP to",
            &requested.http_hosts,
            g.map(|g| g.http_hosts.clone()).unwrap_or_default(),
        ),
        (
            "Secret",
            &requested.secrets,
            g.map(|g| g.secrets.iter().cloned().collect())
                .unwrap_or_default(),
        ),
        (
            "Config value",
            &requested.config_keys,
            g.map(|g| g.config_keys.clone()).unwrap_or_default(),
        ),
        // Plugins cannot request these (1.x `describe` has no field for them):
        // only the operator's grant shows.
        (
            "Push with git to",
            &[],
            g.map(|g| g.git_remotes.clone()).unwrap_or_default(),
        ),
        (
            "Register catalog locations under",
            &[],
            g.map(|g| g.register_locations.clone()).unwrap_or_default(),
        ),
    ];
    for (label, asked, given) in lists {
        let mut all: Vec<&String> = asked.iter().chain(given.iter()).collect();
        all.sort();
        all.dedup();
        for v in all {
            capabilities.push(CapabilityRow {
                capability: format!("{label} {v}"),
                requested: asked.contains(v),
                granted: given.contains(v),
            });
        }
    }
    let error_text = |e: &portal_plugin_host::ErrorRecord| {
        format!("{}: {} ({})", e.kind, e.message, rfc3339(unix_ms(e.at)))
    };
    PluginRow {
        state: s.state,
        name: s.name,
        version: s.version,
        description: s.description,
        wit_version: s.wit_version,
        extension_points: s.extension_points.iter().map(|p| p.to_string()).collect(),
        panels: s
            .panels
            .iter()
            .map(|p| {
                let placement = match p.placement {
                    portal_types::Placement::Card => "card",
                    portal_types::Placement::Tab => "tab",
                };
                format!("{} ({}, {placement})", p.title, p.id)
            })
            .collect(),
        capabilities,
        quotas: s.quotas.as_ref().map(quota_rows).unwrap_or_default(),
        missing_grants: s.missing_grants,
        compiler: s.compiler.map(|t| t.name().to_owned()),
        calls: s.health.calls,
        failures: s.health.failures,
        last_error: s.health.last_error.as_ref().map(error_text),
        last_denial: s.health.last_denial.as_ref().map(error_text),
        load_error: s.load_error.as_ref().map(error_text),
        loaded_at: s.loaded_at.map(|t| rfc3339(unix_ms(t))),
        file: s.file,
    }
}

fn unix_ms(t: std::time::SystemTime) -> u64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The plugins directory as shown in pages and API answers: relative to where
/// the portal runs (as the operator configured it), or only its name; never an
/// absolute server path.
pub(crate) fn shown_plugins_dir(state: &AppState) -> Option<String> {
    let dir = state.plugins.plugins_dir();
    let shown = std::env::current_dir()
        .ok()
        .and_then(|cwd| dir.strip_prefix(cwd).ok().map(|d| d.to_path_buf()))
        .or_else(|| dir.is_relative().then(|| dir.to_path_buf()))
        .or_else(|| dir.file_name().map(std::path::PathBuf::from))?;
    Some(shown.display().to_string())
}

/// The plugins page's quota table for one plugin.
fn quota_rows(q: &portal_plugin_host::QuotaStatus) -> Vec<QuotaRow> {
    let n = portal_web::model::fmt_count;
    let window = q.limits.log_window_seconds;
    let row = |quota: String, used: Option<String>, limit: String| QuotaRow { quota, used, limit };
    let per_call = [
        ("Catalog calls per call", q.limits.catalog_calls_per_call),
        (
            "Catalog bytes read per call",
            q.limits.catalog_bytes_per_call,
        ),
        ("HTTP requests per call", q.limits.http_requests_per_call),
        ("HTTP bytes per call", q.limits.http_bytes_per_call),
    ]
    .map(|(quota, limit)| row(quota.into(), None, n(limit)));
    let mut rows = vec![
        row(
            "Storage".into(),
            Some(format!("{} bytes", n(q.storage_bytes))),
            format!("{} bytes", n(q.limits.storage_bytes)),
        ),
        row(
            "Storage keys".into(),
            Some(n(q.storage_keys)),
            n(q.limits.storage_keys),
        ),
        row(
            format!("Log lines per {window} s"),
            Some(format!(
                "{} ({} dropped since loaded)",
                n(q.log_lines_in_window),
                n(q.log_lines_dropped)
            )),
            n(q.limits.log_lines_per_window),
        ),
        row(
            format!("Log bytes per {window} s"),
            Some(n(q.log_bytes_in_window)),
            n(q.limits.log_bytes_per_window),
        ),
    ];
    rows.extend(per_call);
    rows
}

/// Why the scaffolder did not start a task: the user's problem (refused, with
/// the reason) or the portal's (an error).
fn task_request(result: Result<String, CreateError>) -> Result<TaskRequest, DataError> {
    match result {
        Ok(id) => Ok(TaskRequest::Started(id)),
        Err(CreateError::Store(e)) => Err(DataError(e.to_string())),
        Err(CreateError::Io(e)) => Err(DataError(e)),
        Err(other) => Ok(TaskRequest::Refused(other.to_string())),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Result<Value, DataError> {
    serde_json::to_value(value).map_err(|e| DataError(e.to_string()))
}

/// The scaffolder's side of the UI: templates' forms and tasks, with the same
/// checks and shapes as `/api/scaffolder/v2` (`api/scaffolder.rs`).
impl WebData {
    fn find_template(&self, reference: &str) -> Result<Option<FoundTemplate>, DataError> {
        find_template(&self.state.catalog, &self.access(), reference)
            .map_err(|e| DataError(e.to_string()))
    }

    fn schema_of(&self, namespace: &str, name: &str) -> Result<Option<Value>, DataError> {
        let Some(found) = self.find_template(&format!("template:{namespace}/{name}"))? else {
            return Ok(None);
        };
        let template = Template::from_entity(&found.entity)
            .map_err(|e| DataError(format!("this template cannot be used: {e}")))?;
        Ok(Some(crate::scaffolder_wiring::parameter_schema(
            &found, &template,
        )))
    }

    fn start_task(
        &self,
        template_ref: &str,
        values: Map<String, Value>,
        secrets: Map<String, Value>,
    ) -> Result<TaskRequest, DataError> {
        if let Some((key, _)) = secrets.iter().find(|(_, v)| !v.is_string()) {
            return Ok(TaskRequest::Refused(format!(
                "secret `{key}` must be a string"
            )));
        }
        let Some(found) = self.find_template(template_ref)? else {
            return Ok(TaskRequest::Refused(format!(
                "No template found for {template_ref}"
            )));
        };
        let context = self.context();
        if let Err(e) = crate::scaffolder_wiring::authorize_task(&context, &found) {
            return Ok(TaskRequest::Refused(e.message));
        }
        // The scaffolder checks the template and the values (CreateError).
        let entity_ref = found.entity_ref.clone();
        let created = self.state.scaffolder.create(NewTask {
            entity: found.entity,
            entity_ref: found.entity_ref,
            template_dir: found.dir,
            values,
            secrets,
            user: crate::scaffolder_wiring::task_user(&context),
            created_by: Some(context.principal.display()),
        });
        match &created {
            Ok(id) => context.record(
                "scaffolder.task.create",
                &format!("{entity_ref} task {id}"),
                portal_auth::Outcome::Succeeded,
                "",
            ),
            Err(e) => context.record(
                "scaffolder.task.create",
                &entity_ref,
                portal_auth::Outcome::Failed,
                &e.to_string(),
            ),
        }
        task_request(created)
    }
}
