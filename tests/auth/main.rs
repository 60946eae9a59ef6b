//! Access control end to end: a real `portal serve` with a policy file and
//! service tokens. Each caller (the guest, who belongs to team-a; a CI
//! token; a read-only token; an admin token) sees and may do exactly what
//! the policy says, on every REST path; lists, counts, facets and search
//! never reveal what is hidden; denials and mutations are in the audit log;
//! tokens are revoked by editing the configuration; a cross-site write is
//! refused; guest mode refuses a public address.

mod policy_table;
mod sign_in;

use portal_tests::{PortalProcess, portal_bin, wait_for};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

const RELOAD: Duration = Duration::from_secs(10);

fn write(root: &Path, rel: &str, text: &str) {
    portal_tests::write_file(root, rel, text);
}

const ORG: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [], parent: engineering }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: engineering }
spec: { type: department, children: [team-a, team-b] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-b }
spec: { type: team, children: [], parent: engineering }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: guest }
spec: { memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments, description: Takes the money }
spec: { type: service, lifecycle: production, owner: team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: checkout, description: The basket }
spec: { type: website, lifecycle: experimental, owner: team-a }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger, description: Double-entry bookkeeping }
spec: { type: service, lifecycle: production, owner: team-b }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: platform-docs, description: How the platform works }
spec: { type: documentation, lifecycle: production, owner: engineering }
"#;

/// The guest reads what its teams own (team-a, and engineering above it)
/// and the org itself; deletes and refreshes only what team-a owns, never
/// in production; nothing else.
const POLICY: &str = r#"
rules:
  - permissions: [catalog.entity.read]
    resources: { any_of: [ { is_entity_owner: true }, { kind: [Group, User] } ] }
    decision: allow
  - permissions: [catalog.entity.delete]
    resources: { lifecycle: [production] }
    decision: deny
  - permissions: [catalog.entity.delete, catalog.entity.refresh]
    resources: { is_entity_owner: true }
    decision: allow
default: deny
"#;

struct Tokens {
    ci: String,
    reader: String,
    admin: String,
}

fn config(root: &Path, tokens: &[(&str, &str, &str)]) -> String {
    let mut yaml = format!(
        "catalog:\n  refresh_interval_seconds: 3600\n  locations:\n    - type: file\n      target: {}\nauth:\n  policy: {}\n  service_tokens:\n",
        root.join("org.yaml").display(),
        root.join("policy.yaml").display()
    );
    for (name, sha, permissions) in tokens {
        yaml.push_str(&format!(
            "    - {{ name: {name}, sha256: {sha}, permissions: [{permissions}] }}\n"
        ));
    }
    yaml
}

fn start() -> (tempfile::TempDir, PortalProcess, Tokens) {
    let root = tempfile::tempdir().unwrap();
    write(root.path(), "org.yaml", ORG);
    write(root.path(), "policy.yaml", POLICY);
    write(
        root.path(),
        "extra/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: { name: extra }\nspec: { type: service, lifecycle: experimental, owner: team-b }\n",
    );
    let (ci, ci_sha) = portal_auth::tokens::generate();
    let (reader, reader_sha) = portal_auth::tokens::generate();
    let (admin, admin_sha) = portal_auth::tokens::generate();
    let yaml = config(
        root.path(),
        &[
            ("ci", &ci_sha, "catalog.location.*"),
            ("reader", &reader_sha, "catalog.entity.read"),
            ("admin", &admin_sha, "\"*\""),
        ],
    );
    let portal = PortalProcess::start(&yaml).expect("portal starts");
    let tokens = Tokens { ci, reader, admin };
    // Wait for the org to be read (the admin sees all of it: 8 entities
    // and the Location entity of the configured location).
    let all = wait_for(Duration::from_secs(60), || {
        let body = get(&portal, "/api/catalog/entities", Some(&tokens.admin)).1;
        (body.as_array().map(Vec::len) == Some(9)).then_some(())
    });
    assert!(
        all.is_some(),
        "the org was not ingested; log:\n{}",
        portal.log()
    );
    // And every start-up read done: one still running would put back an
    // entity a test deletes.
    let idle = wait_for(Duration::from_secs(60), || {
        let stats = &get(&portal, "/api/catalog/sources", Some(&tokens.admin)).1["stats"];
        let reads = stats["reads"].as_u64()?;
        (reads > 0 && reads >= stats["readsPlanned"].as_u64()? && stats["processing"] == 0)
            .then_some(())
    });
    assert!(
        idle.is_some(),
        "the catalog never settled; log:\n{}",
        portal.log()
    );
    (root, portal, tokens)
}

fn get(portal: &PortalProcess, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = portal.get(path);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn each_caller_sees_and_does_exactly_what_the_policy_says() {
    let (root, portal, tokens) = start();

    // The guest (user:default/guest, in team-a, under engineering).
    let (status, list) = get(&portal, "/api/catalog/entities", None);
    assert_eq!(status, 200);
    assert_eq!(
        names(&list),
        [
            "checkout",
            "engineering",
            "guest",
            "payments",
            "platform-docs",
            "team-a",
            "team-b"
        ],
        "owned through team-a and its parent, and the org; never ledger or extra"
    );
    let (_, page) = get(
        &portal,
        "/api/catalog/entities/by-query?filter=kind=component",
        None,
    );
    assert_eq!(
        page["totalItems"], 3,
        "counts leave hidden entities out: {page}"
    );
    let (_, facets) = get(&portal, "/api/catalog/entity-facets?facet=spec.owner", None);
    let owners: Vec<&str> = facets["facets"]["spec.owner"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["value"].as_str().unwrap())
        .collect();
    assert!(
        !owners.contains(&"team-b"),
        "a facet count reveals team-b's entities: {facets}"
    );
    let (status, body) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/ledger",
        None,
    );
    assert_eq!(
        status, 404,
        "a hidden entity is not found, not forbidden: {body}"
    );
    let (status, body) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/nothing",
        None,
    );
    assert_eq!(status, 404);
    assert_eq!(body["error"]["name"], "NotFoundError");
    let (_, refs) = {
        let response = portal
            .post("/api/catalog/entities/by-refs")
            .json(
                &json!({"entityRefs": ["component:default/ledger", "component:default/payments"]}),
            )
            .send()
            .unwrap();
        (response.status(), response.json::<Value>().unwrap())
    };
    assert!(
        refs["items"][0].is_null() && refs["items"][1].is_object(),
        "{refs}"
    );

    // Search leaves the hidden out of results and counts.
    let found = wait_for(Duration::from_secs(30), || {
        let (_, r) = get(&portal, "/api/search/query?term=payments", None);
        (r["numberOfResults"].as_u64() > Some(0)).then_some(())
    });
    assert!(found.is_some(), "the index never got ready");
    let (_, r) = get(&portal, "/api/search/query?term=ledger", None);
    assert_eq!(r["numberOfResults"], 0, "search shows a hidden entity: {r}");
    let (_, r) = get(
        &portal,
        "/api/search/query?term=ledger",
        Some(&tokens.admin),
    );
    assert!(r["numberOfResults"].as_u64() >= Some(1), "{r}");
    let (_, r) = get(&portal, "/api/search/suggest?term=ledg", None);
    assert_eq!(r["results"].as_array().map(Vec::len), Some(0), "{r}");

    // Writes: the guest may refresh what team-a owns, may delete what team-a
    // owns outside production, and may register nothing.
    let uid = |name: &str| {
        get(
            &portal,
            &format!("/api/catalog/entities/by-name/component/default/{name}"),
            Some(&tokens.admin),
        )
        .1["metadata"]["uid"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let refresh = |token: Option<&str>, entity_ref: &str| {
        let mut r = portal
            .post("/api/catalog/refresh")
            .json(&json!({ "entityRef": entity_ref }));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send().unwrap().status().as_u16()
    };
    let payments = uid("payments");
    let status = portal
        .delete(&format!("/api/catalog/entities/by-uid/{payments}"))
        .send()
        .unwrap()
        .status();
    assert_eq!(
        status.as_u16(),
        403,
        "production is never deleted by an owner"
    );
    let ledger = uid("ledger");
    let status = portal
        .delete(&format!("/api/catalog/entities/by-uid/{ledger}"))
        .send()
        .unwrap()
        .status();
    assert_eq!(
        status.as_u16(),
        204,
        "hidden: answered like a missing entity"
    );
    assert_eq!(
        get(
            &portal,
            "/api/catalog/entities/by-name/component/default/ledger",
            Some(&tokens.admin)
        )
        .0,
        200,
        "and not deleted"
    );
    let checkout = uid("checkout");
    let status = portal
        .delete(&format!("/api/catalog/entities/by-uid/{checkout}"))
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 204);
    // Deleted: gone, or (its file still emits it, as in Backstage, and the
    // delete re-reads that file) back as a new entity with a new uid.
    let (status, after) = get(
        &portal,
        "/api/catalog/entities/by-name/component/default/checkout",
        Some(&tokens.admin),
    );
    assert!(
        status == 404 || after["metadata"]["uid"].as_str() != Some(checkout.as_str()),
        "not deleted: {status} {after}"
    );
    // Refreshes come after the deletes: a refresh re-reads the source file,
    // which would put a deleted entity back (as in Backstage).
    assert_eq!(refresh(None, "component:default/payments"), 200);
    assert_eq!(
        refresh(None, "group:default/team-b"),
        403,
        "visible, not owned"
    );
    assert_eq!(
        refresh(None, "component:default/ledger"),
        404,
        "hidden: answered like a missing entity"
    );
    assert_eq!(refresh(None, "component:default/nothing"), 404);
    let location = json!({ "type": "file", "target": root.path().join("extra/catalog-info.yaml").display().to_string() });
    let status = portal
        .post("/api/catalog/locations")
        .json(&location)
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 403);
    assert_eq!(get(&portal, "/api/catalog/locations", None).0, 403);
    assert_eq!(get(&portal, "/api/audit", None).0, 403);
    assert_eq!(get(&portal, "/api/plugins", None).0, 403);

    // The CI token registers locations and reads nothing else.
    let response = portal
        .post("/api/catalog/locations")
        .bearer_auth(&tokens.ci)
        .json(&location)
        .send()
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        201,
        "{}",
        response.text().unwrap()
    );
    let (status, list) = get(&portal, "/api/catalog/entities", Some(&tokens.ci));
    assert_eq!(
        (status, list.as_array().map(Vec::len)),
        (200, Some(0)),
        "lists are filtered, not refused"
    );
    assert_eq!(
        get(&portal, "/api/catalog/locations", Some(&tokens.ci)).0,
        200
    );

    // The reader reads everything and writes nothing.
    assert_eq!(
        refresh(Some(&tokens.reader), "component:default/payments"),
        403
    );
    let (_, all) = get(
        &portal,
        "/api/catalog/entities?filter=kind=component",
        Some(&tokens.reader),
    );
    assert!(names(&all).contains(&"ledger".to_owned()));
    let status = portal
        .delete(&format!("/api/catalog/entities/by-uid/{ledger}"))
        .bearer_auth(&tokens.reader)
        .send()
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 403);

    // The audit log has the mutations and the denials, with who and what.
    let (status, audit) = get(&portal, "/api/audit?limit=1000", Some(&tokens.admin));
    assert_eq!(status, 200, "{audit}");
    let items = audit["items"].as_array().unwrap();
    let has = |actor: &str, action: &str, outcome: &str| {
        items.iter().any(|e| {
            e["actor"].as_str().unwrap().contains(actor)
                && e["action"] == action
                && e["outcome"] == outcome
        })
    };
    for (actor, action, outcome) in [
        ("user:default/guest", "catalog.entity.delete", "denied"),
        ("user:default/guest", "catalog.entity.delete", "succeeded"),
        ("user:default/guest", "catalog.location.create", "denied"),
        ("service:ci", "catalog.location.create", "succeeded"),
        ("service:reader", "catalog.entity.refresh", "denied"),
    ] {
        assert!(
            has(actor, action, outcome),
            "no {actor} {action} {outcome} in {audit}"
        );
    }
    assert!(
        items
            .iter()
            .all(|e| e["time"].as_str().unwrap().ends_with('Z') && e["source"] == "127.0.0.1")
    );
    let (_, denied) = get(
        &portal,
        "/api/audit?outcome=denied&actor=service:reader",
        Some(&tokens.admin),
    );
    assert!(
        denied["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["outcome"] == "denied" && e["actor"] == "service:reader")
    );
    // Hostile paging and filters get a 400 naming the parameter.
    for (query, needle) in [
        ("limit=0", "limit"),
        ("limit=100000000", "limit"),
        ("outcome=evil", "outcome"),
        ("before=-1", "before"),
    ] {
        let (status, body) = get(&portal, &format!("/api/audit?{query}"), Some(&tokens.admin));
        assert_eq!(status, 400, "{query}: {body}");
        assert!(body.to_string().contains(needle), "{query}: {body}");
    }
    let export = portal
        .get("/api/audit/export")
        .bearer_auth(&tokens.admin)
        .send()
        .unwrap();
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let lines = export.text().unwrap();
    assert_eq!(
        lines.lines().count(),
        items.len(),
        "the export has every entry"
    );
    assert!(
        lines
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok())
    );

    // Bad credentials: 401, and no token ever reaches a log or an answer.
    let (status, body) = get(&portal, "/api/catalog/entities", Some("portal_forged"));
    assert_eq!(status, 401);
    assert_eq!(body["error"]["name"], "AuthenticationError");
    let response = portal
        .get("/api/catalog/entities")
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    let log = portal.log();
    for secret in [&tokens.ci, &tokens.reader, &tokens.admin] {
        assert!(
            !log.contains(secret.as_str()) && !lines.contains(secret.as_str()),
            "a token leaked"
        );
    }

    // A huge or binary token is refused like any other, and the portal
    // keeps answering.
    let huge = "x".repeat(64 * 1024);
    let status = portal
        .get("/api/catalog/entities")
        .bearer_auth(&huge)
        .send()
        .unwrap()
        .status();
    assert!(status.as_u16() == 401 || status.as_u16() == 431, "{status}");
    let binary = portal
        .get("/api/catalog/entities")
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .unwrap();
    assert_eq!(binary.status().as_u16(), 401);
    assert_eq!(get(&portal, "/healthcheck", None).0, 200);

    // Another site's page cannot use the guest's ambient identity.
    let cross = portal
        .post("/api/catalog/refresh")
        .header("origin", "https://evil.example")
        .json(&json!({ "entityRef": "component:default/payments" }))
        .send()
        .unwrap();
    assert_eq!(cross.status().as_u16(), 403);
    let same = portal
        .post("/api/catalog/refresh")
        .header("origin", portal.url.as_str())
        .json(&json!({ "entityRef": "component:default/payments" }))
        .send()
        .unwrap();
    assert_eq!(same.status().as_u16(), 200);
    // Without an Origin, the browser's own word on where it came from.
    let fetch = portal
        .post("/api/catalog/refresh")
        .header("sec-fetch-site", "cross-site")
        .json(&json!({ "entityRef": "component:default/payments" }))
        .send()
        .unwrap();
    assert_eq!(fetch.status().as_u16(), 403);

    // Revoking a token is editing the file; a broken edit changes nothing.
    let config = std::fs::read_to_string(portal.config_path()).unwrap();
    std::fs::write(portal.config_path(), "auth: [").unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(
        get(&portal, "/api/catalog/locations", Some(&tokens.ci)).0,
        200,
        "a broken file keeps the last good settings"
    );
    let without_ci: String = config
        .lines()
        .filter(|l| !l.contains("name: ci,"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(portal.config_path(), without_ci).unwrap();
    let revoked = wait_for(RELOAD, || {
        (get(&portal, "/api/catalog/locations", Some(&tokens.ci)).0 == 401).then_some(())
    });
    assert!(
        revoked.is_some(),
        "the CI token still works after its removal"
    );
    assert_eq!(
        get(&portal, "/api/catalog/locations", Some(&tokens.admin)).0,
        200
    );

    // The policy reloads too: now the guest may read locations.
    write(
        root.path(),
        "policy.yaml",
        &format!("{POLICY}\n").replace(
            "default: deny",
            "  - permissions: [catalog.location.read]\n    decision: allow\ndefault: deny",
        ),
    );
    let allowed = wait_for(RELOAD, || {
        (get(&portal, "/api/catalog/locations", None).0 == 200).then_some(())
    });
    assert!(
        allowed.is_some(),
        "the edited policy was not taken; log:\n{}",
        portal.log()
    );
}

/// Runs `portal serve` on `config_yaml` (in a folder with `files`) and
/// returns its stderr; it must exit with an error.
fn refused_start(config_yaml: &str, files: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        write(dir.path(), rel, text);
    }
    write(dir.path(), "portal.yaml", config_yaml);
    let output = std::process::Command::new(portal_bin())
        .args(["serve", "--config"])
        .arg(dir.path().join("portal.yaml"))
        .args(["--port", "0", "--data-dir"])
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    assert!(!output.status.success(), "it started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn guest_mode_refuses_a_public_address() {
    let stderr = refused_start("server:\n  host: 0.0.0.0\n", &[]);
    assert!(
        stderr.contains("guest mode") && stderr.contains("0.0.0.0"),
        "{stderr}"
    );
}

#[test]
fn a_broken_policy_stops_the_start_with_its_place() {
    let policy = "rules:\n  - permissions: [catalog.entity.raed]\n    decision: allow\n";
    let stderr = refused_start("auth:\n  policy: policy.yaml\n", &[("policy.yaml", policy)]);
    assert!(
        stderr.contains("policy.yaml")
            && stderr.contains("rules[0]")
            && stderr.contains("catalog.entity.raed"),
        "{stderr}"
    );
}
