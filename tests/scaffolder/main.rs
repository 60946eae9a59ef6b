//! Software templates, end to end: a real `portal serve` with the template of
//! `tests/fixtures/templates/service` in its catalog and the first-party
//! `builtin-actions.wasm` plugin running every step. Run with `cargo xtask test`.

use base64::Engine as _;
use portal_tests::{
    PortalProcess, built_plugin, fixture, install_plugin, shared_cache_dir, wait_for,
};
use serde_json::{Value, json};
use std::io::Read;
use std::time::Duration;

mod publish;

const SECRET: &str = "tok-3f9a/Zq+x";

fn template_dir() -> std::path::PathBuf {
    fixture("templates/service")
}

fn start() -> PortalProcess {
    let config = format!(
        "catalog:\n  locations:\n    - type: file\n      target: {}\nplugins:\n  cache_dir: {}\n",
        template_dir().join("template.yaml").display(),
        shared_cache_dir().display()
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_ready(&portal);
    portal
}

/// Waits until the actions are installed and the template is in the catalog.
fn wait_ready(portal: &PortalProcess) {
    wait_for(Duration::from_secs(120), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        let ids: Vec<&str> = actions
            .as_array()?
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        (ids.contains(&"fetch:template")
            && portal
                .get("/api/catalog/entities/by-name/template/default/test-service")
                .send()
                .ok()?
                .status()
                == 200)
            .then_some(())
    })
    .unwrap_or_else(|| panic!("actions or template missing; log:\n{}", portal.log()));
}

fn post(portal: &PortalProcess, path: &str, body: &Value) -> (u16, Value) {
    let response = portal
        .post(path)
        .json(body)
        .timeout(Duration::from_secs(60))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn values() -> Value {
    json!({ "name": "payments", "owner": "team-a", "replicas": 3, "withDocs": false, "features": ["grpc", "metrics"] })
}

/// Reads a task's event stream until the server closes it.
fn stream(portal: &PortalProcess, id: &str, after: u64) -> String {
    let mut response = portal
        .get(&format!(
            "/api/scaffolder/v2/tasks/{id}/eventstream?after={after}"
        ))
        .timeout(Duration::from_secs(120))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut text = String::new();
    response.read_to_string(&mut text).unwrap();
    text
}

fn wait_final(portal: &PortalProcess, id: &str) -> Value {
    wait_for(Duration::from_secs(120), || {
        let task = portal
            .get_json(&format!("/api/scaffolder/v2/tasks/{id}"))
            .ok()?;
        matches!(
            task["status"].as_str(),
            Some("completed" | "failed" | "cancelled")
        )
        .then_some(task)
    })
    .unwrap_or_else(|| panic!("task {id} did not finish; log:\n{}", portal.log()))
}

#[test]
fn a_task_runs_every_step_on_action_plugins_and_streams_its_log() {
    let portal = start();
    let schema = portal
        .get_json("/api/scaffolder/v2/templates/default/template/test-service/parameter-schema")
        .unwrap();
    assert_eq!(schema["title"], "Test service");
    assert_eq!(schema["steps"].as_array().unwrap().len(), 2);
    // The fields in the order the template's file gives them (the catalog's
    // JSON sorts keys).
    assert_eq!(
        schema["steps"][0]["schema"]["ui:order"],
        json!(["name", "owner", "replicas"])
    );
    assert_eq!(
        schema["steps"][1]["schema"]["ui:order"],
        json!(["withDocs", "features"])
    );

    let (status, created) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({
            "templateRef": "template:default/test-service",
            "values": values(),
            "secrets": { "token": SECRET },
        }),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();

    // The live log, from the start, closed after the completion event.
    let log = stream(&portal, &id, 0);
    for expected in [
        "event: log",
        "Beginning step Fetch skeleton",
        "feature grpc",
        "feature metrics",
        "using token ***",
        "Skipping step Fetch docs",
        "event: completion",
        "Run completed with status: completed",
    ] {
        assert!(
            log.contains(expected),
            "no `{expected}` in the stream:\n{log}"
        );
    }
    assert!(
        !log.contains("tok-3f9a"),
        "the secret leaked into the log:\n{log}"
    );

    let task = wait_final(&portal, &id);
    assert_eq!(task["status"], "completed", "{task:#}");
    let steps = task["state"]["steps"].as_array().unwrap();
    let step = |id: &str| steps.iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(step("docs")["status"], "skipped");
    assert_eq!(step("per-feature")["output"].as_array().unwrap().len(), 2);
    let list_step = step("list");
    let listed: Vec<&str> = list_step["output"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(
        listed.iter().any(|p| p.ends_with("payments/README.md")),
        "{listed:?}"
    );
    assert!(listed.iter().any(|p| p.ends_with("logo.png")), "{listed:?}");
    // Output: the docs link's `if` is false; text rendered from a step's output.
    let links = task["output"]["links"].as_array().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(links[0]["url"], "https://git.example.com/payments");
    assert_eq!(
        task["output"]["text"][0]["content"],
        format!("{} files", listed.len())
    );
    let whole = serde_json::to_string(&task).unwrap();
    assert!(
        !whole.contains("tok-3f9a"),
        "the secret is in the task: {whole}"
    );

    // Resuming after an event id gives only what came after it.
    let tail = stream(&portal, &id, 3);
    assert!(
        !tail.contains("id: 3\n") && tail.contains("id: 4\n"),
        "{tail}"
    );
    let events = portal
        .get_json(&format!("/api/scaffolder/v2/tasks/{id}/events?after=0"))
        .unwrap();
    let events = events.as_array().unwrap();
    assert_eq!(events.last().unwrap()["type"], "completion");
    assert!(
        events
            .windows(2)
            .all(|w| w[0]["id"].as_u64() < w[1]["id"].as_u64())
    );

    let list = portal
        .get_json("/api/scaffolder/v2/tasks?status=completed")
        .unwrap();
    assert_eq!(list["totalTasks"], 1);
}

fn template_json() -> Value {
    let text = std::fs::read_to_string(template_dir().join("template.yaml")).unwrap();
    serde_saphyr::from_str(&text).expect("the fixture template is YAML")
}

/// The template's files as a dry run's `directoryContents`.
fn directory_contents() -> Vec<Value> {
    let root = template_dir();
    let mut files = Vec::new();
    let mut pending = vec![root.clone()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(json!({
                    "path": path.strip_prefix(&root).unwrap().to_string_lossy(),
                    "base64Content": base64::engine::general_purpose::STANDARD.encode(std::fs::read(&path).unwrap()),
                }));
            }
        }
    }
    files
}

fn dry_run(
    portal: &PortalProcess,
    template: &Value,
    values: &Value,
    files: Vec<Value>,
) -> (u16, Value) {
    post(
        portal,
        "/api/scaffolder/v2/dry-run",
        &json!({
            "template": template,
            "values": values,
            "secrets": { "token": SECRET },
            "directoryContents": files,
        }),
    )
}

fn file<'a>(result: &'a Value, path: &str) -> Option<&'a Value> {
    result["directoryContents"]
        .as_array()?
        .iter()
        .find(|f| f["path"] == path)
}

fn decoded(file: &Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(file["base64Content"].as_str().unwrap())
        .unwrap()
}

#[test]
fn a_dry_run_returns_the_files_it_produced_and_keeps_nothing() {
    let portal = start();
    let template = template_json();
    let mut values = values();
    values["withDocs"] = json!(true);
    let (status, result) = dry_run(&portal, &template, &values, directory_contents());
    assert_eq!(status, 200, "{result:#}");
    assert_eq!(result["status"], "completed", "{result:#}");
    let readme = String::from_utf8(decoded(
        file(&result, "service/payments/README.md").expect("README"),
    ))
    .unwrap();
    assert!(
        readme.starts_with("# payments\n\nOwned by team-a; 3 replicas."),
        "{readme}"
    );
    assert!(readme.contains("- grpc\n- metrics"), "{readme}");
    let logo = std::fs::read(template_dir().join("skeleton/logo.png")).unwrap();
    assert_eq!(
        decoded(file(&result, "service/logo.png").unwrap()),
        logo,
        "binary copied byte for byte"
    );
    assert!(decoded(file(&result, "service/empty.txt").unwrap()).is_empty());
    // fetch:plain copies without rendering.
    let docs = String::from_utf8(decoded(file(&result, "service/docs/index.md").unwrap())).unwrap();
    assert!(docs.contains("${{ values.name }}"), "{docs}");
    assert_eq!(result["output"]["links"].as_array().unwrap().len(), 2);
    let whole = result.to_string();
    assert!(
        whole.contains("using token ***") && !whole.contains("tok-3f9a"),
        "{whole}"
    );
    // Nothing kept: no task, no workspace.
    assert_eq!(
        portal.get_json("/api/scaffolder/v2/tasks").unwrap()["totalTasks"],
        0
    );
    let work = portal.data_dir().join("scaffolder").join("work");
    let left: Vec<_> = std::fs::read_dir(&work)
        .map(|d| d.flatten().collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn templates_are_checked_before_anything_runs() {
    let portal = start();
    let template = |steps: Value| {
        json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": { "name": "t" },
            "spec": { "steps": steps },
        })
    };
    let (status, body) = dry_run(
        &portal,
        &template(json!([
            { "action": "nope:missing" }, { "action": "debug:log" }, { "action": "acme:other" }
        ])),
        &json!({}),
        vec![],
    );
    assert_eq!(status, 400);
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("nope:missing") && message.contains("acme:other"),
        "{message}"
    );
    assert!(!message.contains("debug:log"), "{message}");

    let (status, body) = dry_run(
        &portal,
        &template(json!([
            { "action": "debug:log", "input": { "message": "${{ parameters.( }}" } }
        ])),
        &json!({}),
        vec![],
    );
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("spec.steps[0].input.message"),
        "{body}"
    );

    let (status, body) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({
            "templateRef": "template:default/test-service", "values": { "name": "x" }
        }),
    );
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("owner"),
        "{body}"
    );

    let (status, _) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({
            "templateRef": "template:default/no-such", "values": {}
        }),
    );
    assert_eq!(status, 404);
}

#[test]
fn hostile_templates_values_and_paths_are_refused_without_leaking() {
    let portal = start();
    let template = |steps: Value| {
        json!({
            "apiVersion": "scaffolder.backstage.io/v1beta3",
            "kind": "Template",
            "metadata": { "name": "t" },
            "spec": { "steps": steps },
        })
    };
    // A parameter is data: its text is never evaluated, in steps or skeletons.
    let sneaky = "${{ self.__init__.__globals__ }}{{ range(10**9) }}";
    let files = vec![
        json!({
            "path": "skel/${{ values.name }}.txt",
            "base64Content": base64::engine::general_purpose::STANDARD.encode("name=${{ values.name }}"),
        }),
        json!({
            "path": "skel/token.txt",
            "base64Content": base64::engine::general_purpose::STANDARD.encode("token=${{ values.tok }}"),
        }),
    ];
    let (status, result) = dry_run(
        &portal,
        &template(json!([
            { "id": "log", "action": "debug:log", "input": { "message": "${{ parameters.name }}" } },
            { "id": "f", "action": "fetch:template", "input": { "url": "./skel", "values": { "name": "safe" , "raw": "${{ parameters.name }}", "tok": "${{ secrets.token }}" } } }
        ])),
        &json!({ "name": sneaky }),
        files,
    );
    assert_eq!(status, 200, "{result}");
    assert_eq!(result["status"], "completed", "{result:#}");
    assert!(
        result.to_string().contains("self.__init__.__globals__"),
        "printed as text: {result}"
    );
    assert_eq!(decoded(file(&result, "safe.txt").unwrap()), b"name=safe");
    // A secret written into a file comes back masked too.
    assert_eq!(decoded(file(&result, "token.txt").unwrap()), b"token=***");

    // Expressions that reach for the runtime reach nothing: a render error
    // naming the place, or nothing at all (an unknown attribute is missing).
    for expression in [
        "${{ ''.__class__.__mro__ }}",
        "${{ parameters.constructor.constructor('return process')() }}",
        "${{ range(100000000) | join }}",
    ] {
        let (status, result) = dry_run(
            &portal,
            &template(json!([
                { "action": "debug:log", "input": { "message": expression } }
            ])),
            &json!({}),
            vec![],
        );
        let text = result.to_string();
        for leak in [
            "/root",
            "/home",
            "<class",
            "__mro__",
            "function (",
            "[object",
            "process.env",
        ] {
            assert!(!text.contains(leak), "{expression}: `{leak}` in {text}");
        }
        match (status, result["status"].as_str()) {
            (200, Some("failed")) => assert!(text.contains("spec.steps[0].input"), "{text}"),
            (200, Some("completed")) => {
                let messages: Vec<&str> = result["log"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|e| e["body"]["message"].as_str())
                    .collect();
                assert_eq!(
                    messages.len(),
                    3,
                    "only the step's start, end and the run's end: {messages:?}"
                );
            }
            (400, _) => {}
            other => panic!("{expression}: {other:?} {text}"),
        }
    }

    // Paths out of the workspace or the template's files are refused.
    for (input, what) in [
        (
            json!({ "url": "./skel", "targetPath": "../../outside" }),
            "targetPath",
        ),
        (json!({ "url": "../../../../etc" }), "url"),
        (json!({ "url": "/etc" }), "url"),
    ] {
        let (status, result) = dry_run(
            &portal,
            &template(json!([
                { "action": "fetch:plain", "input": input }
            ])),
            &json!({}),
            vec![json!({"path": "skel/a.txt", "base64Content": ""})],
        );
        assert_eq!(status, 200);
        assert_eq!(result["status"], "failed", "{what}: {result:#}");
    }
    let (status, body) = dry_run(
        &portal,
        &template(json!([{ "action": "debug:log" }])),
        &json!({}),
        vec![json!({"path": "../escape.txt", "base64Content": ""})],
    );
    assert!(status == 400 || status == 500, "{status} {body}");
    assert!(
        !portal
            .data_dir()
            .join("scaffolder")
            .join("escape.txt")
            .exists()
    );
}

#[test]
fn a_task_cut_short_by_a_crash_is_never_left_running() {
    let portal = start();
    let (status, created) = post(
        &portal,
        "/api/scaffolder/v2/tasks",
        &json!({
            "templateRef": "template:default/test-service",
            "values": values(),
            "secrets": { "token": SECRET },
        }),
    );
    assert_eq!(status, 201);
    let id = created["id"].as_str().unwrap().to_owned();
    let portal = portal.restart().unwrap();
    let task = wait_final(&portal, &id);
    wait_ready(&portal);
    match task["status"].as_str().unwrap() {
        "completed" => {}
        "failed" => {
            let error = task["state"]["error"].as_str().unwrap();
            assert!(error.contains("the portal stopped"), "{error}");
        }
        other => panic!("task {other} after a restart: {task:#}"),
    }
    // Retry runs it again, to completion.
    let (status, retried) = post(
        &portal,
        &format!("/api/scaffolder/v2/tasks/{id}/retry"),
        &json!({ "secrets": { "token": SECRET } }),
    );
    assert_eq!(status, 201, "{retried}");
    let log = stream(&portal, &id, 0);
    assert!(
        log.contains("Run completed with status: completed"),
        "{log}"
    );
}

#[test]
fn portal_template_check_names_each_problem_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    install_plugin(
        &plugins,
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    let check = |paths: &[&std::path::Path]| {
        let output = std::process::Command::new(portal_tests::portal_bin())
            .args(["template", "check", "--plugins-dir"])
            .arg(&plugins)
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(paths)
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
        )
    };
    let (ok, out) = check(&[&template_dir()]);
    assert!(ok, "{out}");
    assert!(
        out.contains("template.yaml:1: ok: template:default/test-service (2 form pages, 5 steps)"),
        "{out}"
    );

    let broken = dir.path().join("broken.yaml");
    std::fs::write(
        &broken,
        "# a comment\napiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: broken\nspec:\n  steps:\n    - action: acme:deploy\n    - action: debug:log\n      input:\n        message: ${{ parameters.( }}\n    - action: fetch:template\n      input:\n        url: ./no-such-skeleton\n---\napiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {}\nspec: {steps: []}\n",
    )
    .unwrap();
    let (ok, out) = check(&[&broken]);
    assert!(!ok, "{out}");
    for expected in [
        "broken.yaml:1: error: spec.steps[0].action: no installed plugin provides the action `acme:deploy`",
        "broken.yaml:1: error: spec.steps[1].input.message:",
        "broken.yaml:1: error: spec.steps[2].input.url: `./no-such-skeleton` does not exist beside the template",
        "broken.yaml:16: error: metadata.name: is required",
        "4 problems",
    ] {
        assert!(out.contains(expected), "no `{expected}` in:\n{out}");
    }
}

#[test]
fn symlinks_in_a_skeleton_never_reach_outside() {
    // A template whose skeleton holds links to a directory and a file outside.
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("private.txt"), "TOP-SECRET-CONTENTS").unwrap();
    let template = dir.path().join("template");
    let skeleton = template.join("skel");
    std::fs::create_dir_all(&skeleton).unwrap();
    std::fs::write(skeleton.join("a.txt"), "hello ${{ values.name }}").unwrap();
    std::os::unix::fs::symlink(&outside, skeleton.join("dir-link")).unwrap();
    std::os::unix::fs::symlink(outside.join("private.txt"), skeleton.join("file-link")).unwrap();
    std::os::unix::fs::symlink("../../outside/private.txt", skeleton.join("relative-link"))
        .unwrap();
    std::fs::write(
        template.join("template.yaml"),
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: links\nspec:\n  owner: team-a\n  type: service\n  steps:\n    - id: fetch\n      action: fetch:template\n      input:\n        url: ./skel\n        targetPath: ./out\n        values: {name: x}\n    - id: write-through\n      action: fs:rename\n      input:\n        files: [{from: out/a.txt, to: out/dir-link/written.txt}]\n    - id: show\n      action: debug:log\n      input:\n        listWorkspace: with-contents\n",
    )
    .unwrap();
    let config = format!(
        "catalog:\n  locations:\n    - type: file\n      target: {}\nplugins:\n  cache_dir: {}\n",
        template.join("template.yaml").display(),
        shared_cache_dir().display()
    );
    let portal = PortalProcess::start(&config).unwrap();
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    let last = std::cell::RefCell::new(Value::Null);
    wait_for(Duration::from_secs(60), || {
        let created = post(
            &portal,
            "/api/scaffolder/v2/tasks",
            &json!({ "templateRef": "template:default/links", "values": {} }),
        );
        *last.borrow_mut() = created.1.clone();
        (created.0 == 201).then(|| created.1["id"].as_str().unwrap().to_owned())
    })
    .map(|id| {
        let task = wait_final(&portal, &id);
        let events = portal
            .get_json(&format!("/api/scaffolder/v2/tasks/{id}/events"))
            .unwrap();
        let everything = format!("{task}{events}");
        assert!(
            !everything.contains("TOP-SECRET"),
            "read through a link: {everything}"
        );
        assert!(
            !outside.join("written.txt").exists(),
            "wrote through a link: {everything}"
        );
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            1,
            "nothing new outside"
        );
    })
    .unwrap_or_else(|| {
        panic!(
            "the task never started: {}; log:\n{}",
            last.borrow(),
            portal.log()
        )
    });
}

#[test]
fn a_tasks_consecutive_steps_on_one_plugin_share_an_instance_and_tasks_never_do() {
    let portal = start();
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("compat.wasm"),
        "compat.wasm",
    );
    wait_for(Duration::from_secs(120), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        actions
            .to_string()
            .contains("compat:write-file")
            .then_some(())
    })
    .unwrap_or_else(|| panic!("compat missing; log:\n{}", portal.log()));
    let write = |id: &str| json!({ "id": id, "name": id, "action": "compat:write-file", "input": { "path": id, "content": id } });
    let template = json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": { "name": "instances" },
        "spec": {
            "owner": "group:default/platform",
            "type": "service",
            "steps": [
                write("a"), write("b"),
                { "id": "log", "name": "log", "action": "debug:log", "input": { "message": "between" } },
                write("c"), write("d")
            ]
        }
    });
    let calls = |result: &Value| -> Vec<u64> {
        result["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["output"]["callsOnThisInstance"].as_u64())
            .collect()
    };
    for _ in 0..2 {
        let (status, result) = dry_run(&portal, &template, &json!({}), Vec::new());
        assert_eq!(status, 200, "{result:#}");
        assert_eq!(result["status"], "completed", "{result:#}");
        // One instance for a and b; a step on another plugin in between
        // ends it; every run starts fresh.
        assert_eq!(calls(&result), [1, 2, 1, 2], "{result:#}");
    }
}
