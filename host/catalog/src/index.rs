//! The in-memory query indexes, rebuilt from the store at start.
//!
//! - every entity has a dense id (`u32`) and a record holding its final JSON
//!   (without `relations` and `status`, which are added when served);
//! - `by_ref` (ordered: the default order of listings) and `by_uid`;
//! - an inverted index of the flattened entity ([`FlatEntity`]): per key the
//!   ids that have it, per lowercased value the ids with that value
//!   ([`Postings`], sized to how many share it), and the original spellings
//!   where they differ (facets report those);
//! - the `path.<item>` = `true` rows Backstage adds for every string item of
//!   an array (`metadata.tags.java`, `spec.dependsOn.component:x`) are not
//!   stored: they are a function of the `path` row, and at 100k entities they
//!   are ~100k one-entity keys. The key `path` records which entities have
//!   only such items ([`FieldIndex::item_lists`]); lookups of `path.<item>`
//!   read `path`'s postings for `<item>` (see [`Index::present`]);
//! - relation edges per source ref with reference counts (several entities
//!   can emit the same edge), in a small sorted list per source. Every
//!   `relations.<type>` key records which entities have it; the values of
//!   many-to-few types (`ownedBy`, ...) are indexed like any field, those of
//!   few-to-many types (`ownerOf`, ...) are read from the inverse edges (see
//!   [`RelType::indexes_values`]). An entity's edges are not kept with it:
//!   they are a function of its body ([`edges_of_body`]), recomputed when it
//!   leaves;
//! - refs are interned, so each is allocated once.
//!
//! Filters, predicates and facet counts are set operations on the postings.

pub use crate::body::Body;
pub use crate::postings::{Id, Postings};
use foldhash::{HashMap, HashSet};
use portal_catalog_model::{Entity, FlatEntity, FlatRow, RelationEdge, relation_edges_lenient};
use roaring::RoaringBitmap;
use std::borrow::Cow;
use std::collections::{BTreeMap, btree_map};
use std::sync::Arc;

/// The built-in relation types sorted by name, so that ordering by
/// [`RelType`] orders by name (served `relations` are sorted that way).
const RELATION_TYPES: [&str; 14] = [
    "apiConsumedBy",
    "apiProvidedBy",
    "childOf",
    "consumesApi",
    "dependencyOf",
    "dependsOn",
    "hasMember",
    "hasPart",
    "memberOf",
    "ownedBy",
    "ownerOf",
    "parentOf",
    "partOf",
    "providesApi",
];

/// The `relations.<type>` filter keys, in [`RELATION_TYPES`] order.
const RELATION_KEYS: [&str; 14] = [
    "relations.apiconsumedby",
    "relations.apiprovidedby",
    "relations.childof",
    "relations.consumesapi",
    "relations.dependencyof",
    "relations.dependson",
    "relations.hasmember",
    "relations.haspart",
    "relations.memberof",
    "relations.ownedby",
    "relations.ownerof",
    "relations.parentof",
    "relations.partof",
    "relations.providesapi",
];

/// Relation types whose values (target refs) are indexed like any field: the
/// ones that point from the many to the few (`ownedBy` a team, `partOf` a
/// system), whose values are shared and drive facets such as the catalog's
/// Owner filter. The other direction (`ownerOf`, `hasPart`, ...) has a value
/// per member, so it is answered from the relation map instead.
const INDEXED_RELATION_TYPES: &[&str] = &[
    "ownedBy",
    "partOf",
    "memberOf",
    "childOf",
    "providesApi",
    "consumesApi",
    "dependsOn",
];

/// A built-in relation type (an index into the sorted type names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelType(u8);

impl RelType {
    /// The type named exactly `name` (`ownedBy`).
    pub fn of(name: &str) -> Option<RelType> {
        RELATION_TYPES
            .iter()
            .position(|t| *t == name)
            .map(|i| RelType(i as u8))
    }

    /// The type of a lowercased name (as in a `relations.<type>` key).
    fn of_lower(name: &str) -> Option<RelType> {
        RELATION_TYPES
            .iter()
            .position(|t| t.eq_ignore_ascii_case(name))
            .map(|i| RelType(i as u8))
    }

    /// Its name, e.g. `ownedBy`.
    pub fn name(self) -> &'static str {
        RELATION_TYPES[self.0 as usize]
    }

    /// Its filter key, e.g. `relations.ownedby`.
    fn key(self) -> &'static str {
        RELATION_KEYS[self.0 as usize]
    }

    fn inverse(self) -> Option<RelType> {
        portal_catalog_model::relations::inverse_relation_type(self.name()).and_then(RelType::of)
    }

    /// Are its targets indexed as the values of `relations.<type>`?
    fn indexes_values(self) -> bool {
        INDEXED_RELATION_TYPES.contains(&self.name())
    }
}

/// One relation edge, refs canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    /// The entity whose `relations` list shows it.
    pub source: Arc<str>,
    /// Relation type.
    pub type_: RelType,
    /// Target ref.
    pub target: Arc<str>,
}

/// Every edge an entity's body emits (both directions), as at ingestion;
/// fields with bad refs emit nothing (such an entity was never stored).
pub fn edges_of_body(value: &serde_json::Value) -> Vec<Edge> {
    use serde::Deserialize;
    let Ok(entity) = Entity::deserialize(value) else {
        return Vec::new();
    };
    relation_edges_lenient(&entity)
        .0
        .iter()
        .filter_map(Edge::of_relation)
        .collect()
}

impl Edge {
    /// The model's edge with canonical refs (`None` for a type that is not
    /// built in: the model emits none).
    pub fn of_relation(edge: &RelationEdge) -> Option<Edge> {
        Some(Edge {
            source: edge.source.canonical().into(),
            type_: RelType::of(edge.type_)?,
            target: edge.target.canonical().into(),
        })
    }
}

/// An entity as kept in memory.
#[derive(Debug)]
pub struct EntityRec {
    /// Canonical ref.
    pub entity_ref: Arc<str>,
    /// `metadata.uid`.
    pub uid: Arc<str>,
    /// Key of the source that emitted it.
    pub source: Arc<str>,
    /// Complete JSON object without `relations` and `status` (compressed).
    pub body: Body,
    /// JSON array of this entity's own status items, or empty.
    pub errors: Box<[u8]>,
}

impl EntityRec {
    /// The body parsed (for projections and the flattened index).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body.json()).unwrap_or(serde_json::Value::Null)
    }

    /// The `kind` part of the ref (lowercase).
    pub fn kind_lower(&self) -> &str {
        self.entity_ref.split(':').next().unwrap_or("")
    }
}

#[derive(Debug)]
struct EdgeSlot {
    target: Arc<str>,
    /// How many entities emit this edge.
    count: u32,
    type_: RelType,
}

/// One source's edges, sorted by type then target, with reference counts.
/// A sorted vector: most sources have a handful of edges, for which a map's
/// node would be several times the size.
#[derive(Debug, Default)]
pub struct EdgeList(Vec<EdgeSlot>);

impl EdgeList {
    fn find(&self, type_: RelType, target: &str) -> Result<usize, usize> {
        self.0
            .binary_search_by(|s| (s.type_, &*s.target).cmp(&(type_, target)))
    }

    /// Counts one more emitter of an edge; true when the edge is new.
    fn add(&mut self, type_: RelType, target: &Arc<str>) -> bool {
        match self.find(type_, target) {
            Ok(at) => {
                self.0[at].count += 1;
                false
            }
            Err(at) => {
                if self.0.len() < 16 {
                    // Small lists grow one slot at a time: no spare capacity.
                    self.0.reserve_exact(1);
                }
                self.0.insert(
                    at,
                    EdgeSlot {
                        target: target.clone(),
                        count: 1,
                        type_,
                    },
                );
                true
            }
        }
    }

    /// Counts one emitter less; true when nobody emits the edge any more.
    fn remove(&mut self, type_: RelType, target: &str) -> bool {
        let Ok(at) = self.find(type_, target) else {
            return false;
        };
        self.0[at].count -= 1;
        if self.0[at].count > 0 {
            return false;
        }
        self.0.remove(at);
        if self.0.capacity() > 2 * self.0.len() + 4 {
            self.0.shrink_to_fit();
        }
        true
    }

    fn has_type(&self, type_: RelType) -> bool {
        self.of_type(type_).next().is_some()
    }

    /// The targets of one type, sorted.
    fn of_type(&self, type_: RelType) -> impl Iterator<Item = &Arc<str>> {
        let start = self.0.partition_point(|s| s.type_ < type_);
        self.0[start..]
            .iter()
            .take_while(move |s| s.type_ == type_)
            .map(|s| &s.target)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (type, target) pairs, sorted.
    fn iter(&self) -> impl Iterator<Item = (RelType, &Arc<str>)> {
        self.0.iter().map(|s| (s.type_, &s.target))
    }
}

/// The live ids in ref order (the default order of listings).
#[derive(Debug, Default)]
pub struct RefOrder {
    /// Ids sorted by ref.
    pub ids: Vec<Id>,
    /// Each id's place in `ids` (`u32::MAX` for ids not in use).
    pub ranks: Vec<u32>,
}

/// The entities per original spelling of one lowercased value.
pub type Spellings = Box<[(Box<str>, Postings)]>;

/// One key of the flattened index.
#[derive(Debug, Default)]
pub struct FieldIndex {
    /// Entities that have the key (with or without a value).
    pub present: RoaringBitmap,
    /// Lowercased value to entities, ordered (prefix scans, sorting).
    pub values: BTreeMap<Arc<str>, Postings>,
    /// For values some entities spell differently from the lowercase form:
    /// the entities per original spelling (facets report those). A side
    /// table, so the common all-lowercase value costs nothing for it.
    pub variants: HashMap<Arc<str>, Spellings>,
    /// Entities whose values of this key are all string items of arrays, so
    /// each has `<key>.<value>` = `true` too; those rows are not stored.
    pub item_lists: RoaringBitmap,
}

/// From this many values on, a key's values are looked up by entry (see
/// `index_row`).
const MANY_VALUES: usize = 64;

/// The indexes.
#[derive(Debug, Default)]
pub struct Index {
    slots: Vec<Option<Arc<EntityRec>>>,
    free: Vec<Id>,
    /// Live ids.
    pub all: RoaringBitmap,
    /// Canonical ref to id, ordered.
    pub by_ref: BTreeMap<Arc<str>, Id>,
    /// uid to id.
    pub by_uid: HashMap<Arc<str>, Id>,
    /// Flattened keys.
    fields: HashMap<Box<str>, FieldIndex>,
    /// Edges by source ref.
    relations: HashMap<Arc<str>, EdgeList>,
    /// Entity ids per source key.
    pub by_source: HashMap<Arc<str>, RoaringBitmap>,
    /// Interned refs and source keys: an entity's ref appears in its record,
    /// in `by_ref` and in every edge that names it, so one allocation serves all.
    strings: HashSet<Arc<str>>,
    /// Removals since the interned strings were last swept.
    removals: usize,
    /// The ids in ref order and each id's place in it, built on first use
    /// after a change: listings page by them.
    ref_order: std::sync::OnceLock<RefOrder>,
}

/// The uid is looked up through `by_uid`, not the generic index (it is unique
/// per entity and would only cost memory there).
const UID_KEY: &str = "metadata.uid";

const RELATIONS_PREFIX: &str = "relations.";

/// `relations.<type>` keys whose values come from the relation map.
fn derived_relation_type(key: &str) -> Option<RelType> {
    key.strip_prefix(RELATIONS_PREFIX)
        .and_then(RelType::of_lower)
        .filter(|t| !t.indexes_values())
}

/// The keys whose rows in `flat` are all string array items: for each such
/// row `key` = `v` the entity also has `key.v` = `true` (sorted, distinct).
fn item_list_keys(flat: &FlatEntity) -> Vec<&str> {
    let rows = flat.rows();
    let mut out = Vec::new();
    if !rows.iter().any(|r| r.value.as_deref() == Some("true")) {
        return out;
    }
    let mut item_key = String::new();
    let mut i = 0;
    while i < rows.len() {
        let key = rows[i].key.as_str();
        let end = i + rows[i..].iter().take_while(|r| r.key == key).count();
        let group = &rows[i..end];
        let all_items = group.iter().any(|r| r.value.is_some())
            && group.iter().all(|r| {
                r.value.as_deref().is_some_and(|v| {
                    item_key.clear();
                    item_key.push_str(key);
                    item_key.push('.');
                    item_key.push_str(v);
                    flat.rows_for(&item_key)
                        .iter()
                        .any(|r| r.value.as_deref() == Some("true"))
                })
            });
        if all_items {
            out.push(key);
        }
        i = end;
    }
    out
}

/// Is `row` a `key.<item>` = `true` row implied by an item list?
fn is_implied_item_row(flat: &FlatEntity, lists: &[&str], row: &FlatRow) -> bool {
    if lists.is_empty() || row.value.as_deref() != Some("true") {
        return false;
    }
    row.key.match_indices('.').any(|(at, _)| {
        let (key, item) = (&row.key[..at], &row.key[at + 1..]);
        lists.binary_search(&key).is_ok()
            && flat
                .rows_for(key)
                .iter()
                .any(|r| r.value.as_deref() == Some(item))
    })
}

impl Index {
    /// The record of an id.
    pub fn get(&self, id: Id) -> Option<&Arc<EntityRec>> {
        self.slots.get(id as usize).and_then(Option::as_ref)
    }

    /// The ids in ref order, and each id's place in it.
    pub fn ref_order(&self) -> &RefOrder {
        self.ref_order.get_or_init(|| {
            let ids: Vec<Id> = self.by_ref.values().copied().collect();
            let mut ranks = vec![u32::MAX; self.slots.len()];
            for (rank, id) in ids.iter().enumerate() {
                ranks[*id as usize] = rank as u32;
            }
            RefOrder { ids, ranks }
        })
    }

    /// The id of a canonical ref.
    pub fn id_of_ref(&self, entity_ref: &str) -> Option<Id> {
        self.by_ref.get(entity_ref).copied()
    }

    /// The record of a canonical ref.
    pub fn get_by_ref(&self, entity_ref: &str) -> Option<&Arc<EntityRec>> {
        self.id_of_ref(entity_ref).and_then(|id| self.get(id))
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.by_ref.len()
    }

    /// Adds an entity whose ref is not present yet; `flat` is its flattened
    /// form without relations, `edges` what its body emits ([`edges_of_body`]).
    pub fn insert(&mut self, mut rec: EntityRec, flat: &FlatEntity, edges: &[Edge]) -> Id {
        debug_assert!(!self.by_ref.contains_key(&rec.entity_ref));
        self.ref_order.take();
        rec.entity_ref = self.intern(&rec.entity_ref);
        // One copy of the source key for all its entities (loading from the
        // store creates one per entity).
        rec.source = self.intern(&rec.source);
        let id = match self.free.pop() {
            Some(id) => id,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as Id
            }
        };
        self.all.insert(id);
        self.by_ref.insert(rec.entity_ref.clone(), id);
        self.by_uid.insert(rec.uid.clone(), id);
        self.by_source
            .entry(rec.source.clone())
            .or_default()
            .insert(id);
        self.index_flat(id, flat, true);
        // Edges other entities emitted with this one as source were waiting.
        let own: Vec<(RelType, Arc<str>)> = self
            .relations
            .get(&rec.entity_ref)
            .map(|list| list.iter().map(|(t, r)| (t, r.clone())).collect())
            .unwrap_or_default();
        for (type_, target) in own {
            let value = type_.indexes_values().then_some(&*target);
            self.index_row(id, type_.key(), value, value);
        }
        self.slots[id as usize] = Some(Arc::new(rec));
        for edge in edges {
            self.add_edge(edge);
        }
        id
    }

    /// Removes an entity, returning its record.
    pub fn remove(&mut self, id: Id) -> Option<Arc<EntityRec>> {
        let rec = self.slots.get_mut(id as usize)?.take()?;
        self.ref_order.take();
        let value = rec.value();
        for edge in edges_of_body(&value) {
            self.remove_edge(&edge);
        }
        self.index_flat(id, &FlatEntity::from_value(&value), false);
        let own: Vec<(RelType, Arc<str>)> = self
            .relations
            .get(&rec.entity_ref)
            .map(|list| list.iter().map(|(t, r)| (t, r.clone())).collect())
            .unwrap_or_default();
        for (type_, target) in own {
            let value = type_.indexes_values().then_some(&*target);
            self.unindex_row(id, type_.key(), value, value);
        }
        self.all.remove(id);
        self.by_ref.remove(&rec.entity_ref);
        self.by_uid.remove(&rec.uid);
        if let Some(ids) = self.by_source.get_mut(&rec.source) {
            ids.remove(id);
            if ids.is_empty() {
                self.by_source.remove(&rec.source);
            }
        }
        self.free.push(id);
        self.removals += 1;
        if self.removals > 1024 && self.removals * 4 > self.strings.len() {
            // Strings only the pool still holds belong to entities long gone.
            self.strings.retain(|s| Arc::strong_count(s) > 1);
            self.removals = 0;
        }
        Some(rec)
    }

    /// Adds (or removes) the rows of an entity's flattened form.
    fn index_flat(&mut self, id: Id, flat: &FlatEntity, add: bool) {
        let lists = item_list_keys(flat);
        if !add {
            // Before the rows: removing the last row drops the key.
            for key in &lists {
                if let Some(field) = self.fields.get_mut(*key) {
                    field.item_lists.remove(id);
                }
            }
        }
        for row in flat.rows() {
            if is_implied_item_row(flat, &lists, row) {
                continue;
            }
            let (value, original) = if row.key == UID_KEY {
                (None, None)
            } else {
                (row.value.as_deref(), row.original_value.as_deref())
            };
            if add {
                self.index_row(id, &row.key, value, original);
            } else {
                self.unindex_row(id, &row.key, value, original);
            }
        }
        if add {
            for key in &lists {
                if let Some(field) = self.fields.get_mut(*key) {
                    field.item_lists.insert(id);
                }
            }
        }
    }

    /// The shared copy of `s`.
    fn intern(&mut self, s: &Arc<str>) -> Arc<str> {
        if let Some(shared) = self.strings.get(&**s) {
            return shared.clone();
        }
        self.strings.insert(s.clone());
        s.clone()
    }

    fn index_row(&mut self, id: Id, key: &str, value: Option<&str>, original: Option<&str>) {
        let field = match self.fields.get_mut(key) {
            Some(field) => field,
            None => self.fields.entry(key.into()).or_default(),
        };
        field.present.insert(id);
        let Some(value) = value else { return };
        // Relation values are refs: share the interned copy.
        let shared = |strings: &HashSet<Arc<str>>| {
            strings.get(value).cloned().unwrap_or_else(|| value.into())
        };
        if field.values.len() < MANY_VALUES {
            match field.values.get_mut(value) {
                Some(ids) => ids.insert(id),
                None => {
                    field
                        .values
                        .insert(shared(&self.strings), Postings::One(id));
                }
            }
        } else {
            // Keys with many values (names, uids, refs) mostly see new
            // values: one search with an owned key beats a failed search
            // followed by an insert's second one.
            match field.values.entry(shared(&self.strings)) {
                btree_map::Entry::Occupied(mut ids) => ids.get_mut().insert(id),
                btree_map::Entry::Vacant(slot) => {
                    slot.insert(Postings::One(id));
                }
            }
        }
        if let Some(original) = original
            && original != value
        {
            let spellings = match field.variants.get_mut(value) {
                Some(v) => v,
                None => {
                    let key = field
                        .values
                        .get_key_value(value)
                        .map(|(k, _)| k.clone())
                        .expect("value just indexed");
                    field.variants.entry(key).or_default()
                }
            };
            match spellings.iter_mut().find(|(s, _)| &**s == original) {
                Some((_, ids)) => ids.insert(id),
                None => {
                    let mut list = std::mem::take(spellings).into_vec();
                    list.push((original.into(), Postings::One(id)));
                    list.sort_by(|a, b| a.0.cmp(&b.0));
                    *spellings = list.into_boxed_slice();
                }
            }
        }
    }

    fn unindex_row(&mut self, id: Id, key: &str, value: Option<&str>, original: Option<&str>) {
        let Some(field) = self.fields.get_mut(key) else {
            return;
        };
        field.present.remove(id);
        if let Some(value) = value
            && let Some(ids) = field.values.get_mut(value)
        {
            if ids.remove(id) {
                field.values.remove(value);
            }
            if let Some(original) = original
                && let Some(spellings) = field.variants.get_mut(value)
                && let Some(at) = spellings.iter().position(|(s, _)| &**s == original)
                && spellings[at].1.remove(id)
            {
                let mut list = std::mem::take(spellings).into_vec();
                list.remove(at);
                if list.is_empty() {
                    field.variants.remove(value);
                } else {
                    *spellings = list.into_boxed_slice();
                }
            }
        }
        if field.present.is_empty() {
            self.fields.remove(key);
        }
    }

    fn add_edge(&mut self, edge: &Edge) {
        let source = self.intern(&edge.source);
        let target = self.intern(&edge.target);
        let list = self.relations.entry(source.clone()).or_default();
        if list.add(edge.type_, &target)
            && let Some(id) = self.id_of_ref(&source)
        {
            let value = edge.type_.indexes_values().then_some(&*target);
            self.index_row(id, edge.type_.key(), value, value);
        }
    }

    fn remove_edge(&mut self, edge: &Edge) {
        let Some(list) = self.relations.get_mut(&edge.source) else {
            return;
        };
        if !list.remove(edge.type_, &edge.target) {
            return;
        }
        let still_has_type = list.has_type(edge.type_);
        if list.is_empty() {
            self.relations.remove(&edge.source);
        }
        if let Some(id) = self.id_of_ref(&edge.source) {
            let key = edge.type_.key();
            let value = edge.type_.indexes_values().then_some(&*edge.target);
            if !still_has_type {
                self.unindex_row(id, key, value, value);
            } else if let Some(value) = value
                && let Some(field) = self.fields.get_mut(key)
                && let Some(ids) = field.values.get_mut(value)
                && ids.remove(id)
            {
                // Another target of the same type keeps the key present.
                field.values.remove(value);
            }
        }
    }

    /// Entities with a relation of type `type_` to `target` (a canonical ref).
    /// Every edge is stored with its inverse, so these are the targets of the
    /// inverse edges that start at `target`: no second index of relation values.
    fn relation_sources(&self, type_: RelType, target: &str) -> RoaringBitmap {
        match (type_.inverse(), self.relations.get(target)) {
            (Some(inverse), Some(edges)) => self.ids_of_targets(edges, inverse),
            _ => RoaringBitmap::new(),
        }
    }

    /// The ids of the (existing) targets of one source's edges of one type.
    fn ids_of_targets(&self, edges: &EdgeList, type_: RelType) -> RoaringBitmap {
        edges
            .of_type(type_)
            .filter_map(|target| self.id_of_ref(target))
            .collect()
    }

    /// Every target of relations of type `type_` with the entities that
    /// have such a relation to it, ordered by target (sorting, facets, prefix
    /// and text matches on `relations.<type>`: rare, so computed on demand).
    fn relation_values(&self, type_: RelType) -> BTreeMap<Arc<str>, Postings> {
        let Some(inverse) = type_.inverse() else {
            return BTreeMap::new();
        };
        self.relations
            .iter()
            .filter_map(|(target, edges)| {
                let ids = self.ids_of_targets(edges, inverse);
                (!ids.is_empty()).then(|| (target.clone(), Postings::from_bitmap(ids)))
            })
            .collect()
    }

    /// The entities that have `path.<item>` = `true` as array item rows that
    /// are not stored, for every way to split `key` into `path` and `item`.
    fn implied_items(&self, key: &str) -> Option<RoaringBitmap> {
        let mut out: Option<RoaringBitmap> = None;
        for (at, _) in key.match_indices('.') {
            let (path, item) = (&key[..at], &key[at + 1..]);
            if let Some(field) = self.fields.get(path)
                && !field.item_lists.is_empty()
                && let Some(ids) = field.values.get(item)
            {
                let mut ids = ids.to_bitmap();
                ids &= &field.item_lists;
                if !ids.is_empty() {
                    *out.get_or_insert_with(RoaringBitmap::new) |= ids;
                }
            }
        }
        out
    }

    /// The entities that have `key` (lowercased), with or without a value.
    pub fn present(&self, key: &str) -> RoaringBitmap {
        let mut ids = self
            .fields
            .get(key)
            .map(|f| f.present.clone())
            .unwrap_or_default();
        if let Some(items) = self.implied_items(key) {
            ids |= items;
        }
        ids
    }

    /// The ordered values of a key with their entities: the index's own for
    /// flattened fields, computed from the relation map for `relations.<type>`.
    pub fn value_map(&self, key: &str) -> Option<Cow<'_, BTreeMap<Arc<str>, Postings>>> {
        if let Some(type_) = derived_relation_type(key) {
            return Some(Cow::Owned(self.relation_values(type_)));
        }
        let own = self.fields.get(key).map(|f| &f.values);
        let Some(items) = self.implied_items(key) else {
            return own.map(Cow::Borrowed);
        };
        let mut values = own.cloned().unwrap_or_default();
        match values.get_mut("true") {
            Some(ids) => {
                let mut all = ids.to_bitmap();
                all |= items;
                *ids = Postings::from_bitmap(all);
            }
            None => {
                values.insert("true".into(), Postings::from_bitmap(items));
            }
        }
        Some(Cow::Owned(values))
    }

    /// The entities with exactly `value` (lowercased) for `key` (empty when none).
    pub fn value_ids(&self, key: &str, value: &str) -> RoaringBitmap {
        if let Some(type_) = derived_relation_type(key) {
            return self.relation_sources(type_, value);
        }
        let mut ids = self
            .fields
            .get(key)
            .and_then(|f| f.values.get(value))
            .map(Postings::to_bitmap)
            .unwrap_or_default();
        if value == "true"
            && let Some(items) = self.implied_items(key)
        {
            ids |= items;
        }
        ids
    }

    /// The original spellings of a key's values (for facets).
    pub fn variants(&self, key: &str) -> Option<&HashMap<Arc<str>, Spellings>> {
        self.fields.get(key).map(|f| &f.variants)
    }

    /// The served relations of an entity, sorted by type then target.
    pub fn relations_of(&self, entity_ref: &str) -> impl Iterator<Item = (&'static str, &str)> {
        self.relations
            .get(entity_ref)
            .into_iter()
            .flat_map(|list| list.iter().map(|(t, r)| (t.name(), r.as_ref())))
    }

    /// Replaces an entity's own status items (nothing indexed changes).
    pub fn set_errors(&mut self, id: Id, errors: Box<[u8]>) {
        if let Some(slot) = self.slots.get_mut(id as usize)
            && let Some(rec) = slot.as_ref()
        {
            let new = EntityRec {
                entity_ref: rec.entity_ref.clone(),
                uid: rec.uid.clone(),
                source: rec.source.clone(),
                body: rec.body.clone(),
                errors,
            };
            *slot = Some(Arc::new(new));
        }
    }

    /// Ids of one source's entities.
    pub fn source_ids(&self, source: &str) -> RoaringBitmap {
        self.by_source.get(source).cloned().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec_of(value: serde_json::Value, source: &str) -> (EntityRec, FlatEntity, Vec<Edge>) {
        let m = &value["metadata"];
        let entity_ref = format!(
            "{}:{}/{}",
            value["kind"].as_str().unwrap().to_lowercase(),
            m["namespace"].as_str().unwrap_or("default"),
            m["name"].as_str().unwrap()
        );
        (
            EntityRec {
                entity_ref: entity_ref.into(),
                uid: m["uid"].as_str().unwrap().into(),
                source: source.into(),
                body: Body::pack(&serde_json::to_vec(&value).unwrap()),
                errors: Box::new([]),
            },
            FlatEntity::from_value(&value),
            edges_of_body(&value),
        )
    }

    fn rec(name: &str, owner: &str, source: &str) -> (EntityRec, FlatEntity, Vec<Edge>) {
        rec_of(
            json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Component",
                "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "tags": ["Java"]},
                "spec": {"type": "Service", "owner": owner, "lifecycle": "production"}
            }),
            source,
        )
    }

    fn insert(index: &mut Index, (r, f, e): (EntityRec, FlatEntity, Vec<Edge>)) -> Id {
        index.insert(r, &f, &e)
    }

    fn ids(set: RoaringBitmap) -> Vec<Id> {
        set.iter().collect()
    }

    #[test]
    fn relation_types_are_sorted_by_name_and_complete() {
        let mut sorted = RELATION_TYPES;
        sorted.sort_unstable();
        assert_eq!(sorted, RELATION_TYPES);
        let mut all = portal_catalog_model::ALL_RELATION_TYPES.to_vec();
        all.sort_unstable();
        assert_eq!(all, RELATION_TYPES);
        for (t, k) in RELATION_TYPES.iter().zip(RELATION_KEYS) {
            assert_eq!(format!("relations.{}", t.to_lowercase()), k);
        }
    }

    #[test]
    fn a_relation_type_stays_present_while_one_target_remains() {
        let mut index = Index::default();
        let a = insert(&mut index, rec("a", "team", "s1"));
        insert(&mut index, rec("b", "team", "s1"));
        let g = insert(
            &mut index,
            rec_of(
                json!({
                    "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                    "metadata": {"name": "team", "namespace": "default", "uid": "uid-team"},
                    "spec": {"type": "team", "children": []}
                }),
                "s2",
            ),
        );
        let owner_of = |index: &Index| index.present("relations.ownerof").contains(g);
        assert!(owner_of(&index));
        index.remove(a);
        assert!(owner_of(&index), "the group still owns b");
        assert!(
            index
                .value_ids("relations.ownerof", "component:default/a")
                .is_empty()
        );
        assert_eq!(
            ids(index.value_ids("relations.ownerof", "component:default/b")),
            vec![g]
        );
    }

    #[test]
    fn insert_query_remove() {
        let mut index = Index::default();
        let a = insert(&mut index, rec("a", "team", "s1"));
        let b = insert(&mut index, rec("b", "team", "s1"));
        let kind = &index.fields["kind"].values["component"];
        assert_eq!(kind.len(), 2);
        let service = &index.fields["spec.type"].variants["service"];
        assert_eq!(service[0].1.len(), 2, "original spelling kept for facets");
        assert_eq!(&*service[0].0, "Service");
        assert!(index.present("metadata.tags.java").contains(a));
        let owned = index.value_ids("relations.ownedby", "group:default/team");
        assert_eq!(owned.len(), 2, "indexed like any field");
        assert_eq!(index.fields["relations.ownedby"].present.len(), 2);
        let values = index.value_map("relations.ownedby").unwrap();
        assert_eq!(values.len(), 1);
        assert_eq!(values["group:default/team"].len(), 2);
        assert!(
            index
                .value_ids("relations.ownerof", "component:default/a")
                .is_empty(),
            "read from the inverse edges, and the group is not in the catalog"
        );
        assert_eq!(
            index.relations_of("group:default/team").collect::<Vec<_>>(),
            vec![
                ("ownerOf", "component:default/a"),
                ("ownerOf", "component:default/b")
            ],
            "inverse edges wait for the group"
        );
        index.remove(a);
        assert_eq!(
            ids(index.value_ids("relations.ownedby", "group:default/team")),
            vec![b]
        );
        assert_eq!(index.fields["kind"].values["component"].len(), 1);
        assert!(index.fields["kind"].values["component"].contains(b));
        assert_eq!(index.relations_of("group:default/team").count(), 1);
        index.remove(b);
        assert!(index.fields.is_empty(), "{:?}", index.fields.keys());
        assert!(index.relations.is_empty());
        assert!(index.by_source.is_empty());
    }

    #[test]
    fn array_item_rows_are_implied_not_stored() {
        let mut index = Index::default();
        let entity = |name: &str, spec: serde_json::Value| {
            rec_of(
                json!({
                    "apiVersion": "backstage.io/v1alpha1", "kind": "Component",
                    "metadata": {"name": name, "uid": format!("uid-{name}"), "tags": ["Java", "v1.2"]},
                    "spec": spec
                }),
                "s",
            )
        };
        let lists = insert(
            &mut index,
            entity(
                "lists",
                json!({"dependsOn": ["component:x", "Component:Y"], "owner": "team"}),
            ),
        );
        // A scalar value implies nothing; a number item keeps its rows stored.
        let scalar = insert(
            &mut index,
            entity(
                "scalar",
                json!({"dependsOn": "component:x", "owner": "team"}),
            ),
        );
        let mixed = insert(
            &mut index,
            entity(
                "mixed",
                json!({"dependsOn": [7, "component:x"], "owner": "team"}),
            ),
        );
        assert!(
            !index.fields.keys().any(|k| k.starts_with("metadata.tags.")),
            "{:?}",
            index.fields.keys()
        );
        assert_eq!(
            ids(index.present("metadata.tags.java")),
            vec![lists, scalar, mixed]
        );
        assert_eq!(
            ids(index.value_ids("metadata.tags.v1.2", "true")),
            vec![lists, scalar, mixed]
        );
        assert!(index.value_ids("metadata.tags.java", "false").is_empty());
        assert!(index.present("metadata.tags.jav").is_empty());
        assert_eq!(
            ids(index.value_ids("spec.dependson.component:x", "true")),
            vec![lists, mixed]
        );
        assert_eq!(
            ids(index.present("spec.dependson.component:y")),
            vec![lists]
        );
        assert!(
            index.present("spec.dependson.7").is_empty(),
            "numbers have no item rows"
        );
        assert_eq!(
            ids(index.fields["spec.dependson.component:x"].present.clone()),
            vec![mixed],
            "stored for the entity whose list is not all strings"
        );
        assert!(index.present("spec.owner.team").is_empty());
        let values = index.value_map("spec.dependson.component:x").unwrap();
        assert_eq!(
            values.keys().map(|k| &**k).collect::<Vec<_>>(),
            vec!["true"]
        );
        assert_eq!(values["true"].len(), 2);
        for id in [scalar, lists, mixed] {
            index.remove(id);
        }
        assert!(index.fields.is_empty(), "{:?}", index.fields.keys());
    }

    #[test]
    fn edge_lists_count_emitters_and_stay_sorted() {
        let mut list = EdgeList::default();
        let owned = RelType::of("ownedBy").unwrap();
        let part = RelType::of("partOf").unwrap();
        let a: Arc<str> = "group:default/a".into();
        let b: Arc<str> = "group:default/b".into();
        assert!(list.add(part, &a));
        assert!(list.add(owned, &b));
        assert!(list.add(owned, &a));
        assert!(!list.add(owned, &a), "a second emitter of the same edge");
        let names: Vec<_> = list.iter().map(|(t, r)| (t.name(), &**r)).collect();
        assert_eq!(
            names,
            vec![
                ("ownedBy", "group:default/a"),
                ("ownedBy", "group:default/b"),
                ("partOf", "group:default/a")
            ]
        );
        assert_eq!(list.of_type(owned).count(), 2);
        assert!(!list.remove(owned, "group:default/a"), "one emitter left");
        assert!(list.remove(owned, "group:default/a"));
        assert!(!list.remove(owned, "group:default/zzz"));
        assert!(list.has_type(owned) && list.has_type(part));
        assert!(list.remove(owned, "group:default/b"));
        assert!(!list.has_type(owned));
    }
}
