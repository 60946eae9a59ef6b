//! Builds real trees on disk and checks the site that comes out.

use std::fs;
use std::path::Path;
use std::time::Instant;

use portal_techdocs::{BuildError, BuildLimits, NavItem, Severity, Site, build_site};

fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn build(root: &Path) -> Site {
    build_site(root, Path::new("."), &BuildLimits::default()).unwrap()
}

fn page<'a>(site: &'a Site, source: &str) -> &'a portal_techdocs::Page {
    site.pages
        .iter()
        .find(|p| p.source == source)
        .unwrap_or_else(|| {
            panic!(
                "no page {source}: {:?}",
                site.pages.iter().map(|p| &p.source).collect::<Vec<_>>()
            )
        })
}

fn problems_text(site: &Site) -> String {
    site.problems.iter().map(|p| format!("{p}\n")).collect()
}

fn nav_page(title: &str, path: &str) -> NavItem {
    NavItem::Page {
        title: title.into(),
        path: path.into(),
    }
}

#[test]
fn nested_nav_titles_links_images_and_edit_urls() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "mkdocs.yml",
        "site_name: Payments\nrepo_url: https://github.com/acme/payments\nnav:\n  - Home: index.md\n  - Guide:\n      - Setup: guide/setup.md\n      - guide/other.md\n      - Deeper:\n          - Deep page: guide/deep/page.md\n  - Gone: missing.md\n  - Backstage: https://backstage.io\n  - Evil: javascript:alert(1)\n",
    );
    write(
        root,
        "docs/index.md",
        "# Welcome\n\nSee [setup](guide/setup.md).\n",
    );
    write(
        root,
        "docs/guide/setup.md",
        "# Setting up\n\nBack [home](../index.md#top), [other](other.md), [deep](deep/page.md#x), [nowhere](nowhere.md).\n\n![diagram](img/a.png) ![lost](img/lost.png)\n",
    );
    write(root, "docs/guide/other.md", "# Other page\n");
    write(
        root,
        "docs/guide/deep/page.md",
        "No heading here.\n\n![up](../img/a.png)\n",
    );
    write(root, "docs/guide/img/a.png", "PNG");
    write(root, "docs/orphan.md", "# Orphan\n");
    let site = build(root);
    let problems = problems_text(&site);

    assert_eq!(site.name, "Payments");
    assert_eq!(
        site.nav,
        vec![
            nav_page("Home", ""),
            NavItem::Section {
                title: "Guide".into(),
                children: vec![
                    nav_page("Setup", "guide/setup/"),
                    nav_page("Other page", "guide/other/"),
                    NavItem::Section {
                        title: "Deeper".into(),
                        children: vec![nav_page("Deep page", "guide/deep/page/")],
                    },
                ],
            },
            NavItem::Link {
                title: "Backstage".into(),
                url: "https://backstage.io".into()
            },
        ]
    );
    let setup = page(&site, "guide/setup.md");
    assert_eq!(setup.path, "guide/setup/");
    assert_eq!(setup.title, "Setup", "nav title wins");
    assert!(setup.html.contains("href=\"../../#top\""), "{}", setup.html);
    assert!(setup.html.contains("href=\"../other/\""), "{}", setup.html);
    assert!(
        setup.html.contains("href=\"../deep/page/#x\""),
        "{}",
        setup.html
    );
    assert!(
        setup.html.contains("src=\"../img/a.png\""),
        "{}",
        setup.html
    );
    assert!(!setup.html.contains("nowhere.md"), "{}", setup.html);
    assert_eq!(
        setup.edit_url.as_deref(),
        Some("https://github.com/acme/payments/edit/main/docs/guide/setup.md")
    );
    assert_eq!(
        site.edit_uri.as_deref(),
        Some("https://github.com/acme/payments/edit/main/docs/")
    );
    assert_eq!(setup.toc[0].id, "setting-up");
    assert!(setup.text.contains("Back home, other"), "{}", setup.text);

    let deep = page(&site, "guide/deep/page.md");
    assert_eq!(deep.title, "Deep page");
    assert!(
        deep.html.contains("src=\"../../img/a.png\""),
        "{}",
        deep.html
    );
    assert_eq!(page(&site, "guide/other.md").title, "Other page");
    assert_eq!(page(&site, "index.md").path, "");
    assert!(
        page(&site, "index.md")
            .html
            .contains("href=\"guide/setup/\"")
    );

    assert_eq!(site.assets.len(), 1);
    assert_eq!(site.assets[0].path, "guide/img/a.png");
    assert_eq!(site.assets[0].bytes, b"PNG");

    let missing = site
        .problems
        .iter()
        .find(|p| p.message.contains("missing.md"))
        .unwrap_or_else(|| panic!("{problems}"));
    assert_eq!(missing.severity, Severity::Error);
    assert_eq!(missing.place, "mkdocs.yml");
    assert!(
        problems.contains("docs/guide/setup.md: broken link: no page `guide/nowhere.md`"),
        "{problems}"
    );
    assert!(
        problems.contains("missing image: no file `guide/img/lost.png`"),
        "{problems}"
    );
    assert!(
        problems.contains("warning: docs/orphan.md: not in nav"),
        "{problems}"
    );
    assert!(problems.contains("javascript:alert(1)"), "{problems}");
    // Pages outside the nav are still built.
    assert_eq!(page(&site, "orphan.md").title, "Orphan");
}

#[test]
fn readme_is_home_and_the_default_nav_is_generated() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "mkdocs.yaml",
        "site_name: Svc\ndocs_dir: documentation\n",
    );
    write(root, "documentation/README.md", "# Read me first\n");
    write(root, "documentation/zeta.md", "# Zeta\n");
    write(root, "documentation/alpha.md", "no heading\n");
    write(root, "documentation/how-to/index.md", "# How-tos\n");
    write(root, "documentation/how-to/deploy.md", "# Deploy\n");
    write(root, "documentation/api/README.md", "# API\n");
    write(root, "documentation/api/index.md", "# API index\n");
    let site = build(root);
    assert_eq!(page(&site, "README.md").path, "");
    assert_eq!(page(&site, "alpha.md").title, "Alpha");
    assert_eq!(page(&site, "how-to/index.md").path, "how-to/");
    // index.md wins over README.md in the same folder.
    assert_eq!(page(&site, "api/index.md").path, "api/");
    assert_eq!(page(&site, "api/README.md").path, "api/README/");
    assert_eq!(
        site.nav,
        vec![
            nav_page("Read me first", ""),
            nav_page("Alpha", "alpha/"),
            nav_page("Zeta", "zeta/"),
            NavItem::Section {
                title: "Api".into(),
                children: vec![
                    nav_page("API index", "api/"),
                    nav_page("API", "api/README/")
                ],
            },
            NavItem::Section {
                title: "How to".into(),
                children: vec![
                    nav_page("How-tos", "how-to/"),
                    nav_page("Deploy", "how-to/deploy/")
                ],
            },
        ]
    );
    assert!(site.problems.is_empty(), "{}", problems_text(&site));
    assert_eq!(site.repo_url, None);
    assert_eq!(page(&site, "zeta.md").edit_url, None);
}

#[test]
fn docs_root_in_a_subfolder_and_front_matter_titles() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "services/api/mkdocs.yml",
        "site_name: API\nrepo_url: https://github.com/acme/mono\n",
    );
    write(
        root,
        "services/api/docs/index.md",
        "---\ntitle: From front matter\n---\n# Heading\n",
    );
    let site = build_site(root, Path::new("services/api"), &BuildLimits::default()).unwrap();
    let home = page(&site, "index.md");
    assert_eq!(home.title, "From front matter");
    assert_eq!(
        home.edit_url.as_deref(),
        Some("https://github.com/acme/mono/edit/main/services/api/docs/index.md")
    );
    assert!(!home.html.contains("front matter"), "{}", home.html);
}

#[test]
fn missing_config_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "docs/index.md", "# x\n");
    let err = build_site(dir.path(), Path::new("."), &BuildLimits::default()).unwrap_err();
    assert!(matches!(err, BuildError::NoConfig { .. }), "{err}");
    assert!(
        err.to_string().contains("no mkdocs.yml or mkdocs.yaml"),
        "{err}"
    );
}

#[test]
fn docs_dir_may_not_escape() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("repo");
    write(&outer.path().join("secret"), "index.md", "# secret\n");
    for docs_dir in ["../secret", "/etc", "docs/../../secret", "."] {
        write(
            &root,
            "mkdocs.yml",
            &format!("site_name: x\ndocs_dir: \"{docs_dir}\"\n"),
        );
        let err = build_site(&root, Path::new("."), &BuildLimits::default()).unwrap_err();
        assert!(
            matches!(err, BuildError::DocsDirEscapes { .. }),
            "{docs_dir}: {err}"
        );
        let text = err.to_string();
        assert!(
            text.contains("mkdocs.yml") && text.contains(docs_dir),
            "{text}"
        );
    }
    // Through a symlink that leads out of the repository.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(outer.path().join("secret"), root.join("docs")).unwrap();
        write(&root, "mkdocs.yml", "site_name: x\n");
        let err = build_site(&root, Path::new("."), &BuildLimits::default()).unwrap_err();
        assert!(matches!(err, BuildError::DocsDirEscapes { .. }), "{err}");
        assert!(err.to_string().contains("symlink"), "{err}");
    }
    // A docs root outside the repository.
    let err = build_site(&root, &outer.path().join("secret"), &BuildLimits::default()).unwrap_err();
    assert!(matches!(err, BuildError::DocsRoot { .. }), "{err}");
}

#[cfg(unix)]
#[test]
fn symlinks_under_docs_are_never_read() {
    use std::os::unix::fs::symlink;
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("repo");
    write(outer.path(), "secret/passwords.md", "# TOP SECRET\n");
    write(outer.path(), "secret/key.png", "SECRETKEY");
    write(&root, "mkdocs.yml", "site_name: x\n");
    write(
        &root,
        "docs/index.md",
        "# Home\n\n[s](leak.md) ![k](key.png)\n",
    );
    symlink(
        outer.path().join("secret/passwords.md"),
        root.join("docs/leak.md"),
    )
    .unwrap();
    symlink(
        outer.path().join("secret/key.png"),
        root.join("docs/key.png"),
    )
    .unwrap();
    symlink(outer.path().join("secret"), root.join("docs/linked-dir")).unwrap();
    let site = build(&root);
    let problems = problems_text(&site);
    assert_eq!(site.pages.len(), 1, "{:?}", site.pages);
    assert!(site.assets.is_empty());
    for name in ["docs/leak.md", "docs/key.png", "docs/linked-dir"] {
        assert!(
            problems.contains(&format!("warning: {name}: symlink not followed")),
            "{name}: {problems}"
        );
    }
    let all: String = site
        .pages
        .iter()
        .map(|p| p.html.clone() + &p.text)
        .collect();
    assert!(!all.contains("SECRET"), "{all}");
}

#[test]
fn snippets_are_included_from_inside_the_repository_only() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("repo");
    write(outer.path(), "secret.txt", "TOP SECRET");
    write(&root, "mkdocs.yml", "site_name: x\n");
    write(
        &root,
        "snippets/common.md",
        "Shared **text** with <script>alert(1)</script> and [x](javascript:alert(1)).\n",
    );
    write(&root, "src/example.py", "print('hi')\n");
    write(
        &root,
        "docs/index.md",
        "# Home\n\n--8<-- \"snippets/common.md\"\n\n```python\n--8<-- \"src/example.py\"\n```\n\n--8<-- \"../secret.txt\"\n\n--8<-- \"/etc/hostname\"\n\n--8<-- \"linked/secret.txt\"\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(outer.path(), root.join("linked")).unwrap();
    let site = build(&root);
    let home = page(&site, "index.md");
    let problems = problems_text(&site);
    assert!(
        home.html.contains("Shared <strong>text</strong>"),
        "{}",
        home.html
    );
    // Included, and highlighted.
    assert!(
        home.html
            .contains("<pre><code class=\"language-python\"><span class=\"hl-")
            && home.html.contains(">print<"),
        "{}",
        home.html
    );
    assert!(
        !home.html.contains("<script") && !home.html.contains("javascript:"),
        "{}",
        home.html
    );
    assert!(
        !home.html.contains("TOP SECRET") && !home.text.contains("TOP SECRET"),
        "{}",
        home.html
    );
    for path in ["../secret.txt", "/etc/hostname"] {
        assert!(
            home.html
                .contains(&format!("snippet <code>{path}</code> not included")),
            "{path}: {}",
            home.html
        );
        assert!(
            problems.contains("error: docs/index.md:")
                && problems.contains(&format!("snippet `{path}` not included")),
            "{path}: {problems}"
        );
    }
    #[cfg(unix)]
    assert!(
        problems.contains(
            "snippet `linked/secret.txt` not included: the path passes through a symlink"
        ),
        "{problems}"
    );
}

#[test]
fn hostile_config_keys_and_tags_are_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let marker = root.join("pwned");
    write(
        root,
        "mkdocs.yml",
        &format!(
            "site_name: !ENV [HOME, Fallback]\nINHERIT: ../../base.yml\nhooks:\n  - hooks/evil.py\nplugins:\n  - techdocs-core\n  - search\n  - macros\nextra_javascript: [https://evil.example/x.js]\nextra_css: [x.css]\ntheme:\n  name: material\n  custom_dir: overrides\nmarkdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n  - pymdownx.superfences:\n      custom_fences:\n        - name: mermaid\n          format: !!python/object/apply:os.system [\"touch {}\"]\nnav:\n  - !relative $docs_dir\n  - Home: index.md\n",
            marker.display()
        ),
    );
    write(root, "docs/index.md", "# Home\n");
    let site = build(root);
    let problems = problems_text(&site);
    assert!(!marker.exists());
    assert_eq!(site.name, "Documentation Site");
    assert_eq!(site.nav, vec![nav_page("Home", "")]);
    for needle in [
        "`hooks` ignored",
        "`INHERIT` ignored",
        "`extra_javascript` ignored",
        "`extra_css` ignored",
        "`theme.custom_dir` ignored",
        "plugin `macros` ignored",
        "`site_name`: value tagged `!ENV` ignored",
        "python/name:material.extensions.emoji.twemoji",
        "python/object/apply:os.system",
        "`nav[0]`: value tagged `!relative` ignored",
    ] {
        assert!(problems.contains(needle), "{needle}: {problems}");
    }
    assert!(
        site.problems
            .iter()
            .all(|p| p.place == "mkdocs.yml" && p.severity == Severity::Warning),
        "{problems}"
    );
}

#[test]
fn invalid_yaml_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mkdocs.yml", "site_name: x\nnav: [\n");
    write(dir.path(), "docs/index.md", "# x\n");
    let err = build_site(dir.path(), Path::new("."), &BuildLimits::default()).unwrap_err();
    assert!(matches!(err, BuildError::ConfigYaml { .. }), "{err}");
    assert!(
        err.to_string()
            .starts_with("`mkdocs.yml` is not valid YAML"),
        "{err}"
    );
}

#[test]
fn hostile_titles_stay_plain_text() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "mkdocs.yml",
        "site_name: \"<script>alert(1)</script>\"\nnav:\n  - \"<img src=x onerror=alert(1)>Home\": index.md\n  - \"<b>Sec</b>\":\n      - page.md\n",
    );
    write(root, "docs/index.md", "# <script>alert(1)</script>Hi\n");
    write(
        root,
        "docs/page.md",
        "---\ntitle: \"<svg onload=alert(1)>Page\"\n---\nbody\n",
    );
    let site = build(root);
    // Nav titles and the site name are kept as written: the UI escapes them.
    assert_eq!(site.name, "<script>alert(1)</script>");
    assert_eq!(
        site.nav[0],
        nav_page("<img src=x onerror=alert(1)>Home", "")
    );
    // Page titles are plain text.
    assert_eq!(page(&site, "index.md").title, "Home");
    assert_eq!(page(&site, "page.md").title, "Page");
    assert_eq!(page(&site, "index.md").toc[0].title, "alert(1)Hi");
    for p in &site.pages {
        assert!(
            !p.html.contains("<script")
                && !p.html.contains("onerror")
                && !p.html.contains("onload"),
            "{}",
            p.html
        );
    }
}

#[test]
fn oversized_pages_are_skipped_and_limits_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "mkdocs.yml", "site_name: x\n");
    write(root, "docs/index.md", "# Home\n");
    write(root, "docs/big.md", &"x".repeat(2000));
    write(root, "docs/big.bin", &"x".repeat(2000));
    let limits = BuildLimits {
        max_page_bytes: 1000,
        ..BuildLimits::default()
    };
    let site = build_site(root, Path::new("."), &limits).unwrap();
    assert_eq!(site.pages.len(), 1);
    assert!(site.assets.is_empty());
    let big = site
        .problems
        .iter()
        .find(|p| p.place == "docs/big.md")
        .unwrap();
    assert_eq!(big.severity, Severity::Error);
    assert!(
        big.message.contains("more than the limit of 1000 bytes"),
        "{}",
        big.message
    );
    assert!(
        site.problems
            .iter()
            .any(|p| p.place == "docs/big.bin" && p.severity == Severity::Error)
    );

    let limits = BuildLimits {
        max_pages: 1,
        ..BuildLimits::default()
    };
    write(root, "docs/other.md", "# Other\n");
    let err = build_site(root, Path::new("."), &limits).unwrap_err();
    assert!(
        matches!(err, BuildError::TooManyPages { limit: 1, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "`docs` holds more than 1 Markdown pages (limit max_pages)"
    );

    let limits = BuildLimits {
        max_total_bytes: 3000,
        ..BuildLimits::default()
    };
    let err = build_site(root, Path::new("."), &limits).unwrap_err();
    assert!(
        matches!(err, BuildError::TooManyBytes { limit: 3000, .. }),
        "{err}"
    );
}

#[test]
fn a_thousand_pages_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let mut nav = String::from(
        "site_name: Big\nrepo_url: https://github.com/acme/big\nnav:\n  - Home: index.md\n",
    );
    write(root, "docs/index.md", "# Home\n");
    for section in 0..20 {
        nav.push_str(&format!("  - Section {section}:\n"));
        for n in 0..50 {
            let source = format!("s{section}/page-{n}.md");
            nav.push_str(&format!("      - {source}\n"));
            let next = format!("page-{}.md", (n + 1) % 50);
            write(
                root,
                &format!("docs/{source}"),
                &format!(
                    "# Page {section}.{n}\n\nSee [next]({next}) and [home](../index.md).\n\n!!! note\n    An admonition with `code`.\n\n## Details\n\n| a | b |\n|---|---|\n| {n} | {section} |\n\n```rust\nfn page_{n}() {{}}\n```\n\n{}\n",
                    "Lorem ipsum dolor sit amet. ".repeat(40)
                ),
            );
        }
    }
    write(root, "mkdocs.yml", &nav);
    let start = Instant::now();
    let site = build(root);
    eprintln!("built {} pages in {:?}", site.pages.len(), start.elapsed());
    assert_eq!(site.pages.len(), 1001);
    assert!(site.problems.is_empty(), "{}", problems_text(&site));
    let p = page(&site, "s3/page-7.md");
    assert_eq!(p.title, "Page 3.7");
    assert!(p.html.contains("href=\"../page-8/\""), "{}", p.html);
    assert!(p.html.contains("href=\"../../\""), "{}", p.html);
    assert_eq!(site.nav.len(), 21);
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_is_not_read() {
    let outer = tempfile::tempdir().unwrap();
    let root = outer.path().join("repo");
    write(outer.path(), "elsewhere.yml", "site_name: Elsewhere\n");
    write(&root, "docs/index.md", "# x\n");
    std::os::unix::fs::symlink(outer.path().join("elsewhere.yml"), root.join("mkdocs.yml"))
        .unwrap();
    let err = build_site(&root, Path::new("."), &BuildLimits::default()).unwrap_err();
    assert!(matches!(err, BuildError::ConfigUnreadable { .. }), "{err}");
    assert!(
        err.to_string().contains("`mkdocs.yml`") && err.to_string().contains("symlink"),
        "{err}"
    );
}
