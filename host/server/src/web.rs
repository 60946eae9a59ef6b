//! The web UI's view of the portal: [`portal_web::ssr::PortalData`] over the
//! catalog and the plugin host. The UI crate never depends on either; this is
//! the only place the two meet.

use crate::AppState;
use crate::api::catalog::access;
use crate::request::{Principal, RequestContext};
use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use portal_catalog::{EntityQuery as CatalogQuery, FullTextFilter, OrderField, Page};
use portal_catalog_model::Predicate;
use portal_plugin_host::CallError;
use portal_web::ssr::data::{
    DataError, EntityPage, EntityQuery, EntityRecord, FacetCount, PanelError, PanelInfo, PortalData,
};
use serde_json::Value;
use tokio_stream::wrappers::BroadcastStream;

/// The portal's data, as the UI asks for it.
pub struct WebData {
    state: AppState,
}

impl WebData {
    pub fn new(state: AppState) -> WebData {
        WebData { state }
    }

    /// Pages are anonymous today, like the REST API; once sign-in exists the
    /// request context will travel here.
    fn access(&self) -> portal_catalog::Access {
        access(&RequestContext {
            principal: Principal::Anonymous,
        })
    }
}

fn predicate(filter: Option<Value>) -> Result<Option<Predicate>, DataError> {
    filter
        .map(|f| Predicate::parse(&f).map_err(|e| DataError(format!("invalid filter: {e}"))))
        .transpose()
}

#[async_trait]
impl PortalData for WebData {
    async fn query_entities(&self, query: EntityQuery) -> Result<EntityPage, DataError> {
        let q = CatalogQuery {
            filter: predicate(query.filter)?,
            order: query
                .order
                .into_iter()
                .map(|k| {
                    if k.desc {
                        OrderField::desc(k.field)
                    } else {
                        OrderField::asc(k.field)
                    }
                })
                .collect(),
            require_order_field: false,
            full_text: query.text.map(|t| FullTextFilter {
                term: t.term,
                fields: t.fields,
            }),
            page: Page::Offset {
                offset: query.offset,
                limit: Some(query.limit),
            },
        };
        let result = self.state.catalog.query(&q, &self.access());
        Ok(EntityPage {
            items: result.items.iter().map(|d| d.value()).collect(),
            total: result.total,
            has_next: result.has_next,
        })
    }

    async fn facets(
        &self,
        fields: Vec<String>,
        filter: Option<Value>,
    ) -> Result<Vec<(String, Vec<FacetCount>)>, DataError> {
        let filter = predicate(filter)?;
        Ok(self
            .state
            .catalog
            .facets(&fields, filter.as_ref(), &self.access())
            .into_iter()
            .map(|(field, counts)| {
                (
                    field,
                    counts
                        .into_iter()
                        .map(|c| FacetCount {
                            value: c.value,
                            count: c.count,
                        })
                        .collect(),
                )
            })
            .collect())
    }

    async fn entity(&self, entity_ref: &str) -> Result<Option<EntityRecord>, DataError> {
        let doc = self
            .state
            .catalog
            .get_by_ref(entity_ref, &self.access())
            .map_err(|e| DataError(e.to_string()))?;
        let stale_after_ms = self
            .state
            .catalog
            .config()
            .refresh_interval_seconds
            .saturating_mul(3_000);
        Ok(doc.map(|d| EntityRecord {
            last_confirmed_ms: Some(d.last_confirmed.0),
            // Three missed refreshes: the source has stopped confirming it.
            stale_after_ms: (stale_after_ms > 0).then_some(stale_after_ms),
            entity: d.value(),
        }))
    }

    async fn entities_by_refs(&self, refs: Vec<String>) -> Result<Vec<Option<Value>>, DataError> {
        Ok(self
            .state
            .catalog
            .get_by_refs(&refs, None, &self.access())
            .into_iter()
            .map(|d| d.map(|d| d.value()))
            .collect())
    }

    async fn panels_for(&self, entity: &Value) -> Vec<PanelInfo> {
        self.state
            .plugins
            .panels_for(entity)
            .into_iter()
            .map(|p| {
                let placement = serde_json::to_value(p.panel.placement)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "card".to_owned());
                PanelInfo {
                    plugin: p.plugin,
                    id: p.panel.id,
                    title: p.panel.title,
                    placement,
                }
            })
            .collect()
    }

    async fn render_panel(
        &self,
        plugin: &str,
        panel: &str,
        entity: &Value,
    ) -> Result<Value, PanelError> {
        match self
            .state
            .plugins
            .render_panel(plugin, panel, &entity.to_string())
            .await
        {
            Ok(widget) => serde_json::to_value(widget).map_err(|e| {
                PanelError::Failed(format!("the panel's output cannot be shown: {e}"))
            }),
            Err(e) => Err(match &e {
                CallError::NoSuchPlugin(_) | CallError::NoSuchExtension { .. } => {
                    PanelError::NotFound(e.to_string())
                }
                CallError::Timeout { .. } | CallError::CpuLimit { .. } => {
                    PanelError::Timeout(e.to_string())
                }
                _ => PanelError::Failed(e.to_string()),
            }),
        }
    }

    async fn plugins(&self) -> Vec<Value> {
        self.state
            .plugins
            .statuses()
            .into_iter()
            .filter_map(|s| serde_json::to_value(s).ok())
            .collect()
    }

    fn plugins_dir(&self) -> Option<String> {
        Some(self.state.plugins.plugins_dir().display().to_string())
    }

    fn plugin_changes(&self) -> BoxStream<'static, String> {
        BroadcastStream::new(self.state.plugins.subscribe())
            .filter_map(|event| async move {
                event.ok().map(|e| match &e.plugin {
                    Some(p) => format!("{} {p} ({})", e.kind, e.file),
                    None => format!("{} {}", e.kind, e.file),
                })
            })
            .boxed()
    }
}
