//! Incidents from PagerDuty, searchable in the portal: a search collator
//! (`portal:plugin@1.3.0`) for the document type `incidents`. Reads
//! `GET /incidents` of PagerDuty's REST API v2 (`api_base_url`, by default
//! `https://api.pagerduty.com`) with the `pagerduty-token` secret, page by
//! page (`limit`/`offset`/`more`), the last 90 days, and returns each
//! incident with its service, status and urgency as filterable fields.

use portal_plugin_sdk::{self as sdk, Plugin, PluginError, meta, search_collator};
use serde_json::Value;

struct Incidents;

const DOCUMENT_TYPE: &str = "incidents";
const PAGE: usize = 100;
/// Pages read per collation at most (10,000 incidents).
const MAX_PAGES: usize = 100;

impl Plugin for Incidents {
    fn describe() -> meta::PluginInfo {
        sdk::info(
            "incidents",
            env!("CARGO_PKG_VERSION"),
            "PagerDuty incidents in the portal's search",
        )
        .http_host("api.pagerduty.com")
        .secret("pagerduty-token")
        .config_key("api_base_url")
        .build()
    }

    fn collators() -> Vec<search_collator::CollatorInfo> {
        vec![search_collator::CollatorInfo {
            document_type: DOCUMENT_TYPE.into(),
            title: "Incidents".into(),
            refresh_interval_seconds: 0,
        }]
    }

    fn collate(document_type: String) -> Result<Vec<search_collator::SearchDocument>, PluginError> {
        if document_type != DOCUMENT_TYPE {
            return Err(sdk::error(
                "not-provided",
                format!("this plugin collates `{DOCUMENT_TYPE}`, not `{document_type}`"),
            ));
        }
        let base =
            sdk::config::get("api_base_url").unwrap_or_else(|| "https://api.pagerduty.com".into());
        let token = sdk::config::get_secret("pagerduty-token").map_err(|e| {
            sdk::error(
                "not-configured",
                format!("the `pagerduty-token` secret is not granted or not set: {e:?}"),
            )
        })?;
        let auth = format!("Token token={token}");
        let headers = [
            ("accept", "application/vnd.pagerduty+json;version=2"),
            ("authorization", auth.as_str()),
        ];
        let mut documents = Vec::new();
        for page in 0..MAX_PAGES {
            let url = format!(
                "{}/incidents?limit={PAGE}&offset={}&date_range=all&sort_by=created_at:desc",
                base.trim_end_matches('/'),
                page * PAGE
            );
            let response =
                sdk::http::get(&url, &headers).map_err(|e| sdk::error("upstream-failed", e))?;
            match response.status {
                200 => {}
                401 | 403 => {
                    return Err(sdk::error(
                        "unauthorized",
                        format!(
                            "PagerDuty refused the token ({}): check the `pagerduty-token` secret",
                            response.status
                        ),
                    ));
                }
                status => {
                    return Err(sdk::error(
                        "upstream-failed",
                        format!("PagerDuty answered {status} for {url}"),
                    ));
                }
            }
            let body: Value = serde_json::from_str(&response.body)
                .map_err(|e| sdk::error("upstream-failed", format!("bad JSON from {url}: {e}")))?;
            let incidents = body["incidents"].as_array().cloned().unwrap_or_default();
            documents.extend(incidents.iter().filter_map(document));
            if body["more"] != Value::Bool(true) || incidents.is_empty() {
                break;
            }
        }
        sdk::info!("collated {} incidents", documents.len());
        Ok(documents)
    }
}

/// One incident as a search document; `None` without a title or a link.
fn document(incident: &Value) -> Option<search_collator::SearchDocument> {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let title = text(&incident["title"]);
    let location = text(&incident["html_url"]);
    if title.is_empty() || location.is_empty() {
        return None;
    }
    let number = incident["incident_number"].as_u64().unwrap_or(0);
    let service = text(&incident["service"]["summary"]);
    let status = text(&incident["status"]);
    let urgency = text(&incident["urgency"]);
    let summary = text(&incident["description"]);
    let mut fields = vec![
        ("status".to_owned(), status.clone()),
        ("urgency".to_owned(), urgency.clone()),
        ("service".to_owned(), service.clone()),
        ("created_at".to_owned(), text(&incident["created_at"])),
    ];
    fields.retain(|(_, v)| !v.is_empty());
    Some(search_collator::SearchDocument {
        title: format!("#{number} {title}"),
        text: format!("{summary} Service: {service}. Status: {status}, urgency {urgency}."),
        location,
        fields,
    })
}

sdk::export!(Incidents);
