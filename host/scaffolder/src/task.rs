//! A task: one run of a template with the values a user filled in, and its
//! event log. The shapes are Backstage's (`GET /api/scaffolder/v2/tasks/:id`,
//! `.../events`), so its clients read them unchanged.

use portal_types::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A task's state. `open` waits for a worker, `processing` runs; the other
/// three are final.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    Open,
    Processing,
    Completed,
    Failed,
    Cancelled,
}

impl TaskStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            TaskStatus::Open => "open",
            TaskStatus::Processing => "processing",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<TaskStatus> {
        Some(match text {
            "open" => TaskStatus::Open,
            "processing" => TaskStatus::Processing,
            "completed" => TaskStatus::Completed,
            "failed" => TaskStatus::Failed,
            "cancelled" => TaskStatus::Cancelled,
            _ => return None,
        })
    }
}

/// A step's state, as step events report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Processing,
    Completed,
    Failed,
    Skipped,
    Cancelled,
}

/// What a task runs: the template as it was when the task was created (a
/// later edit of the template does not change a task), the user's values, and
/// who asked. Never the secrets: they live in memory only, for the run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskSpec {
    pub api_version: String,
    pub template_info: TemplateInfo,
    /// The values the user filled in (`parameters.*` in expressions).
    pub parameters: Map<String, Value>,
    /// The template's `spec.steps` and `spec.output`, unrendered.
    pub steps: Vec<Value>,
    #[serde(default)]
    pub output: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<TaskUser>,
}

impl TaskSpec {
    /// A placeholder, never a task's real spec (which names its API version).
    pub fn is_unset(&self) -> bool {
        self.api_version.is_empty()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateInfo {
    /// `template:<namespace>/<name>`.
    pub entity_ref: String,
    /// Where the template's files are (`file:` URL of its directory), if anywhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The template entity's own `metadata`, for the task page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskUser {
    #[serde(rename = "ref")]
    pub entity_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<Value>,
}

/// A task as stored and as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Task {
    pub id: String,
    /// Always set, except in the store's own record of a task's state (its
    /// spec is kept apart, `store.rs`).
    #[serde(default, skip_serializing_if = "TaskSpec::is_unset")]
    pub spec: TaskSpec,
    pub status: TaskStatus,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_heartbeat_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<String>,
    /// Rendered `spec.output` once the task completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Each step's state and output so far: what a resumed or retried task
    /// starts from, and what the task page shows.
    #[serde(default)]
    pub state: TaskState,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskState {
    #[serde(default)]
    pub steps: Vec<StepState>,
    /// Why the task failed or was cancelled, in one line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The number of the last event written, so ids keep counting across runs.
    #[serde(default)]
    pub last_event_id: u64,
    /// True for a dry run: nothing outside the workspace changed.
    #[serde(default)]
    pub dry_run: bool,
    /// The names of the secrets it was given (never their values, which are
    /// not kept): a task with secrets cannot be resumed after a restart.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepState {
    pub id: String,
    pub name: String,
    pub action: String,
    pub status: StepStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<String>,
    /// Dry runs only: the input the action was called with, as rendered (a
    /// list for `each`), for the template's author.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
}

/// One line of a task's log, or a change of its state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskEvent {
    /// Counts from 1 within a task; `after=N` resumes after event N.
    pub id: u64,
    pub task_id: String,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub created_at: String,
    pub body: EventBody,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Log,
    Completion,
    Cancelled,
    Recovered,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Log => "log",
            EventKind::Completion => "completion",
            EventKind::Cancelled => "cancelled",
            EventKind::Recovered => "recovered",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventBody {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<Value>,
    /// Set on a completion event when the task failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// RFC 3339 text of the current time, as every timestamp in this API.
pub(crate) fn now() -> String {
    Timestamp::now().to_string()
}
