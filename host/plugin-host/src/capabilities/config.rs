//! `config`: configuration values and secrets the operator granted to this plugin.

use super::{HostCallError, HostState};

pub(crate) fn get(state: &mut HostState, key: &str) -> Option<String> {
    state
        .plugin
        .config_values
        .get(key)
        .map(|value| match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
}

/// Secret names are short identifiers from the configuration.
const MAX_SECRET_NAME_BYTES: usize = 256;

pub(crate) fn get_secret(state: &mut HostState, name: &str) -> Result<String, HostCallError> {
    if name.len() > MAX_SECRET_NAME_BYTES {
        return Err(state.over_limit(format!(
            "secret name is {} bytes, over the limit of {MAX_SECRET_NAME_BYTES} bytes",
            name.len()
        )));
    }
    let plugin = state.plugin.name.clone();
    if !state.plugin.grants.secrets.contains(name) {
        return Err(state.deny(format!(
            "secret `{name}` is not granted to plugin `{plugin}` (grant it under plugins.grants.{plugin}.secrets)"
        )));
    }
    state
        .plugin
        .secrets
        .resolve(name)
        .map_err(HostCallError::Unavailable)
}
