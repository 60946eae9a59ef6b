//! Per-call resource limits: memory through a `ResourceLimiter` that remembers
//! what tripped it, CPU through epoch ticks counted in the store (see `invoke`).

use wasmtime::ResourceLimiter;

/// Tables, instances and memories a single component instance may create. Python
/// and JavaScript components bring a dozen core modules; these leave room for that
/// while refusing runaway growth.
const MAX_TABLE_ELEMENTS: usize = 1_000_000;
const MAX_INSTANCES: usize = 100;
const MAX_TABLES: usize = 100;
const MAX_MEMORIES: usize = 20;

pub(crate) struct CallLimiter {
    memory_limit: usize,
    /// Set when the plugin asked for more memory than its limit (bytes asked for).
    pub(crate) memory_exceeded: Option<usize>,
    pub(crate) table_exceeded: bool,
}

impl CallLimiter {
    pub(crate) fn new(memory_mb: u64) -> CallLimiter {
        CallLimiter {
            memory_limit: usize::try_from(memory_mb << 20).unwrap_or(usize::MAX),
            memory_exceeded: None,
            table_exceeded: false,
        }
    }

    pub(crate) fn memory_limit_mb(&self) -> u64 {
        (self.memory_limit >> 20) as u64
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.memory_exceeded = Some(desired);
            // An error (rather than `Ok(false)`) stops the plugin at once: most
            // guest allocators abort on failure anyway, and the host can then say why.
            wasmtime::bail!(
                "memory limit of {} MiB exceeded (asked for {} MiB)",
                self.memory_limit >> 20,
                desired >> 20
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > MAX_TABLE_ELEMENTS {
            self.table_exceeded = true;
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}
