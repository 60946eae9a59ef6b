//! The versions of Portal's WIT contract this host speaks, and the single place
//! that dispatches on them. Each major version has one module (`v1.rs`, later
//! `v2.rs`) holding its bindings and the conversions between its types and the
//! host's own (`crate::model`). Minor versions need no module: wasmtime binds a
//! plugin built against `1.0.0` to this host's newest `1.x` interfaces, because a
//! minor version only ever adds host functions (see `wit/README.md`).

pub(crate) mod v1;

use crate::capabilities::HostState;
use crate::error::LoadError;
use std::path::Path;
use wasmtime::Engine;
use wasmtime::component::{InstancePre, Linker};

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

/// Whether this host can load a plugin built against `version` at all.
pub(crate) fn is_supported_major(version: &semver::Version) -> bool {
    SUPPORTED
        .iter()
        .any(|v| semver::Version::parse(v).is_ok_and(|v| v.major == version.major))
}
