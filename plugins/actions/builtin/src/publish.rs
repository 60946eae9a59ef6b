//! `publish:git`: the workspace (or a folder of it) as one commit on a branch of
//! a git repository, pushed by the host (`git.push`) to a remote the operator
//! granted. And `catalog:register`: a catalog location for what was published.
//!
//! Backstage has one publish action per forge (`publish:github`,
//! `publish:gitlab`, ...); `publish:git` is Portal's forge-neutral one: any
//! remote git speaks to over `file`, `http` or `https`, or a local path. Its
//! outputs have Backstage's names (`remoteUrl`, `repoContentsUrl`,
//! `commitHash`) so `catalog:register` and output links read them as they
//! would a forge's.
//!
//! In a dry run neither action touches anything: each reports what it would
//! have done (the host would refuse it anyway).

use crate::context::{Context, PushRequest};
use crate::error::{ActionError, Result};
use crate::input::Input;
use serde_json::{Value, json};

const DEFAULT_BRANCH: &str = "main";
const DEFAULT_MESSAGE: &str = "initial commit";
const DEFAULT_AUTHOR_NAME: &str = "Scaffolder";
const DEFAULT_AUTHOR_EMAIL: &str = "scaffolder@backstage.io";
/// The username a token goes with on GitHub, and most forges accept it.
const TOKEN_USERNAME: &str = "x-access-token";

/// Host refusals and failures come back as this code, with the host's words.
const PUBLISH_FAILED: &str = "publish-failed";

pub fn git_schema() -> Value {
    json!({
        "type": "object",
        // What the plugin must be granted for this action: checked before a task starts.
        "x-portal-grants": ["git_remotes"],
        "required": ["remoteUrl"],
        "properties": {
            "remoteUrl": {
                "title": "Remote",
                "description": "The repository to push to: an absolute path (created with a working tree if missing), `file:///path`, an `http(s)` URL, or a name (a repository in the first local folder the plugin is granted). It must be under one of the plugin's `git_remotes` grants.",
                "type": "string"
            },
            "sourcePath": {
                "title": "Source path",
                "description": "The workspace folder to publish; the whole workspace by default.",
                "type": "string"
            },
            "defaultBranch": {
                "title": "Branch",
                "description": "The branch to create or update (`main` by default). A branch that exists gets the commit on top; it is never force-pushed.",
                "type": "string"
            },
            "gitCommitMessage": {
                "title": "Commit message",
                "description": "`initial commit` by default.",
                "type": "string"
            },
            "gitAuthorName": {
                "title": "Author name",
                "description": "`Scaffolder` by default.",
                "type": "string"
            },
            "gitAuthorEmail": {
                "title": "Author email",
                "description": "`scaffolder@backstage.io` by default.",
                "type": "string"
            },
            "token": {
                "title": "Token",
                "description": "A token for an `http(s)` remote (usually `${{ secrets.token }}`); sent as HTTP basic auth, never logged.",
                "type": "string"
            },
            "username": {
                "title": "Username",
                "description": "The username that goes with `token` (`x-access-token` by default).",
                "type": "string"
            }
        }
    })
}

pub fn git_output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "remoteUrl": { "title": "The remote pushed to", "type": "string" },
            "repoContentsUrl": { "title": "Where the pushed files can be read (a local working tree's path)", "type": "string" },
            "commitHash": { "title": "The commit pushed", "type": "string" }
        }
    })
}

pub fn git(ctx: &Context, input: &Input) -> Result<Value> {
    let remote = input.string("remoteUrl")?.trim().to_owned();
    let source_path = input
        .opt_string("sourcePath")?
        .unwrap_or("")
        .trim_start_matches("./")
        .to_owned();
    let branch = input
        .opt_string("defaultBranch")?
        .unwrap_or(DEFAULT_BRANCH)
        .to_owned();
    let token = input.opt_string("token")?.filter(|t| !t.is_empty());
    let username = input.opt_string("username")?.unwrap_or(TOKEN_USERNAME);
    let request = PushRequest {
        source_path,
        remote,
        branch,
        commit_message: input
            .opt_string("gitCommitMessage")?
            .unwrap_or(DEFAULT_MESSAGE)
            .to_owned(),
        author_name: input
            .opt_string("gitAuthorName")?
            .unwrap_or(DEFAULT_AUTHOR_NAME)
            .to_owned(),
        author_email: input
            .opt_string("gitAuthorEmail")?
            .unwrap_or(DEFAULT_AUTHOR_EMAIL)
            .to_owned(),
        credentials: token.map(|t| (username.to_owned(), t.to_owned())),
    };
    let folder = if request.source_path.is_empty() {
        "the workspace".to_owned()
    } else {
        format!("`{}`", request.source_path)
    };
    if ctx.dry_run {
        ctx.info(format!(
            "dry run: would push {folder} to branch `{}` of {}",
            request.branch, request.remote
        ));
        let local = request.remote.starts_with('/') || request.remote.starts_with("file://");
        let path = request.remote.trim_start_matches("file://");
        let mut output = json!({ "remoteUrl": request.remote, "commitHash": "" });
        if local {
            output["repoContentsUrl"] = json!(path);
        }
        return Ok(output);
    }
    let pushed = ctx
        .host
        .git_push(&request)
        .map_err(|e| ActionError::new(PUBLISH_FAILED, e))?;
    ctx.info(format!(
        "pushed {folder} to branch `{}` of {} as commit {}",
        request.branch, pushed.remote_url, pushed.commit
    ));
    let mut output = json!({ "remoteUrl": pushed.remote_url, "commitHash": pushed.commit });
    if let Some(work_tree) = pushed.work_tree {
        output["repoContentsUrl"] = json!(work_tree);
    }
    Ok(output)
}

pub fn register_schema() -> Value {
    json!({
        "type": "object",
        "x-portal-grants": ["register_locations"],
        "properties": {
            "catalogInfoUrl": {
                "title": "Catalog info URL",
                "description": "The descriptor to register: a URL or an absolute path. Give this, or `repoContentsUrl`.",
                "type": "string"
            },
            "repoContentsUrl": {
                "title": "Repository contents URL",
                "description": "Where a publish step says the files are (its `repoContentsUrl` output); `catalogInfoPath` is read there.",
                "type": "string"
            },
            "catalogInfoPath": {
                "title": "Catalog info path",
                "description": "The descriptor's path within `repoContentsUrl` (`/catalog-info.yaml` by default).",
                "type": "string"
            },
            "optional": {
                "title": "Optional",
                "description": "When true, a failure to register is a warning in the log, not a failed step.",
                "type": "boolean"
            }
        }
    })
}

pub fn register_output_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "entityRef": { "title": "The main entity registered", "type": "string" },
            "catalogInfoUrl": { "title": "The descriptor registered", "type": "string" }
        }
    })
}

pub fn register(ctx: &Context, input: &Input) -> Result<Value> {
    let url = match (
        input.opt_string("catalogInfoUrl")?,
        input.opt_string("repoContentsUrl")?,
    ) {
        (Some(url), _) => url.to_owned(),
        (None, Some(contents)) => {
            let path = input
                .opt_string("catalogInfoPath")?
                .unwrap_or("/catalog-info.yaml");
            format!(
                "{}/{}",
                contents.trim_end_matches('/'),
                path.trim_start_matches('/')
            )
        }
        (None, None) => {
            return Err(ActionError::invalid(
                "give `catalogInfoUrl`, or `repoContentsUrl` (with `catalogInfoPath`)",
            ));
        }
    };
    let optional = input.flag("optional")?;
    let (location_type, target) = match url.strip_prefix("file://") {
        Some(path) => ("file", path.to_owned()),
        None if url.starts_with('/') => ("file", url.clone()),
        None => ("url", url.clone()),
    };
    if ctx.dry_run {
        ctx.info(format!(
            "dry run: would register the {location_type} location {target} in the catalog"
        ));
        return Ok(json!({ "catalogInfoUrl": url }));
    }
    match ctx.host.register_location(location_type, &target) {
        Ok(refs) => {
            // Backstage's choice: the first entity that is not the Location itself.
            let entity_ref = refs
                .iter()
                .find(|r| !r.starts_with("location:"))
                .or(refs.first())
                .cloned()
                .unwrap_or_default();
            ctx.info(format!("registered {target}: {}", refs.join(", ")));
            Ok(json!({ "entityRef": entity_ref, "catalogInfoUrl": url }))
        }
        Err(e) if optional => {
            ctx.warn(format!("could not register {target} (optional): {e}"));
            Ok(json!({ "catalogInfoUrl": url }))
        }
        Err(e) => Err(ActionError::new(PUBLISH_FAILED, e)),
    }
}

#[cfg(test)]
mod tests {
    use crate::actions::run;
    use crate::context::testing::Dirs;
    use crate::context::{Context, PushRequest};
    use serde_json::json;

    fn dry(dirs: &Dirs) -> Context<'_> {
        Context {
            dry_run: true,
            ..dirs.context()
        }
    }

    #[test]
    fn publish_git_asks_the_host_with_backstage_defaults() {
        let dirs = Dirs::new();
        let out = run(
            &dirs.context(),
            "publish:git",
            r#"{"remoteUrl": "/srv/repos/app"}"#,
        )
        .unwrap();
        assert_eq!(
            dirs.host.pushes.borrow()[0],
            PushRequest {
                source_path: String::new(),
                remote: "/srv/repos/app".into(),
                branch: "main".into(),
                commit_message: "initial commit".into(),
                author_name: "Scaffolder".into(),
                author_email: "scaffolder@backstage.io".into(),
                credentials: None,
            }
        );
        assert_eq!(out["remoteUrl"], "file:///srv/repos/app");
        assert_eq!(out["repoContentsUrl"], "/srv/repos/app");
        assert_eq!(out["commitHash"], "0".repeat(40));
    }

    #[test]
    fn publish_git_sends_a_token_as_credentials_and_never_logs_it() {
        let dirs = Dirs::new();
        let input = json!({
            "remoteUrl": "https://git.example.com/acme/app.git",
            "sourcePath": "./out",
            "defaultBranch": "trunk",
            "token": "s3cret-token",
        });
        let out = run(&dirs.context(), "publish:git", &input.to_string()).unwrap();
        let push = dirs.host.pushes.borrow()[0].clone();
        assert_eq!(push.source_path, "out");
        assert_eq!(push.branch, "trunk");
        assert_eq!(
            push.credentials,
            Some(("x-access-token".into(), "s3cret-token".into()))
        );
        assert!(out.get("repoContentsUrl").is_none());
        assert!(!dirs.lines.text().contains("s3cret"));
    }

    #[test]
    fn a_dry_run_publishes_and_registers_nothing_but_says_what_it_would_do() {
        let dirs = Dirs::new();
        let ctx = dry(&dirs);
        let out = run(&ctx, "publish:git", r#"{"remoteUrl": "/srv/repos/app"}"#).unwrap();
        assert_eq!(out["repoContentsUrl"], "/srv/repos/app");
        let reg = run(
            &ctx,
            "catalog:register",
            r#"{"repoContentsUrl": "/srv/repos/app"}"#,
        )
        .unwrap();
        assert_eq!(reg["catalogInfoUrl"], "/srv/repos/app/catalog-info.yaml");
        assert!(dirs.host.pushes.borrow().is_empty());
        assert!(dirs.host.registered.borrow().is_empty());
        let log = dirs.lines.text();
        assert!(
            log.contains("would push the workspace to branch `main` of /srv/repos/app"),
            "{log}"
        );
        assert!(
            log.contains("would register the file location /srv/repos/app/catalog-info.yaml"),
            "{log}"
        );
    }

    #[test]
    fn catalog_register_builds_the_location_and_picks_the_main_entity() {
        let dirs = Dirs::new();
        *dirs.host.entity_refs.borrow_mut() = vec![
            "location:default/generated-1".into(),
            "component:default/app".into(),
        ];
        let out = run(
            &dirs.context(),
            "catalog:register",
            r#"{"repoContentsUrl": "file:///srv/repos/app/", "catalogInfoPath": "/docs/catalog-info.yaml"}"#,
        )
        .unwrap();
        assert_eq!(out["entityRef"], "component:default/app");
        assert_eq!(
            dirs.host.registered.borrow()[0],
            (
                "file".into(),
                "/srv/repos/app/docs/catalog-info.yaml".into()
            )
        );
        run(
            &dirs.context(),
            "catalog:register",
            r#"{"catalogInfoUrl": "https://github.com/acme/app/blob/main/catalog-info.yaml"}"#,
        )
        .unwrap();
        assert_eq!(dirs.host.registered.borrow()[1].0, "url");
        let e = run(&dirs.context(), "catalog:register", "{}").unwrap_err();
        assert_eq!(e.code, "invalid-input");
    }
}
