//! `portal-bench catalog`: generates a synthetic organisation shaped like the
//! Backstage measurement (N components with owner, system, providesApis, 0-1
//! consumesApis and 1-3 dependsOn; N/5 APIs, N/20 systems, N/200 domains, N/50
//! groups, N/10 users), starts a portal on it in a child process, and measures
//! ingest time, RSS after ingest, and latency/throughput on 127.0.0.1 with 16
//! connections for by-name, by-query (filter, limit 50), facets on
//! `spec.type`, and the full `GET /entities?filter=kind=component&fields=metadata.name`.

use anyhow::bail;
use clap::Args;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct CatalogArgs {
    /// Catalog sizes (total entities), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    pub sizes: Vec<usize>,
    /// Seconds of load per scenario.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    pub connections: usize,
    /// Also measure each size with a conditional permission policy on: the
    /// guest is `user-0` (in `group-0`) and reads only what its group owns,
    /// plus groups and users (an owner rule, evaluated on every read).
    #[arg(long)]
    pub owner_policy: bool,
    /// The catalog's store: `sled`, or the URL of a PostgreSQL role that
    /// may create databases (each size gets a new database, dropped after).
    /// With PostgreSQL, a second portal on the same database measures how
    /// soon a write through one is served by the other.
    #[arg(long, default_value = "sled")]
    pub store: String,
}

/// The policy `--owner-policy` measures with.
const OWNER_POLICY: &str = "rules:\n  - permissions: [catalog.entity.read]\n    resources: { any_of: [ { is_entity_owner: true }, { kind: [Group, User] } ] }\n    decision: allow\ndefault: deny\n";

#[derive(Args, Debug)]
pub struct ServerArgs {
    /// Configuration file.
    #[arg(long)]
    pub config: std::path::PathBuf,
}

/// The child process: a real portal on a free port.
pub async fn serve(args: ServerArgs) -> anyhow::Result<()> {
    let mut config = portal_config::Config::load(&args.config)?;
    config.server.port = 0;
    let portal = portal_server::Portal::start(config).await?;
    println!("portal listening on {}", portal.url());
    portal.wait().await;
    Ok(())
}

pub fn generate(dir: &Path, total: usize) -> anyhow::Result<usize> {
    let n = (total as f64 / 1.375).round() as usize;
    let apis = (n / 5).max(1);
    let systems = (n / 20).max(1);
    let domains = (n / 200).max(1);
    let groups = (n / 50).max(1);
    let users = (n / 10).max(1);
    std::fs::create_dir_all(dir.join("systems"))?;
    let mut org = String::new();
    for d in 0..domains {
        let _ = write!(
            org,
            "---\napiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata:\n  name: domain-{d}\nspec:\n  owner: group-{}\n",
            d % groups
        );
    }
    for g in 0..groups {
        let _ = write!(
            org,
            "---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: group-{g}\nspec:\n  type: team\n  children: []\n"
        );
    }
    for u in 0..users {
        let _ = write!(
            org,
            "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-{u}\nspec:\n  memberOf: [group-{}]\n",
            u % groups
        );
    }
    std::fs::write(dir.join("org.yaml"), org)?;
    // One file per system: the system, its components and APIs.
    let mut count = domains + groups + users;
    let types = ["service", "website", "library"];
    for s in 0..systems {
        let mut text = String::new();
        let _ = write!(
            text,
            "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata:\n  name: system-{s}\nspec:\n  owner: group-{}\n  domain: domain-{}\n",
            s % groups,
            s % domains
        );
        count += 1;
        let mut a = s;
        while a < apis {
            let _ = write!(
                text,
                "---\napiVersion: backstage.io/v1alpha1\nkind: API\nmetadata:\n  name: api-{a}\nspec:\n  type: openapi\n  lifecycle: production\n  owner: group-{}\n  system: system-{s}\n  definition: \"openapi: 3.0.0\"\n",
                a % groups
            );
            count += 1;
            a += systems;
        }
        let mut c = s;
        while c < n {
            let mut deps = String::new();
            for k in 0..(1 + c % 3) {
                if k > 0 {
                    deps.push_str(", ");
                }
                let _ = write!(deps, "component:component-{}", (c * 7 + k * 13 + 1) % n);
            }
            let consumes = if c % 2 == 0 {
                format!("\n  consumesApis: [api-{}]", (c * 3 + 1) % apis)
            } else {
                String::new()
            };
            let _ = write!(
                text,
                "---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: component-{c}\n  description: Synthetic component {c}\n  tags: [tag-{}]\nspec:\n  type: {}\n  lifecycle: production\n  owner: group-{}\n  system: system-{s}\n  providesApis: [api-{}]{consumes}\n  dependsOn: [{deps}]\n",
                c % 10,
                types[c % 3],
                c % groups,
                c % apis
            );
            count += 1;
            c += systems;
        }
        std::fs::write(dir.join("systems").join(format!("system-{s}.yaml")), text)?;
    }
    std::fs::write(
        dir.join("all.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: synthetic\nspec:\n  targets: [./org.yaml, ./systems/*.yaml]\n",
    )?;
    // Plus the config's generated Location entity and this one.
    Ok(count + 2)
}

/// Starts a second portal on the same configuration (and so the same
/// database), then registers small locations through the first one, one at
/// a time, and times each until the second serves its entity.
async fn replica_visibility(
    client: &reqwest::Client,
    config: &Path,
    first: &str,
    dir: &Path,
) -> anyhow::Result<(Duration, Duration, usize)> {
    const SAMPLES: usize = 100;
    // The same configuration, with a data directory of its own.
    let second_config = dir.join("portal-second.yaml");
    std::fs::write(
        &second_config,
        format!(
            "{}\ndata_dir: {}\n",
            std::fs::read_to_string(config)?
                .lines()
                .filter(|l| !l.starts_with("data_dir:"))
                .collect::<Vec<_>>()
                .join("\n"),
            dir.join("data-second").display()
        ),
    )?;
    let second = crate::portal_process::PortalChild::start(&second_config, Stdio::inherit())?;
    let probes = dir.join("probes");
    std::fs::create_dir_all(&probes)?;
    let mut times = Vec::with_capacity(SAMPLES);
    for i in 0..SAMPLES {
        let file = probes.join(format!("probe-{i}.yaml"));
        std::fs::write(
            &file,
            format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: replica-probe-{i}\nspec:\n  type: service\n  lifecycle: production\n  owner: group-0\n"
            ),
        )?;
        let registered = client
            .post(format!("{first}/api/catalog/locations"))
            .json(&serde_json::json!({"type": "file", "target": file.display().to_string()}))
            .send()
            .await?;
        if !registered.status().is_success() {
            bail!(
                "registering {}: {}",
                file.display(),
                registered.text().await?
            );
        }
        let written = Instant::now();
        let on_second = format!(
            "{}/api/catalog/entities/by-name/component/default/replica-probe-{i}",
            second.url
        );
        loop {
            if client.get(&on_second).send().await?.status().is_success() {
                times.push(written.elapsed());
                break;
            }
            if written.elapsed() > Duration::from_secs(30) {
                bail!("replica-probe-{i} was not served by the second portal within 30 s");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p) as usize];
    Ok((pct(0.5), pct(0.99), times.len()))
}

pub fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

pub struct Load {
    pub requests: usize,
    pub errors: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub rps: f64,
}

impl Load {
    /// The report's table row: `| name | req/s | p50 | p99 | requests | errors |`.
    pub fn row(&self, name: &str) -> String {
        format!(
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} | {} |",
            self.rps,
            self.p50.as_secs_f64() * 1000.0,
            self.p99.as_secs_f64() * 1000.0,
            self.requests,
            self.errors
        )
    }
}

pub async fn load(
    client: &reqwest::Client,
    connections: usize,
    seconds: u64,
    urls: Arc<Vec<String>>,
) -> Load {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..connections {
        let client = client.clone();
        let urls = urls.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0usize;
            let mut i = worker;
            while Instant::now() < deadline {
                let url = &urls[i % urls.len()];
                i = i.wrapping_mul(31).wrapping_add(17);
                let t = Instant::now();
                match client.get(url).send().await {
                    // A 404 is an answer (a hidden or missing entity).
                    Ok(r) if r.status().is_success() || r.status() == 404 => {
                        let _ = r.bytes().await;
                        latencies.push(t.elapsed());
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 - 1.0) * p) as usize)
            .copied()
            .unwrap_or_default()
    };
    Load {
        requests: all.len(),
        errors,
        p50: pct(0.50),
        p99: pct(0.99),
        rps: all.len() as f64 / elapsed,
    }
}

pub async fn run(args: CatalogArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: a debug build; run `cargo run --release -p portal-bench -- catalog` for real figures"
        );
    }
    let mut report = String::new();
    let runs: Vec<(usize, bool)> = args
        .sizes
        .iter()
        .flat_map(|&size| {
            std::iter::once((size, false)).chain(args.owner_policy.then_some((size, true)))
        })
        .collect();
    let admin_token = portal_auth::tokens::generate().0;
    for (size, with_policy) in runs {
        let dir = tempfile::tempdir()?;
        let catalog_dir = dir.path().join("catalog");
        let t = Instant::now();
        let expected = generate(&catalog_dir, size)?;
        eprintln!("generated {expected} entities in {:.1?}", t.elapsed());
        let config = dir.path().join("portal.yaml");
        let mut yaml = format!(
            "data_dir: {}\nplugins:\n  dir: {}\ncatalog:\n  locations:\n    - type: file\n      target: {}\n",
            dir.path().join("data").display(),
            dir.path().join("plugins").display(),
            catalog_dir.join("all.yaml").display()
        );
        let database = (args.store != "sled")
            .then(|| portal_store_postgres::testing::TestDatabase::create_on(&args.store));
        if let Some(db) = &database {
            let _ = writeln!(yaml, "store: {}", db.config.url);
        }
        if with_policy {
            let policy = dir.path().join("policy.yaml");
            std::fs::write(&policy, OWNER_POLICY)?;
            let _ = write!(
                yaml,
                "auth:\n  policy: {}\n  guest: {{ user_ref: user:default/user-0 }}\n  service_tokens:\n    - {{ name: bench, sha256: {}, permissions: [\"*\"] }}\n",
                policy.display(),
                portal_auth::tokens::hash(&admin_token)
            );
        }
        std::fs::write(&config, yaml)?;
        std::fs::create_dir_all(dir.path().join("plugins"))?;
        let started = Instant::now();
        let mut child = crate::portal_process::PortalChild::start(&config, Stdio::inherit())?;
        let pid = child.pid();
        let url = child.url.clone();
        let client = reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(args.connections)
            .build()?;
        let count_url = format!("{url}/api/catalog/entities/by-query?limit=0");
        let ingest = loop {
            let mut request = client.get(&count_url);
            if with_policy {
                request = request.bearer_auth(&admin_token);
            }
            let total = match request.send().await {
                Ok(r) => r
                    .json::<serde_json::Value>()
                    .await
                    .ok()
                    .and_then(|v| v["totalItems"].as_u64())
                    .unwrap_or(0),
                Err(_) => 0,
            };
            if total as usize >= expected {
                break started.elapsed();
            }
            if started.elapsed() > Duration::from_secs(900) {
                child.kill();
                bail!("ingest did not finish in 15 minutes ({total} of {expected})");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss = rss_mib(pid);
        eprintln!("{expected} entities ingested in {ingest:.2?}; RSS {rss:.0} MiB");
        let n = (size as f64 / 1.375).round() as usize;
        let by_name: Vec<String> = (0..1000)
            .map(|i| {
                format!(
                    "{url}/api/catalog/entities/by-name/component/default/component-{}",
                    (i * 7919) % n
                )
            })
            .collect();
        // Components group-0 owns (component c is owned by group c % groups):
        // what the guest may read when the owner policy is on, so the
        // policy's cost is measured on answers, not on 404s.
        let groups = (n / 50).max(1);
        let by_name_owned: Vec<String> = (0..n.div_ceil(groups))
            .map(|k| {
                format!(
                    "{url}/api/catalog/entities/by-name/component/default/component-{}",
                    k * groups
                )
            })
            .collect();
        let scenarios: Vec<(&str, Vec<String>, u64)> = vec![
            ("by-name", by_name, args.seconds),
            ("by-name, group-0's components (200 with the policy)", by_name_owned, args.seconds),
            (
                "by-query kind=component,spec.type=service limit 50",
                (0..10)
                    .map(|i| format!("{url}/api/catalog/entities/by-query?filter=kind=component,spec.type=service&limit=50&offset={}", i * 50))
                    .collect(),
                args.seconds,
            ),
            ("facets spec.type", vec![format!("{url}/api/catalog/entity-facets?facet=spec.type")], args.seconds),
            (
                "GET /entities?filter=kind=component&fields=metadata.name",
                vec![format!("{url}/api/catalog/entities?filter=kind=component&fields=metadata.name")],
                args.seconds,
            ),
        ];
        let policy_note = if with_policy {
            ", owner policy on (the guest is user-0 and reads only group-0's entities, groups and users: a hidden entity is answered with 404, counted here as an answer)"
        } else {
            ""
        };
        let _ = writeln!(
            report,
            "\n## {expected} entities ({n} components){policy_note}\n"
        );
        let _ = writeln!(
            report,
            "ingest until every entity is served: {:.2} s",
            ingest.as_secs_f64()
        );
        let _ = writeln!(report, "RSS after ingest: {rss:.0} MiB\n");
        let _ = writeln!(
            report,
            "| scenario | req/s | p50 | p99 | requests | errors |"
        );
        let _ = writeln!(report, "|---|---|---|---|---|---|");
        for (name, urls, seconds) in scenarios {
            let l = load(&client, args.connections, seconds, Arc::new(urls)).await;
            let line = l.row(name);
            eprintln!("{line}");
            let _ = writeln!(report, "{line}");
        }
        let rss_after = rss_mib(pid);
        let _ = writeln!(report, "\nRSS after the load: {rss_after:.0} MiB");
        if database.is_some() && !with_policy {
            let (p50, p99, samples) =
                replica_visibility(&client, &config, &url, dir.path()).await?;
            let _ = writeln!(
                report,
                "\nA location registered through one portal, served by a second on the same database ({samples} samples): p50 {:.1} ms, p99 {:.1} ms",
                p50.as_secs_f64() * 1000.0,
                p99.as_secs_f64() * 1000.0
            );
        }
        child.kill();
        drop(database);
    }
    println!(
        "# portal-bench catalog ({} connections, {} s per scenario){report}",
        args.connections, args.seconds
    );
    Ok(())
}
