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
        let mut bytes = std::fs::read(staging.join(&file))
            .with_context(|| format!("wasm-bindgen did not write {file}"))?;
        if file.ends_with(".wasm") {
            bytes = strip_names(&bytes).with_context(|| format!("reading {file}"))?;
        }
        let mut gz = GzEncoder::new(Vec::new(), Compression::best());
        gz.write_all(&bytes)?;
        let gz = gz.finish()?;
        // Write the compressed file first: `web/build.rs` embeds the set once
        // the uncompressed one is complete.
        replace(&out_dir.join(format!("{file}.gz")), &gz)?;
        replace(&out_dir.join(&file), &bytes)?;
        eprintln!("  {file}: {} bytes, {} gzip", bytes.len(), gz.len());
    }
    let _ = std::fs::remove_dir_all(&staging);
    Ok(())
}

/// Drops the `name` custom section (function names for stack traces): over
/// half of the module's bytes, and of no use to visitors.
fn strip_names(wasm: &[u8]) -> Result<Vec<u8>> {
    fn leb(bytes: &[u8], mut i: usize) -> Result<(usize, usize)> {
        let (mut value, mut shift) = (0usize, 0);
        loop {
            let b = *bytes.get(i).context("truncated module")?;
            i += 1;
            value |= usize::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok((value, i));
            }
            shift += 7;
            if shift > 35 {
                bail!("malformed module (section size)");
            }
        }
    }
    if wasm.get(..4) != Some(b"\0asm") {
        bail!("not a WebAssembly module");
    }
    let mut out = wasm[..8].to_vec();
    let mut i = 8;
    while i < wasm.len() {
        let start = i;
        let id = wasm[i];
        let (size, body) = leb(wasm, i + 1)?;
        let end = body
            .checked_add(size)
            .filter(|e| *e <= wasm.len())
            .context("truncated module")?;
        let is_names = id == 0 && {
            let (len, name_at) = leb(wasm, body)?;
            wasm.get(name_at..name_at + len) == Some(b"name")
        };
        if !is_names {
            out.extend_from_slice(&wasm[start..end]);
        }
        i = end;
    }
    Ok(out)
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

#[cfg(test)]
mod tests {
    use super::strip_names;

    fn section(id: u8, body: &[u8]) -> Vec<u8> {
        let mut s = vec![id, body.len() as u8];
        s.extend_from_slice(body);
        s
    }

    #[test]
    fn drops_only_the_name_section() {
        let header = b"\0asm\x01\0\0\0".to_vec();
        let types = section(1, &[1, 0x60, 0, 0]);
        let names = section(0, b"\x04nameXYZ");
        let other = section(0, b"\x09producers");
        let module = [header.clone(), types.clone(), names, other.clone()].concat();
        assert_eq!(
            strip_names(&module).unwrap(),
            [header, types, other].concat()
        );
        assert!(strip_names(b"not wasm").is_err());
        assert!(strip_names(b"\0asm\x01\0\0\0\x01\x09").is_err());
    }
}
