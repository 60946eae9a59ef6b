//! Portal's catalog model: a Backstage-compatible entity model.
//!
//! Everything here follows Backstage's published code (catalog-model 1.10,
//! catalog-backend 4.0) so that Backstage catalog files ingest unchanged and
//! the REST API answers like Backstage's:
//!
//! - [`entity`]: the entity envelope and its serde form;
//! - [`validate`] and [`kinds`]: validation of envelopes, metadata formats
//!   and the built-in kinds' specs;
//! - [`refs`]: entity references (`[kind:][namespace/]name`);
//! - [`relations`]: relations generated from spec fields, both directions;
//! - [`flatten`]: the flattened, lowercased search index of an entity;
//! - [`filter`]: the `filter=` query syntax; [`predicate`]: the `query`
//!   predicate language; [`fields`]: the `fields=` projection;
//! - [`location`]: location refs and generated location entities;
//! - [`annotations`]: well-known annotation keys.

#![warn(missing_docs)]

pub mod annotations;
pub mod entity;
pub mod error;
pub mod fields;
pub mod filter;
pub mod flatten;
mod jsutil;
pub mod kinds;
pub mod location;
pub mod predicate;
pub mod refs;
pub mod relations;
mod sha1;
pub mod validate;

pub use annotations::*;
pub use entity::{
    ENTITY_STATUS_CATALOG_PROCESSING_TYPE, Entity, Link, Metadata, Relation, SerializedError,
    Status, StatusItem, StatusLevel, sort_relations,
};
pub use error::{
    FieldsError, FilterError, LocationRefError, PredicateError, RefError, RelationError,
    RelationErrors, ValidationError, ValidationErrors,
};
pub use fields::{FieldSet, parse_fields};
pub use filter::{EntityFilter, FilterCondition, FilterConjunction};
pub use flatten::{FlatEntity, FlatRow, MAX_KEY_LENGTH, MAX_VALUE_LENGTH, duplicate_case_keys};
/// Lowercasing exactly as the search index does it (JavaScript's `toLocaleLowerCase('en-US')`).
pub use jsutil::js_lower;
pub use kinds::BuiltinKind;
pub use location::{
    LocationPresence, LocationRef, LocationSpec, generated_location_entity_name, location_entity,
    location_ref_string, parse_location_ref, stringify_location_ref,
};
pub use predicate::{ContainsTarget, FieldCondition, Matcher, Predicate, Primitive};
pub use refs::{
    DEFAULT_NAMESPACE, EntityRef, RefDefaults, parse_entity_ref, parse_entity_ref_value,
    stringify_entity_ref,
};
pub use relations::*;
pub use validate::{ValidationMode, validate_entity_value};
