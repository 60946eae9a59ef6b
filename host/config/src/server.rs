use serde::Deserialize;

/// How the portal presents itself. The web UI's keys (`logo`, `colors`,
/// `sidebar`) land in `extra`, and the UI checks them strictly at start
/// (`portal_web::ssr::branding`); serde cannot deny unknown fields next to a
/// flattened map.
#[derive(Debug, Clone, Deserialize)]
pub struct AppConfig {
    #[serde(default = "default_title")]
    pub title: String,
    /// Everything else the web UI reads (branding, sidebar); owned by the web crate.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

fn default_title() -> String {
    "Portal".to_owned()
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            title: default_title(),
            extra: Default::default(),
        }
    }
}

/// Where the HTTP server listens.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    #[serde(default = "default_host")]
    pub host: String,
    /// 7007 is Backstage's port, so existing clients keep their URLs. 0 picks a free one.
    #[serde(default = "default_port")]
    pub port: u16,
    /// The URL users reach the portal at, when it differs from `http://host:port`.
    #[serde(default)]
    pub base_url: Option<String>,
}

fn default_host() -> String {
    "127.0.0.1".to_owned()
}

fn default_port() -> u16 {
    7007
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            host: default_host(),
            port: default_port(),
            base_url: None,
        }
    }
}
