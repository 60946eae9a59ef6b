//! Everything that touches the file system. A repository checkout is
//! untrusted input: symlinks are never followed (a link to `/etc/passwd` or to
//! another tenant's checkout must not end up in a site), every path a
//! configuration or page names is resolved lexically and checked against the
//! repository root, and every file's size is checked before it is read.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::BuildError;
use crate::markdown::SnippetLoader;
use crate::paths::{is_markdown, join_rel};
use crate::{BuildLimits, Problem};

/// Deepest directory nesting walked under docs_dir.
const MAX_DIR_DEPTH: usize = 64;

/// A regular file found under docs_dir.
#[derive(Debug, Clone)]
pub(crate) struct FileEntry {
    /// Path relative to docs_dir, `/`-separated.
    pub rel: String,
    pub abs: PathBuf,
}

/// The files under docs_dir: Markdown pages and everything else (assets).
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub pages: Vec<FileEntry>,
    pub assets: Vec<FileEntry>,
}

/// `path` relative to `base`, `/`-separated, for messages; the full path if
/// it is not under `base`.
pub(crate) fn display_rel(base: &Path, path: &Path) -> String {
    match path.strip_prefix(base) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_owned(),
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

/// Reads a regular file of at most `max` bytes, refusing symlinks. The size
/// is checked before reading, and the opened file is checked to be the one
/// that was inspected (a file swapped for a symlink in between is refused).
pub(crate) fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let meta = fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    if meta.file_type().is_symlink() {
        return Err("it is a symlink, which is never followed".to_owned());
    }
    if !meta.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    if meta.len() > max {
        return Err(format!(
            "it is {} bytes, more than the limit of {max} bytes",
            meta.len()
        ));
    }
    let file = fs::File::open(path).map_err(|e| e.to_string())?;
    let opened = file.metadata().map_err(|e| e.to_string())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if opened.ino() != meta.ino() || opened.dev() != meta.dev() {
            return Err("it changed while being read".to_owned());
        }
    }
    if !opened.is_file() {
        return Err("it is not a regular file".to_owned());
    }
    let mut bytes = Vec::with_capacity(opened.len().min(max) as usize);
    file.take(max + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max {
        return Err(format!("it grew beyond the limit of {max} bytes"));
    }
    Ok(bytes)
}

/// Lists docs_dir without following symlinks, skipping dot-files (as MkDocs
/// does) and files over the per-file limit, and enforcing the page, file and
/// byte limits.
pub(crate) fn walk(
    docs_dir: &Path,
    docs_dir_display: &str,
    limits: &BuildLimits,
    problems: &mut Vec<Problem>,
) -> Result<Listing, BuildError> {
    let mut listing = Listing::default();
    let mut total: u64 = 0;
    // (absolute dir, relative prefix, depth); popped in reverse so directories
    // are visited in name order.
    let mut stack: Vec<(PathBuf, String, usize)> = vec![(docs_dir.to_path_buf(), String::new(), 0)];
    while let Some((dir, prefix, depth)) = stack.pop() {
        let place = |name: &str| {
            if prefix.is_empty() {
                format!("{docs_dir_display}/{name}")
            } else {
                format!("{docs_dir_display}/{prefix}{name}")
            }
        };
        let read = fs::read_dir(&dir).map_err(|source| BuildError::ListDir {
            path: format!("{docs_dir_display}/{prefix}"),
            source,
        })?;
        let mut entries = Vec::new();
        for entry in read {
            let entry = entry.map_err(|source| BuildError::ListDir {
                path: format!("{docs_dir_display}/{prefix}"),
                source,
            })?;
            entries.push(entry);
        }
        entries.sort_by_key(|e| e.file_name());
        let mut subdirs = Vec::new();
        for entry in entries {
            let os_name = entry.file_name();
            let Some(name) = os_name.to_str() else {
                problems.push(Problem::warning(
                    place(&os_name.to_string_lossy()),
                    "file name is not UTF-8: skipped",
                ));
                continue;
            };
            if name.starts_with('.') {
                continue;
            }
            // `DirEntry::file_type` does not follow symlinks.
            let file_type = entry.file_type().map_err(|source| BuildError::ListDir {
                path: place(name),
                source,
            })?;
            if file_type.is_symlink() {
                problems.push(Problem::warning(
                    place(name),
                    "symlink not followed: the file or directory it points at is not part of the site",
                ));
                continue;
            }
            let rel = format!("{prefix}{name}");
            if file_type.is_dir() {
                if depth + 1 > MAX_DIR_DEPTH {
                    problems.push(Problem::warning(
                        place(name),
                        format!("directory nested deeper than {MAX_DIR_DEPTH} levels: skipped"),
                    ));
                } else {
                    subdirs.push((entry.path(), format!("{rel}/"), depth + 1));
                }
                continue;
            }
            if !file_type.is_file() {
                continue;
            }
            let size = entry
                .metadata()
                .map_err(|source| BuildError::ListDir {
                    path: place(name),
                    source,
                })?
                .len();
            let page = is_markdown(name);
            if size > limits.max_page_bytes {
                problems.push(Problem::error(
                    place(name),
                    format!(
                        "{} is {size} bytes, more than the limit of {} bytes (max_page_bytes): skipped",
                        if page { "page" } else { "file" },
                        limits.max_page_bytes
                    ),
                ));
                continue;
            }
            total += size;
            if total > limits.max_total_bytes {
                return Err(BuildError::TooManyBytes {
                    docs_dir: docs_dir_display.to_owned(),
                    limit: limits.max_total_bytes,
                });
            }
            let (list, what) = if page {
                (&mut listing.pages, "Markdown pages")
            } else {
                (&mut listing.assets, "other files")
            };
            if list.len() >= limits.max_pages {
                return Err(BuildError::TooManyPages {
                    docs_dir: docs_dir_display.to_owned(),
                    limit: limits.max_pages,
                    what,
                });
            }
            list.push(FileEntry {
                rel,
                abs: entry.path(),
            });
        }
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(listing)
}

/// Snippet files (`--8<-- "path"`), looked up relative to the docs root
/// (where mkdocs.yml is) and then the repository root, as MkDocs does with
/// its default `base_path`. Paths that leave the repository, absolute paths
/// and paths through a symlink are refused.
pub(crate) struct SnippetFiles<'a> {
    /// Canonical repository root.
    pub repo: &'a Path,
    /// The docs root relative to the repository root, as segments.
    pub docs_root_rel: Vec<String>,
    pub max_bytes: u64,
    /// Every file a snippet was looked for at (found or not), relative to
    /// the repository root: the site depends on them (see
    /// [`crate::fingerprint::includes_hash`]).
    pub looked_at: std::cell::RefCell<std::collections::BTreeSet<String>>,
}

impl SnippetLoader for SnippetFiles<'_> {
    fn load(&self, path: &str) -> Result<String, String> {
        let mut last_error = "not found in the docs root or the repository root".to_owned();
        for base in [self.docs_root_rel.clone(), Vec::new()] {
            let Some(segments) = join_rel(&base, path) else {
                return Err(
                    "the path is absolute or leads outside the repository: not read".to_owned(),
                );
            };
            // Every component on the way must be a real directory or file.
            let mut current = self.repo.to_path_buf();
            let mut found = true;
            for segment in &segments {
                current.push(segment);
                match fs::symlink_metadata(&current) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        return Err(
                            "the path passes through a symlink, which is never followed: not read"
                                .to_owned(),
                        );
                    }
                    Ok(_) => {}
                    Err(_) => {
                        found = false;
                        break;
                    }
                }
            }
            if !segments.is_empty() {
                self.looked_at.borrow_mut().insert(segments.join("/"));
            }
            if !found || segments.is_empty() {
                continue;
            }
            match read_limited(&current, self.max_bytes) {
                Ok(bytes) => {
                    return String::from_utf8(bytes)
                        .map_err(|_| "the file is not UTF-8".to_owned());
                }
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_limited_checks_size_and_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        fs::write(&file, "hello").unwrap();
        assert_eq!(read_limited(&file, 5).unwrap(), b"hello");
        assert!(
            read_limited(&file, 4)
                .unwrap_err()
                .contains("more than the limit")
        );
        #[cfg(unix)]
        {
            let link = dir.path().join("l.txt");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert!(read_limited(&link, 100).unwrap_err().contains("symlink"));
        }
    }
}
