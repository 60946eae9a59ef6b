//! `meta.describe`: the plugin says what it is, what it provides and what it
//! asks for. Called once per load, in a sandbox with no capabilities at all.

use super::{
    Declared, ExtensionPoint, Visit, entity_provider, panel, plain_id, search_collator,
    template_action,
};
use crate::capabilities::HostState;
use crate::model::{CapabilityRequests, PluginInfo};
use crate::wit::v1::search_collator as collator_export;
use crate::wit::v1::{self, meta};
use crate::wit::{Bound, Exports};
use std::collections::HashSet;
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

pub(crate) struct Describe;

impl ExtensionPoint for Describe {
    const KIND: &'static str = "describe";
    const LIMITS: portal_config::ExtensionPoint = portal_config::ExtensionPoint::Describe;
    const TRANSFER_BYTES: usize = 4 << 20;
    type Request = ();
    type Returned = PluginInfo;
    type Output = PluginInfo;

    fn check_output(info: PluginInfo) -> Result<PluginInfo, String> {
        Ok(info)
    }
}

/// Checks what a plugin says about itself against the rules and against what it
/// exports; `Err` is the reason, in words.
pub(crate) fn validate(info: &PluginInfo, exports: &Exports) -> Result<(), String> {
    if !plain_id(&info.name) {
        return Err(format!(
            "name `{}` must be 1-63 lowercase letters, digits and dashes",
            info.name
        ));
    }
    if semver::Version::parse(&info.version).is_err() {
        return Err(format!(
            "version `{}` is not a semantic version such as 1.2.0",
            info.version
        ));
    }
    struct Check<'a> {
        info: &'a PluginInfo,
        exports: &'a Exports,
        result: Result<(), String>,
    }
    impl Visit for Check<'_> {
        fn visit<E: Declared + Bound>(&mut self) {
            if self.result.is_ok() {
                self.result = validate_declared::<E>(self.info, self.exports);
            }
        }
    }
    let mut check = Check {
        info,
        exports,
        result: Ok(()),
    };
    super::each_declared(&mut check);
    check.result
}

fn validate_declared<E: Declared + Bound>(
    info: &PluginInfo,
    exports: &Exports,
) -> Result<(), String> {
    let declared = E::declared(info);
    let mut seen = HashSet::new();
    for item in declared {
        let id = E::id(item);
        E::check_id(id).map_err(|rule| format!("{} `{id}` {rule}", E::ID_NOUN))?;
        if !seen.insert(id) {
            return Err(format!("{} `{id}` is declared twice", E::ID_NOUN));
        }
        E::check_info(item).map_err(|reason| format!("{} `{id}` {reason}", E::KIND))?;
    }
    if !declared.is_empty() && !exports.offers::<E>() {
        return Err(format!(
            "it declares {} but does not export `portal:plugin/{}`",
            E::PLURAL,
            E::INTERFACE
        ));
    }
    Ok(())
}

/// Where `describe` is, and `search-collator.collators` when the plugin
/// exports it (1.3.0): both are asked at load, in the same sandbox.
pub(crate) struct DescribeIndices {
    meta: meta::GuestIndices,
    collators: Option<collator_export::GuestIndices>,
}

impl v1::Binding for Describe {
    type Indices = DescribeIndices;

    fn indices(pre: &InstancePre<HostState>) -> wasmtime::Result<Self::Indices> {
        Ok(DescribeIndices {
            meta: meta::GuestIndices::new(pre)?,
            collators: collator_export::GuestIndices::new(pre).ok(),
        })
    }

    async fn call<'a>(
        indices: &'a Self::Indices,
        store: &'a mut Store<HostState>,
        instance: &'a Instance,
        (): (),
    ) -> wasmtime::Result<Result<PluginInfo, crate::model::PluginError>> {
        let guest = indices.meta.load(&mut *store, instance)?;
        let info = guest.call_describe(&mut *store).await?;
        let collators = match &indices.collators {
            Some(collators) => {
                let guest = collators.load(&mut *store, instance)?;
                guest
                    .call_collators(&mut *store)
                    .await?
                    .into_iter()
                    .map(search_collator::info_from_v1)
                    .collect()
            }
            None => Vec::new(),
        };
        Ok(Ok(PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            panels: info.panels.into_iter().map(panel::info_from_v1).collect(),
            providers: info
                .providers
                .into_iter()
                .map(entity_provider::info_from_v1)
                .collect(),
            actions: info
                .actions
                .into_iter()
                .map(template_action::info_from_v1)
                .collect(),
            collators,
            requests: CapabilityRequests {
                http_hosts: info.requests.http_hosts,
                secrets: info.requests.secrets,
                config_keys: info.requests.config_keys,
                catalog_read: info.requests.catalog_read,
                storage: info.requests.storage,
            },
        }))
    }
}
