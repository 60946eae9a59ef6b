//! `portal-bench scaffolder`: software templates, on the shape Backstage's
//! scaffolder was measured with (`shared/reference/backstage.md` §8): a template
//! of `fetch:template` (a 51-file skeleton with conditionals and loops),
//! `catalog:write` and `debug:log`, run by the first-party `builtin-actions`
//! plugin in a portal child process.
//!
//! Measures: POST /v2/tasks to the completion event (the task's live log read
//! over SSE), a dry run, the cost of each extra trivial step, 20 tasks
//! submitted at once, and how long after an event is written a watcher has it.

use crate::stats::{Summary, human};
use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Args, Debug)]
pub struct ScaffolderArgs {
    /// Tasks per latency figure.
    #[arg(long, default_value_t = 50)]
    tasks: usize,
    /// Where the built plugins are (default: $PORTAL_TEST_PLUGINS).
    #[arg(long, env = "PORTAL_TEST_PLUGINS")]
    plugins: PathBuf,
}

/// Trivial steps in the long variant of the step-cost template.
const EXTRA_STEPS: usize = 100;

pub async fn run(args: ScaffolderArgs) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; run it with `cargo xtask bench scaffolder`");
    }
    let dir = tempfile::tempdir()?;
    let templates = dir.path().join("templates");
    write_templates(&templates)?;
    let plugins_dir = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins_dir)?;
    let source = args.plugins.join("builtin-actions.wasm");
    std::fs::copy(&source, plugins_dir.join("builtin-actions.wasm")).with_context(|| {
        format!(
            "{} (build the plugins with `cargo xtask build-plugins`)",
            source.display()
        )
    })?;
    let config = dir.path().join("portal.yaml");
    std::fs::write(
        &config,
        format!(
            "data_dir: {data}\nplugins:\n  dir: {plugins}\n  cache_dir: {cache}\ncatalog:\n  locations:\n    - type: file\n      target: {catalog}\n",
            data = dir.path().join("data").display(),
            plugins = plugins_dir.display(),
            cache = std::env::current_dir()?
                .join("target")
                .join("portal-bench-cache")
                .display(),
            catalog = templates.join("all.yaml").display(),
        ),
    )?;
    let child = crate::portal_process::PortalChild::start(&config, Stdio::null())?;
    let portal = Portal {
        url: child.url.clone(),
        client: reqwest::Client::builder().no_proxy().build()?,
    };
    let report = measure(&portal, &args, &templates).await;
    drop(child);
    println!("{}", report?);
    Ok(())
}

struct Portal {
    url: String,
    client: reqwest::Client,
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

    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("{path}: {status}: {body}");
        }
        Ok(body)
    }

    /// Creates a task and reads its live log to the end. Returns the time from
    /// the POST to the completion event, and each event's delay (from its
    /// `createdAt` to its arrival here).
    async fn run_task(&self, template: &str) -> anyhow::Result<(Duration, Vec<Duration>)> {
        let started = Instant::now();
        let created = self
            .post(
                "/api/scaffolder/v2/tasks",
                &json!({ "templateRef": template, "values": values(), "secrets": { "token": "s3cret" } }),
            )
            .await?;
        let id = created["id"].as_str().context("no task id")?;
        let mut response = self
            .client
            .get(format!(
                "{}/api/scaffolder/v2/tasks/{id}/eventstream",
                self.url
            ))
            .send()
            .await?;
        let mut pending = String::new();
        let mut delays = Vec::new();
        let mut completed = false;
        while let Some(chunk) = response.chunk().await? {
            let now = SystemTime::now();
            pending.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = pending.find("\n\n") {
                let frame: String = pending.drain(..end + 2).collect();
                let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data:")) else {
                    continue;
                };
                let event: Value = serde_json::from_str(data.trim())?;
                if let Some(at) = event["createdAt"].as_str().and_then(parse_rfc3339) {
                    delays.push(now.duration_since(at).unwrap_or_default());
                }
                if event["type"] == "completion" {
                    if event["body"]["status"] != "completed" {
                        bail!("task {id} did not complete: {event}");
                    }
                    completed = true;
                }
            }
        }
        if !completed {
            bail!("task {id}: the stream ended without a completion");
        }
        Ok((started.elapsed(), delays))
    }
}

fn values() -> Value {
    json!({
        "name": "bench-service",
        "owner": "team-a",
        "withDocs": true,
        "withCi": false,
        "endpoints": ["orders", "payments", "refunds", "customers", "invoices"],
    })
}

async fn measure(
    portal: &Portal,
    args: &ScaffolderArgs,
    templates: &Path,
) -> anyhow::Result<String> {
    wait_ready(portal).await?;
    // Warm-up: the plugin's first calls, the first store writes.
    for _ in 0..3 {
        portal.run_task("template:default/bench-service").await?;
    }

    let mut report = format!(
        "# portal-bench scaffolder ({} tasks per figure; fetch:template of a 51-file skeleton + catalog:write + debug:log)\n\n",
        args.tasks
    );

    // 1. One task at a time.
    let mut totals = Vec::new();
    let mut delays = Vec::new();
    for _ in 0..args.tasks {
        let (total, d) = portal.run_task("template:default/bench-service").await?;
        totals.push(total);
        delays.extend(d);
    }
    let task = Summary::of(totals);

    // 2. Dry run of the same template, its files sent along.
    let template: Value = serde_saphyr::from_str(&std::fs::read_to_string(
        templates.join("bench-service.yaml"),
    )?)?;
    let contents = directory_contents(&templates.join("bench-service"))?;
    let mut dry = Vec::new();
    for _ in 0..args.tasks {
        let started = Instant::now();
        let result = portal
            .post(
                "/api/scaffolder/v2/dry-run",
                &json!({ "template": template, "values": values(), "directoryContents": contents }),
            )
            .await?;
        if result["status"] != "completed" {
            bail!("dry run: {result}");
        }
        dry.push(started.elapsed());
    }
    let dry = Summary::of(dry);

    // 3. Each extra trivial step: one step vs 1 + EXTRA_STEPS.
    let (mut short, mut long) = (Vec::new(), Vec::new());
    for _ in 0..args.tasks.min(20) {
        short.push(portal.run_task("template:default/steps-1").await?.0);
        long.push(portal.run_task("template:default/steps-many").await?.0);
    }
    let (short, long) = (Summary::of(short), Summary::of(long));
    let per_step = long.median.saturating_sub(short.median) / EXTRA_STEPS as u32;

    // 4. Twenty at once.
    let mut rounds = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let runs: Vec<_> = (0..20)
            .map(|_| portal.run_task("template:default/bench-service"))
            .collect();
        for result in futures::future::join_all(runs).await {
            result?;
        }
        rounds.push(started.elapsed());
    }
    let burst = Summary::of(rounds);
    let delay = Summary::of(delays);

    report.push_str(
        "| figure | median | p99 | Backstage 4.3.0 (median) | target |\n|---|---|---|---|---|\n",
    );
    report.push_str(&format!(
        "| POST /v2/tasks → completed | {} | {} | 297 ms | ≤ 30 ms |\n",
        human(task.median),
        human(task.p99)
    ));
    report.push_str(&format!(
        "| POST /v2/dry-run | {} | {} | 251 ms | |\n",
        human(dry.median),
        human(dry.p99)
    ));
    report.push_str(&format!(
        "| each extra trivial step (debug:log) | {} | | 3.1 ms | ≤ 0.1 ms |\n",
        human(per_step)
    ));
    report.push_str(&format!(
        "| 20 tasks submitted at once, all done (5 rounds) | {} | max {} | 3.83 s | ≤ 0.3 s |\n",
        human(burst.median),
        human(burst.p99)
    ));
    report.push_str(&format!(
        "| a log event's delay, written → at a watcher ({} events; ms clock) | {} | {} | 1 s batches | ≤ 50 ms |\n",
        delay.count,
        human(delay.median),
        human(delay.p99)
    ));
    report.push_str(&format!(
        "\n(step cost from tasks of 1 and {} debug:log steps: {} and {} median)\n",
        1 + EXTRA_STEPS,
        human(short.median),
        human(long.median)
    ));
    Ok(report)
}

async fn wait_ready(portal: &Portal) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let actions = portal
            .get_json("/api/scaffolder/v2/actions")
            .await
            .unwrap_or(Value::Null);
        let has_actions = actions
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["id"] == "fetch:template"));
        let templates = portal
            .get_json("/api/catalog/entities?filter=kind=template")
            .await
            .unwrap_or(Value::Null);
        if has_actions && templates.as_array().is_some_and(|t| t.len() == 3) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the portal did not load the actions plugin and the templates within 120 s")
}

/// The templates: `bench-service` (the measured shape) and two step-cost ones.
fn write_templates(root: &Path) -> anyhow::Result<()> {
    let skeleton = root.join("bench-service").join("skeleton");
    std::fs::create_dir_all(skeleton.join("src/endpoints"))?;
    // 51 files: 48 modules with a conditional and a loop each, a README, a
    // catalog file and a CI file that only renders when asked for.
    for i in 0..48 {
        std::fs::write(
            skeleton.join(format!("src/endpoints/module_{i}.rs")),
            format!(
                "//! Module {i} of ${{{{ values.name }}}}, owned by ${{{{ values.owner }}}}.\n\
                 {{% if values.withDocs %}}/// Documented.\n{{% endif %}}\
                 {{% for e in values.endpoints %}}pub fn ${{{{ e }}}}_{i}() -> &'static str {{ \"${{{{ e | upper }}}}\" }}\n{{% endfor %}}"
            ),
        )?;
    }
    std::fs::write(
        skeleton.join("README.md"),
        "# ${{ values.name }}\n\n{% for e in values.endpoints %}- `${{ e }}`\n{% endfor %}",
    )?;
    std::fs::write(
        skeleton.join("catalog-info.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: ${{ values.name }}\nspec:\n  type: service\n  lifecycle: experimental\n  owner: ${{ values.owner }}\n",
    )?;
    std::fs::write(
        skeleton.join("ci.yaml"),
        "{% if values.withCi %}on: push\n{% endif %}name: ${{ values.name }}\n",
    )?;
    let service = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: bench-service
spec:
  owner: team-a
  type: service
  parameters:
    - required: [name, owner]
      properties:
        name: {type: string}
        owner: {type: string}
  steps:
    - id: fetch
      action: fetch:template
      input:
        url: ./bench-service/skeleton
        values:
          name: ${{ parameters.name }}
          owner: ${{ parameters.owner }}
          withDocs: ${{ parameters.withDocs }}
          withCi: ${{ parameters.withCi }}
          endpoints: ${{ parameters.endpoints }}
    - id: write
      action: catalog:write
      input:
        filePath: catalog-info.yaml
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata: {name: '${{ parameters.name }}'}
          spec: {type: service, lifecycle: experimental, owner: '${{ parameters.owner }}'}
    - id: log
      action: debug:log
      input:
        message: created ${{ parameters.name }} with token ${{ secrets.token }}
  output:
    links:
      - title: Entity
        entityRef: component:default/${{ parameters.name }}
"#;
    std::fs::write(root.join("bench-service.yaml"), service)?;
    let steps = |name: &str, count: usize| {
        let mut text = format!(
            "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata:\n  name: {name}\nspec:\n  owner: team-a\n  type: service\n  steps:\n"
        );
        for i in 0..count {
            text.push_str(&format!(
                "    - id: s{i}\n      action: debug:log\n      input: {{ message: 'step {i} of ${{{{ parameters.name }}}}' }}\n"
            ));
        }
        text
    };
    std::fs::write(
        root.join("all.yaml"),
        format!(
            "{service}---\n{}---\n{}",
            steps("steps-1", 1),
            steps("steps-many", 1 + EXTRA_STEPS)
        ),
    )?;
    Ok(())
}

fn directory_contents(root: &Path) -> anyhow::Result<Vec<Value>> {
    use base64::Engine as _;
    let mut files = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(root.parent().unwrap_or(root))?;
                files.push(json!({
                    "path": relative.to_string_lossy(),
                    "base64Content": base64::engine::general_purpose::STANDARD.encode(std::fs::read(&path)?),
                }));
            }
        }
    }
    Ok(files)
}

/// `2026-12-07T01:02:03.456Z` (what the portal writes) as a `SystemTime`.
fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, millis) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<u64>().ok());
    let (h, min, s) = (t.next()??, t.next()??, t.next()??);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe - 719_468) as u64;
    let ms = (days * 86_400 + h * 3600 + min * 60 + s) * 1000 + millis.parse::<u64>().ok()?;
    Some(UNIX_EPOCH + Duration::from_millis(ms))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_what_the_portal_writes() {
        let t = super::parse_rfc3339("2026-12-07T01:02:03.456Z").unwrap();
        let ms = t.duration_since(super::UNIX_EPOCH).unwrap().as_millis();
        assert_eq!(ms, 1_796_605_323_456);
    }
}
