//! The portal processes the HTTP benchmarks measure.

use anyhow::bail;
use std::io::{BufRead, BufReader};
use std::process::ChildStdout;

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
