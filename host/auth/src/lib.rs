//! Access control: who is asking ([`Principal`]), what the policy lets them
//! do ([`Decision`]), and the record of what they did ([`AuditLog`]).
//!
//! The server asks [`Auth::authenticate`] once per request and
//! [`Auth::decide`] for every guarded action; it turns a catalog read's
//! decision into the catalog's `Access`. This crate knows nothing of HTTP
//! or of the catalog's storage: it sees entities only as predicates.
//!
//! Service tokens and the policy are re-read when the configuration file
//! or the policy file changes, so a token is revoked by removing it from
//! the file. A file that no longer parses leaves the previous settings in
//! force, and [`Auth::reload_error`] says why.

pub mod audit;
pub mod identity;
pub mod oidc;
pub mod permission;
pub mod policy;
pub mod sessions;
pub mod tokens;

pub use audit::{AuditEvent, AuditFilter, AuditLog, Outcome};
pub use identity::{Identity, Principal, Service};
pub use oidc::{SignIn, SignInError, Verified};
pub use permission::{Permission, ResourceType};
pub use policy::{Condition, Decision, Policy, PolicyError};
pub use sessions::{Session, SessionError, Sessions};
pub use tokens::ServiceTokens;

use portal_config::{AuthConfig, Config};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};
use std::time::{Duration, SystemTime};

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(
        "refusing to serve on {host}: with no sign-in provider configured, the portal runs in guest mode, where anyone who reaches it may do anything its policy lets a guest do; guest mode only serves on a loopback address (127.0.0.1, ::1, localhost). Configure a sign-in provider under `auth:`, or bind to 127.0.0.1"
    )]
    GuestOutsideLoopback { host: String },
    #[error("{0}")]
    Policy(#[from] PolicyError),
    #[error("invalid auth configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Audit(#[from] audit::AuditError),
    #[error(transparent)]
    Sessions(#[from] SessionError),
    #[error("invalid auth configuration: {0}")]
    SignIn(#[from] oidc::ConfigError),
}

/// Why a request has no principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unauthenticated {
    /// A bearer token was sent and is not a configured service token.
    InvalidToken,
    /// A session cookie was sent and names no live session (signed out,
    /// expired, or forged).
    InvalidSession,
    /// Nothing was sent and guest mode is off.
    SignInRequired,
}

/// How people use this portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No provider: everyone is the guest (loopback only).
    Guest,
    /// People sign in.
    SignIn,
}

/// What is in force now (swapped whole on reload).
struct Settings {
    tokens: ServiceTokens,
    policy: Policy,
    /// A policy file is configured (without one, nothing depends on who
    /// the guest or user is).
    has_policy: bool,
}

struct Inner {
    mode: Mode,
    guest: Identity,
    settings: RwLock<Arc<Settings>>,
    reload_error: RwLock<Option<String>>,
    audit: AuditLog,
    /// The sign-in providers (`Mode::SignIn`).
    sign_in: Option<SignIn>,
    /// Signed-in sessions (`Mode::SignIn`; guest mode keeps none).
    sessions: Option<Sessions>,
    /// Session cookies are `Secure` (the portal is served over https).
    secure_cookies: bool,
    config_file: Option<PathBuf>,
    policy_file: Option<PathBuf>,
}

/// The portal's access control. Cheap to clone.
#[derive(Clone)]
pub struct Auth(Arc<Inner>);

/// Whether `host` (as configured in `server.host`) is a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Auth {
    /// Checks the mode against the bind address, loads tokens and policy,
    /// opens the audit log under `data_dir`, and starts watching the files.
    pub fn start(config: &Config, data_dir: &Path) -> Result<Auth, AuthError> {
        let mode = if config.auth.providers.is_empty() {
            Mode::Guest
        } else {
            Mode::SignIn
        };
        if mode == Mode::Guest && !is_loopback(&config.server.host) {
            return Err(AuthError::GuestOutsideLoopback {
                host: config.server.host.clone(),
            });
        }
        let public_url = public_url(config)?;
        let (sign_in, sessions) = match mode {
            Mode::Guest => (None, None),
            Mode::SignIn => (
                Some(SignIn::new(&config.auth.providers, &public_url)?),
                Some(Sessions::open(
                    data_dir,
                    Duration::from_secs(config.auth.session.max_age_hours.saturating_mul(3600)),
                )?),
            ),
        };
        let policy_file = config.auth.policy.as_ref().map(|p| config.resolve(p));
        let settings = load_settings(&config.auth, policy_file.as_deref())?;
        let audit = AuditLog::open(&data_dir.join("audit"))?;
        let auth = Auth(Arc::new(Inner {
            mode,
            guest: Identity::user(config.auth.guest.user_ref.clone()),
            settings: RwLock::new(Arc::new(settings)),
            reload_error: RwLock::new(None),
            audit,
            sign_in,
            sessions,
            secure_cookies: public_url.starts_with("https://"),
            config_file: config.file.clone(),
            policy_file,
        }));
        auth.watch();
        Ok(auth)
    }

    pub fn mode(&self) -> Mode {
        self.0.mode
    }

    /// The guest identity (its ownership refs are its own ref; the server
    /// adds the groups the catalog knows).
    pub fn guest(&self) -> &Identity {
        &self.0.guest
    }

    /// The sign-in providers (none in guest mode).
    pub fn sign_in(&self) -> Option<&SignIn> {
        self.0.sign_in.as_ref()
    }

    /// The session store (none in guest mode).
    pub fn sessions(&self) -> Option<&Sessions> {
        self.0.sessions.as_ref()
    }

    /// Whether cookies must be `Secure` (the portal's URL is https).
    pub fn secure_cookies(&self) -> bool {
        self.0.secure_cookies
    }

    /// Who a request is: a service token's service, a signed-in user (by
    /// the session cookie), or the guest.
    pub fn authenticate(
        &self,
        bearer: Option<&str>,
        session: Option<&str>,
    ) -> Result<Principal, Unauthenticated> {
        if bearer.is_none()
            && let Some(sessions) = &self.0.sessions
            && let Some(cookie) = session
        {
            let session = sessions
                .get(cookie)
                .ok_or(Unauthenticated::InvalidSession)?;
            let mut identity = Identity::user(session.user_ref);
            identity.claims = session.claims;
            return Ok(Principal::User(identity));
        }
        if let Some(token) = bearer {
            let settings = self.settings();
            return settings
                .tokens
                .verify(token)
                .map(Principal::Service)
                .ok_or(Unauthenticated::InvalidToken);
        }
        match self.0.mode {
            Mode::Guest => Ok(Principal::Guest(self.0.guest.clone())),
            Mode::SignIn => Err(Unauthenticated::SignInRequired),
        }
    }

    /// The policy's decision for `principal` asking for `permission`.
    pub fn decide(&self, principal: &Principal, permission: &Permission) -> Decision {
        self.settings().policy.decide(principal, permission)
    }

    /// Whether a policy is in force (the server resolves a user's groups
    /// from the catalog only then).
    pub fn has_policy(&self) -> bool {
        self.settings().has_policy
    }

    pub fn audit(&self) -> &AuditLog {
        &self.0.audit
    }

    /// Why the last reload was refused (the previous settings stay in force).
    pub fn reload_error(&self) -> Option<String> {
        self.0.reload_error.read().unwrap().clone()
    }

    fn settings(&self) -> Arc<Settings> {
        self.0.settings.read().unwrap().clone()
    }

    /// Re-reads the configuration's `auth:` section and the policy file.
    pub fn reload(&self) {
        let result = (|| -> Result<Settings, String> {
            let auth = match &self.0.config_file {
                Some(file) => Config::load(file).map_err(|e| e.to_string())?.auth,
                None => AuthConfig::default(),
            };
            // The policy file stays the one the portal started with: a
            // change of path is taken at the next start.
            load_settings(&auth, self.0.policy_file.as_deref()).map_err(|e| e.to_string())
        })();
        match result {
            Ok(settings) => {
                *self.0.settings.write().unwrap() = Arc::new(settings);
                *self.0.reload_error.write().unwrap() = None;
                tracing::info!("auth: service tokens and policy reloaded");
            }
            Err(e) => {
                tracing::error!("auth: reload refused, the previous settings stay in force: {e}");
                *self.0.reload_error.write().unwrap() = Some(e);
            }
        }
    }

    /// Polls the two files' modification times once a second. Polling, not
    /// inotify: editors replace files in ways that lose a watch, and one
    /// `stat` a second costs nothing.
    fn watch(&self) {
        let files: Vec<PathBuf> = [&self.0.config_file, &self.0.policy_file]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        if files.is_empty() {
            return;
        }
        let weak: Weak<Inner> = Arc::downgrade(&self.0);
        let stamp = move || -> Vec<Option<(SystemTime, u64)>> {
            files
                .iter()
                .map(|f| {
                    std::fs::metadata(f)
                        .ok()
                        .and_then(|m| Some((m.modified().ok()?, m.len())))
                })
                .collect()
        };
        let mut last = stamp();
        std::thread::Builder::new()
            .name("auth-reload".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let Some(inner) = weak.upgrade() else { return };
                    let now = stamp();
                    if now != last {
                        last = now;
                        Auth(inner).reload();
                    }
                }
            })
            .expect("can start a thread");
    }
}

/// The URL people reach the portal at: `server.base_url`, or the bound
/// address. Sign-in needs it (the provider sends the browser back to it),
/// so it must be knowable: not a wildcard address or a port picked at
/// random.
fn public_url(config: &Config) -> Result<String, AuthError> {
    if let Some(url) = &config.server.base_url {
        return Ok(url.trim_end_matches('/').to_owned());
    }
    if !config.auth.providers.is_empty() {
        let host = config.server.host.as_str();
        if config.server.port == 0 || matches!(host, "0.0.0.0" | "::" | "[::]") {
            return Err(AuthError::Config(format!(
                "sign-in needs the URL people reach the portal at (the provider sends them back to it), and {host}:{} does not say it: set server.base_url",
                config.server.port
            )));
        }
    }
    let host = &config.server.host;
    Ok(if host.contains(':') && !host.starts_with('[') {
        format!("http://[{host}]:{}", config.server.port)
    } else {
        format!("http://{host}:{}", config.server.port)
    })
}

fn load_settings(auth: &AuthConfig, policy_file: Option<&Path>) -> Result<Settings, AuthError> {
    let tokens = ServiceTokens::from_config(&auth.service_tokens).map_err(AuthError::Config)?;
    let policy = match policy_file {
        Some(path) => Policy::load(path)?,
        None => Policy::allow_all(),
    };
    Ok(Settings {
        tokens,
        policy,
        has_policy: policy_file.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "portal.acme.example"] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn guest_mode_refuses_other_addresses() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_yaml("server: { host: 0.0.0.0 }", "t", dir.path()).unwrap();
        let err = Auth::start(&config, dir.path()).err().unwrap().to_string();
        assert!(
            err.contains("0.0.0.0") && err.contains("guest mode"),
            "{err}"
        );
    }

    #[test]
    fn tokens_are_revoked_by_editing_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let (token, sha) = tokens::generate();
        let file = dir.path().join("portal.yaml");
        let write = |tokens: &str| {
            std::fs::write(&file, format!("auth:\n  service_tokens: {tokens}\n")).unwrap()
        };
        write(&format!(
            "[{{name: ci, sha256: {sha}, permissions: [catalog.entity.read]}}]"
        ));
        let auth = Auth::start(&Config::load(&file).unwrap(), dir.path()).unwrap();
        let ci = auth.authenticate(Some(&token), None).unwrap();
        assert_eq!(
            auth.decide(&ci, &permission::CATALOG_ENTITY_READ),
            Decision::Allow
        );
        assert_eq!(
            auth.authenticate(Some("nope"), None),
            Err(Unauthenticated::InvalidToken)
        );
        assert!(matches!(
            auth.authenticate(None, None),
            Ok(Principal::Guest(_))
        ));

        // A broken file keeps the token working, and says why.
        std::fs::write(&file, "auth: [").unwrap();
        auth.reload();
        assert!(auth.reload_error().is_some());
        assert!(auth.authenticate(Some(&token), None).is_ok());

        write("[]");
        auth.reload();
        assert_eq!(auth.reload_error(), None);
        assert_eq!(
            auth.authenticate(Some(&token), None),
            Err(Unauthenticated::InvalidToken)
        );
    }
}
