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
}

impl Default for Branding {
    fn default() -> Self {
        Branding {
            title: "Portal".to_owned(),
            logo: None,
            css: String::new(),
            sidebar: default_sidebar(),
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
