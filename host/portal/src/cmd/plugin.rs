//! `portal plugin list | inspect | check`.

use super::ConfigArgs;
use clap::{Args, Subcommand};
use portal_config::Config;
use portal_plugin_host::services::{NoCatalog, PluginStore, Services};
use portal_plugin_host::{HostOptions, LoadedPlugin, PluginHost, PluginStatus};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum PluginCommand {
    /// List the plugin files in the plugins directory and whether they load.
    List {
        #[command(flatten)]
        config: ConfigArgs,
        /// Print JSON (the same shape as GET /api/plugins).
        #[arg(long)]
        json: bool,
    },
    /// Show what a plugin file is, provides and asks for.
    Inspect(FileArgs),
    /// Check whether a plugin file would load in this portal with this
    /// configuration; exits non-zero if not.
    Check {
        #[command(flatten)]
        file: FileArgs,
        /// Also fail when the plugin requests capabilities the configuration does not grant.
        #[arg(long)]
        strict: bool,
    },
}

#[derive(Args, Debug)]
pub struct FileArgs {
    /// The plugin file (`.wasm`).
    pub file: PathBuf,
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(command: PluginCommand) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::List { config, json } => list(config.load()?, json).await,
        PluginCommand::Inspect(args) => inspect(args, false, false).await,
        PluginCommand::Check { file, strict } => inspect(file, true, strict).await,
    }
}

/// A host over the configured plugins directory, with the compile cache in the
/// data directory (shared with `portal serve`, so what one compiled the other reuses).
pub(crate) fn host(
    config: &Config,
    plugins_dir: Option<&Path>,
) -> anyhow::Result<(PluginHost, Option<tempfile::TempDir>)> {
    let mut options = HostOptions::from_config(config);
    let mut scratch = None;
    if let Some(dir) = plugins_dir {
        options.plugins_dir = dir.to_owned();
    }
    let kv_dir = tempfile::tempdir()?;
    let kv = PluginStore::open(&kv_dir.path().join("kv"))?;
    scratch.get_or_insert(kv_dir);
    let services = Services {
        catalog: Arc::new(NoCatalog),
        registrar: Arc::new(NoCatalog),
        kv: Arc::new(kv),
    };
    Ok((PluginHost::new(options, services)?, scratch))
}

async fn list(config: Config, json: bool) -> anyhow::Result<ExitCode> {
    let (host, _scratch) = host(&config, None)?;
    host.load_all().await;
    let statuses = host.statuses();
    if json {
        println!("{}", serde_json::to_string_pretty(&statuses)?);
        return Ok(ExitCode::SUCCESS);
    }
    if statuses.is_empty() {
        println!("No plugin files in {}", host.plugins_dir().display());
        return Ok(ExitCode::SUCCESS);
    }
    println!("Plugins in {}:", host.plugins_dir().display());
    for s in &statuses {
        print_status_line(s);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_status_line(s: &PluginStatus) {
    let name = match (&s.name, &s.version) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        _ => "-".into(),
    };
    let wit = s
        .wit_version
        .as_deref()
        .map(|v| format!("wit {v}"))
        .unwrap_or_default();
    println!(
        "  {:<28} {:<9} {:<28} {:<10} {}",
        s.file,
        s.state,
        name,
        wit,
        s.extension_points.join(", ")
    );
    if let Some(e) = &s.load_error {
        println!("      error: {}", e.message);
    }
    for m in &s.missing_grants {
        println!("      not granted: {m}");
    }
}

async fn inspect(args: FileArgs, check: bool, strict: bool) -> anyhow::Result<ExitCode> {
    let config = args.config.load()?;
    // Inspecting must not touch the real plugins directory.
    let scratch = tempfile::tempdir()?;
    let (host, _kv) = host(&config, Some(scratch.path()))?;
    let outcome = host.load_detached(&args.file).await;
    if args.json {
        let value = match &outcome {
            Ok(p) => plugin_json(p),
            Err(e) => {
                serde_json::json!({ "file": args.file, "loadable": false, "error": e.to_string() })
            }
        };
        println!("{}", serde_json::to_string_pretty(&value)?);
    }
    let plugin = match outcome {
        Ok(plugin) => plugin,
        Err(e) => {
            if !args.json {
                println!("NOT LOADABLE: {e}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    if !args.json {
        print_plugin(&plugin, check);
    }
    if check && strict && !plugin.missing_grants.is_empty() {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn plugin_json(p: &LoadedPlugin) -> serde_json::Value {
    serde_json::json!({
        "file": p.file,
        "loadable": true,
        "summary": p.summary,
        "info": p.info,
        "extensionPoints": p.info.extension_points(),
        "granted": p.grants,
        "missingGrants": p.missing_grants,
        "compiler": p.tier,
        "compileMs": p.compile_ms,
        "installAs": install_as(p),
    })
}

/// The file name the plugin must have in the plugins directory: a plugin's name
/// (and with it its grants) is bound to its file name.
fn install_as(p: &LoadedPlugin) -> String {
    format!("{}.wasm", p.info.name)
}

fn print_plugin(p: &LoadedPlugin, check: bool) {
    let i = &p.info;
    println!(
        "File:        {} ({} bytes, sha256 {})",
        p.file.display(),
        p.summary.size,
        &p.summary.sha256[..16]
    );
    println!(
        "Contract:    portal:plugin@{} (this portal: {})",
        p.summary.wit_version,
        portal_plugin_host::wit::supported_description()
    );
    println!("Plugin:      {} {} — {}", i.name, i.version, i.description);
    println!(
        "Install as:  {} (a plugin's name is bound to its file name)",
        install_as(p)
    );
    for panel in &i.panels {
        let applies = if panel.applies_to.is_empty() {
            "every entity"
        } else {
            &panel.applies_to
        };
        println!(
            "Panel:       {} \"{}\" ({:?}, applies to {applies})",
            panel.id, panel.title, panel.placement
        );
    }
    for provider in &i.providers {
        println!("Provider:    {} — {}", provider.id, provider.description);
    }
    for action in &i.actions {
        println!("Action:      {} — {}", action.id, action.description);
    }
    let r = &i.requests;
    let list = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    println!("Requests:    HTTP hosts: {}", list(&r.http_hosts));
    println!("             secrets: {}", list(&r.secrets));
    println!("             config: {}", list(&r.config_keys));
    println!(
        "             catalog read: {}, storage: {}",
        r.catalog_read, r.storage
    );
    println!("Imports:     {}", p.summary.imports.join(", "));
    println!("Exports:     {}", p.summary.exports.join(", "));
    if check {
        let g = &p.grants;
        println!("Granted:     HTTP hosts: {}", list(&g.http_hosts));
        println!(
            "             secrets: {}",
            list(&g.secrets.iter().cloned().collect::<Vec<_>>())
        );
        println!("             config: {}", list(&g.config_keys));
        println!(
            "             catalog read: {}, storage: {}",
            g.catalog_read, g.storage
        );
        for m in &p.missing_grants {
            println!("Not granted: {m}");
        }
        println!("OK: this plugin loads in this portal.");
    }
}
