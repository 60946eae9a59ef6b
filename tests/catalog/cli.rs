//! `portal catalog validate` and `portal catalog import`.

use crate::{get, wait_entity, write_fixture};
use portal_tests::{PortalProcess, portal_bin};
use std::process::Command;

#[test]
fn validate_reports_file_and_line_and_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let out = Command::new(portal_bin())
        .args(["catalog", "validate"])
        .arg(dir.path().join("org.yaml"))
        .arg(dir.path().join("components.yaml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("10 valid entities, 0 problems in 2 files"),
        "{stdout}"
    );

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: ok}\nspec: {type: service, lifecycle: production, owner: a}\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: Not Valid\nspec: {type: service, lifecycle: production, owner: a}\n---\nkind: [oops\n",
    )
    .unwrap();
    let out = Command::new(portal_bin())
        .args(["catalog", "validate"])
        .arg(&bad)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let shown = bad.display().to_string();
    assert!(
        stdout.contains(&format!("{shown}:6: error: InputError")),
        "{stdout}"
    );
    assert!(stdout.contains("error: InputError: YAML error"), "{stdout}");
    assert!(
        stdout.contains("1 valid entities, 2 problems in 1 file"),
        "{stdout}"
    );
}

#[test]
fn import_fills_the_data_directory_with_progress() {
    // A tree of catalog files (a directory location reads every YAML below it).
    let dir = tempfile::tempdir().unwrap();
    let component = |name: &str| {
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {name}}}\nspec: {{type: service, lifecycle: production, owner: team-a}}\n"
        )
    };
    for (path, name) in [
        ("a/catalog-info.yaml", "extra-service"),
        ("b/c/catalog-info.yaml", "payments"),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, component(name)).unwrap();
    }
    let mut portal = PortalProcess::start("catalog: {}\n").unwrap();
    portal.kill();
    let out = Command::new(portal_bin())
        .args(["catalog", "import"])
        .arg(dir.path())
        .arg("--data-dir")
        .arg(portal.data_dir())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("imported"), "{stdout}");
    let portal = portal.restart().unwrap();
    // Directory locations read every YAML file below them.
    wait_entity(&portal, "component/default/extra-service");
    wait_entity(&portal, "component/default/payments");
    let (_, locations) = get(&portal, "/api/catalog/locations");
    assert_eq!(locations.as_array().unwrap().len(), 1, "{locations}");
}
