//! What the host side offers plugins, behind narrow traits so the plugin runtime
//! does not depend on the catalog or on a particular database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Read access to the catalog. Entities are JSON text in Backstage's shape.
pub trait CatalogReader: Send + Sync {
    fn get_entity(&self, entity_ref: &str) -> Result<Option<String>, ServiceError>;
    fn query_entities(&self, filter: &str, limit: usize) -> Result<Vec<String>, ServiceError>;
}

/// Plugin-private key/value storage. Every call names the plugin, and an
/// implementation must keep plugins' key spaces apart and refuse, with
/// [`ServiceError::LimitExceeded`], a write that would take a plugin over its
/// quota (checked and applied atomically, so concurrent writes cannot overshoot).
pub trait KeyValueStore: Send + Sync {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError>;
    fn set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), ServiceError>;
    fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError>;
    /// What the plugin stores now.
    fn usage(&self, plugin: &str) -> Result<StorageUsage, ServiceError>;
    fn list_keys(
        &self,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServiceError>;
}

/// How much one plugin may store: bytes of keys plus values, and keys.
#[derive(Debug, Clone, Copy)]
pub struct StorageQuota {
    pub max_bytes: u64,
    pub max_keys: u64,
}

/// What one plugin stores: bytes of keys plus values, and keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageUsage {
    pub bytes: u64,
    pub keys: u64,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
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
/// address another's. What each plugin stores is counted (from its tree on first
/// use, then kept up to date by every write) to enforce its quota.
pub struct SledKeyValueStore {
    db: sled::Db,
    usage: Mutex<HashMap<String, Arc<Mutex<StorageUsage>>>>,
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
        Ok(SledKeyValueStore {
            db,
            usage: Mutex::new(HashMap::new()),
        })
    }

    /// The plugin's usage counter, counted from its tree the first time.
    fn usage_of(&self, plugin: &str) -> Result<Arc<Mutex<StorageUsage>>, ServiceError> {
        let mut all = self.usage.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(usage) = all.get(plugin) {
            return Ok(usage.clone());
        }
        let mut counted = StorageUsage::default();
        for entry in self.tree(plugin)?.iter() {
            let (key, value) = entry.map_err(unavailable)?;
            counted.bytes += (key.len() + value.len()) as u64;
            counted.keys += 1;
        }
        let usage = Arc::new(Mutex::new(counted));
        all.insert(plugin.to_owned(), usage.clone());
        Ok(usage)
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

    fn set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), ServiceError> {
        let usage = self.usage_of(plugin)?;
        // One plugin's writes are checked and applied one at a time.
        let mut usage = usage.lock().unwrap_or_else(|e| e.into_inner());
        let tree = self.tree(plugin)?;
        let old = tree.get(key).map_err(unavailable)?;
        let entry = (key.len() + value.len()) as u64;
        let (bytes, keys) = match &old {
            Some(old) => (
                usage.bytes - (key.len() + old.len()) as u64 + entry,
                usage.keys,
            ),
            None => (usage.bytes + entry, usage.keys + 1),
        };
        if keys > quota.max_keys && keys > usage.keys {
            return Err(ServiceError::LimitExceeded(format!(
                "storage quota of {} keys reached (plugin `{plugin}` stores {} keys; raise plugins.grants.{plugin}.quotas.storage_keys or delete keys)",
                quota.max_keys, usage.keys
            )));
        }
        if bytes > quota.max_bytes && bytes > usage.bytes {
            return Err(ServiceError::LimitExceeded(format!(
                "storage quota of {} bytes reached (plugin `{plugin}` stores {} bytes and this write needs {} more; raise plugins.grants.{plugin}.quotas.storage_bytes or delete keys)",
                quota.max_bytes,
                usage.bytes,
                bytes - usage.bytes
            )));
        }
        tree.insert(key, value).map_err(unavailable)?;
        *usage = StorageUsage { bytes, keys };
        Ok(())
    }

    fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError> {
        let usage = self.usage_of(plugin)?;
        let mut usage = usage.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(old) = self.tree(plugin)?.remove(key).map_err(unavailable)? {
            usage.bytes = usage.bytes.saturating_sub((key.len() + old.len()) as u64);
            usage.keys = usage.keys.saturating_sub(1);
        }
        Ok(())
    }

    fn usage(&self, plugin: &str) -> Result<StorageUsage, ServiceError> {
        let usage = self.usage_of(plugin)?;
        let usage = *usage.lock().unwrap_or_else(|e| e.into_inner());
        Ok(usage)
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
        kv.set("a", "token", b"secret-a", UNLIMITED).unwrap();
        kv.set("a", "tick", b"1", UNLIMITED).unwrap();
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

    const UNLIMITED: StorageQuota = StorageQuota {
        max_bytes: u64::MAX,
        max_keys: u64::MAX,
    };

    #[test]
    fn quotas_are_enforced_and_freed_by_deletes_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kv");
        let quota = StorageQuota {
            max_bytes: 100,
            max_keys: 3,
        };
        let kv = SledKeyValueStore::open(&path).unwrap();
        kv.set("p", "a", &[0; 30], quota).unwrap(); // 31 bytes
        kv.set("p", "b", &[0; 30], quota).unwrap(); // 62
        // Overwriting counts the difference only.
        kv.set("p", "a", &[0; 10], quota).unwrap(); // 42
        assert_eq!(kv.usage("p").unwrap(), StorageUsage { bytes: 42, keys: 2 });
        let err = kv.set("p", "c", &[0; 80], quota).unwrap_err();
        assert!(
            matches!(&err, ServiceError::LimitExceeded(m) if m.contains("100 bytes") && m.contains("storage_bytes")),
            "{err}"
        );
        kv.set("p", "c", &[0; 5], quota).unwrap(); // 48, 3 keys
        let err = kv.set("p", "d", b"", quota).unwrap_err();
        assert!(
            matches!(&err, ServiceError::LimitExceeded(m) if m.contains("3 keys") && m.contains("storage_keys")),
            "{err}"
        );
        // Another plugin has its own quota.
        kv.set("q", "d", b"", quota).unwrap();
        kv.delete("p", "b").unwrap();
        kv.delete("p", "missing").unwrap();
        assert_eq!(kv.usage("p").unwrap(), StorageUsage { bytes: 17, keys: 2 });
        kv.set("p", "d", &[0; 80], quota).unwrap();
        drop(kv);
        let kv = SledKeyValueStore::open(&path).unwrap();
        assert_eq!(kv.usage("p").unwrap(), StorageUsage { bytes: 98, keys: 3 });
    }
}
