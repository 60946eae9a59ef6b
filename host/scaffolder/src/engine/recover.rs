//! After a restart: tasks that were waiting or running when the portal stopped
//! are resumed, or marked failed with the reason they cannot be. Nothing is
//! lost either way: the task, its log and its steps' outputs stay.
//!
//! A task resumes after its last completed step, in its own workspace (kept
//! across the restart), with the outputs of the steps before; the step that
//! was cut short runs again, from its start. It cannot resume when it was
//! given secrets (their values are never kept), when its template's files are
//! gone, or when its workspace is.

use super::{Run, Scaffolder};
use crate::redact::Redactor;
use crate::store::StoreError;
use crate::task::{EventBody, EventKind, StepStatus, Task, TaskStatus};
use serde_json::{Map, json};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::time::Duration;
use tokio::sync::watch;

/// How long a resumed task waits for its actions' plugins to load.
const ACTIONS_WAIT: Duration = Duration::from_secs(120);

impl Scaffolder {
    pub(super) fn recover_interrupted(&self) -> Result<(), StoreError> {
        let mut resumed = Vec::new();
        for task in self.inner.store.tasks()? {
            if task.status.is_final() {
                continue;
            }
            match self.why_not_resumable(&task) {
                None => resumed.push(task),
                Some(reason) => self.fail_interrupted(task, &reason)?,
            }
        }
        // Workspaces of tasks that will not run again.
        let keep: HashSet<&str> = resumed.iter().map(|t| t.id.as_str()).collect();
        if let Ok(entries) = std::fs::read_dir(&self.inner.work_dir) {
            for entry in entries.flatten() {
                if !keep.contains(entry.file_name().to_string_lossy().as_ref()) {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        for task in resumed {
            self.resume(task)?;
        }
        // The events recovery wrote are stored, on disk, before the portal
        // serves anyone.
        self.inner.writer.settle(true)
    }

    fn template_dir(task: &Task) -> Option<PathBuf> {
        task.spec
            .template_info
            .base_url
            .as_deref()
            .and_then(|u| u.strip_prefix("file://"))
            .map(PathBuf::from)
    }

    fn why_not_resumable(&self, task: &Task) -> Option<String> {
        if task.state.dry_run {
            return Some("it was a dry run".into());
        }
        if !task.state.secret_names.is_empty() {
            return Some(format!(
                "it was given secrets ({}), whose values the portal does not keep",
                task.state.secret_names.join(", ")
            ));
        }
        if let Some(dir) = Self::template_dir(task)
            && !dir.is_dir()
        {
            return Some(format!(
                "its template's files at {} are gone",
                dir.display()
            ));
        }
        let started = task
            .state
            .steps
            .iter()
            .any(|s| s.status != StepStatus::Processing);
        let workspace = self.inner.work_dir.join(&task.id).join("workspace");
        if started && !workspace.is_dir() {
            return Some("its workspace is gone".into());
        }
        None
    }

    /// Starts an interrupted task again after its last completed step.
    fn resume(&self, mut task: Task) -> Result<(), StoreError> {
        // The step cut short runs again; the ones before keep their outputs.
        while task
            .state
            .steps
            .last()
            .is_some_and(|s| s.status == StepStatus::Processing)
        {
            task.state.steps.pop();
        }
        let message = match task.state.steps.last() {
            Some(last) => format!(
                "The portal restarted while this task was running; resuming after step `{}`",
                last.id
            ),
            None if task.status == TaskStatus::Open => {
                "The portal restarted before this task began; starting it now".to_owned()
            }
            None => {
                "The portal restarted while this task was running; resuming from its first step"
                    .to_owned()
            }
        };
        task.status = TaskStatus::Open;
        let run = quiet_run(&task);
        task.state.last_event_id = self.event(
            &task.id,
            &run,
            EventKind::Recovered,
            EventBody {
                message,
                ..EventBody::default()
            },
        );
        self.inner.store.put_task(&task)?;
        tracing::info!(task = %task.id, "resuming an interrupted task");
        let template_dir = Self::template_dir(&task);
        let needed: Vec<String> = task
            .spec
            .steps
            .iter()
            .skip(task.state.steps.len())
            .filter_map(|s| s["action"].as_str().map(str::to_owned))
            .collect();
        let this = self.clone();
        let mut running = self.inner.running.lock().unwrap();
        let run = self.register_run(&mut running, &task, Map::new(), template_dir);
        tokio::spawn(async move {
            // The plugins load in the background after a restart: give the
            // actions a moment to appear; a missing one fails its step, named.
            let deadline = tokio::time::Instant::now() + ACTIONS_WAIT;
            while tokio::time::Instant::now() < deadline {
                let installed = this.installed_action_ids();
                if needed.iter().all(|a| installed.contains(a)) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let id = task.id.clone();
            let _slot = this.inner.slots.clone().acquire_owned().await;
            this.run(task, &run, false).await;
            this.inner.running.lock().unwrap().remove(&id);
        });
        Ok(())
    }

    /// Marks a task that cannot resume as failed, saying why.
    fn fail_interrupted(&self, mut task: Task, why: &str) -> Result<(), StoreError> {
        let at = task
            .state
            .steps
            .iter()
            .rev()
            .find(|s| s.status == StepStatus::Processing)
            .map(|s| format!(" during step `{}`", s.id))
            .unwrap_or_default();
        let reason = format!(
            "the portal stopped while this task was {}{at}, and it cannot resume: {why}. Retry the task to run it again",
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
        let run = quiet_run(&task);
        task.state.last_event_id = self.event(
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
        self.inner.store.put_task(&task)
    }
}

/// The bookkeeping of a task that is not running, to write its events.
fn quiet_run(task: &Task) -> Run {
    Run {
        cancel: watch::channel(false).0,
        last_event: AtomicU64::new(task.state.last_event_id),
        secrets: Map::new(),
        redactor: Redactor::default(),
        template_dir: None,
        dry_run_log: None,
    }
}
