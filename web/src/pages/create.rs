//! `/create`: the software templates the catalog knows, each with a "Choose"
//! link to its form (`pages::template_form`).

use crate::api::load_templates;
use crate::app::Icon;
use crate::model::{Row, encode_component};
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;

/// The form of a template.
pub fn template_form_href(namespace: &str, name: &str) -> String {
    format!(
        "/create/templates/{}/{}",
        encode_component(namespace),
        encode_component(name)
    )
}

#[component]
pub fn CreatePage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| load_templates());
    view! {
        <Title text="Create"/>
        <div class="page-header">
            <h1>"Create something new"</h1>
            <p class="subtitle">"Choose a software template: fill in its form, and the portal runs its steps for you."</p>
            <p class="page-links">
                <a href="/create/actions">"Installed actions"</a>
                " · "
                <a href="/create/edit">"Template editor"</a>
            </p>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Err(e) => view! { <ErrorBox title="Templates could not be loaded" message=describe(&e)/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <div class="card empty-state">
                            <p>"The catalog has no templates yet."</p>
                            <p>"Templates are catalog entities of kind " <code>"Template"</code> "; register one to see it here."</p>
                        </div>
                    }
                    .into_any(),
                    Ok(rows) => view! {
                        <ul class="template-grid" aria-label="Templates">
                            {rows.into_iter().map(|r| view! { <li><TemplateCard row=r/></li> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TemplateCard(row: Row) -> impl IntoView {
    let title = row.title.clone().unwrap_or_else(|| row.name.clone());
    let heading_id = format!("template-{}-{}", row.namespace, row.name)
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    let choose = template_form_href(&row.namespace, &row.name);
    let choose_label = format!("Choose {title}");
    let labelled_by = heading_id.clone();
    view! {
        <article class="card template-card" aria-labelledby=labelled_by data-template=row.entity_ref.clone()>
            <header class="template-card-header">
                <h2 id=heading_id>
                    <Icon name="template"/>
                    <span>{title}</span>
                </h2>
                {row.type_.clone().map(|t| view! { <span class="badge tone-info">{t}</span> })}
            </header>
            <p class="template-description">
                {row.description.clone().unwrap_or_else(|| "No description.".to_owned())}
            </p>
            {(!row.tags.is_empty()).then(|| view! { <Tags tags=row.tags.clone()/> })}
            <footer class="template-card-footer">
                <span class="secondary">
                    {row.owner.clone().map(|o| view! { "Owner " <EntityRef link=o/> })}
                    {(row.namespace != "default").then(|| format!(" · in {}", row.namespace))}
                </span>
                <span class="template-actions">
                    <a class="button" href=row.href.clone()>"Details"</a>
                    {crate::app::viewer_may("scaffolder.task.create").then(|| view! {
                        <a class="button primary" href=choose aria-label=choose_label>"Choose"</a>
                    })}
                </span>
            </footer>
        </article>
    }
}
