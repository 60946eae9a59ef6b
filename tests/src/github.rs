//! A GitHub stand-in on 127.0.0.1: the REST calls `publish:github` makes
//! (`GET /users/:owner`, `POST /orgs/:org/repos`, `POST /user/repos`, under
//! `/api/v3` as GitHub Enterprise serves them) with GitHub's request and
//! response shapes, real git repositories behind git's smart HTTP protocol
//! (served by `git http-backend`, as a real git server does), and raw files at
//! `/raw/:owner/:repo/:ref/*path`, and repository tarballs as GitHub serves
//! them (`GET /repos/:owner/:repo/tarball/:ref` redirects to codeload, which
//! answers `git archive`'s `.tar.gz` with one `owner-repo-sha/` folder). Every
//! call needs the token it was made with, except codeload's.

use crate::stand_in::StandIn;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

pub struct GithubStandIn {
    pub server: StandIn,
    /// Where the repositories are: `<root>/<owner>/<repo>.git`.
    pub root: PathBuf,
}

#[derive(Clone)]
struct Shared {
    root: PathBuf,
    token: String,
    organizations: Vec<String>,
    /// The stand-in's own URL, known once it listens.
    base: Arc<OnceLock<String>>,
}

impl GithubStandIn {
    /// Serves repositories under `root`; `organizations` answer as
    /// organisations, every other owner as a user.
    pub fn start(root: &Path, token: &str, organizations: &[&str]) -> GithubStandIn {
        let shared = Shared {
            root: root.to_owned(),
            token: token.to_owned(),
            organizations: organizations.iter().map(|s| s.to_string()).collect(),
            base: Arc::new(OnceLock::new()),
        };
        let base = shared.base.clone();
        let server = StandIn::serve(move |_| {
            Router::new()
                .route("/api/v3/users/{owner}", get(user))
                .route("/api/v3/orgs/{org}/repos", post(create_in_org))
                .route("/api/v3/user/repos", post(create_for_user))
                .route("/raw/{owner}/{repo}/{git_ref}/{*path}", get(raw))
                .route(
                    "/api/v3/repos/{owner}/{repo}/tarball/{git_ref}",
                    get(tarball),
                )
                .route(
                    "/api/v3/repos/{owner}/{repo}/tarball",
                    get(default_branch_tarball),
                )
                .route(
                    "/codeload/{owner}/{repo}/legacy.tar.gz/{git_ref}",
                    get(codeload),
                )
                .route("/{owner}/{repo}/{*rest}", any(git_http))
                .with_state(shared)
        });
        base.set(server.url()).unwrap();
        GithubStandIn {
            server,
            root: root.to_owned(),
        }
    }

    pub fn api_url(&self) -> String {
        format!("{}/api/v3", self.server.url())
    }

    pub fn repo_dir(&self, owner: &str, repo: &str) -> PathBuf {
        self.root.join(owner).join(format!("{repo}.git"))
    }

    /// Commits `files` (path, contents, executable) and `links` (path,
    /// target) as the whole tree of `main` in the bare repository
    /// `owner/repo`, which is created if need be.
    pub fn commit(
        &self,
        owner: &str,
        repo: &str,
        files: &[(&str, &str, bool)],
        links: &[(&str, &str)],
    ) {
        use std::os::unix::fs::PermissionsExt;
        let bare = self.repo_dir(owner, repo);
        if !bare.is_dir() {
            std::fs::create_dir_all(&bare).unwrap();
            git(&bare, &["init", "--bare", "-q", "-b", "main"]);
        }
        let work = tempfile::tempdir().unwrap();
        git(work.path(), &["init", "-q", "-b", "main"]);
        if git_ok(&bare, &["rev-parse", "--verify", "-q", "main"]) {
            git(
                work.path(),
                &["pull", "-q", &bare.to_string_lossy(), "main"],
            );
            git(work.path(), &["rm", "-r", "-q", "--ignore-unmatch", "."]);
        }
        for (path, contents, executable) in files {
            let file = work.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(&file, contents).unwrap();
            let mode = if *executable { 0o755 } else { 0o644 };
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        for (path, target) in links {
            let link = work.path().join(path);
            std::fs::create_dir_all(link.parent().unwrap()).unwrap();
            std::os::unix::fs::symlink(target, link).unwrap();
        }
        git(work.path(), &["add", "-A"]);
        git(
            work.path(),
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "update",
            ],
        );
        git(
            work.path(),
            &["push", "-q", &bare.to_string_lossy(), "main"],
        );
    }
}

fn git_ok(repo: &Path, args: &[&str]) -> bool {
    std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .is_ok_and(|o| o.status.success())
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn message(status: StatusCode, text: &str) -> Response {
    (
        status,
        axum::Json(json!({ "message": text, "documentation_url": "https://docs.github.com/rest" })),
    )
        .into_response()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    if let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("token "))
    {
        return token == shared.token;
    }
    value
        .strip_prefix("Basic ")
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .is_some_and(|pair| pair.split_once(':').is_some_and(|(_, t)| t == shared.token))
}

async fn user(
    State(shared): State<Shared>,
    UrlPath(owner): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if !authorized(&shared, &headers) {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let kind = if shared.organizations.contains(&owner) {
        "Organization"
    } else {
        "User"
    };
    axum::Json(json!({ "login": owner, "id": 1, "type": kind })).into_response()
}

async fn create_in_org(
    State(shared): State<Shared>,
    UrlPath(org): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    create(&shared, &org, &headers, &body).await
}

async fn create_for_user(
    State(shared): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    // The stand-in's one user is whoever holds the token: "octocat".
    create(&shared, "octocat", &headers, &body).await
}

async fn create(shared: &Shared, owner: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    if !authorized(shared, headers) {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return message(StatusCode::BAD_REQUEST, "Problems parsing JSON");
    };
    let Some(name) = request["name"].as_str() else {
        return message(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request.\n\n\"name\" wasn't supplied.",
        );
    };
    let dir = shared.root.join(owner).join(format!("{name}.git"));
    if dir.exists() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(json!({
                "message": "Repository creation failed.",
                "errors": [{ "resource": "Repository", "code": "custom", "field": "name", "message": "name already exists on this account" }],
            })),
        )
            .into_response();
    }
    std::fs::create_dir_all(&dir).unwrap();
    let status = std::process::Command::new("git")
        .args(["init", "--quiet", "--bare"])
        .arg(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    let base = shared.base.get().cloned().unwrap_or_default();
    let private = request["private"].as_bool().unwrap_or(false);
    (
        StatusCode::CREATED,
        axum::Json(json!({
            "id": 1296269,
            "name": name,
            "full_name": format!("{owner}/{name}"),
            "owner": { "login": owner },
            "private": private,
            "visibility": request["visibility"].as_str().unwrap_or(if private { "private" } else { "public" }),
            "description": request["description"],
            "html_url": format!("{base}/{owner}/{name}"),
            "clone_url": format!("{base}/{owner}/{name}.git"),
            "default_branch": "main",
        })),
    )
        .into_response()
}

async fn raw(
    State(shared): State<Shared>,
    UrlPath((owner, repo, git_ref, path)): UrlPath<(String, String, String, String)>,
) -> Response {
    let dir = shared.root.join(&owner).join(format!("{repo}.git"));
    let output = tokio::process::Command::new("git")
        .arg(format!("--git-dir={}", dir.display()))
        .args(["show", &format!("{git_ref}:{path}")])
        .output()
        .await
        .unwrap();
    if output.status.success() {
        output.stdout.into_response()
    } else {
        (StatusCode::NOT_FOUND, "404: Not Found").into_response()
    }
}

/// GitHub's tarball API: a redirect to codeload (which needs no token).
async fn tarball(
    State(shared): State<Shared>,
    headers: HeaderMap,
    UrlPath((owner, repo, git_ref)): UrlPath<(String, String, String)>,
) -> Response {
    if !authorized(&shared, &headers) {
        return message(StatusCode::UNAUTHORIZED, "Bad credentials");
    }
    if !shared
        .root
        .join(&owner)
        .join(format!("{repo}.git"))
        .is_dir()
    {
        return message(StatusCode::NOT_FOUND, "Not Found");
    }
    let base = shared.base.get().cloned().unwrap_or_default();
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("{base}/codeload/{owner}/{repo}/legacy.tar.gz/{git_ref}"),
        )],
    )
        .into_response()
}

/// The tarball of the default branch (no ref in the URL).
async fn default_branch_tarball(
    state: State<Shared>,
    headers: HeaderMap,
    UrlPath((owner, repo)): UrlPath<(String, String)>,
) -> Response {
    tarball(state, headers, UrlPath((owner, repo, "HEAD".to_owned()))).await
}

async fn codeload(
    State(shared): State<Shared>,
    UrlPath((owner, repo, git_ref)): UrlPath<(String, String, String)>,
) -> Response {
    let dir = shared.root.join(&owner).join(format!("{repo}.git"));
    let git = |args: Vec<String>| {
        let dir = dir.clone();
        async move {
            tokio::process::Command::new("git")
                .arg(format!("--git-dir={}", dir.display()))
                .args(args)
                .output()
                .await
                .unwrap()
        }
    };
    let sha = git(vec!["rev-parse".into(), "--short".into(), git_ref.clone()]).await;
    if !sha.status.success() {
        return (StatusCode::NOT_FOUND, "404: Not Found").into_response();
    }
    let sha = String::from_utf8_lossy(&sha.stdout).trim().to_owned();
    let archive = git(vec![
        "archive".into(),
        "--format=tar.gz".into(),
        format!("--prefix={owner}-{repo}-{sha}/"),
        git_ref,
    ])
    .await;
    (
        [(header::CONTENT_TYPE, "application/x-gzip")],
        archive.stdout,
    )
        .into_response()
}

/// Git's smart HTTP protocol, by `git http-backend` (CGI), as GitHub answers
/// it: a push needs the token as the basic-auth password.
async fn git_http(
    State(shared): State<Shared>,
    UrlPath((owner, repo, rest)): UrlPath<(String, String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(&shared, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"GitHub\"")],
            "Invalid username or token.",
        )
            .into_response();
    }
    let header_text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut child = tokio::process::Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", &shared.root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("PATH_INFO", format!("/{owner}/{repo}/{rest}"))
        .env("REQUEST_METHOD", method.as_str())
        .env("QUERY_STRING", query.unwrap_or_default())
        .env("CONTENT_TYPE", header_text(header::CONTENT_TYPE))
        .env(
            "HTTP_CONTENT_ENCODING",
            header_text(header::CONTENT_ENCODING),
        )
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(&body).await.unwrap();
    }
    let output = child.wait_with_output().await.unwrap();
    cgi_response(&output.stdout)
}

/// A CGI answer: headers (with `Status`), a blank line, the body.
fn cgi_response(out: &[u8]) -> Response {
    let split = out
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, i + 4))
        .or_else(|| {
            out.windows(2)
                .position(|w| w == b"\n\n")
                .map(|i| (i, i + 2))
        });
    let Some((end, body_start)) = split else {
        return (StatusCode::BAD_GATEWAY, "git http-backend answered nothing").into_response();
    };
    let mut response = Response::new(axum::body::Body::from(out[body_start..].to_vec()));
    for line in String::from_utf8_lossy(&out[..end]).lines() {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("status") {
            let code = value
                .split(' ')
                .next()
                .and_then(|c| c.parse().ok())
                .unwrap_or(500);
            *response.status_mut() = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
        } else if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            header::HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
