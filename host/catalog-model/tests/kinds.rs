//! Built-in kind rules: required fields, field types, apiVersions.

use portal_catalog_model::kinds::{BuiltinKind, FieldType};
use portal_catalog_model::{Entity, ValidationError, ValidationErrors};
use serde_json::{Value, json};

fn entity(api_version: &str, kind: &str, spec: Value) -> Value {
    json!({
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "example"},
        "spec": spec
    })
}

/// A minimal valid spec for each built-in kind.
fn minimal(kind: BuiltinKind) -> Value {
    let (api, spec) = match kind {
        BuiltinKind::Component => (
            "backstage.io/v1alpha1",
            json!({"type": "service", "lifecycle": "production", "owner": "team-a"}),
        ),
        BuiltinKind::Api => (
            "backstage.io/v1alpha1",
            json!({"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": "openapi: 3.0.0"}),
        ),
        BuiltinKind::Resource => (
            "backstage.io/v1alpha1",
            json!({"type": "database", "owner": "team-a"}),
        ),
        BuiltinKind::System => ("backstage.io/v1alpha1", json!({"owner": "team-a"})),
        BuiltinKind::Domain => ("backstage.io/v1alpha1", json!({"owner": "team-a"})),
        BuiltinKind::Group => (
            "backstage.io/v1alpha1",
            json!({"type": "team", "children": []}),
        ),
        BuiltinKind::User => ("backstage.io/v1alpha1", json!({"memberOf": []})),
        BuiltinKind::Location => ("backstage.io/v1alpha1", json!({})),
        BuiltinKind::Template => (
            "scaffolder.backstage.io/v1beta3",
            json!({"type": "service", "steps": [{"id": "fetch", "action": "fetch:template", "input": {"url": "./skeleton"}}]}),
        ),
    };
    entity(api, kind.as_str(), spec)
}

fn errors_of(v: Value) -> ValidationErrors {
    Entity::from_value(v.clone()).expect_err(&format!("expected invalid: {v}"))
}

fn paths(errs: &ValidationErrors) -> Vec<String> {
    errs.iter()
        .filter_map(|e| e.path().map(str::to_string))
        .collect()
}

fn set_spec(mut v: Value, key: &str, value: Value) -> Value {
    v["spec"]
        .as_object_mut()
        .unwrap()
        .insert(key.to_string(), value);
    v
}

fn remove_spec(mut v: Value, key: &str) -> Value {
    v["spec"].as_object_mut().unwrap().remove(key);
    v
}

#[test]
fn minimal_entities_are_valid() {
    for kind in BuiltinKind::ALL {
        let v = minimal(kind);
        Entity::from_value(v.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
}

#[test]
fn every_required_field_is_required() {
    let mut checked = 0;
    for kind in BuiltinKind::ALL {
        for field in kind.spec_fields().iter().filter(|f| f.required) {
            let v = remove_spec(minimal(kind), field.name);
            let errs = errors_of(v);
            let want = format!("spec.{}", field.name);
            assert_eq!(
                paths(&errs),
                vec![want.clone()],
                "{kind} without {}: {errs}",
                field.name
            );
            assert!(
                matches!(&errs.errors[0], ValidationError::Missing { path } if *path == want),
                "{errs}"
            );
            checked += 1;
        }
    }
    // Component 3, API 4, Resource 2, System 1, Domain 1, Group 2, User 1, Template 2.
    assert_eq!(checked, 16);
}

#[test]
fn required_table_matches_reference() {
    let required = |k: BuiltinKind| -> Vec<&str> {
        k.spec_fields()
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name)
            .collect()
    };
    assert_eq!(
        required(BuiltinKind::Component),
        ["type", "lifecycle", "owner"]
    );
    assert_eq!(
        required(BuiltinKind::Api),
        ["type", "lifecycle", "owner", "definition"]
    );
    assert_eq!(required(BuiltinKind::Resource), ["type", "owner"]);
    assert_eq!(required(BuiltinKind::System), ["owner"]);
    assert_eq!(required(BuiltinKind::Domain), ["owner"]);
    assert_eq!(required(BuiltinKind::Group), ["type", "children"]);
    assert_eq!(required(BuiltinKind::User), ["memberOf"]);
    assert!(required(BuiltinKind::Location).is_empty());
    assert_eq!(required(BuiltinKind::Template), ["type", "steps"]);
}

/// A value of the wrong shape for each field type.
fn wrong_value(ty: FieldType) -> Value {
    match ty {
        FieldType::Str => json!(5),
        FieldType::StrArray => json!("not-an-array"),
        FieldType::Object => json!([1]),
        FieldType::Array => json!({"a": 1}),
        FieldType::ObjectOrArrayOfObjects => json!("x"),
        FieldType::Presence => json!("sometimes"),
        FieldType::GroupProfile | FieldType::UserProfile => json!("x"),
        FieldType::Steps => json!({"action": "x"}),
        FieldType::Remotes => json!("x"),
    }
}

#[test]
fn every_field_type_is_checked() {
    for kind in BuiltinKind::ALL {
        for field in kind.spec_fields() {
            let v = set_spec(minimal(kind), field.name, wrong_value(field.ty));
            let errs = errors_of(v);
            let want = format!("spec.{}", field.name);
            assert_eq!(paths(&errs), vec![want], "{kind}.{}: {errs}", field.name);
        }
    }
}

#[test]
fn empty_strings_and_bad_items() {
    let cases: &[(BuiltinKind, &str, Value, &str)] = &[
        (BuiltinKind::Component, "owner", json!(""), "spec.owner"),
        (
            BuiltinKind::Component,
            "providesApis",
            json!(["a", ""]),
            "spec.providesApis[1]",
        ),
        (
            BuiltinKind::Component,
            "consumesApis",
            json!(["a", 7]),
            "spec.consumesApis[1]",
        ),
        (
            BuiltinKind::Component,
            "dependsOn",
            json!([null]),
            "spec.dependsOn[0]",
        ),
        (
            BuiltinKind::Group,
            "children",
            json!(["x", ["y"]]),
            "spec.children[1]",
        ),
        (
            BuiltinKind::Group,
            "profile",
            json!({"email": ""}),
            "spec.profile.email",
        ),
        (
            BuiltinKind::User,
            "profile",
            json!({"displayName": 1}),
            "spec.profile.displayName",
        ),
        (
            BuiltinKind::User,
            "profile",
            json!({"externalHandles": {"github": 1}}),
            "spec.profile.externalHandles.github",
        ),
        (
            BuiltinKind::User,
            "memberOf",
            json!([""]),
            "spec.memberOf[0]",
        ),
        (
            BuiltinKind::Template,
            "steps",
            json!([{"id": "x"}]),
            "spec.steps[0].action",
        ),
        (
            BuiltinKind::Template,
            "steps",
            json!([{"action": 1}]),
            "spec.steps[0].action",
        ),
        (
            BuiltinKind::Template,
            "steps",
            json!([{"action": "a", "input": []}]),
            "spec.steps[0].input",
        ),
        (
            BuiltinKind::Template,
            "steps",
            json!([{"action": "a", "if": 1}]),
            "spec.steps[0].if",
        ),
        (BuiltinKind::Template, "steps", json!([1]), "spec.steps[0]"),
        (
            BuiltinKind::Template,
            "parameters",
            json!([{"a": 1}, "x"]),
            "spec.parameters[1]",
        ),
        (
            BuiltinKind::Location,
            "targets",
            json!(["./a.yaml", 1]),
            "spec.targets[1]",
        ),
    ];
    for (kind, field, value, path) in cases {
        let errs = errors_of(set_spec(minimal(*kind), field, value.clone()));
        assert_eq!(
            paths(&errs),
            vec![path.to_string()],
            "{kind}.{field}={value}: {errs}"
        );
    }
}

#[test]
fn optional_fields_accept_valid_values() {
    let cases: &[(BuiltinKind, Value)] = &[
        (
            BuiltinKind::Component,
            json!({"system": "s", "subcomponentOf": "c", "providesApis": ["a"], "consumesApis": [], "dependsOn": ["resource:db"], "dependencyOf": ["component:x"]}),
        ),
        (BuiltinKind::Api, json!({"system": "s"})),
        (
            BuiltinKind::Resource,
            json!({"dependsOn": ["resource:x"], "dependencyOf": ["component:y"], "system": "s"}),
        ),
        (
            BuiltinKind::System,
            json!({"domain": "d", "type": "product"}),
        ),
        (
            BuiltinKind::Domain,
            json!({"subdomainOf": "d", "type": "area"}),
        ),
        (
            BuiltinKind::Group,
            json!({"profile": {"displayName": "T", "email": "t@x", "picture": "https://p"}, "parent": "root", "members": ["u"], "children": ["c"]}),
        ),
        (
            BuiltinKind::User,
            json!({"profile": {"displayName": "U", "jobTitle": "Eng", "externalHandles": {"github": "u"}}, "memberOf": ["g"]}),
        ),
        (
            BuiltinKind::Location,
            json!({"type": "url", "target": "https://x/c.yaml", "targets": ["./a.yaml"], "presence": "optional"}),
        ),
        (
            BuiltinKind::Template,
            json!({
                "owner": "team-a", "lifecycle": "experimental",
                "parameters": [{"title": "Page 1", "properties": {}}],
                "secrets": {"schema": {}}, "presentation": {"buttonLabels": {"create": "Go"}},
                "output": {"links": [{"url": "https://x"}]}, "formDecorators": [{"id": "d"}],
                "EXPERIMENTAL_recovery": {"EXPERIMENTAL_strategy": "startOver"},
                "steps": [{"id": "a", "name": "A", "action": "debug:log", "if": true}]
            }),
        ),
    ];
    for (kind, extra) in cases {
        let mut v = minimal(*kind);
        for (k, val) in extra.as_object().unwrap() {
            v = set_spec(v, k, val.clone());
        }
        Entity::from_value(v.clone()).unwrap_or_else(|e| panic!("{kind}: {e}"));
    }
    // Template parameters may also be a single object.
    let v = set_spec(
        minimal(BuiltinKind::Template),
        "parameters",
        json!({"properties": {}}),
    );
    assert!(Entity::from_value(v).is_ok());
    // Unknown extra spec keys are allowed on built-in kinds.
    let v = set_spec(
        minimal(BuiltinKind::Component),
        "customThing",
        json!({"x": 1}),
    );
    assert!(Entity::from_value(v).is_ok());
}

#[test]
fn group_children_and_user_member_of_may_be_empty_but_must_exist() {
    assert!(Entity::from_value(minimal(BuiltinKind::Group)).is_ok());
    assert!(Entity::from_value(minimal(BuiltinKind::User)).is_ok());
    let errs = errors_of(remove_spec(minimal(BuiltinKind::Group), "children"));
    assert_eq!(paths(&errs), vec!["spec.children"]);
    let errs = errors_of(remove_spec(minimal(BuiltinKind::User), "memberOf"));
    assert_eq!(paths(&errs), vec!["spec.memberOf"]);
}

#[test]
fn spec_is_required_for_builtin_kinds() {
    for kind in BuiltinKind::ALL {
        let mut v = minimal(kind);
        v.as_object_mut().unwrap().remove("spec");
        let errs = errors_of(v);
        assert_eq!(paths(&errs), vec!["spec"], "{kind}: {errs}");
    }
}

#[test]
fn mcp_server_apis_use_remotes() {
    let mcp = |spec: Value| entity("backstage.io/v1alpha1", "API", spec);
    let base = json!({"type": "mcp-server", "lifecycle": "experimental", "owner": "ai"});
    let mut ok = base.clone();
    ok["remotes"] = json!([{"type": "streamable-http", "url": "http://h/mcp"}]);
    assert!(Entity::from_value(mcp(ok)).is_ok());

    // Neither definition nor remotes: remotes are required.
    let errs = errors_of(mcp(base.clone()));
    assert_eq!(paths(&errs), vec!["spec.remotes"], "{errs}");

    // A definition alone is also fine (the standard API schema passes).
    let mut with_def = base.clone();
    with_def["definition"] = json!("x");
    assert!(Entity::from_value(mcp(with_def)).is_ok());

    let mut empty = base.clone();
    empty["remotes"] = json!([]);
    let errs = errors_of(mcp(empty));
    assert_eq!(paths(&errs), vec!["spec.remotes"], "{errs}");
    assert!(errs.to_string().contains("at least one remote"), "{errs}");

    let mut bad_item = base.clone();
    bad_item["remotes"] = json!([{"type": "sse"}]);
    assert_eq!(
        paths(&errors_of(mcp(bad_item))),
        vec!["spec.remotes[0].url"]
    );

    let mut missing_owner = base;
    missing_owner["remotes"] = json!([{"type": "sse", "url": "u"}]);
    missing_owner.as_object_mut().unwrap().remove("owner");
    assert_eq!(paths(&errors_of(mcp(missing_owner))), vec!["spec.owner"]);

    // Other API types still need a definition.
    let other = entity(
        "backstage.io/v1alpha1",
        "API",
        json!({"type": "openapi", "lifecycle": "x", "owner": "o", "remotes": [{"type": "a", "url": "b"}]}),
    );
    assert_eq!(paths(&errors_of(other)), vec!["spec.definition"]);
}

#[test]
fn api_versions_per_kind() {
    for kind in BuiltinKind::ALL {
        for api in kind.api_versions() {
            let mut v = minimal(kind);
            v["apiVersion"] = json!(api);
            assert!(Entity::from_value(v).is_ok(), "{kind} {api}");
        }
        let mut v = minimal(kind);
        v["apiVersion"] = json!("backstage.io/v2");
        let errs = errors_of(v);
        assert_eq!(errs.len(), 1, "{errs}");
        assert!(
            matches!(&errs.errors[0], ValidationError::UnsupportedApiVersion { api_version, .. } if api_version == "backstage.io/v2"),
            "{errs}"
        );
        assert!(errs.to_string().contains(kind.api_versions()[0]), "{errs}");
    }
    assert_eq!(
        BuiltinKind::Component.api_versions(),
        ["backstage.io/v1alpha1", "backstage.io/v1beta1"]
    );
    assert_eq!(
        BuiltinKind::Template.api_versions(),
        ["scaffolder.backstage.io/v1beta3"]
    );
    // Old-style templates are rejected with a pointer to the right version.
    let mut old = minimal(BuiltinKind::Template);
    old["apiVersion"] = json!("backstage.io/v1beta2");
    assert!(
        errors_of(old)
            .to_string()
            .contains("scaffolder.backstage.io/v1beta3")
    );
}

#[test]
fn kind_lookup_is_case_insensitive_and_spelling_kept() {
    assert_eq!(
        BuiltinKind::from_kind("component"),
        Some(BuiltinKind::Component)
    );
    assert_eq!(BuiltinKind::from_kind("api"), Some(BuiltinKind::Api));
    assert_eq!(
        BuiltinKind::from_kind("TEMPLATE"),
        Some(BuiltinKind::Template)
    );
    assert_eq!(BuiltinKind::from_kind("Widget"), None);
    assert_eq!(BuiltinKind::Api.as_str(), "API");

    let v = entity(
        "backstage.io/v1alpha1",
        "component",
        json!({"type": "service", "lifecycle": "x"}),
    );
    let errs = errors_of(v);
    assert_eq!(
        paths(&errs),
        vec!["spec.owner"],
        "lowercase kind still gets Component rules"
    );
    let v = entity(
        "backstage.io/v1alpha1",
        "component",
        json!({"type": "service", "lifecycle": "x", "owner": "o"}),
    );
    assert_eq!(Entity::from_value(v).unwrap().kind, "component");
}

#[test]
fn unknown_kinds_get_envelope_validation_only() {
    let v = json!({
        "apiVersion": "example.com/v7",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"owner": 5, "whatever": [null]}
    });
    assert!(Entity::from_value(v).is_ok());
    // But envelope problems are still reported.
    let v =
        json!({"apiVersion": "example.com/v7", "kind": "Widget", "metadata": {"name": "bad name"}});
    assert_eq!(paths(&errors_of(v)), vec!["metadata.name"]);
}

#[test]
fn location_presence_values() {
    for ok in ["required", "optional"] {
        let v = set_spec(minimal(BuiltinKind::Location), "presence", json!(ok));
        assert!(Entity::from_value(v).is_ok());
    }
    let v = set_spec(
        minimal(BuiltinKind::Location),
        "presence",
        json!("Required"),
    );
    assert_eq!(paths(&errors_of(v)), vec!["spec.presence"]);
}
