//! `portal:plugin@1.x`: bindings generated from `wit/1.3.0` (the newest 1.x),
//! the host-function implementations for it, and how an extension point is
//! called on a 1.x plugin ([`Binding`], implemented by each module of
//! `crate::extensions`, which also converts that extension point's types).
//! Adding a 1.x minor version means regenerating from the new folder and
//! implementing the added host functions here, nothing else.

use crate::LogLevel;
use crate::capabilities::{self, HostCallError, HostFailure, HostState};
use crate::error::LoadError;
use crate::extensions::describe::Describe;
use crate::extensions::{self, Declared, ExtensionPoint, Visit};
use crate::model;
use crate::wit::Bound;
use std::any::{Any, TypeId};
use std::path::Path;
use wasmtime::Store;
use wasmtime::component::{HasSelf, Instance, InstancePre, Linker};

pub const VERSION: &str = "1.3.0";

wasmtime::component::bindgen!({
    path: "../../wit/1.3.0",
    world: "portal:plugin/all-extensions",
    imports: { default: async | trappable | tracing },
    exports: { default: async },
});

pub(crate) use exports::portal::plugin::{
    entity_provider, meta, panel, search_collator, template_action,
};
use portal::plugin::types::HostError;

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    AllExtensions::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}

/// How one extension point is called on a 1.x plugin.
pub(crate) trait Binding: ExtensionPoint {
    /// Where the plugin's export is, found once when the plugin is linked.
    type Indices: Send + Sync + 'static;

    fn indices(pre: &InstancePre<HostState>) -> wasmtime::Result<Self::Indices>;

    /// Calls the export and converts what it returns into the host's types.
    fn call<'a>(
        indices: &'a Self::Indices,
        store: &'a mut Store<HostState>,
        instance: &'a Instance,
        request: Self::Request,
    ) -> impl Future<Output = wasmtime::Result<Result<Self::Returned, model::PluginError>>> + Send + 'a;
}

/// The exports of a 1.x plugin. `meta` is required; the extension points are
/// optional and probed, so adding a new one in a later 1.x is not a breaking change.
pub(crate) struct Exports {
    /// The indices of every export found, by extension point.
    found: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
}

impl Exports {
    pub(crate) fn bind(file: &Path, pre: &InstancePre<HostState>) -> Result<Exports, LoadError> {
        let describe = Describe::indices(pre).map_err(|e| LoadError::Link {
            file: file.to_owned(),
            reason: format!("it does not export `portal:plugin/meta` (every plugin must): {e}"),
        })?;
        struct Probe<'a> {
            pre: &'a InstancePre<HostState>,
            found: Vec<(TypeId, Box<dyn Any + Send + Sync>)>,
        }
        impl Visit for Probe<'_> {
            fn visit<E: Declared + Bound>(&mut self) {
                if let Ok(indices) = E::indices(self.pre) {
                    self.found.push((TypeId::of::<E>(), Box::new(indices)));
                }
            }
        }
        let mut probe = Probe {
            pre,
            found: vec![(TypeId::of::<Describe>(), Box::new(describe))],
        };
        extensions::each_declared(&mut probe);
        Ok(Exports { found: probe.found })
    }

    fn indices<E: Binding>(&self) -> Option<&E::Indices> {
        self.found
            .iter()
            .find(|(id, _)| *id == TypeId::of::<E>())
            .and_then(|(_, indices)| (**indices).downcast_ref::<E::Indices>())
    }

    pub(crate) fn offers<E: Binding>(&self) -> bool {
        self.indices::<E>().is_some()
    }

    pub(crate) async fn call<E: Binding>(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        request: E::Request,
    ) -> wasmtime::Result<Result<E::Returned, model::PluginError>> {
        let indices = self
            .indices::<E>()
            .ok_or_else(|| wasmtime::format_err!("the plugin exports no {}", E::KIND))?;
        E::call(indices, store, instance, request).await
    }
}

/// A plugin's own error, in the host's terms.
pub(crate) fn plugin_error(e: portal::plugin::types::PluginError) -> model::PluginError {
    model::PluginError {
        code: e.code,
        message: e.message,
    }
}

// ---- host functions -------------------------------------------------------
// Each returns `Ok(Err(host-error))` when it refuses, and a trap (`Err`) only
// when the call must end: its CPU budget ran out during host work.

type HostResult<T> = wasmtime::Result<Result<T, HostError>>;

fn host_error(e: HostCallError) -> HostError {
    match e {
        HostCallError::Denied(m) => HostError::Denied(m),
        HostCallError::Invalid(m) => HostError::Invalid(m),
        HostCallError::LimitExceeded(m) => HostError::LimitExceeded(m),
        HostCallError::Unavailable(m) => HostError::Unavailable(m),
    }
}

fn finish<T>(result: Result<T, HostFailure>) -> HostResult<T> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(HostFailure::Refused(e)) => Ok(Err(host_error(e))),
        Err(HostFailure::Trap(trap)) => Err(trap),
    }
}

impl portal::plugin::types::Host for HostState {}

impl portal::plugin::log::Host for HostState {
    async fn log(
        &mut self,
        level: portal::plugin::log::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use portal::plugin::log::Level;
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        capabilities::log::log(self, level, &message);
        Ok(())
    }
}

impl portal::plugin::catalog::Host for HostState {
    async fn get_entity(&mut self, entity_ref: String) -> HostResult<Option<String>> {
        finish(capabilities::catalog::get_entity(self, entity_ref).await)
    }

    async fn query_entities(&mut self, filter: String, limit: u32) -> HostResult<Vec<String>> {
        finish(capabilities::catalog::query_entities(self, filter, limit).await)
    }

    /// Added in 1.2.0.
    async fn register_location(
        &mut self,
        location_type: String,
        target: String,
    ) -> HostResult<Vec<String>> {
        finish(capabilities::catalog::register_location(self, location_type, target).await)
    }
}

impl portal::plugin::storage::Host for HostState {
    async fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        finish(capabilities::storage::get(self, key).await)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<()> {
        finish(capabilities::storage::set(self, key, value).await)
    }

    async fn delete(&mut self, key: String) -> HostResult<()> {
        finish(capabilities::storage::delete(self, key).await)
    }

    /// Added in 1.1.0.
    async fn list_keys(&mut self, prefix: String, limit: u32) -> HostResult<Vec<String>> {
        finish(capabilities::storage::list_keys(self, prefix, limit).await)
    }
}

/// Added in 1.2.0.
impl portal::plugin::git::Host for HostState {
    async fn push(
        &mut self,
        request: portal::plugin::git::PushRequest,
    ) -> HostResult<portal::plugin::git::PushResult> {
        let request = capabilities::git::PushRequest {
            source_path: request.source_path,
            remote: request.remote,
            branch: request.branch,
            commit_message: request.commit_message,
            author_name: request.author_name,
            author_email: request.author_email,
            credentials: request.credentials.map(|c| (c.username, c.password)),
        };
        finish(capabilities::git::push(self, request).await.map(|r| {
            portal::plugin::git::PushResult {
                commit: r.commit,
                remote_url: r.remote_url,
                work_tree: r.work_tree,
            }
        }))
    }
}

/// Added in 1.2.0.
impl portal::plugin::file_modes::Host for HostState {
    async fn template_executables(&mut self, dir: String) -> HostResult<Vec<String>> {
        finish(capabilities::workspace::template_executables(self, &dir).map_err(HostFailure::from))
    }

    async fn set_executable(&mut self, path: String, executable: bool) -> HostResult<()> {
        finish(
            capabilities::workspace::set_executable(self, &path, executable)
                .map_err(HostFailure::from),
        )
    }
}

impl portal::plugin::config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(capabilities::config::get(self, &key))
    }

    async fn get_secret(&mut self, name: String) -> HostResult<String> {
        finish(capabilities::config::get_secret(self, &name).map_err(HostFailure::from))
    }
}
