//! A template entity (`apiVersion: scaffolder.backstage.io/v1beta3`,
//! `kind: Template`) read into what the form and the task engine need.
//!
//! Reading checks the shape only; expressions are checked when they are
//! rendered, and action names against the installed actions before a task starts.

use portal_template_expr::{RenderError, Templater};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::HashSet;

pub const API_VERSION: &str = "scaffolder.backstage.io/v1beta3";

/// Every problem found in a template, each at its place (`spec.steps[2].action`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .problems.iter().map(|(place, message)| format!("{place}: {message}")).collect::<Vec<_>>().join("; "))]
pub struct TemplateError {
    pub problems: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Template {
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    /// One form page per entry (a single schema object is one page).
    pub parameters: Vec<ParameterPage>,
    pub steps: Vec<Step>,
    pub output: Output,
}

/// One page of the form: a JSON Schema object with its `ui:` keys.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ParameterPage {
    pub title: Option<String>,
    pub description: Option<String>,
    pub schema: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    /// `id`, or `step-N` (N counted from 1) when the template gives none.
    pub id: String,
    /// `name`, or the action id.
    pub name: String,
    pub action: String,
    pub input: Value,
    /// Skipped when this renders falsy.
    #[serde(rename = "if")]
    pub condition: Option<Value>,
    /// Run once per item of the array or object this renders to.
    pub each: Option<Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Output {
    pub links: Vec<OutputLink>,
    pub text: Vec<OutputText>,
    /// Other keys, rendered and returned as they are.
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputLink {
    pub title: Option<String>,
    pub url: Option<Value>,
    #[serde(rename = "entityRef")]
    pub entity_ref: Option<Value>,
    pub icon: Option<String>,
    #[serde(rename = "if")]
    pub condition: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutputText {
    pub title: Option<String>,
    pub content: Option<Value>,
    pub icon: Option<String>,
    #[serde(rename = "if")]
    pub condition: Option<Value>,
}

/// Collects problems with their places while reading.
#[derive(Default)]
struct Problems(Vec<(String, String)>);

impl Problems {
    fn add(&mut self, place: impl Into<String>, message: impl Into<String>) {
        self.0.push((place.into(), message.into()));
    }
}

fn string_at(value: &Value, key: &str, place: &str, problems: &mut Problems) -> Option<String> {
    match value.get(key) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            problems.add(format!("{place}.{key}"), "must be text");
            None
        }
    }
}

impl Template {
    /// Reads a template from its entity JSON.
    pub fn from_entity(entity: &Value) -> Result<Template, TemplateError> {
        let mut problems = Problems::default();
        if entity.get("apiVersion").and_then(Value::as_str) != Some(API_VERSION) {
            problems.add(
                "apiVersion",
                format!("must be {API_VERSION} (older template versions are not supported)"),
            );
        }
        if entity.get("kind").and_then(Value::as_str) != Some("Template") {
            problems.add("kind", "must be Template");
        }
        let metadata = entity.get("metadata").cloned().unwrap_or(Value::Null);
        let name = string_at(&metadata, "name", "metadata", &mut problems).unwrap_or_default();
        if name.is_empty() {
            problems.add("metadata.name", "is required");
        }
        let namespace = string_at(&metadata, "namespace", "metadata", &mut problems)
            .unwrap_or_else(|| "default".to_owned());
        let title = string_at(&metadata, "title", "metadata", &mut problems);
        let description = string_at(&metadata, "description", "metadata", &mut problems);
        let spec = match entity.get("spec") {
            Some(spec @ Value::Object(_)) => spec.clone(),
            _ => {
                problems.add("spec", "is required and must be an object");
                Value::Object(Map::new())
            }
        };
        let parameters = read_parameters(spec.get("parameters"), &mut problems);
        let steps = read_steps(spec.get("steps"), &mut problems);
        let output = read_output(spec.get("output"), &mut problems);
        if !problems.0.is_empty() {
            return Err(TemplateError {
                problems: problems.0,
            });
        }
        Ok(Template {
            namespace,
            name,
            title,
            description,
            parameters,
            steps,
            output,
        })
    }

    /// What `GET /api/scaffolder/v2/templates/:ns/:kind/:name/parameter-schema`
    /// answers, in Backstage's shape: one form step per parameter page.
    pub fn parameter_schema(&self) -> Value {
        let steps: Vec<Value> = self
            .parameters
            .iter()
            .map(|page| {
                serde_json::json!({
                    "title": page.title.clone().unwrap_or_else(|| "Please enter the following information".to_owned()),
                    "description": page.description,
                    "schema": page.schema,
                })
            })
            .collect();
        serde_json::json!({
            "title": self.title.clone().unwrap_or_else(|| self.name.clone()),
            "description": self.description,
            "steps": steps,
        })
    }

    /// Every expression in the steps and output that does not parse, at its
    /// place (`spec.steps[1].input.url`). Actions are checked against the
    /// installed ones separately.
    pub fn check_expressions(&self, templater: &Templater) -> Vec<RenderError> {
        let mut errors = Vec::new();
        for (i, step) in self.steps.iter().enumerate() {
            let place = format!("spec.steps[{i}]");
            errors.extend(templater.check(&step.input, &format!("{place}.input")));
            for (key, value) in [("if", &step.condition), ("each", &step.each)] {
                if let Some(value) = value {
                    errors.extend(templater.check(value, &format!("{place}.{key}")));
                }
            }
        }
        for (i, link) in self.output.links.iter().enumerate() {
            let place = format!("spec.output.links[{i}]");
            for (key, value) in [
                ("url", &link.url),
                ("entityRef", &link.entity_ref),
                ("if", &link.condition),
            ] {
                if let Some(value) = value {
                    errors.extend(templater.check(value, &format!("{place}.{key}")));
                }
            }
        }
        for (i, text) in self.output.text.iter().enumerate() {
            let place = format!("spec.output.text[{i}]");
            for (key, value) in [("content", &text.content), ("if", &text.condition)] {
                if let Some(value) = value {
                    errors.extend(templater.check(value, &format!("{place}.{key}")));
                }
            }
        }
        for (key, value) in &self.output.other {
            errors.extend(templater.check(value, &format!("spec.output.{key}")));
        }
        errors
    }

    /// The steps and output of a task's spec (the template's `spec.steps` and
    /// `spec.output` as they were when the task was created).
    pub fn runnable(steps: &[Value], output: &Value) -> Result<(Vec<Step>, Output), TemplateError> {
        let mut problems = Problems::default();
        let steps = read_steps(Some(&Value::Array(steps.to_vec())), &mut problems);
        let output = read_output(Some(output).filter(|o| !o.is_null()), &mut problems);
        if problems.0.is_empty() {
            Ok((steps, output))
        } else {
            Err(TemplateError {
                problems: problems.0,
            })
        }
    }

    /// The actions the steps use, once each, in order of first use.
    pub fn actions(&self) -> Vec<&str> {
        let mut seen = HashSet::new();
        self.steps
            .iter()
            .map(|s| s.action.as_str())
            .filter(|a| seen.insert(*a))
            .collect()
    }
}

fn read_parameters(value: Option<&Value>, problems: &mut Problems) -> Vec<ParameterPage> {
    let pages: Vec<(String, &Value)> = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(page @ Value::Object(_)) => vec![("spec.parameters".to_owned(), page)],
        Some(Value::Array(pages)) => pages
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("spec.parameters[{i}]"), p))
            .collect(),
        Some(_) => {
            problems.add(
                "spec.parameters",
                "must be a JSON Schema object or a list of them",
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (place, page) in pages {
        if !page.is_object() {
            problems.add(place, "must be a JSON Schema object");
            continue;
        }
        if let Some(properties) = page.get("properties")
            && !properties.is_object()
        {
            problems.add(format!("{place}.properties"), "must be an object");
        }
        if let Some(required) = page.get("required")
            && !required
                .as_array()
                .is_some_and(|r| r.iter().all(Value::is_string))
        {
            problems.add(
                format!("{place}.required"),
                "must be a list of property names",
            );
        }
        out.push(ParameterPage {
            title: string_at(page, "title", &place, problems),
            description: string_at(page, "description", &place, problems),
            schema: page.clone(),
        });
    }
    out
}

fn read_steps(value: Option<&Value>, problems: &mut Problems) -> Vec<Step> {
    let steps = match value {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(steps)) => steps,
        Some(_) => {
            problems.add("spec.steps", "must be a list");
            return Vec::new();
        }
    };
    let mut ids = HashSet::new();
    let mut out = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        let place = format!("spec.steps[{i}]");
        if !step.is_object() {
            problems.add(place, "must be an object with an action");
            continue;
        }
        let action = string_at(step, "action", &place, problems).unwrap_or_default();
        if action.trim().is_empty() {
            problems.add(format!("{place}.action"), "is required");
        }
        let id =
            string_at(step, "id", &place, problems).unwrap_or_else(|| format!("step-{}", i + 1));
        if !ids.insert(id.clone()) {
            problems.add(
                format!("{place}.id"),
                format!("`{id}` is used by an earlier step"),
            );
        }
        let name = string_at(step, "name", &place, problems).unwrap_or_else(|| action.clone());
        let input = match step.get("input") {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(input @ Value::Object(_)) => input.clone(),
            Some(_) => {
                problems.add(format!("{place}.input"), "must be an object");
                Value::Object(Map::new())
            }
        };
        out.push(Step {
            id,
            name,
            action,
            input,
            condition: step.get("if").cloned(),
            each: step.get("each").cloned(),
        });
    }
    out
}

fn read_output(value: Option<&Value>, problems: &mut Problems) -> Output {
    let map = match value {
        None | Some(Value::Null) => return Output::default(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            problems.add("spec.output", "must be an object");
            return Output::default();
        }
    };
    let mut output = Output::default();
    for (key, value) in map {
        let place = format!("spec.output.{key}");
        match key.as_str() {
            "links" => {
                for (i, link) in items(value, &place, problems).into_iter().enumerate() {
                    let place = format!("{place}[{i}]");
                    if link.get("url").is_none() && link.get("entityRef").is_none() {
                        problems.add(&place, "needs a url or an entityRef");
                    }
                    output.links.push(OutputLink {
                        title: string_at(link, "title", &place, problems),
                        url: link.get("url").cloned(),
                        entity_ref: link.get("entityRef").cloned(),
                        icon: string_at(link, "icon", &place, problems),
                        condition: link.get("if").cloned(),
                    });
                }
            }
            "text" => {
                for (i, text) in items(value, &place, problems).into_iter().enumerate() {
                    let place = format!("{place}[{i}]");
                    output.text.push(OutputText {
                        title: string_at(text, "title", &place, problems),
                        content: text.get("content").cloned(),
                        icon: string_at(text, "icon", &place, problems),
                        condition: text.get("if").cloned(),
                    });
                }
            }
            _ => {
                output.other.insert(key.clone(), value.clone());
            }
        }
    }
    output
}

/// The objects of a list, reporting anything else.
fn items<'a>(value: &'a Value, place: &str, problems: &mut Problems) -> Vec<&'a Value> {
    let Some(list) = value.as_array() else {
        problems.add(place, "must be a list");
        return Vec::new();
    };
    list.iter()
        .enumerate()
        .filter_map(|(i, item)| {
            if item.is_object() {
                Some(item)
            } else {
                problems.add(format!("{place}[{i}]"), "must be an object");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
