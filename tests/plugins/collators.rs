//! A search collator doing real work: `incidents` (portal:plugin@1.3.0)
//! reads PagerDuty's REST API v2 from a stand-in, through its grant, and
//! its incidents are found by the portal's search, filtered by their
//! fields; what PagerDuty no longer returns leaves the search when the
//! plugin collates again, and the plugin's removal takes its documents.

use crate::{start, wait_loaded};
use portal_tests::pagerduty::{Incident, PagerDutyStandIn};
use portal_tests::{PortalProcess, built_plugin, install_plugin, wait_for};
use serde_json::Value;
use std::time::Duration;

const TOKEN: &str = "pd-token-1";
const WAIT: Duration = Duration::from_secs(60);

fn incident(number: u64, title: &str, service: &str, status: &str) -> Incident {
    Incident {
        number,
        title: title.into(),
        description: format!("{title} on {service}"),
        service: service.into(),
        status: status.into(),
        urgency: if number % 2 == 0 { "high" } else { "low" }.into(),
    }
}

fn search(portal: &PortalProcess, query: &str) -> Value {
    portal
        .get_json(&format!("/api/search/query?{query}"))
        .unwrap_or(Value::Null)
}

fn titles(found: &Value) -> Vec<String> {
    found["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|h| h["document"]["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn incidents_from_a_collator_are_searchable_and_leave_with_it() {
    // 130 incidents: the collator reads two pages.
    let mut incidents: Vec<Incident> = (1..=129)
        .map(|n| incident(n, &format!("Disk pressure {n}"), "storage", "resolved"))
        .collect();
    incidents.push(incident(
        130,
        "Checkout latency spike",
        "payments-service",
        "triggered",
    ));
    let pagerduty = PagerDutyStandIn::start(TOKEN, incidents);
    let portal = start(
        &format!(
            "    incidents:\n      allowed_hosts: [\"{}\"]\n      secrets: [pagerduty-token]\n      config: {{ api_base_url: \"{}\" }}\n",
            pagerduty.server.addr,
            pagerduty.url()
        ),
        &format!(
            "secrets:\n  pagerduty-token: {{ value: {TOKEN} }}\nsearch:\n  collate_interval_seconds: 2\n"
        ),
    );
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("incidents.wasm"),
        "incidents.wasm",
    );
    let status = wait_loaded(&portal, "incidents.wasm", "1.0.0");
    assert_eq!(status["witVersion"], "1.3.0");
    assert!(
        status["extensionPoints"]
            .to_string()
            .contains("search-collator"),
        "{status}"
    );

    // Found by the search, typo and all, with its fields as filters.
    let found = wait_for(WAIT, || {
        let found = search(&portal, "term=chekout%20latency&types%5B0%5D=incidents");
        (!titles(&found).is_empty()).then_some(found)
    })
    .unwrap_or_else(|| panic!("the incident is never found; log:\n{}", portal.log()));
    assert_eq!(titles(&found)[0], "#130 Checkout latency spike", "{found}");
    let hit = &found["results"][0];
    assert_eq!(hit["type"], "incidents");
    assert_eq!(
        hit["document"]["location"],
        "https://acme.pagerduty.com/incidents/P000130"
    );
    let triggered = search(&portal, "term=latency&filters%5Bstatus%5D=triggered");
    assert_eq!(
        titles(&triggered),
        ["#130 Checkout latency spike"],
        "{triggered}"
    );
    let resolved = search(&portal, "term=latency&filters%5Bstatus%5D=resolved");
    assert!(titles(&resolved).is_empty(), "{resolved}");
    // Both pages were read: the last incident of the first page and the
    // first of the second.
    for n in [100, 101] {
        let found = search(
            &portal,
            &format!("term=%22Disk%20pressure%20{n}%22&types%5B0%5D=incidents"),
        );
        assert!(
            titles(&found).contains(&format!("#{n} Disk pressure {n}")),
            "{n}: {found}"
        );
    }

    // Resolved and gone from PagerDuty: gone from the search at the next
    // collation (every 2 s here: `search.collate_interval_seconds`).
    pagerduty.set_incidents(vec![incident(
        131,
        "Queue backlog",
        "orders",
        "acknowledged",
    )]);
    wait_for(WAIT, || {
        let gone = titles(&search(&portal, "term=checkout&types%5B0%5D=incidents")).is_empty();
        let new = !titles(&search(&portal, "term=backlog&types%5B0%5D=incidents")).is_empty();
        (gone && new).then_some(())
    })
    .unwrap_or_else(|| panic!("the second collation never showed; log:\n{}", portal.log()));

    // The plugin removed: its documents go.
    std::fs::remove_file(portal.plugins_dir().join("incidents.wasm")).unwrap();
    wait_for(WAIT, || {
        titles(&search(&portal, "term=backlog&types%5B0%5D=incidents"))
            .is_empty()
            .then_some(())
    })
    .unwrap_or_else(|| panic!("the documents outlived the plugin; log:\n{}", portal.log()));
}

#[test]
fn a_collator_without_its_grant_fails_and_the_portal_keeps_serving() {
    let pagerduty = PagerDutyStandIn::start(TOKEN, vec![incident(1, "Outage", "web", "triggered")]);
    // No allowed host, no secret: the collation is refused, the plugin stays
    // loaded, the search answers.
    let portal = start(
        &format!(
            "    incidents:\n      config: {{ api_base_url: \"{}\" }}\n",
            pagerduty.url()
        ),
        "",
    );
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("incidents.wasm"),
        "incidents.wasm",
    );
    wait_loaded(&portal, "incidents.wasm", "1.0.0");
    wait_for(WAIT, || {
        portal.log().contains("collation failed").then_some(())
    })
    .unwrap_or_else(|| panic!("no failed collation logged; log:\n{}", portal.log()));
    assert_eq!(
        pagerduty.server.request_count(),
        0,
        "it reached PagerDuty without a grant"
    );
    let found = search(&portal, "term=outage");
    assert!(found["results"].is_array(), "{found}");
    assert!(titles(&found).is_empty());
}
