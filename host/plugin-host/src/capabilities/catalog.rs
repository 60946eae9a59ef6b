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
    let catalog = state.plugin.services.catalog.clone();
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
    let catalog = state.plugin.services.catalog.clone();
    let entities = host_work::run(state, move || {
        catalog.query_entities(&filter, limit as usize)
    })
    .await?
    .map_err(map)?;
    count_bytes(state, entities.iter().map(|e| e.len() as u64).sum())?;
    Ok(entities)
}
