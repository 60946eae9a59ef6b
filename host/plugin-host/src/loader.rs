//! Loading one plugin file: read, inspect (no compile yet), compile or take the
//! cached artifact, link, ask the plugin to `describe` itself in a sandbox with no
//! capabilities, check what it says, and work out what it is granted. Everything
//! here runs off the request path; nothing here touches the registry.

use crate::cache::ArtifactCache;
use crate::calls::{self, Extras};
use crate::capabilities::{EffectiveGrants, HostState, PluginContext};
use crate::engine::{EngineSet, Engines, Tier};
use crate::error::LoadError;
use crate::extensions::ExtensionPoint as _;
use crate::extensions::describe::{self, Describe};
use crate::inspect::{self, ComponentSummary};
use crate::model::PluginInfo;
use crate::services::Services;
use crate::wit::{self, Exports};
use portal_config::{ExtensionLimits, ExtensionPoint, PluginsConfig, Secrets};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Instant, SystemTime};
use wasmtime::component::{Component, InstancePre};

/// A plugin ready to be called. Immutable: a new version of the file produces a
/// new `LoadedPlugin`, swapped in atomically; calls in flight keep the old one.
pub struct LoadedPlugin {
    pub file: PathBuf,
    pub summary: ComponentSummary,
    pub info: PluginInfo,
    pub tier: Tier,
    pub grants: EffectiveGrants,
    /// Capabilities requested but not granted, in words an operator can act on.
    pub missing_grants: Vec<String>,
    pub loaded_at: SystemTime,
    /// How long compiling (or loading the cached artifact) took.
    pub compile_ms: u64,
    pub(crate) pre: InstancePre<HostState>,
    pub(crate) exports: Exports,
    pub(crate) context: Arc<PluginContext>,
    pub(crate) limits: PluginLimits,
}

/// The limits of each extension point for one plugin, overrides applied.
#[derive(Debug, Clone)]
pub(crate) struct PluginLimits(BTreeMap<ExtensionPoint, ExtensionLimits>);

impl PluginLimits {
    fn of(config: &PluginsConfig, plugin: &str) -> PluginLimits {
        PluginLimits(
            ExtensionPoint::ALL
                .into_iter()
                .map(|point| (point, config.limits_for(plugin, point)))
                .collect(),
        )
    }

    pub(crate) fn get(&self, point: ExtensionPoint) -> ExtensionLimits {
        self.0[&point]
    }
}

impl LoadedPlugin {
    pub fn name(&self) -> &str {
        &self.info.name
    }

    pub(crate) fn engine<'a>(&self, engines: &'a Engines) -> &'a EngineSet {
        engines.get(self.tier)
    }
}

/// Everything the loader needs from the host.
pub(crate) struct LoadEnv<'a> {
    pub engines: &'a Engines,
    pub cache: &'a ArtifactCache,
    pub config: &'a PluginsConfig,
    pub secrets: &'a Arc<Secrets>,
    pub services: &'a Services,
    pub compile_gate: &'a tokio::sync::Semaphore,
    /// Whether a plugin's name must match its file name (files in the plugins
    /// directory; not a file merely inspected).
    pub names_bound_to_files: bool,
}

/// How the loader compiled the file, so the caller can schedule the second tier.
pub(crate) struct Loaded {
    pub plugin: LoadedPlugin,
    /// The file's bytes when a Cranelift recompile should follow (first tier was Winch).
    pub upgrade: Option<Arc<Vec<u8>>>,
}

pub(crate) fn read(file: &Path, config: &PluginsConfig) -> Result<Vec<u8>, LoadError> {
    let limit = config.compile.max_plugin_bytes;
    let meta = std::fs::metadata(file).map_err(|e| LoadError::Read {
        file: file.to_owned(),
        reason: e.to_string(),
    })?;
    if meta.len() > limit {
        return Err(LoadError::TooLarge {
            file: file.to_owned(),
            size: meta.len(),
            limit,
        });
    }
    std::fs::read(file).map_err(|e| LoadError::Read {
        file: file.to_owned(),
        reason: e.to_string(),
    })
}

pub(crate) async fn load(
    env: &LoadEnv<'_>,
    file: &Path,
    bytes: Vec<u8>,
) -> Result<Loaded, LoadError> {
    let summary = inspect::inspect(file, &bytes)?;
    if !wit::is_supported_major(&summary.wit_version) {
        return Err(wit::unsupported(file, &summary.wit_version));
    }
    let started = Instant::now();
    let bytes = Arc::new(bytes);
    let (component, tier, upgrade) = compile_first_tier(env, file, &summary, bytes.clone()).await?;
    let compile_ms = started.elapsed().as_millis() as u64;
    let plugin = finish(env, file, summary, component, tier, compile_ms).await?;
    Ok(Loaded {
        plugin,
        upgrade: upgrade.then_some(bytes),
    })
}

/// Compiles with Cranelift (the second tier after Winch) and returns the
/// replacement for `current`.
pub(crate) async fn upgrade(
    env: &LoadEnv<'_>,
    current: &LoadedPlugin,
    bytes: Arc<Vec<u8>>,
) -> Result<LoadedPlugin, LoadError> {
    let started = Instant::now();
    let component = compile(
        env,
        &current.file,
        &current.summary.sha256,
        bytes,
        Tier::Cranelift,
    )
    .await?;
    let compile_ms = started.elapsed().as_millis() as u64;
    finish(
        env,
        &current.file,
        current.summary.clone(),
        component,
        Tier::Cranelift,
        compile_ms,
    )
    .await
}

async fn compile_first_tier(
    env: &LoadEnv<'_>,
    file: &Path,
    summary: &ComponentSummary,
    bytes: Arc<Vec<u8>>,
) -> Result<(Component, Tier, bool), LoadError> {
    let cranelift = &env.engines.cranelift.engine;
    if let Some(component) = env.cache.load(cranelift, &summary.sha256, Tier::Cranelift) {
        return Ok((component, Tier::Cranelift, false));
    }
    let compile_cfg = &env.config.compile;
    if let Some(winch) = &env.engines.winch
        && compile_cfg.fast_first_tier
        && summary.size >= compile_cfg.fast_first_tier_min_bytes
    {
        let component = match env.cache.load(&winch.engine, &summary.sha256, Tier::Winch) {
            Some(component) => component,
            None => compile(env, file, &summary.sha256, bytes, Tier::Winch).await?,
        };
        return Ok((component, Tier::Winch, true));
    }
    let component = compile(env, file, &summary.sha256, bytes, Tier::Cranelift).await?;
    Ok((component, Tier::Cranelift, false))
}

async fn compile(
    env: &LoadEnv<'_>,
    file: &Path,
    sha256: &str,
    bytes: Arc<Vec<u8>>,
    tier: Tier,
) -> Result<Component, LoadError> {
    // Cranelift is CPU-heavy and parallel: one compile at a time leaves the
    // machine responsive. Winch is quick and may overtake a queued Cranelift job.
    let _permit = match tier {
        Tier::Cranelift => Some(env.compile_gate.acquire().await.expect("gate never closes")),
        Tier::Winch => None,
    };
    let engine = env.engines.get(tier).engine.clone();
    let cache = env.cache.clone();
    let sha = sha256.to_owned();
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || cache.compile(&engine, &bytes, &sha, tier))
        .await
        .map_err(|e| LoadError::Compile {
            file: file.to_owned(),
            reason: format!("the compiler crashed: {e}"),
        })?
        .map_err(|e| LoadError::Compile {
            file: file.to_owned(),
            reason: format!("{e:#}"),
        })?;
    tracing::info!(file = %file.display(), tier = tier.name(), ms = started.elapsed().as_millis() as u64, "compiled plugin");
    Ok(result)
}

async fn finish(
    env: &LoadEnv<'_>,
    file: &Path,
    summary: ComponentSummary,
    component: Component,
    tier: Tier,
    compile_ms: u64,
) -> Result<LoadedPlugin, LoadError> {
    let engine_set = env.engines.get(tier);
    let pre = engine_set.linker.instantiate_pre(&component).map_err(|e| {
        let mut reason = format!("{e:#}");
        if let Some(hint) = wit::newer_minor_hint(&summary.wit_version) {
            reason.push_str(&format!(" ({hint})"));
        }
        LoadError::Link {
            file: file.to_owned(),
            reason,
        }
    })?;
    let exports = wit::bind(file, &summary.wit_version, &pre)?;

    let label = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let anonymous = Arc::new(PluginContext::anonymous(&label, env.services.clone()));
    let report = calls::call::<Describe>(
        engine_set,
        &pre,
        &exports,
        anonymous,
        env.config.limits.get(Describe::LIMITS),
        Extras::default(),
        (),
    )
    .await;
    let info = report.result.map_err(|e| LoadError::Describe {
        file: file.to_owned(),
        source: Box::new(e),
    })?;
    describe::validate(&info, &exports).map_err(|reason| LoadError::InvalidMetadata {
        file: file.to_owned(),
        reason,
    })?;
    check_identity(env, file, &info.name, &summary.sha256)?;

    let grant = env.config.grant(&info.name);
    if !grant.enabled {
        return Err(LoadError::Disabled {
            file: file.to_owned(),
            name: info.name.clone(),
        });
    }
    let (grants, missing) = EffectiveGrants::compute(&info.requests, &grant, env.config);
    let missing_grants = missing
        .into_iter()
        .map(|m| m.replace("<name>", &info.name))
        .collect();
    let context = Arc::new(PluginContext {
        name: info.name.clone(),
        grants: grants.clone(),
        config_values: grant.config.clone(),
        services: env.services.clone(),
        secrets: env.secrets.clone(),
        quotas: env.config.quotas_for(&info.name),
        usage: Default::default(),
    });
    let limits = PluginLimits::of(env.config, &info.name);
    Ok(LoadedPlugin {
        file: file.to_owned(),
        summary,
        info,
        tier,
        grants,
        missing_grants,
        loaded_at: SystemTime::now(),
        compile_ms,
        pre,
        exports,
        context,
        limits,
    })
}

/// A plugin's name, and with it its grants, belongs to the file the operator
/// named after it (`<name>.wasm`), and, when the configuration pins a hash, to
/// that build only. So no other file can take a name, whatever the load order.
fn check_identity(
    env: &LoadEnv<'_>,
    file: &Path,
    name: &str,
    sha256: &str,
) -> Result<(), LoadError> {
    let owner_file = format!("{name}.wasm");
    if env.names_bound_to_files && file.file_name() != Some(std::ffi::OsStr::new(&owner_file)) {
        return Err(LoadError::NameNotFileName {
            file: file.to_owned(),
            name: name.to_owned(),
            owner_file,
        });
    }
    if let Some(pin) = env.config.grants.get(name).and_then(|g| g.sha256.as_ref())
        && !pin.matches(sha256)
    {
        return Err(LoadError::HashMismatch {
            file: file.to_owned(),
            name: name.to_owned(),
            expected: pin.as_hex().to_owned(),
            actual: sha256.to_owned(),
        });
    }
    Ok(())
}
