//! The catalog store on a real PostgreSQL server: the checks every
//! `CatalogStore` passes (the sled backend runs the same ones), then what
//! only a server can get wrong.

use portal_catalog::store::{CatalogStore, ChangeSet, conformance};
use portal_config::{PostgresConfig, SecretSource};
use portal_store_postgres::testing::TestDatabase;
use portal_store_postgres::{Postgres, PostgresError, migrations};
use std::sync::Arc;

#[test]
fn passes_the_store_checks() {
    conformance::all(&|| {
        let db = Arc::new(TestDatabase::create());
        Box::new(move || {
            let store = Postgres::connect(&db.config).unwrap().catalog_store();
            Box::new(store) as Box<dyn CatalogStore>
        })
    });
}

#[test]
fn migrations_run_once_and_a_newer_schema_is_refused() {
    let db = TestDatabase::create();
    Postgres::connect(&db.config).unwrap();
    // A second start (another replica) finds nothing to do.
    Postgres::connect(&db.config).unwrap();
    db.execute(&format!(
        "INSERT INTO portal_schema_migrations (version, name) VALUES ({}, 'from the future')",
        migrations::latest() + 1
    ));
    let Err(e) = Postgres::connect(&db.config) else {
        panic!("a newer schema was accepted")
    };
    assert!(matches!(e, PostgresError::TooNew { .. }), "{e}");
    let text = e.to_string();
    assert!(text.contains("newer than this portal knows"), "{text}");
    assert!(text.contains(&db.name), "{text}");
}

#[test]
fn replicas_starting_together_migrate_once() {
    let db = Arc::new(TestDatabase::create());
    let starts: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            std::thread::spawn(move || Postgres::connect(&db.config).map(|_| ()))
        })
        .collect();
    for s in starts {
        s.join().unwrap().unwrap();
    }
}

#[test]
fn an_unreachable_server_is_named_and_no_password_is_shown() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config =
        PostgresConfig::from_url(format!("postgres://portal:hunter2@127.0.0.1:{port}/portal"));
    config.connect_timeout_seconds = 2;
    let e = Postgres::connect(&config)
        .err()
        .expect("connected to nothing");
    let text = e.to_string();
    assert!(
        text.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port} (database portal, user portal)"
        )),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    // An unset password variable is named.
    config.password = Some(SecretSource::Env("PORTAL_TEST_UNSET_PASSWORD_VAR".into()));
    let text = Postgres::connect(&config).err().unwrap().to_string();
    assert!(text.contains("PORTAL_TEST_UNSET_PASSWORD_VAR"), "{text}");
}

#[test]
fn a_wrong_password_is_refused_with_the_servers_reason() {
    let db = TestDatabase::create();
    let mut config = db.config.clone();
    // The test role has a password; replace it with a wrong one.
    let url = config.url.clone();
    let (scheme, rest) = url.split_once("://").unwrap();
    let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
    let user = rest
        .rsplit_once('@')
        .map(|(u, _)| u.split(':').next().unwrap())
        .unwrap_or("portal_test");
    config.url = format!("{scheme}://{user}@{host}");
    config.password = Some(SecretSource::Value("not-the-password".into()));
    let text = Postgres::connect(&config)
        .err()
        .expect("a wrong password worked")
        .to_string();
    assert!(text.contains("cannot connect to PostgreSQL"), "{text}");
    assert!(text.contains("password authentication failed"), "{text}");
    assert!(!text.contains("not-the-password"), "{text}");
}

#[test]
fn a_failed_commit_leaves_nothing_half_done() {
    let db = TestDatabase::create();
    let store = Postgres::connect(&db.config).unwrap().catalog_store();
    store
        .commit(&ChangeSet {
            put_entities: vec![conformance::entity("kept", "s")],
            ..Default::default()
        })
        .unwrap();
    // A NUL byte is valid in Rust strings and refused by PostgreSQL's text:
    // the whole change set must fail, the first entity included.
    let mut bad = conformance::entity("bad", "s");
    bad.source = "s\0".into();
    let e = store
        .commit(&ChangeSet {
            put_entities: vec![conformance::entity("first", "s"), bad],
            delete_entities: vec!["component:default/kept".into()],
            ..Default::default()
        })
        .unwrap_err();
    assert!(e.to_string().contains(&db.name), "{e}");
    let c = conformance::contents(&store);
    assert_eq!(
        c.entities.keys().collect::<Vec<_>>(),
        ["component:default/kept"]
    );
    // And the store still works.
    store
        .commit(&ChangeSet {
            put_entities: vec![conformance::entity("after", "s")],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(conformance::contents(&store).entities.len(), 2);
}

#[test]
fn it_works_from_an_async_thread() {
    let db = TestDatabase::create();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let store = Postgres::connect(&db.config).unwrap().catalog_store();
        store
            .commit(&ChangeSet {
                put_entities: vec![conformance::entity("a", "s")],
                ..Default::default()
            })
            .unwrap();
        assert_eq!(conformance::contents(&store).entities.len(), 1);
        drop(store);
    });
}

#[test]
fn a_source_is_leased_to_one_replica_until_its_lease_expires() {
    use portal_catalog::SourceLeases;
    let db = TestDatabase::create();
    let a = Postgres::connect(&db.config).unwrap().catalog_store();
    let b = Postgres::connect(&db.config).unwrap().catalog_store();
    let (la, lb) = (a.leases(), b.leases());
    let keys: Vec<String> = ["s1", "s2", "s3"].map(String::from).to_vec();
    assert_eq!(la.acquire(&keys[..2]), ["s1", "s2"]);
    // Held: the other gets only the free one; the holder keeps its own.
    assert_eq!(lb.acquire(&keys), ["s3"]);
    assert_eq!(la.acquire(&keys), ["s1", "s2"]);
    // The holder stops renewing (it died): once expired, the other takes them.
    db.execute(&format!(
        "UPDATE catalog_leases SET expires_at = now() - interval '1 second' WHERE replica = '{}'",
        a.replica()
    ));
    assert_eq!(lb.acquire(&keys), ["s1", "s2", "s3"]);
    assert!(la.acquire(&keys).is_empty());
}
