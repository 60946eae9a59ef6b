//! Branding and navigation from `app:` in `portal.yaml`:
//!
//! ```yaml
//! app:
//!   title: Acme Portal
//!   logo: ./branding/logo.svg        # a file (served at /_portal/logo) or an http(s) URL
//!   colors:
//!     light: { primary: "#0b5fff", background: "#f5f6f8", surface: "#ffffff",
//!              text: "#1b1f24", muted: "#5b6470", border: "#d9dde3",
//!              sidebar: "#111827", sidebar_text: "#e5e7eb" }
//!     dark:  { primary: "#7aa7ff", background: "#0f1115", … }
//!   sidebar:                         # replaces the default entries
//!     - { label: Catalog, path: /catalog, icon: catalog }
//!     - { label: Runbooks, url: "https://wiki.example.com/runbooks" }
//!   entity_page:                     # how plugin panels share an entity's page
//!     plugin_order: [ownership]      # these plugins first, then the rest by name
//!     panels_per_plugin: 4           # the rest fold under "More from <plugin>"
//! ```
//!
//! Unknown keys and invalid colours are configuration errors, reported at start.

use crate::model::{Branding, NavItem, default_sidebar};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AppExtra {
    #[serde(default)]
    logo: Option<String>,
    #[serde(default)]
    colors: Colors,
    #[serde(default)]
    sidebar: Option<Vec<SidebarEntry>>,
    #[serde(default)]
    entity_page: EntityPageConfig,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EntityPageConfig {
    #[serde(default)]
    plugin_order: Vec<String>,
    #[serde(default)]
    panels_per_plugin: Option<usize>,
}

/// How plugin panels share the entity page (`app.entity_page`): the operator's
/// plugin order comes first (then plugins by name), each plugin shows at most
/// `per_plugin` panels and folds the rest under "More from …", so no plugin can
/// crowd the others off the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PanelLayout {
    pub plugin_order: Vec<String>,
    pub per_plugin: usize,
}

/// Panels a plugin shows on an entity page before the rest are folded.
pub const DEFAULT_PANELS_PER_PLUGIN: usize = 4;

impl Default for PanelLayout {
    fn default() -> Self {
        PanelLayout {
            plugin_order: Vec::new(),
            per_plugin: DEFAULT_PANELS_PER_PLUGIN,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Colors {
    #[serde(default)]
    light: BTreeMap<String, String>,
    #[serde(default)]
    dark: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SidebarEntry {
    label: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    icon: Option<String>,
}

/// The colour roles a theme may set.
pub const COLOR_ROLES: &[&str] = &[
    "primary",
    "primary_text",
    "background",
    "surface",
    "text",
    "muted",
    "border",
    "sidebar",
    "sidebar_text",
    "sidebar_active",
    "focus",
];

pub const ICONS: &[&str] = &[
    "catalog", "api", "docs", "create", "search", "plugins", "home", "link", "group", "system",
];

/// Branding plus where a local logo file lives.
#[derive(Debug, Clone)]
pub struct Settings {
    pub branding: Branding,
    pub logo_file: Option<PathBuf>,
    pub panels: PanelLayout,
}

/// Reads `app:`; `base_dir` is where the configuration file lives.
pub fn from_app_config(
    title: &str,
    extra: &Map<String, Value>,
    base_dir: &Path,
) -> Result<Settings, String> {
    let parsed: AppExtra =
        serde_json::from_value(Value::Object(extra.clone())).map_err(|e| format!("app: {e}"))?;
    let mut css = String::new();
    for (scheme, colors) in [
        ("light", &parsed.colors.light),
        ("dark", &parsed.colors.dark),
    ] {
        let mut vars = String::new();
        for (role, value) in colors {
            if !COLOR_ROLES.contains(&role.as_str()) {
                return Err(format!(
                    "app.colors.{scheme}.{role}: unknown colour role (known: {})",
                    COLOR_ROLES.join(", ")
                ));
            }
            if !valid_color(value) {
                return Err(format!(
                    "app.colors.{scheme}.{role}: `{value}` is not a colour (use #rgb, #rrggbb, rgb(…), hsl(…) or a name)"
                ));
            }
            vars.push_str(&format!("--{}:{};", role.replace('_', "-"), value.trim()));
        }
        if vars.is_empty() {
            continue;
        }
        if scheme == "light" {
            css.push_str(&format!(":root{{{vars}}}"));
        } else {
            css.push_str(&format!(
                "@media (prefers-color-scheme: dark){{:root:not([data-theme=light]){{{vars}}}}}:root[data-theme=dark]{{{vars}}}"
            ));
        }
    }
    let (logo, logo_file) = match parsed.logo.as_deref().map(str::trim) {
        None | Some("") => (None, None),
        Some(l) if l.starts_with("https://") || l.starts_with("http://") => {
            (Some(l.to_owned()), None)
        }
        Some(l) => {
            let path = if Path::new(l).is_absolute() {
                PathBuf::from(l)
            } else {
                base_dir.join(l)
            };
            if !path.is_file() {
                return Err(format!("app.logo: {} is not a file", path.display()));
            }
            (Some("/_portal/logo".to_owned()), Some(path))
        }
    };
    let sidebar = match parsed.sidebar {
        None => default_sidebar(),
        Some(entries) => entries
            .into_iter()
            .enumerate()
            .map(|(i, e)| {
                let (href, external) = match (e.path, e.url) {
                    (Some(p), None)
                        if p.starts_with('/')
                            && portal_types::url::classify(&p)
                                == Ok(portal_types::url::LinkTarget::Portal) =>
                    {
                        (p, false)
                    }
                    (Some(p), None) => {
                        return Err(format!(
                            "app.sidebar[{i}].path: `{}` must be a path in the portal, starting with one /",
                            p.escape_debug()
                        ));
                    }
                    (None, Some(u))
                        if portal_types::url::classify(&u)
                            == Ok(portal_types::url::LinkTarget::External) =>
                    {
                        (u, true)
                    }
                    (None, Some(u)) => {
                        return Err(format!(
                            "app.sidebar[{i}].url: `{u}` must be an http(s) URL"
                        ));
                    }
                    _ => {
                        return Err(format!(
                            "app.sidebar[{i}]: give exactly one of `path` or `url`"
                        ));
                    }
                };
                let icon = e
                    .icon
                    .unwrap_or_else(|| if external { "link" } else { "catalog" }.to_owned());
                if !ICONS.contains(&icon.as_str()) {
                    return Err(format!(
                        "app.sidebar[{i}].icon: unknown icon `{icon}` (known: {})",
                        ICONS.join(", ")
                    ));
                }
                Ok(NavItem {
                    label: e.label,
                    href,
                    icon,
                    external,
                })
            })
            .collect::<Result<Vec<_>, String>>()?,
    };
    let per_plugin = parsed
        .entity_page
        .panels_per_plugin
        .unwrap_or(DEFAULT_PANELS_PER_PLUGIN);
    if per_plugin == 0 || per_plugin > 24 {
        return Err(format!(
            "app.entity_page.panels_per_plugin: {per_plugin} must be between 1 and 24"
        ));
    }
    Ok(Settings {
        branding: Branding {
            title: title.to_owned(),
            logo,
            css,
            sidebar,
            viewer: None,
        },
        logo_file,
        panels: PanelLayout {
            plugin_order: parsed.entity_page.plugin_order,
            per_plugin,
        },
    })
}

/// A conservative colour syntax check: nothing that could end the CSS rule.
fn valid_color(value: &str) -> bool {
    let v = value.trim();
    if v.is_empty() || v.len() > 64 {
        return false;
    }
    if let Some(hex) = v.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.chars().all(|c| c.is_ascii_hexdigit());
    }
    if v.chars().all(|c| c.is_ascii_alphabetic()) {
        return true;
    }
    for f in ["rgb(", "rgba(", "hsl(", "hsla(", "oklch(", "oklab("] {
        if let Some(args) = v.strip_prefix(f).and_then(|r| r.strip_suffix(')')) {
            return args.chars().all(|c| {
                c.is_ascii_digit() || " .,%/-".contains(c) || c == 'd' || c == 'e' || c == 'g'
            });
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Value) -> Result<Settings, String> {
        from_app_config("Acme", v.as_object().unwrap(), Path::new("."))
    }

    #[test]
    fn colours_become_css_variables_for_both_schemes() {
        let s = parse(json!({"colors": {"light": {"primary": "#0b5fff"}, "dark": {"primary": "rgb(1, 2, 3)"}}}))
            .unwrap();
        assert!(
            s.branding.css.contains(":root{--primary:#0b5fff;}"),
            "{}",
            s.branding.css
        );
        assert!(s.branding.css.contains("prefers-color-scheme: dark"));
        assert!(s.branding.css.contains("--primary:rgb(1, 2, 3);"));
    }

    #[test]
    fn bad_colours_and_unknown_keys_are_errors() {
        assert!(
            parse(json!({"colors": {"light": {"primary": "red;}body{display:none"}}})).is_err()
        );
        assert!(parse(json!({"colors": {"light": {"pirmary": "red"}}})).is_err());
        assert!(parse(json!({"colours": {}})).is_err());
    }

    #[test]
    fn sidebar_entries_replace_the_defaults() {
        let s = parse(json!({"sidebar": [
            {"label": "Catalog", "path": "/catalog"},
            {"label": "Wiki", "url": "https://wiki.example.com", "icon": "docs"}
        ]}))
        .unwrap();
        assert_eq!(s.branding.sidebar.len(), 2);
        assert!(s.branding.sidebar[1].external);
        assert!(parse(json!({"sidebar": [{"label": "x", "url": "javascript:alert(1)"}]})).is_err());
        assert!(parse(json!({"sidebar": [{"label": "x", "path": "//evil.example"}]})).is_err());
        assert!(parse(json!({"sidebar": [{"label": "x", "path": "/\\evil.example"}]})).is_err());
        assert_eq!(
            parse(json!({})).unwrap().branding.sidebar,
            default_sidebar()
        );
    }
}
