//! Locations: where catalog files come from.
//!
//! A location is a `(type, target)` pair such as `(url, https://...)` or
//! `(file, /path/catalog-info.yaml)`; its string form (a "location ref") is
//! `<type>:<target>`, used in the managed-by annotations. Registered
//! locations become `Location` entities named
//! `generated-<sha1 hex of "<type>:<target>">` in the default namespace
//! (Backstage's `locationSpecToMetadataName`: the hash input is exactly the
//! location ref string, type and target joined by one colon).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::annotations::{ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION};
use crate::entity::{Entity, Metadata};
use crate::error::LocationRefError;
use crate::sha1::sha1_hex;

/// The location type of remote files read through integrations.
pub const LOCATION_TYPE_URL: &str = "url";
/// The location type of local files.
pub const LOCATION_TYPE_FILE: &str = "file";
/// The location ref Backstage shows for entities from config locations.
pub const BOOTSTRAP_LOCATION_REF: &str = "bootstrap:bootstrap";

/// Whether a missing target is an error (`required`, the default) or is
/// silently skipped (`optional`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LocationPresence {
    /// A missing target is a processing error.
    #[default]
    Required,
    /// A missing target is skipped.
    Optional,
}

/// A location to read catalog files from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LocationSpec {
    /// Location type, e.g. `url` or `file`.
    #[serde(rename = "type")]
    pub type_: String,
    /// Target, e.g. a URL or an absolute path.
    pub target: String,
    /// Whether the target must exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<LocationPresence>,
}

impl LocationSpec {
    /// A required location.
    pub fn new(type_: impl Into<String>, target: impl Into<String>) -> Self {
        LocationSpec {
            type_: type_.into(),
            target: target.into(),
            presence: None,
        }
    }

    /// `url:<target>`.
    pub fn url(target: impl Into<String>) -> Self {
        LocationSpec::new(LOCATION_TYPE_URL, target)
    }

    /// `file:<target>`.
    pub fn file(target: impl Into<String>) -> Self {
        LocationSpec::new(LOCATION_TYPE_FILE, target)
    }

    /// The effective presence (`required` unless set).
    pub fn presence(&self) -> LocationPresence {
        self.presence.unwrap_or_default()
    }

    /// The location ref string `<type>:<target>`.
    pub fn location_ref_string(&self) -> String {
        location_ref_string(&self.type_, &self.target)
    }

    /// The name of the generated `Location` entity for this location.
    pub fn generated_entity_name(&self) -> String {
        generated_location_entity_name(&self.type_, &self.target)
    }
}

/// A parsed location ref (`<type>:<target>`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LocationRef {
    /// Location type.
    pub type_: String,
    /// Target.
    pub target: String,
}

impl LocationRef {
    /// The spec for this ref (presence `required`).
    pub fn to_spec(&self) -> LocationSpec {
        LocationSpec::new(self.type_.clone(), self.target.clone())
    }
}

impl fmt::Display for LocationRef {
    /// The string form `<type>:<target>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.type_, self.target)
    }
}

impl std::str::FromStr for LocationRef {
    type Err = LocationRefError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_location_ref(s)
    }
}

/// `<type>:<target>` (no checks; see [`stringify_location_ref`]).
pub fn location_ref_string(type_: &str, target: &str) -> String {
    format!("{type_}:{target}")
}

/// `<type>:<target>`, rejecting an empty type or target as Backstage does.
pub fn stringify_location_ref(type_: &str, target: &str) -> Result<String, LocationRefError> {
    if type_.is_empty() {
        Err(LocationRefError::EmptyType)
    } else if target.is_empty() {
        Err(LocationRefError::EmptyTarget)
    } else {
        Ok(location_ref_string(type_, target))
    }
}

/// Parses `<type>:<target>`: split at the first `:`, both parts trimmed and
/// non-empty. A bare `http:`/`https:` URL is rejected with a hint to write
/// `url:` in front.
pub fn parse_location_ref(s: &str) -> Result<LocationRef, LocationRefError> {
    let malformed = || LocationRefError::Malformed {
        input: s.to_string(),
    };
    let (type_, target) = s.split_once(':').ok_or_else(malformed)?;
    let (type_, target) = (type_.trim(), target.trim());
    if type_.is_empty() || target.is_empty() {
        return Err(malformed());
    }
    if type_ == "http" || type_ == "https" {
        return Err(LocationRefError::MissingUrlPrefix {
            input: s.to_string(),
        });
    }
    Ok(LocationRef {
        type_: type_.to_string(),
        target: target.to_string(),
    })
}

/// `generated-` followed by the hex SHA-1 of `"<type>:<target>"`.
pub fn generated_location_entity_name(type_: &str, target: &str) -> String {
    format!(
        "generated-{}",
        sha1_hex(location_ref_string(type_, target).as_bytes())
    )
}

/// The `Location` entity the catalog creates for a location (Backstage's
/// `locationSpecToLocationEntity`).
///
/// Without a parent, both managed-by annotations are the location's own ref;
/// with a parent (a location found inside another catalog file), they are
/// copied from the parent, which must have them.
pub fn location_entity(
    spec: &LocationSpec,
    parent: Option<&Entity>,
) -> Result<Entity, LocationRefError> {
    let own_ref = spec.location_ref_string();
    let (own_location, origin_location) = match parent {
        None => (own_ref.clone(), own_ref),
        Some(p) => {
            let missing = |annotation| LocationRefError::ParentMissingAnnotation {
                parent: p.ref_string(),
                location: own_ref.clone(),
                annotation,
            };
            let own = p
                .annotation(ANNOTATION_LOCATION)
                .ok_or_else(|| missing("a location"))?;
            let origin = p
                .annotation(ANNOTATION_ORIGIN_LOCATION)
                .ok_or_else(|| missing("an origin location"))?;
            (own.to_string(), origin.to_string())
        }
    };
    let mut annotations = BTreeMap::new();
    annotations.insert(ANNOTATION_LOCATION.to_string(), own_location);
    annotations.insert(ANNOTATION_ORIGIN_LOCATION.to_string(), origin_location);
    let mut spec_map = Map::new();
    spec_map.insert("type".into(), Value::String(spec.type_.clone()));
    spec_map.insert("target".into(), Value::String(spec.target.clone()));
    Ok(Entity {
        api_version: "backstage.io/v1alpha1".to_string(),
        kind: "Location".to_string(),
        metadata: Metadata {
            name: spec.generated_entity_name(),
            annotations,
            ..Metadata::default()
        },
        spec: Some(spec_map),
        relations: Vec::new(),
        status: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ref_strings() {
        let spec = LocationSpec::url("https://github.com/o/r/blob/main/catalog-info.yaml");
        assert_eq!(
            spec.location_ref_string(),
            "url:https://github.com/o/r/blob/main/catalog-info.yaml"
        );
        assert_eq!(
            stringify_location_ref("file", "/a/b.yaml").unwrap(),
            "file:/a/b.yaml"
        );
        assert_eq!(
            stringify_location_ref("", "x"),
            Err(LocationRefError::EmptyType)
        );
        assert_eq!(
            stringify_location_ref("url", ""),
            Err(LocationRefError::EmptyTarget)
        );
        assert_eq!(spec.presence(), LocationPresence::Required);
    }

    #[test]
    fn parses_location_refs() {
        let r = parse_location_ref("url:https://host/path:with:colons").unwrap();
        assert_eq!(
            (r.type_.as_str(), r.target.as_str()),
            ("url", "https://host/path:with:colons")
        );
        let r = parse_location_ref(" file : /tmp/x.yaml ").unwrap();
        assert_eq!(
            (r.type_.as_str(), r.target.as_str()),
            ("file", "/tmp/x.yaml")
        );
        assert_eq!(r.to_string(), "file:/tmp/x.yaml");
        assert_eq!(r.to_spec(), LocationSpec::file("/tmp/x.yaml"));
        for bad in ["", "nocolon", ":x", "url:", "  : "] {
            assert!(
                matches!(
                    parse_location_ref(bad),
                    Err(LocationRefError::Malformed { .. })
                ),
                "{bad}"
            );
        }
        let e = parse_location_ref("https://host/x").unwrap_err();
        assert!(matches!(e, LocationRefError::MissingUrlPrefix { .. }));
        assert!(e.to_string().contains("'url:https://host/x'"), "{e}");
        let parsed: LocationRef = "bootstrap:bootstrap".parse().unwrap();
        assert_eq!(parsed.to_string(), BOOTSTRAP_LOCATION_REF);
    }

    #[test]
    fn generated_names_hash_type_colon_target() {
        // sha1("url:https://example.com/catalog-info.yaml")
        let name = generated_location_entity_name("url", "https://example.com/catalog-info.yaml");
        assert_eq!(
            name,
            format!(
                "generated-{}",
                sha1_hex(b"url:https://example.com/catalog-info.yaml")
            )
        );
        assert_eq!(name.len(), "generated-".len() + 40);
        // sha1("abc") is a known vector, so "a:bc" vs "ab:c" must differ.
        assert_ne!(
            generated_location_entity_name("a", "bc"),
            generated_location_entity_name("ab", "c")
        );
        assert_eq!(
            generated_location_entity_name("file", "/x"),
            format!("generated-{}", sha1_hex(b"file:/x"))
        );
        // The generated name is a valid entity name.
        assert!(crate::validate::is_valid_entity_name(&name));
    }

    #[test]
    fn location_entities() {
        let spec = LocationSpec::url("https://h/c.yaml");
        let e = location_entity(&spec, None).unwrap();
        assert_eq!(
            e.to_value(),
            json!({
                "apiVersion": "backstage.io/v1alpha1",
                "kind": "Location",
                "metadata": {
                    "name": spec.generated_entity_name(),
                    "annotations": {
                        "backstage.io/managed-by-location": "url:https://h/c.yaml",
                        "backstage.io/managed-by-origin-location": "url:https://h/c.yaml"
                    }
                },
                "spec": {"type": "url", "target": "https://h/c.yaml"}
            })
        );
        assert!(
            Entity::from_value(e.to_value()).is_ok(),
            "generated entity validates"
        );

        let child = LocationSpec::url("https://h/other.yaml");
        let from_parent = location_entity(&child, Some(&e)).unwrap();
        assert_eq!(
            from_parent.annotation(ANNOTATION_LOCATION),
            Some("url:https://h/c.yaml")
        );
        assert_eq!(
            from_parent.annotation(ANNOTATION_ORIGIN_LOCATION),
            Some("url:https://h/c.yaml")
        );
        assert_eq!(from_parent.metadata.name, child.generated_entity_name());

        let bare = Entity::new("backstage.io/v1alpha1", "Location", "p");
        let err = location_entity(&child, Some(&bare)).unwrap_err();
        assert!(matches!(
            err,
            LocationRefError::ParentMissingAnnotation { .. }
        ));
        assert!(err.to_string().contains("location:default/p"), "{err}");
    }

    #[test]
    fn spec_serde() {
        let s: LocationSpec =
            serde_json::from_value(json!({"type": "url", "target": "t", "presence": "optional"}))
                .unwrap();
        assert_eq!(s.presence(), LocationPresence::Optional);
        assert_eq!(
            serde_json::to_value(LocationSpec::file("f")).unwrap(),
            json!({"type": "file", "target": "f"})
        );
    }
}
