//! Commits on a thread of their own, so the catalog's single writer does not
//! wait for the store while ingesting.
//!
//! Ingest commits are queued ([`WriteBehind::commit_later`]) and applied in
//! order by one store thread; the writer goes on to the next source at once.
//! Each change set stays one atomic commit, so a crash still leaves every
//! source either fully stored or not at all. The queue is bounded: a writer
//! that runs ahead of the disk waits.
//!
//! Writes that a caller must see stored before it answers (registering a
//! location, deleting an entity) use [`WriteBehind::commit`], which lets the
//! queue drain first so the order of commits is kept.
//!
//! A queued commit that fails is logged with the sources it carried. The
//! in-memory catalog is then ahead of the store until those sources change
//! again or the next start, which re-reads every source and stores what the
//! store lacks.

use super::{CatalogStore, ChangeSet, StoreError};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Change sets waiting for the store before the writer has to wait.
const QUEUE: usize = 16;

enum Job {
    Commit(ChangeSet),
    /// Answered once every earlier job is done.
    Barrier(SyncSender<()>),
}

/// A store whose commits can be queued.
pub struct WriteBehind {
    store: Arc<dyn CatalogStore>,
    /// `None` only while dropping.
    queue: Option<SyncSender<Job>>,
    thread: Option<JoinHandle<()>>,
}

impl WriteBehind {
    /// Starts the store thread.
    pub fn new(store: Arc<dyn CatalogStore>) -> WriteBehind {
        let (queue, jobs) = sync_channel(QUEUE);
        let for_thread = store.clone();
        let thread = std::thread::Builder::new()
            .name("catalog-store".into())
            .spawn(move || run(&*for_thread, jobs))
            .expect("spawning the catalog store thread");
        WriteBehind {
            store,
            queue: Some(queue),
            thread: Some(thread),
        }
    }

    /// Queues a change set; it is stored after everything queued before it.
    pub fn commit_later(&self, changes: ChangeSet) {
        if changes.is_empty() {
            return;
        }
        let job = Job::Commit(changes);
        let unsent = match &self.queue {
            Some(queue) => queue.send(job).err().map(|e| e.0),
            None => Some(job),
        };
        // The store thread is gone (it panicked): store on this thread instead.
        if let Some(Job::Commit(changes)) = unsent
            && let Err(e) = self.store.commit(&changes)
        {
            log_failure(&changes, &e);
        }
    }

    /// Stores a change set now, after everything queued before it.
    pub fn commit(&self, changes: &ChangeSet) -> Result<(), StoreError> {
        self.settle();
        self.store.commit(changes)
    }

    /// Waits until every queued change set has been stored (or failed).
    pub fn settle(&self) {
        if let Some(queue) = &self.queue {
            let (done, wait) = sync_channel(1);
            if queue.send(Job::Barrier(done)).is_ok() {
                let _ = wait.recv();
            }
        }
    }

    /// Stores everything queued and makes it durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.settle();
        self.store.flush()
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        // Closing the queue ends the thread once it has stored the rest.
        drop(self.queue.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn run(store: &dyn CatalogStore, jobs: Receiver<Job>) {
    for job in jobs {
        match job {
            Job::Commit(changes) => {
                let _span = tracing::debug_span!(
                    "catalog_store_commit",
                    entities = changes.put_entities.len() + changes.delete_entities.len()
                )
                .entered();
                if let Err(e) = store.commit(&changes) {
                    log_failure(&changes, &e);
                }
            }
            Job::Barrier(done) => {
                let _ = done.send(());
            }
        }
    }
}

fn log_failure(changes: &ChangeSet, e: &StoreError) {
    let sources: Vec<&str> = changes
        .put_sources
        .iter()
        .map(|s| s.key.as_str())
        .chain(changes.delete_sources.iter().map(String::as_str))
        .collect();
    tracing::error!(
        "catalog: the store could not save the changes of {}: {e}; they are served from memory and stored again after the next change or start",
        if sources.is_empty() {
            "a write".to_owned()
        } else {
            sources.join(", ")
        }
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{SledStore, StoredItem, StoredSource};

    fn source(key: &str) -> StoredSource {
        StoredSource {
            key: key.into(),
            parent: None,
            location_type: "file".into(),
            location_target: format!("/{key}.yaml"),
            confirmed_at: 1,
            errors: Vec::new(),
            deps: Vec::new(),
        }
    }

    fn sources_in(store: &dyn CatalogStore) -> Vec<String> {
        let mut keys = Vec::new();
        store
            .load(&mut |item| {
                if let StoredItem::Source(s) = item {
                    keys.push(s.key);
                }
            })
            .unwrap();
        keys.sort();
        keys
    }

    #[test]
    fn queued_commits_are_stored_in_order_before_a_direct_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SledStore::open(dir.path()).unwrap());
        let behind = WriteBehind::new(store.clone());
        for i in 0..100 {
            let mut put = ChangeSet::default();
            put.put_sources.push(source(&format!("s{i}")));
            behind.commit_later(put);
            if i % 2 == 1 {
                // Deleting what was queued just before: only order makes
                // it gone at the end.
                let mut delete = ChangeSet::default();
                delete.delete_sources.push(format!("s{i}"));
                behind.commit_later(delete);
            }
        }
        let mut last = ChangeSet::default();
        last.delete_sources.push("s0".into());
        behind.commit(&last).unwrap();
        let expected: Vec<String> = {
            let mut k: Vec<String> = (2..100).step_by(2).map(|i| format!("s{i}")).collect();
            k.sort();
            k
        };
        assert_eq!(sources_in(&*store), expected);
    }

    #[test]
    fn dropping_stores_what_is_queued() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn CatalogStore> = Arc::new(SledStore::open(dir.path()).unwrap());
        let behind = WriteBehind::new(store.clone());
        for i in 0..50 {
            let mut put = ChangeSet::default();
            put.put_sources.push(source(&format!("s{i:02}")));
            behind.commit_later(put);
        }
        drop(behind);
        assert_eq!(sources_in(&*store).len(), 50);
    }
}
