//! What the host side offers plugins, behind narrow traits so the plugin runtime
//! does not depend on the catalog or on a particular database.

use std::sync::Arc;

/// Read access to the catalog. Entities are JSON text in Backstage's shape.
pub trait CatalogReader: Send + Sync {
    fn get_entity(&self, entity_ref: &str) -> Result<Option<String>, ServiceError>;
    fn query_entities(&self, filter: &str, limit: usize) -> Result<Vec<String>, ServiceError>;
}

/// Plugin-private key/value storage. Every call names the plugin, and an
/// implementation must keep plugins' key spaces apart.
pub trait KeyValueStore: Send + Sync {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError>;
    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), ServiceError>;
    fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError>;
    fn list_keys(
        &self,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServiceError>;
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
}

/// The services a plugin host is wired to.
#[derive(Clone)]
pub struct Services {
    pub catalog: Arc<dyn CatalogReader>,
    pub kv: Arc<dyn KeyValueStore>,
}

/// A catalog reader for hosts that run without a catalog (tools, some tests).
pub struct NoCatalog;

impl CatalogReader for NoCatalog {
    fn get_entity(&self, _: &str) -> Result<Option<String>, ServiceError> {
        Err(ServiceError::Unavailable(
            "this portal runs without a catalog".into(),
        ))
    }
    fn query_entities(&self, _: &str, _: usize) -> Result<Vec<String>, ServiceError> {
        Err(ServiceError::Unavailable(
            "this portal runs without a catalog".into(),
        ))
    }
}

/// Plugin storage in sled: one tree per plugin, so no key of one plugin can ever
/// address another's.
pub struct SledKeyValueStore {
    db: sled::Db,
}

impl SledKeyValueStore {
    pub fn open(path: &std::path::Path) -> Result<Self, ServiceError> {
        // Plugins keep small state here; sled's default page cache (1 GiB) would
        // let it grow with whatever they ever read.
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(8 * 1024 * 1024)
            .open()
            .map_err(|e| {
                ServiceError::Unavailable(format!(
                    "cannot open plugin storage at {}: {e}",
                    path.display()
                ))
            })?;
        Ok(SledKeyValueStore { db })
    }

    fn tree(&self, plugin: &str) -> Result<sled::Tree, ServiceError> {
        self.db
            .open_tree(format!("plugin/{plugin}"))
            .map_err(|e| ServiceError::Unavailable(e.to_string()))
    }
}

fn unavailable(e: sled::Error) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}

impl KeyValueStore for SledKeyValueStore {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        Ok(self
            .tree(plugin)?
            .get(key)
            .map_err(unavailable)?
            .map(|v| v.to_vec()))
    }

    fn set(&self, plugin: &str, key: &str, value: &[u8]) -> Result<(), ServiceError> {
        self.tree(plugin)?.insert(key, value).map_err(unavailable)?;
        Ok(())
    }

    fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError> {
        self.tree(plugin)?.remove(key).map_err(unavailable)?;
        Ok(())
    }

    fn list_keys(
        &self,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServiceError> {
        self.tree(plugin)?
            .scan_prefix(prefix)
            .keys()
            .take(limit)
            .map(|k| {
                k.map_err(unavailable)
                    .map(|k| String::from_utf8_lossy(&k).into_owned())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugins_do_not_see_each_others_keys() {
        let dir = tempfile::tempdir().unwrap();
        let kv = SledKeyValueStore::open(&dir.path().join("kv")).unwrap();
        kv.set("a", "token", b"secret-a").unwrap();
        kv.set("a", "tick", b"1").unwrap();
        assert_eq!(kv.get("b", "token").unwrap(), None);
        assert_eq!(
            kv.get("a", "token").unwrap().as_deref(),
            Some(&b"secret-a"[..])
        );
        assert_eq!(kv.list_keys("a", "t", 10).unwrap(), vec!["tick", "token"]);
        assert!(kv.list_keys("b", "", 10).unwrap().is_empty());
        kv.delete("a", "token").unwrap();
        assert_eq!(kv.get("a", "token").unwrap(), None);
    }
}
