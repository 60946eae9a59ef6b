//! Software templates in the UI: a template's form (its pages and fields, read
//! on the server from the template's parameter schema), the rules a value must
//! meet (checked in the browser on "Next" and again on the server), and a
//! task's page (its steps, log and output).
//!
//! The checks here run on both sides. Only the `pattern` rule needs a regular
//! expression engine: the browser passes JavaScript's `RegExp` (JSON Schema
//! patterns are ECMAScript regular expressions); the server has none and
//! skips that one rule.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Backstage's rule for entity names (`EntityNamePicker`): Kubernetes object
/// names, at most 63 characters.
pub const ENTITY_NAME_PATTERN: &str = "^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$";

/// A template's form, as the template page draws it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TemplateForm {
    pub namespace: String,
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    /// The template's own catalog page.
    pub entity_href: String,
    /// One per form page (a template without parameters has none: it goes
    /// straight to the review).
    pub pages: Vec<FormPage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormPage {
    pub title: String,
    pub description: Option<String>,
    pub fields: Vec<Field>,
}

/// One property of a page's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The property name: its key in `values` (or `secrets`).
    pub key: String,
    /// `title`, else the key.
    pub label: String,
    pub description: Option<String>,
    /// `ui:help`.
    pub help: Option<String>,
    /// `ui:placeholder`.
    pub placeholder: Option<String>,
    pub required: bool,
    /// `ui:autofocus`.
    pub autofocus: bool,
    /// `ui:field: Secret`: the value goes to the task's `secrets`, never
    /// stored with it.
    pub secret: bool,
    /// Shown as `••••••` on the review page (`ui:widget: password`, secrets).
    pub masked: bool,
    /// The schema's `default`, prefilled.
    pub default: Option<Value>,
    pub input: Input,
    /// A field of a conditional part of the schema (`dependencies` with
    /// `oneOf`, `if`/`then`/`else`): shown, checked and sent only while the
    /// condition holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_when: Option<ShownWhen>,
}

/// When a conditional field shows: decided by another field of its page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShownWhen {
    /// The deciding field's key.
    pub key: String,
    /// Shown while its value is one of these; `None`: while it has any value.
    pub one_of: Option<Vec<Value>>,
    /// Shown while the above does not hold (an `else` part).
    pub negate: bool,
}

impl ShownWhen {
    pub fn holds(&self, value: Option<&Value>) -> bool {
        let given = value.filter(|v| !v.is_null() && **v != Value::String(String::new()));
        let matches = match (&self.one_of, given) {
            (None, given) => given.is_some(),
            (Some(values), Some(v)) => values.contains(v),
            (Some(_), None) => false,
        };
        matches != self.negate
    }
}

/// How a field is entered, and its rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Input {
    /// A string: one line, several (`ui:widget: textarea`) or hidden (`password`).
    Text {
        widget: TextWidget,
        pattern: Option<String>,
        min_length: Option<u64>,
        max_length: Option<u64>,
    },
    /// `enum` (with `enumNames` as labels): a select, or radio buttons
    /// (`ui:widget: radio`).
    Choice { options: Vec<Choice>, radio: bool },
    Number {
        integer: bool,
        minimum: Option<f64>,
        maximum: Option<f64>,
        exclusive_minimum: Option<f64>,
        exclusive_maximum: Option<f64>,
    },
    /// A checkbox.
    Boolean,
    /// An array of strings, entered one per line or separated by commas.
    List {
        item_pattern: Option<String>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
    /// An array whose `items.enum` lists the choices: one checkbox each.
    Checkboxes {
        options: Vec<Choice>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
    /// `EntityPicker`, `OwnerPicker`, `OwnedEntityPicker`: an entity ref from
    /// the catalog, chosen from a list (a select), or typed with the list as
    /// suggestions when `ui:options.allowArbitraryValues` is not false.
    Entity {
        options: Vec<Choice>,
        arbitrary: bool,
        /// The kinds offered, for the hint ("Group or User").
        kinds: Vec<String>,
    },
    /// `EntityTagsPicker`: tags, each by the catalog's tag rule.
    Tags,
    /// `RepoUrlPicker`: host, owner and repository, as `host?owner=o&repo=r`.
    RepoUrl { hosts: Vec<String> },
    /// Anything else (objects, mixed types): JSON typed as text.
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TextWidget {
    Line,
    Textarea,
    Password,
}

/// One choice of an `enum`, or one entity of a picker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub value: Value,
    pub label: String,
}

/// What a field holds while the user fills in the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// Typed text; for choices the index of the option (`""` for none).
    Text(String),
    Flag(bool),
    /// Ticked options (indexes).
    Many(Vec<usize>),
    Repo {
        host: String,
        owner: String,
        repo: String,
    },
}

impl Entry {
    pub fn text(&self) -> String {
        match self {
            Entry::Text(t) => t.clone(),
            _ => String::new(),
        }
    }
}

/// What the task page is told after "Create": the new task, or why the
/// portal refused to start it (shown on the review step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateOutcome {
    Started { id: String },
    Refused { message: String },
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Splits a list typed as text: one item per line or comma-separated.
pub fn split_list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The catalog's rule for a tag (Backstage's): lowercase letters, digits and
/// `:+#`, in words joined by single dashes, at most 63 characters.
pub fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 63
        && tag.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ":+#".contains(c))
        })
}

/// `host?owner=o&repo=r`, Backstage's `RepoUrlPicker` value.
pub fn repo_url(host: &str, owner: &str, repo: &str) -> String {
    format!(
        "{}?owner={}&repo={}",
        host.trim(),
        super::encode_component(owner.trim()),
        super::encode_component(repo.trim())
    )
}

/// Reads `host?owner=o&repo=r` back (for a default).
pub fn parse_repo_url(url: &str) -> (String, String, String) {
    let (host, query) = url.split_once('?').unwrap_or((url, ""));
    let pairs = super::parse_query_string(query);
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    (host.to_owned(), get("owner"), get("repo"))
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

impl Field {
    /// The entry the form starts with: the default, or empty.
    pub fn initial_entry(&self) -> Entry {
        let default = self.default.as_ref();
        match &self.input {
            Input::Boolean => Entry::Flag(default.and_then(Value::as_bool).unwrap_or(false)),
            Input::Choice { options, .. } => Entry::Text(
                default
                    .and_then(|d| options.iter().position(|o| &o.value == d))
                    .map(|i| i.to_string())
                    .unwrap_or_default(),
            ),
            Input::Checkboxes { options, .. } => Entry::Many(
                default
                    .and_then(Value::as_array)
                    .map(|items| {
                        options
                            .iter()
                            .enumerate()
                            .filter(|(_, o)| items.contains(&o.value))
                            .map(|(i, _)| i)
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            Input::List { .. } | Input::Tags => Entry::Text(
                default
                    .and_then(Value::as_array)
                    .map(|items| items.iter().map(value_text).collect::<Vec<_>>().join(", "))
                    .unwrap_or_default(),
            ),
            Input::RepoUrl { hosts } => {
                let (host, owner, repo) = default
                    .and_then(Value::as_str)
                    .map(parse_repo_url)
                    .unwrap_or_default();
                let host = if host.is_empty() {
                    hosts.first().cloned().unwrap_or_default()
                } else {
                    host
                };
                Entry::Repo { host, owner, repo }
            }
            Input::Json => Entry::Text(
                default
                    .map(|d| serde_json::to_string_pretty(d).unwrap_or_default())
                    .unwrap_or_default(),
            ),
            Input::Number { .. } => Entry::Text(default.map(value_text).unwrap_or_default()),
            Input::Text { .. } | Input::Entity { .. } => {
                Entry::Text(default.map(value_text).unwrap_or_default())
            }
        }
    }

    /// The value an entry stands for (`None`: left empty), or why it is not one.
    pub fn value_of(&self, entry: &Entry) -> Result<Option<Value>, String> {
        match (&self.input, entry) {
            (Input::Boolean, Entry::Flag(b)) => Ok(Some(Value::Bool(*b))),
            (Input::Choice { options, .. }, Entry::Text(t)) => Ok(t
                .parse::<usize>()
                .ok()
                .and_then(|i| options.get(i))
                .map(|o| o.value.clone())),
            (Input::Checkboxes { options, .. }, Entry::Many(ticked)) => Ok(Some(Value::Array(
                options
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| ticked.contains(i))
                    .map(|(_, o)| o.value.clone())
                    .collect(),
            ))),
            (Input::List { .. } | Input::Tags, Entry::Text(t)) => {
                let items = split_list(t);
                Ok((!items.is_empty())
                    .then(|| Value::Array(items.into_iter().map(Value::String).collect())))
            }
            (Input::Number { integer, .. }, Entry::Text(t)) => {
                let t = t.trim();
                if t.is_empty() {
                    return Ok(None);
                }
                if *integer {
                    t.parse::<i64>()
                        .map(|n| Some(Value::from(n)))
                        .map_err(|_| "Enter a whole number.".to_owned())
                } else {
                    match t.parse::<f64>() {
                        Ok(n) if n.is_finite() => Ok(Some(if n.fract() == 0.0 && n.abs() < 9e15 {
                            Value::from(n as i64)
                        } else {
                            Value::from(n)
                        })),
                        _ => Err("Enter a number.".to_owned()),
                    }
                }
            }
            (Input::RepoUrl { .. }, Entry::Repo { host, owner, repo }) => {
                let (host, owner, repo) = (host.trim(), owner.trim(), repo.trim());
                if owner.is_empty() && repo.is_empty() {
                    return Ok(None);
                }
                if host.is_empty() || owner.is_empty() || repo.is_empty() {
                    return Err("Enter the host, the owner and the repository.".to_owned());
                }
                Ok(Some(Value::String(repo_url(host, owner, repo))))
            }
            (Input::Json, Entry::Text(t)) => {
                if t.trim().is_empty() {
                    return Ok(None);
                }
                serde_json::from_str(t)
                    .map(Some)
                    .map_err(|e| format!("Enter valid JSON ({e})."))
            }
            (Input::Text { .. } | Input::Entity { .. }, Entry::Text(t)) => {
                Ok((!t.trim().is_empty()).then(|| Value::String(t.clone())))
            }
            _ => Ok(None),
        }
    }

    /// Checks a value against the field's rules. `matches(pattern, text)`
    /// tests a JSON Schema pattern (`None`: it cannot be checked here).
    pub fn check(
        &self,
        value: Option<&Value>,
        matches: &dyn Fn(&str, &str) -> Option<bool>,
    ) -> Result<(), String> {
        let value = match value {
            None | Some(Value::Null) => {
                return if self.required {
                    Err("This field is required.".to_owned())
                } else {
                    Ok(())
                };
            }
            Some(Value::String(s)) if s.is_empty() && self.required => {
                return Err("This field is required.".to_owned());
            }
            Some(v) => v,
        };
        // A pattern that cannot be checked here (or does not compile) passes.
        let fails = |pattern: &str, text: &str| matches(pattern, text) == Some(false);
        match &self.input {
            Input::Text {
                pattern,
                min_length,
                max_length,
                ..
            } => {
                let Some(text) = value.as_str() else {
                    return Err("Enter text.".to_owned());
                };
                let len = text.chars().count() as u64;
                if let Some(min) = min_length
                    && len < *min
                {
                    return Err(format!(
                        "Must be at least {min} character{} long.",
                        if *min == 1 { "" } else { "s" }
                    ));
                }
                if let Some(max) = max_length
                    && len > *max
                {
                    return Err(format!(
                        "Must be at most {max} character{} long.",
                        if *max == 1 { "" } else { "s" }
                    ));
                }
                if let Some(p) = pattern
                    && fails(p, text)
                {
                    return Err(format!("Must match the pattern {p}"));
                }
                Ok(())
            }
            Input::Number {
                integer,
                minimum,
                maximum,
                exclusive_minimum,
                exclusive_maximum,
            } => {
                let Some(n) = value.as_f64() else {
                    return Err("Enter a number.".to_owned());
                };
                if *integer && n.fract() != 0.0 {
                    return Err("Enter a whole number.".to_owned());
                }
                if let Some(min) = minimum
                    && n < *min
                {
                    return Err(format!("Must be at least {}.", number_text(*min)));
                }
                if let Some(max) = maximum
                    && n > *max
                {
                    return Err(format!("Must be at most {}.", number_text(*max)));
                }
                if let Some(min) = exclusive_minimum
                    && n <= *min
                {
                    return Err(format!("Must be more than {}.", number_text(*min)));
                }
                if let Some(max) = exclusive_maximum
                    && n >= *max
                {
                    return Err(format!("Must be less than {}.", number_text(*max)));
                }
                Ok(())
            }
            Input::Boolean => value
                .is_boolean()
                .then_some(())
                .ok_or_else(|| "Must be true or false.".to_owned()),
            Input::Choice { options, .. } => {
                if options.iter().any(|o| &o.value == value) {
                    Ok(())
                } else {
                    Err("Choose one of the options.".to_owned())
                }
            }
            Input::Entity {
                options, arbitrary, ..
            } => {
                let Some(text) = value.as_str() else {
                    return Err("Enter an entity reference.".to_owned());
                };
                // Only the page that lists the options can hold a value to them.
                if !arbitrary && !options.is_empty() && !options.iter().any(|o| o.value == text) {
                    return Err("Choose one of the listed entities.".to_owned());
                }
                Ok(())
            }
            Input::List {
                item_pattern,
                min_items,
                max_items,
            } => {
                let Some(items) = value.as_array() else {
                    return Err("Enter a list.".to_owned());
                };
                count_rule(items.len(), *min_items, *max_items, "item")?;
                if self.required && items.is_empty() {
                    return Err("This field is required.".to_owned());
                }
                for item in items {
                    let Some(text) = item.as_str() else {
                        return Err("Every item must be text.".to_owned());
                    };
                    if let Some(p) = item_pattern
                        && fails(p, text)
                    {
                        return Err(format!("“{text}” must match the pattern {p}"));
                    }
                }
                Ok(())
            }
            Input::Checkboxes {
                options,
                min_items,
                max_items,
            } => {
                let Some(items) = value.as_array() else {
                    return Err("Choose from the list.".to_owned());
                };
                if self.required && items.is_empty() && min_items.is_none() {
                    return Err("Choose at least one.".to_owned());
                }
                count_rule(items.len(), *min_items, *max_items, "option")?;
                if items.iter().any(|i| !options.iter().any(|o| &o.value == i)) {
                    return Err("Choose from the list.".to_owned());
                }
                Ok(())
            }
            Input::Tags => {
                let Some(items) = value.as_array() else {
                    return Err("Enter tags.".to_owned());
                };
                for item in items {
                    let text = item.as_str().unwrap_or_default();
                    if !is_valid_tag(text) {
                        return Err(format!(
                            "“{text}” is not a valid tag: use lowercase letters, digits and : + #, words joined by single dashes, at most 63 characters."
                        ));
                    }
                }
                Ok(())
            }
            Input::RepoUrl { hosts } => {
                let Some(text) = value.as_str() else {
                    return Err("Enter the repository.".to_owned());
                };
                let (host, owner, repo) = parse_repo_url(text);
                if host.is_empty() || owner.is_empty() || repo.is_empty() {
                    return Err("Enter the host, the owner and the repository.".to_owned());
                }
                if !hosts.is_empty() && !hosts.contains(&host) {
                    return Err(format!("The host must be one of {}.", hosts.join(", ")));
                }
                Ok(())
            }
            Input::Json => Ok(()),
        }
    }

    /// How the review step shows a value.
    pub fn display(&self, value: Option<&Value>) -> String {
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return "—".to_owned();
        };
        if self.masked {
            return "••••••".to_owned();
        }
        let label_of = |options: &[Choice], v: &Value| {
            options
                .iter()
                .find(|o| &o.value == v)
                .map(|o| o.label.clone())
                .unwrap_or_else(|| value_text(v))
        };
        match (&self.input, value) {
            (Input::Boolean, Value::Bool(b)) => if *b { "Yes" } else { "No" }.to_owned(),
            (Input::Choice { options, .. } | Input::Entity { options, .. }, v) => {
                label_of(options, v)
            }
            (Input::Checkboxes { options, .. }, Value::Array(items)) => {
                if items.is_empty() {
                    "—".to_owned()
                } else {
                    items
                        .iter()
                        .map(|i| label_of(options, i))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            }
            (_, Value::Array(items)) => items.iter().map(value_text).collect::<Vec<_>>().join(", "),
            (Input::Json, v) => serde_json::to_string(v).unwrap_or_default(),
            (_, v) => value_text(v),
        }
    }
}

fn count_rule(n: usize, min: Option<u64>, max: Option<u64>, what: &str) -> Result<(), String> {
    let plural = |k: u64| if k == 1 { "" } else { "s" };
    if let Some(min) = min
        && (n as u64) < min
    {
        return Err(format!("Choose at least {min} {what}{}.", plural(min)));
    }
    if let Some(max) = max
        && (n as u64) > max
    {
        return Err(format!("Choose at most {max} {what}{}.", plural(max)));
    }
    Ok(())
}

impl TemplateForm {
    /// Checks `values` and `secrets` against every field; the problems, by
    /// field label.
    pub fn check(
        &self,
        values: &Map<String, Value>,
        secrets: &Map<String, Value>,
        matches: &dyn Fn(&str, &str) -> Option<bool>,
    ) -> Vec<String> {
        let mut problems = Vec::new();
        for field in self.pages.iter().flat_map(|p| &p.fields) {
            if let Some(when) = &field.shown_when
                && !when.holds(values.get(&when.key))
            {
                continue;
            }
            let value = if field.secret {
                secrets.get(&field.key)
            } else {
                values.get(&field.key)
            };
            if let Err(message) = field.check(value, matches) {
                problems.push(format!("{}: {message}", field.label));
            }
        }
        problems
    }
}

/// A task's page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: String,
    /// The template's title (or name).
    pub template_title: String,
    /// Its form, to run it again (`None` when the ref does not parse).
    pub template_href: Option<String>,
    /// `open`, `processing`, `completed`, `failed` or `cancelled`.
    pub status: String,
    /// RFC 3339.
    pub created_at: String,
    pub steps: Vec<TaskStep>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    pub log: Vec<LogLine>,
    /// The last event in `log`: the live log resumes after it.
    pub last_event_id: u64,
    pub links: Vec<OutputLink>,
    pub texts: Vec<OutputText>,
}

impl TaskView {
    pub fn is_final(&self) -> bool {
        is_final_status(&self.status)
    }
}

pub fn is_final_status(status: &str) -> bool {
    matches!(status, "completed" | "failed" | "cancelled")
}

/// The badge class for a task's or a step's status.
pub fn status_tone(status: &str) -> &'static str {
    match status {
        "completed" => "tone-success",
        "processing" => "tone-info",
        "failed" => "tone-danger",
        "cancelled" => "tone-warning",
        _ => "tone-neutral",
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskStep {
    pub id: String,
    pub name: String,
    pub action: String,
    /// `waiting` (not reached yet), `processing`, `completed`, `failed`,
    /// `skipped` or `cancelled`.
    pub status: String,
}

/// One line of a task's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    pub id: u64,
    /// `HH:MM:SS` (UTC).
    pub time: String,
    pub step_id: Option<String>,
    pub message: String,
    /// `log`, `completion`, `cancelled` or `recovered`.
    pub kind: String,
}

/// What one event of a task's log tells the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskEventView {
    pub line: LogLine,
    /// A step's new status.
    pub step: Option<(String, String)>,
    /// The task's status, on its last event (completion, cancellation).
    pub task_status: Option<String>,
}

impl TaskEventView {
    /// Reads an event of `GET .../events` or `.../eventstream`.
    pub fn from_event(event: &Value) -> Option<TaskEventView> {
        let id = event["id"].as_u64()?;
        let kind = event["type"].as_str().unwrap_or("log").to_owned();
        let body = &event["body"];
        let created = event["createdAt"].as_str().unwrap_or_default();
        let time = created.get(11..19).unwrap_or(created).to_owned();
        let step_id = body["stepId"].as_str().map(str::to_owned);
        let status = body["status"].as_str().map(str::to_owned);
        let step = match (&step_id, &status) {
            (Some(s), Some(st)) if kind == "log" => Some((s.clone(), st.clone())),
            _ => None,
        };
        let task_status = match kind.as_str() {
            "completion" => Some(status.clone().unwrap_or_else(|| "completed".to_owned())),
            "cancelled" => Some("cancelled".to_owned()),
            _ => None,
        };
        Some(TaskEventView {
            line: LogLine {
                id,
                time,
                step_id,
                message: body["message"].as_str().unwrap_or_default().to_owned(),
                kind,
            },
            step,
            task_status,
        })
    }
}

/// A link of the task's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputLink {
    pub title: String,
    /// `None` when the URL broke the portal's link rule (shown as text).
    pub href: Option<String>,
    /// Opens in a new tab.
    pub external: bool,
    /// For `entityRef` links, the entity's kind (its icon).
    pub kind: Option<String>,
    /// What the link points to, as text (the URL or the ref).
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputText {
    pub title: String,
    /// Markdown, rendered and sanitised on the server.
    pub html: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field(input: Input, required: bool) -> Field {
        Field {
            key: "k".into(),
            label: "K".into(),
            description: None,
            help: None,
            placeholder: None,
            required,
            autofocus: false,
            secret: false,
            masked: false,
            default: None,
            input,
            shown_when: None,
        }
    }

    #[test]
    fn conditions_decide_on_the_deciding_fields_value() {
        let when = |one_of: Option<Vec<Value>>, negate| ShownWhen {
            key: "db".into(),
            one_of,
            negate,
        };
        let postgres = json!("postgres");
        let pg = when(Some(vec![postgres.clone()]), false);
        assert!(pg.holds(Some(&postgres)));
        assert!(!pg.holds(Some(&json!("mysql"))));
        assert!(!pg.holds(None));
        let not_pg = when(Some(vec![postgres.clone()]), true);
        assert!(not_pg.holds(None) && !not_pg.holds(Some(&postgres)));
        let any = when(None, false);
        assert!(any.holds(Some(&json!(true))) && !any.holds(Some(&json!(""))) && !any.holds(None));
    }

    fn simple_re(pattern: &str, text: &str) -> Option<bool> {
        // Enough for the tests: `^[a-z]+$`.
        (pattern == "^[a-z]+$")
            .then(|| !text.is_empty() && text.chars().all(|c| c.is_ascii_lowercase()))
    }

    #[test]
    fn text_rules() {
        let f = field(
            Input::Text {
                widget: TextWidget::Line,
                pattern: Some("^[a-z]+$".into()),
                min_length: Some(2),
                max_length: Some(5),
            },
            true,
        );
        assert!(f.check(None, &simple_re).unwrap_err().contains("required"));
        assert!(
            f.check(Some(&json!("a")), &simple_re)
                .unwrap_err()
                .contains("at least 2")
        );
        assert!(
            f.check(Some(&json!("abcdef")), &simple_re)
                .unwrap_err()
                .contains("at most 5")
        );
        assert_eq!(
            f.check(Some(&json!("AB")), &simple_re).unwrap_err(),
            "Must match the pattern ^[a-z]+$"
        );
        assert!(f.check(Some(&json!("abc")), &simple_re).is_ok());
        // Without a regex engine the pattern is not checked.
        assert!(f.check(Some(&json!("AB")), &|_, _| None).is_ok());
        assert_eq!(f.value_of(&Entry::Text("  ".into())), Ok(None));
    }

    #[test]
    fn numbers_lists_and_choices() {
        let n = field(
            Input::Number {
                integer: false,
                minimum: Some(1.0),
                maximum: Some(10.0),
                exclusive_minimum: None,
                exclusive_maximum: None,
            },
            false,
        );
        assert_eq!(n.value_of(&Entry::Text("3".into())), Ok(Some(json!(3))));
        assert!(n.value_of(&Entry::Text("x".into())).is_err());
        assert!(
            n.check(Some(&json!(11)), &|_, _| None)
                .unwrap_err()
                .contains("at most 10")
        );
        assert!(n.check(None, &|_, _| None).is_ok());

        let l = field(
            Input::List {
                item_pattern: None,
                min_items: Some(1),
                max_items: None,
            },
            false,
        );
        assert_eq!(
            l.value_of(&Entry::Text("a, b\nc,,".into())),
            Ok(Some(json!(["a", "b", "c"])))
        );

        let mut c = field(
            Input::Choice {
                options: vec![
                    Choice {
                        value: json!("s"),
                        label: "Small".into(),
                    },
                    Choice {
                        value: json!(2),
                        label: "Two".into(),
                    },
                ],
                radio: false,
            },
            true,
        );
        c.default = Some(json!(2));
        assert_eq!(c.initial_entry(), Entry::Text("1".into()));
        assert_eq!(c.value_of(&Entry::Text("1".into())), Ok(Some(json!(2))));
        assert_eq!(c.display(Some(&json!("s"))), "Small");
        assert!(c.check(Some(&json!("x")), &|_, _| None).is_err());
    }

    #[test]
    fn repo_urls_and_tags() {
        assert_eq!(
            repo_url("github.com", "acme", "my repo"),
            "github.com?owner=acme&repo=my%20repo"
        );
        assert_eq!(
            parse_repo_url("github.com?owner=acme&repo=my%20repo"),
            ("github.com".into(), "acme".into(), "my repo".into())
        );
        let r = field(
            Input::RepoUrl {
                hosts: vec!["github.com".into()],
            },
            true,
        );
        let entry = Entry::Repo {
            host: "github.com".into(),
            owner: "acme".into(),
            repo: "".into(),
        };
        assert!(r.value_of(&entry).is_err());
        assert!(
            r.check(Some(&json!("gitlab.com?owner=a&repo=b")), &|_, _| None)
                .is_err()
        );
        assert!(is_valid_tag("java") && is_valid_tag("c++") && is_valid_tag("a-b:c"));
        assert!(!is_valid_tag("Java") && !is_valid_tag("a--b") && !is_valid_tag("-a"));
    }

    #[test]
    fn events_become_log_lines() {
        let e = json!({
            "id": 4, "type": "log", "createdAt": "2025-01-02T10:11:12.123Z",
            "body": { "message": "Beginning step Fetch", "stepId": "fetch", "status": "processing" }
        });
        let v = TaskEventView::from_event(&e).unwrap();
        assert_eq!(v.line.time, "10:11:12");
        assert_eq!(v.step, Some(("fetch".into(), "processing".into())));
        assert_eq!(v.task_status, None);
        let done = json!({ "id": 9, "type": "completion", "createdAt": "x", "body": { "message": "done", "status": "failed" } });
        assert_eq!(
            TaskEventView::from_event(&done)
                .unwrap()
                .task_status
                .as_deref(),
            Some("failed")
        );
    }
}

/// One template action for the actions page (`/create/actions`): what it is,
/// what it takes and gives, and what its plugin may reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRow {
    pub id: String,
    pub description: String,
    pub plugin: String,
    pub inputs: Vec<ActionField>,
    pub outputs: Vec<ActionField>,
    /// The plugin's grants, one line each ("HTTP to api.github.com").
    pub grants: Vec<String>,
    /// Grants the action needs that its plugin lacks (configuration keys): a
    /// task using it is refused until they are set.
    pub missing_grants: Vec<String>,
}

/// One property of an action's input or output schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionField {
    pub name: String,
    /// `string`, `boolean`, `string[]`, ... or empty when the schema says nothing.
    pub type_: String,
    pub required: bool,
    /// The property's description, or else its title.
    pub description: String,
}

/// The top-level properties of a JSON Schema object, required ones first.
pub fn schema_fields(schema: &Value) -> Vec<ActionField> {
    let required: Vec<&str> = schema["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    let mut fields: Vec<ActionField> = properties
        .iter()
        .map(|(name, property)| {
            let type_ = match (
                property["type"].as_str(),
                property["items"]["type"].as_str(),
            ) {
                (Some("array"), Some(item)) => format!("{item}[]"),
                (Some(t), _) => t.to_owned(),
                (None, _) => String::new(),
            };
            let description = property["description"]
                .as_str()
                .or(property["title"].as_str())
                .unwrap_or_default()
                .to_owned();
            ActionField {
                name: name.clone(),
                type_,
                required: required.contains(&name.as_str()),
                description,
            }
        })
        .collect();
    // Stable: required first, then the schema's own order.
    fields.sort_by_key(|f| !f.required);
    fields
}

#[cfg(test)]
mod action_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schema_fields_list_required_first_with_types() {
        let schema = json!({
            "type": "object",
            "required": ["url"],
            "properties": {
                "targetPath": { "title": "Target", "type": "string" },
                "url": { "description": "Where from", "type": "string" },
                "files": { "type": "array", "items": { "type": "string" } },
                "anything": {}
            }
        });
        let fields = schema_fields(&schema);
        assert_eq!(fields[0].name, "url");
        assert!(fields[0].required);
        assert_eq!(fields[0].description, "Where from");
        let files = fields.iter().find(|f| f.name == "files").unwrap();
        assert_eq!(files.type_, "string[]");
        assert_eq!(
            fields
                .iter()
                .find(|f| f.name == "targetPath")
                .unwrap()
                .description,
            "Target"
        );
        assert_eq!(schema_fields(&json!(null)), Vec::new());
    }
}
