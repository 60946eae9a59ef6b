//! Builds the page views (`crate::model`) from what [`PortalData`] returns:
//! catalog queries and facets, entities with their relations, panels, plugins.

use super::data::{
    EntityQuery, FacetCount, PanelError, PanelInfo, PortalData, SortKey, TextSearch,
};
use super::{graph, markdown, openapi};
use crate::model::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

pub type Data = Arc<dyn PortalData>;

/// Fields the text search looks in.
const TEXT_FIELDS: [&str; 4] = [
    "metadata.name",
    "metadata.title",
    "metadata.description",
    "spec.profile.displayName",
];

/// The catalog filters: (URL parameter, label, entity field, field to facet on).
const FILTERS: [(&str, &str, &str); 5] = [
    ("type", "Type", "spec.type"),
    ("owner", "Owner", "relations.ownedBy"),
    ("lifecycle", "Lifecycle", "spec.lifecycle"),
    ("tag", "Tags", "metadata.tags"),
    ("namespace", "Namespace", "metadata.namespace"),
];

fn selected<'a>(q: &'a CatalogQuery, param: &str) -> &'a [String] {
    match param {
        "type" => &q.types,
        "owner" => &q.owners,
        "lifecycle" => &q.lifecycles,
        "tag" => &q.tags,
        "namespace" => &q.namespaces,
        _ => &[],
    }
}

/// The predicate for a query, leaving out one filter (for that filter's counts).
fn predicate(q: &CatalogQuery, without: Option<&str>) -> Option<Value> {
    let mut all = Vec::new();
    if without != Some("kind")
        && let Some(kind) = q.effective_kind()
    {
        all.push(json!({ "kind": kind }));
    }
    for (param, _, field) in FILTERS {
        let values = selected(q, param);
        if without == Some(param) || values.is_empty() {
            continue;
        }
        let values: Vec<String> = if param == "owner" {
            values.iter().map(|v| canonical_ref(v, "group")).collect()
        } else {
            values.to_vec()
        };
        all.push(json!({ field: { "$in": values } }));
    }
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(json!({ "$all": all })),
    }
}

/// `team-a` → `group:default/team-a`, lowercased.
pub fn canonical_ref(r: &str, default_kind: &str) -> String {
    let (kind, namespace, name) = split_ref(r, default_kind);
    format!("{kind}:{namespace}/{name}").to_lowercase()
}

/// Most values listed per filter.
const MAX_FACET_VALUES: usize = 40;

pub async fn catalog(data: &Data, q: CatalogQuery) -> Result<CatalogView, String> {
    let q = q.normalized();
    let err = |e: super::data::DataError| e.0;
    // Facet counts: each filter counts over the other filters. Requests with
    // the same predicate share one call.
    let mut requests: Vec<(Option<Value>, Vec<String>)> = Vec::new();
    let mut add = |filter: Option<Value>, field: &str| match requests
        .iter_mut()
        .find(|(f, _)| *f == filter)
    {
        Some((_, fields)) => fields.push(field.to_owned()),
        None => requests.push((filter, vec![field.to_owned()])),
    };
    add(predicate(&q, Some("kind")), "kind");
    for (param, _, field) in FILTERS {
        add(predicate(&q, Some(param)), field);
    }
    let mut counts: BTreeMap<String, Vec<FacetCount>> = BTreeMap::new();
    for (filter, fields) in requests {
        for (field, values) in data.facets(fields, filter).await.map_err(err)? {
            counts.insert(field, values);
        }
    }
    let facet_values = |param: &str, field: &str| -> Vec<FacetValue> {
        let chosen = selected(&q, param);
        let mut values: Vec<FacetValue> = counts
            .get(field)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|c| {
                let label = if param == "owner" {
                    ref_link(&c.value, "group").label
                } else {
                    c.value.clone()
                };
                let selected = chosen.iter().any(|s| {
                    if param == "owner" {
                        canonical_ref(s, "group") == c.value.to_lowercase()
                    } else {
                        s.eq_ignore_ascii_case(&c.value)
                    }
                });
                FacetValue {
                    value: c.value.clone(),
                    label,
                    count: c.count,
                    selected,
                }
            })
            .collect();
        // A value chosen in the URL that matches nothing still shows, so it can be unticked.
        for s in chosen {
            if !values
                .iter()
                .any(|v| v.selected && v.value.eq_ignore_ascii_case(s))
                && !(param == "owner"
                    && values
                        .iter()
                        .any(|v| v.selected && canonical_ref(s, "group") == v.value.to_lowercase()))
            {
                values.push(FacetValue {
                    value: s.clone(),
                    label: s.clone(),
                    count: 0,
                    selected: true,
                });
            }
        }
        values.sort_by(|a, b| {
            b.selected
                .cmp(&a.selected)
                .then(b.count.cmp(&a.count))
                .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
        });
        // At 100k entities a field can have thousands of values (owners); the
        // page lists the most common ones (selected ones sort first, so they
        // always stay), and search reaches the rest.
        values.truncate(MAX_FACET_VALUES.max(chosen.len()));
        values
    };
    let mut kinds = facet_values("kind", "kind");
    let current_kind = q.effective_kind().map(str::to_owned);
    for k in &mut kinds {
        k.selected = current_kind.as_deref() == Some(&k.value.to_lowercase());
        k.value = k.value.to_lowercase();
    }
    kinds.sort_by(|a, b| a.label.to_lowercase().cmp(&b.label.to_lowercase()));
    if let Some(kind) = &current_kind
        && !kinds.iter().any(|k| &k.value == kind)
    {
        kinds.push(FacetValue {
            value: kind.clone(),
            label: kind.clone(),
            count: 0,
            selected: true,
        });
    }
    let facets: Vec<Facet> = FILTERS
        .iter()
        .map(|(param, label, field)| Facet {
            param: (*param).to_owned(),
            label: (*label).to_owned(),
            values: facet_values(param, field),
        })
        .filter(|f| !(f.param == "namespace" && f.values.len() <= 1))
        .collect();

    // Sorting: by ref is the index's natural order (fast at any size); it
    // equals "by name" when one kind in one namespace is listed.
    let column = q.sort_column();
    let single_namespace = q.namespaces.len() == 1
        || counts
            .get("metadata.namespace")
            .is_some_and(|v| v.len() <= 1);
    let order = match (column, q.desc) {
        (Column::Name, false) if current_kind.is_some() && single_namespace => Vec::new(),
        (Column::Kind, false) if single_namespace => Vec::new(),
        (c, desc) => {
            let mut keys = vec![SortKey {
                field: c.sort_field().unwrap_or("metadata.name").to_owned(),
                desc,
            }];
            if c != Column::Name {
                keys.push(SortKey {
                    field: "metadata.name".to_owned(),
                    desc: false,
                });
            }
            keys
        }
    };
    let text = (!q.text.is_empty()).then(|| TextSearch {
        term: q.text.clone(),
        fields: TEXT_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
    });
    let page = data
        .query_entities(EntityQuery {
            filter: predicate(&q, None),
            text,
            order,
            offset: (q.page - 1) * q.size,
            limit: q.size,
        })
        .await
        .map_err(err)?;
    let heading = match &current_kind {
        None => "All entities".to_owned(),
        Some(k) => plural(
            &kinds
                .iter()
                .find(|v| &v.value == k)
                .map(|v| v.label.clone())
                .unwrap_or_else(|| k.clone()),
        ),
    };
    let last_page = (page.total as usize).div_ceil(q.size).max(1);
    Ok(CatalogView {
        heading,
        kinds,
        facets,
        columns: Column::for_kind(current_kind.as_deref()),
        rows: page.items.iter().map(row).collect(),
        total: page.total,
        has_next: page.has_next,
        last_page,
        query: q,
    })
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
        has_errors: entity["status"]["items"]
            .as_array()
            .is_some_and(|i| !i.is_empty()),
        kind: kind_lower,
        namespace,
        name,
    }
}

/// A row for a ref whose entity is missing from the catalog.
fn missing_row(r: &str) -> Row {
    let (kind, namespace, name) = split_ref(r, "component");
    Row {
        entity_ref: r.to_owned(),
        href: entity_href(kind, namespace, name),
        name: name.to_owned(),
        kind: kind.to_owned(),
        namespace: namespace.to_owned(),
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

/// Relation tables per kind: (id, title, relation type, target kind, empty text).
fn relation_tables(
    kind: &str,
) -> &'static [(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
)] {
    match kind {
        "component" => &[
            (
                "provided-apis",
                "Provided APIs",
                "providesApi",
                "api",
                "This component provides no APIs.",
            ),
            (
                "consumed-apis",
                "Consumed APIs",
                "consumesApi",
                "api",
                "This component consumes no APIs.",
            ),
            (
                "depends-on-components",
                "Depends on components",
                "dependsOn",
                "component",
                "No component is a dependency of this component.",
            ),
            (
                "depends-on-resources",
                "Depends on resources",
                "dependsOn",
                "resource",
                "No resource is a dependency of this component.",
            ),
            (
                "dependents",
                "Dependency of",
                "dependencyOf",
                "",
                "Nothing depends on this component.",
            ),
            (
                "subcomponents",
                "Has subcomponents",
                "hasPart",
                "component",
                "No subcomponent is part of this component.",
            ),
        ],
        "api" => &[
            (
                "providers",
                "Providers",
                "apiProvidedBy",
                "",
                "No component provides this API.",
            ),
            (
                "consumers",
                "Consumers",
                "apiConsumedBy",
                "",
                "No component consumes this API.",
            ),
        ],
        "system" => &[
            (
                "components",
                "Components",
                "hasPart",
                "component",
                "No component is part of this system.",
            ),
            (
                "apis",
                "APIs",
                "hasPart",
                "api",
                "No API is part of this system.",
            ),
            (
                "resources",
                "Resources",
                "hasPart",
                "resource",
                "No resource is part of this system.",
            ),
        ],
        "domain" => &[(
            "systems",
            "Systems",
            "hasPart",
            "system",
            "No system is part of this domain.",
        )],
        "resource" => &[
            (
                "dependents",
                "Dependency of",
                "dependencyOf",
                "",
                "Nothing depends on this resource.",
            ),
            (
                "depends-on",
                "Depends on",
                "dependsOn",
                "",
                "This resource depends on nothing.",
            ),
        ],
        _ => &[],
    }
}

/// Most related entities fetched for one table.
const TABLE_ROWS: usize = 50;
/// Most panels rendered for one page.
const MAX_PANELS: usize = 24;
/// A backstop on top of the plugin host's own per-panel time limit.
const PANEL_DEADLINE: Duration = Duration::from_secs(10);

pub async fn entity(
    data: &Data,
    kind: &str,
    namespace: &str,
    name: &str,
    tab: Option<&str>,
) -> Result<Option<EntityView>, String> {
    let entity_ref = format!("{kind}:{namespace}/{name}").to_lowercase();
    let Some(record) = data.entity(&entity_ref).await.map_err(|e| e.0)? else {
        return Ok(None);
    };
    let e = &record.entity;
    let base = row(e);
    let kind = base.kind.clone();
    let href = base.href.clone();
    let annotations = &e["metadata"]["annotations"];
    let annotation = |k: &str| {
        annotations[k]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let url_only = |s: &str| {
        let s = s.strip_prefix("url:").unwrap_or(s);
        markdown::safe_url(s).then(|| s.to_owned())
    };
    let source_url = annotation("backstage.io/view-url")
        .and_then(url_only)
        .or_else(|| annotation("backstage.io/source-location").and_then(url_only));
    let edit_url = annotation("backstage.io/edit-url").and_then(url_only);
    let now = now_ms();
    let confirmed = record
        .last_confirmed_ms
        .filter(|ms| *ms > 0)
        .map(|ms| Confirmed {
            at: rfc3339(ms),
            ago: ago(now, ms),
            stale: record
                .stale_after_ms
                .is_some_and(|limit| now.saturating_sub(ms) > limit),
        });
    let problems = e["status"]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| Problem {
                    level: i["level"].as_str().unwrap_or("error").to_owned(),
                    kind: i["type"].as_str().unwrap_or("").to_owned(),
                    message: i["error"]["message"]
                        .as_str()
                        .or(i["message"].as_str())
                        .unwrap_or("")
                        .to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    let links = e["metadata"]["links"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .filter_map(|l| {
                    let url = l["url"].as_str()?.trim();
                    markdown::safe_url(url).then(|| ExternalLink {
                        title: l["title"].as_str().unwrap_or(url).to_owned(),
                        url: url.to_owned(),
                    })
                })
                .collect()
        })
        .unwrap_or_default();

    // Related entities, fetched once for every table.
    let rels: Vec<(String, String)> = relations(e)
        .map(|(t, r)| (t.to_owned(), r.to_owned()))
        .collect();
    let tables = relation_tables(&kind);
    let mut wanted: Vec<String> = Vec::new();
    for (_, _, rel, target_kind, _) in tables {
        wanted.extend(
            rels.iter()
                .filter(|(t, r)| {
                    t == rel
                        && (target_kind.is_empty() || r.starts_with(&format!("{target_kind}:")))
                })
                .take(TABLE_ROWS)
                .map(|(_, r)| r.clone()),
        );
    }
    if kind == "group" {
        wanted.extend(
            rels.iter()
                .filter(|(t, _)| t == "hasMember")
                .take(100)
                .map(|(_, r)| r.clone()),
        );
    }
    wanted.sort();
    wanted.dedup();
    let fetched = if wanted.is_empty() {
        Vec::new()
    } else {
        data.entities_by_refs(wanted.clone())
            .await
            .map_err(|e| e.0)?
    };
    let by_ref: BTreeMap<&str, Row> = wanted
        .iter()
        .zip(fetched.iter())
        .map(|(r, v)| {
            (
                r.as_str(),
                v.as_ref().map(row).unwrap_or_else(|| missing_row(r)),
            )
        })
        .collect();
    let relation_rows = |rel: &str, target_kind: &str| -> (Vec<Row>, u64) {
        let all: Vec<&String> = rels
            .iter()
            .filter(|(t, r)| {
                t == rel && (target_kind.is_empty() || r.starts_with(&format!("{target_kind}:")))
            })
            .map(|(_, r)| r)
            .collect();
        let rows = all
            .iter()
            .take(TABLE_ROWS)
            .map(|r| {
                by_ref
                    .get(r.as_str())
                    .cloned()
                    .unwrap_or_else(|| missing_row(r))
            })
            .collect();
        (rows, all.len() as u64)
    };
    let relation_tables: Vec<RelationTable> = tables
        .iter()
        .map(|(id, title, rel, target_kind, empty)| {
            let (rows, total) = relation_rows(rel, target_kind);
            let columns = match *target_kind {
                "api" | "component" | "resource" => {
                    vec![
                        Column::Name,
                        Column::Owner,
                        Column::Type,
                        Column::Lifecycle,
                        Column::Description,
                    ]
                }
                "system" => vec![Column::Name, Column::Owner, Column::Description],
                _ => vec![
                    Column::Name,
                    Column::Kind,
                    Column::Owner,
                    Column::Type,
                    Column::Description,
                ],
            };
            RelationTable {
                id: (*id).to_owned(),
                title: (*title).to_owned(),
                empty: (*empty).to_owned(),
                columns,
                more: (total > rows.len() as u64)
                    .then(|| (total - rows.len() as u64, String::new())),
                rows,
            }
        })
        .collect();

    // Groups and users.
    let org = match kind.as_str() {
        "group" | "user" => {
            let profile = Profile {
                display_name: str_at(e, "/spec/profile/displayName").map(str::to_owned),
                email: str_at(e, "/spec/profile/email").map(str::to_owned),
                picture: str_at(e, "/spec/profile/picture")
                    .filter(|p| p.starts_with("https://") || p.starts_with("http://"))
                    .map(str::to_owned),
            };
            let groups_rel = if kind == "group" {
                "parentOf"
            } else {
                "memberOf"
            };
            let groups = rels
                .iter()
                .filter(|(t, _)| t == groups_rel)
                .map(|(_, r)| ref_link(r, "group"))
                .collect();
            let (members, members_total) = if kind == "group" {
                relation_rows("hasMember", "")
            } else {
                (Vec::new(), 0)
            };
            Some(OrgView {
                profile,
                parent: base.parent.clone(),
                groups,
                members_more: (members_total > members.len() as u64)
                    .then(|| members_total - members.len() as u64),
                members,
            })
        }
        _ => None,
    };

    // What it owns (groups and users; a user's groups count too).
    let owned = match kind.as_str() {
        "group" | "user" => {
            let mut owners = vec![entity_ref.clone()];
            if kind == "user" {
                owners.extend(
                    rels.iter()
                        .filter(|(t, _)| t == "memberOf")
                        .map(|(_, r)| r.to_lowercase()),
                );
            }
            let page = data
                .query_entities(EntityQuery {
                    filter: Some(json!({ "relations.ownedBy": { "$in": owners } })),
                    text: None,
                    order: Vec::new(),
                    offset: 0,
                    limit: TABLE_ROWS,
                })
                .await
                .map_err(|e| e.0)?;
            let more_href = CatalogQuery {
                kind: Some("all".to_owned()),
                owners: owners.clone(),
                ..CatalogQuery::default()
            }
            .normalized()
            .href();
            let rows: Vec<Row> = page.items.iter().map(row).collect();
            Some(RelationTable {
                id: "owned".to_owned(),
                title: if kind == "user" && owners.len() > 1 {
                    "Owned by them or their groups".to_owned()
                } else {
                    "Owned".to_owned()
                },
                empty: format!("This {kind} owns nothing in the catalog."),
                columns: vec![
                    Column::Name,
                    Column::Kind,
                    Column::Owner,
                    Column::Type,
                    Column::Description,
                ],
                more: (page.total > rows.len() as u64)
                    .then(|| (page.total - rows.len() as u64, more_href)),
                rows,
            })
        }
        _ => None,
    };

    let api = (kind == "api").then(|| {
        openapi::render(
            str_at(e, "/spec/type").unwrap_or(""),
            e["spec"]["definition"].as_str().unwrap_or(""),
        )
    });

    // Tabs: overview, the API definition, then one per tab panel.
    let panels: Vec<PanelInfo> = data
        .panels_for(e)
        .await
        .into_iter()
        .take(MAX_PANELS)
        .collect();
    let mut tabs = vec![Tab {
        slug: "overview".to_owned(),
        label: "Overview".to_owned(),
        href: href.clone(),
    }];
    if api.is_some() {
        tabs.push(Tab {
            slug: "definition".to_owned(),
            label: "Definition".to_owned(),
            href: format!("{href}/definition"),
        });
    }
    for p in panels.iter().filter(|p| p.placement == "tab") {
        let slug = format!("{}.{}", p.plugin, p.id);
        tabs.push(Tab {
            href: format!("{href}/{slug}"),
            label: p.title.clone(),
            slug,
        });
    }
    let active_tab = match tab {
        Some(t) if tabs.iter().any(|x| x.slug == t) => t.to_owned(),
        _ => "overview".to_owned(),
    };
    let entity_arc = Arc::new(e.clone());
    let (cards, tab_panel) = if active_tab == "overview" {
        let cards: Vec<&PanelInfo> = panels.iter().filter(|p| p.placement != "tab").collect();
        (render_panels(data, &entity_arc, &cards).await, None)
    } else if let Some(p) = panels
        .iter()
        .find(|p| p.placement == "tab" && format!("{}.{}", p.plugin, p.id) == active_tab)
    {
        (
            Vec::new(),
            render_panels(data, &entity_arc, &[p]).await.pop(),
        )
    } else {
        (Vec::new(), None)
    };

    Ok(Some(EntityView {
        graph_svg: graph::to_svg(
            &graph::layout(&base, &rels),
            &format!(
                "Relations of {}",
                base.title.as_deref().unwrap_or(&base.name)
            ),
        ),
        kind_label: e["kind"].as_str().unwrap_or("").to_owned(),
        title: base.title.clone(),
        description: base.description.clone(),
        type_: base.type_.clone(),
        lifecycle: base.lifecycle.clone(),
        owner: base.owner.clone(),
        system: base.system.clone(),
        domain: base.domain.clone(),
        tags: base.tags.clone(),
        links,
        source_url,
        edit_url,
        confirmed,
        problems,
        orphan: annotation("backstage.io/orphan") == Some("true"),
        relations: relation_tables,
        org,
        owned,
        api,
        tabs,
        active_tab,
        cards,
        tab_panel,
        entity_ref: base.entity_ref,
        kind,
        namespace: base.namespace,
        name: base.name,
    }))
}

/// Renders panels concurrently, each in its own task, so one that panics,
/// fails or hangs only costs its own card.
async fn render_panels(data: &Data, entity: &Arc<Value>, panels: &[&PanelInfo]) -> Vec<PanelView> {
    let tasks: Vec<_> = panels
        .iter()
        .map(|p| {
            let data = data.clone();
            let entity = entity.clone();
            let (plugin, id) = (p.plugin.clone(), p.id.clone());
            tokio::spawn(async move {
                tokio::time::timeout(PANEL_DEADLINE, data.render_panel(&plugin, &id, &entity)).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(panels.len());
    for (p, task) in panels.iter().zip(tasks) {
        let result = match task.await {
            Ok(Ok(Ok(view))) => widget(view),
            Ok(Ok(Err(e))) => {
                let (kind, message) = match e {
                    PanelError::NotFound(m) => ("unavailable", m),
                    PanelError::Timeout(m) => ("timeout", m),
                    PanelError::Busy(m) => ("unavailable", m),
                    PanelError::Failed(m) => ("failed", m),
                };
                PanelResult::Err {
                    kind: kind.to_owned(),
                    message,
                }
            }
            Ok(Err(_)) => PanelResult::Err {
                kind: "timeout".to_owned(),
                message: format!("no answer within {} s", PANEL_DEADLINE.as_secs()),
            },
            Err(join) => PanelResult::Err {
                kind: "failed".to_owned(),
                message: format!("rendering failed inside the portal: {join}"),
            },
        };
        if let PanelResult::Err { kind, message } = &result {
            tracing::warn!(plugin = %p.plugin, panel = %p.id, %kind, "panel failed: {message}");
        }
        out.push(PanelView {
            plugin: p.plugin.clone(),
            panel: p.id.clone(),
            title: p.title.clone(),
            result,
        });
    }
    out
}

/// Most widgets one panel may draw.
const MAX_WIDGETS: usize = 5_000;

/// Checks a panel's widget tree and prepares it for the page: Markdown to
/// sanitised HTML, unsafe links to text.
pub fn widget(view: Value) -> PanelResult {
    let mut w: Widget = match serde_json::from_value(view) {
        Ok(w) => w,
        Err(e) => {
            return PanelResult::Err {
                kind: "invalid".to_owned(),
                message: format!("the panel's output is not a widget tree: {e}"),
            };
        }
    };
    let mut count = 0usize;
    prepare(&mut w, &mut count);
    if count > MAX_WIDGETS {
        return PanelResult::Err {
            kind: "invalid".to_owned(),
            message: format!("the panel drew {count} widgets; at most {MAX_WIDGETS} are shown"),
        };
    }
    PanelResult::Ok(w)
}

fn prepare(w: &mut Widget, count: &mut usize) {
    *count += 1;
    if *count > MAX_WIDGETS {
        return;
    }
    match w {
        Widget::Markdown { markdown: md, html } => {
            *html = markdown::to_safe_html(md);
            md.clear();
        }
        Widget::Link { label, url } if !markdown::safe_url(url) => {
            *w = Widget::Text {
                text: format!("{label} ({url})"),
            };
        }
        Widget::Card { children, .. } | Widget::Stack { children } | Widget::Row { children } => {
            for c in children {
                prepare(c, count);
            }
        }
        Widget::KeyValues { items } => {
            for kv in items {
                prepare(&mut kv.value, count);
            }
        }
        Widget::Table { rows, .. } => {
            for r in rows {
                for c in r {
                    prepare(c, count);
                }
            }
        }
        _ => {}
    }
}

pub async fn plugins(data: &Data) -> PluginsView {
    let mut plugins: Vec<PluginRow> = data.plugins().await.iter().map(plugin_row).collect();
    plugins.sort_by(|a, b| {
        a.name
            .as_deref()
            .unwrap_or(&a.file)
            .cmp(b.name.as_deref().unwrap_or(&b.file))
    });
    PluginsView {
        plugins,
        plugins_dir: data.plugins_dir(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn error_text(v: &Value) -> Option<String> {
    if v.is_null() {
        return None;
    }
    let message = v["message"].as_str().unwrap_or("");
    let at = v["at"].as_u64().map(rfc3339);
    Some(match (v["kind"].as_str(), at) {
        (Some(kind), Some(at)) => format!("{kind}: {message} ({at})"),
        (Some(kind), None) => format!("{kind}: {message}"),
        (None, _) => message.to_owned(),
    })
}

pub fn plugin_row(s: &Value) -> PluginRow {
    let requested = &s["requested"];
    let granted = &s["granted"];
    let mut capabilities = Vec::new();
    for (flag, label) in [
        ("catalogRead", "Read the catalog"),
        ("storage", "Private storage"),
    ] {
        let r = requested[flag].as_bool().unwrap_or(false);
        let g = granted[flag].as_bool().unwrap_or(false);
        if r || g {
            capabilities.push(CapabilityRow {
                capability: label.to_owned(),
                requested: r,
                granted: g,
            });
        }
    }
    for (field, label) in [
        ("httpHosts", "HTTP to"),
        ("secrets", "Secret"),
        ("configKeys", "Config value"),
    ] {
        let r = strings(&requested[field]);
        let g = strings(&granted[field]);
        let mut all: Vec<&String> = r.iter().chain(g.iter()).collect();
        all.sort();
        all.dedup();
        for v in all {
            capabilities.push(CapabilityRow {
                capability: format!("{label} {v}"),
                requested: r.contains(v),
                granted: g.contains(v),
            });
        }
    }
    PluginRow {
        file: s["file"].as_str().unwrap_or("").to_owned(),
        state: s["state"].as_str().unwrap_or("unknown").to_owned(),
        name: s["name"].as_str().map(str::to_owned),
        version: s["version"].as_str().map(str::to_owned),
        description: s["description"].as_str().map(str::to_owned),
        wit_version: s["witVersion"].as_str().map(str::to_owned),
        extension_points: strings(&s["extensionPoints"]),
        panels: s["panels"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .map(|p| {
                        format!(
                            "{} ({}, {})",
                            p["title"].as_str().unwrap_or(""),
                            p["id"].as_str().unwrap_or(""),
                            p["placement"].as_str().unwrap_or("")
                        )
                    })
                    .collect()
            })
            .unwrap_or_default(),
        capabilities,
        missing_grants: strings(&s["missingGrants"]),
        compiler: s["compiler"].as_str().map(str::to_owned),
        calls: s["health"]["calls"].as_u64().unwrap_or(0),
        failures: s["health"]["failures"].as_u64().unwrap_or(0),
        last_error: error_text(&s["health"]["lastError"]),
        last_denial: error_text(&s["health"]["lastDenial"]),
        load_error: error_text(&s["loadError"]),
        loaded_at: s["loadedAt"].as_u64().map(rfc3339),
    }
}

pub async fn search(data: &Data, term: &str, kind: Option<&str>) -> Result<SearchView, String> {
    let term = term.trim().to_owned();
    if term.is_empty() {
        return Ok(SearchView {
            term,
            rows: Vec::new(),
            total: 0,
            kinds: Vec::new(),
        });
    }
    let filter = kind.map(|k| json!({ "kind": k }));
    let page = data
        .query_entities(EntityQuery {
            filter,
            text: Some(TextSearch {
                term: term.clone(),
                fields: TEXT_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
            }),
            order: Vec::new(),
            offset: 0,
            limit: 100,
        })
        .await
        .map_err(|e| e.0)?;
    Ok(SearchView {
        term,
        rows: page.items.iter().map(row).collect(),
        total: page.total,
        kinds: Vec::new(),
    })
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

    #[test]
    fn predicates_combine_the_filters() {
        let q = CatalogQuery::from_pairs([("type", "service"), ("owner", "team-a")]);
        assert_eq!(
            predicate(&q, None).unwrap(),
            json!({"$all": [
                {"kind": "component"},
                {"spec.type": {"$in": ["service"]}},
                {"relations.ownedBy": {"$in": ["group:default/team-a"]}}
            ]})
        );
        assert_eq!(
            predicate(&q, Some("type")).unwrap(),
            json!({"$all": [{"kind": "component"}, {"relations.ownedBy": {"$in": ["group:default/team-a"]}}]})
        );
        let all = CatalogQuery::from_pairs([("kind", "all")]);
        assert_eq!(predicate(&all, None), None);
    }

    #[test]
    fn panel_output_is_checked_and_markdown_sanitised() {
        let view = json!({"type": "card", "title": "T", "children": [
            {"type": "markdown", "markdown": "**hi** <script>x</script>"},
            {"type": "link", "label": "bad", "url": "javascript:alert(1)"},
            {"type": "sparkles"}
        ]});
        let PanelResult::Ok(Widget::Card { children, .. }) = widget(view) else {
            panic!("expected a card");
        };
        assert!(
            matches!(&children[0], Widget::Markdown { html, markdown } if html.contains("<strong>hi</strong>") && !html.contains("script") && markdown.is_empty())
        );
        assert!(matches!(&children[1], Widget::Text { .. }));
        assert!(matches!(&children[2], Widget::Unknown));
        assert!(matches!(
            widget(json!({"nope": 1})),
            PanelResult::Err { .. }
        ));
    }
}
