//! The versions of Portal's WIT contract this host speaks, and the single place
//! that dispatches on them: nothing outside this module matches on a contract
//! major. Each major version has one module (`v1.rs`, later `v2.rs`) holding its
//! bindings and host functions; each extension point (`crate::extensions`)
//! implements that module's `Binding` to be called on it. Minor versions need no
//! module: wasmtime binds a plugin built against `1.0.0` to this host's newest
//! `1.x` interfaces, because a minor version only ever adds host functions (see
//! `wit/README.md`).

pub(crate) mod v1;

use crate::capabilities::HostState;
use crate::error::LoadError;
use crate::model;
use std::path::Path;
use wasmtime::component::{Instance, InstancePre, Linker};
use wasmtime::{Engine, Store};

/// The newest contract version this host implements, per supported major.
pub const SUPPORTED: &[&str] = &[v1::VERSION];

/// A human-readable list of what this host accepts, for error messages.
pub fn supported_description() -> String {
    SUPPORTED
        .iter()
        .map(|v| {
            let major = v.split('.').next().unwrap_or(v);
            format!("portal:plugin@{major}.x (up to {v})")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A linker with WASI, `wasi:http` and every supported major's host interfaces.
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    v1::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// The exports of a plugin, bound for the contract major it was built against.
pub(crate) enum Exports {
    V1(v1::Exports),
}

/// An extension point every supported major can call (`v1::Binding`, later
/// `+ v2::Binding`).
pub(crate) trait Bound: v1::Binding {}
impl<E: v1::Binding> Bound for E {}

impl Exports {
    /// Whether the plugin exports extension point `E`.
    pub(crate) fn offers<E: Bound>(&self) -> bool {
        match self {
            Exports::V1(exports) => exports.offers::<E>(),
        }
    }

    /// Calls extension point `E` on an instance of the plugin.
    pub(crate) async fn call<E: Bound>(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        request: E::Request,
    ) -> wasmtime::Result<Result<E::Returned, model::PluginError>> {
        match self {
            Exports::V1(exports) => exports.call::<E>(store, instance, request).await,
        }
    }
}

/// Checks a plugin's contract version and finds its exports.
pub(crate) fn bind(
    file: &Path,
    version: &semver::Version,
    pre: &InstancePre<HostState>,
) -> Result<Exports, LoadError> {
    match version.major {
        1 => Ok(Exports::V1(v1::Exports::bind(file, pre)?)),
        _ => Err(unsupported(file, version)),
    }
}

pub(crate) fn unsupported(file: &Path, version: &semver::Version) -> LoadError {
    LoadError::UnsupportedWitVersion {
        file: file.to_owned(),
        found: version.to_string(),
        supported: supported_description(),
    }
}

/// Why a plugin of a supported major may fail to link: it was built against a
/// newer minor than this host implements.
pub(crate) fn newer_minor_hint(version: &semver::Version) -> Option<String> {
    let host = SUPPORTED
        .iter()
        .filter_map(|v| semver::Version::parse(v).ok())
        .find(|v| v.major == version.major)?;
    (*version > host).then(|| {
        format!(
            "it was built against portal:plugin@{version}, newer than this portal's {host}: upgrade the portal or rebuild the plugin against {host}"
        )
    })
}

/// Whether this host can load a plugin built against `version` at all.
pub(crate) fn is_supported_major(version: &semver::Version) -> bool {
    SUPPORTED
        .iter()
        .any(|v| semver::Version::parse(v).is_ok_and(|v| v.major == version.major))
}
