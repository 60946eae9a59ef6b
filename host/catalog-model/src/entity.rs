//! The entity envelope: `apiVersion`, `kind`, `metadata`, `spec`, plus the
//! catalog-owned `relations` and `status`.
//!
//! Serialization choices, so output round-trips Backstage JSON:
//! - `None` options and empty `labels`/`annotations`/`tags`/`links` are
//!   omitted (Backstage input files simply leave them out);
//! - `relations` is omitted when empty. Backstage's stitcher always writes a
//!   (possibly empty) `relations` array; clients treat a missing array the
//!   same way (`relations?: EntityRelation[]` in Backstage's own types);
//! - unknown metadata keys are kept in [`Metadata::extra`] and written back
//!   unchanged; unknown keys of links, status items and errors likewise.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::ValidationErrors;
use crate::refs::{DEFAULT_NAMESPACE, EntityRef};
use crate::validate::{ValidationMode, validate_entity_value};

/// A catalog entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Entity {
    /// Format version, e.g. `backstage.io/v1alpha1`.
    pub api_version: String,
    /// Kind, e.g. `Component` (spelling as written).
    pub kind: String,
    /// Identifying and descriptive metadata.
    pub metadata: Metadata,
    /// Kind-specific data; free-form for unknown kinds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<Map<String, Value>>,
    /// Outgoing relations, filled in by the catalog (never by users).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
    /// Processing status, filled in by the catalog.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Status>,
}

/// `metadata` of an entity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Metadata {
    /// Name, unique per kind and namespace (ignoring case).
    pub name: String,
    /// Namespace; `None` means [`DEFAULT_NAMESPACE`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Short description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Identifying key/value pairs.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Non-identifying key/value pairs (e.g. `backstage.io/techdocs-ref`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// Classification tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// External links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<Link>,
    /// Server-assigned id; not stable across re-registration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Server-assigned version hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Any other metadata keys; Backstage allows them and keeps them.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One entry of `metadata.links`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Link {
    /// Absolute URL.
    pub url: String,
    /// Display title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Icon key, e.g. `dashboard`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// Link type, e.g. `admin-dashboard`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Other keys, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One outgoing relation of an entity, as served by the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relation {
    /// Relation type, e.g. `ownedBy`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Canonical ref of the target, e.g. `group:default/team-a`.
    #[serde(rename = "targetRef")]
    pub target_ref: String,
}

impl Relation {
    /// A relation of the given type to the given canonical target ref.
    pub fn new(type_: impl Into<String>, target_ref: impl Into<String>) -> Self {
        Relation {
            type_: type_.into(),
            target_ref: target_ref.into(),
        }
    }
}

/// Sorts relations by type, then target ref, and drops duplicates — the
/// order in which Backstage's stitcher serves them.
pub fn sort_relations(relations: &mut Vec<Relation>) {
    relations.sort();
    relations.dedup();
}

/// `status` of an entity.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Status {
    /// Status items, e.g. processing errors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<StatusItem>,
    /// Other keys, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Severity of a status item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusLevel {
    /// Informational.
    Info,
    /// Something to look at.
    Warning,
    /// Something is broken (e.g. a processing error).
    Error,
}

/// One entry of `status.items`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusItem {
    /// Item type, e.g. `backstage.io/catalog-processing`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Severity.
    pub level: StatusLevel,
    /// Human-readable message.
    pub message: String,
    /// The error behind the item, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<SerializedError>,
    /// Other keys, kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An error in Backstage's serialized form.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SerializedError {
    /// Error class name, e.g. `InputError`.
    pub name: String,
    /// Message.
    pub message: String,
    /// Optional error code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// Optional stack trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<String>,
    /// Other keys (e.g. `cause`), kept as written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `status.items[].type` Backstage uses for processing errors.
pub const ENTITY_STATUS_CATALOG_PROCESSING_TYPE: &str = "backstage.io/catalog-processing";

impl Entity {
    /// Builds a minimal entity (no validation).
    pub fn new(
        api_version: impl Into<String>,
        kind: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        Entity {
            api_version: api_version.into(),
            kind: kind.into(),
            metadata: Metadata {
                name: name.into(),
                ..Metadata::default()
            },
            spec: None,
            relations: Vec::new(),
            status: None,
        }
    }

    /// Validates an input entity document fully (envelope, metadata formats,
    /// duplicate case keys, built-in kind rules) and converts it.
    ///
    /// Input entities may not carry `relations` or `status`; use
    /// [`Entity::from_value_with`] with [`ValidationMode::Stored`] for
    /// entities read back from a store.
    pub fn from_value(value: Value) -> Result<Entity, ValidationErrors> {
        Entity::from_value_with(value, ValidationMode::Input)
    }

    /// Like [`Entity::from_value`] with an explicit validation mode.
    pub fn from_value_with(value: Value, mode: ValidationMode) -> Result<Entity, ValidationErrors> {
        validate_entity_value(&value, mode)?;
        let label = crate::validate::entity_label(&value);
        serde_json::from_value(value).map_err(|e| {
            ValidationErrors::new(
                label,
                vec![crate::error::ValidationError::Undecodable {
                    message: e.to_string(),
                }],
            )
        })
    }

    /// The JSON form of the entity.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("entities always serialize to JSON")
    }

    /// Re-validates this entity (e.g. after a processor changed it).
    pub fn validate(&self, mode: ValidationMode) -> Result<(), ValidationErrors> {
        validate_entity_value(&self.to_value(), mode)
    }

    /// The namespace, or `default` when none is set.
    pub fn namespace(&self) -> &str {
        match self.metadata.namespace.as_deref() {
            Some(ns) if !ns.is_empty() => ns,
            _ => DEFAULT_NAMESPACE,
        }
    }

    /// Sets `metadata.namespace` to `default` when absent, as Backstage's
    /// `DefaultNamespaceEntityPolicy` does during processing.
    pub fn set_default_namespace(&mut self) {
        if self.metadata.namespace.as_deref().is_none_or(str::is_empty) {
            self.metadata.namespace = Some(DEFAULT_NAMESPACE.to_string());
        }
    }

    /// The reference of this entity (original spelling).
    pub fn entity_ref(&self) -> EntityRef {
        EntityRef::new(
            self.kind.clone(),
            self.namespace(),
            self.metadata.name.clone(),
        )
    }

    /// The canonical `kind:namespace/name` string (lowercase).
    pub fn ref_string(&self) -> String {
        self.entity_ref().canonical()
    }

    /// An annotation value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata.annotations.get(key).map(String::as_str)
    }

    /// A spec value.
    pub fn spec_value(&self, key: &str) -> Option<&Value> {
        self.spec.as_ref().and_then(|s| s.get(key))
    }

    /// A spec value that is a string.
    pub fn spec_str(&self, key: &str) -> Option<&str> {
        self.spec_value(key).and_then(Value::as_str)
    }

    /// A spec value that is an array of strings (non-strings are skipped).
    pub fn spec_str_array(&self, key: &str) -> Vec<&str> {
        match self.spec_value(key) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full_output_entity() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "petstore",
                "namespace": "default",
                "title": "Pet Store",
                "description": "Sells pets",
                "labels": {"tier": "gold"},
                "annotations": {"backstage.io/techdocs-ref": "dir:."},
                "tags": ["java", "web"],
                "links": [{"url": "https://x.example.com", "title": "Home", "icon": "dashboard", "type": "web", "extraKey": 1}],
                "uid": "1234",
                "etag": "abcd",
                "customMeta": {"nested": [1, 2]}
            },
            "spec": {"type": "service", "lifecycle": "production", "owner": "team-a"},
            "relations": [{"type": "ownedBy", "targetRef": "group:default/team-a"}],
            "status": {"items": [{
                "type": "backstage.io/catalog-processing",
                "level": "error",
                "message": "InputError: bad",
                "error": {"name": "InputError", "message": "bad", "cause": {"x": 1}}
            }]}
        })
    }

    #[test]
    fn round_trips_backstage_json() {
        let v = full_output_entity();
        let e: Entity = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(
            e.metadata.extra.get("customMeta"),
            Some(&json!({"nested": [1, 2]}))
        );
        assert_eq!(e.metadata.links[0].type_.as_deref(), Some("web"));
        assert_eq!(e.relations[0].type_, "ownedBy");
        assert_eq!(
            e.status.as_ref().unwrap().items[0].level,
            StatusLevel::Error
        );
        assert_eq!(e.to_value(), v);
    }

    #[test]
    fn stored_mode_accepts_relations_and_status_input_mode_does_not() {
        let v = full_output_entity();
        let e = Entity::from_value_with(v.clone(), ValidationMode::Stored).unwrap();
        assert_eq!(e.ref_string(), "component:default/petstore");
        let err = Entity::from_value(v).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("Unknown field \"relations\""), "{text}");
        assert!(text.contains("Unknown field \"status\""), "{text}");
        assert!(text.contains("component:default/petstore"), "{text}");
    }

    #[test]
    fn omits_empty_fields() {
        let e = Entity::new("backstage.io/v1alpha1", "Thing", "x");
        assert_eq!(
            e.to_value(),
            json!({"apiVersion": "backstage.io/v1alpha1", "kind": "Thing", "metadata": {"name": "x"}})
        );
    }

    #[test]
    fn helpers() {
        let mut e: Entity = serde_json::from_value(json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "X", "annotations": {"a/b": "c"}},
            "spec": {"owner": "t", "providesApis": ["a", 3, "b"]}
        }))
        .unwrap();
        assert_eq!(e.namespace(), "default");
        assert_eq!(e.annotation("a/b"), Some("c"));
        assert_eq!(e.spec_str("owner"), Some("t"));
        assert_eq!(e.spec_str_array("providesApis"), vec!["a", "b"]);
        assert_eq!(e.entity_ref().name, "X");
        assert_eq!(e.ref_string(), "component:default/x");
        e.set_default_namespace();
        assert_eq!(e.metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn sorts_and_dedups_relations() {
        let mut rels = vec![
            Relation::new("ownedBy", "group:default/b"),
            Relation::new("dependsOn", "component:default/z"),
            Relation::new("ownedBy", "group:default/a"),
            Relation::new("ownedBy", "group:default/b"),
        ];
        sort_relations(&mut rels);
        assert_eq!(
            rels,
            vec![
                Relation::new("dependsOn", "component:default/z"),
                Relation::new("ownedBy", "group:default/a"),
                Relation::new("ownedBy", "group:default/b"),
            ]
        );
    }
}
