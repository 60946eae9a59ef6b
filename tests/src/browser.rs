//! Headless Chromium for the web UI's tests, driven through chromedriver with
//! the W3C WebDriver protocol (JSON over HTTP on 127.0.0.1; the handful of
//! commands the tests need, over the `reqwest` client the tests already use).
//!
//! `cargo xtask setup` installs Debian's `chromium` and `chromium-driver`;
//! `PORTAL_TEST_CHROMEDRIVER` overrides where chromedriver is.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The W3C key for element references in responses.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

fn chromedriver_path() -> PathBuf {
    std::env::var_os("PORTAL_TEST_CHROMEDRIVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromedriver"))
}

/// A chromedriver process and one headless browser session. Both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::blocking::Client,
}

/// An element on the current page.
#[derive(Debug, Clone)]
pub struct Element(String);

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium
    /// (a 1280×900 window, like a laptop).
    pub fn start() -> Result<Browser> {
        Self::start_sized(1280, 900)
    }

    pub fn start_sized(width: u32, height: u32) -> Result<Browser> {
        let driver_path = chromedriver_path();
        if !driver_path.is_file() {
            bail!(
                "{} does not exist: run `cargo xtask setup` (installs chromium and chromium-driver)",
                driver_path.display()
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", driver_path.display()))?;
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(60))
            .build()?;
        let base = format!("http://127.0.0.1:{port}");
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            http,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = browser
                .http
                .get(format!("{}/status", browser.base))
                .send()
                .ok()
                .and_then(|r| r.json::<Value>().ok())
                .is_some_and(|v| v["value"]["ready"].as_bool() == Some(true));
            if ready {
                break;
            }
            if Instant::now() > deadline {
                bail!("chromedriver did not become ready within 20 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            "--no-first-run".to_owned(),
            // Only the portal on 127.0.0.1 is reached: no proxy from the
            // environment, and none of Chromium's own background traffic
            // (refused on a closed network, and noise in the logs).
            "--no-proxy-server".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--window-size={width},{height}"),
        ];
        if Path::new("/usr/bin/chromium").is_file() {
            args.push("--disable-extensions".to_owned());
        }
        let mut options = json!({ "args": args });
        if Path::new("/usr/bin/chromium").is_file() {
            options["binary"] = json!("/usr/bin/chromium");
        }
        let created = browser.raw(
            reqwest::Method::POST,
            "/session",
            Some(json!({
                "capabilities": { "alwaysMatch": {
                    "browserName": "chrome",
                    "goog:chromeOptions": options,
                }}
            })),
        )?;
        browser.session = created["sessionId"]
            .as_str()
            .context("chromedriver returned no session id")?
            .to_owned();
        Ok(browser)
    }

    fn raw(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), &url);
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let response = request
            .send()
            .with_context(|| format!("WebDriver {path}"))?;
        let status = response.status();
        let value: Value = response.json().context("WebDriver answer is not JSON")?;
        if !status.is_success() {
            bail!(
                "WebDriver {path}: {} {}",
                value["value"]["error"].as_str().unwrap_or("error"),
                value["value"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("")
            );
        }
        Ok(value["value"].clone())
    }

    fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        self.raw(method, &format!("/session/{}{path}", self.session), body)
    }

    pub fn goto(&self, url: &str) -> Result<()> {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({ "url": url })))?;
        Ok(())
    }

    pub fn current_url(&self) -> Result<String> {
        Ok(self
            .cmd(reqwest::Method::GET, "/url", None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    pub fn title(&self) -> Result<String> {
        Ok(self
            .cmd(reqwest::Method::GET, "/title", None)?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    /// Runs a script (`return …;` to get a value back).
    pub fn execute(&self, script: &str, args: Vec<Value>) -> Result<Value> {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": args })),
        )
    }

    /// Every element matching a CSS selector.
    pub fn find_all(&self, css: &str) -> Result<Vec<Element>> {
        let found = self.cmd(
            reqwest::Method::POST,
            "/elements",
            Some(json!({ "using": "css selector", "value": css })),
        )?;
        Ok(found
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str().map(|s| Element(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// The first element matching a CSS selector, waiting up to `timeout` for it.
    pub fn wait_for(&self, css: &str, timeout: Duration) -> Result<Element> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.find_all(css)?.into_iter().next() {
                return Ok(e);
            }
            if Instant::now() > deadline {
                bail!(
                    "no element matches `{css}` after {timeout:?} on {}",
                    self.current_url().unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn find(&self, css: &str) -> Result<Element> {
        self.wait_for(css, Duration::from_secs(10))
    }

    pub fn text(&self, element: &Element) -> Result<String> {
        Ok(self
            .cmd(
                reqwest::Method::GET,
                &format!("/element/{}/text", element.0),
                None,
            )?
            .as_str()
            .unwrap_or("")
            .to_owned())
    }

    pub fn click(&self, element: &Element) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            None,
        )?;
        Ok(())
    }

    /// Types text into an element (appends to what it holds).
    pub fn send_keys(&self, element: &Element, text: &str) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            Some(json!({ "text": text })),
        )?;
        Ok(())
    }

    /// The text of the whole page body.
    pub fn body_text(&self) -> Result<String> {
        let body = self.find("body")?;
        self.text(&body)
    }

    /// Waits until `check` returns `Some`.
    pub fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Browser) -> Result<Option<T>>,
    ) -> Result<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(self)? {
                return Ok(v);
            }
            if Instant::now() > deadline {
                bail!(
                    "timed out after {timeout:?} waiting for {what} on {}",
                    self.current_url().unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Saves a PNG screenshot of the viewport.
    pub fn screenshot(&self, path: &Path) -> Result<()> {
        use base64::Engine;
        let data = self.cmd(reqwest::Method::GET, "/screenshot", None)?;
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().context("screenshot is not a string")?)?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(path, png)?;
        Ok(())
    }

    /// Resizes the window (e.g. to a phone's width).
    pub fn set_window_size(&self, width: u32, height: u32) -> Result<()> {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )?;
        Ok(())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.raw(
                reqwest::Method::DELETE,
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Where the tests keep screenshots (`target/test-artifacts/`, not committed).
pub fn artifacts_dir() -> PathBuf {
    let dir = crate::target_dir_pub().join("test-artifacts");
    let _ = std::fs::create_dir_all(&dir);
    dir
}
