//! `portal-bench techdocs`: building documentation sites natively
//! (`portal-techdocs`), on the shapes MkDocs + techdocs-core was measured with
//! (`shared/reference/`): a 10-page site and a synthetic 1,000-page one.
//!
//! Measures the build of each (median of several runs, in this process), the
//! HTML and navigation it produces (what a store would keep), and the largest
//! single page. Serving and storing the sites come with their wiring.

use crate::stats::{Summary, human};
use anyhow::Context;
use clap::Args;
use portal_techdocs::{BuildLimits, Site, build_site};
use std::path::Path;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct TechdocsArgs {
    /// Builds per figure.
    #[arg(long, default_value_t = 20)]
    runs: usize,
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
    for line in problems {
        report.push_str(&format!("\n{line}\n"));
    }
    println!("{report}");
    Ok(())
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
