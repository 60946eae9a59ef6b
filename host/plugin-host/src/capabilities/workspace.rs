//! The directories a template action may touch, and (since 1.2.0) the
//! executable bit of their files, which WASI cannot see: its task's workspace,
//! preopened read-write at `/workspace`, and the template's own files (its
//! skeletons), read-only at `/template`. No other plugin call gets any directory.
//! The sandbox resolves every path inside these, symlinks included: a link that
//! points outside them cannot be followed.

use super::{HostCallError, HostState};
use crate::model::ActionDirs;
use std::path::{Component, Path, PathBuf};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

/// A template action's call: its directories, and whether it is a dry run (in
/// which nothing outside the workspace may change: `git.push` and
/// `catalog.register-location` refuse).
#[derive(Debug, Clone)]
pub(crate) struct ActionScope {
    pub dirs: ActionDirs,
    pub dry_run: bool,
}

pub(crate) const GUEST_PATH: &str = "/workspace";
pub(crate) const TEMPLATE_GUEST_PATH: &str = "/template";

pub(crate) fn preopen(builder: &mut WasiCtxBuilder, dirs: &ActionDirs) -> Result<(), String> {
    builder
        .preopened_dir(&dirs.workspace, GUEST_PATH, FsPerms::ReadWrite)
        .map_err(|e| format!("cannot open the task workspace: {e}"))?;
    // A file operation runs on the call's own thread instead of a trip to the
    // blocking pool and back: a skeleton of 51 files is some 300 operations,
    // each a few microseconds on the workspace's local disk. One operation is
    // bounded by the call's memory cap (the most it can write at once). Time
    // blocked is not CPU time (`cpu_meter`); the wall-clock timeout bounds it.
    builder.allow_blocking_current_thread(true);
    if let Some(template) = &dirs.template {
        builder
            .preopened_dir(template, TEMPLATE_GUEST_PATH, FsPerms::ReadOnly)
            .map_err(|e| format!("cannot open the template's files: {e}"))?;
    }
    Ok(())
}

// ---- file-modes (since 1.2.0) ----------------------------------------------

/// More executables than any skeleton holds.
const MAX_EXECUTABLES: usize = 10_000;
/// Entries looked at while listing executables.
const MAX_ENTRIES: usize = 100_000;

fn scope(state: &mut HostState, function: &str) -> Result<ActionDirs, HostCallError> {
    match &state.call.action {
        Some(action) => Ok(action.dirs.clone()),
        None => {
            let name = state.plugin.name.clone();
            Err(state.deny(format!(
                "plugin `{name}` called file-modes.{function} outside a template action"
            )))
        }
    }
}

/// `relative` inside `root`, symlinks resolved: `None` when it leaves it.
fn inside(root: &Path, relative: &str) -> Result<PathBuf, HostCallError> {
    let path = Path::new(relative);
    if path
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(HostCallError::Invalid(format!(
            "`{relative}` must be a relative path without `..`"
        )));
    }
    let root = root
        .canonicalize()
        .map_err(|e| HostCallError::Unavailable(format!("cannot open the folder: {e}")))?;
    let resolved = root
        .join(path)
        .canonicalize()
        .map_err(|_| HostCallError::Invalid(format!("`{relative}` does not exist")))?;
    if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(HostCallError::Invalid(format!(
            "`{relative}` leads outside its folder"
        )))
    }
}

pub(crate) fn template_executables(
    state: &mut HostState,
    dir: &str,
) -> Result<Vec<String>, HostCallError> {
    use std::os::unix::fs::PermissionsExt;
    let dirs = scope(state, "template-executables")?;
    let Some(template) = dirs.template else {
        return Ok(Vec::new());
    };
    let start = inside(&template, dir)?;
    let root = template
        .canonicalize()
        .map_err(|e| HostCallError::Unavailable(format!("cannot open the template: {e}")))?;
    let mut found = Vec::new();
    let mut pending = vec![start];
    let mut seen = 0usize;
    while let Some(folder) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            seen += 1;
            if seen > MAX_ENTRIES {
                return Err(HostCallError::LimitExceeded(format!(
                    "the template's folder holds more than {MAX_ENTRIES} entries"
                )));
            }
            // Not followed: a link is neither a folder to enter nor a file to mark.
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                pending.push(entry.path());
            } else if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                if let Ok(relative) = entry.path().strip_prefix(&root) {
                    found.push(relative.to_string_lossy().into_owned());
                }
                if found.len() > MAX_EXECUTABLES {
                    return Err(HostCallError::LimitExceeded(format!(
                        "the template holds more than {MAX_EXECUTABLES} executable files"
                    )));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

pub(crate) fn set_executable(
    state: &mut HostState,
    path: &str,
    executable: bool,
) -> Result<(), HostCallError> {
    use std::os::unix::fs::PermissionsExt;
    let dirs = scope(state, "set-executable")?;
    // The file itself must not be a link: resolve its folder, then look at it.
    let relative = Path::new(path);
    let (Some(parent), Some(name)) = (relative.parent(), relative.file_name()) else {
        return Err(HostCallError::Invalid(format!("`{path}` names no file")));
    };
    let folder = inside(&dirs.workspace, &parent.to_string_lossy())?;
    let file = folder.join(name);
    let meta = file
        .symlink_metadata()
        .map_err(|_| HostCallError::Invalid(format!("`{path}` does not exist in the workspace")))?;
    if !meta.is_file() {
        return Err(HostCallError::Invalid(format!(
            "`{path}` is not a regular file"
        )));
    }
    let mode = meta.permissions().mode();
    let mode = if executable {
        // Executable by whoever may read it.
        mode | ((mode & 0o444) >> 2)
    } else {
        mode & !0o111
    };
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode))
        .map_err(|e| HostCallError::Unavailable(format!("cannot change `{path}`: {e}")))
}
