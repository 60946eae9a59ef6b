//! `portal-bench plugins-attack`: what a hostile plugin costs everybody else.
//! Starts a portal (in a child process) on a synthetic catalog with the test
//! suite's hostile plugin and a well-behaved one (`compat`), then measures:
//!
//! 1. idle: `/healthcheck` and a good panel, one request at a time;
//! 2. under attack: the same, while two attacks run flat out at once, one per
//!    core (a catalog query flood, and every host function with its largest
//!    arguments in a loop), and how long each attack call ran before the
//!    portal cut it off, against the CPU limit it was configured with;
//! 3. storage: the host's RSS and the plugin storage's size on disk before the
//!    plugin fills its storage quota, after, and each 5 s for a minute after the
//!    plugin is removed.

use crate::stats::{Summary, human};
use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct AttackArgs {
    /// Catalog size the query flood runs against.
    #[arg(long, default_value_t = 10_000)]
    size: usize,
    /// Seconds of each phase (idle, attack).
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// The hostile plugin's storage quota in bytes (default: the portal's default).
    #[arg(long)]
    storage_quota: Option<u64>,
    /// Where the built plugins are (default: $PORTAL_TEST_PLUGINS).
    #[arg(long, env = "PORTAL_TEST_PLUGINS")]
    plugins: PathBuf,
}

/// The panel limits the attacks run under (the defaults: 1 s CPU, 3 s wall clock).
const CPU_LIMIT: Duration = Duration::from_secs(1);
const ATTACKS: [&str; 2] = ["query-flood", "host-max"];

pub async fn run(args: AttackArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run it with `cargo xtask bench plugins-attack`");
    }
    let dir = tempfile::tempdir()?;
    let expected = crate::catalog::generate(&dir.path().join("catalog"), args.size)?;
    let plugins_dir = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins_dir)?;
    for plugin in ["hostile.wasm", "compat.wasm"] {
        let source = args.plugins.join(plugin);
        std::fs::copy(&source, plugins_dir.join(plugin)).with_context(|| {
            format!(
                "{} (build the plugins with `cargo xtask build-plugins`)",
                source.display()
            )
        })?;
    }
    let data_dir = dir.path().join("data");
    let hostile_quota = args
        .storage_quota
        .map(|bytes| {
            format!(
                "    hostile:\n      quotas: {{ storage_bytes: {bytes}, storage_keys: 1000000 }}\n"
            )
        })
        .unwrap_or_default();
    let config = dir.path().join("portal.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {data}\nplugins:\n  dir: {plugins}\n  cache_dir: {cache}\n  grants:\n    compat:\n      config: {{ greeting: hi }}\n{hostile_quota}catalog:\n  locations:\n    - type: file\n      target: {catalog}\n",
            data = data_dir.display(),
            plugins = plugins_dir.display(),
            cache = std::env::current_dir()?
                .join("target")
                .join("portal-bench-cache")
                .display(),
            catalog = dir.path().join("catalog").join("all.yaml").display(),
        ),
    )?;
    let child = crate::portal_process::PortalChild::start(&config, Stdio::null())?;
    let portal = Portal {
        url: child.url.clone(),
        pid: child.pid(),
        client: reqwest::Client::builder().no_proxy().build()?,
        plugins_dir,
        storage: data_dir.join("plugin-storage.redb"),
    };
    let result = measure(&portal, &args, expected).await;
    drop(child);
    println!("{}", result?);
    Ok(())
}

#[derive(Clone)]
struct Portal {
    url: String,
    pid: u32,
    client: reqwest::Client,
    plugins_dir: PathBuf,
    storage: PathBuf,
}

impl Portal {
    async fn get_json(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await?
            .json()
            .await?)
    }

    /// Renders a panel; (HTTP status, body, how long it took).
    async fn render(
        &self,
        plugin: &str,
        panel: &str,
        entity: &Value,
    ) -> anyhow::Result<(u16, Value, Duration)> {
        let started = Instant::now();
        let response = self
            .client
            .post(format!(
                "{}/api/plugins/{plugin}/panels/{panel}/render",
                self.url
            ))
            .json(&json!({ "entity": entity }))
            .send()
            .await?;
        let code = response.status().as_u16();
        let body = response.json().await?;
        Ok((code, body, started.elapsed()))
    }

    async fn health(&self) -> anyhow::Result<Duration> {
        let started = Instant::now();
        let response = self
            .client
            .get(format!("{}/healthcheck", self.url))
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("/healthcheck answered {}", response.status());
        }
        response.bytes().await?;
        Ok(started.elapsed())
    }

    async fn good_panel(&self) -> anyhow::Result<Duration> {
        let (code, body, elapsed) = self.render("compat", "echo", &entity("good", None)).await?;
        if code != 200 {
            bail!("the good panel failed: {body}");
        }
        Ok(elapsed)
    }

    fn rss_mib(&self) -> f64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid)).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(f64::NAN, |kib| kib / 1024.0)
    }

    fn disk_mib(&self) -> f64 {
        dir_size(&self.storage) as f64 / (1024.0 * 1024.0)
    }
}

/// Bytes a file, or a directory tree, takes on disk (allocated blocks).
fn dir_size(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return 0;
    };
    if !meta.is_dir() {
        return meta.blocks() * 512;
    }
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries.flatten().map(|e| dir_size(&e.path())).sum()
}

fn entity(name: &str, attack_arg: Option<&str>) -> Value {
    let mut entity = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": { "name": name, "namespace": "default", "annotations": {} },
        "spec": { "type": "service", "lifecycle": "production", "owner": "group-0" }
    });
    if let Some(arg) = attack_arg {
        entity["metadata"]["annotations"]["hostile/attack"] = json!("yes");
        entity["metadata"]["annotations"]["hostile/arg"] = json!(arg);
    }
    entity
}

/// `/healthcheck` and the good panel, alternately, for `seconds`.
async fn probe(portal: &Portal, seconds: u64) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let (mut health, mut good) = (Vec::new(), Vec::new());
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(seconds) {
        health.push(portal.health().await?);
        good.push(portal.good_panel().await?);
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok((health, good))
}

async fn measure(portal: &Portal, args: &AttackArgs, expected: usize) -> anyhow::Result<String> {
    wait_ready(portal, expected).await?;
    let at_start = (portal.rss_mib(), portal.disk_mib());
    let mut report = format!(
        "# portal-bench plugins-attack ({expected} entities; two attacks at once, {} s per phase; CPU limit {})\n\n",
        args.seconds,
        human(CPU_LIMIT)
    );

    // 1. Idle.
    let (health, good) = probe(portal, args.seconds).await?;
    let idle = (Summary::of(health), Summary::of(good));

    // 2. Under attack: each attack in its own task, flat out, until the phase ends.
    let stop = Arc::new(AtomicBool::new(false));
    let mut attackers = Vec::new();
    for mode in ATTACKS {
        let stop = stop.clone();
        let attacker = portal.clone();
        attackers.push(tokio::spawn(async move {
            let mut calls = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let (code, body, elapsed) = attacker
                    .render("hostile", mode, &entity("victim", Some("")))
                    .await?;
                let message = body["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                if code != 502 || !message.contains("CPU time") {
                    bail!("{mode}: expected the CPU limit to stop it, got {code}: {body}");
                }
                calls.push(elapsed);
            }
            anyhow::Ok((mode, calls))
        }));
    }
    // Let both attacks get going before measuring.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (health, good) = probe(portal, args.seconds).await?;
    stop.store(true, Ordering::SeqCst);
    let attacked = (Summary::of(health), Summary::of(good));
    let mut cutoffs = Vec::new();
    for attacker in attackers {
        let (mode, calls) = attacker.await??;
        cutoffs.push((
            mode,
            Summary::of(calls.clone()),
            calls.into_iter().max().unwrap_or_default(),
        ));
    }

    report.push_str("| probe | idle p50 | idle p99 | under attack p50 | under attack p99 | p99 ratio |\n|---|---|---|---|---|---|\n");
    for (name, idle, attacked) in [
        ("/healthcheck", &idle.0, &attacked.0),
        ("good panel (compat echo)", &idle.1, &attacked.1),
    ] {
        report.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {:.2}x |\n",
            human(idle.median),
            human(idle.p99),
            human(attacked.median),
            human(attacked.p99),
            attacked.p99.as_secs_f64() / idle.p99.as_secs_f64()
        ));
    }
    report.push_str("\n| attack | calls | cut off after (p50) | slowest | slowest / CPU limit |\n|---|---|---|---|---|\n");
    for (mode, summary, slowest) in &cutoffs {
        report.push_str(&format!(
            "| {mode} | {} | {} | {} | {:.2}x |\n",
            summary.count,
            human(summary.median),
            human(*slowest),
            slowest.as_secs_f64() / CPU_LIMIT.as_secs_f64()
        ));
    }

    // 3. Storage: fill the quota, then remove the plugin.
    let baseline = (portal.rss_mib(), portal.disk_mib());
    let started = Instant::now();
    let filled = loop {
        let (_, body, _) = portal
            .render("hostile", "storage-fill", &entity("victim", Some("65536")))
            .await?;
        let text = body.to_string();
        if text.contains("storage quota") {
            break text;
        }
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the storage quota was not reached in 5 minutes: {text}");
        }
    };
    let quota = portal.get_json("/api/plugins").await?["items"]
        .as_array()
        .and_then(|items| items.iter().find(|p| p["file"] == "hostile.wasm").cloned())
        .map(|p| p["quotas"].clone())
        .unwrap_or_default();
    let full = (portal.rss_mib(), portal.disk_mib());
    std::fs::remove_file(portal.plugins_dir.join("hostile.wasm"))?;
    let removed_at = Instant::now();
    report.push_str(&format!(
        "\nstorage quota filled in {} ({} bytes in {} keys; the plugin was told: {})\n\n| when | host RSS | plugin storage on disk |\n|---|---|---|\n| portal ready | {:.1} MiB | {:.1} MiB |\n| after the attacks | {:.1} MiB | {:.1} MiB |\n| quota full | {:.1} MiB | {:.1} MiB |\n",
        human(started.elapsed()),
        quota["storageBytes"],
        quota["storageKeys"],
        filled.split("then ").nth(1).unwrap_or(&filled).trim_end_matches(['"', '}', ']']),
        at_start.0,
        at_start.1,
        baseline.0,
        baseline.1,
        full.0,
        full.1
    ));
    for step in 1..=12 {
        tokio::time::sleep_until((removed_at + Duration::from_secs(5 * step)).into()).await;
        report.push_str(&format!(
            "| {} s after removing the plugin | {:.1} MiB | {:.1} MiB |\n",
            5 * step,
            portal.rss_mib(),
            portal.disk_mib()
        ));
    }
    Ok(report)
}

async fn wait_ready(portal: &Portal, expected: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let total = portal
            .get_json("/api/catalog/entities/by-query?limit=0")
            .await?["totalItems"]
            .as_u64()
            .unwrap_or(0);
        let plugins = portal.get_json("/api/plugins").await?;
        let ready = plugins["items"].as_array().is_some_and(|items| {
            items.len() == 2
                && items
                    .iter()
                    .all(|p| p["state"] == "loaded" && p["upgrading"] == false)
        });
        if total as usize >= expected && ready {
            eprintln!("ready after {:.1?}", started.elapsed());
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!(
                "not ready after 10 minutes ({total} of {expected} entities; plugins: {plugins})"
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
