//! The docs page (TechDocs is not built yet).

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn DocsPage() -> impl IntoView {
    view! {
        <Title text="Docs"/>
        <div class="page-header">
            <h1>"Documentation"</h1>
        </div>
        <div class="card empty-state">
            <p class="badge tone-info">"Coming soon"</p>
            <p>
                "Technical documentation next to the catalog (Backstage's TechDocs) is not built yet. "
                "Links to " <code>"/docs/…"</code> " will work here once it is."
            </p>
            <p><a href="/catalog">"Browse the catalog meanwhile"</a></p>
        </div>
    }
}
