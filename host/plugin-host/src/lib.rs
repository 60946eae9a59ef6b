//! Portal's plugin runtime: every integration, template action and UI panel is a
//! WebAssembly component implementing the WIT contract in `wit/`, run by wasmtime
//! in a sandbox that grants nothing the portal's configuration does not.
//!
//! Start at [`PluginHost`]. The parts:
//! - `inspect`: reading a `.wasm` without running it;
//! - `engine`, `cache`: compiling (Cranelift, optionally Winch first) and caching;
//! - `wit`: the contract versions and their bindings, one module per major;
//! - `extensions`: the extension points (describe, panel, entity provider,
//!   template action), one module each, and `calls`: one generic call path;
//! - `capabilities`: what a plugin can reach, one module per capability;
//! - `loader`, `registry`, `watcher`: drop-in install and atomic swaps;
//! - `invoke`: one sandboxed call with memory, CPU and time limits.
//!
//! A panel's output is checked by `portal_types::widget::flat` (the rules are
//! shared with the web UI, which draws what the host accepted).

mod action_session;
mod cache;
mod call_runtime;
mod calls;
mod capabilities;
mod cpu_meter;
mod engine;
pub mod error;
mod extensions;
mod filter;
pub mod inspect;
mod invoke;
mod limits;
mod loader;
pub mod model;
mod registry;
pub mod services;
mod store;
mod watcher;
pub mod wit;

pub use action_session::ActionSession;
pub use capabilities::{EffectiveGrants, LogSink, QuotaStatus};
pub use engine::Tier;
pub use error::{CallError, LoadError};
pub use loader::LoadedPlugin;
pub use registry::{ErrorRecord, Health, PluginState, PluginStatus};
pub use watcher::DirectoryWatch;

use crate::loader::LoadEnv;
use crate::model::{ActionInfo, CollatorInfo, PanelInfo, ProviderInfo};
use crate::registry::Registry;
use crate::services::Services;
use portal_config::{Config, PluginsConfig, Secrets};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Log levels a plugin writes at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

/// Where the host finds plugins and keeps compiled code, and what it grants.
#[derive(Debug, Clone)]
pub struct HostOptions {
    pub plugins_dir: PathBuf,
    pub cache_dir: PathBuf,
    pub plugins: PluginsConfig,
    pub secrets: Secrets,
}

impl HostOptions {
    pub fn from_config(config: &Config) -> HostOptions {
        HostOptions {
            plugins_dir: config.plugins_dir(),
            cache_dir: config.plugin_cache_dir(),
            plugins: config.plugins.clone(),
            secrets: config.secrets.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error("cannot set up the WebAssembly engine: {0}")]
    Engine(String),
    #[error("cannot use {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot watch {path}: {source}")]
    Watch {
        path: PathBuf,
        source: notify::Error,
    },
}

/// Something changed in the set of plugins (for live UIs and the catalog).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginEvent {
    pub file: String,
    pub plugin: Option<String>,
    pub kind: PluginEventKind,
}

/// What happened to a plugin file (shared with the web UI).
pub use portal_types::PluginEventKind;

/// A panel some plugin contributes.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PanelRef {
    pub plugin: String,
    #[serde(flatten)]
    pub panel: PanelInfo,
}

/// The plugin runtime. Cheap to clone; all clones share one set of plugins.
#[derive(Clone)]
pub struct PluginHost {
    inner: Arc<Inner>,
}

struct Inner {
    engines: engine::Engines,
    cache: cache::ArtifactCache,
    options: HostOptions,
    secrets: Arc<Secrets>,
    services: Services,
    registry: Registry,
    events: broadcast::Sender<PluginEvent>,
    compile_gate: tokio::sync::Semaphore,
    /// Where calls into plugins run, below the portal's own priority.
    calls: call_runtime::CallRuntime,
    /// Files being synced, and whether another sync was asked for meanwhile.
    syncing: std::sync::Mutex<std::collections::HashMap<PathBuf, bool>>,
}

impl PluginHost {
    pub fn new(options: HostOptions, services: Services) -> Result<PluginHost, HostError> {
        let max_memory_mb = max_memory_mb(&options.plugins);
        let engines = engine::Engines::new(options.plugins.compile.fast_first_tier, max_memory_mb)
            .map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let cache = cache::ArtifactCache::new(options.cache_dir.clone()).map_err(|source| {
            HostError::Io {
                path: options.cache_dir.clone(),
                source,
            }
        })?;
        std::fs::create_dir_all(&options.plugins_dir).map_err(|source| HostError::Io {
            path: options.plugins_dir.clone(),
            source,
        })?;
        let (events, _) = broadcast::channel(256);
        Ok(PluginHost {
            inner: Arc::new(Inner {
                engines,
                cache,
                secrets: Arc::new(options.secrets.clone()),
                options,
                services,
                registry: Registry::default(),
                events,
                compile_gate: tokio::sync::Semaphore::new(1),
                calls: call_runtime::CallRuntime::new().map_err(|e| {
                    HostError::Engine(format!("cannot start the plugin call threads: {e}"))
                })?,
                syncing: Default::default(),
            }),
        })
    }

    pub fn plugins_dir(&self) -> &Path {
        &self.inner.options.plugins_dir
    }

    /// Whether instances come from the pooling allocator (false when the machine
    /// could not reserve the address space for it).
    pub fn uses_pooling_allocator(&self) -> bool {
        self.inner.engines.pooling
    }

    /// Loads every plugin file in the directory, returning once each has reached a
    /// first outcome (loaded, possibly on the fast tier, or refused).
    pub async fn load_all(&self) {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(&self.inner.options.plugins_dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| watcher::is_plugin_file(p))
                .collect(),
            Err(e) => {
                tracing::error!(dir = %self.inner.options.plugins_dir.display(), "cannot list plugins: {e}");
                return;
            }
        };
        // Names are bound to file names, so no load order can let one file take
        // another's name; sorting just keeps the log in the same order.
        files.sort();
        let loads = files.iter().map(|file| self.sync_file(file));
        futures::future::join_all(loads).await;
    }

    /// Starts watching the plugins directory; stops when the handle is dropped.
    /// From then on, plugins' log windows also end on time, so the line saying
    /// how many of a plugin's lines were dropped comes even if it never logs again.
    pub fn watch(&self) -> Result<DirectoryWatch, HostError> {
        let dir = self.inner.options.plugins_dir.clone();
        let watch = watcher::watch(self.clone(), &dir)
            .map_err(|source| HostError::Watch { path: dir, source })?;
        let host = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tick.tick().await;
                let Some(inner) = host.upgrade() else { break };
                for plugin in inner.registry.active() {
                    capabilities::log::roll_window(&plugin.context);
                }
            }
        });
        Ok(watch)
    }

    /// Brings one file's plugin in line with the disk: load, reload or unload.
    /// Syncs of one file never overlap: a change that arrives while one runs
    /// makes it run once more afterwards.
    pub async fn sync_file(&self, file: &Path) {
        {
            let mut syncing = self.inner.syncing.lock().unwrap();
            if let Some(rerun) = syncing.get_mut(file) {
                *rerun = true;
                return;
            }
            syncing.insert(file.to_owned(), false);
        }
        loop {
            self.sync_file_once(file).await;
            let mut syncing = self.inner.syncing.lock().unwrap();
            if syncing.get(file) == Some(&true) {
                syncing.insert(file.to_owned(), false);
            } else {
                syncing.remove(file);
                return;
            }
        }
    }

    /// Deletes an uninstalled plugin's stored keys once it has stayed removed for
    /// `plugins.removed_storage_seconds`: a file replaced by delete-then-copy is
    /// back by then and keeps its data. The name is bound to the file, so the
    /// file's return is what counts.
    fn purge_storage_later(&self, name: String, file: PathBuf) {
        let host = self.clone();
        let grace =
            std::time::Duration::from_secs(self.inner.options.plugins.removed_storage_seconds);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            if file.exists() || host.inner.registry.by_name(&name).is_some() {
                return;
            }
            let kv = host.inner.services.kv.clone();
            let plugin = name.clone();
            match tokio::task::spawn_blocking(move || kv.purge(&plugin)).await {
                Ok(Ok(held)) if held.keys > 0 => tracing::info!(
                    plugin = name,
                    keys = held.keys,
                    bytes = held.bytes,
                    "removed plugin's storage deleted"
                ),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(
                    plugin = name,
                    "cannot delete a removed plugin's storage: {e}"
                ),
                Err(e) => tracing::warn!(
                    plugin = name,
                    "deleting a removed plugin's storage failed: {e}"
                ),
            }
        });
    }

    async fn sync_file_once(&self, file: &Path) {
        if !file.exists() {
            if let Some(old) = self.inner.registry.remove(file) {
                tracing::info!(file = %file.display(), plugin = old.name(), "plugin file removed; unloaded");
                self.emit(file, Some(old.name()), PluginEventKind::Unloaded);
                self.purge_storage_later(old.name().to_owned(), file.to_owned());
            }
            return;
        }
        let bytes = loader::read(file, &self.inner.options.plugins);
        if let Ok(bytes) = &bytes
            && self.inner.registry.serves(file, bytes)
        {
            return; // same content as the version already serving
        }
        let generation = self.inner.registry.begin(file);
        let env = self.load_env();
        let outcome = match bytes {
            Ok(bytes) => loader::load(&env, file, bytes).await,
            Err(e) => Err(e),
        };
        match outcome {
            Ok(loaded) => {
                let plugin = Arc::new(loaded.plugin);
                let name = plugin.name().to_owned();
                let tier = plugin.tier;
                match self
                    .inner
                    .registry
                    .finish(file, generation, Ok(plugin.clone()))
                {
                    Ok(_) => {}
                    Err(()) => return,
                }
                if let Some(missing) =
                    (!plugin.missing_grants.is_empty()).then(|| plugin.missing_grants.join("; "))
                {
                    tracing::warn!(plugin = %name, "requests capabilities that are not granted: {missing}");
                }
                tracing::info!(file = %file.display(), plugin = %name, version = %plugin.info.version, tier = tier.name(), "plugin loaded");
                // A duplicate name is reported by `finish` as an error state.
                let loaded_ok = self
                    .inner
                    .registry
                    .by_name(&name)
                    .is_some_and(|p| Arc::ptr_eq(&p, &plugin));
                self.emit(
                    file,
                    Some(&name),
                    if loaded_ok {
                        PluginEventKind::Loaded
                    } else {
                        PluginEventKind::Rejected
                    },
                );
                if loaded_ok && let Some(bytes) = loaded.upgrade {
                    self.spawn_upgrade(plugin, generation, bytes);
                }
            }
            Err(error) => {
                // The log may name the full path; what the API and pages show
                // is relative to the plugins directory.
                tracing::error!(file = %file.display(), "{error}");
                let error = error.relative_to(&self.inner.options.plugins_dir);
                if self
                    .inner
                    .registry
                    .finish(file, generation, Err(error))
                    .is_ok()
                {
                    self.emit(file, None, PluginEventKind::Rejected);
                }
            }
        }
    }

    fn spawn_upgrade(&self, plugin: Arc<LoadedPlugin>, generation: u64, bytes: Arc<Vec<u8>>) {
        let host = self.clone();
        host.inner
            .registry
            .set_upgrading(&plugin.file, generation, true);
        tokio::spawn(async move {
            let env = host.load_env();
            match loader::upgrade(&env, &plugin, bytes).await {
                Ok(upgraded) => {
                    let upgraded = Arc::new(upgraded);
                    if host
                        .inner
                        .registry
                        .upgrade(&plugin.file, generation, upgraded)
                    {
                        tracing::info!(
                            plugin = plugin.name(),
                            "now running optimised (Cranelift) code"
                        );
                        host.emit(&plugin.file, Some(plugin.name()), PluginEventKind::Upgraded);
                    }
                }
                Err(e) => {
                    tracing::warn!(
                        plugin = plugin.name(),
                        "optimised compile failed, staying on Winch: {e}"
                    );
                    host.inner
                        .registry
                        .set_upgrading(&plugin.file, generation, false);
                }
            }
        });
    }

    fn load_env(&self) -> LoadEnv<'_> {
        LoadEnv {
            names_bound_to_files: true,
            engines: &self.inner.engines,
            cache: &self.inner.cache,
            config: &self.inner.options.plugins,
            secrets: &self.inner.secrets,
            services: &self.inner.services,
            compile_gate: &self.inner.compile_gate,
        }
    }

    fn emit(&self, file: &Path, plugin: Option<&str>, kind: PluginEventKind) {
        let _ = self.inner.events.send(PluginEvent {
            file: file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            plugin: plugin.map(str::to_owned),
            kind,
        });
    }

    /// Changes to the set of plugins, as they happen.
    pub fn subscribe(&self) -> broadcast::Receiver<PluginEvent> {
        self.inner.events.subscribe()
    }

    /// Waits until no file is loading or being recompiled (tools and tests).
    pub async fn wait_idle(&self) {
        while self.inner.registry.is_loading() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits until every file has a first outcome (background upgrades may continue).
    pub async fn wait_loaded(&self) {
        while self.inner.registry.is_loading_first_tier() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Every plugin file with its state, sorted by file name.
    pub fn statuses(&self) -> Vec<PluginStatus> {
        self.inner.registry.statuses()
    }

    pub fn status(&self, name: &str) -> Option<PluginStatus> {
        self.statuses()
            .into_iter()
            .find(|s| s.name.as_deref() == Some(name))
    }

    pub fn plugin(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.inner.registry.by_name(name)
    }

    /// Every panel of every loaded plugin.
    pub fn panels(&self) -> Vec<PanelRef> {
        let mut panels: Vec<PanelRef> = self
            .inner
            .registry
            .active()
            .iter()
            .flat_map(|p| {
                p.info.panels.iter().map(|panel| PanelRef {
                    plugin: p.info.name.clone(),
                    panel: panel.clone(),
                })
            })
            .collect();
        // By plugin; each plugin's panels in the order it declares them (its
        // most important first: the entity page shows a share of each plugin's).
        panels.sort_by(|a, b| a.plugin.cmp(&b.plugin));
        panels
    }

    /// The panels that apply to an entity (given as Backstage-shaped JSON).
    pub fn panels_for(&self, entity: &serde_json::Value) -> Vec<PanelRef> {
        self.panels()
            .into_iter()
            .filter(|p| {
                filter::PanelFilter::parse(&p.panel.applies_to)
                    .map(|f| f.matches(entity))
                    .unwrap_or(false)
            })
            .collect()
    }

    pub fn providers(&self) -> Vec<(String, ProviderInfo)> {
        self.inner
            .registry
            .active()
            .iter()
            .flat_map(|p| {
                p.info
                    .providers
                    .iter()
                    .map(|pr| (p.info.name.clone(), pr.clone()))
            })
            .collect()
    }

    /// Every search collator: its plugin and what it says of itself.
    pub fn collators(&self) -> Vec<(String, CollatorInfo)> {
        self.inner
            .registry
            .active()
            .iter()
            .flat_map(|p| {
                p.info
                    .collators
                    .iter()
                    .map(|c| (p.info.name.clone(), c.clone()))
            })
            .collect()
    }

    /// The template actions with their plugin's grants: what task creation
    /// checks, without the per-plugin storage reads of `statuses`.
    pub fn actions_with_grants(&self) -> Vec<(String, ActionInfo, EffectiveGrants)> {
        self.inner
            .registry
            .active()
            .iter()
            .flat_map(|p| {
                p.info
                    .actions
                    .iter()
                    .map(|a| (p.info.name.clone(), a.clone(), p.context.grants.clone()))
            })
            .collect()
    }

    fn loaded(&self, name: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.inner
            .registry
            .by_name(name)
            .ok_or_else(|| CallError::NoSuchPlugin(name.to_owned()))
    }

    /// Loads a file outside the registry, to inspect or check it (CLI). Its file
    /// name need not match its plugin name (it is not installed); install it as
    /// `<name>.wasm`.
    pub async fn load_detached(&self, file: &Path) -> Result<LoadedPlugin, LoadError> {
        let bytes = loader::read(file, &self.inner.options.plugins)?;
        let env = LoadEnv {
            names_bound_to_files: false,
            ..self.load_env()
        };
        loader::load(&env, file, bytes).await.map(|l| l.plugin)
    }
}

/// The largest memory limit any plugin can get, which sizes the instance pool.
fn max_memory_mb(config: &PluginsConfig) -> u64 {
    let mut max = portal_config::ExtensionPoint::ALL
        .into_iter()
        .map(|p| config.limits.get(p).memory_mb)
        .max()
        .unwrap_or(256);
    for grant in config.grants.values() {
        for patch in grant.limits.values() {
            if let Some(mb) = patch.memory_mb {
                max = max.max(mb);
            }
        }
    }
    max
}
