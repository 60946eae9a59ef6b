//! The `filter=` query parameter of `GET /entities` and friends.
//!
//! - Separate `filter` parameters are ORed.
//! - Inside one parameter, comma-separated statements are ANDed.
//! - A statement is `key` (the key exists), or `key=value` (`key=` matches
//!   an empty value). Keys and values are trimmed; the value is everything
//!   after the first `=`.
//! - The same key (exact spelling) twice in one parameter means "any of these
//!   values".
//! - Matching is case-insensitive against the flattened index
//!   ([`FlatEntity`]), so `metadata.tags.java`, `relations.ownedby=...` and
//!   the implicit `metadata.namespace=default` all work.

use crate::entity::Entity;
use crate::error::FilterError;
use crate::flatten::FlatEntity;
use crate::jsutil::js_lower;
use crate::predicate::{FieldCondition, Matcher, Predicate, Primitive};
use std::collections::HashMap;

/// One key condition inside a filter parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterCondition {
    key: String,
    values: Option<Vec<String>>,
    key_lower: String,
    values_lower: Vec<String>,
}

impl FilterCondition {
    /// A condition that the key exists.
    pub fn exists(key: impl Into<String>) -> Self {
        let key = key.into();
        FilterCondition {
            key_lower: js_lower(&key),
            key,
            values: None,
            values_lower: Vec::new(),
        }
    }

    /// A condition that the key has one of the values.
    pub fn one_of(key: impl Into<String>, values: Vec<String>) -> Self {
        let key = key.into();
        FilterCondition {
            key_lower: js_lower(&key),
            values_lower: values.iter().map(|v| js_lower(v)).collect(),
            key,
            values: Some(values),
        }
    }

    fn add_value(&mut self, value: String) {
        self.values_lower.push(js_lower(&value));
        self.values.get_or_insert_with(Vec::new).push(value);
    }

    /// The key as written (trimmed).
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Accepted values as written (trimmed); `None` means "the key exists".
    pub fn values(&self) -> Option<&[String]> {
        self.values.as_deref()
    }

    /// The lowercased key used for matching.
    pub fn key_lower(&self) -> &str {
        &self.key_lower
    }

    /// The lowercased values used for matching (empty for existence checks).
    pub fn values_lower(&self) -> &[String] {
        &self.values_lower
    }

    /// Evaluates the condition against a flattened entity.
    pub fn matches(&self, flat: &FlatEntity) -> bool {
        match self.values {
            None => flat.has_key(&self.key_lower),
            Some(_) => flat
                .values(&self.key_lower)
                .any(|v| self.values_lower.iter().any(|want| want == v)),
        }
    }

    /// The equivalent predicate expression: `{key: {$exists: true}}`,
    /// `{key: value}` or `{key: {$in: [values]}}`.
    pub fn to_predicate(&self) -> Predicate {
        let matcher = match &self.values {
            None => Matcher::Exists(true),
            Some(vs) if vs.len() == 1 => Matcher::Eq(Primitive::string(vs[0].clone())),
            Some(vs) => Matcher::In(vs.iter().cloned().map(Primitive::string).collect()),
        };
        Predicate::Fields(vec![FieldCondition {
            key: self.key_lower.clone(),
            matcher,
        }])
    }
}

/// The conditions of one `filter` parameter; all must match.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FilterConjunction {
    /// The conditions, one per distinct key, in order of first appearance.
    pub all_of: Vec<FilterCondition>,
}

impl FilterConjunction {
    /// Parses one filter parameter; `Ok(None)` when it holds no statements.
    ///
    /// Linear in the length of `filter`: each key is looked up in a map of the
    /// keys seen so far (filters can come from plugins, so no statement may cost
    /// more than its own length).
    pub fn parse(filter: &str) -> Result<Option<FilterConjunction>, FilterError> {
        let mut all_of: Vec<FilterCondition> = Vec::new();
        let mut index_of: HashMap<&str, usize> = HashMap::new();
        for statement in filter.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = match statement.find('=') {
                None => (statement, None),
                Some(i) => (statement[..i].trim(), Some(statement[i + 1..].trim())),
            };
            if key.is_empty() {
                return Err(FilterError::InvalidStatement {
                    statement: statement.to_string(),
                });
            }
            let idx = *index_of.entry(key).or_insert_with(|| {
                all_of.push(FilterCondition::exists(key));
                all_of.len() - 1
            });
            if let Some(v) = value {
                all_of[idx].add_value(v.to_string());
            }
        }
        Ok(if all_of.is_empty() {
            None
        } else {
            Some(FilterConjunction { all_of })
        })
    }

    /// Evaluates against a flattened entity.
    pub fn matches(&self, flat: &FlatEntity) -> bool {
        self.all_of.iter().all(|c| c.matches(flat))
    }

    /// `{$all: [...]}` of the conditions.
    pub fn to_predicate(&self) -> Predicate {
        Predicate::All(
            self.all_of
                .iter()
                .map(FilterCondition::to_predicate)
                .collect(),
        )
    }
}

/// A parsed set of `filter` parameters; any conjunction must match. An empty
/// filter (no parameters, or only empty ones) matches every entity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EntityFilter {
    /// One entry per non-empty `filter` parameter.
    pub any_of: Vec<FilterConjunction>,
}

impl EntityFilter {
    /// Parses the repeated `filter` query parameters.
    pub fn parse<S: AsRef<str>>(filters: &[S]) -> Result<EntityFilter, FilterError> {
        let mut any_of = Vec::new();
        for f in filters {
            if let Some(c) = FilterConjunction::parse(f.as_ref())? {
                any_of.push(c);
            }
        }
        Ok(EntityFilter { any_of })
    }

    /// True when the filter places no constraint.
    pub fn is_empty(&self) -> bool {
        self.any_of.is_empty()
    }

    /// Evaluates against a flattened entity.
    pub fn matches(&self, flat: &FlatEntity) -> bool {
        self.is_empty() || self.any_of.iter().any(|c| c.matches(flat))
    }

    /// Evaluates against an entity (flattens it first; prefer
    /// [`EntityFilter::matches`] when the flattened form is at hand).
    pub fn matches_entity(&self, entity: &Entity) -> bool {
        self.is_empty() || self.matches(&FlatEntity::from_entity(entity))
    }

    /// The equivalent predicate, `{$any: [{$all: [...]}, ...]}` as the
    /// catalog client builds it. An empty filter gives the match-all
    /// predicate `{}` (a `$any` of nothing would match nothing).
    pub fn to_predicate(&self) -> Predicate {
        if self.is_empty() {
            Predicate::match_all()
        } else {
            Predicate::Any(
                self.any_of
                    .iter()
                    .map(FilterConjunction::to_predicate)
                    .collect(),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entity_a() -> FlatEntity {
        FlatEntity::from_value(&json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "petstore", "tags": ["java", "Web"], "annotations": {"backstage.io/techdocs-ref": "dir:."}},
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}]
        }))
    }

    fn entity_b() -> FlatEntity {
        FlatEntity::from_value(&json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "pets-api", "namespace": "shop"},
            "spec": {"type": "openapi", "lifecycle": "experimental", "owner": "team-b", "definition": "x"},
            "relations": [{"type": "ownedBy", "targetRef": "group:shop/team-b"}]
        }))
    }

    fn run(filters: &[&str]) -> (bool, bool) {
        let f = EntityFilter::parse(filters).unwrap_or_else(|e| panic!("{filters:?}: {e}"));
        let result = (f.matches(&entity_a()), f.matches(&entity_b()));
        // The predicate form agrees with the direct evaluation.
        let p = f.to_predicate();
        assert_eq!(
            (p.matches(&entity_a()), p.matches(&entity_b())),
            result,
            "predicate form of {filters:?}: {}",
            p.to_value()
        );
        result
    }

    #[test]
    fn semantics() {
        let cases: &[(&[&str], (bool, bool))] = &[
            (&[], (true, true)),
            (&[""], (true, true)),
            (&[" , ,"], (true, true)),
            (&["kind=component"], (true, false)),
            (&["KIND=COMPONENT"], (true, false)),
            (&["kind=Component,spec.type=service"], (true, false)),
            (&["kind=Component,spec.type=website"], (false, false)),
            // Separate parameters are ORed.
            (&["kind=component", "kind=api"], (true, true)),
            (
                &["kind=component,spec.type=website", "kind=api"],
                (false, true),
            ),
            // Same key twice in one parameter is "any of".
            (&["kind=component,kind=api"], (true, true)),
            (
                &["kind=component,kind=api,spec.lifecycle=experimental"],
                (false, true),
            ),
            // Key-only statements test existence.
            (&["spec.definition"], (false, true)),
            (
                &["metadata.annotations.backstage.io/techdocs-ref"],
                (true, false),
            ),
            (&["metadata.uid"], (true, true)),
            // Tags as keys, case-insensitive.
            (&["metadata.tags.java"], (true, false)),
            (&["metadata.tags.web"], (true, false)),
            (&["metadata.tags=WEB"], (true, false)),
            (&["metadata.tags.java,metadata.tags.web"], (true, false)),
            (&["metadata.tags.go"], (false, false)),
            // Relations.
            (&["relations.ownedBy=group:default/team-a"], (true, false)),
            (&["relations.ownedby=GROUP:SHOP/TEAM-B"], (false, true)),
            // Implicit namespace.
            (&["metadata.namespace=default"], (true, false)),
            (&["metadata.namespace=shop"], (false, true)),
            // Trimming; value is everything after the first '='.
            (&[" kind = component , spec.type = service "], (true, false)),
            (&["spec.type=a=b"], (false, false)),
            // `key=` matches an empty value only.
            (&["spec.type="], (false, false)),
            // Exists plus value on the same key: the value is required.
            (&["kind,kind=api"], (false, true)),
        ];
        for (filters, want) in cases {
            assert_eq!(run(filters), *want, "filters {filters:?}");
        }
    }

    #[test]
    fn parsing_details() {
        let f = EntityFilter::parse(&["a=1,b=2,a=3", "c"]).unwrap();
        assert_eq!(f.any_of.len(), 2);
        let first = &f.any_of[0].all_of;
        assert_eq!(first.len(), 2);
        assert_eq!(first[0].key(), "a");
        assert_eq!(
            first[0].values(),
            Some(&["1".to_string(), "3".to_string()][..])
        );
        assert_eq!(first[1].values(), Some(&["2".to_string()][..]));
        assert_eq!(f.any_of[1].all_of[0].values(), None);
        // Keys that differ in case stay separate conditions (ANDed), as in Backstage.
        let f = EntityFilter::parse(&["Kind=a,kind=b"]).unwrap();
        assert_eq!(f.any_of[0].all_of.len(), 2);
        // Empty value kept.
        let f = EntityFilter::parse(&["a="]).unwrap();
        assert_eq!(f.any_of[0].all_of[0].values(), Some(&[String::new()][..]));
        assert_eq!(f.any_of[0].all_of[0].values_lower(), &[String::new()]);
        assert!(EntityFilter::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn parsing_is_linear_in_the_number_of_keys() {
        // 120,000 distinct keys (the size of a filter a hostile plugin sent): with a
        // scan over earlier keys per statement this took tens of seconds.
        let keys = 120_000;
        let filter: String = (0..keys)
            .map(|i| format!("metadata.annotations.k{i}=v{i}"))
            .collect::<Vec<_>>()
            .join(",");
        let started = std::time::Instant::now();
        let parsed = FilterConjunction::parse(&filter).unwrap().unwrap();
        let elapsed = started.elapsed();
        assert_eq!(parsed.all_of.len(), keys);
        assert_eq!(
            parsed.all_of[keys - 1].key(),
            format!("metadata.annotations.k{}", keys - 1)
        );
        // Generous even for a debug build on a busy machine; quadratic parsing
        // needs 7.2e9 key comparisons here.
        assert!(elapsed.as_secs() < 5, "parsing took {elapsed:?}");
        // Repeated keys still merge into one condition, in order of first appearance.
        let f = FilterConjunction::parse("b=1,a=2,b=3,a=4,c")
            .unwrap()
            .unwrap();
        let keys: Vec<&str> = f.all_of.iter().map(|c| c.key()).collect();
        assert_eq!(keys, ["b", "a", "c"]);
        assert_eq!(
            f.all_of[0].values(),
            Some(&["1".to_string(), "3".to_string()][..])
        );
    }

    #[test]
    fn errors() {
        for bad in ["=a", "x=2,=a", "x=2,=", " = b"] {
            let e = EntityFilter::parse(&[bad]).unwrap_err();
            assert!(matches!(e, FilterError::InvalidStatement { .. }), "{bad}");
            assert!(e.to_string().contains("is not a valid statement"));
        }
    }

    #[test]
    fn to_predicate_shape() {
        let f = EntityFilter::parse(&[
            "kind=component,spec.type=a,spec.type=b,metadata.tags.java",
            "kind=api",
        ])
        .unwrap();
        assert_eq!(
            f.to_predicate().to_value(),
            json!({"$any": [
                {"$all": [
                    {"kind": "component"},
                    {"spec.type": {"$in": ["a", "b"]}},
                    {"metadata.tags.java": {"$exists": true}}
                ]},
                {"$all": [{"kind": "api"}]}
            ]})
        );
        assert_eq!(
            EntityFilter::default().to_predicate(),
            Predicate::match_all()
        );
    }

    #[test]
    fn matches_entity_convenience() {
        let e: Entity = serde_json::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
            "metadata": {"name": "t"}, "spec": {"type": "team", "children": []}
        }))
        .unwrap();
        assert!(
            EntityFilter::parse(&["kind=group,spec.type=team"])
                .unwrap()
                .matches_entity(&e)
        );
        assert!(
            !EntityFilter::parse(&["kind=user"])
                .unwrap()
                .matches_entity(&e)
        );
    }
}
