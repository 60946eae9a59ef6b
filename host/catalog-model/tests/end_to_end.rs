//! Uses the public API the way a catalog store does: validate input
//! entities, collect relation edges from all of them, assemble each entity's
//! `relations`, flatten, then answer `filter=`, predicate and `fields=`
//! queries.

use std::collections::BTreeMap;

use portal_catalog_model::*;
use serde_json::{Value, json};

fn catalog() -> Vec<Value> {
    vec![
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {
                "name": "petstore",
                "tags": ["java", "web"],
                "annotations": {"backstage.io/techdocs-ref": "dir:.", "backstage.io/view-url": "https://git/petstore"}
            },
            "spec": {
                "type": "service", "lifecycle": "production", "owner": "team-a",
                "system": "shop", "providesApis": ["pets-api"], "dependsOn": ["resource:pets-db"]
            }
        }),
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "pets-api"},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "team-a", "system": "shop", "definition": "openapi: 3.0.0"}
        }),
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Resource",
            "metadata": {"name": "pets-db"},
            "spec": {"type": "database", "owner": "team-b"}
        }),
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "System",
            "metadata": {"name": "shop"},
            "spec": {"owner": "team-a"}
        }),
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Group",
            "metadata": {"name": "team-a"},
            "spec": {"type": "team", "children": [], "members": ["alice"]}
        }),
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "User",
            "metadata": {"name": "alice"},
            "spec": {"memberOf": []}
        }),
    ]
}

/// Builds the served form of every entity: validated, defaulted namespace,
/// relations from all edges whose source is the entity.
fn stitched() -> BTreeMap<String, Entity> {
    let mut entities: BTreeMap<String, Entity> = BTreeMap::new();
    let mut by_source: BTreeMap<String, Vec<Relation>> = BTreeMap::new();
    for v in catalog() {
        let mut e = Entity::from_value(v).unwrap();
        e.set_default_namespace();
        for edge in relation_edges(&e).unwrap() {
            by_source
                .entry(edge.source.canonical())
                .or_default()
                .push(edge.to_relation());
        }
        entities.insert(e.ref_string(), e);
    }
    for (r, e) in entities.iter_mut() {
        let mut rels = by_source.remove(r).unwrap_or_default();
        sort_relations(&mut rels);
        e.relations = rels;
    }
    entities
}

fn query_filter(filters: &[&str]) -> Vec<String> {
    let f = EntityFilter::parse(filters).unwrap();
    stitched()
        .iter()
        .filter(|(_, e)| f.matches(&FlatEntity::from_entity(e)))
        .map(|(r, _)| r.clone())
        .collect()
}

fn query_predicate(q: Value) -> Vec<String> {
    let p = Predicate::parse(&q).unwrap();
    stitched()
        .iter()
        .filter(|(_, e)| p.matches(&FlatEntity::from_entity(e)))
        .map(|(r, _)| r.clone())
        .collect()
}

#[test]
fn stitched_relations_include_inverse_edges() {
    let all = stitched();
    let group = &all["group:default/team-a"];
    assert_eq!(
        group.relations,
        vec![
            Relation::new("hasMember", "user:default/alice"),
            Relation::new("ownerOf", "api:default/pets-api"),
            Relation::new("ownerOf", "component:default/petstore"),
            Relation::new("ownerOf", "system:default/shop"),
        ]
    );
    let db = &all["resource:default/pets-db"];
    assert_eq!(
        db.relations,
        vec![
            Relation::new("dependencyOf", "component:default/petstore"),
            Relation::new("ownedBy", "group:default/team-b"),
        ]
    );
    let user = &all["user:default/alice"];
    assert_eq!(
        user.relations,
        vec![Relation::new("memberOf", "group:default/team-a")]
    );
    // Served entities validate in stored mode.
    for e in all.values() {
        e.validate(ValidationMode::Stored).unwrap();
    }
}

#[test]
fn filters_over_the_catalog() {
    assert_eq!(
        query_filter(&["relations.ownedBy=group:default/team-a"]),
        vec![
            "api:default/pets-api",
            "component:default/petstore",
            "system:default/shop"
        ]
    );
    assert_eq!(
        query_filter(&["kind=component,metadata.tags.java", "kind=resource"]),
        vec!["component:default/petstore", "resource:default/pets-db"]
    );
    assert_eq!(
        query_filter(&["relations.hasPart"]),
        vec!["system:default/shop"]
    );
    assert_eq!(query_filter(&["metadata.namespace=DEFAULT"]).len(), 6);
}

#[test]
fn predicates_over_the_catalog() {
    assert_eq!(
        query_predicate(
            json!({"relations": {"$contains": {"type": "partOf", "targetRef": "system:default/shop"}}})
        ),
        vec!["api:default/pets-api", "component:default/petstore"]
    );
    assert_eq!(
        query_predicate(json!({"$all": [
            {"kind": {"$in": ["component", "api"]}},
            {"$not": {"spec.type": "openapi"}}
        ]})),
        vec!["component:default/petstore"]
    );
    assert_eq!(
        query_predicate(json!({"metadata.name": {"$hasPrefix": "PETS-"}})),
        vec!["api:default/pets-api", "resource:default/pets-db"]
    );
    // Legacy filters and their predicate form agree.
    let filter = EntityFilter::parse(&["kind=group", "spec.type=database"]).unwrap();
    let predicate = filter.to_predicate();
    assert_eq!(
        query_predicate(predicate.to_value()),
        query_filter(&["kind=group", "spec.type=database"])
    );
}

#[test]
fn fields_projection_of_a_served_entity() {
    let all = stitched();
    let fields =
        parse_fields("kind,metadata.name,metadata.annotations.backstage.io/view-url,relations")
            .unwrap();
    let projected = fields.project_entity(&all["component:default/petstore"]);
    assert_eq!(projected["kind"], json!("Component"));
    assert_eq!(
        projected["metadata"],
        json!({"name": "petstore", "annotations": {"backstage.io/view-url": "https://git/petstore"}})
    );
    assert_eq!(projected["relations"].as_array().unwrap().len(), 4);
    assert!(projected.get("spec").is_none());
}

#[test]
fn location_entities_validate_and_index() {
    let spec = LocationSpec::url("https://github.com/o/r/blob/main/catalog-info.yaml");
    let e = location_entity(&spec, None).unwrap();
    let e = Entity::from_value(e.to_value()).unwrap();
    let flat = FlatEntity::from_entity(&e);
    assert!(flat.has_value("metadata.name", &spec.generated_entity_name()));
    assert!(flat.has_value(
        "metadata.annotations.backstage.io/managed-by-location",
        "url:https://github.com/o/r/blob/main/catalog-info.yaml"
    ));
}
