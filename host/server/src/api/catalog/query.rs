//! `GET|POST /entities/by-query`: cursor-paginated queries.
//!
//! Cursors are base64 JSON in Backstage's shape: `{orderFields,
//! orderFieldValues, isPrevious, filter? | query?, fullTextFilter?,
//! totalItems?}`. `orderFieldValues` holds the sort values of the boundary
//! entity followed by its ref. A GET cursor carries `filter` (the raw filter
//! strings), a POST cursor `query` (the predicate): the official client
//! switches to POST exactly when a cursor contains `query`.

use super::entities::{field_set, filter_predicate, write_entity};
use super::{JsonObject, QueryPairs, decode_cursor, encode_cursor, json_bytes};
use crate::AppState;
use crate::api::error::ApiError;
use crate::request::RequestContext;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use portal_catalog::{EntityQuery, FullTextFilter, OrderField, Page, Position, SortOrder};
use portal_catalog_model::{FieldSet, Predicate};
use serde_json::{Value, json};

/// Backstage's default page size for by-query.
const DEFAULT_LIMIT: usize = 200;

enum Where {
    Filter(Vec<String>),
    Query(Value),
}

struct Request {
    filter: Where,
    order: Vec<OrderField>,
    full_text: Option<FullTextFilter>,
    limit: usize,
    offset: Option<usize>,
    position: Option<(Position, bool)>,
    fields: Option<FieldSet>,
    total_items: bool,
}

fn parse_order_field(v: &str) -> Result<OrderField, ApiError> {
    let (field, dir) = match v.split_once(',') {
        Some((f, d)) => (f.trim(), d.trim()),
        None => (v.trim(), "asc"),
    };
    let order = match dir {
        "asc" => SortOrder::Asc,
        "desc" => SortOrder::Desc,
        _ => {
            return Err(ApiError::input(format!(
                "Invalid orderField \"{v}\": the order must be asc or desc"
            )));
        }
    };
    if field.is_empty() {
        return Err(ApiError::input(format!(
            "Invalid orderField \"{v}\": missing field"
        )));
    }
    Ok(OrderField {
        field: field.to_owned(),
        order,
    })
}

fn order_from_json(v: &Value) -> Result<Vec<OrderField>, ApiError> {
    let items: Vec<Value> = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Array(items) => items.clone(),
        Value::Object(_) => vec![v.clone()],
        _ => return Err(ApiError::input("orderBy must be a list of {field, order}")),
    };
    items
        .iter()
        .map(|o| {
            let field = o["field"]
                .as_str()
                .filter(|f| !f.trim().is_empty())
                .ok_or_else(|| ApiError::input("orderBy entries need a field"))?;
            let order = match o["order"].as_str().unwrap_or("asc") {
                "asc" => SortOrder::Asc,
                "desc" => SortOrder::Desc,
                other => {
                    return Err(ApiError::input(format!(
                        "Invalid order \"{other}\": expected asc or desc"
                    )));
                }
            };
            Ok(OrderField {
                field: field.trim().to_owned(),
                order,
            })
        })
        .collect()
}

fn full_text_from_json(v: &Value) -> Option<FullTextFilter> {
    let term = v["term"].as_str()?.trim().to_owned();
    if term.is_empty() {
        return None;
    }
    let fields = v["fields"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Some(FullTextFilter { term, fields })
}

fn position_from_cursor(
    cursor: &Value,
    order_len: usize,
) -> Result<Option<(Position, bool)>, ApiError> {
    let Some(values) = cursor["orderFieldValues"].as_array() else {
        return Ok(None);
    };
    if values.len() != order_len + 1 {
        return Err(ApiError::input(
            "Malformed cursor: orderFieldValues does not match orderFields",
        ));
    }
    let entity_ref = values[order_len]
        .as_str()
        .ok_or_else(|| ApiError::input("Malformed cursor: bad orderFieldValues"))?
        .to_owned();
    let position = Position {
        values: values[..order_len]
            .iter()
            .map(|v| v.as_str().map(str::to_owned))
            .collect(),
        entity_ref,
    };
    Ok(Some((
        position,
        cursor["isPrevious"].as_bool().unwrap_or(false),
    )))
}

fn apply_cursor(req: &mut Request, cursor: &Value) -> Result<(), ApiError> {
    req.order = order_from_json(&cursor["orderFields"])?;
    req.full_text = full_text_from_json(&cursor["fullTextFilter"]);
    req.filter = if let Some(q) = cursor.get("query") {
        Where::Query(q.clone())
    } else {
        Where::Filter(
            cursor["filter"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    if let Some(t) = cursor.get("totalItems") {
        req.total_items = !t.is_boolean() || t.as_bool() == Some(true);
    }
    req.position = position_from_cursor(cursor, req.order.len())?;
    req.offset = None;
    Ok(())
}

fn total_items_flag(v: Option<&str>) -> Result<bool, ApiError> {
    match v {
        None | Some("include") => Ok(true),
        Some("exclude") => Ok(false),
        Some(other) => Err(ApiError::input(format!(
            "Invalid totalItems \"{other}\": expected include or exclude"
        ))),
    }
}

/// `GET /entities/by-query`.
pub async fn by_query_get(
    State(state): State<AppState>,
    ctx: RequestContext,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let params = QueryPairs::parse(raw.as_deref());
    let mut req = Request {
        filter: Where::Filter(params.all("filter")),
        order: params
            .all("orderField")
            .iter()
            .map(|v| parse_order_field(v))
            .collect::<Result<_, _>>()?,
        full_text: params
            .one("fullTextFilterTerm")
            .filter(|t| !t.trim().is_empty())
            .map(|term| FullTextFilter {
                term: term.trim().to_owned(),
                fields: params
                    .all("fullTextFilterFields")
                    .iter()
                    .flat_map(|f| f.split(','))
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty())
                    .collect(),
            }),
        limit: params.number("limit")?.unwrap_or(DEFAULT_LIMIT),
        offset: params.number("offset")?,
        position: None,
        fields: field_set(&params.all("fields"))?,
        total_items: total_items_flag(params.one("totalItems").as_deref())?,
    };
    if let Some(cursor) = params.one("cursor") {
        let cursor = decode_cursor(&cursor)?;
        apply_cursor(&mut req, &cursor)?;
    }
    run(state, ctx, req).await
}

/// `POST /entities/by-query`.
pub async fn by_query_post(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    super::strict(
        &body,
        &[
            "query",
            "cursor",
            "limit",
            "offset",
            "orderBy",
            "fullTextFilter",
            "fields",
            "totalItems",
        ],
    )?;
    let number = |key: &str| -> Result<Option<usize>, ApiError> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_u64()
                .map(|n| Some(n as usize))
                .ok_or_else(|| ApiError::input(format!("{key} must be a non-negative integer"))),
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
    let mut req = Request {
        filter: match body.get("query") {
            Some(q) => Where::Query(q.clone()),
            None => Where::Filter(Vec::new()),
        },
        order: order_from_json(body.get("orderBy").unwrap_or(&Value::Null))?,
        full_text: body.get("fullTextFilter").and_then(full_text_from_json),
        limit: number("limit")?.unwrap_or(DEFAULT_LIMIT),
        offset: number("offset")?,
        position: None,
        fields,
        total_items: total_items_flag(body.get("totalItems").and_then(Value::as_str))?,
    };
    if let Some(cursor) = body.get("cursor").and_then(Value::as_str) {
        let cursor = decode_cursor(cursor)?;
        apply_cursor(&mut req, &cursor)?;
        if let Where::Filter(f) = &req.filter
            && f.is_empty()
            && cursor.get("filter").is_none()
        {
            req.filter = Where::Filter(Vec::new());
        }
    }
    run(state, ctx, req).await
}

async fn run(state: AppState, ctx: RequestContext, req: Request) -> Result<Response, ApiError> {
    let predicate: Option<Predicate> = match &req.filter {
        Where::Filter(f) => filter_predicate(f)?,
        Where::Query(q) => Some(Predicate::parse(q).map_err(|e| ApiError::input(e.to_string()))?),
    };
    let page = match &req.position {
        Some((position, backwards)) => Page::After {
            position: position.clone(),
            backwards: *backwards,
            limit: req.limit,
        },
        None => Page::Offset {
            offset: req.offset.unwrap_or(0),
            limit: Some(req.limit),
        },
    };
    let query = EntityQuery {
        filter: predicate,
        order: req.order.clone(),
        require_order_field: true,
        full_text: req.full_text.clone(),
        page,
    };
    let access = ctx.access();
    let catalog = state.catalog.clone();
    let result = tokio::task::spawn_blocking(move || catalog.query(&query, &access))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;

    let cursor_base = |position: &Position, is_previous: bool| -> String {
        let mut values: Vec<Value> = position
            .values
            .iter()
            .map(|v| v.clone().map(Value::String).unwrap_or(Value::Null))
            .collect();
        values.push(Value::String(position.entity_ref.clone()));
        let mut c = json!({
            "orderFields": req.order,
            "orderFieldValues": values,
            "isPrevious": is_previous,
        });
        match &req.filter {
            Where::Filter(f) => c["filter"] = json!(f),
            Where::Query(q) => c["query"] = q.clone(),
        }
        if let Some(ft) = &req.full_text {
            c["fullTextFilter"] = json!(ft);
        }
        if !req.total_items {
            c["totalItems"] = json!(false);
        }
        encode_cursor(&c)
    };
    let mut page_info = serde_json::Map::new();
    if result.has_next
        && let Some(last) = result.positions.last()
    {
        page_info.insert("nextCursor".into(), cursor_base(last, false).into());
    }
    if result.has_prev
        && let Some(first) = result.positions.first()
    {
        page_info.insert("prevCursor".into(), cursor_base(first, true).into());
    }
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"items\":[");
    for (i, d) in result.items.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_entity(&mut out, d, req.fields.as_ref());
    }
    out.extend_from_slice(b"],\"totalItems\":");
    let total = if req.total_items { result.total } else { 0 };
    out.extend_from_slice(total.to_string().as_bytes());
    out.extend_from_slice(b",\"pageInfo\":");
    serde_json::to_writer(&mut out, &page_info).expect("JSON");
    out.push(b'}');
    Ok(json_bytes(StatusCode::OK, out))
}
