//! The plugin platform, end to end: real `portal serve` processes, real plugins
//! built from `plugins/` and `examples/plugins/` (Rust, Python, JavaScript), real
//! HTTP on 127.0.0.1. Run with `cargo xtask test`, which builds all of them.

mod cli;
mod collators;
mod drop_in;
mod grants;
mod hostile;
mod identity;
mod provider;
mod upgrade_safety;

use portal_tests::{PortalProcess, shared_cache_dir, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

/// A portal configuration for tests: the shared compile cache, plus `grants`
/// (YAML lines indented for `plugins.grants`) and `extra` top-level YAML.
pub fn config(grants: &str, extra: &str) -> String {
    let grants = if grants.trim().is_empty() {
        "{}".to_owned()
    } else {
        format!("\n{grants}")
    };
    format!(
        "plugins:\n  cache_dir: {}\n  grants: {grants}\n{extra}\n",
        shared_cache_dir().display()
    )
}

/// Starts a portal with the given configuration.
pub fn start(grants: &str, extra: &str) -> PortalProcess {
    PortalProcess::start(&config(grants, extra)).expect("portal starts")
}

/// The status of one plugin file from `GET /api/plugins`.
pub fn status(portal: &PortalProcess, file: &str) -> Option<Value> {
    let list = portal.get_json("/api/plugins").ok()?;
    list["items"]
        .as_array()?
        .iter()
        .find(|s| s["file"] == file)
        .cloned()
}

/// Waits until `file` is loaded at `version` (compiling Python or JavaScript
/// with Cranelift can take a while on a busy machine).
pub fn wait_loaded(portal: &PortalProcess, file: &str, version: &str) -> Value {
    wait_for(Duration::from_secs(120), || {
        status(portal, file).filter(|s| s["state"] == "loaded" && s["version"] == version)
    })
    .unwrap_or_else(|| {
        panic!(
            "{file} did not load at version {version}; status: {:?}\nlog:\n{}",
            status(portal, file),
            portal.log()
        )
    })
}

/// Waits until `file` reaches a terminal state other than loaded.
pub fn wait_refused(portal: &PortalProcess, file: &str) -> Value {
    wait_for(Duration::from_secs(60), || {
        status(portal, file).filter(|s| s["state"] == "rejected" || s["state"] == "failed")
    })
    .unwrap_or_else(|| {
        panic!(
            "{file} was not refused; status: {:?}\nlog:\n{}",
            status(portal, file),
            portal.log()
        )
    })
}

/// Renders a panel; returns the HTTP status and the JSON body.
pub fn render(portal: &PortalProcess, plugin: &str, panel: &str, entity: &Value) -> (u16, Value) {
    let response = portal
        .post(&format!("/api/plugins/{plugin}/panels/{panel}/render"))
        .json(&json!({ "entity": entity }))
        .timeout(Duration::from_secs(60))
        .send()
        .expect("render request");
    let code = response.status().as_u16();
    (code, response.json().expect("JSON body"))
}

/// Every text in a rendered view, depth first, for assertions.
pub fn texts(view: &Value) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for key in [
                    "text", "label", "value", "message", "markdown", "title", "content",
                ] {
                    if let Some(Value::String(s)) = map.get(key) {
                        out.push(s.clone());
                    }
                }
                for (_, child) in map {
                    if child.is_array() || child.is_object() {
                        walk(child, out);
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    walk(view, &mut out);
    out
}

/// A component entity in Backstage's shape.
pub fn component(name: &str) -> Value {
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": name,
            "namespace": "default",
            "description": "Processes payments for every storefront.",
            "tags": ["rust", "payments"],
            "links": [{ "url": "https://wiki.example.com/payments", "title": "Runbook" }],
            "annotations": {
                "github.com/project-slug": "acme/payments",
                "backstage.io/techdocs-ref": "dir:."
            }
        },
        "spec": { "type": "service", "lifecycle": "production", "owner": "team-a" }
    })
}

/// Asserts that the portal still serves and a well-behaved plugin still answers.
pub fn assert_healthy(portal: &PortalProcess) {
    let health = portal
        .get_json("/healthcheck")
        .expect("healthcheck answers");
    assert_eq!(health["status"], "ok");
    let (code, body) = render(portal, "compat", "echo", &component("after"));
    assert_eq!(code, 200, "compat still renders: {body}");
    assert!(texts(&body).iter().any(|t| t.contains("after")), "{body}");
}
