//! Calls into loaded plugins, one method per extension point: find the
//! plugin, call it through `invoke` with that extension point's limits, check
//! what it returned, and record the outcome for its health.

use crate::PluginHost;
use crate::capabilities::LogSink;
use crate::error::CallError;
use crate::invoke::{self, CallOptions, CallReport};
use crate::loader::LoadedPlugin;
use crate::model::{self, ProvidedEntity, Widget};
use crate::wit::Exports;
use std::path::Path;
use wasmtime::Store;
use wasmtime::component::Instance;

impl PluginHost {
    /// The loaded plugin `plugin`, if it offers the extension `kind` `id`.
    fn offering(
        &self,
        plugin: &str,
        kind: &'static str,
        id: &str,
        offers: impl Fn(&LoadedPlugin) -> bool,
    ) -> Result<std::sync::Arc<LoadedPlugin>, CallError> {
        let loaded = self.loaded(plugin)?;
        if !offers(&loaded) {
            return Err(CallError::NoSuchExtension {
                plugin: plugin.to_owned(),
                kind,
                id: id.to_owned(),
            });
        }
        Ok(loaded)
    }

    /// Renders one panel for one entity (Backstage-shaped JSON).
    #[tracing::instrument(skip(self, entity_json), fields(plugin = %plugin, panel = %panel_id))]
    pub async fn render_panel(
        &self,
        plugin: &str,
        panel_id: &str,
        entity_json: &str,
    ) -> Result<Widget, CallError> {
        let loaded = self.offering(plugin, "panel", panel_id, |p| {
            p.info.panels.iter().any(|x| x.id == panel_id)
        })?;
        let report = self
            .call(
                &loaded,
                CallOptions {
                    limits: loaded.limits.panel,
                    max_transfer_bytes: invoke::TRANSFER_PANEL,
                    workspace: None,
                    log_sink: None,
                },
                async |store, instance, exports| match exports {
                    Exports::V1(v1) => v1.render(store, instance, panel_id, entity_json).await,
                },
            )
            .await;
        let result = flatten(plugin, report.result);
        self.record(plugin, result, &report.denials)
    }

    /// Runs one discovery pass of an entity provider.
    #[tracing::instrument(skip(self), fields(plugin = %plugin, provider = %provider_id))]
    pub async fn discover(
        &self,
        plugin: &str,
        provider_id: &str,
    ) -> Result<Vec<ProvidedEntity>, CallError> {
        let loaded = self.offering(plugin, "entity provider", provider_id, |p| {
            p.info.providers.iter().any(|x| x.id == provider_id)
        })?;
        let report = self
            .call(
                &loaded,
                CallOptions {
                    limits: loaded.limits.provider,
                    max_transfer_bytes: invoke::TRANSFER_PROVIDER,
                    workspace: None,
                    log_sink: None,
                },
                async |store, instance, exports| match exports {
                    Exports::V1(v1) => v1.discover(store, instance, provider_id).await,
                },
            )
            .await;
        let result = report
            .result
            .and_then(|r| r.map_err(|e| plugin_error(plugin, e)))
            .and_then(|entities| check_provided(plugin, entities));
        self.record(plugin, result, &report.denials)
    }

    /// Runs a template action with `workspace` as its only directory.
    #[tracing::instrument(skip(self, request, log_sink), fields(action = %request.action_id, task = %request.task_id))]
    pub async fn execute_action(
        &self,
        request: &model::ActionRequest,
        workspace: &Path,
        log_sink: Option<LogSink>,
    ) -> Result<serde_json::Value, CallError> {
        let loaded = self
            .inner
            .registry
            .active()
            .into_iter()
            .find(|p| p.info.actions.iter().any(|a| a.id == request.action_id))
            .ok_or_else(|| CallError::NoSuchExtension {
                plugin: "(any)".into(),
                kind: "template action",
                id: request.action_id.clone(),
            })?;
        let plugin = loaded.name().to_owned();
        let report = self
            .call(
                &loaded,
                CallOptions {
                    limits: loaded.limits.action,
                    max_transfer_bytes: invoke::TRANSFER_ACTION,
                    workspace: Some(workspace),
                    log_sink,
                },
                async |store, instance, exports| match exports {
                    Exports::V1(v1) => v1.execute(store, instance, request).await,
                },
            )
            .await;
        let result = report
            .result
            .and_then(|r| r.map_err(|e| plugin_error(&plugin, e)))
            .and_then(|output| parse_action_output(&plugin, &output));
        self.record(&plugin, result, &report.denials)
    }

    /// Benchmark support: instantiates a panel's plugin once and renders `calls`
    /// times on that same instance, returning each call's duration. The portal
    /// itself never reuses an instance; this measures the call alone.
    #[doc(hidden)]
    pub async fn bench_warm_renders(
        &self,
        plugin: &str,
        panel_id: &str,
        entity_json: &str,
        calls: usize,
    ) -> Result<Vec<std::time::Duration>, CallError> {
        let loaded = self.loaded(plugin)?;
        let mut limits = loaded.limits.panel;
        limits.timeout_ms = limits.timeout_ms.max(600_000);
        limits.cpu_ms = limits.cpu_ms.max(600_000);
        let report = self
            .call(
                &loaded,
                CallOptions {
                    limits,
                    max_transfer_bytes: invoke::TRANSFER_PANEL,
                    workspace: None,
                    log_sink: None,
                },
                async |store, instance, exports| {
                    let mut times = Vec::with_capacity(calls);
                    for _ in 0..calls {
                        let started = std::time::Instant::now();
                        match exports {
                            Exports::V1(v1) => {
                                let _ = v1.render(store, instance, panel_id, entity_json).await?;
                            }
                        }
                        times.push(started.elapsed());
                    }
                    Ok(times)
                },
            )
            .await;
        report.result
    }

    async fn call<R>(
        &self,
        loaded: &LoadedPlugin,
        options: CallOptions<'_>,
        op: impl AsyncFnOnce(
            &mut Store<crate::capabilities::HostState>,
            &Instance,
            &Exports,
        ) -> wasmtime::Result<R>,
    ) -> CallReport<R> {
        invoke::invoke(
            &loaded.engine(&self.inner.engines).engine,
            &loaded.pre,
            &loaded.exports,
            loaded.context.clone(),
            options,
            op,
        )
        .await
    }

    /// Counts the call towards the plugin's health (errors, denied requests).
    fn record<R>(
        &self,
        plugin: &str,
        result: Result<R, CallError>,
        denials: &[String],
    ) -> Result<R, CallError> {
        self.inner
            .registry
            .record_call(plugin, result.as_ref().err(), denials);
        result
    }
}

fn plugin_error(plugin: &str, e: model::PluginError) -> CallError {
    CallError::Plugin {
        plugin: plugin.to_owned(),
        code: e.code,
        message: e.message,
    }
}

fn flatten(
    plugin: &str,
    result: Result<Result<Result<Widget, String>, model::PluginError>, CallError>,
) -> Result<Widget, CallError> {
    match result? {
        Ok(Ok(widget)) => Ok(widget),
        Ok(Err(reason)) => Err(CallError::InvalidOutput {
            plugin: plugin.to_owned(),
            reason,
        }),
        Err(e) => Err(plugin_error(plugin, e)),
    }
}

const MAX_PROVIDED_ENTITIES: usize = 100_000;
const MAX_PROVIDED_BYTES: usize = 256 << 20;
const MAX_ACTION_OUTPUT_BYTES: usize = 1 << 20;

fn check_provided(
    plugin: &str,
    entities: Vec<ProvidedEntity>,
) -> Result<Vec<ProvidedEntity>, CallError> {
    let bytes: usize = entities
        .iter()
        .map(|e| e.body.len() + e.location.len())
        .sum();
    if entities.len() > MAX_PROVIDED_ENTITIES || bytes > MAX_PROVIDED_BYTES {
        return Err(CallError::InvalidOutput {
            plugin: plugin.to_owned(),
            reason: format!(
                "{} entities in {bytes} bytes is over the limit of {MAX_PROVIDED_ENTITIES} entities / {MAX_PROVIDED_BYTES} bytes per discovery",
                entities.len()
            ),
        });
    }
    Ok(entities)
}

fn parse_action_output(plugin: &str, output: &str) -> Result<serde_json::Value, CallError> {
    let invalid = |reason: String| CallError::InvalidOutput {
        plugin: plugin.to_owned(),
        reason,
    };
    if output.len() > MAX_ACTION_OUTPUT_BYTES {
        return Err(invalid(format!(
            "action output is {} bytes, over the limit of {MAX_ACTION_OUTPUT_BYTES}",
            output.len()
        )));
    }
    if output.trim().is_empty() {
        return Ok(serde_json::json!({}));
    }
    match serde_json::from_str::<serde_json::Value>(output) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value),
        Ok(_) => Err(invalid("action output must be a JSON object".into())),
        Err(e) => Err(invalid(format!("action output is not JSON: {e}"))),
    }
}
