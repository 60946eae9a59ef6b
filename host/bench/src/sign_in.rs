//! `portal-bench sign-in`: the sign-in round trip against a real OpenID
//! provider on 127.0.0.1 (`oidc-provider` from npm, as the tests run it).
//!
//! Each round is a fresh browser (no provider session): the portal's
//! `start`, the provider's authorization, login and consent pages, and the
//! portal's callback (code exchange, ID token verification, the user
//! matched in the catalog, the session stored). It reports the whole round
//! trip and the portal's part of it (`start` plus the callback).

use anyhow::Context;
use portal_tests::oidc::{Agent, CLIENT_SECRET, OidcProvider, free_port};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct SignInArgs {
    /// Sign-ins to measure (after 3 to warm up).
    #[arg(long, default_value_t = 100)]
    pub rounds: usize,
}

pub async fn run(args: SignInArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    std::fs::write(
        dir.path().join("org.yaml"),
        "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: { name: jane }\nspec: { profile: { email: jane@acme.example }, memberOf: [] }\n",
    )?;
    std::fs::write(dir.path().join("secret"), CLIENT_SECRET)?;
    let portal_port = free_port();
    let portal_url = format!("http://127.0.0.1:{portal_port}");
    let provider = OidcProvider::start(
        free_port(),
        &format!("{portal_url}/api/auth/acme/callback"),
        &dir.path().join("keys.json"),
        false,
    )?;
    let yaml = format!(
        "server: {{ port: {portal_port}, base_url: \"{portal_url}\" }}\ndata_dir: {data}\ncatalog:\n  locations: [ {{ type: file, target: {org} }} ]\nauth:\n  providers:\n    - {{ id: acme, issuer: \"{issuer}\", client_id: portal, client_secret: {{ file: {secret} }} }}\n",
        data = dir.path().join("data").display(),
        org = dir.path().join("org.yaml").display(),
        issuer = provider.issuer,
        secret = dir.path().join("secret").display(),
    );
    let config = portal_config::Config::from_yaml(&yaml, "bench", dir.path())?;
    let portal = portal_server::Portal::start(config).await?;
    // The user must be in the catalog before the first sign-in.
    let deadline = Instant::now() + Duration::from_secs(30);
    while portal
        .state
        .catalog
        .get("user", "default", "jane", &portal_catalog::Access::all())
        .is_none()
    {
        anyhow::ensure!(
            Instant::now() < deadline,
            "the catalog did not read the user"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let rounds = args.rounds;
    let url = portal_url.clone();
    let (whole, portal_part) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut whole = Vec::with_capacity(rounds);
        let mut portal_part = Vec::with_capacity(rounds);
        for round in 0..rounds + 3 {
            let mut agent = Agent::new();
            let start = format!("{url}/api/auth/acme/start?redirect=/catalog");
            let began = Instant::now();
            let first = agent.get(&start)?;
            let start_time = began.elapsed();
            let authorize = first.location.context("start did not redirect")?;
            let callback = agent.walk_provider(&authorize, &url, "jane")?;
            let at_callback = Instant::now();
            let answer = agent.get(&callback)?;
            let callback_time = at_callback.elapsed();
            anyhow::ensure!(
                answer.status == 303 && agent.cookie(&url, "portal_session").is_some(),
                "sign-in {round} failed: {} {}",
                answer.status,
                answer.body
            );
            if round >= 3 {
                whole.push(began.elapsed());
                portal_part.push(start_time + callback_time);
            }
        }
        Ok((whole, portal_part))
    })
    .await??;

    println!("# portal-bench sign-in\n");
    println!(
        "{rounds} sign-ins, one after another, each a new browser, against oidc-provider on 127.0.0.1\n"
    );
    println!("| part | p50 | p99 | max |\n|---|---|---|---|");
    for (name, mut times) in [
        (
            "whole round trip (portal, provider's pages, callback)",
            whole,
        ),
        (
            "the portal's part (start + callback: code exchange, ID token check, user lookup, session)",
            portal_part,
        ),
    ] {
        times.sort();
        let at = |q: f64| times[((times.len() as f64 * q) as usize).min(times.len() - 1)];
        println!(
            "| {name} | {:.1} ms | {:.1} ms | {:.1} ms |",
            ms(at(0.5)),
            ms(at(0.99)),
            ms(*times.last().unwrap())
        );
    }
    portal.shutdown().await;
    drop(provider);
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
