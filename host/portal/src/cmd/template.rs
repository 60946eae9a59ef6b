//! `portal template check PATH...`: what the portal would refuse in a
//! software template, before it is registered, for template authors' CI.

use super::ConfigArgs;
use clap::{Args, Subcommand};
use portal_catalog::CatalogConfig;
use portal_scaffolder::Template;
use portal_template_expr::Templater;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum TemplateCommand {
    /// Check templates: their shape (Backstage's v1beta3), expressions that
    /// do not parse, actions no installed plugin provides, and skeleton
    /// folders (`fetch:*` `url`) missing beside the template. Prints
    /// `file:line: error: place: message` per problem; exits 1 if any.
    Check(CheckArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Template files, or directories holding a `template.yaml`.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Do not load the plugins directory to check action names.
    #[arg(long)]
    pub no_actions: bool,
}

pub async fn run(command: TemplateCommand) -> anyhow::Result<ExitCode> {
    match command {
        TemplateCommand::Check(args) => check(args).await,
    }
}

async fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    let limits = CatalogConfig::from_portal_config(&config)?.limits;
    let installed: Option<BTreeSet<String>> = if args.no_actions {
        None
    } else {
        let (host, _scratch) = super::plugin::host(&config, None)?;
        host.load_all().await;
        Some(
            host.actions_with_grants()
                .into_iter()
                .map(|(_, a, _)| a.id)
                .collect(),
        )
    };
    let templater = Templater::default();
    let mut problems = 0usize;
    let mut checked = 0usize;
    for path in &args.paths {
        let file = if path.is_dir() {
            path.join("template.yaml")
        } else {
            path.clone()
        };
        let shown = file.display().to_string();
        let text = match std::fs::read_to_string(&file) {
            Ok(text) => text,
            Err(e) => {
                println!("{shown}: error: cannot read it: {e}");
                problems += 1;
                continue;
            }
        };
        let dir = file.parent().unwrap_or(Path::new("."));
        let mut templates_here = 0;
        for (line, document) in portal_catalog::read_yaml_documents(&text, &limits) {
            let at = format!("{shown}:{line}");
            let entity = match document {
                Ok(entity) => entity,
                Err(e) => {
                    println!("{at}: error: {e}");
                    problems += 1;
                    continue;
                }
            };
            if entity["kind"].as_str() != Some("Template") {
                continue;
            }
            templates_here += 1;
            checked += 1;
            let found = check_one(&entity, dir, &templater, installed.as_ref());
            if found.is_empty() {
                let template = Template::from_entity(&entity).expect("checked above");
                println!(
                    "{at}: ok: template:{}/{} ({} form page{}, {} step{})",
                    template.namespace,
                    template.name,
                    template.parameters.len(),
                    plural(template.parameters.len()),
                    template.steps.len(),
                    plural(template.steps.len()),
                );
            }
            for (place, message) in &found {
                println!("{at}: error: {place}: {message}");
            }
            problems += found.len();
        }
        if templates_here == 0 {
            println!("{shown}: error: no document of kind Template in it");
            problems += 1;
        }
    }
    if let Some(installed) = &installed {
        println!(
            "{checked} template{} checked against {} installed action{}; {problems} problem{}",
            plural(checked),
            installed.len(),
            plural(installed.len()),
            plural(problems)
        );
    } else {
        println!(
            "{checked} template{} checked (actions not checked); {problems} problem{}",
            plural(checked),
            plural(problems)
        );
    }
    Ok(if problems == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Every problem in one template entity, at its place.
fn check_one(
    entity: &Value,
    dir: &Path,
    templater: &Templater,
    installed: Option<&BTreeSet<String>>,
) -> Vec<(String, String)> {
    let template = match Template::from_entity(entity) {
        Ok(template) => template,
        Err(e) => return e.problems,
    };
    let mut problems: Vec<(String, String)> = template
        .check_expressions(templater)
        .into_iter()
        .map(|e| (e.place, e.message))
        .collect();
    for (i, step) in template.steps.iter().enumerate() {
        if let Some(installed) = installed
            && !installed.contains(&step.action)
        {
            problems.push((
                format!("spec.steps[{i}].action"),
                format!("no installed plugin provides the action `{}`", step.action),
            ));
        }
        // A skeleton the template names beside itself must be there.
        if step.action.starts_with("fetch:")
            && let Some(url) = step.input["url"].as_str()
            && !url.contains("${{")
            && !url.contains("://")
        {
            let local = dir.join(url);
            if !local.exists() {
                problems.push((
                    format!("spec.steps[{i}].input.url"),
                    format!("`{url}` does not exist beside the template"),
                ));
            }
        }
    }
    problems
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
