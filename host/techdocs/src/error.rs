//! Fatal build errors. Anything that only spoils one page or one link is a
//! [`Problem`](crate::Problem) instead: a site with a broken link is still
//! worth showing, a site whose configuration cannot be read is not.

use thiserror::Error;

/// Why a site could not be built at all. Every message names the file (as a
/// path relative to the repository root) and the cause.
#[derive(Debug, Error)]
pub enum BuildError {
    /// The repository root itself cannot be resolved.
    #[error("cannot open the repository root `{path}`: {source}")]
    RepoRoot {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The docs root is missing, or lies outside the repository root.
    #[error("the docs root `{path}` {reason}")]
    DocsRoot { path: String, reason: String },
    /// Neither `mkdocs.yml` nor `mkdocs.yaml` exists in the docs root.
    #[error("no mkdocs.yml or mkdocs.yaml in `{docs_root}`")]
    NoConfig { docs_root: String },
    /// The configuration file exists but cannot be used (unreadable, a
    /// symlink, too large, not UTF-8).
    #[error("cannot read `{file}`: {reason}")]
    ConfigUnreadable { file: String, reason: String },
    /// The configuration file is not valid YAML, or breaks the parser's budget.
    #[error("`{file}` is not valid YAML{}: {message}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    ConfigYaml {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// The configuration file is valid YAML but not a usable configuration
    /// (for example `docs_dir` is a list, or the document is not a mapping).
    #[error("`{file}`: {message}")]
    ConfigInvalid { file: String, message: String },
    /// `docs_dir` leads outside the docs root or the repository.
    #[error("`{file}`: docs_dir `{docs_dir}` {reason}")]
    DocsDirEscapes {
        file: String,
        docs_dir: String,
        reason: &'static str,
    },
    /// `docs_dir` does not exist or is not a directory.
    #[error("`{file}`: docs_dir `{docs_dir}` is not a directory")]
    DocsDirMissing { file: String, docs_dir: String },
    /// More Markdown pages (or more other files) than [`BuildLimits::max_pages`](crate::BuildLimits::max_pages).
    #[error("`{docs_dir}` holds more than {limit} {what} (limit max_pages)")]
    TooManyPages {
        docs_dir: String,
        limit: usize,
        what: &'static str,
    },
    /// The files under docs_dir add up to more than [`BuildLimits::max_total_bytes`](crate::BuildLimits::max_total_bytes).
    #[error(
        "the files under `{docs_dir}` add up to more than {limit} bytes (limit max_total_bytes)"
    )]
    TooManyBytes { docs_dir: String, limit: u64 },
    /// The nav in the configuration is nested deeper than [`BuildLimits::max_nav_depth`](crate::BuildLimits::max_nav_depth).
    #[error("`{file}`: nav is nested deeper than {limit} levels (limit max_nav_depth)")]
    NavTooDeep { file: String, limit: usize },
    /// A directory under docs_dir cannot be listed.
    #[error("cannot list `{path}`: {source}")]
    ListDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
}
