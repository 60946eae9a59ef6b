//! Publishing, end to end: `publish:git` pushes the rendered skeleton to a real
//! git repository through the host's `git.push`, `catalog:register` puts it in
//! the catalog through `catalog.register-location`, each only where the
//! operator's grant allows, never in a dry run.

use super::{post, wait_final};
use portal_tests::{
    PortalProcess, built_plugin, fixture, install_plugin, shared_cache_dir, wait_for,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const TEMPLATE: &str = "template:default/published-service";

/// A portal whose builtin actions may push to and register under `<root>/repos`.
fn start(root: &Path) -> PortalProcess {
    let repos = root.join("repos");
    std::fs::create_dir_all(&repos).unwrap();
    let config = format!(
        "catalog:\n  locations:\n    - type: file\n      target: {template}\nplugins:\n  cache_dir: {cache}\n  grants:\n    builtin-actions:\n      git_remotes: [{repos}]\n      register_locations: [{repos}]\n",
        template = fixture("templates/published/template.yaml").display(),
        cache = shared_cache_dir().display(),
        repos = repos.display(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_for(Duration::from_secs(120), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        let ids: Vec<String> = actions
            .as_array()?
            .iter()
            .filter_map(|a| a["id"].as_str().map(str::to_owned))
            .collect();
        (ids.iter().any(|id| id == "publish:git")
            && portal
                .get("/api/catalog/entities/by-name/template/default/published-service")
                .send()
                .ok()?
                .status()
                == 200)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("actions or template missing; log:\n{}", portal.log()));
    portal
}

fn run(portal: &PortalProcess, values: Value) -> Value {
    let (status, created) = post(
        portal,
        "/api/scaffolder/v2/tasks",
        &json!({ "templateRef": TEMPLATE, "values": values }),
    );
    assert_eq!(status, 201, "{created}");
    wait_final(portal, created["id"].as_str().unwrap())
}

fn git(repo: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
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

/// Why the task failed, in one line (with the step's name).
fn failure(task: &Value) -> String {
    task["state"]["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn step<'a>(task: &'a Value, id: &str) -> &'a Value {
    task["state"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
}

#[test]
fn a_task_pushes_to_a_git_repository_and_registers_the_result() {
    let root = tempfile::tempdir().unwrap();
    let portal = start(root.path());
    let repo = root.path().join("repos/payments");
    let task = run(
        &portal,
        json!({ "name": "payments", "remote": repo.to_string_lossy() }),
    );
    assert_eq!(task["status"], "completed", "{task:#}\n{}", portal.log());

    // A real repository with a working tree: the commit, its author, its files.
    let log = git(&repo, &["log", "--format=%H %an <%ae> %s"]);
    let commit = step(&task, "publish")["output"]["commitHash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        log.trim(),
        format!("{commit} Portal Tests <tests@portal.example> Create payments")
    );
    assert_eq!(
        git(&repo, &["ls-files"]).lines().collect::<Vec<_>>(),
        ["README.md", "catalog-info.yaml"]
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("README.md")).unwrap(),
        "# payments\n"
    );

    // In the catalog, and the task's output points at it.
    let entity = portal
        .get_json("/api/catalog/entities/by-name/component/default/payments")
        .unwrap();
    assert_eq!(entity["spec"]["owner"], "team-a");
    assert_eq!(
        step(&task, "register")["output"]["entityRef"],
        "component:default/payments"
    );
    let links = task["output"]["links"].as_array().unwrap();
    assert_eq!(links[0]["url"], format!("file://{}", repo.display()));
    assert_eq!(links[1]["entityRef"], "component:default/payments");
    assert_eq!(task["output"]["text"][0]["content"], commit);

    // Running it again adds a commit on top; nothing is force-pushed.
    let again = run(
        &portal,
        json!({ "name": "payments", "remote": repo.to_string_lossy() }),
    );
    assert_eq!(again["status"], "completed", "{again:#}");
    assert_eq!(git(&repo, &["rev-list", "--count", "HEAD"]).trim(), "2");
    assert_eq!(git(&repo, &["rev-parse", "HEAD~1"]).trim(), commit);
}

#[test]
fn pushes_and_registrations_outside_the_grant_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let portal = start(root.path());
    let outside: PathBuf = root.path().join("elsewhere");
    let pwned = root.path().join("pwned");
    for remote in [
        outside.to_string_lossy().into_owned(),
        format!("{}/repos/../elsewhere", root.path().display()),
        format!("{}/repos-evil/x", root.path().display()),
        format!("ext::sh -c touch% {}", pwned.display()),
        "https://git.example.com/acme/app.git".to_owned(),
        "../elsewhere".to_owned(),
    ] {
        let task = run(&portal, json!({ "name": "svc", "remote": remote }));
        assert_eq!(task["status"], "failed", "{remote}: {task:#}");
        let error = failure(&task);
        assert!(
            error.contains("may not push")
                || error.contains("climbs with `..`")
                || error.contains("nor a repository name"),
            "{remote}: {error}"
        );
    }
    assert!(!outside.exists());
    assert!(!pwned.exists());
    assert!(!root.path().join("repos-evil").exists());

    // A descriptor outside the grant is not registered (the push itself was fine).
    let secret = root.path().join("elsewhere.yaml");
    std::fs::write(&secret, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: stolen}\nspec: {type: service, lifecycle: x, owner: y}\n").unwrap();
    let task = run(
        &portal,
        json!({
            "name": "svc",
            "remote": root.path().join("repos/svc").to_string_lossy(),
            "registerAt": secret.to_string_lossy(),
        }),
    );
    assert_eq!(task["status"], "failed");
    let error = failure(&task);
    assert!(error.contains("may not register"), "{error}");
    assert_eq!(
        portal
            .get("/api/catalog/entities/by-name/component/default/stolen")
            .send()
            .unwrap()
            .status(),
        404
    );
}

#[test]
fn a_template_whose_actions_lack_grants_is_refused_before_it_starts() {
    let config = format!(
        "catalog:\n  locations:\n    - type: file\n      target: {}\nplugins:\n  cache_dir: {}\n  grants: {{}}\n",
        fixture("templates/published/template.yaml").display(),
        shared_cache_dir().display(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_for(Duration::from_secs(120), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        let template = portal
            .get("/api/catalog/entities/by-name/template/default/published-service")
            .send()
            .ok()?
            .status();
        (actions.to_string().contains("publish:git") && template == 200).then_some(())
    })
    .unwrap_or_else(|| panic!("not ready; log:\n{}", portal.log()));
    let (status, body) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({ "templateRef": TEMPLATE, "values": { "name": "x", "remote": "/tmp/x" } }),
    );
    assert_eq!(status, 400, "{body}");
    let message = body.to_string();
    for expected in [
        "publish:git (plugin builtin-actions) needs plugins.grants.builtin-actions.git_remotes",
        "catalog:register (plugin builtin-actions) needs plugins.grants.builtin-actions.register_locations",
    ] {
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(
        portal.get_json("/api/scaffolder/v2/tasks").unwrap()["totalTasks"],
        0
    );
}

#[test]
fn a_workspace_bringing_its_own_git_directory_is_not_pushed() {
    let root = tempfile::tempdir().unwrap();
    let portal = start(root.path());
    let repo = root.path().join("repos/vendored");
    let task = run(
        &portal,
        json!({ "name": "vendored", "remote": repo.to_string_lossy(), "withNestedRepo": true }),
    );
    assert_eq!(task["status"], "failed", "{task:#}");
    let error = failure(&task);
    assert!(error.contains("vendor/.git"), "{error}");
    assert!(!repo.exists(), "nothing is created for a refused push");
    assert!(!Path::new("/tmp/portal-pwned-by-fsmonitor").exists());
}

#[test]
fn a_dry_run_reports_the_push_and_registration_without_doing_them() {
    let root = tempfile::tempdir().unwrap();
    let portal = start(root.path());
    let repo = root.path().join("repos/dry");
    let template: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(fixture("templates/published/template.yaml")).unwrap(),
    )
    .unwrap();
    let (status, result) = post(
        &portal,
        "/api/scaffolder/v2/dry-run",
        &json!({
            "template": template,
            "values": { "name": "dry", "remote": repo.to_string_lossy() },
            "directoryContents": [
                { "path": "skeleton/catalog-info.yaml", "base64Content": base64(&std::fs::read(fixture("templates/published/skeleton/catalog-info.yaml")).unwrap()) },
            ],
        }),
    );
    assert_eq!(status, 200, "{result:#}");
    let log: Vec<String> = result["log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["body"]["message"].as_str().map(str::to_owned))
        .collect();
    let log = log.join("\n");
    assert!(
        log.contains("dry run: would push the workspace to branch `main`"),
        "{log}"
    );
    assert!(
        log.contains("dry run: would register the file location"),
        "{log}"
    );
    assert!(!repo.exists());
    assert_eq!(
        portal
            .get("/api/catalog/entities/by-name/component/default/dry")
            .send()
            .unwrap()
            .status(),
        404
    );
}

fn base64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

const GITHUB_TOKEN: &str = "ghp_standin0123456789";

#[test]
fn publish_github_creates_the_repository_through_the_api_pushes_and_registers_by_url() {
    let root = tempfile::tempdir().unwrap();
    let github = portal_tests::github::GithubStandIn::start(root.path(), GITHUB_TOKEN, &["acme"]);
    let host = github.server.addr.to_string();
    let base = github.server.url();
    let config = format!(
        r#"catalog:
  locations:
    - type: file
      target: {template}
  reading:
    allow: [{{host: "{host}"}}]
    github: [{{host: "{host}", raw_base_url: "{base}/raw"}}]
secrets:
  github-token: {{ value: {GITHUB_TOKEN} }}
plugins:
  cache_dir: {cache}
  grants:
    builtin-actions:
      allowed_hosts: ["{host}"]
      git_remotes: ["{base}/"]
      register_locations: ["{base}/"]
      secrets: [github-token]
      config:
        github:
          - host: "{host}"
            apiBaseUrl: {api}
            tokenSecret: github-token
"#,
        template = fixture("templates/published/github.yaml").display(),
        cache = shared_cache_dir().display(),
        api = github.api_url(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_for(Duration::from_secs(120), || {
        let ok = portal
            .get("/api/catalog/entities/by-name/template/default/github-service")
            .send()
            .ok()?
            .status()
            == 200;
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        (ok && actions.to_string().contains("publish:github")).then_some(())
    })
    .unwrap_or_else(|| panic!("not ready; log:\n{}", portal.log()));

    let values =
        json!({ "name": "payments", "repoUrl": format!("{host}?owner=acme&repo=payments") });
    let (status, created) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({ "templateRef": "template:default/github-service", "values": values }),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let task = wait_final(&portal, &id);
    assert_eq!(task["status"], "completed", "{task:#}\n{}", portal.log());

    // GitHub's calls, in order: who is the owner, create in the organisation.
    let requests = github.server.requests.lock().unwrap().clone();
    assert_eq!(requests[0], "/api/v3/users/acme", "{requests:?}");
    assert_eq!(requests[1], "/api/v3/orgs/acme/repos", "{requests:?}");
    // The commit is in the repository GitHub created.
    let bare = github.repo_dir("acme", "payments");
    let out = Command::new("git")
        .arg(format!("--git-dir={}", bare.display()))
        .args(["log", "--format=%s", "main"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Create payments"
    );
    assert_eq!(
        step(&task, "publish")["output"]["repoContentsUrl"],
        format!("{base}/acme/payments/blob/main")
    );
    // Registered by its GitHub URL, read from the raw file server.
    let entity = portal
        .get_json("/api/catalog/entities/by-name/component/default/payments")
        .unwrap();
    assert_eq!(
        entity["metadata"]["annotations"]["backstage.io/managed-by-location"],
        format!("url:{base}/acme/payments/blob/main/catalog-info.yaml")
    );
    assert_eq!(
        task["output"]["links"][1]["entityRef"],
        "component:default/payments"
    );

    // The token is in no task answer or event.
    let events = portal
        .get_json(&format!("/api/scaffolder/v2/tasks/{id}/events"))
        .unwrap();
    for text in [task.to_string(), events.to_string(), portal.log()] {
        assert!(!text.contains(GITHUB_TOKEN), "the token leaked: {text}");
    }

    // A repository that exists is GitHub's error, word for word; nothing is pushed.
    let (_, again) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({ "templateRef": "template:default/github-service", "values": values }),
    );
    let again = wait_final(&portal, again["id"].as_str().unwrap());
    assert_eq!(again["status"], "failed");
    let error = failure(&again);
    assert!(
        error.contains("name already exists on this account"),
        "{error}"
    );
}

#[test]
fn a_remote_skeleton_is_read_from_a_github_tarball_within_the_grant() {
    let root = tempfile::tempdir().unwrap();
    let github = portal_tests::github::GithubStandIn::start(root.path(), GITHUB_TOKEN, &["acme"]);
    github.commit(
        "acme",
        "templates",
        &[
            ("README.md", "not part of the skeleton", false),
            (
                "skeleton/${{ values.name }}.txt",
                "Hello ${{ values.name }}",
                false,
            ),
            (
                "skeleton/bin/run.sh",
                "#!/bin/sh\necho ${{ values.name }}\n",
                true,
            ),
        ],
        &[("skeleton/escape", "../../../../../etc/passwd")],
    );
    let host = github.server.addr.to_string();
    let base = github.server.url();
    let config = format!(
        r#"secrets:
  github-token: {{ value: {GITHUB_TOKEN} }}
plugins:
  cache_dir: {cache}
  grants:
    builtin-actions:
      allowed_hosts: ["{host}"]
      secrets: [github-token]
      config:
        github:
          - host: "{host}"
            apiBaseUrl: {api}
            tokenSecret: github-token
"#,
        cache = shared_cache_dir().display(),
        api = github.api_url(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_for(Duration::from_secs(120), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        actions.to_string().contains("fetch:template").then_some(())
    })
    .unwrap_or_else(|| panic!("not ready; log:\n{}", portal.log()));
    let dry_run = |url: &str| {
        let template = json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": { "name": "remote" },
            "spec": {
                "owner": "group:default/platform",
                "type": "service",
                "parameters": [{ "properties": { "name": { "type": "string" } } }],
                "steps": [{
                    "id": "fetch",
                    "name": "Fetch",
                    "action": "fetch:template",
                    "input": { "url": url, "values": { "name": "${{ parameters.name }}" } }
                }]
            }
        });
        let (status, result) = post(
            &portal,
            "/api/scaffolder/v2/dry-run",
            &json!({ "template": template, "values": { "name": "payments" }, "directoryContents": [] }),
        );
        assert_eq!(status, 200, "{result:#}");
        result
    };
    let result = dry_run(&format!("{base}/acme/templates/tree/main/skeleton"));
    assert_eq!(
        result["status"],
        "completed",
        "{result:#}\n{}",
        portal.log()
    );
    let files: Vec<(String, bool, Vec<u8>)> = result["directoryContents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            use base64::Engine as _;
            (
                f["path"].as_str().unwrap().to_owned(),
                f["executable"].as_bool().unwrap_or(false),
                base64::engine::general_purpose::STANDARD
                    .decode(f["base64Content"].as_str().unwrap())
                    .unwrap(),
            )
        })
        .collect();
    assert_eq!(
        files,
        [
            (
                "bin/run.sh".to_owned(),
                true,
                b"#!/bin/sh\necho payments\n".to_vec()
            ),
            ("payments.txt".to_owned(), false, b"Hello payments".to_vec()),
        ],
        "rendered, the executable bit kept, the escaping link and the rest of the repository left out"
    );
    let log = result["log"].to_string();
    assert!(log.contains("skipped the link `escape`"), "{log}");
    let requests = github.server.requests.lock().unwrap().clone();
    assert!(
        requests.contains(&"/api/v3/repos/acme/templates/tarball/main".to_owned()),
        "{requests:?}"
    );

    // A missing repository is GitHub's answer, named; a host outside the
    // plugin's grant is refused before any connection.
    let result = dry_run(&format!("{base}/acme/missing/tree/main/skeleton"));
    assert_eq!(result["status"], "failed");
    let text = result.to_string();
    assert!(text.contains("HTTP 404: Not Found"), "{text}");
    let result = dry_run("https://github.com/acme/templates/tree/main/skeleton");
    assert_eq!(result["status"], "failed");
    let text = result.to_string();
    assert!(text.contains("api.github.com"), "{text}");
    assert!(!text.contains(GITHUB_TOKEN) && !portal.log().contains(GITHUB_TOKEN));
}
