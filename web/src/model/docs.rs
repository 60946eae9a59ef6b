//! TechDocs views: the list of documented entities (`/docs`) and one page of
//! a site (`/docs/:namespace/:kind/:name/*path`, and the entity's Docs tab).

use super::EntityLink;
use portal_types::docs::{DocsHeading, DocsProblem};
use serde::{Deserialize, Serialize};

/// `/docs`: every documented entity, filtered by owner and kind.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocsListView {
    pub rows: Vec<DocsRow>,
    /// Owner refs with their counts (over the other filter).
    pub owners: Vec<(String, u64)>,
    /// Kinds with their counts (over the other filter).
    pub kinds: Vec<(String, u64)>,
    pub owner: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsRow {
    /// The site's name, or the entity's when not built yet.
    pub title: String,
    pub href: String,
    pub entity: EntityLink,
    pub owner: Option<EntityLink>,
    pub description: Option<String>,
    pub status: DocsStatusView,
}

/// A site's build, for people.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocsStatusView {
    /// `pending`, `building`, `built`, `failed`, `refused` or `unknown`.
    pub state: String,
    pub error: Option<String>,
    /// RFC 3339 and "5 minutes ago" of the stored site's build.
    pub built_at: Option<String>,
    pub built_ago: Option<String>,
    pub problems: Vec<DocsProblem>,
    /// Changes whenever the build status does (polled for live updates).
    pub version: u64,
}

/// One entry of a site's sidebar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsNavView {
    pub title: String,
    /// A page's or an external link's URL; for a section, `None`, or its
    /// first page when it is folded.
    pub href: Option<String>,
    pub external: bool,
    pub current: bool,
    /// A section (its entries in `children`, or folded: none sent).
    pub section: bool,
    pub children: Vec<DocsNavView>,
}

/// One page of a site, with its frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsSiteView {
    pub namespace: String,
    pub kind: String,
    pub name: String,
    pub entity: EntityLink,
    /// `None` while no site is stored.
    pub site_name: Option<String>,
    /// `/docs/:namespace/:kind/:name/`.
    pub base: String,
    pub nav: Vec<DocsNavView>,
    /// The page asked for; `None` when the site has no such page.
    pub page: Option<DocsPageView>,
    pub status: DocsStatusView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocsPageView {
    pub path: String,
    pub title: String,
    /// Sanitised by the builder; relative URLs already made absolute.
    pub html: String,
    pub toc: Vec<DocsHeading>,
    pub edit_url: Option<String>,
}
