//! The UI's search (`/search` and the search box): a query of the index
//! made into the web crate's view types. Highlights become text segments
//! (the page draws `<mark>` itself); locations are re-checked (a portal
//! path or an http(s) URL) before they become links.

use crate::AppState;
use portal_search::{SearchError, SearchQuery, SearchResults};
use portal_web::model::{
    FacetValue, SearchFacet, SearchHit, SearchRequest, SearchView, Suggestion, plain, segments,
};
use portal_web::ssr::data::DataError;
use serde_json::Value;
use std::collections::BTreeMap;

/// Results per page of the search page.
const PAGE: usize = 20;
/// Suggestions in the search box.
const SUGGESTIONS: usize = 8;

/// The facets the page shows, in order: (answer key, filter field, label).
const FACETS: &[(&str, &str, &str)] = &[
    ("types", "doctype", "Result type"),
    ("kind", "kind", "Kind"),
    ("type", "type", "Entity type"),
    ("owner", "owner", "Owner"),
    ("lifecycle", "lifecycle", "Lifecycle"),
    ("tags", "tags", "Tags"),
];

/// What a document type is called: the portal's own, or a collator's title.
fn type_labels(state: &AppState) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = [
        (portal_search::SOFTWARE_CATALOG, "Catalog"),
        (portal_search::TECHDOCS, "Documentation"),
        (portal_search::SOFTWARE_TEMPLATE, "Template"),
    ]
    .into_iter()
    .map(|(t, l)| (t.to_owned(), l.to_owned()))
    .collect();
    for (_, collator) in state.plugins.collators() {
        labels
            .entry(collator.document_type)
            .or_insert(collator.title);
    }
    labels
}

fn label(labels: &BTreeMap<String, String>, doc_type: &str) -> String {
    labels
        .get(doc_type)
        .cloned()
        .unwrap_or_else(|| doc_type.to_owned())
}

/// A location that may become a link, or `None`.
fn safe_location(location: &str) -> Option<String> {
    let ok = (location.starts_with('/') && !location.starts_with("//"))
        || location.starts_with("https://")
        || location.starts_with("http://");
    (ok && !location.chars().any(char::is_control)).then(|| location.to_owned())
}

pub async fn search(
    state: &AppState,
    context: &crate::request::RequestContext,
    request: SearchRequest,
) -> Result<SearchView, DataError> {
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (field, value) in &request.filters {
        filters
            .entry(field.clone())
            .or_default()
            .push(value.clone());
    }
    let query = SearchQuery {
        term: request.term.clone(),
        types: request.types.clone(),
        filters,
        page_cursor: request.cursor.clone(),
        page_limit: Some(PAGE),
        hidden_entities: crate::search_wiring::hidden_entities(state, context),
    };
    let search = state.search.clone();
    let answer = crate::search_wiring::run_search(move || search.query(&query))
        .await
        .map_err(|e| DataError(format!("the search stopped: {e}")))?;
    match answer {
        Ok(results) => Ok(view(state, request, results)),
        Err(e) if e.is_input() => Ok(SearchView {
            request,
            ready: true,
            refused: Some(e.to_string()),
            ..Default::default()
        }),
        Err(e) => Err(DataError(describe(&e))),
    }
}

fn describe(e: &SearchError) -> String {
    format!("the search failed: {e}")
}

fn view(state: &AppState, request: SearchRequest, results: SearchResults) -> SearchView {
    let labels = type_labels(state);
    let hits = results
        .results
        .into_iter()
        .map(|r| {
            let doc = &r.document_fields();
            let text_of = |key: &str| doc.get(key).and_then(Value::as_str).unwrap_or("");
            let highlighted = |key: &str| match r.highlight.fields.get(key) {
                Some(h) => segments(h),
                None => plain(text_of(key)),
            };
            let mut details = Vec::new();
            for key in ["kind", "owner", "lifecycle", "entityTitle"] {
                if !text_of(key).is_empty() {
                    details.push((key.to_owned(), text_of(key).to_owned()));
                }
            }
            // A collated document's own fields.
            let own = [
                portal_search::SOFTWARE_CATALOG,
                portal_search::TECHDOCS,
                portal_search::SOFTWARE_TEMPLATE,
            ]
            .contains(&r.doc_type.as_str());
            if !own {
                for (key, value) in doc {
                    if !matches!(key.as_str(), "title" | "text" | "location")
                        && let Some(value) = value.as_str()
                        && details.len() < 6
                        && !details.iter().any(|(k, _)| k == key)
                    {
                        details.push((key.clone(), value.to_owned()));
                    }
                }
            }
            SearchHit {
                type_label: label(&labels, &r.doc_type),
                doc_type: r.doc_type.clone(),
                title: highlighted("title"),
                text: highlighted("text"),
                location: safe_location(text_of("location")).unwrap_or_else(|| "#".to_owned()),
                details,
            }
        })
        .collect();
    let facets = FACETS
        .iter()
        .filter_map(|(key, field, title)| {
            let counts = results.facets.get(*key)?;
            let values = counts
                .iter()
                .map(|c| {
                    let selected = if *field == "doctype" {
                        request.types.contains(&c.value)
                    } else {
                        request
                            .filters
                            .iter()
                            .any(|(f, v)| f == field && v.eq_ignore_ascii_case(&c.value))
                    };
                    FacetValue {
                        label: if *field == "doctype" {
                            label(&labels, &c.value)
                        } else {
                            c.value.clone()
                        },
                        value: c.value.clone(),
                        count: c.count,
                        selected,
                    }
                })
                .collect();
            Some(SearchFacet {
                field: (*field).to_owned(),
                label: (*title).to_owned(),
                values,
            })
        })
        .collect();
    SearchView {
        request,
        hits,
        total: results.number_of_results,
        facets,
        next: results.next_page_cursor,
        previous: results.previous_page_cursor,
        ready: results.ready,
        refused: None,
    }
}

pub async fn suggest(
    state: &AppState,
    context: &crate::request::RequestContext,
    term: &str,
) -> Vec<Suggestion> {
    let search = state.search.clone();
    let term = term.to_owned();
    let hidden = crate::search_wiring::hidden_entities(state, context);
    let found = crate::search_wiring::run_search(move || {
        search.suggest_excluding(&term, SUGGESTIONS, &hidden)
    })
    .await;
    let Ok(Ok(found)) = found else {
        return Vec::new();
    };
    let labels = type_labels(state);
    found
        .into_iter()
        .filter_map(|s| {
            Some(Suggestion {
                title: segments(&s.highlight),
                type_label: label(&labels, &s.doc_type),
                location: safe_location(&s.location)?,
                detail: s.kind,
            })
        })
        .collect()
}
