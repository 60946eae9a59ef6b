//! Hostile plugins: each misbehaviour in its own test. The portal stops the
//! plugin with a specific error, keeps serving, and other plugins keep working.

use crate::{assert_healthy, component, render, start, status, texts, wait_loaded};
use portal_tests::{PortalProcess, built_plugin, install_plugin, stand_in::StandIn, wait_for};
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn portal_with_hostile(grants: &str, extra: &str) -> PortalProcess {
    let grants = format!("    compat:\n      config: {{ greeting: hi }}\n{grants}");
    let portal = start(&grants, extra);
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("hostile.wasm"),
        "hostile.wasm",
    );
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("compat.wasm"),
        "compat.wasm",
    );
    wait_loaded(&portal, "hostile.wasm", "1.0.0");
    wait_loaded(&portal, "compat.wasm", "1.0.0");
    portal
}

fn entity_with_arg(arg: &str) -> Value {
    let mut entity = component("victim");
    entity["metadata"]["annotations"]["hostile/arg"] = Value::String(arg.to_owned());
    entity
}

/// Renders a hostile mode and returns (status, error message).
fn provoke(portal: &PortalProcess, mode: &str, arg: &str) -> (u16, String) {
    let (code, body) = render(portal, "hostile", mode, &entity_with_arg(arg));
    let message = body["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (code, message)
}

#[test]
fn infinite_loop_is_stopped_by_the_cpu_limit() {
    let portal = portal_with_hostile("", "");
    let (code, message) = provoke(&portal, "loop", "");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("CPU time") && message.contains("hostile"),
        "{message}"
    );
    assert_healthy(&portal);
}

#[test]
fn wall_clock_timeout_applies_when_cpu_limit_is_higher() {
    let portal = portal_with_hostile(
        "    hostile:\n      limits:\n        panel: { cpu_ms: 60000, timeout_ms: 700 }\n",
        "",
    );
    let (code, message) = provoke(&portal, "loop", "");
    assert_eq!(code, 504, "{message}");
    assert!(message.contains("700 ms"), "{message}");
    assert_healthy(&portal);
}

#[test]
fn memory_bomb_is_stopped_by_the_memory_limit() {
    let portal = portal_with_hostile("", "");
    let (code, message) = provoke(&portal, "alloc", "");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("memory") && message.contains("128 MiB limit"),
        "{message}"
    );
    assert_healthy(&portal);
}

#[test]
fn runaway_recursion_is_a_stack_overflow() {
    let portal = portal_with_hostile("", "");
    // Recursion that exhausts the WebAssembly call stack.
    let (code, message) = provoke(&portal, "recurse", "");
    assert_eq!(code, 502, "{message}");
    assert!(message.contains("overflowed its stack"), "{message}");
    // Recursion that exhausts the stack compilers keep in linear memory (Rust, C):
    // it runs off the bottom of memory.
    let (code, message) = provoke(&portal, "recurse-frames", "");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("out of bounds") && message.contains("stack overflow"),
        "{message}"
    );
    assert_healthy(&portal);
}

#[test]
fn huge_output_is_refused() {
    let portal = portal_with_hostile("", "");
    let (code, message) = provoke(&portal, "huge-output", "");
    assert_eq!(code, 502, "{message}");
    // 200,001 nodes: refused either while copying (over the per-call
    // transfer limit) or when the tree is checked (over the node limit).
    assert!(
        message.contains("more data than the host copies for one call")
            || (message.contains("200001 nodes") && message.contains("limit of 5000")),
        "{message}"
    );
    let (code, message) = provoke(&portal, "huge-text", "");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("more data than the host copies for one call (8 MiB)"),
        "{message}"
    );
    assert_healthy(&portal);
}

#[test]
fn host_files_are_invisible() {
    let portal = portal_with_hostile("", "");
    // A file that certainly exists on the host, with content we can recognise.
    let secret_file = portal.dir.path().join("host-secret.txt");
    std::fs::write(&secret_file, "top secret host data").unwrap();
    for path in [
        secret_file.to_str().unwrap(),
        "/etc/passwd",
        "/proc/self/environ",
    ] {
        let (code, message) = provoke(&portal, "read-file", path);
        assert_eq!(code, 502, "{message}");
        assert!(
            message.contains("read-failed") && message.contains("cannot read file"),
            "{message}"
        );
        assert!(
            !message.contains("top secret") && !message.contains("root:"),
            "{message}"
        );
    }
    assert_healthy(&portal);
}

#[test]
fn the_environment_is_empty() {
    let portal = portal_with_hostile("", "");
    let (code, message) = provoke(&portal, "read-env", "");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("no-env") && message.contains("the environment is empty"),
        "{message}"
    );
    assert_healthy(&portal);
}

#[test]
fn http_to_a_host_not_granted_is_refused_before_connecting() {
    let target = StandIn::serve(|_| {
        axum::Router::new().route("/", axum::routing::get(|| async { "leaked" }))
    });
    let portal = portal_with_hostile("", "");
    let (code, message) = provoke(&portal, "http", &format!("{}/", target.url()));
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("http-failed") && message.contains("HttpRequestDenied"),
        "{message}"
    );
    assert_eq!(target.request_count(), 0, "no request reached the server");
    // The refusal is recorded for the operator, naming the destination.
    let hostile = status(&portal, "hostile.wasm").unwrap();
    let denial = hostile["health"]["lastDenial"]["message"].as_str().unwrap();
    assert!(
        denial.contains(&target.addr.to_string()) && denial.contains("allowed_hosts"),
        "{denial}"
    );
    assert_healthy(&portal);
}

#[test]
fn another_plugins_secret_is_refused() {
    let portal = portal_with_hostile(
        "      secrets: [compat-token]\n    hostile:\n      secrets: [own-token]\n",
        "secrets:\n  compat-token: { value: compat-only }\n  own-token: { value: mine }\n",
    );
    // Its own secret: granted.
    let (code, body) = render(&portal, "hostile", "secret", &entity_with_arg("own-token"));
    assert_eq!(code, 200, "{body}");
    assert!(texts(&body["view"]).contains(&"secret: mine".to_owned()));
    // Another plugin's secret: denied, with the reason, and the value never leaks.
    let (code, message) = provoke(&portal, "secret", "compat-token");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("secret-refused") && message.contains("Denied"),
        "{message}"
    );
    assert!(
        message.contains("not granted to plugin `hostile`"),
        "{message}"
    );
    assert!(!message.contains("compat-only"), "{message}");
    assert_healthy(&portal);
}

#[test]
fn a_panic_is_reported_with_its_message() {
    let portal = portal_with_hostile("", "");
    let (code, message) = provoke(&portal, "panic", "");
    assert_eq!(code, 502, "{message}");
    assert!(message.contains("crashed"), "{message}");
    assert!(
        message.contains("hostile plugin panicked on purpose"),
        "{message}"
    );
    // The failure shows in the plugin's health.
    let hostile = status(&portal, "hostile.wasm").unwrap();
    assert_eq!(hostile["health"]["lastError"]["kind"], "trap");
    assert!(hostile["health"]["failures"].as_u64().unwrap() >= 1);
    assert_healthy(&portal);
}

#[test]
fn a_new_instance_never_sees_a_previous_instances_memory() {
    let portal = portal_with_hostile("", "");
    for round in 0..5 {
        let (code, body) = render(
            &portal,
            "hostile",
            "remember",
            &entity_with_arg(&format!("secret-{round}")),
        );
        assert_eq!(code, 200, "{body}");
        let (code, body) = render(&portal, "hostile", "recall", &entity_with_arg(""));
        assert_eq!(code, 200, "{body}");
        let text = texts(&body["view"]).join(" ");
        let found: usize = text
            .rsplit("markers found: ")
            .next()
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("unexpected answer {text}"));
        // The marker's text sits in the plugin's own data a few times; a leak
        // from the previous instance would show thousands (one per 4 KiB).
        assert!(
            found < 16,
            "round {round}: {found} markers found in a fresh instance"
        );
    }
}

#[test]
fn files_that_are_not_plugins_are_rejected_with_the_reason() {
    let portal = portal_with_hostile("", "");
    let dir = portal.plugins_dir();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "elf.wasm",
            b"\x7fELF\x02\x01\x01\0rest of a binary".to_vec(),
            "7f 45 4c 46",
        ),
        ("empty.wasm", Vec::new(), "empty file"),
        ("core.wasm", wat_module(), "core WebAssembly module"),
        (
            "future.wasm",
            future_major_component(),
            "portal:plugin@2.0.0",
        ),
        (
            "truncated.wasm",
            built_plugin_prefix("compat.wasm", 5000),
            "malformed",
        ),
    ];
    for (name, bytes, _) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    for (name, _, expected) in &cases {
        let refused = crate::wait_refused(&portal, name);
        let message = refused["loadError"]["message"].as_str().unwrap();
        assert!(
            message.contains(name) && message.contains(expected),
            "{name}: {message}"
        );
    }
    let future = status(&portal, "future.wasm").unwrap();
    assert!(
        future["loadError"]["message"]
            .as_str()
            .unwrap()
            .contains("1.x"),
        "{future}"
    );
    assert_healthy(&portal);
}

fn wat_module() -> Vec<u8> {
    wat::parse_str("(module (func (export \"f\")))").unwrap()
}

/// A component that exports Portal's `meta` interface from a future major version.
fn future_major_component() -> Vec<u8> {
    wat::parse_str(
        r#"(component
            (import "portal:plugin/log@2.0.0" (instance))
            (instance $m)
            (export "portal:plugin/meta@2.0.0" (instance $m)))"#,
    )
    .unwrap()
}

fn built_plugin_prefix(file: &str, len: usize) -> Vec<u8> {
    let bytes = std::fs::read(built_plugin(file)).unwrap();
    bytes[..len.min(bytes.len())].to_vec()
}

#[test]
fn output_that_aliases_one_buffer_many_times_is_refused() {
    let portal = portal_with_hostile("", "");
    // 4,000 nodes that all point at one 8 MiB string: copying them would take
    // 32 GiB of host memory. The host stops copying at its per-call limit.
    let (code, message) = provoke(&portal, "aliased-output", "");
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("more data than the host copies for one call"),
        "{message}"
    );
    assert_healthy(&portal);
}

// ---- attacks on host functions (second line) -------------------------------

/// An entity that the host-function attacks apply to, with their argument.
fn attack_entity(arg: &str) -> Value {
    let mut entity = entity_with_arg(arg);
    entity["metadata"]["annotations"]["hostile/attack"] = Value::String("yes".into());
    entity
}

/// Renders an attack panel; returns (status, the text or error, how long it took).
fn attack(portal: &PortalProcess, mode: &str, arg: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let (code, body) = render(portal, "hostile", mode, &attack_entity(arg));
    let elapsed = started.elapsed();
    let text = if code == 200 {
        texts(&body["view"]).join(" ")
    } else {
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    (code, text, elapsed)
}

/// The slowest of `/healthcheck` answers probed while `busy` says an attack runs.
fn probe_health_while(portal: &PortalProcess, busy: &AtomicBool) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while busy.load(Ordering::SeqCst) || latencies.len() < 5 {
        let started = Instant::now();
        let response = portal
            .get("/healthcheck")
            .timeout(Duration::from_secs(30))
            .send()
            .expect("healthcheck answers during the attack");
        assert!(response.status().is_success());
        latencies.push(started.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    latencies
}

#[test]
fn a_huge_filter_is_refused_at_once_naming_the_limit() {
    let portal = portal_with_hostile("", "");
    // 118,000 keys, 3.9 MB: once 21 s of parsing against a 3 s limit.
    let (code, text, elapsed) = attack(&portal, "huge-filter", "118000");
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("limit-exceeded") && text.contains("over the limit of 16384 bytes"),
        "{text}"
    );
    assert!(elapsed < Duration::from_secs(3), "took {elapsed:?}");
    // Under the byte limit but over the statement limit.
    let (_, text, _) = attack(&portal, "huge-filter", "300");
    assert!(
        text.contains("limit-exceeded") && text.contains("300 statements"),
        "{text}"
    );
    // The largest filter accepted is answered.
    let (_, text, _) = attack(&portal, "huge-filter", "200");
    assert!(text.contains("answered 0 entities"), "{text}");
    assert_healthy(&portal);
}

#[test]
fn host_call_floods_end_at_their_limit_while_the_portal_keeps_answering() {
    let portal = portal_with_hostile("", "");
    let busy = AtomicBool::new(true);
    let limit = Duration::from_millis(3_000); // the panel's wall-clock limit
    std::thread::scope(|scope| {
        // Two attackers at once, one per core: a query flood and every host
        // function with its largest arguments.
        let attackers: Vec<_> = ["query-flood", "host-max"]
            .into_iter()
            .map(|mode| {
                let portal = &portal;
                scope.spawn(move || {
                    let mut outcomes = Vec::new();
                    for _ in 0..3 {
                        outcomes.push(attack(portal, mode, ""));
                    }
                    (mode, outcomes)
                })
            })
            .collect();
        let prober = scope.spawn(|| probe_health_while(&portal, &busy));
        let mut good = Vec::new();
        while attackers.iter().any(|a| !a.is_finished()) {
            let started = Instant::now();
            let (code, body) = render(&portal, "compat", "echo", &component("good"));
            assert_eq!(
                code, 200,
                "the good plugin answers during the attack: {body}"
            );
            good.push(started.elapsed());
        }
        busy.store(false, Ordering::SeqCst);
        for attacker in attackers {
            let (mode, outcomes) = attacker.join().unwrap();
            for (code, message, elapsed) in outcomes {
                assert_eq!(code, 502, "{mode}: {message}");
                assert!(
                    message.contains("CPU time") && message.contains("hostile"),
                    "{mode}: {message}"
                );
                // The CPU limit (1 s) cuts it off; never later than the wall clock.
                assert!(elapsed < limit, "{mode} ran {elapsed:?}");
            }
        }
        let health = prober.join().unwrap();
        let slowest_health = health.iter().max().unwrap();
        let slowest_good = good.iter().max().unwrap();
        eprintln!(
            "during the attack: /healthcheck slowest {slowest_health:?} of {}, good panel slowest {slowest_good:?} of {}",
            health.len(),
            good.len()
        );
        // Generous bounds: timing on a shared 2-core machine; the failure this
        // guards against took 21 s.
        assert!(*slowest_health < Duration::from_secs(1), "{health:?}");
        assert!(*slowest_good < Duration::from_secs(2), "{good:?}");
    });
    assert_healthy(&portal);
}

#[test]
fn the_storage_quota_is_enforced_and_freed_by_deleting() {
    let portal = portal_with_hostile(
        "    hostile:\n      quotas: { storage_bytes: 1048576, storage_keys: 100 }\n",
        "",
    );
    // 64 KiB values: the 16th would take it over 1 MiB.
    let (code, text, _) = attack(&portal, "storage-fill", "65536");
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("stored 15 values")
            && text.contains("limit-exceeded")
            && text.contains("storage quota of 1048576 bytes")
            && text.contains("plugins.grants.hostile.quotas.storage_bytes"),
        "{text}"
    );
    let hostile = status(&portal, "hostile.wasm").unwrap();
    let quotas = &hostile["quotas"];
    assert_eq!(quotas["limits"]["storageBytes"], 1048576, "{quotas}");
    assert_eq!(quotas["storageKeys"], 15, "{quotas}");
    assert!(
        hostile["health"]["lastDenial"]["message"]
            .as_str()
            .unwrap()
            .contains("storage quota"),
        "{hostile}"
    );
    // Deleting frees the quota.
    let (_, text, _) = attack(&portal, "storage-free", "");
    assert!(
        text.contains("deleted 15; write after delete: ok"),
        "{text}"
    );
    let quotas = status(&portal, "hostile.wasm").unwrap()["quotas"].clone();
    assert_eq!(quotas["storageKeys"], 1, "{quotas}");
    // The key quota: tiny values until 100 keys.
    let (_, text, _) = attack(&portal, "storage-fill", "1");
    assert!(
        text.contains("stored 99 values") && text.contains("storage quota of 100 keys"),
        "{text}"
    );
    let (_, text, _) = attack(&portal, "storage-free", "");
    assert!(
        text.contains("deleted 99; write after delete: ok"),
        "{text}"
    );
    // The quota holds across a restart (usage is counted from the store).
    let portal = portal.restart().expect("portal restarts");
    wait_loaded(&portal, "hostile.wasm", "1.0.0");
    wait_loaded(&portal, "compat.wasm", "1.0.0");
    let (_, text, _) = attack(&portal, "storage-fill", "65536");
    assert!(text.contains("stored 15 values"), "{text}");
    assert_healthy(&portal);
}

#[test]
fn http_quotas_end_a_call_that_asks_too_much_and_reset_for_the_next() {
    let target = StandIn::serve(|_| {
        axum::Router::new()
            .route("/small", axum::routing::get(|| async { "small answer" }))
            .route("/big", axum::routing::get(|| async { "b".repeat(2 << 20) }))
    });
    let portal = portal_with_hostile(
        &format!(
            "    hostile:\n      allowed_hosts: [\"{}\"]\n      quotas: {{ http_requests_per_call: 5, http_bytes_per_call: 1048576 }}\n",
            target.addr
        ),
        "",
    );
    // Requests: the sixth in one call is refused before it is sent.
    let (code, text, _) = attack(&portal, "http-flood", &format!("{}/small", target.url()));
    assert_eq!(code, 200, "{text}");
    assert!(
        text.contains("made 5 requests") && text.contains("HttpRequestDenied"),
        "{text}"
    );
    assert_eq!(target.request_count(), 5);
    let hostile = status(&portal, "hostile.wasm").unwrap();
    let denial = hostile["health"]["lastDenial"]["message"].as_str().unwrap();
    assert!(
        denial.contains("HTTP request quota of 5 per call")
            && denial.contains("plugins.grants.hostile.quotas.http_requests_per_call"),
        "{denial}"
    );
    assert_eq!(
        hostile["quotas"]["limits"]["httpRequestsPerCall"], 5,
        "{hostile}"
    );
    // Bytes: a 2 MiB answer stops at the 1 MiB quota, naming it.
    let (code, message) = provoke(&portal, "http", &format!("{}/big", target.url()));
    assert_eq!(code, 502, "{message}");
    assert!(
        message.contains("http-failed") && message.contains("HTTP byte quota of 1048576 per call"),
        "{message}"
    );
    // Quotas are per call: the next call starts afresh.
    let (code, message) = provoke(&portal, "http", &format!("{}/small", target.url()));
    assert_eq!(code, 200, "{message}");
    let (_, text, _) = attack(&portal, "http-flood", &format!("{}/small", target.url()));
    assert!(text.contains("made 5 requests"), "{text}");
    assert_healthy(&portal);
}

#[test]
fn an_uninstalled_plugins_storage_is_deleted_and_a_replaced_ones_kept() {
    // (The line after the grant is `plugins.removed_storage_seconds`.)
    let portal = portal_with_hostile(
        "    hostile:\n      quotas: { storage_keys: 10 }\n  removed_storage_seconds: 2\n",
        "",
    );
    let stored_keys = |portal: &PortalProcess| {
        wait_loaded(portal, "hostile.wasm", "1.0.0")["quotas"]["storageKeys"].clone()
    };
    let (_, text, _) = attack(&portal, "storage-fill", "1");
    assert!(text.contains("stored 10 values"), "{text}");
    assert_eq!(stored_keys(&portal), 10);
    // Replaced by delete-then-copy, well within the grace: the data stays.
    let file = portal.plugins_dir().join("hostile.wasm");
    std::fs::remove_file(&file).unwrap();
    wait_for(Duration::from_secs(10), || {
        status(&portal, "hostile.wasm").is_none().then_some(())
    })
    .expect("the plugin is unloaded");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("hostile.wasm"),
        "hostile.wasm",
    );
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(stored_keys(&portal), 10);
    // Removed for longer than the grace: uninstalled, and its data with it.
    std::fs::remove_file(&file).unwrap();
    let deleted = wait_for(Duration::from_secs(20), || {
        portal
            .log()
            .contains("removed plugin's storage deleted")
            .then_some(())
    });
    assert!(deleted.is_some(), "{}", portal.log());
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("hostile.wasm"),
        "hostile.wasm",
    );
    assert_eq!(stored_keys(&portal), 0);
    assert_healthy(&portal);
}

#[test]
fn a_log_flood_is_capped_per_window_with_one_summary_line() {
    let portal = portal_with_hostile(
        "    hostile:\n      quotas: { log_lines_per_window: 100, log_window_seconds: 3 }\n",
        "",
    );
    let (code, text, _) = attack(&portal, "log-flood", "5000");
    assert_eq!(code, 200, "{text}");
    let flood_lines = |log: &str| log.lines().filter(|l| l.contains("flood line")).count();
    // 100 lines in the window; the per-call cap (2,000) stops the rest first.
    assert_eq!(flood_lines(&portal.log()), 100);
    let quotas = status(&portal, "hostile.wasm").unwrap()["quotas"].clone();
    assert_eq!(quotas["logLinesDropped"], 1900, "{quotas}");
    // When the window ends, one line reports what was dropped, without waiting
    // for the plugin to be called again; then the plugin may log again.
    let summary = wait_for(Duration::from_secs(10), || {
        portal
            .log()
            .lines()
            .find(|l| l.contains("lines dropped"))
            .map(str::to_owned)
    });
    assert!(summary.is_some(), "no summary line:\n{}", portal.log());
    let (_, text, _) = attack(&portal, "log-flood", "50");
    assert!(text.contains("logged 50 lines"), "{text}");
    let log = portal.log();
    let summaries: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("lines dropped"))
        .collect();
    assert_eq!(summaries.len(), 1, "{summaries:?}");
    assert!(
        summaries[0].contains("1900 lines dropped") && summaries[0].contains("hostile"),
        "{}",
        summaries[0]
    );
    assert_eq!(flood_lines(&log), 150);
    assert_healthy(&portal);
}

#[test]
fn a_log_message_cannot_forge_a_log_line() {
    let portal = portal_with_hostile("", "");
    let forged = "innocent\n2026-12-06T00:00:00.000000Z  INFO portal: FORGED admin signed in\r\u{1b}[2Kcleared\u{2028}U2028\u{85}NEL";
    let (code, text, _) = attack(&portal, "log-forge", forged);
    assert_eq!(code, 200, "{text}");
    let log = without_colours(&portal.log());
    let lines: Vec<&str> = log.lines().filter(|l| l.contains("FORGED")).collect();
    assert_eq!(
        lines.len(),
        1,
        "one line holds the whole message: {lines:?}"
    );
    let line = lines[0];
    assert!(
        line.contains("plugin=\"hostile\"") || line.contains("plugin=hostile"),
        "{line}"
    );
    assert!(line.contains(r#"message_text="innocent\n2026-12-06T00:00:00.000000Z  INFO portal: FORGED admin signed in\r\u{1b}[2Kcleared\u{2028}U2028\u{85}NEL""#), "{line}");
    assert!(
        !log.lines().any(|l| l.starts_with("2026-12-06T00:00:00")),
        "a forged line"
    );
    assert!(!log.contains('\r') && !log.contains('\u{2028}') && !log.contains('\u{85}'));
    assert!(
        !log.contains("\u{1b}[2K"),
        "the plugin's escape sequence reached the log raw"
    );
    assert_healthy(&portal);
}

/// The log without the formatter's own colour codes (`ESC [ … m`), which sit
/// between a field's name and its value.
fn without_colours(log: &str) -> String {
    let mut out = String::with_capacity(log.len());
    let mut chars = log.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            let rest: String = chars.clone().take(12).collect();
            if let Some(end) = rest.find('m')
                && rest[1..end].chars().all(|c| c.is_ascii_digit() || c == ';')
            {
                for _ in 0..=end {
                    chars.next();
                }
                continue;
            }
        }
        out.push(c);
    }
    out
}
