//! Bad input gives clear errors and changes nothing already stored.

use crate::{config_for, get, post, wait_entity, write_fixture};
use portal_tests::stand_in::StandIn;
use portal_tests::{PortalProcess, wait_for};
use serde_json::{Value, json};
use std::time::Duration;

fn location_errors(portal: &PortalProcess) -> String {
    get(
        portal,
        "/api/catalog/entities/by-name/location/default/fixture",
    )
    .1["status"]["items"]
        .to_string()
}

#[test]
fn malformed_yaml_alias_bomb_and_huge_files_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let portal =
        PortalProcess::start(&config_for(&dir.path().join("catalog-info.yaml"), "")).unwrap();
    let before = wait_entity(&portal, "component/default/payments");
    wait_entity(&portal, "user/default/joe");
    let components = dir.path().join("components.yaml");
    let good = std::fs::read_to_string(&components).unwrap();

    // A YAML syntax error: every entity of the file stays, the error shows on
    // the Location entity and (as stale) on the file's entities.
    std::fs::write(&components, format!("{good}---\nkind: [unclosed\n")).unwrap();
    let errors = wait_for(Duration::from_secs(20), || {
        let e = location_errors(&portal);
        e.contains("YAML error").then_some(e)
    })
    .expect("no YAML error reported");
    assert!(
        errors.contains("components.yaml:"),
        "the error names file and line: {errors}"
    );
    let (_, after) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/payments",
    );
    assert_eq!(after["metadata"], before["metadata"]);

    // One invalid document: its neighbours update, it keeps its last good
    // version with the error attached.
    let broken = good
        .replace("title: Payments", "title: Payments 2")
        .replace("name: orders", "name: orders\n  labels: {\"bad key!\": x}");
    std::fs::write(&components, &broken).unwrap();
    wait_for(Duration::from_secs(20), || {
        let (_, e) = get(
            &portal,
            "/api/catalog/entities/by-name/component/default/payments",
        );
        (e["metadata"]["title"] == "Payments 2").then_some(())
    })
    .expect("the good neighbour was not updated");
    let (_, orders) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/orders",
    );
    assert!(
        orders["metadata"]["labels"].is_null(),
        "the bad version must not be stored: {orders}"
    );
    let items = orders["status"]["items"]
        .as_array()
        .expect("error attached to the entity");
    assert_eq!(items[0]["type"], "backstage.io/catalog-processing");
    assert_eq!(items[0]["level"], "error");
    assert_eq!(items[0]["error"]["name"], "InputError");

    // An alias bomb: refused quickly, nothing changes.
    let mut bomb = String::from(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bomb\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n",
    );
    let mut prev = 'a';
    for c in 'b'..='l' {
        bomb.push_str(&format!("  {c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        prev = c;
    }
    bomb.push_str("spec: {type: service, lifecycle: production, owner: team-a}\n");
    std::fs::write(dir.path().join("bomb.yaml"), &bomb).unwrap();
    std::fs::write(
        dir.path().join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: fixture\nspec:\n  targets: [./org.yaml, ./components.yaml, ./bomb.yaml, ./huge.yaml]\n",
    )
    .unwrap();
    // A 100 MB file.
    {
        use std::io::Write;
        let mut f = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
        let line = format!("# {}\n", "x".repeat(1021));
        for _ in 0..(100 * 1024) {
            f.write_all(line.as_bytes()).unwrap();
        }
    }
    let errors = wait_for(Duration::from_secs(30), || {
        let e = location_errors(&portal);
        (e.contains("bomb.yaml") && e.contains("huge.yaml")).then_some(e)
    })
    .unwrap_or_else(|| {
        panic!(
            "bomb/huge not reported: {}\n{}",
            location_errors(&portal),
            portal.log()
        )
    });
    assert!(errors.contains("over the limit"), "{errors}");
    let (s, _) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/bomb",
    );
    assert_eq!(s, 404);
    let (_, all) = get(&portal, "/api/catalog/entities?filter=kind=component");
    assert_eq!(all.as_array().unwrap().len(), 4);
    // The portal is still healthy and small.
    let (s, _) = get(&portal, "/healthcheck");
    assert_eq!(s, 200);
}

#[test]
fn url_locations_allow_list_and_link_local() {
    let served = StandIn::serve(|_| {
        axum::Router::new().route(
            "/org/catalog-info.yaml",
            axum::routing::get(|| async {
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: from-url}\nspec: {type: service, lifecycle: production, owner: team-a}\n"
            }),
        )
    });
    let config = format!(
        "catalog:\n  reading:\n    allow:\n      - host: {}\n      - host: 169.254.169.254\n",
        served.addr
    );
    let portal = PortalProcess::start(&config).unwrap();
    let target = format!("{}/org/catalog-info.yaml", served.url());
    let (s, b) = post(
        &portal,
        "/api/catalog/locations",
        &json!({"type": "url", "target": target}),
    );
    assert_eq!(s, 201, "{b}");
    let e = wait_entity(&portal, "component/default/from-url");
    let a = &e["metadata"]["annotations"];
    assert_eq!(a["backstage.io/view-url"], target.as_str());
    assert_eq!(
        a["backstage.io/source-location"],
        format!("url:{}/org/", served.url()).as_str()
    );
    assert_eq!(
        a["backstage.io/managed-by-location"],
        format!("url:{target}").as_str()
    );

    let before: Value = get(&portal, "/api/catalog/entities").1;
    // Outside the allow-list.
    let (s, b) = post(
        &portal,
        "/api/catalog/locations",
        &json!({"type": "url", "target": "http://127.0.0.2:9/x.yaml"}),
    );
    crate::assert_error(s, &b, 400, "InputError");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("catalog.reading.allow"),
        "{b}"
    );
    // Link-local / metadata addresses, even when allow-listed.
    for target in [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/x.yaml",
    ] {
        let (s, b) = post(
            &portal,
            "/api/catalog/locations",
            &json!({"type": "url", "target": target}),
        );
        crate::assert_error(s, &b, 400, "InputError");
        let m = b["error"]["message"].as_str().unwrap();
        assert!(m.contains("refusing") || m.contains("not allowed"), "{m}");
    }
    let (s, b) = post(
        &portal,
        "/api/catalog/locations?dryRun=true",
        &json!({"type": "url", "target": "http://169.254.169.254/x.yaml"}),
    );
    crate::assert_error(s, &b, 400, "InputError");
    let after: Value = get(&portal, "/api/catalog/entities").1;
    assert_eq!(before, after, "refused locations change nothing");
    assert!(served.request_count() >= 1);
}
