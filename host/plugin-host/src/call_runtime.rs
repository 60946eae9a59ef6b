//! Where plugin calls run: a tokio runtime of their own, whose threads (its
//! workers and its blocking pool, where host work for plugins runs) the OS
//! schedules at a lower priority than the portal's. Plugins running flat out on
//! every core then compete only among themselves: the portal's own requests
//! (health checks, pages, the catalog API) are served first.

use crate::error::CallError;
use std::future::Future;
use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;
use tracing::Instrument;

/// How much nicer plugin threads are than the portal's: under contention the
/// OS gives a thread 10 steps nicer about a tenth of the time.
#[cfg(target_os = "linux")]
const PLUGIN_NICE: libc::c_int = 10;

pub(crate) struct CallRuntime {
    runtime: Option<Runtime>,
}

impl CallRuntime {
    pub(crate) fn new() -> std::io::Result<CallRuntime> {
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

    /// Runs a call there and waits for it. Dropping the returned future (the
    /// request went away) stops the call.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        plugin: &str,
        call: impl Future<Output = T> + Send + 'static,
    ) -> Result<T, CallError> {
        let runtime = self.runtime.as_ref().expect("running until dropped");
        let mut task = AbortOnDrop(runtime.spawn(call.instrument(tracing::Span::current())));
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

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn calls_run_on_lower_priority_threads() {
        let runtime = CallRuntime::new().unwrap();
        // SAFETY: getpriority only reads its integer arguments.
        let nice = runtime
            .run("p", async {
                unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
            })
            .await
            .unwrap();
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, libc::getpid() as libc::id_t) };
        assert_eq!(nice, (ours + PLUGIN_NICE).min(19));
        let blocking = runtime
            .run("p", async {
                tokio::task::spawn_blocking(|| unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) })
                    .await
                    .unwrap()
            })
            .await
            .unwrap();
        assert_eq!(blocking, (ours + PLUGIN_NICE).min(19));
    }
}
