//! Unpacking a downloaded skeleton (a `.tar.gz`, as GitHub's tarball API and
//! most forges serve one) into a scratch folder of the workspace, within the
//! skeleton limits, so that the fetch actions then copy and render it as they
//! do a folder of the template.
//!
//! An archive is data from outside: every entry's path is checked before
//! anything is written. Absolute paths and `..` parts are refused with the
//! entry named; links are made only when their target stays inside the
//! unpacked tree (else skipped with a warning, as the fetch actions do with
//! the template's own links); hard links, devices and FIFOs are skipped.

use crate::context::Context;
use crate::error::{ActionError, Result, code};
use crate::paths;
use crate::platform;
use crate::walk::Limits;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// What was unpacked.
#[derive(Debug, Default)]
pub struct Unpacked {
    /// Files whose mode has an executable bit, relative to the scratch root.
    pub executables: Vec<PathBuf>,
    pub files: usize,
}

/// Unpacks the entries of the gzip-compressed tar `bytes` under `subpath`
/// (`/`-separated, empty for all) into `into`, each at its path relative to
/// `subpath`. `strip` leading path parts are dropped first (GitHub's
/// tarballs hold one `owner-repo-sha/` folder). `what` names the archive in
/// errors.
pub fn unpack_tar_gz(
    ctx: &Context,
    bytes: &[u8],
    strip: usize,
    subpath: &str,
    into: &Path,
    limits: Limits,
    what: &str,
) -> Result<Unpacked> {
    let broken = |e: std::io::Error| {
        ActionError::new(
            code::INVALID_INPUT,
            format!("{what} is not a readable .tar.gz archive: {e}"),
        )
    };
    let subpath: Vec<&str> = subpath
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let gunzip = flate2::read::GzDecoder::new(bytes);
    // Never more than the skeleton limit plus one byte is decompressed: a
    // small archive that inflates to gigabytes stops here.
    let mut archive = tar::Archive::new(gunzip.take(limits.max_bytes.saturating_add(1 << 20)));
    let mut unpacked = Unpacked::default();
    let (mut entries, mut bytes_out) = (0usize, 0u64);
    // The links made so far: nothing is written through one (`up -> .`
    // then `up/up/l -> ../..` would climb out of the tree).
    let mut links: Vec<PathBuf> = Vec::new();
    fs::create_dir_all(into).map_err(|e| ActionError::io("create the folder", into, &e))?;
    for entry in archive.entries().map_err(broken)? {
        let mut entry = entry.map_err(broken)?;
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader | tar::EntryType::GNULongName
        ) {
            continue;
        }
        let raw = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&raw).into_owned();
        let Some(relative) = relative_path(&name, strip, &subpath).map_err(|why| {
            ActionError::new(
                code::PATH_ESCAPE,
                format!("{what}: the entry `{name}` {why}; nothing is unpacked from it"),
            )
        })?
        else {
            continue;
        };
        entries += 1;
        if entries > limits.max_entries {
            return Err(ActionError::new(
                code::TOO_LARGE,
                format!(
                    "{what} holds more than {} entries, the skeleton limit",
                    limits.max_entries
                ),
            ));
        }
        if let Some(link) = links.iter().find(|l| relative.starts_with(l)) {
            ctx.warn(format!(
                "{what}: skipped `{}`: it lies through the link `{}`",
                relative.display(),
                link.display()
            ));
            continue;
        }
        let to = into.join(&relative);
        match kind {
            tar::EntryType::Directory => {
                fs::create_dir_all(&to)
                    .map_err(|e| ActionError::io("create the folder", &to, &e))?;
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                bytes_out = bytes_out.saturating_add(entry.size());
                if bytes_out > limits.max_bytes {
                    return Err(ActionError::new(
                        code::TOO_LARGE,
                        format!(
                            "{what} unpacks to more than {} MiB, the skeleton limit",
                            limits.max_bytes >> 20
                        ),
                    ));
                }
                let mut data = Vec::with_capacity(entry.size().min(limits.max_bytes) as usize);
                entry.read_to_end(&mut data).map_err(broken)?;
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| ActionError::io("create the folder", parent, &e))?;
                }
                fs::write(&to, &data).map_err(|e| ActionError::io("write", &to, &e))?;
                if entry.header().mode().is_ok_and(|m| m & 0o111 != 0) {
                    unpacked.executables.push(relative.clone());
                }
                unpacked.files += 1;
            }
            tar::EntryType::Symlink => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let shown = relative.to_string_lossy();
                let from_root = match shown.rsplit_once('/') {
                    Some((folder, _)) => format!("{folder}/{target}"),
                    None => target.clone(),
                };
                let stays = !target.is_empty()
                    && !target.starts_with('/')
                    && paths::normalize(&from_root).is_ok();
                if !stays {
                    ctx.warn(format!(
                        "{what}: skipped the link `{shown}`: its target `{target}` is outside the fetched folder"
                    ));
                    continue;
                }
                if let Some(parent) = to.parent() {
                    fs::create_dir_all(parent)
                        .map_err(|e| ActionError::io("create the folder", parent, &e))?;
                }
                platform::symlink(Path::new(&target), &to)
                    .map_err(|e| ActionError::io("create the link", &to, &e))?;
                links.push(relative);
            }
            other => {
                ctx.warn(format!(
                    "{what}: skipped `{}`: a {other:?} entry is not a file, folder or link",
                    relative.display()
                ));
            }
        }
    }
    Ok(unpacked)
}

/// The path an entry named `name` unpacks to: `None` when it is outside
/// `subpath` (or is `subpath` itself), an error when it is absolute or has
/// a `..` part.
fn relative_path(
    name: &str,
    strip: usize,
    subpath: &[&str],
) -> std::result::Result<Option<PathBuf>, &'static str> {
    if name.starts_with('/') || name.contains('\\') || name.contains('\0') {
        return Err("is an absolute path or holds a backslash");
    }
    let parts: Vec<&str> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    if parts.contains(&"..") {
        return Err("has a `..` part");
    }
    let Some(parts) = parts.get(strip..) else {
        return Ok(None);
    };
    if parts.len() <= subpath.len() || parts[..subpath.len()] != *subpath {
        return Ok(None);
    }
    Ok(Some(parts[subpath.len()..].iter().collect()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::context::testing::Dirs;
    use crate::walk;

    /// A `.tar.gz` of `(path, kind, contents or link target, mode)`, written
    /// with raw headers so that hostile names can be made.
    pub fn tar_gz(entries: &[(&str, char, &[u8], u32)]) -> Vec<u8> {
        let mut tar = Vec::new();
        for (path, kind, data, mode) in entries {
            let mut header = tar::Header::new_gnu();
            let name = header.as_old_mut().name.as_mut();
            name[..path.len()].copy_from_slice(path.as_bytes());
            header.set_mode(*mode);
            match kind {
                'd' => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                }
                'l' => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_link_name_literal(data).unwrap();
                    header.set_size(0);
                }
                'p' => {
                    header.set_entry_type(tar::EntryType::Fifo);
                    header.set_size(0);
                }
                _ => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(data.len() as u64);
                }
            }
            header.set_cksum();
            tar.extend_from_slice(header.as_bytes());
            if *kind == 'f' {
                tar.extend_from_slice(data);
                tar.resize(tar.len().div_ceil(512) * 512, 0);
            }
        }
        tar.resize(tar.len() + 1024, 0);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, &tar).unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn unpacks_the_subpath_with_modes_and_inside_links() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        let archive = tar_gz(&[
            ("acme-web-1a2b/", 'd', b"", 0o755),
            ("acme-web-1a2b/README.md", 'f', b"top", 0o644),
            ("acme-web-1a2b/skeleton/", 'd', b"", 0o755),
            ("acme-web-1a2b/skeleton/run.sh", 'f', b"#!/bin/sh\n", 0o755),
            (
                "acme-web-1a2b/skeleton/src/main.rs",
                'f',
                b"fn main() {}",
                0o644,
            ),
            ("acme-web-1a2b/skeleton/empty", 'f', b"", 0o644),
            ("acme-web-1a2b/skeleton/docs", 'l', b"src", 0o777),
            ("acme-web-1a2b/skeleton/out", 'l', b"../README.md", 0o777),
            ("acme-web-1a2b/skeleton/pipe", 'p', b"", 0o644),
            ("acme-web-1a2b/skeleton/up", 'l', b".", 0o777),
            ("acme-web-1a2b/skeleton/up/up/l", 'l', b"../..", 0o777),
            ("acme-web-1a2b/skeleton/docs/x", 'f', b"through", 0o644),
        ]);
        let into = ctx.workspace.join(".scratch");
        let got = unpack_tar_gz(
            &ctx,
            &archive,
            1,
            "skeleton",
            &into,
            walk::SKELETON,
            "the archive",
        )
        .unwrap();
        assert_eq!(got.files, 3, "{}", dirs.lines.text());
        assert_eq!(got.executables, vec![PathBuf::from("run.sh")]);
        assert_eq!(dirs.read(".scratch/src/main.rs"), "fn main() {}");
        assert_eq!(dirs.read(".scratch/empty"), "");
        assert!(!dirs.exists(".scratch/README.md"));
        assert_eq!(fs::read_link(into.join("docs")).unwrap(), Path::new("src"));
        assert!(
            !dirs.exists(".scratch/out"),
            "a link leaving the tree is skipped"
        );
        assert!(!dirs.exists(".scratch/pipe"));
        assert!(!dirs.exists(".scratch/l") && !dirs.exists(".scratch/src/x"));
        let log = dirs.lines.text();
        assert!(log.contains("skipped the link `out`"), "{log}");
        assert!(log.contains("skipped `pipe`"), "{log}");
        assert!(
            log.contains("skipped `up/up/l`: it lies through the link `up`"),
            "{log}"
        );
        assert!(log.contains("skipped `docs/x`"), "{log}");
    }

    #[test]
    fn hostile_entry_names_are_refused_before_anything_is_written_for_them() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        for name in [
            "x/../../evil",
            "/etc/evil",
            "x/..\\evil",
            "x/a/../../../evil",
        ] {
            let archive = tar_gz(&[(name, 'f', b"pwned", 0o644)]);
            let e = unpack_tar_gz(
                &ctx,
                &archive,
                1,
                "",
                &ctx.workspace.join("s"),
                walk::SKELETON,
                "the archive",
            )
            .unwrap_err();
            assert_eq!(e.code, code::PATH_ESCAPE, "{name}: {e:?}");
            assert!(e.message.contains(name), "{e:?}");
        }
        assert!(!dirs.outside().join("evil").exists());
    }

    #[test]
    fn a_bomb_stops_at_the_limit_and_garbage_is_named() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        let big = vec![b'a'; 3 << 20];
        let archive = tar_gz(&[("r/big", 'f', &big, 0o644)]);
        assert!(archive.len() < 64 << 10, "it compresses well");
        let small = Limits {
            max_entries: 10,
            max_bytes: 1 << 20,
        };
        let e = unpack_tar_gz(
            &ctx,
            &archive,
            1,
            "",
            &ctx.workspace.join("s"),
            small,
            "the archive",
        )
        .unwrap_err();
        assert_eq!(e.code, code::TOO_LARGE, "{e:?}");
        let many: Vec<(String, char, &[u8], u32)> = (0..12)
            .map(|i| (format!("r/f{i}"), 'f', &b"x"[..], 0o644))
            .collect();
        let many: Vec<(&str, char, &[u8], u32)> = many
            .iter()
            .map(|(n, k, d, m)| (n.as_str(), *k, *d, *m))
            .collect();
        let e = unpack_tar_gz(
            &ctx,
            &tar_gz(&many),
            1,
            "",
            &ctx.workspace.join("t"),
            small,
            "the archive",
        )
        .unwrap_err();
        assert!(e.message.contains("more than 10 entries"), "{e:?}");
        let e = unpack_tar_gz(
            &ctx,
            b"not gzip",
            1,
            "",
            &ctx.workspace.join("u"),
            small,
            "the archive at X",
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("the archive at X is not a readable .tar.gz"),
            "{e:?}"
        );
    }
}
