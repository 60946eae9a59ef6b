//! What the host side offers plugins, behind narrow traits so the plugin runtime
//! does not depend on the catalog or on a particular database.

use std::sync::Arc;

/// Read access to the catalog. Entities are JSON text in Backstage's shape.
pub trait CatalogReader: Send + Sync {
    fn get_entity(&self, entity_ref: &str) -> Result<Option<String>, ServiceError>;
    fn query_entities(&self, filter: &str, limit: usize) -> Result<Vec<String>, ServiceError>;
}

/// Registering catalog locations for template actions
/// (`catalog.register-location`, `catalog:register`).
pub trait CatalogRegistrar: Send + Sync {
    /// Registers the location (or reuses its registration), reads it now, and
    /// answers the refs of the entities it produced.
    fn register(
        &self,
        location_type: &str,
        target: &str,
    ) -> futures::future::BoxFuture<'static, Result<Vec<String>, ServiceError>>;
}

/// Plugin-private key/value storage. Every call names the plugin, and an
/// implementation must keep plugins' key spaces apart and refuse, with
/// [`ServiceError::LimitExceeded`], a write that would take a plugin over its
/// quota (checked and applied atomically, so concurrent writes cannot overshoot).
pub trait KeyValueStore: Send + Sync {
    fn get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, ServiceError>;
    fn set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: StorageQuota,
    ) -> Result<(), ServiceError>;
    fn delete(&self, plugin: &str, key: &str) -> Result<(), ServiceError>;
    /// What the plugin stores now.
    fn usage(&self, plugin: &str) -> Result<StorageUsage, ServiceError>;
    /// Deletes everything the plugin stores (it was uninstalled) and gives the
    /// space back; returns what it held.
    fn purge(&self, plugin: &str) -> Result<StorageUsage, ServiceError>;
    fn list_keys(
        &self,
        plugin: &str,
        prefix: &str,
        limit: usize,
    ) -> Result<Vec<String>, ServiceError>;
}

/// How much one plugin may store: bytes of keys plus values, and keys.
#[derive(Debug, Clone, Copy)]
pub struct StorageQuota {
    pub max_bytes: u64,
    pub max_keys: u64,
}

/// What one plugin stores: bytes of keys plus values, and keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StorageUsage {
    pub bytes: u64,
    pub keys: u64,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ServiceError {
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("unavailable: {0}")]
    Unavailable(String),
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
}

/// The services a plugin host is wired to.
#[derive(Clone)]
pub struct Services {
    pub catalog: Arc<dyn CatalogReader>,
    pub registrar: Arc<dyn CatalogRegistrar>,
    pub kv: Arc<dyn KeyValueStore>,
}

/// A catalog reader for hosts that run without a catalog (tools, some tests).
pub struct NoCatalog;

impl CatalogReader for NoCatalog {
    fn get_entity(&self, _: &str) -> Result<Option<String>, ServiceError> {
        Err(ServiceError::Unavailable(
            "this portal runs without a catalog".into(),
        ))
    }
    fn query_entities(&self, _: &str, _: usize) -> Result<Vec<String>, ServiceError> {
        Err(ServiceError::Unavailable(
            "this portal runs without a catalog".into(),
        ))
    }
}

impl CatalogRegistrar for NoCatalog {
    fn register(
        &self,
        _: &str,
        _: &str,
    ) -> futures::future::BoxFuture<'static, Result<Vec<String>, ServiceError>> {
        Box::pin(async {
            Err(ServiceError::Unavailable(
                "this portal runs without a catalog".into(),
            ))
        })
    }
}

pub use crate::store::PluginStore;
