//! The search page: a form that works without JavaScript, results as entity rows.

use crate::api::load_search;
use crate::model::*;
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

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
