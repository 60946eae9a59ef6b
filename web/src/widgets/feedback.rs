//! What every page shows while loading or when loading failed, and number formatting.

use crate::app::Icon;
use leptos::prelude::*;

pub use crate::model::fmt_count;

#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="loading" role="status">"Loading…"</p> }
}

#[component]
pub fn ErrorBox(#[prop(into)] title: String, #[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="alert tone-danger" role="alert">
            <Icon name="warning"/>
            <div>
                <p class="alert-title">{title}</p>
                <p>{message}</p>
            </div>
        </div>
    }
}

/// Strips the `ServerFnError` wording from an error for users.
pub fn describe(e: &ServerFnError) -> String {
    let s = e.to_string();
    s.split_once(": ").map(|(_, m)| m.to_owned()).unwrap_or(s)
}
