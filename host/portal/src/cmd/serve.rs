use super::ConfigArgs;
use clap::Args;
use portal_server::Portal;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Port to listen on (default 7007, Backstage's; 0 picks a free one).
    #[arg(long, short = 'p', env = "PORTAL_PORT")]
    pub port: Option<u16>,
    /// Address to listen on (default 127.0.0.1).
    #[arg(long, env = "PORTAL_HOST")]
    pub host: Option<String>,
}

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = args.config.load()?;
    if let Some(port) = args.port {
        config.server.port = port;
    }
    if let Some(host) = args.host {
        config.server.host = host;
    }
    let portal = Portal::start(config).await?;
    // One machine-readable line on stdout, so scripts and tests can find the port.
    println!("portal listening on {}", portal.url());
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("shutting down");
            portal.shutdown().await;
        }
        _ = terminate() => {
            tracing::info!("terminated; shutting down");
            portal.shutdown().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn terminate() {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut signal) => {
            signal.recv().await;
        }
        Err(_) => std::future::pending().await,
    }
}
