//! `storage`: the plugin's private key/value space, when granted.

use super::{HostCallError, HostState};
use crate::services::ServiceError;

const MAX_KEY_BYTES: usize = 512;
const MAX_VALUE_BYTES: usize = 1 << 20;
const MAX_LIST: u32 = 10_000;

fn check(state: &mut HostState, key: &str) -> Result<(), HostCallError> {
    if !state.plugin.grants.storage {
        let name = state.plugin.name.clone();
        return Err(state.deny(format!(
            "plugin `{name}` may not use storage: grant it with plugins.grants.{name}.storage, or request `storage` while default_grants.storage is on"
        )));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(HostCallError::LimitExceeded(format!(
            "key is {} bytes, over the {MAX_KEY_BYTES}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

fn map(e: ServiceError) -> HostCallError {
    match e {
        ServiceError::Invalid(m) => HostCallError::Invalid(m),
        ServiceError::Unavailable(m) => HostCallError::Unavailable(m),
    }
}

pub(crate) fn get(state: &mut HostState, key: &str) -> Result<Option<Vec<u8>>, HostCallError> {
    check(state, key)?;
    let name = &state.plugin.name;
    state.plugin.services.kv.get(name, key).map_err(map)
}

pub(crate) fn set(state: &mut HostState, key: &str, value: &[u8]) -> Result<(), HostCallError> {
    check(state, key)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(HostCallError::LimitExceeded(format!(
            "value is {} bytes, over the {MAX_VALUE_BYTES}-byte limit",
            value.len()
        )));
    }
    let name = &state.plugin.name;
    state.plugin.services.kv.set(name, key, value).map_err(map)
}

pub(crate) fn delete(state: &mut HostState, key: &str) -> Result<(), HostCallError> {
    check(state, key)?;
    let name = &state.plugin.name;
    state.plugin.services.kv.delete(name, key).map_err(map)
}

pub(crate) fn list_keys(
    state: &mut HostState,
    prefix: &str,
    limit: u32,
) -> Result<Vec<String>, HostCallError> {
    check(state, prefix)?;
    let name = &state.plugin.name;
    state
        .plugin
        .services
        .kv
        .list_keys(name, prefix, limit.min(MAX_LIST) as usize)
        .map_err(map)
}
