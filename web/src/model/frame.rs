//! The page frame: branding and the sidebar, from `app:` in the configuration.

use serde::{Deserialize, Serialize};

/// A sidebar entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NavItem {
    pub label: String,
    pub href: String,
    pub icon: String,
    pub external: bool,
}

/// How the portal looks, from `app:` in the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branding {
    pub title: String,
    pub logo: Option<String>,
    /// CSS custom properties for the light and dark schemes (validated).
    pub css: String,
    pub sidebar: Vec<NavItem>,
    /// Who is viewing (set per request; `None`: nobody to show).
    #[serde(default)]
    pub viewer: Option<Viewer>,
}

/// Who is viewing the page, as the frame shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The user's name (`guest`, `jane`).
    pub name: String,
    /// Their entity page.
    pub href: String,
    /// Guest mode: shown as "guest (local only)".
    pub guest: bool,
    /// Signed in with a provider: the frame offers to sign out.
    #[serde(default)]
    pub signed_in: bool,
    /// The permissions (of those the UI offers actions for) the policy
    /// grants this viewer, at least for some resources: the UI leaves out
    /// what they may not do (the server refuses it anyway).
    #[serde(default)]
    pub may: Vec<String>,
    /// The catalog filtered to what they and their groups own.
    #[serde(default)]
    pub owned_href: Option<String>,
}

impl Viewer {
    pub fn may(&self, permission: &str) -> bool {
        self.may.iter().any(|p| p == permission)
    }
}

/// The permissions the UI asks about for [`Viewer::may`].
pub const UI_PERMISSIONS: &[&str] = &[
    "scaffolder.task.create",
    "scaffolder.task.cancel",
    "audit.read",
];

impl Default for Branding {
    fn default() -> Self {
        Branding {
            title: "Portal".to_owned(),
            logo: None,
            css: String::new(),
            sidebar: default_sidebar(),
            viewer: None,
        }
    }
}

pub fn default_sidebar() -> Vec<NavItem> {
    let item = |label: &str, href: &str, icon: &str| NavItem {
        label: label.to_owned(),
        href: href.to_owned(),
        icon: icon.to_owned(),
        external: false,
    };
    vec![
        item("Catalog", "/catalog", "catalog"),
        item("APIs", "/catalog?kind=api", "api"),
        item("Docs", "/docs", "docs"),
        item("Create", "/create", "create"),
        item("Search", "/search", "search"),
        item("Plugins", "/plugins", "plugins"),
    ]
}
