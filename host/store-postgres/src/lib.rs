//! Portal on PostgreSQL: the store traits implemented over one database
//! that several portal replicas share.
//!
//! ```ignore
//! let db = Postgres::connect(&postgres_config)?;   // connects, migrates
//! let store = db.catalog_store();                   // a CatalogStore
//! let catalog = Catalog::open_with(Arc::new(store), catalog_config, base_dir)?;
//! ```
//!
//! - Driver: `tokio-postgres` (the plain async driver: no macros, no
//!   compile-time database, few dependencies) with a `deadpool` pool.
//! - The store traits are synchronous (the catalog calls them from its
//!   committer thread and at start-up); each call runs on this crate's own
//!   small runtime, so it works from any thread, async or not.
//! - Start-up runs the versioned migrations in `migrations/` (see
//!   [`migrations`]); a database migrated by a newer portal is refused.
//! - Every error names the server: its address, database and user, never
//!   its password.

mod catalog;
mod error;
pub mod leases;
pub mod migrations;
#[doc(hidden)]
pub mod testing;

pub use catalog::PostgresCatalogStore;
pub use error::PostgresError;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use portal_config::PostgresConfig;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::config::Host;

/// A connected, migrated database. Cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    inner: Arc<Inner>,
}

struct Inner {
    runtime: OwnRuntime,
    pool: Pool,
    config: tokio_postgres::Config,
    server: String,
}

/// The store's runtime, shut down without waiting when dropped: dropping
/// a runtime otherwise blocks, and the last handle (or a failed connect)
/// may be on an async thread.
struct OwnRuntime(Option<tokio::runtime::Runtime>);

impl OwnRuntime {
    fn get(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().expect("the runtime lives until drop")
    }
}

impl Drop for OwnRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

impl Postgres {
    /// Connects to the configured server and brings its schema up to date.
    pub fn connect(config: &PostgresConfig) -> Result<Postgres, PostgresError> {
        let mut pg: tokio_postgres::Config = config.url.parse().map_err(|e| {
            PostgresError::Config(format!("store.url `{}`: {e}", config.redacted_url()))
        })?;
        if let Some(password) = &config.password {
            let password = password
                .read()
                .map_err(|e| PostgresError::Config(format!("store.password: {e}")))?;
            pg.password(password);
        }
        let timeout = Duration::from_secs(config.connect_timeout_seconds.max(1));
        pg.connect_timeout(timeout);
        if pg.get_application_name().is_none() {
            pg.application_name("portal");
        }
        let server = describe_server(&pg);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("portal-postgres")
            .enable_all()
            .build()
            .map(|r| OwnRuntime(Some(r)))
            .map_err(|e| PostgresError::Config(format!("cannot start the store's runtime: {e}")))?;
        // A connection of its own for the migrations: the advisory lock
        // they hold goes with it.
        let applied = block(runtime.get(), async {
            let (mut client, connection) =
                pg.connect(NoTls)
                    .await
                    .map_err(|e| PostgresError::Connect {
                        server: server.clone(),
                        message: describe(&e),
                    })?;
            let driver = tokio::spawn(connection);
            let applied = migrations::run(&mut client, &server).await;
            drop(client);
            let _ = driver.await;
            applied
        })?;
        tracing::info!(server, applied = ?applied, schema = migrations::latest(), "PostgreSQL store ready");
        let manager = Manager::from_config(
            pg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(timeout))
            .create_timeout(Some(timeout))
            .build()
            .map_err(|e| PostgresError::Config(format!("cannot make the connection pool: {e}")))?;
        Ok(Postgres {
            inner: Arc::new(Inner {
                runtime,
                pool,
                config: pg,
                server,
            }),
        })
    }

    /// The catalog's store on this database.
    pub fn catalog_store(&self) -> PostgresCatalogStore {
        PostgresCatalogStore::new(self.clone())
    }

    /// `host:port, database D, user U`: how errors and logs name the server.
    pub fn server(&self) -> &str {
        &self.inner.server
    }

    /// Runs `work` to completion on the store's runtime, from any thread.
    pub(crate) fn block<F>(&self, work: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        block(self.inner.runtime.get(), work)
    }

    /// Runs `work` on the store's runtime in the background.
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.inner.runtime.get().spawn(work);
    }

    /// A connection of its own, outside the pool (for LISTEN), with its
    /// driver to poll.
    pub(crate) async fn connect_direct(
        &self,
    ) -> Result<
        (
            tokio_postgres::Client,
            tokio_postgres::Connection<tokio_postgres::Socket, tokio_postgres::tls::NoTlsStream>,
        ),
        PostgresError,
    > {
        self.inner
            .config
            .connect(NoTls)
            .await
            .map_err(|e| PostgresError::Connect {
                server: self.inner.server.clone(),
                message: describe(&e),
            })
    }

    /// A pooled connection.
    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, PostgresError> {
        self.inner.pool.get().await.map_err(|e| {
            let message = match &e {
                deadpool_postgres::PoolError::Backend(e) => describe(e),
                other => other.to_string(),
            };
            PostgresError::Connect {
                server: self.inner.server.clone(),
                message,
            }
        })
    }

    /// A query's error, naming the server.
    pub(crate) fn query_error(&self, e: &tokio_postgres::Error) -> PostgresError {
        PostgresError::Query {
            server: self.inner.server.clone(),
            message: describe(e),
        }
    }
}

fn block<F>(runtime: &tokio::runtime::Runtime, work: F) -> F::Output
where
    F: Future + Send,
    F::Output: Send,
{
    if tokio::runtime::Handle::try_current().is_ok() {
        // On an async thread a runtime cannot be blocked on: another thread
        // waits instead (the caller blocks, as it would on a disk write).
        std::thread::scope(|s| {
            s.spawn(|| runtime.block_on(work))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    } else {
        runtime.block_on(work)
    }
}

/// The server's message (`ERROR 42P01: relation ... does not exist`) or
/// the connection's (`Connection refused (os error 111)`), not just
/// "db error".
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{} {}: {}", db.severity(), db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

fn describe_server(pg: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = pg
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = pg
                .get_ports()
                .get(i)
                .or(pg.get_ports().first())
                .copied()
                .unwrap_or(5432);
            match h {
                Host::Tcp(name) => format!("{name}:{port}"),
                Host::Unix(path) => format!("{}:{port}", path.display()),
            }
        })
        .collect();
    let hosts = if hosts.is_empty() {
        "localhost:5432".to_owned()
    } else {
        hosts.join(",")
    };
    format!(
        "{hosts} (database {}, user {})",
        pg.get_dbname().unwrap_or("(the user's)"),
        pg.get_user().unwrap_or("(none)")
    )
}
