//! Relation generation for every relation field, in both directions.

use portal_catalog_model::relations::*;
use portal_catalog_model::{Entity, EntityRef, RefError, Relation, RelationError};
use serde_json::{Value, json};

fn entity(kind: &str, namespace: Option<&str>, spec: Value) -> Entity {
    let mut metadata = json!({"name": "src"});
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    serde_json::from_value(json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": kind,
        "metadata": metadata,
        "spec": spec
    }))
    .unwrap()
}

fn edge_strings(edges: &[RelationEdge]) -> Vec<String> {
    edges
        .iter()
        .map(|e| format!("{} {} {}", e.source, e.type_, e.target))
        .collect()
}

/// For (kind, field, default target kind, forward, inverse): a bare name
/// gets the default kind and the source namespace; an explicit kind and
/// namespace are kept.
#[test]
fn every_field_in_both_directions() {
    let table: &[(&str, &str, Option<&str>, &str, &str)] = &[
        (
            "Component",
            "owner",
            Some("group"),
            RELATION_OWNED_BY,
            RELATION_OWNER_OF,
        ),
        (
            "Component",
            "subcomponentOf",
            Some("component"),
            RELATION_PART_OF,
            RELATION_HAS_PART,
        ),
        (
            "Component",
            "providesApis",
            Some("api"),
            RELATION_PROVIDES_API,
            RELATION_API_PROVIDED_BY,
        ),
        (
            "Component",
            "consumesApis",
            Some("api"),
            RELATION_CONSUMES_API,
            RELATION_API_CONSUMED_BY,
        ),
        (
            "Component",
            "dependsOn",
            None,
            RELATION_DEPENDS_ON,
            RELATION_DEPENDENCY_OF,
        ),
        (
            "Component",
            "dependencyOf",
            None,
            RELATION_DEPENDENCY_OF,
            RELATION_DEPENDS_ON,
        ),
        (
            "Component",
            "system",
            Some("system"),
            RELATION_PART_OF,
            RELATION_HAS_PART,
        ),
        (
            "API",
            "owner",
            Some("group"),
            RELATION_OWNED_BY,
            RELATION_OWNER_OF,
        ),
        (
            "API",
            "system",
            Some("system"),
            RELATION_PART_OF,
            RELATION_HAS_PART,
        ),
        (
            "Resource",
            "owner",
            Some("group"),
            RELATION_OWNED_BY,
            RELATION_OWNER_OF,
        ),
        (
            "Resource",
            "dependsOn",
            None,
            RELATION_DEPENDS_ON,
            RELATION_DEPENDENCY_OF,
        ),
        (
            "Resource",
            "dependencyOf",
            None,
            RELATION_DEPENDENCY_OF,
            RELATION_DEPENDS_ON,
        ),
        (
            "Resource",
            "system",
            Some("system"),
            RELATION_PART_OF,
            RELATION_HAS_PART,
        ),
        (
            "System",
            "owner",
            Some("group"),
            RELATION_OWNED_BY,
            RELATION_OWNER_OF,
        ),
        (
            "System",
            "domain",
            Some("domain"),
            RELATION_PART_OF,
            RELATION_HAS_PART,
        ),
        (
            "Domain",
            "owner",
            Some("group"),
            RELATION_OWNED_BY,
            RELATION_OWNER_OF,
        ),
        (
            "Domain",
            "subdomainOf",
            Some("domain"),
            RELATION_PART_OF,
            RELATION_HAS_PART,
        ),
        (
            "User",
            "memberOf",
            Some("group"),
            RELATION_MEMBER_OF,
            RELATION_HAS_MEMBER,
        ),
        (
            "Group",
            "parent",
            Some("group"),
            RELATION_CHILD_OF,
            RELATION_PARENT_OF,
        ),
        (
            "Group",
            "children",
            Some("group"),
            RELATION_PARENT_OF,
            RELATION_CHILD_OF,
        ),
        (
            "Group",
            "members",
            Some("user"),
            RELATION_HAS_MEMBER,
            RELATION_MEMBER_OF,
        ),
        (
            "Template",
            "owner",
            Some("group"),
            RELATION_OWNED_BY,
            RELATION_OWNER_OF,
        ),
    ];
    let array_fields = [
        "providesApis",
        "consumesApis",
        "dependsOn",
        "dependencyOf",
        "memberOf",
        "children",
        "members",
    ];
    for (kind, field, default_kind, forward, inverse) in table {
        let is_array = array_fields.contains(field);
        let wrap = |s: &str| if is_array { json!([s]) } else { json!(s) };
        let src = format!("{}:team-ns/src", kind.to_lowercase());

        // 1. Bare name: default kind (if any) and the source's namespace.
        if let Some(dk) = default_kind {
            let e = entity(kind, Some("team-ns"), json!({ *field: wrap("Target") }));
            let edges = relation_edges(&e).unwrap_or_else(|err| panic!("{kind}.{field}: {err}"));
            let target = format!("{dk}:team-ns/target");
            assert_eq!(
                edge_strings(&edges),
                vec![
                    format!("{src} {forward} {target}"),
                    format!("{target} {inverse} {src}")
                ],
                "{kind}.{field} bare name"
            );
        } else {
            // No default kind: a bare name is an error.
            let e = entity(kind, Some("team-ns"), json!({ *field: wrap("target") }));
            let err = relation_edges(&e).expect_err(&format!("{kind}.{field} needs a kind"));
            assert_eq!(err.errors.len(), 1);
            match &err.errors[0] {
                RelationError::InvalidRef {
                    path,
                    value,
                    source,
                } => {
                    let want_path = if is_array {
                        format!("spec.{field}[0]")
                    } else {
                        format!("spec.{field}")
                    };
                    assert_eq!(path, &want_path);
                    assert_eq!(value, "target");
                    assert!(matches!(source, RefError::MissingKind { .. }));
                }
                other => panic!("unexpected {other:?}"),
            }
            assert!(
                err.to_string().contains("component:team-ns/src")
                    || err.to_string().contains("resource:team-ns/src")
            );
        }

        // 2. Explicit kind and namespace are kept (lowercased in canonical form).
        let e = entity(
            kind,
            Some("team-ns"),
            json!({ *field: wrap("Other:Elsewhere/Thing") }),
        );
        let edges = relation_edges(&e).unwrap();
        let target = "other:elsewhere/thing";
        assert_eq!(
            edge_strings(&edges),
            vec![
                format!("{src} {forward} {target}"),
                format!("{target} {inverse} {src}")
            ],
            "{kind}.{field} explicit ref"
        );
        // The typed parts keep their spelling.
        assert_eq!(edges[0].target.kind, "Other");
        assert_eq!(edges[1].source.name, "Thing");
        assert_eq!(edges[0].type_, *forward);
        assert_eq!(inverse_relation_type(forward), Some(*inverse));

        // 3. Explicit kind, no namespace: the source namespace.
        let e = entity(kind, None, json!({ *field: wrap("user:someone") }));
        let edges = relation_edges(&e).unwrap();
        let src_default = format!("{}:default/src", kind.to_lowercase());
        assert_eq!(
            edge_strings(&edges),
            vec![
                format!("{src_default} {forward} user:default/someone"),
                format!("user:default/someone {inverse} {src_default}")
            ],
            "{kind}.{field} default namespace"
        );
    }
}

#[test]
fn component_with_owner_emits_owned_by_and_owner_of() {
    let e = entity(
        "Component",
        None,
        json!({"type": "service", "lifecycle": "production", "owner": "team-a"}),
    );
    let edges = relation_edges(&e).unwrap();
    assert_eq!(
        edges,
        vec![
            RelationEdge {
                source: EntityRef::new("Component", "default", "src"),
                type_: RELATION_OWNED_BY,
                target: EntityRef::new("Group", "default", "team-a"),
            },
            RelationEdge {
                source: EntityRef::new("group", "default", "team-a"),
                type_: RELATION_OWNER_OF,
                target: EntityRef::new("component", "default", "src"),
            },
        ]
    );
    assert_eq!(
        relations_for(&e).unwrap(),
        vec![Relation::new("ownedBy", "group:default/team-a")]
    );
    assert_eq!(
        edges[1].to_relation(),
        Relation::new("ownerOf", "component:default/src")
    );
}

#[test]
fn arrays_are_sorted_and_duplicates_dropped() {
    let e = entity(
        "Component",
        None,
        json!({"providesApis": ["zeta", "alpha", "alpha", "Mid"], "owner": "t"}),
    );
    let edges = relation_edges(&e).unwrap();
    let provided: Vec<String> = edges
        .iter()
        .filter(|e| e.type_ == RELATION_PROVIDES_API)
        .map(|e| e.target.canonical())
        .collect();
    // Sorted as strings ("Mid" < "alpha" < "zeta" by code point), deduplicated.
    assert_eq!(
        provided,
        vec!["api:default/mid", "api:default/alpha", "api:default/zeta"]
    );
    assert_eq!(edges.len(), 2 + 3 * 2);
}

#[test]
fn relations_for_is_sorted_outgoing_only() {
    let e = entity(
        "Component",
        Some("ns"),
        json!({
            "owner": "team-a",
            "system": "sys",
            "providesApis": ["b-api", "a-api"],
            "dependsOn": ["resource:db"]
        }),
    );
    assert_eq!(
        relations_for(&e).unwrap(),
        vec![
            Relation::new("dependsOn", "resource:ns/db"),
            Relation::new("ownedBy", "group:ns/team-a"),
            Relation::new("partOf", "system:ns/sys"),
            Relation::new("providesApi", "api:ns/a-api"),
            Relation::new("providesApi", "api:ns/b-api"),
        ]
    );
}

#[test]
fn group_hierarchy_and_members() {
    let e = entity(
        "Group",
        Some("org"),
        json!({"type": "team", "parent": "root", "children": ["sub-b", "sub-a"], "members": ["alice", "user:other/bob"]}),
    );
    let edges = edge_strings(&relation_edges(&e).unwrap());
    assert_eq!(
        edges,
        vec![
            "group:org/src childOf group:org/root",
            "group:org/root parentOf group:org/src",
            "group:org/src parentOf group:org/sub-a",
            "group:org/sub-a childOf group:org/src",
            "group:org/src parentOf group:org/sub-b",
            "group:org/sub-b childOf group:org/src",
            "group:org/src hasMember user:org/alice",
            "user:org/alice memberOf group:org/src",
            "group:org/src hasMember user:other/bob",
            "user:other/bob memberOf group:org/src",
        ]
    );
}

#[test]
fn depends_on_requires_a_kind_and_bad_refs_are_reported() {
    let e = entity(
        "Resource",
        None,
        json!({"owner": "t", "dependsOn": ["resource:ok", "bare", ""], "system": ":bad"}),
    );
    let err = relation_edges(&e).unwrap_err();
    let paths: Vec<String> = err
        .errors
        .iter()
        .map(|e| match e {
            RelationError::InvalidRef { path, .. } | RelationError::WrongType { path, .. } => {
                path.clone()
            }
        })
        .collect();
    // dependsOn is sorted before processing: "", "bare", "resource:ok".
    assert_eq!(
        paths,
        vec!["spec.dependsOn[2]", "spec.dependsOn[1]", "spec.system"]
    );
    let msg = err.to_string();
    assert!(msg.contains("resource:default/src"), "{msg}");
    assert!(msg.contains("\"bare\""), "{msg}");

    // The lenient form still returns the good edges.
    let (edges, errors) = relation_edges_lenient(&e);
    assert_eq!(errors.len(), 3);
    assert_eq!(
        edge_strings(&edges),
        vec![
            "resource:default/src ownedBy group:default/t",
            "group:default/t ownerOf resource:default/src",
            "resource:default/src dependsOn resource:default/ok",
            "resource:default/ok dependencyOf resource:default/src",
        ]
    );
    assert!(relations_for(&e).is_err());
}

#[test]
fn wrong_types_are_reported() {
    let e = entity(
        "Component",
        None,
        json!({"owner": 5, "providesApis": ["a", {"x": 1}]}),
    );
    let (edges, errors) = relation_edges_lenient(&e);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(matches!(&errors[0], RelationError::WrongType { path, .. } if path == "spec.owner"));
    assert!(
        matches!(&errors[1], RelationError::WrongType { path, .. } if path == "spec.providesApis[1]")
    );
    assert_eq!(edges.len(), 2, "the good api still yields two edges");
    // A single string is accepted where arrays are usual (Backstage flattens).
    let e = entity("Component", None, json!({"providesApis": "single"}));
    assert_eq!(relation_edges(&e).unwrap().len(), 2);
    // null is ignored.
    let e = entity("Component", None, json!({"system": null}));
    assert!(relation_edges(&e).unwrap().is_empty());
}

#[test]
fn unknown_kinds_and_locations_emit_nothing() {
    let e = entity("Widget", None, json!({"owner": "team-a"}));
    assert!(relation_edges(&e).unwrap().is_empty());
    let e = entity("Location", None, json!({"owner": "team-a", "target": "x"}));
    assert!(relation_edges(&e).unwrap().is_empty());
}

#[test]
fn kind_matching_is_case_insensitive() {
    let e = entity("component", None, json!({"owner": "team-a"}));
    let edges = relation_edges(&e).unwrap();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0].source.canonical(), "component:default/src");
}

#[test]
fn self_reference_keeps_both_edges() {
    let e = entity(
        "Group",
        None,
        json!({"type": "team", "children": [], "parent": "src"}),
    );
    let rels = relations_for(&e).unwrap();
    assert_eq!(
        rels,
        vec![
            Relation::new("childOf", "group:default/src"),
            Relation::new("parentOf", "group:default/src"),
        ]
    );
}

#[test]
fn relation_type_constants() {
    assert_eq!(ALL_RELATION_TYPES.len(), 14);
    for t in ALL_RELATION_TYPES {
        let inv = inverse_relation_type(t).unwrap();
        assert_eq!(inverse_relation_type(inv), Some(*t));
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
    }
    assert_eq!(inverse_relation_type("custom"), None);
    assert_eq!(RELATION_OWNED_BY, "ownedBy");
    assert_eq!(RELATION_API_PROVIDED_BY, "apiProvidedBy");
}
