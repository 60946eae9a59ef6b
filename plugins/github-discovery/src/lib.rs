//! Discovers catalog entities in a GitHub organisation: lists its repositories
//! (`GET /orgs/{org}/repos`) and reads each one's `catalog-info.yaml` through the
//! contents API (`GET /repos/{owner}/{repo}/contents/{path}`). Repositories without
//! the file, and archived ones, are skipped. What it returns replaces what it
//! returned last time, so a deleted file or repository leaves the catalog.

use base64::Engine as _;
use portal_plugin_sdk::{self as sdk, Plugin, PluginError, entity_provider::ProvidedEntity, meta};
use serde_json::Value;

struct GithubDiscovery;

const PAGE: usize = 100;
/// Stops a misconfigured org from turning one pass into thousands of requests.
const MAX_PAGES: usize = 50;

impl Plugin for GithubDiscovery {
    fn describe() -> meta::PluginInfo {
        sdk::info(
            "github-discovery",
            env!("CARGO_PKG_VERSION"),
            "Finds catalog-info.yaml files in the repositories of a GitHub organisation",
        )
        .provider(
            "repositories",
            "catalog-info.yaml of every repository in the organisation",
            300,
        )
        .http_host("api.github.com")
        .secret("github-token")
        .config_key("org")
        .config_key("api_base_url")
        .config_key("catalog_path")
        .build()
    }

    fn discover(provider_id: String) -> Result<Vec<ProvidedEntity>, PluginError> {
        if provider_id != "repositories" {
            return Err(sdk::error("unknown-provider", provider_id));
        }
        let org = sdk::config::get("org").ok_or_else(|| {
            sdk::error(
                "not-configured",
                "set plugins.grants.github-discovery.config.org",
            )
        })?;
        let base =
            sdk::config::get("api_base_url").unwrap_or_else(|| "https://api.github.com".into());
        let base = base.trim_end_matches('/').to_owned();
        let path = sdk::config::get("catalog_path").unwrap_or_else(|| "catalog-info.yaml".into());
        let client = Github::new(sdk::config::get_secret("github-token").ok());

        let mut entities = Vec::new();
        let mut scanned = 0;
        for page in 1..=MAX_PAGES {
            let repos = client.get_json(&format!(
                "{base}/orgs/{org}/repos?per_page={PAGE}&page={page}"
            ))?;
            let repos = repos.and_then(|v| v.as_array().cloned()).ok_or_else(|| {
                sdk::error("upstream-failed", format!("organisation `{org}` not found"))
            })?;
            for repo in &repos {
                if repo["archived"].as_bool().unwrap_or(false) {
                    continue;
                }
                scanned += 1;
                let Some(name) = repo["name"].as_str() else {
                    continue;
                };
                let branch = repo["default_branch"].as_str().unwrap_or("main");
                let url = format!("{base}/repos/{org}/{name}/contents/{path}?ref={branch}");
                let Some(file) = client.get_json(&url)? else {
                    continue;
                };
                let content = file["content"]
                    .as_str()
                    .unwrap_or("")
                    .replace(['\n', '\r'], "");
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(content)
                    .map_err(|e| {
                        sdk::error(
                            "upstream-failed",
                            format!("{org}/{name}/{path}: bad base64: {e}"),
                        )
                    })?;
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let location = file["html_url"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        format!("https://github.com/{org}/{name}/blob/{branch}/{path}")
                    });
                for document in split_documents(&text) {
                    entities.push(ProvidedEntity {
                        body: document,
                        location: location.clone(),
                    });
                }
            }
            if repos.len() < PAGE {
                break;
            }
        }
        sdk::info!(
            "scanned {scanned} repositories in {org}, found {} entities",
            entities.len()
        );
        Ok(entities)
    }
}

struct Github {
    auth: Option<String>,
}

impl Github {
    fn new(token: Option<String>) -> Github {
        Github {
            auth: token.map(|t| format!("Bearer {t}")),
        }
    }

    /// GET a JSON document; `None` for 404.
    fn get_json(&self, url: &str) -> Result<Option<Value>, PluginError> {
        let mut headers = vec![
            ("accept", "application/vnd.github+json"),
            ("user-agent", "portal-github-discovery"),
            ("x-github-api-version", "2022-11-28"),
        ];
        if let Some(auth) = &self.auth {
            headers.push(("authorization", auth.as_str()));
        }
        let response =
            sdk::http::get(url, &headers).map_err(|e| sdk::error("upstream-failed", e))?;
        match response.status {
            200 => serde_json::from_str(&response.body)
                .map(Some)
                .map_err(|e| sdk::error("upstream-failed", format!("{url}: bad JSON: {e}"))),
            404 => Ok(None),
            401 | 403 => Err(sdk::error(
                "unauthorized",
                format!(
                    "GitHub refused {url} ({}): check the `github-token` secret",
                    response.status
                ),
            )),
            status => Err(sdk::error(
                "upstream-failed",
                format!("GitHub answered {status} for {url}"),
            )),
        }
    }
}

/// Splits a multi-document YAML file on `---` lines, dropping empty documents.
fn split_documents(text: &str) -> Vec<String> {
    let mut documents = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            documents.push(String::new());
        } else {
            let current = documents.last_mut().expect("never empty");
            current.push_str(line);
            current.push('\n');
        }
    }
    documents.retain(|d| {
        d.lines()
            .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    });
    documents
}

sdk::export!(GithubDiscovery);
