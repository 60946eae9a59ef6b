//! The portal processes the HTTP benchmarks measure.

use anyhow::{Context, bail};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

/// A portal serving `config`, run by this benchmark binary (`catalog-server`)
/// in a child process; killed when dropped.
pub struct PortalChild {
    child: Child,
    pub url: String,
}

impl PortalChild {
    /// Starts it and waits until it listens. `stderr`: where its log goes.
    pub fn start(config: &Path, stderr: Stdio) -> anyhow::Result<PortalChild> {
        let mut child = Command::new(std::env::current_exe()?)
            .arg("catalog-server")
            .arg("--config")
            .arg(config)
            .env("PORTAL_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("starting the portal")?;
        let url = listening_url(child.stdout.take().expect("piped"))?;
        Ok(PortalChild { child, url })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PortalChild {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads a starting portal's stdout until it prints `portal listening on URL`.
pub fn listening_url(stdout: ChildStdout) -> anyhow::Result<String> {
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if let Some(url) = line.strip_prefix("portal listening on ") {
            return Ok(url.trim().to_owned());
        }
    }
    bail!("the portal did not start (it exited before printing its address)")
}
