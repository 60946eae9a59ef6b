//! `/catalog`: the entity table with filters, search, sorting and paging, all
//! kept in the URL. Without JavaScript the filters are a plain GET form; once
//! hydrated, any change re-queries in place (no page load).

use crate::api::load_catalog;
use crate::model::*;
use crate::widgets::entity_rows;
use crate::widgets::{ErrorBox, Loading, describe, fmt_count};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate};
use std::time::Duration;

/// Filter values listed before "Show all".
const SHOWN_VALUES: usize = 8;

fn dom_id(prefix: &str, value: &str) -> String {
    let mut id = String::from(prefix);
    for c in value.chars() {
        id.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        });
    }
    id
}

#[component]
pub fn CatalogPage() -> impl IntoView {
    let location = use_location();
    let query = Memo::new(move |_| {
        let pairs = parse_query_string(&location.search.get());
        CatalogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    });
    let data = Resource::new(move || query.get(), load_catalog);

    // Live filtering: a change in the form submits it (the router's <Form>
    // turns that into a client-side navigation); typing waits a moment.
    let refocus = StoredValue::new(None::<String>);
    let submit_from = move |el: &web_sys::Element| {
        use wasm_bindgen::JsCast;
        if let Some(active) = document().active_element() {
            let id = active.id();
            refocus.set_value((!id.is_empty()).then_some(id));
        }
        if let Ok(Some(form)) = el.closest("form") {
            let _ = form
                .unchecked_into::<web_sys::HtmlFormElement>()
                .request_submit();
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        let el: web_sys::Element = event_target(&ev);
        if el.get_attribute("type").as_deref() != Some("search") {
            submit_from(&el);
        }
    };
    let pending_search = StoredValue::new(None::<TimeoutHandle>);
    let on_search_input = move |ev: leptos::ev::Event| {
        let el: web_sys::Element = event_target(&ev);
        if let Some(h) = pending_search.get_value() {
            h.clear();
        }
        let handle =
            set_timeout_with_handle(move || submit_from(&el), Duration::from_millis(300)).ok();
        pending_search.set_value(handle);
    };
    // Put the focus back where it was once the new results are drawn.
    Effect::new(move |_| {
        if data.get().is_some()
            && let Some(id) = refocus.get_value()
        {
            request_animation_frame(move || {
                use wasm_bindgen::JsCast;
                if let Some(el) = document().get_element_by_id(&id) {
                    let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
                }
            });
        }
    });
    // Keep the search box in step with the URL (back/forward), without
    // fighting the user while they type.
    let search_ref = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        let text = query.get().text;
        if let Some(input) = search_ref.get()
            && input.value().trim() != text
        {
            input.set_value(&text);
        }
    });

    // Submitting (a change, or Enter) navigates in place to the canonical URL
    // of the form's state; without JavaScript the browser submits the GET form.
    let navigate = use_navigate();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        use wasm_bindgen::JsCast;
        ev.prevent_default();
        let Some(form) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
        else {
            return;
        };
        let Ok(form_data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let Ok(params) = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&form_data)
        else {
            return;
        };
        let pairs = parse_query_string(&String::from(params.to_string()));
        let next = CatalogQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        navigate(
            &next.href(),
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    };

    let initial_text = query.get_untracked().text;
    view! {
        <Title text="Catalog"/>
        <div class="page-header">
            <h1>"Catalog"</h1>
            <p class="subtitle">"Every component, API, resource, system, domain, group and user, with owners and relations."</p>
        </div>
        <form method="get" action="/catalog" on:submit=on_submit>
            <div class="catalog" on:change=on_change>
                <input type="hidden" name="sort" value=move || query.get().sort.unwrap_or_default()/>
                <input type="hidden" name="dir" value=move || if query.get().desc { "desc" } else { "" }/>
                <aside class="filters card" aria-label="Filters">
                    <Transition fallback=|| view! { <Loading/> }>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(v) => view! { <Filters view=v/> }.into_any(),
                                Err(_) => ().into_any(),
                            }
                        })}
                    </Transition>
                </aside>
                <section class="results card" aria-labelledby="results-heading">
                    <div class="results-header">
                        <Transition fallback=|| view! { <h2 id="results-heading">"Entities"</h2> }>
                            {move || Suspend::new(async move {
                                let heading = match data.await {
                                    Ok(v) => format!("{} ({})", v.heading, fmt_count(v.total)),
                                    Err(_) => "Entities".to_owned(),
                                };
                                view! { <h2 id="results-heading" aria-live="polite">{heading}</h2> }
                            })}
                        </Transition>
                        <div class="search-field" role="search">
                            <label for="catalog-search" class="visually-hidden">"Search the list"</label>
                            <input
                                id="catalog-search"
                                node_ref=search_ref
                                type="search"
                                name="q"
                                placeholder="Search"
                                value=initial_text
                                autocomplete="off"
                                on:input=on_search_input
                            />
                        </div>
                    </div>
                    <Transition fallback=|| view! { <Loading/> }>
                        {move || Suspend::new(async move {
                            match data.await {
                                Ok(v) => view! { <Results view=v/> }.into_any(),
                                Err(e) => view! {
                                    <ErrorBox title="The catalog could not be loaded" message=describe(&e)/>
                                }
                                .into_any(),
                            }
                        })}
                    </Transition>
                </section>
            </div>
        </form>
    }
}

#[component]
fn Filters(view: CatalogView) -> impl IntoView {
    let CatalogView {
        query,
        kinds,
        facets,
        ..
    } = view;
    let any_filter = query.has_filters();
    let clear = query.cleared().href();
    let all_selected = query.effective_kind().is_none();
    view! {
        <h2 class="filters-title">"Filters"</h2>
        <div class="field">
            <label for="filter-kind">"Kind"</label>
            <select id="filter-kind" name="kind">
                <option value="all" selected=all_selected prop:selected=all_selected>"All kinds"</option>
                {kinds
                    .into_iter()
                    .map(|k| {
                        let label = format!("{} ({})", k.label, fmt_count(k.count));
                        view! { <option value=k.value selected=k.selected prop:selected=k.selected>{label}</option> }
                    })
                    .collect_view()}
            </select>
        </div>
        {facets.into_iter().map(|f| view! { <FacetFilter facet=f/> }).collect_view()}
        <div class="filter-actions">
            <noscript>
                <button type="submit" class="button primary">"Apply filters"</button>
            </noscript>
            {any_filter.then(|| view! { <a class="button" href=clear>"Clear filters"</a> })}
        </div>
    }
}

#[component]
fn FacetFilter(facet: Facet) -> impl IntoView {
    let Facet {
        param,
        label,
        values,
    } = facet;
    let legend_id = format!("legend-{param}");
    let labelled_by = legend_id.clone();
    if values.is_empty() {
        return view! {
            <fieldset class="facet" aria-labelledby=labelled_by>
                <legend id=legend_id>{label}</legend>
                <p class="secondary">"None in this view"</p>
            </fieldset>
        }
        .into_any();
    }
    let option = {
        let param = param.clone();
        move |v: FacetValue| {
            let id = dom_id(&format!("f-{param}-"), &v.value);
            view! {
                <li>
                    // The attribute for the server's HTML, the property for the live
                    // page (once a box was clicked, the attribute no longer decides).
                    <input
                        type="checkbox"
                        id=id.clone()
                        name=param.clone()
                        value=v.value
                        checked=v.selected
                        prop:checked=v.selected
                    />
                    <label for=id>
                        <span class="facet-label">{v.label}</span>
                        <span class="count">{fmt_count(v.count)}</span>
                    </label>
                </li>
            }
        }
    };
    let total = values.len();
    let mut values = values;
    let rest: Vec<FacetValue> = if total > SHOWN_VALUES + 2 {
        values.split_off(SHOWN_VALUES)
    } else {
        Vec::new()
    };
    let rest_selected = rest.iter().any(|v| v.selected);
    let first: Vec<_> = values.into_iter().map(option.clone()).collect();
    let more = (!rest.is_empty()).then(|| {
        let n = rest.len();
        let items: Vec<_> = rest.into_iter().map(option.clone()).collect();
        view! {
            <details open=rest_selected>
                <summary>"Show " {n} " more"</summary>
                <ul class="facet-values">{items}</ul>
            </details>
        }
    });
    view! {
        <fieldset class="facet" aria-labelledby=labelled_by>
            <legend id=legend_id>{label}</legend>
            <ul class="facet-values">{first}</ul>
            {more}
        </fieldset>
    }
    .into_any()
}

#[component]
fn Results(view: CatalogView) -> impl IntoView {
    let CatalogView {
        query,
        columns,
        rows,
        total,
        last_page,
        ..
    } = view;
    if rows.is_empty() {
        let message = if total > 0 {
            "This page is past the end of the list.".to_owned()
        } else if query.has_filters() {
            "Nothing matches these filters.".to_owned()
        } else {
            "The catalog has no entities of this kind yet.".to_owned()
        };
        let reset = if total > 0 {
            query.with_page(1).href()
        } else {
            query.cleared().href()
        };
        let reset_label = if total > 0 {
            "Go to the first page"
        } else {
            "Clear filters"
        };
        return view! {
            <div class="empty-state">
                <p>{message}</p>
                {(query.has_filters() || total > 0).then(|| view! { <a class="button" href=reset>{reset_label}</a> })}
            </div>
        }
        .into_any();
    }
    let sorted = query.sort_column();
    let head = columns
        .iter()
        .map(|c| {
            let c = *c;
            let aria_sort = (c == sorted).then(|| if query.desc { "descending" } else { "ascending" });
            let header = if c.sortable() {
                let href = query.with_sort(c).href();
                let arrow = if c == sorted { if query.desc { " ↓" } else { " ↑" } } else { "" };
                view! {
                    <a class="sort" href=href>
                        {c.label()}
                        <span aria-hidden="true">{arrow}</span>
                        <span class="visually-hidden">", sort"</span>
                    </a>
                }
                .into_any()
            } else {
                view! { <span>{c.label()}</span> }.into_any()
            };
            view! { <th scope="col" class=format!("col-{}", c.id()) aria-sort=aria_sort>{header}</th> }
        })
        .collect_view();
    let first = (query.page - 1) * query.size + 1;
    let last = first + rows.len() - 1;
    let body = entity_rows(columns, rows);
    let page = query.page;
    let link = |p: usize, label: &'static str, enabled: bool| {
        let href = query.with_page(p).href();
        if enabled {
            view! { <a class="button" href=href>{label}</a> }.into_any()
        } else {
            view! { <span class="button disabled" aria-disabled="true">{label}</span> }.into_any()
        }
    };
    let sizes = PAGE_SIZES
        .iter()
        .map(|s| view! { <option value=s.to_string() selected=*s == query.size prop:selected=*s == query.size>{s.to_string()}</option> })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="entities catalog-table">
                <caption class="visually-hidden">"Entities, " {fmt_count(total)} " in all"</caption>
                <thead><tr>{head}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        <nav class="pagination" aria-label="Pages">
            <p class="range">
                {fmt_count(first as u64)} "–" {fmt_count(last as u64)} " of " {fmt_count(total)}
            </p>
            <div class="page-links">
                {link(1, "First", page > 1)}
                {link(page.saturating_sub(1).max(1), "Previous", page > 1)}
                <span class="page-number">"Page " {page} " of " {fmt_count(last_page as u64)}</span>
                {link(page + 1, "Next", page < last_page)}
                {link(last_page, "Last", page < last_page)}
            </div>
            <div class="page-size">
                <label for="page-size">"Rows"</label>
                <select id="page-size" name="size">{sizes}</select>
            </div>
        </nav>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_stable_and_safe() {
        assert_eq!(
            super::dom_id("f-owner-", "group:default/Team A"),
            "f-owner-group-default-team-a"
        );
    }
}
