use portal_auth::Auth;
use portal_catalog::Catalog;
use portal_config::Config;
use portal_plugin_host::PluginHost;
use portal_scaffolder::Scaffolder;
use portal_search::Search;
use portal_techdocs::TechDocs;
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
    /// Documentation sites: built, stored, served (`portal_techdocs::TechDocs`).
    pub techdocs: TechDocs,
    /// Search over entities, docs and templates (`portal_search::Search`:
    /// `query`, `suggest`, `status`).
    pub search: Search,
    /// Who is asking and what they may do (`portal_auth::Auth`); the
    /// request side is in `request.rs`.
    pub auth: Auth,
}

impl AppState {
    pub fn new(
        config: Arc<Config>,
        plugins: PluginHost,
        catalog: Catalog,
        scaffolder: Scaffolder,
        techdocs: TechDocs,
        search: Search,
        auth: Auth,
    ) -> AppState {
        AppState {
            config,
            plugins,
            catalog,
            scaffolder,
            techdocs,
            search,
            auth,
        }
    }
}
