//! Portal's HTTP server. It wires the parts together (configuration, store,
//! catalog, plugin host, web UI), serves the REST APIs under `/api` and the UI at
//! `/`, and owns the cross-cutting concerns of a request: tracing, errors in
//! Backstage's shape, and (in `request`) learning who is asking.
//!
//! Start at [`Portal::start`].

pub mod api;
pub mod catalog_wiring;
pub mod collator_wiring;
pub mod request;
pub mod scaffolder_wiring;
pub mod search_view;
pub mod search_wiring;
mod state;
pub mod stores;
pub mod techdocs_wiring;
pub mod template_editor;
pub mod web;

pub use state::AppState;

use anyhow::Context;
use axum::serve::ListenerExt;
use portal_config::Config;
use portal_plugin_host::services::{PluginStore, Services};
use portal_plugin_host::{HostOptions, PluginHost};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A running portal.
pub struct Portal {
    pub addr: SocketAddr,
    pub state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    _watch: Option<portal_plugin_host::DirectoryWatch>,
}

impl Portal {
    /// Opens the store, starts the plugin host (watching its directory) and serves
    /// HTTP on the configured address. Returns once the socket is bound; plugins
    /// keep loading in the background.
    pub async fn start(config: Config) -> anyhow::Result<Portal> {
        let data_dir = config.data_dir();
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
        // First: a portal that must not serve (guest mode on a public
        // address, a broken policy) says so before any other work.
        let auth = portal_auth::Auth::start(&config, &data_dir)?;
        let kv = PluginStore::open_in(&data_dir)?;
        let catalog = stores::open_catalog(&config)?;
        let catalog_service = Arc::new(catalog_wiring::CatalogService::new(catalog.clone()));
        let services = Services {
            catalog: catalog_service.clone(),
            registrar: catalog_service,
            kv: Arc::new(kv),
        };
        let plugins = PluginHost::new(HostOptions::from_config(&config), services)?;
        let watch = plugins.watch()?;
        {
            let plugins = plugins.clone();
            tokio::spawn(async move { plugins.load_all().await });
        }

        catalog.start();
        catalog_wiring::spawn_providers(plugins.clone(), catalog.clone());
        let settings = portal_web::ssr::branding::from_app_config(
            &config.app.title,
            &config.app.extra,
            &config.base_dir,
        )
        .map_err(|e| anyhow::anyhow!("invalid configuration: {e}"))?;
        let scaffolder = portal_scaffolder::Scaffolder::open(
            &data_dir,
            scaffolder_wiring::PluginActions::new(plugins.clone()),
            portal_scaffolder::engine::DEFAULT_CONCURRENT_TASKS,
        )
        .context("cannot open the scaffolder's task store")?;
        let techdocs = portal_techdocs::TechDocs::start(
            &data_dir.join("techdocs"),
            portal_techdocs::BuildLimits::default(),
            Some(Arc::new(techdocs_wiring::CatalogTreeFetcher(
                catalog.clone(),
            ))),
        )
        .context("cannot open the TechDocs store")?;
        techdocs_wiring::spawn(catalog.clone(), techdocs.clone());
        let search = search_wiring::start(&data_dir, catalog.clone(), techdocs.clone())
            .context("cannot open the search index")?;
        collator_wiring::spawn(
            plugins.clone(),
            Arc::new(search.clone()),
            std::time::Duration::from_secs(config.search.collate_interval_seconds.max(1)),
        );
        let state = AppState::new(
            Arc::new(config.clone()),
            plugins,
            catalog,
            scaffolder,
            techdocs,
            search,
            auth,
        );
        let ui = portal_web::ssr::router(Arc::new(web::WebData::new(state.clone())), settings);
        let app = api::router(state.clone(), ui);
        let listener = TcpListener::bind((config.server.host.as_str(), config.server.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}",
                    config.server.host, config.server.port
                )
            })?;
        let addr = listener.local_addr()?;
        // Small responses and streamed events go out at once, instead of
        // waiting for the client's delayed ACK (up to 40 ms on Linux).
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!("cannot set TCP_NODELAY on a connection: {e}");
            }
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let app = app.into_make_service_with_connect_info::<SocketAddr>();
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!("server stopped: {e}");
            }
        });
        tracing::info!("Portal listening on http://{addr}");
        Ok(Portal {
            addr,
            state,
            shutdown: Some(tx),
            server,
            _watch: Some(watch),
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server stops (it runs until `shutdown` or the process ends).
    pub async fn wait(mut self) {
        let server = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        let _ = server.await;
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.state.catalog.stop();
        if let Err(e) = self.state.catalog.flush() {
            tracing::error!("catalog: flush on shutdown failed: {e}");
        }
        if let Err(e) = self.state.techdocs.store().flush() {
            tracing::error!("techdocs: flush on shutdown failed: {e}");
        }
        if let Err(e) = self.state.auth.audit().flush() {
            tracing::error!("audit: flush on shutdown failed: {e}");
        }
        if let Err(e) = self.state.scaffolder.flush() {
            tracing::error!("scaffolder: flush on shutdown failed: {e}");
        }
        let server = std::mem::replace(&mut self.server, tokio::spawn(async {}));
        let _ = server.await;
    }
}
