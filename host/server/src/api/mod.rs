//! The HTTP routes. Each area has its own module; this one assembles them and
//! adds the layers every request goes through.

pub mod catalog;
pub mod error;
pub mod plugins;

use crate::AppState;
use axum::Router;
use axum::routing::get;
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthcheck", get(healthcheck))
        .nest("/api/plugins", plugins::router())
        .nest("/api/catalog", catalog::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(error::describe_request))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Backstage's health endpoint shape.
async fn healthcheck() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
