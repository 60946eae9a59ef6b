//! Search end to end: a real `portal serve` reading catalog files and a
//! docs tree on disk. Entities and docs pages added, edited and removed on
//! disk are found (or gone) within 2 s; the API answers in Backstage's
//! shape; hostile queries get a 400 naming the cause or a bounded answer.

use portal_tests::{PortalProcess, wait_for};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

const START: Duration = Duration::from_secs(60);
/// What the issue promises for an edit.
const FRESH: Duration = Duration::from_secs(2);

fn write(root: &Path, rel: &str, text: &str) {
    portal_tests::write_file(root, rel, text);
}

fn component(name: &str, title: &str, description: &str, owner: &str) -> String {
    format!(
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\n  title: {title}\n  description: {description}\n  tags: [java]\nspec:\n  type: service\n  lifecycle: production\n  owner: {owner}\n"
    )
}

fn write_org(root: &Path) {
    write(
        root,
        "payments/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: payments\n  description: Takes the money.\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    );
    write(
        root,
        "payments/mkdocs.yml",
        "site_name: Payments\nnav:\n  - Home: index.md\n  - Refunds: refunds.md\n",
    );
    write(
        root,
        "payments/docs/index.md",
        "# Payments\n\nThe payments service.\n",
    );
    write(
        root,
        "payments/docs/refunds.md",
        "# Refunds\n\nIntro.\n\n## Chargebacks\n\nA chargeback is disputed by the bank.\n",
    );
    write(
        root,
        "ledger/catalog-info.yaml",
        &component("ledger", "Ledger", "Double-entry bookkeeping.", "team-b"),
    );
    write(
        root,
        "templates/template.yaml",
        "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: rust-service\n  title: Rust service\n  description: Creates a Rust service\n  tags: [rust]\nspec:\n  type: service\n  owner: team-a\n  steps: []\n",
    );
}

fn portal(root: &Path) -> PortalProcess {
    let config = format!(
        "catalog:\n  refresh_interval_seconds: 3600\n  locations:\n    - type: file\n      target: {}/*/catalog-info.yaml\n    - type: file\n      target: {}\n",
        root.display(),
        root.join("templates/template.yaml").display()
    );
    PortalProcess::start(&config).expect("portal starts")
}

fn search(portal: &PortalProcess, query: &str) -> Value {
    let response = portal
        .get(&format!("/api/search/query?{query}"))
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "{query}");
    response.json().unwrap()
}

fn titles(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["document"]["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Waits until `query`'s answer satisfies `check`; panics after `within`.
fn until(
    portal: &PortalProcess,
    within: Duration,
    what: &str,
    query: &str,
    check: impl Fn(&Value) -> bool,
) -> Duration {
    let started = Instant::now();
    wait_for(within, || Some(search(portal, query)).filter(|a| check(a))).unwrap_or_else(|| {
        panic!(
            "{what}: not within {within:?}; last answer {}\nstatus {}\nlog:\n{}",
            search(portal, query),
            portal.get_json("/api/search/status").unwrap_or_default(),
            portal.log()
        )
    });
    started.elapsed()
}

fn ready(portal: &PortalProcess) {
    let found = wait_for(START, || {
        let s = portal.get_json("/api/search/status").ok()?;
        let a = search(portal, "term=refunds");
        (s["ready"] == true && s["pending"] == 0 && a["numberOfResults"].as_u64()? > 0)
            .then_some(())
    });
    assert!(
        found.is_some(),
        "the index never got ready: {}\n{}",
        portal.get_json("/api/search/status").unwrap_or_default(),
        portal.log()
    );
}

#[test]
fn entities_docs_and_templates_are_found_in_backstage_shape() {
    let dir = tempfile::tempdir().unwrap();
    write_org(dir.path());
    let portal = portal(dir.path());
    ready(&portal);

    // Exact name first, then prefix and typo matches.
    let a = search(&portal, "term=payments");
    assert_eq!(titles(&a)[0], "payments", "{a}");
    let first = &a["results"][0];
    assert_eq!(first["type"], "software-catalog");
    assert_eq!(first["rank"], 1);
    assert_eq!(
        first["document"]["location"],
        "/catalog/default/component/payments"
    );
    assert_eq!(first["document"]["kind"], "Component");
    assert_eq!(first["document"]["owner"], "group:default/team-a");
    assert_eq!(first["document"]["text"], "Takes the money.");
    assert_eq!(first["highlight"]["preTag"], "<mark>");
    assert_eq!(first["highlight"]["postTag"], "</mark>");
    assert_eq!(
        first["highlight"]["fields"]["title"],
        "<mark>payments</mark>"
    );
    assert!(a["numberOfResults"].as_u64().unwrap() >= 2);
    assert_eq!(a["ready"], true);
    assert!(a["facets"]["types"].is_array());
    assert_eq!(titles(&search(&portal, "term=paymnts"))[0], "payments");
    assert_eq!(titles(&search(&portal, "term=ledg"))[0], "Ledger");

    // A docs section leads to its heading.
    let a = search(&portal, "term=chargeback");
    assert_eq!(a["results"][0]["type"], "techdocs", "{a}");
    assert_eq!(
        a["results"][0]["document"]["location"],
        "/docs/default/component/payments/refunds/#chargebacks"
    );
    // A template leads to its form.
    let a = search(
        &portal,
        "term=rust%20service&types%5B0%5D=software-template",
    );
    assert_eq!(
        a["results"][0]["document"]["location"], "/create/templates/default/rust-service",
        "{a}"
    );
    assert_eq!(a["numberOfResults"], 1);
    // Types and filters, in each of Backstage's spellings.
    let a = search(&portal, "term=&types[]=techdocs");
    assert!(titles(&a).len() >= 2);
    assert!(
        a["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["type"] == "techdocs")
    );
    let a = search(&portal, "term=&filters%5Bowner%5D=team-b");
    assert_eq!(titles(&a), ["Ledger"]);
    let a = search(
        &portal,
        "filters[kind]=component&filters[lifecycle]=production&types=software-catalog",
    );
    assert_eq!(a["numberOfResults"], 2, "{a}");
    // Paging with the opaque cursor.
    let a = search(&portal, "pageLimit=1");
    let next = a["nextPageCursor"].as_str().unwrap().to_owned();
    assert!(a.get("previousPageCursor").is_none());
    let b = search(&portal, &format!("pageLimit=1&pageCursor={next}"));
    assert_eq!(b["results"][0]["rank"], 2);
    assert!(b["previousPageCursor"].is_string());
    assert_ne!(titles(&a), titles(&b));

    // Suggestions.
    let s = portal.get_json("/api/search/suggest?term=paym").unwrap();
    assert_eq!(s["results"][0]["title"], "payments", "{s}");
    assert_eq!(
        s["results"][0]["location"],
        "/catalog/default/component/payments"
    );
}

#[test]
fn edits_on_disk_are_searchable_within_two_seconds() {
    let dir = tempfile::tempdir().unwrap();
    write_org(dir.path());
    let portal = portal(dir.path());
    ready(&portal);

    // Added (a second document in a watched catalog file).
    let ledger = component("ledger", "Ledger", "Double-entry bookkeeping.", "team-b");
    let with = |extra: &str| format!("{ledger}---\n{extra}");
    write(
        dir.path(),
        "ledger/catalog-info.yaml",
        &with(&component(
            "billing",
            "Billing",
            "Sends invoices.",
            "team-a",
        )),
    );
    let took = until(&portal, FRESH, "added entity", "term=invoices", |a| {
        titles(a) == ["Billing"]
    });
    eprintln!("added: searchable after {took:?}");
    // Edited.
    write(
        dir.path(),
        "ledger/catalog-info.yaml",
        &with(&component(
            "billing",
            "Billing",
            "Sends reminders.",
            "team-a",
        )),
    );
    let took = until(&portal, FRESH, "edited entity", "term=reminders", |a| {
        titles(a) == ["Billing"]
    });
    eprintln!("edited: searchable after {took:?}");
    assert_eq!(search(&portal, "term=invoices")["numberOfResults"], 0);
    // Removed.
    write(dir.path(), "ledger/catalog-info.yaml", &ledger);
    let took = until(&portal, FRESH, "removed entity", "term=reminders", |a| {
        a["numberOfResults"] == 0
    });
    eprintln!("removed: gone after {took:?}");

    // A docs page added, edited, removed.
    write(
        dir.path(),
        "payments/docs/fees.md",
        "# Fees\n\nInterchange fees explained.\n",
    );
    let took = until(&portal, FRESH, "added page", "term=interchange", |a| {
        a["results"][0]["document"]["location"] == "/docs/default/component/payments/fees/"
    });
    eprintln!("docs page added: searchable after {took:?}");
    write(
        dir.path(),
        "payments/docs/fees.md",
        "# Fees\n\nSurcharges explained.\n",
    );
    until(&portal, FRESH, "edited page", "term=surcharges", |a| {
        a["numberOfResults"] == 1
    });
    assert_eq!(search(&portal, "term=interchange")["numberOfResults"], 0);
    std::fs::remove_file(dir.path().join("payments/docs/fees.md")).unwrap();
    until(&portal, FRESH, "removed page", "term=surcharges", |a| {
        a["numberOfResults"] == 0
    });

    // The index survives a restart and catches up with what changed meanwhile.
    let mut portal = portal;
    portal.kill();
    write(
        dir.path(),
        "ledger/catalog-info.yaml",
        &with(&component("audit", "Audit", "Keeps the trail.", "team-a")),
    );
    let portal = portal.restart().unwrap();
    until(&portal, START, "after restart", "term=trail", |a| {
        titles(a) == ["Audit"]
    });
    assert_eq!(titles(&search(&portal, "term=payments"))[0], "payments");
}

#[test]
fn hostile_queries_get_400_or_a_bounded_answer() {
    let dir = tempfile::tempdir().unwrap();
    write_org(dir.path());
    let portal = portal(dir.path());
    ready(&portal);
    let get = |query: &str| {
        let started = Instant::now();
        let r = portal
            .get(&format!("/api/search/query?{query}"))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let body: Value = r.json().unwrap_or(Value::Null);
        assert!(started.elapsed() < Duration::from_secs(2), "{query}: slow");
        (status, body)
    };
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    // Refused, naming the cause, in the API's error shape.
    let cases = [
        (format!("term={}", "a".repeat(20_000)), "characters long"),
        (
            format!("term={}", enc(&vec!["word"; 10_000].join(" "))),
            "characters long",
        ),
        (format!("term={}", enc(&vec!["w"; 40].join(" "))), "words"),
        (
            "term=x&filters[metadata.uid]=1".to_owned(),
            "unknown filter",
        ),
        ("term=x&pageLimit=1000".to_owned(), "pageLimit"),
        ("term=x&pageLimit=-1".to_owned(), "pageLimit"),
        ("term=x&pageCursor=bogus".to_owned(), "pageCursor"),
        (
            format!("term=x&filters[kind]={}", "k".repeat(300)),
            "characters long",
        ),
        ("a=1&".repeat(300), "too many query parameters"),
    ];
    for (query, why) in &cases {
        let (status, body) = get(query);
        assert_eq!(status, 400, "{}: {body}", &query[..query.len().min(60)]);
        assert_eq!(body["error"]["name"], "InputError");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(why), "{message}");
        assert_eq!(body["response"]["statusCode"], 400);
        assert_eq!(body["request"]["method"], "GET");
    }
    // A 1 MB term (sent by hand: HTTP clients refuse such URLs): refused
    // before or by the handler, or the connection closed; never a crash.
    {
        use std::io::{Read, Write};
        let addr = portal.url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let request = format!(
            "GET /api/search/query?term={} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n",
            "a".repeat(1 << 20)
        );
        let _ = stream.write_all(request.as_bytes());
        let mut response = Vec::new();
        let _ = stream.read_to_end(&mut response);
        let head = String::from_utf8_lossy(&response[..response.len().min(12)]).into_owned();
        assert!(head.is_empty() || head.starts_with("HTTP/1.1 4"), "{head}");
    }
    // Query syntax is only punctuation between words.
    for term in [
        "title:payments",
        "name:* OR 1=1",
        "*",
        "payments~2",
        "\"unbalanced",
        "(((",
        "(a+)+$",
        "((a|a)*)*b",
        "/.*/",
        "[a TO z]",
        "payments^1000",
        "\\",
    ] {
        let (status, body) = get(&format!("term={}", enc(term)));
        assert_eq!(status, 200, "{term}: {body}");
        assert!(body["results"].as_array().unwrap().len() <= 25, "{term}");
        let s = portal
            .get(&format!("/api/search/suggest?term={}", enc(term)))
            .send()
            .unwrap();
        assert_eq!(s.status().as_u16(), 200, "{term}");
    }
    assert_eq!(get("term=title%3Apayments").1["numberOfResults"], 0);
    // Still serving.
    assert_eq!(titles(&search(&portal, "term=ledger")), ["Ledger"]);
}
