//! The page for addresses no route claims (status 404).

use crate::api::set_status;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found"/>
        <div class="page-header">
            <h1>"Page not found"</h1>
        </div>
        <div class="card empty-state">
            <p>"There is nothing at this address."</p>
            <p>
                <a href="/catalog">"Go to the catalog"</a>
                " or "
                <a href="/search">"search"</a>
                "."
            </p>
        </div>
    }
}
