use portal_catalog::Catalog;
use portal_config::Config;
use portal_plugin_host::PluginHost;
use portal_scaffolder::Scaffolder;
use std::sync::Arc;

/// What every request handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub plugins: PluginHost,
    /// The software catalog (see `portal_catalog::Catalog` for its Rust API).
    pub catalog: Catalog,
    /// Software templates' tasks (`portal_scaffolder::Scaffolder`).
    pub scaffolder: Scaffolder,
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        plugins: PluginHost,
        catalog: Catalog,
        scaffolder: Scaffolder,
    ) -> AppState {
        AppState {
            config,
            plugins,
            catalog,
            scaffolder,
        }
    }
}
