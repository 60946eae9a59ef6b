//! Portal's configuration: one YAML file (`portal.yaml`), layered over an embedded
//! default, then over command-line flags. Every part of the host reads its settings
//! from the types here, so the whole schema is visible in one crate.

mod auth;
mod plugins;
mod secrets;
mod server;
mod store;
mod targets;

pub use auth::{
    AuthConfig, GuestConfig, ProviderConfig, ServiceTokenConfig, SessionConfig, SignInRule,
};
pub use plugins::{
    CompileConfig, DefaultGrants, ExtensionLimits, ExtensionPoint, Grant, HostPattern, Limits,
    LimitsPatch, PluginsConfig, Quotas, QuotasPatch,
};
pub use secrets::{SecretSource, Secrets};
pub use server::{AppConfig, ServerConfig};
pub use store::{PostgresConfig, StoreConfig, redact_url};
pub use targets::{Target, TargetPrefixes, UrlTarget};

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The configuration a `portal serve` with no `--config` runs with.
pub const DEFAULT_CONFIG_YAML: &str = include_str!("default-config.yaml");

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub app: AppConfig,
    #[serde(default)]
    pub server: ServerConfig,
    /// Where Portal keeps its store and compiled-plugin cache.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    #[serde(default)]
    pub plugins: PluginsConfig,
    #[serde(default)]
    pub secrets: Secrets,
    /// The catalog's settings; owned by the catalog crate, kept as raw YAML here so
    /// this crate does not depend on it.
    #[serde(default)]
    pub catalog: serde_json::Value,
    #[serde(default)]
    pub search: SearchConfig,
    /// Where the catalog keeps its data: the embedded store under
    /// `data_dir` (the default) or PostgreSQL.
    #[serde(default)]
    pub store: StoreConfig,
    /// Sign-in, service tokens and the permission policy.
    #[serde(default)]
    pub auth: AuthConfig,
    /// Directory the configuration file lives in; relative paths in it resolve
    /// against this. Not part of the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file this configuration was read from (`None`: the embedded
    /// default or text). Parts that reload on change read it again.
    #[serde(skip)]
    pub file: Option<PathBuf>,
}

/// The `search:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchConfig {
    /// How often plugins' search collators run when they leave it to the
    /// portal (`refresh-interval-seconds: 0`), in seconds.
    #[serde(default = "default_collate_interval")]
    pub collate_interval_seconds: u64,
}

impl Default for SearchConfig {
    fn default() -> Self {
        SearchConfig {
            collate_interval_seconds: default_collate_interval(),
        }
    }
}

fn default_collate_interval() -> u64 {
    300
}

fn default_data_dir() -> PathBuf {
    PathBuf::from("portal-data")
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid configuration in {origin}: {message}")]
    Invalid { origin: String, message: String },
}

impl Config {
    /// The embedded default configuration, with paths relative to the current directory.
    pub fn embedded_default() -> Config {
        Self::from_yaml(
            DEFAULT_CONFIG_YAML,
            "the embedded default configuration",
            Path::new("."),
        )
        .expect("the embedded default configuration is valid")
    }

    /// Reads a configuration file. Relative paths inside it resolve against the file's
    /// directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new(".")).to_owned();
        let mut config = Self::from_yaml(&text, &path.display().to_string(), &base)?;
        config.file = Some(path.to_owned());
        Ok(config)
    }

    /// Parses configuration text; `origin` names it in errors.
    pub fn from_yaml(text: &str, origin: &str, base_dir: &Path) -> Result<Config, ConfigError> {
        let mut config: Config =
            serde_saphyr::from_str(text).map_err(|e| ConfigError::Invalid {
                origin: origin.to_owned(),
                message: e.to_string(),
            })?;
        config.base_dir = base_dir.to_owned();
        config.resolve_grant_paths();
        config.validate().map_err(|message| ConfigError::Invalid {
            origin: origin.to_owned(),
            message,
        })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        for (i, token) in self.auth.service_tokens.iter().enumerate() {
            let hex_ok = token.sha256.len() == 64
                && token
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok {
                return Err(format!(
                    "auth.service_tokens[{i}] (`{}`): sha256 must be 64 lowercase hex digits (the token's SHA-256; `portal auth token` makes one)",
                    token.name
                ));
            }
            if self.auth.service_tokens[..i]
                .iter()
                .any(|t| t.name == token.name)
            {
                return Err(format!(
                    "auth.service_tokens: the name `{}` is used twice",
                    token.name
                ));
            }
        }
        for (i, provider) in self.auth.providers.iter().enumerate() {
            let id_ok = !provider.id.is_empty()
                && provider.id.len() <= 32
                && provider
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !id_ok {
                return Err(format!(
                    "auth.providers[{i}]: id `{}` must be 1-32 lowercase letters, digits or `-` (it is part of the callback URL)",
                    provider.id
                ));
            }
            if self.auth.providers[..i].iter().any(|p| p.id == provider.id) {
                return Err(format!(
                    "auth.providers: the id `{}` is used twice",
                    provider.id
                ));
            }
            if !(provider.issuer.starts_with("https://") || provider.issuer.starts_with("http://"))
            {
                return Err(format!(
                    "auth.providers `{}`: issuer `{}` must be an http(s) URL",
                    provider.id, provider.issuer
                ));
            }
        }
        if self.auth.session.max_age_hours == 0 {
            return Err("auth.session.max_age_hours must be at least 1".into());
        }
        if self.plugins.quotas.log_window_seconds == 0 {
            return Err("plugins.quotas.log_window_seconds must be at least 1".into());
        }
        for (plugin, grant) in &self.plugins.grants {
            if grant.quotas.log_window_seconds == Some(0) {
                return Err(format!(
                    "plugins.grants.{plugin}.quotas.log_window_seconds must be at least 1"
                ));
            }
            for secret in &grant.secrets {
                if !self.secrets.contains(secret) {
                    return Err(format!(
                        "plugins.grants.{plugin}.secrets names `{secret}`, which is not defined under `secrets`"
                    ));
                }
            }
            targets::TargetPrefixes::parse(&grant.git_remotes)
                .map_err(|e| format!("plugins.grants.{plugin}.git_remotes: {e}"))?;
            targets::TargetPrefixes::parse(&grant.register_locations)
                .map_err(|e| format!("plugins.grants.{plugin}.register_locations: {e}"))?;
            for host in &grant.allowed_hosts {
                plugins::validate_host_pattern(host)
                    .map_err(|e| format!("plugins.grants.{plugin}.allowed_hosts: {e}"))?;
            }
        }
        Ok(())
    }

    /// Relative paths among the places plugins may publish to resolve against
    /// the file's directory, like every other path in it (`portal-data/repos`).
    fn resolve_grant_paths(&mut self) {
        let base = self.base_dir.clone();
        for provider in &mut self.auth.providers {
            if let SecretSource::File(path) = &mut provider.client_secret
                && path.is_relative()
            {
                *path = base.join(&*path);
            }
        }
        for grant in self.plugins.grants.values_mut() {
            for prefix in grant
                .git_remotes
                .iter_mut()
                .chain(grant.register_locations.iter_mut())
            {
                let is_relative_path = !prefix.contains("://") && !prefix.starts_with('/');
                if is_relative_path && !prefix.is_empty() {
                    *prefix = std::path::absolute(base.join(&*prefix))
                        .unwrap_or_else(|_| base.join(&*prefix))
                        .to_string_lossy()
                        .into_owned();
                }
            }
        }
    }

    /// Resolves a path from the configuration against the file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_owned()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The data directory, resolved.
    pub fn data_dir(&self) -> PathBuf {
        self.resolve(&self.data_dir)
    }

    /// The compiled-plugin cache directory, resolved.
    pub fn plugin_cache_dir(&self) -> PathBuf {
        match &self.plugins.cache_dir {
            Some(dir) => self.resolve(dir),
            None => self.data_dir().join("cache").join("plugins"),
        }
    }

    /// The watched plugins directory, resolved (defaults to `<data_dir>/plugins`).
    pub fn plugins_dir(&self) -> PathBuf {
        match &self.plugins.dir {
            Some(dir) => self.resolve(dir),
            None => self.data_dir().join("plugins"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_parses() {
        let config = Config::embedded_default();
        assert_eq!(config.server.port, 7007);
        assert_eq!(config.server.host, "127.0.0.1");
        let actions = &config.plugins.grants["builtin-actions"];
        let repos = std::path::absolute("portal-data/repos").unwrap();
        assert_eq!(actions.git_remotes, [repos.to_string_lossy()]);
        assert_eq!(actions.register_locations, actions.git_remotes);
        assert_eq!(config.plugins_dir(), PathBuf::from("./portal-data/plugins"));
    }

    #[test]
    fn unknown_keys_are_rejected_with_their_name() {
        let err = Config::from_yaml("server:\n  prot: 80\n", "test.yaml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("test.yaml"), "{err}");
        assert!(err.contains("prot"), "{err}");
    }

    #[test]
    fn granting_an_undefined_secret_is_an_error() {
        let yaml = "plugins:\n  grants:\n    ci:\n      secrets: [gh-token]\n";
        let err = Config::from_yaml(yaml, "t.yaml", Path::new("."))
            .unwrap_err()
            .to_string();
        assert!(err.contains("gh-token"), "{err}");
    }

    #[test]
    fn relative_paths_resolve_against_the_file() {
        let yaml = "data_dir: state\nplugins:\n  dir: /abs/plugins\n";
        let config = Config::from_yaml(yaml, "t.yaml", Path::new("/etc/portal")).unwrap();
        assert_eq!(config.data_dir(), PathBuf::from("/etc/portal/state"));
        assert_eq!(config.plugins_dir(), PathBuf::from("/abs/plugins"));
    }
}
