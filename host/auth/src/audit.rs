//! The audit log: every mutation and every denied action, append-only.
//!
//! Kept in its own sled database (`<data>/audit`), keyed by a big-endian
//! sequence number so that reading in key order is reading in time order.
//! Nothing in the portal deletes from it.

use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("cannot open the audit log at {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error("the audit log failed: {0}")]
    Store(#[from] sled::Error),
}

/// What happened to an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Allowed and done.
    Succeeded,
    /// Allowed, then failed (bad input, a conflict...).
    Failed,
    /// Refused by the policy, or no valid credentials.
    Denied,
}

impl Outcome {
    /// The name the API, the audit page and the export use.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
        }
    }

    /// An outcome by that name.
    pub fn parse(name: &str) -> Option<Outcome> {
        [Outcome::Succeeded, Outcome::Failed, Outcome::Denied]
            .into_iter()
            .find(|o| o.as_str() == name)
    }
}

/// One entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Position in the log (set when appended).
    #[serde(default)]
    pub seq: u64,
    /// RFC 3339, UTC (set when appended).
    #[serde(default)]
    pub time: String,
    /// Who (`user:default/jane`, `service:ci`, `user:default/guest (guest)`).
    pub actor: String,
    /// The permission or operation (`catalog.entity.delete`).
    pub action: String,
    /// What it was done to (an entity ref, a location, a task id).
    #[serde(default)]
    pub resource: String,
    pub outcome: Outcome,
    /// Where the request came from (the peer address).
    #[serde(default)]
    pub source: String,
    /// Why it failed or was denied, when known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AuditEvent {
    /// An entry to append (its `seq` and `time` are set by the log).
    pub fn new(
        actor: String,
        action: &str,
        resource: &str,
        outcome: Outcome,
        source: &str,
        detail: &str,
    ) -> AuditEvent {
        AuditEvent {
            seq: 0,
            time: String::new(),
            actor,
            action: action.to_owned(),
            resource: resource.to_owned(),
            outcome,
            source: source.to_owned(),
            detail: detail.to_owned(),
        }
    }
}

/// Which entries to read, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    /// Entries older than this sequence number (paging backwards).
    pub before: Option<u64>,
    pub limit: usize,
}

impl AuditFilter {
    fn keeps(&self, e: &AuditEvent) -> bool {
        self.actor
            .as_ref()
            .is_none_or(|a| e.actor.contains(a.as_str()))
            && self
                .action
                .as_ref()
                .is_none_or(|a| e.action.starts_with(a.as_str()))
            && self.outcome.is_none_or(|o| e.outcome == o)
    }
}

#[derive(Clone)]
pub struct AuditLog {
    db: sled::Db,
}

impl AuditLog {
    pub fn open(dir: &Path) -> Result<AuditLog, AuditError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(4 << 20)
            .open()
            .map_err(|source| AuditError::Open {
                path: dir.display().to_string(),
                source,
            })?;
        Ok(AuditLog { db })
    }

    /// Appends an entry; its `seq` and `time` are filled in.
    pub fn append(&self, mut event: AuditEvent) -> Result<u64, AuditError> {
        let seq = self.db.generate_id()?;
        event.seq = seq;
        event.time = rfc3339_now();
        let value = serde_json::to_vec(&event).expect("an audit event serialises");
        self.db.insert(seq.to_be_bytes(), value)?;
        Ok(seq)
    }

    /// Appends, and logs (never panics) when the store fails: a request is
    /// not failed because its audit entry could not be written, but the
    /// operator hears of it.
    pub fn record(&self, event: AuditEvent) {
        if let Err(e) = self.append(event) {
            tracing::error!("audit: {e}");
        }
    }

    /// Entries matching `filter`, newest first.
    pub fn read(&self, filter: &AuditFilter) -> Vec<AuditEvent> {
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        let end = filter.before.unwrap_or(u64::MAX);
        self.db
            .range(..end.to_be_bytes())
            .rev()
            .filter_map(|item| item.ok())
            .filter_map(|(_, v)| serde_json::from_slice::<AuditEvent>(&v).ok())
            .filter(|e| filter.keeps(e))
            .take(limit)
            .collect()
    }

    /// Every entry matching `filter` (its limit ignored), oldest first, one
    /// JSON object per line.
    pub fn export_json_lines(
        &self,
        filter: &AuditFilter,
        out: &mut impl std::io::Write,
    ) -> std::io::Result<()> {
        for item in self.db.iter() {
            let (_, v) = item.map_err(std::io::Error::other)?;
            let Ok(event) = serde_json::from_slice::<AuditEvent>(&v) else {
                continue;
            };
            if filter.keeps(&event) && filter.before.is_none_or(|b| event.seq < b) {
                serde_json::to_writer(&mut *out, &event)?;
                out.write_all(b"\n")?;
            }
        }
        Ok(())
    }

    pub fn flush(&self) -> Result<(), AuditError> {
        self.db.flush()?;
        Ok(())
    }
}

/// Now, as `2026-12-07T14:39:20.123Z`.
pub fn rfc3339_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (y, m, d) = civil_from_days(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// The proleptic Gregorian date `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(actor: &str, action: &str, outcome: Outcome) -> AuditEvent {
        AuditEvent::new(
            actor.into(),
            action,
            "component:default/x",
            outcome,
            "127.0.0.1",
            "",
        )
    }

    #[test]
    fn appends_reads_newest_first_and_exports() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::open(&dir.path().join("audit")).unwrap();
        log.append(event(
            "service:ci",
            "catalog.location.create",
            Outcome::Succeeded,
        ))
        .unwrap();
        log.append(event(
            "user:default/jane",
            "catalog.entity.delete",
            Outcome::Denied,
        ))
        .unwrap();
        log.append(event(
            "user:default/jane",
            "catalog.entity.refresh",
            Outcome::Succeeded,
        ))
        .unwrap();
        let all = log.read(&AuditFilter::default());
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].action, "catalog.entity.refresh");
        assert!(all[0].seq > all[2].seq);
        assert!(all[0].time.ends_with('Z') && all[0].time.starts_with("20"));
        let denied = log.read(&AuditFilter {
            outcome: Some(Outcome::Denied),
            ..Default::default()
        });
        assert_eq!(denied.len(), 1);
        let jane = log.read(&AuditFilter {
            actor: Some("jane".into()),
            limit: 1,
            ..Default::default()
        });
        assert_eq!(jane.len(), 1);
        let older = log.read(&AuditFilter {
            before: Some(jane[0].seq),
            ..Default::default()
        });
        assert_eq!(older.len(), 2);
        let mut out = vec![];
        log.export_json_lines(&AuditFilter::default(), &mut out)
            .unwrap();
        let lines: Vec<&str> = std::str::from_utf8(&out).unwrap().lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].contains("catalog.location.create"));
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_794), (2026, 12, 7));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
