//! `portal-web-bundler IN.wasm OUT_DIR`: runs wasm-bindgen (`--target web`,
//! no TypeScript) on the hydration build of the UI and writes
//! `portal-web.js` and `portal-web_bg.wasm`, each also gzip-compressed, into
//! OUT_DIR, where `web/build.rs` embeds them into the server.
//!
//! Using wasm-bindgen as a library (rather than the `wasm-bindgen` CLI) means
//! nothing has to be installed, and its version is the one in Cargo.lock.

use anyhow::{Context, Result, bail};
use flate2::Compression;
use flate2::write::GzEncoder;
use std::io::Write;
use std::path::{Path, PathBuf};

const NAME: &str = "portal-web";

fn main() {
    if let Err(e) = run() {
        eprintln!("portal-web-bundler: error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, out_dir] = args.as_slice() else {
        bail!("usage: portal-web-bundler IN.wasm OUT_DIR");
    };
    let input = PathBuf::from(input);
    let out_dir = PathBuf::from(out_dir);
    let staging = out_dir.join(".staging");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging)?;
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(&input)
        .web(true)?
        .typescript(false)
        .out_name(NAME)
        .generate(&staging)
        .with_context(|| format!("wasm-bindgen on {}", input.display()))?;
    for file in [format!("{NAME}.js"), format!("{NAME}_bg.wasm")] {
        let bytes = std::fs::read(staging.join(&file))
            .with_context(|| format!("wasm-bindgen did not write {file}"))?;
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&bytes)?;
        let gz = gz.finish()?;
        // Write the compressed file first: `web/build.rs` embeds the set once
        // the uncompressed one is complete.
        replace(&out_dir.join(format!("{file}.gz")), &gz)?;
        replace(&out_dir.join(&file), &bytes)?;
        eprintln!(
            "  {file}: {} bytes, {} gzip",
            bytes.len(),
            gz.len()
        );
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(())
}

/// Writes a file only when its content changes (so cargo does not rebuild
/// the server for nothing), atomically.
fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
