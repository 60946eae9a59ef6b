//! The values a task is created with, checked on the server against the
//! template's parameter pages (JSON Schema), as the form checked them in the
//! browser: a client that skips the form gets the same answer. The keywords
//! real templates use are checked: `type`, `enum`, `const`, `pattern`,
//! `minLength`/`maxLength`, `minimum`/`maximum` (and exclusive), `multipleOf`,
//! `items`, `minItems`/`maxItems`, `uniqueItems`, `required` and `properties`
//! (nested objects too), and the conditional parts that apply to the values
//! (`dependencies`, `if`/`then`/`else`, inside `allOf` too). Others (`format`)
//! are left to the actions, which check their own inputs.

use serde_json::{Map, Value};

/// The deepest nesting of objects and arrays checked.
const MAX_DEPTH: usize = 32;

/// Every problem with `values`, each naming its field (`owner: is required`).
/// A value given as a secret (`ui:field: Secret`) counts as present.
pub fn check<'a>(
    pages: impl IntoIterator<Item = &'a Value>,
    values: &Map<String, Value>,
    secrets: &Map<String, Value>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for page in pages {
        check_page(page, values, secrets, 0, &mut problems);
    }
    problems
}

/// A page, and the conditional parts of it that apply to `values`
/// (`dependencies`, `if`/`then`/`else`, also inside `allOf`), as the form
/// shows them.
fn check_page(
    page: &Value,
    values: &Map<String, Value>,
    secrets: &Map<String, Value>,
    depth: usize,
    problems: &mut Vec<String>,
) {
    if depth > MAX_DEPTH {
        return;
    }
    for key in page["required"].as_array().into_iter().flatten() {
        let Some(key) = key.as_str() else { continue };
        let given = !matches!(values.get(key), None | Some(Value::Null))
            && values.get(key) != Some(&Value::String(String::new()));
        if !given && !secrets.contains_key(key) {
            problems.push(format!("{key}: is required"));
        }
    }
    for (key, schema) in page["properties"].as_object().into_iter().flatten() {
        if let Some(value) = values.get(key).filter(|v| !v.is_null()) {
            check_value(key, schema, value, 0, problems);
        }
    }
    for part in applicable_parts(page, values) {
        check_page(part, values, secrets, depth + 1, problems);
    }
}

/// Whether `value` passes a condition's property schema (`const`, `enum`).
fn satisfies(test: &Value, value: Option<&Value>) -> bool {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return false;
    };
    if let Some(c) = test.get("const") {
        return c == value;
    }
    match test["enum"].as_array() {
        Some(options) => options.contains(value),
        None => true,
    }
}

/// The conditional parts of a page that apply to `values`.
fn applicable_parts<'a>(page: &'a Value, values: &Map<String, Value>) -> Vec<&'a Value> {
    let mut parts = Vec::new();
    for (key, dependency) in page["dependencies"].as_object().into_iter().flatten() {
        let value = values.get(key).filter(|v| !v.is_null());
        if value.is_none() {
            continue;
        }
        match dependency["oneOf"].as_array() {
            Some(branches) => parts.extend(
                branches
                    .iter()
                    .filter(|b| satisfies(&b["properties"][key], value)),
            ),
            None if dependency.is_object() => parts.push(dependency),
            None => {}
        }
    }
    let ifs = std::iter::once(page).chain(page["allOf"].as_array().into_iter().flatten());
    for part in ifs {
        let Some(condition) = part["if"]["properties"].as_object() else {
            continue;
        };
        let holds = condition
            .iter()
            .all(|(key, test)| satisfies(test, values.get(key)));
        let branch = if holds { &part["then"] } else { &part["else"] };
        if branch.is_object() {
            parts.push(branch);
        }
    }
    parts
}

fn check_value(path: &str, schema: &Value, value: &Value, depth: usize, out: &mut Vec<String>) {
    if depth > MAX_DEPTH || !schema.is_object() {
        return;
    }
    let mut fail = |message: String| out.push(format!("{path}: {message}"));
    if let Some(expected) = schema.get("type")
        && !type_matches(expected, value)
    {
        fail(format!("must be {}", type_words(expected)));
        return;
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        let shown: Vec<String> = options.iter().map(Value::to_string).collect();
        fail(format!("must be one of {}", shown.join(", ")));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        fail(format!("must be {constant}"));
    }
    match value {
        Value::String(text) => {
            let len = text.chars().count() as u64;
            if let Some(min) = schema["minLength"].as_u64()
                && len < min
            {
                fail(format!("must be at least {min} characters long"));
            }
            if let Some(max) = schema["maxLength"].as_u64()
                && len > max
            {
                fail(format!("must be at most {max} characters long"));
            }
            // ECMAScript patterns; one Rust's regex cannot compile is left to the browser.
            if let Some(pattern) = schema["pattern"].as_str()
                && let Ok(regex) = regex::RegexBuilder::new(pattern)
                    .size_limit(1 << 20)
                    .build()
                && !regex.is_match(text)
            {
                fail(format!("must match the pattern {pattern}"));
            }
        }
        Value::Number(n) => {
            let n = n.as_f64().unwrap_or(f64::NAN);
            let bound = |key: &str| schema[key].as_f64();
            if let Some(min) = bound("minimum")
                && n < min
            {
                fail(format!("must be at least {min}"));
            }
            if let Some(max) = bound("maximum")
                && n > max
            {
                fail(format!("must be at most {max}"));
            }
            if let Some(min) = bound("exclusiveMinimum")
                && n <= min
            {
                fail(format!("must be more than {min}"));
            }
            if let Some(max) = bound("exclusiveMaximum")
                && n >= max
            {
                fail(format!("must be less than {max}"));
            }
            if let Some(step) = bound("multipleOf")
                && step > 0.0
                && ((n / step).round() * step - n).abs() > 1e-9 * n.abs().max(1.0)
            {
                fail(format!("must be a multiple of {step}"));
            }
        }
        Value::Array(items) => {
            let len = items.len() as u64;
            if let Some(min) = schema["minItems"].as_u64()
                && len < min
            {
                fail(format!("must have at least {min} items"));
            }
            if let Some(max) = schema["maxItems"].as_u64()
                && len > max
            {
                fail(format!("must have at most {max} items"));
            }
            if schema["uniqueItems"] == Value::Bool(true)
                && items
                    .iter()
                    .enumerate()
                    .any(|(i, a)| items[..i].contains(a))
            {
                fail("must not repeat an item".to_owned());
            }
            let item_schema = &schema["items"];
            for (i, item) in items.iter().enumerate() {
                check_value(&format!("{path}[{i}]"), item_schema, item, depth + 1, out);
            }
        }
        Value::Object(fields) => {
            for key in schema["required"].as_array().into_iter().flatten() {
                if let Some(key) = key.as_str()
                    && matches!(fields.get(key), None | Some(Value::Null))
                {
                    out.push(format!("{path}.{key}: is required"));
                }
            }
            for (key, property) in schema["properties"].as_object().into_iter().flatten() {
                if let Some(v) = fields.get(key).filter(|v| !v.is_null()) {
                    check_value(&format!("{path}.{key}"), property, v, depth + 1, out);
                }
            }
        }
        _ => {}
    }
}

fn type_matches(expected: &Value, value: &Value) -> bool {
    match expected {
        Value::String(t) => one_type_matches(t, value),
        Value::Array(types) => types
            .iter()
            .filter_map(Value::as_str)
            .any(|t| one_type_matches(t, value)),
        _ => true,
    }
}

fn one_type_matches(t: &str, value: &Value) -> bool {
    match t {
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.as_f64().is_some_and(|n| n.fract() == 0.0),
        "boolean" => value.is_boolean(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "null" => value.is_null(),
        // An unknown type name is the schema's problem, not the value's.
        _ => true,
    }
}

fn type_words(expected: &Value) -> String {
    let word = |t: &str| {
        match t {
            "string" => "text",
            "number" => "a number",
            "integer" => "a whole number",
            "boolean" => "true or false",
            "array" => "a list",
            "object" => "an object",
            other => other,
        }
        .to_owned()
    };
    match expected {
        Value::String(t) => word(t),
        Value::Array(ts) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(word)
            .collect::<Vec<_>>()
            .join(" or "),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(schema: Value, values: Value) -> Vec<String> {
        check(&[schema], values.as_object().unwrap(), &Map::new())
    }

    #[test]
    fn the_keywords_real_templates_use() {
        let page = json!({
            "required": ["name", "owner"],
            "properties": {
                "name": { "type": "string", "pattern": "^[a-z0-9-]+$", "maxLength": 10 },
                "owner": { "type": "string" },
                "port": { "type": "integer", "minimum": 1024, "maximum": 65535 },
                "tier": { "type": "string", "enum": ["gold", "silver"] },
                "tags": { "type": "array", "items": { "type": "string", "pattern": "^[a-z]+$" }, "maxItems": 2, "uniqueItems": true },
                "db": { "type": "object", "required": ["engine"], "properties": { "size": { "type": "number", "multipleOf": 5 } } }
            }
        });
        assert!(
            problems(
                page.clone(),
                json!({ "name": "api", "owner": "team-a", "port": 8080 })
            )
            .is_empty()
        );
        let found = problems(
            page,
            json!({
                "name": "Bad Name!!!!",
                "port": 80.5,
                "tier": "bronze",
                "tags": ["ok", "Not", "ok"],
                "db": { "size": 7 }
            }),
        );
        for expected in [
            "owner: is required",
            "name: must be at most 10 characters long",
            "name: must match the pattern ^[a-z0-9-]+$",
            "port: must be a whole number",
            "tier: must be one of \"gold\", \"silver\"",
            "tags: must have at most 2 items",
            "tags: must not repeat an item",
            "tags[1]: must match the pattern ^[a-z]+$",
            "db.engine: is required",
            "db.size: must be a multiple of 5",
        ] {
            assert!(
                found.iter().any(|p| p == expected),
                "no `{expected}` in {found:#?}"
            );
        }
    }

    #[test]
    fn conditional_parts_apply_only_when_their_condition_holds() {
        let page = json!({
            "properties": { "db": { "type": "string", "enum": ["none", "postgres"] } },
            "dependencies": { "db": { "oneOf": [
                { "properties": { "db": { "enum": ["none"] } } },
                { "properties": { "db": { "enum": ["postgres"] }, "size": { "type": "integer", "minimum": 1 } },
                  "required": ["size"] },
            ]}},
            "allOf": [{
                "if": { "properties": { "public": { "const": true } } },
                "then": { "required": ["domain"] },
                "else": { "properties": { "domain": { "maxLength": 0 } } },
            }],
        });
        assert!(problems(page.clone(), json!({ "db": "none" })).is_empty());
        assert_eq!(
            problems(page.clone(), json!({ "db": "postgres" })),
            ["size: is required"]
        );
        assert_eq!(
            problems(page.clone(), json!({ "db": "postgres", "size": 0 })),
            ["size: must be at least 1"]
        );
        assert_eq!(
            problems(page.clone(), json!({ "public": true })),
            ["domain: is required"]
        );
        assert_eq!(
            problems(page, json!({ "public": false, "domain": "x" })),
            ["domain: must be at most 0 characters long"]
        );
    }

    #[test]
    fn a_secret_counts_for_a_required_value_and_empty_text_does_not() {
        let page = json!({ "required": ["token", "name"], "properties": { "name": { "type": "string" } } });
        let secrets = json!({ "token": "s3cret" });
        let found = check(
            &[page],
            json!({ "name": "" }).as_object().unwrap(),
            secrets.as_object().unwrap(),
        );
        assert_eq!(found, ["name: is required"]);
    }

    #[test]
    fn hostile_schemas_and_values_cost_little() {
        // A pattern that would take forever with backtracking is linear here;
        // one that does not compile (ECMAScript only) is left alone.
        let page = json!({ "properties": {
            "a": { "type": "string", "pattern": "^(a+)+$" },
            "b": { "type": "string", "pattern": "(?<=x)y" }
        }});
        let long = "a".repeat(100_000) + "!";
        let found = problems(page, json!({ "a": long, "b": "zz" }));
        assert_eq!(found.len(), 1, "{found:?}");
        // Deep nesting stops at MAX_DEPTH instead of overflowing the stack.
        let mut schema = json!({ "type": "array" });
        let mut value = json!(1);
        for _ in 0..200 {
            schema = json!({ "type": "array", "items": schema });
            value = json!([value]);
        }
        let found = problems(
            json!({ "properties": { "deep": schema } }),
            json!({ "deep": value }),
        );
        assert!(found.len() <= 1, "{found:?}");
    }
}
