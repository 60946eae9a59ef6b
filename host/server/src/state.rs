use portal_config::Config;
use portal_plugin_host::PluginHost;
use std::sync::Arc;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub plugins: PluginHost,
}

impl AppState {
    pub fn new(config: Arc<Config>, plugins: PluginHost) -> AppState {
        AppState { config, plugins }
    }
}
