//! The catalog's connections to the plugin host: plugins read the catalog
//! through [`CatalogService`], and plugin entity providers feed it through
//! [`spawn_providers`] (run on load, then every `refresh_interval_seconds`,
//! 0 meaning the catalog's `provider_refresh_interval_seconds`).

use crate::request::RequestContext;
use portal_catalog::{Access, Catalog, EntityQuery, Page, ProvidedDocument};
use portal_catalog_model::EntityFilter;
use portal_plugin_host::services::{CatalogReader, CatalogRegistrar, ServiceError};
use portal_plugin_host::{PluginEventKind, PluginHost};
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;

/// Plugins' read access to the catalog. Their own work (providers,
/// collators, actions) sees what the portal's own work sees
/// (`RequestContext::system()`); a panel rendered for a person sees what
/// that person may see ([`CatalogService::for_viewer`]).
pub struct CatalogService {
    catalog: Catalog,
    access: Access,
}

impl CatalogService {
    pub fn new(catalog: Catalog) -> CatalogService {
        CatalogService::with_access(catalog, RequestContext::system().access())
    }

    fn with_access(catalog: Catalog, access: Access) -> CatalogService {
        CatalogService { catalog, access }
    }

    /// The catalog as the request's asker may see it, for a plugin call
    /// made on their behalf.
    pub fn for_viewer(catalog: Catalog, ctx: &RequestContext) -> std::sync::Arc<dyn CatalogReader> {
        std::sync::Arc::new(CatalogService::with_access(catalog, ctx.access()))
    }
}

impl CatalogRegistrar for CatalogService {
    /// Registers the location (as `POST /locations` does, reusing an existing
    /// registration of the same target), reads it completely, and answers the
    /// refs of the entities read through it.
    fn register(
        &self,
        location_type: &str,
        target: &str,
    ) -> futures::future::BoxFuture<'static, Result<Vec<String>, ServiceError>> {
        let catalog = self.catalog.clone();
        let access = self.access.clone();
        let (location_type, target) = (location_type.to_owned(), target.to_owned());
        Box::pin(async move {
            let location = catalog
                .import(&location_type, &target)
                .await
                .map_err(|e| ServiceError::Invalid(e.to_string()))?;
            let origin = format!("{}:{}", location.type_, location.target);
            let filter =
                format!("metadata.annotations.backstage.io/managed-by-origin-location={origin}");
            let parsed = EntityFilter::parse(&[filter.as_str()])
                .map_err(|e| ServiceError::Invalid(e.to_string()))?;
            let query = EntityQuery {
                filter: Some(parsed.to_predicate()),
                page: Page::Offset {
                    offset: 0,
                    limit: Some(1_000),
                },
                ..EntityQuery::default()
            };
            let refs: Vec<String> = catalog
                .query(&query, &access)
                .items
                .into_iter()
                .filter_map(|d| {
                    let e = d.value();
                    let kind = e["kind"].as_str()?.to_ascii_lowercase();
                    let ns = e["metadata"]["namespace"].as_str().unwrap_or("default");
                    let name = e["metadata"]["name"].as_str()?;
                    Some(format!("{kind}:{ns}/{name}"))
                })
                .collect();
            // The registration's own Location entity is always there; what
            // the file holds is what the step asked for.
            if !refs.iter().any(|r| !r.starts_with("location:")) {
                let problems: Vec<String> = catalog
                    .processing_problems(&access)
                    .into_iter()
                    .filter(|p| p.location.ends_with(&location.target))
                    .map(|p| p.item.message)
                    .collect();
                return Err(ServiceError::Invalid(format!(
                    "`{target}` was registered but produced no entities{}",
                    if problems.is_empty() {
                        ": is a valid catalog-info.yaml there?".to_owned()
                    } else {
                        format!(": {}", problems.join("; "))
                    }
                )));
            }
            Ok(refs)
        })
    }
}

impl CatalogReader for CatalogService {
    fn get_entity(&self, entity_ref: &str) -> Result<Option<String>, ServiceError> {
        let doc = self
            .catalog
            .get_by_ref(entity_ref, &self.access)
            .map_err(|e| ServiceError::Invalid(e.to_string()))?;
        Ok(doc.map(|d| String::from_utf8_lossy(&d.json).into_owned()))
    }

    fn query_entities(&self, filter: &str, limit: usize) -> Result<Vec<String>, ServiceError> {
        let parsed =
            EntityFilter::parse(&[filter]).map_err(|e| ServiceError::Invalid(e.to_string()))?;
        let query = EntityQuery {
            filter: (!parsed.is_empty()).then(|| parsed.to_predicate()),
            page: Page::Offset {
                offset: 0,
                limit: Some(limit.min(10_000)),
            },
            ..EntityQuery::default()
        };
        Ok(self
            .catalog
            .query(&query, &self.access)
            .items
            .into_iter()
            .map(|d| String::from_utf8_lossy(&d.json).into_owned())
            .collect())
    }
}

async fn run_provider(plugins: &PluginHost, catalog: &Catalog, plugin: &str, provider: &str) {
    let key = format!("{plugin}/{provider}");
    let result = plugins.discover(plugin, provider).await;
    let catalog = catalog.clone();
    let outcome = tokio::task::spawn_blocking(move || match result {
        Ok(entities) => {
            let docs = entities
                .into_iter()
                .map(|e| ProvidedDocument {
                    body: e.body,
                    location: e.location,
                })
                .collect();
            catalog
                .apply_provider(&key, docs)
                .map(|(ok, failed)| format!("{ok} entities, {failed} failed"))
        }
        Err(e) => catalog
            .provider_failed(&key, &e.to_string())
            .map(|_| format!("failed: {e}")),
    })
    .await;
    match outcome {
        Ok(Ok(summary)) => tracing::info!("catalog: provider {plugin}/{provider}: {summary}"),
        Ok(Err(e)) => tracing::error!("catalog: provider {plugin}/{provider}: {e}"),
        Err(e) => tracing::error!("catalog: provider {plugin}/{provider}: {e}"),
    }
}

/// Schedules every plugin entity provider: on load and upgrade, on its
/// interval, on `POST /refresh` of one of its entities; drops the entities of
/// providers whose plugin is gone.
pub fn spawn_providers(plugins: PluginHost, catalog: Catalog) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = plugins.subscribe();
        let mut refreshes = catalog.subscribe_provider_refresh();
        plugins.wait_loaded().await;
        let default_interval = catalog.config().provider_refresh_interval_seconds.max(1);
        // plugin/provider → (next run, interval)
        let mut schedule: HashMap<(String, String), (Instant, Duration)> = HashMap::new();
        let reschedule = |schedule: &mut HashMap<(String, String), (Instant, Duration)>| {
            let present: Vec<(String, portal_plugin_host::model::ProviderInfo)> =
                plugins.providers();
            let mut next = HashMap::new();
            for (plugin, info) in present {
                let interval = match info.refresh_interval_seconds {
                    0 => default_interval,
                    n => u64::from(n),
                };
                let key = (plugin, info.id);
                let due = schedule
                    .get(&key)
                    .map(|(due, _)| *due)
                    .unwrap_or_else(Instant::now);
                next.insert(key, (due, Duration::from_secs(interval)));
            }
            *schedule = next;
        };
        reschedule(&mut schedule);
        // Providers whose plugin did not come back: their entities go.
        for stale in catalog.provider_keys() {
            let known = schedule.keys().any(|(p, id)| format!("{p}/{id}") == stale);
            if !known {
                let catalog = catalog.clone();
                let _ = tokio::task::spawn_blocking(move || catalog.remove_provider(&stale)).await;
            }
        }
        loop {
            let now = Instant::now();
            let due: Vec<(String, String)> = schedule
                .iter()
                .filter(|(_, (at, _))| *at <= now)
                .map(|(k, _)| k.clone())
                .collect();
            for (plugin, provider) in due {
                run_provider(&plugins, &catalog, &plugin, &provider).await;
                if let Some((at, interval)) = schedule.get_mut(&(plugin, provider)) {
                    *at = Instant::now() + *interval;
                }
            }
            let next = schedule
                .values()
                .map(|(at, _)| *at)
                .min()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                event = events.recv() => {
                    match event {
                        Ok(event) => {
                            let plugin = event.plugin.clone().unwrap_or_default();
                            match event.kind {
                                PluginEventKind::Loaded | PluginEventKind::Upgraded => {
                                    reschedule(&mut schedule);
                                    for ((p, _), (at, _)) in schedule.iter_mut() {
                                        if *p == plugin {
                                            *at = Instant::now();
                                        }
                                    }
                                }
                                PluginEventKind::Unloaded => {
                                    reschedule(&mut schedule);
                                    for key in catalog.provider_keys() {
                                        if key.split('/').next() == Some(plugin.as_str())
                                            && !schedule.keys().any(|(p, id)| format!("{p}/{id}") == key)
                                        {
                                            let catalog = catalog.clone();
                                            let _ = tokio::task::spawn_blocking(move || catalog.remove_provider(&key)).await;
                                        }
                                    }
                                }
                                PluginEventKind::Rejected => {}
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => reschedule(&mut schedule),
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    }
                }
                request = refreshes.recv() => {
                    if let Ok(key) = request
                        && let Some((plugin, provider)) = key.split_once('/')
                        && let Some((at, _)) = schedule.get_mut(&(plugin.to_owned(), provider.to_owned()))
                    {
                        *at = Instant::now();
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use portal_catalog::{CatalogConfig, SledStore};
    use portal_catalog_model::Predicate;
    use std::sync::Arc;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn plugins_read_the_catalog_through_their_access() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("catalog.yaml");
        let component = |name: &str, owner: &str| {
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
            )
        };
        std::fs::write(
            &file,
            format!(
                "{}---\n{}",
                component("a-svc", "team-a"),
                component("b-svc", "team-b")
            ),
        )
        .unwrap();
        let config = CatalogConfig::from_value(&serde_json::json!({
            "locations": [{"type": "file", "target": file.to_string_lossy()}],
        }))
        .unwrap();
        let store = SledStore::open(&dir.path().join("store")).unwrap();
        let catalog = Catalog::open_with(Arc::new(store), config, dir.path().into()).unwrap();
        catalog.sync_all().await;
        catalog.wait_idle().await;

        let everyone = CatalogService::new(catalog.clone());
        let team_a = CatalogService::with_access(
            catalog,
            Access::only(Predicate::parse(&serde_json::json!({"spec.owner": "team-a"})).unwrap()),
        );
        for service in [&everyone, &team_a] {
            assert!(service.get_entity("component:a-svc").unwrap().is_some());
        }
        assert!(everyone.get_entity("component:b-svc").unwrap().is_some());
        assert!(team_a.get_entity("component:b-svc").unwrap().is_none());
        assert_eq!(
            everyone
                .query_entities("kind=component", 100)
                .unwrap()
                .len(),
            2
        );
        let seen = team_a.query_entities("kind=component", 100).unwrap();
        assert_eq!(seen.len(), 1);
        assert!(seen[0].contains("\"a-svc\""));
    }
}
