//! Entity providers: a plugin emits catalog entities (a full snapshot per
//! discovery pass), which the catalog ingests as one source.

use super::{Declared, ExtensionPoint};
use crate::capabilities::HostState;
use crate::model::{self, PluginInfo, ProvidedEntity, ProviderInfo};
use crate::wit::v1::{self, entity_provider, meta};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

pub(crate) struct EntityProvider;

const MAX_PROVIDED_ENTITIES: usize = 100_000;
const MAX_PROVIDED_BYTES: usize = 256 << 20;

impl ExtensionPoint for EntityProvider {
    const KIND: &'static str = "entity provider";
    const LIMITS: portal_config::ExtensionPoint = portal_config::ExtensionPoint::Provider;
    // A provider may return a whole organisation.
    const TRANSFER_BYTES: usize = 320 << 20;
    /// The provider's id.
    type Request = String;
    type Returned = Vec<ProvidedEntity>;
    type Output = Vec<ProvidedEntity>;

    fn check_output(entities: Vec<ProvidedEntity>) -> Result<Vec<ProvidedEntity>, String> {
        let bytes: usize = entities
            .iter()
            .map(|e| e.body.len() + e.location.len())
            .sum();
        if entities.len() > MAX_PROVIDED_ENTITIES || bytes > MAX_PROVIDED_BYTES {
            return Err(format!(
                "{} entities in {bytes} bytes is over the limit of {MAX_PROVIDED_ENTITIES} entities / {MAX_PROVIDED_BYTES} bytes per discovery",
                entities.len()
            ));
        }
        Ok(entities)
    }
}

impl Declared for EntityProvider {
    const INTERFACE: &'static str = "entity-provider";
    const ID_NOUN: &'static str = "provider id";
    const PLURAL: &'static str = "entity providers";
    type Info = ProviderInfo;

    fn declared(info: &PluginInfo) -> &[ProviderInfo] {
        &info.providers
    }
    fn id(info: &ProviderInfo) -> &str {
        &info.id
    }
}

pub(crate) fn info_from_v1(p: meta::ProviderInfo) -> ProviderInfo {
    ProviderInfo {
        id: p.id,
        description: p.description,
        refresh_interval_seconds: p.refresh_interval_seconds,
    }
}

impl v1::Binding for EntityProvider {
    type Indices = entity_provider::GuestIndices;

    fn indices(pre: &InstancePre<HostState>) -> wasmtime::Result<Self::Indices> {
        entity_provider::GuestIndices::new(pre)
    }

    async fn call<'a>(
        indices: &'a Self::Indices,
        store: &'a mut Store<HostState>,
        instance: &'a Instance,
        provider_id: String,
    ) -> wasmtime::Result<Result<Vec<ProvidedEntity>, model::PluginError>> {
        let guest = indices.load(&mut *store, instance)?;
        let result = guest.call_discover(&mut *store, &provider_id).await?;
        Ok(result
            .map(|entities| {
                entities
                    .into_iter()
                    .map(|e| ProvidedEntity {
                        body: e.body,
                        location: e.location,
                    })
                    .collect()
            })
            .map_err(v1::plugin_error))
    }
}
