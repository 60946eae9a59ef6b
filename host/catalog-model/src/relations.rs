//! Relations generated from spec fields of the built-in kinds (Backstage's
//! `BuiltinKindsEntityProcessor`, plus the scaffolder's Template `owner`).
//!
//! Each field yields a forward edge from the entity to the target and an
//! inverse edge from the target back to the entity. In Backstage both are
//! written when the source entity is processed; an entity's served
//! `relations` are all edges whose source is that entity, no matter which
//! entity emitted them. So a store indexes the [`RelationEdge`]s of every
//! entity by source.
//!
//! Target namespaces default to the source entity's namespace. Each field has
//! a default target kind, except `dependsOn`/`dependencyOf`, whose refs must
//! name a kind. String arrays are sorted before processing.

use serde_json::Value;

use crate::entity::{Entity, Relation};
use crate::error::{RelationError, RelationErrors};
use crate::jsutil::describe_value;
use crate::kinds::BuiltinKind;
use crate::refs::{EntityRef, RefDefaults, parse_entity_ref};

/// The entity is owned by the target (usually a Group or User).
pub const RELATION_OWNED_BY: &str = "ownedBy";
/// The entity owns the target.
pub const RELATION_OWNER_OF: &str = "ownerOf";
/// The entity consumes the target API.
pub const RELATION_CONSUMES_API: &str = "consumesApi";
/// The API is consumed by the target.
pub const RELATION_API_CONSUMED_BY: &str = "apiConsumedBy";
/// The entity provides the target API.
pub const RELATION_PROVIDES_API: &str = "providesApi";
/// The API is provided by the target.
pub const RELATION_API_PROVIDED_BY: &str = "apiProvidedBy";
/// The entity depends on the target.
pub const RELATION_DEPENDS_ON: &str = "dependsOn";
/// The target depends on the entity.
pub const RELATION_DEPENDENCY_OF: &str = "dependencyOf";
/// The entity (a group) is the parent of the target.
pub const RELATION_PARENT_OF: &str = "parentOf";
/// The entity (a group) is a child of the target.
pub const RELATION_CHILD_OF: &str = "childOf";
/// The entity is a member of the target group.
pub const RELATION_MEMBER_OF: &str = "memberOf";
/// The target is a member of the entity (a group).
pub const RELATION_HAS_MEMBER: &str = "hasMember";
/// The entity is part of the target (system, domain, component).
pub const RELATION_PART_OF: &str = "partOf";
/// The target is part of the entity.
pub const RELATION_HAS_PART: &str = "hasPart";

/// Every built-in relation type.
pub const ALL_RELATION_TYPES: &[&str] = &[
    RELATION_OWNED_BY,
    RELATION_OWNER_OF,
    RELATION_CONSUMES_API,
    RELATION_API_CONSUMED_BY,
    RELATION_PROVIDES_API,
    RELATION_API_PROVIDED_BY,
    RELATION_DEPENDS_ON,
    RELATION_DEPENDENCY_OF,
    RELATION_PARENT_OF,
    RELATION_CHILD_OF,
    RELATION_MEMBER_OF,
    RELATION_HAS_MEMBER,
    RELATION_PART_OF,
    RELATION_HAS_PART,
];

/// The inverse of a built-in relation type (`ownedBy` ↔ `ownerOf`, ...).
pub fn inverse_relation_type(type_: &str) -> Option<&'static str> {
    Some(match type_ {
        RELATION_OWNED_BY => RELATION_OWNER_OF,
        RELATION_OWNER_OF => RELATION_OWNED_BY,
        RELATION_CONSUMES_API => RELATION_API_CONSUMED_BY,
        RELATION_API_CONSUMED_BY => RELATION_CONSUMES_API,
        RELATION_PROVIDES_API => RELATION_API_PROVIDED_BY,
        RELATION_API_PROVIDED_BY => RELATION_PROVIDES_API,
        RELATION_DEPENDS_ON => RELATION_DEPENDENCY_OF,
        RELATION_DEPENDENCY_OF => RELATION_DEPENDS_ON,
        RELATION_PARENT_OF => RELATION_CHILD_OF,
        RELATION_CHILD_OF => RELATION_PARENT_OF,
        RELATION_MEMBER_OF => RELATION_HAS_MEMBER,
        RELATION_HAS_MEMBER => RELATION_MEMBER_OF,
        RELATION_PART_OF => RELATION_HAS_PART,
        RELATION_HAS_PART => RELATION_PART_OF,
        _ => return None,
    })
}

/// One directed edge between two entities.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RelationEdge {
    /// The entity the relation belongs to (appears in its `relations`).
    pub source: EntityRef,
    /// Relation type, one of the `RELATION_*` constants.
    pub type_: &'static str,
    /// The entity the relation points to.
    pub target: EntityRef,
}

impl RelationEdge {
    /// The `{type, targetRef}` entry this edge adds to its source's `relations`.
    pub fn to_relation(&self) -> Relation {
        Relation::new(self.type_, self.target.canonical())
    }
}

/// How one spec field turns into relations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelationField {
    /// Key inside `spec`.
    pub field: &'static str,
    /// Default kind for refs without one; `None` means the kind is required.
    pub default_kind: Option<&'static str>,
    /// Relation from the entity to the target.
    pub forward: &'static str,
    /// Relation from the target back to the entity.
    pub inverse: &'static str,
}

const fn rf(
    field: &'static str,
    default_kind: Option<&'static str>,
    forward: &'static str,
    inverse: &'static str,
) -> RelationField {
    RelationField {
        field,
        default_kind,
        forward,
        inverse,
    }
}

const OWNER: RelationField = rf("owner", Some("Group"), RELATION_OWNED_BY, RELATION_OWNER_OF);
const SYSTEM: RelationField = rf(
    "system",
    Some("System"),
    RELATION_PART_OF,
    RELATION_HAS_PART,
);
const DEPENDS_ON: RelationField = rf(
    "dependsOn",
    None,
    RELATION_DEPENDS_ON,
    RELATION_DEPENDENCY_OF,
);
const DEPENDENCY_OF: RelationField = rf(
    "dependencyOf",
    None,
    RELATION_DEPENDENCY_OF,
    RELATION_DEPENDS_ON,
);

const COMPONENT_FIELDS: &[RelationField] = &[
    OWNER,
    rf(
        "subcomponentOf",
        Some("Component"),
        RELATION_PART_OF,
        RELATION_HAS_PART,
    ),
    rf(
        "providesApis",
        Some("API"),
        RELATION_PROVIDES_API,
        RELATION_API_PROVIDED_BY,
    ),
    rf(
        "consumesApis",
        Some("API"),
        RELATION_CONSUMES_API,
        RELATION_API_CONSUMED_BY,
    ),
    DEPENDS_ON,
    DEPENDENCY_OF,
    SYSTEM,
];
const API_FIELDS: &[RelationField] = &[OWNER, SYSTEM];
const RESOURCE_FIELDS: &[RelationField] = &[OWNER, DEPENDS_ON, DEPENDENCY_OF, SYSTEM];
const USER_FIELDS: &[RelationField] = &[rf(
    "memberOf",
    Some("Group"),
    RELATION_MEMBER_OF,
    RELATION_HAS_MEMBER,
)];
const GROUP_FIELDS: &[RelationField] = &[
    rf(
        "parent",
        Some("Group"),
        RELATION_CHILD_OF,
        RELATION_PARENT_OF,
    ),
    rf(
        "children",
        Some("Group"),
        RELATION_PARENT_OF,
        RELATION_CHILD_OF,
    ),
    rf(
        "members",
        Some("User"),
        RELATION_HAS_MEMBER,
        RELATION_MEMBER_OF,
    ),
];
const SYSTEM_FIELDS: &[RelationField] = &[
    OWNER,
    rf(
        "domain",
        Some("Domain"),
        RELATION_PART_OF,
        RELATION_HAS_PART,
    ),
];
const DOMAIN_FIELDS: &[RelationField] = &[
    OWNER,
    rf(
        "subdomainOf",
        Some("Domain"),
        RELATION_PART_OF,
        RELATION_HAS_PART,
    ),
];
const TEMPLATE_FIELDS: &[RelationField] = &[OWNER];

/// The relation-producing spec fields of a built-in kind, in Backstage's
/// processing order.
pub fn relation_fields(kind: BuiltinKind) -> &'static [RelationField] {
    match kind {
        BuiltinKind::Component => COMPONENT_FIELDS,
        BuiltinKind::Api => API_FIELDS,
        BuiltinKind::Resource => RESOURCE_FIELDS,
        BuiltinKind::User => USER_FIELDS,
        BuiltinKind::Group => GROUP_FIELDS,
        BuiltinKind::System => SYSTEM_FIELDS,
        BuiltinKind::Domain => DOMAIN_FIELDS,
        BuiltinKind::Template => TEMPLATE_FIELDS,
        BuiltinKind::Location => &[],
    }
}

/// Every edge an entity emits, in both directions, plus the problems found.
///
/// Edges come in forward/inverse pairs, in field order; exact duplicates are
/// dropped. Fields with bad refs are reported and skipped; the rest still
/// produce edges. Unknown kinds emit nothing.
pub fn relation_edges_lenient(entity: &Entity) -> (Vec<RelationEdge>, Vec<RelationError>) {
    let mut edges: Vec<RelationEdge> = Vec::new();
    let mut errors = Vec::new();
    let Some(kind) = BuiltinKind::from_kind(&entity.kind) else {
        return (edges, errors);
    };
    let self_ref = entity.entity_ref();
    let namespace = entity.namespace();
    for field in relation_fields(kind) {
        let Some(value) = entity.spec_value(field.field) else {
            continue;
        };
        let path = format!("spec.{}", field.field);
        let targets: Vec<(String, &str)> = match value {
            Value::Null => continue,
            Value::String(s) => vec![(path.clone(), s.as_str())],
            Value::Array(items) => {
                let mut targets = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => targets.push((format!("{path}[{i}]"), s.as_str())),
                        other => errors.push(RelationError::WrongType {
                            path: format!("{path}[{i}]"),
                            expected: "an entity reference string",
                            found: describe_value(other),
                        }),
                    }
                }
                // Backstage sorts string arrays before emitting.
                targets.sort_by(|a, b| a.1.cmp(b.1));
                targets
            }
            other => {
                errors.push(RelationError::WrongType {
                    path,
                    expected: "an entity reference string or an array of them",
                    found: describe_value(other),
                });
                continue;
            }
        };
        let defaults = RefDefaults::new(field.default_kind, namespace);
        for (target_path, target) in targets {
            match parse_entity_ref(target, defaults) {
                Ok(target_ref) => {
                    edges.push(RelationEdge {
                        source: self_ref.clone(),
                        type_: field.forward,
                        target: target_ref.clone(),
                    });
                    edges.push(RelationEdge {
                        source: target_ref,
                        type_: field.inverse,
                        target: self_ref.clone(),
                    });
                }
                Err(source) => errors.push(RelationError::InvalidRef {
                    path: target_path,
                    value: target.to_string(),
                    source,
                }),
            }
        }
    }
    dedup_keep_first(&mut edges);
    (edges, errors)
}

/// Drops repeated edges, keeping each first occurrence in place. An entity
/// has a handful of edges, where comparing with the kept ones beats hashing
/// (which would clone every ref); a set takes over for long lists.
fn dedup_keep_first(edges: &mut Vec<RelationEdge>) {
    if edges.len() <= 64 {
        let mut kept = 0;
        for i in 0..edges.len() {
            if !edges[..kept].contains(&edges[i]) {
                edges.swap(kept, i);
                kept += 1;
            }
        }
        edges.truncate(kept);
    } else {
        let mut seen = std::collections::HashSet::with_capacity(edges.len());
        let keep: Vec<bool> = edges.iter().map(|e| seen.insert(e)).collect();
        let mut keep = keep.into_iter();
        edges.retain(|_| keep.next().unwrap_or(false));
    }
}

/// Every edge an entity emits, in both directions; fails if any spec field
/// holds a bad reference (as Backstage's processor fails the entity).
///
/// For a Component with `owner: team-a` this includes
/// `(component:default/x, ownedBy, group:default/team-a)` and
/// `(group:default/team-a, ownerOf, component:default/x)`.
pub fn relation_edges(entity: &Entity) -> Result<Vec<RelationEdge>, RelationErrors> {
    let (edges, errors) = relation_edges_lenient(entity);
    if errors.is_empty() {
        Ok(edges)
    } else {
        Err(RelationErrors {
            entity: entity.ref_string(),
            errors,
        })
    }
}

/// The entity's own outgoing relations generated from its spec: the edges
/// whose source is the entity (its forward edges, plus inverse edges when it
/// refers to itself), sorted by type then target and deduplicated.
///
/// Served entities also carry inverse relations emitted by other entities;
/// assembling those is the store's job (see [`relation_edges`]).
pub fn relations_for(entity: &Entity) -> Result<Vec<Relation>, RelationErrors> {
    let self_ref = entity.entity_ref();
    let edges = relation_edges(entity)?;
    let mut relations: Vec<Relation> = edges
        .iter()
        .filter(|e| e.source == self_ref)
        .map(RelationEdge::to_relation)
        .collect();
    crate::entity::sort_relations(&mut relations);
    Ok(relations)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(source: &str, target: &str) -> RelationEdge {
        RelationEdge {
            source: EntityRef::new("Component", "default", source),
            type_: RELATION_DEPENDS_ON,
            target: EntityRef::new("Component", "default", target),
        }
    }

    #[test]
    fn repeated_edges_are_dropped_keeping_first_order() {
        // Both paths: the short list's pairwise scan and the long list's set.
        for len in [6usize, 300] {
            let mut edges = Vec::new();
            for i in 0..len {
                edges.push(edge("a", &format!("t{}", i % (len / 2))));
            }
            // Refs compare case-insensitively, like Backstage's.
            edges.push(edge("A", "T0"));
            dedup_keep_first(&mut edges);
            let targets: Vec<String> = edges.iter().map(|e| e.target.name.clone()).collect();
            let expected: Vec<String> = (0..len / 2).map(|i| format!("t{i}")).collect();
            assert_eq!(targets, expected, "list of {len}");
        }
    }
}
