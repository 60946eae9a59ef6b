//! Reading a folder of a repository (TechDocs' `url:` sources) as one
//! gzip-compressed tar, the way GitHub serves a repository: a GitHub folder
//! URL (`https://<host>/<owner>/<repo>/tree/<ref>/<path>`, or the
//! repository's own URL for its default branch) through the host's tarball
//! API, with its token if it has one; a `.tar.gz` or `.tgz` URL as it is.
//! The same allow-list and address rules as catalog files apply. The caller
//! unpacks the archive: this module only downloads it, within a byte limit.
//!
//! A ref containing `/` (`tree/feature/x/docs`) is read as the ref `feature`
//! and the folder `x/docs`, as a folder URL does not say where one ends.

use super::read::{
    GithubIntegration, ReadError, SafeResolver, UrlReader, check_address, check_url,
    describe_reqwest, describe_size, github_for,
};
use std::sync::Arc;

/// A downloaded tree.
#[derive(Debug, Clone)]
pub struct RemoteTree {
    /// The gzip-compressed tar, as served.
    pub archive: Vec<u8>,
    /// How many leading path parts every entry has before the repository's
    /// own paths (GitHub's tarballs hold one `owner-repo-sha/` folder).
    pub strip: usize,
    /// The folder inside the repository (`/`-separated; empty for all).
    pub subpath: String,
}

/// Where a tree URL is downloaded from.
#[derive(Debug, PartialEq, Eq)]
struct TreeRequest {
    download: String,
    /// The GitHub host whose token goes with the request, if any.
    github_host: Option<String>,
    strip: usize,
    subpath: String,
}

fn tree_request(
    github: &[GithubIntegration],
    raw: &str,
    url: &reqwest::Url,
) -> Result<TreeRequest, ReadError> {
    let refused = |message: &str| ReadError::Other {
        what: raw.to_owned(),
        message: message.to_owned(),
    };
    if let Some(integration) = github_for(github, url) {
        let segments: Vec<&str> = url
            .path_segments()
            .map(|s| s.filter(|p| !p.is_empty()).collect())
            .unwrap_or_default();
        let (owner, repo, git_ref, path) = match segments.as_slice() {
            [owner, repo] => (*owner, *repo, None, &[][..]),
            [owner, repo, "tree", git_ref, path @ ..] => (*owner, *repo, Some(*git_ref), path),
            [_, _, "blob", ..] => {
                return Err(refused(
                    "it is a file; a docs source is a folder (`/tree/<ref>/<folder>`)",
                ));
            }
            _ => {
                return Err(refused(
                    "it is not a repository folder URL (`https://<host>/<owner>/<repo>/tree/<ref>/<folder>`)",
                ));
            }
        };
        if path.iter().any(|p| *p == ".." || *p == ".") {
            return Err(refused("the folder path has `.` or `..` parts"));
        }
        let repo = repo.trim_end_matches(".git");
        let download = match git_ref {
            Some(git_ref) => format!(
                "{}/repos/{owner}/{repo}/tarball/{git_ref}",
                integration.api_base
            ),
            None => format!("{}/repos/{owner}/{repo}/tarball", integration.api_base),
        };
        return Ok(TreeRequest {
            download,
            github_host: Some(integration.host.clone()),
            strip: 1,
            subpath: path.join("/"),
        });
    }
    let path = url.path().to_ascii_lowercase();
    if path.ends_with(".tar.gz") || path.ends_with(".tgz") {
        return Ok(TreeRequest {
            download: raw.to_owned(),
            github_host: None,
            strip: 0,
            subpath: String::new(),
        });
    }
    Err(refused(
        "only GitHub folder URLs (`https://<host>/<owner>/<repo>/tree/<ref>/<folder>`, hosts under catalog.reading.github) and .tar.gz URLs are read as trees",
    ))
}

impl UrlReader {
    /// Downloads the tree at `raw` (at most `max_bytes` compressed bytes;
    /// `setting` names what sets that limit, for the error).
    pub async fn read_tree(
        &self,
        raw: &str,
        max_bytes: u64,
        setting: &'static str,
    ) -> Result<RemoteTree, ReadError> {
        let url = check_url(self.allow(), raw)?;
        let request = tree_request(&self.github, raw, &url)?;
        // The API URL is the integration's own: allowed by configuring it.
        let download = check_address(&request.download)?;
        let auth = match &request.github_host {
            Some(host) => {
                let integration = self
                    .github
                    .iter()
                    .find(|g| &g.host == host)
                    .expect("the request's integration");
                self.github_auth(integration)?
            }
            None => None,
        };
        let client = self.tree_client();
        let mut get = client.get(download);
        if let Some(auth) = auth {
            // reqwest drops it on a redirect to another host (GitHub's API
            // redirects to codeload, which must not see the token).
            get = get.header(reqwest::header::AUTHORIZATION, auth);
        }
        let other = |message: String| ReadError::Other {
            what: raw.to_owned(),
            message,
        };
        let mut response = get.send().await.map_err(|e| other(describe_reqwest(&e)))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND || status == reqwest::StatusCode::GONE {
            return Err(ReadError::NotFound(raw.to_owned()));
        }
        if !status.is_success() {
            return Err(other(format!("the server answered HTTP {status}")));
        }
        let too_large = |size: String| ReadError::TooLarge {
            what: raw.to_owned(),
            size,
            limit: max_bytes,
            setting,
        };
        if let Some(len) = response.content_length()
            && len > max_bytes
        {
            return Err(too_large(describe_size(len)));
        }
        let mut archive = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| other(describe_reqwest(&e)))?
        {
            archive.extend_from_slice(&chunk);
            if archive.len() as u64 > max_bytes {
                return Err(too_large(format!("more than {}", describe_size(max_bytes))));
            }
        }
        Ok(RemoteTree {
            archive,
            strip: request.strip,
            subpath: request.subpath,
        })
    }

    /// A client whose redirects may leave the allow-list only from a GitHub
    /// API (to its archive server), never to a forbidden address.
    fn tree_client(&self) -> reqwest::Client {
        let allow = self.allow().clone();
        let apis: Arc<Vec<String>> = Arc::new(
            self.github
                .iter()
                .filter_map(|g| reqwest::Url::parse(&g.api_base).ok())
                .filter_map(|u| super::read::host_key(&u))
                .collect(),
        );
        reqwest::Client::builder()
            .timeout(self.timeout * 3)
            .dns_resolver(Arc::new(SafeResolver))
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() >= 5 {
                    return attempt.error("too many redirects");
                }
                let from_api = attempt
                    .previous()
                    .last()
                    .and_then(super::read::host_key)
                    .is_some_and(|h| apis.iter().any(|a| a.eq_ignore_ascii_case(&h)));
                let checked = if from_api {
                    check_address(attempt.url().as_str())
                } else {
                    check_url(&allow, attempt.url().as_str())
                };
                match checked {
                    Ok(_) => attempt.follow(),
                    Err(e) => attempt.error(format!("redirect refused: {e}")),
                }
            }))
            .user_agent(concat!("portal-catalog/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("an HTTP client with these settings always builds")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CatalogConfig;

    fn github() -> Vec<GithubIntegration> {
        GithubIntegration::from_config(
            &CatalogConfig::from_value(&serde_json::json!({
                "reading": { "github": [{
                    "host": "127.0.0.1:8080",
                    "raw_base_url": "http://127.0.0.1:8080/raw",
                    "api_base_url": "http://127.0.0.1:8080/api/v3/"
                }] }
            }))
            .unwrap(),
        )
    }

    fn request(raw: &str) -> Result<TreeRequest, ReadError> {
        tree_request(&github(), raw, &reqwest::Url::parse(raw).unwrap())
    }

    #[test]
    fn github_folders_are_read_as_tarballs() {
        assert_eq!(
            request("https://github.com/acme/app/tree/main/docs/site").unwrap(),
            TreeRequest {
                download: "https://api.github.com/repos/acme/app/tarball/main".into(),
                github_host: Some("github.com".into()),
                strip: 1,
                subpath: "docs/site".into(),
            }
        );
        let default_branch = request("https://github.com/acme/app").unwrap();
        assert_eq!(
            default_branch.download,
            "https://api.github.com/repos/acme/app/tarball"
        );
        assert_eq!(default_branch.subpath, "");
        let enterprise = request("http://127.0.0.1:8080/acme/app/tree/v1/").unwrap();
        assert_eq!(
            enterprise.download,
            "http://127.0.0.1:8080/api/v3/repos/acme/app/tarball/v1"
        );
        assert_eq!(enterprise.github_host.as_deref(), Some("127.0.0.1:8080"));
    }

    #[test]
    fn archives_are_read_as_they_are() {
        let plain = request("https://files.example.com/docs.tar.gz?x=1").unwrap();
        assert_eq!(plain.download, "https://files.example.com/docs.tar.gz?x=1");
        assert_eq!((plain.strip, plain.subpath.as_str()), (0, ""));
    }

    #[test]
    fn other_urls_are_refused_with_the_reason() {
        for (url, why) in [
            (
                "https://github.com/acme/app/blob/main/README.md",
                "it is a file",
            ),
            (
                "https://github.com/acme/app/pulls",
                "not a repository folder URL",
            ),
            (
                "https://files.example.com/docs.zip",
                "only GitHub folder URLs",
            ),
        ] {
            let err = request(url).unwrap_err().to_string();
            assert!(err.contains(why), "{url}: {err}");
        }
    }
}
