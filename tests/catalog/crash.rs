//! Crash safety: SIGKILL in the middle of a large ingest, restart, and every
//! file is either fully in the store or not at all.

use crate::{Store, config_for, get, on_each_store};
use portal_tests::{PortalProcess, wait_for};
use serde_json::Value;
use std::fmt::Write;
use std::time::Duration;

pub const FILES: usize = 300;
pub const PER_FILE: usize = 50;

pub fn per_file_counts(portal: &PortalProcess) -> Vec<u64> {
    let (s, f) = get(
        portal,
        "/api/catalog/entity-facets?facet=metadata.annotations.backstage.io/managed-by-location&filter=kind=component",
    );
    assert_eq!(s, 200, "{f}");
    f["facets"]["metadata.annotations.backstage.io/managed-by-location"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .collect()
}

pub fn total(portal: &PortalProcess) -> u64 {
    let (_, b): (u16, Value) = get(
        portal,
        "/api/catalog/entities/by-query?filter=kind=component&limit=0",
    );
    b["totalItems"].as_u64().unwrap_or(0)
}

/// [`FILES`] files of [`PER_FILE`] components each, in a new folder.
pub fn large_ingest() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in 0..FILES {
        let mut text = String::new();
        for e in 0..PER_FILE {
            let _ = write!(
                text,
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: c{f}-{e}\n  description: component {e} of file {f}, padded {}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-{}\n  dependsOn: [component:c{f}-{}]\n",
                "x".repeat(200),
                f % 17,
                (e + 1) % PER_FILE
            );
        }
        std::fs::write(dir.path().join(format!("f{f:04}.yaml")), text).unwrap();
    }
    dir
}

on_each_store!(killed_during_a_large_ingest_nothing_is_half_written);

fn killed_during_a_large_ingest_nothing_is_half_written(store: Store) {
    let dir = large_ingest();
    let glob = dir.path().join("*.yaml");
    let mut portal = PortalProcess::start(&config_for(&glob, &store.yaml())).unwrap();
    // Kill while some, not all, files are in.
    wait_for(Duration::from_secs(120), || {
        let n = total(&portal);
        (n > 0).then_some(n)
    })
    .expect("ingest never started");
    let at_kill = total(&portal);
    portal.kill();
    eprintln!(
        "killed with {at_kill} of {} components ingested",
        FILES * PER_FILE
    );

    let portal = portal.restart().unwrap();
    // The store opened; every file is whole, now and while ingest resumes.
    let log = portal.log();
    assert!(log.contains("catalog store loaded"), "{log}");
    let mut checks = 0;
    loop {
        let counts = per_file_counts(&portal);
        assert!(
            counts.iter().all(|c| *c == PER_FILE as u64),
            "a file is half in the store: {counts:?}"
        );
        checks += 1;
        if counts.len() == FILES {
            break;
        }
        assert!(checks < 2400, "ingest did not finish after restart");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(total(&portal), (FILES * PER_FILE) as u64);
}
