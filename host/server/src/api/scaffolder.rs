//! `/api/scaffolder/v2`: Backstage's scaffolder API. Templates are catalog
//! entities of kind Template; tasks run their steps on action plugins
//! (`portal_scaffolder::Scaffolder`); a task's log is read whole, after an
//! event id, long-polled or streamed (SSE, resumable with `after` or
//! `Last-Event-ID`).

use super::error::ApiError;
use crate::AppState;
use crate::request::RequestContext;
use crate::scaffolder_wiring::FoundTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use futures::Stream;
use portal_auth::permission;
use portal_scaffolder::engine::CreateError;
use portal_scaffolder::{DryRun, NewTask, Scaffolder, Task, TaskEvent, TaskStatus, Template};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_stream::StreamExt;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/actions", get(actions))
        .route(
            "/v2/templates/{namespace}/{kind}/{name}/parameter-schema",
            get(parameter_schema),
        )
        .route("/v2/tasks", post(create_task).get(list_tasks))
        .route("/v2/tasks/{id}", get(one_task))
        .route("/v2/tasks/{id}/cancel", post(cancel))
        .route("/v2/tasks/{id}/retry", post(retry))
        .route("/v2/tasks/{id}/events", get(events))
        .route("/v2/tasks/{id}/eventstream", get(event_stream))
        .route("/v2/dry-run", post(dry_run))
}

/// How long `GET .../events` waits for a new event before answering `[]`.
const LONG_POLL: Duration = Duration::from_secs(30);

fn scaffolder(state: &AppState) -> &Scaffolder {
    &state.scaffolder
}

async fn actions(State(state): State<AppState>) -> Json<Value> {
    let actions: Vec<Value> = scaffolder(&state)
        .actions()
        .into_iter()
        .map(|a| {
            json!({
                "id": a.id,
                "description": a.description,
                "examples": [],
                "schema": { "input": a.input_schema, "output": a.output_schema },
                "plugin": a.plugin,
            })
        })
        .collect();
    Json(Value::Array(actions))
}

fn find_template(
    state: &AppState,
    ctx: &RequestContext,
    reference: &str,
) -> Result<FoundTemplate, ApiError> {
    crate::scaffolder_wiring::find_template(&state.catalog, &ctx.access(), reference)
        .map_err(|e| ApiError::input(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("No template found for {reference}")))
}

async fn parameter_schema(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let found = find_template(&state, &ctx, &format!("{kind}:{namespace}/{name}"))?;
    let template =
        Template::from_entity(&found.entity).map_err(|e| ApiError::input(e.to_string()))?;
    Ok(Json(crate::scaffolder_wiring::parameter_schema(
        &found, &template,
    )))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateBody {
    template_ref: String,
    #[serde(default)]
    values: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
}

fn create_error(e: CreateError) -> ApiError {
    match e {
        CreateError::Store(e) => ApiError::internal(e.to_string()),
        CreateError::Io(e) => ApiError::internal(e),
        e @ CreateError::NotFinished { .. } => ApiError::conflict(e.to_string()),
        other => ApiError::input(other.to_string()),
    }
}

/// The values against the template's parameter pages, as task creation
/// checks them (`portal_scaffolder::values`).
fn check_values(
    template: &Template,
    values: &Map<String, Value>,
    secrets: &Map<String, Value>,
) -> Result<(), ApiError> {
    let problems = portal_scaffolder::values::check(
        template.parameters.iter().map(|p| &p.schema),
        values,
        secrets,
    );
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::input(format!(
            "invalid values: {}",
            problems.join("; ")
        )))
    }
}

fn secrets_are_text(secrets: &Map<String, Value>) -> Result<(), ApiError> {
    match secrets.iter().find(|(_, v)| !v.is_string()) {
        Some((key, _)) => Err(ApiError::input(format!("secret `{key}` must be a string"))),
        None => Ok(()),
    }
}

async fn create_task(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<CreateBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    secrets_are_text(&body.secrets)?;
    let found = find_template(&state, &ctx, &body.template_ref)?;
    crate::scaffolder_wiring::authorize_task(&ctx, &found)?;
    let entity_ref = found.entity_ref.clone();
    // The scaffolder checks the template, its actions and the values.
    let created = scaffolder(&state)
        .create(NewTask {
            entity: found.entity,
            entity_ref: found.entity_ref,
            template_dir: found.dir,
            values: body.values,
            secrets: body.secrets,
            user: crate::scaffolder_wiring::task_user(&ctx),
            created_by: Some(ctx.principal.display()),
        })
        .map_err(create_error);
    let resource = match &created {
        Ok(id) => format!("{entity_ref} task {id}"),
        Err(_) => entity_ref,
    };
    let id = ctx.audited("scaffolder.task.create", &resource, created)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListQuery {
    created_by: Option<String>,
    status: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
}

async fn list_tasks(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::SCAFFOLDER_TASK_READ, "")?;
    let status = match query.status.as_deref() {
        None => None,
        Some(s) => Some(
            TaskStatus::parse(s).ok_or_else(|| ApiError::input(format!("unknown status `{s}`")))?,
        ),
    };
    let tasks: Vec<Task> = scaffolder(&state)
        .tasks()
        .map_err(|e| ApiError::internal(e.to_string()))?
        .into_iter()
        .filter(|t| status.is_none_or(|s| t.status == s))
        .filter(|t| {
            query
                .created_by
                .as_ref()
                .is_none_or(|c| t.created_by.as_ref() == Some(c))
        })
        .collect();
    let total = tasks.len();
    let page: Vec<Task> = tasks
        .into_iter()
        .skip(query.offset.unwrap_or(0))
        .take(query.limit.unwrap_or(usize::MAX))
        .collect();
    Ok(Json(json!({ "tasks": page, "totalTasks": total })))
}

fn task_or_404(state: &AppState, id: &str) -> Result<Task, ApiError> {
    scaffolder(state)
        .task(id)
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("Task with id {id} does not exist")))
}

async fn one_task(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<Task>, ApiError> {
    ctx.authorize(&permission::SCAFFOLDER_TASK_READ, &id)?;
    Ok(Json(task_or_404(&state, &id)?))
}

async fn cancel(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    ctx.authorize(&permission::SCAFFOLDER_TASK_CANCEL, &id)?;
    let cancelled = scaffolder(&state)
        .cancel(&id)
        .map_err(|e| ApiError::internal(e.to_string()))
        .and_then(|t| {
            t.ok_or_else(|| ApiError::not_found(format!("Task with id {id} does not exist")))
        });
    let task = ctx.audited("scaffolder.task.cancel", &id, cancelled)?;
    if task.status.is_final() {
        return Ok(Json(json!({ "status": task.status })));
    }
    Ok(Json(json!({ "status": "cancelled" })))
}

#[derive(Deserialize, Default)]
struct RetryBody {
    #[serde(default)]
    secrets: Map<String, Value>,
}

async fn retry(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    body: Option<Json<RetryBody>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body.map(|Json(b)| b).unwrap_or_default();
    secrets_are_text(&body.secrets)?;
    // A retry runs the task's steps again: the same checks as creating it.
    let task = task_or_404(&state, &id)?;
    let found = crate::scaffolder_wiring::FoundTemplate {
        entity: json!({ "spec": { "steps": task.spec.steps } }),
        entity_ref: task.spec.template_info.entity_ref.clone(),
        dir: None,
    };
    crate::scaffolder_wiring::authorize_task(&ctx, &found)?;
    let retried = scaffolder(&state)
        .retry(&id, body.secrets)
        .map_err(create_error)
        .and_then(|t| {
            t.ok_or_else(|| ApiError::not_found(format!("Task with id {id} does not exist")))
        });
    let id = ctx.audited("scaffolder.task.retry", &id, retried)?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

#[derive(Deserialize)]
struct AfterQuery {
    after: Option<u64>,
}

/// `after` from the query, else from `Last-Event-ID` (an SSE client's resume).
fn after(query: &AfterQuery, headers: &HeaderMap) -> u64 {
    query
        .after
        .or_else(|| {
            headers
                .get("last-event-id")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

async fn events(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<AfterQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<TaskEvent>>, ApiError> {
    ctx.authorize(&permission::SCAFFOLDER_TASK_READ, &id)?;
    let task = task_or_404(&state, &id)?;
    let after = after(&query, &headers);
    let scaffolder = scaffolder(&state);
    let mut live = scaffolder.subscribe();
    let stored = scaffolder
        .events_after(&id, after)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    if !stored.is_empty() || task.status.is_final() {
        return Ok(Json(stored));
    }
    // Long poll: the first new event of this task, or nothing after a while.
    let wait = async {
        loop {
            match live.recv().await {
                Ok(event) if event.task_id == id && event.id > after => return vec![event],
                Ok(_) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    return scaffolder.events_after(&id, after).unwrap_or_default();
                }
                Err(_) => return Vec::new(),
            }
        }
    };
    Ok(Json(
        tokio::time::timeout(LONG_POLL, wait)
            .await
            .unwrap_or_default(),
    ))
}

fn sse_event(event: &TaskEvent) -> Event {
    Event::default()
        .id(event.id.to_string())
        .event(event.kind.name())
        .data(serde_json::to_string(event).expect("events serialise"))
}

async fn event_stream(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<AfterQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    ctx.authorize(&permission::SCAFFOLDER_TASK_READ, &id)?;
    let after = after(&query, &headers);
    let scaffolder = scaffolder(&state).clone();
    // Subscribe first, then read what is stored: nothing falls in between.
    let live = scaffolder.subscribe();
    let stored = scaffolder
        .events_after(&id, after)
        .map_err(|e| ApiError::internal(e.to_string()))?;
    // Read after subscribing too: a retried task's log holds its earlier
    // runs' completions, so only a final task whose log ends in one is done.
    let task = task_or_404(&state, &id)?;
    let finished = task.status.is_final() && stored.last().is_some_and(is_last);
    let last_stored = stored.last().map_or(after, |e| e.id);
    let backlog = tokio_stream::iter(stored.into_iter().map(|e| Ok(sse_event(&e))));
    // New events of this task until its completion, which ends the stream.
    let follow = futures::stream::unfold(
        (live, id, finished),
        move |(mut live, id, done)| async move {
            if done {
                return None;
            }
            loop {
                match live.recv().await {
                    Ok(event) if event.task_id == id && event.id > last_stored => {
                        let last = is_last(&event);
                        return Some((Ok(sse_event(&event)), (live, id, last)));
                    }
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(backlog.chain(follow)).keep_alive(KeepAlive::default()))
}

/// A task's log ends with its completion or cancellation.
fn is_last(event: &TaskEvent) -> bool {
    !matches!(event.kind, portal_scaffolder::EventKind::Log)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DryRunBody {
    template: Value,
    #[serde(default)]
    values: Map<String, Value>,
    #[serde(default)]
    secrets: Map<String, Value>,
    #[serde(default)]
    directory_contents: Vec<FileBody>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileBody {
    path: String,
    base64_content: String,
}

/// The most files and bytes a dry run accepts.
const DRY_RUN_MAX_FILES: usize = 10_000;

async fn dry_run(
    State(state): State<AppState>,
    ctx: RequestContext,
    Json(body): Json<DryRunBody>,
) -> Result<Json<Value>, ApiError> {
    secrets_are_text(&body.secrets)?;
    // A dry run runs the template's actions (in dry-run mode): the same
    // checks as a task.
    let found = crate::scaffolder_wiring::FoundTemplate {
        entity: body.template.clone(),
        entity_ref: "dry-run".to_owned(),
        dir: None,
    };
    crate::scaffolder_wiring::authorize_task(&ctx, &found)?;
    if body.directory_contents.len() > DRY_RUN_MAX_FILES {
        return Err(ApiError::input(format!(
            "directoryContents has {} files, over the limit of {DRY_RUN_MAX_FILES}",
            body.directory_contents.len()
        )));
    }
    let template =
        Template::from_entity(&body.template).map_err(|e| ApiError::input(e.to_string()))?;
    check_values(&template, &body.values, &body.secrets)?;
    let mut files = Vec::with_capacity(body.directory_contents.len());
    for file in body.directory_contents {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(file.base64_content.as_bytes())
            .map_err(|e| ApiError::input(format!("directoryContents `{}`: {e}", file.path)))?;
        files.push((file.path, bytes));
    }
    let result = scaffolder(&state)
        .dry_run(DryRun {
            entity: body.template,
            values: body.values,
            secrets: body.secrets,
            user: None,
            files,
        })
        .await
        .map_err(create_error)?;
    let contents: Vec<Value> = result
        .files
        .iter()
        .map(|(path, executable, bytes)| {
            json!({
                "path": path,
                "executable": executable,
                "base64Content": base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        })
        .collect();
    Ok(Json(json!({
        "status": result.status,
        "error": result.error,
        "log": result.log.iter().map(|e| json!({ "body": e.body })).collect::<Vec<_>>(),
        "output": result.output,
        "steps": result.steps,
        "directoryContents": contents,
    })))
}
