//! Where plugin calls run. A call climbs down three levels as it shows how much
//! it needs, so a plugin running flat out competes only with the like of it:
//!
//! 1. **In place**, on the caller's thread, inside the plugin runtime's context
//!    (whatever it spawns, its host work, timers and sockets belong to the
//!    plugin runtimes). Most calls (a panel, a describe, a trivial template
//!    step) finish in that first poll and pay for no thread hop. A call that
//!    waits or runs on (it yields once busy for a whole epoch tick,
//!    `engine::TICK`, checked at each tick) moves on, so a plugin's code runs
//!    at the portal's priority for at most two ticks per call.
//! 2. **The plugin threads**: a tokio runtime whose threads (workers and
//!    blocking pool) the OS schedules 10 steps nicer than the portal's, so the
//!    portal's own requests (health checks, pages, the catalog API) are served
//!    first. Calls that wait for I/O and ordinary slow plugins (Python and
//!    JavaScript panels take a few milliseconds) live here.
//! 3. **The heavy threads**: a call that has been busy for `HEAVY_AFTER` on the
//!    plugin threads moves to a runtime whose threads are in the OS's idle
//!    scheduling class: they run only when nothing else wants the core. A
//!    hostile or runaway plugin ends up here within milliseconds, where it can
//!    neither delay the portal nor queue in front of well-behaved plugins.
//!    Its CPU limit still holds, and is fair: busy time is counted as the
//!    thread's CPU time (`cpu_meter`), so time it waits for the core is not
//!    charged to it.

use crate::cpu_meter::thread_cpu_nanos;
use crate::error::CallError;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;
use tokio::runtime::{Builder, Handle, Runtime};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// How much nicer the plugin threads are than the portal's: under contention
/// the OS gives a thread 10 steps nicer about a tenth of the time.
#[cfg(target_os = "linux")]
const PLUGIN_NICE: libc::c_int = 10;

/// Busy time on the plugin threads after which a call moves to the heavy
/// threads. Well above what a fresh panel call of any language takes (a
/// Python panel: 2-3 ms), well below any CPU limit.
const HEAVY_AFTER: Duration = Duration::from_millis(20);

/// How a runtime's threads are scheduled.
#[derive(Clone, Copy)]
enum Class {
    /// `PLUGIN_NICE` steps nicer than the portal.
    Nicer,
    /// The idle class (nicest possible where the OS has none).
    Idle,
}

pub(crate) struct CallRuntime {
    plugins: Option<Runtime>,
    heavy: Option<Runtime>,
}

impl CallRuntime {
    pub(crate) fn new() -> std::io::Result<CallRuntime> {
        Ok(CallRuntime {
            plugins: Some(runtime("plugin-call", Class::Nicer)?),
            heavy: Some(runtime("plugin-heavy", Class::Idle)?),
        })
    }

    /// Runs a call (in place until it first waits, then on the plugin threads,
    /// then on the heavy threads if it keeps them busy) and waits for it.
    /// Dropping the returned future (the request went away) stops the call.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        plugin: &str,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, CallError> {
        let plugins = self.plugins.as_ref().expect("running until dropped");
        let heavy = self.heavy.as_ref().expect("running until dropped").handle();
        let mut call: Pin<Box<dyn Future<Output = T> + Send>> =
            Box::pin(call.instrument(tracing::Span::current()));
        let first = std::future::poll_fn(|cx| {
            let _inside = plugins.handle().enter();
            Poll::Ready(call.as_mut().poll(cx))
        })
        .await;
        if let Poll::Ready(value) = first {
            return Ok(value);
        }
        // Whatever the call registered a waker with wakes this task once more,
        // for nothing: every later poll registers the plugin thread's waker.
        let task = plugins.spawn(on_plugin_threads(plugin.to_owned(), call, heavy.clone()));
        join(plugin, task).await?
    }
}

/// Polls `call` on the plugin threads until it ends, or until it has been busy
/// for `HEAVY_AFTER`: then it goes on on the heavy threads.
async fn on_plugin_threads<T: Send + 'static>(
    plugin: String,
    mut call: Pin<Box<dyn Future<Output = T> + Send>>,
    heavy: Handle,
) -> Result<T, CallError> {
    // Busy as the call's CPU limit counts it: the thread's CPU time, so time
    // the portal's own threads take from this one does not move it.
    let mut busy = Duration::ZERO;
    let done = std::future::poll_fn(|cx| {
        let started = thread_cpu_nanos();
        let poll = call.as_mut().poll(cx);
        busy += Duration::from_nanos(thread_cpu_nanos().saturating_sub(started));
        match poll {
            Poll::Ready(value) => Poll::Ready(Some(value)),
            Poll::Pending if busy >= HEAVY_AFTER => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await;
    match done {
        Some(value) => Ok(value),
        None => {
            tracing::debug!(
                plugin,
                busy_ms = busy.as_millis() as u64,
                "a busy call moves to the heavy threads"
            );
            join(&plugin, heavy.spawn(call)).await
        }
    }
}

/// Waits for a spawned call, stopping it if this future is dropped.
async fn join<T>(plugin: &str, task: JoinHandle<T>) -> Result<T, CallError> {
    let mut task = AbortOnDrop(task);
    match (&mut task.0).await {
        Ok(value) => Ok(value),
        Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Err(_) => Err(CallError::Internal {
            plugin: plugin.to_owned(),
            message: "the call was cancelled (the portal is shutting down)".into(),
        }),
    }
}

impl Drop for CallRuntime {
    fn drop(&mut self) {
        // Dropped from async code at shutdown: do not wait for calls in flight.
        for runtime in [self.plugins.take(), self.heavy.take()]
            .into_iter()
            .flatten()
        {
            runtime.shutdown_background();
        }
    }
}

struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn runtime(name: &str, class: Class) -> std::io::Result<Runtime> {
    // One worker per core. (Four per core was measured under two attack
    // plugins: no better for a good plugin's calls, and one cut-off came 26% late.)
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        // Timers for limits, I/O for plugins' outbound HTTP.
        .enable_all()
        .on_thread_start(move || schedule_this_thread(class))
        .build()
}

fn schedule_this_thread(class: Class) {
    #[cfg(target_os = "linux")]
    {
        if let Class::Idle = class {
            // SAFETY: sched_setscheduler reads the parameter struct we pass;
            // pid 0 is the calling thread.
            let param = libc::sched_param { sched_priority: 0 };
            if unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) } == 0 {
                return;
            }
            tracing::debug!(
                "heavy plugin threads are not in the idle class: {}",
                std::io::Error::last_os_error()
            );
        }
        // On Linux the nice value is per thread; `who = 0` is the calling thread.
        // SAFETY: getpriority and setpriority only read their integer arguments.
        unsafe {
            // Relative to the portal's own nice value: its main thread's (on
            // Linux the thread whose id is the process id), not the spawning
            // thread's, which may itself be a plugin thread.
            let portal = libc::getpriority(libc::PRIO_PROCESS, libc::getpid() as libc::id_t);
            let nice = match class {
                Class::Nicer => (portal + PLUGIN_NICE).min(19),
                Class::Idle => 19,
            };
            if libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0 {
                tracing::debug!(
                    "plugin threads run at normal priority: {}",
                    std::io::Error::last_os_error()
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = class;
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This thread's nice value.
    #[cfg(target_os = "linux")]
    fn this_threads_priority() -> libc::c_int {
        // SAFETY: getpriority only reads its integer arguments.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_runs_in_place_until_it_waits_then_on_lower_priority_threads() {
        let runtime = CallRuntime::new().unwrap();
        let ours = this_threads_priority();
        let plugins =
            (unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::getpid() as libc::id_t) }
                + PLUGIN_NICE)
                .min(19);
        let caller = std::thread::current().id();
        let (before, after) = runtime
            .run("p", async move {
                let before = (std::thread::current().id(), this_threads_priority());
                tokio::task::yield_now().await;
                (
                    before,
                    (std::thread::current().id(), this_threads_priority()),
                )
            })
            .await
            .unwrap();
        assert_eq!(before, (caller, ours), "the first poll runs in place");
        assert_ne!(after.0, caller, "after waiting it moved");
        assert_eq!(after.1, plugins);
        // Work it hands to the blocking pool, even from its first poll, runs on
        // the plugin runtime's lower-priority threads.
        let blocking = runtime
            .run("p", async {
                tokio::task::spawn_blocking(this_threads_priority)
                    .await
                    .unwrap()
            })
            .await
            .unwrap();
        assert_eq!(blocking, plugins);
    }

    #[tokio::test]
    async fn a_moved_call_is_stopped_when_its_caller_goes_away() {
        let runtime = CallRuntime::new().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let waiting = runtime.run("p", async move {
            let _held = tx;
            std::future::pending::<()>().await
        });
        // Dropped before it ends: the plugin-side task is aborted, its state dropped.
        let _ = tokio::time::timeout(Duration::from_millis(50), waiting).await;
        assert!(rx.await.is_err(), "the call's state was dropped");
    }

    /// Whether this thread is in the idle scheduling class.
    #[cfg(target_os = "linux")]
    fn this_thread_is_idle_class() -> bool {
        // SAFETY: sched_getscheduler only reads its integer argument.
        unsafe { libc::sched_getscheduler(0) == libc::SCHED_IDLE }
    }

    /// Keeps this thread busy for `for_how_long` of its CPU time.
    fn spin(for_how_long: Duration) {
        let started = thread_cpu_nanos();
        while Duration::from_nanos(thread_cpu_nanos() - started) < for_how_long {
            std::hint::spin_loop();
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_call_that_keeps_the_plugin_threads_busy_moves_to_idle_class_threads() {
        let runtime = CallRuntime::new().unwrap();
        let classes = runtime
            .run("p", async {
                let mut seen = Vec::new();
                // Busy in slices, yielding between them as an epoch tick does.
                for _ in 0..40 {
                    spin(Duration::from_millis(2));
                    seen.push(this_thread_is_idle_class());
                    tokio::task::yield_now().await;
                }
                // Its host work now runs on idle-class threads too.
                let blocking = tokio::task::spawn_blocking(this_thread_is_idle_class)
                    .await
                    .unwrap();
                (seen, blocking)
            })
            .await
            .unwrap();
        let (seen, blocking) = classes;
        assert!(!seen[0], "the first slice runs in place");
        assert!(!seen[1], "then on the plugin threads");
        let moved_at = seen.iter().position(|idle| *idle).expect("it moved");
        assert!(
            (2..=15).contains(&moved_at),
            "moved after about {HEAVY_AFTER:?} of work: slice {moved_at}"
        );
        assert!(
            seen[moved_at..].iter().all(|idle| *idle),
            "and stayed there"
        );
        assert!(blocking);
        // A call that only waits never moves: waiting is not busy.
        let idle = runtime
            .run("p", async {
                for _ in 0..5 {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                this_thread_is_idle_class()
            })
            .await
            .unwrap();
        assert!(!idle);
    }

    #[tokio::test]
    async fn a_call_moved_to_the_heavy_threads_is_stopped_when_its_caller_goes_away() {
        let runtime = CallRuntime::new().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let busy = runtime.run("p", async move {
            let _held = tx;
            loop {
                spin(Duration::from_millis(2));
                tokio::task::yield_now().await;
            }
        });
        let _ = tokio::time::timeout(Duration::from_millis(200), busy).await;
        assert!(rx.await.is_err(), "the call's state was dropped");
    }
}
