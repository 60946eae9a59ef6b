//! The entity page: header facts, links, problems, relations (graph and tables),
//! group and user profiles, the API definition, tabs and plugin panels.

use super::panels::{PagePanels, page_panels};
use super::*;
use crate::model::*;
use crate::ssr::branding::PanelLayout;
use crate::ssr::data::EntityQuery;
use crate::ssr::{graph, openapi};
use serde_json::json;
use std::collections::BTreeMap;

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

pub async fn entity(
    data: &Data,
    layout: &PanelLayout,
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
        portal_types::url::is_safe(s).then(|| s.to_owned())
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
                // A docs build's items are the Docs alert.
                .filter(|i| i["type"] != portal_types::docs::DOCS_STATUS_TYPE)
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
                    portal_types::url::is_safe(url).then(|| ExternalLink {
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
                    .filter(|p| {
                        portal_types::url::classify(p)
                            == Ok(portal_types::url::LinkTarget::External)
                    })
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

    let owned = owned_table(data, &kind, &entity_ref, &rels).await?;
    let has_docs = annotation(super::docs::TECHDOCS_REF).is_some();

    let api = (kind == "api").then(|| {
        openapi::render(
            str_at(e, "/spec/type").unwrap_or(""),
            e["spec"]["definition"].as_str().unwrap_or(""),
        )
    });

    let PagePanels {
        tabs,
        active_tab,
        cards,
        tab_panel,
        more_panels,
    } = page_panels(data, layout, e, &href, api.is_some(), has_docs, tab).await;

    // TechDocs: the build's state on every tab, the site on the Docs tab.
    let docs_status = if has_docs {
        let key = super::docs::site_key(&base.namespace, &kind, &base.name);
        Some(super::docs::status_view(data.docs_status(&key).await))
    } else {
        None
    };
    let docs = if active_tab == "docs" {
        super::docs::docs_site(data, &base.namespace, &kind, &base.name, "").await?
    } else {
        None
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
        more_panels,
        docs_status,
        docs,
        entity_ref: base.entity_ref,
        kind,
        namespace: base.namespace,
        name: base.name,
    }))
}

/// What a group or user owns (a user's groups count too), for its page.
async fn owned_table(
    data: &Data,
    kind: &str,
    entity_ref: &str,
    rels: &[(String, String)],
) -> Result<Option<RelationTable>, String> {
    if kind != "group" && kind != "user" {
        return Ok(None);
    }
    let mut owners = vec![entity_ref.to_owned()];
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
    Ok(Some(RelationTable {
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
        more: (page.total > rows.len() as u64).then(|| (page.total - rows.len() as u64, more_href)),
        rows,
    }))
}
