//! Reading catalog files: local files (size-limited) and URLs (allow-listed
//! hosts only, never link-local or cloud-metadata addresses, size-limited).

use crate::config::{AllowedHost, CatalogConfig};
use std::io::Read;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReadError {
    /// Nothing there (a deleted file, an HTTP 404).
    #[error("{0} does not exist")]
    NotFound(String),
    /// Over the size limit.
    #[error("{what} is {size}, over the limit of {limit} bytes ({setting})")]
    TooLarge {
        /// What was read.
        what: String,
        /// Its size, described.
        size: String,
        /// The limit.
        limit: u64,
        /// The setting that sets it.
        setting: &'static str,
    },
    /// The host is not in `catalog.reading.allow`.
    #[error(
        "reading {0} is not allowed: add its host to catalog.reading.allow in the configuration"
    )]
    NotAllowed(String),
    /// The address is link-local or a cloud metadata service.
    #[error("refusing to read {url}: {reason}")]
    Forbidden {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// Not UTF-8 text.
    #[error("{0} is not UTF-8 text")]
    NotText(String),
    /// Anything else (I/O, network, HTTP status).
    #[error("cannot read {what}: {message}")]
    Other {
        /// What was read.
        what: String,
        /// Why.
        message: String,
    },
}

impl ReadError {
    /// Whether the target is simply gone (its entities should go too).
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound(_))
    }

    /// Backstage's error name for this problem.
    pub fn error_name(&self) -> &'static str {
        match self {
            ReadError::NotFound(_) => "NotFoundError",
            ReadError::NotAllowed(_) | ReadError::Forbidden { .. } => "NotAllowedError",
            ReadError::TooLarge { .. } | ReadError::NotText(_) => "InputError",
            ReadError::Other { .. } => "Error",
        }
    }
}

/// The setting that bounds a catalog file.
const MAX_FILE_BYTES: &str = "catalog.limits.max_file_bytes";

pub(crate) fn describe_size(bytes: u64) -> String {
    if bytes >= 1024 * 1024 {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{bytes} bytes")
    }
}

/// Reads a local file as text, refusing files over `limit` bytes without
/// reading them.
pub fn read_file(path: &Path, limit: u64) -> Result<String, ReadError> {
    let what = path.display().to_string();
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ReadError::NotFound(what));
        }
        Err(e) => {
            return Err(ReadError::Other {
                what,
                message: e.to_string(),
            });
        }
    };
    let meta = file.metadata().map_err(|e| ReadError::Other {
        what: what.clone(),
        message: e.to_string(),
    })?;
    if meta.is_dir() {
        return Err(ReadError::Other {
            what,
            message: "it is a directory".into(),
        });
    }
    if meta.len() > limit {
        return Err(ReadError::TooLarge {
            what,
            size: describe_size(meta.len()),
            limit,
            setting: MAX_FILE_BYTES,
        });
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.by_ref()
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Other {
            what: what.clone(),
            message: e.to_string(),
        })?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge {
            what,
            size: format!("more than {}", describe_size(limit)),
            limit,
            setting: MAX_FILE_BYTES,
        });
    }
    String::from_utf8(bytes).map_err(|_| ReadError::NotText(what))
}

/// Why an address must never be read from, if it must not.
pub fn forbidden_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            if o == [169, 254, 169, 254] || o == [100, 100, 100, 200] {
                Some("it is a cloud metadata service address")
            } else if o[0] == 169 && o[1] == 254 {
                Some("it is a link-local address (169.254.0.0/16)")
            } else if v4.is_unspecified() || v4.is_broadcast() {
                Some("it is not a host address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            if s == [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x254] {
                Some("it is a cloud metadata service address")
            } else if (s[0] & 0xffc0) == 0xfe80 {
                Some("it is a link-local address (fe80::/10)")
            } else if v6.is_unspecified() {
                Some("it is not a host address")
            } else {
                None
            }
        }
    }
}

const METADATA_HOSTNAMES: &[&str] = &["metadata.google.internal", "metadata", "instance-data"];

fn host_allowed(allow: &[AllowedHost], url: &reqwest::Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let host = host.to_ascii_lowercase();
    let port = url.port_or_known_default();
    allow.iter().any(|a| {
        let pattern = a.host.to_ascii_lowercase();
        let (pat_host, pat_port) = match pattern.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !h.contains(':') => {
                (h.to_owned(), p.parse::<u16>().ok())
            }
            _ => (pattern.clone(), None),
        };
        let host_ok = match pat_host.strip_prefix("*.") {
            Some(suffix) => host.ends_with(&format!(".{suffix}")),
            None => host == pat_host.trim_start_matches('[').trim_end_matches(']'),
        };
        let port_ok = pat_port.is_none() || pat_port == port;
        let path_ok = match &a.paths {
            None => true,
            Some(paths) => paths.iter().any(|p| url.path().starts_with(p.as_str())),
        };
        host_ok && port_ok && path_ok
    })
}

/// Checks a URL before any connection: scheme, allow-list, literal addresses.
pub fn check_url(allow: &[AllowedHost], raw: &str) -> Result<reqwest::Url, ReadError> {
    let url = check_address(raw)?;
    if !host_allowed(allow, &url) {
        return Err(ReadError::NotAllowed(raw.to_owned()));
    }
    Ok(url)
}

/// Checks a URL's scheme and address, whatever the allow-list says.
pub(crate) fn check_address(raw: &str) -> Result<reqwest::Url, ReadError> {
    let url = reqwest::Url::parse(raw).map_err(|e| ReadError::Other {
        what: raw.to_owned(),
        message: format!("not a valid URL: {e}"),
    })?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(ReadError::Other {
            what: raw.to_owned(),
            message: "only http and https URLs can be read".into(),
        });
    }
    match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            if let Some(reason) = forbidden_address(IpAddr::V4(ip)) {
                return Err(ReadError::Forbidden {
                    url: raw.to_owned(),
                    reason: format!("{ip}: {reason}"),
                });
            }
        }
        Some(url::Host::Ipv6(ip)) => {
            if let Some(reason) = forbidden_address(IpAddr::V6(ip)) {
                return Err(ReadError::Forbidden {
                    url: raw.to_owned(),
                    reason: format!("{ip}: {reason}"),
                });
            }
        }
        Some(url::Host::Domain(d)) => {
            if METADATA_HOSTNAMES.contains(&d.to_ascii_lowercase().as_str()) {
                return Err(ReadError::Forbidden {
                    url: raw.to_owned(),
                    reason: format!("{d} is a cloud metadata service name"),
                });
            }
        }
        None => {
            return Err(ReadError::Other {
                what: raw.to_owned(),
                message: "the URL has no host".into(),
            });
        }
    }
    Ok(url)
}

/// Resolves names and drops forbidden addresses, so a name that resolves to
/// a metadata address (DNS rebinding included) is never connected to.
pub(crate) struct SafeResolver;

impl reqwest::dns::Resolve for SafeResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let mut reasons = Vec::new();
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| match forbidden_address(a.ip()) {
                    Some(reason) => {
                        reasons.push(format!("{} ({reason})", a.ip()));
                        false
                    }
                    None => true,
                })
                .collect();
            if allowed.is_empty() && !reasons.is_empty() {
                let err: Box<dyn std::error::Error + Send + Sync> = format!(
                    "refusing to connect: {host} resolves only to forbidden addresses: {}",
                    reasons.join(", ")
                )
                .into();
                return Err(err);
            }
            let iter: reqwest::dns::Addrs = Box::new(allowed.into_iter());
            Ok(iter)
        })
    }
}

/// A GitHub host the catalog reads from, and where its raw files and API are.
#[derive(Debug, Clone)]
pub(crate) struct GithubIntegration {
    /// `github.com` or `host:port`, lower case.
    pub host: String,
    pub raw_base: String,
    pub api_base: String,
    /// The name of the secret holding its token.
    pub token_secret: Option<String>,
}

impl GithubIntegration {
    pub(crate) fn from_config(config: &CatalogConfig) -> Vec<GithubIntegration> {
        let mut github = vec![GithubIntegration {
            host: "github.com".to_owned(),
            raw_base: "https://raw.githubusercontent.com".to_owned(),
            api_base: "https://api.github.com".to_owned(),
            token_secret: None,
        }];
        for g in &config.reading.github {
            let host = g.host.to_ascii_lowercase();
            let integration = GithubIntegration {
                api_base: g
                    .api_base_url
                    .as_deref()
                    .map(|u| u.trim_end_matches('/').to_owned())
                    .unwrap_or_else(|| format!("https://{host}/api/v3")),
                raw_base: g.raw_base_url.trim_end_matches('/').to_owned(),
                token_secret: g.token_secret.clone(),
                host,
            };
            // A configured github.com replaces the built-in one.
            github.retain(|known| known.host != integration.host);
            github.push(integration);
        }
        github
    }
}

/// `host` or `host:port` of a URL, as integrations are keyed.
pub(crate) fn host_key(url: &reqwest::Url) -> Option<String> {
    Some(match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    })
}

/// The GitHub integration serving `url`'s host.
pub(crate) fn github_for<'a>(
    github: &'a [GithubIntegration],
    url: &reqwest::Url,
) -> Option<&'a GithubIntegration> {
    let host = host_key(url)?;
    github.iter().find(|g| g.host.eq_ignore_ascii_case(&host))
}

/// The raw file URL of a GitHub file page
/// (`<host>/<owner>/<repo>/blob/<ref>/<path>` → `<raw>/<owner>/<repo>/<ref>/<path>`).
fn github_raw_url(github: &[GithubIntegration], url: &reqwest::Url) -> Option<String> {
    let raw_base = &github_for(github, url)?.raw_base;
    let segments: Vec<&str> = url.path_segments()?.collect();
    match segments.as_slice() {
        [owner, repo, "blob", git_ref, path @ ..] if !path.is_empty() => Some(format!(
            "{raw_base}/{owner}/{repo}/{git_ref}/{}",
            path.join("/")
        )),
        _ => None,
    }
}

/// Reads `url` locations.
#[derive(Clone)]
pub struct UrlReader {
    client: reqwest::Client,
    allow: Arc<Vec<AllowedHost>>,
    max_bytes: u64,
    /// GitHub hosts: their raw file servers and APIs.
    pub(crate) github: Arc<Vec<GithubIntegration>>,
    pub(crate) secrets: Arc<portal_config::Secrets>,
    pub(crate) timeout: Duration,
}

impl UrlReader {
    /// A reader for the configuration's allow-list and limits.
    pub fn new(config: &CatalogConfig) -> UrlReader {
        let allow = Arc::new(config.reading.allow.clone());
        let policy_allow = allow.clone();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(config.reading.timeout_seconds.max(1)))
            .dns_resolver(Arc::new(SafeResolver))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("too many redirects");
                }
                match check_url(&policy_allow, attempt.url().as_str()) {
                    Ok(_) => attempt.follow(),
                    Err(e) => attempt.error(format!("redirect refused: {e}")),
                }
            }))
            .user_agent(concat!("portal-catalog/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with these settings always builds");
        UrlReader {
            client,
            allow,
            max_bytes: config.limits.max_file_bytes,
            github: Arc::new(GithubIntegration::from_config(config)),
            secrets: Arc::new(config.reading.secrets.clone()),
            timeout: Duration::from_secs(config.reading.timeout_seconds.max(1)),
        }
    }

    /// Checks a URL without reading it.
    pub fn check(&self, url: &str) -> Result<(), ReadError> {
        check_url(&self.allow, url).map(|_| ())
    }

    /// The allow-list.
    pub(crate) fn allow(&self) -> &Arc<Vec<AllowedHost>> {
        &self.allow
    }

    /// The `Authorization` header for requests to `url`'s GitHub host, if
    /// it has a token (the raw server and the API of that host only).
    pub(crate) fn github_auth(
        &self,
        integration: &GithubIntegration,
    ) -> Result<Option<String>, ReadError> {
        let Some(secret) = &integration.token_secret else {
            return Ok(None);
        };
        self.secrets
            .resolve(secret)
            .map(|token| Some(format!("Bearer {token}")))
            .map_err(|message| ReadError::Other {
                what: format!("the token of {}", integration.host),
                message,
            })
    }

    /// Reads a URL as text.
    pub async fn read(&self, raw: &str) -> Result<String, ReadError> {
        let url = check_url(&self.allow, raw)?;
        // A GitHub file page is HTML; its raw file server has the file
        // itself, read with the host's token if it has one.
        let (url, auth) = match github_raw_url(&self.github, &url) {
            Some(raw_url) => {
                let integration = github_for(&self.github, &url).expect("the URL's integration");
                (
                    check_url(&self.allow, &raw_url)?,
                    self.github_auth(integration)?,
                )
            }
            None => (url, None),
        };
        let other = |message: String| ReadError::Other {
            what: raw.to_owned(),
            message,
        };
        let mut request = self.client.get(url);
        if let Some(auth) = auth {
            request = request.header(reqwest::header::AUTHORIZATION, auth);
        }
        let mut response = request
            .send()
            .await
            .map_err(|e| other(describe_reqwest(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(ReadError::NotFound(raw.to_owned()));
        }
        if !status.is_success() {
            return Err(other(format!("the server answered HTTP {status}")));
        }
        if let Some(len) = response.content_length()
            && len > self.max_bytes
        {
            return Err(ReadError::TooLarge {
                what: raw.to_owned(),
                size: describe_size(len),
                limit: self.max_bytes,
                setting: MAX_FILE_BYTES,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| other(describe_reqwest(&e)))?
        {
            body.extend_from_slice(&chunk);
            if body.len() as u64 > self.max_bytes {
                return Err(ReadError::TooLarge {
                    what: raw.to_owned(),
                    size: format!("more than {}", describe_size(self.max_bytes)),
                    limit: self.max_bytes,
                    setting: MAX_FILE_BYTES,
                });
            }
        }
        String::from_utf8(body).map_err(|_| ReadError::NotText(raw.to_owned()))
    }
}

pub(crate) fn describe_reqwest(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_file_pages_are_read_from_the_raw_server() {
        let github = GithubIntegration::from_config(
            &CatalogConfig::from_value(&serde_json::json!({
                "reading": { "github": [
                    { "host": "127.0.0.1:8080", "raw_base_url": "http://127.0.0.1:8080/raw" }
                ] }
            }))
            .unwrap(),
        );
        assert_eq!(github[1].api_base, "https://127.0.0.1:8080/api/v3");
        let raw = |u: &str| github_raw_url(&github, &reqwest::Url::parse(u).unwrap());
        assert_eq!(
            raw("https://github.com/acme/app/blob/main/docs/catalog-info.yaml").as_deref(),
            Some("https://raw.githubusercontent.com/acme/app/main/docs/catalog-info.yaml")
        );
        assert_eq!(
            raw("http://127.0.0.1:8080/acme/app/blob/main/catalog-info.yaml").as_deref(),
            Some("http://127.0.0.1:8080/raw/acme/app/main/catalog-info.yaml")
        );
        assert_eq!(raw("https://github.com/acme/app/tree/main/x"), None);
        assert_eq!(raw("https://github.com/acme/app/blob/main"), None);
        assert_eq!(raw("https://gitlab.com/acme/app/blob/main/x.yaml"), None);
    }

    fn allow(hosts: &[&str]) -> Vec<AllowedHost> {
        hosts
            .iter()
            .map(|h| AllowedHost {
                host: h.to_string(),
                paths: None,
            })
            .collect()
    }

    #[test]
    fn allow_list() {
        let a = allow(&["github.com", "*.example.com", "127.0.0.1:8080"]);
        assert!(check_url(&a, "https://github.com/o/r/blob/main/x.yaml").is_ok());
        assert!(check_url(&a, "https://api.example.com/x").is_ok());
        assert!(check_url(&a, "http://127.0.0.1:8080/x").is_ok());
        assert!(matches!(
            check_url(&a, "http://127.0.0.1:9090/x"),
            Err(ReadError::NotAllowed(_))
        ));
        assert!(matches!(
            check_url(&a, "https://evil.com/x"),
            Err(ReadError::NotAllowed(_))
        ));
        assert!(matches!(
            check_url(&a, "https://example.com.evil.com/x"),
            Err(ReadError::NotAllowed(_))
        ));
    }

    #[test]
    fn link_local_and_metadata_are_refused_even_when_allowed() {
        let a = allow(&["169.254.169.254", "metadata.google.internal", "[fe80::1]"]);
        for url in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.1.1/",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://[fe80::1]/",
            "http://[::ffff:169.254.169.254]/",
        ] {
            let err = check_url(&a, url).unwrap_err();
            assert!(matches!(err, ReadError::Forbidden { .. }), "{url}: {err}");
        }
    }

    #[test]
    fn large_files_are_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.yaml");
        std::fs::write(&path, vec![b'a'; 2048]).unwrap();
        let err = read_file(&path, 1024).unwrap_err();
        assert!(err.to_string().contains("over the limit"), "{err}");
        assert!(
            read_file(&dir.path().join("missing.yaml"), 10)
                .unwrap_err()
                .is_not_found()
        );
    }
}
