use thiserror::Error;

/// What went wrong with the database. Every message names the server (its
/// address and database, never a password).
#[derive(Debug, Error)]
pub enum PostgresError {
    /// The configuration cannot be used (a malformed URL, an unreadable
    /// password).
    #[error("store: {0}")]
    Config(String),
    /// The server could not be reached or refused the login.
    #[error("cannot connect to PostgreSQL at {server}: {message}")]
    Connect { server: String, message: String },
    /// A migration failed, or the database is newer than this portal.
    #[error("PostgreSQL at {server}: migration {version} ({name}): {message}")]
    Migrate {
        server: String,
        version: i32,
        name: String,
        message: String,
    },
    /// The database was migrated by a newer portal.
    #[error(
        "PostgreSQL at {server} holds schema version {found}, newer than this portal knows ({known}): upgrade this portal, or point it at another database"
    )]
    TooNew {
        server: String,
        found: i32,
        known: i32,
    },
    /// A query failed.
    #[error("PostgreSQL at {server}: {message}")]
    Query { server: String, message: String },
}
