//! Builds the page views (`crate::model`) from what [`PortalData`] returns,
//! one module per area of the UI: the catalog list (`catalog`), the entity page
//! (`entity`), plugin panels on it (`panels`), the plugins page (`plugins`),
//! search (`search`) and software templates' forms and tasks (`create`). What they share (an entity's table row, times, refs) is here.

mod catalog;
pub mod create;
pub mod docs;
pub mod editor;
mod entity;
mod panels;
mod plugins;
mod search;

pub use catalog::catalog;
pub use docs::{docs_list, docs_site};
pub use entity::entity;
pub use panels::prepare;
pub use plugins::plugins;
pub use search::search;

use super::data::PortalData;
use crate::model::*;
use serde_json::Value;
use std::sync::Arc;

pub type Data = Arc<dyn PortalData>;

/// Fields the text search looks in.
const TEXT_FIELDS: [&str; 4] = [
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "spec.profile.displayName",
];

/// `team-a` → `group:default/team-a`, lowercased (a ref that does not parse,
/// lowercased as written).
pub fn canonical_ref(r: &str, default_kind: &str) -> String {
    let defaults = portal_types::RefDefaults::new(Some(default_kind), "default");
    match portal_types::parse_entity_ref(r, defaults) {
        Ok(parsed) => parsed.canonical(),
        Err(_) => r.to_lowercase(),
    }
}

/// "Component" → "Components", "API" → "APIs".
fn plural(kind: &str) -> String {
    let label = match kind.to_lowercase().as_str() {
        "api" => "API".to_owned(),
        _ => {
            let mut c = kind.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        }
    };
    format!("{label}s")
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn relations(entity: &Value) -> impl Iterator<Item = (&str, &str)> {
    entity["relations"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter_map(|r| Some((r["type"].as_str()?, r["targetRef"].as_str()?)))
}

fn relation_to(entity: &Value, type_: &str, kind: &str) -> Option<EntityLink> {
    relations(entity)
        .find(|(t, r)| *t == type_ && r.starts_with(&format!("{kind}:")))
        .map(|(_, r)| ref_link(r, kind))
}

/// A catalog row from an entity.
pub fn row(entity: &Value) -> Row {
    let kind = entity["kind"].as_str().unwrap_or("").to_owned();
    let namespace = str_at(entity, "/metadata/namespace")
        .unwrap_or("default")
        .to_owned();
    let name = str_at(entity, "/metadata/name").unwrap_or("").to_owned();
    let kind_lower = kind.to_lowercase();
    let owner = relations(entity)
        .find(|(t, _)| *t == "ownedBy")
        .map(|(_, r)| ref_link(r, "group"));
    let target = match (
        str_at(entity, "/spec/target"),
        entity["spec"]["targets"].as_array(),
    ) {
        (Some(t), _) => Some(t.to_owned()),
        (None, Some(ts)) => Some(
            ts.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => None,
    };
    Row {
        entity_ref: format!("{kind_lower}:{namespace}/{name}"),
        href: entity_href(&kind, &namespace, &name),
        title: str_at(entity, "/metadata/title")
            .or_else(|| str_at(entity, "/spec/profile/displayName"))
            .map(str::to_owned),
        description: str_at(entity, "/metadata/description").map(str::to_owned),
        system: relation_to(entity, "partOf", "system"),
        domain: relation_to(entity, "partOf", "domain"),
        owner,
        parent: relation_to(entity, "childOf", "group"),
        type_: str_at(entity, "/spec/type").map(str::to_owned),
        lifecycle: str_at(entity, "/spec/lifecycle").map(str::to_owned),
        email: str_at(entity, "/spec/profile/email").map(str::to_owned),
        target,
        tags: entity["metadata"]["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        // Errors only: a docs build's warnings (a broken link) are shown on
        // the entity, not flagged in lists.
        has_errors: entity["status"]["items"]
            .as_array()
            .is_some_and(|i| i.iter().any(|item| item["level"] == "error")),
        kind: kind_lower,
        namespace,
        name,
    }
}

/// A row for a ref whose entity is missing from the catalog.
fn missing_row(r: &str) -> Row {
    let defaults = portal_types::RefDefaults::new(Some("component"), "default");
    let (kind, namespace, name) = match portal_types::parse_entity_ref(r, defaults) {
        Ok(p) => (p.kind.to_ascii_lowercase(), p.namespace, p.name),
        Err(_) => ("component".to_owned(), "default".to_owned(), r.to_owned()),
    };
    Row {
        entity_ref: r.to_owned(),
        href: entity_href(&kind, &namespace, &name),
        name,
        kind,
        namespace,
        description: Some("Not in the catalog".to_owned()),
        has_errors: true,
        ..Row::default()
    }
}

pub fn ago(now_ms: u64, at_ms: u64) -> String {
    let s = now_ms.saturating_sub(at_ms) / 1000;
    let unit = |n: u64, u: &str| format!("{n} {u}{} ago", if n == 1 { "" } else { "s" });
    match s {
        0..=9 => "just now".to_owned(),
        10..=59 => unit(s, "second"),
        60..=3599 => unit(s / 60, "minute"),
        3600..=86_399 => unit(s / 3600, "hour"),
        _ => unit(s / 86_400, "day"),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// RFC 3339 (UTC, seconds) from milliseconds since the epoch.
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_and_ago() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_764_115_323_000), "2025-11-26T00:02:03Z");
        assert_eq!(ago(100_000, 95_000), "just now");
        assert_eq!(ago(1_000_000, 0), "16 minutes ago");
        assert_eq!(ago(3_600_000, 0), "1 hour ago");
    }
}
