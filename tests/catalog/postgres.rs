//! What only the PostgreSQL store shows: the catalog lives in the database,
//! not in the data directory, and a server that cannot be reached is named.

use crate::{Store, config_for, fixture_portal_on, get, wait_entity};
use portal_tests::PortalProcess;

#[test]
fn the_catalog_lives_in_the_database_not_the_data_directory() {
    let store = Store::postgres();
    let (dir, portal) = fixture_portal_on(&store);
    let (_, before) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    let (_, count) = get(&portal, "/api/catalog/entities/by-query?limit=0");
    drop(portal);
    // Another portal process with an empty data directory, on the same
    // database: it serves the same entities, with the same uids, from its
    // first answer (loaded from the store, not read again from the files).
    let portal = PortalProcess::start(&config_for(
        &dir.path().join("catalog-info.yaml"),
        &store.yaml(),
    ))
    .unwrap();
    let (status, after) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["metadata"]["uid"], before["metadata"]["uid"]);
    assert_eq!(after["relations"], before["relations"]);
    let (_, again) = get(&portal, "/api/catalog/entities/by-query?limit=0");
    assert_eq!(again["totalItems"], count["totalItems"]);
    let log = portal.log();
    assert!(log.contains("catalog store loaded"), "{log}");
    assert!(log.contains("the catalog is on PostgreSQL"), "{log}");
    // Still in sync with the files.
    wait_entity(&portal, "user/default/joe");
}

#[test]
fn a_server_that_cannot_be_reached_is_named() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "store:\n  url: postgres://portal@127.0.0.1:{port}/portal\n  password: {{env: PORTAL_TEST_NO_SUCH_VAR_SET}}\n"
    );
    let Err(e) = PortalProcess::start(&config) else {
        panic!("a portal started on a password variable that is not set")
    };
    let text = format!("{e:#}");
    assert!(text.contains("PORTAL_TEST_NO_SUCH_VAR_SET"), "{text}");
    let config = format!("store: postgres://portal:hunter2@127.0.0.1:{port}/portal\n");
    let Err(e) = PortalProcess::start(&config) else {
        panic!("a portal started on a server that is not there")
    };
    let text = format!("{e:#}");
    assert!(
        text.contains(&format!(
            "cannot connect to PostgreSQL at 127.0.0.1:{port} (database portal, user portal)"
        )),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}
