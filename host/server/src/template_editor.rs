//! The template editor (`/create/edit`): a template's text, pasted by its
//! author, checked as task creation checks it and dry-run with the files of
//! a registered template, nothing registered and nothing kept.

use crate::scaffolder_wiring::FoundTemplate;
use portal_catalog::config::LimitsConfig;
use portal_scaffolder::{DryRun, Scaffolder, Template};
use serde_json::{Map, Value, json};
use std::path::Path;

/// The most a template's text may be.
const MAX_TEXT_BYTES: usize = 1 << 20;
/// What a dry run takes of a registered template's folder.
const MAX_FILES: usize = 10_000;
const MAX_FILES_BYTES: u64 = 64 << 20;

/// The one Template in `text`, or every problem with it, each with its place.
pub fn parse(text: &str) -> Result<Value, Vec<String>> {
    if text.len() > MAX_TEXT_BYTES {
        return Err(vec![format!(
            "the template is {} bytes, over the limit of {MAX_TEXT_BYTES}",
            text.len()
        )]);
    }
    let mut templates = Vec::new();
    let mut problems = Vec::new();
    for (line, document) in portal_catalog::read_yaml_documents(text, &LimitsConfig::default()) {
        match document {
            Ok(entity) if entity["kind"].as_str() == Some("Template") => {
                templates.push((line, entity))
            }
            Ok(entity) => problems.push(format!(
                "line {line}: a {} document, not a Template",
                entity["kind"].as_str().unwrap_or("kind-less")
            )),
            Err(e) => problems.push(format!("line {line}: {e}")),
        }
    }
    match (templates.len(), problems.is_empty()) {
        (1, true) => Ok(templates.pop().expect("one").1),
        (0, true) => Err(vec!["no Template in the text".to_owned()]),
        (n, true) => Err(vec![format!("{n} Templates in the text; paste one")]),
        _ => Err(problems),
    }
}

/// Checks the template as creating a task would: its shape, its actions,
/// its expressions. Answers its form's parameter schema.
pub fn preview(scaffolder: &Scaffolder, text: &str) -> Result<Value, Vec<String>> {
    let entity = parse(text)?;
    let template = Template::from_entity(&entity).map_err(|e| vec![e.to_string()])?;
    scaffolder
        .check(&template)
        .map_err(|e| vec![e.to_string()])?;
    let mut schema = template.parameter_schema();
    if let Some(order) =
        portal_scaffolder::form_order::field_order(text, &template.namespace, &template.name)
    {
        portal_scaffolder::form_order::apply(&mut schema, &order);
    }
    Ok(schema)
}

/// A dry run of the template, with the files of `files_from` (a registered
/// template's folder), answered as `POST /api/scaffolder/v2/dry-run` answers.
pub async fn dry_run(
    scaffolder: &Scaffolder,
    text: &str,
    files_from: Option<FoundTemplate>,
    values: Map<String, Value>,
    secrets: Map<String, Value>,
) -> Result<Value, String> {
    let entity = parse(text).map_err(|p| p.join("; "))?;
    let files = match files_from.and_then(|t| t.dir) {
        Some(dir) => read_folder(&dir)?,
        None => Vec::new(),
    };
    let result = scaffolder
        .dry_run(DryRun {
            entity,
            values,
            secrets,
            user: None,
            files,
        })
        .await
        .map_err(|e| e.to_string())?;
    Ok(json!({
        "status": result.status,
        "error": result.error,
        "log": result.log.iter().map(|e| json!({ "body": e.body })).collect::<Vec<_>>(),
        "output": result.output,
        "steps": result.steps,
        "directoryContents": result.files.iter().map(|(path, executable, bytes)| json!({
            "path": path,
            "executable": executable,
            "size": bytes.len(),
            // Text is shown; binary files by their size only.
            "text": std::str::from_utf8(bytes).ok().filter(|t| !t.contains('\0')),
        })).collect::<Vec<_>>(),
    }))
}

/// A folder's files (links not followed), bounded.
fn read_folder(root: &Path) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut files = Vec::new();
    let mut total = 0u64;
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| format!("cannot read the template's files: {e}"))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = path.symlink_metadata() else {
                continue;
            };
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() {
                total += meta.len();
                if files.len() >= MAX_FILES || total > MAX_FILES_BYTES {
                    return Err(format!(
                        "the template's folder holds more than {MAX_FILES} files or {MAX_FILES_BYTES} bytes"
                    ));
                }
                let bytes = std::fs::read(&path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let relative = path.strip_prefix(root).unwrap_or(&path);
                files.push((relative.to_string_lossy().into_owned(), bytes));
            }
        }
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_template_or_every_problem_with_its_line() {
        let ok = "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: t}\nspec: {steps: []}\n";
        assert_eq!(parse(ok).unwrap()["metadata"]["name"], "t");
        let broken = format!("{ok}---\nkind: [unclosed\n");
        let problems = parse(&broken).unwrap_err();
        assert!(problems[0].starts_with("line 6:"), "{problems:?}");
        let other = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\n";
        assert!(parse(other).unwrap_err()[0].contains("a Component document, not a Template"));
        assert!(parse("").unwrap_err()[0].contains("no Template"));
        let twice = format!("{ok}---\n{ok}");
        assert!(parse(&twice).unwrap_err()[0].contains("2 Templates"));
    }

    #[test]
    fn hostile_text_is_refused_under_the_catalogs_budget() {
        // Billion laughs: aliases that would expand to gigabytes.
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for (i, prev) in ('b'..='k').zip('a'..='j') {
            bomb.push_str(&format!("{i}: &{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let problems = parse(&bomb).unwrap_err();
        assert!(problems[0].starts_with("line 1:"), "{problems:?}");
        let huge = "#".repeat(MAX_TEXT_BYTES + 1);
        assert!(parse(&huge).unwrap_err()[0].contains("over the limit"));
    }
}
