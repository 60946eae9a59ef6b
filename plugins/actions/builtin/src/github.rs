//! `publish:github`: creates a repository through GitHub's REST API (over the
//! plugin's granted outbound HTTP) and pushes the workspace to it with the
//! host's `git.push`, as Backstage's action of the same name does.
//!
//! Where GitHub is comes from the plugin's configuration, in the shape of
//! Backstage's `integrations.github`:
//!
//! ```yaml
//! plugins:
//!   grants:
//!     builtin-actions:
//!       allowed_hosts: [api.github.com]
//!       git_remotes: [https://github.com/acme/]
//!       secrets: [github-token]
//!       config:
//!         github:
//!           - host: github.com
//!             apiBaseUrl: https://api.github.com   # the default for github.com
//!             tokenSecret: github-token
//! ```
//!
//! A step's `token` input (a user's own, from `requestUserCredentials`) wins
//! over the integration's. Differences from Backstage: no team access, branch
//! protection or topics yet; an existing repository is an error, never reused.

use crate::context::{Context, PushRequest};
use crate::error::{ActionError, Result};
use crate::input::Input;
use serde_json::{Value, json};

const FAILED: &str = "publish-failed";

pub fn schema() -> Value {
    json!({
        "type": "object",
        "x-portal-grants": ["allowed_hosts", "git_remotes"],
        "required": ["repoUrl"],
        "properties": {
            "repoUrl": {
                "title": "Repository location",
                "description": "`github.com?owner=acme&repo=payments`, as the RepoUrlPicker writes it.",
                "type": "string"
            },
            "description": { "title": "Repository description", "type": "string" },
            "repoVisibility": {
                "title": "Repository visibility",
                "description": "`private` (the default), `internal` or `public`.",
                "type": "string",
                "enum": ["private", "internal", "public"]
            },
            "defaultBranch": { "title": "Default branch", "description": "`main` by default.", "type": "string" },
            "sourcePath": { "title": "Source path", "description": "The workspace folder to publish; all of it by default.", "type": "string" },
            "gitCommitMessage": { "title": "Commit message", "description": "`initial commit` by default.", "type": "string" },
            "gitAuthorName": { "title": "Author name", "type": "string" },
            "gitAuthorEmail": { "title": "Author email", "type": "string" },
            "token": {
                "title": "Token",
                "description": "A GitHub token to act with (a user's, from `requestUserCredentials`); the integration's by default. Never logged.",
                "type": "string"
            }
        }
    })
}

pub fn output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "remoteUrl": { "title": "The repository's web page", "type": "string" },
            "repoContentsUrl": { "title": "Where its files are (`<remoteUrl>/blob/<branch>`)", "type": "string" },
            "commitHash": { "title": "The commit pushed", "type": "string" }
        }
    })
}

/// `host?owner=o&repo=r`, the RepoUrlPicker's format.
#[derive(Debug, PartialEq, Eq)]
pub struct RepoUrl {
    pub host: String,
    pub owner: String,
    pub repo: String,
}

pub fn parse_repo_url(text: &str) -> Result<RepoUrl> {
    let invalid = |why: &str| {
        ActionError::invalid(format!(
            "repoUrl `{text}` {why}; expected `github.com?owner=acme&repo=payments`"
        ))
    };
    let (host, query) = text.split_once('?').ok_or_else(|| invalid("has no `?`"))?;
    let (mut owner, mut repo) = (None, None);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("owner", v)) => owner = Some(v),
            Some(("repo", v)) => repo = Some(v),
            _ => {}
        }
    }
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.len() <= 100
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b':'));
    match (owner, repo) {
        (Some(o), Some(r)) if host_ok && name_ok(o) && name_ok(r) => Ok(RepoUrl {
            host: host.to_ascii_lowercase(),
            owner: o.to_owned(),
            repo: r.to_owned(),
        }),
        (Some(_), Some(_)) => Err(invalid("names an invalid host, owner or repository")),
        _ => Err(invalid("lacks `owner` or `repo`")),
    }
}

/// One entry of the `github` configuration.
pub struct Integration {
    pub api_base_url: String,
    pub token_secret: Option<String>,
}

pub fn integration(ctx: &Context, host: &str) -> Result<Integration> {
    let configured: Vec<Value> = match ctx.host.config("github") {
        Some(text) => serde_json::from_str(&text).map_err(|e| {
            ActionError::invalid(format!(
                "the plugin's `github` configuration is not a list: {e}"
            ))
        })?,
        None => Vec::new(),
    };
    let entry = configured.iter().find(|e| {
        e["host"]
            .as_str()
            .is_some_and(|h| h.eq_ignore_ascii_case(host))
    });
    let api_base_url = match (entry.and_then(|e| e["apiBaseUrl"].as_str()), host) {
        (Some(url), _) => url.trim_end_matches('/').to_owned(),
        (None, "github.com") => "https://api.github.com".to_owned(),
        (None, _) => {
            return Err(ActionError::invalid(format!(
                "no GitHub integration for `{host}`: add it to the plugin's `github` configuration (host, apiBaseUrl, tokenSecret)"
            )));
        }
    };
    Ok(Integration {
        api_base_url,
        token_secret: entry
            .and_then(|e| e["tokenSecret"].as_str())
            .map(str::to_owned),
    })
}

pub fn publish(ctx: &Context, input: &Input) -> Result<Value> {
    let target = parse_repo_url(input.string("repoUrl")?)?;
    let branch = input
        .opt_string("defaultBranch")?
        .unwrap_or("main")
        .to_owned();
    let visibility = input.opt_string("repoVisibility")?.unwrap_or("private");
    if !matches!(visibility, "private" | "internal" | "public") {
        return Err(ActionError::invalid(format!(
            "repoVisibility `{visibility}` is not private, internal or public"
        )));
    }
    let integration = integration(ctx, &target.host)?;
    let slug = format!("{}/{}", target.owner, target.repo);
    if ctx.dry_run {
        ctx.info(format!(
            "dry run: would create the {visibility} repository {slug} on {} and push branch `{branch}` to it",
            target.host
        ));
        let web = format!("https://{}/{slug}", target.host);
        return Ok(json!({
            "remoteUrl": web,
            "repoContentsUrl": format!("{web}/blob/{branch}"),
            "commitHash": "",
        }));
    }
    let token = match input.opt_string("token")?.filter(|t| !t.is_empty()) {
        Some(token) => token.to_owned(),
        None => {
            let secret = integration.token_secret.as_deref().ok_or_else(|| {
                ActionError::invalid(format!(
                    "no token for {}: give the step a `token`, or a `tokenSecret` in the plugin's `github` configuration",
                    target.host
                ))
            })?;
            ctx.host
                .secret(secret)
                .map_err(|e| ActionError::new(FAILED, e))?
        }
    };
    let api = &integration.api_base_url;
    let auth = format!("Bearer {token}");
    let headers = [
        ("Authorization", auth.as_str()),
        ("Accept", "application/vnd.github+json"),
        ("X-GitHub-Api-Version", "2022-11-28"),
        ("User-Agent", "portal-builtin-actions"),
        ("Content-Type", "application/json"),
    ];
    // An organisation's repositories are created under /orgs, a user's own under /user.
    let (status, body) = ctx
        .host
        .http(
            "GET",
            &format!("{api}/users/{}", target.owner),
            &headers,
            "",
        )
        .map_err(|e| ActionError::new(FAILED, e))?;
    if status != 200 {
        return Err(api_error(
            "looking up the owner",
            &target.owner,
            status,
            &body,
        ));
    }
    let owner: Value = serde_json::from_str(&body).unwrap_or_default();
    let create_url = if owner["type"] == "Organization" {
        format!("{api}/orgs/{}/repos", target.owner)
    } else {
        format!("{api}/user/repos")
    };
    let mut request = json!({
        "name": target.repo,
        "private": visibility != "public",
        "description": input.opt_string("description")?.unwrap_or(""),
    });
    if owner["type"] == "Organization" {
        request["visibility"] = json!(visibility);
    }
    let (status, body) = ctx
        .host
        .http("POST", &create_url, &headers, &request.to_string())
        .map_err(|e| ActionError::new(FAILED, e))?;
    if status != 201 {
        return Err(api_error("creating the repository", &slug, status, &body));
    }
    let created: Value = serde_json::from_str(&body).map_err(|e| {
        ActionError::new(
            FAILED,
            format!("GitHub's answer to creating {slug} is not JSON: {e}"),
        )
    })?;
    let (Some(clone_url), Some(html_url)) =
        (created["clone_url"].as_str(), created["html_url"].as_str())
    else {
        return Err(ActionError::new(
            FAILED,
            format!("GitHub's answer to creating {slug} lacks clone_url or html_url"),
        ));
    };
    ctx.info(format!("created the {visibility} repository {html_url}"));
    let push = PushRequest {
        source_path: input
            .opt_string("sourcePath")?
            .unwrap_or("")
            .trim_start_matches("./")
            .to_owned(),
        remote: clone_url.to_owned(),
        branch: branch.clone(),
        commit_message: input
            .opt_string("gitCommitMessage")?
            .unwrap_or("initial commit")
            .to_owned(),
        author_name: input
            .opt_string("gitAuthorName")?
            .unwrap_or("Scaffolder")
            .to_owned(),
        author_email: input
            .opt_string("gitAuthorEmail")?
            .unwrap_or("scaffolder@backstage.io")
            .to_owned(),
        credentials: Some(("x-access-token".to_owned(), token)),
    };
    let pushed = ctx
        .host
        .git_push(&push)
        .map_err(|e| ActionError::new(FAILED, e))?;
    ctx.info(format!(
        "pushed branch `{branch}` as commit {}",
        pushed.commit
    ));
    Ok(json!({
        "remoteUrl": html_url,
        "repoContentsUrl": format!("{html_url}/blob/{branch}"),
        "commitHash": pushed.commit,
    }))
}

/// GitHub's own message (`{"message": ...}`) when it has one.
fn api_error(doing: &str, what: &str, status: u16, body: &str) -> ActionError {
    let message = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| {
            let main = v["message"].as_str()?.to_owned();
            let details: Vec<String> = v["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|e| e["message"].as_str().map(str::to_owned))
                .collect();
            Some(if details.is_empty() {
                main
            } else {
                format!("{main}: {}", details.join("; "))
            })
        })
        .unwrap_or_else(|| format!("HTTP {status}"));
    ActionError::new(
        FAILED,
        format!("GitHub refused {doing} ({what}): {message} (HTTP {status})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::run;
    use crate::context::testing::Dirs;

    #[test]
    fn repo_urls_in_the_pickers_format() {
        assert_eq!(
            parse_repo_url("github.com?owner=acme&repo=payments").unwrap(),
            RepoUrl {
                host: "github.com".into(),
                owner: "acme".into(),
                repo: "payments".into()
            }
        );
        for bad in [
            "github.com",
            "github.com?owner=acme",
            "github.com?owner=..&repo=x",
            "github.com?owner=acme&repo=a/b",
            "github.com?owner=acme&repo=a%2fb",
            "evil.com/x?owner=a&repo=b",
            "?owner=a&repo=b",
        ] {
            assert!(parse_repo_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unknown_host_needs_configuration_and_a_dry_run_calls_nothing() {
        let dirs = Dirs::new();
        let e = run(
            &dirs.context(),
            "publish:github",
            r#"{"repoUrl": "git.acme.io?owner=a&repo=b"}"#,
        )
        .unwrap_err();
        assert!(
            e.message
                .contains("no GitHub integration for `git.acme.io`"),
            "{e:?}"
        );
        let ctx = Context {
            dry_run: true,
            ..dirs.context()
        };
        let out = run(
            &ctx,
            "publish:github",
            r#"{"repoUrl": "github.com?owner=acme&repo=web"}"#,
        )
        .unwrap();
        assert_eq!(
            out["repoContentsUrl"],
            "https://github.com/acme/web/blob/main"
        );
        assert!(dirs.host.requests.borrow().is_empty());
        assert!(dirs.host.pushes.borrow().is_empty());
    }
}
