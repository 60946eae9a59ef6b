//! The busy time of one plugin call: what its CPU limit is counted against.
//!
//! A call is busy while its future is being polled (the plugin's own code,
//! host functions' work on the async worker, wasmtime copying arguments in and
//! results out) and from the moment it asks for host work on the blocking pool
//! until it runs again (`capabilities::host_work`). Waiting is not busy: for a
//! worker, a host-work slot or an HTTP answer; the call's wall-clock timeout
//! bounds those.
//!
//! Busy time is measured as elapsed time, to the nanosecond, so many short host
//! calls add up exactly, and time a busy thread loses to the OS counts against the
//! plugin, never for it. The epoch callback compares it with the budget on every
//! tick the plugin's code runs, so a call ends within one tick of its limit
//! whatever it is doing.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// No segment is open (`segment_start` holds nanoseconds since `origin` plus one).
const IDLE: u64 = 0;

pub(crate) struct CpuMeter {
    origin: Instant,
    budget: Duration,
    /// Busy nanoseconds of closed segments and host work.
    used: AtomicU64,
    /// When the open poll segment began, or `IDLE`.
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
            origin: Instant::now(),
            budget,
            used: AtomicU64::new(0),
            segment_start: AtomicU64::new(IDLE),
        }
    }

    /// Busy time so far, the open segment included.
    pub(crate) fn used(&self) -> Duration {
        let closed = self.used.load(Ordering::Relaxed);
        let open = match self.segment_start.load(Ordering::Relaxed) {
            IDLE => 0,
            start => self.now().saturating_sub(start - 1),
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
            self.segment_start.store(self.now() + 1, Ordering::Relaxed);
            let poll = call.as_mut().poll(cx);
            let start = self.segment_start.swap(IDLE, Ordering::Relaxed);
            self.charge(Duration::from_nanos(self.now().saturating_sub(start - 1)));
            poll
        })
        .await
    }

    fn now(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
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
                let started = Instant::now();
                while started.elapsed() < Duration::from_millis(30) {
                    std::hint::spin_loop();
                }
                assert!(meter.used() >= Duration::from_millis(30));
                // Waiting between polls: not counted.
                tokio::time::sleep(Duration::from_millis(200)).await;
            })
            .await;
        let used = meter.used();
        assert!(
            used >= Duration::from_millis(30) && used < Duration::from_millis(150),
            "{used:?}"
        );
    }
}
