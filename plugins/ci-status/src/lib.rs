//! CI status from GitHub Actions: the latest workflow runs of the repository named
//! by an entity's `github.com/project-slug` annotation. Talks to GitHub's REST API
//! (`GET /repos/{owner}/{repo}/actions/runs`), or to GitHub Enterprise when
//! `api_base_url` is configured.

use portal_plugin_sdk::{self as sdk, Plugin, PluginError, meta, panel};
use serde_json::Value;

struct CiStatus;

const SLUG_ANNOTATION: &str = "github.com/project-slug";
const RUNS: usize = 10;

impl Plugin for CiStatus {
    fn describe() -> meta::PluginInfo {
        sdk::info(
            "ci-status",
            env!("CARGO_PKG_VERSION"),
            "Latest GitHub Actions runs of an entity's repository",
        )
        .panel(
            "runs",
            "CI",
            meta::PanelPlacement::Tab,
            "metadata.annotations.github.com/project-slug",
        )
        .http_host("api.github.com")
        .secret("github-token")
        .config_key("api_base_url")
        .build()
    }

    fn render(request: panel::RenderRequest) -> Result<panel::View, PluginError> {
        let entity: Value = serde_json::from_str(&request.entity)
            .map_err(|e| sdk::error("bad-entity", e.to_string()))?;
        let mut view = sdk::ViewBuilder::new();
        let Some(slug) = entity["metadata"]["annotations"][SLUG_ANNOTATION].as_str() else {
            let empty = view.empty(format!(
                "Add the `{SLUG_ANNOTATION}` annotation to see CI runs."
            ));
            return Ok(view.finish(empty));
        };
        let base =
            sdk::config::get("api_base_url").unwrap_or_else(|| "https://api.github.com".into());
        let url = format!(
            "{}/repos/{slug}/actions/runs?per_page={RUNS}",
            base.trim_end_matches('/')
        );
        let token = sdk::config::get_secret("github-token").ok();
        let auth = token.as_ref().map(|t| format!("Bearer {t}"));
        let mut headers = vec![
            ("accept", "application/vnd.github+json"),
            ("user-agent", "portal-ci-status"),
            ("x-github-api-version", "2022-11-28"),
        ];
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        let response =
            sdk::http::get(&url, &headers).map_err(|e| sdk::error("upstream-failed", e))?;
        match response.status {
            200 => {}
            404 => {
                let empty = view.empty(format!(
                    "GitHub has no repository `{slug}` (or the token cannot see it)."
                ));
                return Ok(view.finish(empty));
            }
            401 | 403 => {
                return Err(sdk::error(
                    "unauthorized",
                    format!(
                        "GitHub refused the request ({}): check the `github-token` secret",
                        response.status
                    ),
                ));
            }
            status => {
                return Err(sdk::error(
                    "upstream-failed",
                    format!("GitHub answered {status} for {url}"),
                ));
            }
        }
        let body: Value = serde_json::from_str(&response.body)
            .map_err(|e| sdk::error("upstream-failed", format!("bad JSON: {e}")))?;
        let runs = body["workflow_runs"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if runs.is_empty() {
            let empty = view.empty(format!("No workflow runs yet in `{slug}`."));
            return Ok(view.finish(empty));
        }

        let finished: Vec<&Value> = runs.iter().filter(|r| r["status"] == "completed").collect();
        let passed = finished
            .iter()
            .filter(|r| r["conclusion"] == "success")
            .count();
        let rate = if finished.is_empty() {
            0
        } else {
            passed * 100 / finished.len()
        };
        let rate_tone = match rate {
            90.. => panel::Tone::Success,
            60.. => panel::Tone::Warning,
            _ => panel::Tone::Danger,
        };
        let stat_rate = view.stat("Success rate", format!("{rate}%"), rate_tone);
        let stat_runs = view.stat("Runs shown", runs.len().to_string(), panel::Tone::Neutral);
        let stats = view.row(vec![stat_rate, stat_runs]);

        let mut rows = Vec::new();
        for run in &runs {
            let number = run["run_number"].as_u64().unwrap_or(0);
            let link = view.link(
                format!("#{number}"),
                run["html_url"].as_str().unwrap_or("https://github.com"),
            );
            let workflow = view.text(run["name"].as_str().unwrap_or("?"));
            let branch = view.text(run["head_branch"].as_str().unwrap_or("?"));
            let sha = run["head_sha"].as_str().unwrap_or("");
            let commit = view.code("", sha.get(..7).unwrap_or(sha));
            let (label, tone) = outcome(run);
            let result = view.badge(label, tone);
            let started = view.text(run["created_at"].as_str().unwrap_or(""));
            rows.push(vec![link, workflow, branch, commit, result, started]);
        }
        let table = view.table(
            &["Run", "Workflow", "Branch", "Commit", "Result", "Started"],
            rows,
        );
        let root = view.stack(vec![stats, table]);
        Ok(view.finish(root))
    }
}

fn outcome(run: &Value) -> (String, panel::Tone) {
    match (run["status"].as_str(), run["conclusion"].as_str()) {
        (Some("completed"), Some("success")) => ("success".into(), panel::Tone::Success),
        (Some("completed"), Some("failure")) => ("failure".into(), panel::Tone::Danger),
        (Some("completed"), Some("cancelled")) => ("cancelled".into(), panel::Tone::Neutral),
        (Some("completed"), Some(other)) => (other.into(), panel::Tone::Warning),
        (Some(status), _) => (status.into(), panel::Tone::Info),
        _ => ("unknown".into(), panel::Tone::Neutral),
    }
}

sdk::export!(CiStatus);
