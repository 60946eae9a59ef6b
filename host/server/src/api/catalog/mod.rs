//! `/api/catalog`: Backstage's catalog REST API, wire-compatible with
//! `@backstage/catalog-client` (same paths, parameters, bodies, cursors,
//! error bodies and status codes).
//!
//! Every read takes its `Access` from the `RequestContext`
//! (`RequestContext::access`, in `request.rs`), so permissions plug in there.

mod entities;
mod facets;
mod locations;
mod misc;
mod query;

use super::error::ApiError;
use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portal_catalog::CatalogError;
use serde_json::{Map, Value};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/entities", get(entities::list))
        .route(
            "/entities/by-uid/{uid}",
            get(entities::by_uid).delete(entities::delete_by_uid),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}",
            get(entities::by_name),
        )
        .route(
            "/entities/by-name/{kind}/{namespace}/{name}/ancestry",
            get(entities::ancestry),
        )
        .route("/entities/by-refs", post(entities::by_refs))
        .route(
            "/entities/by-query",
            get(query::by_query_get).post(query::by_query_post),
        )
        .route("/entity-facets", get(facets::get).post(facets::post))
        .route("/locations", get(locations::list).post(locations::create))
        .route("/locations/by-query", post(locations::by_query))
        .route(
            "/locations/by-entity/{kind}/{namespace}/{name}",
            get(locations::by_entity),
        )
        .route(
            "/locations/{id}",
            get(locations::get)
                .put(locations::update)
                .delete(locations::delete),
        )
        .route("/refresh", post(misc::refresh))
        .route("/analyze-location", post(misc::analyze_location))
        .route("/validate-entity", post(misc::validate_entity))
        .route("/sources", get(misc::sources))
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> ApiError {
        let status = match &e {
            CatalogError::Input(_) => StatusCode::BAD_REQUEST,
            CatalogError::NotFound(_) => StatusCode::NOT_FOUND,
            CatalogError::Conflict(_) => StatusCode::CONFLICT,
            CatalogError::NotAllowed(_) => StatusCode::FORBIDDEN,
            CatalogError::Store(_) | CatalogError::Config(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(e.name(), status, e.to_string())
    }
}

/// The query string as ordered pairs (repeated keys kept).
pub struct QueryPairs(pub Vec<(String, String)>);

impl QueryPairs {
    pub fn parse(raw: Option<&str>) -> QueryPairs {
        QueryPairs(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key || k.strip_suffix("[]") == Some(key))
            .map(|(_, v)| v.clone())
            .collect()
    }

    pub fn one(&self, key: &str) -> Option<String> {
        self.all(key).into_iter().next()
    }

    /// A non-negative integer parameter.
    pub fn number(&self, key: &str) -> Result<Option<usize>, ApiError> {
        match self.one(key) {
            None => Ok(None),
            Some(v) => v.trim().parse::<usize>().map(Some).map_err(|_| {
                ApiError::input(format!(
                    "Invalid {key} query parameter \"{v}\": expected a non-negative integer"
                ))
            }),
        }
    }
}

/// A JSON object request body. Like Backstage, the content type must be
/// `application/json` and the body an object; anything else is a 400.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                let v = v.to_ascii_lowercase();
                v.starts_with("application/json") || v.contains("+json")
            })
            .unwrap_or(false);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::input(format!("Could not read the request body: {e}")))?;
        if !json_type {
            return Err(ApiError::input(
                "Content-Type must be application/json and the body a JSON object",
            ));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::input("Missing request body"));
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::input(
                "Expected the request body to be a JSON object",
            )),
            Err(e) => Err(ApiError::input(format!("Malformed JSON body: {e}"))),
        }
    }
}

/// A JSON response from prebuilt bytes.
pub fn json_bytes(status: StatusCode, body: impl Into<axum::body::Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

/// Rejects keys a strict body schema does not know.
pub fn strict(body: &Map<String, Value>, allowed: &[&str]) -> Result<(), ApiError> {
    for key in body.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(ApiError::input(format!(
                "Unknown field \"{key}\" in request body; expected {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

/// Base64 (standard alphabet) of JSON.
pub fn encode_cursor(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value.to_string())
}

/// Decodes a base64-JSON cursor.
pub fn decode_cursor(cursor: &str) -> Result<Value, ApiError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(cursor.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor.trim()))
        .map_err(|_| ApiError::input("Malformed cursor: not base64"))?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::input(format!("Malformed cursor: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::input("Malformed cursor: not an object"));
    }
    Ok(value)
}
