//! Errors, as types: what went wrong loading a plugin file, and what went wrong
//! calling one. Each message names the plugin or file and says what to do.

use crate::registry::PluginState;
use std::path::{Path, PathBuf};

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
        "{file} declares plugin `{name}`, but a plugin's name is bound to its file name: only {owner_file} may provide `{name}` and receive its grants (rename the file to {owner_file} if it is meant to be that plugin)"
    )]
    NameNotFileName {
        file: PathBuf,
        name: String,
        /// The file that holds the name: `<name>.wasm`.
        owner_file: String,
    },
    #[error(
        "{file} declares plugin `{name}`, which {other} already provides; remove one of the two files"
    )]
    DuplicateName {
        file: PathBuf,
        name: String,
        other: String,
    },
    #[error(
        "{file} (plugin `{name}`) has SHA-256 {actual}, but plugins.grants.{name}.sha256 pins {expected}; refused (update the pin if this build is trusted)"
    )]
    HashMismatch {
        file: PathBuf,
        name: String,
        expected: String,
        actual: String,
    },
    #[error("plugin `{name}` ({file}) is disabled by plugins.grants.{name}.enabled")]
    Disabled { file: PathBuf, name: String },
}

impl LoadError {
    /// `Rejected` for files refused on inspection, `Failed` for files that broke
    /// while being compiled or started.
    pub fn state(&self) -> PluginState {
        match self {
            LoadError::Compile { .. } | LoadError::Describe { .. } | LoadError::Read { .. } => {
                PluginState::Failed
            }
            LoadError::Disabled { .. } => PluginState::Disabled,
            _ => PluginState::Rejected,
        }
    }

    /// The same error with its file shown relative to `dir` (the plugins
    /// directory), or by its name alone if it is not under `dir` as spelt, so
    /// that what the API and pages show holds no server paths.
    pub fn relative_to(mut self, dir: &Path) -> LoadError {
        let file = self.file_mut();
        let shown = match file.strip_prefix(dir) {
            Ok(relative) => relative.to_owned(),
            Err(_) => file.file_name().map(PathBuf::from).unwrap_or_default(),
        };
        *file = shown;
        self
    }

    fn file_mut(&mut self) -> &mut PathBuf {
        match self {
            LoadError::Read { file, .. }
            | LoadError::TooLarge { file, .. }
            | LoadError::NotAComponent { file, .. }
            | LoadError::NotAPlugin { file }
            | LoadError::UnsupportedWitVersion { file, .. }
            | LoadError::Compile { file, .. }
            | LoadError::Link { file, .. }
            | LoadError::Describe { file, .. }
            | LoadError::InvalidMetadata { file, .. }
            | LoadError::NameNotFileName { file, .. }
            | LoadError::DuplicateName { file, .. }
            | LoadError::HashMismatch { file, .. }
            | LoadError::Disabled { file, .. } => file,
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
            CallError::Internal { .. } => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_shown_relative_to_the_plugins_dir() {
        let dir = Path::new("/srv/portal/plugins");
        let error = LoadError::NameNotFileName {
            file: dir.join("x.wasm"),
            name: "c-panel".into(),
            owner_file: "c-panel.wasm".into(),
        };
        let shown = error.relative_to(dir).to_string();
        assert!(!shown.contains("/srv"), "{shown}");
        assert!(
            shown.starts_with("x.wasm declares plugin `c-panel`")
                && shown.contains("only c-panel.wasm may provide"),
            "{shown}"
        );
        // A path spelt differently (a symlink, `..`) still shows no server path.
        let elsewhere = LoadError::NotAPlugin {
            file: "/srv/portal/../portal/plugins/y.wasm".into(),
        };
        let shown = elsewhere.relative_to(dir).to_string();
        assert!(shown.starts_with("y.wasm does not implement"), "{shown}");
    }
}
