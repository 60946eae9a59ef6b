//! `/api/techdocs`: Backstage's TechDocs routes over the stored sites, so its
//! links and clients work, plus Portal's build status.
//!
//! - `GET /static/docs/:namespace/:kind/:name/*path`: each page as MkDocs
//!   lays a site out (`index.html`, `guide/setup/index.html`), and the
//!   assets. Only exact stored keys are ever looked up (there is no file
//!   system behind this route), and a path with `.`/`..` segments (also
//!   percent-encoded), backslashes, encoded slashes or empty segments is a
//!   404 before that.
//! - `GET /metadata/techdocs/:namespace/:kind/:name` and
//!   `GET /metadata/entity/:namespace/:kind/:name`: Backstage's shapes.
//! - `GET /sync/:namespace/:kind/:name`: Backstage's "is it up to date"
//!   call, as server-sent events (`log`, then `finish {updated}` or `error`):
//!   the sources are checked now and rebuilt if they changed.
//! - `GET /status` and `GET /status/:namespace/:kind/:name`: every site's
//!   build state, error and problems (Portal's, not Backstage's).
//!
//! Like Backstage with permissions on, a site is served only to whoever
//! may read its entity from the catalog.

use crate::AppState;
use crate::api::error::ApiError;
use crate::request::RequestContext;
use crate::techdocs_wiring::TECHDOCS_REF;
use axum::Json;
use axum::Router;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use portal_techdocs::site_key;
use portal_types::docs::{DocsNavItem, DocsSite};
use serde_json::{Value, json};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/static/docs/{*rest}", get(static_docs))
        .route(
            "/metadata/techdocs/{namespace}/{kind}/{name}",
            get(techdocs_metadata),
        )
        .route(
            "/metadata/entity/{namespace}/{kind}/{name}",
            get(entity_metadata),
        )
        .route("/sync/{namespace}/{kind}/{name}", get(sync))
        .route("/status", get(statuses))
        .route("/status/{namespace}/{kind}/{name}", get(status))
}

const STATIC_PREFIX: &str = "/api/techdocs/static/docs/";

/// Pages: no script at all, images from the portal or the web, styles
/// inline; never framed by another site.
const PAGE_CSP: &str = "default-src 'none'; img-src 'self' https:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";
/// Assets (an SVG opened directly is a document that could run script):
/// nothing runs, nothing loads.
const ASSET_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; sandbox";

/// A path segment, percent-decoded, if it is an ordinary name.
fn segment(raw: &str) -> Option<String> {
    let bytes: Vec<u8> = percent_decode(raw)?;
    let s = String::from_utf8(bytes).ok()?;
    let bad = s.is_empty()
        || s == "."
        || s == ".."
        || s.contains(['/', '\\', '\0'])
        || s.chars().any(char::is_control);
    (!bad).then_some(s)
}

fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// What a static path asks for, once checked.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StaticPath {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    /// The rest, `/`-joined decoded segments, with a trailing `/` if the
    /// request had one (`""` for the site root).
    pub rest: String,
}

/// Splits and checks a raw (still percent-encoded) path after the prefix;
/// `None` for anything that is not a plain relative path.
pub(crate) fn parse_static(raw: &str) -> Option<StaticPath> {
    let mut parts = raw.split('/');
    let namespace = segment(parts.next()?)?;
    let kind = segment(parts.next()?)?;
    let name = segment(parts.next()?)?;
    let rest: Vec<&str> = parts.collect();
    let mut out = Vec::new();
    for (i, part) in rest.iter().enumerate() {
        // A trailing slash is fine; an empty segment elsewhere (`//etc`) is not.
        if part.is_empty() && i + 1 == rest.len() {
            break;
        }
        out.push(segment(part)?);
    }
    let mut rest = out.join("/");
    if raw.ends_with('/') && !rest.is_empty() {
        rest.push('/');
    }
    Some(StaticPath {
        namespace,
        kind,
        name,
        rest,
    })
}

fn not_found() -> Response {
    ApiError::not_found("Not Found").into_response()
}

/// The entity, if the asker may read it.
fn visible(
    state: &AppState,
    ctx: &RequestContext,
    namespace: &str,
    kind: &str,
    name: &str,
) -> Option<Value> {
    state
        .catalog
        .get(kind, namespace, name, &ctx.access())
        .map(|d| d.value())
}

async fn static_docs(
    State(state): State<AppState>,
    ctx: RequestContext,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let Some(raw) = uri.path().strip_prefix(STATIC_PREFIX) else {
        return not_found();
    };
    let Some(path) = parse_static(raw) else {
        return not_found();
    };
    let span = tracing::debug_span!("techdocs_static", site = %format!("{}/{}/{}", path.namespace, path.kind, path.name), path = %path.rest);
    let _enter = span.enter();
    // Only whether it may be read: no need to render the entity.
    if state
        .catalog
        .get(&path.kind, &path.namespace, &path.name, &ctx.access())
        .is_none()
    {
        return not_found();
    }
    let key = site_key(&path.namespace, &path.kind, &path.name);
    let docs = &state.techdocs;
    let site = match docs.site(&key) {
        Ok(Some(site)) => site,
        Ok(None) => return not_found(),
        Err(e) => return ApiError::internal(e.to_string()).into_response(),
    };
    let rest = path.rest.as_str();
    let page_path = if rest.is_empty() || rest.ends_with('/') {
        Some(rest.to_owned())
    } else if rest == "index.html" {
        Some(String::new())
    } else {
        rest.strip_suffix("/index.html").map(|p| format!("{p}/"))
    };
    if let Some(page_path) = page_path {
        return match docs.page(&key, &page_path) {
            Ok(Some(page)) => {
                let html = page_document(&site, &page.title, &page_path, &page.html);
                let mut response =
                    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
                secure(&mut response, PAGE_CSP);
                response
            }
            Ok(None) => not_found(),
            Err(e) => ApiError::internal(e.to_string()).into_response(),
        };
    }
    if rest == "techdocs_metadata.json" {
        return Json(metadata_json(&site)).into_response();
    }
    if rest == "search/search_index.json" {
        return search_index(&state, &key, &site).into_response();
    }
    match docs.store().asset(&key, rest) {
        Ok(Some(bytes)) => {
            let mut response =
                ([(header::CONTENT_TYPE, content_type(rest))], bytes).into_response();
            secure(&mut response, ASSET_CSP);
            response
        }
        Ok(None) => {
            // `guide/setup` for the page `guide/setup/`: where MkDocs' server
            // would send you.
            let dir = format!("{rest}/");
            if site.pages.iter().any(|p| p.path == dir) {
                let location = format!("{}/", uri.path());
                return (
                    StatusCode::MOVED_PERMANENTLY,
                    [(header::LOCATION, location)],
                )
                    .into_response();
            }
            not_found()
        }
        Err(e) => ApiError::internal(e.to_string()).into_response(),
    }
}

fn secure(response: &mut Response, csp: &'static str) {
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
}

/// By extension; anything unknown is bytes to download, never sniffed.
fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "svg" => "image/svg+xml",
        "css" => "text/css; charset=utf-8",
        "txt" | "log" | "csv" | "yaml" | "yml" | "toml" => "text/plain; charset=utf-8",
        "json" => "application/json",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

/// `to` (a site path) relative to the page at `from`.
fn relative(from: &str, to: &str) -> String {
    let depth = from.split('/').filter(|s| !s.is_empty()).count();
    let out = format!("{}{to}", "../".repeat(depth));
    if out.is_empty() { "./".to_owned() } else { out }
}

/// A page as a whole HTML document: the site's nav, then the page body (as
/// the builder sanitised it). No script, no outside stylesheet.
fn page_document(site: &DocsSite, title: &str, path: &str, body: &str) -> String {
    fn nav(items: &[DocsNavItem], from: &str, out: &mut String) {
        out.push_str("<ul>");
        for item in items {
            match item {
                DocsNavItem::Page { title, path } => out.push_str(&format!(
                    "<li><a href=\"{}\">{}</a></li>",
                    super::escape_html(&relative(from, path)),
                    super::escape_html(title)
                )),
                DocsNavItem::Link { title, url } => out.push_str(&format!(
                    "<li><a href=\"{}\" rel=\"noopener noreferrer\">{}</a></li>",
                    super::escape_html(url),
                    super::escape_html(title)
                )),
                DocsNavItem::Section { title, children } => {
                    out.push_str(&format!("<li>{}", super::escape_html(title)));
                    nav(children, from, out);
                    out.push_str("</li>");
                }
            }
        }
        out.push_str("</ul>");
    }
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} - {}</title></head><body><nav class=\"md-nav\" aria-label=\"{}\">",
        super::escape_html(title),
        super::escape_html(&site.site_name),
        super::escape_html(&site.site_name),
    );
    nav(&site.nav, path, &mut out);
    out.push_str("</nav><article class=\"md-content\">");
    out.push_str(body);
    out.push_str("</article></body></html>\n");
    out
}

/// Backstage's `techdocs_metadata.json`.
fn metadata_json(site: &DocsSite) -> Value {
    let files: Vec<String> = site
        .pages
        .iter()
        .map(|p| format!("{}index.html", p.path))
        .chain(site.assets.iter().map(|(path, _)| path.clone()))
        .collect();
    json!({
        "site_name": site.site_name,
        "site_description": site.site_description.clone().unwrap_or_default(),
        "etag": site.etag,
        "build_timestamp": site.build_timestamp,
        "files": files,
    })
}

/// MkDocs' `search/search_index.json` (one document per page), which
/// Backstage's search collator reads.
fn search_index(state: &AppState, key: &str, site: &DocsSite) -> Response {
    let mut docs = Vec::with_capacity(site.pages.len());
    for entry in &site.pages {
        if let Ok(Some(page)) = state.techdocs.page(key, &entry.path) {
            docs.push(json!({ "location": entry.path, "title": page.title, "text": page.text }));
        }
    }
    Json(json!({ "config": { "lang": ["en"] }, "docs": docs })).into_response()
}

async fn techdocs_metadata(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let missing = || ApiError::not_found(format!("No TechDocs site for {kind}:{namespace}/{name}"));
    if visible(&state, &ctx, &namespace, &kind, &name).is_none() {
        return Err(missing());
    }
    let site = state
        .techdocs
        .site(&site_key(&namespace, &kind, &name))
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(missing)?;
    Ok(Json(metadata_json(&site)))
}

async fn entity_metadata(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let mut entity = visible(&state, &ctx, &namespace, &kind, &name)
        .ok_or_else(|| ApiError::not_found(format!("No entity named {kind}:{namespace}/{name}")))?;
    let techdocs_ref = entity["metadata"]["annotations"][TECHDOCS_REF]
        .as_str()
        .unwrap_or("")
        .to_owned();
    if let Some((type_, target)) = techdocs_ref.split_once(':') {
        entity["locationMetadata"] = json!({ "type": type_.trim(), "target": target.trim() });
    }
    Ok(Json(entity))
}

/// Longest a sync waits for its check.
const SYNC_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

async fn sync(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    use portal_types::docs::DocsState;
    let missing = || ApiError::not_found(format!("{kind}:{namespace}/{name} has no TechDocs"));
    visible(&state, &ctx, &namespace, &kind, &name).ok_or_else(missing)?;
    ctx.authorize(
        &portal_auth::permission::TECHDOCS_SYNC,
        &format!("{kind}:{namespace}/{name}"),
    )?;
    let key = site_key(&namespace, &kind, &name);
    let docs = &state.techdocs;
    let before = docs.status(&key).ok_or_else(missing)?;
    let mut changes = docs.subscribe();
    docs.request_sync(&key);
    let settled = |s: &portal_types::docs::DocsStatus| {
        s.version != before.version
            && !matches!(s.state, DocsState::Pending | DocsState::Building)
            && (s.builds != before.builds
                || s.skipped != before.skipped
                || matches!(s.state, DocsState::Refused | DocsState::Failed))
    };
    let wait = async {
        loop {
            if let Some(s) = docs.status(&key)
                && settled(&s)
            {
                return Some(s);
            }
            match changes.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return None,
            }
        }
    };
    let after = tokio::time::timeout(SYNC_WAIT, wait).await.ok().flatten();
    let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
    let mut body = event("log", json!("Checking the sources for changes"));
    match after {
        Some(s) if s.state == DocsState::Built => {
            body.push_str(&event(
                "finish",
                json!({ "updated": s.builds != before.builds }),
            ));
        }
        Some(s) => body.push_str(&event(
            "error",
            json!(s.error.unwrap_or_else(|| "the build failed".to_owned())),
        )),
        None => body.push_str(&event("error", json!("the check did not finish in time"))),
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response())
}

async fn statuses(State(state): State<AppState>, ctx: RequestContext) -> Json<Value> {
    let access = ctx.access();
    let items: Vec<_> = state
        .techdocs
        .statuses()
        .into_iter()
        .filter(|s| {
            let mut parts = s.key.splitn(3, '/');
            match (parts.next(), parts.next(), parts.next()) {
                (Some(ns), Some(kind), Some(name)) => {
                    state.catalog.get(kind, ns, name, &access).is_some()
                }
                _ => false,
            }
        })
        .collect();
    Json(json!({ "items": items }))
}

async fn status(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path((namespace, kind, name)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let missing = || ApiError::not_found(format!("{kind}:{namespace}/{name} has no TechDocs"));
    visible(&state, &ctx, &namespace, &kind, &name).ok_or_else(missing)?;
    let status = state
        .techdocs
        .status(&site_key(&namespace, &kind, &name))
        .ok_or_else(missing)?;
    Ok(Json(serde_json::to_value(status).unwrap_or(Value::Null)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_paths_are_plain_or_refused() {
        let ok = parse_static("default/component/svc/guide/setup/").unwrap();
        assert_eq!(ok.rest, "guide/setup/");
        assert_eq!(parse_static("default/component/svc/").unwrap().rest, "");
        assert_eq!(parse_static("default/component/svc").unwrap().rest, "");
        assert_eq!(
            parse_static("default/component/svc/img/a%20b.png")
                .unwrap()
                .rest,
            "img/a b.png"
        );
        for bad in [
            "default/component/svc/../../etc/passwd",
            "default/component/svc/%2e%2e/x",
            "default/component/svc/%2E%2E%2Fx",
            "default/component/svc/..%5cx",
            "default/component/svc/a\\b",
            "default/component/svc//etc/passwd",
            "default/component/svc/./index.html",
            "default/component/svc/%2fetc/passwd",
            "default/component/svc/a%00b",
            "default/component/svc/%zz",
            "../component/svc/",
            "default/component",
        ] {
            assert_eq!(parse_static(bad), None, "{bad}");
        }
    }
}
