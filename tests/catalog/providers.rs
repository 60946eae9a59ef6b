//! Plugin entity providers feed the catalog like locations: snapshot per
//! provider, removal when the plugin goes.

use crate::{get, wait_entity, wait_gone};
use portal_tests::{PortalProcess, built_plugin, install_plugin};

#[test]
fn a_plugin_provider_feeds_and_leaves_the_catalog() {
    let portal =
        PortalProcess::start("catalog:\n  provider_refresh_interval_seconds: 3600\n").unwrap();
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("compat.wasm"),
        "compat.wasm",
    );
    let one = wait_entity(&portal, "component/default/compat-one");
    wait_entity(&portal, "component/default/compat-two");
    let a = &one["metadata"]["annotations"];
    assert_eq!(
        a["backstage.io/managed-by-location"],
        "url:compat://fixed/compat-one"
    );
    assert!(
        one["relations"]
            .to_string()
            .contains("group:default/team-compat"),
        "{one}"
    );
    assert!(one["status"]["lastConfirmedAt"].is_string());
    let (_, sources) = get(&portal, "/api/catalog/sources");
    assert!(
        sources.to_string().contains("provider:compat/fixed"),
        "{sources}"
    );
    // A refresh of a provided entity re-runs the provider.
    let (s, _) = crate::post(
        &portal,
        "/api/catalog/refresh",
        &serde_json::json!({"entityRef": "component:default/compat-one"}),
    );
    assert_eq!(s, 200);
    // The plugin goes: so do its entities.
    std::fs::remove_file(portal.plugins_dir().join("compat.wasm")).unwrap();
    wait_gone(&portal, "component/default/compat-one");
    wait_gone(&portal, "component/default/compat-two");
}
