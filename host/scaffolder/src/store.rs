//! Where tasks and their events are kept: a sled database of the scaffolder's
//! own in the data directory (`<data>/scaffolder`), apart from the catalog so
//! neither's compaction or cache sizing affects the other.
//!
//! Trees, so that a step's progress is one small write however long the
//! template (a task written whole after each step cost time in the square of
//! its steps):
//! - `specs`: task id → its spec (the template as it was, the values): written
//!   once, it never changes;
//! - `tasks`: task id → the rest of the task, its steps' states left out;
//! - `steps`: task id, NUL, step index as 4 big-endian bytes → that step's state;
//! - `events`: task id, NUL, event id as 8 big-endian bytes → event JSON.
//!
//! One task's steps and events are each one range, in order. A task stored
//! whole in `tasks` (by an earlier version) is read as it is. Secrets are
//! never written.

use crate::task::{StepState, Task, TaskEvent, TaskSpec, TaskState};
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the task store in {path}: {message}")]
    Open { path: String, message: String },
    #[error("task store: {0}")]
    Io(String),
    #[error("task store: a stored record is unreadable: {0}")]
    Corrupt(String),
}

fn io(e: sled::Error) -> StoreError {
    StoreError::Io(e.to_string())
}

#[derive(Clone)]
pub struct TaskStore {
    db: sled::Db,
    specs: sled::Tree,
    tasks: sled::Tree,
    steps: sled::Tree,
    events: sled::Tree,
}

impl TaskStore {
    pub fn open(path: &Path) -> Result<TaskStore, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: path.display().to_string(),
            message,
        };
        std::fs::create_dir_all(path).map_err(|e| open_err(e.to_string()))?;
        let db = sled::Config::new()
            .path(path)
            .cache_capacity(4 * 1024 * 1024)
            .flush_every_ms(Some(100))
            .open()
            .map_err(|e| open_err(e.to_string()))?;
        Ok(TaskStore {
            specs: db.open_tree("specs").map_err(io)?,
            tasks: db.open_tree("tasks").map_err(io)?,
            steps: db.open_tree("steps").map_err(io)?,
            events: db.open_tree("events").map_err(io)?,
            db,
        })
    }

    /// Writes the whole task: spec, state and every step.
    pub fn put_task(&self, task: &Task) -> Result<(), StoreError> {
        self.specs
            .insert(task.id.as_bytes(), encode(&task.spec)?)
            .map_err(io)?;
        let stale = self
            .steps
            .range(
                step_key(&task.id, len_u32(task.state.steps.len()))..=step_key(&task.id, u32::MAX),
            )
            .keys();
        for key in stale {
            self.steps.remove(key.map_err(io)?).map_err(io)?;
        }
        self.put_progress(task, 0)
    }

    /// Writes what a running task changes: its state, and its steps from
    /// `first_step` on (the earlier ones are as last written).
    pub fn put_progress(&self, task: &Task, first_step: usize) -> Result<(), StoreError> {
        let steps = task.state.steps.get(first_step..).unwrap_or_default();
        self.put_progress_parts(&head(task), first_step, steps)
    }

    /// [`put_progress`](Self::put_progress) from the parts: the task's
    /// [`head`] and its steps from `first_step` on.
    pub fn put_progress_parts(
        &self,
        head: &Task,
        first_step: usize,
        steps: &[StepState],
    ) -> Result<(), StoreError> {
        for (index, step) in steps.iter().enumerate() {
            self.steps
                .insert(
                    step_key(&head.id, len_u32(first_step + index)),
                    encode(step)?,
                )
                .map_err(io)?;
        }
        self.tasks
            .insert(head.id.as_bytes(), encode(head)?)
            .map_err(io)?;
        Ok(())
    }

    pub fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        self.tasks
            .get(id.as_bytes())
            .map_err(io)?
            .map(|bytes| self.assemble(decode(&bytes)?))
            .transpose()
    }

    /// Every task, newest first.
    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        let mut tasks = self
            .tasks
            .iter()
            .values()
            .map(|bytes| self.assemble(decode::<Task>(&bytes.map_err(io)?)?))
            .collect::<Result<Vec<_>, _>>()?;
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(tasks)
    }

    /// A task from its head, with its spec and steps (unless it was stored
    /// whole).
    fn assemble(&self, mut task: Task) -> Result<Task, StoreError> {
        if task.spec.is_unset() {
            let spec = self
                .specs
                .get(task.id.as_bytes())
                .map_err(io)?
                .ok_or_else(|| {
                    StoreError::Corrupt(format!("task {} has no stored spec", task.id))
                })?;
            task.spec = decode(&spec)?;
        }
        if task.state.steps.is_empty() {
            task.state.steps = self
                .steps
                .range(step_key(&task.id, 0)..=step_key(&task.id, u32::MAX))
                .values()
                .map(|bytes| decode::<StepState>(&bytes.map_err(io)?))
                .collect::<Result<_, _>>()?;
        }
        Ok(task)
    }

    pub fn append_event(&self, event: &TaskEvent) -> Result<(), StoreError> {
        let bytes = encode(event)?;
        self.events
            .insert(event_key(&event.task_id, event.id), bytes)
            .map_err(io)?;
        Ok(())
    }

    /// A task's events with ids above `after`, in order, at most `limit`.
    pub fn events_after(
        &self,
        task_id: &str,
        after: u64,
        limit: usize,
    ) -> Result<Vec<TaskEvent>, StoreError> {
        let start = event_key(task_id, after.saturating_add(1));
        let end = event_key(task_id, u64::MAX);
        self.events
            .range(start..=end)
            .values()
            .take(limit)
            .map(|bytes| decode(&bytes.map_err(io)?))
            .collect()
    }

    /// Writes everything to disk now (at shutdown; otherwise within 100 ms).
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush().map_err(io)?;
        Ok(())
    }
}

/// A task without its spec and steps (stored apart). Built field by field so
/// that a new field of `Task` cannot be forgotten here.
pub(crate) fn head(task: &Task) -> Task {
    let Task {
        id,
        spec: _,
        status,
        created_at,
        last_heartbeat_at,
        created_by,
        output,
        state,
    } = task;
    let TaskState {
        steps: _,
        error,
        last_event_id,
        dry_run,
        secret_names,
    } = state;
    Task {
        id: id.clone(),
        spec: TaskSpec::default(),
        status: *status,
        created_at: created_at.clone(),
        last_heartbeat_at: last_heartbeat_at.clone(),
        created_by: created_by.clone(),
        output: output.clone(),
        state: TaskState {
            steps: Vec::new(),
            error: error.clone(),
            last_event_id: *last_event_id,
            dry_run: *dry_run,
            secret_names: secret_names.clone(),
        },
    }
}

fn len_u32(index: usize) -> u32 {
    u32::try_from(index).unwrap_or(u32::MAX)
}

fn step_key(task_id: &str, index: u32) -> Vec<u8> {
    let mut key = Vec::with_capacity(task_id.len() + 5);
    key.extend_from_slice(task_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&index.to_be_bytes());
    key
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Io(e.to_string()))
}

fn event_key(task_id: &str, id: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(task_id.len() + 9);
    key.extend_from_slice(task_id.as_bytes());
    key.push(0);
    key.extend_from_slice(&id.to_be_bytes());
    key
}

fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{StepStatus, TaskStatus, TemplateInfo};
    use serde_json::json;

    fn task(steps: usize) -> Task {
        Task {
            id: "t1".into(),
            spec: TaskSpec {
                api_version: crate::template::API_VERSION.into(),
                template_info: TemplateInfo {
                    entity_ref: "template:default/x".into(),
                    ..TemplateInfo::default()
                },
                parameters: json!({ "name": "svc" }).as_object().cloned().unwrap(),
                steps: vec![json!({ "id": "a", "action": "debug:log" })],
                ..TaskSpec::default()
            },
            status: TaskStatus::Processing,
            created_at: "2026-12-07T00:00:00.000Z".into(),
            last_heartbeat_at: None,
            created_by: None,
            output: None,
            state: TaskState {
                steps: (0..steps).map(step).collect(),
                last_event_id: 7,
                ..TaskState::default()
            },
        }
    }

    fn step(i: usize) -> StepState {
        StepState {
            id: format!("s{i}"),
            name: format!("step {i}"),
            action: "debug:log".into(),
            status: StepStatus::Completed,
            started_at: None,
            ended_at: None,
            input: None,
            output: Some(json!({ "i": i })),
        }
    }

    #[test]
    fn a_task_reads_back_whole_from_its_parts() {
        let dir = tempfile::tempdir().unwrap();
        let store = TaskStore::open(dir.path()).unwrap();
        let mut t = task(3);
        store.put_task(&t).unwrap();
        assert_eq!(store.task("t1").unwrap().unwrap(), t);
        // Progress writes only the steps named; the others stay as written.
        t.state.steps.push(step(3));
        t.state.steps[2].status = StepStatus::Failed;
        t.state.steps[0].status = StepStatus::Failed; // not written: before `first_step`
        store.put_progress(&t, 2).unwrap();
        let read = store.task("t1").unwrap().unwrap();
        assert_eq!(read.state.steps.len(), 4);
        assert_eq!(read.state.steps[0].status, StepStatus::Completed);
        assert_eq!(read.state.steps[2].status, StepStatus::Failed);
        assert_eq!(read.spec, t.spec);
        // A whole write (a retry clears the steps) leaves no stale step behind.
        t.state.steps.clear();
        store.put_task(&t).unwrap();
        assert!(store.task("t1").unwrap().unwrap().state.steps.is_empty());
        assert_eq!(store.tasks().unwrap(), vec![t]);
    }

    #[test]
    fn a_task_stored_whole_by_an_earlier_version_reads_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let t = task(2);
        {
            let store = TaskStore::open(dir.path()).unwrap();
            store
                .tasks
                .insert("t1", serde_json::to_vec(&t).unwrap())
                .unwrap();
            store.flush().unwrap();
        }
        let store = TaskStore::open(dir.path()).unwrap();
        assert_eq!(store.task("t1").unwrap().unwrap(), t);
        assert_eq!(store.tasks().unwrap(), vec![t]);
    }
}
