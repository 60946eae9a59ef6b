//! The server half of the UI: the data-access trait the portal implements, the
//! view builders, and the axum router serving pages, server functions, the
//! hydration bundle (embedded at build time), the stylesheet, the logo and a
//! live event stream.

pub mod branding;
pub mod data;
pub mod graph;
pub mod markdown;
pub mod openapi;
pub mod security;
pub mod views;

pub use branding::Settings;
pub use data::PortalData;

use crate::app::{App, shell};
use crate::model::Branding;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;
use leptos::prelude::*;
use leptos_axum::LeptosRoutes;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

/// How server functions reach the portal's data and the UI's settings
/// (provided as Leptos context).
#[derive(Clone)]
pub struct DataContext {
    pub data: Arc<dyn PortalData>,
    pub panels: Arc<branding::PanelLayout>,
}

mod bundle {
    include!(concat!(env!("OUT_DIR"), "/bundle.rs"));
}

const STYLE: &str = include_str!("../style.css");
const FAVICON: &str = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'><rect width='32' height='32' rx='7' fill='#2456d3'/><path d='M9 9h6v6H9zM17 9h6v6h-6zM9 17h6v6H9zM17 17h6v6h-6z' fill='#fff'/></svg>";

/// Whether this binary carries the hydration bundle (built by `cargo xtask build`).
/// Without it pages still work, read-only, as plain HTML.
pub fn has_bundle() -> bool {
    bundle::NAME.is_some()
}

/// Raw and gzip sizes of the embedded bundle (`.wasm` + `.js`), for reports.
pub fn bundle_sizes() -> Option<(usize, usize)> {
    bundle::NAME?;
    Some((
        bundle::WASM.len() + bundle::JS.len(),
        bundle::WASM_GZ.len() + bundle::JS_GZ.len(),
    ))
}

fn fnv(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The stylesheet's address (its name carries a hash of its content).
pub fn style_href() -> &'static str {
    static HREF: OnceLock<String> = OnceLock::new();
    HREF.get_or_init(|| format!("/_portal/style.{:08x}.css", fnv(STYLE.as_bytes()) as u32))
}

/// The data as the current request's asker may see it (every page load and
/// server function goes through here).
pub fn for_request(data: Arc<dyn PortalData>) -> Arc<dyn PortalData> {
    match use_context::<http::request::Parts>() {
        Some(parts) => data.for_request(&parts).unwrap_or(data),
        None => data,
    }
}

/// A handler rendering the 404 page for paths no route claims.
pub type Fallback =
    Arc<dyn Fn(Request) -> Pin<Box<dyn Future<Output = Response> + Send>> + Send + Sync>;

/// The UI: its routes, and the handler for unknown paths (the server decides
/// which unknown paths are the UI's and which the API's).
pub struct Ui<S> {
    pub router: Router<S>,
    pub not_found: Fallback,
}

pub fn router<S: Clone + Send + Sync + 'static>(
    data: Arc<dyn PortalData>,
    settings: Settings,
) -> Ui<S> {
    if !has_bundle() {
        tracing::warn!(
            "this portal binary has no hydration bundle (build with `cargo xtask build`): pages work, but filters and live updates need a full page load"
        );
    }
    let options = LeptosOptions::builder()
        .output_name(bundle::NAME.unwrap_or("portal-web"))
        .site_pkg_dir("pkg")
        .site_root("/nonexistent-portal-site")
        .build();
    let branding = settings.branding.clone();
    let context = {
        let context = DataContext {
            data: data.clone(),
            panels: Arc::new(settings.panels.clone()),
        };
        move || provide_context(context.clone())
    };
    let app = {
        let options = options.clone();
        let branding = branding.clone();
        move || {
            let mut branding = branding.clone();
            if let Some(context) = use_context::<DataContext>() {
                branding.viewer = for_request(context.data).viewer();
            }
            shell(options.clone(), branding, style_href().to_owned())
        }
    };
    let routes = leptos_axum::generate_route_list(|| view! { <App branding=Branding::default()/> });
    let not_found_render = leptos_axum::render_app_async_with_context(context.clone(), app.clone());
    let not_found: Fallback = Arc::new(move |req| not_found_render(req));
    let logo_file = settings.logo_file.clone();
    let changes = data.clone();
    let router = Router::<LeptosOptions>::new()
        .leptos_routes_with_context(&options, routes, context, app)
        // The home page is the catalog (a real redirect, so it works without JavaScript).
        .route(
            "/",
            get(|| async { axum::response::Redirect::to("/catalog") }),
        )
        .route("/pkg/{file}", get(bundle_file))
        .route("/_portal/{file}", get(static_file))
        .route("/_portal/logo", get(move || logo(logo_file.clone())))
        .route("/_portal/events", get(move || events(changes.clone())))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
        .layer(axum::middleware::from_fn(server_timing))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(tower_http::compression::CompressionLayer::new().gzip(true))
        .with_state(options);
    Ui { router, not_found }
}

/// Adds `Server-Timing: app;dur=…` (time to the response head; pages render
/// completely before that).
async fn server_timing(request: Request, next: axum::middleware::Next) -> Response {
    let started = Instant::now();
    let mut response = next.run(request).await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if let Ok(v) = HeaderValue::from_str(&format!("app;dur={ms:.2}")) {
        response.headers_mut().insert("server-timing", v);
    }
    response
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

/// `/pkg/<name>.js` and `/pkg/<name>_bg.wasm`: the hydration bundle. The name
/// carries a content hash, so the files are cached for good.
async fn bundle_file(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some(name) = bundle::NAME else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let (raw, gz, content_type) = if file == format!("{name}.js") {
        (bundle::JS, bundle::JS_GZ, "text/javascript")
    } else if file == format!("{name}_bg.wasm") {
        (bundle::WASM, bundle::WASM_GZ, "application/wasm")
    } else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "public, max-age=31536000, immutable")
        .header(header::VARY, "accept-encoding");
    let body = if accepts_gzip(&headers) && !gz.is_empty() {
        builder = builder.header(header::CONTENT_ENCODING, "gzip");
        gz
    } else {
        raw
    };
    builder
        .body(Body::from(body))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn static_file(Path(file): Path<String>) -> Response {
    if format!("/_portal/{file}") == style_href() {
        return (
            [
                (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            STYLE,
        )
            .into_response();
    }
    StatusCode::NOT_FOUND.into_response()
}

async fn favicon() -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        FAVICON,
    )
        .into_response()
}

async fn logo(file: Option<std::path::PathBuf>) -> Response {
    let Some(path) = file else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=300"),
                // An SVG logo is an image, never a document with scripts.
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!("cannot read the logo {}: {e}", path.display());
            StatusCode::NOT_FOUND.into_response()
        }
    }
}

/// Server-sent events: `plugins` whenever a plugin is loaded, replaced or removed.
async fn events(
    data: Arc<dyn PortalData>,
) -> Sse<impl futures::Stream<Item = Result<Event, Infallible>>> {
    let stream = data
        .plugin_changes()
        .map(|change| Ok(Event::default().event("plugins").data(change)));
    Sse::new(stream).keep_alive(KeepAlive::default())
}
