//! Search meets the catalog and TechDocs: [`PortalSources`] lets the index
//! read entities and docs pages, and [`spawn`] forwards every change the
//! catalog and the docs builder announce, so an edit is searchable within
//! moments. The index itself knows nothing of either.

use portal_catalog::{Access, Catalog, EntityQuery, Page};
use portal_search::{Search, Sources};
use portal_techdocs::TechDocs;
use portal_types::docs::{DocsPage, DocsSite};
use std::path::Path;
use std::sync::Arc;
use tokio::sync::broadcast::error::RecvError;

/// The catalog and the docs store, as the index reads them.
pub struct PortalSources {
    pub catalog: Catalog,
    pub techdocs: TechDocs,
}

impl Sources for PortalSources {
    fn for_each_entity(&self, visit: &mut dyn FnMut(&[u8])) {
        let query = EntityQuery {
            page: Page::Offset {
                offset: 0,
                limit: None,
            },
            ..Default::default()
        };
        // The index holds everything; who may see what is decided per request.
        let (handles, _) = self.catalog.query_handles(&query, &Access::all());
        for handle in &handles {
            visit(&self.catalog.stored_body(handle));
        }
    }

    fn entity(&self, entity_ref: &str) -> Option<Vec<u8>> {
        self.catalog
            .get_by_ref(entity_ref, &Access::all())
            .ok()
            .flatten()
            .map(|doc| doc.json.to_vec())
    }

    fn site_keys(&self) -> Vec<String> {
        self.techdocs.store().keys().unwrap_or_default()
    }

    fn site(&self, key: &str) -> Option<Arc<DocsSite>> {
        self.techdocs.site(key).ok().flatten()
    }

    fn page(&self, key: &str, path: &str) -> Option<DocsPage> {
        self.techdocs.page(key, path).ok().flatten()
    }
}

/// Opens the index in `<data>/search` and keeps it current for as long as
/// the process runs. Returns at once: the index is built in the background.
pub fn start(
    data_dir: &Path,
    catalog: Catalog,
    techdocs: TechDocs,
) -> Result<Search, portal_search::SearchError> {
    // Subscribed before the index reads the sources, so no change falls
    // between its first look and the first notification.
    let mut entity_events = catalog.subscribe();
    let mut site_events = techdocs.subscribe();
    let search = Search::open(
        &data_dir.join("search"),
        Arc::new(PortalSources { catalog, techdocs }),
    )?;
    {
        let search = search.clone();
        tokio::spawn(async move {
            loop {
                match entity_events.recv().await {
                    Ok(event) => search.entities_changed(event.entities.to_vec()),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "search: catalog notifications missed; comparing everything"
                        );
                        search.reconcile_all();
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
    {
        let search = search.clone();
        tokio::spawn(async move {
            loop {
                match site_events.recv().await {
                    Ok(key) => search.sites_changed(vec![key]),
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(
                            missed,
                            "search: docs notifications missed; comparing everything"
                        );
                        search.reconcile_all();
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }
    Ok(search)
}

/// The entities `context` may not see (none when it sees everything), to
/// leave out of a search before its results and counts are made.
pub fn hidden_entities(
    state: &crate::AppState,
    context: &crate::request::RequestContext,
) -> Vec<String> {
    let access = context.access();
    let Some(visible) = access.predicate() else {
        return Vec::new();
    };
    let query = EntityQuery {
        filter: Some(portal_catalog_model::Predicate::Not(Box::new(
            visible.clone(),
        ))),
        page: Page::Offset {
            offset: 0,
            limit: None,
        },
        ..Default::default()
    };
    let (handles, _) = state.catalog.query_handles(&query, &Access::all());
    handles.iter().map(|h| h.entity_ref().to_owned()).collect()
}

/// Runs a search (CPU-bound) on the blocking pool, at most four per core
/// at once. A burst of queries then waits its turn in arrival order (the
/// semaphore is fair) instead of all time-slicing the cores, where each
/// takes as long as the whole burst and the OS scheduler picks who
/// finishes last; a few per core keep the cores busy while finished ones
/// hand over. The rest of the portal is not starved by a query storm.
pub async fn run_search<T: Send + 'static>(
    search: impl FnOnce() -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let slots = SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        tokio::sync::Semaphore::new(cores * 4)
    });
    // The semaphore is never closed.
    let _slot = slots.acquire().await.expect("search slots stay open");
    tokio::task::spawn_blocking(search).await
}
