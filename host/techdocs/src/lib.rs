//! The TechDocs site builder: turns a repository's MkDocs documentation
//! into a site held in memory (pages as sanitised HTML, navigation, tables
//! of contents, search text and assets), without running MkDocs.
//!
//! Backstage builds TechDocs by running MkDocs, which executes whatever the
//! repository's configuration names (hooks, plugins, `!!python` tags). The
//! portal builds the same kind of site from data only: `mkdocs.yml` is read
//! as YAML and nothing in it runs, symlinks are never followed, every path
//! is checked against the repository root, every file is size-checked
//! before it is read, and every page's HTML goes through a sanitiser with an
//! allow-list. What a repository cannot be trusted with is reported as a
//! [`Problem`] (or, when nothing sensible can be built, a [`BuildError`]).
//!
//! ```no_run
//! use std::path::Path;
//! let site = portal_techdocs::build_site(
//!     Path::new("/checkouts/repo"),
//!     Path::new("."),
//!     &portal_techdocs::BuildLimits::default(),
//! )?;
//! for page in &site.pages {
//!     println!("{} -> {}", page.source, page.path);
//! }
//! # Ok::<(), portal_techdocs::BuildError>(())
//! ```

mod error;
mod fingerprint;
mod markdown;
mod mkdocs;
mod nav;
mod paths;
mod remote;
mod service;
pub mod store;
mod tree;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use portal_types::url::{LinkTarget, classify};

pub use error::BuildError;
pub use fingerprint::{Fingerprint, fingerprint, include_dirs, includes_hash};
pub use markdown::{RenderContext, Rendered, SnippetLoader, render_markdown, slugify};
pub use remote::{FetchedTree, TreeFetcher};
pub use service::{DocsSource, TechDocs};
pub use store::{SiteStore, StoreError, site_key};

/// Bounds on what one build reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildLimits {
    /// Most Markdown pages under docs_dir (and, separately, most other
    /// files); more is a [`BuildError`].
    pub max_pages: usize,
    /// Largest single file read (page, asset, snippet, mkdocs.yml); a
    /// larger page or asset is skipped with an error [`Problem`].
    pub max_page_bytes: u64,
    /// Most bytes read from docs_dir in total; more is a [`BuildError`].
    pub max_total_bytes: u64,
    /// Deepest nesting of sections in `nav`; deeper is a [`BuildError`].
    pub max_nav_depth: usize,
}

impl Default for BuildLimits {
    fn default() -> Self {
        BuildLimits {
            max_pages: 50_000,
            max_page_bytes: 5 * 1024 * 1024,
            max_total_bytes: 200 * 1024 * 1024,
            max_nav_depth: 8,
        }
    }
}

/// A built site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// `site_name` (plain text; escape it when showing it).
    pub name: String,
    /// `site_description` (plain text), if any.
    pub description: Option<String>,
    /// `repo_url`, if it is an http(s) URL.
    pub repo_url: Option<String>,
    /// The base every page's edit URL starts with (repo_url joined with
    /// `edit_uri`, or the GitHub default), if any.
    pub edit_uri: Option<String>,
    /// The navigation tree (titles are plain text; escape them).
    pub nav: Vec<NavItem>,
    /// Every page, in source path order.
    pub pages: Vec<Page>,
    /// Every other file under docs_dir, in path order.
    pub assets: Vec<Asset>,
    /// Everything that went wrong without stopping the build.
    pub problems: Vec<Problem>,
    /// Files snippets were looked for at, relative to the repository root:
    /// the site changes when they do, though they may lie outside docs_dir.
    pub includes: Vec<String>,
}

/// One entry of the navigation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NavItem {
    /// A page of the site, by its site path (`guide/setup/`, `""` for home).
    Page { title: String, path: String },
    /// A titled group of entries.
    Section {
        title: String,
        children: Vec<NavItem>,
    },
    /// An external http(s) or mailto link (checked by the portal's URL rule).
    Link { title: String, url: String },
}

/// One page of the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Source path relative to docs_dir, e.g. `guide/setup.md`.
    pub source: String,
    /// Site path, e.g. `guide/setup/`; `""` for the home page.
    pub path: String,
    /// Plain-text title: the nav title, else the front matter `title`, else
    /// the first `# heading`, else one made from the file name.
    pub title: String,
    /// Sanitised HTML of the page body. Relative URLs in it are relative to
    /// the page's site path.
    pub html: String,
    /// The page's headings with their anchor ids.
    pub toc: Vec<Heading>,
    /// Plain text for search.
    pub text: String,
    /// Where the source can be edited, if the site has a repository URL.
    pub edit_url: Option<String>,
}

/// A heading of a page, for its table of contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heading {
    /// 1 to 6.
    pub level: u8,
    /// The anchor id (`#id` links to it).
    pub id: String,
    /// Plain text.
    pub title: String,
}

/// A file under docs_dir that is not a page (images and the like).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Asset {
    /// Path relative to docs_dir, e.g. `img/diagram.png`.
    pub path: String,
    pub bytes: Vec<u8>,
}

/// How bad a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something was ignored or may not look as intended.
    Warning,
    /// Something the author meant to include is missing from the site.
    Error,
}

/// Something that went wrong without stopping the build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub severity: Severity,
    /// The file (relative to the repository root) and the line if known,
    /// e.g. `docs/guide/setup.md:12`.
    pub place: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn warning(place: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Warning,
            place: place.into(),
            message: message.into(),
        }
    }

    pub(crate) fn error(place: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            severity: Severity::Error,
            place: place.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let severity = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{severity}: {}: {}", self.place, self.message)
    }
}

/// The configuration file names, in the order MkDocs looks for them.
const CONFIG_NAMES: [&str; 2] = ["mkdocs.yml", "mkdocs.yaml"];

/// Where a site's sources are, resolved and checked: the first step of a
/// build and of a fingerprint.
struct Located {
    repo: std::path::PathBuf,
    docs_root: std::path::PathBuf,
    docs_root_rel: String,
    config_file: String,
    config_text: String,
    config: mkdocs::Config,
    problems: Vec<Problem>,
    docs_dir: std::path::PathBuf,
    docs_dir_rel: String,
}

fn locate(repo_root: &Path, docs_root: &Path, limits: &BuildLimits) -> Result<Located, BuildError> {
    let repo = fs::canonicalize(repo_root).map_err(|source| BuildError::RepoRoot {
        path: repo_root.display().to_string(),
        source,
    })?;
    let joined = if docs_root.is_absolute() {
        docs_root.to_path_buf()
    } else {
        repo_root.join(docs_root)
    };
    let docs_root_error = |reason: String| BuildError::DocsRoot {
        path: docs_root.display().to_string(),
        reason,
    };
    let docs_root =
        fs::canonicalize(&joined).map_err(|e| docs_root_error(format!("cannot be opened: {e}")))?;
    if !docs_root.starts_with(&repo) {
        return Err(docs_root_error("is outside the repository root".to_owned()));
    }
    if !docs_root.is_dir() {
        return Err(docs_root_error("is not a directory".to_owned()));
    }
    let docs_root_rel = tree::display_rel(&repo, &docs_root);
    let in_repo = |name: &str| {
        if docs_root_rel == "." {
            name.to_owned()
        } else {
            format!("{docs_root_rel}/{name}")
        }
    };

    // mkdocs.yml
    let (config_path, config_file) = CONFIG_NAMES
        .iter()
        .map(|name| (docs_root.join(name), in_repo(name)))
        .find(|(path, _)| fs::symlink_metadata(path).is_ok())
        .ok_or_else(|| BuildError::NoConfig {
            docs_root: docs_root_rel.clone(),
        })?;
    let unreadable = |reason: String| BuildError::ConfigUnreadable {
        file: config_file.clone(),
        reason,
    };
    let bytes = tree::read_limited(&config_path, limits.max_page_bytes).map_err(unreadable)?;
    let text = String::from_utf8(bytes).map_err(|_| unreadable("it is not UTF-8".to_owned()))?;
    let mut problems = Vec::new();
    let node = mkdocs::parse_yaml(&text, &config_file, &mut problems)?;
    let config = mkdocs::read_config(&node, &config_file, limits, &mut problems)?;

    // docs_dir
    let escapes = |reason: &'static str| BuildError::DocsDirEscapes {
        file: config_file.clone(),
        docs_dir: config.docs_dir.clone(),
        reason,
    };
    let segments = paths::join_rel(&[], &config.docs_dir).ok_or_else(|| {
        escapes("is absolute or leads outside the directory of the configuration file")
    })?;
    if segments.is_empty() {
        return Err(escapes(
            "is the directory of the configuration file itself; it must be a subdirectory",
        ));
    }
    let docs_dir_lexical = segments.iter().fold(docs_root.clone(), |p, s| p.join(s));
    let docs_dir = fs::canonicalize(&docs_dir_lexical).map_err(|_| BuildError::DocsDirMissing {
        file: config_file.clone(),
        docs_dir: config.docs_dir.clone(),
    })?;
    if !docs_dir.starts_with(&repo) {
        return Err(escapes(
            "resolves through a symlink to a directory outside the repository",
        ));
    }
    if !docs_dir.is_dir() {
        return Err(BuildError::DocsDirMissing {
            file: config_file.clone(),
            docs_dir: config.docs_dir.clone(),
        });
    }
    let docs_dir_rel = in_repo(&segments.join("/"));
    Ok(Located {
        repo,
        docs_root,
        docs_root_rel,
        config_file,
        config_text: text,
        config,
        problems,
        docs_dir,
        docs_dir_rel,
    })
}

/// Builds the site whose `mkdocs.yml` is in `docs_root` (absolute, or
/// relative to `repo_root`) inside the checkout at `repo_root`.
pub fn build_site(
    repo_root: &Path,
    docs_root: &Path,
    limits: &BuildLimits,
) -> Result<Site, BuildError> {
    let _span = tracing::info_span!("techdocs_build", docs_root = %docs_root.display()).entered();
    let Located {
        repo,
        docs_root_rel,
        config_file,
        config,
        mut problems,
        docs_dir,
        docs_dir_rel,
        ..
    } = locate(repo_root, docs_root, limits)?;
    let listing = tree::walk(&docs_dir, &docs_dir_rel, limits, &mut problems)?;

    // Site paths of the pages.
    let dirs_with_index: BTreeSet<&str> = listing
        .pages
        .iter()
        .filter(|p| nav::stem(p.rel.rsplit('/').next().unwrap_or("")) == "index")
        .map(|p| p.rel.rsplit_once('/').map_or("", |(d, _)| d))
        .collect();
    let mut page_paths: BTreeMap<String, String> = BTreeMap::new();
    let mut path_owner: BTreeMap<String, String> = BTreeMap::new();
    let mut page_files = Vec::new();
    for entry in &listing.pages {
        let dir = entry.rel.rsplit_once('/').map_or("", |(d, _)| d);
        let name = entry.rel.rsplit('/').next().unwrap_or("");
        let readme_is_page =
            nav::stem(name).eq_ignore_ascii_case("readme") && dirs_with_index.contains(dir);
        let path = nav::site_path(&entry.rel, readme_is_page);
        if let Some(owner) = path_owner.get(&path) {
            problems.push(Problem::warning(
                format!("{docs_dir_rel}/{}", entry.rel),
                format!("skipped: `{owner}` already makes the page `{path}`"),
            ));
            continue;
        }
        path_owner.insert(path.clone(), entry.rel.clone());
        page_paths.insert(entry.rel.clone(), path);
        page_files.push(entry);
    }
    let asset_paths: BTreeSet<String> = listing.assets.iter().map(|a| a.rel.clone()).collect();

    // Render every page.
    let snippets = tree::SnippetFiles {
        repo: &repo,
        docs_root_rel: if docs_root_rel == "." {
            Vec::new()
        } else {
            docs_root_rel.split('/').map(str::to_owned).collect()
        },
        max_bytes: limits.max_page_bytes,
        looked_at: Default::default(),
    };
    let mut rendered = Vec::new();
    for entry in page_files {
        let place = format!("{docs_dir_rel}/{}", entry.rel);
        let bytes = match tree::read_limited(&entry.abs, limits.max_page_bytes) {
            Ok(bytes) => bytes,
            Err(reason) => {
                problems.push(Problem::error(place, format!("page not read: {reason}")));
                continue;
            }
        };
        let markdown = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                problems.push(Problem::warning(
                    &place,
                    "page is not valid UTF-8: invalid bytes replaced",
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        let ctx = RenderContext {
            source: &entry.rel,
            pages: &page_paths,
            assets: &asset_paths,
            snippets: Some(&snippets),
            max_bytes: limits.max_page_bytes,
        };
        let mut page = render_markdown(&markdown, &ctx);
        for problem in page.problems.drain(..) {
            problems.push(Problem {
                place: format!("{docs_dir_rel}/{}", problem.place),
                ..problem
            });
        }
        rendered.push((entry.rel.clone(), page));
    }

    // Titles, then the nav.
    let mut titles: BTreeMap<String, String> = BTreeMap::new();
    for (source, page) in &rendered {
        let title = page
            .front_matter_title
            .clone()
            .or_else(|| page.first_h1.clone())
            .unwrap_or_else(|| {
                let path = &page_paths[source];
                if path.is_empty() {
                    "Home".to_owned()
                } else {
                    let name = path
                        .trim_end_matches('/')
                        .rsplit('/')
                        .next()
                        .unwrap_or(path);
                    nav::title_from_name(name)
                }
            });
        titles.insert(source.clone(), title);
    }
    let built_pages: BTreeMap<String, String> = rendered
        .iter()
        .map(|(source, _)| (source.clone(), page_paths[source].clone()))
        .collect();
    let (site_nav, nav_titles) = match &config.nav {
        Some(entries) => {
            let resolved =
                nav::resolve(entries, &built_pages, &titles, &config_file, &mut problems);
            for source in built_pages.keys() {
                if !resolved.listed.contains(source) {
                    problems.push(Problem::warning(
                        format!("{docs_dir_rel}/{source}"),
                        "not in nav: the page is built but no nav entry leads to it",
                    ));
                }
            }
            (resolved.items, resolved.titles)
        }
        None => (nav::default_nav(&built_pages, &titles), BTreeMap::new()),
    };

    // Edit links.
    let repo_url = config
        .repo_url
        .as_ref()
        .and_then(|url| match classify(url) {
            Ok(LinkTarget::External) => Some(url.clone()),
            _ => {
                problems.push(Problem::warning(
                    &config_file,
                    format!(
                        "`repo_url` `{}` is not an http(s) URL: ignored",
                        url.chars().take(200).collect::<String>()
                    ),
                ));
                None
            }
        });
    let edit_base = edit_base(
        repo_url.as_deref(),
        config.edit_uri.as_deref(),
        &docs_dir_rel,
    );

    let pages = rendered
        .into_iter()
        .map(|(source, page)| {
            let title = nav_titles
                .get(&source)
                .map(|t| markdown::inline_text(t))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| titles[&source].clone());
            let edit_url = edit_base
                .as_ref()
                .map(|base| format!("{base}{source}"))
                .filter(|url| classify(url) == Ok(LinkTarget::External));
            Page {
                path: page_paths[&source].clone(),
                source,
                title,
                html: page.html,
                toc: page.toc,
                text: page.text,
                edit_url,
            }
        })
        .collect();

    let mut assets = Vec::new();
    for entry in &listing.assets {
        match tree::read_limited(&entry.abs, limits.max_page_bytes) {
            Ok(bytes) => assets.push(Asset {
                path: entry.rel.clone(),
                bytes,
            }),
            Err(reason) => problems.push(Problem::error(
                format!("{docs_dir_rel}/{}", entry.rel),
                format!("file not read: {reason}"),
            )),
        }
    }

    let includes = snippets.looked_at.into_inner().into_iter().collect();
    Ok(Site {
        includes,
        name: config.site_name,
        description: config.site_description,
        repo_url,
        edit_uri: edit_base,
        nav: site_nav,
        pages,
        assets,
        problems,
    })
}

/// The URL every page's edit link starts with: `repo_url` joined with
/// `edit_uri` as MkDocs joins them, or, for GitHub without an `edit_uri`,
/// `edit/main/<docs_dir>/`. An empty `edit_uri` turns edit links off.
fn edit_base(repo_url: Option<&str>, edit_uri: Option<&str>, docs_dir_rel: &str) -> Option<String> {
    let base = match edit_uri {
        Some("") => return None,
        Some(uri) if classify(uri) == Ok(LinkTarget::External) => uri.to_owned(),
        Some(uri) => {
            let repo = repo_url?;
            if uri.starts_with('/') {
                // Relative to the host.
                let after_scheme = repo.find("://").map_or(0, |i| i + 3);
                let host_end = repo[after_scheme..]
                    .find('/')
                    .map_or(repo.len(), |i| after_scheme + i);
                format!("{}{uri}", &repo[..host_end])
            } else if uri.starts_with('?') || uri.starts_with('#') {
                format!("{repo}{uri}")
            } else {
                format!("{}/{uri}", repo.trim_end_matches('/'))
            }
        }
        None => {
            let repo = repo_url?;
            let lower = repo.to_ascii_lowercase();
            let host = lower.split("://").nth(1)?.split(['/', '?', '#']).next()?;
            if host != "github.com" && host != "www.github.com" {
                return None;
            }
            format!(
                "{}/edit/main/{docs_dir_rel}/",
                repo.trim_end_matches('/').trim_end_matches(".git")
            )
        }
    };
    let base = if base.ends_with('/') || base.contains('?') || base.contains('#') {
        base
    } else {
        format!("{base}/")
    };
    (classify(&base) == Ok(LinkTarget::External)).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_base_joins_like_mkdocs() {
        let gh = Some("https://github.com/o/r");
        assert_eq!(
            edit_base(gh, None, "docs").as_deref(),
            Some("https://github.com/o/r/edit/main/docs/")
        );
        assert_eq!(
            edit_base(Some("https://github.com/o/r/"), None, "sub/docs").as_deref(),
            Some("https://github.com/o/r/edit/main/sub/docs/")
        );
        assert_eq!(
            edit_base(gh, Some("edit/dev/docs"), "docs").as_deref(),
            Some("https://github.com/o/r/edit/dev/docs/")
        );
        assert_eq!(
            edit_base(gh, Some("/o/r/blob/x/"), "docs").as_deref(),
            Some("https://github.com/o/r/blob/x/")
        );
        assert_eq!(edit_base(gh, Some(""), "docs"), None);
        assert_eq!(
            edit_base(Some("https://gitlab.example/o/r"), None, "docs"),
            None
        );
        assert_eq!(
            edit_base(None, Some("https://git.example/edit?path="), "docs").as_deref(),
            Some("https://git.example/edit?path=")
        );
        assert_eq!(
            edit_base(gh, Some("javascript:alert(1)//"), "docs"),
            Some("https://github.com/o/r/javascript:alert(1)//".to_owned())
        );
    }
}
