//! `portal-bench`: Portal's benchmarks, one subcommand per area. Run them with
//! `cargo xtask bench <area>`, which builds in release mode and the plugins first.

mod plugins;
mod stats;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "portal-bench", about = "Portal's benchmarks")]
struct Cli {
    #[command(subcommand)]
    area: Area,
}

#[derive(Subcommand)]
enum Area {
    /// Plugin runtime: compile, start-up, instantiate + call, drop-in to live.
    Plugins(plugins::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.area {
            Area::Plugins(args) => plugins::run(args).await,
        }
    })
}
