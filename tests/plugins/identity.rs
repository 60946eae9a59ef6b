//! Plugin identity: a plugin's name, and with it its grants, belongs to the file
//! named after it (`compat.wasm` for `compat`), and optionally to one pinned
//! build. A squatter (another file declaring `compat`) is refused in every load
//! order, before or after the real plugin, while running and at start-up. Load
//! errors name files relative to the plugins directory, never server paths.

use crate::{component, config, render, start, texts, wait_loaded, wait_refused};
use portal_tests::{PortalProcess, built_plugin, install_plugin};

/// `compat` is granted a config value and a secret: what a squatter would be after.
const GRANTS: &str = "    compat:\n      config: { greeting: hi }\n      secrets: [compat-token]";
const SECRETS: &str = "secrets:\n  compat-token: { value: s3cret }";

/// The plugins directory as the server sees it (absolute): it must not leak.
fn server_path(portal: &PortalProcess) -> String {
    portal.dir.path().display().to_string()
}

fn assert_refused_squatter(portal: &PortalProcess, file: &str) {
    let refused = wait_refused(portal, file);
    assert_eq!(refused["state"], "rejected", "{refused}");
    assert!(
        refused["name"].is_null(),
        "a squatter holds no name: {refused}"
    );
    let message = refused["loadError"]["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("{file} declares plugin `compat`"))
            && message.contains("only compat.wasm may provide `compat`"),
        "the error names the squatter and the file that holds the name: {message}"
    );
    assert!(
        !message.contains(&server_path(portal)),
        "no server path in {message}"
    );
}

/// The real plugin serves, with its grants (the greeting comes from its config).
fn assert_real_plugin_serves(portal: &PortalProcess) {
    let loaded = wait_loaded(portal, "compat.wasm", "1.0.0");
    assert_eq!(loaded["name"], "compat");
    assert!(
        loaded["granted"]["secrets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "compat-token"),
        "{loaded}"
    );
    let (code, body) = render(portal, "compat", "echo", &component("payments"));
    assert_eq!(code, 200, "{body}");
    assert!(
        texts(&body["view"])
            .iter()
            .any(|t| t.contains("hi payments from compat 1.0.0")),
        "{body}"
    );
}

fn names_held(portal: &PortalProcess) -> Vec<(String, String)> {
    let list = portal.get_json("/api/plugins").unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"].is_string())
        .map(|s| {
            (
                s["file"].as_str().unwrap().to_owned(),
                s["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_squatter_never_takes_a_name_in_any_load_order() {
    let portal = start(GRANTS, SECRETS);
    let dir = portal.plugins_dir();
    let compat = built_plugin("compat.wasm");

    // Squatters first, one sorting before the real file and one after.
    install_plugin(&dir, &compat, "a-compat.wasm");
    install_plugin(&dir, &compat, "zz-compat.wasm");
    assert_refused_squatter(&portal, "a-compat.wasm");
    assert_refused_squatter(&portal, "zz-compat.wasm");

    // Then the real plugin: it gets its name and its grants.
    install_plugin(&dir, &compat, "compat.wasm");
    assert_real_plugin_serves(&portal);

    // A squatter arriving after it.
    install_plugin(&dir, &compat, "b-compat.wasm");
    assert_refused_squatter(&portal, "b-compat.wasm");
    assert_eq!(
        names_held(&portal),
        vec![("compat.wasm".to_owned(), "compat".to_owned())]
    );

    // Restarts load every file at once, in whatever order they finish.
    let mut portal = portal;
    for _ in 0..2 {
        portal = portal.restart().expect("portal restarts");
        assert_real_plugin_serves(&portal);
        for squatter in ["a-compat.wasm", "b-compat.wasm", "zz-compat.wasm"] {
            assert_refused_squatter(&portal, squatter);
        }
        assert_eq!(
            names_held(&portal),
            vec![("compat.wasm".to_owned(), "compat".to_owned())]
        );
    }

    // Without the real plugin, the name stays free: no squatter takes it.
    std::fs::remove_file(portal.plugins_dir().join("compat.wasm")).unwrap();
    let portal = portal.restart().expect("portal restarts");
    for squatter in ["a-compat.wasm", "b-compat.wasm", "zz-compat.wasm"] {
        assert_refused_squatter(&portal, squatter);
    }
    let (code, body) = render(&portal, "compat", "echo", &component("payments"));
    assert_eq!(code, 404, "{body}");
    assert!(names_held(&portal).is_empty());
}

#[test]
fn a_pinned_hash_refuses_every_other_build() {
    let portal = start(GRANTS, SECRETS);
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("compat.wasm"),
        "compat.wasm",
    );
    let loaded = wait_loaded(&portal, "compat.wasm", "1.0.0");
    let actual = loaded["sha256"].as_str().unwrap().to_owned();
    assert_eq!(actual.len(), 64);

    // Pinned to another build: refused, saying which hash was expected and found.
    let config_path = portal.dir.path().join("portal.yaml");
    let write_config = |pin: &str| {
        let grants = format!("{GRANTS}\n      sha256: {pin}");
        std::fs::write(&config_path, config(&grants, SECRETS)).unwrap();
    };
    let other = "0123456789abcdef".repeat(4);
    write_config(&other);
    let portal = portal.restart().expect("portal restarts");
    let refused = wait_refused(&portal, "compat.wasm");
    assert_eq!(refused["state"], "rejected");
    let message = refused["loadError"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("has SHA-256 {actual}"))
            && message.contains(&format!("plugins.grants.compat.sha256 pins {other}")),
        "{message}"
    );
    let (code, _) = render(&portal, "compat", "echo", &component("payments"));
    assert_eq!(code, 404, "a refused build serves nothing");

    // Pinned to this build (any case): it loads with its grants.
    write_config(&actual.to_ascii_uppercase());
    let portal = portal.restart().expect("portal restarts");
    assert_real_plugin_serves(&portal);
}

#[test]
fn load_errors_show_no_server_paths() {
    let portal = start("", "");
    let dir = portal.plugins_dir();
    std::fs::write(dir.join(".broken.tmp"), b"not wasm at all").unwrap();
    std::fs::rename(dir.join(".broken.tmp"), dir.join("broken.wasm")).unwrap();
    install_plugin(&dir, &built_plugin("compat.wasm"), "not-compat.wasm");
    let broken = wait_refused(&portal, "broken.wasm");
    wait_refused(&portal, "not-compat.wasm");

    let message = broken["loadError"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("broken.wasm is not a WebAssembly component"),
        "{message}"
    );
    let server_path = server_path(&portal);
    let list = portal.get_json("/api/plugins").unwrap();
    for item in list["items"].as_array().unwrap() {
        let text = item.to_string();
        assert!(!text.contains(&server_path), "server path in {text}");
    }
    let one = portal.get_json("/api/plugins/broken.wasm").unwrap();
    assert!(!one.to_string().contains(&server_path), "{one}");

    // The plugins page shows the same errors, without the path either.
    let page = portal
        .get("/plugins")
        .send()
        .unwrap()
        .text()
        .unwrap_or_default();
    assert!(page.contains("broken.wasm"), "the page lists the file");
    for file in ["broken.wasm", "not-compat.wasm"] {
        let absolute = dir.join(file).display().to_string();
        assert!(!page.contains(&absolute), "{absolute} on the plugins page");
    }
}
