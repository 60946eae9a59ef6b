//! Loading one plugin file: read, inspect (no compile yet), compile or take the
//! cached artifact, link, ask the plugin to `describe` itself in a sandbox with no
//! capabilities, check what it says, and work out what it is granted. Everything
//! here runs off the request path; nothing here touches the registry.

use crate::cache::ArtifactCache;
use crate::capabilities::{EffectiveGrants, HostState, PluginContext};
use crate::engine::{EngineSet, Engines, Tier};
use crate::error::{CallError, LoadError};
use crate::inspect::{self, ComponentSummary};
use crate::invoke::{self, CallOptions};
use crate::model::PluginInfo;
use crate::services::Services;
use crate::wit::{self, Exports};
use portal_config::{ExtensionLimits, ExtensionPoint, PluginsConfig, Secrets};
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
#[derive(Debug, Clone, Copy)]
pub(crate) struct PluginLimits {
    pub panel: ExtensionLimits,
    pub provider: ExtensionLimits,
    pub action: ExtensionLimits,
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
        if let Ok(host) = semver::Version::parse(crate::wit::v1::VERSION)
            && summary.wit_version.major == host.major
            && summary.wit_version > host
        {
            reason.push_str(&format!(
                " (it was built against portal:plugin@{}, newer than this portal's {host}: upgrade the portal or rebuild the plugin against {host})",
                summary.wit_version
            ));
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
    let report = invoke::invoke(
        &engine_set.engine,
        &pre,
        &exports,
        anonymous,
        CallOptions {
            limits: env.config.limits.get(ExtensionPoint::Describe),
            max_transfer_bytes: invoke::TRANSFER_DESCRIBE,
            workspace: None,
            log_sink: None,
        },
        async |store, instance, exports| match exports {
            Exports::V1(v1) => v1.describe(store, instance).await,
        },
    )
    .await;
    let info = report.result.map_err(|e: CallError| LoadError::Describe {
        file: file.to_owned(),
        source: Box::new(e),
    })?;
    validate_info(file, &info, &exports)?;

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
    let limits = PluginLimits {
        panel: env.config.limits_for(&info.name, ExtensionPoint::Panel),
        provider: env.config.limits_for(&info.name, ExtensionPoint::Provider),
        action: env.config.limits_for(&info.name, ExtensionPoint::Action),
    };
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

/// Plugin and extension ids: lowercase letters, digits and `-`, 1 to 63 long.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// Template action ids follow Backstage's style: `acme:ticket:create`.
fn valid_action_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.'))
}

fn validate_info(file: &Path, info: &PluginInfo, exports: &Exports) -> Result<(), LoadError> {
    let invalid = |reason: String| LoadError::InvalidMetadata {
        file: file.to_owned(),
        reason,
    };
    if !valid_id(&info.name) {
        return Err(invalid(format!(
            "name `{}` must be 1-63 lowercase letters, digits and dashes",
            info.name
        )));
    }
    if semver::Version::parse(&info.version).is_err() {
        return Err(invalid(format!(
            "version `{}` is not a semantic version such as 1.2.0",
            info.version
        )));
    }
    let Exports::V1(v1) = exports;
    let mut seen = std::collections::HashSet::new();
    for panel in &info.panels {
        if !valid_id(&panel.id) {
            return Err(invalid(format!(
                "panel id `{}` must be 1-63 lowercase letters, digits and dashes",
                panel.id
            )));
        }
        if !seen.insert(("panel", panel.id.as_str())) {
            return Err(invalid(format!(
                "panel id `{}` is declared twice",
                panel.id
            )));
        }
        if let Err(e) = crate::filter::PanelFilter::parse(&panel.applies_to) {
            return Err(invalid(format!("panel `{}` applies-to: {e}", panel.id)));
        }
    }
    for provider in &info.providers {
        if !valid_id(&provider.id) {
            return Err(invalid(format!(
                "provider id `{}` must be 1-63 lowercase letters, digits and dashes",
                provider.id
            )));
        }
        if !seen.insert(("provider", provider.id.as_str())) {
            return Err(invalid(format!(
                "provider id `{}` is declared twice",
                provider.id
            )));
        }
    }
    for action in &info.actions {
        if !valid_action_id(&action.id) {
            return Err(invalid(format!(
                "action id `{}` may only hold letters, digits and : - _ .",
                action.id
            )));
        }
        if !seen.insert(("action", action.id.as_str())) {
            return Err(invalid(format!(
                "action id `{}` is declared twice",
                action.id
            )));
        }
    }
    let missing_export = |what: &str, iface: &str| {
        invalid(format!(
            "it declares {what} but does not export `portal:plugin/{iface}`"
        ))
    };
    if !info.panels.is_empty() && !v1.has_panel() {
        return Err(missing_export("panels", "panel"));
    }
    if !info.providers.is_empty() && !v1.has_provider() {
        return Err(missing_export("entity providers", "entity-provider"));
    }
    if !info.actions.is_empty() && !v1.has_action() {
        return Err(missing_export("template actions", "template-action"));
    }
    Ok(())
}
