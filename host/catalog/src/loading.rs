//! Start-up: opening the store and loading it into memory.

use crate::catalog::{Catalog, Inner};
use crate::config::CatalogConfig;
use crate::error::CatalogError;
use crate::index::{Edge, EntityRec};
use crate::ingest::Processor;
use crate::ingest::read::UrlReader;
use crate::ingest::rules::Rules;
use crate::state::{self, SourceState, State};
use crate::store::{CatalogStore, SledStore, StoredEntity, StoredItem, WriteBehind};
use portal_catalog_model::FlatEntity;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::broadcast;

/// Opens the catalog of a Portal configuration (the sled store under its
/// data directory).
pub(crate) fn open(config: &portal_config::Config) -> Result<Catalog, CatalogError> {
    let catalog_config = CatalogConfig::from_portal_config(config)?;
    let store = SledStore::open(&crate::config::store_path(config))?;
    open_with(Arc::new(store), catalog_config, config.base_dir.clone())
}

/// Opens a catalog on any store. `base_dir` resolves relative config
/// location targets.
pub(crate) fn open_with(
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
            freshness: Mutex::new(None),
            watches: Mutex::new(Default::default()),
            leases: std::sync::OnceLock::new(),
            waiting: Mutex::new(std::collections::HashMap::new()),
        }),
    })
}

/// Entities decoded from the store per indexing step at start-up.
const LOAD_BATCH: usize = 4096;

/// Stored entities made ready to index: record, flattened rows, edges.
pub(crate) type Prepared = Vec<(EntityRec, FlatEntity, Vec<Edge>)>;

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
pub(crate) fn prepare_loaded(mut entities: Vec<StoredEntity>) -> Prepared {
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
    use crate::{Access, EntityQuery, FacetCount};
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
