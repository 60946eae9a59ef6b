//! The search page: entities, doc pages, templates and what plugins collate,
//! from one index. A plain form GET and plain links (facets, pages), so it
//! works without JavaScript; with it, the router loads the next results
//! without a full page load.

use crate::api::load_search;
use crate::model::*;
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

fn search_request() -> Memo<SearchRequest> {
    let location = use_location();
    Memo::new(move |_| SearchRequest::from_query(&parse_query_string(&location.search.get())))
}

/// Highlighted text: each hit in a `<mark>`, everything as text.
#[component]
pub fn Highlighted(segments: Vec<Segment>) -> impl IntoView {
    segments
        .into_iter()
        .map(|s| {
            if s.hit {
                view! { <mark>{s.text}</mark> }.into_any()
            } else {
                s.text.into_any()
            }
        })
        .collect_view()
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let request = search_request();
    let results = Resource::new(move || request.get(), load_search);
    view! {
        <Title text="Search"/>
        <div class="page-header">
            <h1>"Search"</h1>
            <p class="subtitle">"Services, APIs, teams, people, documentation pages and templates."</p>
        </div>
        <Form action="/search">
            <div class="search-bar card" role="search">
                <label for="search-q" class="visually-hidden">"Search"</label>
                <input
                    id="search-q"
                    type="search"
                    name="q"
                    placeholder="Search everything"
                    value=move || request.get_untracked().term
                    autocomplete="off"
                    maxlength="1000"
                />
                {move || request.get().types.into_iter().map(|t| view! {
                    <input type="hidden" name="type" value=t/>
                }).collect_view()}
                <button type="submit" class="button primary">"Search"</button>
            </div>
        </Form>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match results.await {
                    Err(e) => view! { <ErrorBox title="Search failed" message=describe(&e)/> }.into_any(),
                    Ok(v) if v.request.term.trim().is_empty() => view! {
                        <p class="empty">"Type a word to search for: a service's name, a team, a heading in the docs."</p>
                    }.into_any(),
                    Ok(v) => match v.refused.clone() {
                        Some(why) => view! { <ErrorBox title="This search cannot be run" message=why/> }.into_any(),
                        None => view! { <Results view=v/> }.into_any(),
                    },
                }
            })}
        </Transition>
    }
}

#[component]
fn Results(view: SearchView) -> impl IntoView {
    let SearchView {
        request,
        hits,
        total,
        facets,
        next,
        previous,
        ready,
        ..
    } = view;
    let heading = format!(
        "{} result{} for “{}”",
        fmt_count(total),
        if total == 1 { "" } else { "s" },
        request.term
    );
    let page_link = |cursor: Option<String>| {
        cursor.map(|c| {
            SearchRequest {
                cursor: Some(c),
                ..request.clone()
            }
            .href()
        })
    };
    let (previous, next) = (page_link(previous), page_link(next));
    view! {
        <div class="search-layout">
            <aside class="search-facets" aria-label="Filters">
                {facets.into_iter().filter(|f| !f.values.is_empty()).map(|facet| {
                    let field = facet.field.clone();
                    view! {
                        <section class="facet">
                            <h2 class="label">{facet.label}</h2>
                            <ul>
                                {facet.values.into_iter().map(|v| {
                                    let href = request.toggled(&field, &v.value).href();
                                    view! {
                                        <li>
                                            <a href=href aria-current=v.selected.then_some("true") class:selected=v.selected>
                                                <span>{v.label}</span>
                                                <span class="count">{fmt_count(v.count)}</span>
                                            </a>
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        </section>
                    }
                }).collect_view()}
            </aside>
            <section class="card search-results" aria-labelledby="results-heading">
                <h2 id="results-heading" aria-live="polite">{heading}</h2>
                {(!ready).then(|| view! {
                    <p class="alert tone-info" role="status">"The search index is still being built: results may be incomplete."</p>
                })}
                {if hits.is_empty() {
                    view! { <p class="empty">"Nothing matches. Try fewer or different words, or remove a filter."</p> }.into_any()
                } else {
                    view! {
                        <ol class="hits">
                            {hits.into_iter().map(|hit| {
                                let external = !hit.location.starts_with('/');
                                view! {
                                    <li class="hit">
                                        <span class="badge tone-neutral">{hit.type_label}</span>
                                        <a
                                            class="hit-title"
                                            href=hit.location
                                            rel=external.then_some("noopener noreferrer")
                                        >
                                            <Highlighted segments=hit.title/>
                                        </a>
                                        {(!hit.details.is_empty()).then(|| view! {
                                            <p class="hit-details">
                                                {hit.details.into_iter().map(|(k, v)| view! {
                                                    <span><span class="visually-hidden">{k} ": "</span>{v}</span>
                                                }).collect_view()}
                                            </p>
                                        })}
                                        {(!hit.text.is_empty()).then(|| view! {
                                            <p class="hit-text"><Highlighted segments=hit.text/></p>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ol>
                    }.into_any()
                }}
                {(previous.is_some() || next.is_some()).then(|| view! {
                    <nav class="pager" aria-label="Result pages">
                        {previous.map(|href| view! { <a class="button" rel="prev" href=href>"Previous"</a> })}
                        {next.map(|href| view! { <a class="button" rel="next" href=href>"Next"</a> })}
                    </nav>
                })}
            </section>
        </div>
    }
}
