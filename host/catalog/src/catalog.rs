//! [`Catalog`]: the catalog's Rust API, a façade over the modules that do
//! the work, one per job:
//!
//! - `loading`: start-up (open the store, load it into memory);
//! - `reads`: every read, each taking an [`Access`];
//! - `writes`: the single writer, locations, deletes, refreshes, providers;
//! - `freshness`: reading locations, the refresh loop, file watching;
//! - `validation`: checking entities and files without storing them.

use crate::access::Access;
use crate::config::CatalogConfig;
use crate::error::CatalogError;
use crate::freshness::{FreshnessTasks, WatchState};
use crate::ingest::Processor;
use crate::ingest::read::ReadError;
use crate::ingest::tree::RemoteTree;
use crate::query::{EntityQuery, FacetCount};
use crate::state::State;
use crate::store::{CatalogStore, WriteBehind};
use crate::types::{
    AddLocation, AncestryItem, CatalogEvent, CatalogStats, EntityDoc, EntityHandle, LocationInfo,
    ProcessingProblem, ProvidedDocument, QueryResult, SourceInfo,
};
use crate::{freshness, loading, reads, validation, writes};
use portal_catalog_model::{Predicate, SerializedError, StatusItem};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use tokio::sync::broadcast;

/// What every clone of a catalog shares.
pub(crate) struct Inner {
    pub config: CatalogConfig,
    /// Resolves relative configured location targets.
    pub base_dir: PathBuf,
    /// The store; ingest commits are queued to its own thread.
    pub store: WriteBehind,
    /// Indexes, sources and locations: read under the read lock, changed
    /// only by the writer (`writes`).
    pub state: RwLock<State>,
    /// Held by the one writer while it plans and applies a change.
    pub writer: Mutex<()>,
    /// Turns documents into entities (limits, rules, URL reader).
    pub processor: Processor,
    pub events: broadcast::Sender<CatalogEvent>,
    pub provider_refresh: broadcast::Sender<String>,
    /// Processing runs under way.
    pub busy: AtomicUsize,
    /// Reads planned and finished (progress of long ingests).
    pub reads_planned: AtomicUsize,
    pub reads_done: AtomicUsize,
    /// The refresh loop and the watcher's tasks, once started.
    pub freshness: Mutex<Option<FreshnessTasks>>,
    /// What is watched, for which Location entity.
    pub watches: Mutex<WatchState>,
    /// Set when other processes share the store (see [`Catalog::use_leases`]).
    pub leases: std::sync::OnceLock<Arc<dyn crate::store::SourceLeases>>,
    /// Sources another process held the lease of when they were to be
    /// read, with the Location entity planning them and their target:
    /// retried until read.
    pub waiting: Mutex<std::collections::HashMap<String, (String, String)>>,
}

/// The software catalog. Cheap to clone; all clones share one catalog.
#[derive(Clone)]
pub struct Catalog {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) fn lock_err<T>(e: std::sync::PoisonError<T>) -> T {
    e.into_inner()
}

/// Start-up and configuration.
impl Catalog {
    /// Opens the catalog of a Portal configuration: parses `catalog:`, opens
    /// the sled store at `<data_dir>/catalog` and loads it into memory.
    pub fn open(config: &portal_config::Config) -> Result<Catalog, CatalogError> {
        loading::open(config)
    }

    /// Opens a catalog on any store. `base_dir` resolves relative config
    /// location targets.
    pub fn open_with(
        store: Arc<dyn CatalogStore>,
        config: CatalogConfig,
        base_dir: PathBuf,
    ) -> Result<Catalog, CatalogError> {
        loading::open_with(store, config, base_dir)
    }

    /// Applies what another portal process sharing this catalog's store
    /// committed: `changes` holds the records as the store has them now
    /// (puts) and the keys it no longer has (deletes). Memory only: the
    /// store already has them. Listeners (search) hear of the entities.
    pub fn apply_external(&self, changes: crate::store::ChangeSet) {
        writes::apply_external(self, changes)
    }

    /// Shares reading with other portal processes on the same store: each
    /// source is read by the one holding its lease (call before
    /// [`Catalog::start`]). Sources leased elsewhere are tried again every
    /// few seconds, so a dead process's sources are taken over once its
    /// leases expire.
    pub fn use_leases(&self, leases: Arc<dyn crate::store::SourceLeases>) {
        let _ = self.inner.leases.set(leases);
    }

    /// The catalog configuration.
    pub fn config(&self) -> &CatalogConfig {
        &self.inner.config
    }

    /// Flushes the store (call before exit).
    pub fn flush(&self) -> Result<(), CatalogError> {
        Ok(self.inner.store.flush()?)
    }

    pub(crate) fn read_state(&self) -> RwLockReadGuard<'_, State> {
        self.inner.state.read().unwrap_or_else(lock_err)
    }
}

/// Reads: every one that can show an entity takes an [`Access`].
impl Catalog {
    /// An entity by ref (`[kind:][namespace/]name`; the kind is required).
    pub fn get_by_ref(
        &self,
        entity_ref: &str,
        access: &Access,
    ) -> Result<Option<EntityDoc>, CatalogError> {
        reads::get_by_ref(&self.read_state(), entity_ref, access)
    }

    /// An entity by kind, namespace and name (case-insensitive).
    pub fn get(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        access: &Access,
    ) -> Option<EntityDoc> {
        reads::get(&self.read_state(), kind, namespace, name, access)
    }

    /// An entity by `metadata.uid`.
    pub fn get_by_uid(&self, uid: &str, access: &Access) -> Option<EntityDoc> {
        reads::get_by_uid(&self.read_state(), uid, access)
    }

    /// Entities for refs, in order, `None` where missing, unparsable,
    /// invisible or not matching `filter`.
    pub fn get_by_refs(
        &self,
        refs: &[String],
        filter: Option<&Predicate>,
        access: &Access,
    ) -> Vec<Option<EntityDoc>> {
        reads::get_by_refs(&self.read_state(), refs, filter, access)
    }

    /// The targets of an entity's relations of one type (`memberOf`), read
    /// from the index without rendering the entity: for lookups made on
    /// every request (a user's groups). Empty when there is no such entity.
    /// Not filtered by an `Access`: the caller decides what to reveal.
    pub fn relation_targets(&self, entity_ref: &str, relation_type: &str) -> Vec<String> {
        let state = self.read_state();
        let canonical = entity_ref.to_lowercase();
        state
            .index
            .relations_of(&canonical)
            .filter(|(type_, _)| *type_ == relation_type)
            .map(|(_, target)| target.to_owned())
            .collect()
    }

    /// Runs a query and renders the page.
    pub fn query(&self, q: &EntityQuery, access: &Access) -> QueryResult {
        reads::query(&self.read_state(), q, access)
    }

    /// Runs a query and returns handles, to render in chunks with
    /// [`Catalog::render`] (large unpaginated listings), and whether more
    /// follow.
    pub fn query_handles(&self, q: &EntityQuery, access: &Access) -> (Vec<EntityHandle>, bool) {
        reads::query_handles(&self.read_state(), q, access)
    }

    /// Renders handles (entities removed meanwhile are rendered as they were).
    pub fn render(&self, handles: &[EntityHandle]) -> Vec<EntityDoc> {
        reads::render(&self.read_state(), handles)
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
        reads::facets(&self.read_state(), facets, filter, access)
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
        reads::ancestry(&self.read_state(), kind, namespace, name, access)
    }

    /// Every processing problem, for status pages.
    pub fn processing_problems(&self, access: &Access) -> Vec<ProcessingProblem> {
        reads::processing_problems(&self.read_state(), access)
    }

    /// Every source, for status pages.
    pub fn sources(&self, access: &Access) -> Vec<SourceInfo> {
        reads::sources(&self.read_state(), access)
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
            reads_planned: self.inner.reads_planned.load(Ordering::SeqCst),
        }
    }

    /// Reads (files, URLs) planned and finished since the catalog opened:
    /// progress for long ingests.
    pub fn progress(&self) -> (usize, usize) {
        (
            self.inner.reads_done.load(Ordering::SeqCst),
            self.inner.reads_planned.load(Ordering::SeqCst),
        )
    }

    /// Registered locations.
    pub fn locations(&self) -> Vec<LocationInfo> {
        reads::locations(&self.read_state())
    }

    /// A registered location by id.
    pub fn location(&self, id: &str) -> Option<LocationInfo> {
        reads::location(&self.read_state(), id)
    }

    /// The registered location an entity came through (by its origin
    /// annotation).
    pub fn location_by_entity(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
        access: &Access,
    ) -> Result<LocationInfo, CatalogError> {
        reads::location_by_entity(&self.read_state(), kind, namespace, name, access)
    }

    /// Plugin provider keys that have a source (`<plugin>/<provider>`).
    pub fn provider_keys(&self) -> Vec<String> {
        reads::provider_keys(&self.read_state())
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
}

/// Writes: locations, deletes, refreshes, plugin providers.
impl Catalog {
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
        writes::add_location(self, type_, target, dry_run, refresh_if_exists).await
    }

    /// Registers a location (or reuses an existing registration of the same
    /// target) and reads it completely before returning (`portal catalog
    /// import`).
    pub async fn import(&self, type_: &str, target: &str) -> Result<LocationInfo, CatalogError> {
        writes::import(self, type_, target).await
    }

    /// Changes a registered location's target (`PUT /locations/:id`).
    pub async fn update_location(
        &self,
        id: &str,
        type_: &str,
        target: &str,
    ) -> Result<LocationInfo, CatalogError> {
        writes::update_location(self, id, type_, target).await
    }

    /// Removes a registered location and everything read through it.
    pub fn remove_location(&self, id: &str) -> Result<(), CatalogError> {
        writes::remove_location(self, id)
    }

    /// Deletes an entity by uid. If its source still emits it, it comes back
    /// on the next read of that source (which is scheduled at once).
    pub fn delete_by_uid(&self, uid: &str) -> Result<bool, CatalogError> {
        writes::delete_by_uid(self, uid)
    }

    /// Re-reads the source of an entity now (and, for a Location entity,
    /// what it points to). Returns when done.
    pub async fn refresh(&self, entity_ref: &str) -> Result<(), CatalogError> {
        writes::refresh(self, entity_ref).await
    }

    /// Applies a plugin provider's full snapshot (`<plugin>/<provider>`):
    /// entities it no longer emits are removed (or orphaned). Returns the
    /// documents that became entities and those that failed.
    pub fn apply_provider(
        &self,
        provider: &str,
        docs: Vec<ProvidedDocument>,
    ) -> Result<(usize, usize), CatalogError> {
        writes::apply_provider(self, provider, docs)
    }

    /// Records that a provider run failed: its entities stay (stale), with
    /// the error attached.
    pub fn provider_failed(&self, provider: &str, message: &str) -> Result<(), CatalogError> {
        writes::provider_failed(self, provider, message)
    }

    /// Removes a provider's source and entities (its plugin is gone).
    pub fn remove_provider(&self, provider: &str) -> Result<(), CatalogError> {
        writes::remove_provider(self, provider)
    }
}

/// Freshness: ingesting and keeping sources fresh in the background.
impl Catalog {
    /// Starts ingestion: syncs the configured and registered locations now
    /// (in the background), then keeps them fresh (refresh loop, watching).
    /// Needs a Tokio runtime. The tasks hold a clone of the catalog, so call
    /// [`Catalog::stop`] to end them.
    pub fn start(&self) {
        freshness::start(self)
    }

    /// Stops background work (refresh loop, watching).
    pub fn stop(&self) {
        freshness::stop(self)
    }

    /// Brings the configured and registered locations in (again): every
    /// location is re-read. Returns when done.
    pub async fn sync_all(&self) {
        freshness::sync_all(self).await
    }

    /// Waits until no processing is under way and everything read is
    /// stored (tools, tests, benchmarks).
    pub async fn wait_idle(&self) {
        freshness::wait_idle(self).await
    }
}

/// Validation: ingestion's checks, nothing stored.
impl Catalog {
    /// Validates an entity the way ingestion would (Backstage's
    /// `validate-entity`): `Ok` or the errors in Backstage's serialized form.
    pub fn validate_entity(
        &self,
        entity: Value,
        location_ref: &str,
    ) -> Result<(), Vec<SerializedError>> {
        validation::validate_entity(&self.inner.processor, entity, location_ref)
    }

    /// Reads one file or URL (`type_` `file` or `url`) with the catalog's
    /// limits and returns the entities it holds, `None` when it does not
    /// exist (Backstage's `analyze-location`). Blocks.
    pub fn read_entities(
        &self,
        type_: &str,
        target: &str,
    ) -> Result<Option<Vec<Value>>, CatalogError> {
        validation::read_entities(&self.inner.processor, type_, target)
    }

    /// Sets the `status.items` that `source` (a part of the portal, such as
    /// `techdocs`) attaches to the entity `entity_ref`, replacing what it
    /// attached before; no items removes them. They are served in the
    /// entity's `status.items` and mark it as having problems when one is an
    /// error. Not stored: the part attaches them again after a restart.
    pub fn attach_status(&self, entity_ref: &str, source: &str, items: Vec<StatusItem>) {
        let entity_ref = entity_ref.to_lowercase();
        self.inner
            .state
            .write()
            .unwrap_or_else(lock_err)
            .attach_status(&entity_ref, source, items);
    }

    /// Downloads a folder of a repository through the catalog's reading
    /// integrations (allow-list, GitHub hosts and their tokens), for sources
    /// that live beside an entity (TechDocs' `url:`): see [`RemoteTree`].
    pub async fn read_tree(
        &self,
        url: &str,
        max_bytes: u64,
        setting: &'static str,
    ) -> Result<RemoteTree, ReadError> {
        self.inner
            .processor
            .url
            .read_tree(url, max_bytes, setting)
            .await
    }
}
