//! Which store each part runs on: `store:` in the configuration picks the
//! catalog's (the embedded sled store under the data directory, or
//! PostgreSQL, where each replica follows the others' writes); the other
//! parts keep theirs under the data directory.

use anyhow::Context;
use portal_catalog::{Catalog, CatalogConfig};
use portal_config::{Config, StoreConfig};
use portal_store_postgres::Postgres;
use std::sync::Arc;

/// Opens the catalog on the configured store and loads it into memory.
pub fn open_catalog(config: &Config) -> anyhow::Result<Catalog> {
    match &config.store {
        StoreConfig::Sled => Catalog::open(config).with_context(|| {
            format!(
                "cannot open the catalog in {} (is another portal process using it?)",
                config.data_dir().display()
            )
        }),
        StoreConfig::Postgres(pg) => {
            let db = Postgres::connect(pg)?;
            tracing::info!(server = db.server(), "the catalog is on PostgreSQL");
            let store = Arc::new(db.catalog_store());
            let catalog = Catalog::open_with(
                store.clone(),
                CatalogConfig::from_portal_config(config)?,
                config.base_dir.clone(),
            )
            .with_context(|| {
                format!("cannot load the catalog from PostgreSQL at {}", db.server())
            })?;
            // Other replicas on the same database read and write too: each
            // source is read by the one holding its lease.
            catalog.use_leases(store.leases());
            store.follow(catalog.clone());
            tracing::info!(
                replica = store.replica(),
                "following the other replicas' catalog changes"
            );
            Ok(catalog)
        }
    }
}
