//! `POST /refresh`, `POST /analyze-location`, `POST /validate-entity`, and
//! Portal's `GET /sources` (every source with its errors and last
//! confirmation, for status pages).

use super::{JsonObject, strict};
use crate::AppState;
use crate::api::error::ApiError;
use crate::request::RequestContext;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portal_auth::permission;
use portal_catalog_model::parse_location_ref;
use serde_json::{Value, json};

/// `POST /refresh` with `{entityRef}`: re-reads the entity's source now.
pub async fn refresh(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonObject(body): JsonObject,
) -> Result<StatusCode, ApiError> {
    strict(&body, &["entityRef", "authorizationToken"])?;
    let entity_ref = body
        .get("entityRef")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::input("Missing entityRef"))?;
    // An entity the caller cannot see is refreshed as one that does not
    // exist: the answer must not confirm it is there.
    let access = ctx.access();
    match state.catalog.get_by_ref(entity_ref, &access) {
        Ok(Some(doc)) => ctx.authorize_entity(&permission::CATALOG_ENTITY_REFRESH, &doc)?,
        // The catalog's own answer for a missing entity, word for word.
        Ok(None) if !access.is_all() => {
            let canonical = portal_catalog_model::parse_entity_ref(
                entity_ref,
                portal_catalog_model::RefDefaults::default(),
            )
            .map(|r| r.canonical())
            .unwrap_or_else(|_| entity_ref.to_owned());
            return Err(ApiError::not_found(format!("Entity {canonical} not found")));
        }
        Ok(None) | Err(_) => {}
    }
    let refresh = state.catalog.refresh(entity_ref);
    let result = match tokio::time::timeout(std::time::Duration::from_secs(30), refresh).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(_) => {
            tracing::warn!("refresh of {entity_ref} still running after 30 s");
            Ok(())
        }
    };
    ctx.audited("catalog.entity.refresh", entity_ref, result)?;
    Ok(StatusCode::OK)
}

/// `POST /validate-entity` with `{entity, location: "url:…"}`: 200 or
/// 400 `{errors: [serializedError]}`.
pub async fn validate_entity(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonObject(body): JsonObject,
) -> Response {
    if let Err(e) = ctx.authorize(&permission::CATALOG_ENTITY_VALIDATE, "") {
        return e.into_response();
    }
    let bad = |name: &str, message: String| {
        (
            StatusCode::BAD_REQUEST,
            Json(json!({"errors": [{"name": name, "message": message}]})),
        )
            .into_response()
    };
    let Some(location) = body.get("location").and_then(Value::as_str) else {
        return bad(
            "InputError",
            "Missing location: expected a location ref like url:https://host/path".into(),
        );
    };
    let Some(entity) = body.get("entity") else {
        return bad("InputError", "Missing entity".into());
    };
    match parse_location_ref(location) {
        Ok(r) if r.type_ == "url" => {}
        Ok(_) | Err(_) => {
            return bad(
                "TypeError",
                format!(
                    "Invalid location ref {location}, only 'url:<target>' is supported, e.g. url:https://host/path"
                ),
            );
        }
    }
    match state.catalog.validate_entity(entity.clone(), location) {
        Ok(()) => StatusCode::OK.into_response(),
        Err(errors) => (StatusCode::BAD_REQUEST, Json(json!({ "errors": errors }))).into_response(),
    }
}

/// `POST /analyze-location` with `{location: {type, target}, catalogFilename?}`.
pub async fn analyze_location(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::CATALOG_LOCATION_ANALYZE, "")?;
    strict(&body, &["location", "catalogFilename", "catalogFileName"])?;
    let location = body
        .get("location")
        .ok_or_else(|| ApiError::input("Missing location: expected {type, target}"))?;
    let type_ = location["type"].as_str().unwrap_or("url").to_owned();
    let target = location["target"]
        .as_str()
        .ok_or_else(|| ApiError::input("Missing location.target"))?
        .to_owned();
    let filename = body
        .get("catalogFilename")
        .or_else(|| body.get("catalogFileName"))
        .and_then(Value::as_str)
        .unwrap_or("catalog-info.yaml")
        .to_owned();
    let file_target = if target.ends_with(".yaml") || target.ends_with(".yml") {
        target.clone()
    } else if type_ == "file" {
        std::path::Path::new(&target)
            .join(&filename)
            .display()
            .to_string()
    } else {
        format!("{}/{filename}", target.trim_end_matches('/'))
    };
    if type_ != "url" && type_ != "file" {
        return Err(ApiError::input(format!(
            "Unsupported location type '{type_}'"
        )));
    }
    let catalog = state.catalog.clone();
    let registered: Vec<(String, String)> = catalog
        .locations()
        .into_iter()
        .map(|l| (l.type_, l.target))
        .collect();
    let (t2, f2) = (type_.clone(), file_target.clone());
    let read = tokio::task::spawn_blocking(move || catalog.read_entities(&t2, &f2))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    match read {
        Some(entities) => {
            let is_registered = registered
                .iter()
                .any(|(t, x)| *t == type_ && (*x == file_target || *x == target));
            let existing: Vec<Value> = entities
                .into_iter()
                .map(|entity| {
                    json!({
                        "entity": entity,
                        "isRegistered": is_registered,
                        "location": {"type": type_, "target": file_target},
                    })
                })
                .collect();
            Ok(Json(
                json!({"existingEntityFiles": existing, "generateEntities": []}),
            ))
        }
        None => {
            let name = target
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or("component")
                .trim_end_matches(".git")
                .to_owned();
            Ok(Json(json!({
                "existingEntityFiles": [],
                "generateEntities": [{
                    "entity": {
                        "apiVersion": "backstage.io/v1alpha1",
                        "kind": "Component",
                        "metadata": {"name": name},
                        "spec": {"type": "other", "lifecycle": "unknown"}
                    },
                    "fields": [{
                        "field": "spec.owner",
                        "state": "needsUserInput",
                        "description": "Entity owner is recommended",
                        "value": null
                    }]
                }]
            })))
        }
    }
}

/// `GET /sources`: Portal's view of every source (not in Backstage).
pub async fn sources(State(state): State<AppState>, ctx: RequestContext) -> Json<Value> {
    Json(json!({
        "stats": state.catalog.stats(),
        "items": state.catalog.sources(&ctx.access()),
    }))
}
