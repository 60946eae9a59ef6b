//! The filter predicate language of the POST query endpoints (`query` field),
//! evaluated the way Backstage's catalog backend evaluates it against its
//! flattened search index.
//!
//! ```json
//! { "$all": [
//!     { "kind": "Component", "spec.type": { "$in": ["service", "website"] } },
//!     { "$not": { "metadata.annotations.backstage.io/orphan": { "$exists": true } } },
//!     { "relations": { "$contains": { "type": "ownedBy", "targetRef": "group:default/team-a" } } }
//! ] }
//! ```
//!
//! - An object's keys are entity paths (matched case-insensitively against
//!   [`FlatEntity`] keys); all of them must match. `{}` matches everything.
//! - A value is a primitive (case-insensitive equality; numbers and booleans
//!   compare as their JavaScript string form) or one operator object:
//!   `$exists: bool`, `$in: [primitives]`, `$hasPrefix: "str"`,
//!   `$contains: primitive` (an array item equals it) or, on `relations`
//!   only, `$contains: {type, targetRef?}` where `targetRef` is a string or
//!   `{ "$in": [strings] }`.
//! - `$all: [..]`, `$any: [..]` (empty `$any` matches nothing) and
//!   `$not: {..}` combine predicates; they must be alone in their object.
//!
//! Stricter than Backstage in two places, to surface mistakes instead of
//! silently ignoring input: a combinator mixed with other keys, and an
//! operator object with more than one operator, are errors.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::entity::Entity;
use crate::error::PredicateError;
use crate::flatten::FlatEntity;
use crate::jsutil::{describe_value, js_lower, js_primitive_string, json_for_message};

/// Deepest nesting of combinators the parser accepts.
pub const MAX_PREDICATE_DEPTH: usize = 64;

/// A primitive operand: a string, number or boolean, with its lowercased
/// JavaScript string form used for matching.
#[derive(Debug, Clone, PartialEq)]
pub struct Primitive {
    value: Value,
    normalized: String,
}

impl Primitive {
    /// Wraps a JSON string, number or boolean; `None` for other values.
    pub fn new(value: Value) -> Option<Primitive> {
        let normalized = js_lower(&js_primitive_string(&value)?);
        Some(Primitive { value, normalized })
    }

    /// A string operand.
    pub fn string(s: impl Into<String>) -> Primitive {
        let s = s.into();
        Primitive {
            normalized: js_lower(&s),
            value: Value::String(s),
        }
    }

    /// The operand as written.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The lowercased string form that is compared with index values.
    pub fn normalized(&self) -> &str {
        &self.normalized
    }
}

/// What `$contains` looks for.
#[derive(Debug, Clone, PartialEq)]
pub enum ContainsTarget {
    /// An array item equal to this primitive.
    Primitive(Primitive),
    /// A relation of this type (lowercased), optionally to one of these
    /// target refs (lowercased). Only valid on the `relations` field.
    Relation {
        /// Relation type, lowercased, e.g. `ownedby`.
        type_: String,
        /// Accepted target refs, lowercased; `None` means any target.
        target_refs: Option<Vec<String>>,
    },
}

/// How a field's values are matched.
#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    /// Some value equals the primitive (case-insensitive).
    Eq(Primitive),
    /// The key is indexed (`true`) or not (`false`).
    Exists(bool),
    /// Some value equals one of the primitives; an empty list matches nothing.
    In(Vec<Primitive>),
    /// Some value starts with the prefix (case-insensitive).
    HasPrefix(String),
    /// Array containment, see [`ContainsTarget`].
    Contains(ContainsTarget),
}

/// One `path: matcher` entry of a field expression.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCondition {
    /// Lowercased dotted entity path, e.g. `spec.type`.
    pub key: String,
    /// The matcher applied to the values at that path.
    pub matcher: Matcher,
}

/// A parsed filter predicate.
#[derive(Debug, Clone, PartialEq)]
pub enum Predicate {
    /// All must match (empty matches everything).
    All(Vec<Predicate>),
    /// At least one must match (empty matches nothing).
    Any(Vec<Predicate>),
    /// Must not match.
    Not(Box<Predicate>),
    /// A field expression: every condition must match (empty matches everything).
    Fields(Vec<FieldCondition>),
}

impl Predicate {
    /// Parses a predicate from its JSON form.
    pub fn parse(value: &Value) -> Result<Predicate, PredicateError> {
        parse_predicate(value, "query", 0)
    }

    /// A predicate that matches every entity.
    pub fn match_all() -> Predicate {
        Predicate::Fields(Vec::new())
    }

    /// A single-field expression.
    pub fn field(key: &str, matcher: Matcher) -> Predicate {
        Predicate::Fields(vec![FieldCondition {
            key: js_lower(key),
            matcher,
        }])
    }

    /// Evaluates against a flattened entity.
    pub fn matches(&self, flat: &FlatEntity) -> bool {
        match self {
            Predicate::All(items) => items.iter().all(|p| p.matches(flat)),
            Predicate::Any(items) => items.iter().any(|p| p.matches(flat)),
            Predicate::Not(inner) => !inner.matches(flat),
            Predicate::Fields(conds) => conds.iter().all(|c| c.matches(flat)),
        }
    }

    /// Evaluates against an entity (flattens it first; prefer [`Predicate::matches`]
    /// when the flattened form is at hand).
    pub fn matches_entity(&self, entity: &Entity) -> bool {
        self.matches(&FlatEntity::from_entity(entity))
    }

    /// The JSON form (keys lowercased), accepted again by [`Predicate::parse`].
    pub fn to_value(&self) -> Value {
        match self {
            Predicate::All(items) => json_op(
                "$all",
                Value::Array(items.iter().map(Predicate::to_value).collect()),
            ),
            Predicate::Any(items) => json_op(
                "$any",
                Value::Array(items.iter().map(Predicate::to_value).collect()),
            ),
            Predicate::Not(inner) => json_op("$not", inner.to_value()),
            Predicate::Fields(conds) => {
                let mut map = Map::new();
                let mut unique = true;
                for c in conds {
                    if map.insert(c.key.clone(), c.matcher.to_value()).is_some() {
                        unique = false;
                    }
                }
                if unique {
                    Value::Object(map)
                } else {
                    // Two conditions on the same key cannot share one object.
                    let items = conds
                        .iter()
                        .map(|c| {
                            let mut m = Map::new();
                            m.insert(c.key.clone(), c.matcher.to_value());
                            Value::Object(m)
                        })
                        .collect();
                    json_op("$all", Value::Array(items))
                }
            }
        }
    }
}

impl FieldCondition {
    /// Evaluates the condition against a flattened entity.
    pub fn matches(&self, flat: &FlatEntity) -> bool {
        match &self.matcher {
            Matcher::Eq(p) | Matcher::Contains(ContainsTarget::Primitive(p)) => {
                flat.has_value(&self.key, p.normalized())
            }
            Matcher::Exists(want) => flat.has_key(&self.key) == *want,
            Matcher::In(ps) => flat
                .values(&self.key)
                .any(|v| ps.iter().any(|p| p.normalized() == v)),
            Matcher::HasPrefix(prefix) => {
                let prefix = js_lower(prefix);
                flat.values(&self.key).any(|v| v.starts_with(&prefix))
            }
            Matcher::Contains(ContainsTarget::Relation { type_, target_refs }) => {
                let key = format!("relations.{type_}");
                match target_refs {
                    None => flat.has_key(&key),
                    Some(refs) => flat.values(&key).any(|v| refs.iter().any(|r| r == v)),
                }
            }
        }
    }
}

impl Matcher {
    /// The JSON form of the matcher.
    pub fn to_value(&self) -> Value {
        match self {
            Matcher::Eq(p) => p.value().clone(),
            Matcher::Exists(b) => json_op("$exists", Value::Bool(*b)),
            Matcher::In(ps) => json_op(
                "$in",
                Value::Array(ps.iter().map(|p| p.value().clone()).collect()),
            ),
            Matcher::HasPrefix(s) => json_op("$hasPrefix", Value::String(s.clone())),
            Matcher::Contains(ContainsTarget::Primitive(p)) => {
                json_op("$contains", p.value().clone())
            }
            Matcher::Contains(ContainsTarget::Relation { type_, target_refs }) => {
                let mut m = Map::new();
                m.insert("type".into(), Value::String(type_.clone()));
                match target_refs {
                    Some(refs) if refs.len() == 1 => {
                        m.insert("targetRef".into(), Value::String(refs[0].clone()));
                    }
                    Some(refs) => {
                        m.insert(
                            "targetRef".into(),
                            json_op(
                                "$in",
                                Value::Array(refs.iter().cloned().map(Value::String).collect()),
                            ),
                        );
                    }
                    None => {}
                }
                json_op("$contains", Value::Object(m))
            }
        }
    }
}

fn json_op(op: &str, value: Value) -> Value {
    let mut m = Map::new();
    m.insert(op.to_string(), value);
    Value::Object(m)
}

impl Serialize for Predicate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Predicate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        Predicate::parse(&v).map_err(serde::de::Error::custom)
    }
}

const COMBINATORS: &[&str] = &["$all", "$any", "$not"];

fn parse_predicate(value: &Value, at: &str, depth: usize) -> Result<Predicate, PredicateError> {
    if depth > MAX_PREDICATE_DEPTH {
        return Err(PredicateError::TooDeep {
            max: MAX_PREDICATE_DEPTH,
        });
    }
    let map = match value {
        Value::Object(map) => map,
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            return Err(PredicateError::TopLevelPrimitive {
                value: json_for_message(value),
            });
        }
        other => {
            return Err(PredicateError::NotAnObject {
                at: at.to_string(),
                found: describe_value(other),
            });
        }
    };
    if let Some(op) = COMBINATORS.iter().find(|op| map.contains_key(**op)) {
        if map.len() > 1 {
            let others: Vec<&str> = map.keys().map(String::as_str).filter(|k| k != op).collect();
            return Err(PredicateError::MixedCombinator {
                at: at.to_string(),
                operator: op.to_string(),
                others: others.join(", "),
            });
        }
        let inner = &map[*op];
        return match *op {
            "$not" => Ok(Predicate::Not(Box::new(parse_predicate(
                inner,
                &format!("{at}.$not"),
                depth + 1,
            )?))),
            op => {
                let operator = if op == "$all" { "$all" } else { "$any" };
                let Some(items) = inner.as_array() else {
                    return Err(PredicateError::CombinatorNotArray {
                        at: at.to_string(),
                        operator,
                        found: describe_value(inner),
                    });
                };
                let parsed = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| parse_predicate(item, &format!("{at}.{op}[{i}]"), depth + 1))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(if operator == "$all" {
                    Predicate::All(parsed)
                } else {
                    Predicate::Any(parsed)
                })
            }
        };
    }
    let mut conds = Vec::with_capacity(map.len());
    for (key, v) in map {
        if key.starts_with('$') {
            return Err(PredicateError::UnknownOperator {
                at: at.to_string(),
                operator: key.clone(),
            });
        }
        let key = js_lower(key);
        let matcher = parse_matcher(&key, v)?;
        conds.push(FieldCondition { key, matcher });
    }
    Ok(Predicate::Fields(conds))
}

fn parse_matcher(key: &str, value: &Value) -> Result<Matcher, PredicateError> {
    if let Some(p) = Primitive::new(value.clone()) {
        return Ok(Matcher::Eq(p));
    }
    let invalid = || PredicateError::InvalidFieldValue {
        field: key.to_string(),
        value: json_for_message(value),
    };
    let Value::Object(map) = value else {
        return Err(invalid());
    };
    if map.len() != 1 {
        return Err(invalid());
    }
    let (op, arg) = map.iter().next().expect("one entry");
    let operand = |operator: &'static str, expected: &'static str| PredicateError::InvalidOperand {
        field: key.to_string(),
        operator,
        expected,
        value: json_for_message(arg),
    };
    match op.as_str() {
        "$exists" => match arg {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err(operand("$exists", "a boolean")),
        },
        "$in" => {
            let Some(items) = arg.as_array() else {
                return Err(operand("$in", "an array of strings, numbers or booleans"));
            };
            items
                .iter()
                .map(|item| Primitive::new(item.clone()))
                .collect::<Option<Vec<_>>>()
                .map(Matcher::In)
                .ok_or_else(|| operand("$in", "an array of strings, numbers or booleans"))
        }
        "$hasPrefix" => match arg {
            Value::String(s) => Ok(Matcher::HasPrefix(s.clone())),
            _ => Err(operand("$hasPrefix", "a string")),
        },
        "$contains" => parse_contains(key, arg).map(Matcher::Contains),
        other if other.starts_with('$') => Err(PredicateError::UnknownMatcher {
            field: key.to_string(),
            operator: other.to_string(),
        }),
        _ => Err(invalid()),
    }
}

fn parse_contains(key: &str, target: &Value) -> Result<ContainsTarget, PredicateError> {
    if let Some(p) = Primitive::new(target.clone()) {
        return Ok(ContainsTarget::Primitive(p));
    }
    let Value::Object(obj) = target else {
        return Err(PredicateError::ContainsUnsupportedTarget {
            field: key.to_string(),
            value: json_for_message(target),
        });
    };
    if key != "relations" {
        return Err(PredicateError::ContainsObjectUnsupported {
            field: key.to_string(),
        });
    }
    let bad = |reason: String| PredicateError::InvalidRelationContains { reason };
    let mut type_: Option<String> = None;
    let mut target_refs: Option<Vec<String>> = None;
    for (raw_key, value) in obj {
        match js_lower(raw_key).as_str() {
            "type" => {
                if type_.is_some() {
                    return Err(bad(format!("duplicate key \"{raw_key}\"")));
                }
                match value {
                    Value::String(s) if !s.is_empty() => type_ = Some(js_lower(s)),
                    _ => return Err(bad("it requires a \"type\" string property".to_string())),
                }
            }
            "targetref" => {
                if target_refs.is_some() {
                    return Err(bad(format!("duplicate key \"{raw_key}\"")));
                }
                target_refs = Some(parse_target_refs(value).map_err(bad)?);
            }
            _ => {
                return Err(bad(format!(
                    "unsupported key \"{raw_key}\"; only \"type\" and \"targetRef\" are supported"
                )));
            }
        }
    }
    let Some(type_) = type_ else {
        return Err(bad("it requires a \"type\" string property".to_string()));
    };
    Ok(ContainsTarget::Relation { type_, target_refs })
}

fn parse_target_refs(value: &Value) -> Result<Vec<String>, String> {
    let expected = || {
        format!(
            "expected \"targetRef\" to be a string or {{ \"$in\": [strings] }}, but got {}",
            json_for_message(value)
        )
    };
    match value {
        Value::String(s) => Ok(vec![js_lower(s)]),
        Value::Object(m) if m.len() == 1 => {
            let Some(Value::Array(items)) = m.get("$in") else {
                return Err(expected());
            };
            if items.is_empty() {
                return Err("an empty \"$in\" array for \"targetRef\" is not allowed".to_string());
            }
            items
                .iter()
                .map(|v| v.as_str().map(js_lower))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(expected)
        }
        _ => Err(expected()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn flat() -> FlatEntity {
        FlatEntity::from_value(&json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "Petstore",
                "tags": ["java", "web"],
                "annotations": {"github.com/project-slug": "Org/Petstore"}
            },
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a", "replicas": 3, "public": true},
            "relations": [
                {"type": "ownedBy", "targetRef": "group:default/team-a"},
                {"type": "dependsOn", "targetRef": "resource:default/db"}
            ]
        }))
    }

    fn check(q: Value, want: bool) {
        let p = Predicate::parse(&q).unwrap_or_else(|e| panic!("{q}: {e}"));
        assert_eq!(p.matches(&flat()), want, "query {q}");
        // The JSON form parses back to an equivalent predicate.
        let again = Predicate::parse(&p.to_value()).unwrap();
        assert_eq!(
            again.matches(&flat()),
            want,
            "round trip of {q} -> {}",
            p.to_value()
        );
    }

    #[test]
    fn primitive_equality_is_case_insensitive_and_stringifies() {
        check(json!({"kind": "component"}), true);
        check(json!({"KIND": "COMPONENT"}), true);
        check(json!({"kind": "API"}), false);
        check(json!({"spec.replicas": 3}), true);
        check(json!({"spec.replicas": "3"}), true);
        check(json!({"spec.replicas": 4}), false);
        check(json!({"spec.public": true}), true);
        check(json!({"spec.public": "TRUE"}), true);
        check(json!({"spec.public": false}), false);
        check(
            json!({"metadata.name": "petstore", "spec.type": "service"}),
            true,
        );
        check(
            json!({"metadata.name": "petstore", "spec.type": "website"}),
            false,
        );
        check(json!({}), true);
    }

    #[test]
    fn exists() {
        check(json!({"spec.owner": {"$exists": true}}), true);
        check(json!({"spec.system": {"$exists": true}}), false);
        check(json!({"spec.system": {"$exists": false}}), true);
        check(json!({"spec.owner": {"$exists": false}}), false);
        check(json!({"metadata.tags.java": {"$exists": true}}), true);
        check(
            json!({"metadata.annotations.github.com/project-slug": {"$exists": true}}),
            true,
        );
    }

    #[test]
    fn in_operator() {
        check(json!({"spec.type": {"$in": ["website", "SERVICE"]}}), true);
        check(json!({"spec.type": {"$in": ["website", "library"]}}), false);
        check(json!({"spec.type": {"$in": []}}), false);
        check(json!({"spec.replicas": {"$in": [1, 3]}}), true);
        check(json!({"metadata.tags": {"$in": ["go", "web"]}}), true);
    }

    #[test]
    fn has_prefix() {
        check(
            json!({"metadata.annotations.github.com/project-slug": {"$hasPrefix": "ORG/"}}),
            true,
        );
        check(
            json!({"metadata.annotations.github.com/project-slug": {"$hasPrefix": "other/"}}),
            false,
        );
        check(json!({"metadata.name": {"$hasPrefix": ""}}), true);
        check(json!({"spec.system": {"$hasPrefix": ""}}), false);
    }

    #[test]
    fn contains() {
        check(json!({"metadata.tags": {"$contains": "JAVA"}}), true);
        check(json!({"metadata.tags": {"$contains": "go"}}), false);
        check(
            json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "Group:default/Team-A"}}}),
            true,
        );
        check(
            json!({"relations": {"$contains": {"type": "ownedBy", "targetRef": "group:default/team-b"}}}),
            false,
        );
        check(
            json!({"relations": {"$contains": {"type": "OWNEDBY"}}}),
            true,
        );
        check(
            json!({"relations": {"$contains": {"type": "partOf"}}}),
            false,
        );
        check(
            json!({"relations": {"$contains": {"type": "dependsOn", "targetRef": {"$in": ["x:default/y", "resource:default/db"]}}}}),
            true,
        );
        check(json!({"relations.ownedby": "group:default/team-a"}), true);
    }

    #[test]
    fn combinators() {
        check(
            json!({"$all": [{"kind": "component"}, {"spec.type": "service"}]}),
            true,
        );
        check(
            json!({"$all": [{"kind": "component"}, {"spec.type": "website"}]}),
            false,
        );
        check(json!({"$all": []}), true);
        check(
            json!({"$any": [{"kind": "api"}, {"spec.type": "service"}]}),
            true,
        );
        check(
            json!({"$any": [{"kind": "api"}, {"spec.type": "website"}]}),
            false,
        );
        check(json!({"$any": []}), false);
        check(json!({"$not": {"kind": "api"}}), true);
        check(json!({"$not": {"kind": "component"}}), false);
        check(
            json!({"$not": {"$any": [{"kind": "api"}, {"$not": {"spec.type": "service"}}]}}),
            true,
        );
    }

    fn err(q: Value) -> PredicateError {
        Predicate::parse(&q).expect_err(&format!("{q} should fail"))
    }

    #[test]
    fn errors() {
        assert!(matches!(
            err(json!("component")),
            PredicateError::TopLevelPrimitive { .. }
        ));
        assert!(matches!(
            err(json!(3)),
            PredicateError::TopLevelPrimitive { .. }
        ));
        assert!(
            err(json!("x"))
                .to_string()
                .contains("top-level primitive values are not supported")
        );
        assert!(matches!(
            err(json!(null)),
            PredicateError::NotAnObject { .. }
        ));
        assert!(matches!(
            err(json!([{"kind": "x"}])),
            PredicateError::NotAnObject { .. }
        ));
        assert!(matches!(
            err(json!({"$all": [1]})),
            PredicateError::TopLevelPrimitive { .. }
        ));
        assert!(matches!(
            err(json!({"$any": {"kind": "x"}})),
            PredicateError::CombinatorNotArray { .. }
        ));
        assert!(matches!(
            err(json!({"$all": "x"})),
            PredicateError::CombinatorNotArray { .. }
        ));
        assert!(matches!(
            err(json!({"$not": [{"kind": "x"}]})),
            PredicateError::NotAnObject { .. }
        ));
        assert!(matches!(
            err(json!({"$not": "x"})),
            PredicateError::TopLevelPrimitive { .. }
        ));
        assert!(matches!(
            err(json!({"$all": [], "kind": "x"})),
            PredicateError::MixedCombinator { .. }
        ));
        assert!(matches!(
            err(json!({"$or": []})),
            PredicateError::UnknownOperator { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$regex": "x"}})),
            PredicateError::UnknownMatcher { .. }
        ));
        assert!(matches!(
            err(json!({"kind": null})),
            PredicateError::InvalidFieldValue { .. }
        ));
        assert!(matches!(
            err(json!({"kind": ["a"]})),
            PredicateError::InvalidFieldValue { .. }
        ));
        assert!(matches!(
            err(json!({"metadata": {"name": "x"}})),
            PredicateError::InvalidFieldValue { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {}})),
            PredicateError::InvalidFieldValue { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$in": ["a"], "$exists": true}})),
            PredicateError::InvalidFieldValue { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$exists": "yes"}})),
            PredicateError::InvalidOperand { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$in": "a"}})),
            PredicateError::InvalidOperand { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$in": [["a"]]}})),
            PredicateError::InvalidOperand { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$in": [null]}})),
            PredicateError::InvalidOperand { .. }
        ));
        assert!(matches!(
            err(json!({"kind": {"$hasPrefix": 1}})),
            PredicateError::InvalidOperand { .. }
        ));
        assert!(matches!(
            err(json!({"spec.x": {"$contains": {"a": 1}}})),
            PredicateError::ContainsObjectUnsupported { .. }
        ));
        assert!(matches!(
            err(json!({"spec.x": {"$contains": null}})),
            PredicateError::ContainsUnsupportedTarget { .. }
        ));
        assert!(matches!(
            err(json!({"spec.x": {"$contains": [1]}})),
            PredicateError::ContainsUnsupportedTarget { .. }
        ));
        for bad in [
            json!({"targetRef": "x"}),
            json!({"type": 1}),
            json!({"type": "ownedBy", "other": 1}),
            json!({"type": "ownedBy", "targetRef": 1}),
            json!({"type": "ownedBy", "targetRef": {"$in": []}}),
            json!({"type": "ownedBy", "targetRef": {"$in": [1]}}),
            json!({"type": "ownedBy", "Type": "x"}),
        ] {
            let e = err(json!({"relations": {"$contains": bad}}));
            assert!(
                matches!(e, PredicateError::InvalidRelationContains { .. }),
                "{bad}: {e:?}"
            );
        }
        // Error messages name the field and value.
        let e = err(json!({"Spec.Type": {"$in": "service"}}));
        assert!(
            e.to_string().contains("spec.type") && e.to_string().contains("service"),
            "{e}"
        );
    }

    #[test]
    fn depth_limit() {
        let mut q = json!({"kind": "x"});
        for _ in 0..(MAX_PREDICATE_DEPTH + 5) {
            q = json!({"$not": q});
        }
        assert!(matches!(err(q), PredicateError::TooDeep { .. }));
        let mut ok = json!({"kind": "component"});
        for _ in 0..10 {
            ok = json!({"$not": {"$not": ok}});
        }
        assert!(Predicate::parse(&ok).unwrap().matches(&flat()));
    }

    #[test]
    fn serde_and_builders() {
        let p: Predicate = serde_json::from_value(json!({"kind": {"$in": ["API", 3]}})).unwrap();
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!({"kind": {"$in": ["API", 3]}})
        );
        assert!(serde_json::from_value::<Predicate>(json!("x")).is_err());
        let built = Predicate::field("Spec.Type", Matcher::Eq(Primitive::string("Service")));
        assert!(built.matches(&flat()));
        assert!(Predicate::match_all().matches(&flat()));
        let e: Entity = serde_json::from_value(json!({
            "apiVersion": "v1", "kind": "Thing", "metadata": {"name": "n"}
        }))
        .unwrap();
        assert!(
            Predicate::parse(&json!({"kind": "thing"}))
                .unwrap()
                .matches_entity(&e)
        );
        // Duplicate keys after lowercasing still serialize to an equivalent form.
        let dup = Predicate::Fields(vec![
            FieldCondition {
                key: "kind".into(),
                matcher: Matcher::Eq(Primitive::string("component")),
            },
            FieldCondition {
                key: "kind".into(),
                matcher: Matcher::Exists(true),
            },
        ]);
        let v = dup.to_value();
        assert!(v.get("$all").is_some(), "{v}");
        assert!(Predicate::parse(&v).unwrap().matches(&flat()));
    }
}
