//! The in-memory query indexes, rebuilt from the store at start.
//!
//! - every entity has a dense id (`u32`) and a record holding its final JSON
//!   (without `relations` and `status`, which are added when served);
//! - `by_ref` (ordered: the default order of listings) and `by_uid`;
//! - an inverted index of the flattened entity ([`FlatEntity`]): per key the
//!   ids that have it, per lowercased value the ids with that value
//!   ([`Postings`]: one id inline, a roaring bitmap when shared), and the
//!   original spellings where they differ (facets report those);
//! - relation edges per source ref with reference counts (several entities
//!   can emit the same edge). Every `relations.<type>` key records which
//!   entities have it; the values of many-to-few types (`ownedBy`, ...) are
//!   indexed like any field, those of few-to-many types (`ownerOf`, ...) are
//!   read from the inverse edges (see `INDEXED_RELATION_TYPES`);
//! - refs and relation types are interned, so each is allocated once.
//!
//! Filters, predicates and facet counts are set operations on the postings.

pub use crate::postings::Postings;
use portal_catalog_model::FlatEntity;
use roaring::RoaringBitmap;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// Dense entity id inside one running catalog (not persisted).
pub type Id = u32;

/// One relation edge, refs canonical.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    /// The entity whose `relations` list shows it.
    pub source: Arc<str>,
    /// Relation type, e.g. `ownedBy`.
    pub type_: Arc<str>,
    /// Target ref.
    pub target: Arc<str>,
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
    /// Complete JSON object without `relations` and `status`.
    pub body: Box<[u8]>,
    /// JSON array of this entity's own status items, or empty.
    pub errors: Box<[u8]>,
    /// Edges this entity's spec produced.
    pub edges: Box<[Edge]>,
}

impl EntityRec {
    /// The body parsed (for projections and the flattened index).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The `kind` part of the ref (lowercase).
    pub fn kind_lower(&self) -> &str {
        self.entity_ref.split(':').next().unwrap_or("")
    }
}

/// One source's edges: (type, target) to how many entities emit it.
pub type EdgeCounts = BTreeMap<(Arc<str>, Arc<str>), u32>;

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
}

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
    pub fields: HashMap<Box<str>, FieldIndex>,
    /// Edges by source ref.
    pub relations: HashMap<Arc<str>, EdgeCounts>,
    /// Entity ids per source key.
    pub by_source: HashMap<Arc<str>, RoaringBitmap>,
    /// Interned refs and relation types: an entity's ref appears in its record,
    /// in `by_ref` and in every edge that names it, so one allocation serves all.
    strings: HashSet<Arc<str>>,
    /// Removals since the interned strings were last swept.
    removals: usize,
}

/// The uid is looked up through `by_uid`, not the generic index (it is unique
/// per entity and would only cost memory there).
const UID_KEY: &str = "metadata.uid";

const RELATIONS_PREFIX: &str = "relations.";

fn relation_key(type_: &str) -> String {
    format!(
        "{RELATIONS_PREFIX}{}",
        portal_catalog_model::js_lower(type_)
    )
}

/// Relation types whose values (target refs) are indexed like any field: the
/// ones that point from the many to the few (`ownedBy` a team, `partOf` a
/// system), whose values are shared and drive facets such as the catalog's
/// Owner filter. The other direction (`ownerOf`, `hasPart`, ...) has a value
/// per member, so it is answered from the relation map instead.
const INDEXED_RELATION_TYPES: &[&str] = &[
    "ownedby",
    "partof",
    "memberof",
    "childof",
    "providesapi",
    "consumesapi",
    "dependson",
];

/// `relations.<type>` keys whose values come from the relation map.
fn derived_relation_type(key: &str) -> Option<&str> {
    key.strip_prefix(RELATIONS_PREFIX)
        .filter(|t| !INDEXED_RELATION_TYPES.contains(t))
}

/// Index a relation's target as the value of `relations.<type>`?
fn indexes_relation_value(type_: &str) -> bool {
    INDEXED_RELATION_TYPES
        .iter()
        .any(|t| t.eq_ignore_ascii_case(type_))
}

/// The inverse of a relation type given in lowercase (`ownedby` → `ownerOf`).
fn inverse_of_lower(type_lower: &str) -> Option<&'static str> {
    portal_catalog_model::relations::ALL_RELATION_TYPES
        .iter()
        .find(|t| t.eq_ignore_ascii_case(type_lower))
        .and_then(|t| portal_catalog_model::relations::inverse_relation_type(t))
}

impl Index {
    /// The record of an id.
    pub fn get(&self, id: Id) -> Option<&Arc<EntityRec>> {
        self.slots.get(id as usize).and_then(Option::as_ref)
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

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.by_ref.is_empty()
    }

    /// Adds an entity whose ref is not present yet; `flat` is its flattened
    /// form without relations.
    pub fn insert(&mut self, mut rec: EntityRec, flat: &FlatEntity) -> Id {
        debug_assert!(!self.by_ref.contains_key(&rec.entity_ref));
        rec.entity_ref = self.intern(&rec.entity_ref);
        rec.edges = rec
            .edges
            .iter()
            .map(|e| Edge {
                source: self.intern(&e.source),
                type_: self.intern(&e.type_),
                target: self.intern(&e.target),
            })
            .collect();
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
        for row in flat.rows() {
            if row.key == UID_KEY {
                self.index_row(id, &row.key, None, None);
                continue;
            }
            self.index_row(
                id,
                &row.key,
                row.value.as_deref(),
                row.original_value.as_deref(),
            );
        }
        let own: Vec<(Arc<str>, Arc<str>)> = self
            .relations
            .get(&rec.entity_ref)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for (type_, target) in own {
            let value = indexes_relation_value(&type_).then_some(&*target);
            self.index_row(id, &relation_key(&type_), value, value);
        }
        let edges = rec.edges.clone();
        self.slots[id as usize] = Some(Arc::new(rec));
        for edge in edges.iter() {
            self.add_edge(edge);
        }
        id
    }

    /// Removes an entity, returning its record.
    pub fn remove(&mut self, id: Id) -> Option<Arc<EntityRec>> {
        let rec = self.slots.get_mut(id as usize)?.take()?;
        for edge in rec.edges.iter() {
            self.remove_edge(edge);
        }
        let flat = FlatEntity::from_value(&rec.value());
        for row in flat.rows() {
            if row.key == UID_KEY {
                self.unindex_row(id, &row.key, None, None);
                continue;
            }
            self.unindex_row(
                id,
                &row.key,
                row.value.as_deref(),
                row.original_value.as_deref(),
            );
        }
        let own: Vec<(Arc<str>, Arc<str>)> = self
            .relations
            .get(&rec.entity_ref)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        for (type_, target) in own {
            let value = indexes_relation_value(&type_).then_some(&*target);
            self.unindex_row(id, &relation_key(&type_), value, value);
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
        match field.values.get_mut(value) {
            Some(ids) => ids.insert(id),
            None => {
                // Relation values are refs: share the interned copy.
                let shared = self
                    .strings
                    .get(value)
                    .cloned()
                    .unwrap_or_else(|| value.into());
                field.values.insert(shared, Postings::One(id));
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
        let map = self.relations.entry(edge.source.clone()).or_default();
        let count = map
            .entry((edge.type_.clone(), edge.target.clone()))
            .or_insert(0);
        *count += 1;
        if *count == 1
            && let Some(id) = self.id_of_ref(&edge.source)
        {
            let value = indexes_relation_value(&edge.type_).then_some(&*edge.target);
            self.index_row(id, &relation_key(&edge.type_), value, value);
        }
    }

    fn remove_edge(&mut self, edge: &Edge) {
        let Some(map) = self.relations.get_mut(&edge.source) else {
            return;
        };
        let key = (edge.type_.clone(), edge.target.clone());
        let Some(count) = map.get_mut(&key) else {
            return;
        };
        *count -= 1;
        if *count > 0 {
            return;
        }
        map.remove(&key);
        let still_has_type = map
            .range((edge.type_.clone(), Arc::from(""))..)
            .next()
            .is_some_and(|((t, _), _)| *t == edge.type_);
        if map.is_empty() {
            self.relations.remove(&edge.source);
        }
        if let Some(id) = self.id_of_ref(&edge.source) {
            let key = relation_key(&edge.type_);
            let value = indexes_relation_value(&edge.type_).then_some(&*edge.target);
            if !still_has_type {
                self.unindex_row(id, &key, value, value);
            } else if let Some(value) = value
                && let Some(field) = self.fields.get_mut(&*key)
                && let Some(ids) = field.values.get_mut(value)
                && ids.remove(id)
            {
                // Another target of the same type keeps the key present.
                field.values.remove(value);
            }
        }
    }

    /// Entities with a relation of type `type_lower` (lowercased, as in a
    /// `relations.<type>` filter key) to `target` (a canonical ref). Every edge
    /// is stored with its inverse, so these are the targets of the inverse
    /// edges that start at `target`: no second index of relation values.
    pub fn relation_sources(&self, type_lower: &str, target: &str) -> RoaringBitmap {
        match (inverse_of_lower(type_lower), self.relations.get(target)) {
            (Some(inverse), Some(edges)) => self.ids_of_targets(edges, inverse),
            _ => RoaringBitmap::new(),
        }
    }

    /// The ids of the (existing) targets of one source's edges of one type.
    fn ids_of_targets(&self, edges: &EdgeCounts, type_: &str) -> RoaringBitmap {
        let type_: Arc<str> = type_.into();
        edges
            .range((type_.clone(), Arc::from(""))..)
            .take_while(|((t, _), _)| *t == type_)
            .filter_map(|((_, target), _)| self.id_of_ref(target))
            .collect()
    }

    /// Every target of relations of type `type_lower` with the entities that
    /// have such a relation to it, ordered by target (sorting, facets, prefix
    /// and text matches on `relations.<type>`: rare, so computed on demand).
    pub fn relation_values(&self, type_lower: &str) -> BTreeMap<Arc<str>, Postings> {
        let Some(inverse) = inverse_of_lower(type_lower) else {
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

    /// The ordered values of a key with their entities: the index's own for
    /// flattened fields, computed from the relation map for `relations.<type>`.
    pub fn value_map(
        &self,
        key: &str,
    ) -> Option<std::borrow::Cow<'_, BTreeMap<Arc<str>, Postings>>> {
        match derived_relation_type(key) {
            Some(type_lower) => Some(std::borrow::Cow::Owned(self.relation_values(type_lower))),
            None => self
                .fields
                .get(key)
                .map(|f| std::borrow::Cow::Borrowed(&f.values)),
        }
    }

    /// The entities with exactly `value` (lowercased) for `key` (empty when none).
    pub fn value_ids(&self, key: &str, value: &str) -> RoaringBitmap {
        match derived_relation_type(key) {
            Some(type_lower) => self.relation_sources(type_lower, value),
            None => self
                .fields
                .get(key)
                .and_then(|f| f.values.get(value))
                .map(Postings::to_bitmap)
                .unwrap_or_default(),
        }
    }

    /// The served relations of an entity, sorted by type then target.
    pub fn relations_of(&self, entity_ref: &str) -> impl Iterator<Item = (&str, &str)> {
        self.relations
            .get(entity_ref)
            .into_iter()
            .flat_map(|m| m.keys().map(|(t, r)| (t.as_ref(), r.as_ref())))
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
                edges: rec.edges.clone(),
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

    fn rec(name: &str, owner: &str, source: &str) -> (EntityRec, FlatEntity) {
        let value = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": name, "namespace": "default", "uid": format!("uid-{name}"), "tags": ["Java"]},
            "spec": {"type": "Service", "owner": owner}
        });
        let me: Arc<str> = format!("component:default/{name}").into();
        let group: Arc<str> = format!("group:default/{owner}").into();
        let edges = vec![
            Edge {
                source: me.clone(),
                type_: "ownedBy".into(),
                target: group.clone(),
            },
            Edge {
                source: group,
                type_: "ownerOf".into(),
                target: me.clone(),
            },
        ];
        (
            EntityRec {
                entity_ref: me,
                uid: format!("uid-{name}").into(),
                source: source.into(),
                body: serde_json::to_vec(&value).unwrap().into(),
                errors: Box::new([]),
                edges: edges.into(),
            },
            FlatEntity::from_value(&value),
        )
    }

    #[test]
    fn a_relation_type_stays_present_while_one_target_remains() {
        let mut index = Index::default();
        let (r, f) = rec("a", "team", "s1");
        let a = index.insert(r, &f);
        let (r, f) = rec("b", "team", "s1");
        index.insert(r, &f);
        let group = serde_json::json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": "team", "namespace": "default", "uid": "uid-team"},
            "spec": {"type": "team", "children": []}
        });
        let g = index.insert(
            EntityRec {
                entity_ref: "group:default/team".into(),
                uid: "uid-team".into(),
                source: "s2".into(),
                body: serde_json::to_vec(&group).unwrap().into(),
                errors: Box::new([]),
                edges: Box::new([]),
            },
            &FlatEntity::from_value(&group),
        );
        let owner_of = |index: &Index| {
            index
                .fields
                .get("relations.ownerof")
                .is_some_and(|f| f.present.contains(g))
        };
        assert!(owner_of(&index));
        index.remove(a);
        assert!(owner_of(&index), "the group still owns b");
        assert!(
            index
                .value_ids("relations.ownerof", "component:default/a")
                .is_empty()
        );
        assert_eq!(
            index
                .value_ids("relations.ownerof", "component:default/b")
                .iter()
                .collect::<Vec<_>>(),
            vec![g]
        );
    }

    #[test]
    fn insert_query_remove() {
        let mut index = Index::default();
        let (r, f) = rec("a", "team", "s1");
        let a = index.insert(r, &f);
        let (r, f) = rec("b", "team", "s1");
        let b = index.insert(r, &f);
        let kind = &index.fields["kind"].values["component"];
        assert_eq!(kind.len(), 2);
        let service = &index.fields["spec.type"].variants["service"];
        assert_eq!(service[0].1.len(), 2, "original spelling kept for facets");
        assert_eq!(&*service[0].0, "Service");
        assert!(index.fields["metadata.tags.java"].present.contains(a));
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
            index.relations_of("group:default/team").count(),
            2,
            "inverse edges wait for the group"
        );
        index.remove(a);
        assert_eq!(
            index
                .value_ids("relations.ownedby", "group:default/team")
                .iter()
                .collect::<Vec<_>>(),
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
}
