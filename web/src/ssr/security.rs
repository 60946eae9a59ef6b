//! Security headers on every response of the UI: a strict Content-Security-Policy
//! (scripts only from the portal itself or carrying this response's nonce, no
//! inline handlers, no plugins, no `<base>`, no framing), `nosniff` and a
//! same-origin referrer policy. Plugin output and Markdown are sanitised before
//! they reach a page; the policy is the second line if something slips through.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use leptos::prelude::*;

/// The policy for a page whose scripts carry `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' https: data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// For responses that render no page (redirects, files, errors): nothing may run inline.
const DEFAULT_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' https: data:; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// Called while a page renders (from the document shell): gives the page a
/// fresh nonce, which Leptos puts on every script it writes, and sends the
/// policy naming it.
pub fn provide_page_nonce() {
    leptos::nonce::provide_nonce();
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) = HeaderValue::from_str(&page_policy(&nonce))
    {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Middleware: the headers every response carries.
pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_POLICY),
        );
    }
    response
}
