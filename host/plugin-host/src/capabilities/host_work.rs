//! Host work done for a plugin that can take long (catalog queries, storage):
//! `run` runs it on tokio's blocking pool, never on an async worker, so the portal
//! keeps answering and the call's wall-clock timeout can fire while it runs.
//! Its time is charged to the calling plugin's busy time (`cpu_meter`), and the plugin's
//! call ends (a CPU-limit trap) at the moment that budget runs out, whether the
//! time went to the plugin's own code or to host work.
//!
//! Work that outlives its call (it cannot be cancelled once started) keeps its
//! place in the plugin's `host_work` semaphore until it finishes, so a plugin
//! cannot pile up abandoned work: at most `HOST_WORK_PER_PLUGIN` run at once.

use super::HostState;
use std::time::Instant;
use wasmtime::Trap;

/// Runs `work` off the async workers and charges its time to the call. Returns
/// a trap (the CPU limit) when the call's budget runs out before or during it.
pub(crate) async fn run<T: Send + 'static>(
    state: &mut HostState,
    work: impl FnOnce() -> T + Send + 'static,
) -> wasmtime::Result<T> {
    let meter = state.call.cpu.clone();
    if meter.over_budget() {
        return Err(exhausted(state));
    }
    // Waiting for a slot is not busy time: only the wall-clock timeout bounds it.
    let permit = state
        .plugin
        .usage
        .host_work
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| wasmtime::format_err!("the plugin host is shutting down"))?;
    let remaining = meter.remaining();
    // Charged from the moment the work is asked for until the plugin runs
    // again: the work itself, and its trips to and from the blocking pool. A
    // plugin that makes many short host calls pays for each trip, so its call
    // ends at its limit in wall-clock terms too.
    let started = Instant::now();
    let task = tokio::task::spawn_blocking(move || {
        let _slot = permit;
        work()
    });
    let outcome = tokio::time::timeout(remaining, task).await;
    meter.charge(started.elapsed());
    match outcome {
        Ok(Ok(value)) if !meter.over_budget() => Ok(value),
        Ok(Ok(_)) | Err(_) => Err(exhausted(state)),
        // A panic in host work fails this call as a host-function panic would.
        Ok(Err(join)) if join.is_panic() => std::panic::resume_unwind(join.into_panic()),
        Ok(Err(_)) => Err(wasmtime::format_err!(
            "host work was cancelled (the portal is shutting down)"
        )),
    }
}

/// Runs work whose cost is bounded by its (size-limited) arguments, such as one
/// entity looked up by its ref, right here: a trip to the blocking pool would
/// cost more than the work. Its time is busy time of the call's poll, charged
/// like the plugin's own code.
pub(crate) fn inline<T>(state: &mut HostState, work: impl FnOnce() -> T) -> wasmtime::Result<T> {
    if state.call.cpu.over_budget() {
        return Err(exhausted(state));
    }
    let value = work();
    if state.call.cpu.over_budget() {
        return Err(exhausted(state));
    }
    Ok(value)
}

fn exhausted(state: &mut HostState) -> wasmtime::Error {
    state.call.cpu_exhausted = true;
    Trap::Interrupt.into()
}
