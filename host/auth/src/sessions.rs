//! Signed-in sessions: a random id in an HttpOnly cookie, its record in the
//! store.
//!
//! The cookie is `<id>.<mac>`: 32 random bytes and their HMAC-SHA256 under
//! a key kept in the data directory, both base64url. A cookie whose MAC
//! does not verify is refused before any lookup, so guessing costs the
//! store nothing. The store keys a session by the SHA-256 of its id: a
//! copy of the store gives no usable cookie. Sessions live in the store
//! (not in the cookie) so that signing out ends one everywhere, at once,
//! and survives a restart.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot open the session store at {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error("cannot read or create the session key {path}: {source}")]
    Key {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "the session key {path} is not 32 bytes: delete it to make a new one (everyone signs in again)"
    )]
    KeyLength { path: String },
    #[error("session store: {0}")]
    Store(#[from] sled::Error),
}

/// Who a session is for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// The catalog User the sign-in resolved to.
    pub user_ref: String,
    /// The provider it signed in with (its configured id).
    pub provider: String,
    /// The ID token's claims (for the policy's `claim` conditions).
    pub claims: BTreeMap<String, Value>,
    /// Milliseconds since the epoch.
    pub created_ms: u64,
    pub expires_ms: u64,
}

/// The session store.
#[derive(Clone)]
pub struct Sessions {
    db: sled::Db,
    key: [u8; 32],
    max_age: Duration,
}

/// How long a cookie value may be before it is refused unread.
const MAX_COOKIE_LEN: usize = 128;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Sessions {
    /// Opens (or creates) the store under `dir`, and its key.
    pub fn open(dir: &Path, max_age: Duration) -> Result<Sessions, SessionError> {
        let db = sled::Config::new()
            .path(dir.join("sessions"))
            .cache_capacity(1 << 20)
            .open()
            .map_err(|source| SessionError::Open {
                path: dir.join("sessions").display().to_string(),
                source,
            })?;
        let key = load_or_create_key(&dir.join("session.key"))?;
        let sessions = Sessions { db, key, max_age };
        sessions.sweep();
        Ok(sessions)
    }

    pub fn max_age(&self) -> Duration {
        self.max_age
    }

    /// Starts a session for `user_ref`; the answer is the cookie's value.
    pub fn create(
        &self,
        user_ref: &str,
        provider: &str,
        claims: BTreeMap<String, Value>,
    ) -> Result<String, SessionError> {
        let mut id = [0u8; 32];
        getrandom::fill(&mut id).expect("the OS random number generator works");
        let created_ms = now_ms();
        let session = Session {
            user_ref: user_ref.to_owned(),
            provider: provider.to_owned(),
            claims,
            created_ms,
            expires_ms: created_ms + self.max_age.as_millis() as u64,
        };
        let value = serde_json::to_vec(&session).expect("a session serialises");
        self.db.insert(Sha256::digest(id), value)?;
        self.db.flush()?;
        Ok(format!(
            "{}.{}",
            B64.encode(id),
            B64.encode(self.hmac(&id).finalize().into_bytes())
        ))
    }

    /// The live session a cookie names, if its MAC verifies and it has not
    /// expired (an expired one is removed).
    pub fn get(&self, cookie: &str) -> Option<Session> {
        let id = self.verified_id(cookie)?;
        let key = Sha256::digest(id);
        let value = self.db.get(key).ok()??;
        let session: Session = serde_json::from_slice(&value).ok()?;
        if session.expires_ms <= now_ms() {
            let _ = self.db.remove(key);
            return None;
        }
        Some(session)
    }

    /// Ends the session a cookie names (signing out). Whether there was one.
    pub fn remove(&self, cookie: &str) -> bool {
        let Some(id) = self.verified_id(cookie) else {
            return false;
        };
        let removed = self.db.remove(Sha256::digest(id)).ok().flatten().is_some();
        let _ = self.db.flush();
        removed
    }

    /// Removes expired sessions (at start; `get` removes the ones it meets).
    pub fn sweep(&self) {
        let now = now_ms();
        for (key, value) in self.db.iter().flatten() {
            let expired = serde_json::from_slice::<Session>(&value)
                .map(|s| s.expires_ms <= now)
                .unwrap_or(true);
            if expired {
                let _ = self.db.remove(key);
            }
        }
    }

    /// The MAC of a session id under this data directory's key.
    fn hmac(&self, id: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("any key length works");
        mac.update(id);
        mac
    }

    /// The id in a well-formed cookie whose MAC verifies (in constant time).
    fn verified_id(&self, cookie: &str) -> Option<[u8; 32]> {
        if cookie.len() > MAX_COOKIE_LEN {
            return None;
        }
        let (id, mac) = cookie.split_once('.')?;
        let id: [u8; 32] = B64.decode(id).ok()?.try_into().ok()?;
        let mac = B64.decode(mac).ok()?;
        self.hmac(&id).verify_slice(&mac).ok()?;
        Some(id)
    }
}

/// The data directory's session key, made on first use (mode 0600).
fn load_or_create_key(path: &Path) -> Result<[u8; 32], SessionError> {
    let io = |source| SessionError::Key {
        path: path.display().to_string(),
        source,
    };
    match std::fs::read(path) {
        Ok(bytes) => bytes.try_into().map_err(|_| SessionError::KeyLength {
            path: path.display().to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).expect("the OS random number generator works");
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            use std::io::Write;
            let mut file = options.open(path).map_err(io)?;
            file.write_all(&key).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Opens the store again: sled's flusher thread may hold the previous
    /// handle's file lock for a moment after it is dropped.
    fn reopen(dir: &std::path::Path, max_age: Duration) -> Sessions {
        let until = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            match Sessions::open(dir, max_age) {
                Ok(s) => return s,
                Err(e) if std::time::Instant::now() < until => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn a_session_lives_until_signed_out_or_expired() {
        let dir = tempfile::tempdir().unwrap();
        let sessions = Sessions::open(dir.path(), Duration::from_secs(3600)).unwrap();
        let cookie = sessions
            .create("user:default/jane", "acme", BTreeMap::new())
            .unwrap();
        assert_eq!(sessions.get(&cookie).unwrap().user_ref, "user:default/jane");

        // A changed MAC, a changed id, garbage: refused.
        let (id, mac) = cookie.split_once('.').unwrap();
        let mut other_mac = mac.to_owned();
        other_mac.replace_range(0..1, if mac.starts_with('A') { "B" } else { "A" });
        assert!(sessions.get(&format!("{id}.{other_mac}")).is_none());
        let mut other_id = id.to_owned();
        other_id.replace_range(0..1, if id.starts_with('A') { "B" } else { "A" });
        assert!(sessions.get(&format!("{other_id}.{mac}")).is_none());
        for garbage in ["", ".", "abc", &"a".repeat(10_000), "a.b.c"] {
            assert!(sessions.get(garbage).is_none(), "{garbage}");
        }

        // The key and the sessions survive a restart.
        drop(sessions);
        let sessions = reopen(dir.path(), Duration::from_secs(3600));
        assert!(sessions.get(&cookie).is_some());
        assert!(sessions.remove(&cookie));
        assert!(sessions.get(&cookie).is_none());

        // Expired: gone.
        drop(sessions);
        let short = reopen(dir.path(), Duration::ZERO);
        let cookie = short
            .create("user:default/jane", "acme", BTreeMap::new())
            .unwrap();
        assert!(short.get(&cookie).is_none());
        assert!(short.db.is_empty(), "the expired session was removed");
    }

    #[test]
    fn another_key_refuses_the_cookie() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let one = Sessions::open(a.path(), Duration::from_secs(60)).unwrap();
        let two = Sessions::open(b.path(), Duration::from_secs(60)).unwrap();
        let cookie = one
            .create("user:default/jane", "acme", BTreeMap::new())
            .unwrap();
        assert!(two.get(&cookie).is_none());
    }
}
