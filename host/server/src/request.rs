//! The one place where a request learns who is asking. Today every request is
//! anonymous and may do everything; sign-in and permissions will fill this in,
//! and every read path already receives the `RequestContext` to filter by.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::convert::Infallible;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials were presented (allowed while permissions are off).
    Anonymous,
}

/// Per-request facts every handler can take as an extractor.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub principal: Principal,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestContext {
            principal: Principal::Anonymous,
        })
    }
}
