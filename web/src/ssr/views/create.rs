//! Software templates: a template's form read from its parameter schema (one
//! page per schema, each property a [`Field`], pickers filled from the
//! catalog), the server's check of submitted values, and a task's page.

use super::*;
use crate::model::*;
use crate::ssr::data::{EntityQuery, TaskRequest};
use serde_json::{Map, Value, json};

/// The most entities a picker lists.
const PICKER_LIMIT: usize = 500;

/// A template's form; `None` when the catalog has no such template.
/// `with_options`: fill the pickers' lists from the catalog (the page needs
/// them; the server's check of submitted values does not).
pub async fn template_form(
    data: &Data,
    namespace: &str,
    name: &str,
    with_options: bool,
) -> Result<Option<TemplateForm>, String> {
    let Some(schema) = data
        .template_parameter_schema(namespace, name)
        .await
        .map_err(|e| e.0)?
    else {
        return Ok(None);
    };
    Ok(Some(
        form_from_schema(data, &schema, namespace, name, with_options).await,
    ))
}

/// The form of a parameter schema (Backstage's `{title, steps: [{schema}]}`).
pub async fn form_from_schema(
    data: &Data,
    schema: &Value,
    namespace: &str,
    name: &str,
    with_options: bool,
) -> TemplateForm {
    let mut pages = Vec::new();
    for step in schema["steps"].as_array().into_iter().flatten() {
        let page_schema = &step["schema"];
        let mut fields = Vec::new();
        for (key, property) in ordered_properties(page_schema) {
            let required = page_schema["required"]
                .as_array()
                .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key.as_str())));
            fields.push(field(data, &key, property, required, with_options).await);
            if let Some(token) = user_credentials(&key, property) {
                fields.push(token);
            }
        }
        for (when, part) in conditional_parts(page_schema) {
            for (key, property) in ordered_properties(part) {
                if key == when.key {
                    continue;
                }
                // The same field in another branch on the same choice: one
                // field, shown for either value.
                if let Some(existing) = fields.iter_mut().find(|f: &&mut Field| f.key == key) {
                    if let (Some(shown), Some(more)) = (&mut existing.shown_when, &when.one_of)
                        && shown.key == when.key
                        && !shown.negate
                        && !when.negate
                        && let Some(values) = &mut shown.one_of
                    {
                        values.extend(more.iter().cloned());
                    }
                    continue;
                }
                let required = part["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|k| k.as_str() == Some(key.as_str())));
                let mut f = field(data, &key, property, required, with_options).await;
                f.shown_when = Some(when.clone());
                fields.push(f);
            }
        }
        pages.push(FormPage {
            title: text(&step["title"]).unwrap_or_else(|| "Details".to_owned()),
            description: text(&step["description"]),
            fields,
        });
    }
    TemplateForm {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        title: text(&schema["title"]).unwrap_or_else(|| name.to_owned()),
        description: text(&schema["description"]),
        entity_href: entity_href("template", namespace, name),
        pages,
    }
}

/// Runs a template with the values of its form, after checking them against
/// the form's rules (all but `pattern`, which needs the browser's regular
/// expressions; the browser checked it before sending).
pub async fn create_task(
    data: &Data,
    namespace: &str,
    name: &str,
    values: Map<String, Value>,
    secrets: Map<String, Value>,
) -> Result<CreateOutcome, String> {
    let Some(form) = template_form(data, namespace, name, false).await? else {
        return Ok(CreateOutcome::Refused {
            message: format!("The catalog has no template {namespace}/{name}."),
        });
    };
    let problems = form.check(&values, &secrets, &|_, _| None);
    if !problems.is_empty() {
        return Ok(CreateOutcome::Refused {
            message: problems.join(" "),
        });
    }
    let template_ref = format!("template:{namespace}/{name}");
    Ok(
        match data
            .create_task(&template_ref, values, secrets)
            .await
            .map_err(|e| e.0)?
        {
            TaskRequest::Started(id) => CreateOutcome::Started { id },
            TaskRequest::Refused(message) => CreateOutcome::Refused { message },
        },
    )
}

/// A task's page; `None` when there is no such task.
pub async fn task(data: &Data, id: &str) -> Result<Option<TaskView>, String> {
    let Some(task) = data.task(id).await.map_err(|e| e.0)? else {
        return Ok(None);
    };
    let events = data.task_events(id, 0).await.map_err(|e| e.0)?;
    let log: Vec<LogLine> = events
        .iter()
        .filter_map(TaskEventView::from_event)
        .map(|e| e.line)
        .collect();
    let last_event_id = log
        .last()
        .map(|l| l.id)
        .unwrap_or(0)
        .max(task["state"]["lastEventId"].as_u64().unwrap_or(0));
    let template_ref = task["spec"]["templateInfo"]["entityRef"]
        .as_str()
        .unwrap_or_default();
    let metadata = &task["spec"]["templateInfo"]["entity"]["metadata"];
    let parsed = portal_types::parse_entity_ref(
        template_ref,
        portal_types::RefDefaults::new(Some("template"), "default"),
    )
    .ok();
    let template_title = text(&metadata["title"])
        .or_else(|| text(&metadata["name"]))
        .or_else(|| parsed.as_ref().map(|p| p.name.clone()))
        .unwrap_or_else(|| template_ref.to_owned());
    let template_href = parsed.as_ref().map(|p| {
        format!(
            "/create/templates/{}/{}",
            encode_component(&p.namespace),
            encode_component(&p.name)
        )
    });
    let status = task["status"].as_str().unwrap_or("open").to_owned();
    let output = &task["output"];
    Ok(Some(TaskView {
        id: task["id"].as_str().unwrap_or(id).to_owned(),
        template_title,
        template_href,
        created_at: task["createdAt"].as_str().unwrap_or_default().to_owned(),
        steps: steps(&task),
        error: text(&task["state"]["error"]),
        log,
        last_event_id,
        links: output_links(output),
        texts: output_texts(output),
        status,
    }))
}

/// A task's (or a dry run's) output links.
pub(crate) fn output_links(output: &Value) -> Vec<OutputLink> {
    output["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(output_link)
        .collect()
}

/// A task's (or a dry run's) output texts, their Markdown rendered and sanitised.
pub(crate) fn output_texts(output: &Value) -> Vec<OutputText> {
    output["text"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| OutputText {
            title: text(&t["title"]).unwrap_or_default(),
            html: crate::ssr::markdown::to_safe_html(&match &t["content"] {
                Value::String(s) => s.clone(),
                Value::Null => String::new(),
                other => other.to_string(),
            }),
        })
        .collect()
}

/// Every step of the template, with what the task did of it so far.
fn steps(task: &Value) -> Vec<TaskStep> {
    let states = task["state"]["steps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let state_of = |id: &str| states.iter().find(|s| s["id"].as_str() == Some(id));
    let mut steps: Vec<TaskStep> = task["spec"]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, step)| {
            let given_id = text(&step["id"]);
            let id = given_id
                .clone()
                .unwrap_or_else(|| format!("step-{}", i + 1));
            let action = text(&step["action"]).unwrap_or_default();
            let state = state_of(&id);
            TaskStep {
                // A step without a name is known by its id, else its action.
                name: text(&step["name"])
                    .or(given_id)
                    .or_else(|| state.and_then(|s| text(&s["name"])))
                    .unwrap_or_else(|| action.clone()),
                status: state
                    .and_then(|s| s["status"].as_str())
                    .unwrap_or("waiting")
                    .to_owned(),
                id,
                action,
            }
        })
        .collect();
    // Steps the run knows that the spec does not (never, today) still show.
    for s in &states {
        let id = s["id"].as_str().unwrap_or_default();
        if !steps.iter().any(|step| step.id == id) {
            steps.push(TaskStep {
                id: id.to_owned(),
                name: text(&s["name"]).unwrap_or_else(|| id.to_owned()),
                action: text(&s["action"]).unwrap_or_default(),
                status: s["status"].as_str().unwrap_or("waiting").to_owned(),
            });
        }
    }
    steps
}

/// An output link: entity refs lead to the entity's page, URLs only when the
/// portal's link rule allows them.
fn output_link(link: &Value) -> Option<OutputLink> {
    if let Some(r) = text(&link["entityRef"]) {
        let target = ref_link(&r, "component");
        return Some(OutputLink {
            title: text(&link["title"]).unwrap_or_else(|| target.label.clone()),
            href: Some(target.href),
            external: false,
            kind: Some(target.kind),
            target: r,
        });
    }
    let url = text(&link["url"])?;
    let class = portal_types::url::classify(&url);
    Some(OutputLink {
        title: text(&link["title"]).unwrap_or_else(|| url.clone()),
        external: class == Ok(portal_types::url::LinkTarget::External),
        href: class.is_ok().then(|| url.clone()),
        kind: None,
        target: url,
    })
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// A page's properties in the order the form shows them: `ui:order` when
/// the page gives one (`*` stands for the rest); else the required ones in
/// the order `required` lists them, then the others by name. (The catalog
/// keeps entities as JSON objects whose keys are sorted, so the order the
/// template's YAML wrote them in is not known here.)
fn ordered_properties(schema: &Value) -> Vec<(String, &Value)> {
    let Some(properties) = schema["properties"].as_object() else {
        return Vec::new();
    };
    let mut keys: Vec<&String> = properties.keys().collect();
    let rank = |list: &Value, key: &str| {
        list.as_array()
            .and_then(|l| l.iter().position(|k| k.as_str() == Some(key)))
    };
    let order = &schema["ui:order"];
    if order.is_array() {
        let rest = rank(order, "*").unwrap_or(usize::MAX - 1);
        keys.sort_by_key(|k| rank(order, k).unwrap_or(rest));
    } else {
        let required = &schema["required"];
        keys.sort_by_key(|k| rank(required, k).unwrap_or(usize::MAX));
    }
    keys.into_iter()
        .map(|k| (k.clone(), &properties[k.as_str()]))
        .collect()
}

fn choices(values: &Value, names: &Value) -> Vec<Choice> {
    values
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, v)| Choice {
            value: v.clone(),
            label: names[i]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                }),
        })
        .collect()
}

/// The first type a schema names (`type: [string, "null"]` is a string).
fn type_of(schema: &Value) -> &str {
    match &schema["type"] {
        Value::String(s) => s.as_str(),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .unwrap_or(""),
        _ => "",
    }
}

fn u64_at(schema: &Value, key: &str) -> Option<u64> {
    schema[key].as_u64()
}

async fn field(data: &Data, key: &str, p: &Value, required: bool, with_options: bool) -> Field {
    let ui_field = p["ui:field"].as_str().unwrap_or_default();
    let ui_widget = p["ui:widget"].as_str().unwrap_or_default();
    let options = &p["ui:options"];
    let mut secret = false;
    let input = match ui_field {
        "EntityPicker" | "OwnerPicker" | "OwnedEntityPicker" | "MyGroupsPicker" => {
            let (filter, kinds) = picker_filter(ui_field, options);
            let choices = if with_options {
                entity_choices(data, filter).await
            } else {
                Vec::new()
            };
            Input::Entity {
                options: choices,
                arbitrary: options["allowArbitraryValues"].as_bool().unwrap_or(true),
                kinds,
            }
        }
        "EntityNamePicker" => Input::Text {
            widget: TextWidget::Line,
            pattern: Some(ENTITY_NAME_PATTERN.to_owned()),
            min_length: u64_at(p, "minLength"),
            max_length: Some(u64_at(p, "maxLength").unwrap_or(63).min(63)),
        },
        "EntityTagsPicker" => Input::Tags,
        "RepoUrlPicker" => Input::RepoUrl {
            hosts: options["allowedHosts"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
        },
        "Secret" => {
            secret = true;
            Input::Text {
                widget: TextWidget::Password,
                pattern: p["pattern"].as_str().map(str::to_owned),
                min_length: u64_at(p, "minLength"),
                max_length: u64_at(p, "maxLength"),
            }
        }
        _ => match type_of(p) {
            "boolean" => Input::Boolean,
            "array" if p["items"]["enum"].is_array() => Input::Checkboxes {
                options: choices(&p["items"]["enum"], &p["items"]["enumNames"]),
                min_items: u64_at(p, "minItems"),
                max_items: u64_at(p, "maxItems"),
            },
            "array" if matches!(type_of(&p["items"]), "string" | "") => Input::List {
                item_pattern: p["items"]["pattern"].as_str().map(str::to_owned),
                min_items: u64_at(p, "minItems"),
                max_items: u64_at(p, "maxItems"),
            },
            "string" | "number" | "integer" | "" if p["enum"].is_array() => Input::Choice {
                options: choices(&p["enum"], &p["enumNames"]),
                radio: ui_widget == "radio",
            },
            "number" | "integer" => Input::Number {
                integer: type_of(p) == "integer",
                minimum: p["minimum"].as_f64(),
                maximum: p["maximum"].as_f64(),
                exclusive_minimum: p["exclusiveMinimum"].as_f64(),
                exclusive_maximum: p["exclusiveMaximum"].as_f64(),
            },
            // Untyped properties are text, as a form shows them.
            "string" | "" => Input::Text {
                widget: match ui_widget {
                    "textarea" => TextWidget::Textarea,
                    "password" => TextWidget::Password,
                    _ => TextWidget::Line,
                },
                pattern: p["pattern"].as_str().map(str::to_owned),
                min_length: u64_at(p, "minLength"),
                max_length: u64_at(p, "maxLength"),
            },
            _ => Input::Json,
        },
    };
    Field {
        key: key.to_owned(),
        label: text(&p["title"]).unwrap_or_else(|| key.to_owned()),
        description: text(&p["description"]),
        help: text(&p["ui:help"]),
        placeholder: text(&p["ui:placeholder"]),
        required,
        autofocus: p["ui:autofocus"].as_bool().unwrap_or(false),
        masked: secret || ui_widget == "password",
        secret,
        default: p.get("default").filter(|d| !d.is_null()).cloned(),
        input,
        shown_when: None,
    }
}

/// `RepoUrlPicker` with `ui:options.requestUserCredentials`: Backstage fills
/// `secrets.<secretsKey>` with the signed-in user's token for the repository's
/// host. Until Portal has sign-in, the form asks for that token in a password
/// field of its own, sent as that secret (never stored with the task).
fn user_credentials(key: &str, p: &Value) -> Option<Field> {
    if p["ui:field"].as_str() != Some("RepoUrlPicker") {
        return None;
    }
    let secret_key = p["ui:options"]["requestUserCredentials"]["secretsKey"].as_str()?;
    Some(Field {
        key: secret_key.to_owned(),
        label: "Your token for the repository's host".to_owned(),
        description: Some(format!(
            "The template acts on the repository ({key}) as you: a personal access token with the rights it needs. Sent to this task only, never stored."
        )),
        help: None,
        placeholder: None,
        required: true,
        autofocus: false,
        secret: true,
        masked: true,
        default: None,
        input: Input::Text {
            widget: TextWidget::Password,
            pattern: None,
            min_length: None,
            max_length: None,
        },
        shown_when: None,
    })
}

/// The conditional parts of a page's schema, as Backstage's templates write
/// them: `dependencies: {key: {oneOf: [{properties: {key: {enum|const}}, …}]}}`,
/// `dependencies: {key: {properties: …}}` (while `key` has a value), and
/// `if: {properties: {key: {const|enum}}}` with `then`/`else` (also inside
/// `allOf`). Each part's other properties, with the condition they show under
/// and whether the part requires them.
fn conditional_parts(schema: &Value) -> Vec<(ShownWhen, &Value)> {
    let mut parts = Vec::new();
    let values_of = |p: &Value| -> Option<Vec<Value>> {
        if let Some(c) = p.get("const") {
            Some(vec![c.clone()])
        } else {
            p["enum"].as_array().cloned()
        }
    };
    for (key, dependency) in schema["dependencies"].as_object().into_iter().flatten() {
        match dependency["oneOf"].as_array() {
            Some(branches) => {
                for branch in branches {
                    if let Some(values) = values_of(&branch["properties"][key]) {
                        let when = ShownWhen {
                            key: key.clone(),
                            one_of: Some(values),
                            negate: false,
                        };
                        parts.push((when, branch));
                    }
                }
            }
            None if dependency.is_object() => {
                let when = ShownWhen {
                    key: key.clone(),
                    one_of: None,
                    negate: false,
                };
                parts.push((when, dependency));
            }
            None => {}
        }
    }
    let ifs = std::iter::once(schema).chain(schema["allOf"].as_array().into_iter().flatten());
    for part in ifs {
        let Some(condition) = part["if"]["properties"].as_object() else {
            continue;
        };
        let Some((key, test)) = condition.iter().next().filter(|_| condition.len() == 1) else {
            continue;
        };
        let Some(values) = values_of(test) else {
            continue;
        };
        for (branch, negate) in [(&part["then"], false), (&part["else"], true)] {
            if branch.is_object() {
                let when = ShownWhen {
                    key: key.clone(),
                    one_of: Some(values.clone()),
                    negate,
                };
                parts.push((when, branch));
            }
        }
    }
    parts
}

/// What a picker lists, as a catalog predicate, and the kinds it names.
/// `catalogFilter` (an object, or a list of them: any matches) wins over
/// `allowedKinds`; an owner picker lists groups and users by default.
fn picker_filter(ui_field: &str, options: &Value) -> (Option<Value>, Vec<String>) {
    let kinds: Vec<String> = options["allowedKinds"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let catalog_filter = &options["catalogFilter"];
    let from_filter = match catalog_filter {
        Value::Object(_) => filter_object(catalog_filter),
        Value::Array(items) => {
            let any: Vec<Value> = items.iter().filter_map(filter_object).collect();
            (!any.is_empty()).then(|| json!({ "$any": any }))
        }
        _ => None,
    };
    let filter_kinds = |f: &Value| -> Vec<String> {
        let one = |v: &Value| match &v["kind"] {
            Value::String(k) => vec![k.clone()],
            Value::Array(ks) => ks
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        match f {
            Value::Array(items) => items.iter().flat_map(one).collect(),
            other => one(other),
        }
    };
    if let Some(filter) = from_filter {
        return (Some(filter), filter_kinds(catalog_filter));
    }
    let kinds = if kinds.is_empty() {
        match ui_field {
            "OwnerPicker" => vec!["Group".to_owned(), "User".to_owned()],
            "MyGroupsPicker" => vec!["Group".to_owned()],
            _ => Vec::new(),
        }
    } else {
        kinds
    };
    let filter = (!kinds.is_empty()).then(|| json!({ "kind": { "$in": kinds } }));
    (filter, kinds)
}

/// One `catalogFilter` object as a predicate: a list of values means any of
/// them (`kind: [Group, User]`); operators (`{ $exists: true }`) pass through.
fn filter_object(filter: &Value) -> Option<Value> {
    let map = filter.as_object()?;
    let mut out = Map::new();
    for (key, value) in map {
        let value = match value {
            Value::Array(items) => json!({ "$in": items }),
            other => other.clone(),
        };
        out.insert(key.clone(), value);
    }
    Some(Value::Object(out))
}

/// The entities a picker offers: their full refs, labelled with their title.
async fn entity_choices(data: &Data, filter: Option<Value>) -> Vec<Choice> {
    let page = match data
        .query_entities(EntityQuery {
            filter,
            limit: PICKER_LIMIT,
            ..Default::default()
        })
        .await
    {
        Ok(page) => page,
        Err(e) => {
            tracing::warn!("a template's entity picker cannot list entities: {}", e.0);
            return Vec::new();
        }
    };
    page.items
        .iter()
        .map(|e| {
            let r = row(e);
            let short = ref_link(&r.entity_ref, &r.kind).label;
            let short = if short.contains(':') {
                short
            } else {
                format!("{}:{short}", r.kind)
            };
            Choice {
                value: Value::String(r.entity_ref.clone()),
                label: match r.title {
                    Some(t) if t != r.name => format!("{t} ({short})"),
                    _ => short,
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_follow_ui_order_else_required_first() {
        let schema = json!({
            "required": ["name", "owner"],
            "properties": { "replicas": {}, "owner": {}, "name": {}, "a": {} }
        });
        let keys: Vec<String> = ordered_properties(&schema)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["name", "owner", "a", "replicas"]);
        let schema = json!({
            "ui:order": ["replicas", "*", "name"],
            "properties": { "replicas": {}, "owner": {}, "name": {} }
        });
        let keys: Vec<String> = ordered_properties(&schema)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["replicas", "owner", "name"]);
    }

    #[test]
    fn a_repo_picker_asking_for_user_credentials_adds_a_token_field() {
        let p = json!({
            "type": "string",
            "ui:field": "RepoUrlPicker",
            "ui:options": { "requestUserCredentials": { "secretsKey": "USER_OAUTH_TOKEN" } }
        });
        let token = user_credentials("repoUrl", &p).unwrap();
        assert_eq!(token.key, "USER_OAUTH_TOKEN");
        assert!(token.secret && token.masked && token.required);
        assert!(user_credentials("repoUrl", &json!({ "ui:field": "RepoUrlPicker" })).is_none());
        assert!(user_credentials("x", &json!({ "type": "string" })).is_none());
    }

    #[test]
    fn picker_filters() {
        let (f, kinds) = picker_filter("OwnerPicker", &json!({}));
        assert_eq!(f, Some(json!({ "kind": { "$in": ["Group", "User"] } })));
        assert_eq!(kinds, ["Group", "User"]);
        let (f, kinds) = picker_filter(
            "EntityPicker",
            &json!({ "catalogFilter": [{ "kind": "Component", "spec.type": ["service", "website"] }, { "kind": "API" }] }),
        );
        assert_eq!(
            f,
            Some(json!({ "$any": [
                { "kind": "Component", "spec.type": { "$in": ["service", "website"] } },
                { "kind": "API" }
            ] }))
        );
        assert_eq!(kinds, ["Component", "API"]);
        let (f, _) = picker_filter("EntityPicker", &json!({}));
        assert_eq!(f, None);
    }

    #[test]
    fn output_links_follow_the_url_rule() {
        let l =
            output_link(&json!({ "title": "Repo", "url": "https://git.example.com/x" })).unwrap();
        assert_eq!(l.href.as_deref(), Some("https://git.example.com/x"));
        assert!(l.external);
        let l = output_link(&json!({ "title": "Bad", "url": "javascript:alert(1)" })).unwrap();
        assert_eq!(l.href, None);
        let l = output_link(
            &json!({ "title": "In catalog", "entityRef": "component:default/payments" }),
        )
        .unwrap();
        assert_eq!(
            l.href.as_deref(),
            Some("/catalog/default/component/payments")
        );
        assert_eq!(l.kind.as_deref(), Some("component"));
    }
}
