use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `plugins:` — the watched directory, limits, and what each plugin is granted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginsConfig {
    /// The directory watched for `.wasm` files; defaults to `<data_dir>/plugins`.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Where compiled plugins are cached; defaults to `<data_dir>/cache/plugins`.
    /// Entries are keyed by content hash, so several portals may share one.
    #[serde(default)]
    pub cache_dir: Option<PathBuf>,
    /// Capabilities granted to every plugin that requests them.
    #[serde(default)]
    pub default_grants: DefaultGrants,
    /// Per-plugin grants, by plugin name.
    #[serde(default)]
    pub grants: BTreeMap<String, Grant>,
    /// Per-call limits for each extension point.
    #[serde(default)]
    pub limits: Limits,
    /// What each plugin may use of the host's shared resources (storage, log,
    /// catalog, outbound HTTP); overridden per plugin under `grants.<name>.quotas`.
    #[serde(default)]
    pub quotas: Quotas,
    #[serde(default)]
    pub compile: CompileConfig,
    /// Seconds a removed plugin's stored keys are kept before they are deleted,
    /// so that a file replaced by delete-then-copy keeps its data. To switch a
    /// plugin off and keep its data, set `grants.<name>.enabled: false` instead.
    #[serde(default = "thirty")]
    pub removed_storage_seconds: u64,
}

fn thirty() -> u64 {
    30
}

impl Default for PluginsConfig {
    fn default() -> Self {
        PluginsConfig {
            dir: None,
            cache_dir: None,
            default_grants: DefaultGrants::default(),
            grants: BTreeMap::new(),
            limits: Limits::default(),
            quotas: Quotas::default(),
            compile: CompileConfig::default(),
            removed_storage_seconds: thirty(),
        }
    }
}

impl PluginsConfig {
    /// The grant for a plugin; an empty one when the configuration names it nowhere.
    pub fn grant(&self, plugin: &str) -> Grant {
        self.grants.get(plugin).cloned().unwrap_or_default()
    }

    /// The limits for one extension point of one plugin, overrides applied.
    pub fn limits_for(&self, plugin: &str, point: ExtensionPoint) -> ExtensionLimits {
        let base = self.limits.get(point);
        match self.grants.get(plugin).and_then(|g| g.limits.get(&point)) {
            Some(patch) => patch.apply(base),
            None => base,
        }
    }

    /// The quotas of one plugin, its overrides applied.
    pub fn quotas_for(&self, plugin: &str) -> Quotas {
        match self.grants.get(plugin) {
            Some(grant) => grant.quotas.apply(&self.quotas),
            None => self.quotas.clone(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultGrants {
    #[serde(default = "yes")]
    pub catalog_read: bool,
    #[serde(default = "yes")]
    pub storage: bool,
}

fn yes() -> bool {
    true
}

impl Default for DefaultGrants {
    fn default() -> Self {
        DefaultGrants {
            catalog_read: true,
            storage: true,
        }
    }
}

/// What the operator grants one plugin. A plugin gets the intersection of what it
/// requests and what is granted here.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// `false` keeps the file installed but unloaded.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Outbound HTTP destinations: `api.github.com`, `*.example.com`,
    /// `127.0.0.1:8080`, `https://api.pagerduty.com`.
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// Names of secrets (defined under `secrets:`) it may read.
    #[serde(default)]
    pub secrets: Vec<String>,
    /// Git remotes its template actions may push to (`git.push`): prefixes, as
    /// absolute paths (`/srv/repos/`) or URLs (`https://github.com/acme/`).
    #[serde(default)]
    pub git_remotes: Vec<String>,
    /// Catalog locations its template actions may register
    /// (`catalog.register-location`): prefixes, as for `git_remotes`.
    #[serde(default)]
    pub register_locations: Vec<String>,
    /// Configuration values it reads with `config.get`.
    #[serde(default)]
    pub config: serde_json::Map<String, serde_json::Value>,
    /// Overrides `default_grants.catalog_read` for this plugin.
    #[serde(default)]
    pub catalog_read: Option<bool>,
    /// Overrides `default_grants.storage` for this plugin.
    #[serde(default)]
    pub storage: Option<bool>,
    /// Per-extension-point limit overrides.
    #[serde(default)]
    pub limits: BTreeMap<ExtensionPoint, LimitsPatch>,
    /// Pins the plugin to one build: a file declaring this name whose SHA-256
    /// differs is refused. (The name itself is bound to the file name: only
    /// `<name>.wasm` may declare `<name>`.)
    #[serde(default)]
    pub sha256: Option<Sha256Pin>,
    /// Quota overrides for this plugin (unset keys keep `plugins.quotas`).
    #[serde(default)]
    pub quotas: QuotasPatch,
}

/// A SHA-256 content hash, 64 hexadecimal digits (stored lowercase).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Sha256Pin(String);

impl Sha256Pin {
    pub fn as_hex(&self) -> &str {
        &self.0
    }

    /// Whether `hex` (any case) is this hash.
    pub fn matches(&self, hex: &str) -> bool {
        self.0.eq_ignore_ascii_case(hex)
    }
}

impl TryFrom<String> for Sha256Pin {
    type Error = String;

    fn try_from(text: String) -> Result<Sha256Pin, String> {
        let hex = text.trim();
        if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Sha256Pin(hex.to_ascii_lowercase()))
        } else {
            Err(format!(
                "`{text}` is not a SHA-256 hash (64 hexadecimal digits, as `sha256sum` prints)"
            ))
        }
    }
}

impl Default for Grant {
    fn default() -> Self {
        Grant {
            enabled: true,
            allowed_hosts: Vec::new(),
            secrets: Vec::new(),
            git_remotes: Vec::new(),
            register_locations: Vec::new(),
            config: Default::default(),
            catalog_read: None,
            storage: None,
            limits: BTreeMap::new(),
            sha256: None,
            quotas: QuotasPatch::default(),
        }
    }
}

/// The ways a plugin extends the portal, plus loading itself (`describe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtensionPoint {
    /// Loading the plugin and asking it what it is.
    Describe,
    Panel,
    Provider,
    Action,
    /// A search collator's `collate` (1.3.0).
    Collator,
}

impl ExtensionPoint {
    pub const ALL: [ExtensionPoint; 5] = [
        ExtensionPoint::Describe,
        ExtensionPoint::Panel,
        ExtensionPoint::Provider,
        ExtensionPoint::Action,
        ExtensionPoint::Collator,
    ];
}

/// Limits for one call into a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtensionLimits {
    /// Linear memory the plugin may grow to, in MiB.
    pub memory_mb: u64,
    /// Time the plugin may spend running WebAssembly, in milliseconds.
    pub cpu_ms: u64,
    /// Wall-clock time for the whole call, including HTTP it waits on.
    pub timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsPatch {
    pub memory_mb: Option<u64>,
    pub cpu_ms: Option<u64>,
    pub timeout_ms: Option<u64>,
}

impl LimitsPatch {
    fn apply(&self, base: ExtensionLimits) -> ExtensionLimits {
        ExtensionLimits {
            memory_mb: self.memory_mb.unwrap_or(base.memory_mb),
            cpu_ms: self.cpu_ms.unwrap_or(base.cpu_ms),
            timeout_ms: self.timeout_ms.unwrap_or(base.timeout_ms),
        }
    }
}

/// Default limits per extension point. Panels sit on a page someone is waiting for,
/// so they get the tightest budget; providers and actions do real work.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[serde(default = "Limits::default_describe")]
    pub describe: ExtensionLimits,
    #[serde(default = "Limits::default_panel")]
    pub panel: ExtensionLimits,
    #[serde(default = "Limits::default_provider")]
    pub provider: ExtensionLimits,
    #[serde(default = "Limits::default_action")]
    pub action: ExtensionLimits,
    #[serde(default = "Limits::default_provider")]
    pub collator: ExtensionLimits,
}

impl Limits {
    fn default_describe() -> ExtensionLimits {
        ExtensionLimits {
            memory_mb: 128,
            cpu_ms: 2_000,
            timeout_ms: 5_000,
        }
    }
    fn default_panel() -> ExtensionLimits {
        ExtensionLimits {
            memory_mb: 128,
            cpu_ms: 1_000,
            timeout_ms: 3_000,
        }
    }
    fn default_provider() -> ExtensionLimits {
        ExtensionLimits {
            memory_mb: 256,
            cpu_ms: 20_000,
            timeout_ms: 120_000,
        }
    }
    fn default_action() -> ExtensionLimits {
        ExtensionLimits {
            memory_mb: 256,
            cpu_ms: 60_000,
            timeout_ms: 600_000,
        }
    }

    pub fn get(&self, point: ExtensionPoint) -> ExtensionLimits {
        match point {
            ExtensionPoint::Describe => self.describe,
            ExtensionPoint::Panel => self.panel,
            ExtensionPoint::Provider => self.provider,
            ExtensionPoint::Action => self.action,
            ExtensionPoint::Collator => self.collator,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            describe: Self::default_describe(),
            panel: Self::default_panel(),
            provider: Self::default_provider(),
            action: Self::default_action(),
            collator: Self::default_provider(),
        }
    }
}

/// What one plugin may use of the host's shared resources. Storage and log
/// quotas hold across calls (storage for good, log per window); the catalog and
/// HTTP quotas hold per call into the plugin. Going over is refused with a
/// `limit-exceeded` host error naming the quota.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default, rename_all(serialize = "camelCase"))]
pub struct Quotas {
    /// Bytes of keys plus values in the plugin's storage.
    pub storage_bytes: u64,
    /// Keys in the plugin's storage.
    pub storage_keys: u64,
    /// Log lines per window; beyond it lines are dropped, and one line says how
    /// many when the window ends.
    pub log_lines_per_window: u64,
    /// Log bytes per window (after each line's own cap of 8 KiB).
    pub log_bytes_per_window: u64,
    /// The log window, in seconds.
    pub log_window_seconds: u64,
    /// Catalog host calls (`get-entity`, `query-entities`) per plugin call.
    pub catalog_calls_per_call: u64,
    /// Bytes of entity JSON read from the catalog per plugin call.
    pub catalog_bytes_per_call: u64,
    /// Outbound HTTP requests per plugin call.
    pub http_requests_per_call: u64,
    /// Outbound HTTP bytes (request and response bodies) per plugin call.
    pub http_bytes_per_call: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            storage_bytes: 64 << 20,
            storage_keys: 100_000,
            log_lines_per_window: 1_000,
            log_bytes_per_window: 1 << 20,
            log_window_seconds: 60,
            catalog_calls_per_call: 1_000,
            catalog_bytes_per_call: 64 << 20,
            http_requests_per_call: 100,
            http_bytes_per_call: 64 << 20,
        }
    }
}

/// Per-plugin quota overrides; each key left out keeps `plugins.quotas`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuotasPatch {
    pub storage_bytes: Option<u64>,
    pub storage_keys: Option<u64>,
    pub log_lines_per_window: Option<u64>,
    pub log_bytes_per_window: Option<u64>,
    pub log_window_seconds: Option<u64>,
    pub catalog_calls_per_call: Option<u64>,
    pub catalog_bytes_per_call: Option<u64>,
    pub http_requests_per_call: Option<u64>,
    pub http_bytes_per_call: Option<u64>,
}

impl QuotasPatch {
    fn apply(&self, base: &Quotas) -> Quotas {
        Quotas {
            storage_bytes: self.storage_bytes.unwrap_or(base.storage_bytes),
            storage_keys: self.storage_keys.unwrap_or(base.storage_keys),
            log_lines_per_window: self
                .log_lines_per_window
                .unwrap_or(base.log_lines_per_window),
            log_bytes_per_window: self
                .log_bytes_per_window
                .unwrap_or(base.log_bytes_per_window),
            log_window_seconds: self.log_window_seconds.unwrap_or(base.log_window_seconds),
            catalog_calls_per_call: self
                .catalog_calls_per_call
                .unwrap_or(base.catalog_calls_per_call),
            catalog_bytes_per_call: self
                .catalog_bytes_per_call
                .unwrap_or(base.catalog_bytes_per_call),
            http_requests_per_call: self
                .http_requests_per_call
                .unwrap_or(base.http_requests_per_call),
            http_bytes_per_call: self.http_bytes_per_call.unwrap_or(base.http_bytes_per_call),
        }
    }
}

/// How plugins are compiled to machine code.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompileConfig {
    /// Compile large, uncached plugins with Winch (a fast baseline compiler) first
    /// so they go live quickly, then replace them with Cranelift's optimised code
    /// compiled in the background.
    #[serde(default = "yes")]
    pub fast_first_tier: bool,
    /// Plugins at least this large (in bytes) take the fast first tier.
    #[serde(default = "default_first_tier_min_bytes")]
    pub fast_first_tier_min_bytes: u64,
    /// Files larger than this are refused without compiling.
    #[serde(default = "default_max_plugin_bytes")]
    pub max_plugin_bytes: u64,
}

fn default_first_tier_min_bytes() -> u64 {
    1 << 20
}

fn default_max_plugin_bytes() -> u64 {
    128 << 20
}

impl Default for CompileConfig {
    fn default() -> Self {
        CompileConfig {
            fast_first_tier: true,
            fast_first_tier_min_bytes: default_first_tier_min_bytes(),
            max_plugin_bytes: default_max_plugin_bytes(),
        }
    }
}

/// An outbound-HTTP destination pattern: `[scheme://]host[:port]`, where host may
/// start with `*.` to match subdomains and port may be `*`. Without a port, only the
/// scheme's default port matches (443 for https, 80 for http); without a scheme,
/// both http and https match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    scheme: Option<String>,
    host: String,
    wildcard_subdomains: bool,
    port: PortPattern,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Default,
    Any,
    Exact(u16),
}

impl HostPattern {
    pub fn parse(pattern: &str) -> Result<HostPattern, String> {
        let (scheme, rest) = match pattern.split_once("://") {
            Some((scheme, rest)) => {
                let scheme = scheme.to_ascii_lowercase();
                if scheme != "http" && scheme != "https" {
                    return Err(format!("`{pattern}`: scheme must be http or https"));
                }
                (Some(scheme), rest)
            }
            None => (None, pattern),
        };
        if rest.contains('/') {
            return Err(format!("`{pattern}`: give a host, not a URL path"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((host, "*")) => (host, PortPattern::Any),
            Some((host, port)) => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("`{pattern}`: `{port}` is not a port number"))?;
                (host, PortPattern::Exact(port))
            }
            None => (rest, PortPattern::Default),
        };
        let (wildcard_subdomains, host) = match host.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, host),
        };
        let valid = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
        if !valid {
            return Err(format!(
                "`{pattern}`: `{host}` is not a host name or IPv4 address"
            ));
        }
        Ok(HostPattern {
            scheme,
            host: host.to_ascii_lowercase(),
            wildcard_subdomains,
            port,
        })
    }

    /// Whether a request to `scheme://host:port` is allowed by this pattern.
    pub fn matches(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        let scheme = scheme.to_ascii_lowercase();
        if let Some(s) = &self.scheme
            && *s != scheme
        {
            return false;
        }
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            _ => return false,
        };
        let port = port.unwrap_or(default_port);
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
            PortPattern::Default => port == default_port,
        };
        let host = host.to_ascii_lowercase();
        let host_ok = if self.wildcard_subdomains {
            host.len() > self.host.len()
                && host.ends_with(&self.host)
                && host.as_bytes()[host.len() - self.host.len() - 1] == b'.'
        } else {
            host == self.host
        };
        port_ok && host_ok
    }
}

pub(crate) fn validate_host_pattern(pattern: &str) -> Result<(), String> {
    HostPattern::parse(pattern).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns() {
        let cases = [
            ("api.github.com", "https", "api.github.com", None, true),
            ("api.github.com", "http", "api.github.com", Some(80), true),
            (
                "api.github.com",
                "https",
                "api.github.com",
                Some(8443),
                false,
            ),
            ("api.github.com", "https", "evil.com", None, false),
            (
                "api.github.com",
                "https",
                "api.github.com.evil.com",
                None,
                false,
            ),
            ("*.example.com", "https", "a.example.com", None, true),
            ("*.example.com", "https", "a.b.example.com", None, true),
            ("*.example.com", "https", "example.com", None, false),
            ("*.example.com", "https", "badexample.com", None, false),
            ("127.0.0.1:8080", "http", "127.0.0.1", Some(8080), true),
            ("127.0.0.1:8080", "http", "127.0.0.1", Some(8081), false),
            ("127.0.0.1:*", "http", "127.0.0.1", Some(9), true),
            (
                "https://api.pagerduty.com",
                "http",
                "api.pagerduty.com",
                None,
                false,
            ),
            (
                "https://api.pagerduty.com",
                "https",
                "API.PagerDuty.com",
                None,
                true,
            ),
        ];
        for (pattern, scheme, host, port, expected) in cases {
            let p = HostPattern::parse(pattern).unwrap();
            assert_eq!(
                p.matches(scheme, host, port),
                expected,
                "{pattern} vs {scheme}://{host}:{port:?}"
            );
        }
    }

    #[test]
    fn bad_host_patterns() {
        for bad in [
            "",
            "ftp://x.com",
            "x.com/path",
            "x.com:http",
            "a b.com",
            "*",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn sha256_pins() {
        let hash = "AB".repeat(32);
        let yaml = format!("grants:\n  c-panel:\n    sha256: {hash}\n");
        let config: PluginsConfig = serde_saphyr::from_str(&yaml).unwrap();
        let pin = config.grant("c-panel").sha256.unwrap();
        assert_eq!(pin.as_hex(), "ab".repeat(32));
        assert!(pin.matches(&hash));
        assert!(!pin.matches(&"ac".repeat(32)));
        assert_eq!(config.grant("other").sha256, None);

        for bad in ["abc", "zz", &"a".repeat(63), &"g".repeat(64)] {
            let yaml = format!("grants:\n  c-panel:\n    sha256: \"{bad}\"\n");
            let err = serde_saphyr::from_str::<PluginsConfig>(&yaml).unwrap_err();
            assert!(err.to_string().contains("SHA-256"), "{bad}: {err}");
        }
    }

    #[test]
    fn quota_overrides() {
        let yaml = "quotas: { storage_keys: 10 }\ngrants:\n  noisy:\n    quotas: { log_lines_per_window: 5 }\n";
        let config: PluginsConfig = serde_saphyr::from_str(yaml).unwrap();
        let noisy = config.quotas_for("noisy");
        assert_eq!(noisy.log_lines_per_window, 5);
        assert_eq!(noisy.storage_keys, 10);
        assert_eq!(noisy.storage_bytes, Quotas::default().storage_bytes);
        let other = config.quotas_for("other");
        assert_eq!(
            other.log_lines_per_window,
            Quotas::default().log_lines_per_window
        );
        assert_eq!(other.storage_keys, 10);
        let bad = "quotas: { storage_byte: 10 }\n";
        assert!(serde_saphyr::from_str::<PluginsConfig>(bad).is_err());
    }

    #[test]
    fn limit_overrides() {
        let yaml = "grants:\n  slow:\n    limits:\n      panel: { timeout_ms: 9000 }\n";
        let config: PluginsConfig = serde_saphyr::from_str(yaml).unwrap();
        let l = config.limits_for("slow", ExtensionPoint::Panel);
        assert_eq!(l.timeout_ms, 9000);
        assert_eq!(l.memory_mb, Limits::default().panel.memory_mb);
        assert_eq!(
            config.limits_for("other", ExtensionPoint::Panel),
            Limits::default().panel
        );
    }
}
