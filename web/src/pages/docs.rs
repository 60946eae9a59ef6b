//! TechDocs: `/docs` lists every documented entity (filtered by owner and
//! kind, in the URL); `/docs/:namespace/:kind/:name/*path` shows one page of
//! a site with its nav as a sidebar, the page's table of contents, "edit
//! this page" and the build's age. An open page polls the site's build
//! version (a few bytes, twice a second) and reloads its view when it
//! changes, so a saved edit shows without reloading the portal.

use crate::api::{docs_version, load_docs, load_docs_list};
use crate::app::Icon;
use crate::model::*;
use crate::widgets::{EntityRef, ErrorBox, Loading, describe, opt_link};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_params_map};
use std::time::Duration;

/// How often an open page asks whether its site was rebuilt.
const POLL: Duration = Duration::from_millis(500);

#[component]
pub fn DocsPage() -> impl IntoView {
    let location = use_location();
    let query = Memo::new(move |_| {
        let pairs = parse_query_string(&location.search.get());
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        (get("owner"), get("kind"))
    });
    let data = Resource::new(
        move || query.get(),
        |(owner, kind)| load_docs_list(owner, kind),
    );
    view! {
        <Title text="Docs"/>
        <div class="page-header">
            <h1>"Documentation"</h1>
            <p class="subtitle">
                "Docs-like-code: every entity with a "
                <code>"backstage.io/techdocs-ref"</code>
                " annotation, built from its repository as it changes."
            </p>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <DocsList view=v/> }.into_any(),
                    Err(e) => view! { <ErrorBox title="The documentation could not be listed" message=describe(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn options(values: Vec<(String, u64)>, selected: Option<String>) -> impl IntoView {
    values
        .into_iter()
        .map(|(value, count)| {
            let is = selected.as_deref() == Some(value.as_str());
            let label = format!("{value} ({count})");
            view! { <option value=value selected=is>{label}</option> }
        })
        .collect_view()
}

#[component]
fn DocsList(view: DocsListView) -> impl IntoView {
    let DocsListView {
        rows,
        owners,
        kinds,
        owner,
        kind,
    } = view;
    let n = rows.len();
    view! {
        <form class="card docs-filters" method="get" action="/docs">
            <label>
                "Owner "
                <select name="owner">
                    <option value="" selected=owner.is_none()>"All"</option>
                    {options(owners, owner.clone())}
                </select>
            </label>
            <label>
                "Kind "
                <select name="kind">
                    <option value="" selected=kind.is_none()>"All"</option>
                    {options(kinds, kind.clone())}
                </select>
            </label>
            <button type="submit">"Filter"</button>
        </form>
        <p class="summary">{format!("{n} documented entit{}", if n == 1 { "y" } else { "ies" })}</p>
        {if rows.is_empty() {
            view! { <div class="card empty-state"><p>"No documented entity matches."</p></div> }.into_any()
        } else {
            view! {
                <table class="w-table docs-table">
                    <thead>
                        <tr>
                            <th scope="col">"Documentation"</th>
                            <th scope="col">"Entity"</th>
                            <th scope="col">"Owner"</th>
                            <th scope="col">"Build"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows.into_iter().map(|r| view! {
                            <tr>
                                <td>
                                    <a class="docs-link" href=r.href>{r.title}</a>
                                    {r.description.map(|d| view! { <p class="secondary">{d}</p> })}
                                </td>
                                <td><EntityRef link=r.entity/></td>
                                <td>{opt_link(r.owner)}</td>
                                <td><BuildBadge status=r.status/></td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
    }
}

/// The build's state and age, in a line.
#[component]
fn BuildBadge(status: DocsStatusView) -> impl IntoView {
    let tone = match status.state.as_str() {
        "built" => "badge tone-success",
        "failed" | "refused" => "badge tone-danger",
        _ => "badge tone-info",
    };
    let errors = status
        .problems
        .iter()
        .filter(|p| p.severity == portal_types::docs::DocsSeverity::Error)
        .count();
    let warnings = status.problems.len() - errors;
    view! {
        <span class="docs-build">
            <span class=tone>{status.state.clone()}</span>
            {status.built_at.clone().map(|at| view! {
                " built " <time datetime=at.clone() title=at>{status.built_ago.clone().unwrap_or_default()}</time>
            })}
            {(errors > 0).then(|| view! { " " <span class="badge tone-danger">{format!("{errors} error{}", if errors == 1 { "" } else { "s" })}</span> })}
            {(warnings > 0).then(|| view! { " " <span class="badge tone-warning">{format!("{warnings} warning{}", if warnings == 1 { "" } else { "s" })}</span> })}
        </span>
    }
}

/// `/docs/:namespace/:kind/:name/*path`.
#[component]
pub fn DocsSitePage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("kind").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
                p.get("path").unwrap_or_default(),
            )
        })
    });
    let refresh = RwSignal::new(0u64);
    let data = Resource::new(
        move || (key.get(), refresh.get()),
        |((namespace, kind, name, path), _)| load_docs(namespace, kind, name, path),
    );
    let seen = StoredValue::new(None::<u64>);
    poll_version(
        move || {
            let (namespace, kind, name, _) = key.get_untracked();
            (namespace, kind, name)
        },
        seen,
        refresh,
    );
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(v)) => {
                        seen.set_value(Some(v.status.version));
                        view! { <DocsReader view=v/> }.into_any()
                    }
                    Ok(None) => {
                        crate::api::set_status(404);
                        view! {
                            <Title text="Not found"/>
                            <div class="page-header">
                                <p class="breadcrumb"><a href="/docs">"Docs"</a></p>
                                <h1>"No such documentation"</h1>
                            </div>
                            <div class="card empty-state">
                                <p>"The catalog has no such entity."</p>
                                <p><a href="/docs">"See all documentation"</a></p>
                            </div>
                        }.into_any()
                    }
                    Err(e) => view! { <ErrorBox title="This page could not be loaded" message=describe(&e)/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Asks for a site's build version every [`POLL`] (in the browser only: effects
/// do not run on the server) and bumps `refresh` when it moved past `seen`.
pub fn poll_version(
    site: impl Fn() -> (String, String, String) + Send + Sync + 'static,
    seen: StoredValue<Option<u64>>,
    refresh: RwSignal<u64>,
) {
    let site = std::sync::Arc::new(site);
    Effect::new(move |_| {
        let site = site.clone();
        let handle = set_interval_with_handle(
            move || {
                let (namespace, kind, name) = site();
                if name.is_empty() {
                    return;
                }
                leptos::task::spawn_local(async move {
                    if let Ok(version) = docs_version(namespace, kind, name).await
                        && seen.get_value().is_some_and(|v| v != version)
                    {
                        seen.set_value(Some(version));
                        refresh.update(|r| *r += 1);
                    }
                });
            },
            POLL,
        )
        .ok();
        on_cleanup(move || {
            if let Some(h) = handle {
                h.clear();
            }
        });
    });
}

fn nav_list(items: Vec<DocsNavView>) -> AnyView {
    view! {
        <ul>
            {items.into_iter().map(|item| {
                let DocsNavView { title, href, external, current, section, children } = item;
                match href {
                    Some(href) if section => view! {
                        <li class="docs-section folded"><a class="docs-section-title" href=href>{title}<span aria-hidden="true">" ›"</span></a></li>
                    }.into_any(),
                    Some(href) if external => view! {
                        <li><a href=href target="_blank" rel="noopener noreferrer">{title}<Icon name="external"/></a></li>
                    }.into_any(),
                    Some(href) => view! {
                        <li><a href=href aria-current=current.then_some("page")>{title}</a></li>
                    }.into_any(),
                    None => view! {
                        <li class="docs-section"><span class="docs-section-title">{title}</span>{nav_list(children)}</li>
                    }.into_any(),
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A site's page with its frame: nav, build, problems, body, contents.
#[component]
pub fn DocsReader(
    view: DocsSiteView,
    /// Inside another page (the entity's Docs tab): no page title or header
    /// of its own.
    #[prop(optional)]
    embedded: bool,
) -> impl IntoView {
    let DocsSiteView {
        entity,
        site_name,
        base,
        nav,
        page,
        status,
        ..
    } = view;
    let title = match (&page, &site_name) {
        (Some(p), Some(s)) => format!("{} · {s}", p.title),
        (_, Some(s)) => s.clone(),
        _ => entity.label.clone(),
    };
    let problems = status.problems.clone();
    let error = status.error.clone();
    let state = status.state.clone();
    let has_site = site_name.is_some();
    let heading = site_name
        .clone()
        .unwrap_or_else(|| "Documentation".to_owned());
    let header = if embedded {
        let site_href = base.clone();
        view! {
            <div class="docs-header embedded">
                <h2><a href=site_href>{heading}</a></h2>
                <p class="docs-meta" role="status"><BuildBadge status=status/></p>
            </div>
        }
        .into_any()
    } else {
        view! {
            <Title text=title/>
            <div class="page-header docs-header">
                <p class="breadcrumb">
                    <a href="/docs">"Docs"</a>
                    <span aria-hidden="true">" / "</span>
                    <EntityRef link=entity/>
                </p>
                <h1>{heading}</h1>
                <p class="docs-meta" role="status"><BuildBadge status=status/></p>
            </div>
        }
        .into_any()
    };
    view! {
        {header}
        {error.map(|e| {
            let heading = if state == "refused" { "These docs are not built here" } else if has_site { "The last build failed; the previous site is shown" } else { "The docs could not be built" };
            view! {
                <div class="alert tone-danger docs-error" role="alert">
                    <Icon name="warning"/>
                    <div><p class="alert-title">{heading}</p><p>{e}</p></div>
                </div>
            }
        })}
        {(!problems.is_empty()).then(|| {
            let n = problems.len();
            view! {
                <details class="card docs-problems">
                    <summary>{format!("{n} build problem{}", if n == 1 { "" } else { "s" })}</summary>
                    <ul>
                        {problems.into_iter().map(|p| {
                            let tone = if p.severity == portal_types::docs::DocsSeverity::Error { "badge tone-danger" } else { "badge tone-warning" };
                            let label = if p.severity == portal_types::docs::DocsSeverity::Error { "error" } else { "warning" };
                            view! { <li><span class=tone>{label}</span> " " <code>{p.place}</code> ": " {p.message}</li> }
                        }).collect_view()}
                    </ul>
                </details>
            }
        })}
        {if !has_site {
            view! {
                <div class="card empty-state"><p>"No site has been built yet."</p></div>
            }.into_any()
        } else {
            let toc = page.as_ref().map(|p| p.toc.clone()).unwrap_or_default();
            let body = match page {
                Some(p) => {
                    let edit = p.edit_url.clone();
                    view! {
                        <article class="docs-article">
                            {edit.map(|u| view! {
                                <p class="docs-edit">
                                    <a class="action" href=u target="_blank" rel="noopener noreferrer">
                                        <Icon name="edit"/>"Edit this page"
                                        <span class="visually-hidden">" (opens in a new tab)"</span>
                                    </a>
                                </p>
                            })}
                            <div class="docs-content w-markdown" inner_html=p.html></div>
                        </article>
                    }.into_any()
                }
                None => {
                    crate::api::set_status(404);
                    view! {
                        <article class="docs-article card empty-state">
                            <p>"This site has no such page."</p>
                            <p><a href=base.clone()>"Go to the home page"</a></p>
                        </article>
                    }.into_any()
                }
            };
            let toc = toc.into_iter().filter(|h| h.level >= 2 && h.level <= 3).collect::<Vec<_>>();
            view! {
                <div class="docs-layout">
                    <nav class="docs-nav" aria-label="Documentation">{nav_list(nav)}</nav>
                    {body}
                    <aside class="docs-toc" aria-label="On this page">
                        {(!toc.is_empty()).then(|| view! {
                            <h2>"On this page"</h2>
                            <ul>
                                {toc.into_iter().map(|h| {
                                    let href = format!("#{}", h.id);
                                    let class = format!("toc-level-{}", h.level);
                                    view! { <li class=class><a href=href>{h.title}</a></li> }
                                }).collect_view()}
                            </ul>
                        })}
                    </aside>
                </div>
            }.into_any()
        }}
    }
}
