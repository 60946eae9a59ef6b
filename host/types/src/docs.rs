//! TechDocs: what the portal stores of a built documentation site and what the
//! UI and the REST routes read back. The host's site builder
//! (`portal-techdocs`) writes these; the UI only ever draws them.
//!
//! Page HTML in [`DocsPage::html`] was sanitised by the builder (an allow-list
//! of elements and attributes, links checked by [`crate::url`]); titles,
//! places and messages are plain text and must be escaped when shown.

use serde::{Deserialize, Serialize};

/// The `status.items[].type` of a docs build's errors and problems on its
/// entity (the catalog serves them; the entity page shows them as the Docs
/// alert, not again as processing problems).
pub const DOCS_STATUS_TYPE: &str = "portal.dev/techdocs";

/// One entry of a site's navigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DocsNavItem {
    /// A page of the site, by its site path (`guide/setup/`, `""` for home).
    Page { title: String, path: String },
    /// A titled group of entries.
    Section {
        title: String,
        children: Vec<DocsNavItem>,
    },
    /// An external link (already checked by the URL rule).
    Link { title: String, url: String },
}

/// A heading of a page, for its table of contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsHeading {
    pub level: u8,
    pub id: String,
    pub title: String,
}

/// How bad a build problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocsSeverity {
    Warning,
    Error,
}

/// Something that went wrong in a build without stopping it (a broken link,
/// a page missing from the nav, an image not found, a refused mkdocs key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsProblem {
    pub severity: DocsSeverity,
    /// File relative to the repository root, with the line when known.
    pub place: String,
    pub message: String,
}

/// A page of a stored site, as listed once in its [`DocsSite`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsPageEntry {
    /// Site path (`guide/setup/`, `""` for home).
    pub path: String,
    pub title: String,
    /// Source file relative to docs_dir.
    pub source: String,
}

/// A stored site: everything but the pages' bodies and the assets' bytes
/// (the nav is kept here, once per site, not copied into every page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsSite {
    pub site_name: String,
    pub site_description: Option<String>,
    pub repo_url: Option<String>,
    pub edit_uri: Option<String>,
    pub nav: Vec<DocsNavItem>,
    pub pages: Vec<DocsPageEntry>,
    /// Asset paths relative to docs_dir, with their sizes.
    pub assets: Vec<(String, u64)>,
    pub problems: Vec<DocsProblem>,
    /// When this site was built (ms since the epoch).
    pub build_timestamp: u64,
    /// The content hash of the sources it was built from.
    pub etag: String,
    /// Files its snippets were looked for at, relative to the repository
    /// root: part of its content hash (absent in sites stored before).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
}

/// One page's body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsPage {
    pub path: String,
    pub title: String,
    /// Sanitised HTML; relative URLs in it are relative to `path`.
    pub html: String,
    pub toc: Vec<DocsHeading>,
    /// Plain text, for search.
    pub text: String,
    pub edit_url: Option<String>,
}

/// Where a site's build stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DocsState {
    /// Known, not yet checked or built.
    Pending,
    /// Being checked or built.
    Building,
    /// The stored site is current.
    Built,
    /// The last build failed (a previously stored site is still served).
    Failed,
    /// The entity's `techdocs-ref` cannot be built here (said in `error`).
    Refused,
}

/// A documented entity's build status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsStatus {
    /// `namespace/kind/name`, lowercased.
    pub key: String,
    pub state: DocsState,
    /// Why the last build failed, or why the source is refused.
    pub error: Option<String>,
    /// When the stored site was built, if there is one.
    pub build_timestamp: Option<u64>,
    /// The stored site's problems.
    pub problems: Vec<DocsProblem>,
    /// Builds run since the portal started (checks that found the sources
    /// unchanged are not builds).
    pub builds: u64,
    /// Checks that found the sources unchanged and skipped the build.
    pub skipped: u64,
    /// Changes whenever anything above does: cheap to poll.
    pub version: u64,
}

impl DocsStatus {
    /// A failed or refused build, or a built site with errors (not just
    /// warnings): what the catalog marks as a problem of the entity.
    pub fn has_errors(&self) -> bool {
        matches!(self.state, DocsState::Failed | DocsState::Refused)
            || self
                .problems
                .iter()
                .any(|p| p.severity == DocsSeverity::Error)
    }
}
