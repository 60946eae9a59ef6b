//! The flattened search index of an entity, exactly like Backstage's `search`
//! table (`buildEntitySearch` in the catalog backend).
//!
//! Rules:
//! - every leaf becomes a row keyed by its dotted path; keys and values are
//!   lowercased (`metadata.annotations.backstage.io/techdocs-ref`);
//! - arrays are descended into, repeating the key per item; a string item
//!   `x` at `path` is also indexed as `path.x` = `true` (`metadata.tags.java`);
//! - numbers and booleans are stringified as JavaScript does; `null` leaves
//!   give a row with no value (the key exists, nothing matches its value);
//! - `relations`, `status`, `attachments` are not traversed; instead every
//!   relation gives `relations.<type>` = target ref;
//! - `metadata.name`, `metadata.namespace` and `metadata.uid` are always
//!   present (value-less when absent), and an entity without a namespace is
//!   also indexed with `metadata.namespace` = `default`;
//! - keys over 200 characters are dropped; values over 200 characters keep
//!   their key but lose their value (Backstage stores `null` so a key-only
//!   filter still matches but a value match does not).
//!
//! Rows are sorted by key then value, and exact duplicates are dropped, so a
//! store can binary-search them or feed them to secondary indexes.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use crate::entity::Entity;
use crate::jsutil::{js_lower, js_primitive_string, utf16_len};
use crate::refs::DEFAULT_NAMESPACE;

/// Keys longer than this (UTF-16 code units) are not indexed.
pub const MAX_KEY_LENGTH: usize = 200;
/// Values longer than this (UTF-16 code units) are not searchable.
pub const MAX_VALUE_LENGTH: usize = 200;

/// Paths the generic traversal skips (indexed specially or not at all).
const SPECIAL_KEYS: &[&str] = &[
    "attachments",
    "relations",
    "status",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "metadata.etag",
];

/// One row of the index.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlatRow {
    /// Lowercased dotted key.
    pub key: String,
    /// Lowercased value; `None` for `null` leaves, absent special keys and
    /// values over [`MAX_VALUE_LENGTH`].
    pub value: Option<String>,
    /// The value as written (for facets, which report original spelling);
    /// `None` exactly when `value` is `None`.
    pub original_value: Option<String>,
}

/// The flattened, lowercased key/value rows of one entity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlatEntity {
    rows: Vec<FlatRow>,
}

/// Raw traversal output: original-case key and `String(value)` (None for null).
type RawRow = (String, Option<String>);

fn traverse(root: &Value) -> Vec<RawRow> {
    struct State {
        out: Vec<RawRow>,
        seen_lower: HashSet<String>,
    }
    impl State {
        fn push(&mut self, key: String, value: Option<String>) {
            self.seen_lower.insert(js_lower(&key));
            self.out.push((key, value));
        }
    }
    // `path` is one buffer extended and truncated on the way down, so a
    // nested key costs no allocation until it becomes a row.
    fn visit(st: &mut State, path: &mut String, current: &Value) {
        if SPECIAL_KEYS.contains(&path.as_str()) {
            return;
        }
        match current {
            Value::Null => st.push(path.clone(), None),
            Value::Bool(_) | Value::Number(_) | Value::String(_) => {
                st.push(path.clone(), js_primitive_string(current));
            }
            Value::Array(items) => {
                for item in items {
                    visit(st, path, item);
                    if let Value::String(s) = item {
                        let at = path.len();
                        path.push('.');
                        path.push_str(s);
                        if !st.seen_lower.contains(&js_lower(path)) {
                            st.push(path.clone(), Some("true".to_string()));
                        }
                        path.truncate(at);
                    }
                }
            }
            Value::Object(map) => {
                for (key, value) in map {
                    let at = path.len();
                    if at > 0 {
                        path.push('.');
                    }
                    path.push_str(key);
                    visit(st, path, value);
                    path.truncate(at);
                }
            }
        }
    }
    let mut st = State {
        out: Vec::new(),
        seen_lower: HashSet::new(),
    };
    visit(&mut st, &mut String::new(), root);
    st.out
}

/// All raw (original-case) rows of an entity document, including the special
/// rows, before lowercasing and length limits.
fn raw_rows(entity: &Value) -> Vec<RawRow> {
    let mut raw = traverse(entity);
    let meta = entity.get("metadata");
    let meta_value = |key: &str| meta.and_then(|m| m.get(key)).and_then(js_primitive_string);
    raw.push(("metadata.name".to_string(), meta_value("name")));
    let namespace = meta_value("namespace");
    let namespace_is_falsy = match meta.and_then(|m| m.get("namespace")) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Bool(b)) => !b,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(_) => false,
    };
    raw.push(("metadata.namespace".to_string(), namespace));
    raw.push(("metadata.uid".to_string(), meta_value("uid")));
    if namespace_is_falsy {
        raw.push((
            "metadata.namespace".to_string(),
            Some(DEFAULT_NAMESPACE.to_string()),
        ));
    }
    if let Some(Value::Array(relations)) = entity.get("relations") {
        for rel in relations {
            let Some(type_) = rel.get("type").and_then(js_primitive_string) else {
                continue;
            };
            let target = rel.get("targetRef").and_then(js_primitive_string);
            raw.push((format!("relations.{type_}"), target));
        }
    }
    raw
}

/// Lowercased flattened keys that occur with more than one spelling, e.g.
/// `spec.foo` for `spec.Foo` and `spec.foo`. Backstage rejects such entities
/// ("Entity has duplicate keys that vary only in casing"), because its index
/// is case-insensitive. Empty when there are none; sorted.
pub fn duplicate_case_keys(entity: &Value) -> Vec<String> {
    let raw = raw_rows(entity);
    let mut spellings: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (key, _) in &raw {
        spellings
            .entry(js_lower(key))
            .or_default()
            .insert(key.as_str());
    }
    spellings
        .into_iter()
        .filter(|(_, set)| set.len() > 1)
        .map(|(lower, _)| lower)
        .collect()
}

impl FlatEntity {
    /// Flattens an entity.
    pub fn from_entity(entity: &Entity) -> FlatEntity {
        FlatEntity::from_value(&entity.to_value())
    }

    /// Flattens an entity document given as JSON.
    pub fn from_value(entity: &Value) -> FlatEntity {
        let mut rows = Vec::new();
        for (raw_key, raw_value) in raw_rows(entity) {
            let key = js_lower(&raw_key);
            if utf16_len(&key) > MAX_KEY_LENGTH {
                continue;
            }
            let row = match raw_value {
                Some(original) => {
                    let value = js_lower(&original);
                    if utf16_len(&value) <= MAX_VALUE_LENGTH {
                        FlatRow {
                            key,
                            value: Some(value),
                            original_value: Some(original),
                        }
                    } else {
                        FlatRow {
                            key,
                            value: None,
                            original_value: None,
                        }
                    }
                }
                None => FlatRow {
                    key,
                    value: None,
                    original_value: None,
                },
            };
            rows.push(row);
        }
        rows.sort();
        rows.dedup();
        FlatEntity { rows }
    }

    /// All rows, sorted by key, then value.
    pub fn rows(&self) -> &[FlatRow] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The searchable `(key, value)` pairs (rows that have a value), sorted.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.rows
            .iter()
            .filter_map(|r| r.value.as_deref().map(|v| (r.key.as_str(), v)))
    }

    /// The distinct keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        let mut last: Option<&str> = None;
        self.rows.iter().filter_map(move |r| {
            if last == Some(r.key.as_str()) {
                None
            } else {
                last = Some(r.key.as_str());
                last
            }
        })
    }

    /// The rows of one key (case-insensitive).
    pub fn rows_for(&self, key: &str) -> &[FlatRow] {
        let key: Cow<'_, str> = if key.chars().any(char::is_uppercase) {
            Cow::Owned(js_lower(key))
        } else {
            Cow::Borrowed(key)
        };
        let key = key.as_ref();
        let start = self.rows.partition_point(|r| r.key.as_str() < key);
        let len = self.rows[start..].partition_point(|r| r.key == key);
        &self.rows[start..start + len]
    }

    /// Whether the key is indexed at all (even without a value), which is
    /// what key-only filters and `$exists` test.
    pub fn has_key(&self, key: &str) -> bool {
        !self.rows_for(key).is_empty()
    }

    /// The lowercased values of a key (case-insensitive key).
    pub fn values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.rows_for(key).iter().filter_map(|r| r.value.as_deref())
    }

    /// The original-spelling values of a key, e.g. for facets.
    pub fn original_values(&self, key: &str) -> impl Iterator<Item = &str> {
        self.rows_for(key)
            .iter()
            .filter_map(|r| r.original_value.as_deref())
    }

    /// Whether the key has the given value; `value` must already be lowercase.
    pub fn has_value(&self, key: &str, value: &str) -> bool {
        self.values(key).any(|v| v == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pairs(flat: &FlatEntity) -> Vec<(String, Option<String>)> {
        flat.rows()
            .iter()
            .map(|r| (r.key.clone(), r.value.clone()))
            .collect()
    }

    fn has(flat: &FlatEntity, key: &str, value: Option<&str>) -> bool {
        flat.rows()
            .iter()
            .any(|r| r.key == key && r.value.as_deref() == value)
    }

    #[test]
    fn flattens_like_backstage() {
        let entity = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "My-Service",
                "annotations": {"backstage.io/TechDocs-Ref": "dir:."},
                "tags": ["Java", "web"],
                "etag": "skipped"
            },
            "spec": {
                "type": "service",
                "replicas": 3,
                "ratio": 0.5,
                "enabled": true,
                "nothing": null,
                "nested": [{"i": 1, "j": "K"}, {"i": 2, "j": "l"}],
                "matrix": [["a"], ["b"]]
            },
            "relations": [
                {"type": "ownedBy", "targetRef": "group:default/Team-A"},
                {"type": "partOf", "targetRef": "system:default/s"}
            ],
            "status": {"items": [{"type": "x", "level": "info", "message": "m"}]}
        });
        let flat = FlatEntity::from_value(&entity);
        let expect_present: &[(&str, Option<&str>)] = &[
            ("apiversion", Some("backstage.io/v1alpha1")),
            ("kind", Some("component")),
            ("metadata.name", Some("my-service")),
            ("metadata.namespace", Some("default")),
            ("metadata.namespace", None),
            ("metadata.uid", None),
            (
                "metadata.annotations.backstage.io/techdocs-ref",
                Some("dir:."),
            ),
            ("metadata.tags", Some("java")),
            ("metadata.tags", Some("web")),
            ("metadata.tags.java", Some("true")),
            ("metadata.tags.web", Some("true")),
            ("spec.type", Some("service")),
            ("spec.replicas", Some("3")),
            ("spec.ratio", Some("0.5")),
            ("spec.enabled", Some("true")),
            ("spec.nothing", None),
            ("spec.nested.i", Some("1")),
            ("spec.nested.i", Some("2")),
            ("spec.nested.j", Some("k")),
            ("spec.nested.j", Some("l")),
            ("spec.matrix", Some("a")),
            ("spec.matrix.a", Some("true")),
            ("spec.matrix.b", Some("true")),
            ("relations.ownedby", Some("group:default/team-a")),
            ("relations.partof", Some("system:default/s")),
        ];
        for (k, v) in expect_present {
            assert!(
                has(&flat, k, *v),
                "missing {k}={v:?} in {:#?}",
                pairs(&flat)
            );
        }
        // Never indexed.
        for k in [
            "metadata.etag",
            "status.items.type",
            "relations.type",
            "relations",
        ] {
            assert!(!flat.has_key(k), "{k} should not be indexed");
        }
        // Original spelling kept for facets.
        assert_eq!(
            flat.original_values("metadata.tags").collect::<Vec<_>>(),
            vec!["Java", "web"]
        );
        assert_eq!(
            flat.original_values("metadata.name").collect::<Vec<_>>(),
            vec!["My-Service"]
        );
        // Sorted.
        let keys: Vec<_> = flat.rows().iter().map(|r| r.key.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn lookups_are_case_insensitive() {
        let flat = FlatEntity::from_value(
            &json!({"kind": "Component", "metadata": {"name": "x", "namespace": "ns"}}),
        );
        assert_eq!(flat.values("KIND").collect::<Vec<_>>(), vec!["component"]);
        assert!(flat.has_key("Metadata.Name"));
        assert!(flat.has_value("metadata.namespace", "ns"));
        assert!(
            !flat.has_value("metadata.namespace", "default"),
            "explicit namespace only"
        );
        assert!(flat.has_key("metadata.uid"), "uid key always present");
        assert_eq!(flat.values("metadata.uid").count(), 0);
        assert!(
            flat.keys()
                .collect::<Vec<_>>()
                .windows(2)
                .all(|w| w[0] < w[1])
        );
    }

    #[test]
    fn long_keys_dropped_long_values_lose_value() {
        let long_value = "v".repeat(201);
        let ok_value = "v".repeat(200);
        let long_key = "k".repeat(200);
        let entity = json!({
            "metadata": {"name": "x"},
            "spec": {"long": long_value, "ok": ok_value, long_key.clone(): "x"}
        });
        let flat = FlatEntity::from_value(&entity);
        assert!(flat.has_key("spec.long"), "key kept");
        assert_eq!(flat.values("spec.long").count(), 0, "value dropped");
        assert_eq!(flat.values("spec.ok").next(), Some(ok_value.as_str()));
        assert!(
            !flat.has_key(&format!("spec.{long_key}")),
            "long key dropped"
        );
        // Long string array items also do not produce a path key.
        let flat = FlatEntity::from_value(&json!({"spec": {"arr": ["z".repeat(250)]}}));
        assert!(flat.has_key("spec.arr"));
        assert_eq!(
            flat.keys().filter(|k| k.starts_with("spec.arr.")).count(),
            0
        );
    }

    #[test]
    fn path_item_key_not_duplicated() {
        let flat = FlatEntity::from_value(&json!({"spec": {"a": ["X", "x", "x"]}}));
        let rows: Vec<_> = flat.rows_for("spec.a.x").to_vec();
        assert_eq!(rows.len(), 1, "{rows:?}");
        // Exact duplicates are dropped; different spellings stay (facets count them).
        assert_eq!(
            flat.original_values("spec.a").collect::<Vec<_>>(),
            vec!["X", "x"]
        );
    }

    #[test]
    fn empty_namespace_is_default() {
        let flat = FlatEntity::from_value(&json!({"metadata": {"name": "x", "namespace": ""}}));
        assert!(flat.has_value("metadata.namespace", "default"));
        assert!(flat.has_value("metadata.namespace", ""));
    }

    #[test]
    fn duplicate_case_keys_detection() {
        assert!(
            duplicate_case_keys(&json!({"metadata": {"name": "x"}, "spec": {"a": 1, "b": 2}}))
                .is_empty()
        );
        assert_eq!(
            duplicate_case_keys(&json!({"metadata": {"name": "x"}, "spec": {"Foo": 1, "foo": 2}})),
            vec!["spec.foo"]
        );
        // Same key in different array items also collides in the flattened index.
        assert_eq!(
            duplicate_case_keys(
                &json!({"metadata": {"name": "x"}, "spec": {"l": [{"Foo": 1}, {"foo": 2}]}})
            ),
            vec!["spec.l.foo"]
        );
        // Metadata key colliding with a special key.
        assert_eq!(
            duplicate_case_keys(&json!({"metadata": {"name": "x", "Name": "y"}})),
            vec!["metadata.name"]
        );
        // Tags that differ in case do not collide (path keys are deduplicated).
        assert!(
            duplicate_case_keys(&json!({"metadata": {"name": "x"}, "spec": {"t": ["A", "a"]}}))
                .is_empty()
        );
    }

    #[test]
    fn from_entity_matches_from_value() {
        let v = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": "team-a", "namespace": "org"},
            "spec": {"type": "team", "children": []},
            "relations": [{"type": "childOf", "targetRef": "group:org/root"}]
        });
        let e: Entity = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(FlatEntity::from_entity(&e), FlatEntity::from_value(&v));
        assert!(FlatEntity::from_entity(&e).has_value("relations.childof", "group:org/root"));
    }
}
