//! The create page: the templates the catalog knows (running them is not built yet).

use crate::api::load_templates;
use crate::model::*;
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CreatePage() -> impl IntoView {
    let templates = Resource::new(|| (), |_| load_templates());
    view! {
        <Title text="Create"/>
        <div class="page-header">
            <h1>"Create something new"</h1>
            <p class="subtitle">"Software templates from the catalog."</p>
        </div>
        <div class="alert tone-info" role="note">
            <div>
                <p class="alert-title">"Coming soon"</p>
                <p>"Running templates (Backstage's scaffolder) is not built yet; these are the templates the catalog knows."</p>
            </div>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match templates.await {
                    Err(e) => view! { <ErrorBox title="Templates could not be loaded" message=describe(&e)/> }.into_any(),
                    Ok(rows) => view! {
                        <section class="card">
                            <h2>"Templates"</h2>
                            <EntityTable
                                columns=vec![Column::Name, Column::Owner, Column::Type, Column::Description]
                                rows=rows
                                caption="Templates"
                                empty="The catalog has no templates yet."
                            />
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
