//! Every change to the catalog: the single writer (`commit_run`,
//! `commit_plan`: plan against the state, apply to memory, queue or write
//! the store's change set), registered locations, entity deletes, refreshes
//! on request and plugin providers' snapshots.

use crate::catalog::{Catalog, lock_err};
use crate::config::OrphanStrategy;
use crate::error::CatalogError;
use crate::freshness;
use crate::ingest::{Outcome, ReadContext, ReadyEntity};
use crate::reads;
use crate::state::{self, Delivery, SourceRun, State};
use crate::store::{ChangeSet, StoredLocation};
use crate::time::Timestamp;
use crate::types::{AddLocation, CatalogEvent, LocationInfo, ProvidedDocument};
use portal_catalog_model::{
    FlatEntity, LocationSpec, RefDefaults, location_entity, parse_entity_ref,
};

/// Applies one source run: to memory, then queued for the store as one
/// atomic change set.
pub(crate) fn commit_run(catalog: &Catalog, run: SourceRun) -> state::Applied {
    let _writer = catalog.inner.writer.lock().unwrap_or_else(lock_err);
    let key = run.key.clone();
    let mut applied =
        catalog
            .read_state()
            .plan(run, catalog.inner.config.orphan_strategy, Timestamp::now());
    catalog
        .inner
        .state
        .write()
        .unwrap_or_else(lock_err)
        .apply(&mut applied);
    let changed = changed_refs(&applied.changes);
    // Queued in writer order: the store thread saves it while the
    // writer goes on with the next source (see `store::WriteBehind`).
    catalog
        .inner
        .store
        .commit_later(std::mem::take(&mut applied.changes));
    if applied.added + applied.updated + applied.removed > 0 {
        let _ = catalog.inner.events.send(CatalogEvent {
            source: key,
            added: applied.added,
            updated: applied.updated,
            removed: applied.removed,
            entities: changed,
        });
    }
    applied
}

/// Applies a change the caller answers for (an API call, a removal): the
/// store's batch is written before memory changes, so a store error is the
/// caller's error and changes nothing.
pub(crate) fn commit_plan(
    catalog: &Catalog,
    plan: impl FnOnce(&State) -> state::Applied,
    extra: impl FnOnce(&mut ChangeSet),
    after: impl FnOnce(&mut State),
) -> Result<state::Applied, CatalogError> {
    let _writer = catalog.inner.writer.lock().unwrap_or_else(lock_err);
    let mut applied = plan(&catalog.read_state());
    extra(&mut applied.changes);
    let changed = changed_refs(&applied.changes);
    catalog.inner.store.commit(&applied.changes)?;
    let mut state = catalog.inner.state.write().unwrap_or_else(lock_err);
    state.apply(&mut applied);
    after(&mut state);
    drop(state);
    if applied.removed > 0 {
        let _ = catalog.inner.events.send(CatalogEvent {
            source: String::new(),
            added: 0,
            updated: 0,
            removed: applied.removed,
            entities: changed,
        });
    }
    Ok(applied)
}

/// Applies to memory what another portal process sharing the store
/// committed (see [`Catalog::apply_external`]).
pub(crate) fn apply_external(catalog: &Catalog, mut changes: ChangeSet) {
    if changes.is_empty() {
        return;
    }
    let changed = changed_refs(&changes);
    // Parsed and flattened as at start-up, before any lock is taken.
    let entities = crate::loading::prepare_loaded(std::mem::take(&mut changes.put_entities));
    let _writer = catalog.inner.writer.lock().unwrap_or_else(lock_err);
    let (added, updated, removed) = catalog
        .inner
        .state
        .write()
        .unwrap_or_else(lock_err)
        .apply_stored(changes, entities);
    if added + updated + removed > 0 {
        let _ = catalog.inner.events.send(CatalogEvent {
            source: String::new(),
            added,
            updated,
            removed,
            entities: changed,
        });
    }
}

/// The refs of the entities a change set writes or removes.
fn changed_refs(changes: &ChangeSet) -> std::sync::Arc<[String]> {
    changes
        .put_entities
        .iter()
        .map(|e| e.entity_ref.clone())
        .chain(changes.delete_entities.iter().cloned())
        .collect()
}

/// The run of a root source (a configured or registered location): its
/// Location entity.
pub(crate) fn root_run(key: String, spec: &LocationSpec) -> Result<SourceRun, CatalogError> {
    let mut entity = location_entity(spec, None).map_err(|e| CatalogError::Input(e.to_string()))?;
    entity.set_default_namespace();
    if spec.presence() == portal_catalog_model::LocationPresence::Optional
        && let Some(s) = entity.spec.as_mut()
    {
        s.insert("presence".into(), "optional".into());
    }
    let flat = FlatEntity::from_entity(&entity);
    Ok(SourceRun {
        key,
        parent: None,
        location_type: spec.type_.clone(),
        location_target: spec.target.clone(),
        deps: Vec::new(),
        delivery: Delivery::Snapshot(vec![Outcome::Entity(Box::new(ReadyEntity {
            entity,
            flat,
            edges: Vec::new(),
            line: None,
            fresh: None,
        }))]),
        errors: Vec::new(),
    })
}

pub(crate) fn check_location_input(
    catalog: &Catalog,
    type_: &str,
    target: &str,
) -> Result<String, CatalogError> {
    match type_ {
        "url" => {
            catalog
                .inner
                .processor
                .url
                .check(target)
                .map_err(|e| CatalogError::Input(e.to_string()))?;
            Ok(target.to_owned())
        }
        "file" => {
            if target.trim().is_empty() {
                return Err(CatalogError::Input(
                    "Location target must not be empty".into(),
                ));
            }
            let abs = std::path::absolute(target)
                .map_err(|e| CatalogError::Input(format!("invalid path {target}: {e}")))?;
            Ok(crate::ingest::normalize(&abs))
        }
        other => Err(CatalogError::Input(format!(
            "Unsupported location type '{other}'; Portal reads 'url' and 'file' locations"
        ))),
    }
}

/// Registers a location (`POST /locations`). Without `dry_run` it is
/// stored and read in the background; with it, it is read now and the
/// entities it would produce are returned, nothing stored.
pub(crate) async fn add_location(
    catalog: &Catalog,
    type_: &str,
    target: &str,
    dry_run: bool,
    refresh_if_exists: bool,
) -> Result<AddLocation, CatalogError> {
    let target = check_location_input(catalog, type_, target)?;
    let existing = catalog
        .locations()
        .into_iter()
        .find(|l| l.type_ == type_ && l.target == target);
    if dry_run {
        let entities = freshness::dry_run(catalog, type_, &target).await?;
        return Ok(AddLocation {
            location: LocationInfo {
                id: format!("{type_}:{target}"),
                type_: type_.to_owned(),
                target: target.clone(),
                entity_ref: format!(
                    "location:default/{}",
                    portal_catalog_model::generated_location_entity_name(type_, &target)
                ),
            },
            entities,
            exists: existing.is_some(),
        });
    }
    if catalog.inner.config.readonly {
        return Err(CatalogError::NotAllowed(
            "This catalog is read-only (catalog.readonly); locations cannot be added".into(),
        ));
    }
    if let Some(location) = existing {
        if refresh_if_exists {
            let entity_ref = location.entity_ref.clone();
            let me = catalog.clone();
            tokio::spawn(
                async move { freshness::process_location_tree(&me, &entity_ref, true).await },
            );
            return Ok(AddLocation {
                location,
                entities: Vec::new(),
                exists: true,
            });
        }
        return Err(CatalogError::Conflict(format!(
            "Location {type_}:{target} already exists"
        )));
    }
    let spec = LocationSpec::new(type_, target.clone());
    let entity_ref = format!("location:default/{}", spec.generated_entity_name());
    if catalog.read_state().index.id_of_ref(&entity_ref).is_some() {
        return Err(CatalogError::Conflict(format!(
            "Location {type_}:{target} already exists (it is configured in catalog.locations)"
        )));
    }
    let stored = StoredLocation {
        id: uuid::Uuid::new_v4().to_string(),
        type_: type_.to_owned(),
        target: target.clone(),
    };
    let run = root_run(format!("location:{}", stored.id), &spec)?;
    let me = catalog.clone();
    let stored2 = stored.clone();
    tokio::task::spawn_blocking(move || {
        let _writer = me.inner.writer.lock().unwrap_or_else(lock_err);
        let mut applied =
            me.read_state()
                .plan(run, me.inner.config.orphan_strategy, Timestamp::now());
        applied.changes.put_locations.push(stored2.clone());
        me.inner.store.commit(&applied.changes)?;
        let mut state = me.inner.state.write().unwrap_or_else(lock_err);
        state.apply(&mut applied);
        state.locations.insert(stored2.id.clone(), stored2);
        Ok::<_, CatalogError>(())
    })
    .await
    .map_err(|e| CatalogError::Input(e.to_string()))??;
    let me = catalog.clone();
    let r = entity_ref.clone();
    tokio::spawn(async move { freshness::process_location_tree(&me, &r, true).await });
    Ok(AddLocation {
        location: LocationInfo::from_stored(&stored),
        entities: Vec::new(),
        exists: false,
    })
}

/// Registers a location (or reuses an existing registration of the same
/// target) and reads it completely before returning (`portal catalog
/// import`).
pub(crate) async fn import(
    catalog: &Catalog,
    type_: &str,
    target: &str,
) -> Result<LocationInfo, CatalogError> {
    let target = check_location_input(catalog, type_, target)?;
    let location = match catalog
        .locations()
        .into_iter()
        .find(|l| l.type_ == type_ && l.target == target)
    {
        Some(l) => l,
        None => {
            let stored = StoredLocation {
                id: uuid::Uuid::new_v4().to_string(),
                type_: type_.to_owned(),
                target: target.clone(),
            };
            let spec = LocationSpec::new(type_, target.clone());
            let run = root_run(format!("location:{}", stored.id), &spec)?;
            let (s2, s3) = (stored.clone(), stored.clone());
            let me = catalog.clone();
            tokio::task::spawn_blocking(move || {
                commit_plan(
                    &me,
                    |state| state.plan(run, OrphanStrategy::Delete, Timestamp::now()),
                    |changes| changes.put_locations.push(s2),
                    |state| {
                        state.locations.insert(s3.id.clone(), s3);
                    },
                )
            })
            .await
            .map_err(|e| CatalogError::Input(e.to_string()))??;
            LocationInfo::from_stored(&stored)
        }
    };
    freshness::process_location_tree(catalog, &location.entity_ref, true).await;
    Ok(location)
}

/// Removes a registered location and everything read through it.
pub(crate) fn remove_location(catalog: &Catalog, id: &str) -> Result<(), CatalogError> {
    if catalog.inner.config.readonly {
        return Err(CatalogError::NotAllowed(
            "This catalog is read-only (catalog.readonly); locations cannot be removed".into(),
        ));
    }
    if reads::location(&catalog.read_state(), id).is_none() {
        return Err(CatalogError::NotFound(format!(
            "Found no location with ID {id}"
        )));
    }
    let key = format!("location:{id}");
    let orphans = catalog.inner.config.orphan_strategy;
    let id2 = id.to_owned();
    commit_plan(
        catalog,
        |state| state.plan_source_removal(&key, orphans),
        |changes| changes.delete_locations.push(id2.clone()),
        |state| {
            state.locations.remove(&id2);
        },
    )?;
    Ok(())
}

/// Changes a registered location's target (`PUT /locations/:id`).
pub(crate) async fn update_location(
    catalog: &Catalog,
    id: &str,
    type_: &str,
    target: &str,
) -> Result<LocationInfo, CatalogError> {
    if reads::location(&catalog.read_state(), id).is_none() {
        return Err(CatalogError::NotFound(format!(
            "Found no location with ID {id}"
        )));
    }
    remove_location(catalog, id)?;
    let target = check_location_input(catalog, type_, target)?;
    let spec = LocationSpec::new(type_, target.clone());
    let stored = StoredLocation {
        id: id.to_owned(),
        type_: type_.to_owned(),
        target,
    };
    let run = root_run(format!("location:{id}"), &spec)?;
    let stored2 = stored.clone();
    let stored3 = stored.clone();
    commit_plan(
        catalog,
        |state| state.plan(run, OrphanStrategy::Delete, Timestamp::now()),
        |changes| changes.put_locations.push(stored2),
        |state| {
            state.locations.insert(stored3.id.clone(), stored3);
        },
    )?;
    let me = catalog.clone();
    let r = format!("location:default/{}", spec.generated_entity_name());
    tokio::spawn(async move { freshness::process_location_tree(&me, &r, true).await });
    Ok(LocationInfo::from_stored(&stored))
}

/// Deletes an entity by uid. If its source still emits it, it comes back
/// on the next read of that source (which is scheduled at once).
pub(crate) fn delete_by_uid(catalog: &Catalog, uid: &str) -> Result<bool, CatalogError> {
    let (id, source) = {
        let state = catalog.read_state();
        match state.index.by_uid.get(uid) {
            Some(id) => (*id, state.index.get(*id).map(|r| r.source.to_string())),
            None => return Ok(false),
        }
    };
    commit_plan(
        catalog,
        |state| state.plan_entity_removal(id),
        |_| {},
        |_| {},
    )?;
    if let Some(source) = source {
        let me = catalog.clone();
        if tokio::runtime::Handle::try_current().is_ok() {
            tokio::spawn(async move { freshness::reread_source(&me, &source).await });
        }
    }
    Ok(true)
}

/// Re-reads the source of an entity now (and, for a Location entity,
/// what it points to). Returns when done.
pub(crate) async fn refresh(catalog: &Catalog, entity_ref: &str) -> Result<(), CatalogError> {
    let parsed = parse_entity_ref(entity_ref, RefDefaults::default())
        .map_err(|e| CatalogError::Input(e.to_string()))?;
    let canonical = parsed.canonical();
    let (source, is_location) = {
        let state = catalog.read_state();
        let rec = state
            .index
            .get_by_ref(&canonical)
            .ok_or_else(|| CatalogError::NotFound(format!("Entity {canonical} not found")))?;
        (rec.source.to_string(), rec.kind_lower() == "location")
    };
    if let Some(provider) = source.strip_prefix("provider:") {
        let _ = catalog.inner.provider_refresh.send(provider.to_owned());
    } else {
        freshness::reread_source(catalog, &source).await;
    }
    if is_location {
        freshness::process_location_tree(catalog, &canonical, true).await;
    }
    Ok(())
}

/// Applies a plugin provider's full snapshot (`<plugin>/<provider>`):
/// entities it no longer emits are removed (or orphaned).
pub(crate) fn apply_provider(
    catalog: &Catalog,
    provider: &str,
    docs: Vec<ProvidedDocument>,
) -> Result<(usize, usize), CatalogError> {
    let key = format!("provider:{provider}");
    let mut outcomes = Vec::new();
    let mut errors = Vec::new();
    let mut deps = Vec::new();
    for doc in docs {
        let ctx = ReadContext {
            location_type: "url".into(),
            location_target: doc.location.clone(),
            origin: format!("url:{}", doc.location),
        };
        match catalog
            .inner
            .processor
            .process_text(&doc.body, &ctx, &mut deps)
        {
            Ok(o) => outcomes.extend(o),
            Err(item) => errors.push(item),
        }
    }
    let ok = outcomes
        .iter()
        .filter(|o| matches!(o, Outcome::Entity(_)))
        .count();
    let failed = outcomes.len() - ok + errors.len();
    commit_run(
        catalog,
        SourceRun {
            key,
            parent: None,
            location_type: "provider".into(),
            location_target: provider.to_owned(),
            deps: Vec::new(),
            delivery: Delivery::Snapshot(outcomes),
            errors,
        },
    );
    Ok((ok, failed))
}

/// Records that a provider run failed: its entities stay (stale), with
/// the error attached.
pub(crate) fn provider_failed(
    catalog: &Catalog,
    provider: &str,
    message: &str,
) -> Result<(), CatalogError> {
    commit_run(
        catalog,
        SourceRun {
            key: format!("provider:{provider}"),
            parent: None,
            location_type: "provider".into(),
            location_target: provider.to_owned(),
            deps: Vec::new(),
            delivery: Delivery::Failed(crate::ingest::error_item(
                "Error",
                format!("entity provider {provider} failed: {message}"),
            )),
            errors: Vec::new(),
        },
    );
    Ok(())
}

/// Removes a provider's source and entities (its plugin is gone).
pub(crate) fn remove_provider(catalog: &Catalog, provider: &str) -> Result<(), CatalogError> {
    let key = format!("provider:{provider}");
    let orphans = catalog.inner.config.orphan_strategy;
    commit_plan(
        catalog,
        |state| state.plan_source_removal(&key, orphans),
        |_| {},
        |_| {},
    )?;
    Ok(())
}
