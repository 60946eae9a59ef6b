//! `cargo xtask <command>`: every build chore in one place, with no tool beyond
//! what a fresh machine of this kind has (rustup, cargo, python3, node/npm, apt).
//!
//! - `run [-- ARGS]`: set up, build everything, run `portal serve` with the
//!   first-party and example plugins installed.
//! - `test [-- CARGO-TEST-ARGS]`: set up, build everything, run the whole suite.
//! - `setup`: install what builds need (wasm targets, componentize-py, npm
//!   packages, Chromium and chromedriver for the browser tests); idempotent.
//! - `build`: plugins, the web UI's hydration bundle, then the portal.
//! - `build-web`: only the hydration bundle (into `<target>/web-bundle/`).
//! - `build-plugins`: build every plugin into `target/portal-plugins/`.
//! - `bench <plugins|catalog|...> [ARGS]`: run a benchmark in release mode.
//! - `freeze-fixtures`: rebuild the frozen `portal:plugin@1.0.0` fixtures.

mod plugins;
mod tools;
mod util;

use anyhow::{Result, bail};
use util::{cargo, root, target_dir};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Err(e) = run(&args) {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: &[String]) -> Result<()> {
    let (command, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => ("help", &[][..]),
    };
    let rest: Vec<String> = rest.iter().skip_while(|a| *a == "--").cloned().collect();
    match command {
        "setup" => tools::setup(tools::Needs::all()),
        "build-plugins" => {
            tools::setup(tools::Needs::plugins())?;
            plugins::build_all()
        }
        "build" => build(),
        "build-web" => {
            tools::setup(tools::Needs::plugins())?;
            web_bundle()
        }
        "run" => {
            build()?;
            run_portal(&rest)
        }
        "test" => test(&rest),
        "bench" => bench(&rest),
        "freeze-fixtures" => {
            tools::setup(tools::Needs::plugins())?;
            plugins::freeze_fixtures()
        }
        "help" | "--help" | "-h" => {
            println!(
                "{}",
                include_str!("main.rs")
                    .lines()
                    .take_while(|l| l.starts_with("//!"))
                    .map(|l| l.trim_start_matches("//!").trim_start_matches(' '))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            Ok(())
        }
        other => bail!("unknown command `{other}`; try `cargo xtask help`"),
    }
}

/// Everything a run needs, built.
fn build() -> Result<()> {
    build_with(&["build", "-p", "portal"])
}

fn build_with(portal_build: &[&str]) -> Result<()> {
    tools::setup(tools::Needs::all())?;
    plugins::build_all()?;
    web_bundle()?;
    util::step("building the portal");
    cargo(portal_build)
}

/// The web UI's hydration bundle: `web/hydrate` for wasm32-unknown-unknown,
/// then `portal-web-bundler` (wasm-bindgen as a library, the version in
/// Cargo.lock) writes the browser files into `<target>/web-bundle/`, where
/// `web/build.rs` embeds them into the server. Built with the `web` profile
/// (optimised for size): the bundle is what every visitor downloads.
pub fn web_bundle() -> Result<()> {
    util::step("building the web UI's hydration bundle");
    cargo(&[
        "build",
        "--profile",
        "web",
        "-p",
        "portal-web-hydrate",
        "--target",
        "wasm32-unknown-unknown",
    ])?;
    cargo(&["build", "-p", "portal-web-bundler"])?;
    let wasm = target_dir()
        .join("wasm32-unknown-unknown")
        .join("web")
        .join("portal_web_hydrate.wasm");
    util::run(
        std::process::Command::new(target_dir().join("debug").join("portal-web-bundler"))
            .arg(&wasm)
            .arg(target_dir().join("web-bundle")),
    )
}

fn run_portal(args: &[String]) -> Result<()> {
    // Install the first-party and example plugins into the default plugins directory.
    let plugins_dir = root().join("portal-data").join("plugins");
    std::fs::create_dir_all(&plugins_dir)?;
    for name in plugins::DEMO_PLUGINS {
        let source = plugins::out_dir().join(name);
        let tmp = plugins_dir.join(format!(".{name}.tmp"));
        std::fs::copy(&source, &tmp)?;
        std::fs::rename(&tmp, plugins_dir.join(name))?;
    }
    util::step("starting the portal (Ctrl-C stops it)");
    let mut command = std::process::Command::new(target_dir().join("debug").join("portal"));
    command.arg("serve").args(args).current_dir(root());
    util::run(&mut command)
}

fn test(args: &[String]) -> Result<()> {
    // The portal binary and every test target in ONE cargo invocation: cargo
    // unifies features per invocation, and building `-p portal` alone would
    // give shared dependencies (wasmtime above all) other features than the
    // test build, compiling them twice.
    build_with(&["build", "--all-targets"])?;
    let postgres = match std::env::var("PORTAL_TEST_POSTGRES") {
        Ok(url) => url,
        Err(_) => tools::postgres()?,
    };
    util::step("running the test suite");
    // The default members: every host crate and the end-to-end tests. Plugins are
    // guests (wasm32-wasip2) and are exercised through those tests.
    let mut command = util::cargo_command(&["test"]);
    command.args(args);
    command
        .env("PORTAL_TEST_CHROMEDRIVER", tools::CHROMEDRIVER)
        .env("PORTAL_BIN", target_dir().join("debug").join("portal"))
        .env("PORTAL_TEST_PLUGINS", plugins::out_dir())
        .env("PORTAL_TEST_POSTGRES", postgres);
    util::run(&mut command)?;
    if args.is_empty() {
        // Guests whose logic is plain Rust also have unit tests, run natively.
        util::step("running the guest plugins' unit tests (natively)");
        cargo(&["test", "-p", "portal-plugin-builtin-actions"])?;
    }
    Ok(())
}

fn bench(args: &[String]) -> Result<()> {
    tools::setup(tools::Needs::plugins())?;
    plugins::build_all()?;
    web_bundle()?;
    util::step("building the benchmarks (release)");
    cargo(&["build", "--release", "-p", "portal-bench", "-p", "portal"])?;
    // `--store postgres`: the local server the tests use, set up as they do.
    let mut args = args.to_vec();
    if let Some(i) = args.iter().position(|a| a == "--store")
        && args.get(i + 1).is_some_and(|v| v == "postgres")
    {
        args[i + 1] = tools::postgres()?;
    }
    let mut command = std::process::Command::new(target_dir().join("release").join("portal-bench"));
    command
        .args(&args)
        .env("PORTAL_BIN", target_dir().join("release").join("portal"))
        .env("PORTAL_TEST_PLUGINS", plugins::out_dir())
        .current_dir(root());
    util::run(&mut command)
}
