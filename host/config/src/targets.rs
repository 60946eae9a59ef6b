//! Places a plugin may write to outside its sandbox: git remotes it may push to
//! and catalog locations it may register. The operator grants prefixes
//! (`/srv/repos/`, `https://github.com/acme/`); a target is allowed when it lies
//! under one of them, compared segment by segment after normalising, so
//! `/srv/repos-evil` is not under `/srv/repos` and `..` never climbs out.

use std::path::{Component, Path, PathBuf};

/// A target a plugin names: a local path or a URL, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// An absolute local path without `.` or `..` (`file://` URLs become this).
    Path(PathBuf),
    Url(UrlTarget),
}

/// An `http(s)` URL split into what matching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTarget {
    /// Lowercase `http` or `https`.
    pub scheme: String,
    /// Lowercase `host[:port]`, the port only when it is not the scheme's default.
    pub authority: String,
    /// The path's segments; a trailing `/` gives no empty segment.
    pub segments: Vec<String>,
}

impl Target {
    /// Parses `text` as an absolute path, a `file://` URL or an `http(s)` URL.
    /// Refuses relative paths, `..`, credentials in URLs, queries and fragments:
    /// each would let a target mean something other than it reads.
    pub fn parse(text: &str) -> Result<Target, String> {
        if text.is_empty() {
            return Err("is empty".into());
        }
        if text.chars().any(|c| c.is_control()) {
            return Err("holds a control character".into());
        }
        if let Some(path) = text.strip_prefix("file://") {
            return Target::parse_path(path);
        }
        if let Some((scheme, rest)) = text.split_once("://") {
            return parse_url(scheme, rest).map(Target::Url);
        }
        Target::parse_path(text)
    }

    fn parse_path(text: &str) -> Result<Target, String> {
        let path = Path::new(text);
        if !path.is_absolute() {
            return Err(format!("`{text}` is neither an absolute path nor a URL"));
        }
        let mut clean = PathBuf::from("/");
        for component in path.components() {
            match component {
                Component::RootDir | Component::CurDir => {}
                Component::Normal(part) => clean.push(part),
                Component::ParentDir => {
                    return Err(format!("`{text}` climbs with `..`"));
                }
                Component::Prefix(_) => return Err(format!("`{text}` is not a Unix path")),
            }
        }
        Ok(Target::Path(clean))
    }

    /// Whether this target is `prefix` or lies under it.
    pub fn is_under(&self, prefix: &Target) -> bool {
        match (self, prefix) {
            (Target::Path(path), Target::Path(prefix)) => path.starts_with(prefix),
            (Target::Url(url), Target::Url(prefix)) => {
                url.scheme == prefix.scheme
                    && url.authority == prefix.authority
                    && url.segments.starts_with(&prefix.segments)
            }
            _ => false,
        }
    }

    /// The target as text: a path, or a URL rebuilt from its parts.
    pub fn display(&self) -> String {
        match self {
            Target::Path(path) => path.to_string_lossy().into_owned(),
            Target::Url(url) => format!(
                "{}://{}/{}",
                url.scheme,
                url.authority,
                url.segments.join("/")
            ),
        }
    }
}

fn parse_url(scheme: &str, rest: &str) -> Result<UrlTarget, String> {
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => "443",
        "http" => "80",
        other => return Err(format!("the scheme `{other}` is not http, https or file")),
    };
    if rest.contains(['?', '#']) {
        return Err("a query or fragment is not allowed".into());
    }
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    if authority.contains('@') {
        return Err("credentials belong in the grant's secrets, not in the URL".into());
    }
    let authority = authority.to_ascii_lowercase();
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !port.is_empty() => {
            (host, Some(port))
        }
        Some(_) => return Err(format!("`{authority}` has an invalid port")),
        None => (authority.as_str(), None),
    };
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
    {
        return Err(format!("`{host}` is not a host name or IPv4 address"));
    }
    let authority = match port {
        Some(port) if port != default_port => format!("{host}:{port}"),
        _ => host.to_owned(),
    };
    let mut segments = Vec::new();
    for segment in path.split('/') {
        let decoded = segment.to_ascii_lowercase().replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            return Err("the path climbs with `.` or `..`".into());
        }
        if segment.to_ascii_lowercase().contains("%2f") || segment.contains('\\') {
            return Err("the path hides a separator".into());
        }
        if !segment.is_empty() {
            segments.push(segment.to_owned());
        }
    }
    Ok(UrlTarget {
        scheme,
        authority,
        segments,
    })
}

/// A list of granted prefixes.
#[derive(Debug, Clone, Default)]
pub struct TargetPrefixes(Vec<Target>);

impl TargetPrefixes {
    /// Parses every prefix; the first invalid one is the error.
    pub fn parse(prefixes: &[String]) -> Result<TargetPrefixes, String> {
        prefixes
            .iter()
            .map(|p| Target::parse(p).map_err(|e| format!("`{p}`: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(TargetPrefixes)
    }

    /// Whether `target` lies under one of the prefixes.
    pub fn allows(&self, target: &Target) -> bool {
        self.0.iter().any(|prefix| target.is_under(prefix))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first prefix that is a local folder: where a relative remote goes.
    pub fn first_path(&self) -> Option<&Path> {
        self.0.iter().find_map(|t| match t {
            Target::Path(path) => Some(path.as_path()),
            Target::Url(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed(prefixes: &[&str], target: &str) -> bool {
        let prefixes =
            TargetPrefixes::parse(&prefixes.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        match Target::parse(target) {
            Ok(t) => prefixes.allows(&t),
            Err(_) => false,
        }
    }

    #[test]
    fn paths_match_by_whole_segments() {
        assert!(allowed(&["/srv/repos/"], "/srv/repos/app"));
        assert!(allowed(
            &["/srv/repos"],
            "file:///srv/repos/app/catalog-info.yaml"
        ));
        assert!(allowed(&["file:///srv/repos"], "/srv/repos/./app"));
        assert!(!allowed(&["/srv/repos"], "/srv/repos-evil/app"));
        assert!(!allowed(&["/srv/repos"], "/srv/repos/../etc/passwd"));
        assert!(!allowed(&["/srv/repos"], "srv/repos/app"));
        assert!(!allowed(&["/srv/repos"], "https://srv/repos/app"));
    }

    #[test]
    fn urls_match_by_scheme_host_port_and_segments() {
        let github = ["https://github.com/acme/"];
        assert!(allowed(&github, "https://github.com/acme/app.git"));
        assert!(allowed(&github, "HTTPS://GitHub.com:443/acme/app"));
        assert!(!allowed(&github, "http://github.com/acme/app"));
        assert!(!allowed(&github, "https://github.com/acme-evil/app"));
        assert!(!allowed(&github, "https://github.com.evil.io/acme/app"));
        assert!(!allowed(&github, "https://github.com:8443/acme/app"));
        assert!(!allowed(&github, "https://github.com/acme/../other/app"));
        assert!(!allowed(
            &github,
            "https://github.com/acme/%2e%2e/other/app"
        ));
        assert!(!allowed(
            &github,
            "https://github.com/acme%2f..%2fother/app"
        ));
        assert!(!allowed(&github, "https://x@github.com/acme/app"));
        assert!(!allowed(&github, "https://github.com/acme/app?x=../y"));
        assert!(!allowed(&github, "ext::sh -c touch% /tmp/pwned"));
        assert!(!allowed(&github, "ssh://github.com/acme/app"));
        assert!(allowed(
            &["http://127.0.0.1:8080/"],
            "http://127.0.0.1:8080/o/r.git"
        ));
        assert!(!allowed(
            &["http://127.0.0.1:8080/"],
            "http://127.0.0.1:8081/o/r.git"
        ));
    }

    #[test]
    fn bad_targets_say_why() {
        assert!(Target::parse("").is_err());
        assert!(Target::parse("/srv/\nrepos").is_err());
        assert!(
            Target::parse("ftp://host/x")
                .unwrap_err()
                .contains("not http, https or file")
        );
        assert!(Target::parse("-uhack").unwrap_err().contains("neither"));
    }
}
