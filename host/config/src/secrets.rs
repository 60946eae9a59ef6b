use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Named secrets. Plugins see a secret only if `plugins.grants.<plugin>.secrets`
/// lists its name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secrets(BTreeMap<String, SecretSource>);

/// Where a secret's value comes from. Values are read when used, so a rotated
/// environment variable or file takes effect without a restart of the plugin.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SecretSource {
    /// An environment variable of the portal process.
    Env(String),
    /// A file whose content (trailing newline removed) is the value.
    File(PathBuf),
    /// The value itself, for tests and local setups.
    Value(String),
}

impl std::fmt::Debug for SecretSource {
    // Never print a literal value.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretSource::Env(var) => write!(f, "Env({var})"),
            SecretSource::File(path) => write!(f, "File({})", path.display()),
            SecretSource::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

impl SecretSource {
    /// The current value; `Err` says why it could not be read (never the value).
    pub fn read(&self) -> Result<String, String> {
        match self {
            SecretSource::Env(var) => {
                std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))
            }
            SecretSource::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_owned())
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
            SecretSource::Value(value) => Ok(value.clone()),
        }
    }
}

impl Secrets {
    pub fn contains(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn insert(&mut self, name: impl Into<String>, source: SecretSource) {
        self.0.insert(name.into(), source);
    }

    /// The secret's current value; `Err` says why it could not be read.
    pub fn resolve(&self, name: &str) -> Result<String, String> {
        match self.0.get(name) {
            None => Err(format!("secret `{name}` is not defined")),
            Some(source) => source.read().map_err(|e| format!("secret `{name}`: {e}")),
        }
    }
}
