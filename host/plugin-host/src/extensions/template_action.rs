//! Template actions: one step of a software template, run with a workspace
//! directory as the only file system the plugin sees.

use super::{Declared, ExtensionPoint};
use crate::capabilities::HostState;
use crate::model::{self, ActionInfo, ActionRequest, PluginInfo};
use crate::wit::v1::{self, meta, template_action};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

pub(crate) struct TemplateAction;

const MAX_ACTION_OUTPUT_BYTES: usize = 1 << 20;

impl ExtensionPoint for TemplateAction {
    const KIND: &'static str = "template action";
    const LIMITS: portal_config::ExtensionPoint = portal_config::ExtensionPoint::Action;
    const TRANSFER_BYTES: usize = 8 << 20;
    type Request = ActionRequest;
    /// The action's output, JSON text.
    type Returned = String;
    /// A JSON object.
    type Output = serde_json::Value;

    fn check_output(output: String) -> Result<serde_json::Value, String> {
        if output.len() > MAX_ACTION_OUTPUT_BYTES {
            return Err(format!(
                "action output is {} bytes, over the limit of {MAX_ACTION_OUTPUT_BYTES}",
                output.len()
            ));
        }
        if output.trim().is_empty() {
            return Ok(serde_json::json!({}));
        }
        match serde_json::from_str::<serde_json::Value>(&output) {
            Ok(value @ serde_json::Value::Object(_)) => Ok(value),
            Ok(_) => Err("action output must be a JSON object".into()),
            Err(e) => Err(format!("action output is not JSON: {e}")),
        }
    }
}

impl Declared for TemplateAction {
    const INTERFACE: &'static str = "template-action";
    const ID_NOUN: &'static str = "action id";
    const PLURAL: &'static str = "template actions";
    type Info = ActionInfo;

    fn declared(info: &PluginInfo) -> &[ActionInfo] {
        &info.actions
    }
    fn id(info: &ActionInfo) -> &str {
        &info.id
    }
    /// Backstage's style: `acme:ticket:create`.
    fn check_id(id: &str) -> Result<(), String> {
        let valid = !id.is_empty()
            && id.len() <= 128
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.'));
        if valid {
            Ok(())
        } else {
            Err("may only hold letters, digits and : - _ .".into())
        }
    }
}

/// A JSON schema given as text; empty means none.
fn schema(text: String) -> Option<serde_json::Value> {
    if text.trim().is_empty() {
        None
    } else {
        Some(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
    }
}

pub(crate) fn info_from_v1(a: meta::ActionInfo) -> ActionInfo {
    ActionInfo {
        id: a.id,
        description: a.description,
        input_schema: schema(a.input_schema),
        output_schema: schema(a.output_schema),
    }
}

impl v1::Binding for TemplateAction {
    type Indices = template_action::GuestIndices;

    fn indices(pre: &InstancePre<HostState>) -> wasmtime::Result<Self::Indices> {
        template_action::GuestIndices::new(pre)
    }

    async fn call<'a>(
        indices: &'a Self::Indices,
        store: &'a mut Store<HostState>,
        instance: &'a Instance,
        request: ActionRequest,
    ) -> wasmtime::Result<Result<String, model::PluginError>> {
        let guest = indices.load(&mut *store, instance)?;
        let request = template_action::ActionRequest {
            action_id: request.action_id,
            input: request.input.to_string(),
            task_id: request.task_id,
            dry_run: request.dry_run,
        };
        let result = guest.call_execute(&mut *store, &request).await?;
        Ok(result.map(|r| r.output).map_err(v1::plugin_error))
    }
}
