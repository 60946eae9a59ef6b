//! Backstage's search API: `GET /api/search/query` (`term`, `types[]`,
//! `filters[<name>]`, `pageCursor`, `pageLimit`), and Portal's
//! `GET /api/search/suggest?term=&limit=` for the search box and
//! `GET /api/search/status`. While the index is first built, answers have
//! `ready: false` and hold what is indexed so far.

use super::error::ApiError;
use crate::AppState;
use crate::request::RequestContext;
use axum::extract::{RawQuery, State};
use axum::routing::get;
use axum::{Json, Router};
use portal_search::{SearchError, SearchQuery, SearchResults, SearchStatus, Suggestion};
use std::collections::BTreeMap;
use tracing::Instrument;

/// Query-string pairs read at most (each filter value is one).
const MAX_PARAMS: usize = 200;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/query", get(query))
        .route("/suggest", get(suggest))
        .route("/status", get(status))
}

fn api_error(e: SearchError) -> ApiError {
    if e.is_input() {
        ApiError::input(e.to_string())
    } else {
        ApiError::internal(e.to_string())
    }
}

fn pairs(raw: Option<&str>) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        if out.len() == MAX_PARAMS {
            return Err(ApiError::input(format!(
                "too many query parameters; at most {MAX_PARAMS} are read"
            )));
        }
        out.push((k.into_owned(), v.into_owned()));
    }
    Ok(out)
}

/// `name`, `name[]`, `name[0]`: one parameter, as Backstage's clients write it.
fn base_name(key: &str) -> &str {
    match key.find('[') {
        Some(i)
            if key.ends_with(']')
                && key[i + 1..key.len() - 1]
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
        {
            &key[..i]
        }
        _ => key,
    }
}

/// Reads Backstage's query string: `filters[kind]=x`, `filters[kind][]=x`
/// and `filters[kind][0]=x` are the same filter.
pub fn parse_query(raw: Option<&str>) -> Result<SearchQuery, ApiError> {
    let mut q = SearchQuery::default();
    let mut filters: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, value) in pairs(raw)? {
        if let Some(rest) = key.strip_prefix("filters[") {
            let Some(end) = rest.find(']') else {
                return Err(ApiError::input(format!("invalid filter parameter `{key}`")));
            };
            let tail = &rest[end + 1..];
            if !(tail.is_empty() || base_name(&format!("x{tail}")) == "x") {
                return Err(ApiError::input(format!("invalid filter parameter `{key}`")));
            }
            filters
                .entry(rest[..end].to_owned())
                .or_default()
                .push(value);
            continue;
        }
        match base_name(&key) {
            "term" => q.term = value,
            "types" => q.types.push(value),
            "pageCursor" => q.page_cursor = Some(value).filter(|v| !v.is_empty()),
            "pageLimit" => {
                q.page_limit = Some(value.trim().parse().map_err(|_| {
                    ApiError::input(format!(
                        "Invalid pageLimit \"{}\": expected a number from 1 to {}",
                        value.chars().take(20).collect::<String>(),
                        portal_search::MAX_PAGE_LIMIT
                    ))
                })?)
            }
            _ => {}
        }
    }
    q.filters = filters;
    Ok(q)
}

async fn query(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResults>, ApiError> {
    let mut q = parse_query(raw.as_deref())?;
    q.hidden_entities = crate::search_wiring::hidden_entities(&state, &ctx);
    let span = tracing::info_span!(
        "search_query",
        term_chars = q.term.chars().count(),
        types = q.types.len(),
        filters = q.filters.len(),
        results = tracing::field::Empty,
    );
    let search = state.search.clone();
    let answer = crate::search_wiring::run_search(move || search.query(&q))
        .instrument(span.clone())
        .await
        .map_err(|e| ApiError::internal(format!("search failed: {e}")))?
        .map_err(api_error)?;
    span.record("results", answer.number_of_results);
    Ok(Json(answer))
}

#[derive(serde::Serialize)]
struct Suggestions {
    results: Vec<Suggestion>,
    ready: bool,
}

async fn suggest(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Json<Suggestions>, ApiError> {
    let mut term = String::new();
    let mut limit = 8;
    for (key, value) in pairs(raw.as_deref())? {
        match key.as_str() {
            "term" | "q" => term = value,
            "limit" => {
                limit = value
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::input("limit must be a number from 1 to 20"))?
            }
            _ => {}
        }
    }
    let span = tracing::info_span!("search_suggest", term_chars = term.chars().count());
    let search = state.search.clone();
    let hidden = crate::search_wiring::hidden_entities(&state, &ctx);
    let results =
        crate::search_wiring::run_search(move || search.suggest_excluding(&term, limit, &hidden))
            .instrument(span)
            .await
            .map_err(|e| ApiError::internal(format!("search failed: {e}")))?
            .map_err(api_error)?;
    Ok(Json(Suggestions {
        results,
        ready: state.search.is_ready(),
    }))
}

async fn status(State(state): State<AppState>) -> Json<SearchStatus> {
    Json(state.search.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backstage_query_strings() {
        let q = parse_query(Some(
            "term=pay%20api&types%5B0%5D=software-catalog&types[]=techdocs&filters%5Bkind%5D=Component&filters[owner][]=a&filters[owner][1]=b&pageLimit=10&pageCursor=abc",
        ))
        .unwrap();
        assert_eq!(q.term, "pay api");
        assert_eq!(q.types, ["software-catalog", "techdocs"]);
        assert_eq!(q.filters["kind"], ["Component"]);
        assert_eq!(q.filters["owner"], ["a", "b"]);
        assert_eq!(q.page_limit, Some(10));
        assert_eq!(q.page_cursor.as_deref(), Some("abc"));
        assert!(parse_query(Some("pageLimit=x")).is_err());
        assert!(parse_query(Some("filters[kind")).is_err());
        assert!(parse_query(Some(&"a=1&".repeat(300))).is_err());
    }
}
