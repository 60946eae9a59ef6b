//! `portal auth`: chores around access control.

use clap::Subcommand;
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum AuthCommand {
    /// Make a new service token: prints the token (give it to the script
    /// or CI job) and the `auth.service_tokens` entry to configure (only
    /// its SHA-256, so the configuration holds no secret).
    Token {
        /// The name the token's calls carry in the audit log.
        name: String,
        /// The permissions it has (repeat, or comma-separated):
        /// `catalog.entity.read`, `catalog.*`, `*`.
        #[arg(
            long,
            short,
            value_delimiter = ',',
            default_value = "catalog.entity.read"
        )]
        permission: Vec<String>,
    },
}

pub async fn run(command: AuthCommand) -> anyhow::Result<ExitCode> {
    match command {
        AuthCommand::Token { name, permission } => {
            for p in &permission {
                portal_auth::permission::Pattern::parse(p).map_err(|e| anyhow::anyhow!(e))?;
            }
            let (token, sha256) = portal_auth::tokens::generate();
            println!(
                "token (shown once; send it as `Authorization: Bearer <token>`):\n  {token}\n"
            );
            println!("configuration (portal.yaml):\nauth:\n  service_tokens:");
            println!(
                "    - name: {name}\n      sha256: {sha256}\n      permissions: [{}]",
                permission.join(", ")
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
