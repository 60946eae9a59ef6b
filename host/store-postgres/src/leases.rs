//! Source leases (`catalog_leases`): one replica reads each catalog
//! source. A lease lasts [`LEASE`]; its holder renews all of its own every
//! [`RENEW`], so a replica that dies (or loses the database) stops
//! renewing and its sources pass to the next replica that asks.

use crate::Postgres;
use portal_catalog::SourceLeases;
use std::sync::Arc;
use std::time::Duration;

/// How long a lease lasts without renewal: how soon a dead replica's
/// sources are taken over.
pub const LEASE: Duration = Duration::from_secs(15);

/// How often a replica renews its leases.
pub const RENEW: Duration = Duration::from_secs(5);

/// [`SourceLeases`] on PostgreSQL.
pub struct PostgresLeases {
    db: Postgres,
    replica: Arc<str>,
}

impl PostgresLeases {
    /// This replica's leases, renewed in the background while it lives.
    pub(crate) fn start(db: Postgres, replica: Arc<str>) -> Arc<PostgresLeases> {
        let leases = Arc::new(PostgresLeases { db, replica });
        let weak = Arc::downgrade(&leases);
        leases.db.spawn(async move {
            loop {
                tokio::time::sleep(RENEW).await;
                let Some(leases) = weak.upgrade() else {
                    return;
                };
                if let Err(e) = leases.renew().await {
                    tracing::warn!(error = %e, "renewing the catalog's source leases");
                }
            }
        });
        leases
    }

    async fn renew(&self) -> Result<u64, crate::PostgresError> {
        let client = self.db.client().await?;
        client
            .execute(
                "UPDATE catalog_leases SET expires_at = now() + $2 * interval '1 millisecond'
                 WHERE replica = $1",
                &[&&*self.replica, &(LEASE.as_millis() as f64)],
            )
            .await
            .map_err(|e| self.db.query_error(&e))
    }

    async fn try_acquire(&self, keys: &[String]) -> Result<Vec<String>, crate::PostgresError> {
        let client = self.db.client().await?;
        // Taken when free, expired, or already ours (then renewed).
        let rows = client
            .query(
                "INSERT INTO catalog_leases (source_key, replica, expires_at)
                 SELECT k, $2, now() + $3 * interval '1 millisecond' FROM unnest($1::text[]) AS k
                 ON CONFLICT (source_key) DO UPDATE
                     SET replica = excluded.replica, expires_at = excluded.expires_at
                     WHERE catalog_leases.replica = excluded.replica
                        OR catalog_leases.expires_at < now()
                 RETURNING source_key",
                &[&keys, &&*self.replica, &(LEASE.as_millis() as f64)],
            )
            .await
            .map_err(|e| self.db.query_error(&e))?;
        Ok(rows.into_iter().map(|r| r.get(0)).collect())
    }
}

impl SourceLeases for PostgresLeases {
    fn acquire(&self, keys: &[String]) -> Vec<String> {
        // Sorted, so two replicas asking for overlapping sets lock rows in
        // the same order.
        let mut keys = keys.to_vec();
        keys.sort();
        keys.dedup();
        match self.db.block(self.try_acquire(&keys)) {
            Ok(granted) => granted,
            Err(e) => {
                tracing::warn!(error = %e, "taking catalog source leases; reading none of them now");
                Vec::new()
            }
        }
    }
}
