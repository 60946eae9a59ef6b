use crate::SecretSource;
use serde::Deserialize;
use std::path::PathBuf;

/// The `auth:` section: who may use the portal, and what each may do.
///
/// With no sign-in provider the portal runs in guest mode, which it only
/// allows on a loopback address (`portal_auth::Auth::start`).
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
    /// OpenID Connect providers people sign in with. With at least one,
    /// the portal requires sign-in (no guest mode).
    #[serde(default)]
    pub providers: Vec<ProviderConfig>,
    /// Signed-in sessions.
    #[serde(default)]
    pub session: SessionConfig,
}

/// One OpenID Connect provider. Register
/// `<server.base_url>/api/auth/<id>/callback` as its redirect URI.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    /// Names it in URLs and the audit log: lowercase letters, digits, `-`.
    pub id: String,
    /// The sign-in button's label (the id when absent).
    #[serde(default)]
    pub title: Option<String>,
    /// The issuer URL (its `/.well-known/openid-configuration` is read).
    pub issuer: String,
    #[serde(alias = "clientId")]
    pub client_id: String,
    /// `{env: VAR}` or `{file: path}` (or `{value: ...}` for local setups).
    #[serde(alias = "clientSecret")]
    pub client_secret: SecretSource,
    /// Scopes asked for; `openid` is always asked for.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// Which catalog User a signed-in person is.
    #[serde(default, alias = "signIn")]
    pub sign_in: SignInRule,
}

fn default_scopes() -> Vec<String> {
    ["openid", "profile", "email"].map(String::from).to_vec()
}

/// How a verified sign-in is matched to a catalog User. A sign-in that
/// matches no User is refused (Backstage's resolvers behave the same).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(tag = "resolver", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignInRule {
    /// The User whose `spec.profile.email` is the token's `email` claim
    /// (Backstage's `emailMatchingUserEntityProfileEmail`).
    #[default]
    #[serde(alias = "emailMatchingUserEntityProfileEmail")]
    Email,
    /// The User in the default namespace whose `metadata.name` is the
    /// value of `claim` (for example `preferred_username`).
    Claim { claim: String },
}

/// The `auth.session` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionConfig {
    /// How long a sign-in lasts.
    #[serde(default = "default_session_hours")]
    pub max_age_hours: u64,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_age_hours: default_session_hours(),
        }
    }
}

fn default_session_hours() -> u64 {
    12
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
