//! Table-driven tests of the field validators and of whole-entity validation.

use portal_catalog_model::validate::*;
use portal_catalog_model::{Entity, ValidationError, ValidationErrors, ValidationMode};
use serde_json::{Value, json};

fn check_table(name: &str, f: fn(&str) -> bool, valid: &[&str], invalid: &[&str]) {
    for v in valid {
        assert!(f(v), "{name}: expected {v:?} to be valid");
    }
    for v in invalid {
        assert!(!f(v), "{name}: expected {v:?} to be invalid");
    }
}

#[test]
fn entity_names() {
    let max = "a".repeat(63);
    let too_long = "a".repeat(64);
    check_table(
        "name",
        is_valid_entity_name,
        &[
            "a", "A", "0", "abc", "a-b", "a_b", "a.b", "a--b", "a..b", "A1-b_c.D", "x9", &max,
        ],
        &[
            "", "-a", "a-", "_a", ".a", "a_", "a.", "a b", "a/b", "a:b", "ä", "a!", &too_long,
        ],
    );
}

#[test]
fn namespaces() {
    let max = "n".repeat(63);
    let too_long = "n".repeat(64);
    check_table(
        "namespace",
        is_valid_namespace,
        &["default", "a", "a-b", "a--b", "0", "abc123", "1-2", &max],
        &[
            "", "Default", "DEFAULT", "a_b", "a.b", "-a", "a-", "a b", "ä", &too_long,
        ],
    );
}

#[test]
fn kinds() {
    let max = format!("K{}", "a".repeat(62));
    let too_long = format!("K{}", "a".repeat(63));
    check_table(
        "kind",
        is_valid_kind,
        &["Component", "API", "a", "Z9", "myKind2", &max],
        &[
            "", "1a", "a-b", "a_b", "a.b", "Kind!", "Kä", " Kind", &too_long,
        ],
    );
}

#[test]
fn api_versions() {
    let long_suffix = format!("x/{}", "v".repeat(64));
    let max_suffix = format!("x/{}", "v".repeat(63));
    check_table(
        "apiVersion",
        is_valid_api_version,
        &[
            "backstage.io/v1alpha1",
            "backstage.io/v1beta1",
            "scaffolder.backstage.io/v1beta3",
            "my-company.net/v1",
            "v1",
            "a/b",
            "a--b.io/V1",
            &max_suffix,
        ],
        &[
            "",
            "/v1",
            "backstage.io/",
            "a/b/c",
            "Backstage.io/v1",
            "backstage.io/v1-alpha",
            "backstage.io/v1.0",
            "1.0",
            "-a.io/v1",
            "a..b/v1",
            "a_b.io/v1",
            &long_suffix,
        ],
    );
}

#[test]
fn label_keys_values_and_annotation_keys() {
    let valid_keys = [
        "a",
        "A",
        "backstage.io/x",
        "example.com/a.b_c-d",
        "a/b",
        "github.com/project-slug",
        "backstage.io/techdocs-ref",
    ];
    let invalid_keys = [
        "",
        "/a",
        "a/",
        "a/b/c",
        "Example.com/a",
        "a b",
        "a_/b",
        "x/-a",
        "github.com/project slug",
        "http://x",
    ];
    check_table("label key", is_valid_label_key, &valid_keys, &invalid_keys);
    check_table(
        "annotation key",
        is_valid_annotation_key,
        &valid_keys,
        &invalid_keys,
    );
    let too_long = "v".repeat(64);
    check_table(
        "label value",
        is_valid_label_value,
        &["", "a", "A-b.c_d", "0"],
        &["-", "a b", "a/b", "a-", &too_long],
    );
}

#[test]
fn dns_subdomains() {
    let label = "a".repeat(63);
    let ok = [label.as_str(); 3].join(".") + "." + &"b".repeat(61); // 253 chars
    let too_long = ok.clone() + "b";
    check_table(
        "dns subdomain",
        is_valid_dns_subdomain,
        &["a", "a.b", "a-b.c-d", &ok],
        &["", ".", "a.", ".a", "A.b", "a_b.c", &too_long],
    );
}

#[test]
fn tags() {
    let max = "t".repeat(63);
    let too_long = "t".repeat(64);
    check_table(
        "tag",
        is_valid_tag,
        &[
            "java", "a-b", "c++", "c#", "a:b", "0", "a-b-c", "+", "#:+", &max,
        ],
        &[
            "", "Java", "a--b", "-a", "a-", "a_b", "a.b", "a b", "-", &too_long,
        ],
    );
}

#[test]
fn urls() {
    check_table(
        "url",
        is_valid_url,
        &[
            "https://example.com",
            "http://localhost:3000/x?y#z",
            "mailto:a@b.com",
            "slack://channel?id=1",
            "file:///tmp/x",
            "https://user:pw@host.com:8080/p",
            "http://[::1]:80/",
            "https://例子.测试/",
            "localhost:3000",
            "  https://trim.me  ",
            "ftp://x.y",
            "https://10.0.0.1/",
            "https:example.com",
            "urn:isbn:123",
        ],
        &[
            "",
            "example.com",
            "/relative/path",
            "https://",
            "http://exa mple.com",
            "http://host:99999",
            "http://host:abc",
            "http://1.2.3.256",
            "://x",
            "1http://x",
            "https://a<b.com",
            "http://:80",
            "https://[::1",
        ],
    );
}

#[test]
fn non_blank_strings() {
    check_table(
        "non blank",
        is_non_blank_string,
        &["a", " a "],
        &["", "  ", "\t\n"],
    );
}

// ---------------------------------------------------------------------------
// Whole entities
// ---------------------------------------------------------------------------

fn base() -> Value {
    json!({
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w1"},
        "spec": {"anything": [1, {"goes": true}]}
    })
}

fn with(mut v: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut v
    } else {
        v.pointer_mut(parent).unwrap()
    };
    target
        .as_object_mut()
        .unwrap()
        .insert(key.to_string(), value);
    v
}

fn without(mut v: Value, pointer: &str) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = if parent.is_empty() {
        &mut v
    } else {
        v.pointer_mut(parent).unwrap()
    };
    target.as_object_mut().unwrap().remove(key);
    v
}

fn errors_of(v: Value) -> ValidationErrors {
    Entity::from_value(v.clone()).expect_err(&format!("expected invalid: {v}"))
}

/// Asserts exactly one error, with the given path, whose message mentions `needle`.
fn assert_one_error(v: Value, path: &str, needle: &str) -> ValidationError {
    let errs = errors_of(v);
    assert_eq!(errs.len(), 1, "expected one error, got {errs}");
    let e = errs.errors[0].clone();
    assert_eq!(e.path(), Some(path), "wrong path in {e}");
    let msg = e.to_string();
    assert!(msg.contains(path), "message should name the path: {msg}");
    assert!(
        msg.contains(needle),
        "message should contain {needle:?}: {msg}"
    );
    e
}

#[test]
fn valid_entities_pass() {
    let e = Entity::from_value(base()).unwrap();
    assert_eq!(e.kind, "Widget");
    let full = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Widget",
        "metadata": {
            "name": "My.Widget_1",
            "namespace": "team-ns",
            "title": "My widget",
            "description": "",
            "labels": {"example.com/tier": "gold", "empty": ""},
            "annotations": {"backstage.io/techdocs-ref": "dir:.", "x": "any value at all: !@#"},
            "tags": ["java", "c++"],
            "links": [
                {"url": "https://example.com"},
                {"url": "https://example.com/a", "title": "A", "icon": "dashboard", "type": "admin"}
            ],
            "uid": "u",
            "etag": "e",
            "customKey": {"allowed": true}
        }
    });
    let e = Entity::from_value(full).unwrap();
    assert_eq!(e.metadata.extra["customKey"], json!({"allowed": true}));
    assert_eq!(e.namespace(), "team-ns");
}

#[test]
fn root_must_be_object() {
    for v in [json!(null), json!([]), json!("x"), json!(1)] {
        let errs = errors_of(v);
        assert!(matches!(
            errs.errors[0],
            ValidationError::NotAnObject { .. }
        ));
    }
}

#[test]
fn unknown_root_fields_are_rejected() {
    let errs = errors_of(with(base(), "/extra", json!(1)));
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs.errors[0],
        ValidationError::UnknownRootField {
            field: "extra".into(),
            allowed: "apiVersion, kind, metadata, spec"
        }
    );
    let text = errs.to_string();
    assert!(text.contains("Unknown field \"extra\""), "{text}");
    assert!(
        text.contains("widget:default/w1"),
        "names the entity: {text}"
    );
    assert!(errs.messages()[0].starts_with("Entity widget:default/w1: "));
    // Output-only fields are unknown on input, but fine for stored entities.
    let stored = with(with(base(), "/relations", json!([])), "/status", json!({}));
    assert_eq!(errors_of(stored.clone()).len(), 2);
    assert!(Entity::from_value_with(stored, ValidationMode::Stored).is_ok());
    assert_eq!(
        Entity::from_value_with(with(base(), "/bogus", json!(1)), ValidationMode::Stored)
            .unwrap_err()
            .len(),
        1
    );
}

#[test]
fn required_envelope_fields() {
    assert_one_error(without(base(), "/apiVersion"), "apiVersion", "required");
    assert_one_error(without(base(), "/kind"), "kind", "required");
    assert_one_error(without(base(), "/metadata"), "metadata", "required");
    assert_one_error(
        without(base(), "/metadata/name"),
        "metadata.name",
        "required",
    );
    // spec is optional for unknown kinds.
    assert!(Entity::from_value(without(base(), "/spec")).is_ok());
}

#[test]
fn envelope_formats() {
    let cases: &[(&str, Value, &str, &str)] = &[
        ("/apiVersion", json!("a/b/c"), "apiVersion", "a/b/c"),
        ("/apiVersion", json!(""), "apiVersion", "non empty"),
        ("/apiVersion", json!(1), "apiVersion", "must be a string"),
        ("/kind", json!("1Widget"), "kind", "1Widget"),
        ("/kind", json!(null), "kind", "null"),
        ("/metadata", json!("x"), "metadata", "an object"),
        ("/spec", json!([1]), "spec", "an object"),
        ("/spec", json!(null), "spec", "an object"),
        ("/metadata/name", json!("-bad-"), "metadata.name", "-bad-"),
        (
            "/metadata/name",
            json!(42),
            "metadata.name",
            "a number (42)",
        ),
        (
            "/metadata/namespace",
            json!("Team"),
            "metadata.namespace",
            "Team",
        ),
        (
            "/metadata/namespace",
            json!(null),
            "metadata.namespace",
            "null",
        ),
        (
            "/metadata/namespace",
            json!(""),
            "metadata.namespace",
            "non empty",
        ),
        ("/metadata/title", json!(""), "metadata.title", "non empty"),
        ("/metadata/title", json!(3), "metadata.title", "a string"),
        (
            "/metadata/description",
            json!(3),
            "metadata.description",
            "a string",
        ),
        ("/metadata/uid", json!(""), "metadata.uid", "non empty"),
        ("/metadata/etag", json!(false), "metadata.etag", "a string"),
        (
            "/metadata/labels",
            json!([]),
            "metadata.labels",
            "an object",
        ),
        (
            "/metadata/labels",
            json!({"ok": "bad value"}),
            "metadata.labels.ok",
            "bad value",
        ),
        (
            "/metadata/labels",
            json!({"ok": 1}),
            "metadata.labels.ok",
            "a number",
        ),
        (
            "/metadata/labels",
            json!({"bad key": "v"}),
            "metadata.labels",
            "bad key",
        ),
        (
            "/metadata/annotations",
            json!({"bad key": "v"}),
            "metadata.annotations",
            "bad key",
        ),
        (
            "/metadata/annotations",
            json!({"a": 1}),
            "metadata.annotations.a",
            "must be a string",
        ),
        (
            "/metadata/annotations",
            json!("x"),
            "metadata.annotations",
            "an object",
        ),
        (
            "/metadata/tags",
            json!(["java", "ok", "Bad_Tag"]),
            "metadata.tags[2]",
            "Bad_Tag",
        ),
        (
            "/metadata/tags",
            json!(["java", 5]),
            "metadata.tags[1]",
            "a number",
        ),
        (
            "/metadata/tags",
            json!(["java", ""]),
            "metadata.tags[1]",
            "[a-z0-9:+#]",
        ),
        ("/metadata/tags", json!("java"), "metadata.tags", "an array"),
        ("/metadata/links", json!({}), "metadata.links", "an array"),
        (
            "/metadata/links",
            json!(["https://x.com"]),
            "metadata.links[0]",
            "a link object",
        ),
        (
            "/metadata/links",
            json!([{"title": "t"}]),
            "metadata.links[0].url",
            "required",
        ),
        (
            "/metadata/links",
            json!([{"url": "not a url"}]),
            "metadata.links[0].url",
            "not a url",
        ),
        (
            "/metadata/links",
            json!([{"url": 5}]),
            "metadata.links[0].url",
            "a number",
        ),
        (
            "/metadata/links",
            json!([{"url": "https://x.com", "title": "  "}]),
            "metadata.links[0].title",
            "non empty",
        ),
        (
            "/metadata/links",
            json!([{"url": "https://x.com", "icon": "bad icon"}]),
            "metadata.links[0].icon",
            "bad icon",
        ),
        (
            "/metadata/links",
            json!([{"url": "https://x.com", "type": ""}]),
            "metadata.links[0].type",
            "non empty",
        ),
        (
            "/metadata/links",
            json!([{"url": "https://x.com", "type": 1}]),
            "metadata.links[0].type",
            "a string",
        ),
    ];
    for (pointer, value, path, needle) in cases {
        assert_one_error(with(base(), pointer, value.clone()), path, needle);
    }
}

#[test]
fn label_key_error_names_key() {
    let e = assert_one_error(
        with(base(), "/metadata/labels", json!({"Example.com/x": "v"})),
        "metadata.labels",
        "Example.com/x",
    );
    assert!(matches!(e, ValidationError::InvalidKey { .. }));
}

#[test]
fn duplicate_case_keys_are_rejected() {
    let v = with(base(), "/spec", json!({"Foo": 1, "foo": 2}));
    let errs = errors_of(v);
    assert_eq!(errs.len(), 1);
    assert_eq!(
        errs.errors[0],
        ValidationError::DuplicateCaseKeys {
            keys: vec!["spec.foo".into()]
        }
    );
    assert!(
        errs.to_string()
            .contains("Entity has duplicate keys that vary only in casing, 'spec.foo'"),
        "{errs}"
    );
    // Annotations that differ only in case collide too.
    let v = with(
        base(),
        "/metadata/annotations",
        json!({"a/b": "1", "a/B": "2"}),
    );
    let errs = errors_of(v);
    assert!(matches!(
        errs.errors[0],
        ValidationError::DuplicateCaseKeys { .. }
    ));
    // Same key name at different levels is fine.
    assert!(Entity::from_value(with(base(), "/spec", json!({"foo": {"Foo": 1}}))).is_ok());
}

#[test]
fn all_errors_are_collected() {
    let v = json!({
        "apiVersion": "bad/api/version",
        "kind": "Widget",
        "metadata": {"name": "ok", "namespace": "Bad", "tags": ["Bad"], "links": [{"url": "nope"}]},
        "spec": {},
        "oops": true
    });
    let errs = errors_of(v);
    let paths: Vec<_> = errs.iter().filter_map(|e| e.path()).collect();
    for p in [
        "oops",
        "apiVersion",
        "metadata.namespace",
        "metadata.tags[0]",
        "metadata.links[0].url",
    ] {
        assert!(paths.contains(&p), "missing error for {p}: {errs}");
    }
    assert_eq!(errs.len(), 5, "{errs}");
}

#[test]
fn stored_mode_checks_relations_and_status() {
    let ok = with(
        with(
            base(),
            "/relations",
            json!([{"type": "ownedBy", "targetRef": "group:default/a"}]),
        ),
        "/status",
        json!({"items": [{"type": "t", "level": "warning", "message": "m", "error": {"name": "E", "message": "x"}}]}),
    );
    assert!(Entity::from_value_with(ok, ValidationMode::Stored).is_ok());
    let bad_cases: &[(&str, Value, &str)] = &[
        ("/relations", json!({}), "relations"),
        (
            "/relations",
            json!([{"type": "owned-by", "targetRef": "x"}]),
            "relations[0].type",
        ),
        (
            "/relations",
            json!([{"type": "ownedBy"}]),
            "relations[0].targetRef",
        ),
        ("/relations", json!([1]), "relations[0]"),
        ("/status", json!([]), "status"),
        ("/status", json!({"items": {}}), "status.items"),
        (
            "/status",
            json!({"items": [{"type": "t", "level": "fatal", "message": "m"}]}),
            "status.items[0].level",
        ),
        (
            "/status",
            json!({"items": [{"type": "t", "level": "info"}]}),
            "status.items[0].message",
        ),
        (
            "/status",
            json!({"items": [{"level": "info", "message": "m"}]}),
            "status.items[0].type",
        ),
        (
            "/status",
            json!({"items": [{"type": "t", "level": "info", "message": "m", "error": {"message": "x"}}]}),
            "status.items[0].error.name",
        ),
        (
            "/status",
            json!({"items": [{"type": "t", "level": "info", "message": "m", "error": {"name": "E", "message": "x", "code": 5}}]}),
            "status.items[0].error.code",
        ),
    ];
    for (pointer, value, path) in bad_cases {
        let errs =
            Entity::from_value_with(with(base(), pointer, value.clone()), ValidationMode::Stored)
                .expect_err(&format!("{pointer}={value} should fail"));
        assert_eq!(errs.len(), 1, "{errs}");
        assert_eq!(errs.errors[0].path(), Some(*path), "{errs}");
    }
}

#[test]
fn validate_value_and_revalidate() {
    assert!(validate_entity_value(&base(), ValidationMode::Input).is_ok());
    let mut e = Entity::from_value(base()).unwrap();
    e.metadata.tags.push("NOT VALID".into());
    let errs = e.validate(ValidationMode::Input).unwrap_err();
    assert_eq!(errs.errors[0].path(), Some("metadata.tags[0]"));
}

#[test]
fn long_values_are_truncated_in_messages() {
    let long = "x".repeat(5000);
    let errs = errors_of(with(base(), "/metadata/name", json!(long)));
    assert!(errs.to_string().len() < 1000);
}
