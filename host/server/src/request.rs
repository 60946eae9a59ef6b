//! The one place where a request learns who is asking, and what that
//! principal may see in the catalog. Today every request is anonymous and
//! may see everything; sign-in and permissions will fill this in. Every
//! catalog read path (the REST API, the web UI, plugins' `catalog`
//! capability) takes its [`Access`] from [`RequestContext::access`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use portal_catalog::Access;
use std::convert::Infallible;

/// Who is asking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// No credentials were presented (allowed while permissions are off).
    Anonymous,
    /// A plugin, through a host capability (the plugin host does not say
    /// which plugin to the catalog yet).
    Plugin,
}

/// Per-request facts every handler can take as an extractor.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub principal: Principal,
}

impl RequestContext {
    /// A request without credentials.
    pub fn anonymous() -> RequestContext {
        RequestContext {
            principal: Principal::Anonymous,
        }
    }

    /// A plugin's call into the portal.
    pub fn plugin() -> RequestContext {
        RequestContext {
            principal: Principal::Plugin,
        }
    }

    /// What this principal may see in the catalog. The only place an
    /// `Access` is made for a read: permissions change this function, not
    /// the handlers.
    pub fn access(&self) -> Access {
        match self.principal {
            Principal::Anonymous | Principal::Plugin => Access::all(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestContext::anonymous())
    }
}
