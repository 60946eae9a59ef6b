//! Shared helpers for Portal's end-to-end tests: finding the built binary and
//! plugins, starting isolated portal processes on free ports, and small HTTP
//! stand-ins for outside services. `cargo xtask test` builds everything these
//! tests need first and says where through environment variables.

use anyhow::{Context, Result, bail};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod browser;
pub mod github;
pub mod oidc;
pub mod pagerduty;
pub mod stand_in;

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

/// The cargo target directory the tests were built in.
pub fn target_dir_pub() -> PathBuf {
    target_dir()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The `portal` binary under test (`PORTAL_BIN`, else `target/debug/portal`).
pub fn portal_bin() -> PathBuf {
    let path = std::env::var_os("PORTAL_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("debug").join("portal"));
    assert!(
        path.exists(),
        "{} does not exist: run the tests with `cargo xtask test`, which builds it",
        path.display()
    );
    path
}

/// A plugin built by `cargo xtask build-plugins`, by file name (e.g. `hostile.wasm`).
pub fn built_plugin(file: &str) -> PathBuf {
    let dir = std::env::var_os("PORTAL_TEST_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("portal-plugins"));
    let path = dir.join(file);
    assert!(
        path.exists(),
        "{} does not exist: run the tests with `cargo xtask test`, which builds the plugins",
        path.display()
    );
    path
}

/// A frozen fixture under `tests/fixtures/`.
pub fn fixture(relative: &str) -> PathBuf {
    workspace_root()
        .join("tests")
        .join("fixtures")
        .join(relative)
}

/// A compile cache shared by every test in a run, so each plugin is compiled once
/// (Python and JavaScript plugins take seconds). Safe to share: entries are keyed
/// by content hash and written atomically.
pub fn shared_cache_dir() -> PathBuf {
    let dir = target_dir().join("portal-test-cache");
    std::fs::create_dir_all(&dir).expect("create the shared cache dir");
    dir
}

/// Installs a plugin file the way an operator should: write to a hidden temporary
/// name in the same directory, then rename into place.
pub fn install_plugin(plugins_dir: &Path, source: &Path, name: &str) {
    let tmp = plugins_dir.join(format!(".{name}.tmp"));
    std::fs::copy(source, &tmp).unwrap_or_else(|e| panic!("copy {}: {e}", source.display()));
    std::fs::rename(&tmp, plugins_dir.join(name)).expect("rename plugin into place");
}

/// A `portal serve` process with its own data and plugins directories and port.
/// Killed when dropped.
pub struct PortalProcess {
    child: Child,
    pub url: String,
    pub dir: tempfile::TempDir,
    config_path: PathBuf,
    stderr_log: PathBuf,
}

impl PortalProcess {
    /// Starts a portal with `config_yaml` (paths in it relative to the test's dir).
    pub fn start(config_yaml: &str) -> Result<PortalProcess> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("portal.yaml");
        std::fs::write(&config_path, config_yaml)?;
        std::fs::create_dir_all(dir.path().join("plugins"))?;
        Self::spawn(dir, config_path, 0)
    }

    /// Starts a portal on a given port (sign-in needs to know the portal's
    /// address before it starts).
    pub fn start_on(config_yaml: &str, port: u16) -> Result<PortalProcess> {
        let dir = tempfile::tempdir()?;
        let config_path = dir.path().join("portal.yaml");
        std::fs::write(&config_path, config_yaml)?;
        std::fs::create_dir_all(dir.path().join("plugins"))?;
        Self::spawn(dir, config_path, port)
    }

    fn spawn(dir: tempfile::TempDir, config_path: PathBuf, port: u16) -> Result<PortalProcess> {
        let stderr_log = dir.path().join("portal.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&stderr_log)?;
        let mut child = Command::new(portal_bin())
            .arg("serve")
            .arg("--config")
            .arg(&config_path)
            .arg("--port")
            .arg(port.to_string())
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--plugins-dir")
            .arg(dir.path().join("plugins"))
            .env("PORTAL_LOG", "info,portal_plugin_host=debug")
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting portal")?;
        let url = match ready_line(&mut child, "portal listening on ", Duration::from_secs(60)) {
            Some(url) => url,
            None => {
                let _ = child.kill();
                let log = std::fs::read_to_string(&stderr_log).unwrap_or_default();
                bail!("portal did not start within 60 s; its log:\n{log}");
            }
        };
        Ok(PortalProcess {
            child,
            url,
            dir,
            config_path,
            stderr_log,
        })
    }

    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// The configuration file it was started with (tests edit it to see a
    /// reload).
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// What the process logged so far (for assertions and failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_log).unwrap_or_default()
    }

    /// Kills the process at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Kills the process and starts a new one on the same directories.
    pub fn restart(mut self) -> Result<PortalProcess> {
        self.kill();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir()?);
        let config_path = self.config_path.clone();
        Self::spawn(dir, config_path, 0)
    }

    pub fn get(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        loopback_client().get(format!("{}{path}", self.url))
    }

    pub fn post(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        loopback_client().post(format!("{}{path}", self.url))
    }

    pub fn delete(&self, path: &str) -> reqwest::blocking::RequestBuilder {
        loopback_client().delete(format!("{}{path}", self.url))
    }

    pub fn get_json(&self, path: &str) -> Result<serde_json::Value> {
        let response = self.get(path).send()?;
        Ok(response.json()?)
    }
}

impl Drop for PortalProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for the first line of `child`'s (piped) stdout that starts with
/// `prefix`, and answers the rest of it, trimmed; `None` after `timeout`.
/// The rest of the output is read and dropped, so the child never blocks.
pub fn ready_line(child: &mut Child, prefix: &'static str, timeout: Duration) -> Option<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(rest) = line.strip_prefix(prefix) {
                let _ = tx.send(rest.trim().to_owned());
            }
        }
    });
    rx.recv_timeout(timeout).ok()
}

/// Writes `text` to `root/rel` (creating folders) beside and renamed, so a
/// watcher never reads half a file.
pub fn write_file(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().expect("a file path")).expect("create folders");
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, &path).expect("rename");
}

/// Polls `check` until it returns `Some` or `timeout` passes. Used to wait for
/// asynchronous effects (a plugin going live); never to assert speed.
pub fn wait_for<T>(timeout: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return Some(value);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An HTTP client for servers on 127.0.0.1. It ignores `HTTP_PROXY` and friends:
/// a proxy set in the environment (as on some CI machines) cannot be allowed to
/// stand between a test and the portal it started.
pub fn loopback_client() -> reqwest::blocking::Client {
    static CLIENT: std::sync::LazyLock<reqwest::blocking::Client> =
        std::sync::LazyLock::new(|| {
            reqwest::blocking::Client::builder()
                .no_proxy()
                // No kept-alive connections: tests kill and restart portals.
                .pool_max_idle_per_host(0)
                .timeout(std::time::Duration::from_secs(180))
                .build()
                .expect("HTTP client")
        });
    CLIENT.clone()
}
