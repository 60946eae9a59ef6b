//! `portal plugin inspect | check | list`, as a shell user or a CI job runs them.

use portal_tests::{built_plugin, fixture, portal_bin, shared_cache_dir};
use std::process::Command;

fn portal(args: &[&str], dir: &std::path::Path) -> (i32, String) {
    let output = Command::new(portal_bin())
        .args(args)
        .env("PORTAL_DATA_DIR", dir.join("data"))
        .env("PORTAL_LOG", "error")
        .output()
        .expect("run portal");
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.code().unwrap_or(-1), text)
}

fn config_file(dir: &std::path::Path, grants: &str) -> String {
    let path = dir.join("portal.yaml");
    std::fs::write(
        &path,
        format!(
            "plugins:\n  cache_dir: {}\n  grants:\n{grants}\nsecrets:\n  compat-token: {{ value: x }}\n",
            shared_cache_dir().display()
        ),
    )
    .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn inspect_shows_contract_extension_points_and_requests() {
    let dir = tempfile::tempdir().unwrap();
    let file = fixture("plugins/compat-1.0.0.wasm");
    let (code, out) = portal(&["plugin", "inspect", file.to_str().unwrap()], dir.path());
    assert_eq!(code, 0, "{out}");
    for expected in [
        "portal:plugin@1.0.0",
        "compat 1.0.0",
        // Its file is named compat-1.0.0.wasm; installed, it must be compat.wasm.
        "Install as:  compat.wasm",
        "Panel:       echo",
        "Provider:    fixed",
        "Action:      compat:write-file",
        "secrets: compat-token",
        "catalog read: true, storage: true",
    ] {
        assert!(out.contains(expected), "{expected:?} in:\n{out}");
    }
    let (code, out) = portal(
        &["plugin", "inspect", "--json", file.to_str().unwrap()],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["summary"]["witVersion"], "1.0.0");
    assert_eq!(
        json["extensionPoints"],
        serde_json::json!(["panel", "entity-provider", "template-action"])
    );
}

#[test]
fn check_compares_requests_with_grants_and_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = built_plugin("compat.wasm");
    let plugin = plugin.to_str().unwrap();

    let granted = config_file(
        dir.path(),
        "    compat:\n      secrets: [compat-token]\n      config: { greeting: hi }\n",
    );
    let (code, out) = portal(
        &["plugin", "check", "--strict", "--config", &granted, plugin],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("OK: this plugin loads"), "{out}");
    assert!(!out.contains("Not granted"), "{out}");

    let ungranted = config_file(dir.path(), "    other: {}\n");
    let (code, out) = portal(
        &["plugin", "check", "--config", &ungranted, plugin],
        dir.path(),
    );
    assert_eq!(code, 0, "missing grants are reported, not fatal: {out}");
    assert!(
        out.contains("Not granted: secret `compat-token` (plugins.grants.compat.secrets)"),
        "{out}"
    );
    let (code, _) = portal(
        &[
            "plugin", "check", "--strict", "--config", &ungranted, plugin,
        ],
        dir.path(),
    );
    assert_eq!(code, 1, "--strict fails on missing grants");

    let bogus = dir.path().join("bogus.wasm");
    std::fs::write(&bogus, b"\0asm\x01\0\0\0").unwrap();
    let (code, out) = portal(&["plugin", "check", bogus.to_str().unwrap()], dir.path());
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("NOT LOADABLE") && out.contains("core WebAssembly module"),
        "{out}"
    );
}

#[test]
fn list_shows_every_file_and_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    std::fs::copy(
        built_plugin("ownership.wasm"),
        plugins.join("ownership.wasm"),
    )
    .unwrap();
    std::fs::write(plugins.join("broken.wasm"), b"garbage").unwrap();
    let config = config_file(dir.path(), "    other: {}\n");
    let (code, out) = portal(
        &[
            "plugin",
            "list",
            "--config",
            &config,
            "--plugins-dir",
            plugins.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("ownership.wasm") && out.contains("loaded") && out.contains("ownership 1.0.0"),
        "{out}"
    );
    assert!(
        out.contains("broken.wasm") && out.contains("rejected") && out.contains("magic bytes"),
        "{out}"
    );
}
