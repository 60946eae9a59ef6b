//! The pages. Each loads its view through a server function inside a
//! `<Transition>`: on the server the route waits for it (SSR mode `Async`,
//! so the HTML is complete without JavaScript); in the browser the previous
//! content stays visible while the next one loads.

mod catalog;
mod entity;
mod plugins;

pub use catalog::CatalogPage;
pub use entity::EntityPage;
pub use plugins::PluginsPage;

use crate::api::{load_search, load_templates, set_status};
use crate::app::Icon;
use crate::model::*;
use crate::widgets::EntityTable;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

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

fn search_term() -> Memo<(String, Option<String>)> {
    let location = use_location();
    Memo::new(move |_| {
        let pairs = parse_query_string(&location.search.get());
        let get = |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        (get("q").unwrap_or_default(), get("kind"))
    })
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let term = search_term();
    let results = Resource::new(move || term.get(), |(t, k)| load_search(t, k));
    view! {
        <Title text="Search"/>
        <div class="page-header">
            <h1>"Search"</h1>
            <p class="subtitle">"Find anything in the software catalog by name, title or description."</p>
        </div>
        <Form action="/search">
            <div class="search-bar card" role="search">
                <label for="search-q" class="visually-hidden">"Search the catalog"</label>
                <input
                    id="search-q"
                    type="search"
                    name="q"
                    placeholder="Search the catalog"
                    value=move || term.get_untracked().0
                    autocomplete="off"
                />
                <button type="submit" class="button primary">"Search"</button>
            </div>
        </Form>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match results.await {
                    Err(e) => view! { <ErrorBox title="Search failed" message=describe(&e)/> }.into_any(),
                    Ok(v) if v.term.is_empty() => view! {
                        <p class="empty">"Type a word to search for."</p>
                    }.into_any(),
                    Ok(v) => {
                        let heading = format!(
                            "{} result{} for “{}”",
                            fmt_count(v.total),
                            if v.total == 1 { "" } else { "s" },
                            v.term
                        );
                        let shown = v.rows.len() as u64;
                        let all = CatalogQuery {
                            kind: Some("all".into()),
                            text: v.term.clone(),
                            ..Default::default()
                        }
                        .normalized()
                        .href();
                        view! {
                            <section class="card" aria-labelledby="results-heading">
                                <h2 id="results-heading" aria-live="polite">{heading}</h2>
                                <EntityTable
                                    columns=vec![Column::Name, Column::Kind, Column::Owner, Column::Type, Column::Description]
                                    rows=v.rows
                                    caption="Search results"
                                    empty="Nothing matches. Try fewer or different words."
                                />
                                {(v.total > shown).then(|| view! {
                                    <p class="more"><a href=all>"See all " {fmt_count(v.total)} " in the catalog"</a></p>
                                })}
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

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
