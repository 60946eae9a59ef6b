//! Durable storage behind a narrow trait.
//!
//! The catalog keeps its query indexes in memory and treats the store as the
//! durable source: at start it reads everything once ([`CatalogStore::load`]),
//! afterwards it only writes change sets ([`CatalogStore::commit`]). One change
//! set is everything one source snapshot changes (a file, a location, a
//! provider run), and a backend must apply it atomically: after a crash either
//! all of it is there or none of it. The sled backend ([`SledStore`]) does this
//! with one batch on one tree; a PostgreSQL backend would use one transaction.

mod codec;
pub mod conformance;
mod copy;
mod sled_store;
mod write_behind;

pub use copy::{Copied, copy_catalog};
pub use sled_store::SledStore;
pub(crate) use write_behind::WriteBehind;

pub use crate::body::Body;
use serde::{Deserialize, Serialize};

/// An entity as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEntity {
    /// Canonical ref, `kind:namespace/name` in lowercase (the key).
    pub entity_ref: String,
    /// `metadata.uid`.
    pub uid: String,
    /// Key of the source that emitted it.
    pub source: String,
    /// The entity JSON without `relations` and `status`, as served (packed:
    /// a backend may keep the packed bytes or the JSON).
    pub body: Body,
    /// Processing errors of this entity: a JSON array of `status.items`
    /// entries, or empty.
    pub errors: Vec<u8>,
}

/// A source as stored: something that emits a full snapshot of entities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredSource {
    /// Unique key, e.g. `config:file:/etc/catalog.yaml`, `location:<uuid>`,
    /// `provider:<plugin>/<id>`, `read:<location entity ref>|file:/x.yaml`.
    pub key: String,
    /// Ref of the Location entity whose target this source reads, if any.
    #[serde(default)]
    pub parent: Option<String>,
    /// Location type read (`file`, `url`, `provider`, ...).
    pub location_type: String,
    /// Location target read.
    pub location_target: String,
    /// When the source last confirmed its entities (ms since the epoch).
    pub confirmed_at: u64,
    /// Source-level problems.
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
    /// Files this source read (for watching), absolute.
    #[serde(default)]
    pub deps: Vec<String>,
}

/// A location registered through the API (or `portal catalog import`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredLocation {
    /// Id (a UUID).
    pub id: String,
    /// `file` or `url`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Target.
    pub target: String,
}

/// Everything one atomic write changes.
#[derive(Debug, Clone, Default)]
pub struct ChangeSet {
    /// Entities written (replacing any with the same ref).
    pub put_entities: Vec<StoredEntity>,
    /// Refs of entities removed.
    pub delete_entities: Vec<String>,
    /// Sources written.
    pub put_sources: Vec<StoredSource>,
    /// Keys of sources removed.
    pub delete_sources: Vec<String>,
    /// Registered locations written.
    pub put_locations: Vec<StoredLocation>,
    /// Ids of registered locations removed.
    pub delete_locations: Vec<String>,
}

impl ChangeSet {
    /// True when the change set changes nothing.
    pub fn is_empty(&self) -> bool {
        self.put_entities.is_empty()
            && self.delete_entities.is_empty()
            && self.put_sources.is_empty()
            && self.delete_sources.is_empty()
            && self.put_locations.is_empty()
            && self.delete_locations.is_empty()
    }
}

/// One item read back at start.
#[derive(Debug)]
pub enum StoredItem {
    /// An entity.
    Entity(StoredEntity),
    /// A source.
    Source(StoredSource),
    /// A registered location.
    Location(StoredLocation),
}

/// Errors of a store backend.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("cannot open the catalog store at {path}: {message}")]
    Open {
        /// Where.
        path: String,
        /// Why.
        message: String,
    },
    /// A read or write failed.
    #[error("catalog store: {0}")]
    Io(String),
    /// Stored data could not be decoded.
    #[error("catalog store holds an undecodable record under {key}: {message}")]
    Corrupt {
        /// The record's key.
        key: String,
        /// Why.
        message: String,
    },
}

/// Who reads which source when several portal processes share one store:
/// a source is read by the process holding its lease, so it is not read
/// twice, and the lease of a process that died passes to another. One
/// process alone needs none.
pub trait SourceLeases: Send + Sync {
    /// Of `keys`, those this process may read now: it held their lease or
    /// has just taken it. An error (the store unreachable) grants none.
    fn acquire(&self, keys: &[String]) -> Vec<String>;
}

/// The storage a catalog runs on. Implementations must make each
/// [`commit`](CatalogStore::commit) atomic and durable in order.
pub trait CatalogStore: Send + Sync {
    /// Calls `visit` for every stored item (any order).
    fn load(&self, visit: &mut dyn FnMut(StoredItem)) -> Result<(), StoreError>;
    /// Applies a change set atomically.
    fn commit(&self, changes: &ChangeSet) -> Result<(), StoreError>;
    /// Makes every committed change durable (called on shutdown).
    fn flush(&self) -> Result<(), StoreError>;
}
