//! The wasmtime engines: one Cranelift engine (optimised code, pooling allocator)
//! and, when the fast first tier is on, one Winch engine (baseline code that
//! compiles several times faster) for large plugins while Cranelift works in the
//! background. Also the epoch ticker that enforces CPU limits.

use crate::capabilities::HostState;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use wasmtime::component::Linker;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Strategy};

/// How often the epoch advances while calls run: a running plugin's CPU budget
/// is checked this often, and it yields its thread to other calls once it has
/// been busy this long (`invoke`). It also bounds how long a call runs in
/// place, at the portal's priority, before it moves to the plugin threads
/// (`call_runtime`): two ticks at most.
pub(crate) const TICK: Duration = Duration::from_millis(1);

/// Memory a freed pooling slot keeps resident (see `base_config`). Bounded
/// in total by the pool's warm slots, and only slots in use are ever touched.
const KEEP_RESIDENT_BYTES: usize = 1 << 20;

/// Which compiler produced a plugin's machine code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Optimised code; what every plugin ends up running.
    Cranelift,
    /// Baseline code from the fast compiler, until Cranelift's is ready.
    Winch,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Cranelift => "cranelift",
            Tier::Winch => "winch",
        }
    }
}

/// An engine and the linker holding every host function, for one tier.
pub(crate) struct EngineSet {
    pub engine: Engine,
    pub linker: Linker<HostState>,
    /// Hold a `Ticking` while code of this engine may run.
    pub ticker: TickerHandle,
}

pub(crate) struct Engines {
    pub cranelift: EngineSet,
    pub winch: Option<EngineSet>,
    pub pooling: bool,
    _ticker: EpochTicker,
}

impl Engines {
    /// `max_memory_mb` is the largest per-call memory limit any plugin may get; the
    /// pooling allocator reserves that much address space per slot.
    pub(crate) fn new(fast_first_tier: bool, max_memory_mb: u64) -> wasmtime::Result<Engines> {
        let (cranelift, pooling) =
            match Engine::new(&base_config(Strategy::Cranelift, Some(max_memory_mb))) {
                Ok(engine) => (engine, true),
                Err(e) => {
                    tracing::warn!(
                        "pooling allocator unavailable ({e}); using on-demand allocation"
                    );
                    (Engine::new(&base_config(Strategy::Cranelift, None))?, false)
                }
            };
        let winch = if fast_first_tier {
            match Engine::new(&base_config(Strategy::Winch, None)) {
                Ok(engine) => Some(engine),
                Err(e) => {
                    tracing::warn!(
                        "Winch unavailable on this machine ({e}); compiling with Cranelift only"
                    );
                    None
                }
            }
        } else {
            None
        };
        let mut tick_engines = vec![cranelift.clone()];
        tick_engines.extend(winch.clone());
        let ticker = EpochTicker::start(tick_engines);
        Ok(Engines {
            cranelift: EngineSet {
                linker: crate::wit::linker(&cranelift)?,
                engine: cranelift,
                ticker: ticker.handle.clone(),
            },
            winch: winch
                .map(|engine| -> wasmtime::Result<EngineSet> {
                    Ok(EngineSet {
                        linker: crate::wit::linker(&engine)?,
                        engine,
                        ticker: ticker.handle.clone(),
                    })
                })
                .transpose()?,
            pooling,
            _ticker: ticker,
        })
    }

    pub(crate) fn get(&self, tier: Tier) -> &EngineSet {
        match (tier, &self.winch) {
            (Tier::Winch, Some(winch)) => winch,
            _ => &self.cranelift,
        }
    }
}

fn base_config(strategy: Strategy, pool_memory_mb: Option<u64>) -> Config {
    let mut config = Config::new();
    config.strategy(strategy);
    config.wasm_component_model(true);
    // CPU limits: the epoch is checked at every loop back-edge and function entry.
    config.epoch_interruption(true);
    // Deep recursion traps cleanly instead of touching the host's stack.
    config.max_wasm_stack(1 << 20);
    config.async_stack_size(4 << 20);
    if let Some(max_memory_mb) = pool_memory_mb {
        let mut pool = PoolingAllocationConfig::default();
        // Enough for many concurrent calls, each a fresh instance. Python and
        // JavaScript components hold a dozen core instances each.
        pool.total_component_instances(1_000);
        pool.total_core_instances(10_000);
        pool.total_memories(2_000);
        pool.total_tables(5_000);
        pool.max_core_instances_per_component(64);
        pool.max_memories_per_component(16);
        pool.max_tables_per_component(64);
        pool.table_elements(1_000_000);
        pool.max_component_instance_size(4 << 20);
        pool.max_core_instance_size(4 << 20);
        pool.max_memory_size(usize::try_from(max_memory_mb << 20).unwrap_or(usize::MAX));
        // A freed slot keeps the pages a call touched (up to this much) and
        // resets them in place, where the kernel can tell which were touched
        // (PAGEMAP_SCAN), instead of returning them to the OS: the next call's
        // instance then takes no page faults. Measured on a trivial template
        // step, page faults after `madvise` were the largest part of a fresh
        // instance's cost.
        pool.linear_memory_keep_resident(KEEP_RESIDENT_BYTES);
        pool.table_keep_resident(KEEP_RESIDENT_BYTES / 16);
        pool.pagemap_scan(wasmtime::Enabled::Auto);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Advances the engines' epochs every `TICK` on a thread of its own, while
/// any call runs (an idle portal is not woken a thousand times a second),
/// until dropped.
struct EpochTicker {
    handle: TickerHandle,
}

/// What calls use to keep the ticker going.
#[derive(Clone)]
pub(crate) struct TickerHandle {
    shared: Arc<TickerShared>,
}

struct TickerShared {
    /// Calls running now: the ticker ticks while this is above zero.
    running: AtomicUsize,
    stop: AtomicBool,
    thread: std::sync::OnceLock<std::thread::Thread>,
    /// Ticks so far.
    ticks: std::sync::atomic::AtomicU64,
}

impl TickerHandle {
    /// Keeps the epoch advancing until the returned guard is dropped. Every
    /// call holds one from before its store exists until it is gone, so its
    /// CPU limit and its yields work as ever.
    pub(crate) fn ticking(&self) -> Ticking {
        if self.shared.running.fetch_add(1, Ordering::SeqCst) == 0
            && let Some(thread) = self.shared.thread.get()
        {
            thread.unpark();
        }
        Ticking {
            shared: self.shared.clone(),
        }
    }
}

pub(crate) struct Ticking {
    shared: Arc<TickerShared>,
}

impl Drop for Ticking {
    fn drop(&mut self) {
        self.shared.running.fetch_sub(1, Ordering::SeqCst);
    }
}

impl EpochTicker {
    fn start(engines: Vec<Engine>) -> EpochTicker {
        let shared = Arc::new(TickerShared {
            running: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            thread: std::sync::OnceLock::new(),
            ticks: std::sync::atomic::AtomicU64::new(0),
        });
        let ticker = shared.clone();
        let thread = std::thread::Builder::new()
            .name("portal-epoch".into())
            .spawn(move || {
                while !ticker.stop.load(Ordering::Relaxed) {
                    if ticker.running.load(Ordering::SeqCst) == 0 {
                        // Woken by the next call's `ticking` (an unpark
                        // that comes first makes this return at once).
                        std::thread::park();
                        continue;
                    }
                    std::thread::sleep(TICK);
                    for engine in &engines {
                        engine.increment_epoch();
                    }
                    ticker.ticks.fetch_add(1, Ordering::Relaxed);
                }
            })
            .expect("spawning the epoch thread");
        let _ = shared.thread.set(thread.thread().clone());
        EpochTicker {
            handle: TickerHandle { shared },
        }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.handle.shared.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.handle.shared.thread.get() {
            thread.unpark();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_epoch_advances_only_while_a_call_runs() {
        let ticker = EpochTicker::start(vec![Engine::default()]);
        let ticks = || ticker.handle.shared.ticks.load(Ordering::Relaxed);
        let wait = || std::thread::sleep(TICK * 30);
        wait();
        let idle = ticks();
        wait();
        assert!(ticks() <= idle + 1, "an idle ticker sleeps");
        let call = ticker.handle.ticking();
        let second = ticker.handle.ticking();
        wait();
        let running = ticks();
        assert!(
            running >= idle + 5,
            "ticks while calls run: {idle} -> {running}"
        );
        drop(call);
        wait();
        assert!(ticks() >= running + 5, "one call still runs");
        drop(second);
        wait();
        let after = ticks();
        wait();
        assert!(ticks() <= after + 1, "idle again");
    }
}
