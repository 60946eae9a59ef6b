//! Building blocks shared by the pages: entity tables and links, and the
//! portal's rendering of plugin widget trees.

use crate::app::Icon;
use crate::model::*;
use leptos::prelude::*;

#[component]
pub fn EntityRef(link: EntityLink) -> impl IntoView {
    view! {
        <a class="entity-link" href=link.href>
            <Icon name=link.kind.clone()/>
            <span>{link.label}</span>
        </a>
    }
}

pub fn opt_link(link: Option<EntityLink>) -> AnyView {
    match link {
        Some(l) => view! { <EntityRef link=l/> }.into_any(),
        None => view! { <span class="none" aria-label="none">"—"</span> }.into_any(),
    }
}

pub fn opt_text(text: Option<String>) -> AnyView {
    match text {
        Some(t) => view! { <span>{t}</span> }.into_any(),
        None => view! { <span class="none" aria-label="none">"—"</span> }.into_any(),
    }
}

#[component]
pub fn Tags(tags: Vec<String>) -> impl IntoView {
    view! {
        <ul class="tags" aria-label="Tags">
            {tags.into_iter().map(|t| view! { <li class="tag">{t}</li> }).collect_view()}
        </ul>
    }
}

/// The cell of one column for one row.
pub fn cell(column: Column, row: &Row) -> AnyView {
    match column {
        Column::Name => {
            let label = row.title.clone().unwrap_or_else(|| row.name.clone());
            let secondary = row.title.as_ref().map(|_| row.name.clone());
            let namespace = (row.namespace != "default").then(|| row.namespace.clone());
            let errors = row.has_errors;
            view! {
                <a class="entity-name" href=row.href.clone()>
                    <Icon name=row.kind.clone()/>
                    <span>{label}</span>
                </a>
                {secondary.map(|s| view! { <span class="secondary">{s}</span> })}
                {namespace.map(|n| view! { <span class="secondary">"in " {n}</span> })}
                {errors.then(|| view! { <span class="badge tone-danger">"has problems"</span> })}
            }
            .into_any()
        }
        Column::Kind => view! { <span>{row.kind.clone()}</span> }.into_any(),
        Column::System => opt_link(row.system.clone()),
        Column::Domain => opt_link(row.domain.clone()),
        Column::Owner => opt_link(row.owner.clone()),
        Column::Parent => opt_link(row.parent.clone()),
        Column::Type => opt_text(row.type_.clone()),
        Column::Lifecycle => match row.lifecycle.clone() {
            Some(l) => {
                let tone = match l.as_str() {
                    "production" => "tone-success",
                    "deprecated" => "tone-warning",
                    "experimental" => "tone-info",
                    _ => "tone-neutral",
                };
                view! { <span class=format!("badge {tone}")>{l}</span> }.into_any()
            }
            None => opt_text(None),
        },
        Column::Description => match row.description.clone() {
            Some(d) => {
                let tooltip = d.clone();
                view! { <span class="description" title=tooltip>{d}</span> }.into_any()
            }
            None => opt_text(None),
        },
        Column::Tags => view! { <Tags tags=row.tags.clone()/> }.into_any(),
        Column::Email => match row.email.clone() {
            Some(e) => {
                let href = format!("mailto:{e}");
                view! { <a href=href>{e}</a> }.into_any()
            }
            None => opt_text(None),
        },
        Column::Target => opt_text(row.target.clone()),
        Column::Namespace => view! { <span>{row.namespace.clone()}</span> }.into_any(),
    }
}

/// A plain (not sortable) table of entities.
#[component]
pub fn EntityTable(
    columns: Vec<Column>,
    rows: Vec<Row>,
    #[prop(into)] caption: String,
    #[prop(into)] empty: String,
) -> impl IntoView {
    if rows.is_empty() {
        return view! { <p class="empty">{empty}</p> }.into_any();
    }
    let head = columns.clone();
    view! {
        <div class="table-wrap">
            <table class="entities">
                <caption class="visually-hidden">{caption}</caption>
                <thead>
                    <tr>
                        {head
                            .into_iter()
                            .map(|c| view! { <th scope="col" class=format!("col-{}", c.id())>{c.label()}</th> })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {rows
                        .into_iter()
                        .map(|r| {
                            let cols = columns.clone();
                            view! {
                                <tr>
                                    {cols
                                        .into_iter()
                                        .map(|c| view! { <td class=format!("col-{}", c.id())>{cell(c, &r)}</td> })
                                        .collect_view()}
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

/// A plugin panel: its widgets, or a contained error.
#[component]
pub fn PanelCard(panel: PanelView, #[prop(optional)] tab: bool) -> impl IntoView {
    let PanelView {
        plugin,
        panel: id,
        title,
        result,
    } = panel;
    let heading_id = format!("panel-{plugin}-{id}");
    let body = match result {
        PanelResult::Ok(w) => render(w, 0),
        PanelResult::Err { kind, message } => {
            let headline = match kind.as_str() {
                "timeout" => "This panel took too long and was stopped.",
                "unavailable" => "This panel is not available right now.",
                "invalid" => "This panel sent something the portal cannot show.",
                _ => "This panel failed.",
            };
            view! {
                <div class="panel-error" role="alert">
                    <Icon name="warning"/>
                    <div>
                        <p class="panel-error-title">{headline}</p>
                        <p class="panel-error-detail">{message}</p>
                        <p class="secondary">
                            "The rest of the page is unaffected. Details on the " <a href="/plugins">"plugins page"</a> "."
                        </p>
                    </div>
                </div>
            }
            .into_any()
        }
    };
    let class = if tab {
        "card panel panel-tab"
    } else {
        "card panel"
    };
    let labelled_by = heading_id.clone();
    let data_plugin = plugin.clone();
    view! {
        <section class=class aria-labelledby=labelled_by data-plugin=data_plugin data-panel=id>
            <header class="card-header">
                <h2 id=heading_id>{title}</h2>
                <span class="plugin-attribution">"from " {plugin}</span>
            </header>
            <div class="card-body">{body}</div>
        </section>
    }
}

/// Deepest widget nesting drawn.
const MAX_DEPTH: usize = 24;

pub fn render(w: Widget, depth: usize) -> AnyView {
    if depth > MAX_DEPTH {
        return view! { <p class="secondary">"(nested too deeply to show)"</p> }.into_any();
    }
    let kids = move |children: Vec<Widget>| {
        children
            .into_iter()
            .map(|c| render(c, depth + 1))
            .collect_view()
    };
    match w {
        Widget::Text { text } => view! { <p class="w-text">{text}</p> }.into_any(),
        Widget::Markdown { html, .. } => view! { <div class="w-markdown" inner_html=html></div> }.into_any(),
        Widget::Link { label, url } => {
            let external = url.starts_with("http");
            view! {
                <a
                    class="w-link"
                    href=url
                    target=external.then_some("_blank")
                    rel=external.then_some("noopener noreferrer")
                >
                    {label}
                    {external.then(|| view! { <Icon name="external"/><span class="visually-hidden">" (opens in a new tab)"</span> })}
                </a>
            }
            .into_any()
        }
        Widget::Badge { label, tone } => {
            view! { <span class=format!("badge {}", tone.class())>{label}</span> }.into_any()
        }
        Widget::Stat { label, value, tone } => view! {
            <div class=format!("w-stat {}", tone.class())>
                <span class="w-stat-value">{value}</span>
                <span class="w-stat-label">{label}</span>
            </div>
        }
        .into_any(),
        Widget::Code { language, content } => view! {
            <pre class="w-code" data-language=language><code>{content}</code></pre>
        }
        .into_any(),
        Widget::Empty { message } => view! { <p class="empty">{message}</p> }.into_any(),
        Widget::Card { title, children } => view! {
            <div class="w-card">
                <h3>{title}</h3>
                {kids(children)}
            </div>
        }
        .into_any(),
        Widget::KeyValues { items } => view! {
            <dl class="w-kv">
                {items
                    .into_iter()
                    .map(|kv| view! {
                        <div>
                            <dt>{kv.key}</dt>
                            <dd>{render(kv.value, depth + 1)}</dd>
                        </div>
                    })
                    .collect_view()}
            </dl>
        }
        .into_any(),
        Widget::Table { columns, rows } => view! {
            <div class="table-wrap">
                <table class="w-table">
                    <thead>
                        <tr>{columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|r| view! {
                                <tr>{r.into_iter().map(|c| view! { <td>{render(c, depth + 1)}</td> }).collect_view()}</tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        Widget::Stack { children } => view! { <div class="w-stack">{kids(children)}</div> }.into_any(),
        Widget::Row { children } => view! { <div class="w-row">{kids(children)}</div> }.into_any(),
        Widget::Unknown => view! {
            <p class="secondary">"(a widget this portal version cannot show)"</p>
        }
        .into_any(),
    }
}
