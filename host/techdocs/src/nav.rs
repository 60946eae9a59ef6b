//! The site's navigation: the `nav` of mkdocs.yml matched with the pages
//! that exist, or, without one, the tree MkDocs would generate (home first,
//! then each folder's pages alphabetically, then its subfolders as
//! sections). Also the mapping from source files to site paths.

use std::collections::{BTreeMap, BTreeSet};

use portal_types::url::{LinkTarget, classify};

use crate::mkdocs::NavEntry;
use crate::paths::join_rel;
use crate::{NavItem, Problem};

/// Splits a source path into its directory (`guide` or ``) and file name.
fn split_source(source: &str) -> (&str, &str) {
    match source.rsplit_once('/') {
        Some((dir, name)) => (dir, name),
        None => ("", source),
    }
}

/// A file name without its Markdown extension.
pub(crate) fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

/// The site path of a page, MkDocs-style directory URLs: `foo.md` →
/// `foo/`, `guide/index.md` → `guide/`, `index.md` (or `README.md`) → ``.
/// `readme_is_page` makes a README an ordinary page (when its folder also
/// has an `index.md`).
pub(crate) fn site_path(source: &str, readme_is_page: bool) -> String {
    let (dir, name) = split_source(source);
    let s = stem(name);
    let dir_path = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    if s == "index" || (!readme_is_page && s.eq_ignore_ascii_case("readme")) {
        dir_path
    } else {
        format!("{dir_path}{s}/")
    }
}

/// A title from a file or folder name: `-` and `_` become spaces, the
/// first letter is capitalised.
pub(crate) fn title_from_name(name: &str) -> String {
    let spaced = name.replace(['-', '_'], " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The configured nav matched with the site's pages.
pub(crate) struct ResolvedNav {
    pub items: Vec<NavItem>,
    /// The nav title of each page listed (first occurrence wins).
    pub titles: BTreeMap<String, String>,
    /// Source paths listed in the nav.
    pub listed: BTreeSet<String>,
}

/// Matches the configured nav with the pages (`pages`: source → site path;
/// `titles`: source → page title), reporting entries for missing pages and
/// refused links.
pub(crate) fn resolve(
    entries: &[NavEntry],
    pages: &BTreeMap<String, String>,
    titles: &BTreeMap<String, String>,
    file: &str,
    problems: &mut Vec<Problem>,
) -> ResolvedNav {
    let mut resolved = ResolvedNav {
        items: Vec::new(),
        titles: BTreeMap::new(),
        listed: BTreeSet::new(),
    };
    resolved.items = resolve_level(
        entries,
        pages,
        titles,
        file,
        problems,
        &mut resolved.titles,
        &mut resolved.listed,
    );
    resolved
}

fn resolve_level(
    entries: &[NavEntry],
    pages: &BTreeMap<String, String>,
    titles: &BTreeMap<String, String>,
    file: &str,
    problems: &mut Vec<Problem>,
    nav_titles: &mut BTreeMap<String, String>,
    listed: &mut BTreeSet<String>,
) -> Vec<NavItem> {
    let mut items = Vec::new();
    for entry in entries {
        match entry {
            NavEntry::Page {
                title,
                file: target,
            } => {
                let source = join_rel(&[], target).map(|s| s.join("/"));
                let Some((source, path)) =
                    source.and_then(|s| pages.get(&s).map(|p| (s, p.clone())))
                else {
                    problems.push(Problem::error(
                        file,
                        format!(
                            "nav entry {}points at `{}`, which is not a page in docs_dir",
                            title
                                .as_ref()
                                .map(|t| format!("`{}` ", t.chars().take(100).collect::<String>()))
                                .unwrap_or_default(),
                            target.chars().take(200).collect::<String>()
                        ),
                    ));
                    continue;
                };
                let title = match title {
                    Some(t) => {
                        nav_titles
                            .entry(source.clone())
                            .or_insert_with(|| t.clone());
                        t.clone()
                    }
                    None => titles
                        .get(&source)
                        .cloned()
                        .unwrap_or_else(|| source.clone()),
                };
                listed.insert(source);
                items.push(NavItem::Page { title, path });
            }
            NavEntry::Section { title, children } => items.push(NavItem::Section {
                title: title.clone(),
                children: resolve_level(
                    children, pages, titles, file, problems, nav_titles, listed,
                ),
            }),
            NavEntry::Link { title, url } => match classify(url) {
                Ok(LinkTarget::External | LinkTarget::Mail) => items.push(NavItem::Link {
                    title: title.clone(),
                    url: url.clone(),
                }),
                Ok(LinkTarget::Portal) => problems.push(Problem::warning(
                    file,
                    format!(
                        "nav link `{}` is not an http(s) or mailto URL: ignored",
                        url.chars().take(200).collect::<String>()
                    ),
                )),
                Err(e) => problems.push(Problem::warning(file, format!("nav link ignored: {e}"))),
            },
        }
    }
    items
}

/// The nav MkDocs generates without a `nav` key: in each folder its index
/// page first, then its pages, then its subfolders as sections, each
/// alphabetically.
pub(crate) fn default_nav(
    pages: &BTreeMap<String, String>,
    titles: &BTreeMap<String, String>,
) -> Vec<NavItem> {
    #[derive(Default)]
    struct Folder<'a> {
        index: Option<&'a str>,
        files: Vec<&'a str>,
        folders: BTreeMap<&'a str, Folder<'a>>,
    }
    let mut root = Folder::default();
    for source in pages.keys() {
        let mut folder = &mut root;
        let mut parts: Vec<&str> = source.split('/').collect();
        let name = parts.pop().unwrap_or_default();
        for part in parts {
            folder = folder.folders.entry(part).or_default();
        }
        let dir_path = source.strip_suffix(name).unwrap_or_default();
        if pages.get(source).is_some_and(|p| p == dir_path) && folder.index.is_none() {
            folder.index = Some(source);
        } else {
            folder.files.push(source);
        }
    }
    fn items(
        folder: &Folder<'_>,
        pages: &BTreeMap<String, String>,
        titles: &BTreeMap<String, String>,
    ) -> Vec<NavItem> {
        let page = |source: &str| NavItem::Page {
            title: titles
                .get(source)
                .cloned()
                .unwrap_or_else(|| source.to_owned()),
            path: pages.get(source).cloned().unwrap_or_default(),
        };
        let mut out = Vec::new();
        out.extend(folder.index.map(page));
        let mut files = folder.files.clone();
        files.sort_by_key(|s| s.to_lowercase());
        out.extend(files.into_iter().map(page));
        for (name, sub) in &folder.folders {
            out.push(NavItem::Section {
                title: title_from_name(name),
                children: items(sub, pages, titles),
            });
        }
        out
    }
    items(&root, pages, titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_paths_are_directory_urls() {
        assert_eq!(site_path("index.md", false), "");
        assert_eq!(site_path("README.md", false), "");
        assert_eq!(site_path("README.md", true), "README/");
        assert_eq!(site_path("foo.md", false), "foo/");
        assert_eq!(site_path("guide/index.md", false), "guide/");
        assert_eq!(site_path("guide/setup.md", false), "guide/setup/");
    }

    #[test]
    fn default_nav_puts_home_first_then_files_then_folders() {
        let pages: BTreeMap<String, String> = [
            "b.md",
            "index.md",
            "a.md",
            "z-guide/index.md",
            "z-guide/x.md",
            "m_dir/y.md",
        ]
        .into_iter()
        .map(|s| (s.to_owned(), site_path(s, false)))
        .collect();
        let titles: BTreeMap<String, String> = pages
            .keys()
            .map(|k| (k.clone(), format!("T {k}")))
            .collect();
        let nav = default_nav(&pages, &titles);
        let page = |t: &str, p: &str| NavItem::Page {
            title: t.to_owned(),
            path: p.to_owned(),
        };
        assert_eq!(
            nav,
            vec![
                page("T index.md", ""),
                page("T a.md", "a/"),
                page("T b.md", "b/"),
                NavItem::Section {
                    title: "M dir".into(),
                    children: vec![page("T m_dir/y.md", "m_dir/y/")]
                },
                NavItem::Section {
                    title: "Z guide".into(),
                    children: vec![
                        page("T z-guide/index.md", "z-guide/"),
                        page("T z-guide/x.md", "z-guide/x/")
                    ],
                },
            ]
        );
    }
}
