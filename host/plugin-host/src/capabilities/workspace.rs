//! The one directory a template action may touch: its task's workspace, preopened
//! at `/workspace`. No other plugin call gets any directory.

use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

pub(crate) const GUEST_PATH: &str = "/workspace";

pub(crate) fn preopen(builder: &mut WasiCtxBuilder, dir: &std::path::Path) -> Result<(), String> {
    builder
        .preopened_dir(dir, GUEST_PATH, FsPerms::ReadWrite)
        .map_err(|e| format!("cannot open workspace {}: {e}", dir.display()))?;
    Ok(())
}
