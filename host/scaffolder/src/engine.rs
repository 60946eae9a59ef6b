//! The task engine: creates tasks, runs their steps in order on the action
//! plugins (through [`ActionRunner`], which the server implements with the
//! plugin host), and keeps their event log: in the store, and live for anyone
//! watching.
//!
//! A step: its `if` is rendered (skipped when falsy), its `each` (one run per
//! item), its `input` rendered with `parameters`, `secrets`, `user`, `steps`,
//! `each` and `context.task.id`, then its action runs with the task's workspace
//! and the template's files as its only directories. Its output becomes
//! `steps.<id>.output` for the steps after it. Every line shown to anyone goes
//! through the task's [`Redactor`] first.

use crate::redact::Redactor;
use crate::store::{StoreError, TaskStore};
use crate::task::{
    EventBody, EventKind, StepState, StepStatus, Task, TaskEvent, TaskSpec, TaskState, TaskStatus,
    TaskUser, TemplateInfo, now,
};
use crate::template::{Output, Step, Template, TemplateError};
use portal_template_expr::{RenderError, Templater};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, broadcast, watch};

/// An action as the engine sees it (from a plugin's `describe`).
#[derive(Debug, Clone)]
pub struct ActionInfo {
    pub id: String,
    pub description: String,
    pub input_schema: Value,
    pub output_schema: Value,
    /// The plugin that provides it.
    pub plugin: String,
}

/// One step's call of its action.
#[derive(Debug, Clone)]
pub struct ActionCall {
    pub action: String,
    pub input: Value,
    pub task_id: String,
    pub dry_run: bool,
    pub workspace: PathBuf,
    /// The template's directory, when it has files.
    pub template_dir: Option<PathBuf>,
}

/// Where an action's log lines go (one line each; the engine redacts them).
pub type LogLine = Arc<dyn Fn(&str) + Send + Sync>;

pub type ActionFuture = Pin<Box<dyn Future<Output = Result<Value, String>> + Send>>;

/// Runs actions: the plugin host, in the portal.
pub trait ActionRunner: Send + Sync + 'static {
    fn actions(&self) -> Vec<ActionInfo>;
    /// Runs one action; dropping the future stops it.
    fn run(&self, call: ActionCall, log: LogLine) -> ActionFuture;
}

/// Why a task was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("invalid template: {0}")]
    Template(#[from] TemplateError),
    #[error("the template uses actions that are not installed: {}", .0.join(", "))]
    UnknownActions(Vec<String>),
    #[error("the template has expressions that do not parse: {}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))]
    Expressions(Vec<RenderError>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot prepare the task's directories: {0}")]
    Io(String),
}

/// What a user asked to run.
pub struct NewTask {
    /// The template entity (JSON), as the catalog has it.
    pub entity: Value,
    /// `template:<namespace>/<name>`.
    pub entity_ref: String,
    /// The directory holding the template's files (its skeletons), if any.
    pub template_dir: Option<PathBuf>,
    pub values: Map<String, Value>,
    /// Secret values by name (`secrets.X`), kept in memory for the run only.
    pub secrets: Map<String, Value>,
    pub user: Option<TaskUser>,
    pub created_by: Option<String>,
}

/// How many tasks run at once; more wait (`open`).
pub const DEFAULT_CONCURRENT_TASKS: usize = 10;
/// Events returned by one read of a task's log.
const EVENT_PAGE: usize = 10_000;

#[derive(Clone)]
pub struct Scaffolder {
    inner: Arc<Inner>,
}

struct Inner {
    store: TaskStore,
    runner: Arc<dyn ActionRunner>,
    templater: Templater,
    /// `<data>/scaffolder/work`: one directory per running task.
    work_dir: PathBuf,
    live: broadcast::Sender<TaskEvent>,
    running: Mutex<HashMap<String, Arc<Run>>>,
    slots: Arc<Semaphore>,
}

/// A task while it runs: what only memory holds.
struct Run {
    cancel: watch::Sender<bool>,
    last_event: AtomicU64,
    secrets: Map<String, Value>,
    redactor: Redactor,
    template_dir: Option<PathBuf>,
    /// A dry run keeps nothing: its events are collected here instead.
    dry_run_log: Option<Mutex<Vec<TaskEvent>>>,
}

/// A dry run: a template that need not be in the catalog, with its files.
pub struct DryRun {
    pub entity: Value,
    pub values: Map<String, Value>,
    pub secrets: Map<String, Value>,
    pub user: Option<TaskUser>,
    /// The template's files (`directoryContents`): relative path and bytes.
    pub files: Vec<(String, Vec<u8>)>,
}

/// What a dry run did, and the files it left in its workspace.
pub struct DryRunResult {
    pub status: TaskStatus,
    pub error: Option<String>,
    pub log: Vec<TaskEvent>,
    pub output: Value,
    pub steps: Vec<StepState>,
    /// Relative path, executable bit, bytes.
    pub files: Vec<(String, bool, Vec<u8>)>,
}

/// The most a dry run returns of its workspace.
const DRY_RUN_MAX_BYTES: u64 = 64 << 20;

impl Scaffolder {
    /// Opens the task store in `<data_dir>/scaffolder`. Tasks that were running
    /// when the portal stopped are marked failed, with the step they were at.
    pub fn open(
        data_dir: &Path,
        runner: Arc<dyn ActionRunner>,
        concurrent_tasks: usize,
    ) -> Result<Scaffolder, StoreError> {
        let root = data_dir.join("scaffolder");
        let store = TaskStore::open(&root.join("tasks"))?;
        let work_dir = root.join("work");
        // Workspaces of tasks that can no longer run.
        let _ = std::fs::remove_dir_all(&work_dir);
        let (live, _) = broadcast::channel(4096);
        let scaffolder = Scaffolder {
            inner: Arc::new(Inner {
                store,
                runner,
                templater: Templater::default(),
                work_dir,
                live,
                running: Mutex::new(HashMap::new()),
                slots: Arc::new(Semaphore::new(concurrent_tasks.max(1))),
            }),
        };
        scaffolder.fail_interrupted()?;
        Ok(scaffolder)
    }

    pub fn actions(&self) -> Vec<ActionInfo> {
        let mut actions = self.inner.runner.actions();
        actions.sort_by(|a, b| a.id.cmp(&b.id));
        actions
    }

    pub fn templater(&self) -> &Templater {
        &self.inner.templater
    }

    /// Checks a template against the installed actions and the expression
    /// language, without running anything.
    pub fn check(&self, template: &Template) -> Result<(), CreateError> {
        let installed: Vec<String> = self
            .inner
            .runner
            .actions()
            .into_iter()
            .map(|a| a.id)
            .collect();
        let unknown: Vec<String> = template
            .actions()
            .into_iter()
            .filter(|a| !installed.iter().any(|i| i == a))
            .map(str::to_owned)
            .collect();
        if !unknown.is_empty() {
            return Err(CreateError::UnknownActions(unknown));
        }
        let errors = template.check_expressions(&self.inner.templater);
        if !errors.is_empty() {
            return Err(CreateError::Expressions(errors));
        }
        Ok(())
    }

    /// Creates a task and starts it; returns its id.
    pub fn create(&self, new: NewTask) -> Result<String, CreateError> {
        let template = Template::from_entity(&new.entity)?;
        self.check(&template)?;
        let spec = &new.entity["spec"];
        let task = Task {
            id: uuid::Uuid::new_v4().to_string(),
            spec: TaskSpec {
                api_version: crate::template::API_VERSION.to_owned(),
                template_info: TemplateInfo {
                    entity_ref: new.entity_ref,
                    base_url: new
                        .template_dir
                        .as_ref()
                        .map(|d| format!("file://{}/", d.display())),
                    entity: Some(json!({ "metadata": new.entity["metadata"] })),
                },
                parameters: new.values,
                steps: spec["steps"].as_array().cloned().unwrap_or_default(),
                output: spec.get("output").cloned().unwrap_or(Value::Null),
                user: new.user,
            },
            status: TaskStatus::Open,
            created_at: now(),
            last_heartbeat_at: None,
            created_by: new.created_by,
            output: None,
            state: TaskState::default(),
        };
        self.inner.store.put_task(&task)?;
        // A 201 promises the task exists, even if the portal dies next.
        self.inner.store.flush()?;
        let id = task.id.clone();
        self.start(task, new.secrets, new.template_dir, false);
        Ok(id)
    }

    /// Runs a finished task again from its first step, with new secrets (a
    /// task's secrets are not kept after its run).
    pub fn retry(
        &self,
        id: &str,
        secrets: Map<String, Value>,
    ) -> Result<Option<String>, CreateError> {
        let Some(mut task) = self.inner.store.task(id)? else {
            return Ok(None);
        };
        if !task.status.is_final() {
            return Ok(Some(task.id));
        }
        task.status = TaskStatus::Open;
        task.output = None;
        task.state.error = None;
        task.state.steps.clear();
        self.inner.store.put_task(&task)?;
        let template_dir = task
            .spec
            .template_info
            .base_url
            .as_deref()
            .and_then(|u| u.strip_prefix("file://"))
            .map(PathBuf::from);
        let id = task.id.clone();
        self.start(task, secrets, template_dir, false);
        Ok(Some(id))
    }

    /// Asks a running task to stop: its current action is stopped and no
    /// further step runs. Returns the task as it is now.
    pub fn cancel(&self, id: &str) -> Result<Option<Task>, StoreError> {
        if let Some(run) = self.inner.running.lock().unwrap().get(id) {
            let _ = run.cancel.send(true);
        }
        self.inner.store.task(id)
    }

    pub fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        self.inner.store.task(id)
    }

    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        self.inner.store.tasks()
    }

    pub fn events_after(&self, id: &str, after: u64) -> Result<Vec<TaskEvent>, StoreError> {
        self.inner.store.events_after(id, after, EVENT_PAGE)
    }

    /// Live events of every task, from now on. Subscribe before reading the
    /// stored ones, then skip ids already seen, and nothing is missed.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.live.subscribe()
    }

    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.store.flush()
    }

    fn start(
        &self,
        task: Task,
        secrets: Map<String, Value>,
        template_dir: Option<PathBuf>,
        dry_run: bool,
    ) {
        let (cancel, _) = watch::channel(false);
        let run = Arc::new(Run {
            cancel,
            last_event: AtomicU64::new(task.state.last_event_id),
            redactor: redactor_for(&secrets),
            secrets,
            template_dir,
            dry_run_log: None,
        });
        self.inner
            .running
            .lock()
            .unwrap()
            .insert(task.id.clone(), run.clone());
        let this = self.clone();
        tokio::spawn(async move {
            let id = task.id.clone();
            let _slot = this.inner.slots.clone().acquire_owned().await;
            this.run(task, &run, dry_run).await;
            this.inner.running.lock().unwrap().remove(&id);
        });
    }

    /// Runs a template without keeping anything and without side effects
    /// outside its workspace: each action is told it is a dry run, and reports
    /// what it would have done.
    pub async fn dry_run(&self, request: DryRun) -> Result<DryRunResult, CreateError> {
        let template = Template::from_entity(&request.entity)?;
        self.check(&template)?;
        let id = uuid::Uuid::new_v4().to_string();
        let root = self.inner.work_dir.join(&id);
        let outcome = self.dry_run_in(&root, id, template, request).await;
        let _ = std::fs::remove_dir_all(&root);
        outcome
    }

    async fn dry_run_in(
        &self,
        root: &Path,
        id: String,
        template: Template,
        request: DryRun,
    ) -> Result<DryRunResult, CreateError> {
        let template_dir = root.join("template");
        let io = |e: std::io::Error| CreateError::Io(e.to_string());
        std::fs::create_dir_all(&template_dir).map_err(io)?;
        for (path, bytes) in &request.files {
            let relative = crate::files::relative_path(path).map_err(CreateError::Io)?;
            let target = template_dir.join(relative);
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(io)?;
            }
            std::fs::write(&target, bytes).map_err(io)?;
        }
        let spec = &request.entity["spec"];
        let task = Task {
            id: id.clone(),
            spec: TaskSpec {
                api_version: crate::template::API_VERSION.to_owned(),
                template_info: TemplateInfo {
                    entity_ref: format!("template:{}/{}", template.namespace, template.name),
                    base_url: None,
                    entity: None,
                },
                parameters: request.values,
                steps: spec["steps"].as_array().cloned().unwrap_or_default(),
                output: spec.get("output").cloned().unwrap_or(Value::Null),
                user: request.user,
            },
            status: TaskStatus::Open,
            created_at: now(),
            last_heartbeat_at: None,
            created_by: None,
            output: None,
            state: TaskState::default(),
        };
        let run = Arc::new(Run {
            cancel: watch::channel(false).0,
            last_event: AtomicU64::new(0),
            redactor: redactor_for(&request.secrets),
            secrets: request.secrets,
            template_dir: Some(template_dir),
            dry_run_log: Some(Mutex::new(Vec::new())),
        });
        let task = self.run(task, &run, true).await;
        let workspace = root.join("workspace");
        let files =
            crate::files::collect(&workspace, DRY_RUN_MAX_BYTES).map_err(CreateError::Io)?;
        Ok(DryRunResult {
            status: task.status,
            error: task.state.error,
            log: run
                .dry_run_log
                .as_ref()
                .map(|l| std::mem::take(&mut *l.lock().unwrap()))
                .unwrap_or_default(),
            output: task.output.unwrap_or_else(|| json!({})),
            steps: task.state.steps,
            files,
        })
    }

    /// Marks tasks that were open or running when the portal stopped as failed.
    fn fail_interrupted(&self) -> Result<(), StoreError> {
        for mut task in self.inner.store.tasks()? {
            if task.status.is_final() {
                continue;
            }
            let at = task
                .state
                .steps
                .iter()
                .rev()
                .find(|s| s.status == StepStatus::Processing)
                .map(|s| format!(" during step `{}`", s.id))
                .unwrap_or_default();
            let reason = format!(
                "the portal stopped while this task was {}{at}; steps after the last completed one did not run. Retry the task to run it again",
                if task.status == TaskStatus::Open {
                    "waiting to run"
                } else {
                    "running"
                }
            );
            for step in &mut task.state.steps {
                if step.status == StepStatus::Processing {
                    step.status = StepStatus::Failed;
                }
            }
            task.status = TaskStatus::Failed;
            task.state.error = Some(reason.clone());
            let run = Run {
                cancel: watch::channel(false).0,
                last_event: AtomicU64::new(task.state.last_event_id),
                secrets: Map::new(),
                redactor: Redactor::default(),
                template_dir: None,
                dry_run_log: None,
            };
            let event = self.event(
                &task.id,
                &run,
                EventKind::Completion,
                EventBody {
                    message: format!("Run completed with status: failed ({reason})"),
                    status: Some(json!("failed")),
                    error: Some(json!({ "name": "Interrupted", "message": reason })),
                    ..EventBody::default()
                },
            );
            task.state.last_event_id = event;
            self.inner.store.put_task(&task)?;
        }
        Ok(())
    }

    /// Writes an event (redacted), sends it to watchers; returns its id.
    fn event(&self, task_id: &str, run: &Run, kind: EventKind, mut body: EventBody) -> u64 {
        body.message = run.redactor.text(&body.message);
        if let Some(output) = &body.output {
            body.output = Some(run.redactor.value(output));
        }
        if let Some(error) = &body.error {
            body.error = Some(run.redactor.value(error));
        }
        let event = TaskEvent {
            id: run.last_event.fetch_add(1, Ordering::SeqCst) + 1,
            task_id: task_id.to_owned(),
            kind,
            created_at: now(),
            body,
        };
        let id = event.id;
        match &run.dry_run_log {
            Some(log) => log.lock().unwrap().push(event),
            None => {
                if let Err(e) = self.inner.store.append_event(&event) {
                    tracing::error!(task = task_id, "cannot store a task event: {e}");
                }
                let _ = self.inner.live.send(event);
            }
        }
        id
    }

    fn save(&self, task: &mut Task, run: &Run) {
        task.state.last_event_id = run.last_event.load(Ordering::SeqCst);
        task.last_heartbeat_at = Some(now());
        if run.dry_run_log.is_some() {
            return;
        }
        if let Err(e) = self.inner.store.put_task(task) {
            tracing::error!(task = %task.id, "cannot store a task: {e}");
        }
    }

    #[tracing::instrument(skip_all, fields(task = %task.id, template = %task.spec.template_info.entity_ref))]
    async fn run(&self, mut task: Task, run: &Arc<Run>, dry_run: bool) -> Task {
        task.status = TaskStatus::Processing;
        task.state.dry_run = dry_run;
        self.save(&mut task, run);
        let workspace = self.inner.work_dir.join(&task.id).join("workspace");
        let result = match std::fs::create_dir_all(&workspace) {
            Ok(()) => self.run_steps(&mut task, run, &workspace, dry_run).await,
            Err(e) => Err(Failure::Error(format!(
                "cannot create the task's workspace: {e}"
            ))),
        };
        if !dry_run {
            let _ = std::fs::remove_dir_all(workspace.parent().unwrap_or(&workspace));
        }
        let (status, message) = match &result {
            Ok(()) => (
                TaskStatus::Completed,
                "Run completed with status: completed".to_owned(),
            ),
            Err(Failure::Cancelled) => (TaskStatus::Cancelled, "Run cancelled".to_owned()),
            Err(Failure::Error(reason)) => (
                TaskStatus::Failed,
                format!("Run completed with status: failed ({reason})"),
            ),
        };
        task.status = status;
        if let Err(Failure::Error(reason)) = &result {
            task.state.error = Some(run.redactor.text(reason));
        }
        if let Err(Failure::Cancelled) = &result {
            task.state.error = Some("cancelled by a user".to_owned());
        }
        let kind = if status == TaskStatus::Cancelled {
            EventKind::Cancelled
        } else {
            EventKind::Completion
        };
        self.event(
            &task.id,
            run,
            kind,
            EventBody {
                message,
                status: Some(json!(status.name())),
                output: task.output.clone(),
                error: task
                    .state
                    .error
                    .clone()
                    .filter(|_| status == TaskStatus::Failed)
                    .map(|m| json!({ "name": "Error", "message": m })),
                ..EventBody::default()
            },
        );
        self.save(&mut task, run);
        if !dry_run && let Err(e) = self.inner.store.flush() {
            tracing::error!(task = %task.id, "cannot write the task's end to disk: {e}");
        }
        task
    }

    async fn run_steps(
        &self,
        task: &mut Task,
        run: &Arc<Run>,
        workspace: &Path,
        dry_run: bool,
    ) -> Result<(), Failure> {
        let (steps, output) = Template::runnable(&task.spec.steps, &task.spec.output)
            .map_err(|e| Failure::Error(e.to_string()))?;
        let mut context = json!({
            "parameters": task.spec.parameters,
            "secrets": run.secrets,
            "user": task.spec.user.as_ref().map(|u| json!({ "ref": u.entity_ref, "entity": u.entity })).unwrap_or(json!({})),
            "steps": {},
            "context": { "task": { "id": task.id } },
        });
        let mut cancelled = run.cancel.subscribe();
        for (index, step) in steps.iter().enumerate() {
            if *cancelled.borrow() {
                return Err(Failure::Cancelled);
            }
            task.state.steps.push(StepState {
                id: step.id.clone(),
                name: step.name.clone(),
                action: step.action.clone(),
                status: StepStatus::Processing,
                started_at: Some(now()),
                ended_at: None,
                output: None,
            });
            // Kept, so a restart can say which step was cut short.
            self.save(task, run);
            let place = format!("spec.steps[{index}]");
            let outcome = self
                .run_step(
                    task,
                    run,
                    step,
                    &place,
                    &context,
                    workspace,
                    dry_run,
                    &mut cancelled,
                )
                .await;
            let state = task.state.steps.last_mut().expect("pushed above");
            state.ended_at = Some(now());
            let status = match &outcome {
                Ok(Some(output)) => {
                    state.output = Some(run.redactor.value(output));
                    context["steps"][&step.id] = json!({ "output": output });
                    StepStatus::Completed
                }
                Ok(None) => StepStatus::Skipped,
                Err(Failure::Cancelled) => StepStatus::Cancelled,
                Err(Failure::Error(_)) => StepStatus::Failed,
            };
            state.status = status;
            self.event(
                &task.id,
                run,
                EventKind::Log,
                EventBody {
                    message: match &outcome {
                        Ok(Some(_)) => format!("Finished step {}", step.name),
                        Ok(None) => format!("Skipping step {}: its condition is false", step.name),
                        Err(Failure::Cancelled) => format!("Step {} was cancelled", step.name),
                        Err(Failure::Error(reason)) => {
                            format!("Step {} failed: {reason}", step.name)
                        }
                    },
                    step_id: Some(step.id.clone()),
                    status: Some(json!(status)),
                    ..EventBody::default()
                },
            );
            self.save(task, run);
            outcome?;
        }
        task.output = Some(run.redactor.value(&self.render_output(&output, &context)?));
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_step(
        &self,
        task: &Task,
        run: &Arc<Run>,
        step: &Step,
        place: &str,
        context: &Value,
        workspace: &Path,
        dry_run: bool,
        cancelled: &mut watch::Receiver<bool>,
    ) -> Result<Option<Value>, Failure> {
        let templater = &self.inner.templater;
        if let Some(condition) = &step.condition
            && !templater.condition(condition, context, &format!("{place}.if"))?
        {
            return Ok(None);
        }
        self.event(
            &task.id,
            run,
            EventKind::Log,
            EventBody {
                message: format!("Beginning step {}", step.name),
                step_id: Some(step.id.clone()),
                status: Some(json!("processing")),
                ..EventBody::default()
            },
        );
        let items: Option<Vec<Value>> = match &step.each {
            None => None,
            Some(each) => Some(
                match templater.render_value(each, context, &format!("{place}.each"))? {
                    Some(Value::Array(items)) => items
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| json!({ "key": i, "value": v }))
                        .collect(),
                    Some(Value::Object(map)) => map
                        .into_iter()
                        .map(|(k, v)| json!({ "key": k, "value": v }))
                        .collect(),
                    _ => {
                        return Err(Failure::Error(format!(
                            "{place}.each: must render to a list or an object"
                        )));
                    }
                },
            ),
        };
        let runs = match &items {
            None => vec![context.clone()],
            Some(items) => items
                .iter()
                .map(|item| {
                    let mut c = context.clone();
                    c["each"] = item.clone();
                    c
                })
                .collect(),
        };
        let mut outputs = Vec::with_capacity(runs.len());
        for context in &runs {
            let input = templater
                .render_value(&step.input, context, &format!("{place}.input"))?
                .unwrap_or_else(|| json!({}));
            let call = ActionCall {
                action: step.action.clone(),
                input,
                task_id: task.id.clone(),
                dry_run,
                workspace: workspace.to_owned(),
                template_dir: run.template_dir.clone(),
            };
            let log: LogLine = {
                let this = self.clone();
                let task_id = task.id.clone();
                let step_id = step.id.clone();
                let run = run.clone();
                Arc::new(move |line: &str| {
                    this.event(
                        &task_id,
                        &run,
                        EventKind::Log,
                        EventBody {
                            message: line.to_owned(),
                            step_id: Some(step_id.clone()),
                            ..EventBody::default()
                        },
                    );
                })
            };
            let action = self.inner.runner.run(call, log);
            let output = tokio::select! {
                output = action => output.map_err(Failure::Error)?,
                _ = cancelled.wait_for(|c| *c) => return Err(Failure::Cancelled),
            };
            outputs.push(output);
        }
        Ok(Some(match items {
            None => outputs.pop().unwrap_or_else(|| json!({})),
            // Backstage's shape for `each`: the outputs, one per item.
            Some(_) => Value::Array(outputs),
        }))
    }

    fn render_output(&self, output: &Output, context: &Value) -> Result<Value, Failure> {
        let templater = &self.inner.templater;
        let holds = |condition: &Option<Value>, place: &str| -> Result<bool, RenderError> {
            match condition {
                None => Ok(true),
                Some(c) => templater.condition(c, context, place),
            }
        };
        let render = |value: &Option<Value>, place: &str| -> Result<Option<Value>, RenderError> {
            match value {
                None => Ok(None),
                Some(v) => templater.render_value(v, context, place),
            }
        };
        let mut links = Vec::new();
        for (i, link) in output.links.iter().enumerate() {
            let place = format!("spec.output.links[{i}]");
            if !holds(&link.condition, &format!("{place}.if"))? {
                continue;
            }
            let mut rendered = Map::new();
            if let Some(title) = &link.title {
                rendered.insert("title".into(), json!(title));
            }
            if let Some(icon) = &link.icon {
                rendered.insert("icon".into(), json!(icon));
            }
            if let Some(url) = render(&link.url, &format!("{place}.url"))? {
                rendered.insert("url".into(), url);
            }
            if let Some(entity_ref) = render(&link.entity_ref, &format!("{place}.entityRef"))? {
                rendered.insert("entityRef".into(), entity_ref);
            }
            links.push(Value::Object(rendered));
        }
        let mut texts = Vec::new();
        for (i, text) in output.text.iter().enumerate() {
            let place = format!("spec.output.text[{i}]");
            if !holds(&text.condition, &format!("{place}.if"))? {
                continue;
            }
            let mut rendered = Map::new();
            if let Some(title) = &text.title {
                rendered.insert("title".into(), json!(title));
            }
            if let Some(icon) = &text.icon {
                rendered.insert("icon".into(), json!(icon));
            }
            if let Some(content) = render(&text.content, &format!("{place}.content"))? {
                rendered.insert("content".into(), content);
            }
            texts.push(Value::Object(rendered));
        }
        let mut rendered = Map::new();
        for (key, value) in &output.other {
            if let Some(v) =
                templater.render_value(value, context, &format!("spec.output.{key}"))?
            {
                rendered.insert(key.clone(), v);
            }
        }
        if !links.is_empty() {
            rendered.insert("links".into(), Value::Array(links));
        }
        if !texts.is_empty() {
            rendered.insert("text".into(), Value::Array(texts));
        }
        Ok(Value::Object(rendered))
    }
}

/// Why a run stopped early.
enum Failure {
    Cancelled,
    Error(String),
}

impl From<RenderError> for Failure {
    fn from(e: RenderError) -> Failure {
        Failure::Error(e.to_string())
    }
}

fn redactor_for(secrets: &Map<String, Value>) -> Redactor {
    Redactor::new(secrets.values().filter_map(Value::as_str))
}

#[cfg(test)]
mod tests;
