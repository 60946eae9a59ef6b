use serde::Deserialize;
use std::path::PathBuf;

/// The `auth:` section: who may use the portal, and what each may do.
///
/// With no sign-in provider the portal runs in guest mode, which it only
/// allows on a loopback address (`portal_auth::startup_check`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Tokens for scripts and CI, sent as `Authorization: Bearer <token>`.
    /// Only their SHA-256 is configured (`portal auth token` makes one).
    #[serde(default, alias = "serviceTokens")]
    pub service_tokens: Vec<ServiceTokenConfig>,
    /// The permission policy file (YAML, reloaded when it changes). Without
    /// one, whoever may sign in may do everything, as in Backstage with
    /// `permission.enabled: false`.
    #[serde(default)]
    pub policy: Option<PathBuf>,
    /// Guest mode: the identity every request has when no provider is
    /// configured.
    #[serde(default)]
    pub guest: GuestConfig,
}

/// One service token.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceTokenConfig {
    /// Names the caller in the audit log (never the token itself).
    pub name: String,
    /// Lowercase hex SHA-256 of the token.
    pub sha256: String,
    /// The permissions it has (`catalog.entity.read`, `catalog.*`, `*`).
    #[serde(default)]
    pub permissions: Vec<String>,
}

/// The `auth.guest` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GuestConfig {
    /// The catalog user a guest is (`user:default/guest`).
    #[serde(default = "default_guest_ref")]
    pub user_ref: String,
}

impl Default for GuestConfig {
    fn default() -> Self {
        GuestConfig {
            user_ref: default_guest_ref(),
        }
    }
}

fn default_guest_ref() -> String {
    "user:default/guest".to_owned()
}
