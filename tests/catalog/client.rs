//! Backstage's official `@backstage/catalog-client` (npm), unchanged, calls
//! every method against a running portal (tests/js/catalog-client.mjs).

use crate::fixture_portal;
use std::process::Command;

#[test]
fn the_official_backstage_catalog_client_works_unchanged() {
    let js = portal_tests::workspace_root().join("tests").join("js");
    if !js.join("node_modules/@backstage/catalog-client").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefix"])
            .arg(&js)
            .status()
            .expect("npm is needed for this test");
        assert!(status.success(), "npm ci --prefix tests/js failed");
    }
    let (dir, portal) = fixture_portal();
    let output = Command::new("node")
        .arg(js.join("catalog-client.mjs"))
        .env("PORTAL_URL", &portal.url)
        .env("FIXTURE_DIR", dir.path())
        .output()
        .expect("node is needed for this test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(
        output.status.success(),
        "catalog-client checks failed:\n{stdout}\nportal log:\n{}",
        portal.log()
    );
    assert!(stdout.contains(" passed, 0 failed"), "{stdout}");
}
