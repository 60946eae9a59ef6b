//! `catalog`: read-only access to catalog entities, when granted. Every
//! argument is bounded, every call counts against the plugin's per-call quotas
//! (calls, bytes read), and its time is charged to the plugin's CPU budget
//! (`host_work`): a query runs off the async workers, a lookup by ref in place.

use super::{HostCallError, HostFailure, HostState, host_work};
use crate::services::ServiceError;

const MAX_QUERY_LIMIT: u32 = 1_000;
/// An entity ref is `kind:namespace/name`, each part at most 63 characters (253
/// for a name); anything longer is not a ref.
pub(crate) const MAX_ENTITY_REF_BYTES: usize = 1_024;
/// Real filters are a handful of `key=value` statements.
pub(crate) const MAX_FILTER_BYTES: usize = 16 * 1024;
pub(crate) const MAX_FILTER_STATEMENTS: usize = 256;

fn check(state: &mut HostState) -> Result<(), HostCallError> {
    if state.plugin.grants.catalog_read {
        Ok(())
    } else {
        let name = state.plugin.name.clone();
        Err(state.deny(format!(
            "plugin `{name}` may not read the catalog: grant it with plugins.grants.{name}.catalog_read, or request `catalog-read` while default_grants.catalog_read is on"
        )))
    }
}

fn map(e: ServiceError) -> HostCallError {
    match e {
        ServiceError::Invalid(m) => HostCallError::Invalid(m),
        ServiceError::Unavailable(m) => HostCallError::Unavailable(m),
        ServiceError::LimitExceeded(m) => HostCallError::LimitExceeded(m),
    }
}

/// Counts one catalog call against `catalog_calls_per_call`.
fn count_call(state: &mut HostState) -> Result<(), HostCallError> {
    let quota = state.plugin.quotas.catalog_calls_per_call;
    if state.call.catalog_calls >= quota {
        let name = state.plugin.name.clone();
        return Err(state.over_limit(format!(
            "catalog call quota of {quota} per call reached (plugins.grants.{name}.quotas.catalog_calls_per_call)"
        )));
    }
    state.call.catalog_calls += 1;
    Ok(())
}

/// Counts what a catalog call read against `catalog_bytes_per_call`; the answer
/// that crosses the quota is refused.
fn count_bytes(state: &mut HostState, bytes: u64) -> Result<(), HostCallError> {
    let quota = state.plugin.quotas.catalog_bytes_per_call;
    state.call.catalog_bytes = state.call.catalog_bytes.saturating_add(bytes);
    if state.call.catalog_bytes > quota {
        let name = state.plugin.name.clone();
        return Err(state.over_limit(format!(
            "catalog read quota of {quota} bytes per call reached (plugins.grants.{name}.quotas.catalog_bytes_per_call)"
        )));
    }
    Ok(())
}

pub(crate) async fn get_entity(
    state: &mut HostState,
    entity_ref: String,
) -> Result<Option<String>, HostFailure> {
    check(state)?;
    if entity_ref.len() > MAX_ENTITY_REF_BYTES {
        return Err(state
            .over_limit(format!(
                "entity ref is {} bytes, over the limit of {MAX_ENTITY_REF_BYTES} bytes",
                entity_ref.len()
            ))
            .into());
    }
    count_call(state)?;
    // One lookup by a ref of at most 1 KiB: bounded, so done in place.
    let catalog = state.catalog();
    let entity = host_work::inline(state, move || catalog.get_entity(&entity_ref))?.map_err(map)?;
    count_bytes(state, entity.as_ref().map_or(0, |e| e.len() as u64))?;
    Ok(entity)
}

pub(crate) async fn query_entities(
    state: &mut HostState,
    filter: String,
    limit: u32,
) -> Result<Vec<String>, HostFailure> {
    check(state)?;
    if limit > MAX_QUERY_LIMIT {
        return Err(state
            .over_limit(format!(
                "limit {limit} is over the maximum of {MAX_QUERY_LIMIT}"
            ))
            .into());
    }
    if filter.len() > MAX_FILTER_BYTES {
        return Err(state
            .over_limit(format!(
                "filter is {} bytes, over the limit of {MAX_FILTER_BYTES} bytes",
                filter.len()
            ))
            .into());
    }
    let statements = filter.split(',').filter(|s| !s.trim().is_empty()).count();
    if statements > MAX_FILTER_STATEMENTS {
        return Err(state
            .over_limit(format!(
                "filter has {statements} statements, over the limit of {MAX_FILTER_STATEMENTS}"
            ))
            .into());
    }
    count_call(state)?;
    let catalog = state.catalog();
    let entities = host_work::run(state, move || {
        catalog.query_entities(&filter, limit as usize)
    })
    .await?
    .map_err(map)?;
    count_bytes(state, entities.iter().map(|e| e.len() as u64).sum())?;
    Ok(entities)
}

/// `catalog.register-location` (since 1.2.0): a template action registers
/// where its result lives (`catalog:register`). Only actions, never in a dry
/// run, only targets under `plugins.grants.<name>.register_locations`.
pub(crate) async fn register_location(
    state: &mut HostState,
    location_type: String,
    target: String,
) -> Result<Vec<String>, HostFailure> {
    let name = state.plugin.name.clone();
    let Some(dry_run) = state.call.action.as_ref().map(|a| a.dry_run) else {
        return Err(state
            .deny(format!(
                "plugin `{name}` called catalog.register-location outside a template action; only actions register"
            ))
            .into());
    };
    if dry_run {
        return Err(state
            .deny("a dry run registers nothing: catalog.register-location is refused (report what would be registered instead)".into())
            .into());
    }
    if target.len() > MAX_FILTER_BYTES {
        return Err(state
            .over_limit(format!(
                "target is {} bytes, over the limit of {MAX_FILTER_BYTES} bytes",
                target.len()
            ))
            .into());
    }
    let parsed = portal_config::Target::parse(&target)
        .map_err(|e| HostCallError::Invalid(format!("target `{target}`: {e}")))?;
    let normalized = match (location_type.as_str(), &parsed) {
        ("file", portal_config::Target::Path(_)) | ("url", portal_config::Target::Url(_)) => {
            parsed.display()
        }
        ("file" | "url", _) => {
            return Err(HostCallError::Invalid(format!(
                "a `{location_type}` location cannot have the target `{target}`"
            ))
            .into());
        }
        _ => {
            return Err(HostCallError::Invalid(format!(
                "location type `{location_type}` is not `url` or `file`"
            ))
            .into());
        }
    };
    if !state.plugin.grants.register_targets.allows(&parsed) {
        return Err(state
            .deny(format!(
                "plugin `{name}` may not register `{normalized}`: grant it with plugins.grants.{name}.register_locations"
            ))
            .into());
    }
    count_call(state)?;
    tracing::info!(plugin = %name, location_type, target = %normalized, "registering a catalog location");
    let registrar = state.plugin.services.registrar.clone();
    // Reading the location takes I/O, not the plugin's CPU: it is bounded by
    // the call's wall-clock timeout, not charged to its CPU budget.
    let refs = registrar
        .register(&location_type, &normalized)
        .await
        .map_err(map)?;
    Ok(refs)
}
