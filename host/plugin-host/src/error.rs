//! Errors, as types: what went wrong loading a plugin file, and what went wrong
//! calling one. Each message names the plugin or file and says what to do.

use std::path::PathBuf;

/// Why a plugin file could not be loaded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {file}: {reason}")]
    Read { file: PathBuf, reason: String },
    #[error(
        "{file} is {size} bytes, over the {limit}-byte limit (plugins.compile.max_plugin_bytes)"
    )]
    TooLarge {
        file: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{file} is not a WebAssembly component: {reason}")]
    NotAComponent { file: PathBuf, reason: String },
    #[error(
        "{file} does not implement Portal's plugin contract: it neither imports nor exports any `portal:plugin` interface"
    )]
    NotAPlugin { file: PathBuf },
    #[error(
        "{file} was built against portal:plugin@{found}, but this portal supports {supported}; rebuild it against a supported version"
    )]
    UnsupportedWitVersion {
        file: PathBuf,
        found: String,
        supported: String,
    },
    #[error("{file} could not be compiled: {reason}")]
    Compile { file: PathBuf, reason: String },
    #[error("{file} cannot be linked into this portal: {reason}")]
    Link { file: PathBuf, reason: String },
    #[error("{file}: `describe` failed: {source}")]
    Describe {
        file: PathBuf,
        #[source]
        source: Box<CallError>,
    },
    #[error("{file}: invalid plugin metadata: {reason}")]
    InvalidMetadata { file: PathBuf, reason: String },
    #[error(
        "{file} declares plugin `{name}`, which {other} already provides; remove one of the two files"
    )]
    DuplicateName {
        file: PathBuf,
        name: String,
        other: String,
    },
    #[error("plugin `{name}` ({file}) is disabled by plugins.grants.{name}.enabled")]
    Disabled { file: PathBuf, name: String },
}

impl LoadError {
    /// `rejected` for files refused on inspection, `failed` for files that broke
    /// while being compiled or started.
    pub fn state(&self) -> &'static str {
        match self {
            LoadError::Compile { .. } | LoadError::Describe { .. } | LoadError::Read { .. } => {
                "failed"
            }
            LoadError::Disabled { .. } => "disabled",
            _ => "rejected",
        }
    }
}

/// Why a call into a plugin failed. The host keeps serving after every one of these.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("no plugin named `{0}` is loaded")]
    NoSuchPlugin(String),
    #[error("plugin `{plugin}` has no {kind} `{id}`")]
    NoSuchExtension {
        plugin: String,
        kind: &'static str,
        id: String,
    },
    #[error("plugin `{plugin}` ran out of time: the call took longer than {limit_ms} ms")]
    Timeout { plugin: String, limit_ms: u64 },
    #[error("plugin `{plugin}` used more than its {limit_ms} ms of CPU time and was stopped")]
    CpuLimit { plugin: String, limit_ms: u64 },
    #[error(
        "plugin `{plugin}` tried to grow its memory to {requested_mb} MiB, over its {limit_mb} MiB limit, and was stopped"
    )]
    MemoryLimit {
        plugin: String,
        limit_mb: u64,
        requested_mb: u64,
    },
    #[error("plugin `{plugin}` overflowed its stack (runaway recursion) and was stopped")]
    StackOverflow { plugin: String },
    #[error("plugin `{plugin}` crashed: {message}")]
    Trap { plugin: String, message: String },
    #[error("plugin `{plugin}` returned an error [{code}]: {message}")]
    Plugin {
        plugin: String,
        code: String,
        message: String,
    },
    #[error("plugin `{plugin}` returned output the portal refuses: {reason}")]
    InvalidOutput { plugin: String, reason: String },
    #[error("plugin `{plugin}`: too many calls at once, try again")]
    Busy { plugin: String },
    #[error("plugin `{plugin}`: internal error: {message}")]
    Internal { plugin: String, message: String },
}

impl CallError {
    /// A short, stable name for APIs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::NoSuchPlugin(_) => "no-such-plugin",
            CallError::NoSuchExtension { .. } => "no-such-extension",
            CallError::Timeout { .. } => "timeout",
            CallError::CpuLimit { .. } => "cpu-limit",
            CallError::MemoryLimit { .. } => "memory-limit",
            CallError::StackOverflow { .. } => "stack-overflow",
            CallError::Trap { .. } => "trap",
            CallError::Plugin { .. } => "plugin-error",
            CallError::InvalidOutput { .. } => "invalid-output",
            CallError::Busy { .. } => "busy",
            CallError::Internal { .. } => "internal",
        }
    }
}
