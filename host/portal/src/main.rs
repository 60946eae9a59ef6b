//! `portal`: run the portal, and work with its plugins and catalog from a shell.

mod cmd;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "portal", version, about = "An internal developer portal", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the portal: the web UI, the REST APIs and the plugin host.
    Serve(cmd::serve::ServeArgs),
    /// Inspect and check plugins.
    #[command(subcommand)]
    Plugin(cmd::plugin::PluginCommand),
    /// Validate catalog files and import large trees of them.
    #[command(subcommand)]
    Catalog(cmd::catalog::CatalogCommand),
    /// Check software templates before they are registered.
    #[command(subcommand)]
    Template(cmd::template::TemplateCommand),
    /// Access control chores: make a service token.
    #[command(subcommand)]
    Auth(cmd::auth::AuthCommand),
    /// Move the catalog between the embedded store and PostgreSQL.
    #[command(subcommand)]
    Store(cmd::store::StoreCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A check reports on stdout; loading plugins to learn their actions is
    // not news there, only what goes wrong is.
    cmd::init_tracing(match cli.command {
        Command::Template(_) => "warn,wasmtime=warn,cranelift=warn,portal_plugin_host=error",
        _ => "info,wasmtime=warn,cranelift=warn",
    });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => cmd::serve::run(args).await,
            Command::Plugin(command) => cmd::plugin::run(command).await,
            Command::Catalog(command) => cmd::catalog::run(command).await,
            Command::Template(command) => cmd::template::run(command).await,
            Command::Auth(command) => cmd::auth::run(command).await,
            Command::Store(command) => cmd::store::run(command).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
