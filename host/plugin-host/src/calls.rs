//! Calls into loaded plugins. One generic path ([`call`]) serves every
//! extension point: call it through `invoke` with that extension point's limits
//! and transfer cap, check what it returned with the extension point's own check,
//! and (for loaded plugins) record the outcome for its health. The public methods
//! only say which extension point and which plugin.

use crate::PluginHost;
use crate::capabilities::workspace::ActionScope;
use crate::capabilities::{HostState, LogSink, PluginContext};
use crate::engine::EngineSet;
use crate::error::CallError;
use crate::extensions::entity_provider::EntityProvider;
use crate::extensions::panel::{Panel, RenderRequest};
use crate::extensions::search_collator::SearchCollator;
use crate::extensions::template_action::TemplateAction;
use crate::extensions::{Declared, ExtensionPoint};
use crate::invoke::{self, CallOptions, CallReport};
use crate::loader::LoadedPlugin;
use crate::model::{self, ProvidedEntity, SearchDocument, Widget};
use crate::services::CatalogReader;
use crate::wit::{Bound, Exports};
use portal_config::ExtensionLimits;
use std::sync::Arc;
use wasmtime::component::InstancePre;

/// What a call gets beyond its extension point's defaults.
#[derive(Default)]
pub(crate) struct Extras {
    /// A template action's directories (the only ones it sees) and mode.
    pub action: Option<ActionScope>,
    pub log_sink: Option<LogSink>,
    /// The catalog as the person the call serves may see it (`None`: the
    /// plugin's own view, `Services::catalog`).
    pub catalog: Option<Arc<dyn CatalogReader>>,
}

/// Calls extension point `E` on a fresh instance and checks what it returned.
pub(crate) async fn call<E: Bound>(
    engines: &EngineSet,
    pre: &InstancePre<HostState>,
    exports: &Exports,
    context: Arc<PluginContext>,
    limits: ExtensionLimits,
    extras: Extras,
    request: E::Request,
) -> CallReport<E::Output> {
    let plugin = context.name.clone();
    let options = CallOptions {
        limits,
        max_transfer_bytes: E::TRANSFER_BYTES,
        action: extras.action.as_ref(),
        log_sink: extras.log_sink,
        catalog: extras.catalog,
    };
    let report = invoke::invoke(
        engines,
        pre,
        exports,
        context,
        options,
        async |store, instance, exports| exports.call::<E>(store, instance, request).await,
    )
    .await;
    checked::<E>(&plugin, report)
}

/// A call's report with what the plugin returned checked by its extension
/// point, and a plugin's own error made a `CallError`.
pub(crate) fn checked<E: Bound>(
    plugin: &str,
    report: CallReport<Result<E::Returned, model::PluginError>>,
) -> CallReport<E::Output> {
    let result = match report.result {
        Ok(Ok(returned)) => E::check_output(returned).map_err(|reason| CallError::InvalidOutput {
            plugin: plugin.to_owned(),
            reason,
        }),
        Ok(Err(e)) => Err(CallError::Plugin {
            plugin: plugin.to_owned(),
            code: e.code,
            message: e.message,
        }),
        Err(e) => Err(e),
    };
    CallReport {
        result,
        denials: report.denials,
    }
}

impl PluginHost {
    /// The loaded plugin `plugin`, if it declares the extension `E` `id`.
    fn offering<E: Declared>(
        &self,
        plugin: &str,
        id: &str,
    ) -> Result<Arc<LoadedPlugin>, CallError> {
        let loaded = self.loaded(plugin)?;
        if !E::declared(&loaded.info).iter().any(|x| E::id(x) == id) {
            return Err(CallError::NoSuchExtension {
                plugin: plugin.to_owned(),
                kind: E::KIND,
                id: id.to_owned(),
            });
        }
        Ok(loaded)
    }

    /// Calls extension point `E` of a loaded plugin, on the plugin call threads
    /// (`call_runtime`), and records the outcome.
    async fn call_loaded<E: Bound>(
        &self,
        loaded: Arc<LoadedPlugin>,
        extras: Extras,
        request: E::Request,
    ) -> Result<E::Output, CallError>
    where
        E::Request: Send + 'static,
        E::Output: Send + 'static,
    {
        let host = self.clone();
        let name = loaded.name().to_owned();
        let call = async move {
            let report = call::<E>(
                loaded.engine(&host.inner.engines),
                &loaded.pre,
                &loaded.exports,
                loaded.context.clone(),
                loaded.limits.get(E::LIMITS),
                extras,
                request,
            )
            .await;
            host.inner.registry.record_call(
                loaded.name(),
                report.result.as_ref().err(),
                &report.denials,
            );
            report.result
        };
        self.inner.calls.run(&name, call).await?
    }

    /// Renders one panel for one entity (Backstage-shaped JSON) for a
    /// viewer: the panel's catalog reads see what `viewer` shows (the
    /// viewer's access; `None`: the plugin's own view, for the portal's own
    /// work).
    #[tracing::instrument(skip(self, entity_json, viewer), fields(plugin = %plugin, panel = %panel_id))]
    pub async fn render_panel(
        &self,
        plugin: &str,
        panel_id: &str,
        entity_json: &str,
        viewer: Option<Arc<dyn CatalogReader>>,
    ) -> Result<Widget, CallError> {
        let loaded = self.offering::<Panel>(plugin, panel_id)?;
        let request = RenderRequest {
            panel_id: panel_id.to_owned(),
            entity_json: entity_json.to_owned(),
        };
        let extras = Extras {
            catalog: viewer,
            ..Extras::default()
        };
        self.call_loaded::<Panel>(loaded, extras, request).await
    }

    /// Runs one discovery pass of an entity provider.
    #[tracing::instrument(skip(self), fields(plugin = %plugin, provider = %provider_id))]
    pub async fn discover(
        &self,
        plugin: &str,
        provider_id: &str,
    ) -> Result<Vec<ProvidedEntity>, CallError> {
        let loaded = self.offering::<EntityProvider>(plugin, provider_id)?;
        self.call_loaded::<EntityProvider>(loaded, Extras::default(), provider_id.to_owned())
            .await
    }

    /// Runs one collation of a search collator: every document of its type.
    #[tracing::instrument(skip(self), fields(plugin = %plugin, document_type = %document_type))]
    pub async fn collate(
        &self,
        plugin: &str,
        document_type: &str,
    ) -> Result<Vec<SearchDocument>, CallError> {
        let loaded = self.offering::<SearchCollator>(plugin, document_type)?;
        self.call_loaded::<SearchCollator>(loaded, Extras::default(), document_type.to_owned())
            .await
    }

    /// Runs a template action with its task's directories as the only ones it sees.
    #[tracing::instrument(skip(self, request, log_sink), fields(action = %request.action_id, task = %request.task_id))]
    pub async fn execute_action(
        &self,
        request: &model::ActionRequest,
        dirs: &model::ActionDirs,
        log_sink: Option<LogSink>,
    ) -> Result<serde_json::Value, CallError> {
        let loaded = self.action_plugin(&request.action_id)?;
        let extras = Extras {
            action: Some(ActionScope {
                dirs: dirs.clone(),
                dry_run: request.dry_run,
            }),
            log_sink,
            catalog: None,
        };
        self.call_loaded::<TemplateAction>(loaded, extras, request.clone())
            .await
    }

    /// The loaded plugin that offers the action `action_id`.
    pub(crate) fn action_plugin(&self, action_id: &str) -> Result<Arc<LoadedPlugin>, CallError> {
        self.inner
            .registry
            .active()
            .into_iter()
            .find(|p| p.info.actions.iter().any(|a| a.id == action_id))
            .ok_or_else(|| CallError::NoSuchExtension {
                plugin: "(any)".into(),
                kind: TemplateAction::KIND,
                id: action_id.to_owned(),
            })
    }

    /// Benchmark support: instantiates a panel's plugin once and renders `calls`
    /// times on that same instance, returning each call's duration. The portal
    /// reuses an instance only for a task's steps (`ActionSession`); this
    /// measures the call alone.
    #[doc(hidden)]
    pub async fn bench_warm_renders(
        &self,
        plugin: &str,
        panel_id: &str,
        entity_json: &str,
        calls: usize,
    ) -> Result<Vec<std::time::Duration>, CallError> {
        let loaded = self.loaded(plugin)?;
        let mut limits = loaded.limits.get(Panel::LIMITS);
        limits.timeout_ms = limits.timeout_ms.max(600_000);
        limits.cpu_ms = limits.cpu_ms.max(600_000);
        let request = RenderRequest {
            panel_id: panel_id.to_owned(),
            entity_json: entity_json.to_owned(),
        };
        let report = invoke::invoke(
            loaded.engine(&self.inner.engines),
            &loaded.pre,
            &loaded.exports,
            loaded.context.clone(),
            CallOptions {
                limits,
                max_transfer_bytes: Panel::TRANSFER_BYTES,
                action: None,
                log_sink: None,
                catalog: None,
            },
            async |store, instance, exports| {
                let mut times = Vec::with_capacity(calls);
                for _ in 0..calls {
                    let started = std::time::Instant::now();
                    // The same work as a real call: the call, then the check.
                    if let Ok(view) = exports
                        .call::<Panel>(store, instance, request.clone())
                        .await?
                    {
                        let _ = Panel::check_output(view);
                    }
                    times.push(started.elapsed());
                }
                Ok(times)
            },
        )
        .await;
        report.result
    }
}
