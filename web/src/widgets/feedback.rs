//! What every page shows while loading or when loading failed, and number formatting.

use crate::app::Icon;
use leptos::prelude::*;

/// `12345` → `12,345`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

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
