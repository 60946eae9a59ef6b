//! Versioned migrations, run at start-up: each one a transaction, recorded
//! in `portal_schema_migrations`. Replicas starting together take turns
//! (an advisory lock), so a migration runs once.

use crate::PostgresError;
use tokio_postgres::Client;

/// A schema change. Published migrations never change: a new one is added.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "catalog",
        sql: include_str!("migrations/0001_catalog.sql"),
    },
    Migration {
        version: 2,
        name: "catalog leases",
        sql: include_str!("migrations/0002_leases.sql"),
    },
];

/// The newest schema version this build knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Any number: only portals take it, around migrating.
const LOCK_KEY: i64 = 0x706f_7274_616c; // "portal"

/// Brings the database to [`latest`]; returns the versions applied.
pub async fn run(client: &mut Client, server: &str) -> Result<Vec<i32>, PostgresError> {
    let query = |e: tokio_postgres::Error| PostgresError::Query {
        server: server.to_owned(),
        message: crate::describe(&e),
    };
    client
        .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
        .await
        .map_err(query)?;
    let result = apply(client, server).await;
    // Also released when the connection closes (it is not pooled).
    let _ = client
        .execute("SELECT pg_advisory_unlock($1)", &[&LOCK_KEY])
        .await;
    result
}

async fn apply(client: &mut Client, server: &str) -> Result<Vec<i32>, PostgresError> {
    let query = |e: tokio_postgres::Error| PostgresError::Query {
        server: server.to_owned(),
        message: crate::describe(&e),
    };
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS portal_schema_migrations (
                version    integer PRIMARY KEY,
                name       text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )",
        )
        .await
        .map_err(query)?;
    let found: i32 = client
        .query_one(
            "SELECT coalesce(max(version), 0) FROM portal_schema_migrations",
            &[],
        )
        .await
        .map_err(query)?
        .get(0);
    if found > latest() {
        return Err(PostgresError::TooNew {
            server: server.to_owned(),
            found,
            known: latest(),
        });
    }
    let mut applied = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| m.version > found) {
        let failed = |e: tokio_postgres::Error| PostgresError::Migrate {
            server: server.to_owned(),
            version: m.version,
            name: m.name.to_owned(),
            message: crate::describe(&e),
        };
        let tx = client.transaction().await.map_err(failed)?;
        tx.batch_execute(m.sql).await.map_err(failed)?;
        tx.execute(
            "INSERT INTO portal_schema_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await
        .map_err(failed)?;
        tx.commit().await.map_err(failed)?;
        tracing::info!(version = m.version, name = m.name, server, "migrated");
        applied.push(m.version);
    }
    Ok(applied)
}
