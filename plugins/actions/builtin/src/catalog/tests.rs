use super::*;
use crate::context::testing::Dirs;

fn run(dirs: &Dirs, text: &str) -> Result<Value> {
    write(&dirs.context(), &Input::parse(text).unwrap())
}

/// The YAML read back, as JSON.
fn read_back(dirs: &Dirs, path: &str) -> Value {
    serde_saphyr::from_str(&dirs.read(path)).unwrap()
}

const ENTITY: &str = r#"{
    "apiVersion": "backstage.io/v1alpha1",
    "kind": "Component",
    "metadata": {
        "name": "payments",
        "description": "Takes: payments # not a comment",
        "annotations": {"github.com/project-slug": "acme/payments"},
        "tags": ["rust", "payments"]
    },
    "spec": {
        "type": "service",
        "lifecycle": "production",
        "owner": "group:default/team-a",
        "replicas": 3,
        "public": false,
        "version": "1.10",
        "answer": "yes",
        "empty": "",
        "nothing": null,
        "text": "line one\nline two\n"
    }
}"#;

#[test]
fn the_entity_is_written_as_yaml_in_its_own_key_order() {
    let dirs = Dirs::new();
    run(&dirs, &format!(r#"{{"entity": {ENTITY}}}"#)).unwrap();
    let yaml = dirs.read("catalog-info.yaml");
    assert!(
        yaml.starts_with(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n"
        ),
        "{yaml}"
    );
    let spec = yaml.find("spec:").unwrap();
    assert!(yaml.find("type: service").unwrap() > spec);
    assert!(yaml.find("lifecycle").unwrap() < yaml.find("owner").unwrap());
    // Every value reads back as it was: strings that look like numbers,
    // booleans or comments stay strings.
    let expected: Value = serde_json::from_str(ENTITY).unwrap();
    assert_eq!(read_back(&dirs, "catalog-info.yaml"), expected, "{yaml}");
    assert!(
        dirs.lines
            .text()
            .contains("wrote the entity to `catalog-info.yaml`")
    );
}

#[test]
fn source_template_adds_the_annotation() {
    let dirs = Dirs::new();
    run(
        &dirs,
        &format!(r#"{{"entity": {ENTITY}, "sourceTemplate": "template:default/service", "filePath": "sub/catalog.yaml"}}"#),
    )
    .unwrap();
    let back = read_back(&dirs, "sub/catalog.yaml");
    assert_eq!(
        back["metadata"]["annotations"],
        json!({
            "github.com/project-slug": "acme/payments",
            "backstage.io/source-template": "template:default/service"
        })
    );

    // Made where the entity has no annotations, or no metadata.
    run(
        &dirs,
        r#"{"entity": {"kind": "Component"}, "sourceTemplate": "template:t"}"#,
    )
    .unwrap();
    assert_eq!(
        read_back(&dirs, "catalog-info.yaml"),
        json!({"kind": "Component", "metadata": {"annotations": {"backstage.io/source-template": "template:t"}}})
    );

    // Not added without it.
    run(&dirs, r#"{"entity": {"kind": "Component"}}"#).unwrap();
    assert_eq!(
        read_back(&dirs, "catalog-info.yaml"),
        json!({"kind": "Component"})
    );
}

#[test]
fn bad_inputs_are_refused() {
    let dirs = Dirs::new();
    let cases = [
        (r#"{}"#, "invalid-input", "input `entity` is required"),
        (
            r#"{"entity": "x"}"#,
            "invalid-input",
            "input `entity` must be an object, not a string",
        ),
        (
            r#"{"entity": {}, "filePath": "../x.yaml"}"#,
            "path-escape",
            "input `filePath` (`../x.yaml`) leads outside",
        ),
        (
            r#"{"entity": {}, "filePath": "/x.yaml"}"#,
            "path-escape",
            "is an absolute path",
        ),
        (
            r#"{"entity": {}, "filePath": "."}"#,
            "invalid-input",
            "must name a file",
        ),
        (
            r#"{"entity": {"metadata": []}, "sourceTemplate": "t"}"#,
            "invalid-input",
            "input `entity.metadata` must be an object, not a list",
        ),
        (
            r#"{"entity": {"metadata": {"annotations": "x"}}, "sourceTemplate": "t"}"#,
            "invalid-input",
            "input `entity.metadata.annotations` must be an object, not a string",
        ),
    ];
    for (input, code, message) in cases {
        let e = run(&dirs, input).unwrap_err();
        assert_eq!(e.code, code, "{input}");
        assert!(e.message.contains(message), "{input}: {}", e.message);
    }
    std::fs::create_dir(dirs.workspace.join("dir")).unwrap();
    let e = run(&dirs, r#"{"entity": {}, "filePath": "dir"}"#).unwrap_err();
    assert_eq!(e.code, "exists");
    assert!(!dirs.outside().join("x.yaml").exists());
}

#[test]
fn an_existing_file_is_replaced() {
    let dirs = Dirs::new();
    Dirs::write(&dirs.workspace, &[("catalog-info.yaml", "old: true\n")]);
    run(&dirs, r#"{"entity": {"kind": "Group"}}"#).unwrap();
    assert_eq!(
        read_back(&dirs, "catalog-info.yaml"),
        json!({"kind": "Group"})
    );
}

#[test]
fn repeated_keys_keep_their_first_place_and_last_value() {
    let ordered: Ordered = serde_json::from_str(r#"{"a": 1, "b": 2, "a": 3}"#).unwrap();
    assert_eq!(serde_saphyr::to_string(&ordered).unwrap(), "a: 3\nb: 2\n");
}
