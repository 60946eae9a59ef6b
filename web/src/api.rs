//! Server functions: how pages load their views. On the server they run
//! directly while rendering (and their results travel in the page for
//! hydration); in the browser they are `POST /_portal/fn/<name>` calls, used
//! when filters, search or navigation change what a page shows.

use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
fn context() -> Result<crate::ssr::DataContext, ServerFnError> {
    use_context::<crate::ssr::DataContext>()
        .ok_or_else(|| ServerFnError::new("the portal's data is not available"))
}

#[cfg(feature = "ssr")]
fn data() -> Result<crate::ssr::views::Data, ServerFnError> {
    context().map(|c| c.data)
}

/// Sets the status of the page being rendered (no-op in the browser).
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(http::StatusCode::from_u16(code).unwrap_or(http::StatusCode::OK));
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

#[server(prefix = "/_portal/fn", endpoint = "catalog", input = Json)]
pub async fn load_catalog(query: CatalogQuery) -> Result<CatalogView, ServerFnError> {
    let data = data()?;
    let started = std::time::Instant::now();
    let view = crate::ssr::views::catalog(&data, query)
        .await
        .map_err(ServerFnError::new)?;
    tracing::debug!(rows = view.rows.len(), total = view.total, elapsed = ?started.elapsed(), "catalog view");
    Ok(view)
}

#[server(prefix = "/_portal/fn", endpoint = "entity", input = Json)]
pub async fn load_entity(
    namespace: String,
    kind: String,
    name: String,
    tab: Option<String>,
) -> Result<Option<EntityView>, ServerFnError> {
    let context = context()?;
    let started = std::time::Instant::now();
    let view = crate::ssr::views::entity(
        &context.data,
        &context.panels,
        &kind,
        &namespace,
        &name,
        tab.as_deref(),
    )
    .await
    .map_err(ServerFnError::new)?;
    tracing::debug!(%kind, %namespace, %name, elapsed = ?started.elapsed(), "entity view");
    Ok(view)
}

#[server(prefix = "/_portal/fn", endpoint = "plugins", input = Json)]
pub async fn load_plugins() -> Result<PluginsView, ServerFnError> {
    let data = data()?;
    Ok(crate::ssr::views::plugins(&data).await)
}

#[server(prefix = "/_portal/fn", endpoint = "search", input = Json)]
pub async fn load_search(term: String, kind: Option<String>) -> Result<SearchView, ServerFnError> {
    let data = data()?;
    crate::ssr::views::search(&data, &term, kind.as_deref())
        .await
        .map_err(ServerFnError::new)
}

/// Templates for the Create page (running them is not built yet).
#[server(prefix = "/_portal/fn", endpoint = "templates", input = Json)]
pub async fn load_templates() -> Result<Vec<Row>, ServerFnError> {
    let data = data()?;
    let page = data
        .query_entities(crate::ssr::data::EntityQuery {
            filter: Some(serde_json::json!({ "kind": "template" })),
            limit: 100,
            ..Default::default()
        })
        .await
        .map_err(|e| ServerFnError::new(e.0))?;
    Ok(page.items.iter().map(crate::ssr::views::row).collect())
}
