//! A task's template steps, run on one warm instance of their plugin.
//!
//! Every other call gets a fresh instance (`invoke`). A template's steps are
//! different: they run one after another for one task, with the same
//! workspace, template files, grants and secrets, and a fresh instance cost
//! more than a trivial step's own work. So a session keeps the instance of
//! the last step's plugin, and the next step on that plugin runs on it with a
//! new CPU budget, per-call quotas and log sink (`HostState::begin_next_call`).
//! What a plugin keeps in memory between steps is what it saw of this task.
//! A call that traps, times out or hits a limit discards the instance; a
//! step on another plugin, or a plugin replaced since, gets a fresh one.

use crate::PluginHost;
use crate::calls::checked;
use crate::capabilities::workspace::ActionScope;
use crate::capabilities::{HostState, LogSink};
use crate::error::CallError;
use crate::extensions::ExtensionPoint;
use crate::extensions::template_action::TemplateAction;
use crate::invoke::{self, CallOptions};
use crate::loader::LoadedPlugin;
use crate::model::{ActionDirs, ActionRequest};
use std::sync::Arc;
use wasmtime::Store;
use wasmtime::component::Instance;

pub struct ActionSession {
    host: PluginHost,
    scope: ActionScope,
    warm: Option<Warm>,
}

/// The instance the last step left, in its store.
struct Warm {
    loaded: Arc<LoadedPlugin>,
    store: Store<HostState>,
    instance: Instance,
}

impl PluginHost {
    /// A session for one task's steps: its directories, and whether it is a
    /// dry run.
    pub fn action_session(&self, dirs: &ActionDirs, dry_run: bool) -> ActionSession {
        ActionSession {
            host: self.clone(),
            scope: ActionScope {
                dirs: dirs.clone(),
                dry_run,
            },
            warm: None,
        }
    }
}

impl ActionSession {
    /// Runs one step's action (as `PluginHost::execute_action` does).
    #[tracing::instrument(skip_all, fields(action = %request.action_id, task = %request.task_id))]
    pub async fn execute(
        &mut self,
        request: &ActionRequest,
        log_sink: Option<LogSink>,
    ) -> Result<serde_json::Value, CallError> {
        let loaded = self.host.action_plugin(&request.action_id)?;
        let limits = loaded.limits.get(TemplateAction::LIMITS);
        let transfer = TemplateAction::TRANSFER_BYTES;
        let warm = self.warm.take().filter(|w| Arc::ptr_eq(&w.loaded, &loaded));
        let (mut store, instance) = match warm {
            Some(mut warm) => {
                warm.store.data_mut().begin_next_call(limits, log_sink);
                (warm.store, Some(warm.instance))
            }
            None => {
                let options = CallOptions {
                    limits,
                    max_transfer_bytes: transfer,
                    action: Some(&self.scope),
                    log_sink,
                    catalog: None,
                };
                let engines = loaded.engine(&self.host.inner.engines);
                (
                    invoke::new_store(engines, loaded.context.clone(), options)?,
                    None,
                )
            }
        };
        let host = self.host.clone();
        let request = request.clone();
        let name = loaded.name().to_owned();
        let call = async move {
            let engines = loaded.engine(&host.inner.engines);
            let (report, instance) = invoke::run(
                engines,
                &mut store,
                instance,
                &loaded.pre,
                &loaded.exports,
                limits,
                transfer,
                async |store, instance, exports| {
                    exports
                        .call::<TemplateAction>(store, instance, request)
                        .await
                },
            )
            .await;
            let report = checked::<TemplateAction>(loaded.name(), report);
            host.inner.registry.record_call(
                loaded.name(),
                report.result.as_ref().err(),
                &report.denials,
            );
            let warm = instance.map(|instance| Warm {
                loaded,
                store,
                instance,
            });
            (report.result, warm)
        };
        let (result, warm) = self.host.inner.calls.run(&name, call).await?;
        self.warm = warm;
        result
    }
}
