//! [`Catalog`]: the catalog's Rust API (reads, queries, facets, locations,
//! providers). Ingestion, refresh and watching live in `engine.rs`.

use crate::config::{CatalogConfig, OrphanStrategy};
use crate::error::CatalogError;
use crate::index::{EntityRec, Id};
use crate::ingest::read::UrlReader;
use crate::ingest::rules::Rules;
use crate::ingest::{Outcome, Processor, ReadContext, ReadyEntity};
use crate::query::{self, EntityQuery, FacetCount, Position};
use crate::state::{self, Delivery, SourceRun, SourceState, State};
use crate::store::{
    CatalogStore, ChangeSet, SledStore, StoredEntity, StoredItem, StoredLocation, WriteBehind,
};
use crate::time::Timestamp;
use portal_catalog_model::{
    ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, Entity, FlatEntity, LocationSpec, Predicate,
    RefDefaults, SerializedError, location_entity, parse_entity_ref,
};
use roaring::RoaringBitmap;
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::broadcast;

/// Who may see what. Every read takes one; the HTTP layer derives it from
/// the request (today everyone sees everything).
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Entities outside this predicate are invisible (`None`: all visible).
    pub visible: Option<Predicate>,
}

impl Access {
    /// Sees everything.
    pub fn all() -> Access {
        Access { visible: None }
    }
}

/// An entity as served: its final JSON and facts about it.
#[derive(Debug, Clone)]
pub struct EntityDoc {
    /// Canonical ref (`kind:namespace/name`, lowercase).
    pub entity_ref: Arc<str>,
    /// `metadata.uid`.
    pub uid: Arc<str>,
    /// The entity JSON, with `relations` and `status`
    /// (`status.lastConfirmedAt` included).
    pub json: bytes::Bytes,
    /// When its source last confirmed it.
    pub last_confirmed: Timestamp,
    /// Whether it has processing errors (own or its source's).
    pub has_errors: bool,
}

impl EntityDoc {
    /// The JSON parsed.
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.json).expect("the catalog renders valid JSON")
    }

    /// The typed entity (relations and status included).
    pub fn entity(&self) -> Entity {
        serde_json::from_slice(&self.json).expect("the catalog renders valid entities")
    }
}

/// A page of query results.
#[derive(Debug, Clone, Default)]
pub struct QueryResult {
    /// The entities, in order.
    pub items: Vec<EntityDoc>,
    /// Keyset positions of the items (for cursors).
    pub positions: Vec<Position>,
    /// Matches in total (before paging).
    pub total: u64,
    /// More follow.
    pub has_next: bool,
    /// Some precede.
    pub has_prev: bool,
}

/// A handle to a matched entity, rendered later (for streaming huge lists).
#[derive(Debug, Clone)]
pub struct EntityHandle(Arc<EntityRec>);

/// A location registered through the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationInfo {
    /// Id (UUID).
    pub id: String,
    /// `file` or `url`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Target.
    pub target: String,
    /// Ref of its Location entity.
    pub entity_ref: String,
}

impl LocationInfo {
    fn from_stored(l: &StoredLocation) -> LocationInfo {
        LocationInfo {
            id: l.id.clone(),
            type_: l.type_.clone(),
            target: l.target.clone(),
            entity_ref: format!(
                "location:default/{}",
                portal_catalog_model::generated_location_entity_name(&l.type_, &l.target)
            ),
        }
    }
}

/// Outcome of registering a location.
#[derive(Debug, Clone)]
pub struct AddLocation {
    /// The location (for dry runs, id `<type>:<target>`).
    pub location: LocationInfo,
    /// Entities found (dry run only; empty otherwise).
    pub entities: Vec<serde_json::Value>,
    /// Whether it was registered already.
    pub exists: bool,
}

/// One entity of an ancestry answer.
#[derive(Debug, Clone)]
pub struct AncestryItem {
    /// The entity.
    pub entity: EntityDoc,
    /// Refs of the entities that emitted it.
    pub parent_entity_refs: Vec<String>,
}

/// A processing problem, for status pages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProcessingProblem {
    /// The entity it is attached to (a Location entity for file-level problems).
    pub entity_ref: Option<String>,
    /// The source (`<type>:<target>`).
    pub location: String,
    /// Backstage-shaped status item.
    pub item: portal_catalog_model::StatusItem,
    /// The source could not be read, so its entities are stale.
    pub stale: bool,
}

/// A source, for status pages.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    /// Key.
    pub key: String,
    /// Location type read.
    #[serde(rename = "type")]
    pub type_: String,
    /// Target read.
    pub target: String,
    /// Parent Location entity.
    pub parent: Option<String>,
    /// Entities it emits.
    pub entities: u64,
    /// When it last confirmed them.
    pub last_confirmed_at: String,
    /// Problems.
    pub errors: Vec<portal_catalog_model::StatusItem>,
}

/// Counts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CatalogStats {
    /// Entities served.
    pub entities: usize,
    /// Sources.
    pub sources: usize,
    /// Registered locations.
    pub locations: usize,
    /// Processing runs under way.
    pub processing: usize,
    /// Files and URLs read since the catalog opened (a number that stops
    /// moving when nothing changes).
    pub reads: usize,
}

/// A change notification.
#[derive(Debug, Clone)]
pub struct CatalogEvent {
    /// The source that changed.
    pub source: String,
    /// Entities added, updated, removed.
    pub added: usize,
    /// Updated.
    pub updated: usize,
    /// Removed.
    pub removed: usize,
}

/// An entity a plugin provider emitted.
#[derive(Debug, Clone)]
pub struct ProvidedDocument {
    /// YAML or JSON text (one or more documents).
    pub body: String,
    /// Where it came from, as a URL.
    pub location: String,
}

pub(crate) struct Inner {
    pub config: CatalogConfig,
    pub base_dir: PathBuf,
    /// The store; ingest commits are queued to its own thread.
    pub store: WriteBehind,
    pub state: RwLock<State>,
    pub writer: Mutex<()>,
    pub processor: Processor,
    pub events: broadcast::Sender<CatalogEvent>,
    pub provider_refresh: broadcast::Sender<String>,
    pub busy: AtomicUsize,
    /// Reads planned and finished (progress of long ingests).
    pub reads_planned: AtomicUsize,
    pub reads_done: AtomicUsize,
    pub engine: Mutex<Option<crate::engine::EngineHandle>>,
    pub engine_state: Mutex<crate::engine::EngineState>,
}

/// The software catalog. Cheap to clone; all clones share one catalog.
#[derive(Clone)]
pub struct Catalog {
    pub(crate) inner: Arc<Inner>,
}

fn lock_err<T>(e: std::sync::PoisonError<T>) -> T {
    e.into_inner()
}

impl Catalog {
    /// Opens the catalog of a Portal configuration: parses `catalog:`, opens
    /// the sled store at `<data_dir>/catalog` and loads it into memory.
    pub fn open(config: &portal_config::Config) -> Result<Catalog, CatalogError> {
        let catalog_config = CatalogConfig::from_portal_config(config)?;
        let store = SledStore::open(&crate::config::store_path(config))?;
        Catalog::open_with(Arc::new(store), catalog_config, config.base_dir.clone())
    }

    /// Opens a catalog on any store. `base_dir` resolves relative config
    /// location targets.
    pub fn open_with(
        store: Arc<dyn CatalogStore>,
        config: CatalogConfig,
        base_dir: PathBuf,
    ) -> Result<Catalog, CatalogError> {
        let config_origins: Vec<(String, usize)> = config
            .locations
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let target = resolve_config_target(&base_dir, &l.type_, &l.target);
                (format!("{}:{}", l.type_, target), i)
            })
            .collect();
        let processor = Processor {
            limits: config.limits.clone(),
            rules: Rules::from_config(&config, &config_origins),
            url: UrlReader::new(&config),
        };
        let started = std::time::Instant::now();
        let state = load_state(&*store)?;
        tracing::info!(
            entities = state.index.len(),
            seconds = started.elapsed().as_secs_f64(),
            sources = state.sources.len(),
            locations = state.locations.len(),
            "catalog store loaded"
        );
        let (events, _) = broadcast::channel(256);
        let (provider_refresh, _) = broadcast::channel(64);
        Ok(Catalog {
            inner: Arc::new(Inner {
                config,
                base_dir,
                store: WriteBehind::new(store),
                state: RwLock::new(state),
                writer: Mutex::new(()),
                processor,
                events,
                provider_refresh,
                busy: AtomicUsize::new(0),
                reads_planned: AtomicUsize::new(0),
                reads_done: AtomicUsize::new(0),
                engine: Mutex::new(None),
                engine_state: Mutex::new(Default::default()),
            }),
        })
    }

    /// The catalog configuration.
    pub fn config(&self) -> &CatalogConfig {
        &self.inner.config
    }

    pub(crate) fn read_state(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(lock_err)
    }

    /// Applies one source run: to memory, then queued for the store as one
    /// atomic change set.
    pub(crate) fn commit_run(&self, run: SourceRun) -> state::Applied {
        let _writer = self.inner.writer.lock().unwrap_or_else(lock_err);
        let key = run.key.clone();
        let mut applied =
            self.read_state()
                .plan(run, self.inner.config.orphan_strategy, Timestamp::now());
        self.inner
            .state
            .write()
            .unwrap_or_else(lock_err)
            .apply(&mut applied);
        // Queued in writer order: the store thread saves it while the
        // writer goes on with the next source (see `store::WriteBehind`).
        self.inner
            .store
            .commit_later(std::mem::take(&mut applied.changes));
        if applied.added + applied.updated + applied.removed > 0 {
            let _ = self.inner.events.send(CatalogEvent {
                source: key,
                added: applied.added,
                updated: applied.updated,
                removed: applied.removed,
            });
        }
        applied
    }

    pub(crate) fn commit_plan(
        &self,
        plan: impl FnOnce(&State) -> state::Applied,
        extra: impl FnOnce(&mut ChangeSet),
        after: impl FnOnce(&mut State),
    ) -> Result<state::Applied, CatalogError> {
        let _writer = self.inner.writer.lock().unwrap_or_else(lock_err);
        let mut applied = plan(&self.read_state());
        extra(&mut applied.changes);
        self.inner.store.commit(&applied.changes)?;
        let mut state = self.inner.state.write().unwrap_or_else(lock_err);
        state.apply(&mut applied);
        after(&mut state);
        drop(state);
        if applied.removed > 0 {
            let _ = self.inner.events.send(CatalogEvent {
                source: String::new(),
                added: 0,
                updated: 0,
                removed: applied.removed,
            });
        }
        Ok(applied)
    }

    fn visible(state: &State, access: &Access) -> Option<RoaringBitmap> {
        access
            .visible
            .as_ref()
            .map(|p| query::eval(&state.index, p))
    }

    fn doc(state: &State, rec: &EntityRec) -> EntityDoc {
        let mut out = Vec::new();
        state::render(state, rec, &mut out);
        let source = state.sources.get(&rec.source);
        EntityDoc {
            entity_ref: rec.entity_ref.clone(),
            uid: rec.uid.clone(),
            json: out.into(),
            last_confirmed: Timestamp(source.map(|s| s.stored.confirmed_at).unwrap_or(0)),
            has_errors: !rec.errors.is_empty()
                || source.is_some_and(|s| s.errors.iter().any(|e| e.stale)),
        }
    }

    fn lookup(state: &State, access: &Access, id: Option<Id>) -> Option<EntityDoc> {
        let id = id?;
        if let Some(visible) = Self::visible(state, access)
            && !visible.contains(id)
        {
            return None;
        }
        state.index.get(id).map(|rec| Self::doc(state, rec))
    }

    /// An entity by ref (`[kind:][namespace/]name`; the kind is required).
    pub fn get_by_ref(
        &self,
        entity_ref: &str,
        access: &Access,
    ) -> Result<Option<EntityDoc>, CatalogError> {
        let parsed = parse_entity_ref(entity_ref, RefDefaults::default())
            .map_err(|e| CatalogError::Input(e.to_string()))?;
        Ok(self.get(&parsed.kind, &parsed.namespace, &parsed.name, access))
    }

    /// An entity by kind, namespace and name (case-insensitive).
    pub fn get(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        access: &Access,
    ) -> Option<EntityDoc> {
        let canonical = format!("{kind}:{namespace}/{name}").to_lowercase();
        let state = self.read_state();
        let id = state.index.id_of_ref(&canonical);
        Self::lookup(&state, access, id)
    }

    /// An entity by `metadata.uid`.
    pub fn get_by_uid(&self, uid: &str, access: &Access) -> Option<EntityDoc> {
        let state = self.read_state();
        let id = state.index.by_uid.get(uid).copied();
        Self::lookup(&state, access, id)
    }

    /// Entities for refs, in order, `None` where missing, unparsable,
    /// invisible or not matching `filter`.
    pub fn get_by_refs(
        &self,
        refs: &[String],
        filter: Option<&Predicate>,
        access: &Access,
    ) -> Vec<Option<EntityDoc>> {
        let state = self.read_state();
        let visible = Self::visible(&state, access);
        let allowed = filter.map(|p| query::eval(&state.index, p));
        refs.iter()
            .map(|r| {
                let parsed = parse_entity_ref(r, RefDefaults::default()).ok()?;
                let id = state.index.id_of_ref(&parsed.canonical())?;
                if visible.as_ref().is_some_and(|v| !v.contains(id))
                    || allowed.as_ref().is_some_and(|a| !a.contains(id))
                {
                    return None;
                }
                state.index.get(id).map(|rec| Self::doc(&state, rec))
            })
            .collect()
    }

    /// Runs a query and renders the page.
    pub fn query(&self, q: &EntityQuery, access: &Access) -> QueryResult {
        let state = self.read_state();
        let mut set = query::matching(&state.index, q);
        if let Some(v) = Self::visible(&state, access) {
            set &= v;
        }
        let page = query::page(&state.index, q, &set);
        QueryResult {
            items: page
                .ids
                .iter()
                .filter_map(|id| state.index.get(*id).map(|r| Self::doc(&state, r)))
                .collect(),
            positions: page.positions,
            total: page.total,
            has_next: page.has_next,
            has_prev: page.has_prev,
        }
    }

    /// Runs a query and returns handles, to render in chunks with
    /// [`Catalog::render`] (large unpaginated listings).
    pub fn query_handles(&self, q: &EntityQuery, access: &Access) -> (Vec<EntityHandle>, bool) {
        let state = self.read_state();
        let mut set = query::matching(&state.index, q);
        if let Some(v) = Self::visible(&state, access) {
            set &= v;
        }
        let page = query::page(&state.index, q, &set);
        (
            page.ids
                .iter()
                .filter_map(|id| state.index.get(*id).map(|r| EntityHandle(r.clone())))
                .collect(),
            page.has_next,
        )
    }

    /// Renders handles (entities removed meanwhile are rendered as they were).
    pub fn render(&self, handles: &[EntityHandle]) -> Vec<EntityDoc> {
        let state = self.read_state();
        handles.iter().map(|h| Self::doc(&state, &h.0)).collect()
    }

    /// Renders one handle's body only (no relations or status): the entity
    /// as stored, for cheap projections.
    pub fn stored_body<'a>(&self, handle: &'a EntityHandle) -> std::borrow::Cow<'a, [u8]> {
        handle.0.body.json()
    }

    /// Counts values of `facets` over the entities matching `filter`.
    pub fn facets(
        &self,
        facets: &[String],
        filter: Option<&Predicate>,
        access: &Access,
    ) -> Vec<(String, Vec<FacetCount>)> {
        let state = self.read_state();
        let mut set = match filter {
            Some(p) => query::eval(&state.index, p),
            None => state.index.all.clone(),
        };
        if let Some(v) = Self::visible(&state, access) {
            set &= v;
        }
        facets
            .iter()
            .map(|f| (f.clone(), query::facet(&state.index, f, &set)))
            .collect()
    }

    /// The chain of entities that led to this one: the entity, the Location
    /// entity whose target emitted it, and so on up to a root.
    pub fn ancestry(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        access: &Access,
    ) -> Option<(String, Vec<AncestryItem>)> {
        let root = format!("{kind}:{namespace}/{name}").to_lowercase();
        let state = self.read_state();
        let visible = Self::visible(&state, access);
        let mut items = Vec::new();
        let mut current = Some(root.clone());
        let mut seen = HashSet::new();
        while let Some(r) = current.take() {
            if !seen.insert(r.clone()) {
                break;
            }
            let id = state.index.id_of_ref(&r)?;
            if visible.as_ref().is_some_and(|v| !v.contains(id)) {
                break;
            }
            let rec = state.index.get(id)?;
            let parent = state
                .sources
                .get(&rec.source)
                .and_then(|s| s.stored.parent.clone())
                .filter(|p| state.index.id_of_ref(p).is_some());
            items.push(AncestryItem {
                entity: Self::doc(&state, rec),
                parent_entity_refs: parent.iter().cloned().collect(),
            });
            current = parent;
        }
        Some((root, items))
    }

    /// The served relations of an entity: `(type, targetRef)`, sorted.
    pub fn relations(&self, entity_ref: &str) -> Vec<(String, String)> {
        let state = self.read_state();
        state
            .index
            .relations_of(&entity_ref.to_lowercase())
            .map(|(t, r)| (t.to_owned(), r.to_owned()))
            .collect()
    }

    /// When an entity's source last confirmed it.
    pub fn last_confirmed(&self, entity_ref: &str) -> Option<Timestamp> {
        let state = self.read_state();
        let rec = state.index.get_by_ref(&entity_ref.to_lowercase())?;
        state
            .sources
            .get(&rec.source)
            .map(|s| Timestamp(s.stored.confirmed_at))
    }

    /// Every processing problem, for status pages.
    pub fn processing_problems(&self) -> Vec<ProcessingProblem> {
        let state = self.read_state();
        let mut out = Vec::new();
        for s in state.sources.values() {
            for e in &s.errors {
                out.push(ProcessingProblem {
                    entity_ref: s.stored.parent.clone(),
                    location: format!("{}:{}", s.stored.location_type, s.stored.location_target),
                    item: e.item.clone(),
                    stale: e.stale,
                });
            }
        }
        for (r, id) in &state.index.by_ref {
            if let Some(rec) = state.index.get(*id)
                && !rec.errors.is_empty()
                && let Ok(items) =
                    serde_json::from_slice::<Vec<portal_catalog_model::StatusItem>>(&rec.errors)
            {
                let location = state
                    .sources
                    .get(&rec.source)
                    .map(|s| format!("{}:{}", s.stored.location_type, s.stored.location_target))
                    .unwrap_or_default();
                for item in items {
                    out.push(ProcessingProblem {
                        entity_ref: Some(r.to_string()),
                        location: location.clone(),
                        item,
                        stale: false,
                    });
                }
            }
        }
        out
    }

    /// Every source, for status pages.
    pub fn sources(&self) -> Vec<SourceInfo> {
        let state = self.read_state();
        let mut out: Vec<SourceInfo> = state
            .sources
            .values()
            .map(|s| SourceInfo {
                key: s.stored.key.clone(),
                type_: s.stored.location_type.clone(),
                target: s.stored.location_target.clone(),
                parent: s.stored.parent.clone(),
                entities: state
                    .index
                    .by_source
                    .get(s.stored.key.as_str())
                    .map(|b| b.len())
                    .unwrap_or(0),
                last_confirmed_at: s.confirmed_text.to_string(),
                errors: s.errors.iter().map(|e| e.item.clone()).collect(),
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    /// Counts.
    pub fn stats(&self) -> CatalogStats {
        let state = self.read_state();
        CatalogStats {
            entities: state.index.len(),
            sources: state.sources.len(),
            locations: state.locations.len(),
            processing: self.inner.busy.load(Ordering::SeqCst),
            reads: self.inner.reads_done.load(Ordering::SeqCst),
        }
    }

    /// Change notifications.
    pub fn subscribe(&self) -> broadcast::Receiver<CatalogEvent> {
        self.inner.events.subscribe()
    }

    /// Requests to re-run a plugin provider (`<plugin>/<provider>`), e.g. from
    /// `POST /refresh` on one of its entities.
    pub fn subscribe_provider_refresh(&self) -> broadcast::Receiver<String> {
        self.inner.provider_refresh.subscribe()
    }

    /// Registered locations.
    pub fn locations(&self) -> Vec<LocationInfo> {
        self.read_state()
            .locations
            .values()
            .map(LocationInfo::from_stored)
            .collect()
    }

    /// A registered location by id.
    pub fn location(&self, id: &str) -> Option<LocationInfo> {
        self.read_state()
            .locations
            .get(id)
            .map(LocationInfo::from_stored)
    }

    /// The registered location an entity came through (by its origin
    /// annotation).
    pub fn location_by_entity(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<LocationInfo, CatalogError> {
        let canonical = format!("{kind}:{namespace}/{name}").to_lowercase();
        let doc = {
            let state = self.read_state();
            state.index.get_by_ref(&canonical).map(|r| r.value())
        }
        .ok_or_else(|| {
            CatalogError::NotFound(format!(
                "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
            ))
        })?;
        let origin = doc["metadata"]["annotations"][ANNOTATION_ORIGIN_LOCATION]
            .as_str()
            .unwrap_or("")
            .to_owned();
        self.locations()
            .into_iter()
            .find(|l| format!("{}:{}", l.type_, l.target) == origin)
            .ok_or_else(|| {
                CatalogError::NotFound(format!(
                    "Found no location with key {origin} for entity {canonical}"
                ))
            })
    }

    /// Plugin provider keys that have a source (`<plugin>/<provider>`).
    pub fn provider_keys(&self) -> Vec<String> {
        self.read_state()
            .sources
            .keys()
            .filter_map(|k| k.strip_prefix("provider:").map(str::to_owned))
            .collect()
    }

    /// Validates an entity the way ingestion would (Backstage's
    /// `validate-entity`): `Ok` or the errors in Backstage's serialized form.
    pub fn validate_entity(
        &self,
        entity: serde_json::Value,
        location_ref: &str,
    ) -> Result<(), Vec<SerializedError>> {
        let (type_, target) = location_ref
            .split_once(':')
            .unwrap_or(("url", location_ref));
        let ctx = ReadContext {
            location_type: type_.to_owned(),
            location_target: target.to_owned(),
            origin: location_ref.to_owned(),
        };
        let processor = Processor {
            rules: Rules::allow_all(),
            ..self.inner.processor.clone()
        };
        let mut deps = Vec::new();
        let mut value = entity;
        if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
            let annotations = meta
                .entry("annotations")
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let Some(a) = annotations.as_object_mut() {
                a.entry(ANNOTATION_LOCATION.to_owned())
                    .or_insert_with(|| location_ref.into());
                a.entry(ANNOTATION_ORIGIN_LOCATION.to_owned())
                    .or_insert_with(|| location_ref.into());
            }
        }
        match processor.process_value(value, &ctx, None, &mut deps) {
            Outcome::Entity(_) => Ok(()),
            Outcome::Failed { item, .. } => Err(vec![item.error.unwrap_or_default()]),
        }
    }

    /// The processor (for tools that validate files the same way).
    pub fn processor(&self) -> &Processor {
        &self.inner.processor
    }

    pub(crate) fn root_run(
        &self,
        key: String,
        spec: &LocationSpec,
    ) -> Result<SourceRun, CatalogError> {
        let mut entity =
            location_entity(spec, None).map_err(|e| CatalogError::Input(e.to_string()))?;
        entity.set_default_namespace();
        if spec.presence() == portal_catalog_model::LocationPresence::Optional
            && let Some(s) = entity.spec.as_mut()
        {
            s.insert("presence".into(), "optional".into());
        }
        let flat = FlatEntity::from_entity(&entity);
        Ok(SourceRun {
            key,
            parent: None,
            location_type: spec.type_.clone(),
            location_target: spec.target.clone(),
            deps: Vec::new(),
            delivery: Delivery::Snapshot(vec![Outcome::Entity(Box::new(ReadyEntity {
                entity,
                flat,
                edges: Vec::new(),
                line: None,
                fresh: None,
            }))]),
            errors: Vec::new(),
        })
    }

    fn check_location_input(&self, type_: &str, target: &str) -> Result<String, CatalogError> {
        match type_ {
            "url" => {
                self.inner
                    .processor
                    .url
                    .check(target)
                    .map_err(|e| CatalogError::Input(e.to_string()))?;
                Ok(target.to_owned())
            }
            "file" => {
                if target.trim().is_empty() {
                    return Err(CatalogError::Input(
                        "Location target must not be empty".into(),
                    ));
                }
                let abs = std::path::absolute(target)
                    .map_err(|e| CatalogError::Input(format!("invalid path {target}: {e}")))?;
                Ok(crate::ingest::normalize(&abs))
            }
            other => Err(CatalogError::Input(format!(
                "Unsupported location type '{other}'; Portal reads 'url' and 'file' locations"
            ))),
        }
    }

    /// Registers a location (`POST /locations`). Without `dry_run` it is
    /// stored and read in the background; with it, it is read now and the
    /// entities it would produce are returned, nothing stored.
    pub async fn add_location(
        &self,
        type_: &str,
        target: &str,
        dry_run: bool,
        refresh_if_exists: bool,
    ) -> Result<AddLocation, CatalogError> {
        let target = self.check_location_input(type_, target)?;
        let existing = self
            .locations()
            .into_iter()
            .find(|l| l.type_ == type_ && l.target == target);
        if dry_run {
            let entities = self.dry_run(type_, &target).await?;
            return Ok(AddLocation {
                location: LocationInfo {
                    id: format!("{type_}:{target}"),
                    type_: type_.to_owned(),
                    target: target.clone(),
                    entity_ref: format!(
                        "location:default/{}",
                        portal_catalog_model::generated_location_entity_name(type_, &target)
                    ),
                },
                entities,
                exists: existing.is_some(),
            });
        }
        if self.inner.config.readonly {
            return Err(CatalogError::NotAllowed(
                "This catalog is read-only (catalog.readonly); locations cannot be added".into(),
            ));
        }
        if let Some(location) = existing {
            if refresh_if_exists {
                let entity_ref = location.entity_ref.clone();
                let me = self.clone();
                tokio::spawn(async move { me.process_location_tree(&entity_ref, true).await });
                return Ok(AddLocation {
                    location,
                    entities: Vec::new(),
                    exists: true,
                });
            }
            return Err(CatalogError::Conflict(format!(
                "Location {type_}:{target} already exists"
            )));
        }
        let spec = LocationSpec::new(type_, target.clone());
        let entity_ref = format!("location:default/{}", spec.generated_entity_name());
        if self.read_state().index.id_of_ref(&entity_ref).is_some() {
            return Err(CatalogError::Conflict(format!(
                "Location {type_}:{target} already exists (it is configured in catalog.locations)"
            )));
        }
        let stored = StoredLocation {
            id: uuid::Uuid::new_v4().to_string(),
            type_: type_.to_owned(),
            target: target.clone(),
        };
        let run = self.root_run(format!("location:{}", stored.id), &spec)?;
        let me = self.clone();
        let stored2 = stored.clone();
        tokio::task::spawn_blocking(move || {
            let _writer = me.inner.writer.lock().unwrap_or_else(lock_err);
            let mut applied =
                me.read_state()
                    .plan(run, me.inner.config.orphan_strategy, Timestamp::now());
            applied.changes.put_locations.push(stored2.clone());
            me.inner.store.commit(&applied.changes)?;
            let mut state = me.inner.state.write().unwrap_or_else(lock_err);
            state.apply(&mut applied);
            state.locations.insert(stored2.id.clone(), stored2);
            Ok::<_, CatalogError>(())
        })
        .await
        .map_err(|e| CatalogError::Input(e.to_string()))??;
        let me = self.clone();
        let r = entity_ref.clone();
        tokio::spawn(async move { me.process_location_tree(&r, true).await });
        Ok(AddLocation {
            location: LocationInfo::from_stored(&stored),
            entities: Vec::new(),
            exists: false,
        })
    }

    /// Reads (files, URLs) planned and finished since the catalog opened:
    /// progress for long ingests.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.inner.reads_done.load(Ordering::SeqCst),
            self.inner.reads_planned.load(Ordering::SeqCst),
        )
    }

    /// Registers a location (or reuses an existing registration of the same
    /// target) and reads it completely before returning (`portal catalog
    /// import`).
    pub async fn import(&self, type_: &str, target: &str) -> Result<LocationInfo, CatalogError> {
        let target = self.check_location_input(type_, target)?;
        let location = match self
            .locations()
            .into_iter()
            .find(|l| l.type_ == type_ && l.target == target)
        {
            Some(l) => l,
            None => {
                let stored = StoredLocation {
                    id: uuid::Uuid::new_v4().to_string(),
                    type_: type_.to_owned(),
                    target: target.clone(),
                };
                let spec = LocationSpec::new(type_, target.clone());
                let run = self.root_run(format!("location:{}", stored.id), &spec)?;
                let (s2, s3) = (stored.clone(), stored.clone());
                let me = self.clone();
                tokio::task::spawn_blocking(move || {
                    me.commit_plan(
                        |state| state.plan(run, OrphanStrategy::Delete, Timestamp::now()),
                        |changes| changes.put_locations.push(s2),
                        |state| {
                            state.locations.insert(s3.id.clone(), s3);
                        },
                    )
                })
                .await
                .map_err(|e| CatalogError::Input(e.to_string()))??;
                LocationInfo::from_stored(&stored)
            }
        };
        self.process_location_tree(&location.entity_ref, true).await;
        Ok(location)
    }

    /// Removes a registered location and everything read through it.
    pub fn remove_location(&self, id: &str) -> Result<(), CatalogError> {
        if self.inner.config.readonly {
            return Err(CatalogError::NotAllowed(
                "This catalog is read-only (catalog.readonly); locations cannot be removed".into(),
            ));
        }
        if self.location(id).is_none() {
            return Err(CatalogError::NotFound(format!(
                "Found no location with ID {id}"
            )));
        }
        let key = format!("location:{id}");
        let orphans = self.inner.config.orphan_strategy;
        let id2 = id.to_owned();
        self.commit_plan(
            |state| state.plan_source_removal(&key, orphans),
            |changes| changes.delete_locations.push(id2.clone()),
            |state| {
                state.locations.remove(&id2);
            },
        )?;
        Ok(())
    }

    /// Changes a registered location's target (`PUT /locations/:id`).
    pub async fn update_location(
        &self,
        id: &str,
        type_: &str,
        target: &str,
    ) -> Result<LocationInfo, CatalogError> {
        if self.location(id).is_none() {
            return Err(CatalogError::NotFound(format!(
                "Found no location with ID {id}"
            )));
        }
        self.remove_location(id)?;
        let target = self.check_location_input(type_, target)?;
        let spec = LocationSpec::new(type_, target.clone());
        let stored = StoredLocation {
            id: id.to_owned(),
            type_: type_.to_owned(),
            target,
        };
        let run = self.root_run(format!("location:{id}"), &spec)?;
        let stored2 = stored.clone();
        let stored3 = stored.clone();
        self.commit_plan(
            |state| state.plan(run, OrphanStrategy::Delete, Timestamp::now()),
            |changes| changes.put_locations.push(stored2),
            |state| {
                state.locations.insert(stored3.id.clone(), stored3);
            },
        )?;
        let me = self.clone();
        let r = format!("location:default/{}", spec.generated_entity_name());
        tokio::spawn(async move { me.process_location_tree(&r, true).await });
        Ok(LocationInfo::from_stored(&stored))
    }

    /// Deletes an entity by uid. If its source still emits it, it comes back
    /// on the next read of that source (which is scheduled at once).
    pub fn delete_by_uid(&self, uid: &str) -> Result<bool, CatalogError> {
        let (id, source) = {
            let state = self.read_state();
            match state.index.by_uid.get(uid) {
                Some(id) => (*id, state.index.get(*id).map(|r| r.source.to_string())),
                None => return Ok(false),
            }
        };
        self.commit_plan(|state| state.plan_entity_removal(id), |_| {}, |_| {})?;
        if let Some(source) = source {
            let me = self.clone();
            if tokio::runtime::Handle::try_current().is_ok() {
                tokio::spawn(async move { me.reread_source(&source).await });
            }
        }
        Ok(true)
    }

    /// Re-reads the source of an entity now (and, for a Location entity,
    /// what it points to). Returns when done.
    pub async fn refresh(&self, entity_ref: &str) -> Result<(), CatalogError> {
        let parsed = parse_entity_ref(entity_ref, RefDefaults::default())
            .map_err(|e| CatalogError::Input(e.to_string()))?;
        let canonical = parsed.canonical();
        let (source, is_location) = {
            let state = self.read_state();
            let rec = state
                .index
                .get_by_ref(&canonical)
                .ok_or_else(|| CatalogError::NotFound(format!("Entity {canonical} not found")))?;
            (rec.source.to_string(), rec.kind_lower() == "location")
        };
        if let Some(provider) = source.strip_prefix("provider:") {
            let _ = self.inner.provider_refresh.send(provider.to_owned());
        } else {
            self.reread_source(&source).await;
        }
        if is_location {
            self.process_location_tree(&canonical, true).await;
        }
        Ok(())
    }

    /// Applies a plugin provider's full snapshot (`<plugin>/<provider>`):
    /// entities it no longer emits are removed (or orphaned).
    pub fn apply_provider(
        &self,
        provider: &str,
        docs: Vec<ProvidedDocument>,
    ) -> Result<(usize, usize), CatalogError> {
        let key = format!("provider:{provider}");
        let mut outcomes = Vec::new();
        let mut errors = Vec::new();
        let mut deps = Vec::new();
        for doc in docs {
            let ctx = ReadContext {
                location_type: "url".into(),
                location_target: doc.location.clone(),
                origin: format!("url:{}", doc.location),
            };
            match self
                .inner
                .processor
                .process_text(&doc.body, &ctx, &mut deps)
            {
                Ok(o) => outcomes.extend(o),
                Err(item) => errors.push(item),
            }
        }
        let ok = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Entity(_)))
            .count();
        let failed = outcomes.len() - ok + errors.len();
        self.commit_run(SourceRun {
            key,
            parent: None,
            location_type: "provider".into(),
            location_target: provider.to_owned(),
            deps: Vec::new(),
            delivery: Delivery::Snapshot(outcomes),
            errors,
        });
        Ok((ok, failed))
    }

    /// Records that a provider run failed: its entities stay (stale), with
    /// the error attached.
    pub fn provider_failed(&self, provider: &str, message: &str) -> Result<(), CatalogError> {
        self.commit_run(SourceRun {
            key: format!("provider:{provider}"),
            parent: None,
            location_type: "provider".into(),
            location_target: provider.to_owned(),
            deps: Vec::new(),
            delivery: Delivery::Failed(crate::ingest::error_item(
                "Error",
                format!("entity provider {provider} failed: {message}"),
            )),
            errors: Vec::new(),
        });
        Ok(())
    }

    /// Removes a provider's source and entities (its plugin is gone).
    pub fn remove_provider(&self, provider: &str) -> Result<(), CatalogError> {
        let key = format!("provider:{provider}");
        let orphans = self.inner.config.orphan_strategy;
        self.commit_plan(
            |state| state.plan_source_removal(&key, orphans),
            |_| {},
            |_| {},
        )?;
        Ok(())
    }

    /// Flushes the store (call before exit).
    pub fn flush(&self) -> Result<(), CatalogError> {
        Ok(self.inner.store.flush()?)
    }

    /// Bytes the store uses on disk, if known.
    pub fn store_size(&self) -> Option<u64> {
        self.inner.store.store().size_on_disk()
    }
}

/// Entities decoded from the store per indexing step at start-up.
const LOAD_BATCH: usize = 4096;

/// Stored entities made ready to index: record, flattened rows, edges.
type Prepared = Vec<(crate::index::EntityRec, FlatEntity, Vec<crate::index::Edge>)>;

/// Loads the store into a fresh state. A pipeline of three stages, so that
/// the serial ends overlap with the parallel middle: this thread decodes the
/// store's records in batches; preparer threads parse, flatten and derive
/// the edges of one batch while the indexer thread files the batch before.
/// Batches are bounded, so a large store never sits in memory twice
/// (decoded and indexed).
fn load_state(store: &dyn CatalogStore) -> Result<State, CatalogError> {
    let mut sources = Vec::new();
    let mut locations = Vec::new();
    let (decoded, to_prepare) = std::sync::mpsc::sync_channel::<Vec<StoredEntity>>(1);
    let (prepared, to_index) = std::sync::mpsc::sync_channel::<Prepared>(0);
    let (loaded, mut state) = std::thread::scope(|s| {
        s.spawn(move || {
            for batch in to_prepare {
                if prepared.send(prepare_loaded(batch)).is_err() {
                    break;
                }
            }
        });
        let indexer = s.spawn(move || {
            let mut state = State::default();
            for batch in to_index {
                for (rec, flat, edges) in batch {
                    state.index.insert(rec, &flat, &edges);
                }
            }
            state
        });
        let mut batch = Vec::with_capacity(LOAD_BATCH);
        let loaded = store.load(&mut |item| match item {
            StoredItem::Entity(e) => {
                batch.push(e);
                if batch.len() == LOAD_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(LOAD_BATCH));
                    let _ = decoded.send(full);
                }
            }
            StoredItem::Source(s) => sources.push(s),
            StoredItem::Location(l) => locations.push(l),
        });
        if !batch.is_empty() {
            let _ = decoded.send(batch);
        }
        drop(decoded);
        (
            loaded,
            indexer.join().expect("catalog load: indexer thread"),
        )
    });
    loaded?;
    for s in sources {
        state.add_source(SourceState::new(s));
    }
    for l in locations {
        state.locations.insert(l.id.clone(), l);
    }
    Ok(state)
}

/// Parses, flattens and derives the edges of a batch of stored entities, on
/// every core but the indexer's.
fn prepare_loaded(mut entities: Vec<StoredEntity>) -> Prepared {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_sub(1)
        .clamp(1, 8);
    let chunk = entities.len().div_ceil(threads).max(1);
    let mut parts = Vec::new();
    while entities.len() > chunk {
        let rest = entities.split_off(chunk);
        parts.push(std::mem::replace(&mut entities, rest));
    }
    parts.push(entities);
    let prepare = |part: Vec<StoredEntity>| {
        part.into_iter()
            .map(|e| {
                let v: serde_json::Value =
                    serde_json::from_slice(&e.body.json()).unwrap_or_default();
                let flat = FlatEntity::from_value(&v);
                let edges = crate::index::edges_of_body(&v);
                (state::rec_from_stored(e), flat, edges)
            })
            .collect::<Vec<_>>()
    };
    if parts.len() == 1 {
        return prepare(parts.pop().unwrap_or_default());
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| s.spawn(move || prepare(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("catalog load: prepare thread"))
            .collect()
    })
}

/// Resolves a config location target against the config file's directory.
pub(crate) fn resolve_config_target(base_dir: &Path, type_: &str, target: &str) -> String {
    if type_ != "file" {
        return target.to_owned();
    }
    let p = Path::new(target);
    let joined = if p.is_absolute() {
        p.to_path_buf()
    } else {
        base_dir.join(p)
    };
    let abs = std::path::absolute(&joined).unwrap_or(joined);
    crate::ingest::normalize(&abs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fmt::Write as _;

    /// Every entity's served JSON, and the facets of an owner and a relation.
    fn served(catalog: &Catalog) -> (Vec<String>, Vec<(String, Vec<FacetCount>)>) {
        let all = catalog.query(&EntityQuery::default(), &Access::all());
        let docs = all
            .items
            .iter()
            .map(|d| String::from_utf8_lossy(&d.json).into_owned())
            .collect();
        let facets = catalog.facets(
            &["spec.owner".into(), "relations.dependencyOf".into()],
            None,
            &Access::all(),
        );
        (docs, facets)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_reopened_store_serves_what_was_ingested() {
        // More entities than several load batches, related to each other.
        let dir = tempfile::tempdir().unwrap();
        let components = 2 * LOAD_BATCH + 123;
        let mut yaml = String::new();
        for g in 0..7 {
            let _ = write!(
                yaml,
                "---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-{g}\nspec:\n  type: team\n  children: []\n"
            );
        }
        for c in 0..components {
            let _ = write!(
                yaml,
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c-{c}\n  tags: [t{}]\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{}\n  dependsOn: [component:c-{}]\n",
                c % 5,
                c % 7,
                (c + 1) % components
            );
        }
        let file = dir.path().join("all.yaml");
        std::fs::write(&file, yaml).unwrap();
        let config = CatalogConfig::from_value(&serde_json::json!({
            "locations": [{"type": "file", "target": file.to_string_lossy()}],
        }))
        .unwrap();
        let store_dir = dir.path().join("store");
        let open = |config: CatalogConfig| {
            let store = SledStore::open(&store_dir).unwrap();
            Catalog::open_with(Arc::new(store), config, dir.path().into()).unwrap()
        };
        let before = {
            let catalog = open(config.clone());
            catalog.sync_all().await;
            catalog.wait_idle().await;
            served(&catalog)
        };
        // The config's Location entity, the groups and the components.
        assert_eq!(before.0.len(), components + 7 + 1);
        let after = served(&open(config));
        assert_eq!(after.0.len(), before.0.len());
        for (a, b) in after.0.iter().zip(&before.0) {
            assert_eq!(a, b);
        }
        assert_eq!(after.1, before.1);
    }
}
