//! TechDocs views: the list of documented entities and one page of a site,
//! from the catalog and the stored sites ([`PortalData::docs_site`] and
//! friends).

use super::*;
use crate::model::*;
use crate::ssr::data::EntityQuery;
use portal_types::docs::{DocsNavItem, DocsState, DocsStatus};
use serde_json::json;

/// The annotation that makes an entity documented.
pub const TECHDOCS_REF: &str = "backstage.io/techdocs-ref";

/// Most documented entities listed on one page.
const LIST_LIMIT: usize = 500;

/// `namespace/kind/name`, lowercased: how sites are keyed.
pub fn site_key(namespace: &str, kind: &str, name: &str) -> String {
    format!("{namespace}/{kind}/{name}").to_lowercase()
}

/// `/docs/:namespace/:kind/:name` (no trailing slash: the home page's URL).
pub fn site_base(namespace: &str, kind: &str, name: &str) -> String {
    format!(
        "/docs/{}/{}/{}",
        encode_path(namespace),
        encode_path(&kind.to_ascii_lowercase()),
        encode_path(name)
    )
}

fn static_base(namespace: &str, kind: &str, name: &str) -> String {
    format!(
        "/api/techdocs/static/docs/{}/{}/{}/",
        encode_path(namespace),
        encode_path(&kind.to_ascii_lowercase()),
        encode_path(name)
    )
}

pub fn status_view(status: Option<DocsStatus>) -> DocsStatusView {
    let Some(s) = status else {
        return DocsStatusView {
            state: "unknown".to_owned(),
            ..Default::default()
        };
    };
    let now = now_ms();
    DocsStatusView {
        state: match s.state {
            DocsState::Pending => "pending",
            DocsState::Building => "building",
            DocsState::Built => "built",
            DocsState::Failed => "failed",
            DocsState::Refused => "refused",
        }
        .to_owned(),
        error: s.error,
        built_at: s.build_timestamp.map(rfc3339),
        built_ago: s.build_timestamp.map(|ms| ago(now, ms)),
        problems: s.problems,
        version: s.version,
    }
}

fn documented() -> serde_json::Value {
    json!({ format!("metadata.annotations.{TECHDOCS_REF}"): { "$exists": true } })
}

/// `/docs?owner=…&kind=…`.
pub async fn docs_list(
    data: &Data,
    owner: Option<String>,
    kind: Option<String>,
) -> Result<DocsListView, String> {
    let owner = owner.filter(|s| !s.is_empty());
    let kind = kind.filter(|s| !s.is_empty());
    let with = |owner: &Option<String>, kind: &Option<String>| {
        let mut all = vec![documented()];
        if let Some(o) = owner {
            all.push(json!({ "spec.owner": o }));
        }
        if let Some(k) = kind {
            all.push(json!({ "kind": k }));
        }
        json!({ "$all": all })
    };
    let page = data
        .query_entities(EntityQuery {
            filter: Some(with(&owner, &kind)),
            limit: LIST_LIMIT,
            ..Default::default()
        })
        .await
        .map_err(|e| e.0)?;
    let facet = |field: &str, facets: Vec<(String, Vec<crate::ssr::data::FacetCount>)>| {
        facets
            .into_iter()
            .find(|(f, _)| f == field)
            .map(|(_, counts)| counts.into_iter().map(|c| (c.value, c.count)).collect())
            .unwrap_or_default()
    };
    let owners = facet(
        "spec.owner",
        data.facets(vec!["spec.owner".to_owned()], Some(with(&None, &kind)))
            .await
            .map_err(|e| e.0)?,
    );
    let kinds = facet(
        "kind",
        data.facets(vec!["kind".to_owned()], Some(with(&owner, &None)))
            .await
            .map_err(|e| e.0)?,
    );
    let mut rows = Vec::with_capacity(page.items.len());
    for entity in &page.items {
        let base = row(entity);
        let key = site_key(&base.namespace, &base.kind, &base.name);
        let site = data.docs_site(&key).await;
        let status = status_view(data.docs_status(&key).await);
        rows.push(DocsRow {
            title: site
                .map(|s| s.site_name)
                .or_else(|| base.title.clone())
                .unwrap_or_else(|| base.name.clone()),
            href: site_base(&base.namespace, &base.kind, &base.name),
            entity: EntityLink {
                label: base.title.clone().unwrap_or_else(|| base.name.clone()),
                href: base.href.clone(),
                kind: base.kind.clone(),
            },
            owner: base.owner.clone(),
            description: base.description.clone(),
            status,
        });
    }
    Ok(DocsListView {
        rows,
        owners,
        kinds,
        owner,
        kind,
    })
}

/// One page of a site (`path` as in the URL after the entity: `guide/setup/`,
/// `guide/setup`, `guide/setup/index.html` or `""`); `None` when the catalog
/// has no such entity.
pub async fn docs_site(
    data: &Data,
    namespace: &str,
    kind: &str,
    name: &str,
    path: &str,
) -> Result<Option<DocsSiteView>, String> {
    let entity_ref = format!("{kind}:{namespace}/{name}").to_lowercase();
    let Some(record) = data.entity(&entity_ref).await.map_err(|e| e.0)? else {
        return Ok(None);
    };
    let base_row = row(&record.entity);
    let (namespace, kind, name) = (
        base_row.namespace.clone(),
        base_row.kind.clone(),
        base_row.name.clone(),
    );
    let key = site_key(&namespace, &kind, &name);
    let base = site_base(&namespace, &kind, &name);
    let status = status_view(data.docs_status(&key).await);
    let site = data.docs_site(&key).await;
    let path = path.trim_start_matches('/');
    let path = path.strip_suffix("index.html").unwrap_or(path).to_owned();
    let mut page = None;
    if let Some(site) = &site {
        let candidates = if path.is_empty() || path.ends_with('/') {
            vec![path.clone()]
        } else {
            vec![format!("{path}/"), path.clone()]
        };
        for candidate in candidates {
            if site.pages.iter().any(|p| p.path == candidate)
                && let Some(p) = data.docs_page(&key, &candidate).await
            {
                let assets: std::collections::HashSet<&str> =
                    site.assets.iter().map(|(a, _)| a.as_str()).collect();
                page = Some(DocsPageView {
                    html: absolutize(
                        &p.html,
                        &p.path,
                        &base,
                        &static_base(&namespace, &kind, &name),
                        &assets,
                    ),
                    path: p.path,
                    title: p.title,
                    toc: p.toc,
                    edit_url: p.edit_url,
                });
                break;
            }
        }
    }
    let current = page.as_ref().map(|p| p.path.clone());
    Ok(Some(DocsSiteView {
        entity: EntityLink {
            label: base_row.title.clone().unwrap_or_else(|| name.clone()),
            href: base_row.href.clone(),
            kind: kind.clone(),
        },
        site_name: site.as_ref().map(|s| s.site_name.clone()),
        nav: site
            .as_ref()
            .map(|s| {
                let fold = s.pages.len() > FOLD_NAV_OVER;
                nav_view(&s.nav, &base, current.as_deref(), fold)
            })
            .unwrap_or_default(),
        base,
        page,
        status,
        namespace,
        kind,
        name,
    }))
}

/// Sites with more pages than this get their nav folded: sections away from
/// the current page are sent as a link to their first page, not whole (a
/// 1,000-page nav is most of a page's bytes, twice: HTML and hydration data).
const FOLD_NAV_OVER: usize = 100;

fn nav_view(
    items: &[DocsNavItem],
    base: &str,
    current: Option<&str>,
    fold: bool,
) -> Vec<DocsNavView> {
    items
        .iter()
        .map(|item| match item {
            DocsNavItem::Page { title, path } => DocsNavView {
                title: title.clone(),
                href: Some(page_href(base, &encode_site_path(path))),
                external: false,
                current: current == Some(path.as_str()),
                section: false,
                children: Vec::new(),
            },
            DocsNavItem::Link { title, url } => DocsNavView {
                title: title.clone(),
                href: Some(url.clone()),
                external: true,
                current: false,
                section: false,
                children: Vec::new(),
            },
            DocsNavItem::Section { title, children } => {
                let folded = fold && !current.is_some_and(|c| holds(children, c));
                DocsNavView {
                    title: title.clone(),
                    href: folded
                        .then(|| first_page(children))
                        .flatten()
                        .map(|p| page_href(base, &encode_site_path(p))),
                    external: false,
                    current: false,
                    section: true,
                    children: if folded {
                        Vec::new()
                    } else {
                        nav_view(children, base, current, fold)
                    },
                }
            }
        })
        .collect()
}

/// Whether a page is somewhere under these entries.
fn holds(items: &[DocsNavItem], path: &str) -> bool {
    items.iter().any(|item| match item {
        DocsNavItem::Page { path: p, .. } => p == path,
        DocsNavItem::Section { children, .. } => holds(children, path),
        DocsNavItem::Link { .. } => false,
    })
}

fn first_page(items: &[DocsNavItem]) -> Option<&str> {
    items.iter().find_map(|item| match item {
        DocsNavItem::Page { path, .. } => Some(path.as_str()),
        DocsNavItem::Section { children, .. } => first_page(children),
        DocsNavItem::Link { .. } => None,
    })
}

/// The UI URL of a site path (`""` is the home page, `base` itself).
fn page_href(base: &str, path: &str) -> String {
    if path.is_empty() {
        base.to_owned()
    } else {
        format!("{base}/{path}")
    }
}

fn encode_site_path(path: &str) -> String {
    path.split('/')
        .map(encode_path)
        .collect::<Vec<_>>()
        .join("/")
}

/// Makes the relative URLs of a page's HTML absolute, so the page reads the
/// same wherever it is shown (its own URL, the entity's Docs tab): pages
/// become `/docs/…` links, images and other files the static route. The HTML
/// comes from the sanitiser, so attributes are double-quoted.
fn absolutize(
    html: &str,
    page_path: &str,
    base: &str,
    static_base: &str,
    assets: &std::collections::HashSet<&str>,
) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let mut rest = html;
    loop {
        let next = ["href=\"", "src=\""]
            .iter()
            .filter_map(|a| rest.find(a).map(|i| (i, *a)))
            .min_by_key(|(i, _)| *i);
        let Some((i, attr)) = next else {
            out.push_str(rest);
            return out;
        };
        let value_start = i + attr.len();
        let Some(len) = rest[value_start..].find('"') else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..value_start]);
        let value = &rest[value_start..value_start + len];
        out.push_str(&rewrite(
            value,
            attr == "src=\"",
            page_path,
            base,
            static_base,
            assets,
        ));
        rest = &rest[value_start + len..];
    }
}

fn rewrite(
    value: &str,
    is_src: bool,
    page_path: &str,
    base: &str,
    static_base: &str,
    assets: &std::collections::HashSet<&str>,
) -> String {
    let scheme = value
        .split(['/', '?', '#'])
        .next()
        .is_some_and(|first| first.contains(':'));
    if value.is_empty() || value.starts_with(['#', '/', '?']) || scheme {
        return value.to_owned();
    }
    let split = value.find(['?', '#']).unwrap_or(value.len());
    let (path, suffix) = value.split_at(split);
    let mut segments: Vec<&str> = page_path.split('/').filter(|s| !s.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut resolved = segments.join("/");
    if (path.ends_with('/') || path.is_empty()) && !resolved.is_empty() {
        resolved.push('/');
    }
    if is_src || assets.contains(resolved.as_str()) {
        format!("{static_base}{resolved}{suffix}")
    } else {
        format!("{}{suffix}", page_href(base, &resolved))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_navs_fold_the_sections_away_from_the_page() {
        let page = |t: &str, p: &str| DocsNavItem::Page {
            title: t.into(),
            path: p.into(),
        };
        let nav = vec![
            page("Home", ""),
            DocsNavItem::Section {
                title: "A".into(),
                children: vec![page("A1", "a/1/"), page("A2", "a/2/")],
            },
            DocsNavItem::Section {
                title: "B".into(),
                children: vec![page("B1", "b/1/")],
            },
        ];
        let whole = nav_view(&nav, "/docs/d/c/n", Some("a/2/"), false);
        assert_eq!(whole[2].children.len(), 1);
        let folded = nav_view(&nav, "/docs/d/c/n", Some("a/2/"), true);
        assert_eq!(
            folded[1].children.len(),
            2,
            "the current page's section stays open"
        );
        assert!(folded[1].children[1].current);
        assert!(folded[2].children.is_empty());
        assert_eq!(folded[2].href.as_deref(), Some("/docs/d/c/n/b/1/"));
    }

    #[test]
    fn relative_urls_become_portal_urls() {
        let assets: std::collections::HashSet<&str> = ["guide/a.pdf"].into_iter().collect();
        let html = "<a href=\"../\">h</a><a href=\"setup/#x\">s</a><img src=\"../img/d.png\">\
            <a href=\"https://x.example/\">e</a><a href=\"#t\">t</a><a href=\"a.pdf\">p</a>";
        let out = absolutize(html, "guide/", "/docs/d/c/n", "/api/s/d/c/n/", &assets);
        assert_eq!(
            out,
            "<a href=\"/docs/d/c/n\">h</a><a href=\"/docs/d/c/n/guide/setup/#x\">s</a>\
             <img src=\"/api/s/d/c/n/img/d.png\"><a href=\"https://x.example/\">e</a>\
             <a href=\"#t\">t</a><a href=\"/api/s/d/c/n/guide/a.pdf\">p</a>"
        );
        assert_eq!(
            absolutize("<a href=\"./\">x</a>", "", "/docs/d/c/n", "/s/", &assets),
            "<a href=\"/docs/d/c/n\">x</a>"
        );
    }
}
