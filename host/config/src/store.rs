//! The `store:` section: where the catalog keeps its data.
//!
//! ```yaml
//! store: sled                                   # the default: embedded, under data_dir
//! store: postgres://portal@db.internal:5432/portal
//! store:
//!   url: postgres://portal@db.internal:5432/portal
//!   password: {env: PORTAL_DB_PASSWORD}         # or {file: /run/secrets/db}
//!   pool_size: 8
//!   connect_timeout_seconds: 10
//! ```

use crate::secrets::SecretSource;
use serde::Deserialize;
use serde::de::Error as _;

/// Where the catalog's data lives.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum StoreConfig {
    /// The embedded sled store under the data directory.
    #[default]
    Sled,
    /// A PostgreSQL database, shared by every portal replica pointed at it.
    Postgres(PostgresConfig),
}

/// A PostgreSQL connection.
#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PostgresConfig {
    /// `postgres://user@host:port/database` (libpq's URL form; a password
    /// in it works, but `password` keeps it out of the file).
    pub url: String,
    /// The password, from the environment or a file.
    #[serde(default)]
    pub password: Option<SecretSource>,
    /// Connections each portal process keeps at most.
    #[serde(default = "default_pool_size")]
    pub pool_size: usize,
    /// How long connecting may take before the portal says the server is
    /// unreachable.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_seconds: u64,
}

fn default_pool_size() -> usize {
    8
}

fn default_connect_timeout() -> u64 {
    10
}

impl PostgresConfig {
    /// A configuration for `url` with the defaults.
    pub fn from_url(url: impl Into<String>) -> PostgresConfig {
        PostgresConfig {
            url: url.into(),
            password: None,
            pool_size: default_pool_size(),
            connect_timeout_seconds: default_connect_timeout(),
        }
    }

    /// The URL without any password in it, for logs and errors.
    pub fn redacted_url(&self) -> String {
        redact_url(&self.url)
    }
}

impl std::fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("url", &self.redacted_url())
            .field("password", &self.password)
            .field("pool_size", &self.pool_size)
            .field("connect_timeout_seconds", &self.connect_timeout_seconds)
            .finish()
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

impl<'de> Deserialize<'de> for StoreConfig {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Postgres(PostgresConfig),
        }
        let raw = Raw::deserialize(d).map_err(|_| {
            D::Error::custom(
                "store: expected `sled`, a postgres:// URL, or {url, password, pool_size, connect_timeout_seconds}",
            )
        })?;
        let check = |pg: PostgresConfig| {
            if !is_postgres_url(&pg.url) {
                return Err(D::Error::custom(format!(
                    "store.url: expected a postgres:// URL, got `{}`",
                    redact_url(&pg.url)
                )));
            }
            if pg.pool_size == 0 {
                return Err(D::Error::custom("store.pool_size must be at least 1"));
            }
            Ok(StoreConfig::Postgres(pg))
        };
        match raw {
            Raw::Text(t) if t == "sled" => Ok(StoreConfig::Sled),
            Raw::Text(t) if is_postgres_url(&t) => check(PostgresConfig::from_url(t)),
            Raw::Text(t) => Err(D::Error::custom(format!(
                "store: expected `sled` or a postgres:// URL, got `{}`",
                redact_url(&t)
            ))),
            Raw::Postgres(pg) => check(pg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Result<StoreConfig, String> {
        serde_saphyr::from_str::<StoreConfig>(yaml).map_err(|e| e.to_string())
    }

    #[test]
    fn forms() {
        assert_eq!(parse("sled").unwrap(), StoreConfig::Sled);
        let StoreConfig::Postgres(pg) = parse("postgres://p@127.0.0.1:5432/portal").unwrap() else {
            panic!()
        };
        assert_eq!(pg.pool_size, 8);
        let StoreConfig::Postgres(pg) =
            parse("url: postgresql://p@h/db\npassword: {env: PGPW}\npool_size: 3").unwrap()
        else {
            panic!()
        };
        assert_eq!(pg.pool_size, 3);
        assert!(matches!(pg.password, Some(SecretSource::Env(ref v)) if v == "PGPW"));
    }

    #[test]
    fn mistakes_are_named_and_passwords_never_shown() {
        let e = parse("mysql://root:hunter2@h/db").unwrap_err();
        assert!(e.contains("expected `sled` or a postgres:// URL"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = parse("url: http://u:hunter2@h/db").unwrap_err();
        assert!(e.contains("store.url"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(
            parse("url: postgres://h/db\npool_size: 0")
                .unwrap_err()
                .contains("pool_size")
        );
        assert!(parse("url: postgres://h/db\nport: 1").is_err());
        let pg = PostgresConfig::from_url("postgres://u:hunter2@h:1/db?sslmode=disable");
        assert_eq!(pg.redacted_url(), "postgres://u:***@h:1/db?sslmode=disable");
        assert!(!format!("{pg:?}").contains("hunter2"));
    }
}
