//! What a fetch action's `url` names: a file or folder of the template's own
//! directory (`./skeleton`), or a remote one, as Backstage's fetch actions
//! accept: a GitHub folder or file URL (`https://github.com/acme/templates/tree/main/skeleton`),
//! read as the repository's tarball through GitHub's REST API, or a
//! `.tar.gz` archive URL. Remote ones are downloaded through the plugin's
//! granted outbound HTTP (the host refuses hosts it was not granted) and
//! unpacked into a scratch folder of the workspace, within the skeleton
//! limits (`archive.rs`); the scratch folder is removed when the action
//! ends, so it is never part of what a task produces.

use crate::archive;
use crate::context::{Context, Download};
use crate::error::{ActionError, Result, code};
use crate::github;
use crate::paths;
use crate::walk;
use std::path::{Path, PathBuf};

/// Where remote skeletons are unpacked, in the workspace.
const SCRATCH: &str = ".portal-fetch";
/// Redirects followed per download (GitHub's tarball API answers with one,
/// to codeload).
const MAX_REDIRECTS: usize = 5;

/// The file or folder a fetch copies from.
pub struct Source {
    pub path: PathBuf,
    origin: Origin,
}

enum Origin {
    /// The template's own directory: the host knows its file modes.
    Template,
    /// Unpacked into `scratch`, with the modes the archive gave.
    Downloaded {
        scratch: PathBuf,
        executables: Vec<PathBuf>,
    },
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Origin::Downloaded { scratch, .. } = &self.origin {
            let _ = std::fs::remove_dir_all(scratch);
        }
    }
}

impl Source {
    /// What the input `input` (`url`) names, downloaded if it is remote (a
    /// GitHub `blob` URL names one file of the download).
    pub fn open(ctx: &Context, input: &str, url: &str) -> Result<Source> {
        let Some(rest) = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
        else {
            return Ok(Source {
                path: paths::template_path(ctx, input, url)?,
                origin: Origin::Template,
            });
        };
        let remote = Remote::parse(ctx, input, url, rest)?;
        let scratch = ctx.workspace.join(SCRATCH);
        if scratch.symlink_metadata().is_ok() {
            let _ = std::fs::remove_dir_all(&scratch);
            let _ = std::fs::remove_file(&scratch);
        }
        let bytes = download(ctx, url, &remote.archive_url, &remote.headers)?;
        let what = format!("the archive of `{url}`");
        // Made before unpacking, so that a failure removes the scratch folder.
        let mut source = Source {
            path: scratch.join(&remote.file),
            origin: Origin::Downloaded {
                scratch: scratch.clone(),
                executables: Vec::new(),
            },
        };
        let unpacked = archive::unpack_tar_gz(
            ctx,
            &bytes,
            remote.strip,
            &remote.folder,
            &scratch,
            walk::SKELETON,
            &what,
        )?;
        if unpacked.files == 0 && remote.file.is_empty() {
            return Err(ActionError::new(
                code::NOT_FOUND,
                format!("input `{input}` (`{url}`): the download holds no files there"),
            ));
        }
        ctx.info(format!(
            "downloaded `{url}`: {} files ({} KiB compressed)",
            unpacked.files,
            bytes.len().div_ceil(1024)
        ));
        if let Origin::Downloaded { executables, .. } = &mut source.origin {
            *executables = unpacked.executables;
        }
        Ok(source)
    }

    /// Refuses a target inside the scratch folder (it is removed after).
    pub fn check_target(&self, input: &str, target: &Path) -> Result<()> {
        if let Origin::Downloaded { scratch, .. } = &self.origin
            && target.starts_with(scratch)
        {
            return Err(ActionError::new(
                code::PATH_ESCAPE,
                format!("input `{input}` names `{SCRATCH}`, where remote skeletons are unpacked"),
            ));
        }
        Ok(())
    }

    /// A download's root and its executable files, as paths under that root.
    /// `None`: ask the host (the template's own files).
    pub fn executables(&self) -> Option<(&Path, &[PathBuf])> {
        match &self.origin {
            Origin::Template => None,
            Origin::Downloaded {
                scratch,
                executables,
            } => Some((scratch, executables)),
        }
    }
}

/// A remote `url`: which archive to download and what of it to take.
struct Remote {
    archive_url: String,
    headers: Vec<(String, String)>,
    /// Leading path parts the archive wraps everything in.
    strip: usize,
    /// The folder of the archive to unpack (`/`-separated).
    folder: String,
    /// For a file URL, its name in that folder; empty for a folder.
    file: String,
}

impl Remote {
    fn parse(ctx: &Context, input: &str, url: &str, rest: &str) -> Result<Remote> {
        let unsupported = || {
            ActionError::new(
                code::UNSUPPORTED,
                format!(
                    "input `{input}` (`{url}`): a remote skeleton must be a GitHub folder or file URL (`https://github.com/<owner>/<repo>/tree/<branch>/<path>`) or a `.tar.gz` archive"
                ),
            )
        };
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        if parts
            .iter()
            .any(|p| *p == ".." || *p == "." || p.contains('\\'))
        {
            return Err(ActionError::new(
                code::PATH_ESCAPE,
                format!("input `{input}` (`{url}`) has a `.` or `..` part"),
            ));
        }
        match parts.as_slice() {
            [owner, repo, kind @ ("tree" | "blob"), reference, inner @ ..] => {
                let integration = github::integration(ctx, &host.to_ascii_lowercase())?;
                let (folder, file) = match (*kind, inner) {
                    ("blob", []) => return Err(unsupported()),
                    ("blob", [folder @ .., file]) => (folder.join("/"), (*file).to_owned()),
                    (_, folder) => (folder.join("/"), String::new()),
                };
                let mut headers = vec![
                    (
                        "Accept".to_owned(),
                        "application/vnd.github+json".to_owned(),
                    ),
                    ("X-GitHub-Api-Version".to_owned(), "2022-11-28".to_owned()),
                    ("User-Agent".to_owned(), "portal-builtin-actions".to_owned()),
                ];
                // Public repositories need no token; a configured one is used.
                if let Some(secret) = &integration.token_secret {
                    let token = ctx
                        .host
                        .secret(secret)
                        .map_err(|e| ActionError::new(code::IO, e))?;
                    headers.push(("Authorization".to_owned(), format!("Bearer {token}")));
                }
                Ok(Remote {
                    archive_url: format!(
                        "{}/repos/{owner}/{repo}/tarball/{reference}",
                        integration.api_base_url
                    ),
                    headers,
                    strip: 1,
                    folder,
                    file,
                })
            }
            [.., last] if last.ends_with(".tar.gz") || last.ends_with(".tgz") => Ok(Remote {
                archive_url: url.to_owned(),
                headers: vec![("User-Agent".to_owned(), "portal-builtin-actions".to_owned())],
                strip: 0,
                folder: String::new(),
                file: String::new(),
            }),
            _ => Err(unsupported()),
        }
    }
}

/// GETs `archive_url`, following redirects; the body of the final answer.
/// A redirect to another host goes without the `Authorization` header.
fn download(
    ctx: &Context,
    url: &str,
    archive_url: &str,
    headers: &[(String, String)],
) -> Result<Vec<u8>> {
    let mut current = archive_url.to_owned();
    let mut headers: Vec<(String, String)> = headers.to_vec();
    for _ in 0..=MAX_REDIRECTS {
        let pairs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let Download {
            status,
            location,
            body,
        } = ctx
            .host
            .download(&current, &pairs)
            .map_err(|e| ActionError::new(code::IO, format!("downloading `{url}` failed: {e}")))?;
        match (status, location) {
            (200, _) => return Ok(body),
            (301 | 302 | 303 | 307 | 308, Some(next)) => {
                let next = if next.starts_with('/') {
                    format!("{}{next}", origin_of(&current))
                } else {
                    next
                };
                if origin_of(&next) != origin_of(&current) {
                    headers.retain(|(n, _)| !n.eq_ignore_ascii_case("authorization"));
                }
                current = next;
            }
            (status, _) => {
                let said = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v["message"].as_str().map(str::to_owned))
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default();
                return Err(ActionError::new(
                    code::NOT_FOUND,
                    format!("downloading `{url}` failed: HTTP {status}{said}"),
                ));
            }
        }
    }
    Err(ActionError::new(
        code::IO,
        format!("downloading `{url}` failed: more than {MAX_REDIRECTS} redirects"),
    ))
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    let end = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |i| after_scheme + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::run;
    use crate::archive::tests::tar_gz;
    use crate::context::testing::Dirs;

    fn tarball() -> Vec<u8> {
        tar_gz(&[
            ("acme-templates-abc/skeleton/", 'd', b"", 0o755),
            (
                "acme-templates-abc/skeleton/${{ values.name }}.md",
                'f',
                b"# ${{ values.name }}",
                0o644,
            ),
            (
                "acme-templates-abc/skeleton/bin/run",
                'f',
                b"#!/bin/sh",
                0o755,
            ),
            ("acme-templates-abc/other/x", 'f', b"not this", 0o644),
        ])
    }

    #[test]
    fn a_github_folder_url_is_read_as_the_tarball_following_the_redirect() {
        let dirs = Dirs::new();
        dirs.host.downloads.borrow_mut().extend([
            (
                "https://api.github.com/repos/acme/templates/tarball/main".to_owned(),
                Download {
                    status: 302,
                    location: Some(
                        "https://codeload.github.com/acme/templates/legacy.tar.gz/main".into(),
                    ),
                    body: Vec::new(),
                },
            ),
            (
                "https://codeload.github.com/acme/templates/legacy.tar.gz/main".to_owned(),
                Download {
                    status: 200,
                    location: None,
                    body: tarball(),
                },
            ),
        ]);
        run(
            &dirs.context(),
            "fetch:template",
            r#"{"url": "https://github.com/acme/templates/tree/main/skeleton", "values": {"name": "web"}, "targetPath": "out"}"#,
        )
        .unwrap();
        assert_eq!(dirs.read("out/web.md"), "# web");
        assert!(
            !dirs.exists("out/x") && !dirs.exists(SCRATCH),
            "nothing else is left"
        );
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dirs.workspace.join("out/bin/run"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o111, 0, "the archive's executable bit is kept");
        assert_eq!(
            *dirs.host.requests.borrow(),
            [
                "GET https://api.github.com/repos/acme/templates/tarball/main",
                "GET https://codeload.github.com/acme/templates/legacy.tar.gz/main"
            ]
        );
    }

    #[test]
    fn the_token_goes_to_the_api_only_never_across_a_redirect_to_another_host() {
        let dirs = Dirs::new();
        dirs.host.config.borrow_mut().insert(
            "github".into(),
            r#"[{"host": "github.com", "tokenSecret": "gh"}]"#.into(),
        );
        dirs.host
            .secrets
            .borrow_mut()
            .insert("gh".into(), "ghp_secret".into());
        dirs.host.downloads.borrow_mut().extend([
            (
                "https://api.github.com/repos/acme/templates/tarball/main".to_owned(),
                Download {
                    status: 302,
                    location: Some("https://evil.example/steal".into()),
                    body: Vec::new(),
                },
            ),
            (
                "https://evil.example/steal".to_owned(),
                Download {
                    status: 200,
                    location: None,
                    body: tarball(),
                },
            ),
        ]);
        run(
            &dirs.context(),
            "fetch:plain",
            r#"{"url": "https://github.com/acme/templates/tree/main/skeleton"}"#,
        )
        .unwrap();
        let sent = dirs.host.download_headers.borrow().clone();
        let auth = |headers: &Vec<(String, String)>| {
            headers
                .iter()
                .find(|(n, _)| n == "Authorization")
                .map(|(_, v)| v.clone())
        };
        assert_eq!(auth(&sent[0]).as_deref(), Some("Bearer ghp_secret"));
        assert_eq!(auth(&sent[1]), None, "the token stays with GitHub's API");
        assert!(!dirs.lines.text().contains("ghp_secret"));
    }

    #[test]
    fn a_tar_gz_url_is_unpacked_whole_and_a_redirect_loop_ends() {
        let dirs = Dirs::new();
        let archive = crate::archive::tests::tar_gz(&[
            ("README.md", 'f', b"# ${{ values.name }}", 0o644),
            ("src/", 'd', b"", 0o755),
            ("src/lib.rs", 'f', b"", 0o644),
        ]);
        dirs.host.downloads.borrow_mut().extend([
            (
                "https://files.acme.io/skeleton.tar.gz".to_owned(),
                Download {
                    status: 200,
                    location: None,
                    body: archive,
                },
            ),
            (
                "https://files.acme.io/loop.tgz".to_owned(),
                Download {
                    status: 301,
                    location: Some("/loop.tgz".into()),
                    body: Vec::new(),
                },
            ),
        ]);
        run(
            &dirs.context(),
            "fetch:template",
            r#"{"url": "https://files.acme.io/skeleton.tar.gz", "values": {"name": "web"}}"#,
        )
        .unwrap();
        assert_eq!(dirs.read("README.md"), "# web");
        assert!(dirs.exists("src/lib.rs") && !dirs.exists(SCRATCH));
        let e = run(
            &dirs.context(),
            "fetch:plain",
            r#"{"url": "https://files.acme.io/loop.tgz"}"#,
        )
        .unwrap_err();
        assert!(e.message.contains("more than 5 redirects"), "{e:?}");
    }

    #[test]
    fn a_blob_url_fetches_one_file_and_plain_copies_a_folder_as_is() {
        let dirs = Dirs::new();
        dirs.host.downloads.borrow_mut().insert(
            "https://api.github.com/repos/acme/templates/tarball/v2".to_owned(),
            Download {
                status: 200,
                location: None,
                body: tarball(),
            },
        );
        run(
            &dirs.context(),
            "fetch:plain:file",
            r#"{"url": "https://github.com/acme/templates/blob/v2/skeleton/bin/run", "targetPath": "run.sh"}"#,
        )
        .unwrap();
        assert_eq!(dirs.read("run.sh"), "#!/bin/sh");
        run(
            &dirs.context(),
            "fetch:plain",
            r#"{"url": "https://github.com/acme/templates/tree/v2/skeleton"}"#,
        )
        .unwrap();
        assert_eq!(dirs.read("${{ values.name }}.md"), "# ${{ values.name }}");
        assert!(!dirs.exists(SCRATCH));
    }

    #[test]
    fn remote_failures_and_unsupported_urls_are_named() {
        let dirs = Dirs::new();
        let e = run(
            &dirs.context(),
            "fetch:plain",
            r#"{"url": "https://github.com/acme/missing/tree/main/skeleton"}"#,
        )
        .unwrap_err();
        assert!(
            e.message.contains(
                "downloading `https://github.com/acme/missing/tree/main/skeleton` failed"
            ),
            "{e:?}"
        );
        for (url, says) in [
            (
                "https://example.com/page.html",
                "a remote skeleton must be a GitHub",
            ),
            (
                "https://github.com/acme/templates/tree/main/../../x",
                "`..` part",
            ),
            (
                "https://git.acme.io/a/b/tree/main/s",
                "no GitHub integration for `git.acme.io`",
            ),
        ] {
            let e = run(
                &dirs.context(),
                "fetch:plain",
                &format!(r#"{{"url": "{url}"}}"#),
            )
            .unwrap_err();
            assert!(e.message.contains(says), "{url}: {e:?}");
        }
        dirs.host.downloads.borrow_mut().insert(
            "https://api.github.com/repos/acme/t/tarball/main".to_owned(),
            Download {
                status: 200,
                location: None,
                body: tarball(),
            },
        );
        let e = run(
            &dirs.context(),
            "fetch:plain",
            r#"{"url": "https://github.com/acme/t/tree/main/skeleton", "targetPath": ".portal-fetch/x"}"#,
        )
        .unwrap_err();
        assert!(
            e.message.contains("where remote skeletons are unpacked"),
            "{e:?}"
        );
    }
}
