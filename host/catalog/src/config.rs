//! The `catalog:` section of Portal's configuration.
//!
//! ```yaml
//! catalog:
//!   locations:                      # read at start, kept in sync with this list
//!     - type: file                  # file (a file, directory or glob) or url
//!       target: examples/catalog/all.yaml   # relative to the config file
//!       presence: optional          # a missing target is not an error
//!       rules: [{ allow: [Template] }]      # extra kinds for this location only
//!   rules:                          # which kinds locations may supply
//!     - allow: [Component, API, Location, Group, User, System, Domain, Resource, Template]
//!   refresh_interval_seconds: 300   # re-read every location this often (0: never);
//!                                   # file locations are also watched
//!   provider_refresh_interval_seconds: 300  # plugin providers asking for "0"
//!   orphan_strategy: delete         # or keep (marks backstage.io/orphan: "true")
//!   watch: true                     # re-read file locations within ~2 s of a change
//!   readonly: false                 # refuse location changes through the API
//!   reading:
//!     allow:                        # hosts url locations may read from
//!       - host: github.com
//!       - host: "*.example.com"
//!         paths: [/catalog/]
//!     timeout_seconds: 20
//!     github:                       # GitHub Enterprise hosts (github.com is built in)
//!       - host: github.example.com
//!         raw_base_url: https://github.example.com/raw
//!         api_base_url: https://github.example.com/api/v3   # the default
//!         token_secret: ghe-token   # a name under `secrets:`
//!   limits:
//!     max_file_bytes: 8388608
//! ```
//!
//! Without `rules`, every built-in kind is allowed (Backstage allows only
//! Component, API and Location, which silently drops a new user's Groups and
//! Users). `"*"` in `allow` admits any kind, including unknown ones.

use serde::Deserialize;
use serde_json::Value;
use std::path::PathBuf;

/// The parsed `catalog:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogConfig {
    /// Locations read at start.
    #[serde(default)]
    pub locations: Vec<ConfigLocation>,
    /// Catalog rules; `None` allows every built-in kind.
    #[serde(default)]
    pub rules: Option<Vec<CatalogRule>>,
    /// Seconds between full re-reads of every location (0 disables the loop).
    #[serde(default = "default_refresh")]
    pub refresh_interval_seconds: u64,
    /// Seconds between runs of plugin entity providers that leave the interval to
    /// the catalog (0 in their manifest).
    #[serde(default = "default_provider_refresh")]
    pub provider_refresh_interval_seconds: u64,
    /// What happens to entities their source no longer emits.
    #[serde(default)]
    pub orphan_strategy: OrphanStrategy,
    /// Watch file locations and re-read them when they change.
    #[serde(default = "default_true")]
    pub watch: bool,
    /// Refuse location changes through the API (403), like Backstage's
    /// `catalog.readonly`.
    #[serde(default)]
    pub readonly: bool,
    /// Reading `url` locations.
    #[serde(default)]
    pub reading: ReadingConfig,
    /// Input limits.
    #[serde(default)]
    pub limits: LimitsConfig,
}

fn default_refresh() -> u64 {
    300
}
fn default_provider_refresh() -> u64 {
    300
}
fn default_true() -> bool {
    true
}

impl Default for CatalogConfig {
    fn default() -> Self {
        CatalogConfig::from_value(&Value::Null).expect("the empty catalog config is valid")
    }
}

/// A location from the configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigLocation {
    /// `file` or `url`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A path (relative to the configuration file), glob or URL.
    pub target: String,
    /// `required` (default) or `optional`.
    #[serde(default)]
    pub presence: Option<String>,
    /// Extra rules for this location.
    #[serde(default)]
    pub rules: Vec<CatalogRule>,
}

/// One catalog rule: these kinds may come from these locations (all, when
/// `locations` is absent).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogRule {
    /// Kinds (case-insensitive); `"*"` allows any kind.
    pub allow: Vec<String>,
    /// Locations the rule applies to.
    #[serde(default)]
    pub locations: Option<Vec<RuleLocation>>,
}

/// A location matcher inside a rule.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleLocation {
    /// Location type (`file`, `url`).
    #[serde(rename = "type")]
    pub type_: String,
    /// Exact target.
    #[serde(default)]
    pub target: Option<String>,
    /// Glob over the target (`*` within a segment, `**` across segments).
    #[serde(default)]
    pub pattern: Option<String>,
}

/// What happens to an entity no source emits any more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrphanStrategy {
    /// Remove it (Backstage's default since catalog-backend 1.x).
    #[default]
    Delete,
    /// Keep it, annotated `backstage.io/orphan: "true"`, until deleted by uid.
    Keep,
}

/// Reading `url` locations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadingConfig {
    /// Hosts that may be read. Empty: no url location can be read.
    #[serde(default)]
    pub allow: Vec<AllowedHost>,
    /// Timeout for one request.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
    /// GitHub hosts whose file pages (`https://<host>/<owner>/<repo>/blob/<ref>/<path>`)
    /// are read from their raw file server instead, as Backstage's
    /// `integrations.github[].rawBaseUrl` does, and whose folders
    /// (`.../tree/<ref>/<path>`, TechDocs' `url:` sources) are read as the
    /// repository's tarball through their API. github.com is built in.
    #[serde(default)]
    pub github: Vec<GithubHost>,
    /// The portal's named secrets (`secrets:`), for `github[].token_secret`;
    /// filled from the whole configuration, not from this section.
    #[serde(skip)]
    pub secrets: portal_config::Secrets,
}

/// A GitHub (Enterprise) host and where its raw files are served.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GithubHost {
    /// `github.example.com` or `host:port`.
    pub host: String,
    /// `https://raw.github.example.com` or `https://github.example.com/raw`.
    pub raw_base_url: String,
    /// The REST API (Backstage's `apiBaseUrl`): `https://api.github.com` for
    /// github.com, `https://<host>/api/v3` for GitHub Enterprise when absent.
    #[serde(default)]
    pub api_base_url: Option<String>,
    /// A secret (named under `secrets:`) holding a token sent to the API and
    /// the raw file server, never to another host (a redirect elsewhere
    /// drops it).
    #[serde(default)]
    pub token_secret: Option<String>,
}

fn default_timeout() -> u64 {
    20
}

impl Default for ReadingConfig {
    fn default() -> Self {
        ReadingConfig {
            allow: Vec::new(),
            timeout_seconds: default_timeout(),
            github: Vec::new(),
            secrets: portal_config::Secrets::default(),
        }
    }
}

/// An allowed host for url locations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AllowedHost {
    /// `host`, `host:port` or `*.domain`.
    pub host: String,
    /// Allowed path prefixes (all paths when absent).
    #[serde(default)]
    pub paths: Option<Vec<String>>,
}

/// Bounds on what one file may cost.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest catalog file read (bytes).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// Most documents in one file.
    #[serde(default = "default_max_documents")]
    pub max_documents_per_file: usize,
    /// Deepest nesting in a YAML document.
    #[serde(default = "default_max_depth")]
    pub max_depth: usize,
    /// Most nodes one document may expand to (aliases included).
    #[serde(default = "default_max_nodes")]
    pub max_nodes: usize,
    /// Most alias uses in one document.
    #[serde(default = "default_max_aliases")]
    pub max_aliases: usize,
    /// Deepest chain of Location entities pointing to more locations.
    #[serde(default = "default_max_location_depth")]
    pub max_location_depth: usize,
}

fn default_max_file_bytes() -> u64 {
    8 * 1024 * 1024
}
fn default_max_documents() -> usize {
    10_000
}
fn default_max_depth() -> usize {
    64
}
fn default_max_nodes() -> usize {
    250_000
}
fn default_max_aliases() -> usize {
    1_000
}
fn default_max_location_depth() -> usize {
    16
}

impl Default for LimitsConfig {
    fn default() -> Self {
        serde_json::from_value(Value::Object(Default::default())).expect("defaults")
    }
}

/// The `catalog:` section is invalid.
#[derive(Debug, thiserror::Error)]
#[error("invalid `catalog` configuration: {0}")]
pub struct CatalogConfigError(pub String);

impl CatalogConfig {
    /// Parses the raw section (`null` gives the defaults).
    pub fn from_value(value: &Value) -> Result<CatalogConfig, CatalogConfigError> {
        let value = match value {
            Value::Null => Value::Object(Default::default()),
            other => other.clone(),
        };
        let config: CatalogConfig =
            serde_json::from_value(value).map_err(|e| CatalogConfigError(e.to_string()))?;
        for (i, location) in config.locations.iter().enumerate() {
            if location.type_ != "file" && location.type_ != "url" {
                return Err(CatalogConfigError(format!(
                    "catalog.locations[{i}].type is `{}`; Portal reads `file` and `url` locations",
                    location.type_
                )));
            }
            if let Some(p) = &location.presence
                && p != "required"
                && p != "optional"
            {
                return Err(CatalogConfigError(format!(
                    "catalog.locations[{i}].presence is `{p}`; use `required` or `optional`"
                )));
            }
        }
        for host in &config.reading.allow {
            if host.host.is_empty() || host.host.contains('/') {
                return Err(CatalogConfigError(format!(
                    "catalog.reading.allow: `{}` is not a host (write `example.com`, `example.com:8080` or `*.example.com`)",
                    host.host
                )));
            }
        }
        Ok(config)
    }

    /// Parses the section of a whole Portal configuration.
    pub fn from_portal_config(
        config: &portal_config::Config,
    ) -> Result<CatalogConfig, CatalogConfigError> {
        let mut parsed = CatalogConfig::from_value(&config.catalog)?;
        for github in &parsed.reading.github {
            if let Some(secret) = &github.token_secret
                && !config.secrets.contains(secret)
            {
                return Err(CatalogConfigError(format!(
                    "catalog.reading.github: host `{}` names the token secret `{secret}`, which is not defined under `secrets`",
                    github.host
                )));
            }
        }
        parsed.reading.secrets = config.secrets.clone();
        Ok(parsed)
    }
}

/// Where the catalog keeps its store inside Portal's data directory.
pub fn store_path(config: &portal_config::Config) -> PathBuf {
    config.data_dir().join("catalog")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults() {
        let c = CatalogConfig::default();
        assert!(c.locations.is_empty());
        assert!(c.rules.is_none());
        assert_eq!(c.refresh_interval_seconds, 300);
        assert_eq!(c.orphan_strategy, OrphanStrategy::Delete);
        assert!(c.watch);
        assert_eq!(c.limits.max_file_bytes, 8 * 1024 * 1024);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err = CatalogConfig::from_value(&json!({"refresh": 3}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("refresh"), "{err}");
        let err = CatalogConfig::from_value(&json!({"limits": {"max_bytes": 3}}))
            .unwrap_err()
            .to_string();
        assert!(err.contains("max_bytes"), "{err}");
        let err =
            CatalogConfig::from_value(&json!({"locations": [{"type": "git", "target": "x"}]}))
                .unwrap_err()
                .to_string();
        assert!(err.contains("catalog.locations[0].type"), "{err}");
    }

    #[test]
    fn full_example() {
        let c = CatalogConfig::from_value(&json!({
            "locations": [{"type": "file", "target": "a.yaml", "presence": "optional", "rules": [{"allow": ["Template"]}]}],
            "rules": [{"allow": ["Component"], "locations": [{"type": "url", "pattern": "https://x/**"}]}],
            "orphan_strategy": "keep",
            "reading": {"allow": [{"host": "127.0.0.1:8080", "paths": ["/a/"]}]}
        }))
        .unwrap();
        assert_eq!(c.orphan_strategy, OrphanStrategy::Keep);
        assert_eq!(c.locations[0].rules[0].allow, vec!["Template"]);
    }
}
