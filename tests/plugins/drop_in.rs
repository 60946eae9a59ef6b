//! Drop-in install in each language: copy the `.wasm` into the watched
//! directory of a running portal, see it listed and answering; replace it with a
//! new version and get the new answer without a restart; delete it and it is gone.

use crate::{component, render, start, status, texts, wait_loaded};
use portal_tests::{built_plugin, install_plugin, wait_for};
use std::time::Duration;

struct Case {
    file: &'static str,
    v2: &'static str,
    plugin: &'static str,
    /// The contract version it was built against.
    wit: &'static str,
    panel: &'static str,
    /// A text the first version's answer contains, and the second's.
    answer_v1: &'static str,
    answer_v2: &'static str,
    language: &'static str,
}

fn drop_in_replace_delete(case: Case) {
    let portal = start(
        "    compat:\n      config: { greeting: hi }\n      secrets: [compat-token]",
        "secrets:\n  compat-token: { value: s3cret }",
    );
    let dir = portal.plugins_dir();

    // Drop in.
    install_plugin(
        &dir,
        &built_plugin(case.file),
        &format!("{}.wasm", case.plugin),
    );
    let file = format!("{}.wasm", case.plugin);
    let loaded = wait_loaded(&portal, &file, "1.0.0");
    assert_eq!(loaded["name"], case.plugin);
    assert_eq!(
        loaded["witVersion"], case.wit,
        "{} plugin built against its contract",
        case.language
    );
    assert!(
        loaded["extensionPoints"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "panel")
    );

    let entity = component("payments");
    let (code, body) = render(&portal, case.plugin, case.panel, &entity);
    assert_eq!(code, 200, "{} panel renders: {body}", case.language);
    let found = texts(&body["view"]);
    assert!(
        found.iter().any(|t| t.contains(case.answer_v1)),
        "{} answer should contain {:?}: {found:?}",
        case.language,
        case.answer_v1
    );

    // Replace with a new version: same file name, new content, no restart.
    install_plugin(&dir, &built_plugin(case.v2), &file);
    let loaded = wait_loaded(&portal, &file, "2.0.0");
    assert_eq!(loaded["name"], case.plugin);
    let (code, body) = render(&portal, case.plugin, case.panel, &entity);
    assert_eq!(code, 200, "{body}");
    let found = texts(&body["view"]);
    assert!(
        found.iter().any(|t| t.contains(case.answer_v2)),
        "{} new answer should contain {:?}: {found:?}",
        case.language,
        case.answer_v2
    );

    // Delete: unloaded, and calls say so.
    std::fs::remove_file(dir.join(&file)).unwrap();
    let gone = wait_for(Duration::from_secs(10), || {
        status(&portal, &file).is_none().then_some(())
    });
    assert!(
        gone.is_some(),
        "{file} still listed after deletion: {:?}",
        status(&portal, &file)
    );
    let (code, body) = render(&portal, case.plugin, case.panel, &entity);
    assert_eq!(code, 404, "{body}");
    assert_eq!(body["error"]["name"], "NotFoundError");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains(case.plugin),
        "{body}"
    );
}

#[test]
fn rust_plugin_drop_in_replace_delete() {
    drop_in_replace_delete(Case {
        file: "compat.wasm",
        v2: "compat-2.0.0.wasm",
        plugin: "compat",
        // The Rust SDK builds against the newest 1.x; the Python and
        // JavaScript examples stay on 1.1.0, an older minor the host still serves.
        wit: "1.3.0",
        panel: "echo",
        answer_v1: "hi payments from compat 1.0.0",
        answer_v2: "hi payments from compat 2.0.0",
        language: "Rust",
    });
}

#[test]
fn python_plugin_drop_in_replace_delete() {
    drop_in_replace_delete(Case {
        file: "scorecard.wasm",
        v2: "scorecard-2.0.0.wasm",
        plugin: "scorecard",
        wit: "1.1.0",
        panel: "hygiene",
        // The test entity has owner, description, lifecycle, tags, docs and links
        // but no system: 6 of 7.
        answer_v1: "scorecard 1.0.0: 6 of 7 checks pass",
        answer_v2: "scorecard 2.0.0: 6 of 7 checks pass",
        language: "Python",
    });
}

#[test]
fn javascript_plugin_drop_in_replace_delete() {
    drop_in_replace_delete(Case {
        file: "quick-links.wasm",
        v2: "quick-links-2.0.0.wasm",
        plugin: "quick-links",
        wit: "1.1.0",
        panel: "links",
        // Runbook link, GitHub repository, documentation.
        answer_v1: "quick-links 1.0.0: 3 links",
        answer_v2: "quick-links 2.0.0: 3 links",
        language: "JavaScript",
    });
}

/// While a large plugin compiles, the portal keeps answering and other plugins
/// keep working; when a replacement is broken, the previous version keeps serving.
#[test]
fn compiling_never_blocks_and_broken_replacements_keep_the_old_version() {
    let portal = start("", "");
    let dir = portal.plugins_dir();
    install_plugin(&dir, &built_plugin("compat.wasm"), "compat.wasm");
    wait_loaded(&portal, "compat.wasm", "1.0.0");

    // A fresh copy with a new hash, so nothing is cached: it has to compile. (Its
    // file is named after the plugin, as every plugin's must be.)
    let mut bytes = std::fs::read(built_plugin("quick-links-2.0.0.wasm")).unwrap();
    bytes.extend_from_slice(&custom_section(
        "portal-test-nonce",
        &std::process::id().to_le_bytes(),
    ));
    let tmp = dir.join(".quick-links.tmp");
    std::fs::write(&tmp, &bytes).unwrap();
    std::fs::rename(&tmp, dir.join("quick-links.wasm")).unwrap();

    let mut served_while_loading = 0;
    let loaded = wait_for(Duration::from_secs(120), || {
        let (code, body) = render(&portal, "compat", "echo", &component("busy"));
        assert_eq!(
            code, 200,
            "compat answers while another plugin compiles: {body}"
        );
        match status(&portal, "quick-links.wasm") {
            Some(s) if s["state"] == "loaded" => Some(s),
            _ => {
                served_while_loading += 1;
                None
            }
        }
    })
    .expect("quick-links.wasm loads");
    assert!(
        served_while_loading > 0,
        "the compile was observed in progress"
    );
    assert_eq!(loaded["name"], "quick-links");

    // Replace compat with garbage: the old version keeps serving, the error is shown.
    std::fs::write(dir.join(".compat.tmp"), b"not wasm at all").unwrap();
    std::fs::rename(dir.join(".compat.tmp"), dir.join("compat.wasm")).unwrap();
    let with_error = wait_for(Duration::from_secs(10), || {
        status(&portal, "compat.wasm").filter(|s| s["loadError"].is_object())
    })
    .expect("the broken replacement is reported");
    assert_eq!(
        with_error["state"], "loaded",
        "still serving the previous version"
    );
    assert_eq!(with_error["version"], "1.0.0");
    let message = with_error["loadError"]["message"].as_str().unwrap();
    assert!(
        message.contains("compat.wasm") && message.contains("magic bytes"),
        "{message}"
    );
    let (code, _) = render(&portal, "compat", "echo", &component("still"));
    assert_eq!(code, 200);
}

/// A custom section, which changes a component's hash without changing its meaning.
fn custom_section(name: &str, data: &[u8]) -> Vec<u8> {
    fn leb(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb(name.len(), &mut payload);
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    let mut section = vec![0u8];
    leb(payload.len(), &mut section);
    section.extend(payload);
    section
}
