//! Stores running tasks' progress and events off their step path: one thread
//! takes the writes in the order they were made, stores them, and only then
//! tells watchers of the events it stored.
//!
//! So a step never waits for the store (sled's insert costs as much as a
//! trivial step's own work), and the rules the readers rely on still hold:
//! - a watcher hears of an event only once it is stored, so subscribing and
//!   then reading the stored events misses none;
//! - the store always holds a prefix of what was written: a task's end is
//!   stored before its completion event is told, and a crash loses at most
//!   the last writes, as sled's own buffering (flushed every 100 ms) already
//!   allows.

use crate::store::{StoreError, TaskStore};
use crate::task::{StepState, Task, TaskEvent};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;
use tokio::sync::broadcast;

/// Writes waiting at most; a step that finds the queue full waits for room.
const QUEUE: usize = 65_536;
/// Events told to watchers in one go, at most.
const BATCH: usize = 256;
/// How long the writer keeps looking for more after a batch before it
/// sleeps until woken. Writers do not wake it meanwhile: a busy task's writes
/// (several per step, a step every 0.1 ms) then cost no system call each,
/// and reach watchers within this much more.
const LINGER: Duration = Duration::from_millis(1);

enum Write {
    /// A task whole (its start and end).
    Task(Box<Task>),
    /// A task's head and its steps from `first` on.
    Progress {
        head: Box<Task>,
        first: usize,
        steps: Vec<StepState>,
    },
    Event(TaskEvent),
    /// Answered once every write before it is stored (and, if `flush`, on
    /// disk).
    Settle {
        flush: bool,
        done: mpsc::Sender<Result<(), StoreError>>,
    },
}

#[derive(Default)]
struct Queue {
    writes: VecDeque<Write>,
    /// Writes sent and not yet stored (queued, or in the writer's hands).
    pending: usize,
    /// The writer sleeps until woken (else it lingers and looks again).
    parked: bool,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    queue: Mutex<Queue>,
    /// The writer waits here for writes; writers wait here for room.
    changed: Condvar,
}

pub struct Writer {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Dropping the writer stores what is queued and waits for its thread, so
/// the store can be opened again as soon as the scaffolder is gone.
impl Drop for Writer {
    fn drop(&mut self) {
        self.shared.queue.lock().unwrap().closed = true;
        self.shared.changed.notify_all();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Writer {
    /// Starts the writing thread; it ends when the `Writer` is dropped.
    pub fn start(store: TaskStore, live: broadcast::Sender<TaskEvent>) -> Writer {
        let shared = Arc::new(Shared::default());
        let queue = shared.clone();
        let thread = std::thread::Builder::new()
            .name("scaffolder-writer".into())
            .spawn(move || write_all(&store, &live, &queue))
            .expect("a thread can be started");
        Writer {
            shared,
            thread: Some(thread),
        }
    }

    pub fn task(&self, task: &Task) {
        self.send(Write::Task(Box::new(task.clone())));
    }

    pub fn progress(&self, task: &Task, first: usize) {
        self.send(Write::Progress {
            head: Box::new(crate::store::head(task)),
            first,
            steps: task.state.steps.get(first..).unwrap_or_default().to_vec(),
        });
    }

    pub fn event(&self, event: TaskEvent) {
        self.send(Write::Event(event));
    }

    /// Waits until everything written so far is stored; with `flush`, on
    /// disk too.
    pub fn settle(&self, flush: bool) -> Result<(), StoreError> {
        let (done, answer) = mpsc::channel();
        self.send(Write::Settle { flush, done });
        answer
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Io("the task writer has stopped".into())))
    }

    /// [`settle`](Self::settle)s, without flushing, if anything written is
    /// not stored yet; else returns at once.
    pub fn settle_if_pending(&self) -> Result<(), StoreError> {
        if self.shared.queue.lock().unwrap().pending == 0 {
            return Ok(());
        }
        self.settle(false)
    }

    /// Asks for everything written so far to be put on disk, without waiting.
    pub fn flush_soon(&self) {
        let (done, _) = mpsc::channel();
        self.send(Write::Settle { flush: true, done });
    }

    fn send(&self, write: Write) {
        let mut queue = self.shared.queue.lock().unwrap();
        while queue.writes.len() >= QUEUE && !queue.closed {
            self.shared.changed.notify_all();
            queue = self.shared.changed.wait(queue).unwrap();
        }
        if queue.closed {
            tracing::error!("the task writer has stopped: a task's progress is not stored");
            return;
        }
        let settle = matches!(write, Write::Settle { .. });
        queue.writes.push_back(write);
        queue.pending += 1;
        // A lingering writer finds it by itself; one asleep is woken, and
        // so is one that someone waits for.
        if queue.parked || settle {
            drop(queue);
            self.shared.changed.notify_all();
        }
    }
}

fn write_all(store: &TaskStore, live: &broadcast::Sender<TaskEvent>, shared: &Shared) {
    let mut stored = Vec::with_capacity(BATCH);
    let mut batch = VecDeque::new();
    loop {
        {
            let mut queue = shared.queue.lock().unwrap();
            let mut lingered = false;
            while queue.writes.is_empty() {
                if queue.closed {
                    return;
                }
                if lingered {
                    queue.parked = true;
                    queue = shared.changed.wait(queue).unwrap();
                    queue.parked = false;
                } else {
                    queue = shared.changed.wait_timeout(queue, LINGER).unwrap().0;
                    lingered = true;
                }
            }
            std::mem::swap(&mut batch, &mut queue.writes);
        }
        // Room again for writers waiting on a full queue.
        shared.changed.notify_all();
        let taken = batch.len();
        // Stored before the watchers are told: one batch of events at a time.
        for write in batch.drain(..) {
            match write {
                Write::Task(task) => {
                    if let Err(e) = store.put_task(&task) {
                        tracing::error!(task = %task.id, "cannot store a task: {e}");
                    }
                }
                Write::Progress { head, first, steps } => {
                    if let Err(e) = store.put_progress_parts(&head, first, &steps) {
                        tracing::error!(task = %head.id, "cannot store a task: {e}");
                    }
                }
                Write::Event(event) => {
                    if let Err(e) = store.append_event(&event) {
                        tracing::error!(task = %event.task_id, "cannot store a task event: {e}");
                    }
                    stored.push(event);
                    if stored.len() >= BATCH {
                        tell(live, &mut stored);
                    }
                }
                Write::Settle { flush, done } => {
                    tell(live, &mut stored);
                    let result = if flush { store.flush() } else { Ok(()) };
                    let _ = done.send(result);
                }
            }
        }
        tell(live, &mut stored);
        shared.queue.lock().unwrap().pending -= taken;
    }
}

fn tell(live: &broadcast::Sender<TaskEvent>, stored: &mut Vec<TaskEvent>) {
    for event in stored.drain(..) {
        let _ = live.send(event);
    }
}
