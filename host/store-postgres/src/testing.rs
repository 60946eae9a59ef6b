//! Throwaway databases for tests and benchmarks, on the server
//! `PORTAL_TEST_POSTGRES` names (`cargo xtask test` sets it up: Debian's PostgreSQL on
//! 127.0.0.1, a role that may create databases).

use portal_config::PostgresConfig;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The variable naming the test server.
pub const TEST_SERVER_VAR: &str = "PORTAL_TEST_POSTGRES";

/// A database of its own for one test, dropped with it.
pub struct TestDatabase {
    pub config: PostgresConfig,
    pub name: String,
    admin: String,
}

static NEXT: AtomicUsize = AtomicUsize::new(0);

impl TestDatabase {
    /// Creates an empty database on the test server. Panics, saying how to
    /// get one, when there is no server.
    pub fn create() -> TestDatabase {
        let admin = std::env::var(TEST_SERVER_VAR).unwrap_or_else(|_| {
            panic!(
                "{TEST_SERVER_VAR} is not set: run the tests with `cargo xtask test` (it installs and starts PostgreSQL), or set it to a postgres:// URL of a role that may create databases"
            )
        });
        Self::create_on(&admin)
    }

    /// Creates an empty database on the server of `admin` (a URL of a
    /// role that may create databases).
    pub fn create_on(admin: &str) -> TestDatabase {
        let admin = admin.to_owned();
        let name = format!(
            "portal_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        run_admin(&admin, &format!("CREATE DATABASE {name}"));
        let url = match admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("{TEST_SERVER_VAR} must end in /<database>"),
        };
        TestDatabase {
            config: PostgresConfig::from_url(url),
            name,
            admin,
        }
    }

    /// Runs SQL on this database (for tests that look behind the store).
    pub fn execute(&self, sql: &str) {
        run_admin(&self.config.url, sql);
    }

    /// The first column of the first row of `sql` (a `count(*)`), on this
    /// database.
    pub fn query_count(&self, sql: &str) -> i64 {
        on_database(&self.config.url, sql, Answer::Count).unwrap_or_default()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        run_admin(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn run_admin(url: &str, sql: &str) {
    on_database(url, sql, Answer::None);
}

enum Answer {
    None,
    Count,
}

/// Runs `sql` on the database of `url`, on a thread of its own (callers
/// may be on an async thread).
fn on_database(url: &str, sql: &str, answer: Answer) -> Option<i64> {
    let url = url.to_owned();
    let sql = sql.to_owned();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to the test server {url}: {e}"));
            tokio::spawn(connection);
            match answer {
                Answer::None => {
                    client
                        .batch_execute(&sql)
                        .await
                        .unwrap_or_else(|e| failed(&sql, &e));
                    None
                }
                Answer::Count => Some(
                    client
                        .query_one(&sql, &[])
                        .await
                        .unwrap_or_else(|e| failed(&sql, &e))
                        .get::<_, i64>(0),
                ),
            }
        })
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

fn failed<T>(sql: &str, e: &tokio_postgres::Error) -> T {
    panic!("{sql}: {}", crate::describe(e))
}
