//! The scaffolder's connection to the plugin host: template steps run as calls
//! of action plugins (`PluginHost::execute_action`), each with its task's
//! workspace and the template's files as its only directories, and the
//! plugin's log lines become the task's log.

use portal_plugin_host::PluginHost;
use portal_plugin_host::model::{ActionDirs, ActionRequest};
use portal_scaffolder::{ActionCall, ActionFuture, ActionInfo, ActionRunner, LogLine};
use serde_json::Value;
use std::sync::Arc;

pub struct PluginActions {
    plugins: PluginHost,
}

impl PluginActions {
    pub fn new(plugins: PluginHost) -> Arc<PluginActions> {
        Arc::new(PluginActions { plugins })
    }
}

impl ActionRunner for PluginActions {
    fn actions(&self) -> Vec<ActionInfo> {
        self.plugins
            .actions()
            .into_iter()
            .map(|(plugin, action)| ActionInfo {
                id: action.id,
                description: action.description,
                input_schema: action.input_schema.unwrap_or(Value::Null),
                output_schema: action.output_schema.unwrap_or(Value::Null),
                plugin,
            })
            .collect()
    }

    fn run(&self, call: ActionCall, log: LogLine) -> ActionFuture {
        let plugins = self.plugins.clone();
        Box::pin(async move {
            let request = ActionRequest {
                action_id: call.action,
                input: call.input,
                task_id: call.task_id,
                dry_run: call.dry_run,
            };
            let dirs = ActionDirs {
                workspace: call.workspace,
                template: call.template_dir,
            };
            let sink: portal_plugin_host::LogSink = Arc::new(move |level, line: &str| {
                let level = format!("{level:?}").to_lowercase();
                if level == "info" {
                    log(line);
                } else {
                    log(&format!("[{level}] {line}"));
                }
            });
            plugins
                .execute_action(&request, &dirs, Some(sink))
                .await
                .map_err(|e| e.to_string())
        })
    }
}
