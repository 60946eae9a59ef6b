//! The index end to end over in-memory sources: ranking tables, filters and
//! facets, docs sections, paging, hostile input, updates and rebuilds.

use super::*;
use portal_types::docs::{DocsPage, DocsPageEntry, DocsSite};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

/// Sites by key: the record and its pages.
type SiteMap = BTreeMap<String, (Arc<DocsSite>, Vec<DocsPage>)>;

#[derive(Default)]
struct Memory {
    entities: Mutex<BTreeMap<String, Vec<u8>>>,
    sites: Mutex<SiteMap>,
}

impl Sources for Memory {
    fn for_each_entity(&self, visit: &mut dyn FnMut(&[u8])) {
        for body in self.entities.lock().unwrap().values() {
            visit(body);
        }
    }
    fn entity(&self, entity_ref: &str) -> Option<Vec<u8>> {
        self.entities.lock().unwrap().get(entity_ref).cloned()
    }
    fn site_keys(&self) -> Vec<String> {
        self.sites.lock().unwrap().keys().cloned().collect()
    }
    fn site(&self, key: &str) -> Option<Arc<DocsSite>> {
        self.sites.lock().unwrap().get(key).map(|s| s.0.clone())
    }
    fn page(&self, key: &str, path: &str) -> Option<DocsPage> {
        let sites = self.sites.lock().unwrap();
        sites.get(key)?.1.iter().find(|p| p.path == path).cloned()
    }
}

impl Memory {
    fn put(&self, mut entity: Value) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        entity.to_string().hash(&mut h);
        entity["metadata"]["etag"] = format!("{:x}", h.finish()).into();
        let kind = entity["kind"].as_str().unwrap();
        let ns = entity["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default");
        let name = entity["metadata"]["name"].as_str().unwrap();
        let r = format!("{kind}:{ns}/{name}").to_lowercase();
        self.entities
            .lock()
            .unwrap()
            .insert(r.clone(), serde_json::to_vec(&entity).unwrap());
        r
    }

    fn put_site(&self, key: &str, etag: &str, pages: Vec<(&str, &str, &str)>) {
        let pages: Vec<DocsPage> = pages
            .into_iter()
            .map(|(path, title, html)| DocsPage {
                path: path.into(),
                title: title.into(),
                html: html.into(),
                toc: Vec::new(),
                text: String::new(),
                edit_url: None,
            })
            .collect();
        let site = DocsSite {
            site_name: key.into(),
            site_description: None,
            repo_url: None,
            edit_uri: None,
            nav: Vec::new(),
            pages: pages
                .iter()
                .map(|p| DocsPageEntry {
                    path: p.path.clone(),
                    title: p.title.clone(),
                    source: "x.md".into(),
                })
                .collect(),
            assets: Vec::new(),
            problems: Vec::new(),
            build_timestamp: 1,
            etag: etag.into(),
            includes: Vec::new(),
        };
        self.sites
            .lock()
            .unwrap()
            .insert(key.into(), (Arc::new(site), pages));
    }
}

fn component(name: &str, title: Option<&str>, description: &str, owner: &str) -> Value {
    let mut metadata = json!({ "name": name, "description": description, "tags": ["java"] });
    if let Some(t) = title {
        metadata["title"] = t.into();
    }
    json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": metadata,
        "spec": { "type": "service", "lifecycle": "production", "owner": owner },
    })
}

fn organisation() -> Arc<Memory> {
    let m = Arc::new(Memory::default());
    m.put(component("payments", None, "Takes the money.", "team-a"));
    m.put(component(
        "payments-api-gateway",
        None,
        "Routes payments to payments backends.",
        "team-a",
    ));
    m.put(component(
        "ledger",
        None,
        "payments payments payments everywhere, payments",
        "team-b",
    ));
    m.put(component(
        "svc-123",
        Some("Order Service"),
        "Orders.",
        "team-b",
    ));
    m.put(component(
        "checkout",
        None,
        "Runs the checkout flow for carts.",
        "group:default/team-c",
    ));
    m.put(component(
        "cart",
        None,
        "The flow of checkout, reversed.",
        "team-c",
    ));
    m.put(component("auth", None, "Sign-in.", "team-a"));
    m.put(json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "API",
        "metadata": { "name": "payments-api", "description": "The payments REST API", "tags": ["rest"],
                      "annotations": { "github.com/project-slug": "o/r" } },
        "spec": { "type": "openapi", "lifecycle": "experimental", "owner": "team-a", "definition": "x" },
    }));
    m.put(json!({
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": { "name": "rust-service", "title": "Rust service", "description": "Creates a Rust service", "tags": ["rust"] },
        "spec": { "type": "service", "owner": "team-a", "steps": [] },
    }));
    m.put_site(
        "default/component/payments",
        "e1",
        vec![
            (
                "",
                "Payments",
                "<h1 id=\"payments\">Payments<a class=\"headerlink\" href=\"#payments\">¶</a></h1><p>Overview of the service.</p>\
                 <h2 id=\"refunds\">Refunds</h2><p>How a refund is issued to the customer &amp; logged.</p>",
            ),
            (
                "guide/setup/",
                "Setup",
                "<h1 id=\"setup\">Setup</h1><p>Install the reconciliation daemon.</p>",
            ),
        ],
    );
    m
}

fn open(m: &Arc<Memory>) -> (tempfile::TempDir, Search) {
    let dir = tempfile::tempdir().unwrap();
    let search = Search::open(dir.path(), m.clone()).unwrap();
    assert!(search.wait_idle(Duration::from_secs(20)));
    (dir, search)
}

fn q(term: &str) -> SearchQuery {
    SearchQuery {
        term: term.into(),
        ..Default::default()
    }
}

fn titles(r: &SearchResults) -> Vec<String> {
    r.results
        .iter()
        .map(|r| r.document_fields()["title"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn ranking_table() {
    let m = organisation();
    let (_dir, s) = open(&m);
    // (term, expected first title, titles that must be among the results, titles that must not)
    let table: &[(&str, &str, &[&str], &[&str])] = &[
        // An exact name beats a description that repeats the word.
        (
            "payments",
            "payments",
            &["payments-api", "ledger"],
            &["auth"],
        ),
        ("Payments", "payments", &[], &[]),
        // An exact name of several words, however punctuated.
        (
            "payments api",
            "payments-api",
            &["payments-api-gateway"],
            &["ledger"],
        ),
        ("payments-api", "payments-api", &[], &[]),
        // An exact title.
        ("order service", "Order Service", &[], &["payments"]),
        // Typos: one edit at 4-7 characters, two from 8.
        ("paymnts", "payments", &["payments-api"], &[]),
        ("pamyents", "payments", &[], &[]),
        ("ledgr", "ledger", &[], &[]),
        ("chekcout", "checkout", &[], &[]),
        // Prefixes of name and title words.
        (
            "paym",
            "payments",
            &["payments-api", "payments-api-gateway"],
            &[],
        ),
        ("ord serv", "Order Service", &[], &[]),
        // Keywords: owner, tags, spec.type, annotation keys.
        ("project slug", "payments-api", &[], &["payments"]),
        // Docs sections.
        ("refund", "Refunds", &[], &[]),
        ("reconciliation daemon", "Setup", &[], &[]),
        // Templates.
        ("rust service", "Rust service", &[], &[]),
    ];
    for (term, first, among, not) in table {
        let r = s.query(&q(term)).unwrap();
        let t = titles(&r);
        assert_eq!(t.first().map(String::as_str), Some(*first), "{term}: {t:?}");
        for a in *among {
            assert!(t.iter().any(|x| x == a), "{term}: {a} missing from {t:?}");
        }
        for n in *not {
            assert!(!t.iter().any(|x| x == n), "{term}: {n} unexpected in {t:?}");
        }
    }
    // No typo tolerance for short words, nor beyond the distance.
    for term in ["ath", "pymnts", "zzzzzz", "apu"] {
        let r = s.query(&q(term)).unwrap();
        assert!(
            !titles(&r).iter().any(|t| t == "auth" || t == "payments"),
            "{term}: {:?}",
            titles(&r)
        );
    }
    assert_eq!(titles(&s.query(&q("auht")).unwrap()), ["auth"]);
}

#[test]
fn phrases_match_in_order() {
    let m = organisation();
    let (_dir, s) = open(&m);
    let r = s.query(&q("\"checkout flow\"")).unwrap();
    assert_eq!(titles(&r), ["checkout"]);
    let r = s.query(&q("checkout flow")).unwrap();
    assert_eq!(titles(&r).len(), 2, "{:?}", titles(&r));
    // An unclosed quote is a phrase to the end.
    let r = s.query(&q("\"flow of checkout")).unwrap();
    assert_eq!(titles(&r), ["cart"]);
}

#[test]
fn filters_types_and_facets() {
    let m = organisation();
    let (_dir, s) = open(&m);
    let mut query = q("payments");
    let all = s.query(&query).unwrap();
    let kinds: BTreeMap<_, _> = all.facets["kind"]
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    // Three components, and three docs sections of one (the entity's name
    // is a keyword of its docs).
    assert_eq!(kinds.get("component"), Some(&6), "{kinds:?}");
    assert_eq!(kinds.get("api"), Some(&1));
    let types: BTreeMap<_, _> = all.facets["types"]
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    assert_eq!(types.get("techdocs"), Some(&3), "{types:?}");
    assert_eq!(all.number_of_results, 7);

    query.filters.insert("kind".into(), vec!["API".into()]);
    assert_eq!(titles(&s.query(&query).unwrap()), ["payments-api"]);
    query
        .filters
        .insert("kind".into(), vec!["api".into(), "component".into()]);
    query.filters.insert("owner".into(), vec!["team-b".into()]);
    assert_eq!(titles(&s.query(&query).unwrap()), ["ledger"]);
    // Owners match however they are written.
    let mut by_owner = q("");
    by_owner
        .filters
        .insert("owner".into(), vec!["group:default/team-c".into()]);
    assert_eq!(s.query(&by_owner).unwrap().number_of_results, 2);
    let mut by_tag = q("");
    by_tag.filters.insert("tags".into(), vec!["rest".into()]);
    assert_eq!(titles(&s.query(&by_tag).unwrap()), ["payments-api"]);
    let mut lifecycle = q("payments");
    lifecycle
        .filters
        .insert("lifecycle".into(), vec!["experimental".into()]);
    assert_eq!(titles(&s.query(&lifecycle).unwrap()), ["payments-api"]);
    let mut spec_type = q("");
    spec_type
        .filters
        .insert("type".into(), vec!["openapi".into()]);
    assert_eq!(titles(&s.query(&spec_type).unwrap()), ["payments-api"]);

    let mut docs = q("payments");
    docs.types = vec![TECHDOCS.into()];
    let r = s.query(&docs).unwrap();
    assert!(r.results.iter().all(|r| r.doc_type == TECHDOCS));
    assert_eq!(r.number_of_results, 3);
    let mut templates = q("");
    templates.types = vec![SOFTWARE_TEMPLATE.into()];
    let r = s.query(&templates).unwrap();
    assert_eq!(titles(&r), ["Rust service"]);
    assert_eq!(
        r.results[0].document_fields()["location"],
        "/create/templates/default/rust-service"
    );
}

#[test]
fn documents_highlights_and_locations() {
    let m = organisation();
    let (_dir, s) = open(&m);
    let r = s.query(&q("refnd")).unwrap();
    let hit = &r.results[0];
    assert_eq!(hit.doc_type, TECHDOCS);
    assert_eq!(
        hit.document_fields()["location"],
        "/docs/default/component/payments#refunds"
    );
    assert_eq!(hit.document_fields()["entityTitle"], "payments");
    assert_eq!(hit.document_fields()["owner"], "group:default/team-a");
    // Two edits from `refnd`: the text's `refund` is marked, not the title.
    assert_eq!(hit.highlight.fields["title"], "Refunds");
    assert_eq!(
        hit.highlight.fields["text"],
        "How a <mark>refund</mark> is issued to the customer &amp; logged."
    );
    // The page's first heading leads to the page itself.
    let r = s.query(&q("reconciliation")).unwrap();
    assert_eq!(
        r.results[0].document_fields()["location"],
        "/docs/default/component/payments/guide/setup/"
    );
    let r = s.query(&q("payments")).unwrap();
    let first = &r.results[0];
    assert_eq!(first.doc_type, SOFTWARE_CATALOG);
    assert_eq!(first.rank, 1);
    assert_eq!(
        first.document_fields()["location"],
        "/catalog/default/component/payments"
    );
    assert_eq!(first.document_fields()["kind"], "Component");
    assert_eq!(first.document_fields()["type"], "service");
    assert_eq!(first.document_fields()["lifecycle"], "production");
    let json = serde_json::to_value(&r).unwrap();
    for key in ["results", "numberOfResults", "facets", "ready"] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["results"][0]["highlight"]["preTag"], "<mark>");
    assert_eq!(json["results"][0]["type"], "software-catalog");
}

/// The answer's document is the stored JSON spliced with its text, not
/// parsed and written again: quotes, backslashes, control characters and
/// non-ASCII in either survive as valid JSON.
#[test]
fn answer_documents_are_valid_json_whatever_they_hold() {
    let m = Arc::new(Memory::default());
    let awkward = "Say \"hi\" \\ to\tthe café\n{\"text\":1} \u{1F600}";
    m.put(component("quoted", Some(awkward), awkward, "team-a"));
    m.put(component("bare", None, "", "team-a"));
    let (_dir, s) = open(&m);
    let r = s.query(&q("quoted")).unwrap();
    let json: Value = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    let document = &json["results"][0]["document"];
    assert_eq!(document["title"], awkward);
    assert_eq!(document["text"], awkward);
    assert_eq!(document["name"], "quoted");
    assert!(document.get("doctype").is_none(), "{document}");
    assert_eq!(json["results"][0]["type"], SOFTWARE_CATALOG);
    let r = s.query(&q("bare")).unwrap();
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["results"][0]["document"]["text"], "");
    assert_eq!(json["results"][0]["document"]["title"], "bare");
    let suggestion = &s.suggest("quot", 5).unwrap()[0];
    assert_eq!(suggestion.title, awkward);
    assert_eq!(suggestion.kind.as_deref(), Some("Component"));
}

#[test]
fn paging_with_cursors() {
    let m = Arc::new(Memory::default());
    for i in 0..45 {
        m.put(component(
            &format!("svc-{i:02}"),
            None,
            "common words",
            "team-a",
        ));
    }
    let (_dir, s) = open(&m);
    let mut query = q("common");
    query.page_limit = Some(20);
    let p1 = s.query(&query).unwrap();
    assert_eq!((p1.results.len(), p1.number_of_results), (20, 45));
    assert!(p1.previous_page_cursor.is_none());
    query.page_cursor = p1.next_page_cursor.clone();
    let p2 = s.query(&query).unwrap();
    assert_eq!(p2.results[0].rank, 21);
    query.page_cursor = p2.next_page_cursor.clone();
    let p3 = s.query(&query).unwrap();
    assert_eq!(p3.results.len(), 5);
    assert!(p3.next_page_cursor.is_none());
    query.page_cursor = p3.previous_page_cursor.clone();
    assert_eq!(s.query(&query).unwrap().results[0].rank, 21);
    let mut seen: Vec<String> = titles(&p1);
    seen.extend(titles(&p2));
    seen.extend(titles(&p3));
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 45);
    query.page_limit = Some(0);
    assert!(matches!(
        s.query(&query),
        Err(SearchError::InvalidPageLimit { .. })
    ));
}

#[test]
fn hostile_queries_are_refused_or_bounded() {
    let m = organisation();
    let (_dir, s) = open(&m);
    let started = Instant::now();
    // Refused, saying why.
    let huge = "a".repeat(1 << 20);
    let many = vec!["word"; 10_000].join(" ");
    let sixteen_plus = vec!["w"; MAX_WORDS + 1].join(" ");
    for (term, why) in [
        (huge.as_str(), "characters long"),
        (many.as_str(), "characters long"),
        (sixteen_plus.as_str(), "words"),
    ] {
        let e = s.query(&q(term)).unwrap_err();
        assert!(e.is_input() && e.to_string().contains(why), "{e}");
        assert!(s.suggest(term, 8).unwrap_err().is_input());
    }
    let mut bad_filter = q("x");
    bad_filter
        .filters
        .insert("metadata.uid".into(), vec!["1".into()]);
    assert!(matches!(
        s.query(&bad_filter),
        Err(SearchError::UnknownFilter(_))
    ));
    let mut bad_cursor = q("x");
    bad_cursor.page_cursor = Some("not-a-cursor".into());
    assert!(s.query(&bad_cursor).unwrap_err().is_input());
    // Query syntax is only punctuation: bounded answers, never an error.
    for term in [
        "title:payments",
        "name:* OR 1=1",
        "*",
        "pay*",
        "payments~2",
        "payments^100",
        "\"unbalanced",
        "(((",
        ")))",
        "[a TO z]",
        "/.*/",
        "(a+)+$",
        "((a|a)*)*b",
        "\\",
        "-payments",
        "+payments",
        "payments AND NOT auth",
        "\u{0}\u{202e}",
        "💳 payments",
    ] {
        let r = s.query(&q(term)).unwrap_or_else(|e| panic!("{term}: {e}"));
        assert!(r.results.len() <= DEFAULT_PAGE_LIMIT, "{term}");
        s.suggest(term, 8).unwrap();
    }
    // The typo machinery at its bounds: 16 long misspelt words (each one a
    // Levenshtein automaton over every field's dictionary, the first six),
    // and a misspelt whole term just under the 64 characters of the
    // whole-name automaton (past them, none is built).
    let misspelt: Vec<String> = (0..MAX_WORDS)
        .map(|i| format!("pamyentsxqzw{}", "k".repeat(12 + i / 2)))
        .collect();
    let just_under = format!("{} {}", "pamyents".repeat(4), "ledgre".repeat(5));
    for term in [misspelt.join(" "), just_under] {
        let t = Instant::now();
        let r = s.query(&q(&term)).unwrap();
        assert_eq!(r.number_of_results, 0, "{term}");
        s.suggest(&term, 8).unwrap();
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{term}: {:?}",
            t.elapsed()
        );
    }
    // `title:payments` is two words, not a field query.
    let r = s.query(&q("title:payments")).unwrap();
    assert_eq!(r.number_of_results, 0);
    // Highlights never pass markup through.
    m.put(component(
        "xss",
        Some("<script>alert(1)</script>"),
        "<img src=x onerror=alert(1)>",
        "team-a",
    ));
    s.entities_changed(vec!["component:default/xss".into()]);
    assert!(s.wait_idle(Duration::from_secs(5)));
    let r = s.query(&q("script alert")).unwrap();
    let h = &r.results[0].highlight.fields;
    assert_eq!(
        h["title"],
        "&lt;<mark>script</mark>&gt;<mark>alert</mark>(1)&lt;/<mark>script</mark>&gt;"
    );
    assert!(
        !h["text"].contains('<')
            || !h["text"]
                .replace("<mark>", "")
                .replace("</mark>", "")
                .contains('<')
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn suggestions() {
    let m = organisation();
    let (_dir, s) = open(&m);
    let top = s.suggest("paym", 8).unwrap();
    assert_eq!(top[0].title, "payments", "{top:?}");
    assert!(top.len() <= 8);
    assert_eq!(top[0].highlight, "<mark>payments</mark>");
    assert_eq!(top[0].location, "/catalog/default/component/payments");
    let top = s.suggest("chekcout", 8).unwrap();
    assert_eq!(top[0].title, "checkout");
    assert_eq!(
        s.suggest("rust serv", 8).unwrap()[0].doc_type,
        SOFTWARE_TEMPLATE
    );
    assert!(s.suggest("", 8).unwrap().is_empty());
    // Descriptions are not suggested from.
    assert!(s.suggest("money", 8).unwrap().is_empty());
}

#[test]
fn changes_are_searchable_at_once() {
    let m = organisation();
    let (_dir, s) = open(&m);
    let r = m.put(component("brand-new", None, "Fresh.", "team-a"));
    let started = Instant::now();
    s.entities_changed(vec![r.clone()]);
    assert!(s.wait_idle(Duration::from_secs(2)));
    assert!(started.elapsed() < Duration::from_millis(1500));
    assert_eq!(titles(&s.query(&q("brand new")).unwrap()), ["brand-new"]);
    // Edited.
    m.put(component(
        "brand-new",
        Some("Renamed thing"),
        "Fresh.",
        "team-a",
    ));
    s.entities_changed(vec![r.clone()]);
    assert!(s.wait_idle(Duration::from_secs(2)));
    assert_eq!(titles(&s.query(&q("renamed")).unwrap()), ["Renamed thing"]);
    // Removed.
    m.entities.lock().unwrap().remove(&r);
    s.entities_changed(vec![r]);
    assert!(s.wait_idle(Duration::from_secs(2)));
    assert_eq!(s.query(&q("renamed")).unwrap().number_of_results, 0);
    // A docs page added, then the site removed.
    m.put_site(
        "default/component/payments",
        "e2",
        vec![(
            "",
            "Payments",
            "<h1 id=\"p\">Payments</h1><p>Chargebacks explained.</p>",
        )],
    );
    s.sites_changed(vec!["default/component/payments".into()]);
    assert!(s.wait_idle(Duration::from_secs(2)));
    assert_eq!(s.query(&q("chargebacks")).unwrap().number_of_results, 1);
    assert_eq!(s.query(&q("refund")).unwrap().number_of_results, 0);
    m.sites.lock().unwrap().clear();
    s.sites_changed(vec!["default/component/payments".into()]);
    assert!(s.wait_idle(Duration::from_secs(2)));
    assert_eq!(s.query(&q("chargebacks")).unwrap().number_of_results, 0);
    // An entity's edit reaches its docs (the owner filter).
    m.put_site(
        "default/component/payments",
        "e3",
        vec![("", "Payments", "<p>Disputes.</p>")],
    );
    s.sites_changed(vec!["default/component/payments".into()]);
    m.put(component("payments", None, "Takes the money.", "team-z"));
    s.entities_changed(vec!["component:default/payments".into()]);
    assert!(s.wait_idle(Duration::from_secs(2)));
    let mut owned = q("disputes");
    owned.filters.insert("owner".into(), vec!["team-z".into()]);
    assert_eq!(s.query(&owned).unwrap().number_of_results, 1);
}

#[test]
fn reopening_reconciles_and_old_schemas_are_rebuilt() {
    let m = organisation();
    let dir = tempfile::tempdir().unwrap();
    {
        let s = Search::open(dir.path(), m.clone()).unwrap();
        assert!(s.wait_idle(Duration::from_secs(20)));
        assert!(s.status().documents > 5);
    }
    // Changed while the portal was down: found at the next start.
    m.put(component("while-down", None, "Added offline.", "team-a"));
    m.entities.lock().unwrap().remove("component:default/auth");
    {
        let s = Search::open(dir.path(), m.clone()).unwrap();
        assert!(s.wait_idle(Duration::from_secs(20)));
        assert_eq!(titles(&s.query(&q("while down")).unwrap()), ["while-down"]);
        assert_eq!(s.query(&q("auth")).unwrap().number_of_results, 0);
        assert_eq!(s.status().schema_version, SCHEMA_VERSION);
    }
    // An index of an older schema is deleted and rebuilt; so is a broken one.
    let old = dir.path().join("v0");
    std::fs::create_dir_all(&old).unwrap();
    std::fs::write(old.join("meta.json"), "{}").unwrap();
    let current = dir.path().join(format!("v{SCHEMA_VERSION}"));
    std::fs::write(current.join("meta.json"), "not json").unwrap();
    let s = Search::open(dir.path(), m.clone()).unwrap();
    assert!(!old.exists());
    assert!(s.wait_idle(Duration::from_secs(20)));
    assert_eq!(titles(&s.query(&q("while down")).unwrap()), ["while-down"]);
}

#[test]
fn queries_answer_while_the_index_is_built() {
    let m = Arc::new(Memory::default());
    for i in 0..3000 {
        m.put(component(&format!("bulk-{i}"), None, "bulk", "team-a"));
    }
    let dir = tempfile::tempdir().unwrap();
    let s = Search::open(dir.path(), m.clone()).unwrap();
    // Whatever the state, an answer comes at once.
    let r = s.query(&q("bulk")).unwrap();
    assert!(r.ready || r.number_of_results <= 3000);
    assert!(s.wait_idle(Duration::from_secs(30)));
    let r = s.query(&q("bulk")).unwrap();
    assert!(r.ready);
    assert_eq!(r.number_of_results, 3000);
}

#[test]
fn collated_documents_are_found_filtered_replaced_and_kept_across_a_reopen() {
    let m = organisation();
    let dir = tempfile::tempdir().unwrap();
    let doc = |title: &str, status: &str| CollatedDocument {
        title: title.into(),
        text: format!("{title} on the checkout service"),
        location: "https://pd.example.com/incidents/1".into(),
        fields: vec![
            ("status".into(), status.into()),
            ("urgency".into(), "high".into()),
        ],
    };
    {
        let s = Search::open(dir.path(), m.clone()).unwrap();
        assert!(s.wait_idle(Duration::from_secs(20)));
        s.replace_collated(
            "incidents",
            vec![
                doc("Checkout latency spike", "triggered"),
                doc("Disk full", "resolved"),
            ],
        );
        assert!(s.wait_idle(Duration::from_secs(5)));
        let mut typo = q("chekout latncy");
        typo.types = vec!["incidents".into()];
        let found = s.query(&typo).unwrap();
        assert_eq!(titles(&found), ["Checkout latency spike"]);
        assert_eq!(found.results[0].doc_type, "incidents");
        assert_eq!(found.results[0].document_fields()["status"], "triggered");
        let mut resolved = q("checkout");
        resolved
            .filters
            .insert("status".into(), vec!["resolved".into()]);
        assert_eq!(titles(&s.query(&resolved).unwrap()), ["Disk full"]);
        assert_eq!(s.collated_types(), ["incidents"]);
        // Replaced whole by the next collation.
        s.replace_collated("incidents", vec![doc("Queue backlog", "acknowledged")]);
        assert!(s.wait_idle(Duration::from_secs(5)));
        assert!(titles(&s.query(&q("checkout latency")).unwrap()).is_empty());
        assert_eq!(titles(&s.query(&q("backlog")).unwrap()), ["Queue backlog"]);
    }
    // Reopened: reconciling with the sources keeps them (the collator
    // replaces them); none removes them.
    let s = Search::open(dir.path(), m.clone()).unwrap();
    assert!(s.wait_idle(Duration::from_secs(20)));
    assert_eq!(titles(&s.query(&q("backlog")).unwrap()), ["Queue backlog"]);
    s.replace_collated("incidents", Vec::new());
    assert!(s.wait_idle(Duration::from_secs(5)));
    assert!(titles(&s.query(&q("backlog")).unwrap()).is_empty());
    assert!(s.collated_types().is_empty());
}

/// A word found as typed in a page of documents is what was meant: its
/// typo neighbours are not added (they would only fill the tail and cost
/// a dictionary scan per field). A rare or absent word is widened.
#[test]
fn typos_widen_only_rare_words() {
    let m = Arc::new(Memory::default());
    for i in 0..30 {
        m.put(component(
            &format!("svc-{i}"),
            None,
            "Sits behind the router.",
            "team-a",
        ));
    }
    m.put(component("routes", None, "Maps paths.", "team-b"));
    m.put(component("ledger", None, "Books.", "team-b"));
    m.put(component("ledgers", None, "More books.", "team-b"));
    let (_dir, s) = open(&m);
    let found = |term: &str| {
        s.query(&SearchQuery {
            term: term.into(),
            page_limit: Some(100),
            ..Default::default()
        })
        .unwrap()
    };
    // `router` is in 30 descriptions: `routes` (one edit) is not added.
    let router = found("router");
    assert_eq!(router.number_of_results, 30, "{:?}", titles(&router));
    assert!(!titles(&router).contains(&"routes".to_owned()));
    // A typo of it, in no document, finds them (and highlights the variant).
    let typo = found("ruoter");
    assert!(typo.number_of_results >= 30, "{:?}", titles(&typo));
    assert!(
        typo.results[0].highlight.fields["text"].contains("<mark>router</mark>"),
        "{:?}",
        typo.results[0].highlight
    );
    // `ledger` is in two documents: rare, so `ledgers` (a prefix) and a
    // typo neighbour both count.
    assert_eq!(titles(&found("ledger"))[0], "ledger");
    assert!(titles(&found("ledgre")).contains(&"ledger".to_owned()));
}
