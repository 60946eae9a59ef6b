//! The filters Backstage templates use beyond minijinja's built-in ones
//! (which cover Nunjucks' usual filters): `parseRepoUrl`, `parseEntityRef`,
//! `pick`, `projectSlug`, and Nunjucks' `dump`, `truncate` and `wordcount`.
//! Each takes data and returns data. Bad input is a render error that says what
//! was wrong but never quotes the input: it may be a secret.

use minijinja::value::{Kwargs, Serde, Value};
use minijinja::{Environment, Error, ErrorKind};
use portal_catalog_model::{RefDefaults, parse_entity_ref};
use std::collections::BTreeMap;

pub(crate) fn register(env: &mut Environment<'static>) {
    env.add_filter("parseRepoUrl", parse_repo_url);
    env.add_filter("projectSlug", project_slug);
    env.add_filter("parseEntityRef", parse_entity_ref_filter);
    env.add_filter("pick", pick);
    env.add_filter("dump", dump);
    env.add_filter("truncate", truncate);
    env.add_filter("wordcount", wordcount);
}

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidOperation, message.into())
}

/// `github.com?owner=o&repo=r` → `{host, owner, repo}` (plus `organization`,
/// `workspace`, `project` when given), as the repository picker writes it.
fn parse_repo_url(value: &str) -> Result<Value, Error> {
    let (host, query) = value.split_once('?').ok_or_else(|| {
        invalid("parseRepoUrl: the value is not a repository URL (host?owner=o&repo=r)")
    })?;
    if host.is_empty() || host.contains(['/', '\\', '@', ' ']) {
        return Err(invalid("parseRepoUrl: the value has no valid host"));
    }
    let mut parts = BTreeMap::new();
    parts.insert("host".to_owned(), host.to_owned());
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if matches!(
            &*key,
            "owner" | "repo" | "organization" | "workspace" | "project"
        ) {
            parts.insert(key.into_owned(), value.into_owned());
        }
    }
    if !parts.contains_key("repo") {
        return Err(invalid("parseRepoUrl: the value names no repo"));
    }
    Ok(Value::from(Serde(&parts)))
}

/// `github.com?owner=o&repo=r` → `o/r`.
fn project_slug(value: &str) -> Result<String, Error> {
    let parts = parse_repo_url(value)?;
    let field = |name: &str| {
        parts
            .get_attr(name)
            .ok()
            .filter(|v| !v.is_undefined())
            .map(|v| v.to_string())
    };
    let owner = field("owner")
        .or_else(|| field("organization"))
        .or_else(|| field("workspace"))
        .unwrap_or_default();
    let repo = field("repo").unwrap_or_default();
    Ok(format!("{owner}/{repo}"))
}

/// `group:team-a` → `{kind, namespace, name}`; options `defaultKind`,
/// `defaultNamespace`.
fn parse_entity_ref_filter(value: &str, options: Option<Value>) -> Result<Value, Error> {
    let option = |name: &str| -> Option<String> {
        options
            .as_ref()
            .and_then(|o| o.get_attr(name).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    let kind = option("defaultKind");
    let namespace = option("defaultNamespace").unwrap_or_default();
    let parsed = parse_entity_ref(
        value,
        RefDefaults {
            kind: kind.as_deref(),
            namespace: &namespace,
        },
    )
    .map_err(|_| {
        invalid(
            "parseEntityRef: the value is not an entity reference ([<kind>:][<namespace>/]<name>)",
        )
    })?;
    let mut parts = BTreeMap::new();
    parts.insert("kind", parsed.kind);
    parts.insert("namespace", parsed.namespace);
    parts.insert("name", parsed.name);
    Ok(Value::from(Serde(&parts)))
}

/// `obj | pick('key')`: one attribute of an object.
fn pick(value: Value, key: &str) -> Result<Value, Error> {
    value.get_attr(key)
}

/// JSON text of a value (Nunjucks' `dump`, `JSON.stringify`); `dump(2)` indents.
fn dump(value: Value, indent: Option<usize>) -> Result<String, Error> {
    let json = serde_json::to_value(&value)
        .map_err(|e| invalid(format!("dump: the value is not JSON: {e}")))?;
    let text = match indent {
        Some(n) if n > 0 => {
            let pad = " ".repeat(n.min(10));
            let mut out = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(pad.as_bytes());
            let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
            serde::Serialize::serialize(&json, &mut serializer)
                .map_err(|e| invalid(format!("dump: {e}")))?;
            String::from_utf8(out).unwrap_or_default()
        }
        _ => json.to_string(),
    };
    Ok(text)
}

/// Nunjucks' `truncate(length=255, killwords=false, end='...')`.
fn truncate(value: &str, length: Option<usize>, kwargs: Kwargs) -> Result<String, Error> {
    let length = length.unwrap_or(255);
    let killwords: bool = kwargs.get::<Option<bool>>("killwords")?.unwrap_or(false);
    let end: String = kwargs
        .get::<Option<String>>("end")?
        .unwrap_or_else(|| "...".to_owned());
    kwargs.assert_all_used()?;
    if value.chars().count() <= length {
        return Ok(value.to_owned());
    }
    let mut cut: String = value.chars().take(length).collect();
    if !killwords && let Some(space) = cut.rfind(' ') {
        cut.truncate(space);
    }
    Ok(cut + &end)
}

fn wordcount(value: &str) -> usize {
    value.split_whitespace().count()
}
