//! `git.push` (since 1.2.0): a template action publishes a folder of its task's
//! workspace as one commit on a branch of a remote the operator granted
//! (`plugins.grants.<name>.git_remotes`). The host runs git itself, the plugin
//! never does: the plugin names a folder and a remote, nothing more.
//!
//! Git is hardened for content a template author (or a user's parameter)
//! controls:
//! - a scratch repository outside the workspace holds the commit; the workspace
//!   is only its work tree, and one that contains a `.git` of its own is refused,
//!   so a skeleton cannot bring configuration or hooks that git would obey;
//! - no system or user configuration, no hooks, no terminal prompts, no
//!   credential helpers, and only the `file`, `http` and `https` transports
//!   (`ext::` runs commands);
//! - credentials travel in the environment as an HTTP header, never in a URL or
//!   on the command line, and never in an error message;
//! - the push is never forced: a branch that moved on is refused by the remote.
//!
//! A local path that does not exist yet becomes a new repository with a working
//! tree that pushes update (`receive.denyCurrentBranch=updateInstead`), so its
//! files, `catalog-info.yaml` among them, can be read (and registered) at once.

use super::{HostCallError, HostFailure, HostState};
use portal_config::Target;
use std::path::{Component, Path, PathBuf};
use std::process::Stdio;

pub(crate) struct PushRequest {
    pub source_path: String,
    pub remote: String,
    pub branch: String,
    pub commit_message: String,
    pub author_name: String,
    pub author_email: String,
    /// Username and password (a token) for an `http(s)` remote.
    pub credentials: Option<(String, String)>,
}

#[derive(Debug)]
pub(crate) struct PushResult {
    pub commit: String,
    pub remote_url: String,
    pub work_tree: Option<String>,
}

const MAX_MESSAGE_BYTES: usize = 64 * 1024;
const MAX_NAME_BYTES: usize = 256;
/// Entries looked at for a stray `.git`: more than any skeleton holds.
const MAX_WORKSPACE_ENTRIES: usize = 100_000;
/// Of git's own error output, what an error message quotes.
const MAX_GIT_ERROR_BYTES: usize = 2_048;

pub(crate) async fn push(
    state: &mut HostState,
    request: PushRequest,
) -> Result<PushResult, HostFailure> {
    let name = state.plugin.name.clone();
    let Some(action) = state.call.action.clone() else {
        return Err(state
            .deny(format!(
                "plugin `{name}` called git.push outside a template action; only actions publish"
            ))
            .into());
    };
    if action.dry_run {
        return Err(state
            .deny("a dry run publishes nothing: git.push is refused (report what would be pushed instead)".into())
            .into());
    }
    // A relative remote names a repository in the first local folder granted:
    // a name, never anything git could read as a transport (`ext::…`, `host:path`).
    let is_relative = !request.remote.contains("://") && !request.remote.starts_with('/');
    if is_relative && !is_repository_name(&request.remote) {
        return Err(HostCallError::Invalid(format!(
            "remote `{}` is neither a URL, an absolute path, nor a repository name (letters, digits, `.`, `_`, `-`, `/`)",
            request.remote
        ))
        .into());
    }
    let remote_text = match state.plugin.grants.git_targets.first_path() {
        Some(root) if is_relative && !request.remote.is_empty() => {
            root.join(&request.remote).to_string_lossy().into_owned()
        }
        _ => request.remote.clone(),
    };
    let remote = Target::parse(&remote_text)
        .map_err(|e| HostCallError::Invalid(format!("remote `{}`: {e}", request.remote)))?;
    if !state.plugin.grants.git_targets.allows(&remote) {
        return Err(state
            .deny(format!(
                "plugin `{name}` may not push to `{}`: grant it with plugins.grants.{name}.git_remotes",
                remote.display()
            ))
            .into());
    }
    check_request(&request, &remote).map_err(HostCallError::Invalid)?;
    let source =
        source_dir(&action.dirs.workspace, &request.source_path).map_err(HostCallError::Invalid)?;
    tracing::info!(plugin = %name, remote = %remote.display(), branch = %request.branch, "git push");
    publish(&request, &remote, &source)
        .await
        .map_err(|e| HostFailure::Refused(e))
}

/// `app`, `team/app`, `app.git`: what a relative remote may be.
fn is_repository_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        })
}

fn check_request(request: &PushRequest, remote: &Target) -> Result<(), String> {
    check_branch(&request.branch)?;
    if request.commit_message.trim().is_empty() {
        return Err("the commit message is empty".into());
    }
    if request.commit_message.len() > MAX_MESSAGE_BYTES {
        return Err(format!(
            "the commit message is over {MAX_MESSAGE_BYTES} bytes"
        ));
    }
    for (what, value) in [
        ("author name", &request.author_name),
        ("author email", &request.author_email),
    ] {
        if value.trim().is_empty() || value.len() > MAX_NAME_BYTES {
            return Err(format!("the {what} must be 1 to {MAX_NAME_BYTES} bytes"));
        }
        if value
            .chars()
            .any(|c| c.is_control() || c == '<' || c == '>')
        {
            return Err(format!(
                "the {what} may not hold `<`, `>` or control characters"
            ));
        }
    }
    if let Some((user, password)) = &request.credentials {
        if matches!(remote, Target::Path(_)) {
            return Err("credentials are for http(s) remotes, not local paths".into());
        }
        if user.contains(':') || format!("{user}{password}").chars().any(|c| c.is_control()) {
            return Err("the credentials hold `:` in the username or a control character".into());
        }
    }
    Ok(())
}

/// Git's own rules for a branch name (`git check-ref-format --branch`), kept
/// to what templates use: letters, digits, `-`, `_`, `.`, `/`.
fn check_branch(branch: &str) -> Result<(), String> {
    let valid = !branch.is_empty()
        && branch.len() <= 255
        && branch
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        && !branch.starts_with(['-', '/', '.'])
        && !branch.ends_with(['/', '.'])
        && !branch.ends_with(".lock")
        && !branch.contains("..")
        && !branch.contains("//")
        && !branch.contains("/.");
    if valid {
        Ok(())
    } else {
        Err(format!("`{branch}` is not a valid branch name"))
    }
}

/// The folder to publish: inside the workspace, symlinks resolved.
fn source_dir(workspace: &Path, source_path: &str) -> Result<PathBuf, String> {
    let relative = Path::new(source_path);
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_) | Component::CurDir))
    {
        return Err(format!(
            "sourcePath `{source_path}` must be a relative path inside the workspace"
        ));
    }
    let root = workspace
        .canonicalize()
        .map_err(|e| format!("the workspace cannot be read: {e}"))?;
    let source = root
        .join(relative)
        .canonicalize()
        .map_err(|_| format!("sourcePath `{source_path}` does not exist in the workspace"))?;
    if !source.starts_with(&root) {
        return Err(format!(
            "sourcePath `{source_path}` leads outside the workspace"
        ));
    }
    if !source.is_dir() {
        return Err(format!("sourcePath `{source_path}` is not a folder"));
    }
    Ok(source)
}

/// Refuses a tree holding a `.git` (a folder, file or link) anywhere: git would
/// treat it as a repository of its own, with its own configuration.
fn refuse_nested_git(source: &Path) -> Result<(), String> {
    let mut pending = vec![source.to_owned()];
    let mut seen = 0usize;
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read the workspace: {e}"))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read the workspace: {e}"))?;
            seen += 1;
            if seen > MAX_WORKSPACE_ENTRIES {
                return Err(format!(
                    "the folder holds more than {MAX_WORKSPACE_ENTRIES} files and folders"
                ));
            }
            let path = entry.path();
            if entry.file_name().eq_ignore_ascii_case(".git") {
                let shown = path.strip_prefix(source).unwrap_or(&path);
                return Err(format!(
                    "the folder holds `{}`: a published folder may not bring a git repository of its own",
                    shown.display()
                ));
            }
            // Not followed: a link is published as a link.
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                pending.push(path);
            }
        }
    }
    Ok(())
}

/// Runs the push. Every failure is `Invalid` (the request) or `Unavailable`
/// (git or the remote), with git's own words.
async fn publish(
    request: &PushRequest,
    remote: &Target,
    source: &Path,
) -> Result<PushResult, HostCallError> {
    let source_owned = source.to_owned();
    tokio::task::spawn_blocking(move || refuse_nested_git(&source_owned))
        .await
        .map_err(|e| HostCallError::Unavailable(e.to_string()))?
        .map_err(HostCallError::Invalid)?;
    let scratch = tempfile::Builder::new()
        .prefix("portal-git-")
        .tempdir()
        .map_err(|e| HostCallError::Unavailable(format!("cannot make a scratch folder: {e}")))?;
    let git = Git::new(scratch.path(), request.credentials.as_ref());
    let (remote_arg, remote_url, work_tree) = match remote {
        Target::Path(path) => {
            let work_tree = prepare_local(&git, path, &request.branch).await?;
            let text = path.to_string_lossy().into_owned();
            (text.clone(), format!("file://{text}"), work_tree)
        }
        Target::Url(_) => {
            let url = remote.display();
            (url.clone(), url, None)
        }
    };
    let git_dir = scratch.path().join("repo.git");
    let git_dir_arg = format!("--git-dir={}", git_dir.display());
    let work_tree_arg = format!("--work-tree={}", source.display());
    git.run(&[
        "init",
        "--quiet",
        "--bare",
        "--template=",
        &git_dir.to_string_lossy(),
    ])
    .await?;
    let branch_ref = format!("refs/heads/{}", request.branch);
    // The branch's current tip, if the remote has the branch: the new commit goes
    // on top of it. A remote without it (or unreachable: the push says why) starts fresh.
    let fetched = git
        .run(&[
            &git_dir_arg,
            "fetch",
            "--quiet",
            "--depth=1",
            "--end-of-options",
            &remote_arg,
            &branch_ref,
        ])
        .await
        .is_ok();
    if fetched {
        git.run(&[&git_dir_arg, "update-ref", &branch_ref, "FETCH_HEAD"])
            .await?;
    }
    git.run(&[&git_dir_arg, "symbolic-ref", "HEAD", &branch_ref])
        .await?;
    git.run(&[&git_dir_arg, &work_tree_arg, "add", "--all", "."])
        .await?;
    git.with_author(&request.author_name, &request.author_email)
        .run(&[
            &git_dir_arg,
            &work_tree_arg,
            "commit",
            "--quiet",
            "--allow-empty",
            "--no-verify",
            "--no-gpg-sign",
            "-m",
            &request.commit_message,
        ])
        .await?;
    let refspec = format!("{branch_ref}:{branch_ref}");
    git.run(&[
        &git_dir_arg,
        "push",
        "--quiet",
        "--end-of-options",
        &remote_arg,
        &refspec,
    ])
    .await
    .map_err(|e| match e {
        HostCallError::Unavailable(m) => {
            HostCallError::Unavailable(format!("pushing to `{remote_url}` failed: {m}"))
        }
        other => other,
    })?;
    let commit = git.run(&[&git_dir_arg, "rev-parse", "HEAD"]).await?;
    Ok(PushResult {
        commit: commit.trim().to_owned(),
        remote_url,
        work_tree: work_tree.map(|p| p.to_string_lossy().into_owned()),
    })
}

/// Makes sure a local remote is a repository: creates a new one with a working
/// tree if the path does not exist. Returns the working tree, if it has one.
async fn prepare_local(
    git: &Git,
    path: &Path,
    branch: &str,
) -> Result<Option<PathBuf>, HostCallError> {
    if !path.exists() {
        std::fs::create_dir_all(path).map_err(|e| {
            HostCallError::Unavailable(format!("cannot create `{}`: {e}", path.display()))
        })?;
        let dir = path.to_string_lossy();
        git.run(&[
            "init",
            "--quiet",
            "--template=",
            &format!("--initial-branch={branch}"),
            &dir,
        ])
        .await?;
        git.run(&[
            "-C",
            &dir,
            "config",
            "receive.denyCurrentBranch",
            "updateInstead",
        ])
        .await?;
        return Ok(Some(path.to_owned()));
    }
    if path.join(".git").is_dir() {
        Ok(Some(path.to_owned()))
    } else if path.join("HEAD").is_file() && path.join("objects").is_dir() {
        Ok(None)
    } else {
        Err(HostCallError::Invalid(format!(
            "`{}` exists and is not a git repository",
            path.display()
        )))
    }
}

/// The git command, with nothing from the host's environment or configuration.
struct Git {
    home: PathBuf,
    /// `GIT_CONFIG_*` pairs given to every command.
    config: Vec<(String, String)>,
    author: Option<(String, String)>,
}

impl Git {
    fn new(scratch: &Path, credentials: Option<&(String, String)>) -> Git {
        let mut config = vec![
            ("core.hooksPath".to_owned(), "/dev/null".to_owned()),
            ("core.fsmonitor".to_owned(), "false".to_owned()),
            ("core.autocrlf".to_owned(), "false".to_owned()),
            ("credential.helper".to_owned(), String::new()),
            ("protocol.allow".to_owned(), "never".to_owned()),
            ("protocol.file.allow".to_owned(), "always".to_owned()),
            ("protocol.http.allow".to_owned(), "always".to_owned()),
            ("protocol.https.allow".to_owned(), "always".to_owned()),
            ("http.followRedirects".to_owned(), "false".to_owned()),
        ];
        if let Some((user, password)) = credentials {
            use base64::Engine as _;
            let token =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
            config.push((
                "http.extraHeader".into(),
                format!("Authorization: Basic {token}"),
            ));
        }
        Git {
            home: scratch.to_owned(),
            config,
            author: None,
        }
    }

    fn with_author(&self, name: &str, email: &str) -> Git {
        Git {
            home: self.home.clone(),
            config: self.config.clone(),
            author: Some((name.to_owned(), email.to_owned())),
        }
    }

    /// Runs `git args…`; its standard output, or its error output as the error.
    async fn run(&self, args: &[&str]) -> Result<String, HostCallError> {
        let mut command = tokio::process::Command::new("git");
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("LC_ALL", "C")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_ALLOW_PROTOCOL", "file:http:https")
            .env("GIT_CONFIG_COUNT", self.config.len().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The call's timeout drops this future: the process goes with it.
            .kill_on_drop(true);
        for (i, (key, value)) in self.config.iter().enumerate() {
            command
                .env(format!("GIT_CONFIG_KEY_{i}"), key)
                .env(format!("GIT_CONFIG_VALUE_{i}"), value);
        }
        if let Some((name, email)) = &self.author {
            for who in ["AUTHOR", "COMMITTER"] {
                command
                    .env(format!("GIT_{who}_NAME"), name)
                    .env(format!("GIT_{who}_EMAIL"), email);
            }
        }
        let output = command.output().await.map_err(|e| {
            HostCallError::Unavailable(format!("cannot run git (is it installed?): {e}"))
        })?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
        }
        Err(HostCallError::Unavailable(git_error(&output.stderr)))
    }
}

/// Git's error output, trimmed to its end (where the reason is) and cleaned of
/// control characters.
fn git_error(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim();
    if text.len() <= MAX_GIT_ERROR_BYTES {
        return text.to_owned();
    }
    let mut start = text.len() - MAX_GIT_ERROR_BYTES;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &text[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_remotes_are_repository_names() {
        for good in ["app", "team/app", "app.git", "a_b-c"] {
            assert!(is_repository_name(good), "{good}");
        }
        for bad in [
            "",
            "../x",
            "a/../b",
            "ext::sh -c x",
            "host:path",
            "a b",
            "a//b",
            "-x/",
            "./a",
        ] {
            assert!(!is_repository_name(bad), "{bad}");
        }
    }

    #[test]
    fn branch_names() {
        for good in ["main", "feature/new-thing", "release-1.2", "a_b"] {
            assert!(check_branch(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "-f",
            "--force",
            "a..b",
            "a/.hidden",
            ".x",
            "x.lock",
            "a b",
            "a\nb",
            "a:b",
            "refs/heads/../x",
            "a//b",
            "x/",
            "a~1",
            "a^",
            "@{-1}",
        ] {
            assert!(check_branch(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn source_dir_stays_in_the_workspace() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::create_dir(ws.path().join("out")).unwrap();
        std::os::unix::fs::symlink("/etc", ws.path().join("etc")).unwrap();
        assert!(source_dir(ws.path(), "").is_ok());
        assert!(source_dir(ws.path(), "out").is_ok());
        for bad in ["../", "/etc", "etc", "out/../..", "missing"] {
            assert!(source_dir(ws.path(), bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn nested_repositories_are_refused() {
        let ws = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(ws.path().join("a/b")).unwrap();
        assert!(refuse_nested_git(ws.path()).is_ok());
        std::fs::write(ws.path().join("a/b/.GIT"), "gitdir: /etc").unwrap();
        let e = refuse_nested_git(ws.path()).unwrap_err();
        assert!(e.contains("a/b/.GIT"), "{e}");
    }

    #[test]
    fn git_errors_are_bounded_and_one_line() {
        let long = "x".repeat(10_000) + "\nfatal: the reason";
        let e = git_error(long.as_bytes());
        assert!(e.len() < MAX_GIT_ERROR_BYTES + 8);
        assert!(e.ends_with("fatal: the reason"));
        assert!(!e.contains('\n'));
    }
}
