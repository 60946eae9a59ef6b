//! Entities in pages: links to them, tags, table cells by column, and the
//! entity table every list uses (plain, or with sortable headers).

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

/// The rows of an entity table: one cell per column (labelled, for narrow screens).
pub fn entity_rows(columns: Vec<Column>, rows: Vec<Row>) -> impl IntoView {
    rows.into_iter()
        .map(|r| {
            let cols = columns.clone();
            view! {
                <tr>
                    {cols
                        .into_iter()
                        .map(|c| view! { <td class=format!("col-{}", c.id()) data-label=c.label()>{cell(c, &r)}</td> })
                        .collect_view()}
                </tr>
            }
        })
        .collect_view()
}

/// A plain (not sortable) table of entities; the catalog page heads the same
/// rows with sortable columns.
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
                <tbody>{entity_rows(columns, rows)}</tbody>
            </table>
        </div>
    }
    .into_any()
}
