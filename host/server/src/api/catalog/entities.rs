//! `/entities`, `/entities/by-uid`, `/entities/by-name`, ancestry, by-refs.

use super::{JsonObject, QueryPairs, encode_cursor, json_bytes};
use crate::AppState;
use crate::api::error::ApiError;
use crate::request::RequestContext;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portal_auth::permission;
use portal_catalog::{EntityDoc, EntityQuery, OrderField, Page, SortOrder};
use portal_catalog_model::{EntityFilter, FieldSet, Predicate};
use serde_json::{Value, json};

/// Parses repeated `filter` parameters into a predicate (`None`: no filter).
pub fn filter_predicate(filters: &[String]) -> Result<Option<Predicate>, ApiError> {
    let filter = EntityFilter::parse(filters).map_err(|e| ApiError::input(e.to_string()))?;
    Ok((!filter.is_empty()).then(|| filter.to_predicate()))
}

/// Parses `fields` parameters (each comma-separated).
pub fn field_set(params: &[String]) -> Result<Option<FieldSet>, ApiError> {
    let set = FieldSet::parse_params(params).map_err(|e| ApiError::input(e.to_string()))?;
    Ok((!set.is_empty()).then_some(set))
}

/// Writes one entity, projected when `fields` is set.
pub fn write_entity(out: &mut Vec<u8>, doc: &EntityDoc, fields: Option<&FieldSet>) {
    match fields {
        None => out.extend_from_slice(&doc.json),
        Some(f) => {
            let projected = f.project(&doc.value());
            serde_json::to_writer(&mut *out, &projected).expect("writing to a Vec");
        }
    }
}

/// A JSON array of entities.
pub fn entity_array(docs: &[EntityDoc], fields: Option<&FieldSet>) -> Vec<u8> {
    let mut out = Vec::with_capacity(docs.iter().map(|d| d.json.len() + 1).sum::<usize>() + 2);
    out.push(b'[');
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_entity(&mut out, d, fields);
    }
    out.push(b']');
    out
}

fn parse_order(values: &[String]) -> Result<Vec<OrderField>, ApiError> {
    values
        .iter()
        .map(|v| {
            let (dir, field) = v.split_once(':').ok_or_else(|| {
                ApiError::input(format!(
                    "Invalid order parameter \"{v}\", expected \"asc:<field>\" or \"desc:<field>\""
                ))
            })?;
            let order = match dir.trim() {
                "asc" => SortOrder::Asc,
                "desc" => SortOrder::Desc,
                _ => {
                    return Err(ApiError::input(format!(
                        "Invalid order parameter \"{v}\", expected \"asc:<field>\" or \"desc:<field>\""
                    )));
                }
            };
            if field.trim().is_empty() {
                return Err(ApiError::input(format!("Invalid order parameter \"{v}\": missing field")));
            }
            Ok(OrderField {
                field: field.trim().to_owned(),
                order,
            })
        })
        .collect()
}

/// `GET /entities`: a bare array; paginated with `limit`/`offset`/`after`
/// plus a `Link: <…>; rel="next"` header.
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = QueryPairs::parse(raw.as_deref());
    let filter = filter_predicate(&params.all("filter"))?;
    let fields = field_set(&params.all("fields"))?;
    let order = parse_order(&params.all("order"))?;
    let mut limit = params.number("limit")?;
    let mut offset = params.number("offset")?;
    if let Some(after) = params.one("after") {
        let cursor = super::decode_cursor(&after)?;
        limit = cursor["limit"].as_u64().map(|n| n as usize).or(limit);
        offset = cursor["offset"].as_u64().map(|n| n as usize).or(offset);
    }
    let paginated = limit.is_some() || offset.is_some();
    let query = EntityQuery {
        filter,
        order,
        require_order_field: false,
        full_text: None,
        page: Page::Offset {
            offset: offset.unwrap_or(0),
            limit,
        },
    };
    let access = ctx.access();
    let catalog = state.catalog.clone();
    if !paginated {
        // Possibly everything: stream it in chunks rendered off the runtime.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
        tokio::task::spawn_blocking(move || {
            let (handles, _) = catalog.query_handles(&query, &access);
            if tx.blocking_send(Ok(b"[".to_vec())).is_err() {
                return;
            }
            let mut first = true;
            // Projections that need neither relations nor status read the stored
            // body directly: no rendering.
            let body_only = fields.as_ref().is_some_and(|f| {
                !f.fields()
                    .iter()
                    .any(|p| p.starts_with("relations") || p.starts_with("status"))
            });
            if let (true, Some(f)) = (body_only, fields.as_ref()) {
                for chunk in handles.chunks(500) {
                    let mut out = Vec::new();
                    for h in chunk {
                        let Ok(projected) = f.project_json(&catalog.stored_body(h)) else {
                            continue;
                        };
                        if !first {
                            out.push(b',');
                        }
                        first = false;
                        serde_json::to_writer(&mut out, &projected).expect("JSON");
                    }
                    if tx.blocking_send(Ok(out)).is_err() {
                        return;
                    }
                }
                let _ = tx.blocking_send(Ok(b"]".to_vec()));
                return;
            }
            for chunk in handles.chunks(500) {
                let docs = catalog.render(chunk);
                let mut out = Vec::with_capacity(docs.iter().map(|d| d.json.len() + 1).sum());
                for d in &docs {
                    if !first {
                        out.push(b',');
                    }
                    first = false;
                    write_entity(&mut out, d, fields.as_ref());
                }
                if tx.blocking_send(Ok(out)).is_err() {
                    return;
                }
            }
            let _ = tx.blocking_send(Ok(b"]".to_vec()));
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        return Ok(json_bytes(StatusCode::OK, Body::from_stream(stream)));
    }
    let result = tokio::task::spawn_blocking(move || catalog.query(&query, &access))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let body = entity_array(&result.items, fields.as_ref());
    let mut response = json_bytes(StatusCode::OK, body);
    if result.has_next
        && let Some(limit) = limit
    {
        let next = json!({"limit": limit, "offset": offset.unwrap_or(0) + limit});
        let kept: Vec<(String, String)> = params
            .0
            .iter()
            .filter(|(k, _)| k != "offset" && k != "after")
            .cloned()
            .collect();
        let mut qs = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            qs.append_pair(k, v);
        }
        qs.append_pair("after", &encode_cursor(&next));
        let link = format!("</api/catalog/entities?{}>; rel=\"next\"", qs.finish());
        if let Ok(v) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(response)
}

fn not_found_by_name(kind: &str, namespace: &str, name: &str) -> ApiError {
    ApiError::not_found(format!(
        "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
    ))
}

/// `GET /entities/by-name/:kind/:namespace/:name`.
pub async fn by_name(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let doc = state
        .catalog
        .get(&kind, &namespace, &name, &ctx.access())
        .ok_or_else(|| not_found_by_name(&kind, &namespace, &name))?;
    Ok(json_bytes(StatusCode::OK, doc.json))
}

/// `GET /entities/by-uid/:uid`.
pub async fn by_uid(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    let doc = state
        .catalog
        .get_by_uid(&uid, &ctx.access())
        .ok_or_else(|| ApiError::not_found(format!("No entity with uid {uid}")))?;
    Ok(json_bytes(StatusCode::OK, doc.json))
}

/// `DELETE /entities/by-uid/:uid`: 204 (also when there was none, as
/// Backstage does).
pub async fn delete_by_uid(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(uid): Path<String>,
) -> Result<Response, ApiError> {
    // One the caller cannot see is answered like one that does not exist.
    if let Some(doc) = state.catalog.get_by_uid(&uid, &ctx.access()) {
        ctx.authorize_entity(&permission::CATALOG_ENTITY_DELETE, &doc)?;
        let catalog = state.catalog.clone();
        let uid2 = uid.clone();
        let deleted = tokio::task::spawn_blocking(move || catalog.delete_by_uid(&uid2))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))
            .and_then(|r| r.map_err(ApiError::from));
        ctx.audited("catalog.entity.delete", &doc.entity_ref, deleted)?;
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /entities/by-name/:kind/:namespace/:name/ancestry`.
pub async fn ancestry(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((kind, namespace, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let (root, items) = state
        .catalog
        .ancestry(&kind, &namespace, &name, &ctx.access())
        .ok_or_else(|| not_found_by_name(&kind, &namespace, &name))?;
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"rootEntityRef\":");
    serde_json::to_writer(&mut out, &root).expect("JSON");
    out.extend_from_slice(b",\"items\":[");
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(b"{\"entity\":");
        out.extend_from_slice(&item.entity.json);
        out.extend_from_slice(b",\"parentEntityRefs\":");
        serde_json::to_writer(&mut out, &item.parent_entity_refs).expect("JSON");
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, out))
}

/// `POST /entities/by-refs`: `{items: [entity | null]}` in request order.
pub async fn by_refs(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    super::strict(&body, &["entityRefs", "fields", "query"])?;
    let refs: Vec<String> = match body.get("entityRefs") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| ApiError::input("entityRefs must be an array of strings"))
            })
            .collect::<Result<_, _>>()?,
        _ => {
            return Err(ApiError::input(
                "Missing entityRefs: expected an array of entity refs",
            ));
        }
    };
    let fields = match body.get("fields") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => {
            let list: Vec<String> = items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            field_set(&list)?
        }
        Some(_) => return Err(ApiError::input("fields must be an array of strings")),
    };
    let params = QueryPairs::parse(raw.as_deref());
    let mut predicate = filter_predicate(&params.all("filter"))?;
    if let Some(q) = body.get("query") {
        let p = Predicate::parse(q).map_err(|e| ApiError::input(e.to_string()))?;
        predicate = Some(match predicate {
            Some(f) => Predicate::All(vec![p, f]),
            None => p,
        });
    }
    let access = ctx.access();
    let catalog = state.catalog.clone();
    let docs = tokio::task::spawn_blocking(move || {
        catalog.get_by_refs(&refs, predicate.as_ref(), &access)
    })
    .await
    .map_err(|e| ApiError::internal(e.to_string()))?;
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"items\":[");
    for (i, d) in docs.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match d {
            Some(d) => write_entity(&mut out, d, fields.as_ref()),
            None => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"]}");
    Ok(json_bytes(StatusCode::OK, out))
}
