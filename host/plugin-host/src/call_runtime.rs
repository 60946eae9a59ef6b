//! Where plugin calls run: a tokio runtime of their own, whose threads (its
//! workers and its blocking pool, where host work for plugins runs) the OS
//! schedules at a lower priority than the portal's. Plugins running flat out on
//! every core then compete only among themselves: the portal's own requests
//! (health checks, pages, the catalog API) are served first.
//!
//! A call starts in place, on the caller's thread, inside the plugin runtime's
//! context (whatever it spawns, its host work, timers and sockets belong to the
//! plugin runtime). Most calls (a panel, a describe) finish in that first poll
//! and never pay for two thread hops, nor queue behind long calls of other
//! plugins. A call that waits or runs on (it yields at the first epoch tick,
//! `engine::TICK`) moves to the plugin threads for the rest of its life, so a
//! plugin's code runs at the portal's priority for at most one tick per call.

use crate::error::CallError;
use std::future::Future;
use std::task::Poll;
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// How much nicer plugin threads are than the portal's: under contention the
/// OS gives a thread 10 steps nicer about a tenth of the time. (The idle
/// scheduling class was measured too: the portal's p99 under two attack
/// plugins fell from 3.4x to 1.1-2.0x idle, but a busy portal then starves
/// every plugin, and since a call's CPU budget is counted as busy elapsed time
/// (`cpu_meter`), Python and JavaScript panels were stopped at their CPU limit
/// while other work ran. It needs per-thread CPU time metering first.)
#[cfg(target_os = "linux")]
const PLUGIN_NICE: libc::c_int = 10;

pub(crate) struct CallRuntime {
    runtime: Option<Runtime>,
}

impl CallRuntime {
    pub(crate) fn new() -> std::io::Result<CallRuntime> {
        // One per core. (Four per core was measured under two attack plugins:
        // no better for a good plugin's calls, and one cut-off came 26% late.)
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let runtime = Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("plugin-call")
            // Timers for limits, I/O for plugins' outbound HTTP.
            .enable_all()
            .on_thread_start(lower_this_threads_priority)
            .build()?;
        Ok(CallRuntime {
            runtime: Some(runtime),
        })
    }

    /// Runs a call (in place until it first waits, then on the plugin threads)
    /// and waits for it. Dropping the returned future (the request went away)
    /// stops the call.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        plugin: &str,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, CallError> {
        let runtime = self.runtime.as_ref().expect("running until dropped");
        let mut call = Box::pin(call.instrument(tracing::Span::current()));
        let first = std::future::poll_fn(|cx| {
            let _inside = runtime.handle().enter();
            Poll::Ready(call.as_mut().poll(cx))
        })
        .await;
        if let Poll::Ready(value) = first {
            return Ok(value);
        }
        // Whatever the call registered a waker with wakes this task once more,
        // for nothing: every later poll registers the plugin thread's waker.
        self.finish_on_plugin_threads(plugin, call).await
    }

    async fn finish_on_plugin_threads<T: Send + 'static>(
        &self,
        plugin: &str,
        call: std::pin::Pin<Box<impl Future<Output = T> + Send + 'static>>,
    ) -> Result<T, CallError> {
        let runtime = self.runtime.as_ref().expect("running until dropped");
        let mut task = AbortOnDrop(runtime.spawn(call));
        match (&mut task.0).await {
            Ok(value) => Ok(value),
            Err(join) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
            Err(_) => Err(CallError::Internal {
                plugin: plugin.to_owned(),
                message: "the call was cancelled (the portal is shutting down)".into(),
            }),
        }
    }
}

impl Drop for CallRuntime {
    fn drop(&mut self) {
        // Dropped from async code at shutdown: do not wait for calls in flight.
        if let Some(runtime) = self.runtime.take() {
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

fn lower_this_threads_priority() {
    // On Linux the nice value is per thread; `who = 0` is the calling thread.
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority only reads its integer arguments.
    unsafe {
        // Relative to the portal's own nice value: its main thread's (on Linux
        // the thread whose id is the process id), not the spawning thread's,
        // which may itself be a plugin thread.
        let portal = libc::getpriority(libc::PRIO_PROCESS, libc::getpid() as libc::id_t);
        let nice = (portal + PLUGIN_NICE).min(19);
        if libc::setpriority(libc::PRIO_PROCESS, 0, nice) != 0 {
            tracing::debug!(
                "plugin threads run at normal priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
}
