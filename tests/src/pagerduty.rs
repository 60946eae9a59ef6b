//! A PagerDuty stand-in on 127.0.0.1: `GET /incidents` of the REST API v2,
//! with its request and response shapes (`Authorization: Token token=…`,
//! `limit`/`offset` paging with `more`, incidents with `incident_number`,
//! `title`, `description`, `status`, `urgency`, `html_url`, `service`,
//! `created_at`). The incidents can be changed while it runs.

use crate::stand_in::StandIn;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One incident as the stand-in serves it.
#[derive(Clone, Debug)]
pub struct Incident {
    pub number: u64,
    pub title: String,
    pub description: String,
    pub service: String,
    pub status: String,
    pub urgency: String,
}

pub struct PagerDutyStandIn {
    pub server: StandIn,
    incidents: Arc<Mutex<Vec<Incident>>>,
}

#[derive(Clone)]
struct Shared {
    token: String,
    incidents: Arc<Mutex<Vec<Incident>>>,
}

impl PagerDutyStandIn {
    /// Serves `incidents` to requests carrying `token`.
    pub fn start(token: &str, incidents: Vec<Incident>) -> PagerDutyStandIn {
        let incidents = Arc::new(Mutex::new(incidents));
        let shared = Shared {
            token: token.to_owned(),
            incidents: incidents.clone(),
        };
        let server = StandIn::serve(move |_| {
            Router::new()
                .route("/incidents", get(list))
                .with_state(shared)
        });
        PagerDutyStandIn { server, incidents }
    }

    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Replaces the incidents served.
    pub fn set_incidents(&self, incidents: Vec<Incident>) {
        *self.incidents.lock().unwrap() = incidents;
    }
}

async fn list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Token token="))
        .is_some_and(|t| t == shared.token);
    if !authorized {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"error": {"message": "Unauthorized", "code": 2006}})),
        )
            .into_response();
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let offset: usize = query
        .get("offset")
        .and_then(|o| o.parse().ok())
        .unwrap_or(0);
    let all = shared.incidents.lock().unwrap().clone();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit)
        .map(|i| {
            json!({
                "id": format!("P{:06}", i.number),
                "type": "incident",
                "incident_number": i.number,
                "title": i.title,
                "description": i.description,
                "status": i.status,
                "urgency": i.urgency,
                "created_at": "2026-12-01T10:00:00Z",
                "html_url": format!("https://acme.pagerduty.com/incidents/P{:06}", i.number),
                "service": {
                    "id": "PSVC01",
                    "type": "service_reference",
                    "summary": i.service,
                },
            })
        })
        .collect();
    axum::Json(json!({
        "incidents": page,
        "limit": limit,
        "offset": offset,
        "total": null,
        "more": offset + limit < all.len(),
    }))
    .into_response()
}
