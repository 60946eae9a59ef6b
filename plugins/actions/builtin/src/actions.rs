//! The actions this plugin provides: their ids, descriptions and schemas (what
//! `describe` declares), and the call that runs one.

use crate::context::Context;
use crate::error::{ActionError, Result};
use crate::input::Input;
use crate::{catalog, debug, fetch, fs, github, publish, template};
use serde_json::Value;

pub struct Action {
    pub id: &'static str,
    pub description: &'static str,
    pub input_schema: fn() -> Value,
    pub output_schema: Option<fn() -> Value>,
    run: fn(&Context, &Input) -> Result<Value>,
}

pub const ACTIONS: &[Action] = &[
    Action {
        id: "fetch:plain",
        description: "Copies a folder (or a file) of the template into the workspace, or into `targetPath` within it.",
        input_schema: fetch::plain_schema,
        output_schema: None,
        run: fetch::plain,
    },
    Action {
        id: "fetch:plain:file",
        description: "Copies one file of the template into the workspace as `targetPath`.",
        input_schema: fetch::plain_file_schema,
        output_schema: None,
        run: fetch::plain_file,
    },
    Action {
        id: "fetch:template",
        description: "Renders a skeleton folder of the template with `values` (file contents, file and folder names) into the workspace.",
        input_schema: template::template_schema,
        output_schema: None,
        run: template::template,
    },
    Action {
        id: "fetch:template:file",
        description: "Renders one file of the template with `values` into the workspace as `targetPath`.",
        input_schema: template::template_file_schema,
        output_schema: None,
        run: template::template_file,
    },
    Action {
        id: "fs:delete",
        description: "Deletes files and folders (globs) from the workspace.",
        input_schema: fs::delete_schema,
        output_schema: None,
        run: fs::delete,
    },
    Action {
        id: "fs:rename",
        description: "Renames (moves) files and folders within the workspace.",
        input_schema: fs::rename_schema,
        output_schema: None,
        run: fs::rename,
    },
    Action {
        id: "fs:readdir",
        description: "Lists files and folders of the workspace.",
        input_schema: fs::readdir_schema,
        output_schema: Some(fs::readdir_output_schema),
        run: fs::readdir,
    },
    Action {
        id: "debug:wait",
        description: "Waits a while before the next step (at most ten minutes).",
        input_schema: debug::wait_schema,
        output_schema: None,
        run: debug::wait,
    },
    Action {
        id: "debug:log",
        description: "Writes a message into the task log, or lists the files of the workspace.",
        input_schema: debug::log_schema,
        output_schema: None,
        run: debug::log,
    },
    Action {
        id: "catalog:write",
        description: "Writes an entity as a catalog descriptor file (`catalog-info.yaml`) in the workspace.",
        input_schema: catalog::write_schema,
        output_schema: None,
        run: catalog::write,
    },
    Action {
        id: "publish:git",
        description: "Pushes the workspace (or a folder of it) as one commit to a git repository: a local path or an http(s) remote the plugin is granted.",
        input_schema: publish::git_schema,
        output_schema: Some(publish::git_output_schema),
        run: publish::git,
    },
    Action {
        id: "publish:github",
        description: "Creates a GitHub repository through GitHub's REST API and pushes the workspace (or a folder of it) to it.",
        input_schema: github::schema,
        output_schema: Some(github::output_schema),
        run: github::publish,
    },
    Action {
        id: "catalog:register",
        description: "Registers a catalog descriptor (`catalog-info.yaml`) as a location in the catalog, and answers the entity it holds.",
        input_schema: publish::register_schema,
        output_schema: Some(publish::register_output_schema),
        run: publish::register,
    },
];

/// Runs the action `id` on its input (JSON object text); its output is a JSON
/// object.
pub fn run(ctx: &Context, id: &str, input: &str) -> Result<Value> {
    let action = ACTIONS.iter().find(|a| a.id == id).ok_or_else(|| {
        ActionError::new(
            "not-provided",
            format!("this plugin provides no template action `{id}`"),
        )
    })?;
    let input = Input::parse(input)?;
    (action.run)(ctx, &input)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    #[test]
    fn every_action_declares_an_object_schema_and_a_valid_id() {
        let mut ids: Vec<&str> = ACTIONS.iter().map(|a| a.id).collect();
        assert_eq!(
            ids,
            [
                "fetch:plain",
                "fetch:plain:file",
                "fetch:template",
                "fetch:template:file",
                "fs:delete",
                "fs:rename",
                "fs:readdir",
                "debug:wait",
                "debug:log",
                "catalog:write",
                "publish:git",
                "publish:github",
                "catalog:register"
            ]
        );
        ids.dedup();
        assert_eq!(ids.len(), ACTIONS.len());
        for action in ACTIONS {
            // The host's rule for action ids.
            assert!(
                action
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'.'))
            );
            let schema = (action.input_schema)();
            assert_eq!(schema["type"], "object", "{}", action.id);
            let properties = schema["properties"].as_object().unwrap();
            for required in schema["required"].as_array().into_iter().flatten() {
                assert!(
                    properties.contains_key(required.as_str().unwrap()),
                    "{}: {required} is required but not described",
                    action.id
                );
            }
            for (name, property) in properties {
                assert!(
                    property["title"].is_string() || property["description"].is_string(),
                    "{}.{name} says nothing",
                    action.id
                );
            }
            if let Some(output) = action.output_schema {
                assert_eq!(output()["type"], "object");
            }
        }
    }

    #[test]
    fn an_unknown_action_or_input_that_is_not_an_object_is_an_error() {
        let dirs = Dirs::new();
        let e = run(&dirs.context(), "fetch:nothing", "{}").unwrap_err();
        assert_eq!(e.code, "not-provided");
        let e = run(&dirs.context(), "debug:log", "[]").unwrap_err();
        assert_eq!(e.code, "invalid-input");
        assert_eq!(
            run(&dirs.context(), "debug:log", "").unwrap(),
            serde_json::json!({})
        );
    }
}
