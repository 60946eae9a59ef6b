//! The set of plugin files the host knows, each with the version it serves and
//! the outcome of its last load. Swaps are atomic: a call takes an `Arc` of the
//! active version and keeps it for its whole duration.

use crate::engine::Tier;
use crate::error::{CallError, LoadError};
use crate::loader::LoadedPlugin;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

#[derive(Default)]
pub(crate) struct Registry {
    slots: RwLock<BTreeMap<PathBuf, Slot>>,
    health: Mutex<HashMap<String, Health>>,
}

struct Slot {
    generation: u64,
    loading_since: Option<SystemTime>,
    active: Option<Arc<LoadedPlugin>>,
    /// The last load of this file failed (the active version, if any, is older).
    error: Option<(LoadError, SystemTime)>,
    upgrading: bool,
}

/// Call outcomes per plugin name, kept across versions of the file.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Health {
    pub calls: u64,
    pub failures: u64,
    pub last_error: Option<ErrorRecord>,
    /// The last capability the plugin tried to use without a grant.
    pub last_denial: Option<ErrorRecord>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorRecord {
    pub kind: String,
    pub message: String,
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
}

/// Where a plugin file stands (shared with the web UI).
pub use portal_types::PluginState;

/// Everything the portal shows about one plugin file (`GET /api/plugins`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginStatus {
    pub file: String,
    pub state: PluginState,
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub wit_version: Option<String>,
    pub extension_points: Vec<&'static str>,
    pub panels: Vec<crate::model::PanelInfo>,
    pub providers: Vec<crate::model::ProviderInfo>,
    pub actions: Vec<crate::model::ActionInfo>,
    pub requested: Option<crate::model::CapabilityRequests>,
    pub granted: Option<crate::capabilities::EffectiveGrants>,
    pub missing_grants: Vec<String>,
    pub compiler: Option<Tier>,
    /// True while optimised code is being compiled in the background.
    pub upgrading: bool,
    pub sha256: Option<String>,
    pub size: Option<u64>,
    #[serde(with = "unix_ms::option")]
    pub loaded_at: Option<SystemTime>,
    pub compile_ms: Option<u64>,
    /// Why the newest file could not be loaded; when `state` is `loaded`, the
    /// portal is still serving the previous version.
    pub load_error: Option<ErrorRecord>,
    pub health: Health,
    /// The plugin's quotas and what it uses of them.
    pub quotas: Option<crate::capabilities::QuotaStatus>,
}

impl Registry {
    /// Marks a file as being (re)loaded; returns the generation to finish with.
    pub(crate) fn begin(&self, file: &Path) -> u64 {
        let mut slots = self.slots.write().unwrap();
        let slot = slots.entry(file.to_owned()).or_insert(Slot {
            generation: 0,
            loading_since: None,
            active: None,
            error: None,
            upgrading: false,
        });
        slot.generation += 1;
        slot.loading_since = Some(SystemTime::now());
        slot.generation
    }

    /// Records a load's outcome unless a newer load of the same file started.
    /// Returns the plugin that was replaced, if any.
    pub(crate) fn finish(
        &self,
        file: &Path,
        generation: u64,
        outcome: Result<Arc<LoadedPlugin>, LoadError>,
    ) -> Result<Option<Arc<LoadedPlugin>>, ()> {
        let mut slots = self.slots.write().unwrap();
        let outcome = match outcome {
            Ok(plugin) => match Self::name_taken(&slots, file, plugin.name()) {
                Some(other) => Err(LoadError::DuplicateName {
                    file: file.file_name().map(PathBuf::from).unwrap_or_default(),
                    name: plugin.name().to_owned(),
                    other,
                }),
                None => Ok(plugin),
            },
            Err(e) => Err(e),
        };
        let Some(slot) = slots.get_mut(file) else {
            return Err(());
        };
        if slot.generation != generation {
            return Err(());
        }
        slot.loading_since = None;
        match outcome {
            Ok(plugin) => {
                slot.error = None;
                Ok(slot.active.replace(plugin))
            }
            Err(error) => {
                slot.error = Some((error, SystemTime::now()));
                if let LoadError::Disabled { .. } = slot.error.as_ref().unwrap().0 {
                    return Ok(slot.active.take());
                }
                Ok(None)
            }
        }
    }

    fn name_taken(slots: &BTreeMap<PathBuf, Slot>, file: &Path, name: &str) -> Option<String> {
        slots
            .iter()
            .filter(|(path, _)| path.as_path() != file)
            .find(|(_, slot)| slot.active.as_ref().is_some_and(|p| p.name() == name))
            .map(|(path, _)| {
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
    }

    /// Swaps in the Cranelift build of a plugin that is running on Winch, if the
    /// file has not changed since.
    pub(crate) fn upgrade(&self, file: &Path, generation: u64, plugin: Arc<LoadedPlugin>) -> bool {
        let mut slots = self.slots.write().unwrap();
        match slots.get_mut(file) {
            Some(slot) if slot.generation == generation => {
                slot.active = Some(plugin);
                slot.upgrading = false;
                true
            }
            _ => false,
        }
    }

    pub(crate) fn set_upgrading(&self, file: &Path, generation: u64, upgrading: bool) {
        let mut slots = self.slots.write().unwrap();
        if let Some(slot) = slots.get_mut(file)
            && slot.generation == generation
        {
            slot.upgrading = upgrading;
        }
    }

    /// Whether the file is loaded, with exactly these bytes, and nothing newer failed.
    pub(crate) fn serves(&self, file: &Path, bytes: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        let slots = self.slots.read().unwrap();
        let Some(slot) = slots.get(file) else {
            return false;
        };
        match &slot.active {
            Some(active) if slot.error.is_none() && slot.loading_since.is_none() => {
                active.summary.size == bytes.len() as u64
                    && active.summary.sha256 == hex::encode(Sha256::digest(bytes))
            }
            _ => false,
        }
    }

    /// Forgets a file (it was deleted); returns the plugin it served.
    pub(crate) fn remove(&self, file: &Path) -> Option<Arc<LoadedPlugin>> {
        self.slots
            .write()
            .unwrap()
            .remove(file)
            .and_then(|s| s.active)
    }

    pub(crate) fn is_loading(&self) -> bool {
        self.slots
            .read()
            .unwrap()
            .values()
            .any(|s| s.loading_since.is_some() || s.upgrading)
    }

    pub(crate) fn is_loading_first_tier(&self) -> bool {
        self.slots
            .read()
            .unwrap()
            .values()
            .any(|s| s.loading_since.is_some())
    }

    /// The active plugin with this name.
    pub(crate) fn by_name(&self, name: &str) -> Option<Arc<LoadedPlugin>> {
        self.slots
            .read()
            .unwrap()
            .values()
            .filter_map(|s| s.active.as_ref())
            .find(|p| p.name() == name)
            .cloned()
    }

    /// Every active plugin.
    pub(crate) fn active(&self) -> Vec<Arc<LoadedPlugin>> {
        self.slots
            .read()
            .unwrap()
            .values()
            .filter_map(|s| s.active.clone())
            .collect()
    }

    pub(crate) fn record_call(&self, plugin: &str, error: Option<&CallError>, denials: &[String]) {
        let mut health = self.health.lock().unwrap();
        let h = health.entry(plugin.to_owned()).or_default();
        h.calls += 1;
        if let Some(e) = error {
            h.failures += 1;
            h.last_error = Some(ErrorRecord {
                kind: e.kind().to_owned(),
                message: e.to_string(),
                at: SystemTime::now(),
            });
        }
        if let Some(denial) = denials.last() {
            h.last_denial = Some(ErrorRecord {
                kind: "denied".into(),
                message: denial.clone(),
                at: SystemTime::now(),
            });
        }
    }

    pub(crate) fn statuses(&self) -> Vec<PluginStatus> {
        let slots = self.slots.read().unwrap();
        let health = self.health.lock().unwrap();
        slots
            .iter()
            .map(|(file, slot)| {
                let active = slot.active.as_deref();
                let name = active.map(|p| p.info.name.clone());
                let state = if slot.loading_since.is_some() && active.is_none() {
                    PluginState::Loading
                } else if active.is_some() {
                    PluginState::Loaded
                } else if let Some((e, _)) = &slot.error {
                    e.state()
                } else {
                    PluginState::Loading
                };
                PluginStatus {
                    file: file
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    state,
                    version: active.map(|p| p.info.version.clone()),
                    description: active.map(|p| p.info.description.clone()),
                    wit_version: active.map(|p| p.summary.wit_version.to_string()),
                    extension_points: active
                        .map(|p| p.info.extension_points())
                        .unwrap_or_default(),
                    panels: active.map(|p| p.info.panels.clone()).unwrap_or_default(),
                    providers: active.map(|p| p.info.providers.clone()).unwrap_or_default(),
                    actions: active.map(|p| p.info.actions.clone()).unwrap_or_default(),
                    requested: active.map(|p| p.info.requests.clone()),
                    granted: active.map(|p| p.grants.clone()),
                    missing_grants: active.map(|p| p.missing_grants.clone()).unwrap_or_default(),
                    compiler: active.map(|p| p.tier),
                    upgrading: slot.upgrading,
                    sha256: active.map(|p| p.summary.sha256.clone()),
                    size: active.map(|p| p.summary.size),
                    loaded_at: active.map(|p| p.loaded_at),
                    compile_ms: active.map(|p| p.compile_ms),
                    load_error: slot.error.as_ref().map(|(e, at)| ErrorRecord {
                        kind: e.state().to_string(),
                        message: e.to_string(),
                        at: *at,
                    }),
                    quotas: active.map(|p| p.context.quota_status()),
                    health: name
                        .as_ref()
                        .and_then(|n| health.get(n).cloned())
                        .unwrap_or_default(),
                    name,
                }
            })
            .collect()
    }
}

mod unix_ms {
    use serde::Serializer;
    use std::time::{SystemTime, UNIX_EPOCH};

    fn ms(t: &SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(ms(t))
    }

    pub mod option {
        use super::*;
        pub fn serialize<S: Serializer>(t: &Option<SystemTime>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_some(&ms(t)),
                None => s.serialize_none(),
            }
        }
    }
}
