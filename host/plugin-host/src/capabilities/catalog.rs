//! `catalog`: read-only access to catalog entities, when granted.

use super::{HostCallError, HostState};
use crate::services::ServiceError;

const MAX_QUERY_LIMIT: u32 = 1_000;

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
    }
}

pub(crate) fn get_entity(
    state: &mut HostState,
    entity_ref: &str,
) -> Result<Option<String>, HostCallError> {
    check(state)?;
    state
        .plugin
        .services
        .catalog
        .get_entity(entity_ref)
        .map_err(map)
}

pub(crate) fn query_entities(
    state: &mut HostState,
    filter: &str,
    limit: u32,
) -> Result<Vec<String>, HostCallError> {
    check(state)?;
    if limit > MAX_QUERY_LIMIT {
        return Err(HostCallError::LimitExceeded(format!(
            "limit {limit} is over the maximum of {MAX_QUERY_LIMIT}"
        )));
    }
    state
        .plugin
        .services
        .catalog
        .query_entities(filter, limit as usize)
        .map_err(map)
}
