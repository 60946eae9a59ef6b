//! Server functions: how pages load their views. On the server they run
//! directly while rendering (and their results travel in the page for
//! hydration); in the browser they are `POST /_portal/fn/<name>` calls, used
//! when filters, search or navigation change what a page shows.

use crate::model::*;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[cfg(feature = "ssr")]
fn context() -> Result<crate::ssr::DataContext, ServerFnError> {
    let mut context = use_context::<crate::ssr::DataContext>()
        .ok_or_else(|| ServerFnError::new("the portal's data is not available"))?;
    context.data = crate::ssr::for_request(context.data);
    Ok(context)
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
pub async fn load_search(request: SearchRequest) -> Result<SearchView, ServerFnError> {
    let data = data()?;
    crate::ssr::views::search(&data, request)
        .await
        .map_err(ServerFnError::new)
}

/// The search box's suggestions (as the user types).
#[server(prefix = "/_portal/fn", endpoint = "suggest", input = Json)]
pub async fn load_suggestions(term: String) -> Result<Vec<Suggestion>, ServerFnError> {
    Ok(data()?.suggest(&term).await)
}

/// A page of the audit log (`/audit`).
#[server(prefix = "/_portal/fn", endpoint = "audit", input = Json)]
pub async fn load_audit(request: AuditRequest) -> Result<AuditView, ServerFnError> {
    data()?.audit(request).await.map_err(ServerFnError::new)
}

/// The installed template actions (`/create/actions`).
#[server(prefix = "/_portal/fn", endpoint = "actions", input = Json)]
pub async fn load_actions() -> Result<Vec<ActionRow>, ServerFnError> {
    Ok(data()?.actions().await)
}

/// Templates for the Create page.
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

/// A template's form (`/create/templates/:namespace/:name`); `None` when the
/// catalog has no such template.
#[server(prefix = "/_portal/fn", endpoint = "template-form", input = Json)]
pub async fn load_template_form(
    namespace: String,
    name: String,
) -> Result<Option<TemplateForm>, ServerFnError> {
    let data = data()?;
    crate::ssr::views::create::template_form(&data, &namespace, &name, true)
        .await
        .map_err(ServerFnError::new)
}

/// Runs a template with the form's values (checked again here); the new
/// task's id, or why it was refused.
#[server(prefix = "/_portal/fn", endpoint = "create-task", input = Json)]
pub async fn create_task(
    namespace: String,
    name: String,
    values: serde_json::Map<String, serde_json::Value>,
    secrets: serde_json::Map<String, serde_json::Value>,
) -> Result<CreateOutcome, ServerFnError> {
    let data = data()?;
    let outcome = crate::ssr::views::create::create_task(&data, &namespace, &name, values, secrets)
        .await
        .map_err(ServerFnError::new)?;
    if let CreateOutcome::Started { id } = &outcome {
        tracing::info!(task = %id, template = %format!("{namespace}/{name}"), "task created from the web UI");
    }
    Ok(outcome)
}

/// The template editor: the form a pasted template generates, or its problems.
#[server(prefix = "/_portal/fn", endpoint = "template-preview", input = Json)]
pub async fn preview_template(text: String) -> Result<EditorPreview, ServerFnError> {
    let data = data()?;
    Ok(crate::ssr::views::editor::preview(&data, &text).await)
}

/// The template editor: a dry run of a pasted template, with the files of a
/// registered one (`files_from`: its ref, or empty for none).
#[server(prefix = "/_portal/fn", endpoint = "template-dry-run", input = Json)]
pub async fn dry_run_template(
    text: String,
    files_from: String,
    values: serde_json::Map<String, serde_json::Value>,
    secrets: serde_json::Map<String, serde_json::Value>,
) -> Result<DryRunView, ServerFnError> {
    let data = data()?;
    let files_from = (!files_from.is_empty()).then_some(files_from);
    crate::ssr::views::editor::dry_run(&data, &text, files_from, values, secrets)
        .await
        .map_err(ServerFnError::new)
}

/// A task's page (`/create/tasks/:id`); `None` when there is no such task.
#[server(prefix = "/_portal/fn", endpoint = "task", input = Json)]
pub async fn load_task(id: String) -> Result<Option<TaskView>, ServerFnError> {
    let data = data()?;
    crate::ssr::views::create::task(&data, &id)
        .await
        .map_err(ServerFnError::new)
}

/// Asks a running task to stop. A plain form post (it works without
/// JavaScript: the portal answers with a redirect back to the task).
#[server(prefix = "/_portal/fn", endpoint = "task-cancel")]
pub async fn cancel_task(id: String) -> Result<(), ServerFnError> {
    let data = data()?;
    match data.cancel_task(&id).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(ServerFnError::new(format!("there is no task {id}"))),
        Err(e) => Err(ServerFnError::new(e.0)),
    }
}

/// Runs a finished task again (a plain form post, like `cancel_task`).
#[server(prefix = "/_portal/fn", endpoint = "task-retry")]
pub async fn retry_task(id: String) -> Result<(), ServerFnError> {
    let data = data()?;
    match data.retry_task(&id).await {
        Ok(crate::ssr::data::TaskRequest::Started(_)) => Ok(()),
        Ok(crate::ssr::data::TaskRequest::Refused(message)) => Err(ServerFnError::new(message)),
        Err(e) => Err(ServerFnError::new(e.0)),
    }
}

/// `/docs`: documented entities, filtered by owner and kind.
#[server(prefix = "/_portal/fn", endpoint = "docs-list", input = Json)]
pub async fn load_docs_list(
    owner: Option<String>,
    kind: Option<String>,
) -> Result<DocsListView, ServerFnError> {
    let data = data()?;
    crate::ssr::views::docs_list(&data, owner, kind)
        .await
        .map_err(ServerFnError::new)
}

/// One page of a TechDocs site; `None` when the catalog has no such entity.
#[server(prefix = "/_portal/fn", endpoint = "docs", input = Json)]
pub async fn load_docs(
    namespace: String,
    kind: String,
    name: String,
    path: String,
) -> Result<Option<DocsSiteView>, ServerFnError> {
    let data = data()?;
    let started = std::time::Instant::now();
    let view = crate::ssr::views::docs_site(&data, &namespace, &kind, &name, &path)
        .await
        .map_err(ServerFnError::new)?;
    tracing::debug!(%kind, %namespace, %name, %path, elapsed = ?started.elapsed(), "docs view");
    Ok(view)
}

/// The version of a site's build status: cheap, polled by open docs pages to
/// show an edit as soon as it is built.
#[server(prefix = "/_portal/fn", endpoint = "docs-version", input = Json)]
pub async fn docs_version(
    namespace: String,
    kind: String,
    name: String,
) -> Result<u64, ServerFnError> {
    let data = data()?;
    let key = crate::ssr::views::docs::site_key(&namespace, &kind, &name);
    Ok(data.docs_status(&key).await.map_or(0, |s| s.version))
}
