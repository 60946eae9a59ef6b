//! Installing what builds need on a fresh machine. Each step checks first, so a
//! second run costs seconds.

use crate::util::{on_path, root, run, step, target_dir};
use anyhow::{Context, Result, bail};
use std::path::PathBuf;
use std::process::Command;

/// componentize-py builds the Python example plugins.
pub const COMPONENTIZE_PY: &str = "componentize-py==0.25.1";

/// Where Debian's `chromium-driver` puts chromedriver.
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

pub struct Needs {
    pub wasm_targets: bool,
    pub python: bool,
    pub node: bool,
    pub browser: bool,
}

impl Needs {
    pub fn all() -> Needs {
        Needs {
            wasm_targets: true,
            python: true,
            node: true,
            browser: true,
        }
    }

    /// Building plugins and the portal (no browser).
    pub fn plugins() -> Needs {
        Needs {
            browser: false,
            ..Needs::all()
        }
    }
}

pub fn setup(needs: Needs) -> Result<()> {
    if needs.wasm_targets {
        wasm_targets()?;
    }
    if needs.python {
        python()?;
    }
    if needs.node {
        node_packages()?;
    }
    if needs.browser {
        browser()?;
    }
    Ok(())
}

/// Headless Chromium and chromedriver for the web UI's browser tests, from
/// Debian's packages, installed only when missing.
fn browser() -> Result<()> {
    if std::path::Path::new(CHROMIUM).is_file() && std::path::Path::new(CHROMEDRIVER).is_file() {
        return Ok(());
    }
    step("installing chromium and chromium-driver (apt-get) for the browser tests");
    if !on_path("apt-get") {
        bail!(
            "the web UI tests need {CHROMIUM} and {CHROMEDRIVER}; install Chromium and its WebDriver (Debian: chromium, chromium-driver)"
        );
    }
    // As root directly, otherwise through sudo.
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let apt = |args: &[&str]| -> Result<()> {
        let mut command = if is_root {
            Command::new("apt-get")
        } else {
            let mut c = Command::new("sudo");
            c.arg("apt-get");
            c
        };
        command.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        run(&mut command)
    };
    apt(&["update"])?;
    apt(&[
        "install",
        "-y",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ])?;
    Ok(())
}

fn wasm_targets() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("rustup is needed to add the WebAssembly targets")?;
    let installed = String::from_utf8_lossy(&installed.stdout);
    let missing: Vec<&str> = ["wasm32-wasip2", "wasm32-unknown-unknown"]
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l.trim() == *t))
        .collect();
    if !missing.is_empty() {
        step(&format!("adding Rust targets {}", missing.join(", ")));
        run(Command::new("rustup")
            .args(["target", "add"])
            .args(&missing))?;
    }
    Ok(())
}

/// The virtual environment holding componentize-py.
pub fn venv() -> PathBuf {
    target_dir().join("tools").join("venv")
}

pub fn componentize_py() -> PathBuf {
    venv().join("bin").join("componentize-py")
}

fn python() -> Result<()> {
    if componentize_py().exists() {
        return Ok(());
    }
    step(&format!(
        "installing {COMPONENTIZE_PY} into {}",
        venv().display()
    ));
    if !on_path("python3") {
        bail!("python3 is needed to build the Python example plugins");
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(venv()))?;
    run(Command::new(venv().join("bin").join("pip")).args([
        "install",
        "--quiet",
        "--disable-pip-version-check",
        COMPONENTIZE_PY,
    ]))?;
    Ok(())
}

/// Every folder with a `package.json` whose packages a build or test needs.
pub fn node_projects() -> Vec<PathBuf> {
    let mut projects = Vec::new();
    let js_examples = root().join("examples").join("plugins").join("javascript");
    if let Ok(entries) = std::fs::read_dir(&js_examples) {
        for entry in entries.flatten() {
            if entry.path().join("package.json").exists() {
                projects.push(entry.path());
            }
        }
    }
    for extra in [root().join("tests").join("js"), root().join("web")] {
        if extra.join("package.json").exists() {
            projects.push(extra);
        }
    }
    projects.sort();
    projects
}

fn node_packages() -> Result<()> {
    for project in node_projects() {
        let lock = project.join("package-lock.json");
        let marker = project.join("node_modules").join(".package-lock.json");
        let fresh = match (lock.metadata(), marker.metadata()) {
            (Ok(lock), Ok(marker)) => marker.modified()? >= lock.modified()?,
            _ => false,
        };
        if fresh {
            continue;
        }
        step(&format!("installing npm packages in {}", project.display()));
        if !on_path("npm") {
            bail!("npm is needed to build the JavaScript example plugins");
        }
        let verb = if lock.exists() { "ci" } else { "install" };
        run(Command::new("npm")
            .args([verb, "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&project))?;
    }
    Ok(())
}
