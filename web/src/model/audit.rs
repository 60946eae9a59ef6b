//! The audit log page (`/audit`): who did what, when, from where, and how it
//! ended; filtered by actor, action and outcome, newest first.

use super::url::encode_component;
use serde::{Deserialize, Serialize};

/// The page's filters, from its query string.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditRequest {
    pub actor: String,
    /// An action, or the start of one (`catalog.`).
    pub action: String,
    /// `succeeded`, `failed`, `denied`, or empty for all.
    pub outcome: String,
    /// Entries before this sequence number (the next page).
    pub before: Option<u64>,
}

impl AuditRequest {
    pub fn from_query(pairs: &[(String, String)]) -> AuditRequest {
        let mut request = AuditRequest::default();
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "actor" => request.actor = value.to_owned(),
                "action" => request.action = value.to_owned(),
                "outcome" if matches!(value, "succeeded" | "failed" | "denied") => {
                    request.outcome = value.to_owned()
                }
                "before" => request.before = value.parse().ok(),
                _ => {}
            }
        }
        request
    }

    /// This page's filters, for entries before `seq`.
    pub fn href_before(&self, seq: u64) -> String {
        format!(
            "/audit?actor={}&action={}&outcome={}&before={seq}",
            encode_component(&self.actor),
            encode_component(&self.action),
            encode_component(&self.outcome)
        )
    }

    /// The export of what these filters select (JSON lines).
    pub fn export_href(&self) -> String {
        format!(
            "/api/audit/export?actor={}&action={}&outcome={}",
            encode_component(&self.actor),
            encode_component(&self.action),
            encode_component(&self.outcome)
        )
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub seq: u64,
    pub time: String,
    pub actor: String,
    pub action: String,
    pub resource: String,
    /// `succeeded`, `failed` or `denied`.
    pub outcome: String,
    pub source: String,
    pub detail: String,
}

/// A page of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditView {
    /// The viewer may read the audit log (`audit.read`); else nothing else
    /// is filled in.
    pub allowed: bool,
    pub rows: Vec<AuditRow>,
    /// The next page's `before`, when there may be one.
    pub next_before: Option<u64>,
}
