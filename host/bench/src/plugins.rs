//! Plugin runtime figures:
//! - cold compile of each example plugin, with Cranelift and with Winch;
//! - start-up of a host with 10 plugin files already compiled (cached);
//! - fresh instance + call, and a call on a warm instance (median and p99 over
//!   many calls) for the Rust, Python and JavaScript panels;
//! - time from writing a `.wasm` into the watched directory to its first
//!   successful call, for each language, uncached.

use crate::stats::{Summary, human};
use portal_config::Config;
use portal_plugin_host::services::{CatalogReader, PluginStore, ServiceError, Services};
use portal_plugin_host::{HostOptions, PluginHost};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// Calls per latency figure.
    #[arg(long, default_value_t = 10_000)]
    calls: usize,
    /// Where the built plugins are (default: $PORTAL_TEST_PLUGINS).
    #[arg(long, env = "PORTAL_TEST_PLUGINS")]
    plugins: PathBuf,
}

/// (language, file, plugin name, panel id)
const PANELS: &[(&str, &str, &str, &str)] = &[
    ("Rust", "ownership.wasm", "ownership", "owner"),
    ("Python", "scorecard.wasm", "scorecard", "hygiene"),
    ("JavaScript", "quick-links.wasm", "quick-links", "links"),
];

const STARTUP_FILES: &[&str] = &[
    "ownership.wasm",
    "ci-status.wasm",
    "github-discovery.wasm",
    "hostile.wasm",
    "compat.wasm",
    "scorecard.wasm",
    "quick-links.wasm",
    "compat-2.0.0.wasm",
    "scorecard-2.0.0.wasm",
    "quick-links-2.0.0.wasm",
];

fn entity() -> String {
    serde_json::json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Component",
        "metadata": {
            "name": "payments", "namespace": "default",
            "description": "Processes payments for every storefront.",
            "tags": ["rust"], "links": [{ "url": "https://wiki.example.com/p", "title": "Runbook" }],
            "annotations": { "github.com/project-slug": "acme/payments" }
        },
        "spec": { "type": "service", "lifecycle": "production", "owner": "team-a", "system": "pay" }
    })
    .to_string()
}

/// The entities the benchmark entity points at (its owner and system), so a
/// panel does the catalog reads it would do in a portal.
struct BenchCatalog;

impl CatalogReader for BenchCatalog {
    fn get_entity(&self, entity_ref: &str) -> Result<Option<String>, ServiceError> {
        let entity = match entity_ref {
            "group:default/team-a" => serde_json::json!({
                "apiVersion": "backstage.io/v1alpha1", "kind": "Group",
                "metadata": { "name": "team-a", "namespace": "default" },
                "spec": { "type": "team", "profile": { "displayName": "Team A", "email": "team-a@example.com" }, "children": [] }
            }),
            "system:default/pay" => serde_json::json!({
                "apiVersion": "backstage.io/v1alpha1", "kind": "System",
                "metadata": { "name": "pay", "namespace": "default" },
                "spec": { "owner": "team-a" }
            }),
            _ => return Ok(None),
        };
        Ok(Some(entity.to_string()))
    }

    fn query_entities(&self, _filter: &str, _limit: usize) -> Result<Vec<String>, ServiceError> {
        Ok(Vec::new())
    }
}

struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> anyhow::Result<Scratch> {
        Ok(Scratch {
            dir: tempfile::tempdir()?,
        })
    }

    fn host(
        &self,
        fast_first_tier: bool,
        min_bytes: u64,
        cache: &Path,
    ) -> anyhow::Result<PluginHost> {
        let mut config = Config::embedded_default();
        config.plugins.compile.fast_first_tier = fast_first_tier;
        config.plugins.compile.fast_first_tier_min_bytes = min_bytes;
        let mut options = HostOptions::from_config(&config);
        options.plugins_dir = self.dir.path().join("plugins");
        options.cache_dir = cache.to_owned();
        let kv = PluginStore::open(&self.dir.path().join(format!("kv-{}", nonce())))?;
        let services = Services {
            catalog: Arc::new(BenchCatalog),
            registrar: Arc::new(portal_plugin_host::services::NoCatalog),
            kv: Arc::new(kv),
        };
        Ok(PluginHost::new(options, services)?)
    }
}

fn nonce() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    println!(
        "# Plugin runtime benchmark ({} calls per latency figure)\n",
        args.calls
    );
    compile(&args).await?;
    startup(&args).await?;
    latency(&args).await?;
    drop_in(&args).await?;
    Ok(())
}

async fn compile(args: &Args) -> anyhow::Result<()> {
    println!("## Cold compile (no cache), per plugin\n");
    println!("| plugin | size | Cranelift | Winch |");
    println!("| --- | --- | --- | --- |");
    for (language, file, _, _) in PANELS {
        let path = args.plugins.join(file);
        let size = std::fs::metadata(&path)?.len();
        let mut figures = Vec::new();
        for winch in [false, true] {
            let scratch = Scratch::new()?;
            let cache = scratch.dir.path().join("cache");
            let host = scratch.host(winch, 0, &cache)?;
            let started = Instant::now();
            let plugin = host.load_detached(&path).await?;
            let total = started.elapsed();
            figures.push(format!(
                "{} (load total {})",
                human(Duration::from_millis(plugin.compile_ms)),
                human(total)
            ));
        }
        println!(
            "| {language} `{file}` | {:.1} MB | {} | {} |",
            size as f64 / 1e6,
            figures[0],
            figures[1]
        );
    }
    println!();
    Ok(())
}

async fn startup(args: &Args) -> anyhow::Result<()> {
    println!("## Start-up with 10 cached plugin files\n");
    let scratch = Scratch::new()?;
    let cache = scratch.dir.path().join("cache");
    let plugins_dir = scratch.dir.path().join("plugins");
    std::fs::create_dir_all(&plugins_dir)?;
    for file in STARTUP_FILES {
        std::fs::copy(args.plugins.join(file), plugins_dir.join(file))?;
    }
    // Fill the cache (Cranelift artifacts, as after any first run).
    {
        let host = scratch.host(false, u64::MAX, &cache)?;
        host.load_all().await;
        host.wait_idle().await;
    }
    let mut runs = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let host = scratch.host(false, u64::MAX, &cache)?;
        host.load_all().await;
        runs.push(started.elapsed());
        let loaded = host
            .statuses()
            .iter()
            .filter(|s| s.state == portal_plugin_host::PluginState::Loaded)
            .count();
        assert!(
            loaded >= 7,
            "expected the 7 distinct plugins to load, got {loaded}"
        );
    }
    let s = Summary::of(runs);
    println!(
        "Host created and all {} files loaded from the cache (7 distinct plugins; the 3 second versions are refused after a full load: their file names are not their plugin names): median {} over {} runs\n",
        STARTUP_FILES.len(),
        human(s.median),
        s.count
    );
    Ok(())
}

async fn latency(args: &Args) -> anyhow::Result<()> {
    println!("## Call latency (Cranelift code, pooling allocator)\n");
    println!("| panel | fresh instance + call: median | p99 | warm call: median | p99 |");
    println!("| --- | --- | --- | --- | --- |");
    let scratch = Scratch::new()?;
    let cache = scratch.dir.path().join("cache");
    let plugins_dir = scratch.dir.path().join("plugins");
    std::fs::create_dir_all(&plugins_dir)?;
    for (_, file, _, _) in PANELS {
        std::fs::copy(args.plugins.join(file), plugins_dir.join(file))?;
    }
    let host = scratch.host(false, u64::MAX, &cache)?;
    host.load_all().await;
    let entity = entity();
    for (language, _, plugin, panel) in PANELS {
        // Warm-up, then measure whole calls as the API makes them.
        for _ in 0..100 {
            host.render_panel(plugin, panel, &entity, None).await?;
        }
        let mut fresh = Vec::with_capacity(args.calls);
        for _ in 0..args.calls {
            let started = Instant::now();
            host.render_panel(plugin, panel, &entity, None).await?;
            fresh.push(started.elapsed());
        }
        let warm = host
            .bench_warm_renders(plugin, panel, &entity, args.calls + 100)
            .await?;
        let (fresh, warm) = (Summary::of(fresh), Summary::of(warm[100..].to_vec()));
        println!(
            "| {language} `{plugin}` | {} | {} | {} | {} |",
            human(fresh.median),
            human(fresh.p99),
            human(warm.median),
            human(warm.p99)
        );
    }
    println!(
        "\n(pooling allocator in use: {}; a fresh instance per call is what the portal does, so no state leaks between calls)\n",
        host.uses_pooling_allocator()
    );
    Ok(())
}

async fn drop_in(args: &Args) -> anyhow::Result<()> {
    println!("## Drop-in to first successful call (watched directory, nothing cached)\n");
    println!("| plugin | first tier | live after | optimised code after |");
    println!("| --- | --- | --- | --- |");
    let entity = entity();
    for (language, file, plugin, panel) in PANELS {
        let scratch = Scratch::new()?;
        let cache = scratch.dir.path().join("cache");
        let host = scratch.host(true, 1 << 20, &cache)?;
        let _watch = host.watch()?;
        let bytes = std::fs::read(args.plugins.join(file))?;
        let dir = host.plugins_dir().to_owned();
        let started = Instant::now();
        std::fs::write(dir.join(format!(".{file}.tmp")), &bytes)?;
        std::fs::rename(dir.join(format!(".{file}.tmp")), dir.join(file))?;
        let live = loop {
            if host
                .render_panel(plugin, panel, &entity, None)
                .await
                .is_ok()
            {
                break started.elapsed();
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(300),
                "{file} never went live"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let tier = host
            .status(plugin)
            .and_then(|s| s.compiler)
            .map(|t| t.name())
            .unwrap_or("?");
        host.wait_idle().await;
        let optimised = started.elapsed();
        println!(
            "| {language} `{file}` | {tier} | {} | {} |",
            human(live),
            human(optimised)
        );
    }
    println!();
    Ok(())
}
