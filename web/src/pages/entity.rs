//! `/catalog/:namespace/:kind/:name[/:tab]`: an entity's page — about card,
//! relation graph and tables, org details for groups and users, the API
//! definition, and the plugin panels that apply.

use crate::api::{load_entity, set_status};
use crate::app::Icon;
use crate::model::*;
use crate::pages::DocsReader;
use crate::widgets::{EntityRef, EntityTable, PanelCard, Tags, opt_link, opt_text};
use crate::widgets::{ErrorBox, Loading, describe, fmt_count};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn EntityPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("kind").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
                p.get("tab"),
            )
        })
    });
    // On the Docs tab, a rebuilt site reloads the view (see `pages::docs`).
    let refresh = RwSignal::new(0u64);
    let data = Resource::new(
        move || (key.get(), refresh.get()),
        |((namespace, kind, name, tab), _)| load_entity(namespace, kind, name, tab),
    );
    let seen = StoredValue::new(None::<u64>);
    crate::pages::docs::poll_version(
        move || {
            let (namespace, kind, name, tab) = key.get_untracked();
            if tab.as_deref() == Some("docs") {
                (namespace, kind, name)
            } else {
                Default::default()
            }
        },
        seen,
        refresh,
    );
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(v)) => {
                        seen.set_value(v.docs.as_ref().map(|d| d.status.version));
                        view! { <EntityBody view=v/> }.into_any()
                    }
                    Ok(None) => {
                        set_status(404);
                        let (namespace, kind, name, _) = key.get_untracked();
                        let search = format!("/search?q={}", encode_component(&name));
                        view! {
                            <Title text="Not found"/>
                            <div class="page-header">
                                <p class="breadcrumb"><a href="/catalog">"Catalog"</a></p>
                                <h1>"Entity not found"</h1>
                            </div>
                            <div class="card empty-state">
                                <p>
                                    "The catalog has no " <strong>{kind}</strong> " named "
                                    <strong>{name}</strong> " in namespace " <strong>{namespace}</strong> "."
                                </p>
                                <p>"It may have been renamed or removed from its source."</p>
                                <p><a href=search>"Search for it"</a> " or " <a href="/catalog">"browse the catalog"</a> "."</p>
                            </div>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <ErrorBox title="This entity could not be loaded" message=describe(&e)/>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn EntityBody(view: EntityView) -> impl IntoView {
    let name = view.display_name().to_owned();
    let subtitle = match &view.type_ {
        Some(t) => format!("{} · {t}", view.kind_label),
        None => view.kind_label.clone(),
    };
    let tabs = view.tabs.clone();
    let active = view.active_tab.clone();
    let chips = {
        let v = &view;
        let mut chips = Vec::new();
        if let Some(l) = &v.lifecycle {
            chips.push(view! { <div><dt>"Lifecycle"</dt><dd>{l.clone()}</dd></div> }.into_any());
        }
        if let Some(o) = &v.owner {
            chips.push(
                view! { <div><dt>"Owner"</dt><dd><EntityRef link=o.clone()/></dd></div> }
                    .into_any(),
            );
        }
        if let Some(s) = &v.system {
            chips.push(
                view! { <div><dt>"System"</dt><dd><EntityRef link=s.clone()/></dd></div> }
                    .into_any(),
            );
        }
        chips
    };
    let content = match active.as_str() {
        "overview" => view! { <Overview view=view.clone()/> }.into_any(),
        "docs" => match view.docs.clone() {
            Some(d) => view! { <DocsReader view=d embedded=true/> }.into_any(),
            None => ().into_any(),
        },
        "definition" => match view.api.clone() {
            Some(api) => view! { <Definition api=api/> }.into_any(),
            None => ().into_any(),
        },
        _ => match view.tab_panel.clone() {
            Some(p) => view! { <PanelCard panel=p tab=true/> }.into_any(),
            None => ().into_any(),
        },
    };
    view! {
        <Title text=name.clone()/>
        <div class="page-header entity-header">
            <p class="breadcrumb">
                <a href="/catalog">"Catalog"</a>
                <span aria-hidden="true">" / "</span>
                <span>{subtitle}</span>
            </p>
            <h1>
                <Icon name=view.kind.clone()/>
                <span>{name}</span>
            </h1>
            {(!chips.is_empty()).then(|| view! { <dl class="chips">{chips}</dl> })}
        </div>
        {(tabs.len() > 1).then(|| view! {
            <nav class="tabs" aria-label="Entity views">
                <ul>
                    {tabs
                        .into_iter()
                        .map(|t| {
                            let current = (t.slug == active).then_some("page");
                            view! { <li><a href=t.href aria-current=current>{t.label}</a></li> }
                        })
                        .collect_view()}
                </ul>
            </nav>
        })}
        <div class="tab-content">{content}</div>
    }
}

#[component]
fn Overview(view: EntityView) -> impl IntoView {
    let graph = view.graph_svg.clone();
    let cards = view.cards.clone();
    let folds = view.more_panels.clone();
    let relations = view.relations.clone();
    let org = view.org.clone();
    let owned = view.owned.clone();
    let kind = view.kind.clone();
    view! {
        <div class="entity-grid">
            <About view=view.clone()/>
            <div class="entity-main">
                {org.map(|o| view! { <Org org=o kind=kind.clone()/> })}
                <section class="card graph-card" aria-labelledby="graph-heading">
                    <h2 id="graph-heading">"Relations"</h2>
                    <div class="graph" inner_html=graph></div>
                </section>
                {cards.into_iter().map(|p| view! { <PanelCard panel=p/> }).collect_view()}
                {folds.into_iter().map(|f| view! { <PanelFoldCard fold=f/> }).collect_view()}
                {owned.map(|t| view! { <RelationCard table=t/> })}
                {relations.into_iter().map(|t| view! { <RelationCard table=t/> }).collect_view()}
            </div>
        </div>
    }
}

/// The panels a plugin offers beyond its share of the page, folded.
#[component]
fn PanelFoldCard(fold: PanelFold) -> impl IntoView {
    let PanelFold { plugin, panels } = fold;
    let summary = format!(
        "More from {plugin} ({} panel{})",
        panels.len(),
        if panels.len() == 1 { "" } else { "s" }
    );
    view! {
        <details class="card panel-fold" data-plugin=plugin>
            <summary>{summary}</summary>
            <ul>
                {panels
                    .into_iter()
                    .map(|p| view! { <li><a href=p.href>{p.label}</a></li> })
                    .collect_view()}
            </ul>
        </details>
    }
}

#[component]
fn RelationCard(table: RelationTable) -> impl IntoView {
    let RelationTable {
        id,
        title,
        empty,
        columns,
        rows,
        more,
    } = table;
    let heading_id = format!("rel-{id}");
    let labelled_by = heading_id.clone();
    let caption = title.clone();
    view! {
        <section class="card" aria-labelledby=labelled_by>
            <h2 id=heading_id>{title}</h2>
            <EntityTable columns=columns rows=rows caption=caption empty=empty/>
            {more.map(|(n, href)| {
                if href.is_empty() {
                    view! { <p class="more secondary">"and " {fmt_count(n)} " more"</p> }.into_any()
                } else {
                    view! { <p class="more"><a href=href>"See all (" {fmt_count(n)} " more)"</a></p> }.into_any()
                }
            })}
        </section>
    }
}

#[component]
fn About(view: EntityView) -> impl IntoView {
    let href_docs = view
        .tabs
        .iter()
        .find(|t| t.slug == "docs")
        .map(|t| t.href.clone())
        .unwrap_or_default();
    let EntityView {
        kind,
        kind_label,
        description,
        type_,
        lifecycle,
        owner,
        system,
        domain,
        tags,
        links,
        source_url,
        edit_url,
        confirmed,
        problems,
        orphan,
        namespace,
        docs_status,
        ..
    } = view;
    let has_actions = source_url.is_some() || edit_url.is_some();
    view! {
        <section class="card about" aria-labelledby="about-heading">
            <h2 id="about-heading">"About"</h2>
            {has_actions.then(|| view! {
                <div class="about-actions">
                    {source_url.map(|u| view! {
                        <a class="action" href=u target="_blank" rel="noopener noreferrer">
                            <Icon name="source"/>"View source"
                            <span class="visually-hidden">" (opens in a new tab)"</span>
                        </a>
                    })}
                    {edit_url.map(|u| view! {
                        <a class="action" href=u target="_blank" rel="noopener noreferrer">
                            <Icon name="edit"/>"Edit"
                            <span class="visually-hidden">" (opens in a new tab)"</span>
                        </a>
                    })}
                </div>
            })}
            {orphan.then(|| view! {
                <div class="alert tone-warning" role="note">
                    <Icon name="warning"/>
                    <p>"Orphan: its source no longer lists this entity."</p>
                </div>
            })}
            {(!problems.is_empty()).then(|| {
                let n = problems.len();
                view! {
                    <div class="alert tone-danger problems" role="alert">
                        <Icon name="warning"/>
                        <div>
                            <p class="alert-title">
                                {format!("{n} processing problem{}", if n == 1 { "" } else { "s" })}
                            </p>
                            <ul>
                                {problems
                                    .into_iter()
                                    .map(|p| view! {
                                        <li><strong>{p.kind}</strong> ": " {p.message}</li>
                                    })
                                    .collect_view()}
                            </ul>
                        </div>
                    </div>
                }
            })}
            {docs_status.and_then(|d| {
                let errors = d.problems.iter().filter(|p| p.severity == portal_types::docs::DocsSeverity::Error).count();
                let text = match (&d.error, errors) {
                    (Some(e), _) => format!("Docs: {e}"),
                    (None, 0) => return None,
                    (None, n) => format!("Docs: {n} build error{}", if n == 1 { "" } else { "s" }),
                };
                Some(view! {
                    <div class="alert tone-warning docs-alert" role="note">
                        <Icon name="warning"/>
                        <p>{text} " " <a href=href_docs.clone()>"See the Docs tab"</a></p>
                    </div>
                })
            })}
            <h3 class="label">"Description"</h3>
            <p class="description">{description.unwrap_or_else(|| "No description.".to_owned())}</p>
            <dl class="about-fields">
                <div><dt>"Owner"</dt><dd>{opt_link(owner)}</dd></div>
                {(kind != "system" && kind != "domain" && kind != "group" && kind != "user").then(|| view! {
                    <div><dt>"System"</dt><dd>{opt_link(system.clone())}</dd></div>
                })}
                {(kind == "system").then(|| view! {
                    <div><dt>"Domain"</dt><dd>{opt_link(domain.clone())}</dd></div>
                })}
                <div><dt>"Kind"</dt><dd>{kind_label}</dd></div>
                <div><dt>"Type"</dt><dd>{opt_text(type_)}</dd></div>
                {(kind == "component" || kind == "api" || kind == "resource").then(|| view! {
                    <div><dt>"Lifecycle"</dt><dd>{opt_text(lifecycle.clone())}</dd></div>
                })}
                {(namespace != "default").then(|| view! {
                    <div><dt>"Namespace"</dt><dd>{namespace.clone()}</dd></div>
                })}
                <div class="wide">
                    <dt>"Tags"</dt>
                    <dd>
                        {if tags.is_empty() {
                            opt_text(None)
                        } else {
                            view! { <Tags tags=tags/> }.into_any()
                        }}
                    </dd>
                </div>
            </dl>
            {(!links.is_empty()).then(|| view! {
                <h3 class="label">"Links"</h3>
                <ul class="links">
                    {links
                        .into_iter()
                        .map(|l| view! {
                            <li>
                                <a href=l.url target="_blank" rel="noopener noreferrer">
                                    <Icon name="external"/>{l.title}
                                    <span class="visually-hidden">" (opens in a new tab)"</span>
                                </a>
                            </li>
                        })
                        .collect_view()}
                </ul>
            })}
            <p class="freshness">
                {match confirmed {
                    Some(c) => {
                        let class = if c.stale { "badge tone-warning" } else { "badge tone-success" };
                        let label = if c.stale { "stale" } else { "fresh" };
                        view! {
                            <span class=class>{label}</span>
                            " Last confirmed by its source "
                            <time datetime=c.at.clone() title=c.at>{c.ago}</time>
                            "."
                        }
                        .into_any()
                    }
                    None => view! { <span>"Not yet confirmed by a source."</span> }.into_any(),
                }}
            </p>
        </section>
    }
}

#[component]
fn Org(org: OrgView, kind: String) -> impl IntoView {
    let OrgView {
        profile,
        parent,
        groups,
        members,
        members_more,
    } = org;
    let is_group = kind == "group";
    let groups_title = if is_group {
        "Child groups"
    } else {
        "Member of"
    };
    let groups_empty = if is_group {
        "No child groups."
    } else {
        "Not a member of any group."
    };
    view! {
        <section class="card profile" aria-labelledby="profile-heading">
            <h2 id="profile-heading">{if is_group { "Group" } else { "Profile" }}</h2>
            <div class="profile-body">
                {profile.picture.clone().map(|p| view! { <img class="avatar" src=p alt=""/> })}
                <dl class="about-fields">
                    <div><dt>"Name"</dt><dd>{opt_text(profile.display_name.clone())}</dd></div>
                    <div>
                        <dt>"Email"</dt>
                        <dd>
                            {match profile.email.clone() {
                                Some(e) => {
                                    let href = format!("mailto:{e}");
                                    view! { <a href=href>{e}</a> }.into_any()
                                }
                                None => opt_text(None),
                            }}
                        </dd>
                    </div>
                    {is_group.then(|| view! { <div><dt>"Parent group"</dt><dd>{opt_link(parent.clone())}</dd></div> })}
                </dl>
            </div>
            <h3 class="label">{groups_title}</h3>
            {if groups.is_empty() {
                view! { <p class="empty">{groups_empty}</p> }.into_any()
            } else {
                view! {
                    <ul class="group-list">
                        {groups.into_iter().map(|g| view! { <li><EntityRef link=g/></li> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </section>
        {is_group.then(|| view! {
            <section class="card" aria-labelledby="members-heading">
                <h2 id="members-heading">"Members"</h2>
                <EntityTable
                    columns=vec![Column::Name, Column::Email, Column::Description]
                    rows=members.clone()
                    caption="Members"
                    empty="This group has no members."
                />
                {members_more.map(|n| view! { <p class="more secondary">"and " {fmt_count(n)} " more"</p> })}
            </section>
        })}
    }
}

#[component]
fn Definition(api: ApiDefinition) -> impl IntoView {
    let ApiDefinition {
        type_,
        title,
        version,
        description_html,
        servers,
        groups,
        problem,
        raw,
        raw_truncated,
    } = api;
    let has_ops = !groups.is_empty();
    view! {
        <section class="card definition" aria-labelledby="definition-heading">
            <h2 id="definition-heading">
                {title.unwrap_or_else(|| "Definition".to_owned())}
                {version.map(|v| view! { <span class="badge tone-neutral">{v}</span> })}
                <span class="badge tone-info">{type_}</span>
            </h2>
            {description_html.map(|h| view! { <div class="w-markdown" inner_html=h></div> })}
            {(!servers.is_empty()).then(|| view! {
                <p class="servers">"Servers: " {servers.into_iter().map(|s| view! { <code>{s}</code> " " }).collect_view()}</p>
            })}
            {problem.map(|p| view! {
                <div class="alert tone-warning" role="note"><Icon name="warning"/><p>{p}</p></div>
            })}
            {has_ops.then(|| groups
                .into_iter()
                .map(|g| view! {
                    <h3 class="op-group">{g.tag}</h3>
                    <ul class="operations">
                        {g.operations.into_iter().map(|op| view! { <OperationItem op=op/> }).collect_view()}
                    </ul>
                })
                .collect_view())}
            <details class="raw-definition" open=!has_ops>
                <summary>"Raw definition"</summary>
                <pre><code>{raw}</code></pre>
                {raw_truncated.then(|| view! { <p class="secondary">"(cut: the definition is longer)"</p> })}
            </details>
        </section>
    }
}

#[component]
fn OperationItem(op: Operation) -> impl IntoView {
    let method_class = format!("method method-{}", op.method.to_lowercase());
    let has_details =
        !op.parameters.is_empty() || !op.responses.is_empty() || op.request_body.is_some();
    let summary_line = view! {
        <span class=method_class>{op.method.clone()}</span>
        <code class="op-path">{op.path.clone()}</code>
        <span class="op-summary">{op.summary.clone().unwrap_or_default()}</span>
        {op.deprecated.then(|| view! { <span class="badge tone-warning">"deprecated"</span> })}
    };
    if !has_details {
        return view! { <li class="operation"><div class="op-line">{summary_line}</div></li> }
            .into_any();
    }
    view! {
        <li class="operation">
            <details>
                <summary class="op-line">{summary_line}</summary>
                <div class="op-details">
                    {op.operation_id.map(|id| view! { <p class="secondary">"Operation " <code>{id}</code></p> })}
                    {(!op.parameters.is_empty()).then(|| view! {
                        <table class="w-table">
                            <caption>"Parameters"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"In"</th><th scope="col">"Required"</th><th scope="col">"Description"</th></tr></thead>
                            <tbody>
                                {op.parameters.into_iter().map(|p| view! {
                                    <tr>
                                        <td><code>{p.name}</code></td>
                                        <td>{p.location}</td>
                                        <td>{if p.required { "yes" } else { "no" }}</td>
                                        <td>{p.description.unwrap_or_default()}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                    {op.request_body.map(|b| view! { <p>"Request body: " <code>{b}</code></p> })}
                    {(!op.responses.is_empty()).then(|| view! {
                        <table class="w-table">
                            <caption>"Responses"</caption>
                            <thead><tr><th scope="col">"Status"</th><th scope="col">"Description"</th></tr></thead>
                            <tbody>
                                {op.responses.into_iter().map(|(code, d)| view! {
                                    <tr><td><code>{code}</code></td><td>{d}</td></tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    })}
                </div>
            </details>
        </li>
    }
    .into_any()
}
