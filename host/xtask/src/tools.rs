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
    apt_install(&["chromium", "chromium-driver"])
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `apt-get install` as root directly, otherwise through sudo.
fn apt_install(packages: &[&str]) -> Result<()> {
    let apt = |args: &[&str]| -> Result<()> {
        run(as_root("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive"))
    };
    apt(&["update"])?;
    let mut args = vec!["install", "-y", "--no-install-recommends"];
    args.extend_from_slice(packages);
    apt(&args)
}

/// The role and database the tests create their databases with.
const TEST_ROLE: &str = "portal_test";

/// Debian's PostgreSQL for the store tests, as a user would set it up: the
/// packages, a running cluster on 127.0.0.1, a role that may create
/// databases. Returns that role's URL (the tests make a database each).
pub fn postgres() -> Result<String> {
    if !on_path("pg_lsclusters") {
        step("installing PostgreSQL (apt-get) for the store tests");
        if !on_path("apt-get") {
            bail!(
                "the store tests need a PostgreSQL server; install Debian's postgresql package, or set PORTAL_TEST_POSTGRES to a postgres:// URL of a role that may create databases"
            );
        }
        apt_install(&["postgresql"])?;
    }
    let mut found = pg_clusters()?;
    if found.is_empty() {
        step("creating a PostgreSQL cluster");
        let version = std::fs::read_dir("/usr/lib/postgresql")
            .context("/usr/lib/postgresql")?
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .max()
            .context("no PostgreSQL version under /usr/lib/postgresql")?;
        run(as_root("pg_createcluster").args([&version.to_string(), "main"]))?;
        found = pg_clusters()?;
    }
    let cluster = found.first().context("pg_lsclusters lists no cluster")?;
    let (version, name, port, status) = (&cluster[0], &cluster[1], &cluster[2], &cluster[3]);
    if status != "online" {
        step(&format!(
            "starting PostgreSQL {version}/{name} on port {port}"
        ));
        run(as_root("pg_ctlcluster").args([version, name, "start"]))?;
    }
    let psql = |sql: &str| -> Result<String> {
        let out = postgres_user_command("psql")
            .args(["-p", port, "-tAc", sql])
            .output()
            .context("psql")?;
        if !out.status.success() {
            bail!("psql: {sql}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    if psql(&format!(
        "SELECT 1 FROM pg_roles WHERE rolname = '{TEST_ROLE}'"
    ))? != "1"
    {
        step(&format!("creating the role {TEST_ROLE} and its database"));
        psql(&format!(
            "CREATE ROLE {TEST_ROLE} LOGIN CREATEDB PASSWORD '{TEST_ROLE}'"
        ))?;
    }
    if psql(&format!(
        "SELECT 1 FROM pg_database WHERE datname = '{TEST_ROLE}'"
    ))? != "1"
    {
        psql(&format!("CREATE DATABASE {TEST_ROLE} OWNER {TEST_ROLE}"))?;
    }
    Ok(format!(
        "postgres://{TEST_ROLE}:{TEST_ROLE}@127.0.0.1:{port}/{TEST_ROLE}"
    ))
}

/// `pg_lsclusters`' rows: version, name, port, status, ...
fn pg_clusters() -> Result<Vec<Vec<String>>> {
    let out = Command::new("pg_lsclusters")
        .arg("--no-header")
        .output()
        .context("pg_lsclusters")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|f| f.len() >= 4)
        .collect())
}

/// A command run as the `postgres` user (the cluster's owner).
fn postgres_user_command(program: &str) -> Command {
    let mut c = if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]);
        c
    } else {
        let mut c = Command::new("sudo");
        c.args(["-u", "postgres"]);
        c
    };
    // The cluster owner cannot read the caller's directory, and need not.
    c.arg(program).current_dir("/");
    c
}

/// `program` as root: directly when we are, otherwise through sudo.
fn as_root(program: &str) -> Command {
    if is_root() {
        Command::new(program)
    } else {
        let mut c = Command::new("sudo");
        c.arg(program);
        c
    }
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
