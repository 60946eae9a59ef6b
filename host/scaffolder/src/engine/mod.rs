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
    EventBody, EventKind, Task, TaskEvent, TaskSpec, TaskState, TaskStatus, TaskUser, TemplateInfo,
    now,
};
use crate::template::{Template, TemplateError};
use crate::writer::Writer;
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
    /// Grants the action says it needs (`x-portal-grants` in its input schema)
    /// that its plugin lacks, each as the configuration key to set. A task
    /// using it is refused before it starts; a dry run needs none.
    pub missing_grants: Vec<String>,
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
    /// A session for one run of a task's steps (its workspace, template
    /// files and mode), which may keep what a step's action needed for the
    /// next step (the plugin host keeps the plugin's instance). `None`: each
    /// step goes through [`run`](Self::run).
    fn session(
        &self,
        _workspace: &Path,
        _template_dir: Option<&Path>,
        _dry_run: bool,
    ) -> Option<Box<dyn ActionSession>> {
        None
    }
}

/// A task run's steps, one after another (see [`ActionRunner::session`]).
pub trait ActionSession: Send {
    /// Runs one action; dropping the future stops it.
    fn run(&mut self, call: ActionCall, log: LogLine) -> SessionFuture<'_>;
}

pub type SessionFuture<'a> = Pin<Box<dyn Future<Output = Result<Value, String>> + Send + 'a>>;

/// Why a task was not created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("invalid template: {0}")]
    Template(#[from] TemplateError),
    #[error("the template uses actions that are not installed: {}", .0.join(", "))]
    UnknownActions(Vec<String>),
    #[error("invalid values: {}", .0.join("; "))]
    InvalidValues(Vec<String>),
    #[error("the template's actions lack grants, so it would fail halfway: {}", .0.join("; "))]
    MissingGrants(Vec<String>),
    #[error("task {id} is {status}; only a finished task can be retried")]
    NotFinished { id: String, status: &'static str },
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
    /// Running tasks' progress and events go to the store through it.
    writer: Writer,
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

impl Scaffolder {
    /// Opens the task store in `<data_dir>/scaffolder`. Tasks that were running
    /// when the portal stopped are resumed after their last completed step,
    /// or marked failed saying why they cannot be (`recover.rs`).
    pub fn open(
        data_dir: &Path,
        runner: Arc<dyn ActionRunner>,
        concurrent_tasks: usize,
    ) -> Result<Scaffolder, StoreError> {
        let root = data_dir.join("scaffolder");
        let store = TaskStore::open(&root.join("tasks"))?;
        let work_dir = root.join("work");
        let (live, _) = broadcast::channel(4096);
        let writer = Writer::start(store.clone(), live.clone());
        let scaffolder = Scaffolder {
            inner: Arc::new(Inner {
                store,
                runner,
                templater: Templater::default(),
                work_dir,
                live,
                writer,
                running: Mutex::new(HashMap::new()),
                slots: Arc::new(Semaphore::new(concurrent_tasks.max(1))),
            }),
        };
        scaffolder.recover_interrupted()?;
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
        self.check_against(template, &self.inner.runner.actions())
    }

    /// The ids of the actions installed now.
    fn installed_action_ids(&self) -> Vec<String> {
        self.inner
            .runner
            .actions()
            .into_iter()
            .map(|a| a.id)
            .collect()
    }

    fn check_against(
        &self,
        template: &Template,
        installed: &[ActionInfo],
    ) -> Result<(), CreateError> {
        let unknown: Vec<String> = template
            .actions()
            .into_iter()
            .filter(|a| !installed.iter().any(|i| i.id == *a))
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

    /// Refuses a template whose actions' plugins lack a grant the actions need
    /// (a push, a registration, outbound HTTP), before any step runs.
    fn check_grants(template: &Template, installed: &[ActionInfo]) -> Result<(), CreateError> {
        let used = template.actions();
        let missing: Vec<String> = installed
            .iter()
            .filter(|a| used.contains(&a.id.as_str()) && !a.missing_grants.is_empty())
            .map(|a| {
                format!(
                    "{} (plugin {}) needs {}",
                    a.id,
                    a.plugin,
                    a.missing_grants.join(", ")
                )
            })
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(CreateError::MissingGrants(missing))
        }
    }

    /// Creates a task and starts it; returns its id.
    pub fn create(&self, new: NewTask) -> Result<String, CreateError> {
        let template = Template::from_entity(&new.entity)?;
        // Listed once: both checks read the same actions.
        let installed = self.inner.runner.actions();
        self.check_against(&template, &installed)?;
        Self::check_grants(&template, &installed)?;
        let problems = crate::values::check(
            template.parameters.iter().map(|p| &p.schema),
            &new.values,
            &new.secrets,
        );
        if !problems.is_empty() {
            return Err(CreateError::InvalidValues(problems));
        }
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
            state: TaskState {
                secret_names: new.secrets.keys().cloned().collect(),
                ..TaskState::default()
            },
        };
        self.inner.store.put_task(&task)?;
        // A 201 promises the task exists, even if the portal dies next.
        self.inner.store.flush()?;
        let id = task.id.clone();
        self.start(task, new.secrets, new.template_dir);
        Ok(id)
    }

    /// Runs a finished task again from its first step, with new secrets (a
    /// task's secrets are not kept after its run).
    pub fn retry(
        &self,
        id: &str,
        secrets: Map<String, Value>,
    ) -> Result<Option<String>, CreateError> {
        // Held from the check to the start: two retries cannot both run it.
        let mut running = self.inner.running.lock().unwrap();
        // A run that just ended may still be on its way to the store.
        self.inner.writer.settle(false)?;
        let Some(mut task) = self.inner.store.task(id)? else {
            return Ok(None);
        };
        if running.contains_key(id) || !task.status.is_final() {
            return Err(CreateError::NotFinished {
                id: task.id,
                status: task.status.name(),
            });
        }
        task.status = TaskStatus::Open;
        task.output = None;
        task.state.error = None;
        task.state.steps.clear();
        task.state.secret_names = secrets.keys().cloned().collect();
        self.inner.store.put_task(&task)?;
        let template_dir = task
            .spec
            .template_info
            .base_url
            .as_deref()
            .and_then(|u| u.strip_prefix("file://"))
            .map(PathBuf::from);
        let id = task.id.clone();
        self.start_locked(&mut running, task, secrets, template_dir);
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
        self.settled_unless_running(id)?;
        self.inner.store.task(id)
    }

    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        self.inner.store.tasks()
    }

    pub fn events_after(&self, id: &str, after: u64) -> Result<Vec<TaskEvent>, StoreError> {
        self.settled_unless_running(id)?;
        self.inner.store.events_after(id, after, EVENT_PAGE)
    }

    /// A task that is not running has nothing more to write, but what it
    /// wrote last may still be on its way to the store (`writer.rs`): read
    /// it whole, its end and its completion event alike. A running task is
    /// read as far as it is stored.
    fn settled_unless_running(&self, id: &str) -> Result<(), StoreError> {
        if self.inner.running.lock().unwrap().contains_key(id) {
            return Ok(());
        }
        self.inner.writer.settle_if_pending()
    }

    /// Live events of every task, from now on. Subscribe before reading the
    /// stored ones, then skip ids already seen, and nothing is missed.
    pub fn subscribe(&self) -> broadcast::Receiver<TaskEvent> {
        self.inner.live.subscribe()
    }

    /// Writes everything to disk: what running tasks wrote so far, then
    /// the store.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.inner.writer.settle(true)
    }

    fn start(&self, task: Task, secrets: Map<String, Value>, template_dir: Option<PathBuf>) {
        let mut running = self.inner.running.lock().unwrap();
        self.start_locked(&mut running, task, secrets, template_dir);
    }

    /// What memory holds for a task while it runs, registered as running.
    fn register_run(
        &self,
        running: &mut HashMap<String, Arc<Run>>,
        task: &Task,
        secrets: Map<String, Value>,
        template_dir: Option<PathBuf>,
    ) -> Arc<Run> {
        let (cancel, _) = watch::channel(false);
        let run = Arc::new(Run {
            cancel,
            last_event: AtomicU64::new(task.state.last_event_id),
            redactor: redactor_for(&secrets),
            secrets,
            template_dir,
            dry_run_log: None,
        });
        running.insert(task.id.clone(), run.clone());
        run
    }

    fn start_locked(
        &self,
        running: &mut HashMap<String, Arc<Run>>,
        task: Task,
        secrets: Map<String, Value>,
        template_dir: Option<PathBuf>,
    ) {
        let run = self.register_run(running, &task, secrets, template_dir);
        let this = self.clone();
        tokio::spawn(async move {
            let id = task.id.clone();
            let _slot = this.inner.slots.clone().acquire_owned().await;
            this.run(task, &run, false).await;
            this.inner.running.lock().unwrap().remove(&id);
        });
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
            // Stored, then told to watchers, off the step's path.
            None => self.inner.writer.event(event),
        }
        id
    }

    /// Writes the whole task.
    fn save(&self, task: &mut Task, run: &Run) {
        self.save_progress(task, run, 0);
    }

    /// Writes the task's state and its steps from `first_step` on.
    fn save_progress(&self, task: &mut Task, run: &Run, first_step: usize) {
        // Never back: the run's end counts its completion event in first.
        task.state.last_event_id = task
            .state
            .last_event_id
            .max(run.last_event.load(Ordering::SeqCst));
        task.last_heartbeat_at = Some(now());
        if run.dry_run_log.is_some() {
            return;
        }
        match first_step {
            0 => self.inner.writer.task(task),
            _ => self.inner.writer.progress(task, first_step),
        }
    }
}

fn redactor_for(secrets: &Map<String, Value>) -> Redactor {
    Redactor::new(secrets.values().filter_map(Value::as_str))
}

mod dry_run;
mod recover;
mod run;
#[cfg(test)]
mod tests;

pub use dry_run::{DryRun, DryRunResult};
