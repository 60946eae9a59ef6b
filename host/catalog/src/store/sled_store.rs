//! The embedded store: one sled tree, keys prefixed by record type
//! (`e\0<ref>`, `s\0<source key>`, `l\0<location id>`), so that one change set
//! is one `sled::Batch` — atomic after a crash.

use super::codec::{decode_entity, encode_entity};
use super::{CatalogStore, ChangeSet, StoreError, StoredItem, StoredLocation, StoredSource};
use std::path::Path;

const ENTITY: &[u8] = b"e\0";
const SOURCE: &[u8] = b"s\0";
const LOCATION: &[u8] = b"l\0";
const META: &[u8] = b"m\0";
const SCHEMA_KEY: &[u8] = b"m\0schema";
const SCHEMA: &[u8] = b"portal-catalog/1";

/// The sled backend.
pub struct SledStore {
    db: sled::Db,
    tree: sled::Tree,
}

fn key(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(prefix.len() + id.len());
    k.extend_from_slice(prefix);
    k.extend_from_slice(id.as_bytes());
    k
}

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

impl SledStore {
    /// Opens (or creates) the store in `path`.
    pub fn open(path: &Path) -> Result<SledStore, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        std::fs::create_dir_all(path).map_err(|e| open_err(e.to_string()))?;
        let db = sled::Config::new()
            .path(path)
            // The catalog serves from memory; sled's page cache only helps writes.
            .cache_capacity(8 * 1024 * 1024)
            .flush_every_ms(Some(200))
            .mode(sled::Mode::HighThroughput)
            .open()
            .map_err(|e| {
                let text = e.to_string();
                if text.contains("lock") || text.contains("WouldBlock") {
                    open_err(format!(
                        "{text} (is another portal process using this data directory?)"
                    ))
                } else {
                    open_err(text)
                }
            })?;
        let tree = db.open_tree("catalog").map_err(io)?;
        match tree.get(SCHEMA_KEY).map_err(io)? {
            None => {
                tree.insert(SCHEMA_KEY, SCHEMA).map_err(io)?;
            }
            Some(v) if v.as_ref() == SCHEMA => {}
            Some(v) => {
                return Err(open_err(format!(
                    "unsupported store schema `{}`",
                    String::from_utf8_lossy(&v)
                )));
            }
        }
        Ok(SledStore { db, tree })
    }
}

impl CatalogStore for SledStore {
    fn load(&self, visit: &mut dyn FnMut(StoredItem)) -> Result<(), StoreError> {
        for item in self.tree.iter() {
            let (k, v) = item.map_err(io)?;
            let (prefix, rest) = k.split_at(2.min(k.len()));
            let id = String::from_utf8_lossy(rest).into_owned();
            match prefix {
                p if p == ENTITY => visit(StoredItem::Entity(decode_entity(&id, &v)?)),
                p if p == SOURCE => {
                    let s: StoredSource =
                        serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                            key: format!("source {id}"),
                            message: e.to_string(),
                        })?;
                    visit(StoredItem::Source(s));
                }
                p if p == LOCATION => {
                    let l: StoredLocation =
                        serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt {
                            key: format!("location {id}"),
                            message: e.to_string(),
                        })?;
                    visit(StoredItem::Location(l));
                }
                p if p == META => {}
                _ => {
                    return Err(StoreError::Corrupt {
                        key: String::from_utf8_lossy(&k).into_owned(),
                        message: "unknown record prefix".into(),
                    });
                }
            }
        }
        Ok(())
    }

    fn commit(&self, changes: &ChangeSet) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for r in &changes.delete_entities {
            batch.remove(key(ENTITY, r));
        }
        for e in &changes.put_entities {
            batch.insert(key(ENTITY, &e.entity_ref), encode_entity(e));
        }
        for s in &changes.delete_sources {
            batch.remove(key(SOURCE, s));
        }
        for s in &changes.put_sources {
            let bytes = serde_json::to_vec(s).map_err(|e| StoreError::Io(e.to_string()))?;
            batch.insert(key(SOURCE, &s.key), bytes);
        }
        for l in &changes.delete_locations {
            batch.remove(key(LOCATION, l));
        }
        for l in &changes.put_locations {
            let bytes = serde_json::to_vec(l).map_err(|e| StoreError::Io(e.to_string()))?;
            batch.insert(key(LOCATION, &l.id), bytes);
        }
        self.tree.apply_batch(batch).map_err(io)
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map(|_| ()).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conformance;

    #[test]
    fn passes_the_store_checks() {
        conformance::all(&|| {
            let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
            Box::new(move || {
                Box::new(SledStore::open(dir.path()).unwrap()) as Box<dyn CatalogStore>
            })
        });
    }
}
