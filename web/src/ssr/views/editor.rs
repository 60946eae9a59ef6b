//! The template editor: a pasted template's form (or its problems) and the
//! page's view of a dry run (`/create/edit`, `pages::editor`).

use super::create::{form_from_schema, output_links, output_texts};
use super::*;
use crate::model::*;
use serde_json::{Map, Value};

/// The form a pasted template generates, or every problem with it.
pub async fn preview(data: &Data, text: &str) -> EditorPreview {
    match data.preview_template(text).await {
        Ok(schema) => EditorPreview {
            problems: Vec::new(),
            form: Some(form_from_schema(data, &schema, "default", "draft", true).await),
        },
        Err(problems) => EditorPreview {
            problems,
            form: None,
        },
    }
}

/// A dry run of the pasted template, with the files of a registered one.
pub async fn dry_run(
    data: &Data,
    text: &str,
    files_from: Option<String>,
    values: Map<String, Value>,
    secrets: Map<String, Value>,
) -> Result<DryRunView, String> {
    let result = data
        .dry_run_template(text, files_from, values, secrets)
        .await
        .map_err(|e| e.0)?;
    Ok(dry_run_view(&result))
}

fn pretty(value: &Value) -> Option<String> {
    (!value.is_null()).then(|| serde_json::to_string_pretty(value).unwrap_or_default())
}

/// The page's view of `POST /v2/dry-run`'s answer.
pub fn dry_run_view(result: &Value) -> DryRunView {
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    DryRunView {
        status: text(&result["status"]),
        error: result["error"].as_str().map(str::to_owned),
        steps: result["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| DryRunStep {
                id: text(&s["id"]),
                name: text(&s["name"]),
                action: text(&s["action"]),
                status: text(&s["status"]),
                input: pretty(&s["input"]),
                output: pretty(&s["output"]),
            })
            .collect(),
        log: result["log"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|l| text(&l["body"]["message"]))
            .collect(),
        files: result["directoryContents"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| DryRunFile {
                path: text(&f["path"]),
                size: f["size"].as_u64().unwrap_or(0),
                executable: f["executable"].as_bool().unwrap_or(false),
                text: f["text"].as_str().map(str::to_owned),
            })
            .collect(),
        links: output_links(&result["output"]),
        texts: output_texts(&result["output"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_dry_run_answer_becomes_the_page_view() {
        let view = dry_run_view(&json!({
            "status": "completed",
            "steps": [{ "id": "fetch", "name": "Fetch", "action": "fetch:template", "status": "completed",
                        "input": { "url": "./skeleton" }, "output": {} }],
            "log": [{ "body": { "message": "Beginning step Fetch" } }],
            "directoryContents": [
                { "path": "README.md", "size": 9, "executable": false, "text": "# payments" },
                { "path": "logo.png", "size": 120, "executable": false, "text": null },
            ],
            "output": { "links": [{ "title": "Repo", "url": "https://git.example.com/x" }] },
        }));
        assert_eq!(view.status, "completed");
        assert!(
            view.steps[0]
                .input
                .as_deref()
                .unwrap()
                .contains("\"url\": \"./skeleton\"")
        );
        assert_eq!(view.log, ["Beginning step Fetch"]);
        assert_eq!(view.files[1].text, None);
        assert_eq!(view.links[0].title, "Repo");
    }
}
