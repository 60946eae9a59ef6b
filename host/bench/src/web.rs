//! `portal-bench web`: the web UI's server-side cost. Generates the catalog
//! benchmark's synthetic organisation (100k entities by default), starts a
//! portal on it in a child process with three panel plugins (ownership in
//! Rust, scorecard in Python, quick-links in JavaScript, all applying to
//! components), and measures, one request at a time on 127.0.0.1:
//!
//! - the catalog page (`/catalog`, the first page of components);
//! - an entity page whose three panels render;
//! - the hydration bundle's size, raw and gzip.
//!
//! Server time is the portal's own `Server-Timing` figure (request in to
//! response head; pages render completely before their head is sent);
//! latency is the client's, body included. Transfer size is the gzip body.

use anyhow::{Context, bail};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct WebArgs {
    /// Catalog size (total entities).
    #[arg(long, default_value_t = 100_000)]
    pub size: usize,
    /// Requests measured per page (after warming up).
    #[arg(long, default_value_t = 100)]
    pub requests: usize,
    /// Where the built plugins are (default: $PORTAL_TEST_PLUGINS, else target/portal-plugins).
    #[arg(long, env = "PORTAL_TEST_PLUGINS")]
    pub plugins: Option<PathBuf>,
}

const PANEL_PLUGINS: [&str; 3] = ["ownership.wasm", "scorecard.wasm", "quick-links.wasm"];

struct Sample {
    server_ms: f64,
    latency_ms: f64,
    gzip_bytes: usize,
}

fn server_timing(headers: &reqwest::header::HeaderMap) -> Option<f64> {
    let v = headers.get("server-timing")?.to_str().ok()?;
    v.split(';')
        .find_map(|p| p.trim().strip_prefix("dur="))
        .and_then(|d| d.parse().ok())
}

async fn fetch(
    client: &reqwest::Client,
    url: &str,
    gzip: bool,
) -> anyhow::Result<(Sample, String)> {
    let mut request = client.get(url);
    if gzip {
        request = request.header("accept-encoding", "gzip");
    }
    let t = Instant::now();
    let response = request.send().await?;
    let status = response.status();
    let server_ms = server_timing(response.headers()).unwrap_or(f64::NAN);
    let body = response.bytes().await?;
    let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
    if !status.is_success() {
        bail!("{url}: HTTP {status}");
    }
    Ok((
        Sample {
            server_ms,
            latency_ms,
            gzip_bytes: body.len(),
        },
        if gzip {
            String::new()
        } else {
            String::from_utf8_lossy(&body).into_owned()
        },
    ))
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * p).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

async fn measure(
    client: &reqwest::Client,
    url: &str,
    n: usize,
    check: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    let (_, html) = fetch(client, url, false).await?;
    if !check(&html) {
        bail!(
            "{url}: the page does not show what it should:\n{}",
            &html[..html.len().min(3000)]
        );
    }
    let raw = html.len();
    for _ in 0..5 {
        fetch(client, url, true).await?;
    }
    let mut server = Vec::new();
    let mut latency = Vec::new();
    let mut gzip = 0;
    for _ in 0..n {
        let (s, _) = fetch(client, url, true).await?;
        server.push(s.server_ms);
        latency.push(s.latency_ms);
        gzip = s.gzip_bytes;
    }
    server.sort_by(f64::total_cmp);
    latency.sort_by(f64::total_cmp);
    Ok(format!(
        "| {:.2} ms | {:.2} ms | {:.2} ms | {:.2} ms | {:.1} KiB | {:.1} KiB |",
        pct(&server, 0.5),
        pct(&server, 0.9),
        pct(&latency, 0.5),
        pct(&latency, 0.9),
        raw as f64 / 1024.0,
        gzip as f64 / 1024.0
    ))
}

pub async fn run(args: WebArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; run it in release (`cargo xtask bench web`) for real figures"
        );
    }
    let plugins_src = args
        .plugins
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/portal-plugins"));
    let dir = tempfile::tempdir()?;
    let catalog_dir = dir.path().join("catalog");
    let expected = crate::catalog::generate(&catalog_dir, args.size)?;
    let plugins_dir = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins_dir)?;
    for p in PANEL_PLUGINS {
        let src = plugins_src.join(p);
        std::fs::copy(&src, plugins_dir.join(p)).with_context(|| {
            format!(
                "{} (build the plugins with `cargo xtask build-plugins`)",
                src.display()
            )
        })?;
    }
    let cache = std::env::current_dir()?
        .join("target")
        .join("portal-bench-cache");
    std::fs::create_dir_all(&cache)?;
    let config = dir.path().join("portal.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {}\nplugins:\n  dir: {}\n  cache_dir: {}\ncatalog:\n  locations:\n    - type: file\n      target: {}\n",
            dir.path().join("data").display(),
            plugins_dir.display(),
            cache.display(),
            catalog_dir.join("all.yaml").display()
        ),
    )?;
    let portal = crate::portal_process::PortalChild::start(&config, Stdio::inherit())?;
    let result = measure_all(&portal.url, &args, expected).await;
    drop(portal);
    println!("{}", result?);
    Ok(())
}

async fn measure_all(url: &str, args: &WebArgs, expected: usize) -> anyhow::Result<String> {
    let client = reqwest::Client::builder().no_proxy().build()?;
    // Wait for the catalog and the three plugins (optimised code, not the fast tier).
    let started = Instant::now();
    loop {
        let total = client
            .get(format!("{url}/api/catalog/entities/by-query?limit=0"))
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?["totalItems"]
            .as_u64()
            .unwrap_or(0);
        let plugins: serde_json::Value = client
            .get(format!("{url}/api/plugins"))
            .send()
            .await?
            .json()
            .await?;
        let ready = plugins["items"].as_array().is_some_and(|items| {
            items.len() == PANEL_PLUGINS.len()
                && items
                    .iter()
                    .all(|p| p["state"] == "loaded" && p["upgrading"] == false)
        });
        if total as usize >= expected && ready {
            break;
        }
        if started.elapsed() > Duration::from_secs(900) {
            bail!(
                "not ready after 15 minutes ({total} of {expected} entities; plugins: {plugins})"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    eprintln!("ready after {:.1?}", started.elapsed());
    let mut report = String::new();
    let _ = writeln!(
        report,
        "# portal-bench web ({expected} entities, {} sequential requests per page)\n",
        args.requests
    );
    let _ = writeln!(
        report,
        "| page | server p50 | server p90 | latency p50 | latency p90 | HTML | gzip |"
    );
    let _ = writeln!(report, "|---|---|---|---|---|---|---|");
    let catalog = measure(&client, &format!("{url}/catalog"), args.requests, |h| {
        h.contains("component-") && h.contains("catalog-table")
    })
    .await?;
    let _ = writeln!(report, "| /catalog (first page, 50 rows) {catalog}");
    let filtered = measure(
        &client,
        &format!("{url}/catalog?type=service&tag=tag-3&q=component-1"),
        args.requests,
        |h| h.contains("catalog-table"),
    )
    .await?;
    let _ = writeln!(
        report,
        "| /catalog?type&tag&q (filtered, searched) {filtered}"
    );
    let entity = measure(
        &client,
        &format!("{url}/catalog/default/component/component-1"),
        args.requests,
        |h| {
            PANEL_PLUGINS
                .iter()
                .all(|p| h.contains(&format!("data-plugin=\"{}\"", p.trim_end_matches(".wasm"))))
                && !h.contains("panel-error")
        },
    )
    .await?;
    let _ = writeln!(report, "| entity page, 3 panels {entity}");

    // The hydration bundle, as the page links it.
    let (_, html) = fetch(&client, &format!("{url}/catalog"), false).await?;
    let js = html
        .split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/pkg/") && h.ends_with(".js"));
    match js {
        None => {
            let _ = writeln!(
                report,
                "\nno hydration bundle (the portal was built without `cargo xtask build`)"
            );
        }
        Some(js) => {
            let wasm = js.replace(".js", "_bg.wasm");
            let mut raw = 0;
            let mut gz = 0;
            let mut parts = Vec::new();
            for path in [js.to_owned(), wasm] {
                let (r, _) = fetch(&client, &format!("{url}{path}"), false).await?;
                let (g, _) = fetch(&client, &format!("{url}{path}"), true).await?;
                parts.push(format!(
                    "{path}: {:.1} KiB raw, {:.1} KiB gzip",
                    r.gzip_bytes as f64 / 1024.0,
                    g.gzip_bytes as f64 / 1024.0
                ));
                raw += r.gzip_bytes;
                gz += g.gzip_bytes;
            }
            let _ = writeln!(
                report,
                "\nhydration bundle: {:.1} KiB raw, {:.1} KiB gzip ({})",
                raw as f64 / 1024.0,
                gz as f64 / 1024.0,
                parts.join("; ")
            );
        }
    }
    Ok(report)
}
