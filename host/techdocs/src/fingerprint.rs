//! A site's content hash: what decides whether a build is needed at all.
//! Reading and hashing the sources costs a fraction of rendering them, so a
//! portal that is told "something changed" (a file event, a catalog refresh,
//! a restart) checks this first and skips the build when it is unchanged.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::{BuildError, BuildLimits, locate, tree};

/// The content hash of a site's sources and where they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Hex SHA-256 over `mkdocs.yml` and every file under docs_dir (paths,
    /// sizes, contents), in path order. Files the build would skip for their
    /// size enter by their size only, so they are never read.
    pub hash: String,
    /// The directory holding `mkdocs.yml` (watch it, not recursively).
    pub docs_root: PathBuf,
    /// docs_dir, resolved (watch it recursively).
    pub docs_dir: PathBuf,
}

/// Hashes the sources [`crate::build_site`] would read with the same
/// arguments, under the same limits. Snippet includes from outside docs_dir
/// are not part of it (which files a page includes is known only once it is
/// rendered): the last build's [`crate::Site::includes`] are, through
/// [`includes_hash`].
pub fn fingerprint(
    repo_root: &Path,
    docs_root: &Path,
    limits: &BuildLimits,
) -> Result<Fingerprint, BuildError> {
    let mut located = locate(repo_root, docs_root, limits)?;
    let mut hasher = Sha256::new();
    hasher.update(b"portal-techdocs 1\0");
    hasher.update(located.config_text.as_bytes());
    hasher.update(b"\0");
    let listing = tree::walk(
        &located.docs_dir,
        &located.docs_dir_rel,
        limits,
        &mut located.problems,
    )?;
    for entry in listing.pages.iter().chain(&listing.assets) {
        hasher.update(entry.rel.as_bytes());
        hasher.update(b"\0");
        match tree::read_limited(&entry.abs, limits.max_page_bytes) {
            Ok(bytes) => {
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
            Err(reason) => hasher.update(reason.as_bytes()),
        }
    }
    // Skipped files (too large, symlinks) are named in the walk's problems,
    // with their sizes.
    for problem in &located.problems {
        hasher.update(problem.to_string().as_bytes());
        hasher.update(b"\0");
    }
    Ok(Fingerprint {
        hash: hex::encode(hasher.finalize()),
        docs_root: located.docs_root,
        docs_dir: located.docs_dir,
    })
}

/// `hash` extended with the contents of the files a site's snippets were
/// looked for at (`includes`, relative to `repo_root`; a missing file counts
/// as missing), so that editing, creating or deleting only such a file is a
/// change. Without includes, `hash` itself.
pub fn includes_hash(
    hash: &str,
    repo_root: &Path,
    includes: &[String],
    limits: &BuildLimits,
) -> String {
    if includes.is_empty() {
        return hash.to_owned();
    }
    let mut hasher = Sha256::new();
    hasher.update(hash.as_bytes());
    for include in includes {
        hasher.update(b"\0");
        hasher.update(include.as_bytes());
        hasher.update(b"\0");
        // Read as the snippet loader reads: never through a link.
        match tree::read_limited(&repo_root.join(include), limits.max_page_bytes) {
            Ok(bytes) => {
                hasher.update((bytes.len() as u64).to_le_bytes());
                hasher.update(&bytes);
            }
            Err(reason) => hasher.update(reason.as_bytes()),
        }
    }
    hex::encode(hasher.finalize())
}

/// The folders holding `includes` (to watch, not recursively).
pub fn include_dirs(repo_root: &Path, includes: &[String]) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = includes
        .iter()
        .filter_map(|i| repo_root.join(i).parent().map(Path::to_path_buf))
        .filter(|d| d.is_dir())
        .collect();
    dirs.sort();
    dirs.dedup();
    dirs
}
