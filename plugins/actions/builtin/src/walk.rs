//! Walking a folder tree (a skeleton, the workspace) without following
//! symbolic links, in a stable order, within limits.

use crate::error::{ActionError, Result, code};
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    Symlink,
    /// A socket, a FIFO, a device: nothing an action copies or lists.
    Other,
}

impl Kind {
    /// The kind of what is at `path` itself (a link is not followed); `None`
    /// if nothing is there.
    pub fn of(path: &Path) -> Result<Option<Kind>> {
        match fs::symlink_metadata(path) {
            Ok(meta) => Ok(Some(Kind::from_type(meta.file_type()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ActionError::io("inspect", path, &e)),
        }
    }

    fn from_type(file_type: fs::FileType) -> Kind {
        if file_type.is_symlink() {
            Kind::Symlink
        } else if file_type.is_dir() {
            Kind::Dir
        } else if file_type.is_file() {
            Kind::File
        } else {
            Kind::Other
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the walk's root, `/`-separated.
    pub relative: String,
    pub kind: Kind,
    /// Bytes, for files.
    pub len: u64,
}

/// What a walk may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_entries: usize,
    pub max_bytes: u64,
}

/// A skeleton is copied into the workspace, and rendered, inside the
/// sandbox's memory: bounded before anything is read.
pub const SKELETON: Limits = Limits {
    max_entries: 10_000,
    max_bytes: 64 << 20,
};

/// Walking the workspace (globs, listings): its files are not read, only
/// counted, so only the count is bounded.
pub const WORKSPACE: Limits = Limits {
    max_entries: 100_000,
    max_bytes: u64::MAX,
};

/// Every entry under `root` (a folder; not `root` itself), a folder before
/// what it holds, names in byte order. Links are entries, never followed.
/// `what` names the tree in errors ("the skeleton `./skeleton`").
pub fn walk(root: &Path, limits: Limits, what: &str) -> Result<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut bytes = 0u64;
    // One iterator per open folder: no recursion, however deep the tree.
    let mut stack = vec![list(root, "")?.into_iter()];
    while let Some(level) = stack.last_mut() {
        let Some(entry) = level.next() else {
            stack.pop();
            continue;
        };
        if entries.len() >= limits.max_entries {
            return Err(ActionError::new(
                code::TOO_LARGE,
                format!(
                    "{what} holds more than {} files and folders",
                    limits.max_entries
                ),
            ));
        }
        bytes = bytes.saturating_add(entry.len);
        if bytes > limits.max_bytes {
            return Err(ActionError::new(
                code::TOO_LARGE,
                format!("{what} holds more than {} MiB", limits.max_bytes >> 20),
            ));
        }
        if entry.kind == Kind::Dir {
            stack.push(list(root, &entry.relative)?.into_iter());
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The entries of `root` itself, sorted by name, not what its folders hold.
pub fn children(root: &Path) -> Result<Vec<Entry>> {
    list(root, "")
}

/// The entries of one folder, sorted by name.
fn list(root: &Path, relative: &str) -> Result<Vec<Entry>> {
    let dir = root.join(relative);
    let read = fs::read_dir(&dir).map_err(|e| ActionError::io("list", &dir, &e))?;
    let mut entries = Vec::new();
    for item in read {
        let item = item.map_err(|e| ActionError::io("list", &dir, &e))?;
        let name = item.file_name();
        let Some(name) = name.to_str() else {
            return Err(ActionError::invalid(format!(
                "{} holds a name that is not UTF-8: {}",
                dir.display(),
                name.to_string_lossy()
            )));
        };
        let file_type = item
            .file_type()
            .map_err(|e| ActionError::io("inspect", &item.path(), &e))?;
        let kind = Kind::from_type(file_type);
        let len = if kind == Kind::File {
            item.metadata()
                .map_err(|e| ActionError::io("inspect", &item.path(), &e))?
                .len()
        } else {
            0
        };
        let relative = if relative.is_empty() {
            name.to_owned()
        } else {
            format!("{relative}/{name}")
        };
        entries.push(Entry {
            relative,
            kind,
            len,
        });
    }
    entries.sort_by(|a, b| a.relative.cmp(&b.relative));
    Ok(entries)
}

/// `root` joined with a `/`-separated relative path.
pub fn join(root: &Path, relative: &str) -> PathBuf {
    if relative.is_empty() {
        root.to_path_buf()
    } else {
        root.join(relative)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    #[test]
    fn a_tree_is_walked_in_order_folders_first_links_not_followed() {
        let dirs = Dirs::new();
        let root = &dirs.template;
        Dirs::write(
            root,
            &[("b.txt", "bb"), ("a/z.txt", "z"), ("a/b/c.txt", "")],
        );
        std::os::unix::fs::symlink("/etc", root.join("link")).unwrap();
        let entries = walk(root, SKELETON, "the skeleton").unwrap();
        let seen: Vec<(&str, Kind, u64)> = entries
            .iter()
            .map(|e| (e.relative.as_str(), e.kind, e.len))
            .collect();
        assert_eq!(
            seen,
            [
                ("a", Kind::Dir, 0),
                ("a/b", Kind::Dir, 0),
                ("a/b/c.txt", Kind::File, 0),
                ("a/z.txt", Kind::File, 1),
                ("b.txt", Kind::File, 2),
                ("link", Kind::Symlink, 0),
            ]
        );
    }

    #[test]
    fn a_walk_stops_at_its_limits_with_a_clear_error() {
        let dirs = Dirs::new();
        let root = &dirs.template;
        Dirs::write(root, &[("a", "12345"), ("b", "12345"), ("c", "")]);
        let few = Limits {
            max_entries: 2,
            max_bytes: u64::MAX,
        };
        let e = walk(root, few, "the skeleton `./s`").unwrap_err();
        assert_eq!(e.code, "too-large");
        assert_eq!(
            e.message,
            "the skeleton `./s` holds more than 2 files and folders"
        );
        let small = Limits {
            max_entries: 100,
            max_bytes: 9 << 20,
        };
        std::fs::write(root.join("big"), vec![b'x'; 10 << 20]).unwrap();
        let e = walk(root, small, "the skeleton `./s`").unwrap_err();
        assert_eq!(e.message, "the skeleton `./s` holds more than 9 MiB");
    }

    #[test]
    fn a_deep_tree_does_not_recurse() {
        let dirs = Dirs::new();
        let deep: String = (0..300).map(|_| "d/").collect();
        Dirs::write(&dirs.template, &[(&format!("{deep}f"), "x")]);
        assert_eq!(walk(&dirs.template, SKELETON, "s").unwrap().len(), 301);
    }
}
