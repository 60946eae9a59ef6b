//! What only the PostgreSQL store shows: the catalog lives in the database,
//! not in the data directory, replicas on one database serve each other's
//! writes, and a server that cannot be reached is named.

use crate::{Store, config_for, fixture_portal_on, get, post, wait_entity, wait_gone};
use portal_tests::PortalProcess;
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn the_catalog_lives_in_the_database_not_the_data_directory() {
    let store = Store::postgres();
    let (dir, portal) = fixture_portal_on(&store);
    let (_, before) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    let (_, count) = get(&portal, "/api/catalog/entities/by-query?limit=0");
    // Served from memory first; the store's commits follow (write-behind).
    // Killed only once the database has them all.
    let served = count["totalItems"].as_i64().unwrap();
    portal_tests::wait_for(Duration::from_secs(30), || {
        (store_rows(&store, "SELECT count(*) FROM catalog_entities") == served).then_some(())
    })
    .expect("the database never had every served entity");
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

#[test]
fn two_portals_on_one_database_serve_each_others_writes() {
    let store = Store::postgres();
    let (dir, a) = fixture_portal_on(&store);
    let b = PortalProcess::start(&config_for(
        &dir.path().join("catalog-info.yaml"),
        &store.yaml(),
    ))
    .unwrap();
    wait_entity(&b, "component/default/payments");
    // A location registered through one portal is served by the other.
    let target = dir.path().join("extra/catalog-info.yaml");
    let (status, body) = post(
        &a,
        "/api/catalog/locations",
        &json!({"type": "file", "target": target.display().to_string()}),
    );
    assert_eq!(status, 201, "{body}");
    let written = Instant::now();
    let on_b = wait_entity(&b, "component/default/extra-service");
    eprintln!("visible on the other portal after {:?}", written.elapsed());
    let (_, on_a) = get(
        &a,
        "/api/catalog/entities/by-name/component/default/extra-service",
    );
    assert_eq!(on_b["metadata"]["uid"], on_a["metadata"]["uid"]);
    let (status, locations) = get(&b, "/api/catalog/locations");
    assert_eq!(status, 200);
    assert!(
        locations.to_string().contains("extra/catalog-info.yaml"),
        "{locations}"
    );
    // A delete through the other one is gone from the first.
    let uid = on_b["metadata"]["uid"].as_str().unwrap();
    let r = b
        .delete(&format!("/api/catalog/entities/by-uid/{uid}"))
        .send()
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    wait_gone(&a, "component/default/extra-service");
    // Relations follow too: the entity's relations are the same on both.
    let (_, pa) = get(
        &a,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    let (_, pb) = get(
        &b,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    assert_eq!(pa["relations"], pb["relations"]);
    assert!(
        b.log().contains("following the other replicas"),
        "{}",
        b.log()
    );
}

#[test]
fn a_killed_replicas_sources_pass_to_the_other_and_each_is_read_once() {
    use crate::crash::{FILES, PER_FILE, large_ingest, per_file_counts, total};
    let store = Store::postgres();
    let dir = large_ingest();
    let config = config_for(&dir.path().join("*.yaml"), &store.yaml());
    let mut a = PortalProcess::start(&config).unwrap();
    // Killed once some, not all, files are in: it holds every file's lease.
    portal_tests::wait_for(Duration::from_secs(120), || (total(&a) > 0).then_some(()))
        .expect("ingest never started");
    a.kill();
    let b = PortalProcess::start(&config).unwrap();
    let started = Instant::now();
    let mut checks = 0;
    loop {
        let counts = per_file_counts(&b);
        assert!(
            counts.iter().all(|c| *c == PER_FILE as u64),
            "a file is half in the store: {counts:?}"
        );
        if counts.len() == FILES {
            break;
        }
        checks += 1;
        assert!(
            checks < 1200,
            "the other portal did not finish the ingest; log:\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!(
        "ingest finished by the other portal {:?} after it started",
        started.elapsed()
    );
    assert_eq!(total(&b), (FILES * PER_FILE) as u64);
    let log = b.log();
    assert!(
        log.contains("taking over sources whose lease was free"),
        "{log}"
    );
    // Each file's source was written by one replica at a time: the lease
    // table names the survivor for every file now.
    let c = store_rows(
        &store,
        "SELECT count(*) FROM catalog_leases WHERE expires_at > now()",
    );
    assert!(c >= FILES as i64, "{c} live leases");
}

/// A count from the test's database.
fn store_rows(store: &Store, sql: &str) -> i64 {
    let Store::Postgres(db) = store else {
        panic!("not on PostgreSQL")
    };
    db.query_count(sql)
}

#[test]
fn store_migrate_copies_the_catalog_both_ways_with_the_same_uids() {
    use portal_tests::portal_bin;
    use std::process::Command;
    let tree = tempfile::tempdir().unwrap();
    for name in ["payments", "orders"] {
        let p = tree.path().join(name).join("catalog-info.yaml");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            format!("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {{name: {name}}}\nspec: {{type: service, lifecycle: production, owner: team-a}}\n"),
        )
        .unwrap();
    }
    let portal_cli = |args: &[&str]| {
        let out = Command::new(portal_bin()).args(args).output().unwrap();
        (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    // A sled data directory with a catalog in it.
    let mut on_sled = PortalProcess::start("catalog: {}\n").unwrap();
    on_sled.kill();
    let sled_dir = on_sled.data_dir().display().to_string();
    let (ok, out) = portal_cli(&[
        "catalog",
        "import",
        &tree.path().display().to_string(),
        "--data-dir",
        &sled_dir,
    ]);
    assert!(ok, "{out}");
    let mut on_sled = on_sled.restart().unwrap();
    let uid_on = |portal: &PortalProcess| {
        wait_entity(portal, "component/default/payments")["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let uid = uid_on(&on_sled);
    // Stopped, its data directory kept (it goes with the process handle).
    on_sled.kill();

    // sled → PostgreSQL: a portal on the database serves the same entities.
    let store = Store::postgres();
    let Store::Postgres(db) = &store else {
        unreachable!()
    };
    let migrate =
        |from: &str, to: &str| portal_cli(&["store", "migrate", "--from", from, "--to", to]);
    let from_sled = format!("sled://{sled_dir}");
    let (ok, out) = migrate(&from_sled, &db.config.url);
    assert!(ok, "{out}");
    assert!(out.contains("copied 3 entities"), "{out}");
    let on_pg = PortalProcess::start(&format!("catalog: {{}}\n{}", store.yaml())).unwrap();
    assert_eq!(uid_on(&on_pg), uid);
    wait_entity(&on_pg, "component/default/orders");
    drop(on_pg);

    // A second copy into the same database is refused: nothing is merged.
    let (ok, out) = migrate(&from_sled, &db.config.url);
    assert!(!ok, "{out}");
    assert!(out.contains("copy into an empty store"), "{out}");

    // And back: PostgreSQL → a new sled data directory.
    let mut back = PortalProcess::start("catalog: {}\n").unwrap();
    back.kill();
    std::fs::remove_dir_all(back.data_dir().join("catalog")).unwrap();
    let (ok, out) = migrate(
        &db.config.url,
        &format!("sled://{}", back.data_dir().display()),
    );
    assert!(ok, "{out}");
    let back = back.restart().unwrap();
    assert_eq!(uid_on(&back), uid);

    // A mistyped source directory is named, not copied as an empty catalog.
    let nowhere = tree.path().join("no-such-data-dir");
    let (ok, out) = migrate(&format!("sled://{}", nowhere.display()), &db.config.url);
    assert!(!ok, "{out}");
    assert!(out.contains("there is no catalog at"), "{out}");
    assert!(!nowhere.exists());

    // Not a store: named.
    let (ok, out) = migrate("mysql://u:hunter2@h/db", "sled:///tmp/x");
    assert!(!ok);
    assert!(
        out.contains("a store is sled://DATA_DIR or postgres://"),
        "{out}"
    );
    assert!(!out.contains("hunter2"), "{out}");
}
