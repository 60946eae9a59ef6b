//! The Create flow in the browser: the templates list, a template's form
//! (pages, checks, review), the task it starts and its live log, Retry.
//! The template of `tests/fixtures/templates/service` runs on the first-party
//! `builtin-actions.wasm`; `fixtures/form-widgets` has every kind of field.

use super::{SERIAL, WAIT, browser, shot, wait_hydrated, wait_loaded};
use portal_tests::browser::Browser;
use portal_tests::{
    PortalProcess, built_plugin, fixture, install_plugin, shared_cache_dir, wait_for,
    workspace_root,
};
use serde_json::Value;
use std::time::Duration;

/// A portal with the example organisation, the two templates and the
/// built-in actions, everything in the catalog and the actions installed.
fn portal() -> PortalProcess {
    let locations: String = [
        workspace_root().join("examples/catalog/all.yaml"),
        fixture("templates/service/template.yaml"),
        workspace_root().join("tests/web/fixtures/form-widgets/template.yaml"),
    ]
    .iter()
    .map(|path| format!("    - type: file\n      target: {}\n", path.display()))
    .collect();
    let config = format!(
        "app:\n  title: Acme Portal\nplugins:\n  cache_dir: {}\ncatalog:\n  locations:\n{locations}",
        shared_cache_dir().display(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_loaded(&portal, "builtin-actions.wasm");
    wait_for(Duration::from_secs(60), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        let installed = actions
            .as_array()?
            .iter()
            .any(|a| a["id"] == "fetch:template");
        let ready = installed
            && [
                "/api/catalog/entities/by-name/template/default/test-service",
                "/api/catalog/entities/by-name/template/default/form-widgets",
                "/api/catalog/entities/by-name/component/default/payments-service",
            ]
            .iter()
            .all(|path| portal.get(path).send().is_ok_and(|r| r.status() == 200));
        ready.then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "the actions or the templates are missing; log:\n{}",
            portal.log()
        )
    });
    portal
}

/// Whether the element matching `css` is shown (not hidden by itself or an ancestor).
fn visible(b: &Browser, css: &str) -> bool {
    b.execute(
        "const e = document.querySelector(arguments[0]); \
         return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0;",
        vec![Value::from(css)],
    )
    .ok()
    .and_then(|v| v.as_bool())
    .unwrap_or(false)
}

fn wait_visible(b: &Browser, css: &str) {
    b.wait_until(&format!("`{css}` to show"), WAIT, |b| {
        Ok(visible(b, css).then_some(()))
    })
    .unwrap();
}

/// Empties a text control the way typing would (an `input` event).
fn clear(b: &Browser, css: &str) {
    b.execute(
        "const e = document.querySelector(arguments[0]); e.value = ''; \
         e.dispatchEvent(new Event('input', { bubbles: true })); return null;",
        vec![Value::from(css)],
    )
    .unwrap();
}

fn type_into(b: &Browser, css: &str, text: &str) {
    let e = b.find(css).unwrap();
    b.send_keys(&e, text).unwrap();
}

fn click(b: &Browser, css: &str) {
    let e = b.find(css).unwrap();
    b.click(&e).unwrap();
}

const SUBMIT: &str = "form.template-form button[type=submit]";

fn task_status(b: &Browser) -> String {
    b.execute(
        "const s = document.querySelector('.task-status'); return s ? s.dataset.status : '';",
        vec![],
    )
    .ok()
    .and_then(|v| v.as_str().map(str::to_owned))
    .unwrap_or_default()
}

fn wait_status(b: &Browser, status: &str, timeout: Duration) {
    b.wait_until(&format!("the task to be {status}"), timeout, |b| {
        Ok((task_status(b) == status).then_some(()))
    })
    .unwrap();
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn a_template_is_chosen_filled_in_reviewed_and_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();

    // Without JavaScript: the list links to the form, and the form is there
    // (every page; the later ones hidden).
    let list = portal.get("/create").send().unwrap().text().unwrap();
    assert!(
        list.contains("href=\"/create/templates/default/test-service\""),
        "{list}"
    );
    assert!(!list.contains("Coming soon"));
    let form = portal
        .get("/create/templates/default/test-service")
        .send()
        .unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().unwrap();
    for part in [
        "id=\"field-0-name\"",
        "id=\"field-0-owner\"",
        "id=\"field-1-withDocs\"",
        "Extras",
    ] {
        assert!(html.contains(part), "no `{part}` in the form:\n{html}");
    }
    assert!(
        html.contains("value=\"2\""),
        "the default of replicas is not filled in"
    );
    let missing = portal
        .get("/create/templates/default/no-such")
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);

    let b = browser();
    b.goto(&format!("{}/create", portal.url)).unwrap();
    let card = b
        .find("article.template-card[data-template='template:default/test-service']")
        .unwrap();
    let card_text = b.text(&card).unwrap();
    assert!(card_text.contains("Test service"), "{card_text}");
    assert!(card_text.contains("A service skeleton"), "{card_text}");
    wait_hydrated(&b);
    shot(&b, "create");
    b.execute("window.__portalMarker = 11; return null;", vec![])
        .unwrap();
    click(
        &b,
        "a.button.primary[href='/create/templates/default/test-service']",
    );
    b.wait_until("the template's form", WAIT, |b| {
        Ok(b.current_url()?
            .ends_with("/create/templates/default/test-service")
            .then_some(()))
    })
    .unwrap();
    wait_visible(&b, "#field-0-name");
    assert_eq!(b.title().unwrap(), "Test service · Acme Portal");

    // An invalid name shows the pattern's message beside the field, and Next
    // stays on the page; a missing owner is marked too.
    type_into(&b, "#field-0-name", "Bad Name");
    click(&b, SUBMIT);
    let error = b.find("#field-0-name-error").unwrap();
    let message = b.text(&error).unwrap();
    assert!(
        message.contains("match the pattern ^[a-z0-9-]+$"),
        "{message}"
    );
    let owner_error = b.find("#field-0-owner-error").unwrap();
    assert!(b.text(&owner_error).unwrap().contains("required"));
    assert!(visible(&b, "#field-0-name"));
    assert!(
        !visible(&b, "#field-1-withDocs"),
        "Next left an invalid page"
    );
    type_into(&b, "#field-0-owner", "team-a");
    shot(&b, "create-form-invalid");

    clear(&b, "#field-0-name");
    type_into(&b, "#field-0-name", "payments");
    click(&b, SUBMIT);
    wait_visible(&b, "#field-1-withDocs");
    assert!(!visible(&b, "#field-0-name"));
    // Back keeps what was typed.
    click(&b, "form.template-form .form-actions button[type=button]");
    wait_visible(&b, "#field-0-name");
    let typed = b
        .execute(
            "return document.getElementById('field-0-name').value;",
            vec![],
        )
        .unwrap();
    assert_eq!(typed, Value::from("payments"));
    click(&b, SUBMIT);
    wait_visible(&b, "#field-1-withDocs");
    click(&b, "#field-1-withDocs");
    type_into(&b, "#field-1-features", "grpc, metrics");
    shot(&b, "create-form");

    // Review: every value, then Create.
    click(&b, SUBMIT);
    wait_visible(&b, "#form-page-review");
    let review = b.find("form.template-form").unwrap();
    let review_text = b.text(&review).unwrap();
    for expected in ["payments", "team-a", "grpc, metrics", "Yes", "2"] {
        assert!(
            review_text.contains(expected),
            "no `{expected}` in the review:\n{review_text}"
        );
    }
    shot(&b, "create-review");
    click(&b, SUBMIT);
    let task_url = b
        .wait_until("the task page", WAIT, |b| {
            let url = b.current_url()?;
            Ok(url.contains("/create/tasks/").then_some(url))
        })
        .unwrap();
    let id = task_url.rsplit('/').next().unwrap().to_owned();
    wait_status(&b, "completed", Duration::from_secs(120));
    b.wait_until("the log and the output", WAIT, |b| {
        let text = b.body_text()?;
        Ok((text.contains("Beginning step Fetch skeleton")
            && text.contains("Run completed with status: completed")
            && text.contains("Repository"))
        .then_some(text))
    })
    .unwrap();
    let steps = b.text(&b.find("ol.task-steps").unwrap()).unwrap();
    assert!(steps.contains("Fetch skeleton"), "{steps}");
    assert!(steps.contains("completed"), "{steps}");
    let repo = b
        .execute(
            "const a = Array.from(document.querySelectorAll('section.task-output a')) \
             .find(a => a.textContent.includes('Repository')); \
             return a ? [a.getAttribute('href'), a.getAttribute('target')] : null;",
            vec![],
        )
        .unwrap();
    assert_eq!(
        repo,
        serde_json::json!(["https://git.example.com/payments", "_blank"])
    );
    // withDocs was ticked: the docs step ran and its link is there.
    let body = b.body_text().unwrap();
    assert!(!body.contains("Skipping step Fetch docs"), "{body}");
    let output = b.text(&b.find("section.task-output").unwrap()).unwrap();
    assert!(output.contains("Docs"), "{output}");
    assert_eq!(
        b.execute("return window.__portalMarker;", vec![]).unwrap(),
        Value::from(11),
        "the Create flow reloaded the page"
    );
    shot(&b, "create-task");
    let streamed = b
        .execute(
            "return document.querySelector('ol.task-log').dataset.streamed;",
            vec![],
        )
        .unwrap();
    eprintln!("lines appended live: {streamed}");

    // The task holds the values as the form sent them.
    let task = portal
        .get_json(&format!("/api/scaffolder/v2/tasks/{id}"))
        .unwrap();
    assert_eq!(task["status"], "completed");
    let parameters = &task["spec"]["parameters"];
    assert_eq!(parameters["name"], "payments");
    assert_eq!(parameters["owner"], "team-a");
    assert_eq!(parameters["replicas"], 2);
    assert_eq!(parameters["withDocs"], true);
    assert_eq!(
        parameters["features"],
        serde_json::json!(["grpc", "metrics"])
    );

    // The task page without JavaScript: the whole log and the output.
    let page = portal
        .get(&format!("/create/tasks/{id}"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(page.contains("Beginning step Fetch skeleton"), "{page}");
    assert!(page.contains("href=\"https://git.example.com/payments\""));
    assert_eq!(
        portal
            .get("/create/tasks/no-such-task")
            .send()
            .unwrap()
            .status(),
        404
    );
}

#[test]
fn every_kind_of_field_and_a_failed_task_retried_in_place() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    let b = browser();
    b.goto(&format!(
        "{}/create/templates/default/form-widgets",
        portal.url
    ))
    .unwrap();
    wait_hydrated(&b);
    b.execute("window.__portalMarker = 12; return null;", vec![])
        .unwrap();

    // Pickers: components from the catalog (a select: no other values),
    // owners as suggestions (groups and users), the repository in three parts.
    let components = b
        .execute(
            "return Array.from(document.querySelectorAll('#field-0-component option')).map(o => o.value);",
            vec![],
        )
        .unwrap();
    let components: Vec<&str> = components
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        components.contains(&"component:default/payments-service"),
        "{components:?}"
    );
    assert!(
        !components.iter().any(|c| c.starts_with("group:")),
        "{components:?}"
    );
    let owners = b
        .execute(
            "return Array.from(document.querySelectorAll('#field-0-owner-options option')).map(o => o.value);",
            vec![],
        )
        .unwrap();
    let owners: Vec<&str> = owners
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        owners.contains(&"group:default/team-payments"),
        "{owners:?}"
    );
    assert!(
        owners
            .iter()
            .all(|o| o.starts_with("group:") || o.starts_with("user:")),
        "{owners:?}"
    );
    let hosts = b
        .execute(
            "return Array.from(document.querySelectorAll('#field-0-repoUrl-host option')).map(o => o.value);",
            vec![],
        )
        .unwrap();
    assert_eq!(hosts, serde_json::json!(["github.com", "gitlab.com"]));

    // Nothing filled in: the required pickers say so.
    click(&b, SUBMIT);
    b.find("#field-0-component-error").unwrap();
    b.find("#field-0-repoUrl-owner-error").unwrap();
    click(
        &b,
        "#field-0-component option[value='component:default/payments-service']",
    );
    type_into(&b, "#field-0-owner", "group:default/team-payments");
    type_into(&b, "#field-0-entityName", "-bad");
    type_into(&b, "#field-0-tags", "web, Not A Tag");
    type_into(&b, "#field-0-repoUrl-owner", "acme");
    click(&b, SUBMIT);
    let name_error = b
        .text(&b.find("#field-0-entityName-error").unwrap())
        .unwrap();
    assert!(name_error.contains("pattern"), "{name_error}");
    let tags_error = b.text(&b.find("#field-0-tags-error").unwrap()).unwrap();
    assert!(tags_error.contains("Not A Tag"), "{tags_error}");
    let repo_error = b
        .text(&b.find("#field-0-repoUrl-owner-error").unwrap())
        .unwrap();
    assert!(repo_error.contains("repository"), "{repo_error}");
    shot(&b, "create-pickers");
    clear(&b, "#field-0-entityName");
    type_into(&b, "#field-0-entityName", "payments-web");
    clear(&b, "#field-0-tags");
    type_into(&b, "#field-0-tags", "web, rust");
    type_into(&b, "#field-0-repoUrl-repo", "payments-web");
    click(&b, SUBMIT);

    // Page 2: a select with labels and a default, radio buttons, a
    // textarea, a password (at least 4 characters), a bounded integer,
    // checkboxes and the failure switch.
    wait_visible(&b, "#field-1-size");
    let size = b
        .execute(
            "return document.getElementById('field-1-size').selectedOptions[0].textContent;",
            vec![],
        )
        .unwrap();
    assert_eq!(size, Value::from("Medium"));
    // A conditional part of the schema: the gold tier asks for an SLA, silver
    // does not (and the hidden field is neither checked nor sent).
    assert!(!visible(&b, "#field-1-sla"));
    click(&b, "label[for='field-1-tier-0']");
    wait_visible(&b, "#field-1-sla");
    click(&b, "label[for='field-1-tier-1']");
    b.wait_until("the SLA field to hide", WAIT, |b| {
        Ok((!visible(b, "#field-1-sla")).then_some(()))
    })
    .unwrap();
    type_into(&b, "#field-1-notes", "Line one");
    type_into(&b, "#field-1-token", "abc");
    clear(&b, "#field-1-count");
    type_into(&b, "#field-1-count", "9");
    click(&b, SUBMIT);
    assert!(
        b.text(&b.find("#field-1-token-error").unwrap())
            .unwrap()
            .contains("at least 4")
    );
    assert!(
        b.text(&b.find("#field-1-count-error").unwrap())
            .unwrap()
            .contains("at most 5")
    );
    type_into(&b, "#field-1-token", "-secret");
    clear(&b, "#field-1-count");
    type_into(&b, "#field-1-count", "3");
    click(&b, "label[for='field-1-languages-0']");
    click(&b, "#field-1-fail");
    shot(&b, "create-details");
    click(&b, SUBMIT);

    // The review masks the password and shows labels, not raw values.
    wait_visible(&b, "#form-page-review");
    let review = b.text(&b.find("form.template-form").unwrap()).unwrap();
    for expected in [
        "payments-service",
        "github.com?owner=acme&repo=payments-web",
        "web, rust",
        "Medium",
        "silver",
        "rust",
        "••••••",
    ] {
        assert!(
            review.contains(expected),
            "no `{expected}` in the review:\n{review}"
        );
    }
    assert!(
        !review.contains("abc-secret"),
        "the password shows: {review}"
    );
    click(&b, SUBMIT);

    // The task fails at the step that was asked to fail; Retry runs it again
    // and the page shows the new run without a reload (following its event
    // stream when the run is still going once the page asks for it).
    b.wait_until("the task page", WAIT, |b| {
        Ok(b.current_url()?.contains("/create/tasks/").then_some(()))
    })
    .unwrap();
    wait_status(&b, "failed", Duration::from_secs(120));
    let alert = b.text(&b.find("div.alert.tone-danger").unwrap()).unwrap();
    assert!(alert.contains("The task failed"), "{alert}");
    let steps = b.text(&b.find("ol.task-steps").unwrap()).unwrap();
    assert!(
        steps.contains("Maybe fail") && steps.contains("failed"),
        "{steps}"
    );
    let log = b.text(&b.find("ol.task-log").unwrap()).unwrap();
    assert!(
        log.contains("size m for component:default/payments-service"),
        "{log}"
    );
    assert_eq!(count(&log, "Beginning step Maybe fail"), 1, "{log}");
    assert!(
        b.find_all("section.task-output").unwrap().is_empty(),
        "a failed task has no output"
    );
    shot(&b, "create-task-failed");
    click(&b, ".task-actions button.primary");
    b.wait_until(
        "the retried run in the log",
        Duration::from_secs(120),
        |b| {
            let log = b.text(&b.find("ol.task-log")?)?;
            Ok((count(&log, "Beginning step Maybe fail") == 2
                && count(&log, "Run completed with status: failed") == 2
                && task_status(b) == "failed")
                .then_some(()))
        },
    )
    .unwrap();
    assert_eq!(
        b.execute("return window.__portalMarker;", vec![]).unwrap(),
        Value::from(12),
        "the task page reloaded"
    );
    // How many of those lines the page appended live from the event stream
    // (the run may also have ended before the page asked for it).
    let streamed = b
        .execute(
            "return document.querySelector('ol.task-log').dataset.streamed;",
            vec![],
        )
        .unwrap();
    eprintln!("lines appended live after Retry: {streamed}");
}

/// The whole journey with the example template: fill in its form,
/// watch the live log, follow the output link to the new entity, and find the
/// commit in the git repository the task created.
#[test]
fn the_example_template_publishes_a_repository_and_registers_what_it_made() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let repos = tempfile::tempdir().unwrap();
    let config = format!(
        "app:\n  title: Acme Portal\nplugins:\n  cache_dir: {cache}\n  grants:\n    builtin-actions:\n      git_remotes: [{repos}]\n      register_locations: [{repos}]\ncatalog:\n  locations:\n    - type: file\n      target: {all}\n",
        cache = shared_cache_dir().display(),
        repos = repos.path().display(),
        all = workspace_root().join("examples/catalog/all.yaml").display(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("builtin-actions.wasm"),
        "builtin-actions.wasm",
    );
    wait_loaded(&portal, "builtin-actions.wasm");
    wait_for(Duration::from_secs(60), || {
        let actions = portal.get_json("/api/scaffolder/v2/actions").ok()?;
        let ready = actions.to_string().contains("publish:git")
            && portal
                .get("/api/catalog/entities/by-name/template/default/rust-service")
                .send()
                .is_ok_and(|r| r.status() == 200);
        ready.then_some(())
    })
    .unwrap_or_else(|| panic!("not ready; log:\n{}", portal.log()));

    // The actions page shows what each action's plugin may reach.
    let b = browser();
    b.goto(&format!("{}/create/actions", portal.url)).unwrap();
    let card = b
        .find("article.action-card[data-action='publish:git']")
        .unwrap();
    let card_text = b.text(&card).unwrap();
    assert!(
        card_text.contains(&format!("Push with git to {}", repos.path().display())),
        "{card_text}"
    );
    assert!(card_text.contains("remoteUrl"), "{card_text}");
    assert!(!card_text.contains("refused until"), "{card_text}");
    shot(&b, "create-actions");

    b.goto(&format!(
        "{}/create/templates/default/rust-service",
        portal.url
    ))
    .unwrap();
    wait_hydrated(&b);
    wait_visible(&b, "#field-0-name");
    type_into(&b, "#field-0-name", "inventory");
    type_into(&b, "#field-0-owner", "group:default/team-platform");
    click(&b, SUBMIT);
    wait_visible(&b, "#field-1-port");
    click(&b, SUBMIT);
    wait_visible(&b, "#form-page-review");
    click(&b, SUBMIT);
    b.wait_until("the task page", WAIT, |b| {
        let url = b.current_url()?;
        Ok(url.contains("/create/tasks/").then_some(url))
    })
    .unwrap();
    wait_status(&b, "completed", Duration::from_secs(120));
    let log = b
        .wait_until("the publishing lines in the log", WAIT, |b| {
            let text = b.body_text()?;
            Ok((text.contains("pushed the workspace to branch `main`")
                && text.contains("Run completed with status: completed"))
            .then_some(text))
        })
        .unwrap();
    assert!(log.contains("registered"), "{log}");
    shot(&b, "create-published");

    // The output link leads to the new entity's page.
    let links = b
        .execute(
            "return Array.from(document.querySelectorAll('section.task-output a')).map(a => [a.textContent.trim(), a.getAttribute('href')]);",
            vec![],
        )
        .unwrap();
    assert!(
        links.as_array().unwrap().contains(&serde_json::json!([
            "Open in catalog",
            "/catalog/default/component/inventory"
        ])),
        "{links}"
    );
    click(
        &b,
        "section.task-output a[href='/catalog/default/component/inventory']",
    );
    b.wait_until("the new entity's page", WAIT, |b| {
        Ok(b.current_url()?
            .ends_with("/catalog/default/component/inventory")
            .then_some(()))
    })
    .unwrap();
    b.wait_until("the entity's heading", WAIT, |b| {
        Ok(b.body_text()?.contains("inventory").then_some(()))
    })
    .unwrap();
    let entity = portal
        .get_json("/api/catalog/entities/by-name/component/default/inventory")
        .unwrap();
    assert_eq!(entity["spec"]["owner"], "group:default/team-platform");

    // The commit is in the repository, with the skeleton's files.
    let repo = repos.path().join("inventory");
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(
        git(&["log", "--format=%s"]).trim(),
        "Create inventory from the rust-service template"
    );
    let files = git(&["ls-files"]);
    for file in [
        "Cargo.toml",
        "Dockerfile",
        "catalog-info.yaml",
        "src/main.rs",
    ] {
        assert!(
            files.lines().any(|l| l == file),
            "{file} not committed: {files}"
        );
    }
}

/// Sets a text control's value the way typing would.
fn set_text(b: &Browser, css: &str, text: &str) {
    b.execute(
        "const e = document.querySelector(arguments[0]); e.value = arguments[1]; \
         e.dispatchEvent(new Event('input', { bubbles: true })); return null;",
        vec![Value::from(css), Value::from(text)],
    )
    .unwrap();
}

/// The template editor: a pasted template's problems at their places, its
/// form, and a dry run with a registered template's files, nothing kept.
#[test]
fn the_template_editor_shows_problems_the_form_and_a_dry_run() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    // Without grants, the actions page says what publishing needs.
    let actions = portal
        .get("/create/actions")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        actions.contains("plugins.grants.builtin-actions.git_remotes"),
        "{actions}"
    );
    let page = portal.get("/create/edit").send().unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("id=\"template-text\""));

    let b = browser();
    b.goto(&format!("{}/create/edit", portal.url)).unwrap();
    wait_hydrated(&b);
    const CHECK: &str = "form.editor-form button[type=submit]";

    // Problems, each at its place: YAML that does not parse, an unknown action.
    set_text(
        &b,
        "#template-text",
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: x\n",
    );
    click(&b, CHECK);
    let problems = b
        .wait_until("the problems", WAIT, |b| {
            Ok(b.find(".editor-problems")
                .ok()
                .map(|e| b.text(&e).unwrap_or_default()))
        })
        .unwrap();
    assert!(problems.contains("line 1"), "{problems}");
    let unknown = std::fs::read_to_string(fixture("templates/service/template.yaml"))
        .unwrap()
        .replace("action: fs:readdir", "action: acme:no-such-action");
    set_text(&b, "#template-text", &unknown);
    click(&b, CHECK);
    b.wait_until("the unknown action named", WAIT, |b| {
        Ok(b.body_text()?.contains("acme:no-such-action").then_some(()))
    })
    .unwrap();

    // The fixture template with its own files: the form, then a dry run.
    let template = std::fs::read_to_string(fixture("templates/service/template.yaml")).unwrap();
    set_text(&b, "#template-text", &template);
    click(
        &b,
        "#files-from option[value='template:default/test-service']",
    );
    click(&b, CHECK);
    wait_visible(&b, "#field-0-name");
    type_into(&b, "#field-0-name", "payments");
    type_into(&b, "#field-0-owner", "team-a");
    click(&b, SUBMIT);
    wait_visible(&b, "#field-1-withDocs");
    type_into(&b, "#field-1-features", "grpc, metrics");
    click(&b, SUBMIT);
    wait_visible(&b, "#form-page-review");
    click(&b, SUBMIT);
    let status = b
        .wait_until("the dry run", Duration::from_secs(60), |b| {
            Ok(b.execute(
                "const r = document.querySelector('.dry-run-result'); return r ? r.dataset.status : null;",
                vec![],
            )?
            .as_str()
            .map(str::to_owned))
        })
        .unwrap_or_else(|e| panic!("{e}: {}", b.body_text().unwrap_or_default()));
    assert_eq!(status, "completed", "{}", b.body_text().unwrap_or_default());
    let result = b.text(&b.find(".dry-run-result").unwrap()).unwrap();
    for expected in [
        "Fetch skeleton",
        "service/payments/README.md",
        "service/logo.png",
        "Run completed with status: completed",
    ] {
        assert!(result.contains(expected), "no `{expected}` in:\n{result}");
    }
    // Each step's input as rendered.
    let input = b
        .execute(
            "return document.querySelector(\"li[data-step='fetch'] details pre\").textContent;",
            vec![],
        )
        .unwrap();
    assert!(
        input.as_str().unwrap().contains("\"name\": \"payments\""),
        "{input}"
    );
    shot(&b, "create-editor");
    // Nothing kept.
    assert_eq!(
        portal.get_json("/api/scaffolder/v2/tasks").unwrap()["totalTasks"],
        0
    );
}
