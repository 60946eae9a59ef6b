//! `portal-bench search`: the catalog benchmark's synthetic organisation
//! (100k entities by default) plus documentation sites (10k pages by
//! default), then:
//!
//! 1. a portal ingests and builds everything (child process);
//! 2. a portal again: query and suggestion latency and throughput over HTTP
//!    at 16 connections;
//! 3. in this process, over the same stores (the portals stopped): the
//!    search index deleted and rebuilt from them (full build time, RSS
//!    before and after: the search part's memory, tantivy's on-disk size),
//!    and single-thread query times.

use crate::catalog::generate;
use crate::stats::{Summary, human};
use anyhow::bail;
use clap::Args;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct SearchArgs {
    /// Catalog entities in all.
    #[arg(long, default_value_t = 100_000)]
    pub entities: usize,
    /// Documentation pages in all (100 per site).
    #[arg(long, default_value_t = 10_000)]
    pub pages: usize,
    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
}

const WORDS: &[&str] = &[
    "deploy",
    "rollback",
    "latency",
    "budget",
    "incident",
    "runbook",
    "kafka",
    "postgres",
    "migration",
    "schema",
    "canary",
    "metrics",
    "alerting",
    "oncall",
    "retention",
    "backup",
    "restore",
    "token",
    "rotation",
    "secrets",
    "quota",
    "throttle",
    "cache",
    "invalidation",
    "replica",
    "failover",
    "sharding",
    "index",
    "pipeline",
    "artifact",
];

/// Sites of 100 pages: `docs/site-N/` with a catalog file (a component
/// documented with `dir:.`), mkdocs.yml and Markdown pages with sections.
fn generate_docs(dir: &Path, pages: usize) -> anyhow::Result<usize> {
    let per_site = 100.min(pages.max(1));
    let sites = pages.div_ceil(per_site);
    for s in 0..sites {
        let root = dir.join("docs").join(format!("site-{s}"));
        std::fs::create_dir_all(root.join("docs"))?;
        std::fs::write(
            root.join("catalog-info.yaml"),
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: documented-{s}\n  description: A documented service\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: group-{}\n",
                s % 20
            ),
        )?;
        let mut nav = String::from("site_name: Site {s}\nnav:\n");
        for p in 0..per_site {
            let _ = writeln!(nav, "  - Page {p}: page-{p}.md");
            let w = |k: usize| WORDS[(s * 7 + p * 13 + k * 3) % WORDS.len()];
            let mut md = format!("# {} {} guide {p}\n\n", w(0), w(1));
            for section in 0..4 {
                let _ = write!(
                    md,
                    "## {} {} {section}\n\nHow to {} the {} when {} {} happens on service {s}. \
                     Check the {} dashboard first, then the {} runbook; page the {} rotation if the {} persists.\n\n",
                    w(section + 2),
                    w(section + 5),
                    w(section + 3),
                    w(section + 4),
                    w(section + 6),
                    w(section + 7),
                    w(section + 8),
                    w(section + 9),
                    w(section + 10),
                    w(section + 11),
                );
            }
            std::fs::write(root.join("docs").join(format!("page-{p}.md")), md)?;
        }
        std::fs::write(root.join("mkdocs.yml"), nav)?;
    }
    Ok(sites)
}

fn rss_mib_self() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

async fn wait_json(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
    what: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(url).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && check(&v)
        {
            return Ok(started.elapsed());
        }
        if started.elapsed() > timeout {
            bail!("{what}: not within {timeout:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn run(args: SearchArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run it in release for real figures");
    }
    let dir = tempfile::tempdir()?;
    let catalog_dir = dir.path().join("catalog");
    let expected = generate(&catalog_dir, args.entities)?;
    let sites = generate_docs(&catalog_dir, args.pages)?;
    std::fs::write(
        catalog_dir.join("all.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: synthetic\nspec:\n  targets: [./org.yaml, ./systems/*.yaml, ./docs/*/catalog-info.yaml]\n",
    )?;
    let expected = expected + sites;
    eprintln!("generated {expected} entities and {sites} docs sites");
    let config = dir.path().join("portal.yaml");
    let data = dir.path().join("data");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\nplugins:\n  dir: {}\ncatalog:\n  locations:\n    - type: file\n      target: {}\n",
            data.display(),
            dir.path().join("plugins").display(),
            catalog_dir.join("all.yaml").display()
        ),
    )?;
    std::fs::create_dir_all(dir.path().join("plugins"))?;
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(args.connections)
        .build()?;

    // 1. Ingest, build the docs, index (a portal as users run it).
    {
        let child = crate::portal_process::PortalChild::start(&config, Stdio::inherit())?;
        let url = child.url.clone();
        let t = wait_json(
            &client,
            &format!("{url}/api/catalog/entities/by-query?limit=0"),
            Duration::from_secs(900),
            "ingest",
            |v| v["totalItems"].as_u64().unwrap_or(0) as usize >= expected,
        )
        .await?;
        eprintln!("ingested in {t:.1?}");
        let t = wait_json(
            &client,
            &format!("{url}/api/techdocs/status"),
            Duration::from_secs(900),
            "docs",
            |v| {
                v["items"]
                    .as_array()
                    .is_some_and(|a| a.len() >= sites && a.iter().all(|s| s["state"] == "built"))
            },
        )
        .await?;
        eprintln!("docs built after {t:.1?} more");
        let t = wait_json(
            &client,
            &format!("{url}/api/search/status"),
            Duration::from_secs(900),
            "search",
            |v| v["ready"] == true && v["pending"] == 0,
        )
        .await?;
        eprintln!("search current after {t:.1?} more");
        // Let the last incremental commits settle before stopping.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }

    // 2. Over HTTP, a portal on the same data (the index is current: no
    // rebuild). Stopped before the in-process build opens its stores.
    let mut report = String::new();
    {
        let child = crate::portal_process::PortalChild::start(&config, Stdio::inherit())?;
        let url = child.url.clone();
        wait_json(
            &client,
            &format!("{url}/api/search/status"),
            Duration::from_secs(600),
            "search",
            |v| v["ready"] == true && v["pending"] == 0,
        )
        .await?;
        // The catalog re-reads its locations at start (100k entities of
        // YAML): measured, that would be the catalog's start-up, not search.
        let t = settle_catalog(&client, &url).await?;
        eprintln!("catalog's start-up reading done after {t:.1?}");
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let terms = terms(args.entities);
        let scenarios: Vec<(&str, Vec<String>)> = vec![
        (
            "query: mixed terms (names, prefixes, typos, docs words, phrases)",
            terms
                .iter()
                .map(|t| format!("{url}/api/search/query?term={}", enc(t)))
                .collect(),
        ),
        (
            "query: one common word (thousands of hits)",
            vec![format!("{url}/api/search/query?term=rollback")],
        ),
        (
            "query: filtered (kind=component, owner, types[])",
            (0..50)
                .map(|i| {
                    format!(
                        "{url}/api/search/query?term=component&types[0]=software-catalog&filters[kind]=component&filters[owner]=group-{}",
                        i % 20
                    )
                })
                .collect(),
        ),
        (
            "suggest: prefixes as typed",
            terms
                .iter()
                .flat_map(|t| {
                    let t: String = t.chars().take(7).collect();
                    (3..=t.len()).map(move |n| t[..n].to_owned())
                })
                .map(|t| format!("{url}/api/search/suggest?term={}", enc(&t)))
                .collect(),
        ),
    ];
        let _ = writeln!(
            report,
            "\n## Over HTTP ({} connections, {} s each)\n\n| scenario | req/s | p50 | p99 | requests | errors |\n|---|---|---|---|---|---|",
            args.connections, args.seconds
        );
        for (name, urls) in scenarios {
            let l =
                crate::catalog::load(&client, args.connections, args.seconds, Arc::new(urls)).await;
            let line = l.row(name);
            eprintln!("{line}");
            let _ = writeln!(report, "{line}");
        }
        let _ = writeln!(
            report,
            "\nRSS of the portal after the load: {:.0} MiB",
            crate::catalog::rss_mib(child.pid())
        );
        drop(child);
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // 3. The full build, in this process, over the stores the portals left.
    {
        let portal_config = portal_config::Config::load(&config)?;
        let catalog = portal_server::stores::open_catalog(&portal_config)?;
        let techdocs = portal_techdocs::TechDocs::start(
            &data.join("techdocs"),
            portal_techdocs::BuildLimits::default(),
            None,
        )?;
        std::fs::remove_dir_all(data.join("search"))?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let before = rss_mib_self();
        let started = Instant::now();
        let search = portal_search::Search::open(
            &data.join("search"),
            Arc::new(portal_server::search_wiring::PortalSources {
                catalog: catalog.clone(),
                techdocs: techdocs.clone(),
            }),
        )?;
        let opened = started.elapsed();
        let s2 = search.clone();
        tokio::task::spawn_blocking(move || s2.wait_idle(Duration::from_secs(600))).await?;
        let build = started.elapsed();
        let status = search.status();
        let after = rss_mib_self();
        // Single-thread query times, in process.
        let terms = terms(args.entities);
        let mut samples = Vec::new();
        let mut per_term = vec![Duration::ZERO; terms.len()];
        for round in 0..3 {
            for (i, t) in terms.iter().enumerate() {
                let q = portal_search::SearchQuery {
                    term: t.clone(),
                    ..Default::default()
                };
                let started = Instant::now();
                search.query(&q)?;
                if round > 0 {
                    samples.push(started.elapsed());
                    per_term[i] += started.elapsed() / 2;
                }
            }
        }
        let in_process = Summary::of(samples);
        // Where to look next: the slowest terms.
        let mut slowest: Vec<(Duration, &String)> = per_term.into_iter().zip(&terms).collect();
        slowest.sort_by(|a, b| b.0.cmp(&a.0));
        let slowest: Vec<String> = slowest
            .iter()
            .take(5)
            .map(|(d, t)| format!("`{t}` {}", human(*d)))
            .collect();
        let after_queries = rss_mib_self();
        let _ = writeln!(
            report,
            "\n## Full index build ({} documents: {expected} entities, {} docs pages in {sites} sites)\n",
            status.documents, args.pages
        );
        let _ = writeln!(
            report,
            "- open: {} (start-up waits for nothing more)\n- build until ready: {:.2} s\n- index on disk: {:.1} MiB\n- RSS: {before:.0} MiB with the catalog and docs stores open, {after:.0} MiB after the build (+{:.0} MiB), {after_queries:.0} MiB after {} queries (+{:.0} MiB)\n- single-thread query: p50 {}, p99 {} ({} queries)",
            human(opened),
            build.as_secs_f64(),
            status.disk_bytes as f64 / (1 << 20) as f64,
            after - before,
            in_process.count,
            after_queries - before,
            human(in_process.median),
            human(in_process.p99),
            in_process.count,
        );
        let _ = writeln!(report, "- slowest terms (mean): {}", slowest.join(", "));
        eprint!("{report}");
        drop(search);
        catalog.flush()?;
    }

    println!("# portal-bench search{report}");
    Ok(())
}

/// Waits until the catalog has read its sources since it started and has
/// stopped (no processing, the read count still for a second).
async fn settle_catalog(client: &reqwest::Client, url: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut last = (usize::MAX, Instant::now());
    while started.elapsed() < Duration::from_secs(600) {
        let v: serde_json::Value = client
            .get(format!("{url}/api/catalog/sources"))
            .send()
            .await?
            .json()
            .await?;
        let reads = v["stats"]["reads"].as_u64().unwrap_or(0) as usize;
        let planned = v["stats"]["readsPlanned"].as_u64().unwrap_or(u64::MAX) as usize;
        let processing = v["stats"]["processing"].as_u64().unwrap_or(1);
        if reads != last.0 {
            last = (reads, Instant::now());
        } else if reads > 0
            && reads >= planned
            && processing == 0
            && last.1.elapsed() >= Duration::from_secs(1)
        {
            return Ok(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the catalog did not settle within 600 s")
}

/// Query terms: exact names, prefixes, typos, docs words, two-word and
/// phrase queries.
fn terms(entities: usize) -> Vec<String> {
    let n = (entities as f64 / 1.375).round() as usize;
    let mut out = Vec::new();
    for i in 0..40 {
        let c = (i * 7919) % n.max(1);
        out.push(format!("component-{c}"));
        out.push(format!("compnent-{c}"));
        out.push(format!("system-{}", i * 3));
        let w = WORDS[i % WORDS.len()];
        out.push(w.to_owned());
        out.push(w[..w.len().min(4)].to_owned());
        out.push(format!("{w} {}", WORDS[(i + 3) % WORDS.len()]));
        out.push(format!("\"{w} {}\"", WORDS[(i + 1) % WORDS.len()]));
        // A typo in a docs word.
        let mut typo: Vec<char> = w.chars().collect();
        typo.swap(1, 2);
        out.push(typo.into_iter().collect());
    }
    out
}
