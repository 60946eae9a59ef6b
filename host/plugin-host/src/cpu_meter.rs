//! The busy time of one plugin call: what its CPU limit is counted against.
//!
//! A call is busy while its future is being polled (the plugin's own code,
//! host functions' work on the async worker, wasmtime copying arguments in and
//! results out) and from the moment it asks for host work on the blocking pool
//! until it runs again (`capabilities::host_work`). Waiting is not busy: for a
//! worker, a host-work slot or an HTTP answer; the call's wall-clock timeout
//! bounds those.
//!
//! A poll is measured as the polling thread's CPU time, to the nanosecond, so many
//! short host calls add up exactly, and time the thread waits for a core (the
//! heavy plugin threads run only when the portal leaves a core idle,
//! `call_runtime`) is not charged to the plugin. Host work is charged as elapsed
//! time, trips included. The epoch callback compares the total with the budget on
//! every tick the plugin's code runs, so a call ends within one tick of its limit
//! whatever it is doing.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// No segment is open (`segment_start` holds the polling thread's CPU time plus one).
const IDLE: u64 = 0;

pub(crate) struct CpuMeter {
    budget: Duration,
    /// Busy nanoseconds of closed segments and host work.
    used: AtomicU64,
    /// The polling thread's CPU time when the open poll segment began, or `IDLE`.
    segment_start: AtomicU64,
}

impl Default for CpuMeter {
    fn default() -> Self {
        CpuMeter::new(Duration::ZERO)
    }
}

impl CpuMeter {
    pub(crate) fn new(budget: Duration) -> CpuMeter {
        CpuMeter {
            budget,
            used: AtomicU64::new(0),
            segment_start: AtomicU64::new(IDLE),
        }
    }

    /// Busy time so far, the open segment included. While a poll is open this
    /// is only asked on the polling thread (by the epoch callback and host
    /// functions), whose CPU time the open segment is.
    pub(crate) fn used(&self) -> Duration {
        let closed = self.used.load(Ordering::Relaxed);
        let open = match self.segment_start.load(Ordering::Relaxed) {
            IDLE => 0,
            start => thread_cpu_nanos().saturating_sub(start - 1),
        };
        Duration::from_nanos(closed.saturating_add(open))
    }

    pub(crate) fn over_budget(&self) -> bool {
        self.used() > self.budget
    }

    pub(crate) fn remaining(&self) -> Duration {
        self.budget.saturating_sub(self.used())
    }

    /// Adds busy time measured elsewhere (host work on another thread).
    pub(crate) fn charge(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        self.used.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Runs `call`, counting every poll of it as busy.
    pub(crate) async fn measure<F: Future>(&self, call: F) -> F::Output {
        let mut call = pin!(call);
        std::future::poll_fn(|cx| {
            self.segment_start
                .store(thread_cpu_nanos() + 1, Ordering::Relaxed);
            let poll = call.as_mut().poll(cx);
            let start = self.segment_start.swap(IDLE, Ordering::Relaxed);
            self.charge(Duration::from_nanos(
                thread_cpu_nanos().saturating_sub(start - 1),
            ));
            poll
        })
        .await
    }
}

/// The CPU time this thread has used, in nanoseconds.
#[cfg(unix)]
pub(crate) fn thread_cpu_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes the timespec we own.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    if !ok {
        return 0;
    }
    (now.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(now.tv_nsec as u64)
}

/// Elsewhere, elapsed time since the first call: time lost to the OS is charged.
#[cfg(not(unix))]
pub(crate) fn thread_cpu_nanos() -> u64 {
    static ORIGIN: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let origin = ORIGIN.get_or_init(std::time::Instant::now);
    u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_host_work_adds_up_to_the_nanosecond() {
        let meter = CpuMeter::new(Duration::from_millis(10));
        // A thousand 9 µs storage calls are 9 ms, not zero ticks.
        for _ in 0..1_000 {
            meter.charge(Duration::from_micros(9));
        }
        assert_eq!(meter.used(), Duration::from_millis(9));
        assert!(!meter.over_budget());
        assert_eq!(meter.remaining(), Duration::from_millis(1));
        meter.charge(Duration::from_millis(2));
        assert!(meter.over_budget());
        assert_eq!(meter.remaining(), Duration::ZERO);
    }

    #[tokio::test]
    async fn polls_are_busy_and_waits_are_not() {
        let meter = CpuMeter::new(Duration::from_secs(1));
        meter
            .measure(async {
                // Busy inside a poll: counted, and visible while it runs.
                let started = thread_cpu_nanos();
                while thread_cpu_nanos() - started < 30_000_000 {
                    std::hint::spin_loop();
                }
                assert!(meter.used() >= Duration::from_millis(30));
                // Waiting between polls: not counted.
                tokio::time::sleep(Duration::from_millis(200)).await;
                // Nor is a thread that waits inside a poll (for the core, or
                // blocked in the OS): it uses no CPU.
                std::thread::sleep(Duration::from_millis(200));
            })
            .await;
        let used = meter.used();
        assert!(
            used >= Duration::from_millis(30) && used < Duration::from_millis(150),
            "{used:?}"
        );
    }
}
