//! A dry run: a template (which need not be in the catalog) run with its
//! files sent along, nothing stored, and the files it produced returned.

use super::{CreateError, Run, Scaffolder, redactor_for};
use crate::task::{
    StepState, Task, TaskEvent, TaskSpec, TaskState, TaskStatus, TaskUser, TemplateInfo, now,
};
use crate::template::Template;
use serde_json::{Map, Value, json};
use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

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
        // A template may write a secret into a file: text files come back
        // masked like everything else a dry run shows.
        let files = crate::files::collect(&workspace, DRY_RUN_MAX_BYTES)
            .map_err(CreateError::Io)?
            .into_iter()
            .map(|(path, executable, bytes)| match String::from_utf8(bytes) {
                Ok(text) => (path, executable, run.redactor.text(&text).into_bytes()),
                Err(binary) => (path, executable, binary.into_bytes()),
            })
            .collect();
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
}
