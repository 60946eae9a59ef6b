//! The software catalog, end to end: real `portal` processes on 127.0.0.1,
//! real sled stores and a real PostgreSQL server, real files, real HTTP;
//! Backstage's own npm client.

mod api;
mod bad_input;
mod cli;
mod client;
pub mod crash;
mod freshness;
mod postgres;
mod providers;

use portal_store_postgres::testing::TestDatabase;
use portal_tests::{PortalProcess, wait_for};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

/// A small organisation: 12 entities (two Location entities included).
pub fn write_fixture(dir: &Path) {
    let w = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: fixture\nspec:\n  targets: [./org.yaml, ./components.yaml]\n",
    );
    w(
        "org.yaml",
        r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-a}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team-b}
spec: {type: team, children: []}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: jane}
spec: {memberOf: [team-a]}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: joe}
spec: {memberOf: [team-b]}
"#,
    );
    w(
        "components.yaml",
        r#"apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: shop}
spec: {owner: team-a}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
  title: Payments
  tags: [java]
spec:
  type: service
  lifecycle: production
  owner: team-a
  system: shop
  providesApis: [payments-api]
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: orders}
spec: {type: service, lifecycle: production, owner: team-a, system: shop, dependsOn: ["component:payments"]}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: api-gateway}
spec: {type: service, lifecycle: experimental, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web}
spec: {type: website, lifecycle: production, owner: team-b}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: payments-api}
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  system: shop
  definition:
    $text: ./payments.openapi.yaml
"#,
    );
    w(
        "payments.openapi.yaml",
        "openapi: 3.0.0\ninfo: {title: Payments, version: 1.0.0}\n",
    );
    w(
        "extra/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: extra-service}\nspec: {type: service, lifecycle: production, owner: team-b}\n",
    );
    w(
        "extra2/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: extra-two}\nspec: {type: service, lifecycle: production, owner: team-b}\n",
    );
    std::fs::create_dir_all(dir.join("empty-repo")).unwrap();
}

/// Config for a portal reading `target` (absolute) as a file location.
pub fn config_for(target: &Path, extra: &str) -> String {
    format!(
        "catalog:\n  locations:\n    - type: file\n      target: {}\n{extra}",
        target.display()
    )
}

/// The store a test's portal keeps its catalog in: the API and crash tests
/// run on each.
pub enum Store {
    Sled,
    /// A database of the test's own on the test server.
    Postgres(TestDatabase),
}

impl Store {
    pub fn postgres() -> Store {
        Store::Postgres(TestDatabase::create())
    }

    /// The configuration that selects it.
    pub fn yaml(&self) -> String {
        match self {
            Store::Sled => String::new(),
            Store::Postgres(db) => format!("store: {}\n", db.config.url),
        }
    }
}

/// Runs each named test (a `fn(Store)`) once per store.
macro_rules! on_each_store {
    ($($test:ident),* $(,)?) => {
        mod on_sled {
            $(#[test]
            fn $test() {
                super::$test(crate::Store::Sled)
            })*
        }
        mod on_postgres {
            $(#[test]
            fn $test() {
                super::$test(crate::Store::postgres())
            })*
        }
    };
}
pub(crate) use on_each_store;

/// Starts a portal on the fixture and waits until it is ingested.
pub fn fixture_portal() -> (tempfile::TempDir, PortalProcess) {
    fixture_portal_on(&Store::Sled)
}

/// [`fixture_portal`] with its catalog in `store`.
pub fn fixture_portal_on(store: &Store) -> (tempfile::TempDir, PortalProcess) {
    let dir = tempfile::tempdir().unwrap();
    write_fixture(dir.path());
    let portal = PortalProcess::start(&config_for(
        &dir.path().join("catalog-info.yaml"),
        &store.yaml(),
    ))
    .unwrap();
    wait_entity(&portal, "component/default/web");
    wait_entity(&portal, "api/default/payments-api");
    wait_entity(&portal, "user/default/joe");
    (dir, portal)
}

/// GET as JSON with the status.
pub fn get(portal: &PortalProcess, path: &str) -> (u16, Value) {
    let r = portal.get(path).send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// POST JSON with the status.
pub fn post(portal: &PortalProcess, path: &str, body: &Value) -> (u16, Value) {
    let r = portal.post(path).json(body).send().unwrap();
    let status = r.status().as_u16();
    let text = r.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Waits (up to 30 s) until `/entities/by-name/<kind/ns/name>` answers 200.
pub fn wait_entity(portal: &PortalProcess, by_name: &str) -> Value {
    wait_for(Duration::from_secs(30), || {
        let (status, body) = get(portal, &format!("/api/catalog/entities/by-name/{by_name}"));
        (status == 200).then_some(body)
    })
    .unwrap_or_else(|| panic!("{by_name} never appeared; log:\n{}", portal.log()))
}

/// Waits (up to 30 s) until the entity is gone.
pub fn wait_gone(portal: &PortalProcess, by_name: &str) {
    wait_for(Duration::from_secs(30), || {
        let (status, _) = get(portal, &format!("/api/catalog/entities/by-name/{by_name}"));
        (status == 404).then_some(())
    })
    .unwrap_or_else(|| panic!("{by_name} never went away; log:\n{}", portal.log()));
}

/// Names in a JSON array of entities.
pub fn names(items: &Value) -> Vec<String> {
    let mut v: Vec<String> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap_or("").to_owned())
        .collect();
    v.sort();
    v
}

/// Asserts a Backstage error body.
pub fn assert_error(status: u16, body: &Value, want_status: u16, want_name: &str) {
    assert_eq!(status, want_status, "{body}");
    assert_eq!(body["error"]["name"], want_name, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    assert_eq!(body["response"]["statusCode"], want_status, "{body}");
    assert!(body["request"]["method"].is_string(), "{body}");
    assert!(body["request"]["url"].is_string(), "{body}");
}
