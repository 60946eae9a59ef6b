//! The catalog's store: `catalog_entities`, `catalog_sources`,
//! `catalog_locations`, and `catalog_changes` (one row per change set, in
//! commit order, announced with `NOTIFY portal_catalog`), for replicas
//! that follow the catalog's writes.

use crate::{Postgres, PostgresError};
use portal_catalog::store::{
    Body, CatalogStore, ChangeSet, StoreError, StoredEntity, StoredItem, StoredLocation,
    StoredSource,
};
use std::collections::HashMap;

/// The channel a commit's change row is announced on.
pub const CHANGES_CHANNEL: &str = "portal_catalog";

/// Rows fetched at a time when loading (bounds memory at start-up).
const LOAD_BATCH: usize = 5_000;

/// [`CatalogStore`] on PostgreSQL.
pub struct PostgresCatalogStore {
    db: Postgres,
}

impl PostgresCatalogStore {
    pub(crate) fn new(db: Postgres) -> Self {
        PostgresCatalogStore { db }
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
        db.block(client.batch_execute(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
             DECLARE portal_load NO SCROLL CURSOR FOR
                 SELECT entity_ref, uid, source, body, errors FROM catalog_entities",
        ))
        .map_err(q)?;
        let result = (|| {
            let fetch = format!("FETCH {LOAD_BATCH} FROM portal_load");
            loop {
                let rows = db.block(client.query(&fetch, &[])).map_err(q)?;
                if rows.is_empty() {
                    break;
                }
                for row in rows {
                    let entity_ref: String = row.get(0);
                    let body: &[u8] = row.get(3);
                    let Some(body) = Body::from_packed(body) else {
                        return Err(StoreError::Corrupt {
                            key: format!("catalog_entities {entity_ref}"),
                            message: "the body is not in the packed form this portal reads".into(),
                        });
                    };
                    visit(StoredItem::Entity(StoredEntity {
                        uid: row.get(1),
                        source: row.get(2),
                        body,
                        errors: row.get(4),
                        entity_ref,
                    }));
                }
            }
            let rows = db
                .block(client.query("SELECT key, record FROM catalog_sources", &[]))
                .map_err(q)?;
            for row in rows {
                let key: String = row.get(0);
                let record: serde_json::Value = row.get(1);
                let source: StoredSource =
                    serde_json::from_value(record).map_err(|e| StoreError::Corrupt {
                        key: format!("catalog_sources {key}"),
                        message: e.to_string(),
                    })?;
                visit(StoredItem::Source(source));
            }
            let rows = db
                .block(client.query("SELECT id, type, target FROM catalog_locations", &[]))
                .map_err(q)?;
            for row in rows {
                visit(StoredItem::Location(StoredLocation {
                    id: row.get(0),
                    type_: row.get(1),
                    target: row.get(2),
                }));
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
        db.block(commit(db, changes)).map_err(store_error)
    }

    fn flush(&self) -> Result<(), StoreError> {
        // A commit is durable when it returns.
        Ok(())
    }
}

/// The last of each key, in order (one statement may not touch a row twice).
fn last_by_key<'a, T>(items: &'a [T], key: impl Fn(&T) -> &str) -> Vec<&'a T> {
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

async fn commit(db: &Postgres, changes: &ChangeSet) -> Result<(), PostgresError> {
    let q = |e: tokio_postgres::Error| db.query_error(&e);
    let mut client = db.client().await?;
    let tx = client.transaction().await.map_err(q)?;
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
            "INSERT INTO catalog_changes (entity_refs, source_keys, location_ids)
             VALUES ($1, $2, $3) RETURNING seq",
            &[&entity_refs, &source_keys, &location_ids],
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
