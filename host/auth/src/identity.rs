//! Who is asking.

use crate::permission::Pattern;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A person, as the catalog knows them: their User entity's ref and the
/// refs they own through (themselves and their groups, transitively up
/// `parent` chains): Backstage's `sub` and `ent` claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub user_ref: String,
    pub ownership_refs: Vec<String>,
    /// The sign-in provider's claims (empty for a guest).
    pub claims: BTreeMap<String, Value>,
}

impl Identity {
    /// An identity that owns through itself only.
    pub fn user(user_ref: impl Into<String>) -> Identity {
        let user_ref = user_ref.into();
        Identity {
            ownership_refs: vec![user_ref.clone()],
            user_ref,
            claims: BTreeMap::new(),
        }
    }
}

/// A caller authenticated by a service token.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The token's configured name (the token itself is never kept).
    pub name: String,
    pub permissions: Arc<[Pattern]>,
}

/// Who a request comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Principal {
    /// Guest mode (local use): everyone is this one identity.
    Guest(Identity),
    /// A signed-in person.
    User(Identity),
    /// A script or CI job with a service token.
    Service(Service),
    /// The portal itself (its own background work): sees everything.
    System,
}

impl Principal {
    /// The identity a policy's user conditions look at (none for a
    /// service or the system).
    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Principal::Guest(identity) | Principal::User(identity) => Some(identity),
            Principal::Service(_) | Principal::System => None,
        }
    }

    /// How the audit log and the UI name this principal.
    pub fn display(&self) -> String {
        match self {
            Principal::Guest(identity) => format!("{} (guest)", identity.user_ref),
            Principal::User(identity) => identity.user_ref.clone(),
            Principal::Service(service) => format!("service:{}", service.name),
            Principal::System => "system".to_owned(),
        }
    }
}
