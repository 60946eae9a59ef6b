//! Plugin storage on disk: one redb file, one table per plugin, so no key of one
//! plugin can ever address another's.
//!
//! redb, not the catalog's sled: a plugin may fill its whole quota, and sled
//! keeps what was written in memory whatever its cache setting (256 MiB stored
//! grew the portal by 256 MiB and stayed after the plugin was gone), while
//! redb's memory is its cache (`CACHE_BYTES`). What each plugin stores is counted
//! in a table of its own, updated in the same transaction as every write, so
//! quotas are exact, atomic and known at start-up without a scan.
//!
//! A data directory from before this store (sled's `plugin-storage/`) is copied
//! in on first open and kept beside it as `plugin-storage.sled-migrated/`.

use crate::services::{KeyValueStore, ServiceError, StorageQuota, StorageUsage};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::path::{Path, PathBuf};
use std::sync::{RwLock, RwLockReadGuard};

/// The store's memory: redb's cache for pages read and written.
const CACHE_BYTES: usize = 8 << 20;
/// Bytes and keys per plugin name.
const USAGE: TableDefinition<&str, (u64, u64)> = TableDefinition::new("usage");

/// The name of one plugin's table of keys and values.
fn table(plugin: &str) -> String {
    format!("plugin/{plugin}")
}

/// One plugin's keys and values, in the table named by [`table`].
fn entries(name: &str) -> TableDefinition<'_, &'static str, &'static [u8]> {
    TableDefinition::new(name)
}

pub struct PluginStore {
    /// Shared by every call; taken alone only to compact after a purge.
    db: RwLock<Database>,
}

impl PluginStore {
    /// Opens (or creates) `plugin-storage.redb` in `data_dir`, first copying in
    /// what an older portal kept in sled. The copy is one transaction and the
    /// old directory is renamed only after it, so a copy cut short by a crash
    /// simply runs again at the next start.
    pub fn open_in(data_dir: &Path) -> Result<PluginStore, ServiceError> {
        let path = data_dir.join("plugin-storage.redb");
        let legacy = data_dir.join("plugin-storage");
        let migrate = legacy.join("conf").exists();
        let store = PluginStore::open(&path)?;
        if migrate {
            store.migrate_from_sled(&legacy)?;
        }
        Ok(store)
    }

    pub fn open(path: &Path) -> Result<PluginStore, ServiceError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| {
                ServiceError::Unavailable(format!(
                    "cannot open plugin storage at {}: {e}",
                    path.display()
                ))
            })?;
        Ok(PluginStore {
            db: RwLock::new(db),
        })
    }

    fn db(&self) -> RwLockReadGuard<'_, Database> {
        self.db.read().unwrap_or_else(|e| e.into_inner())
    }

    fn migrate_from_sled(&self, legacy: &Path) -> Result<(), ServiceError> {
        let old = sled::open(legacy).map_err(|e| {
            ServiceError::Unavailable(format!(
                "cannot read the old plugin storage at {}: {e}",
                legacy.display()
            ))
        })?;
        let db = self.db(); // held while the transaction lives (see `purge`)
        let write = db.begin_write().map_err(unavailable)?;
        let mut plugins = 0;
        {
            let mut usage = write.open_table(USAGE).map_err(unavailable)?;
            for name in old.tree_names() {
                let Some(plugin) = std::str::from_utf8(&name)
                    .ok()
                    .and_then(|n| n.strip_prefix("plugin/"))
                else {
                    continue;
                };
                let tree = old.open_tree(&name).map_err(unavailable)?;
                let table_name = table(plugin);
                let mut entries = write
                    .open_table(entries(&table_name))
                    .map_err(unavailable)?;
                let (mut bytes, mut keys) = (0u64, 0u64);
                for entry in tree.iter() {
                    let (key, value) = entry.map_err(unavailable)?;
                    let key = String::from_utf8_lossy(&key);
                    entries.insert(&*key, &*value).map_err(unavailable)?;
                    bytes += (key.len() + value.len()) as u64;
                    keys += 1;
                }
                usage.insert(plugin, (bytes, keys)).map_err(unavailable)?;
                plugins += 1;
            }
        }
        write.commit().map_err(unavailable)?;
        drop(old);
        let kept = PathBuf::from(format!("{}.sled-migrated", legacy.display()));
        if let Err(e) = std::fs::rename(legacy, &kept) {
            tracing::warn!(
                "plugin storage migrated, but {} stays: {e}",
                legacy.display()
            );
        }
        tracing::info!(
            plugins,
            "plugin storage moved from sled to plugin-storage.redb; the old copy is kept at {}",
            kept.display()
        );
        Ok(())
    }

    fn usage_in(
        usage: &impl ReadableTable<&'static str, (u64, u64)>,
        plugin: &str,
    ) -> Result<StorageUsage, ServiceError> {
        Ok(usage
            .get(plugin)
            .map_err(unavailable)?
            .map(|v| {
                let (bytes, keys) = v.value();
                StorageUsage { bytes, keys }
            })
            .unwrap_or_default())
    }
}

fn unavailable(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::Unavailable(e.to_string())
}

impl KeyValueStore for PluginStore {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError> {
        let db = self.db(); // held while the transaction lives (see `purge`)
        let read = db.begin_read().map_err(unavailable)?;
        let name = table(plugin);
        let entries = match read.open_table(entries(&name)) {
            Ok(entries) => entries,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(unavailable(e)),
        };
        Ok(entries
            .get(key)
            .map_err(unavailable)?
            .map(|v| v.value().to_vec()))
    }

    fn set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), ServiceError> {
        // One write transaction at a time: the check and the write are atomic.
        let db = self.db(); // held while the transaction lives (see `purge`)
        let write = db.begin_write().map_err(unavailable)?;
        {
            let name = table(plugin);
            let mut entries = write.open_table(entries(&name)).map_err(unavailable)?;
            let mut usage = write.open_table(USAGE).map_err(unavailable)?;
            let now = Self::usage_in(&usage, plugin)?;
            let old = entries
                .get(key)
                .map_err(unavailable)?
                .map(|v| v.value().len());
            let entry = (key.len() + value.len()) as u64;
            let (bytes, keys) = match old {
                Some(old) => (now.bytes - (key.len() + old) as u64 + entry, now.keys),
                None => (now.bytes + entry, now.keys + 1),
            };
            if keys > quota.max_keys && keys > now.keys {
                return Err(ServiceError::LimitExceeded(format!(
                    "storage quota of {} keys reached (plugin `{plugin}` stores {} keys; raise plugins.grants.{plugin}.quotas.storage_keys or delete keys)",
                    quota.max_keys, now.keys
                )));
            }
            if bytes > quota.max_bytes && bytes > now.bytes {
                return Err(ServiceError::LimitExceeded(format!(
                    "storage quota of {} bytes reached (plugin `{plugin}` stores {} bytes and this write needs {} more; raise plugins.grants.{plugin}.quotas.storage_bytes or delete keys)",
                    quota.max_bytes,
                    now.bytes,
                    bytes - now.bytes
                )));
            }
            entries.insert(key, value).map_err(unavailable)?;
            usage.insert(plugin, (bytes, keys)).map_err(unavailable)?;
        }
        write.commit().map_err(unavailable)
    }

    fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError> {
        let db = self.db(); // held while the transaction lives (see `purge`)
        let write = db.begin_write().map_err(unavailable)?;
        {
            let name = table(plugin);
            let mut entries = write.open_table(entries(&name)).map_err(unavailable)?;
            let removed = entries
                .remove(key)
                .map_err(unavailable)?
                .map(|v| v.value().len());
            if let Some(old) = removed {
                let mut usage = write.open_table(USAGE).map_err(unavailable)?;
                let now = Self::usage_in(&usage, plugin)?;
                let bytes = now.bytes.saturating_sub((key.len() + old) as u64);
                usage
                    .insert(plugin, (bytes, now.keys.saturating_sub(1)))
                    .map_err(unavailable)?;
            }
        }
        write.commit().map_err(unavailable)
    }

    fn usage(&self, plugin: &str) -> Result<StorageUsage, ServiceError> {
        let db = self.db(); // held while the transaction lives (see `purge`)
        let read = db.begin_read().map_err(unavailable)?;
        match read.open_table(USAGE) {
            Ok(usage) => Self::usage_in(&usage, plugin),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(StorageUsage::default()),
            Err(e) => Err(unavailable(e)),
        }
    }

    fn purge(&self, plugin: &str) -> Result<StorageUsage, ServiceError> {
        let held = self.usage(plugin)?;
        {
            let db = self.db();
            let write = db.begin_write().map_err(unavailable)?;
            let name = table(plugin);
            write.delete_table(entries(&name)).map_err(unavailable)?;
            write
                .open_table(USAGE)
                .map_err(unavailable)?
                .remove(plugin)
                .map_err(unavailable)?;
            write.commit().map_err(unavailable)?;
        }
        // Give the space back to the file system. Every transaction is begun and
        // ended under the read lock, so with the write lock none is open; calls
        // wait for the moment it takes.
        let mut db = self.db.write().unwrap_or_else(|e| e.into_inner());
        while db
            .compact(redb::CompactionMode::Balanced)
            .map_err(unavailable)?
        {}
        Ok(held)
    }

    fn list_keys(
        &self,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServiceError> {
        let db = self.db(); // held while the transaction lives (see `purge`)
        let read = db.begin_read().map_err(unavailable)?;
        let name = table(plugin);
        let entries = match read.open_table(entries(&name)) {
            Ok(entries) => entries,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(unavailable(e)),
        };
        let mut keys = Vec::new();
        for entry in entries.range(prefix..).map_err(unavailable)? {
            let (key, _) = entry.map_err(unavailable)?;
            let key = key.value();
            if !key.starts_with(prefix) || keys.len() == limit {
                break;
            }
            keys.push(key.to_owned());
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNLIMITED: StorageQuota = StorageQuota {
        max_bytes: u64::MAX,
        max_keys: u64::MAX,
    };

    fn store(dir: &tempfile::TempDir) -> PluginStore {
        PluginStore::open_in(dir.path()).unwrap()
    }

    #[test]
    fn plugins_do_not_see_each_others_keys() {
        let dir = tempfile::tempdir().unwrap();
        let kv = store(&dir);
        assert_eq!(kv.get("a", "token").unwrap(), None);
        assert!(kv.list_keys("a", "", 10).unwrap().is_empty());
        kv.set("a", "token", b"secret-a", UNLIMITED).unwrap();
        kv.set("a", "tick", b"1", UNLIMITED).unwrap();
        kv.set("a", "u", b"1", UNLIMITED).unwrap();
        assert_eq!(kv.get("b", "token").unwrap(), None);
        assert_eq!(
            kv.get("a", "token").unwrap().as_deref(),
            Some(&b"secret-a"[..])
        );
        assert_eq!(kv.list_keys("a", "t", 10).unwrap(), vec!["tick", "token"]);
        assert_eq!(kv.list_keys("a", "t", 1).unwrap(), vec!["tick"]);
        assert_eq!(kv.list_keys("a", "", 10).unwrap().len(), 3);
        assert!(kv.list_keys("b", "", 10).unwrap().is_empty());
        kv.delete("a", "token").unwrap();
        assert_eq!(kv.get("a", "token").unwrap(), None);
    }

    #[test]
    fn quotas_are_enforced_and_freed_by_deletes_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let quota = StorageQuota {
            max_bytes: 100,
            max_keys: 3,
        };
        let kv = store(&dir);
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
        // A refused write leaves nothing behind.
        assert_eq!(kv.get("p", "c").unwrap(), None);
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
        let kv = store(&dir);
        assert_eq!(kv.usage("p").unwrap(), StorageUsage { bytes: 98, keys: 3 });
        assert_eq!(kv.usage("nobody").unwrap(), StorageUsage::default());
    }

    #[test]
    fn purging_an_uninstalled_plugin_frees_its_keys_and_its_disk() {
        let dir = tempfile::tempdir().unwrap();
        let kv = store(&dir);
        let file = dir.path().join("plugin-storage.redb");
        let value = vec![7u8; 64 << 10];
        for n in 0..200 {
            kv.set("gone", &format!("fill/{n:05}"), &value, UNLIMITED)
                .unwrap();
        }
        kv.set("stays", "k", b"v", UNLIMITED).unwrap();
        let full = std::fs::metadata(&file).unwrap().len();
        assert!(full > 12 << 20, "{full}");
        let held = kv.purge("gone").unwrap();
        assert_eq!(held.keys, 200);
        assert_eq!(kv.usage("gone").unwrap(), StorageUsage::default());
        assert!(kv.list_keys("gone", "", 10).unwrap().is_empty());
        assert_eq!(kv.get("stays", "k").unwrap().as_deref(), Some(&b"v"[..]));
        let after = std::fs::metadata(&file).unwrap().len();
        assert!(after < 2 << 20, "{full} -> {after}");
        // Purging what holds nothing is fine; the plugin may come back later.
        kv.purge("never-installed").unwrap();
        kv.set("gone", "again", b"1", UNLIMITED).unwrap();
        assert_eq!(kv.usage("gone").unwrap().keys, 1);
    }

    #[test]
    fn a_copy_from_sled_cut_short_runs_again() {
        let dir = tempfile::tempdir().unwrap();
        {
            let old = sled::open(dir.path().join("plugin-storage")).unwrap();
            old.open_tree("plugin/p")
                .unwrap()
                .insert("k", &b"v"[..])
                .unwrap();
            old.flush().unwrap();
        }
        // A crash after the new file was created, before the copy committed.
        drop(PluginStore::open(&dir.path().join("plugin-storage.redb")).unwrap());
        let kv = store(&dir);
        assert_eq!(kv.get("p", "k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(kv.usage("p").unwrap(), StorageUsage { bytes: 2, keys: 1 });
    }

    #[test]
    fn an_older_portals_sled_storage_is_carried_over_once() {
        let dir = tempfile::tempdir().unwrap();
        {
            let old = sled::open(dir.path().join("plugin-storage")).unwrap();
            let tree = old.open_tree("plugin/ci-status").unwrap();
            tree.insert("cursor", &b"page-7"[..]).unwrap();
            tree.insert("etag", &b"W/1"[..]).unwrap();
            old.open_tree("plugin/other")
                .unwrap()
                .insert("k", &b"v"[..])
                .unwrap();
            old.flush().unwrap();
        }
        let kv = store(&dir);
        assert_eq!(
            kv.get("ci-status", "cursor").unwrap().as_deref(),
            Some(&b"page-7"[..])
        );
        assert_eq!(kv.get("other", "k").unwrap().as_deref(), Some(&b"v"[..]));
        assert_eq!(
            kv.usage("ci-status").unwrap(),
            StorageUsage {
                bytes: 6 + 6 + 4 + 3,
                keys: 2
            }
        );
        assert!(!dir.path().join("plugin-storage").exists());
        assert!(dir.path().join("plugin-storage.sled-migrated").exists());
        // Writes after the move stay; the old copy is not read again.
        kv.set("ci-status", "cursor", b"page-8", UNLIMITED).unwrap();
        drop(kv);
        let kv = store(&dir);
        assert_eq!(
            kv.get("ci-status", "cursor").unwrap().as_deref(),
            Some(&b"page-8"[..])
        );
    }
}
