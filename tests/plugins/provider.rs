//! An entity provider doing real work: `github-discovery` lists an organisation's
//! repositories and reads each `catalog-info.yaml` through a stand-in for
//! GitHub's REST API (same paths, same JSON shapes, base64 file content).

use crate::{start, wait_loaded};
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::routing::get;
use base64::Engine as _;
use portal_tests::stand_in::StandIn;
use portal_tests::{built_plugin, install_plugin};
use serde_json::{Value, json};
use std::collections::HashMap;

const PAYMENTS_CATALOG: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: payments
spec:
  type: service
  lifecycle: production
  owner: team-a
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: payments-api
spec:
  type: openapi
  lifecycle: production
  owner: team-a
  definition: 'openapi: 3.0.0'
";

fn github() -> StandIn {
    StandIn::serve(|_| {
        axum::Router::new()
            .route(
                "/orgs/{org}/repos",
                get(|Path(org): Path<String>, Query(q): Query<HashMap<String, String>>| async move {
                    if org != "acme" {
                        return (StatusCode::NOT_FOUND, Json(json!({ "message": "Not Found" })));
                    }
                    let page: u32 = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(1);
                    let repos = if page == 1 {
                        json!([
                            { "name": "payments", "default_branch": "main", "archived": false },
                            { "name": "legacy", "default_branch": "master", "archived": true },
                            { "name": "scratch", "default_branch": "main", "archived": false },
                        ])
                    } else {
                        json!([])
                    };
                    (StatusCode::OK, Json(repos))
                }),
            )
            .route(
                "/repos/{owner}/{repo}/contents/{*path}",
                get(|Path((owner, repo, path)): Path<(String, String, String)>| async move {
                    if owner == "acme" && repo == "payments" && path == "catalog-info.yaml" {
                        let content = base64::engine::general_purpose::STANDARD.encode(PAYMENTS_CATALOG);
                        // GitHub wraps base64 content at 60 characters.
                        let wrapped: Vec<String> =
                            content.as_bytes().chunks(60).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
                        return (
                            StatusCode::OK,
                            Json(json!({
                                "type": "file", "encoding": "base64", "name": "catalog-info.yaml",
                                "path": "catalog-info.yaml", "content": wrapped.join("\n"),
                                "html_url": "https://github.com/acme/payments/blob/main/catalog-info.yaml"
                            })),
                        );
                    }
                    (StatusCode::NOT_FOUND, Json(json!({ "message": "Not Found" })))
                }),
            )
    })
}

#[test]
fn github_discovery_finds_catalog_files() {
    let github = github();
    let portal = start(
        &format!(
            "    github-discovery:\n      allowed_hosts: [\"{}\"]\n      config: {{ org: acme, api_base_url: \"{}\" }}\n",
            github.addr,
            github.url()
        ),
        "",
    );
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("github-discovery.wasm"),
        "github-discovery.wasm",
    );
    let status = wait_loaded(&portal, "github-discovery.wasm", "1.0.0");
    assert_eq!(status["providers"][0]["id"], "repositories");

    let response = portal
        .post("/api/plugins/github-discovery/providers/repositories/discover")
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    assert_eq!(
        status,
        200,
        "discover failed: {text}\nstand-in saw: {:?}\nportal log:\n{}",
        github.requests.lock().unwrap(),
        portal.log()
    );
    let body: Value = serde_json::from_str(&text).unwrap();
    let items = body["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        2,
        "two documents from the one repository that has a catalog file: {body}"
    );
    assert!(
        items[0]["body"]
            .as_str()
            .unwrap()
            .contains("name: payments")
    );
    assert!(items[1]["body"].as_str().unwrap().contains("kind: API"));
    assert_eq!(
        items[0]["location"],
        "https://github.com/acme/payments/blob/main/catalog-info.yaml"
    );

    let requests = github.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("/orgs/acme/repos?per_page=100&page=1")),
        "{requests:?}"
    );
    assert!(
        !requests.iter().any(|r| r.contains("/legacy/")),
        "archived repositories are skipped: {requests:?}"
    );
}

#[test]
fn a_misconfigured_provider_says_what_to_fix() {
    let portal = start("", "");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("github-discovery.wasm"),
        "github-discovery.wasm",
    );
    wait_loaded(&portal, "github-discovery.wasm", "1.0.0");
    let response = portal
        .post("/api/plugins/github-discovery/providers/repositories/discover")
        .send()
        .unwrap();
    assert_eq!(response.status().as_u16(), 502);
    let body: Value = response.json().unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("not-configured") && message.contains("config.org"),
        "{message}"
    );
}
