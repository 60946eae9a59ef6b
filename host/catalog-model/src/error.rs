//! Error types shared by the catalog model.
//!
//! Every validation message names the offending field path (for example
//! `metadata.tags[2]`) and the offending value, so that a user can fix their
//! catalog file without reading our source.

use std::fmt;

use thiserror::Error;

/// One problem found while validating an entity.
///
/// Paths use dots for object keys and `[i]` for array items, e.g.
/// `metadata.links[0].url` or `spec.providesApis[1]`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ValidationError {
    /// The entity (or the root of the document) is not a JSON object.
    #[error("the entity must be a JSON object, but found {found}")]
    NotAnObject {
        /// Description of what was found instead.
        found: String,
    },
    /// A root field other than the allowed ones was present.
    #[error("Unknown field \"{field}\" at the root of the entity (allowed fields: {allowed})")]
    UnknownRootField {
        /// The offending root key.
        field: String,
        /// The allowed root keys, for the message.
        allowed: &'static str,
    },
    /// A required field is absent.
    #[error("\"{path}\" is required but missing")]
    Missing {
        /// Field path.
        path: String,
    },
    /// A field has the wrong JSON type.
    #[error("\"{path}\" must be {expected}, but found {found}")]
    WrongType {
        /// Field path.
        path: String,
        /// What the field must be.
        expected: &'static str,
        /// Description of what was found.
        found: String,
    },
    /// A string field does not follow its format rules.
    #[error("\"{path}\" is not valid; expected {expected} but found \"{value}\"")]
    InvalidValue {
        /// Field path.
        path: String,
        /// The offending value (truncated when very long).
        value: String,
        /// The rule the value breaks.
        expected: &'static str,
    },
    /// A key of a map field (labels, annotations) does not follow its format rules.
    #[error("\"{path}\" has an invalid key \"{key}\"; expected {expected}")]
    InvalidKey {
        /// Path of the map.
        path: String,
        /// The offending key (truncated when very long).
        key: String,
        /// The rule the key breaks.
        expected: &'static str,
    },
    /// Two keys at the same flattened path differ only in letter case; the
    /// case-insensitive search index cannot tell them apart.
    #[error(
        "Entity has duplicate keys that vary only in casing, {}",
        quote_list(keys)
    )]
    DuplicateCaseKeys {
        /// The lowercased flattened keys that collide.
        keys: Vec<String>,
    },
    /// The document passed validation but could not be decoded into the typed
    /// entity (a field shape validation does not cover).
    #[error("the entity could not be decoded: {message}")]
    Undecodable {
        /// The decoder's message.
        message: String,
    },
    /// A built-in kind was declared with an apiVersion it does not support.
    #[error(
        "\"apiVersion\" is not valid for kind {kind}; expected one of {} but found \"{api_version}\"",
        quote_list_static(allowed)
    )]
    UnsupportedApiVersion {
        /// The kind as written in the entity.
        kind: String,
        /// The apiVersion as written in the entity.
        api_version: String,
        /// The apiVersions the kind accepts.
        allowed: &'static [&'static str],
    },
}

impl ValidationError {
    /// The field path the error is about, when it is about one field.
    pub fn path(&self) -> Option<&str> {
        match self {
            ValidationError::Missing { path }
            | ValidationError::WrongType { path, .. }
            | ValidationError::InvalidValue { path, .. }
            | ValidationError::InvalidKey { path, .. } => Some(path),
            ValidationError::UnknownRootField { field, .. } => Some(field),
            ValidationError::UnsupportedApiVersion { .. } => Some("apiVersion"),
            ValidationError::NotAnObject { .. }
            | ValidationError::DuplicateCaseKeys { .. }
            | ValidationError::Undecodable { .. } => None,
        }
    }
}

fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|k| format!("'{k}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn quote_list_static(items: &[&str]) -> String {
    items
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// All problems found in one entity, plus a label naming the entity.
///
/// Validation collects every problem instead of stopping at the first, so a
/// user can fix a catalog file in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationErrors {
    /// Human label of the entity, e.g. `component:default/foo`, as far as it
    /// could be determined from the (possibly broken) input.
    pub entity: String,
    /// The individual problems; never empty when returned as an error.
    pub errors: Vec<ValidationError>,
}

impl ValidationErrors {
    /// Creates a collection for the given entity label.
    pub fn new(entity: impl Into<String>, errors: Vec<ValidationError>) -> Self {
        ValidationErrors {
            entity: entity.into(),
            errors,
        }
    }

    /// Number of problems.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// True when there are no problems.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// Iterates over the problems.
    pub fn iter(&self) -> std::slice::Iter<'_, ValidationError> {
        self.errors.iter()
    }

    /// One self-contained message per problem, each naming the entity.
    pub fn messages(&self) -> Vec<String> {
        self.errors
            .iter()
            .map(|e| format!("Entity {}: {e}", self.entity))
            .collect()
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid entity {}: ", self.entity)?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

impl<'a> IntoIterator for &'a ValidationErrors {
    type Item = &'a ValidationError;
    type IntoIter = std::slice::Iter<'a, ValidationError>;
    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

/// Errors from parsing an entity reference (`[kind:][namespace/]name`).
///
/// Messages follow Backstage's `parseEntityRef` wording.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RefError {
    /// The reference was an empty string.
    #[error("Entity reference must not be empty")]
    Empty,
    /// One of the parts was present but empty, e.g. `component:` or `/name`.
    #[error("Entity reference \"{input}\" was not on the form [<kind>:][<namespace>/]<name>")]
    Malformed {
        /// The input reference.
        input: String,
    },
    /// No kind in the reference and no default kind for this context.
    #[error(
        "Entity reference {input} had missing or empty kind (e.g. did not start with \"component:\" or similar)"
    )]
    MissingKind {
        /// The input, JSON-encoded as Backstage prints it.
        input: String,
    },
    /// The namespace resolved to an empty value.
    #[error("Entity reference {input} had missing or empty namespace")]
    MissingNamespace {
        /// The input, JSON-encoded.
        input: String,
    },
    /// The name resolved to an empty value.
    #[error("Entity reference {input} had missing or empty name")]
    MissingName {
        /// The input, JSON-encoded.
        input: String,
    },
    /// The reference was neither a string nor a `{kind, namespace, name}` object.
    #[error(
        "Entity reference must be a string or an object with kind, namespace and name, but found {found}"
    )]
    InvalidType {
        /// Description of what was found.
        found: String,
    },
}

/// A spec field of an entity held a reference that could not become a relation.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RelationError {
    /// The reference string could not be parsed (e.g. `dependsOn` without a kind).
    #[error("\"{path}\" holds an invalid entity reference \"{value}\": {source}")]
    InvalidRef {
        /// Field path, e.g. `spec.dependsOn[0]`.
        path: String,
        /// The reference as written.
        value: String,
        /// Why it failed.
        source: RefError,
    },
    /// The field was not a string (or array of strings).
    #[error("\"{path}\" must be {expected}, but found {found}")]
    WrongType {
        /// Field path.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// Description of what was found.
        found: String,
    },
}

/// Every relation problem of one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelationErrors {
    /// Label of the entity, e.g. `component:default/foo`.
    pub entity: String,
    /// The individual problems; never empty when returned as an error.
    pub errors: Vec<RelationError>,
}

impl fmt::Display for RelationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Invalid relations in entity {}: ", self.entity)?;
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RelationErrors {}

/// Errors from the `filter=` query parameter syntax.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FilterError {
    /// A statement had an empty key, e.g. `=value`.
    #[error(
        "Invalid filter, '{statement}' is not a valid statement (expected a string on the form a=b or a= or a)"
    )]
    InvalidStatement {
        /// The offending statement.
        statement: String,
    },
}

/// Errors from parsing a filter predicate (`query` of the POST endpoints).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PredicateError {
    /// The predicate (or a member of `$all`/`$any`, or the body of `$not`) is
    /// a primitive instead of an object.
    #[error(
        "Invalid filter predicate: top-level primitive values are not supported. Wrap the value in a field expression, e.g. {{ \"kind\": {value} }}"
    )]
    TopLevelPrimitive {
        /// The primitive, JSON-encoded.
        value: String,
    },
    /// A predicate position held something that is not an object (array, null).
    #[error("Invalid filter predicate at {at}: expected an object, but found {found}")]
    NotAnObject {
        /// Where in the predicate, e.g. `$all[1]`.
        at: String,
        /// Description of what was found.
        found: String,
    },
    /// `$all`/`$any` were not arrays.
    #[error(
        "Invalid filter predicate at {at}: {operator} must be an array of predicates, but found {found}"
    )]
    CombinatorNotArray {
        /// Where in the predicate.
        at: String,
        /// `$all` or `$any`.
        operator: &'static str,
        /// Description of what was found.
        found: String,
    },
    /// A combinator key was mixed with other keys in the same object.
    #[error(
        "Invalid filter predicate at {at}: {operator} must be the only key of its object, but found also {others}"
    )]
    MixedCombinator {
        /// Where in the predicate.
        at: String,
        /// The combinator.
        operator: String,
        /// The other keys, comma-separated.
        others: String,
    },
    /// An unknown `$operator` key where a combinator or field path was expected.
    #[error(
        "Invalid filter predicate at {at}: unknown operator \"{operator}\" (expected $all, $any, $not or a field path)"
    )]
    UnknownOperator {
        /// Where in the predicate.
        at: String,
        /// The unknown key.
        operator: String,
    },
    /// An unknown `$matcher` inside a field value.
    #[error(
        "Invalid filter predicate value for field \"{field}\": unknown operator \"{operator}\" (expected $exists, $in, $hasPrefix or $contains)"
    )]
    UnknownMatcher {
        /// The field path (lowercased).
        field: String,
        /// The unknown operator key.
        operator: String,
    },
    /// A field value that is neither a primitive nor a single-operator object.
    #[error(
        "Invalid filter predicate value for field \"{field}\": expected a primitive value, $exists, $in, $hasPrefix, or $contains operator, but got {value}"
    )]
    InvalidFieldValue {
        /// The field path (lowercased).
        field: String,
        /// The value, JSON-encoded.
        value: String,
    },
    /// An operator had an argument of the wrong type.
    #[error(
        "Invalid filter predicate value for field \"{field}\": {operator} expects {expected}, but got {value}"
    )]
    InvalidOperand {
        /// The field path (lowercased).
        field: String,
        /// The operator.
        operator: &'static str,
        /// What it expects.
        expected: &'static str,
        /// The value, JSON-encoded.
        value: String,
    },
    /// `$contains` with an object target on a field other than `relations`.
    #[error("Object form of $contains is not supported for field \"{field}\"")]
    ContainsObjectUnsupported {
        /// The field path (lowercased).
        field: String,
    },
    /// `$contains` with a target that is neither primitive nor object.
    #[error("Unsupported $contains target for field \"{field}\": {value}")]
    ContainsUnsupportedTarget {
        /// The field path (lowercased).
        field: String,
        /// The target, JSON-encoded.
        value: String,
    },
    /// `{ relations: { $contains: {...} } }` was malformed.
    #[error("Invalid $contains for \"relations\": {reason}")]
    InvalidRelationContains {
        /// What is wrong.
        reason: String,
    },
    /// Nesting went deeper than the parser allows.
    #[error("Invalid filter predicate: nesting deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
}

/// Errors from the `fields=` projection parameter.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum FieldsError {
    /// A field path used array syntax.
    #[error("Invalid field \"{field}\", array type fields are not supported")]
    ArrayField {
        /// The offending field.
        field: String,
    },
}

/// Errors from location reference strings (`<type>:<target>`).
///
/// Messages follow Backstage's `parseLocationRef`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LocationRefError {
    /// No `:` or an empty type/target.
    #[error(
        "Unable to parse location reference '{input}', expected '<type>:<target>', e.g. 'url:https://host/path'"
    )]
    Malformed {
        /// The input.
        input: String,
    },
    /// A bare `http(s)://` URL was given instead of `url:http(s)://`.
    #[error(
        "Invalid location reference '{input}', please prefix it with 'url:', e.g. 'url:{input}'"
    )]
    MissingUrlPrefix {
        /// The input.
        input: String,
    },
    /// Stringifying needs a non-empty type.
    #[error("Unable to stringify location reference, empty type")]
    EmptyType,
    /// Stringifying needs a non-empty target.
    #[error("Unable to stringify location reference, empty target")]
    EmptyTarget,
    /// A child location's parent entity lacks a location annotation.
    #[error(
        "Parent entity '{parent}' of location '{location}' does not have {annotation} annotation"
    )]
    ParentMissingAnnotation {
        /// Canonical ref of the parent entity.
        parent: String,
        /// The child location ref.
        location: String,
        /// Which annotation is missing ("a location" / "an origin location").
        annotation: &'static str,
    },
}
