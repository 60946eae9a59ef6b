//! The engine with actions implemented in Rust in this test (the real action
//! plugins are exercised end to end in `tests/scaffolder`).

use super::*;
use crate::task::StepStatus;
use base64::Engine as _;
use serde_json::json;
use std::time::Duration;

/// `test:echo` returns its input; `test:fail` fails with `why`; `test:wait`
/// never ends (unless `impatient`: then it returns at once); `test:log` logs
/// `message` and returns it.
#[derive(Default)]
struct TestActions {
    calls: Mutex<Vec<(String, Value)>>,
    impatient: bool,
    /// `test:log` lacks a grant it needs.
    log_ungranted: bool,
}

impl ActionRunner for TestActions {
    fn actions(&self) -> Vec<ActionInfo> {
        ["test:echo", "test:fail", "test:wait", "test:log"]
            .into_iter()
            .map(|id| ActionInfo {
                id: id.into(),
                description: String::new(),
                input_schema: Value::Null,
                output_schema: Value::Null,
                plugin: "test".into(),
                missing_grants: if id == "test:log" && self.log_ungranted {
                    vec!["plugins.grants.test.git_remotes".to_owned()]
                } else {
                    Vec::new()
                },
            })
            .collect()
    }

    fn run(&self, call: ActionCall, log: LogLine) -> ActionFuture {
        self.calls
            .lock()
            .unwrap()
            .push((call.action.clone(), call.input.clone()));
        let impatient = self.impatient;
        Box::pin(async move {
            match call.action.as_str() {
                "test:wait" if impatient => Ok(json!({ "waited": true })),
                "test:echo" => Ok(json!({ "input": call.input })),
                "test:fail" => Err(format!("it failed: {}", call.input["why"])),
                "test:wait" => std::future::pending().await,
                "test:log" => {
                    let message = call.input["message"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned();
                    log(&message);
                    Ok(json!({ "logged": message }))
                }
                other => Err(format!("no action {other}")),
            }
        })
    }
}

fn template(steps: Value, output: Value) -> Value {
    json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": { "name": "t" },
        "spec": { "steps": steps, "output": output },
    })
}

fn new_task(entity: Value, values: Value, secrets: Value) -> NewTask {
    NewTask {
        entity,
        entity_ref: "template:default/t".into(),
        template_dir: None,
        values: values.as_object().cloned().unwrap_or_default(),
        secrets: secrets.as_object().cloned().unwrap_or_default(),
        user: None,
        created_by: None,
    }
}

async fn finished(scaffolder: &Scaffolder, id: &str) -> Task {
    for _ in 0..500 {
        let task = scaffolder.task(id).unwrap().unwrap();
        if task.status.is_final() {
            return task;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("task {id} did not finish");
}

fn open(dir: &Path) -> (Scaffolder, Arc<TestActions>) {
    let actions = Arc::new(TestActions::default());
    let scaffolder = Scaffolder::open(dir, actions.clone(), 4).unwrap();
    (scaffolder, actions)
}

#[tokio::test]
async fn inputs_keep_their_types_and_steps_see_earlier_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (scaffolder, actions) = open(dir.path());
    let entity = template(
        json!([
            { "id": "a", "action": "test:echo", "input": {
                "n": "${{ parameters.n }}", "b": "${{ parameters.b }}", "l": "${{ parameters.l }}",
                "text": "n=${{ parameters.n }} l=${{ parameters.l }}", "missing": "${{ parameters.nope }}",
                "task": "${{ context.task.id }}"
            } },
            { "id": "skip", "if": "${{ not parameters.b }}", "action": "test:fail" },
            { "id": "each", "each": "${{ parameters.l }}", "action": "test:echo",
              "input": { "item": "${{ each.value }}", "at": "${{ each.key }}" } },
            { "id": "after", "action": "test:echo", "input": { "from": "${{ steps.a.output.input.n + 1 }}", "count": "${{ steps.each.output | length }}" } },
        ]),
        json!({ "links": [{ "title": "x", "url": "https://x/${{ parameters.n }}" }, { "title": "no", "if": "${{ false }}", "url": "u" }],
                "text": [{ "title": "t", "content": "${{ steps.after.output.input.count }} items" }],
                "n": "${{ parameters.n }}" }),
    );
    let id = scaffolder
        .create(new_task(
            entity,
            json!({ "n": 41, "b": true, "l": ["x", "y"] }),
            json!({}),
        ))
        .unwrap();
    let task = finished(&scaffolder, &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{task:#?}");
    let calls = actions.calls.lock().unwrap().clone();
    let first = &calls[0].1;
    assert_eq!(first["n"], json!(41));
    assert_eq!(first["b"], json!(true));
    assert_eq!(first["l"], json!(["x", "y"]));
    assert_eq!(
        first["text"],
        json!("n=41 l=x,y"),
        "arrays print as Nunjucks prints them"
    );
    assert!(
        first.get("missing").is_none(),
        "a missing lone value drops its key"
    );
    assert_eq!(first["task"], json!(id));
    assert!(
        calls.iter().all(|(a, _)| a != "test:fail"),
        "the `if` skipped it"
    );
    assert_eq!(calls[1].1, json!({ "item": "x", "at": 0 }));
    assert_eq!(calls[2].1, json!({ "item": "y", "at": 1 }));
    assert_eq!(calls[3].1, json!({ "from": 42, "count": 2 }));
    let statuses: Vec<StepStatus> = task.state.steps.iter().map(|s| s.status).collect();
    assert_eq!(
        statuses,
        [
            StepStatus::Completed,
            StepStatus::Skipped,
            StepStatus::Completed,
            StepStatus::Completed
        ]
    );
    assert_eq!(
        task.output.unwrap(),
        json!({ "n": 41, "links": [{ "title": "x", "url": "https://x/41" }], "text": [{ "title": "t", "content": "2 items" }] })
    );
    let events = scaffolder.events_after(&id, 0).unwrap();
    assert_eq!(events.last().unwrap().kind, EventKind::Completion);
    assert!(events.iter().enumerate().all(|(i, e)| e.id == i as u64 + 1));
}

#[tokio::test]
async fn secrets_are_masked_in_logs_outputs_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (scaffolder, _) = open(dir.path());
    let secret = "p4ss/w0rd+";
    let entity = template(
        json!([
            { "id": "log", "action": "test:log", "input": { "message": "token=${{ secrets.token }} b64=${{ secrets.token | b64 }}" } },
            { "id": "fail", "action": "test:fail", "input": { "why": "${{ secrets.token }}" } },
        ]),
        Value::Null,
    );
    // `b64` is not a filter: use base64 by hand as an action might.
    let entity = {
        let mut e = entity;
        e["spec"]["steps"][0]["input"]["message"] = json!(format!(
            "token=${{{{ secrets.token }}}} b64={}",
            base64::engine::general_purpose::STANDARD.encode(secret)
        ));
        e
    };
    let id = scaffolder
        .create(new_task(entity, json!({}), json!({ "token": secret })))
        .unwrap();
    let task = finished(&scaffolder, &id).await;
    assert_eq!(task.status, TaskStatus::Failed);
    // Everything the task shows (its spec is the template as written).
    let everything = format!(
        "{}{}{}",
        serde_json::to_string(&task.state).unwrap(),
        serde_json::to_string(&task.output).unwrap(),
        serde_json::to_string(&scaffolder.events_after(&id, 0).unwrap()).unwrap()
    );
    assert!(!everything.contains("p4ss"), "{everything}");
    assert!(!everything.contains(&base64::engine::general_purpose::STANDARD.encode(secret)));
    assert!(everything.contains("token=*** b64=***"), "{everything}");
    assert!(task.state.error.unwrap().contains("it failed: \"***\""));
}

#[tokio::test]
async fn a_failed_step_stops_the_task_and_a_cancel_stops_a_running_one() {
    let dir = tempfile::tempdir().unwrap();
    let (scaffolder, actions) = open(dir.path());
    let failing = template(
        json!([{ "id": "f", "action": "test:fail", "input": { "why": "no" } }, { "action": "test:echo" }]),
        Value::Null,
    );
    let id = scaffolder
        .create(new_task(failing, json!({}), json!({})))
        .unwrap();
    let task = finished(&scaffolder, &id).await;
    assert_eq!(task.status, TaskStatus::Failed);
    assert_eq!(
        task.state.steps.len(),
        1,
        "the step after the failure did not run"
    );
    let last = scaffolder.events_after(&id, 0).unwrap().pop().unwrap();
    assert_eq!(last.body.status, Some(json!("failed")));
    assert!(
        last.body.error.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("it failed")
    );

    let waiting = template(
        json!([{ "action": "test:wait" }, { "action": "test:echo" }]),
        Value::Null,
    );
    let id = scaffolder
        .create(new_task(waiting, json!({}), json!({})))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A running task cannot be started a second time.
    match scaffolder.retry(&id, Map::new()) {
        Err(CreateError::NotFinished { status, .. }) => assert_eq!(status, "processing"),
        other => panic!("{:?}", other.map(|_| ())),
    }
    scaffolder.cancel(&id).unwrap();
    let task = finished(&scaffolder, &id).await;
    assert_eq!(task.status, TaskStatus::Cancelled);
    assert_eq!(task.state.steps[0].status, StepStatus::Cancelled);
    assert!(
        !actions
            .calls
            .lock()
            .unwrap()
            .iter()
            .skip(1)
            .any(|(a, _)| a == "test:echo")
    );

    // Retried, it runs again from the first step; its events keep counting.
    let before = scaffolder.events_after(&id, 0).unwrap().len() as u64;
    scaffolder.retry(&id, Map::new()).unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    scaffolder.cancel(&id).unwrap();
    finished(&scaffolder, &id).await;
    let events = scaffolder.events_after(&id, before).unwrap();
    assert!(events.first().unwrap().id == before + 1);
}

/// Runs `entity` in a portal of its own, on its own runtime, and stops that
/// portal mid-task (its runtime dropped, as the process ending would): the
/// task is left `processing` at its `test:wait` step.
fn crash_during(dir: &Path, entity: Value, secrets: Value) -> String {
    let path = dir.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (scaffolder, _) = open(&path);
            let id = scaffolder
                .create(new_task(entity, json!({ "x": 7 }), secrets))
                .unwrap();
            tokio::time::sleep(Duration::from_millis(100)).await;
            scaffolder.flush().unwrap();
            id
        })
    })
    .join()
    .unwrap()
}

#[tokio::test]
async fn an_interrupted_task_resumes_after_its_last_completed_step() {
    let dir = tempfile::tempdir().unwrap();
    let entity = template(
        json!([
            { "id": "first", "action": "test:echo", "input": { "x": "${{ parameters.x }}" } },
            { "id": "slow", "action": "test:wait" },
            { "id": "after", "action": "test:echo", "input": { "seen": "${{ steps.first.output.input.x }}" } },
        ]),
        Value::Null,
    );
    let id = crash_during(dir.path(), entity, json!({}));
    let actions = Arc::new(TestActions {
        impatient: true,
        ..TestActions::default()
    });
    let scaffolder = Scaffolder::open(dir.path(), actions.clone(), 4).unwrap();
    let task = finished(&scaffolder, &id).await;
    assert_eq!(task.status, TaskStatus::Completed, "{task:#?}");
    // The first step ran once, before the restart; the cut one again, then the rest.
    let calls: Vec<String> = actions
        .calls
        .lock()
        .unwrap()
        .iter()
        .map(|c| c.0.clone())
        .collect();
    assert_eq!(calls, ["test:wait", "test:echo"]);
    let after = &task.state.steps[2];
    assert_eq!(after.output.as_ref().unwrap()["input"]["seen"], json!(7));
    let events = scaffolder.events_after(&id, 0).unwrap();
    let recovered = events
        .iter()
        .find(|e| e.kind == EventKind::Recovered)
        .unwrap();
    assert!(
        recovered
            .body
            .message
            .contains("resuming after step `first`"),
        "{recovered:?}"
    );
}

#[tokio::test]
async fn an_interrupted_task_that_cannot_resume_is_marked_failed_saying_why() {
    let dir = tempfile::tempdir().unwrap();
    let waiting = template(
        json!([{ "id": "slow", "action": "test:wait" }]),
        Value::Null,
    );
    // Its secrets were never stored: it cannot go on without them.
    let id = crash_during(dir.path(), waiting, json!({ "token": "s3cret" }));
    let (scaffolder, _) = open(dir.path());
    let task = scaffolder.task(&id).unwrap().unwrap();
    assert_eq!(task.status, TaskStatus::Failed);
    let error = task.state.error.unwrap();
    assert!(
        error.contains("the portal stopped")
            && error.contains("`slow`")
            && error.contains("given secrets (token)"),
        "{error}"
    );
    assert!(!error.contains("s3cret"));
    let last = scaffolder.events_after(&id, 0).unwrap().pop().unwrap();
    assert_eq!(last.kind, EventKind::Completion);
}

#[tokio::test]
async fn an_action_lacking_a_grant_refuses_the_task_before_it_starts_but_not_a_dry_run() {
    let dir = tempfile::tempdir().unwrap();
    let actions = Arc::new(TestActions {
        log_ungranted: true,
        ..TestActions::default()
    });
    let scaffolder = Scaffolder::open(dir.path(), actions.clone(), 4).unwrap();
    let entity = template(
        json!([
            { "id": "a", "action": "test:echo" },
            { "id": "b", "action": "test:log", "input": { "message": "hi" } },
        ]),
        Value::Null,
    );
    let e = scaffolder
        .create(new_task(entity.clone(), json!({}), json!({})))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("test:log (plugin test) needs plugins.grants.test.git_remotes"),
        "{e}"
    );
    assert!(actions.calls.lock().unwrap().is_empty(), "no step ran");
    assert!(scaffolder.tasks().unwrap().is_empty(), "no task was stored");
    let result = scaffolder
        .dry_run(DryRun {
            entity,
            values: Map::new(),
            secrets: Map::new(),
            user: None,
            files: Vec::new(),
        })
        .await
        .unwrap();
    assert_eq!(result.status, TaskStatus::Completed);
}

#[tokio::test]
async fn unknown_actions_and_broken_expressions_are_refused_before_a_task_exists() {
    let dir = tempfile::tempdir().unwrap();
    let (scaffolder, _) = open(dir.path());
    let unknown = template(
        json!([{ "action": "acme:nope" }, { "action": "test:echo" }]),
        Value::Null,
    );
    match scaffolder.create(new_task(unknown, json!({}), json!({}))) {
        Err(CreateError::UnknownActions(names)) => assert_eq!(names, ["acme:nope"]),
        other => panic!("{:?}", other.map(|_| ())),
    }
    let broken = template(
        json!([{ "action": "test:echo", "input": { "x": "${{ parameters.( }}" } }]),
        Value::Null,
    );
    let error = scaffolder
        .create(new_task(broken, json!({}), json!({})))
        .unwrap_err();
    assert!(
        error.to_string().contains("spec.steps[0].input.x"),
        "{error}"
    );
    assert!(scaffolder.tasks().unwrap().is_empty());
}
