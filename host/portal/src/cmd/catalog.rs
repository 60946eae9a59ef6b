//! `portal catalog validate FILE...` and `portal catalog import DIR`.

use super::ConfigArgs;
use clap::{Args, Subcommand};
use portal_catalog::{Access, CatalogConfig, CheckedDocument, Validator};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Subcommand, Debug)]
pub enum CatalogCommand {
    /// Check catalog files the way ingestion does (YAML, placeholders,
    /// Backstage validation, relations, catalog rules). Prints
    /// `file:line: message` per problem; exits 1 if any.
    Validate(ValidateArgs),
    /// Register a directory (every *.yaml below it) as a location and
    /// ingest it into the configured data directory, with progress.
    Import(ImportArgs),
}

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Catalog files (YAML, one or more documents each).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Only print problems and the summary line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Directory (or file, or glob) to import.
    pub dir: PathBuf,
}

pub async fn run(command: CatalogCommand) -> anyhow::Result<ExitCode> {
    match command {
        CatalogCommand::Validate(args) => validate(args).await,
        CatalogCommand::Import(args) => import(args).await,
    }
}

async fn validate(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    let catalog_config = CatalogConfig::from_portal_config(&config)?;
    let validator = Validator::new(&catalog_config);
    let files = args.files.clone();
    let quiet = args.quiet;
    tokio::task::spawn_blocking(move || {
        let mut problems = 0usize;
        let mut valid = 0usize;
        let mut seen: HashMap<String, String> = HashMap::new();
        for file in &files {
            let shown = file.display().to_string();
            let documents = match validator.check_file(file) {
                Ok(documents) => documents,
                Err(e) => {
                    println!("{shown}: error: {e}");
                    problems += 1;
                    continue;
                }
            };
            for document in documents {
                match document {
                    CheckedDocument::Entity { entity_ref, line } => {
                        let at = match line {
                            Some(l) => format!("{shown}:{l}"),
                            None => shown.clone(),
                        };
                        if let Some(first) = seen.get(&entity_ref) {
                            println!(
                                "{at}: error: entity {entity_ref} is already defined at {first}"
                            );
                            problems += 1;
                        } else {
                            if !quiet {
                                println!("{at}: ok: {entity_ref}");
                            }
                            seen.insert(entity_ref, at);
                            valid += 1;
                        }
                    }
                    CheckedDocument::Failed { name, message } => {
                        // Messages start with `file:line: `; keep that first.
                        match message.split_once(": ") {
                            Some((at, rest)) if at.starts_with(&shown) => {
                                println!("{at}: error: {name}: {rest}")
                            }
                            _ => println!("{shown}: error: {name}: {message}"),
                        }
                        problems += 1;
                    }
                }
            }
        }
        println!(
            "{valid} valid entities, {problems} problem{} in {} file{}",
            if problems == 1 { "" } else { "s" },
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
        Ok(if problems == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        })
    })
    .await?
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    let started = Instant::now();
    let catalog = portal_server::stores::open_catalog(&config)?;
    let target = std::path::absolute(&args.dir)?;
    let target_text = target.display().to_string();
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:40} {pos}/{len} files  {msg}",
        )
        .expect("valid template"),
    );
    let job = {
        let catalog = catalog.clone();
        tokio::spawn(async move { catalog.import("file", &target_text).await })
    };
    while !job.is_finished() {
        let (done, planned) = catalog.progress();
        bar.set_length(planned as u64);
        bar.set_position(done as u64);
        bar.set_message(format!("{} entities", catalog.stats().entities));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let location = job.await??;
    let (done, planned) = catalog.progress();
    bar.set_length(planned as u64);
    bar.set_position(done as u64);
    bar.finish_and_clear();
    catalog.flush()?;
    let problems = catalog.processing_problems(&Access::all());
    for p in problems.iter().take(50) {
        eprintln!("{}", p.item.message);
    }
    if problems.len() > 50 {
        eprintln!("... and {} more problems", problems.len() - 50);
    }
    println!(
        "imported {} ({} files) as location {} in {:.1?}: the catalog now holds {} entities; {} problem{}",
        target.display(),
        done,
        location.id,
        started.elapsed(),
        catalog.stats().entities,
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    Ok(if problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(2)
    })
}
