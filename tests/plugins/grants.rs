//! Outbound HTTP with a grant: the CI panel talks to a stand-in for GitHub's
//! Actions API on 127.0.0.1 (same request and response shape), with the token
//! secret injected by configuration. The same call to a port it was not granted
//! is refused.

use crate::{component, render, start, status, texts, wait_loaded};
use axum::Json;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use portal_tests::stand_in::StandIn;
use portal_tests::{built_plugin, install_plugin};
use serde_json::{Value, json};

const TOKEN: &str = "ghp_test_token";

/// `GET /repos/{owner}/{repo}/actions/runs` as GitHub answers it (trimmed to the
/// fields the plugin reads, same names and types).
fn github_actions() -> StandIn {
    StandIn::serve(|_| {
        axum::Router::new().route(
            "/repos/{owner}/{repo}/actions/runs",
            get(|Path((owner, repo)): Path<(String, String)>, headers: HeaderMap| async move {
                if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {TOKEN}")) {
                    return (StatusCode::UNAUTHORIZED, Json(json!({ "message": "Bad credentials" })));
                }
                if owner != "acme" || repo != "payments" {
                    return (StatusCode::NOT_FOUND, Json(json!({ "message": "Not Found" })));
                }
                let run = |n: u64, conclusion: Value, status: &str| {
                    json!({
                        "id": 9_000 + n, "name": "CI", "head_branch": "main",
                        "head_sha": format!("{n:07}abcdef0123456789"), "status": status,
                        "conclusion": conclusion, "run_number": n, "event": "push",
                        "html_url": format!("https://github.com/acme/payments/actions/runs/{}", 9_000 + n),
                        "created_at": "2026-11-20T10:00:00Z"
                    })
                };
                (
                    StatusCode::OK,
                    Json(json!({
                        "total_count": 4,
                        "workflow_runs": [
                            run(104, Value::Null, "in_progress"),
                            run(103, json!("success"), "completed"),
                            run(102, json!("failure"), "completed"),
                            run(101, json!("success"), "completed"),
                        ]
                    })),
                )
            }),
        )
    })
}

fn ci_grant(allowed: &str, api: &str) -> String {
    format!(
        "    ci-status:\n      allowed_hosts: [\"{allowed}\"]\n      secrets: [github-token]\n      config: {{ api_base_url: \"{api}\" }}\n"
    )
}

#[test]
fn granted_http_reaches_the_service_with_the_secret() {
    let github = github_actions();
    let portal = start(
        &ci_grant(&github.addr.to_string(), &github.url()),
        &format!("secrets:\n  github-token: {{ value: {TOKEN} }}\n"),
    );
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("ci-status.wasm"),
        "ci-status.wasm",
    );
    let loaded = wait_loaded(&portal, "ci-status.wasm", "1.0.0");
    assert!(
        loaded["missingGrants"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m.as_str().unwrap().contains("api.github.com"))
    );

    let (code, body) = render(&portal, "ci-status", "runs", &component("payments"));
    assert_eq!(code, 200, "{body}");
    let found = texts(&body["view"]);
    for expected in [
        "#104",
        "#101",
        "success",
        "failure",
        "in_progress",
        "66%",
        "0000103",
    ] {
        assert!(
            found
                .iter()
                .any(|t| t == expected || t.starts_with(expected)),
            "{expected} in {found:?}"
        );
    }
    assert_eq!(github.request_count(), 1);

    // A repository the service does not have: an empty state, not an error.
    let mut other = component("other");
    other["metadata"]["annotations"]["github.com/project-slug"] = json!("acme/nothing");
    let (code, body) = render(&portal, "ci-status", "runs", &other);
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["view"]["type"], "empty");
}

#[test]
fn the_same_call_to_another_port_is_refused() {
    let github = github_actions();
    let elsewhere = github_actions();
    // Granted the first server's port, configured to call the second's.
    let portal = start(
        &ci_grant(&github.addr.to_string(), &elsewhere.url()),
        &format!("secrets:\n  github-token: {{ value: {TOKEN} }}\n"),
    );
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("ci-status.wasm"),
        "ci-status.wasm",
    );
    wait_loaded(&portal, "ci-status.wasm", "1.0.0");
    let (code, body) = render(&portal, "ci-status", "runs", &component("payments"));
    assert_eq!(code, 502, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("upstream-failed") && message.contains("HttpRequestDenied"),
        "{message}"
    );
    assert_eq!(
        elsewhere.request_count(),
        0,
        "nothing reached the server it was not granted"
    );
    assert_eq!(github.request_count(), 0);
    let status = status(&portal, "ci-status.wasm").unwrap();
    let denial = status["health"]["lastDenial"]["message"].as_str().unwrap();
    assert!(
        denial.contains(&elsewhere.addr.port().to_string()),
        "{denial}"
    );
}
