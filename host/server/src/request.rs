//! The one place where a request learns who is asking and what they may do.
//!
//! [`identify`] runs before every route: it reads the credentials (a
//! service token as `Authorization: Bearer`; otherwise the guest, in guest
//! mode), refuses cross-site writes from browsers, and leaves a
//! [`RequestContext`] in the request. Handlers take that context as an
//! extractor and never look at headers themselves: every catalog read takes
//! its [`Access`] from [`RequestContext::access`], and every guarded action
//! goes through [`RequestContext::authorize`] (or `authorize_entity`), which
//! also writes denials to the audit log.

use crate::AppState;
use crate::api::error::ApiError;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use portal_auth::permission::{self, Permission};
use portal_auth::{AuditEvent, Auth, Decision, Identity, Outcome, Principal, Unauthenticated};
use portal_catalog::{Access, Catalog, EntityDoc};
use portal_catalog_model::Predicate;
use std::net::SocketAddr;

/// Per-request facts every handler can take as an extractor.
#[derive(Clone)]
pub struct RequestContext {
    pub principal: Principal,
    /// The peer address, for the audit log.
    pub source: String,
    /// `None`: the portal's own work, which no policy restricts.
    auth: Option<Auth>,
}

impl std::fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestContext")
            .field("principal", &self.principal.display())
            .field("source", &self.source)
            .finish()
    }
}

impl RequestContext {
    /// The portal's own work (background jobs, a plugin's catalog
    /// capability outside any request): sees everything.
    pub fn system() -> RequestContext {
        RequestContext {
            principal: Principal::System,
            source: String::new(),
            auth: None,
        }
    }

    /// A request from `principal`, judged by `auth`'s policy.
    pub fn new(auth: Auth, principal: Principal, source: String) -> RequestContext {
        RequestContext {
            principal,
            source,
            auth: Some(auth),
        }
    }

    /// The policy's decision on `permission` for this principal.
    pub fn decide(&self, permission: &Permission) -> Decision {
        match &self.auth {
            None => Decision::Allow,
            Some(auth) => auth.decide(&self.principal, permission),
        }
    }

    /// What this principal may see in the catalog. The only place an
    /// `Access` is made for a read.
    pub fn access(&self) -> Access {
        access_of(self.decide(&permission::CATALOG_ENTITY_READ))
    }

    /// Allows a permission that is not about one resource, or answers 403
    /// (and records the denial).
    pub fn authorize(&self, permission: &Permission, resource: &str) -> Result<(), ApiError> {
        match self.decide(permission) {
            Decision::Allow => Ok(()),
            Decision::Deny | Decision::Conditional(_) => Err(self.deny(permission, resource)),
        }
    }

    /// Allows `permission` on an entity the caller can already see, or
    /// answers 403 (and records the denial).
    pub fn authorize_entity(
        &self,
        permission: &Permission,
        entity: &EntityDoc,
    ) -> Result<(), ApiError> {
        let allowed = match self.decide(permission) {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Conditional(condition) => {
                condition.to_predicate().matches_entity(&entity.entity())
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(self.deny(permission, &entity.entity_ref))
        }
    }

    /// Whether a template action may run for this principal.
    pub fn may_run_action(&self, action_id: &str) -> bool {
        match self.decide(&permission::SCAFFOLDER_ACTION_EXECUTE) {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Conditional(condition) => condition.matches_action(action_id),
        }
    }

    /// Records a denial and makes its 403.
    pub fn deny(&self, permission: &Permission, resource: &str) -> ApiError {
        self.record(
            permission.name,
            resource,
            Outcome::Denied,
            "not allowed by the permission policy",
        );
        ApiError::not_allowed(format!(
            "{} may not {} ({})",
            self.principal.display(),
            permission.name,
            if resource.is_empty() { "-" } else { resource }
        ))
    }

    /// Writes an audit entry (nothing for the portal's own work).
    pub fn record(&self, action: &str, resource: &str, outcome: Outcome, detail: &str) {
        if let Some(auth) = &self.auth {
            auth.audit().record(AuditEvent::new(
                self.principal.display(),
                action,
                resource,
                outcome,
                &self.source,
                detail,
            ));
        }
    }

    /// Records a mutation's outcome and passes its result through.
    pub fn audited<T>(
        &self,
        action: &str,
        resource: &str,
        result: Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        match &result {
            Ok(_) => self.record(action, resource, Outcome::Succeeded, ""),
            Err(e) => self.record(action, resource, Outcome::Failed, &e.message),
        }
        result
    }
}

/// The catalog access a read decision gives.
pub fn access_of(decision: Decision) -> Access {
    match decision {
        Decision::Allow => Access::all(),
        // An empty `$any` matches nothing.
        Decision::Deny => Access::only(Predicate::Any(vec![])),
        Decision::Conditional(condition) => Access::only(condition.to_predicate()),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // `identify` runs before every route; a context missing here is a
        // routing mistake, and must not fall back to seeing everything.
        parts
            .extensions
            .get::<RequestContext>()
            .cloned()
            .ok_or_else(|| ApiError::internal("the request was not identified"))
    }
}

/// The identity with the groups the catalog knows for it: its user's
/// `memberOf` groups and, transitively, their parents (Backstage's `ent`).
pub fn with_ownership(catalog: &Catalog, mut identity: Identity) -> Identity {
    let mut refs = vec![identity.user_ref.to_lowercase()];
    // Breadth-first up the parent chains, from the index (no entity is
    // rendered: this runs on every request); cycles stop at what was seen,
    // and long chains at a bound no real organisation reaches.
    let mut next = 0;
    while next < refs.len() && refs.len() < 1024 {
        let wanted = if next == 0 { "memberOf" } else { "childOf" };
        for target in catalog.relation_targets(&refs[next], wanted) {
            let target = target.to_lowercase();
            if !refs.contains(&target) {
                refs.push(target);
            }
        }
        next += 1;
    }
    identity.ownership_refs = refs;
    identity
}

/// The principal with its groups from the catalog, when a policy may ask
/// about them (without one, the lookups would be wasted on every request).
fn resolved(state: &AppState, principal: Principal) -> Principal {
    if !state.auth.has_policy() {
        return principal;
    }
    match principal {
        Principal::Guest(identity) => Principal::Guest(with_ownership(&state.catalog, identity)),
        Principal::User(identity) => Principal::User(with_ownership(&state.catalog, identity)),
        other => other,
    }
}

/// The context of the ambient viewer: the guest in guest mode. Without
/// guest mode there is no ambient viewer, and this context may do nothing.
pub fn ambient_context(state: &AppState) -> RequestContext {
    let principal = match state.auth.authenticate(None, None) {
        Ok(principal @ Principal::Guest(_)) => resolved(state, principal),
        _ => anonymous(),
    };
    RequestContext::new(state.auth.clone(), principal, String::new())
}

/// Nobody: what an unauthenticated request to a public path is.
fn anonymous() -> Principal {
    Principal::Service(portal_auth::Service {
        name: "anonymous".into(),
        permissions: Vec::new().into(),
    })
}

/// Paths anyone may reach without signing in: signing in itself, the
/// health check, and the static files the sign-in page needs.
fn is_public(path: &str) -> bool {
    path == "/sign-in"
        || path == "/healthcheck"
        || path.starts_with("/api/auth/")
        || path.starts_with("/pkg/")
        || path.starts_with("/_portal/style.")
        || path == "/_portal/logo"
        || path.starts_with("/favicon.")
}

/// Runs before every route: who is asking, and may a browser send this.
pub async fn identify(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let source = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let path = request.uri().path().to_owned();
    let bearer = match bearer_token(request.headers()) {
        Ok(token) => token,
        Err(message) => {
            return unauthenticated(&state.auth, &source, &path, message);
        }
    };
    let session = cookie_value(request.headers(), SESSION_COOKIE);
    let principal = match state.auth.authenticate(bearer, session) {
        Ok(principal) => resolved(&state, principal),
        Err(Unauthenticated::InvalidToken) => {
            return unauthenticated(&state.auth, &source, &path, "the bearer token is not valid");
        }
        Err(_) if is_public(&path) => anonymous(),
        Err(reason) => {
            // A person opening a page is sent to sign in, and back here
            // after; anything else (the API, the UI's server functions,
            // writes) is told to authenticate.
            let is_page = matches!(*request.method(), Method::GET | Method::HEAD)
                && !path.starts_with("/api/")
                && !path.starts_with("/_portal/");
            if is_page {
                let back = request
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str())
                    .unwrap_or("/");
                return Redirect::to(&format!(
                    "/sign-in?redirect={}",
                    portal_web::model::encode_component(back)
                ))
                .into_response();
            }
            let message = match reason {
                Unauthenticated::InvalidSession => "the session has ended: sign in again",
                _ => "sign in first",
            };
            return unauthenticated(&state.auth, &source, &path, message);
        }
    };
    // A token is sent deliberately; ambient identity (the guest, a
    // session cookie) must not be usable by another site's page.
    if bearer.is_none()
        && is_cross_site_write(
            request.method(),
            request.headers(),
            state.config.server.base_url.as_deref(),
        )
    {
        let context = RequestContext::new(state.auth.clone(), principal, source);
        context.record(
            "request.cross-site",
            &format!("{} {}", request.method(), path),
            Outcome::Denied,
            "a state-changing request from another origin",
        );
        return ApiError::not_allowed("cross-site request refused: its Origin is not this portal")
            .into_response();
    }
    let context = RequestContext::new(state.auth.clone(), principal, source);
    request.extensions_mut().insert(context);
    next.run(request).await
}

/// The session cookie's name (set by `api/sign_in.rs`).
pub const SESSION_COOKIE: &str = "portal_session";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

fn bearer_token(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| "the Authorization header is not text")?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err("the Authorization header must be `Bearer <token>`"),
    }
}

fn unauthenticated(auth: &Auth, source: &str, path: &str, message: &'static str) -> Response {
    auth.audit().record(AuditEvent::new(
        "anonymous".to_owned(),
        "auth.authenticate",
        path,
        Outcome::Denied,
        source,
        message,
    ));
    ApiError::new(
        "AuthenticationError",
        axum::http::StatusCode::UNAUTHORIZED,
        message,
    )
    .into_response()
}

/// A state-changing method whose `Origin` (or, without one, whose
/// `Sec-Fetch-Site`) says another site's page sent it. The portal's own
/// origin is the `Host` it was reached at, or `server.base_url`'s (behind
/// a proxy that forwards another `Host`). Clients that are not browsers
/// send neither header and are not affected.
fn is_cross_site_write(method: &Method, headers: &HeaderMap, base_url: Option<&str>) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let Some(origin) = origin.to_str().ok().and_then(origin_of) else {
            // `Origin: null` (a sandboxed frame, a redirect) or garbage.
            return true;
        };
        if base_url
            .and_then(origin_of)
            .is_some_and(|public| public == origin)
        {
            return false;
        }
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let authority = origin.split_once("://").map(|(_, a)| a);
        return match (authority, host) {
            (Some(authority), Some(host)) => !authority.eq_ignore_ascii_case(host),
            _ => true,
        };
    }
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| site == "cross-site" || site == "same-site")
}

/// A URL's origin as browsers send it in `Origin`: `scheme://host[:port]`,
/// lowercase, without the scheme's default port or any path. `None` when
/// it is not an http(s) URL.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let authority = match scheme.as_str() {
        "http" => authority
            .strip_suffix(":80")
            .unwrap_or(&authority)
            .to_owned(),
        "https" => authority
            .strip_suffix(":443")
            .unwrap_or(&authority)
            .to_owned(),
        _ => return None,
    };
    Some(format!("{scheme}://{authority}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, v.parse().unwrap());
        }
        map
    }

    #[test]
    fn cross_site_writes() {
        let post = Method::POST;
        let same = headers(&[
            ("host", "127.0.0.1:7007"),
            ("origin", "http://127.0.0.1:7007"),
        ]);
        assert!(!is_cross_site_write(&post, &same, None));
        let evil = headers(&[
            ("host", "127.0.0.1:7007"),
            ("origin", "https://evil.example"),
        ]);
        assert!(is_cross_site_write(&post, &evil, None));
        assert!(!is_cross_site_write(&Method::GET, &evil, None));
        let null = headers(&[("host", "127.0.0.1:7007"), ("origin", "null")]);
        assert!(is_cross_site_write(&Method::DELETE, &null, None));
        let fetch = headers(&[("host", "127.0.0.1:7007"), ("sec-fetch-site", "cross-site")]);
        assert!(is_cross_site_write(&post, &fetch, None));
        assert!(!is_cross_site_write(
            &post,
            &headers(&[("host", "127.0.0.1:7007")]),
            None
        ));
        // Behind a proxy: the browser's origin is `server.base_url`'s, the
        // Host the portal sees is the proxy's upstream.
        let proxied = headers(&[
            ("host", "127.0.0.1:7007"),
            ("origin", "https://Portal.Example.com"),
        ]);
        let public_url = "https://portal.example.com:443/some/path";
        let public = Some(public_url);
        assert_eq!(
            origin_of(public_url).as_deref(),
            Some("https://portal.example.com")
        );
        assert!(!is_cross_site_write(&post, &proxied, public));
        assert!(is_cross_site_write(&post, &proxied, None));
        assert!(is_cross_site_write(&post, &evil, public));
        // Another scheme or port of the same host is another origin.
        let http = headers(&[
            ("host", "127.0.0.1:7007"),
            ("origin", "http://portal.example.com"),
        ]);
        assert!(is_cross_site_write(&post, &http, public));
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("https://user@evil.example"), None);
    }

    #[test]
    fn cookies_are_read_from_every_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; portal_session=xyz".parse().unwrap());
        headers.append(header::COOKIE, "b=2".parse().unwrap());
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie_value(&headers, "b"), Some("2"));
        assert_eq!(cookie_value(&headers, "portal"), None);
        headers.append(header::COOKIE, "empty=".parse().unwrap());
        assert_eq!(cookie_value(&headers, "empty"), None);
    }

    #[test]
    fn bearer_tokens() {
        assert_eq!(
            bearer_token(&headers(&[("authorization", "Bearer abc")])),
            Ok(Some("abc"))
        );
        assert_eq!(
            bearer_token(&headers(&[("authorization", "bearer abc ")])),
            Ok(Some("abc"))
        );
        assert!(bearer_token(&headers(&[("authorization", "Basic abc")])).is_err());
        assert!(bearer_token(&headers(&[("authorization", "Bearer ")])).is_err());
        assert_eq!(bearer_token(&HeaderMap::new()), Ok(None));
    }
}
