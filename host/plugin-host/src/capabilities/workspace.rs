//! The directories a template action may touch: its task's workspace,
//! preopened read-write at `/workspace`, and the template's own files (its
//! skeletons), read-only at `/template`. No other plugin call gets any directory.
//! The sandbox resolves every path inside these, symlinks included: a link that
//! points outside them cannot be followed.

use crate::model::ActionDirs;
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

pub(crate) const GUEST_PATH: &str = "/workspace";
pub(crate) const TEMPLATE_GUEST_PATH: &str = "/template";

pub(crate) fn preopen(builder: &mut WasiCtxBuilder, dirs: &ActionDirs) -> Result<(), String> {
    builder
        .preopened_dir(&dirs.workspace, GUEST_PATH, FsPerms::ReadWrite)
        .map_err(|e| format!("cannot open the task workspace: {e}"))?;
    // A file operation runs on the call's own thread instead of a trip to the
    // blocking pool and back: a skeleton of 51 files is some 300 operations,
    // each a few microseconds on the workspace's local disk. One operation is
    // bounded by the call's memory cap (the most it can write at once).
    builder.allow_blocking_current_thread(true);
    if let Some(template) = &dirs.template {
        builder
            .preopened_dir(template, TEMPLATE_GUEST_PATH, FsPerms::ReadOnly)
            .map_err(|e| format!("cannot open the template's files: {e}"))?;
    }
    Ok(())
}
