//! A deliberately badly behaved plugin, for the sandbox tests. Each panel id is
//! one misbehaviour; the host must survive every one of them, stop it with a
//! specific error, and keep serving other plugins. The attacks on host functions
//! (`ATTACKS`) apply only to entities annotated `hostile/attack`, so they never
//! run on an ordinary entity page.

use portal_plugin_sdk::{self as sdk, HostError, Plugin, PluginError, meta, panel};
use sdk::{catalog, config, log, storage};

struct Hostile;

const MODES: &[&str] = &[
    "loop",
    "alloc",
    "recurse",
    "recurse-frames",
    "huge-output",
    "huge-text",
    "aliased-output",
    "read-file",
    "read-env",
    "http",
    "secret",
    "panic",
    "remember",
    "recall",
    "ok",
];

/// Attacks on the host functions; the entity's `hostile/arg` annotation tunes them.
const ATTACKS: &[&str] = &[
    "huge-filter",
    "query-flood",
    "storage-fill",
    "storage-free",
    "log-flood",
    "log-forge",
    "host-max",
    "http-flood",
];

impl Plugin for Hostile {
    fn describe() -> meta::PluginInfo {
        let mut info = sdk::info(
            "hostile",
            env!("CARGO_PKG_VERSION"),
            "Misbehaves on purpose (tests only)",
        )
        .secret("own-token")
        .catalog_read()
        .storage();
        for mode in MODES {
            info = info.panel(mode, mode, meta::PanelPlacement::Card, "");
        }
        for attack in ATTACKS {
            info = info.panel(
                attack,
                attack,
                meta::PanelPlacement::Card,
                "metadata.annotations.hostile/attack",
            );
        }
        info.build()
    }

    fn render(request: panel::RenderRequest) -> Result<panel::View, PluginError> {
        let entity: serde_json::Value = serde_json::from_str(&request.entity).unwrap_or_default();
        let arg = entity["metadata"]["annotations"]["hostile/arg"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        let text = match request.panel_id.as_str() {
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "recurse" => format!("depth {}", recurse(std::hint::black_box(1))),
            "recurse-frames" => format!("depth {}", recurse_with_frames(std::hint::black_box(1))),
            "huge-output" => {
                let mut view = sdk::ViewBuilder::new();
                let children: Vec<u32> = (0..200_000)
                    .map(|i| view.text(format!("node {i}")))
                    .collect();
                let root = view.stack(children);
                return Ok(view.finish(root));
            }
            "huge-text" => "x".repeat(40 << 20),
            "aliased-output" => return Ok(aliased_view()),
            "read-file" => {
                match std::fs::read_to_string(if arg.is_empty() { "/etc/passwd" } else { &arg }) {
                    Ok(content) => format!("read {} bytes: {content}", content.len()),
                    Err(e) => {
                        return Err(sdk::error("read-failed", format!("cannot read file: {e}")));
                    }
                }
            }
            "read-env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, v)| format!("{k}={v}")).collect();
                if vars.is_empty() {
                    return Err(sdk::error("no-env", "the environment is empty"));
                }
                format!("env: {}", vars.join(" "))
            }
            "http" => match sdk::http::get(&arg, &[]) {
                Ok(response) => format!("status {}: {}", response.status, response.body),
                Err(e) => return Err(sdk::error("http-failed", e)),
            },
            "secret" => match sdk::config::get_secret(&arg) {
                Ok(value) => format!("secret: {value}"),
                Err(e) => return Err(sdk::error("secret-refused", format!("{e:?}"))),
            },
            "panic" => panic!("hostile plugin panicked on purpose"),
            "remember" => remember(&arg),
            "recall" => recall(),
            "huge-filter" => huge_filter(arg.parse().unwrap_or(118_000)),
            "query-flood" => query_flood(),
            "storage-fill" => storage_fill(arg.parse().unwrap_or(64 * 1024)),
            "storage-free" => storage_free(),
            "log-flood" => log_flood(arg.parse().unwrap_or(5_000)),
            "log-forge" => {
                log::log(log::Level::Info, &arg);
                "logged".to_owned()
            }
            "host-max" => host_max(),
            "http-flood" => http_flood(&arg),
            _ => "ok".to_owned(),
        };
        let mut view = sdk::ViewBuilder::new();
        let node = view.text(text);
        Ok(view.finish(node))
    }
}

/// A view whose 4,000 text nodes all point at the same 8 MiB string: tiny in the
/// plugin's memory, 32 GiB if the host copied every node.
fn aliased_view() -> panel::View {
    let big = "y".repeat(8 << 20);
    let mut nodes = Vec::new();
    for _ in 0..4_000 {
        // SAFETY: none. Every copy aliases `big`'s buffer on purpose; the plugin
        // never frees them (the host refuses the output before the plugin would).
        let alias =
            unsafe { String::from_raw_parts(big.as_ptr() as *mut u8, big.len(), big.capacity()) };
        nodes.push(panel::Node::Text(alias));
    }
    std::mem::forget(big);
    let children: Vec<u32> = (0..nodes.len() as u32).collect();
    nodes.push(panel::Node::Stack(children));
    let root = (nodes.len() - 1) as u32;
    panel::View { nodes, root }
}

/// Exhausts the WebAssembly call stack: no locals in linear memory.
#[inline(never)]
#[allow(unconditional_recursion)] // the point of this mode
fn recurse(n: u64) -> u64 {
    std::hint::black_box(recurse(std::hint::black_box(n + 1))) + 1
}

/// Exhausts Rust's stack in linear memory: each frame holds an array whose
/// address escapes, so it must live in memory.
#[inline(never)]
#[allow(unconditional_recursion)] // the point of this mode
fn recurse_with_frames(n: u64) -> u64 {
    let local = [n; 512];
    std::hint::black_box(&local);
    recurse_with_frames(n + 1) + local[3]
}

/// Grows memory and scatters a marker through it, so a later instance that gets
/// the same pooled memory slot could find it if memory were not wiped.
fn remember(secret: &str) -> String {
    let marker = format!("MARKER:{secret}:END");
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    for _ in 0..8 {
        let mut block = vec![0u8; 1 << 20];
        for chunk in block.chunks_mut(4096) {
            let n = marker.len().min(chunk.len());
            chunk[..n].copy_from_slice(&marker.as_bytes()[..n]);
        }
        blocks.push(block);
    }
    std::hint::black_box(&blocks);
    std::mem::forget(blocks);
    "remembered".to_owned()
}

/// Scans its own memory, including pages it grows but never writes, for a marker.
fn recall() -> String {
    let pages_before = core::arch::wasm32::memory_size(0);
    core::arch::wasm32::memory_grow(0, 160);
    let bytes = core::arch::wasm32::memory_size(0) * 65536;
    let needle = b"MARKER:";
    let mut found = 0usize;
    let start = 8usize;
    // SAFETY: reads within the bounds of this instance's own linear memory (wasm
    // has no unmapped pages below `memory.size`); address 0 is skipped.
    let memory = unsafe { std::slice::from_raw_parts(start as *const u8, bytes - start) };
    for window in memory.windows(needle.len()) {
        if window == needle {
            found += 1;
        }
    }
    // The marker's text also sits in this plugin's own data: a handful of hits is
    // normal; a leak from a previous instance would show thousands.
    format!("pages {pages_before}; markers found: {found}")
}

fn describe_error(e: &HostError) -> String {
    match e {
        HostError::Denied(m) => format!("denied: {m}"),
        HostError::NotFound(m) => format!("not-found: {m}"),
        HostError::Invalid(m) => format!("invalid: {m}"),
        HostError::LimitExceeded(m) => format!("limit-exceeded: {m}"),
        HostError::Unavailable(m) => format!("unavailable: {m}"),
    }
}

/// One `query-entities` call with a filter of `keys` distinct keys (118,000
/// keys is 3.9 MB: once 21 s of quadratic parsing on an async worker).
fn huge_filter(keys: usize) -> String {
    let filter: Vec<String> = (0..keys)
        .map(|i| format!("metadata.annotations.attack-key-{i}=v{i}"))
        .collect();
    match catalog::query_entities(&filter.join(","), 1_000) {
        Ok(entities) => format!("answered {} entities", entities.len()),
        Err(e) => describe_error(&e),
    }
}

/// The largest filter the host accepts (256 statements, under 16 KiB).
fn max_filter() -> String {
    (0..256)
        .map(|i| format!("metadata.annotations.k{i}=v{i}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Catalog queries as fast as the host answers, whatever it answers, until the
/// host stops the call.
fn query_flood() -> String {
    let filter = max_filter();
    loop {
        let _ = std::hint::black_box(catalog::query_entities(&filter, 1_000));
        let _ = std::hint::black_box(catalog::query_entities("", 1_000));
    }
}

/// Writes values of `value_bytes` under `fill/<n>` until the host refuses.
fn storage_fill(value_bytes: usize) -> String {
    let value = vec![7u8; value_bytes];
    // Keys new to this call, so calls that the CPU limit cuts short add up.
    let call = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |t| t.as_nanos());
    for n in 0u64.. {
        if let Err(e) = storage::set(&format!("fill/{call}/{n:08}"), &value) {
            return format!("stored {n} values; then {}", describe_error(&e));
        }
    }
    unreachable!()
}

/// Deletes every `fill/` key, then writes one more value.
fn storage_free() -> String {
    let mut deleted = 0;
    loop {
        let keys = match storage::list_keys("fill/", 1_000) {
            Ok(keys) => keys,
            Err(e) => return format!("list failed: {}", describe_error(&e)),
        };
        if keys.is_empty() {
            break;
        }
        for key in keys {
            if let Err(e) = storage::delete(&key) {
                return format!("delete failed: {}", describe_error(&e));
            }
            deleted += 1;
        }
    }
    match storage::set("after-free", b"fits again") {
        Ok(()) => format!("deleted {deleted}; write after delete: ok"),
        Err(e) => format!(
            "deleted {deleted}; write after delete: {}",
            describe_error(&e)
        ),
    }
}

fn log_flood(lines: u32) -> String {
    for i in 0..lines {
        log::log(log::Level::Info, &format!("flood line {i}"));
    }
    format!("logged {lines} lines")
}

/// Every host function with its largest accepted arguments, in a loop, until
/// the host stops the call.
fn host_max() -> String {
    let message = "m".repeat(8 * 1024);
    let entity_ref = format!("component:default/{}", "n".repeat(1_000));
    let filter = max_filter();
    let key = "k".repeat(512);
    let value = vec![1u8; 1 << 20];
    loop {
        log::log(log::Level::Debug, &message);
        let _ = std::hint::black_box(catalog::get_entity(&entity_ref));
        let _ = std::hint::black_box(catalog::query_entities(&filter, 1_000));
        let _ = std::hint::black_box(storage::set(&key, &value));
        let _ = std::hint::black_box(storage::get(&key));
        let _ = std::hint::black_box(storage::list_keys(&key, 10_000));
        let _ = std::hint::black_box(storage::delete(&key));
        let _ = std::hint::black_box(config::get(&key));
        let _ = std::hint::black_box(config::get_secret(&key[..256]));
    }
}

/// GETs `url` until the host refuses; says how many requests got through.
fn http_flood(url: &str) -> String {
    for n in 0u64.. {
        if let Err(e) = sdk::http::get(url, &[]) {
            return format!("made {n} requests; then {e}");
        }
    }
    unreachable!()
}

sdk::export!(Hostile);
