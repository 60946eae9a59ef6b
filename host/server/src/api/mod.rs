//! The HTTP routes. Each area has its own module; this one assembles them and
//! adds the layers every request goes through.

pub mod audit;
pub mod catalog;
pub mod error;
pub mod plugins;
pub mod scaffolder;
pub mod search;
pub mod sign_in;
pub mod techdocs;

use crate::AppState;
use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use portal_web::ssr::Ui;
use tower_http::trace::TraceLayer;

/// The REST APIs under `/api` and the web UI (`ui`) at `/`.
pub fn router(state: AppState, ui: Ui<AppState>) -> Router {
    let not_found = ui.not_found.clone();
    Router::new()
        .route("/healthcheck", get(healthcheck))
        .route("/me", get(me))
        .route("/sign-in", get(sign_in::page))
        .nest("/api/auth", sign_in::router())
        .nest("/api/plugins", plugins::router())
        .nest("/api/catalog", catalog::router())
        .nest("/api/scaffolder", scaffolder::router())
        .nest("/api/techdocs", techdocs::router())
        .nest("/api/search", search::router())
        .nest("/api/audit", audit::router())
        .merge(ui.router)
        // Unknown API paths get Backstage's JSON error; any other unknown
        // path is a page, and gets the UI's "not found" page.
        .fallback(move |request: Request| {
            let not_found = not_found.clone();
            async move {
                let path = request.uri().path();
                if path == "/api" || path.starts_with("/api/") {
                    error::not_found(request.uri().clone())
                        .await
                        .into_response()
                } else {
                    let response: Response = not_found(request).await;
                    response
                }
            }
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::request::identify,
        ))
        .layer(axum::middleware::from_fn(error::describe_request))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

/// The span every request runs in. Sign-in URLs carry an authorization
/// code and state in their query: for them only the path is recorded, so
/// no log level ever writes a code.
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let path = request.uri().path();
    let uri: &str = if path.starts_with("/api/auth/") {
        path
    } else {
        request.uri().path_and_query().map_or(path, |p| p.as_str())
    };
    tracing::debug_span!("request", method = %request.method(), uri = %uri)
}

/// Text made safe inside HTML (elements and quoted attributes), for the
/// few pages the server writes itself (sign-in, TechDocs' frame).
pub(crate) fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Backstage's health endpoint shape.
async fn healthcheck() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// `/me`: the asker's own page (their User entity: groups, what they own).
async fn me(ctx: crate::request::RequestContext) -> axum::response::Redirect {
    let page = ctx.principal.identity().and_then(|identity| {
        let (kind, rest) = identity.user_ref.split_once(':')?;
        let (namespace, name) = rest.split_once('/')?;
        Some(format!("/catalog/{namespace}/{kind}/{name}"))
    });
    axum::response::Redirect::temporary(page.as_deref().unwrap_or("/catalog"))
}
