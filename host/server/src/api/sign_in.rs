//! Signing in and out (`/sign-in`, `/api/auth/...`).
//!
//! The flow: a page that needs a signed-in user redirects to
//! `/sign-in?redirect=<path>`, which lists the providers; each links to
//! `/api/auth/<id>/start`, which sends the browser to the provider with a
//! binding cookie; the provider sends it back to `/api/auth/<id>/callback`,
//! where the sign-in is verified (`portal_auth::oidc`), matched to a catalog
//! User by the provider's rule, and given a session cookie. `POST
//! /api/auth/sign-out` ends the session.

use super::escape_html;
use crate::AppState;
use crate::request::{RequestContext, SESSION_COOKIE, cookie_value};
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use portal_auth::oidc::{self, SignInError};
use portal_auth::{Outcome, Verified};
use portal_catalog::{Access, EntityQuery, Page};
use portal_catalog_model::Predicate;
use portal_config::SignInRule;
use portal_web::model::encode_component;
use serde::Deserialize;
use std::collections::BTreeMap;

/// The cookie binding a started sign-in to the browser that started it.
const BINDING_COOKIE: &str = "portal_sign_in";

/// `/api/auth/...`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-out", post(sign_out))
        .route("/{provider}/start", get(start))
        .route("/{provider}/callback", get(callback))
}

#[derive(Deserialize)]
pub struct RedirectQuery {
    #[serde(default)]
    redirect: String,
}

/// `/sign-in`: the providers to sign in with.
pub async fn page(State(state): State<AppState>, Query(q): Query<RedirectQuery>) -> Response {
    let Some(sign_in) = state.auth.sign_in() else {
        // Guest mode: there is nothing to sign in to.
        return Redirect::to("/").into_response();
    };
    let redirect = oidc::local_redirect(&q.redirect).unwrap_or_else(|_| "/".to_owned());
    let buttons: String = sign_in
        .providers()
        .iter()
        .map(|p| {
            format!(
                r#"<li><a class="button primary" href="/api/auth/{}/start?redirect={}">Sign in with {}</a></li>"#,
                p.id,
                encode_component(&redirect),
                escape_html(&p.title)
            )
        })
        .collect();
    frame(
        &state,
        StatusCode::OK,
        "Sign in",
        &format!(r#"<ul class="sign-in-providers">{buttons}</ul>"#),
    )
}

/// `GET /api/auth/<id>/start?redirect=<path>`.
async fn start(
    State(state): State<AppState>,
    Path(provider): Path<String>,
    Query(q): Query<RedirectQuery>,
) -> Response {
    let Some(sign_in) = state.auth.sign_in() else {
        return failure(&state, StatusCode::NOT_FOUND, "sign-in is not configured");
    };
    match sign_in.begin(&provider, &q.redirect).await {
        Ok(started) => {
            let mut response = Redirect::to(&started.authorize_url).into_response();
            set_cookie(
                &mut response,
                &cookie(
                    &state,
                    BINDING_COOKIE,
                    &started.binding,
                    "/api/auth/",
                    oidc::SIGN_IN_TIMEOUT.as_secs(),
                ),
            );
            response
        }
        Err(e) => failure(&state, status_of(&e), &e.to_string()),
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /api/auth/<id>/callback?code=&state=`: the provider's answer.
async fn callback(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(provider): Path<String>,
    Query(q): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Response {
    let (Some(sign_in), Some(sessions)) = (state.auth.sign_in(), state.auth.sessions()) else {
        return failure(&state, StatusCode::NOT_FOUND, "sign-in is not configured");
    };
    let error = q.error.as_ref().map(|e| match &q.error_description {
        Some(d) => format!("{e}: {d}"),
        None => e.clone(),
    });
    let binding = cookie_value(&headers, BINDING_COOKIE);
    let verified = sign_in
        .finish(
            &provider,
            &q.state,
            q.code.as_deref(),
            error.as_deref(),
            binding,
        )
        .await;
    let verified = match verified {
        Ok(v) => v,
        Err(e) => {
            ctx.record("auth.sign-in", &provider, Outcome::Denied, &e.to_string());
            return failure(&state, status_of(&e), &e.to_string());
        }
    };
    let rule = sign_in
        .provider(&provider)
        .map(|p| p.sign_in.clone())
        .unwrap_or_default();
    let user_ref = match resolve_user(&state, &rule, &verified) {
        Ok(user_ref) => user_ref,
        Err(reason) => {
            ctx.record("auth.sign-in", &provider, Outcome::Denied, &reason);
            return failure(&state, StatusCode::FORBIDDEN, &reason);
        }
    };
    let session = match sessions.create(&user_ref, &provider, kept_claims(verified.claims)) {
        Ok(cookie) => cookie,
        Err(e) => {
            tracing::error!("sign-in: cannot store the session: {e}");
            return failure(
                &state,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the session could not be stored; try again",
            );
        }
    };
    RequestContext::new(
        state.auth.clone(),
        portal_auth::Principal::User(portal_auth::Identity::user(user_ref.clone())),
        ctx.source.clone(),
    )
    .record("auth.sign-in", &provider, Outcome::Succeeded, "");
    tracing::info!(user = %user_ref, provider = %provider, "signed in");
    let mut response = Redirect::to(&verified.redirect).into_response();
    let max_age = sessions.max_age().as_secs();
    set_cookie(
        &mut response,
        &cookie(&state, SESSION_COOKIE, &session, "/", max_age),
    );
    set_cookie(
        &mut response,
        &cookie(&state, BINDING_COOKIE, "", "/api/auth/", 0),
    );
    response
}

/// `POST /api/auth/sign-out`: ends the session, clears the cookie.
async fn sign_out(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
) -> Response {
    if let (Some(session), Some(sessions)) = (
        cookie_value(&headers, SESSION_COOKIE),
        state.auth.sessions(),
    ) && sessions.remove(session)
    {
        ctx.record("auth.sign-out", "", Outcome::Succeeded, "");
    }
    let to = if state.auth.sign_in().is_some() {
        "/sign-in"
    } else {
        "/"
    };
    let mut response = Redirect::to(to).into_response();
    set_cookie(&mut response, &cookie(&state, SESSION_COOKIE, "", "/", 0));
    response
}

/// The catalog User a verified sign-in is, by the provider's rule. A
/// sign-in that matches none (or several) is refused.
fn resolve_user(
    state: &AppState,
    rule: &SignInRule,
    verified: &Verified,
) -> Result<String, String> {
    match rule {
        SignInRule::Email => {
            let email = verified
                .claim_str("email")
                .ok_or("the provider sent no email claim (ask for the `email` scope)")?;
            if verified.claims.get("email_verified") == Some(&serde_json::Value::Bool(false)) {
                return Err(format!(
                    "the provider has not verified the email address {email}"
                ));
            }
            let filter = Predicate::parse(&serde_json::json!({
                "$all": [{"kind": "user"}, {"spec.profile.email": email}]
            }))
            .map_err(|e| format!("cannot search the catalog: {e}"))?;
            let found = state.catalog.query(
                &EntityQuery {
                    filter: Some(filter),
                    page: Page::Offset {
                        offset: 0,
                        limit: Some(2),
                    },
                    ..Default::default()
                },
                &Access::all(),
            );
            match found.items.as_slice() {
                [one] => Ok(one.entity_ref.to_string()),
                [] => Err(format!(
                    "no User in the catalog has the email address {email}: ask your portal's administrators to add you"
                )),
                _ => Err(format!(
                    "several Users in the catalog have the email address {email}: ask your portal's administrators to fix it"
                )),
            }
        }
        SignInRule::Claim { claim } => {
            let name = verified
                .claim_str(claim)
                .ok_or_else(|| format!("the provider sent no `{claim}` claim"))?;
            match state.catalog.get("user", "default", name, &Access::all()) {
                Some(user) => Ok(user.entity_ref.to_string()),
                None => Err(format!(
                    "no User named `{}` is in the catalog: ask your portal's administrators to add you",
                    clip(name)
                )),
            }
        }
    }
}

/// The claims a session keeps: the identity ones a policy may ask about,
/// not the token's own bookkeeping, and nothing huge.
fn kept_claims(
    mut claims: BTreeMap<String, serde_json::Value>,
) -> BTreeMap<String, serde_json::Value> {
    for bookkeeping in [
        "aud",
        "exp",
        "iat",
        "nbf",
        "nonce",
        "at_hash",
        "c_hash",
        "auth_time",
        "sid",
        "azp",
        "jti",
    ] {
        claims.remove(bookkeeping);
    }
    claims.retain(|_, v| v.to_string().len() <= 4096);
    claims
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax (the provider's redirect
/// back is a cross-site navigation; Strict would drop the cookie there),
/// Secure when the portal is served over https. `max_age` 0 clears it.
fn cookie(state: &AppState, name: &str, value: &str, path: &str, max_age: u64) -> String {
    let secure = if state.auth.secure_cookies() {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

fn set_cookie(response: &mut Response, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The status of a sign-in that failed: the provider's fault (502), no
/// such provider (404), or the request's (400).
fn status_of(e: &SignInError) -> StatusCode {
    match e {
        SignInError::Discovery { .. } | SignInError::TokenExchange(_) => StatusCode::BAD_GATEWAY,
        SignInError::UnknownProvider(_) => StatusCode::NOT_FOUND,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A sign-in failure, as a page that says why and offers to start again.
fn failure(state: &AppState, status: StatusCode, message: &str) -> Response {
    frame(
        state,
        status,
        "Sign-in failed",
        &format!(
            r#"<p class="sign-in-error" role="alert">{}</p><p><a href="/sign-in">Sign in again</a></p>"#,
            escape_html(message)
        ),
    )
}

/// A small page in the portal's style, outside the app frame (nothing of
/// the portal is shown before sign-in).
fn frame(state: &AppState, status: StatusCode, heading: &str, body: &str) -> Response {
    let title = escape_html(&state.config.app.title);
    let html = format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{heading} · {title}</title><link rel="stylesheet" href="{style}"><link rel="icon" href="/favicon.svg"></head><body><main class="sign-in"><h1>{heading}</h1><p class="sign-in-portal">{title}</p>{body}</main></body></html>"#,
        style = portal_web::ssr::style_href(),
    );
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn clip(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(100).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_html(r#"<a href='x'>"#), "&lt;a href=&#39;x&#39;&gt;");
    }
}
