//! `/locations`: registered locations.

use super::{JsonObject, QueryPairs, decode_cursor, encode_cursor, strict};
use crate::AppState;
use crate::api::error::ApiError;
use crate::request::RequestContext;
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portal_auth::permission;
use portal_catalog::LocationInfo;
use portal_catalog_model::{FlatEntity, Predicate};
use serde_json::{Value, json};

fn type_and_target(body: &serde_json::Map<String, Value>) -> Result<(String, String), ApiError> {
    let type_ = body.get("type").and_then(Value::as_str).ok_or_else(|| {
        ApiError::input(
            "Missing location type: expected {\"type\": \"url\" | \"file\", \"target\": \"…\"}",
        )
    })?;
    let target = body.get("target").and_then(Value::as_str).ok_or_else(|| {
        ApiError::input("Missing location target: expected {\"type\", \"target\"}")
    })?;
    Ok((type_.to_owned(), target.to_owned()))
}

/// `POST /locations?dryRun=&onConflict=`.
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    strict(&body, &["type", "target", "presence"])?;
    let (type_, target) = type_and_target(&body)?;
    let params = QueryPairs::parse(raw.as_deref());
    let dry_run = params
        .one("dryRun")
        .is_some_and(|v| v == "true" || v == "1");
    let resource = format!("{type_}:{target}");
    if dry_run {
        ctx.authorize(&permission::CATALOG_LOCATION_ANALYZE, &resource)?;
    } else {
        ctx.authorize(&permission::CATALOG_LOCATION_CREATE, &resource)?;
    }
    let refresh = match params.one("onConflict").as_deref() {
        None | Some("reject") => false,
        Some("refresh") => true,
        Some(other) => {
            return Err(ApiError::input(format!(
                "Invalid onConflict \"{other}\": expected refresh or reject"
            )));
        }
    };
    let added = state
        .catalog
        .add_location(&type_, &target, dry_run, refresh)
        .await
        .map_err(ApiError::from);
    let added = if dry_run {
        added?
    } else {
        ctx.audited("catalog.location.create", &resource, added)?
    };
    let mut body = json!({
        "location": added.location,
        "entities": added.entities,
    });
    if dry_run || added.exists {
        body["exists"] = json!(added.exists);
    }
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /locations`: `[{data: Location}]`.
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::CATALOG_LOCATION_READ, "")?;
    let items: Vec<Value> = state
        .catalog
        .locations()
        .into_iter()
        .map(|l| json!({ "data": l }))
        .collect();
    Ok(Json(Value::Array(items)))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Found no location with ID {id}"))
}

/// `GET /locations/:id`.
pub async fn get(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<LocationInfo>, ApiError> {
    ctx.authorize(&permission::CATALOG_LOCATION_READ, &id)?;
    state
        .catalog
        .location(&id)
        .map(Json)
        .ok_or_else(|| not_found(&id))
}

/// `PUT /locations/:id` with `{type, target}`.
pub async fn update(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<LocationInfo>, ApiError> {
    strict(&body, &["type", "target"])?;
    ctx.authorize(&permission::CATALOG_LOCATION_CREATE, &id)?;
    if state.catalog.config().readonly {
        return Err(ApiError::not_allowed(
            "This catalog is read-only (catalog.readonly)",
        ));
    }
    let (type_, target) = type_and_target(&body)?;
    let updated = state
        .catalog
        .update_location(&id, &type_, &target)
        .await
        .map_err(ApiError::from);
    Ok(Json(ctx.audited(
        "catalog.location.update",
        &format!("{id} -> {type_}:{target}"),
        updated,
    )?))
}

/// `DELETE /locations/:id`.
pub async fn delete(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    ctx.authorize(&permission::CATALOG_LOCATION_DELETE, &id)?;
    let catalog = state.catalog.clone();
    let id2 = id.clone();
    let removed = tokio::task::spawn_blocking(move || catalog.remove_location(&id2))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))
        .and_then(|r| r.map_err(ApiError::from));
    ctx.audited("catalog.location.delete", &id, removed)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /locations/by-entity/:kind/:namespace/:name`.
pub async fn by_entity(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Json<LocationInfo>, ApiError> {
    Ok(Json(state.catalog.location_by_entity(
        &kind,
        &namespace,
        &name,
        &ctx.access(),
    )?))
}

/// `POST /locations/by-query` with `{query?, cursor?, limit?}`.
pub async fn by_query(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    strict(&body, &["query", "cursor", "limit"])?;
    ctx.authorize(&permission::CATALOG_LOCATION_READ, "")?;
    let (query, offset, limit) = match body.get("cursor").and_then(Value::as_str) {
        Some(c) => {
            let c = decode_cursor(c)?;
            (
                c.get("query").cloned(),
                c["offset"].as_u64().unwrap_or(0) as usize,
                c["limit"].as_u64().unwrap_or(1000) as usize,
            )
        }
        None => (
            body.get("query").cloned(),
            0,
            match body.get("limit") {
                None | Some(Value::Null) => 1000,
                Some(v) => v
                    .as_u64()
                    .ok_or_else(|| ApiError::input("limit must be a non-negative integer"))?
                    as usize,
            },
        ),
    };
    let predicate = match &query {
        None | Some(Value::Null) => None,
        Some(q) => Some(Predicate::parse(q).map_err(|e| ApiError::input(e.to_string()))?),
    };
    let matching: Vec<LocationInfo> = state
        .catalog
        .locations()
        .into_iter()
        .filter(|l| {
            predicate.as_ref().is_none_or(|p| {
                p.matches(&FlatEntity::from_value(
                    &serde_json::to_value(l).expect("JSON"),
                ))
            })
        })
        .collect();
    let total = matching.len();
    let items: Vec<&LocationInfo> = matching.iter().skip(offset).take(limit).collect();
    let mut page_info = serde_json::Map::new();
    if offset + items.len() < total {
        let mut c = json!({"offset": offset + items.len(), "limit": limit});
        if let Some(q) = &query {
            c["query"] = q.clone();
        }
        page_info.insert("nextCursor".into(), encode_cursor(&c).into());
    }
    Ok(Json(json!({
        "items": items,
        "totalItems": total,
        "pageInfo": page_info,
    })))
}
