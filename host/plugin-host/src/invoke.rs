//! One call into a plugin: a fresh instance in a fresh store (nothing leaks
//! between calls; the one exception is a task's consecutive template steps on
//! one plugin, `action_session::ActionSession`), memory, CPU and wall-clock limits, and a
//! precise account of whatever went wrong. A trap, a timeout or a panic in a
//! host function fails this call only.

use crate::capabilities::{HostState, LogSink, PluginContext};
use crate::engine::EngineSet;
use crate::error::CallError;
use crate::wit::Exports;
use futures::FutureExt;
use portal_config::ExtensionLimits;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Store, Trap, UpdateDeadline};

/// What a call needs beyond the plugin itself.
pub(crate) struct CallOptions<'a> {
    pub limits: ExtensionLimits,
    /// How many bytes the host will copy out of the plugin for this call (its
    /// results; each extension point's `TRANSFER_BYTES`). Bounds host memory even
    /// when a plugin returns many references to the same bytes.
    pub max_transfer_bytes: usize,
    pub action: Option<&'a crate::capabilities::workspace::ActionScope>,
    pub log_sink: Option<LogSink>,
    /// The catalog view for this call (`None`: the plugin's own).
    pub catalog: Option<std::sync::Arc<dyn crate::services::CatalogReader>>,
}

/// The result of a call, plus what the host noticed during it.
pub(crate) struct CallReport<R> {
    pub result: Result<R, CallError>,
    pub denials: Vec<String>,
}

pub(crate) async fn invoke<R>(
    engines: &EngineSet,
    pre: &InstancePre<HostState>,
    exports: &Exports,
    context: Arc<PluginContext>,
    options: CallOptions<'_>,
    op: impl AsyncFnOnce(&mut Store<HostState>, &Instance, &Exports) -> wasmtime::Result<R>,
) -> CallReport<R> {
    let limits = options.limits;
    let transfer_limit = options.max_transfer_bytes;
    let mut store = match new_store(engines, context, options) {
        Ok(store) => store,
        Err(error) => {
            return CallReport {
                result: Err(error),
                denials: Vec::new(),
            };
        }
    };
    let (report, _) = run(
        engines,
        &mut store,
        None,
        pre,
        exports,
        limits,
        transfer_limit,
        op,
    )
    .await;
    report
}

/// A fresh store for calls into one plugin: its host state (the capabilities
/// granted, the call's log sink and directories) and the limits that hold
/// whatever the call does.
pub(crate) fn new_store(
    engines: &EngineSet,
    context: Arc<PluginContext>,
    options: CallOptions<'_>,
) -> Result<Store<HostState>, CallError> {
    let plugin = context.name.clone();
    let state = HostState::new(
        context,
        options.limits,
        options.action,
        options.log_sink,
        options.catalog,
    )
    .map_err(|message| CallError::Internal { plugin, message })?;
    let mut store = Store::new(&engines.engine, state);
    store.limiter(|state| &mut state.limiter);
    store.epoch_deadline_callback(|mut ctx| {
        // Busy time includes host work done for the plugin (`capabilities::host_work`).
        if ctx.data().call.cpu.over_budget() {
            ctx.data_mut().call.cpu_exhausted = true;
            return Err(Trap::Interrupt.into());
        }
        // Yield to the async runtime once the call has been busy for a whole
        // tick since it last did, so a busy plugin shares the worker thread
        // with everything else. (Yielding at the first tick whatever the call
        // had done sent one short call in twenty-five, the ones a tick
        // happened to fall into, to the plugin threads for nothing: the
        // fresh-call p99 in `portal-bench plugins`.)
        let used = ctx.data().call.cpu.used();
        let call = &mut ctx.data_mut().call;
        if used.saturating_sub(call.busy_at_last_yield) < crate::engine::TICK {
            return Ok(UpdateDeadline::Continue(1));
        }
        call.busy_at_last_yield = used;
        Ok(UpdateDeadline::Yield(1))
    });
    Ok(store)
}

/// Runs one call on `store`: on `warm`, an instance an earlier call on this
/// store left (`action_session::ActionSession`), else on a new instance of `pre`.
/// Gives back the instance when the call ended normally, so it can serve
/// the next one; after a trap, a limit or a timeout it is never used again.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run<R>(
    engines: &EngineSet,
    store: &mut Store<HostState>,
    warm: Option<Instance>,
    pre: &InstancePre<HostState>,
    exports: &Exports,
    limits: ExtensionLimits,
    transfer_limit: usize,
    op: impl AsyncFnOnce(&mut Store<HostState>, &Instance, &Exports) -> wasmtime::Result<R>,
) -> (CallReport<R>, Option<Instance>) {
    let plugin = store.data().plugin.name.clone();
    // Before the call starts, until after it ends: its epoch deadline (the
    // CPU limit, yields) depends on the epoch advancing.
    let _ticking = engines.ticker.ticking();
    store.set_hostcall_fuel(transfer_limit);
    store.set_epoch_deadline(1);
    let meter = store.data().call.cpu.clone();

    let started = Instant::now();
    let run = async {
        let instance = match warm {
            Some(instance) => instance,
            None => pre.instantiate_async(&mut *store).await?,
        };
        let value = op(&mut *store, &instance, exports).await?;
        Ok::<_, wasmtime::Error>((value, instance))
    };
    let guarded = meter.measure(AssertUnwindSafe(run).catch_unwind());
    let outcome = tokio::time::timeout(Duration::from_millis(limits.timeout_ms), guarded).await;
    if store.data().call.cpu_exhausted {
        tracing::info!(
            plugin,
            busy_ms = meter.used().as_millis() as u64,
            wall_ms = started.elapsed().as_millis() as u64,
            limit_ms = limits.cpu_ms,
            "call stopped at its CPU limit"
        );
    }

    let state = store.data();
    let denials = state.denials();
    let (result, instance) = match outcome {
        Err(_) => (
            Err(CallError::Timeout {
                plugin,
                limit_ms: limits.timeout_ms,
            }),
            None,
        ),
        Ok(Err(panic)) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(
                plugin,
                "host function panicked during a plugin call: {message}"
            );
            (
                Err(CallError::Internal {
                    plugin,
                    message: format!("a host function failed: {message}"),
                }),
                None,
            )
        }
        Ok(Ok(Ok((value, instance)))) => (Ok(value), Some(instance)),
        Ok(Ok(Err(error))) => (
            Err(classify(&plugin, error, state, limits, transfer_limit)),
            None,
        ),
    };
    (CallReport { result, denials }, instance)
}

/// Turns a wasmtime error into the specific reason, using what the store saw.
fn classify(
    plugin: &str,
    error: wasmtime::Error,
    state: &HostState,
    limits: ExtensionLimits,
    transfer_limit: usize,
) -> CallError {
    let plugin = plugin.to_owned();
    if let Some(requested) = state.limiter.memory_exceeded {
        return CallError::MemoryLimit {
            plugin,
            limit_mb: state.limiter.memory_limit_mb(),
            requested_mb: (requested >> 20) as u64,
        };
    }
    if state.call.cpu_exhausted {
        return CallError::CpuLimit {
            plugin,
            limit_ms: limits.cpu_ms,
        };
    }
    let output = state.output.text();
    match error.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => CallError::StackOverflow { plugin },
        Some(Trap::Interrupt) => CallError::CpuLimit {
            plugin,
            limit_ms: limits.cpu_ms,
        },
        Some(trap) => {
            let mut message = match trap {
                Trap::UnreachableCodeReached => "it aborted (panic or unreachable code)".to_owned(),
                // Rust and C keep their stack in linear memory, below the data;
                // runaway recursion there ends as an access below address 0.
                Trap::MemoryOutOfBounds => {
                    "it accessed memory out of bounds (in Rust, C and similar plugins this is usually a stack overflow from runaway recursion)".to_owned()
                }
                other => other.to_string(),
            };
            if let Some(explanation) = last_words(&output) {
                message.push_str(": ");
                message.push_str(&explanation);
            }
            CallError::Trap { plugin, message }
        }
        None if format!("{error:#}").contains("too much data is being copied") => {
            CallError::InvalidOutput {
                plugin,
                reason: format!(
                    "it returned more data than the host copies for one call ({} MiB)",
                    transfer_limit >> 20
                ),
            }
        }
        None => {
            let mut message = format!("{error:#}");
            if let Some(explanation) = last_words(&output) {
                message.push_str(": ");
                message.push_str(&explanation);
            }
            CallError::Trap { plugin, message }
        }
    }
}

/// The end of what the plugin printed before it died (a panic message, a Python
/// traceback), shortened for an error message.
fn last_words(output: &str) -> Option<String> {
    if output.is_empty() {
        return None;
    }
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    let start = lines.len().saturating_sub(6);
    let tail = lines[start..].join(" | ");
    let mut tail = tail.chars().take(1_000).collect::<String>();
    if tail.len() < output.len() && start > 0 {
        tail.insert_str(0, "… ");
    }
    Some(tail)
}
