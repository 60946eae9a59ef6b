pub mod auth;
pub mod catalog;
pub mod plugin;
pub mod serve;
pub mod store;
pub mod template;

use clap::Args;
use portal_config::Config;
use std::path::PathBuf;

/// Options every command that reads the configuration accepts.
#[derive(Args, Debug, Clone)]
pub struct ConfigArgs {
    /// Configuration file (YAML); without it the built-in defaults apply.
    #[arg(long, short = 'c', env = "PORTAL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Where Portal keeps its store and caches (overrides `data_dir`).
    #[arg(long, env = "PORTAL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// The watched plugins directory (overrides `plugins.dir`).
    #[arg(long, env = "PORTAL_PLUGINS_DIR")]
    pub plugins_dir: Option<PathBuf>,
}

impl ConfigArgs {
    /// The configuration file (or the defaults) with command-line overrides applied.
    /// Paths given on the command line are relative to the current directory.
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut config = match &self.config {
            Some(path) => Config::load(path)?,
            None => Config::embedded_default(),
        };
        let cwd = std::env::current_dir()?;
        if let Some(dir) = &self.data_dir {
            config.data_dir = cwd.join(dir);
        }
        if let Some(dir) = &self.plugins_dir {
            config.plugins.dir = Some(cwd.join(dir));
        }
        Ok(config)
    }
}

/// Logs to stderr at `default` unless `PORTAL_LOG` says otherwise.
pub fn init_tracing(default: &str) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PORTAL_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
