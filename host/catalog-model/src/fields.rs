//! The `fields=` projection: keep only some paths of each returned entity.
//!
//! `fields=kind,metadata.name,metadata.annotations.backstage.io/view-url`
//! keeps those paths, with their nesting, and drops everything else. Paths
//! with `[` are rejected (array syntax is not supported).
//!
//! Keys that contain dots (annotation keys) are resolved the way Backstage's
//! backend does: walking the path, a dotted segment that is not a key of the
//! current object is joined with the next segment and tried again, so
//! `backstage.io/view-url` is found as one key. Where Backstage gives up
//! because a shorter key exists but leads nowhere (an annotation `backstage`
//! next to `backstage.io/view-url`), we backtrack and try the longer key, so
//! every path that resolves in Backstage resolves to the same value here and
//! a few more resolve instead of being dropped. Numeric segments index into
//! arrays (`spec.steps.0.id`).

use serde_json::{Map, Value};

use crate::entity::Entity;
use crate::error::FieldsError;

/// Upper bound on lookups while resolving one path, so hostile paths against
/// hostile documents cannot make backtracking explode.
const MAX_RESOLVE_STEPS: usize = 10_000;

/// A parsed list of field paths.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSet {
    fields: Vec<String>,
}

/// Parses one comma-separated `fields` value.
pub fn parse_fields(s: &str) -> Result<FieldSet, FieldsError> {
    FieldSet::from_list([s].into_iter().flat_map(|s| s.split(',')))
}

impl FieldSet {
    /// Parses repeated `fields` parameters (each comma-separated).
    pub fn parse_params<S: AsRef<str>>(params: &[S]) -> Result<FieldSet, FieldsError> {
        FieldSet::from_list(params.iter().flat_map(|p| p.as_ref().split(',')))
    }

    /// Builds from individual paths (e.g. the `fields` array of a POST body).
    /// Paths are trimmed; empty ones and duplicates are dropped.
    pub fn from_list<I, S>(paths: I) -> Result<FieldSet, FieldsError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut fields: Vec<String> = Vec::new();
        for p in paths {
            let p = p.as_ref().trim();
            if p.is_empty() {
                continue;
            }
            if p.contains('[') {
                return Err(FieldsError::ArrayField {
                    field: p.to_string(),
                });
            }
            if !fields.iter().any(|f| f == p) {
                fields.push(p.to_string());
            }
        }
        Ok(FieldSet { fields })
    }

    /// True when no fields were given; [`FieldSet::project`] then returns the
    /// input unchanged.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The paths, in the order given.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// Keeps only the selected paths of `input`. Paths that do not resolve
    /// are left out; an empty set returns `input` unchanged.
    pub fn project(&self, input: &Value) -> Value {
        if self.is_empty() {
            return input.clone();
        }
        let mut output = Value::Object(Map::new());
        for field in &self.fields {
            let parts: Vec<&str> = field.split('.').collect();
            let mut budget = MAX_RESOLVE_STEPS;
            let mut path: Vec<Segment> = Vec::new();
            if let Some(value) = resolve(input, &parts, &mut path, &mut budget) {
                set_path(&mut output, &path, value.clone());
            }
        }
        output
    }

    /// Projects a serialized document without building all of it: only the
    /// members a path could resolve through are parsed into values; the rest
    /// is skipped as the parser goes. Gives the same result as
    /// `project(&serde_json::from_slice(json)?)` (listings of many entities
    /// with `fields=metadata.name` are the reason).
    pub fn project_json(&self, json: &[u8]) -> serde_json::Result<Value> {
        if self.is_empty() {
            return serde_json::from_slice(json);
        }
        let paths: Vec<&str> = self.fields.iter().map(String::as_str).collect();
        let mut de = serde_json::Deserializer::from_slice(json);
        let partial = serde::de::DeserializeSeed::deserialize(Partial(&paths), &mut de)?;
        de.end()?;
        Ok(self.project(&partial))
    }

    /// Projects an entity.
    pub fn project_entity(&self, entity: &Entity) -> Value {
        self.project(&entity.to_value())
    }
}

/// Parses only what `project` can reach through the given paths (relative to
/// the value being parsed). An object member is kept when its key is a whole
/// remaining path (kept entirely) or a dotted prefix of one (parsed the same
/// way, one level down); since `resolve` only ever looks up such joined
/// prefixes, every lookup it makes finds the same value. Anything that is not
/// an object is kept whole.
struct Partial<'p>(&'p [&'p str]);

impl<'de> serde::de::DeserializeSeed<'de> for Partial<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        if self.0.iter().any(|p| p.is_empty()) {
            return serde::Deserialize::deserialize(d);
        }
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Partial<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let below: Vec<&str> = self
                .0
                .iter()
                .filter_map(|p| {
                    if *p == key {
                        Some("")
                    } else {
                        p.strip_prefix(key.as_str())
                            .and_then(|rest| rest.strip_prefix('.'))
                    }
                })
                .collect();
            if below.is_empty() {
                map.next_value::<serde::de::IgnoredAny>()?;
            } else {
                let value = map.next_value_seed(Partial(&below))?;
                out.insert(key, value);
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Value>()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// One resolved step: an object key or an array index.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn array_index(s: &str) -> Option<usize> {
    let canonical =
        s == "0" || (!s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit()));
    if canonical { s.parse().ok() } else { None }
}

/// Resolves `parts` under `current`, trying the shortest joined key first
/// (Backstage's order) and backtracking to longer ones.
fn resolve<'v>(
    current: &'v Value,
    parts: &[&str],
    path: &mut Vec<Segment>,
    budget: &mut usize,
) -> Option<&'v Value> {
    if parts.is_empty() {
        return Some(current);
    }
    let mut key = String::new();
    for i in 0..parts.len() {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        if i > 0 {
            key.push('.');
        }
        key.push_str(parts[i]);
        let (child, seg) = match current {
            Value::Object(map) => match map.get(&key) {
                Some(c) => (c, Segment::Key(key.clone())),
                None => continue,
            },
            Value::Array(items) => {
                match array_index(&key).and_then(|n| items.get(n).map(|c| (c, n))) {
                    Some((c, n)) => (c, Segment::Index(n)),
                    None => continue,
                }
            }
            _ => return None,
        };
        path.push(seg);
        if let Some(found) = resolve(child, &parts[i + 1..], path, budget) {
            return Some(found);
        }
        path.pop();
    }
    None
}

/// Writes `value` at `path` in `output`, creating containers that mirror the
/// source's (objects for keys, arrays padded with `null` for indexes).
fn set_path(output: &mut Value, path: &[Segment], value: Value) {
    let Some((last, init)) = path.split_last() else {
        *output = value;
        return;
    };
    let mut cur = output;
    for (i, seg) in init.iter().enumerate() {
        let next_is_index = matches!(path[i + 1], Segment::Index(_));
        cur = child_mut(cur, seg, next_is_index);
    }
    match last {
        Segment::Key(k) => {
            ensure_object(cur).insert(k.clone(), value);
        }
        Segment::Index(n) => {
            let arr = ensure_array(cur);
            if arr.len() <= *n {
                arr.resize(*n + 1, Value::Null);
            }
            arr[*n] = value;
        }
    }
}

fn ensure_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut().expect("just made an object")
}

fn ensure_array(v: &mut Value) -> &mut Vec<Value> {
    if !v.is_array() {
        *v = Value::Array(Vec::new());
    }
    v.as_array_mut().expect("just made an array")
}

fn child_mut<'a>(cur: &'a mut Value, seg: &Segment, next_is_index: bool) -> &'a mut Value {
    let fresh = || {
        if next_is_index {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    };
    let slot = match seg {
        Segment::Key(k) => ensure_object(cur).entry(k.clone()).or_insert_with(fresh),
        Segment::Index(n) => {
            let arr = ensure_array(cur);
            if arr.len() <= *n {
                arr.resize(*n + 1, Value::Null);
            }
            &mut arr[*n]
        }
    };
    let wrong_shape = if next_is_index {
        !slot.is_array()
    } else {
        !slot.is_object()
    };
    if wrong_shape {
        *slot = fresh();
    }
    slot
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "petstore",
                "namespace": "default",
                "annotations": {
                    "backstage.io/view-url": "https://v",
                    "backstage.io/edit-url": "https://e",
                    "backstage": "short",
                    "a.b.c": "abc"
                },
                "labels": {"x": "y"}
            },
            "spec": {
                "type": "service",
                "owner": null,
                "steps": [{"id": "s0", "action": "a"}, {"id": "s1", "action": "b"}]
            }
        })
    }

    fn project(fields: &str) -> Value {
        parse_fields(fields).unwrap().project(&entity())
    }

    #[test]
    fn keeps_selected_paths_with_nesting() {
        assert_eq!(
            project("kind,metadata.name"),
            json!({"kind": "Component", "metadata": {"name": "petstore"}})
        );
        assert_eq!(
            project(" kind , metadata.namespace ,, "),
            json!({"kind": "Component", "metadata": {"namespace": "default"}})
        );
        assert_eq!(
            project("metadata.labels,spec.type"),
            json!({"metadata": {"labels": {"x": "y"}}, "spec": {"type": "service"}})
        );
        // Whole subtree, then a sub-path of it: still the whole subtree.
        assert_eq!(
            project("metadata.labels,metadata.labels.x"),
            json!({"metadata": {"labels": {"x": "y"}}})
        );
    }

    #[test]
    fn dotted_keys_resolve() {
        assert_eq!(
            project("metadata.annotations.backstage.io/edit-url"),
            json!({"metadata": {"annotations": {"backstage.io/edit-url": "https://e"}}})
        );
        // A shorter key ("backstage") exists but leads nowhere: backtrack.
        assert_eq!(
            project("metadata.annotations.backstage.io/view-url"),
            json!({"metadata": {"annotations": {"backstage.io/view-url": "https://v"}}})
        );
        assert_eq!(
            project("metadata.annotations.a.b.c"),
            json!({"metadata": {"annotations": {"a.b.c": "abc"}}})
        );
        assert_eq!(
            project("metadata.annotations.backstage"),
            json!({"metadata": {"annotations": {"backstage": "short"}}})
        );
    }

    #[test]
    fn projecting_serialized_json_matches_projecting_the_value() {
        let docs = [
            entity(),
            json!({"a": {"b": 1}, "a.b": 2, "a.b.c": [1, {"d": true}], "n": null, "f": 1.5}),
            json!([1, 2, 3]),
            json!("text"),
        ];
        let field_sets = [
            "kind,metadata.name",
            "metadata",
            "metadata.annotations.backstage.io/view-url",
            "metadata.annotations.backstage,metadata.annotations.a.b.c",
            "metadata.labels,metadata.labels.x,metadata.nothing",
            "spec.steps.1.id,spec.steps.0,spec.owner",
            "a.b,a.b.c.1.d,n,f",
            "0,x",
            "",
        ];
        for doc in &docs {
            let bytes = serde_json::to_vec(doc).unwrap();
            for fields in field_sets {
                let set = parse_fields(fields).unwrap();
                assert_eq!(
                    set.project_json(&bytes).unwrap(),
                    set.project(doc),
                    "fields `{fields}` of {doc}"
                );
            }
        }
        let set = parse_fields("kind").unwrap();
        assert!(set.project_json(b"{\"kind\": ").is_err(), "truncated JSON");
        assert!(set.project_json(b"{} trailing").is_err());
    }

    #[test]
    fn shortest_key_wins_when_both_resolve() {
        let doc = json!({"a": {"b": 1}, "a.b": 2});
        assert_eq!(
            parse_fields("a.b").unwrap().project(&doc),
            json!({"a": {"b": 1}})
        );
    }

    #[test]
    fn missing_paths_are_dropped_nulls_kept() {
        assert_eq!(project("metadata.title,spec.system.x"), json!({}));
        assert_eq!(project("spec.owner"), json!({"spec": {"owner": null}}));
        assert_eq!(project("kind.x"), json!({}));
    }

    #[test]
    fn array_indexes() {
        assert_eq!(
            project("spec.steps.1.id"),
            json!({"spec": {"steps": [null, {"id": "s1"}]}})
        );
        assert_eq!(project("spec.steps.01.id"), json!({}));
        assert_eq!(project("spec.steps.5"), json!({}));
    }

    #[test]
    fn rejects_array_syntax() {
        let e = parse_fields("kind,spec.steps[0]").unwrap_err();
        assert_eq!(
            e,
            FieldsError::ArrayField {
                field: "spec.steps[0]".into()
            }
        );
        assert!(
            e.to_string()
                .contains("array type fields are not supported")
        );
    }

    #[test]
    fn empty_is_identity_and_params_combine() {
        let empty = parse_fields(" , ").unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.project(&entity()), entity());
        let set = FieldSet::parse_params(&["kind", "metadata.name,kind"]).unwrap();
        assert_eq!(
            set.fields(),
            &["kind".to_string(), "metadata.name".to_string()]
        );
        let e: Entity = serde_json::from_value(entity()).unwrap();
        assert_eq!(
            set.project_entity(&e),
            json!({"kind": "Component", "metadata": {"name": "petstore"}})
        );
    }

    #[test]
    fn backtracking_is_bounded() {
        // Many single-letter keys nested deeply, then a path that never resolves.
        let mut doc = json!("leaf");
        for _ in 0..16 {
            let mut m = Map::new();
            m.insert("a".into(), doc.clone());
            m.insert("a.a".into(), doc);
            doc = Value::Object(m);
        }
        let path = vec!["a"; 24].join(".") + ".zzz";
        let set = parse_fields(&path).unwrap();
        assert_eq!(set.project(&doc), json!({}));
    }
}
