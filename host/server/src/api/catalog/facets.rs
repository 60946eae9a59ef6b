//! `GET|POST /entity-facets`: `{facets: {<facet>: [{value, count}]}}`.

use super::entities::filter_predicate;
use super::{JsonObject, QueryPairs};
use crate::AppState;
use crate::api::error::ApiError;
use crate::request::RequestContext;
use axum::Json;
use axum::extract::{RawQuery, State};
use portal_catalog_model::Predicate;
use serde_json::{Map, Value, json};

async fn answer(
    state: AppState,
    ctx: RequestContext,
    facets: Vec<String>,
    predicate: Option<Predicate>,
) -> Result<Json<Value>, ApiError> {
    if facets.is_empty() {
        return Err(ApiError::input(
            "Missing facet parameter: name at least one facet",
        ));
    }
    let access = ctx.access();
    let catalog = state.catalog.clone();
    let counts =
        tokio::task::spawn_blocking(move || catalog.facets(&facets, predicate.as_ref(), &access))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut out = Map::new();
    for (facet, values) in counts {
        out.insert(facet, json!(values));
    }
    Ok(Json(json!({ "facets": out })))
}

/// `GET /entity-facets?facet=…&filter=…`.
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = QueryPairs::parse(raw.as_deref());
    let predicate = filter_predicate(&params.all("filter"))?;
    answer(state, ctx, params.all("facet"), predicate).await
}

/// `POST /entity-facets` with `{facets, query?}`.
pub async fn post(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    super::strict(&body, &["facets", "query"])?;
    let facets = match body.get("facets") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::input("facets must be strings"))
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => {
            return Err(ApiError::input(
                "Missing facets: expected an array of field names",
            ));
        }
    };
    let predicate = match body.get("query") {
        None | Some(Value::Null) => None,
        Some(q) => Some(Predicate::parse(q).map_err(|e| ApiError::input(e.to_string()))?),
    };
    answer(state, ctx, facets, predicate).await
}
