//! `portal-bench techdocs`: building documentation sites natively
//! (`portal-techdocs`), on the shapes MkDocs + techdocs-core was measured with
//! (`shared/reference/`): a 10-page site and a synthetic 1,000-page one.
//!
//! Measures the build of each (median of several runs, in this process), the
//! HTML and navigation it produces, and the largest single page; then, for
//! the 1,000-page site, what the portal's store keeps of it (bytes in its
//! records and sled's size on disk), and against a real portal process
//! serving it: a page through Backstage's static route and through the UI,
//! and the time from saving an edited page to the new content being served.

use crate::stats::{Summary, human};
use anyhow::Context;
use clap::Args;
use portal_techdocs::{BuildLimits, Site, SiteStore, build_site};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct TechdocsArgs {
    /// Builds per figure.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Requests per serving figure.
    #[arg(long, default_value_t = 500)]
    requests: usize,
    /// Edits timed from save to served.
    #[arg(long, default_value_t = 10)]
    edits: usize,
    /// Pages of the large synthetic site.
    #[arg(long, default_value_t = 1_000)]
    pages: usize,
}

pub async fn run(args: TechdocsArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run it with `cargo xtask bench techdocs`");
    }
    let dir = tempfile::tempdir()?;
    let small = dir.path().join("small");
    let large = dir.path().join("large");
    write_site(&small, 10, 3)?;
    write_site(&large, args.pages, 10)?;
    let mut report = format!(
        "# portal-bench techdocs ({} builds per figure)\n\n| site | build: median | p99 | pages | HTML + nav | largest page | MkDocs 1.6.1 + techdocs-core | target |\n|---|---|---|---|---|---|---|---|\n",
        args.runs
    );
    // Said after the table: the synthetic sites are meant to have none.
    let mut problems = Vec::new();
    // The first build in a process loads the highlighter's grammars, which
    // the portal does once at start-up (`TechDocs::start`): timed apart.
    let started = Instant::now();
    build_site(&small, Path::new("."), &BuildLimits::default())?;
    let cold = started.elapsed();
    for (name, root, mkdocs, target) in [
        ("10 pages", &small, "0.77 s", "≤ 20 ms"),
        (
            "1,000 pages (synthetic)",
            &large,
            "44-45 s, 423 MB",
            "≤ 1 s, ≤ 30 MB",
        ),
    ] {
        let (summary, site) = measure(root, args.runs)?;
        let html: usize = site.pages.iter().map(|p| p.html.len()).sum();
        let nav = format!("{:?}", site.nav).len();
        let largest = site.pages.iter().map(|p| p.html.len()).max().unwrap_or(0);
        report.push_str(&format!(
            "| {name} | {} | {} | {} | {:.0} KB | {:.1} KB | {mkdocs} | {target} |\n",
            human(summary.median),
            human(summary.p99),
            site.pages.len(),
            (html + nav) as f64 / 1e3,
            largest as f64 / 1e3,
        ));
        if let Some(first) = site.problems.first() {
            problems.push(format!(
                "({name}: {} problems, the first: {first})",
                site.problems.len()
            ));
        }
    }
    report.push_str(&format!(
        "\n(the process's first build, which loaded the highlighter's grammars as the portal does at start-up: {}; not in the figures above)\n",
        human(cold)
    ));
    for line in problems {
        report.push_str(&format!("\n{line}\n"));
    }
    report.push_str(&store_figures(&large)?);
    report.push_str(&serve_figures(dir.path(), &large, &args).await?);
    println!("{report}");
    Ok(())
}

/// What the store keeps of the large site.
fn store_figures(root: &Path) -> anyhow::Result<String> {
    let site = build_site(root, Path::new("."), &BuildLimits::default())?;
    let dir = tempfile::tempdir()?;
    let store = SiteStore::open(dir.path())?;
    store.put("default/component/bench", &site, "etag", 0)?;
    store.flush()?;
    let records = store.stored_bytes();
    let on_disk = store.size_on_disk();
    drop(store);
    let files: u64 = walk_size(dir.path());
    Ok(format!(
        "\n## Stored ({} pages)\n\n| records (keys + values, pages LZ4) | sled size_on_disk | files on disk | MkDocs output | target |\n|---|---|---|---|---|\n| {:.2} MB | {:.2} MB | {:.2} MB | 423 MB | ≤ 30 MB |\n",
        site.pages.len(),
        records as f64 / 1e6,
        on_disk as f64 / 1e6,
        files as f64 / 1e6,
    ))
}

fn walk_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| match e.file_type() {
                    Ok(t) if t.is_dir() => walk_size(&e.path()),
                    _ => e.metadata().map(|m| m.len()).unwrap_or(0),
                })
                .sum()
        })
        .unwrap_or(0)
}

/// Serving the large site from a real portal process, and edits going live.
async fn serve_figures(work: &Path, site: &Path, args: &TechdocsArgs) -> anyhow::Result<String> {
    std::fs::write(
        site.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bench-docs\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    )?;
    let config = work.join("portal.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\nplugins:\n  dir: {}\ncatalog:\n  refresh_interval_seconds: 3600\n  locations:\n    - type: file\n      target: {}\n",
            work.join("data").display(),
            work.join("plugins").display(),
            site.join("catalog-info.yaml").display()
        ),
    )?;
    std::fs::create_dir_all(work.join("plugins"))?;
    let portal = crate::portal_process::PortalChild::start(&config, Stdio::inherit())?;
    let client = reqwest::Client::builder().no_proxy().build()?;
    let status_url = format!(
        "{}/api/techdocs/status/default/component/bench-docs",
        portal.url
    );
    let started = Instant::now();
    let first_build = loop {
        if let Ok(r) = client.get(&status_url).send().await
            && let Ok(v) = r.json::<serde_json::Value>().await
            && v["state"] == "built"
        {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(120),
            "the site was not built"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let page = "part-050/page-05/";
    let routes = [
        (
            "static route (`…/part-050/page-05/index.html`)",
            format!(
                "{}/api/techdocs/static/docs/default/component/bench-docs/{page}index.html",
                portal.url
            ),
        ),
        (
            "UI page (`/docs/…/part-050/page-05/`, SSR)",
            format!("{}/docs/default/component/bench-docs/{page}", portal.url),
        ),
    ];
    let mut report = format!(
        "\n## Served by a portal process ({} requests each, sequential; first build after ingest {})\n\n| route | median | p99 | bytes | target |\n|---|---|---|---|---|\n",
        args.requests,
        human(first_build)
    );
    for (name, url) in routes {
        let mut times = Vec::with_capacity(args.requests);
        let mut bytes = 0;
        for _ in 0..args.requests.max(1) {
            let t = Instant::now();
            let response = client.get(&url).send().await?;
            anyhow::ensure!(
                response.status().is_success(),
                "{url}: {}",
                response.status()
            );
            bytes = response.bytes().await?.len();
            times.push(t.elapsed());
        }
        let s = Summary::of(times);
        report.push_str(&format!(
            "| {name} | {} | {} | {:.1} KB | ≤ 5 ms |\n",
            human(s.median),
            human(s.p99),
            bytes as f64 / 1e3
        ));
    }

    // Edit → served: save a page, poll the static route until it shows.
    let file = site.join("docs").join("part-000").join("page-01.md");
    let original = std::fs::read_to_string(&file)?;
    let url = format!(
        "{}/api/techdocs/static/docs/default/component/bench-docs/part-000/page-01/index.html",
        portal.url
    );
    let mut times = Vec::new();
    for i in 0..args.edits.max(1) {
        let marker = format!("edit-marker-{i}-{}", std::process::id());
        std::fs::write(&file, format!("{original}\n{marker}\n"))?;
        let t = Instant::now();
        loop {
            let body = client.get(&url).send().await?.text().await?;
            if body.contains(&marker) {
                times.push(t.elapsed());
                break;
            }
            anyhow::ensure!(
                t.elapsed() < Duration::from_secs(30),
                "edit {i} never showed"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        // Let the watcher go quiet between edits.
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let s = Summary::of(times);
    report.push_str(&format!(
        "\n## Edit → served (1,000-page site, {} edits; the watcher's 60 ms settle, a content hash of the tree, the full rebuild, the store)\n\n| median | p99 (max) | target |\n|---|---|---|\n| {} | {} | ≤ 2 s |\n",
        s.count,
        human(s.median),
        human(s.p99)
    ));
    drop(portal);
    Ok(report)
}

fn measure(root: &Path, runs: usize) -> anyhow::Result<(Summary, Site)> {
    let limits = BuildLimits::default();
    let mut times = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let site = build_site(root, Path::new("."), &limits)
            .with_context(|| format!("building {}", root.display()))?;
        times.push(started.elapsed());
        last = Some(site);
    }
    Ok((Summary::of(times), last.expect("at least one run")))
}

/// A site of `pages` pages in folders of `per_folder`, with an explicit nested
/// nav, and on each page what real docs hold: headings, prose with links to
/// sibling pages, a list, a table, a code block, an admonition, an image.
fn write_site(root: &Path, pages: usize, per_folder: usize) -> anyhow::Result<()> {
    let docs = root.join("docs");
    std::fs::create_dir_all(docs.join("img"))?;
    std::fs::write(
        docs.join("img").join("diagram.png"),
        [0x89, b'P', b'N', b'G'],
    )?;
    let folders = pages.div_ceil(per_folder);
    let mut nav = String::from("nav:\n  - Home: index.md\n");
    let mut written = 1;
    std::fs::write(
        docs.join("index.md"),
        page("Home", 0, "img/diagram.png")
            .replace("](page-01.md)", "](part-000/page-01.md)")
            .replace("](../index.md", "](index.md"),
    )?;
    for f in 0..folders {
        if written >= pages {
            break;
        }
        let folder = format!("part-{f:03}");
        std::fs::create_dir_all(docs.join(&folder))?;
        nav.push_str(&format!("  - Part {f}:\n"));
        for p in 0..per_folder {
            if written >= pages {
                break;
            }
            let file = format!("{folder}/page-{p:02}.md");
            std::fs::write(
                docs.join(&file),
                page(&format!("Part {f}, page {p}"), p, "../img/diagram.png"),
            )?;
            nav.push_str(&format!("      - Page {p}: {file}\n"));
            written += 1;
        }
    }
    std::fs::write(
        root.join("mkdocs.yml"),
        format!(
            "site_name: Bench docs\nrepo_url: https://github.com/acme/bench\nplugins:\n  - techdocs-core\nmarkdown_extensions:\n  - admonition\n  - pymdownx.superfences\n{nav}"
        ),
    )?;
    Ok(())
}

/// Each page links to the next in its folder, wrapping within the first pages
/// every folder has.
const PAGES_PER_LINK_RING: usize = 3;

fn page(title: &str, n: usize, image: &str) -> String {
    let sibling = format!("page-{:02}.md", (n + 1) % PAGES_PER_LINK_RING);
    format!(
        "# {title}\n\nThis page explains one part of the service. See [the next page]({sibling}) and [the home page](../index.md#overview).\n\n\
         ## Overview\n\nThe service **handles orders**, keeps them in a queue and reports on them. It is owned by *team-a*.\n\n\
         - first point with `inline code`\n- second point\n- [x] a task that is done\n\n\
         | setting | default | meaning |\n|---|---|---|\n| `timeout` | 30 s | how long a call may take |\n| `retries` | 3 | how often it is tried |\n\n\
         !!! note \"Before you start\"\n    Ask for access to the queue first.\n\n\
         ```rust\nfn main() {{\n    println!(\"hello {n}\");\n}}\n```\n\n\
         ![diagram]({image})\n\n## Details\n\nMore text about the details, repeated to make a page of ordinary length. \
         Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.\n"
    )
}
