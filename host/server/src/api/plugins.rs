//! `/api/plugins`: what is installed and in what state, which panels apply to an
//! entity, rendering a panel, and a live stream of changes.

use super::error::ApiError;
use crate::AppState;
use crate::request::RequestContext;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::Stream;
use portal_auth::permission;
use portal_plugin_host::CallError;
use serde::Deserialize;
use serde_json::{Value, json};
use std::convert::Infallible;
use tokio_stream::StreamExt;
use tokio_stream::wrappers::BroadcastStream;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/events", get(events))
        .route("/panels", post(panels_for_entity))
        .route("/{plugin}", get(one))
        .route("/{plugin}/panels/{panel}/render", post(render))
        .route("/{plugin}/providers/{provider}/discover", post(discover))
}

async fn list(State(state): State<AppState>, ctx: RequestContext) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::PLUGIN_READ, "")?;
    Ok(Json(json!({
        "items": state.plugins.statuses(),
        "supportedWitVersions": portal_plugin_host::wit::SUPPORTED,
        "pluginsDir": crate::web::shown_plugins_dir(&state),
    })))
}

async fn one(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(plugin): Path<String>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::PLUGIN_READ, &plugin)?;
    let status = state
        .plugins
        .status(&plugin)
        .or_else(|| {
            state
                .plugins
                .statuses()
                .into_iter()
                .find(|s| s.file == plugin)
        })
        .ok_or_else(|| ApiError::not_found(format!("No plugin named '{plugin}'")))?;
    Ok(Json(
        serde_json::to_value(status).expect("status serialises"),
    ))
}

#[derive(Deserialize)]
struct EntityBody {
    entity: Value,
}

/// The panels that apply to the entity in the body.
async fn panels_for_entity(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<EntityBody>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::PLUGIN_PANEL_VIEW, "")?;
    Ok(Json(
        json!({ "items": state.plugins.panels_for(&body.entity) }),
    ))
}

/// Renders a panel for the entity in the body: `{"entity": {...}}`.
async fn render(
    State(state): State<AppState>,
    Path((plugin, panel)): Path<(String, String)>,
    ctx: RequestContext,
    Json(body): Json<EntityBody>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::PLUGIN_PANEL_VIEW, &format!("{plugin}/{panel}"))?;
    let view = state
        .plugins
        .render_panel(
            &plugin,
            &panel,
            &body.entity.to_string(),
            Some(crate::catalog_wiring::CatalogService::for_viewer(
                state.catalog.clone(),
                &ctx,
            )),
        )
        .await
        .map_err(call_error)?;
    Ok(Json(json!({ "view": view })))
}

/// Runs one discovery pass of a provider and returns what it found (nothing is
/// stored: the catalog schedules real runs).
async fn discover(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((plugin, provider)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(
        &permission::PLUGIN_PROVIDER_RUN,
        &format!("{plugin}/{provider}"),
    )?;
    let entities = state
        .plugins
        .discover(&plugin, &provider)
        .await
        .map_err(call_error)?;
    Ok(Json(json!({ "items": entities })))
}

/// Server-sent events: one `plugin` event per change to the set of plugins.
async fn events(
    State(state): State<AppState>,
    ctx: RequestContext,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    ctx.authorize(&permission::PLUGIN_READ, "")?;
    let stream = BroadcastStream::new(state.plugins.subscribe()).filter_map(|event| {
        event.ok().map(|e| {
            Ok(Event::default()
                .event("plugin")
                .json_data(e)
                .expect("event serialises"))
        })
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

/// Plugin failures map to gateway errors: the portal is fine, the plugin is not.
pub fn call_error(e: CallError) -> ApiError {
    let status = match &e {
        CallError::NoSuchPlugin(_) | CallError::NoSuchExtension { .. } => {
            return ApiError::not_found(e.to_string());
        }
        CallError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        CallError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_GATEWAY,
    };
    ApiError::new("PluginError", status, e.to_string())
}
