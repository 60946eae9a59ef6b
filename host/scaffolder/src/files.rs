//! Files crossing the API: a dry run's template files coming in
//! (`directoryContents`), and its workspace going out.

use std::path::{Component, Path, PathBuf};

/// A path from a request, checked to stay inside the directory it is joined to:
/// relative, no `..`, no root or drive, no empty name.
pub fn relative_path(path: &str) -> Result<PathBuf, String> {
    let refuse = |why: &str| Err(format!("file path `{}` {why}", path.escape_debug()));
    if path.is_empty() {
        return refuse("is empty");
    }
    if path.contains('\0') || path.contains('\\') {
        return refuse("contains a NUL or a backslash");
    }
    let mut out = PathBuf::new();
    for component in Path::new(path).components() {
        match component {
            Component::Normal(name) => out.push(name),
            Component::CurDir => {}
            Component::ParentDir => return refuse("leaves its directory (`..`)"),
            Component::RootDir | Component::Prefix(_) => return refuse("is absolute"),
        }
    }
    if out.as_os_str().is_empty() {
        return refuse("names no file");
    }
    Ok(out)
}

/// Every regular file under `root` (links are not followed), as relative path
/// with `/`, executable bit and bytes, sorted by path. Refuses more than
/// `max_bytes` in all.
pub fn collect(root: &Path, max_bytes: u64) -> Result<Vec<(String, bool, Vec<u8>)>, String> {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("cannot read the workspace: {e}")),
        };
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read the workspace: {e}"))?;
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read the workspace: {e}"))?;
            let path = entry.path();
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                let metadata = entry
                    .metadata()
                    .map_err(|e| format!("cannot read the workspace: {e}"))?;
                total += metadata.len();
                if total > max_bytes {
                    return Err(format!(
                        "the workspace holds more than {} MiB, the most a dry run returns",
                        max_bytes >> 20
                    ));
                }
                let bytes =
                    std::fs::read(&path).map_err(|e| format!("cannot read the workspace: {e}"))?;
                let relative = path
                    .strip_prefix(root)
                    .unwrap_or(&path)
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                files.push((relative, is_executable(&metadata), bytes));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(files)
}

#[cfg(unix)]
fn is_executable(metadata: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    metadata.permissions().mode() & 0o111 != 0
}

#[cfg(not(unix))]
fn is_executable(_: &std::fs::Metadata) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_paths_stay_inside() {
        assert_eq!(
            relative_path("a/./b.txt").unwrap(),
            PathBuf::from("a/b.txt")
        );
        for bad in [
            "",
            "../x",
            "a/../../x",
            "/etc/passwd",
            "a\\..\\b",
            ".",
            "a\0b",
        ] {
            assert!(relative_path(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[cfg(unix)]
    #[test]
    fn collect_skips_links_and_keeps_the_executable_bit() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).unwrap();
        std::fs::write(root.join("bin/run"), b"#!/bin/sh\n").unwrap();
        std::fs::set_permissions(root.join("bin/run"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::write(root.join("README.md"), b"hi").unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("leak")).unwrap();
        let files = collect(root, 1 << 20).unwrap();
        let names: Vec<(&str, bool)> = files.iter().map(|(p, x, _)| (p.as_str(), *x)).collect();
        assert_eq!(names, [("README.md", false), ("bin/run", true)]);
        assert!(collect(root, 3).is_err());
    }
}
