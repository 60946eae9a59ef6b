//! Everything a plugin can reach, one module per capability. Each call gets a fresh
//! `HostState`; what it holds is exactly what the portal's configuration granted
//! the plugin, and nothing else (no preopened directories, no environment, no
//! sockets, HTTP only to granted hosts).

pub(crate) mod catalog;
pub(crate) mod config;
pub(crate) mod git;
pub(crate) mod host_work;
pub(crate) mod http;
pub(crate) mod log;
pub(crate) mod output;
pub(crate) mod storage;
pub(crate) mod workspace;

use crate::cpu_meter::CpuMeter;
use crate::limits::CallLimiter;
use crate::model::CapabilityRequests;
use crate::services::Services;
use portal_config::{
    ExtensionLimits, Grant, HostPattern, PluginsConfig, Quotas, Secrets, TargetPrefixes,
};
use serde::Serialize;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

/// Why a host function refused. Each WIT version maps this onto its own
/// `host-error` variant.
#[derive(Debug, Clone)]
pub(crate) enum HostCallError {
    Denied(String),
    Invalid(String),
    LimitExceeded(String),
    Unavailable(String),
}

/// How a host function ends when it does not return a value: refused (the
/// plugin gets a `host-error` and carries on), or a trap that ends the call
/// (its CPU budget ran out during host work).
#[derive(Debug)]
pub(crate) enum HostFailure {
    Refused(HostCallError),
    Trap(wasmtime::Error),
}

impl From<HostCallError> for HostFailure {
    fn from(e: HostCallError) -> Self {
        HostFailure::Refused(e)
    }
}

impl From<wasmtime::Error> for HostFailure {
    fn from(e: wasmtime::Error) -> Self {
        HostFailure::Trap(e)
    }
}

/// A sink for a plugin's log lines during one call (a template task's live log).
pub type LogSink = Arc<dyn Fn(crate::LogLevel, &str) + Send + Sync>;

/// What one plugin may use. The operator's grant is authoritative: HTTP hosts,
/// secrets and config values are exactly what `plugins.grants.<name>` lists. What
/// the plugin requests is shown next to it, and anything requested but not granted
/// is reported so the operator can decide. Catalog reads and storage come from
/// `default_grants` for plugins that request them, unless the grant overrides.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveGrants {
    pub http_hosts: Vec<String>,
    pub secrets: BTreeSet<String>,
    pub config_keys: Vec<String>,
    pub catalog_read: bool,
    pub storage: bool,
    /// Prefixes of the git remotes it may push to.
    pub git_remotes: Vec<String>,
    /// Prefixes of the catalog locations it may register.
    pub register_locations: Vec<String>,
    #[serde(skip)]
    http_patterns: Vec<HostPattern>,
    #[serde(skip)]
    pub(crate) git_targets: TargetPrefixes,
    #[serde(skip)]
    pub(crate) register_targets: TargetPrefixes,
}

impl EffectiveGrants {
    /// Nothing at all: what a plugin runs with before the host knows its name.
    pub(crate) fn none() -> EffectiveGrants {
        EffectiveGrants::default()
    }

    /// The grants, and what was requested but not granted (for the operator).
    pub(crate) fn compute(
        requests: &CapabilityRequests,
        grant: &Grant,
        config: &PluginsConfig,
    ) -> (EffectiveGrants, Vec<String>) {
        let mut missing = Vec::new();
        let http_patterns: Vec<HostPattern> = grant
            .allowed_hosts
            .iter()
            .filter_map(|p| HostPattern::parse(p).ok())
            .collect();
        for host in &requests.http_hosts {
            if !grant
                .allowed_hosts
                .iter()
                .any(|g| g.eq_ignore_ascii_case(host))
            {
                missing.push(format!(
                    "HTTP host `{host}` (plugins.grants.<name>.allowed_hosts)"
                ));
            }
        }
        for secret in &requests.secrets {
            if !grant.secrets.contains(secret) {
                missing.push(format!("secret `{secret}` (plugins.grants.<name>.secrets)"));
            }
        }
        for key in &requests.config_keys {
            if !grant.config.contains_key(key) {
                missing.push(format!(
                    "config value `{key}` (plugins.grants.<name>.config)"
                ));
            }
        }
        let catalog_read = grant
            .catalog_read
            .unwrap_or(config.default_grants.catalog_read && requests.catalog_read);
        let storage = grant
            .storage
            .unwrap_or(config.default_grants.storage && requests.storage);
        if requests.catalog_read && !catalog_read {
            missing.push("catalog read access (plugins.grants.<name>.catalog_read)".into());
        }
        if requests.storage && !storage {
            missing.push("private storage (plugins.grants.<name>.storage)".into());
        }
        let grants = EffectiveGrants {
            http_hosts: grant.allowed_hosts.clone(),
            secrets: grant.secrets.iter().cloned().collect(),
            config_keys: grant.config.keys().cloned().collect(),
            catalog_read,
            storage,
            git_remotes: grant.git_remotes.clone(),
            register_locations: grant.register_locations.clone(),
            http_patterns,
            // Validated with the configuration; an invalid prefix grants nothing.
            git_targets: TargetPrefixes::parse(&grant.git_remotes).unwrap_or_default(),
            register_targets: TargetPrefixes::parse(&grant.register_locations).unwrap_or_default(),
        };
        (grants, missing)
    }

    /// Whether an outbound request to `scheme://host:port` is allowed.
    pub(crate) fn allows_http(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        self.http_patterns
            .iter()
            .any(|p| p.matches(scheme, host, port))
    }
}

/// Per-plugin context shared by every call into one loaded version of a plugin.
pub(crate) struct PluginContext {
    pub name: String,
    pub grants: EffectiveGrants,
    pub config_values: serde_json::Map<String, serde_json::Value>,
    pub services: Services,
    pub secrets: Arc<Secrets>,
    /// The operator's quotas for this plugin (`plugins.quotas`, overrides applied).
    pub quotas: Quotas,
    /// What the plugin has used across calls (log window, host work running).
    pub usage: Arc<PluginUsage>,
}

/// What one loaded plugin uses across its calls.
pub(crate) struct PluginUsage {
    pub log: Mutex<log::LogWindow>,
    /// Host work (catalog, storage) of this plugin running on the blocking pool
    /// at once, including work whose call already ended: it cannot pile up.
    pub host_work: Arc<tokio::sync::Semaphore>,
}

/// Blocking host calls one plugin may have running at once.
const HOST_WORK_PER_PLUGIN: usize = 2;

impl Default for PluginUsage {
    fn default() -> Self {
        PluginUsage {
            log: Mutex::new(log::LogWindow::default()),
            host_work: Arc::new(tokio::sync::Semaphore::new(HOST_WORK_PER_PLUGIN)),
        }
    }
}

/// A plugin's quotas and what it uses of them, for its status (`GET /api/plugins`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuotaStatus {
    pub limits: Quotas,
    pub storage_bytes: u64,
    pub storage_keys: u64,
    pub log_lines_in_window: u64,
    pub log_bytes_in_window: u64,
    /// Log lines dropped over the quota since the plugin was loaded.
    pub log_lines_dropped: u64,
}

impl PluginContext {
    /// The context `describe` runs in: the plugin's name is not known yet, so it
    /// gets no capabilities at all.
    pub(crate) fn anonymous(label: &str, services: Services) -> PluginContext {
        PluginContext {
            name: label.to_owned(),
            grants: EffectiveGrants::none(),
            config_values: Default::default(),
            services,
            secrets: Arc::new(Secrets::default()),
            quotas: Quotas::default(),
            usage: Arc::default(),
        }
    }

    /// The plugin's quotas and its use of them.
    pub(crate) fn quota_status(&self) -> QuotaStatus {
        let storage = self.services.kv.usage(&self.name).unwrap_or_default();
        let log = self.usage.log.lock().unwrap_or_else(|e| e.into_inner());
        QuotaStatus {
            limits: self.quotas.clone(),
            storage_bytes: storage.bytes,
            storage_keys: storage.keys,
            log_lines_in_window: log.lines,
            log_bytes_in_window: log.bytes,
            log_lines_dropped: log.dropped_total,
        }
    }
}

/// Per-call bookkeeping the host reads after the call to explain a failure.
#[derive(Default)]
pub(crate) struct CallState {
    /// The call's busy time against its CPU budget: the plugin's own code and
    /// the host's work for it alike.
    pub cpu: Arc<CpuMeter>,
    pub cpu_exhausted: bool,
    /// Busy time when the call last yielded its thread (`invoke`).
    pub busy_at_last_yield: Duration,
    pub catalog_calls: u64,
    pub catalog_bytes: u64,
    pub log_lines: u32,
    pub log_sink: Option<LogSink>,
    /// Capabilities the plugin tried to use and was refused, for the operator.
    pub denials: Vec<String>,
    /// Set for a template action: its workspace, and whether it is a dry run.
    pub action: Option<workspace::ActionScope>,
    /// The catalog as the call's viewer may see it (`None`: the plugin's
    /// own view, `Services::catalog`).
    pub catalog: Option<Arc<dyn crate::services::CatalogReader>>,
}

impl CallState {
    /// A call's state as it starts: its full CPU budget, nothing counted yet.
    fn starting(
        limits: ExtensionLimits,
        log_sink: Option<LogSink>,
        action: Option<workspace::ActionScope>,
        catalog: Option<Arc<dyn crate::services::CatalogReader>>,
    ) -> CallState {
        CallState {
            cpu: Arc::new(CpuMeter::new(Duration::from_millis(limits.cpu_ms))),
            log_sink,
            action,
            catalog,
            ..CallState::default()
        }
    }
}

/// The data of one `Store`: one call into one plugin.
pub struct HostState {
    pub(crate) plugin: Arc<PluginContext>,
    pub(crate) call: CallState,
    pub(crate) limiter: CallLimiter,
    pub(crate) output: output::TailBuffer,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    http_gate: http::HttpGate,
    table: ResourceTable,
}

impl HostState {
    pub(crate) fn new(
        plugin: Arc<PluginContext>,
        limits: ExtensionLimits,
        action: Option<&workspace::ActionScope>,
        log_sink: Option<LogSink>,
        catalog: Option<Arc<dyn crate::services::CatalogReader>>,
    ) -> Result<HostState, String> {
        let output = output::TailBuffer::new(output::TAIL_BYTES);
        let mut builder = WasiCtx::builder();
        builder.stdout(output.clone()).stderr(output.clone());
        if let Some(action) = action {
            workspace::preopen(&mut builder, &action.dirs)?;
        }
        let http_gate = http::HttpGate::new(plugin.clone());
        // A log window that ended since the plugin's last line says now what it dropped.
        log::roll_window(&plugin);
        Ok(HostState {
            call: CallState::starting(limits, log_sink, action.cloned(), catalog),
            limiter: CallLimiter::new(limits.memory_mb),
            output,
            wasi: builder.build(),
            http: WasiHttpCtx::new(),
            http_gate,
            table: ResourceTable::new(),
            plugin,
        })
    }

    /// Makes a store that served a call ready for the next one on the same
    /// instance (a task's next template step, `action_session::ActionSession`): a new
    /// CPU budget, per-call quotas and log sink; the same capabilities,
    /// directories and memory.
    pub(crate) fn begin_next_call(&mut self, limits: ExtensionLimits, log_sink: Option<LogSink>) {
        self.call = CallState::starting(limits, log_sink, self.call.action.take(), None);
        self.http_gate = http::HttpGate::new(self.plugin.clone());
        log::roll_window(&self.plugin);
    }

    /// Every refusal during this call: HTTP denials and host-function denials.
    pub(crate) fn denials(&self) -> Vec<String> {
        let mut all = self.call.denials.clone();
        all.extend(self.http_gate.denials.iter().cloned());
        all
    }

    /// The catalog this call reads: its viewer's view, or the plugin's own.
    pub(crate) fn catalog(&self) -> Arc<dyn crate::services::CatalogReader> {
        self.call
            .catalog
            .clone()
            .unwrap_or_else(|| self.plugin.services.catalog.clone())
    }

    pub(crate) fn deny(&mut self, message: String) -> HostCallError {
        tracing::warn!(plugin = %self.plugin.name, "denied: {message}");
        self.call.denials.push(message.clone());
        HostCallError::Denied(message)
    }

    /// Refuses a call over a size limit or quota; the refusal shows in the
    /// plugin's health like a denial, so the operator sees which quota it hit.
    pub(crate) fn over_limit(&mut self, message: String) -> HostCallError {
        tracing::warn!(plugin = %self.plugin.name, "limit exceeded: {message}");
        self.call.denials.push(message.clone());
        HostCallError::LimitExceeded(message)
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.http_gate,
        }
    }
}
