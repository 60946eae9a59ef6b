//! `portal store migrate --from A --to B`: copies the catalog between the
//! embedded store and PostgreSQL (either way), with progress.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use portal_catalog::store::{CatalogStore, SledStore, copy_catalog};
use portal_config::{PostgresConfig, SecretSource};
use portal_store_postgres::Postgres;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum StoreCommand {
    /// Copy the catalog from one store into another, empty one. Stop the
    /// portals using the source first.
    Migrate(MigrateArgs),
}

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// `sled://DATA_DIR` (a portal's data directory) or `postgres://…`.
    #[arg(long)]
    from: String,
    /// `sled://DATA_DIR` or `postgres://…`; must hold no catalog yet.
    #[arg(long)]
    to: String,
    /// The environment variable holding the PostgreSQL password (instead
    /// of one in the URL).
    #[arg(long)]
    password_env: Option<String>,
}

pub async fn run(command: StoreCommand) -> anyhow::Result<ExitCode> {
    match command {
        StoreCommand::Migrate(args) => tokio::task::spawn_blocking(move || migrate(args)).await?,
    }
}

/// Opens a store; the source (`existing`) must already hold a catalog, so a
/// mistyped directory is named instead of copied as an empty catalog.
fn open(
    spec: &str,
    password_env: Option<&str>,
    existing: bool,
) -> anyhow::Result<Box<dyn CatalogStore>> {
    if let Some(dir) = spec.strip_prefix("sled://") {
        let path = PathBuf::from(dir).join("catalog");
        if existing && !path.is_dir() {
            bail!(
                "{spec}: there is no catalog at {} (is {dir} a portal's data directory?)",
                path.display()
            );
        }
        let store = SledStore::open(&path)
            .with_context(|| format!("cannot open {spec} (is a portal using it?)"))?;
        return Ok(Box::new(store));
    }
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        let mut config = PostgresConfig::from_url(spec);
        config.password = password_env.map(|v| SecretSource::Env(v.to_owned()));
        return Ok(Box::new(Postgres::connect(&config)?.catalog_store()));
    }
    bail!(
        "`{}`: a store is sled://DATA_DIR or postgres://…",
        portal_config::redact_url(spec)
    )
}

fn migrate(args: MigrateArgs) -> anyhow::Result<ExitCode> {
    let from = open(&args.from, args.password_env.as_deref(), true)?;
    let to = open(&args.to, args.password_env.as_deref(), false)?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {pos} entities copied",
        )
        .expect("valid template"),
    );
    let started = std::time::Instant::now();
    let copied =
        copy_catalog(&*from, &*to, &mut |n| bar.set_position(n as u64)).with_context(|| {
            format!(
                "copying {} to {}",
                portal_config::redact_url(&args.from),
                portal_config::redact_url(&args.to)
            )
        })?;
    bar.finish_and_clear();
    println!(
        "copied {} entities, {} sources and {} registered locations in {:.1?}",
        copied.entities,
        copied.sources,
        copied.locations,
        started.elapsed()
    );
    Ok(ExitCode::SUCCESS)
}
