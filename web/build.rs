//! Embeds the hydration bundle into the server build (feature `ssr`).
//!
//! `cargo xtask build` builds the bundle first (`web/hydrate` for
//! wasm32-unknown-unknown, then `web/bundler` runs wasm-bindgen on it) into
//! `<target dir>/web-bundle/`; this script includes those files so one portal
//! binary serves everything. Without a bundle (a plain `cargo build`) the UI
//! still works as server-rendered HTML, and the server says so at start.

use std::path::{Path, PathBuf};

const FILES: [&str; 4] = [
    "portal-web.js",
    "portal-web.js.gz",
    "portal-web_bg.wasm",
    "portal-web_bg.wasm.gz",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=PORTAL_WEB_BUNDLE_DIR");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let generated = out.join("bundle.rs");
    if std::env::var_os("CARGO_FEATURE_SSR").is_none() {
        std::fs::write(&generated, empty()).expect("write bundle.rs");
        return;
    }
    let dir = match std::env::var_os("PORTAL_WEB_BUNDLE_DIR") {
        Some(d) => PathBuf::from(d),
        None => target_dir(&out).join("web-bundle"),
    };
    // Watch the directory (created if missing, so cargo has something to
    // compare against instead of re-running this script every build).
    let _ = std::fs::create_dir_all(&dir);
    println!("cargo:rerun-if-changed={}", dir.display());
    for f in FILES {
        println!("cargo:rerun-if-changed={}", dir.join(f).display());
    }
    let present = FILES.iter().all(|f| dir.join(f).is_file());
    let code = if present {
        let js = std::fs::read(dir.join("portal-web.js")).expect("read js");
        let wasm = std::fs::read(dir.join("portal-web_bg.wasm")).expect("read wasm");
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in js.iter().chain(wasm.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        let name = format!("portal-web-{:08x}", h as u32);
        let inc = |f: &str| format!("include_bytes!({:?})", dir.join(f).display().to_string());
        format!(
            "pub const NAME: Option<&str> = Some({name:?});\n\
             pub static JS: &[u8] = {};\npub static JS_GZ: &[u8] = {};\n\
             pub static WASM: &[u8] = {};\npub static WASM_GZ: &[u8] = {};\n",
            inc("portal-web.js"),
            inc("portal-web.js.gz"),
            inc("portal-web_bg.wasm"),
            inc("portal-web_bg.wasm.gz"),
        )
    } else {
        println!(
            "cargo:warning=no hydration bundle in {} (run `cargo xtask build`); the UI will be server-rendered only",
            dir.display()
        );
        empty()
    };
    std::fs::write(&generated, code).expect("write bundle.rs");
}

fn empty() -> String {
    "#[allow(dead_code)] pub const NAME: Option<&str> = None;\n\
     #[allow(dead_code)] pub static JS: &[u8] = &[];\n\
     #[allow(dead_code)] pub static JS_GZ: &[u8] = &[];\n\
     #[allow(dead_code)] pub static WASM: &[u8] = &[];\n\
     #[allow(dead_code)] pub static WASM_GZ: &[u8] = &[];\n"
        .to_owned()
}

/// The cargo target directory: the nearest ancestor of OUT_DIR with cargo's
/// `CACHEDIR.TAG`.
fn target_dir(out: &Path) -> PathBuf {
    out.ancestors()
        .find(|p| p.join("CACHEDIR.TAG").is_file())
        .map(Path::to_owned)
        .unwrap_or_else(|| out.join("..").join("..").join("..").join(".."))
}
