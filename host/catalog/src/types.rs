//! The values the catalog's API answers with: served entities, pages,
//! locations, status and change notifications.

use crate::index::EntityRec;
use crate::query::Position;
use crate::store::StoredLocation;
use crate::time::Timestamp;
use portal_catalog_model::Entity;
use serde::Serialize;
use std::sync::Arc;

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
pub struct EntityHandle(pub(crate) Arc<EntityRec>);

impl EntityHandle {
    /// The entity's canonical ref (`kind:namespace/name`, lowercase).
    pub fn entity_ref(&self) -> &str {
        &self.0.entity_ref
    }
}

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
    pub(crate) fn from_stored(l: &StoredLocation) -> LocationInfo {
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
    /// Reads planned since the catalog opened: `reads` reaches it when
    /// every planned read is done.
    pub reads_planned: usize,
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
    /// Refs (`kind:namespace/name`, lowercase) of the entities written or
    /// removed, for listeners that follow entities one by one (search).
    pub entities: Arc<[String]>,
}

/// An entity a plugin provider emitted.
#[derive(Debug, Clone)]
pub struct ProvidedDocument {
    /// YAML or JSON text (one or more documents).
    pub body: String,
    /// Where it came from, as a URL.
    pub location: String,
}
