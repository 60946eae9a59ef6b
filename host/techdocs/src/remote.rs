//! Sites whose sources are not on this machine (`url:` techdocs-refs): the
//! server downloads the tree through the catalog's reading integrations (a
//! [`TreeFetcher`]) and this module unpacks it into a folder of the TechDocs
//! data directory, which is then built like a local checkout.
//!
//! A downloaded archive is data from outside. Every entry's path is checked
//! before anything is written: absolute paths, backslashes and `..` parts are
//! refused with the entry named; links (symbolic or hard), devices and FIFOs
//! are skipped and never created, so nothing can point out of the tree; the
//! number of files and the inflated bytes are bounded by the build limits
//! while inflating, so a gzip bomb stops at the limit. The new tree is
//! unpacked beside the old one and swapped in whole.

use std::future::Future;
use std::io::Read;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use crate::BuildLimits;

/// A downloaded tree, as a gzip-compressed tar.
#[derive(Debug, Clone)]
pub struct FetchedTree {
    pub archive: Vec<u8>,
    /// Leading path parts of every entry to drop first (GitHub's tarballs
    /// hold one `owner-repo-sha/` folder).
    pub strip: usize,
    /// The folder inside (after `strip`) that holds the docs (`/`-separated,
    /// empty for all): only it is unpacked.
    pub subpath: String,
}

/// Downloads the tree a `url:` techdocs-ref names; implemented by the server
/// with the catalog's URL reading (allow-list, GitHub tokens).
pub trait TreeFetcher: Send + Sync + 'static {
    /// The tree at `url`, at most `max_bytes` compressed; the error says why
    /// not, naming the URL.
    fn fetch(
        &self,
        url: &str,
        max_bytes: u64,
    ) -> Pin<Box<dyn Future<Output = Result<FetchedTree, String>> + Send + 'static>>;
}

/// What unpacking left out, for the site's status.
#[derive(Debug, Default)]
pub struct Unpacked {
    pub files: usize,
    /// Entries not created, each with why (links, devices).
    pub skipped: Vec<String>,
}

/// Unpacks `tree` into `into` (which must not exist yet).
pub fn unpack(tree: &FetchedTree, into: &Path, limits: &BuildLimits) -> Result<Unpacked, String> {
    let broken = |e: std::io::Error| format!("the download is not a readable .tar.gz archive: {e}");
    let subpath: Vec<&str> = tree
        .subpath
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if subpath.contains(&"..") {
        return Err(format!("the folder `{}` has a `..` part", tree.subpath));
    }
    let gunzip = flate2::read::GzDecoder::new(tree.archive.as_slice());
    // Never more than the byte limit plus headers' room is inflated.
    let mut archive =
        tar::Archive::new(gunzip.take(limits.max_total_bytes.saturating_add(1 << 20)));
    let max_files = limits.max_pages.saturating_mul(2).saturating_add(16);
    let mut unpacked = Unpacked::default();
    let mut bytes = 0u64;
    let mut matched_folder = subpath.is_empty();
    std::fs::create_dir_all(into).map_err(|e| format!("cannot create {}: {e}", into.display()))?;
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName
        ) {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(relative) = relative_path(&name, tree.strip, &subpath)
            .map_err(|why| format!("the archive's entry `{name}` {why}; nothing was unpacked"))?
        else {
            continue;
        };
        matched_folder = true;
        if relative.as_os_str().is_empty() {
            continue;
        }
        let target = into.join(&relative);
        match kind {
            tar::EntryType::Directory => {
                std::fs::create_dir_all(&target)
                    .map_err(|e| format!("cannot create {}: {e}", target.display()))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                unpacked.files += 1;
                if unpacked.files > max_files {
                    return Err(format!(
                        "the archive holds more than {max_files} files (limit max_pages, twice: pages and other files)"
                    ));
                }
                bytes = bytes.saturating_add(entry.header().size().unwrap_or(0));
                if bytes > limits.max_total_bytes {
                    return Err(format!(
                        "the archive's files add up to more than {} bytes (limit max_total_bytes)",
                        limits.max_total_bytes
                    ));
                }
                if let Some(parent) = target.parent() {
                    std::fs::create_dir_all(parent)
                        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
                }
                let mut file = std::fs::File::create(&target)
                    .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
                std::io::copy(&mut entry, &mut file).map_err(broken)?;
            }
            tar::EntryType::Symlink | tar::EntryType::Link => {
                unpacked.skipped.push(format!(
                    "`{}` is a link; links in downloaded docs are not followed",
                    relative.display()
                ));
            }
            _ => unpacked
                .skipped
                .push(format!("`{}` is not a file or folder", relative.display())),
        }
    }
    if !matched_folder {
        return Err(format!("the archive has no folder `{}`", tree.subpath));
    }
    Ok(unpacked)
}

/// The path of an entry under the wanted folder: `Ok(None)` for entries
/// outside it, `Err` for a name that would escape.
fn relative_path(
    name: &str,
    strip: usize,
    subpath: &[&str],
) -> Result<Option<PathBuf>, &'static str> {
    if name.starts_with('/') || name.contains('\\') {
        return Err("is an absolute path or has a backslash");
    }
    let mut parts = Vec::new();
    for component in Path::new(name).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or("is not UTF-8")?),
            Component::CurDir => {}
            _ => return Err("has a `..` part or is absolute"),
        }
    }
    if parts.len() < strip {
        return Ok(None);
    }
    let parts = &parts[strip..];
    if parts.len() < subpath.len() || parts[..subpath.len()] != *subpath {
        return Ok(None);
    }
    Ok(Some(parts[subpath.len()..].iter().collect()))
}

/// Unpacks `tree` as the new content of `dir`: into a sibling first, then
/// swapped in, so a failed download or unpack leaves the last tree whole.
pub fn replace_tree(
    tree: &FetchedTree,
    dir: &Path,
    limits: &BuildLimits,
) -> Result<Unpacked, String> {
    let fresh = dir.with_extension("new");
    let old = dir.with_extension("old");
    let _ = std::fs::remove_dir_all(&fresh);
    let _ = std::fs::remove_dir_all(&old);
    let unpacked = match unpack(tree, &fresh, limits) {
        Ok(unpacked) => unpacked,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&fresh);
            return Err(e);
        }
    };
    if dir.exists() {
        std::fs::rename(dir, &old).map_err(|e| format!("cannot replace {}: {e}", dir.display()))?;
    }
    std::fs::rename(&fresh, dir).map_err(|e| format!("cannot replace {}: {e}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(unpacked)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A .tar.gz of `(name, kind, content-or-link-target)` entries, names
    /// written raw into the header (the tar crate refuses `..` itself).
    fn archive(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut builder = tar::Builder::new(gz);
        for (name, kind, data) in entries {
            let mut header = tar::Header::new_gnu();
            header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
            header.set_entry_type(*kind);
            header.set_mode(0o644);
            if matches!(kind, tar::EntryType::Symlink | tar::EntryType::Link) {
                header.set_link_name(data).unwrap();
                header.set_size(0);
                header.set_cksum();
                builder.append(&header, std::io::empty()).unwrap();
            } else {
                header.set_size(data.len() as u64);
                header.set_cksum();
                builder.append(&header, data.as_bytes()).unwrap();
            }
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    fn tree(entries: &[(&str, tar::EntryType, &str)], strip: usize, subpath: &str) -> FetchedTree {
        FetchedTree {
            archive: archive(entries),
            strip,
            subpath: subpath.into(),
        }
    }

    use tar::EntryType::{Directory as D, Regular as F, Symlink as L};

    #[test]
    fn only_the_folder_is_unpacked_without_the_leading_part() {
        let dir = tempfile::tempdir().unwrap();
        let t = tree(
            &[
                ("acme-app-1234/", D, ""),
                ("acme-app-1234/README.md", F, "root"),
                ("acme-app-1234/docs/mkdocs.yml", F, "site_name: x"),
                ("acme-app-1234/docs/docs/index.md", F, "# Hi"),
                ("acme-app-1234/docsx/other.md", F, "no"),
            ],
            1,
            "docs",
        );
        let out = dir.path().join("site");
        let unpacked = unpack(&t, &out, &BuildLimits::default()).unwrap();
        assert_eq!(unpacked.files, 2);
        assert_eq!(
            std::fs::read_to_string(out.join("docs/index.md")).unwrap(),
            "# Hi"
        );
        assert!(out.join("mkdocs.yml").exists());
        assert!(!out.join("README.md").exists() && !out.join("other.md").exists());
    }

    #[test]
    fn escaping_names_are_refused_and_links_never_made() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["r/../../etc/x", "/etc/passwd", "r\\..\\x"] {
            let err = unpack(
                &tree(&[(name, F, "x")], 1, ""),
                &dir.path().join("a"),
                &BuildLimits::default(),
            )
            .unwrap_err();
            assert!(err.contains(name), "{err}");
        }
        let out = dir.path().join("links");
        let unpacked = unpack(
            &tree(
                &[
                    ("r/up", L, ".."),
                    ("r/etc", L, "/etc"),
                    ("r/index.md", F, "# x"),
                ],
                1,
                "",
            ),
            &out,
            &BuildLimits::default(),
        )
        .unwrap();
        assert_eq!(unpacked.skipped.len(), 2, "{:?}", unpacked.skipped);
        assert!(std::fs::symlink_metadata(out.join("up")).is_err());
        assert!(std::fs::symlink_metadata(out.join("etc")).is_err());
    }

    #[test]
    fn limits_hold_while_inflating() {
        let dir = tempfile::tempdir().unwrap();
        let limits = BuildLimits {
            max_pages: 2,
            max_total_bytes: 1000,
            ..BuildLimits::default()
        };
        let many: Vec<(String, tar::EntryType, &str)> =
            (0..30).map(|i| (format!("r/{i}.md"), F, "x")).collect();
        let many: Vec<(&str, tar::EntryType, &str)> =
            many.iter().map(|(n, k, d)| (n.as_str(), *k, *d)).collect();
        let err = unpack(&tree(&many, 1, ""), &dir.path().join("m"), &limits).unwrap_err();
        assert!(err.contains("max_pages"), "{err}");
        let big = "x".repeat(5000);
        let err = unpack(
            &tree(&[("r/big.md", F, &big)], 1, ""),
            &dir.path().join("b"),
            &limits,
        )
        .unwrap_err();
        assert!(err.contains("max_total_bytes"), "{err}");
        let err = unpack(
            &tree(&[("r/a.md", F, "x")], 1, "nope"),
            &dir.path().join("n"),
            &limits,
        )
        .unwrap_err();
        assert!(err.contains("no folder `nope`"), "{err}");
    }

    #[test]
    fn a_failed_unpack_keeps_the_last_tree() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        replace_tree(
            &tree(&[("r/index.md", F, "one")], 1, ""),
            &site,
            &BuildLimits::default(),
        )
        .unwrap();
        let broken = FetchedTree {
            archive: b"not gzip".to_vec(),
            strip: 1,
            subpath: String::new(),
        };
        assert!(replace_tree(&broken, &site, &BuildLimits::default()).is_err());
        assert_eq!(
            std::fs::read_to_string(site.join("index.md")).unwrap(),
            "one"
        );
        replace_tree(
            &tree(&[("r/index.md", F, "two")], 1, ""),
            &site,
            &BuildLimits::default(),
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(site.join("index.md")).unwrap(),
            "two"
        );
    }
}
