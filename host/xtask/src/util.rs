use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

pub fn root() -> PathBuf {
    // `cargo run` sets CARGO_MANIFEST_DIR for the running binary: prefer it to the
    // compile-time value, which is stale when a shared target directory holds an
    // xtask built from another checkout.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest_dir
        .ancestors()
        .nth(2)
        .expect("host/xtask sits two levels below the root")
        .to_owned()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"))
}

pub fn step(message: &str) {
    eprintln!("\x1b[1m==> {message}\x1b[0m");
}

pub fn cargo_command(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args).current_dir(root());
    command
}

pub fn cargo(args: &[&str]) -> Result<()> {
    run(&mut cargo_command(args))
}

/// Runs a command, failing with its exit status and command line.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot start {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{command:?} failed with {status}");
    }
    Ok(())
}

/// Whether a program can be found on PATH.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
        .unwrap_or(false)
}
