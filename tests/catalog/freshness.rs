//! Freshness: edits, additions, deletions and placeholder files are picked
//! up by the file watcher (no refresh call, refresh loop far away).

use crate::{config_for, get, wait_entity, wait_gone, write_fixture};
use portal_tests::{PortalProcess, wait_for};
use std::time::{Duration, Instant};

#[test]
fn watched_files_are_reread_and_removed_entities_go() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let portal = PortalProcess::start(&config_for(
        &dir.path().join("catalog-info.yaml"),
        "  refresh_interval_seconds: 3600\n",
    ))
    .unwrap();
    wait_entity(&portal, "component/default/web");
    let first = wait_entity(&portal, "component/default/payments");
    let confirmed = first["status"]["lastConfirmedAt"]
        .as_str()
        .unwrap()
        .to_owned();

    // An edit.
    let components = dir.path().join("components.yaml");
    let text = std::fs::read_to_string(&components).unwrap();
    std::fs::write(
        &components,
        text.replace("title: Payments", "title: Payments v2"),
    )
    .unwrap();
    let started = Instant::now();
    let edited = wait_for(Duration::from_secs(20), || {
        let (_, e) = get(
            &portal,
            "/api/catalog/entities/by-name/component/default/payments",
        );
        (e["metadata"]["title"] == "Payments v2").then_some(e)
    })
    .expect("the edit never showed");
    eprintln!("edit visible after {:?}", started.elapsed());
    // Reading a file is not a change: once the edit is in, the catalog goes
    // quiet instead of re-reading what it just read.
    let reads = || {
        let (_, sources) = get(&portal, "/api/catalog/sources");
        sources["stats"]["reads"].as_u64().expect("reads counter")
    };
    let quiet = wait_for(Duration::from_secs(10), || {
        let before = reads();
        std::thread::sleep(Duration::from_millis(800));
        (reads() == before).then_some(())
    });
    assert!(quiet.is_some(), "files keep being re-read: {}", reads());
    assert!(edited["status"]["lastConfirmedAt"].as_str().unwrap() >= confirmed.as_str());
    assert_eq!(
        edited["metadata"]["uid"], first["metadata"]["uid"],
        "uid stays across edits"
    );

    // A placeholder's file changes: the entity using it is re-read.
    std::fs::write(dir.path().join("payments.openapi.yaml"), "openapi: 3.1.0\n").unwrap();
    wait_for(Duration::from_secs(20), || {
        let (_, e) = get(
            &portal,
            "/api/catalog/entities/by-name/api/default/payments-api",
        );
        (e["spec"]["definition"] == "openapi: 3.1.0\n").then_some(())
    })
    .expect("the placeholder change never showed");

    // A component removed from a file goes; its relations go with it.
    let text = std::fs::read_to_string(&components).unwrap();
    let without_web: Vec<&str> = text
        .split("---\n")
        .filter(|d| !d.contains("name: web"))
        .collect();
    std::fs::write(&components, without_web.join("---\n")).unwrap();
    wait_gone(&portal, "component/default/web");
    let (_, team_b) = get(
        &portal,
        "/api/catalog/entities/by-name/group/default/team-b",
    );
    assert!(
        !team_b["relations"]
            .to_string()
            .contains("component:default/web"),
        "{team_b}"
    );

    // A deleted file's entities go.
    std::fs::remove_file(dir.path().join("org.yaml")).unwrap();
    wait_gone(&portal, "user/default/jane");
    wait_gone(&portal, "group/default/team-a");
    // ... and the Location entity says why.
    let (_, fixture) = get(
        &portal,
        "/api/catalog/entities/by-name/location/default/fixture",
    );
    assert!(
        fixture["status"]["items"].to_string().contains("org.yaml"),
        "{fixture}"
    );

    // A new file matched by a glob location appears.
    std::fs::write(
        dir.path().join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: fixture\nspec:\n  targets: [./components.yaml, ./teams/*.yaml]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("teams")).unwrap();
    std::fs::write(
        dir.path().join("teams/new.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: team-new}\nspec: {type: team, children: []}\n",
    )
    .unwrap();
    wait_entity(&portal, "group/default/team-new");
}

#[test]
fn orphan_strategy_keep_marks_instead_of_deleting() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let portal = PortalProcess::start(&config_for(
        &dir.path().join("catalog-info.yaml"),
        "  orphan_strategy: keep\n",
    ))
    .unwrap();
    wait_entity(&portal, "user/default/jane");
    std::fs::remove_file(dir.path().join("org.yaml")).unwrap();
    let orphan = wait_for(Duration::from_secs(20), || {
        let (_, e) = get(&portal, "/api/catalog/entities/by-name/user/default/jane");
        (e["metadata"]["annotations"]["backstage.io/orphan"] == "true").then_some(e)
    })
    .expect("never marked orphan");
    let (_, list) = get(
        &portal,
        "/api/catalog/entities?filter=metadata.annotations.backstage.io/orphan=true",
    );
    assert_eq!(list.as_array().unwrap().len(), 4, "{list}");
    // Deleting an orphan is permanent.
    let uid = orphan["metadata"]["uid"].as_str().unwrap();
    portal
        .delete(&format!("/api/catalog/entities/by-uid/{uid}"))
        .send()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (s, _) = get(&portal, "/api/catalog/entities/by-name/user/default/jane");
    assert_eq!(s, 404);
}
