//! Upgrade safety: plugins built against `portal:plugin@1.0.0` and frozen under
//! `tests/fixtures/plugins/` keep loading and answering on this host, which
//! implements 1.3.0 (1.1.0 added `storage.list-keys`, 1.2.0 the `git` interface
//! and `catalog.register-location`, 1.3.0 the `search-collator` export); so
//! does one built against 1.2.0. A plugin built against the newest minor can
//! use the additions.

use crate::{component, render, start, texts, wait_loaded};
use portal_tests::{built_plugin, fixture, install_plugin};
use serde_json::Value;

#[test]
fn frozen_1_0_0_plugins_load_and_answer() {
    let portal = start(
        "    compat:\n      config: { greeting: hello }\n      secrets: [compat-token]\n",
        "secrets:\n  compat-token: { value: abc }\n",
    );
    let dir = portal.plugins_dir();
    install_plugin(&dir, &fixture("plugins/compat-1.0.0.wasm"), "compat.wasm");
    install_plugin(
        &dir,
        &fixture("plugins/ownership-1.0.0.wasm"),
        "ownership.wasm",
    );
    let compat = wait_loaded(&portal, "compat.wasm", "1.0.0");
    let ownership = wait_loaded(&portal, "ownership.wasm", "1.0.0");
    assert_eq!(compat["witVersion"], "1.0.0");
    assert_eq!(ownership["witVersion"], "1.0.0");
    let list = portal.get_json("/api/plugins").unwrap();
    assert_eq!(
        list["supportedWitVersions"][0], "1.3.0",
        "the host is newer than the plugins"
    );

    // Every 1.0.0 host function still works: config, secrets, storage, log, catalog.
    let entity = component("payments");
    for renders in 1..=2 {
        let (code, body) = render(&portal, "compat", "echo", &entity);
        assert_eq!(code, 200, "{body}");
        let found = texts(&body["view"]);
        for expected in [
            "hello payments from compat 1.0.0".to_owned(),
            format!("renders: {renders}"),
            "secret: 3 chars".to_owned(),
            "wit: 1.0.0".to_owned(),
        ] {
            assert!(found.contains(&expected), "{expected:?} in {found:?}");
        }
    }
    // Its provider export too.
    let body: Value = portal
        .post("/api/plugins/compat/providers/fixed/discover")
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(body["items"].as_array().map(Vec::len), Some(2), "{body}");

    // And the frozen first-party panel.
    let (code, body) = render(&portal, "ownership", "owner", &entity);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["view"]["type"], "card");
}

#[test]
fn a_plugin_built_against_a_later_minor_uses_what_it_added() {
    let portal = start("", "");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("compat.wasm"),
        "compat.wasm",
    );
    let status = wait_loaded(&portal, "compat.wasm", "1.0.0");
    assert_eq!(status["witVersion"], "1.3.0");
    let (code, body) = render(&portal, "compat", "echo", &component("x"));
    assert_eq!(code, 200, "{body}");
    let found = texts(&body["view"]);
    assert!(found.contains(&"wit: 1.3.0".to_owned()), "{found:?}");
    // `storage.list-keys` (new in 1.1.0) sees the counter the render just stored.
    assert!(found.contains(&"keys: renders".to_owned()), "{found:?}");
}

/// Built against 1.2.0 (before search collators) and frozen: it loads, its
/// 1.2.0 additions work, and the host does not ask it for collators.
#[test]
fn a_frozen_1_2_0_plugin_loads_and_answers() {
    let portal = start("", "");
    install_plugin(
        &portal.plugins_dir(),
        &fixture("plugins/compat-1.2.0.wasm"),
        "compat.wasm",
    );
    let status = wait_loaded(&portal, "compat.wasm", "1.0.0");
    assert_eq!(status["witVersion"], "1.2.0");
    assert!(
        !status["extensionPoints"]
            .to_string()
            .contains("search-collator"),
        "{status}"
    );
    let (code, body) = render(&portal, "compat", "echo", &component("x"));
    assert_eq!(code, 200, "{body}");
    let found = texts(&body["view"]);
    assert!(found.contains(&"wit: 1.2.0".to_owned()), "{found:?}");
    assert!(found.contains(&"keys: renders".to_owned()), "{found:?}");
}
