//! Entity references: `[kind:][namespace/]name`.
//!
//! Parsing follows Backstage's `parseEntityRef`: the first `:` splits off the
//! kind unless a `/` comes before it; the first `/` (after the kind) splits
//! off the namespace; the name is the rest (it may contain further `:` or
//! `/`). Parts that are present but empty are errors. Missing parts take the
//! context's defaults; a missing kind with no default kind is an error.
//!
//! References compare, hash and order case-insensitively, since Backstage
//! lowercases all three parts in the canonical form (`kind:namespace/name`).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::error::RefError;
use crate::jsutil::describe_value;

/// The namespace entities live in when they do not name one.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Defaults applied to the parts a reference leaves out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefDefaults<'a> {
    /// Kind to use when the reference has none; `None` makes a kind-less
    /// reference an error.
    pub kind: Option<&'a str>,
    /// Namespace to use when the reference has none; an empty string means
    /// [`DEFAULT_NAMESPACE`] (as in Backstage).
    pub namespace: &'a str,
}

impl<'a> RefDefaults<'a> {
    /// Defaults with an optional kind and a namespace.
    pub fn new(kind: Option<&'a str>, namespace: &'a str) -> Self {
        RefDefaults { kind, namespace }
    }

    /// A default kind in the default namespace.
    pub fn kind(kind: &'a str) -> Self {
        RefDefaults {
            kind: Some(kind),
            namespace: DEFAULT_NAMESPACE,
        }
    }
}

impl Default for RefDefaults<'_> {
    /// No default kind, namespace `default`.
    fn default() -> Self {
        RefDefaults {
            kind: None,
            namespace: DEFAULT_NAMESPACE,
        }
    }
}

/// A fully resolved reference to an entity.
///
/// The parts keep the spelling they were written with; equality, hashing and
/// ordering ignore case, and [`EntityRef::canonical`] (also `Display`) gives
/// the lowercase `kind:namespace/name` form used in relations and indexes.
/// Serializes as the canonical string; deserializes from a full string ref or
/// a `{kind, namespace?, name}` object.
#[derive(Debug, Clone)]
pub struct EntityRef {
    /// Kind, e.g. `Component`.
    pub kind: String,
    /// Namespace, e.g. `default`.
    pub namespace: String,
    /// Name, e.g. `my-service`.
    pub name: String,
}

impl EntityRef {
    /// Builds a reference from its three parts (no validation).
    pub fn new(
        kind: impl Into<String>,
        namespace: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        EntityRef {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// Parses a complete reference: the kind is required and the namespace
    /// defaults to `default`.
    pub fn parse(s: &str) -> Result<EntityRef, RefError> {
        parse_entity_ref(s, RefDefaults::default())
    }

    /// The canonical form `kind:namespace/name`, all lowercase.
    pub fn canonical(&self) -> String {
        let mut out =
            String::with_capacity(self.kind.len() + self.namespace.len() + self.name.len() + 2);
        push_lower(&mut out, &self.kind);
        out.push(':');
        push_lower(&mut out, &self.namespace);
        out.push('/');
        push_lower(&mut out, &self.name);
        out
    }

    /// True when the kind matches `kind`, ignoring case.
    pub fn is_kind(&self, kind: &str) -> bool {
        eq_ignore_case(&self.kind, kind)
    }
}

fn push_lower(out: &mut String, s: &str) {
    if s.is_ascii() {
        out.extend(s.bytes().map(|b| b.to_ascii_lowercase() as char));
    } else {
        out.push_str(&s.to_lowercase());
    }
}

fn lower_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars().flat_map(char::to_lowercase)
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        lower_chars(a).eq(lower_chars(b))
    }
}

impl PartialEq for EntityRef {
    fn eq(&self, other: &Self) -> bool {
        eq_ignore_case(&self.kind, &other.kind)
            && eq_ignore_case(&self.namespace, &other.namespace)
            && eq_ignore_case(&self.name, &other.name)
    }
}

impl Eq for EntityRef {}

impl Hash for EntityRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // The lowercase text, one write per part (hashing char by char made
        // this the hottest function of loading a large catalog).
        for part in [&self.kind, &self.namespace, &self.name] {
            if part
                .bytes()
                .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
            {
                state.write(part.as_bytes());
            } else {
                state.write(lower_chars(part).collect::<String>().as_bytes());
            }
            // Separator so that ("ab","c") and ("a","bc") hash differently;
            // 0xff never occurs in UTF-8.
            state.write_u8(0xff);
        }
    }
}

impl Ord for EntityRef {
    fn cmp(&self, other: &Self) -> Ordering {
        lower_chars(&self.kind)
            .cmp(lower_chars(&other.kind))
            .then_with(|| lower_chars(&self.namespace).cmp(lower_chars(&other.namespace)))
            .then_with(|| lower_chars(&self.name).cmp(lower_chars(&other.name)))
    }
}

impl PartialOrd for EntityRef {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for EntityRef {
    /// The canonical lowercase form.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

impl FromStr for EntityRef {
    type Err = RefError;
    /// Same as [`EntityRef::parse`]: kind required, namespace defaults to `default`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityRef::parse(s)
    }
}

impl Serialize for EntityRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.canonical())
    }
}

impl<'de> Deserialize<'de> for EntityRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(deserializer)?;
        parse_entity_ref_value(&v, RefDefaults::default()).map_err(serde::de::Error::custom)
    }
}

/// The parts of a string reference before defaults are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefParts<'s> {
    /// The kind, if the reference has one.
    pub kind: Option<&'s str>,
    /// The namespace, if the reference has one.
    pub namespace: Option<&'s str>,
    /// The name.
    pub name: &'s str,
}

/// Splits `[kind:][namespace/]name` without applying defaults.
///
/// The first `:` splits off the kind unless a `/` appears before it. Any
/// part that is present but empty is an error.
pub fn split_entity_ref(s: &str) -> Result<RefParts<'_>, RefError> {
    let slash = s.find('/');
    let colon = s.find(':').filter(|&c| slash.is_none_or(|sl| sl > c));
    let (kind, rest) = match colon {
        Some(c) => (Some(&s[..c]), &s[c + 1..]),
        None => (None, s),
    };
    let (namespace, name) = match rest.find('/') {
        Some(sl) if slash.is_some() => (Some(&rest[..sl]), &rest[sl + 1..]),
        _ => (None, rest),
    };
    if kind == Some("") || namespace == Some("") || name.is_empty() {
        return Err(RefError::Malformed {
            input: s.to_string(),
        });
    }
    Ok(RefParts {
        kind,
        namespace,
        name,
    })
}

fn json_string(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

/// Parses `[kind:][namespace/]name`, filling in missing parts from `defaults`.
pub fn parse_entity_ref(s: &str, defaults: RefDefaults<'_>) -> Result<EntityRef, RefError> {
    if s.is_empty() {
        return Err(RefError::Empty);
    }
    let parts = split_entity_ref(s)?;
    let default_ns = if defaults.namespace.is_empty() {
        DEFAULT_NAMESPACE
    } else {
        defaults.namespace
    };
    let kind = match parts.kind.or(defaults.kind) {
        Some(k) if !k.is_empty() => k,
        _ => {
            return Err(RefError::MissingKind {
                input: json_string(s),
            });
        }
    };
    let namespace = parts.namespace.unwrap_or(default_ns);
    Ok(EntityRef::new(kind, namespace, parts.name))
}

/// Parses a reference given either as a string or in the object form
/// `{kind?, namespace?, name}` (Backstage accepts both in `parseEntityRef`).
///
/// In the object form an absent part takes its default, while a part that is
/// present but empty is an error.
pub fn parse_entity_ref_value(v: &Value, defaults: RefDefaults<'_>) -> Result<EntityRef, RefError> {
    match v {
        Value::String(s) => parse_entity_ref(s, defaults),
        Value::Object(obj) => {
            let input = v.to_string();
            let field = |key: &str| -> Result<Option<&str>, RefError> {
                match obj.get(key) {
                    None | Some(Value::Null) => Ok(None),
                    Some(Value::String(s)) => Ok(Some(s.as_str())),
                    Some(other) => Err(RefError::InvalidType {
                        found: format!("{} for \"{key}\"", describe_value(other)),
                    }),
                }
            };
            let default_ns = if defaults.namespace.is_empty() {
                DEFAULT_NAMESPACE
            } else {
                defaults.namespace
            };
            let kind = field("kind")?.or(defaults.kind).unwrap_or("");
            let namespace = field("namespace")?.unwrap_or(default_ns);
            let name = field("name")?.unwrap_or("");
            if kind.is_empty() {
                Err(RefError::MissingKind { input })
            } else if namespace.is_empty() {
                Err(RefError::MissingNamespace { input })
            } else if name.is_empty() {
                Err(RefError::MissingName { input })
            } else {
                Ok(EntityRef::new(kind, namespace, name))
            }
        }
        other => Err(RefError::InvalidType {
            found: describe_value(other),
        }),
    }
}

/// The canonical `kind:namespace/name` string of three parts (lowercase).
pub fn stringify_entity_ref(kind: &str, namespace: Option<&str>, name: &str) -> String {
    EntityRef::new(kind, namespace.unwrap_or(DEFAULT_NAMESPACE), name).canonical()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::HashSet;

    fn r(kind: &str, ns: &str, name: &str) -> (String, String, String) {
        (kind.to_string(), ns.to_string(), name.to_string())
    }

    fn parts(e: &EntityRef) -> (String, String, String) {
        (e.kind.clone(), e.namespace.clone(), e.name.clone())
    }

    #[test]
    fn parses_all_forms_with_defaults() {
        let d = RefDefaults::new(Some("Group"), "team-ns");
        let cases: &[(&str, (String, String, String))] = &[
            ("name", r("Group", "team-ns", "name")),
            ("ns/name", r("Group", "ns", "name")),
            ("User:name", r("User", "team-ns", "name")),
            ("user:ns/name", r("user", "ns", "name")),
            // A slash before the colon: no kind, the colon belongs to the name.
            ("ns/a:b", r("Group", "ns", "a:b")),
            // Further colons and slashes belong to the name.
            ("k:ns/a/b", r("k", "ns", "a/b")),
            ("k:a:b", r("k", "team-ns", "a:b")),
            ("k:ns/a:b", r("k", "ns", "a:b")),
        ];
        for (input, want) in cases {
            let got = parse_entity_ref(input, d).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(&parts(&got), want, "input {input}");
        }
    }

    #[test]
    fn missing_kind_without_default_is_an_error() {
        for input in ["name", "ns/name", "ns/a:b"] {
            let err = parse_entity_ref(input, RefDefaults::default()).unwrap_err();
            assert!(
                matches!(err, RefError::MissingKind { .. }),
                "{input}: {err:?}"
            );
            assert!(err.to_string().contains(&format!("\"{input}\"")), "{err}");
        }
        // With a kind present no default is needed.
        let ok = parse_entity_ref("component:x", RefDefaults::default()).unwrap();
        assert_eq!(ok.canonical(), "component:default/x");
    }

    #[test]
    fn empty_parts_are_errors() {
        for input in [
            ":name",
            "kind:",
            "kind:/name",
            "/name",
            "ns/",
            "kind:ns/",
            ":/",
            "k:/",
        ] {
            let err = parse_entity_ref(input, RefDefaults::kind("Group")).unwrap_err();
            assert!(
                matches!(err, RefError::Malformed { .. }),
                "{input}: {err:?}"
            );
            assert!(err.to_string().contains("[<kind>:][<namespace>/]<name>"));
        }
        assert_eq!(
            parse_entity_ref("", RefDefaults::kind("Group")).unwrap_err(),
            RefError::Empty
        );
    }

    #[test]
    fn empty_default_namespace_means_default() {
        let got = parse_entity_ref("x", RefDefaults::new(Some("Group"), "")).unwrap();
        assert_eq!(got.namespace, "default");
    }

    #[test]
    fn canonical_is_lowercase_and_display_matches() {
        let e = parse_entity_ref("Component:My-NS/My.Service", RefDefaults::default()).unwrap();
        assert_eq!(e.kind, "Component", "original spelling kept");
        assert_eq!(e.canonical(), "component:my-ns/my.service");
        assert_eq!(e.to_string(), "component:my-ns/my.service");
        assert_eq!(
            stringify_entity_ref("API", None, "Pets"),
            "api:default/pets"
        );
    }

    #[test]
    fn equality_and_hash_ignore_case() {
        let a = EntityRef::new("Component", "Default", "X");
        let b = EntityRef::new("component", "default", "x");
        let c = EntityRef::new("component", "default", "y");
        assert_eq!(a, b);
        assert_ne!(a, c);
        let set: HashSet<EntityRef> = [a.clone(), b, c].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert!(a < EntityRef::new("component", "default", "Y"));
        assert!(a.is_kind("COMPONENT"));
        // Parts are separated in the hash.
        let h1 = EntityRef::new("ab", "c", "d");
        let h2 = EntityRef::new("a", "bc", "d");
        assert_ne!(h1, h2);
    }

    #[test]
    fn object_form() {
        let d = RefDefaults::new(Some("Group"), "ns1");
        let got = parse_entity_ref_value(&json!({"name": "x"}), d).unwrap();
        assert_eq!(parts(&got), r("Group", "ns1", "x"));
        let got =
            parse_entity_ref_value(&json!({"kind": "User", "namespace": "n", "name": "x"}), d)
                .unwrap();
        assert_eq!(parts(&got), r("User", "n", "x"));
        let got = parse_entity_ref_value(&json!("user:n/x"), d).unwrap();
        assert_eq!(parts(&got), r("user", "n", "x"));

        let err = parse_entity_ref_value(&json!({"kind": "", "name": "x"}), d).unwrap_err();
        assert!(matches!(err, RefError::MissingKind { .. }));
        let err =
            parse_entity_ref_value(&json!({"name": "x"}), RefDefaults::default()).unwrap_err();
        assert!(matches!(err, RefError::MissingKind { .. }));
        let err = parse_entity_ref_value(&json!({"kind": "k", "namespace": "", "name": "x"}), d)
            .unwrap_err();
        assert!(matches!(err, RefError::MissingNamespace { .. }));
        let err = parse_entity_ref_value(&json!({"kind": "k"}), d).unwrap_err();
        assert!(matches!(err, RefError::MissingName { .. }));
        let err = parse_entity_ref_value(&json!({"kind": 3, "name": "x"}), d).unwrap_err();
        assert!(matches!(err, RefError::InvalidType { .. }));
        let err = parse_entity_ref_value(&json!(5), d).unwrap_err();
        assert!(matches!(err, RefError::InvalidType { .. }));
    }

    #[test]
    fn serde_round_trip() {
        let e: EntityRef = serde_json::from_value(json!("Group:Team/A")).unwrap();
        assert_eq!(serde_json::to_value(&e).unwrap(), json!("group:team/a"));
        let e: EntityRef = serde_json::from_value(json!({"kind": "Group", "name": "a"})).unwrap();
        assert_eq!(e.canonical(), "group:default/a");
        assert!(serde_json::from_value::<EntityRef>(json!("a")).is_err());
        let parsed: EntityRef = "api:petstore".parse().unwrap();
        assert_eq!(parsed.canonical(), "api:default/petstore");
    }

    #[test]
    fn split_without_defaults() {
        let p = split_entity_ref("a/b:c").unwrap();
        assert_eq!(p.kind, None);
        assert_eq!(p.namespace, Some("a"));
        assert_eq!(p.name, "b:c");
        let p = split_entity_ref("k:n").unwrap();
        assert_eq!((p.kind, p.namespace, p.name), (Some("k"), None, "n"));
    }
}
