//! The scaffolder's connection to the plugin host: template steps run as calls
//! of action plugins (`PluginHost::execute_action`), each with its task's
//! workspace and the template's files as its only directories, and the
//! plugin's log lines become the task's log.

use portal_catalog::{Access, Catalog, CatalogError};
use portal_plugin_host::PluginHost;
use portal_plugin_host::model::{ActionDirs, ActionRequest};
use portal_scaffolder::{
    ActionCall, ActionFuture, ActionInfo, ActionRunner, ActionSession, LogLine, SessionFuture,
    Template,
};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct PluginActions {
    plugins: PluginHost,
}

impl PluginActions {
    pub fn new(plugins: PluginHost) -> Arc<PluginActions> {
        Arc::new(PluginActions { plugins })
    }
}

/// What an action says it needs of its plugin's grants (`x-portal-grants`
/// in its input schema: `git_remotes`, `register_locations`,
/// `allowed_hosts`), as the configuration keys its plugin lacks.
pub fn missing_grants(
    plugin: &str,
    input_schema: &Value,
    grants: Option<&portal_plugin_host::EffectiveGrants>,
) -> Vec<String> {
    input_schema["x-portal-grants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .filter(|need| {
            let Some(g) = grants else { return true };
            match *need {
                "git_remotes" => g.git_remotes.is_empty(),
                "register_locations" => g.register_locations.is_empty(),
                "allowed_hosts" => g.http_hosts.is_empty(),
                _ => false,
            }
        })
        .map(|need| format!("plugins.grants.{plugin}.{need}"))
        .collect()
}

impl ActionRunner for PluginActions {
    fn actions(&self) -> Vec<ActionInfo> {
        self.plugins
            .actions_with_grants()
            .into_iter()
            .map(|(plugin, action, grants)| {
                let input_schema = action.input_schema.unwrap_or(Value::Null);
                ActionInfo {
                    missing_grants: missing_grants(&plugin, &input_schema, Some(&grants)),
                    id: action.id,
                    description: action.description,
                    input_schema,
                    output_schema: action.output_schema.unwrap_or(Value::Null),
                    plugin,
                }
            })
            .collect()
    }

    fn run(&self, call: ActionCall, log: LogLine) -> ActionFuture {
        let plugins = self.plugins.clone();
        Box::pin(async move {
            let (request, dirs, sink) = plugin_call(call, log);
            plugins
                .execute_action(&request, &dirs, Some(sink))
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn session(
        &self,
        workspace: &Path,
        template_dir: Option<&Path>,
        dry_run: bool,
    ) -> Option<Box<dyn ActionSession>> {
        let dirs = ActionDirs {
            workspace: workspace.to_owned(),
            template: template_dir.map(Path::to_owned),
        };
        Some(Box::new(PluginSession(
            self.plugins.action_session(&dirs, dry_run),
        )))
    }
}

/// A task run's steps on the plugin host's [`portal_plugin_host::ActionSession`]:
/// consecutive steps on one plugin share its instance.
struct PluginSession(portal_plugin_host::ActionSession);

impl ActionSession for PluginSession {
    fn run(&mut self, call: ActionCall, log: LogLine) -> SessionFuture<'_> {
        Box::pin(async move {
            let (request, _, sink) = plugin_call(call, log);
            self.0
                .execute(&request, Some(sink))
                .await
                .map_err(|e| e.to_string())
        })
    }
}

/// A step's call as the plugin host takes it; its log lines go to the task's
/// log, warnings marked.
fn plugin_call(
    call: ActionCall,
    log: LogLine,
) -> (ActionRequest, ActionDirs, portal_plugin_host::LogSink) {
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
    (request, dirs, sink)
}

/// A template's form pages in Backstage's parameter-schema shape, its fields
/// in the order its file gives them (the catalog's JSON has its keys sorted).
pub fn parameter_schema(found: &FoundTemplate, template: &Template) -> Value {
    let mut schema = template.parameter_schema();
    let file = found.entity["metadata"]["annotations"]["backstage.io/managed-by-location"]
        .as_str()
        .and_then(|l| l.strip_prefix("file:"));
    let text = file
        .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.len() < 1 << 20))
        .and_then(|f| std::fs::read_to_string(f).ok());
    if let Some(order) = text.and_then(|t| {
        portal_scaffolder::form_order::field_order(&t, &template.namespace, &template.name)
    }) {
        portal_scaffolder::form_order::apply(&mut schema, &order);
    }
    schema
}

/// A Template entity from the catalog, and where its files are.
pub struct FoundTemplate {
    pub entity: Value,
    /// `template:<namespace>/<name>`.
    pub entity_ref: String,
    /// Beside its catalog file, when that is a file: its skeletons.
    pub dir: Option<PathBuf>,
}

/// The Template `reference` names (`template:ns/name`, or `ns/name` with
/// Backstage's default kind), as the REST API and the UI both find it: `None`
/// when there is none, or it is not a Template.
pub fn find_template(
    catalog: &Catalog,
    access: &Access,
    reference: &str,
) -> Result<Option<FoundTemplate>, CatalogError> {
    let reference = if reference.contains(':') {
        reference.to_owned()
    } else {
        format!("template:{reference}")
    };
    let Some(doc) = catalog.get_by_ref(&reference, access)? else {
        return Ok(None);
    };
    let entity = doc.value();
    if !entity["kind"]
        .as_str()
        .is_some_and(|k| k.eq_ignore_ascii_case("template"))
    {
        return Ok(None);
    }
    let namespace = entity["metadata"]["namespace"]
        .as_str()
        .unwrap_or("default");
    let name = entity["metadata"]["name"].as_str().unwrap_or_default();
    let entity_ref = format!("template:{namespace}/{name}");
    let dir = entity["metadata"]["annotations"]["backstage.io/managed-by-location"]
        .as_str()
        .and_then(|l| l.strip_prefix("file:"))
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(|d| d.to_owned()))
        .filter(|d| d.is_dir());
    Ok(Some(FoundTemplate {
        entity,
        entity_ref,
        dir,
    }))
}

/// May this caller start a task from `found`: `scaffolder.task.create`, and
/// `scaffolder.action.execute` for every step's action (checked before the
/// task exists, so a refused task leaves nothing half-done). The error
/// names the first action refused.
pub fn authorize_task(
    context: &crate::request::RequestContext,
    found: &FoundTemplate,
) -> Result<(), crate::api::error::ApiError> {
    use portal_auth::permission;
    context.authorize(&permission::SCAFFOLDER_TASK_CREATE, &found.entity_ref)?;
    let steps = found.entity["spec"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for step in &steps {
        let action = step["action"].as_str().unwrap_or_default();
        if !context.may_run_action(action) {
            return Err(context.deny(
                &permission::SCAFFOLDER_ACTION_EXECUTE,
                &format!("{} step action {action}", found.entity_ref),
            ));
        }
    }
    Ok(())
}

/// The task's `user` (Backstage's `spec.user.ref`): the signed-in or guest
/// user; none for a service token.
pub fn task_user(
    context: &crate::request::RequestContext,
) -> Option<portal_scaffolder::task::TaskUser> {
    context
        .principal
        .identity()
        .map(|identity| portal_scaffolder::task::TaskUser {
            entity_ref: identity.user_ref.clone(),
            entity: None,
        })
}
