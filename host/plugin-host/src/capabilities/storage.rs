//! `storage`: the plugin's private key/value space, when granted. Keys, values,
//! prefixes and list sizes are bounded; the store refuses writes over the
//! plugin's storage quota (bytes and keys), and deleting frees quota. The work
//! runs off the async workers, charged to the plugin's CPU budget.

use super::{HostCallError, HostFailure, HostState, host_work};
use crate::services::{ServiceError, StorageQuota};

pub(crate) const MAX_KEY_BYTES: usize = 512;
pub(crate) const MAX_VALUE_BYTES: usize = 1 << 20;
const MAX_LIST: u32 = 10_000;

fn check(state: &mut HostState, what: &str, key: &str) -> Result<(), HostCallError> {
    if !state.plugin.grants.storage {
        let name = state.plugin.name.clone();
        return Err(state.deny(format!(
            "plugin `{name}` may not use storage: grant it with plugins.grants.{name}.storage, or request `storage` while default_grants.storage is on"
        )));
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(state.over_limit(format!(
            "{what} is {} bytes, over the {MAX_KEY_BYTES}-byte limit",
            key.len()
        )));
    }
    Ok(())
}

fn map(state: &mut HostState, e: ServiceError) -> HostCallError {
    match e {
        ServiceError::Invalid(m) => HostCallError::Invalid(m),
        ServiceError::Unavailable(m) => HostCallError::Unavailable(m),
        ServiceError::LimitExceeded(m) => state.over_limit(m),
    }
}

pub(crate) async fn get(
    state: &mut HostState,
    key: String,
) -> Result<Option<Vec<u8>>, HostFailure> {
    check(state, "key", &key)?;
    let kv = state.plugin.services.kv.clone();
    let name = state.plugin.name.clone();
    let result = host_work::run(state, move || kv.get(&name, &key)).await?;
    result.map_err(|e| map(state, e).into())
}

pub(crate) async fn set(
    state: &mut HostState,
    key: String,
    value: Vec<u8>,
) -> Result<(), HostFailure> {
    check(state, "key", &key)?;
    if value.len() > MAX_VALUE_BYTES {
        return Err(state
            .over_limit(format!(
                "value is {} bytes, over the {MAX_VALUE_BYTES}-byte limit",
                value.len()
            ))
            .into());
    }
    let kv = state.plugin.services.kv.clone();
    let name = state.plugin.name.clone();
    let quota = StorageQuota {
        max_bytes: state.plugin.quotas.storage_bytes,
        max_keys: state.plugin.quotas.storage_keys,
    };
    let result = host_work::run(state, move || kv.set(&name, &key, &value, quota)).await?;
    result.map_err(|e| map(state, e).into())
}

pub(crate) async fn delete(state: &mut HostState, key: String) -> Result<(), HostFailure> {
    check(state, "key", &key)?;
    let kv = state.plugin.services.kv.clone();
    let name = state.plugin.name.clone();
    let result = host_work::run(state, move || kv.delete(&name, &key)).await?;
    result.map_err(|e| map(state, e).into())
}

pub(crate) async fn list_keys(
    state: &mut HostState,
    prefix: String,
    limit: u32,
) -> Result<Vec<String>, HostFailure> {
    check(state, "prefix", &prefix)?;
    let kv = state.plugin.services.kv.clone();
    let name = state.plugin.name.clone();
    let limit = limit.min(MAX_LIST) as usize;
    let result = host_work::run(state, move || kv.list_keys(&name, &prefix, limit)).await?;
    result.map_err(|e| map(state, e).into())
}
