//! A real OpenID Connect provider for the sign-in tests (the `oidc-provider`
//! npm package, run by `tests/js/oidc-provider.mjs` on 127.0.0.1), and a
//! small cookie-keeping HTTP agent that walks its sign-in the way a browser
//! does: redirects followed by hand, forms posted.

use crate::workspace_root;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The client the provider knows the portal as.
pub const CLIENT_ID: &str = "portal";
pub const CLIENT_SECRET: &str = "portal-test-secret";

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A running `oidc-provider`. Killed when dropped.
pub struct OidcProvider {
    child: Child,
    pub issuer: String,
}

impl OidcProvider {
    /// Starts the provider on `port`, accepting `redirect` as the portal's
    /// callback. `keys` keeps its signing keys across restarts; `rotate`
    /// puts a new key in front of them.
    pub fn start(port: u16, redirect: &str, keys: &Path, rotate: bool) -> Result<OidcProvider> {
        let js = workspace_root().join("tests").join("js");
        let mut command = Command::new("node");
        command
            .arg(js.join("oidc-provider.mjs"))
            .args([
                "--port",
                &port.to_string(),
                "--redirect",
                redirect,
                "--keys",
            ])
            .arg(keys)
            .current_dir(&js)
            .stdout(Stdio::piped())
            .stderr(
                std::fs::File::create(
                    std::env::temp_dir().join(format!("oidc-provider-{port}.log")),
                )
                .map(Stdio::from)
                .unwrap_or_else(|_| Stdio::null()),
            );
        if rotate {
            command.arg("--rotate");
        }
        let mut child = command
            .spawn()
            .context("node is needed to run the OpenID provider")?;
        match crate::ready_line(&mut child, "ready ", Duration::from_secs(30)) {
            Some(issuer) => Ok(OidcProvider { child, issuer }),
            None => {
                let _ = child.kill();
                bail!(
                    "the OpenID provider did not start within 30 s (are tests/js's npm packages installed?)"
                )
            }
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One answer the agent got.
#[derive(Debug)]
pub struct Answer {
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    pub set_cookies: Vec<String>,
    pub body: String,
}

/// A browser's HTTP side: cookies per host:port (path and expiry ignored,
/// which only sends more than a browser would), no automatic redirects.
#[derive(Default)]
pub struct Agent {
    cookies: BTreeMap<String, BTreeMap<String, String>>,
}

fn authority(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?', '#']).next().unwrap_or("").to_owned()
}

/// `url` joined with a `Location` or a form `action`.
pub fn join(url: &str, target: &str) -> String {
    if target.contains("://") {
        return target.to_owned();
    }
    let (scheme, rest) = url.split_once("://").expect("an absolute URL");
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if target.starts_with('/') {
        format!("{scheme}://{host}{target}")
    } else {
        let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(url);
        format!("{base}/{target}")
    }
}

impl Agent {
    pub fn new() -> Agent {
        Agent::default()
    }

    /// A cookie the agent holds for `url`'s host.
    pub fn cookie(&self, url: &str, name: &str) -> Option<&str> {
        self.cookies
            .get(&authority(url))
            .and_then(|c| c.get(name))
            .map(String::as_str)
    }

    pub fn set_cookie(&mut self, url: &str, name: &str, value: &str) {
        self.cookies
            .entry(authority(url))
            .or_default()
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn forget_cookie(&mut self, url: &str, name: &str) {
        if let Some(c) = self.cookies.get_mut(&authority(url)) {
            c.remove(name);
        }
    }

    fn request(&mut self, builder: reqwest::blocking::RequestBuilder, url: &str) -> Result<Answer> {
        let jar = self.cookies.get(&authority(url));
        let builder = match jar {
            Some(jar) if !jar.is_empty() => {
                let header = jar
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                builder.header("cookie", header)
            }
            _ => builder,
        };
        let response = builder
            .send()
            .with_context(|| format!("requesting {url}"))?;
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(|l| join(url, l));
        let set_cookies: Vec<String> = response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for line in &set_cookies {
            let pair = line.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                let expired = line.to_ascii_lowercase().contains("max-age=0")
                    || line
                        .to_ascii_lowercase()
                        .contains("expires=thu, 01 jan 1970");
                if expired || value.is_empty() {
                    self.forget_cookie(url, name.trim());
                } else {
                    self.set_cookie(url, name.trim(), value);
                }
            }
        }
        let body = response.text().unwrap_or_default();
        Ok(Answer {
            url: url.to_owned(),
            status,
            location,
            set_cookies,
            body,
        })
    }

    pub fn get(&mut self, url: &str) -> Result<Answer> {
        self.request(client().get(url), url)
    }

    /// A form post, with the `Origin` a browser sends.
    pub fn post_form(&mut self, url: &str, fields: &[(&str, &str)]) -> Result<Answer> {
        let origin = format!(
            "{}://{}",
            url.split_once("://").map(|(s, _)| s).unwrap_or("http"),
            authority(url)
        );
        self.request(
            client().post(url).header("origin", origin).form(fields),
            url,
        )
    }

    /// Signs in as `login` through the provider's own login and consent
    /// pages, from `start` (the portal's `/api/auth/<id>/start?...`),
    /// stopping at the portal's callback: answers the callback URL, not yet
    /// visited.
    pub fn walk_provider(&mut self, start: &str, portal: &str, login: &str) -> Result<String> {
        let mut answer = self.get(start)?;
        for _ in 0..20 {
            if let Some(next) = answer.location.clone() {
                if next.starts_with(portal) {
                    return Ok(next);
                }
                answer = self.get(&next)?;
                continue;
            }
            if answer.status == 200 {
                let (action, mut fields) = form(&answer.body).with_context(|| {
                    format!(
                        "no form on the provider's page {}:\n{}",
                        answer.url, answer.body
                    )
                })?;
                for (name, value) in &mut fields {
                    match name.as_str() {
                        "login" => *value = login.to_owned(),
                        "password" => *value = "any".to_owned(),
                        _ => {}
                    }
                }
                let target = join(&answer.url, &action);
                let fields: Vec<(&str, &str)> = fields
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                answer = self.post_form(&target, &fields)?;
                continue;
            }
            bail!(
                "the provider answered {} at {}: {}",
                answer.status,
                answer.url,
                answer.body
            );
        }
        bail!("the sign-in did not come back to the portal within 20 steps")
    }
}

/// The first form of a page: its action, and its inputs' names and values
/// (hidden ones say which step the provider is at).
fn form(html: &str) -> Option<(String, Vec<(String, String)>)> {
    let form = &html[html.find("<form")?..];
    let form = &form[..form.find("</form>").unwrap_or(form.len())];
    let action = attribute(&form[..form.find('>')?], "action")?;
    let mut fields = Vec::new();
    let mut rest = form;
    while let Some(at) = rest.find("<input") {
        let tag = &rest[at..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if let Some(name) = attribute(tag, "name") {
            fields.push((name, attribute(tag, "value").unwrap_or_default()));
        }
        rest = &rest[at + 6..];
    }
    Some((action, fields))
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')?;
    Some(tag[at..at + end].replace("&amp;", "&"))
}

fn client() -> reqwest::blocking::Client {
    static CLIENT: std::sync::LazyLock<reqwest::blocking::Client> =
        std::sync::LazyLock::new(|| {
            reqwest::blocking::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .pool_max_idle_per_host(0)
                .timeout(Duration::from_secs(30))
                .build()
                .expect("HTTP client")
        });
    CLIENT.clone()
}
