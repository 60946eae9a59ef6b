//! The policy table: three people signed in through a real provider (an
//! owner, a member of another team, an admin) and a service token, each
//! over every kind of read and write, through the REST API, the UI's pages
//! and a plugin's panel. Each sees and may do exactly what the policy says;
//! lists, totals and facet counts never reveal what is hidden.

use crate::sign_in::{SignInSetup, sign_in};
use portal_tests::oidc::Agent;
use portal_tests::{built_plugin, install_plugin, wait_for};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::Duration;

const ORG: &str = r#"apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-a }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: team-b }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: { name: admins }
spec: { type: team, children: [] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: jane }
spec: { profile: { email: jane@acme.example }, memberOf: [team-a] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: bob }
spec: { profile: { email: bob@acme.example }, memberOf: [team-b] }
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: { name: root }
spec: { profile: { email: root@acme.example }, memberOf: [admins] }
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: { name: money }
spec: { owner: team-b }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: payments, description: Takes the money }
spec: { type: service, lifecycle: experimental, owner: team-a, system: money }
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: { name: ledger, description: Double-entry bookkeeping }
spec: { type: service, lifecycle: production, owner: team-b, system: money }
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata: { name: hello, title: Hello }
spec: { owner: team-a, type: service, parameters: [], steps: [] }
"#;

const POLICY: &str = r#"
rules:
  - permissions: ["*"]
    users: { member_of: [group:default/admins] }
    decision: allow
  - permissions: [catalog.entity.read]
    resources: { any_of: [ { is_entity_owner: true }, { kind: [Group, User] } ] }
    decision: allow
  - permissions: [catalog.entity.refresh]
    resources: { is_entity_owner: true }
    decision: allow
  - permissions: [plugin.read, plugin.panel.view]
    decision: allow
default: deny
"#;

/// One caller: a signed-in person (their agent holds the session) or a
/// service token.
enum Caller {
    Person(&'static str, Agent),
    Token(&'static str, String),
}

impl Caller {
    fn name(&self) -> &str {
        match self {
            Caller::Person(name, _) | Caller::Token(name, _) => name,
        }
    }

    fn send(
        &mut self,
        portal: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, String) {
        let url = format!("{portal}{path}");
        match self {
            Caller::Person(_, agent) => {
                let session = agent.cookie(portal, "portal_session").unwrap().to_owned();
                let client = portal_tests::loopback_client();
                let request = match method {
                    "GET" => client.get(&url),
                    _ => client.post(&url).header("origin", portal),
                };
                let request = request.header("cookie", format!("portal_session={session}"));
                let request = match body {
                    Some(body) => request.json(&body),
                    None => request,
                };
                let response = request.send().unwrap();
                (response.status().as_u16(), response.text().unwrap())
            }
            Caller::Token(_, token) => {
                let client = portal_tests::loopback_client();
                let request = match method {
                    "GET" => client.get(&url),
                    _ => client.post(&url),
                }
                .bearer_auth(token);
                let request = match body {
                    Some(body) => request.json(&body),
                    None => request,
                };
                let response = request.send().unwrap();
                (response.status().as_u16(), response.text().unwrap())
            }
        }
    }
}

fn names(body: &str) -> BTreeSet<String> {
    let list: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("a list: {body}"));
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {body}"))
        .iter()
        .map(|e| e["metadata"]["name"].as_str().unwrap().to_owned())
        .collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// What one caller should see and be able to do.
struct Expected {
    /// Components and systems it can read.
    reads: &'static [&'static str],
    /// Owners in the component facet.
    owners: &'static [&'static str],
    /// `POST /refresh` of `payments`: 200, 403 or 404 (hidden).
    refresh_payments: u16,
    /// May register locations and read the audit log.
    admin: bool,
    /// Starting a task from team-a's template: 201, 403, or 404 (hidden).
    create_task: u16,
    /// The ownership panel on `payments`: `Some(true)` links its system,
    /// `Some(false)` says the system is not in the catalog (the plugin read
    /// it as this caller), `None`: may not view panels (403).
    panel_sees_system: Option<bool>,
}

#[test]
fn owner_other_team_admin_and_token_see_and_do_what_the_policy_says() {
    let (token, sha) = portal_auth::tokens::generate();
    let mut setup = SignInSetup::start_with(ORG, |root| {
        portal_tests::write_file(root, "policy.yaml", POLICY);
        format!(
            "  policy: {}\n  service_tokens:\n    - {{ name: reader, sha256: {sha}, permissions: [catalog.entity.read] }}\n",
            root.join("policy.yaml").display()
        )
    });
    install_plugin(
        &setup.portal.plugins_dir(),
        &built_plugin("ownership.wasm"),
        "ownership.wasm",
    );
    let portal = setup.portal.url.clone();

    let mut callers = Vec::new();
    for login in ["jane", "bob", "root"] {
        let mut agent = Agent::new();
        sign_in(&setup, &mut agent, login, "/");
        callers.push(Caller::Person(login, agent));
    }
    callers.push(Caller::Token("reader-token", token));

    // The org is read, the token is live, the plugin is loaded.
    let root = callers.iter_mut().find(|c| c.name() == "root").unwrap();
    let ready = wait_for(Duration::from_secs(60), || {
        let (_, body) = root.send(
            &portal,
            "GET",
            "/api/catalog/entities?filter=kind=component",
            None,
        );
        let (_, plugins) = root.send(&portal, "GET", "/api/plugins", None);
        (body.contains("ledger") && plugins.contains(r#""state":"loaded""#)).then_some(())
    });
    assert!(ready.is_some(), "log:\n{}", setup.portal.log());

    let table = [
        (
            "jane",
            Expected {
                reads: &["payments"],
                owners: &["team-a"],
                refresh_payments: 200,
                admin: false,
                create_task: 403,
                panel_sees_system: Some(false),
            },
        ),
        (
            "bob",
            Expected {
                reads: &["ledger", "money"],
                owners: &["team-b"],
                refresh_payments: 404,
                admin: false,
                create_task: 404,
                panel_sees_system: Some(true),
            },
        ),
        (
            "root",
            Expected {
                reads: &["ledger", "money", "payments"],
                owners: &["team-a", "team-b"],
                refresh_payments: 200,
                admin: true,
                create_task: 201,
                panel_sees_system: Some(true),
            },
        ),
        (
            "reader-token",
            Expected {
                reads: &["ledger", "money", "payments"],
                owners: &["team-a", "team-b"],
                refresh_payments: 403,
                admin: false,
                create_task: 403,
                panel_sees_system: None,
            },
        ),
    ];

    let payments_json = {
        let root = callers.iter_mut().find(|c| c.name() == "root").unwrap();
        root.send(
            &portal,
            "GET",
            "/api/catalog/entities/by-name/component/default/payments",
            None,
        )
        .1
    };
    let payments: Value = serde_json::from_str(&payments_json).unwrap();

    for (who, expected) in &table {
        let caller = callers.iter_mut().find(|c| c.name() == *who).unwrap();
        let what = |thing: &str| format!("{who}: {thing}");

        // REST: lists, totals, facets, single reads.
        let (status, body) = caller.send(
            &portal,
            "GET",
            "/api/catalog/entities?filter=kind=component&filter=kind=system",
            None,
        );
        assert_eq!(status, 200, "{}", what("list"));
        assert_eq!(names(&body), set(expected.reads), "{}", what("list"));
        let (_, body) = caller.send(
            &portal,
            "GET",
            "/api/catalog/entities/by-query?filter=kind=component&filter=kind=system",
            None,
        );
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            page["totalItems"],
            expected.reads.len(),
            "{}",
            what(&format!("total: {page}"))
        );
        let (_, body) = caller.send(
            &portal,
            "GET",
            "/api/catalog/entity-facets?facet=spec.owner&filter=kind=component",
            None,
        );
        let facets: Value = serde_json::from_str(&body).unwrap();
        let owners: BTreeSet<String> = facets["facets"]["spec.owner"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(owners, set(expected.owners), "{}", what("facets"));
        for name in ["payments", "ledger"] {
            let (status, _) = caller.send(
                &portal,
                "GET",
                &format!("/api/catalog/entities/by-name/component/default/{name}"),
                None,
            );
            let visible = expected.reads.contains(&name);
            assert_eq!(status, if visible { 200 } else { 404 }, "{}", what(name));
        }
        // Search (the index may still be filling for the first caller: a
        // visible entity is waited for; a hidden one must never show).
        let wanted = expected.reads.contains(&"ledger");
        let settled = wait_for(Duration::from_secs(30), || {
            let (_, body) = caller.send(&portal, "GET", "/api/search/query?term=ledger", None);
            let results: Value = serde_json::from_str(&body).ok()?;
            let found = results["results"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r.to_string().contains("ledger")));
            assert!(
                !found || wanted,
                "{}",
                what(&format!("search shows ledger: {results}"))
            );
            (found == wanted).then_some(())
        });
        assert!(settled.is_some(), "{}", what("search for ledger"));

        // Writes.
        let (status, body) = caller.send(
            &portal,
            "POST",
            "/api/catalog/refresh",
            Some(json!({"entityRef": "component:default/payments"})),
        );
        assert_eq!(
            status,
            expected.refresh_payments,
            "{}",
            what(&format!("refresh: {body}"))
        );
        let (status, _) = caller.send(
            &portal,
            "POST",
            "/api/catalog/locations?dryRun=true",
            Some(json!({"type": "url", "target": "https://github.com/acme/x/blob/main/catalog-info.yaml"})),
        );
        assert_eq!(
            status == 403,
            !expected.admin,
            "{}",
            what("register a location")
        );
        let (status, _) = caller.send(&portal, "GET", "/api/audit", None);
        assert_eq!(status == 200, expected.admin, "{}", what("audit"));
        let (status, body) = caller.send(
            &portal,
            "POST",
            "/api/scaffolder/v2/tasks",
            Some(json!({"templateRef": "template:default/hello", "values": {}})),
        );
        assert_eq!(
            status,
            expected.create_task,
            "{}",
            what(&format!("create a task: {body}"))
        );

        // A plugin reading the catalog for this caller sees what they see.
        let (status, body) = caller.send(
            &portal,
            "POST",
            "/api/plugins/ownership/panels/owner/render",
            Some(json!({ "entity": payments })),
        );
        match expected.panel_sees_system {
            None => assert_eq!(status, 403, "{}", what(&format!("panel: {body}"))),
            Some(sees) => {
                assert_eq!(status, 200, "{}", what(&format!("panel: {body}")));
                let hidden = body.contains("system:default/money is not in the catalog");
                assert_eq!(hidden, !sees, "{}", what(&format!("panel: {body}")));
                assert_eq!(body.contains("/catalog/default/system/money"), sees);
            }
        }

        // The UI's pages (people only).
        if let Caller::Person(_, _) = caller {
            let (status, html) =
                caller.send(&portal, "GET", "/catalog/default/component/payments", None);
            let visible = expected.reads.contains(&"payments");
            assert_eq!(
                status,
                if visible { 200 } else { 404 },
                "{}",
                what("payments page")
            );
            if visible {
                assert_eq!(
                    html.contains("system:default/money is not in the catalog"),
                    expected.panel_sees_system == Some(false),
                    "{}",
                    what("the panel on the page")
                );
            }
            let (status, html) = caller.send(&portal, "GET", "/catalog?kind=component", None);
            assert_eq!(status, 200);
            assert_eq!(
                html.contains(r#"href="/audit""#),
                expected.admin,
                "{}",
                what("the audit link in the frame")
            );
            let (status, audit) = caller.send(&portal, "GET", "/audit?outcome=succeeded", None);
            if expected.admin {
                assert_eq!(status, 200, "{}", what("the audit page"));
                assert!(
                    audit.contains("auth.sign-in") && audit.contains("user:default/jane"),
                    "{}",
                    what("the audit page lists the sign-ins")
                );
            } else {
                assert_eq!(status, 403, "{}", what("the audit page"));
                assert!(audit.contains("You may not read the audit log"));
            }
            // "What you own": the catalog filtered by them and their groups.
            let owned = html
                .find(r#"class="viewer-owned""#)
                .and_then(|at| {
                    let tag = &html[html[..at].rfind("<a ")?..at];
                    let href = &tag[tag.find(r#"href=""#)? + 6..];
                    Some(href[..href.find('"')?].replace("&amp;", "&"))
                })
                .unwrap_or_else(|| panic!("{}", what("no `What you own` link")));
            let (status, mine) = caller.send(&portal, "GET", &owned, None);
            assert_eq!(status, 200);
            for (name, owner) in [("payments", "jane"), ("ledger", "bob")] {
                assert_eq!(
                    mine.contains(&format!("/catalog/default/component/{name}\"")),
                    *who == owner,
                    "{}",
                    what(&format!("{name} under {owned}"))
                );
            }
            for name in ["payments", "ledger"] {
                assert_eq!(
                    html.contains(&format!("/catalog/default/component/{name}\"")),
                    expected.reads.contains(&name),
                    "{}",
                    what(&format!("{name} in the catalog page"))
                );
            }
        }
    }
    drop(setup.provider.take());
}
