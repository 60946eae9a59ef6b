//! `portal-bench`: Portal's benchmarks. Each area has its own subcommand and
//! module; this file only dispatches.

mod attack;
mod catalog;
mod plugins;
mod portal_process;
mod scaffolder;
mod search;
mod sign_in;
mod stats;
mod techdocs;
mod web;

use clap::{Parser, Subcommand};

/// The same allocator as the `portal` binary, so the figures match it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "portal-bench", about = "Portal benchmarks (run in release)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Plugin runtime: compile, start-up, instantiate + call, drop-in to live.
    Plugins(plugins::Args),
    /// Plugin sandbox: what two hostile plugins running flat out cost others.
    PluginsAttack(attack::AttackArgs),
    /// Catalog: ingest time, RSS, and HTTP latency/throughput under load.
    Catalog(catalog::CatalogArgs),
    /// Software templates: task latency, step cost, bursts, live log delay.
    Scaffolder(scaffolder::ScaffolderArgs),
    /// Web UI: server time and size of the catalog and entity pages, bundle size.
    Web(web::WebArgs),
    /// TechDocs: building a 10-page and a 1,000-page documentation site.
    Techdocs(techdocs::TechdocsArgs),
    /// Search: full index build, memory, query and suggestion latency at 16 connections.
    Search(search::SearchArgs),
    /// Sign-in: the OpenID Connect round trip against a real provider on 127.0.0.1.
    SignIn(sign_in::SignInArgs),
    /// Internal: the portal process the catalog and web benchmarks measure.
    #[command(hide = true)]
    CatalogServer(catalog::ServerArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Plugins(args) => plugins::run(args).await,
            Command::PluginsAttack(args) => attack::run(args).await,
            Command::Catalog(args) => catalog::run(args).await,
            Command::Web(args) => web::run(args).await,
            Command::Scaffolder(args) => scaffolder::run(args).await,
            Command::Techdocs(args) => techdocs::run(args).await,
            Command::Search(args) => search::run(args).await,
            Command::SignIn(args) => sign_in::run(args).await,
            Command::CatalogServer(args) => catalog::serve(args).await,
        }
    })
}
