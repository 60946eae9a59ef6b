//! The catalog's store: `catalog_entities`, `catalog_sources`,
//! `catalog_locations`, and `catalog_changes` (one row per change set, in
//! commit order, announced with `NOTIFY portal_catalog`), which the other
//! replicas follow ([`PostgresCatalogStore::follow`]).

use crate::{Postgres, PostgresError};
use portal_catalog::Catalog;
use portal_catalog::store::{
    Body, CatalogStore, ChangeSet, StoreError, StoredEntity, StoredItem, StoredLocation,
    StoredSource,
};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tokio_postgres::{AsyncMessage, Client, Row};

/// The channel a commit's change row is announced on.
pub const CHANGES_CHANNEL: &str = "portal_catalog";

/// Rows fetched at a time when loading (bounds memory at start-up).
const LOAD_BATCH: usize = 5_000;

/// Changes read per catch-up query.
const CATCH_UP_BATCH: i64 = 1_000;

/// Commits take it (per transaction) before anything else, so change rows
/// get their `seq` in commit order and a follower never skips one that
/// commits late.
const COMMIT_LOCK: i64 = 0x706f_7274_616d; // "portam"

/// A follower reads the change log this often even without a NOTIFY (a
/// safety net; notifications normally arrive within milliseconds).
const POLL: Duration = Duration::from_secs(5);

/// [`CatalogStore`] on PostgreSQL.
pub struct PostgresCatalogStore {
    db: Postgres,
    /// This process, in the change rows it writes.
    replica: Arc<str>,
    /// The last change row this process's memory reflects.
    seen: Arc<AtomicI64>,
}

impl PostgresCatalogStore {
    pub(crate) fn new(db: Postgres) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        PostgresCatalogStore {
            db,
            replica: format!("{}-{nanos:x}", std::process::id()).into(),
            seen: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Source leases in this database for this replica (see
    /// [`portal_catalog::SourceLeases`]); renewed while the process lives.
    pub fn leases(&self) -> Arc<crate::leases::PostgresLeases> {
        crate::leases::PostgresLeases::start(self.db.clone(), self.replica.clone())
    }

    /// This process's name in the change log.
    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// Keeps `catalog` (loaded from this store) level with what other
    /// portal processes commit to the database: it listens for their
    /// change notifications and applies the changed records, and after a
    /// lost connection reads every change it missed. Runs until the
    /// process ends.
    pub fn follow(&self, catalog: Catalog) {
        let follower = Follower {
            db: self.db.clone(),
            replica: self.replica.clone(),
            seen: self.seen.clone(),
            catalog,
        };
        self.db.spawn(follower.run());
    }
}

struct Follower {
    db: Postgres,
    replica: Arc<str>,
    seen: Arc<AtomicI64>,
    catalog: Catalog,
}

impl Follower {
    async fn run(self) {
        const FIRST_RETRY: Duration = Duration::from_millis(200);
        let mut backoff = FIRST_RETRY;
        loop {
            let mut caught_up = false;
            let e = self.listen(&mut caught_up).await;
            if caught_up {
                // It worked for a while: the next failure starts over.
                backoff = FIRST_RETRY;
            }
            tracing::warn!(error = %e, retry_in = ?backoff, "following the catalog's changes: connection lost");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }

    /// One connection's life: LISTEN, catch up, then catch up again on
    /// every notification (or every [`POLL`]) until the connection drops;
    /// returns why it ended. `caught_up` is set once the first catch-up
    /// is done.
    async fn listen(&self, caught_up: &mut bool) -> PostgresError {
        match self.listen_until_lost(caught_up).await {
            Ok(never) => match never {},
            Err(e) => e,
        }
    }

    async fn listen_until_lost(
        &self,
        caught_up: &mut bool,
    ) -> Result<std::convert::Infallible, PostgresError> {
        let (client, mut connection) = self.db.connect_direct().await?;
        let (notified, mut notifications) = tokio::sync::mpsc::unbounded_channel();
        let driver = tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(_))) => {
                        let _ = notified.send(());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Some(e),
                    None => return None,
                }
            }
        });
        let q = |e: tokio_postgres::Error| self.db.query_error(&e);
        client
            .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
            .await
            .map_err(q)?;
        // Listening before reading: a change committed in between is read
        // now or notified later, never lost.
        self.catch_up(&client).await?;
        *caught_up = true;
        loop {
            tokio::select! {
                got = notifications.recv() => {
                    if got.is_none() {
                        break;
                    }
                    while notifications.try_recv().is_ok() {}
                }
                _ = tokio::time::sleep(POLL) => {}
            }
            self.catch_up(&client).await?;
        }
        match driver.await {
            Ok(Some(e)) => Err(q(e)),
            _ => Err(PostgresError::Connect {
                server: self.db.server().to_owned(),
                message: "the connection closed".into(),
            }),
        }
    }

    /// Applies every change row after `seen` that another replica wrote.
    async fn catch_up(&self, client: &Client) -> Result<(), PostgresError> {
        let q = |e: tokio_postgres::Error| self.db.query_error(&e);
        loop {
            let after = self.seen.load(Ordering::Acquire);
            let rows = client
                .query(
                    "SELECT seq, replica, entity_refs, source_keys, location_ids
                     FROM catalog_changes WHERE seq > $1 ORDER BY seq LIMIT $2",
                    &[&after, &CATCH_UP_BATCH],
                )
                .await
                .map_err(q)?;
            let Some(last) = rows.last().map(|r| r.get::<_, i64>(0)) else {
                return Ok(());
            };
            let mut refs = BTreeSet::new();
            let mut keys = BTreeSet::new();
            let mut ids = BTreeSet::new();
            for row in &rows {
                if row.get::<_, &str>(1) == &*self.replica {
                    continue;
                }
                refs.extend(row.get::<_, Vec<String>>(2));
                keys.extend(row.get::<_, Vec<String>>(3));
                ids.extend(row.get::<_, Vec<String>>(4));
            }
            if !(refs.is_empty() && keys.is_empty() && ids.is_empty()) {
                let changes = read_current(client, refs, keys, ids).await.map_err(q)?;
                tracing::debug!(
                    put = changes.put_entities.len(),
                    deleted = changes.delete_entities.len(),
                    seq = last,
                    "applying another replica's catalog changes"
                );
                let catalog = self.catalog.clone();
                // The catalog's writer lock may be held a while: not on
                // this runtime's threads.
                let _ = tokio::task::spawn_blocking(move || catalog.apply_external(changes)).await;
            }
            self.seen.store(last, Ordering::Release);
            if (rows.len() as i64) < CATCH_UP_BATCH {
                return Ok(());
            }
        }
    }
}

/// The records as the database has them now: found ones are puts, the
/// rest deletes.
async fn read_current(
    client: &Client,
    refs: BTreeSet<String>,
    keys: BTreeSet<String>,
    ids: BTreeSet<String>,
) -> Result<ChangeSet, tokio_postgres::Error> {
    let (put_entities, delete_entities) = current(
        client,
        refs,
        &format!("SELECT {ENTITY_COLUMNS} FROM catalog_entities WHERE entity_ref = ANY($1)"),
        entity_from,
    )
    .await?;
    let (put_sources, delete_sources) = current(
        client,
        keys,
        &format!("SELECT {SOURCE_COLUMNS} FROM catalog_sources WHERE key = ANY($1)"),
        source_from,
    )
    .await?;
    let (put_locations, delete_locations) = current(
        client,
        ids,
        &format!("SELECT {LOCATION_COLUMNS} FROM catalog_locations WHERE id = ANY($1)"),
        |row| Ok(location_from(row)),
    )
    .await?;
    Ok(ChangeSet {
        put_entities,
        delete_entities,
        put_sources,
        delete_sources,
        put_locations,
        delete_locations,
    })
}

/// The rows of `keys` (`sql` selects by `= ANY($1)`, the key first), and
/// the keys with no row. A row this portal cannot read is skipped (and
/// logged), not deleted.
async fn current<T>(
    client: &Client,
    keys: BTreeSet<String>,
    sql: &str,
    decode: impl Fn(&Row) -> Result<T, StoreError>,
) -> Result<(Vec<T>, Vec<String>), tokio_postgres::Error> {
    if keys.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let wanted: Vec<&str> = keys.iter().map(String::as_str).collect();
    let rows = client.query(sql, &[&wanted]).await?;
    let mut missing = keys.clone();
    let mut found = Vec::with_capacity(rows.len());
    for row in rows {
        missing.remove(row.get::<_, &str>(0));
        match decode(&row) {
            Ok(item) => found.push(item),
            Err(e) => tracing::warn!(error = %e, "skipping a record this portal cannot read"),
        }
    }
    Ok((found, missing.into_iter().collect()))
}

/// The columns [`entity_from`] reads, in order.
const ENTITY_COLUMNS: &str = "entity_ref, uid, source, body, errors";
const SOURCE_COLUMNS: &str = "key, record";
const LOCATION_COLUMNS: &str = "id, type, target";

fn entity_from(row: &Row) -> Result<StoredEntity, StoreError> {
    let entity_ref: String = row.get(0);
    let Some(body) = Body::from_packed(row.get::<_, &[u8]>(3)) else {
        return Err(StoreError::Corrupt {
            key: format!("catalog_entities {entity_ref}"),
            message: "the body is not in the packed form this portal reads".into(),
        });
    };
    Ok(StoredEntity {
        uid: row.get(1),
        source: row.get(2),
        body,
        errors: row.get(4),
        entity_ref,
    })
}

fn source_from(row: &Row) -> Result<StoredSource, StoreError> {
    serde_json::from_value(row.get(1)).map_err(|e| StoreError::Corrupt {
        key: format!("catalog_sources {}", row.get::<_, &str>(0)),
        message: e.to_string(),
    })
}

fn location_from(row: &Row) -> StoredLocation {
    StoredLocation {
        id: row.get(0),
        type_: row.get(1),
        target: row.get(2),
    }
}

fn store_error(e: PostgresError) -> StoreError {
    StoreError::Io(e.to_string())
}

impl CatalogStore for PostgresCatalogStore {
    fn load(&self, visit: &mut dyn FnMut(StoredItem)) -> Result<(), StoreError> {
        let db = &self.db;
        let client = db.block(db.client()).map_err(store_error)?;
        let q = |e: tokio_postgres::Error| store_error(db.query_error(&e));
        // One snapshot for all three tables, read through a cursor.
        db.block(client.batch_execute(&format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
             DECLARE portal_load NO SCROLL CURSOR FOR
                 SELECT {ENTITY_COLUMNS} FROM catalog_entities"
        )))
        .map_err(q)?;
        let result = (|| {
            let fetch = format!("FETCH {LOAD_BATCH} FROM portal_load");
            loop {
                let rows = db.block(client.query(&fetch, &[])).map_err(q)?;
                if rows.is_empty() {
                    break;
                }
                for row in rows {
                    visit(StoredItem::Entity(entity_from(&row)?));
                }
            }
            let sql = format!("SELECT {SOURCE_COLUMNS} FROM catalog_sources");
            for row in db.block(client.query(&sql, &[])).map_err(q)? {
                visit(StoredItem::Source(source_from(&row)?));
            }
            // What this snapshot includes: following starts after it.
            let seen: i64 = db
                .block(client.query_one("SELECT coalesce(max(seq), 0) FROM catalog_changes", &[]))
                .map_err(q)?
                .get(0);
            self.seen.store(seen, Ordering::Release);
            let sql = format!("SELECT {LOCATION_COLUMNS} FROM catalog_locations");
            for row in db.block(client.query(&sql, &[])).map_err(q)? {
                visit(StoredItem::Location(location_from(&row)));
            }
            Ok(())
        })();
        // Ends the read-only transaction either way (the connection goes
        // back to the pool clean).
        let end = db.block(client.batch_execute("COMMIT")).map_err(q);
        result.and(end)
    }

    fn commit(&self, changes: &ChangeSet) -> Result<(), StoreError> {
        if changes.is_empty() {
            return Ok(());
        }
        let db = &self.db;
        db.block(commit(db, &self.replica, changes))
            .map_err(store_error)
    }

    fn flush(&self) -> Result<(), StoreError> {
        // A commit is durable when it returns.
        Ok(())
    }
}

/// The last of each key, in order (one statement may not touch a row twice).
fn last_by_key<T>(items: &[T], key: impl Fn(&T) -> &str) -> Vec<&T> {
    let mut at: HashMap<&str, usize> = HashMap::with_capacity(items.len());
    let mut out: Vec<&T> = Vec::with_capacity(items.len());
    for item in items {
        match at.get(key(item)) {
            Some(&i) => out[i] = item,
            None => {
                at.insert(key(item), out.len());
                out.push(item);
            }
        }
    }
    out
}

async fn commit(db: &Postgres, replica: &str, changes: &ChangeSet) -> Result<(), PostgresError> {
    let q = |e: tokio_postgres::Error| db.query_error(&e);
    let mut client = db.client().await?;
    let tx = client.transaction().await.map_err(q)?;
    // First, so commits queue here rather than deadlock on rows.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&COMMIT_LOCK])
        .await
        .map_err(q)?;
    if !changes.delete_entities.is_empty() {
        tx.execute(
            "DELETE FROM catalog_entities WHERE entity_ref = ANY($1)",
            &[&changes.delete_entities],
        )
        .await
        .map_err(q)?;
    }
    if !changes.put_entities.is_empty() {
        let entities = last_by_key(&changes.put_entities, |e| &e.entity_ref);
        let refs: Vec<&str> = entities.iter().map(|e| e.entity_ref.as_str()).collect();
        let uids: Vec<&str> = entities.iter().map(|e| e.uid.as_str()).collect();
        let sources: Vec<&str> = entities.iter().map(|e| e.source.as_str()).collect();
        let bodies: Vec<&[u8]> = entities.iter().map(|e| e.body.packed()).collect();
        let errors: Vec<&[u8]> = entities.iter().map(|e| e.errors.as_slice()).collect();
        tx.execute(
            "INSERT INTO catalog_entities (entity_ref, uid, source, body, errors)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[], $5::bytea[])
             ON CONFLICT (entity_ref) DO UPDATE SET
                 uid = excluded.uid, source = excluded.source,
                 body = excluded.body, errors = excluded.errors",
            &[&refs, &uids, &sources, &bodies, &errors],
        )
        .await
        .map_err(q)?;
    }
    if !changes.delete_sources.is_empty() {
        tx.execute(
            "DELETE FROM catalog_sources WHERE key = ANY($1)",
            &[&changes.delete_sources],
        )
        .await
        .map_err(q)?;
    }
    if !changes.put_sources.is_empty() {
        let sources = last_by_key(&changes.put_sources, |s| &s.key);
        let keys: Vec<&str> = sources.iter().map(|s| s.key.as_str()).collect();
        let mut records = Vec::with_capacity(sources.len());
        for s in &sources {
            records.push(serde_json::to_value(s).map_err(|e| PostgresError::Query {
                server: db.server().to_owned(),
                message: format!("cannot encode source {}: {e}", s.key),
            })?);
        }
        tx.execute(
            "INSERT INTO catalog_sources (key, record)
             SELECT * FROM unnest($1::text[], $2::jsonb[])
             ON CONFLICT (key) DO UPDATE SET record = excluded.record",
            &[&keys, &records],
        )
        .await
        .map_err(q)?;
    }
    if !changes.delete_locations.is_empty() {
        tx.execute(
            "DELETE FROM catalog_locations WHERE id = ANY($1)",
            &[&changes.delete_locations],
        )
        .await
        .map_err(q)?;
    }
    if !changes.put_locations.is_empty() {
        let locations = last_by_key(&changes.put_locations, |l| &l.id);
        let ids: Vec<&str> = locations.iter().map(|l| l.id.as_str()).collect();
        let types: Vec<&str> = locations.iter().map(|l| l.type_.as_str()).collect();
        let targets: Vec<&str> = locations.iter().map(|l| l.target.as_str()).collect();
        tx.execute(
            "INSERT INTO catalog_locations (id, type, target)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[])
             ON CONFLICT (id) DO UPDATE SET type = excluded.type, target = excluded.target",
            &[&ids, &types, &targets],
        )
        .await
        .map_err(q)?;
    }
    // What changed, for replicas following along.
    let entity_refs: Vec<&str> = changes
        .delete_entities
        .iter()
        .map(String::as_str)
        .chain(changes.put_entities.iter().map(|e| e.entity_ref.as_str()))
        .collect();
    let source_keys: Vec<&str> = changes
        .delete_sources
        .iter()
        .map(String::as_str)
        .chain(changes.put_sources.iter().map(|s| s.key.as_str()))
        .collect();
    let location_ids: Vec<&str> = changes
        .delete_locations
        .iter()
        .map(String::as_str)
        .chain(changes.put_locations.iter().map(|l| l.id.as_str()))
        .collect();
    let seq: i64 = tx
        .query_one(
            "INSERT INTO catalog_changes (replica, entity_refs, source_keys, location_ids)
             VALUES ($1, $2, $3, $4) RETURNING seq",
            &[&replica, &entity_refs, &source_keys, &location_ids],
        )
        .await
        .map_err(q)?
        .get(0);
    // Delivered when (and only if) the transaction commits.
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&CHANGES_CHANNEL, &seq.to_string()],
    )
    .await
    .map_err(q)?;
    tx.commit().await.map_err(q)
}
