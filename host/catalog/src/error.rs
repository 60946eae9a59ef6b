//! Errors of the catalog's Rust API, named like Backstage's so the HTTP layer
//! maps them to the same status codes.

use crate::store::StoreError;

/// An error from a catalog operation.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// Bad input (400, `InputError`).
    #[error("{0}")]
    Input(String),
    /// Nothing there (404, `NotFoundError`).
    #[error("{0}")]
    NotFound(String),
    /// Already exists (409, `ConflictError`).
    #[error("{0}")]
    Conflict(String),
    /// Refused (403, `NotAllowedError`).
    #[error("{0}")]
    NotAllowed(String),
    /// The store failed (500).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] crate::config::CatalogConfigError),
}

impl CatalogError {
    /// Backstage's error name (`InputError`, `NotFoundError`, ...).
    pub fn name(&self) -> &'static str {
        match self {
            CatalogError::Input(_) => "InputError",
            CatalogError::NotFound(_) => "NotFoundError",
            CatalogError::Conflict(_) => "ConflictError",
            CatalogError::NotAllowed(_) => "NotAllowedError",
            CatalogError::Store(_) | CatalogError::Config(_) => "Error",
        }
    }
}
