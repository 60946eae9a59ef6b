//! `/api/audit`: the audit log, newest first, with filters; and its export
//! as JSON lines. Both need `audit.read`.

use super::error::ApiError;
use crate::AppState;
use crate::request::RequestContext;
use axum::Json;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use portal_auth::permission;
use portal_auth::{AuditEvent, AuditFilter, Outcome};
use serde::Deserialize;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list))
        .route("/export", get(export))
}

#[derive(Deserialize)]
struct FilterQuery {
    actor: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    before: Option<u64>,
    limit: Option<usize>,
}

/// At most this many entries per page.
const MAX_PAGE: usize = 1000;

impl FilterQuery {
    fn filter(self) -> Result<AuditFilter, ApiError> {
        let outcome = match self.outcome.as_deref().filter(|o| !o.is_empty()) {
            None => None,
            Some(name) => Some(Outcome::parse(name).ok_or_else(|| {
                ApiError::input(format!(
                    "unknown outcome `{name}`: expected succeeded, failed or denied"
                ))
            })?),
        };
        let limit = self.limit.unwrap_or(100);
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(ApiError::input(format!(
                "limit must be from 1 to {MAX_PAGE}"
            )));
        }
        Ok(AuditFilter {
            actor: self.actor.filter(|a| !a.is_empty()),
            action: self.action.filter(|a| !a.is_empty()),
            outcome,
            before: self.before,
            limit,
        })
    }
}

async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(query): Query<FilterQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    ctx.authorize(&permission::AUDIT_READ, "")?;
    let filter = query.filter()?;
    let auth = state.auth.clone();
    let events: Vec<AuditEvent> = tokio::task::spawn_blocking(move || auth.audit().read(&filter))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let before = events.last().map(|e| e.seq);
    Ok(Json(json!({ "items": events, "nextBefore": before })))
}

async fn export(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(query): Query<FilterQuery>,
) -> Result<Response, ApiError> {
    ctx.authorize(&permission::AUDIT_READ, "")?;
    let filter = query.filter()?;
    let auth = state.auth.clone();
    let body = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        auth.audit()
            .export_json_lines(&filter, &mut out)
            .map(|_| out)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?
    .map_err(|e| ApiError::internal(format!("cannot export the audit log: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"portal-audit.jsonl\"",
            ),
        ],
        body,
    )
        .into_response())
}
