//! Where tasks and their events are kept: a sled database of the scaffolder's
//! own in the data directory (`<data>/scaffolder`), apart from the catalog so
//! neither's compaction or cache sizing affects the other.
//!
//! Trees: `tasks` (task id → task JSON) and `events` (task id, NUL, event id
//! as 8 big-endian bytes → event JSON), so one task's events are one range, in
//! order. Secrets are never written.

use crate::task::{Task, TaskEvent};
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
    tasks: sled::Tree,
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
            tasks: db.open_tree("tasks").map_err(io)?,
            events: db.open_tree("events").map_err(io)?,
            db,
        })
    }

    pub fn put_task(&self, task: &Task) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(task).map_err(|e| StoreError::Io(e.to_string()))?;
        self.tasks.insert(task.id.as_bytes(), bytes).map_err(io)?;
        Ok(())
    }

    pub fn task(&self, id: &str) -> Result<Option<Task>, StoreError> {
        self.tasks
            .get(id.as_bytes())
            .map_err(io)?
            .map(|bytes| decode(&bytes))
            .transpose()
    }

    /// Every task, newest first.
    pub fn tasks(&self) -> Result<Vec<Task>, StoreError> {
        let mut tasks = self
            .tasks
            .iter()
            .values()
            .map(|bytes| decode::<Task>(&bytes.map_err(io)?))
            .collect::<Result<Vec<_>, _>>()?;
        tasks.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(tasks)
    }

    pub fn append_event(&self, event: &TaskEvent) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(event).map_err(|e| StoreError::Io(e.to_string()))?;
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
