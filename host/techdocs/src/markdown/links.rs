//! Link and image targets. A page's relative links name source files
//! (`../index.md#top`, `img/a.png`); the built site serves pages at
//! directory URLs (`guide/setup/`), so each target is resolved against the
//! page's source directory, looked up among the site's pages and assets, and
//! written back relative to the page's own URL, as MkDocs does. Every URL
//! that is kept passes the portal's one URL rule first.

use portal_types::url::{LinkTarget, classify};

use super::RenderContext;
use crate::paths::{is_markdown, join_rel};

/// What becomes of one link or image target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Kept as written (external, mail, fragment, query or absolute path).
    Keep(String),
    /// A page or asset of the site, rewritten relative to the current page.
    Rewritten(String),
    /// Kept as written, but it names a file the site does not have.
    Missing(String, String),
    /// A relative link to a page the site does not have: dropped to text.
    Broken(String),
    /// Refused by the URL rule: dropped to text.
    Refused(String),
}

/// Decodes `%XX` escapes; the input if the result is not UTF-8.
fn percent_decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (
                (bytes[i + 1] as char).to_digit(16),
                (bytes[i + 2] as char).to_digit(16),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

/// The URL of `to` (a site path such as `guide/setup/` or `""`, or an asset
/// path such as `guide/img/a.png`) relative to the page served at `from`.
pub(crate) fn relative_url(from: &str, to: &str) -> String {
    let from_segments: Vec<&str> = from.split('/').filter(|s| !s.is_empty()).collect();
    let to_segments: Vec<&str> = to.split('/').filter(|s| !s.is_empty()).collect();
    let is_dir = to.is_empty() || to.ends_with('/');
    let common = from_segments
        .iter()
        .zip(&to_segments)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = "../".repeat(from_segments.len() - common);
    let rest = to_segments[common..].join("/");
    out.push_str(&rest);
    if is_dir && !rest.is_empty() {
        out.push('/');
    }
    if out.is_empty() {
        out.push_str("./");
    }
    out
}

/// Resolves one link (`image == false`) or image target of the page being
/// rendered.
pub(crate) fn resolve(url: &str, image: bool, ctx: &RenderContext<'_>) -> Outcome {
    let target = match classify(url) {
        Ok(target) => target,
        Err(e) => return Outcome::Refused(e.to_string()),
    };
    match target {
        LinkTarget::External | LinkTarget::Mail => return Outcome::Keep(url.to_owned()),
        LinkTarget::Portal => {}
    }
    if url.starts_with('#') || url.starts_with('?') || url.starts_with('/') {
        return Outcome::Keep(url.to_owned());
    }
    let (before_fragment, fragment) = match url.find('#') {
        Some(i) => (&url[..i], &url[i..]),
        None => (url, ""),
    };
    let (path, query) = match before_fragment.find('?') {
        Some(i) => (&before_fragment[..i], &before_fragment[i..]),
        None => (before_fragment, ""),
    };
    let decoded = percent_decode(path);
    let page_dir: Vec<String> = {
        let mut segments: Vec<String> = ctx.source.split('/').map(str::to_owned).collect();
        segments.pop();
        segments
    };
    let joined = join_rel(&page_dir, &decoded).map(|s| s.join("/"));
    let page_path = ctx.page_path();
    let is_page = is_markdown(&decoded);
    let Some(joined) = joined else {
        let reason = format!("`{url}` leads outside the docs directory");
        return if is_page || !image {
            Outcome::Broken(reason)
        } else {
            Outcome::Missing(url.to_owned(), reason)
        };
    };
    if is_page {
        return match ctx.pages.get(&joined) {
            Some(site_path) => Outcome::Rewritten(format!(
                "{}{query}{fragment}",
                relative_url(&page_path, site_path)
            )),
            None => Outcome::Broken(format!("broken link: no page `{joined}` in the docs")),
        };
    }
    if decoded.ends_with('/') || decoded.is_empty() {
        // Already a site URL (`../other/`): MkDocs leaves these alone.
        return Outcome::Keep(url.to_owned());
    }
    if ctx.assets.contains(&joined) {
        return Outcome::Rewritten(format!(
            "{}{query}{fragment}",
            relative_url(&page_path, &joined)
        ));
    }
    let what = if image {
        "missing image"
    } else {
        "broken link"
    };
    Outcome::Missing(
        url.to_owned(),
        format!("{what}: no file `{joined}` in the docs"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn relative_urls_between_site_paths() {
        assert_eq!(relative_url("guide/setup/", ""), "../../");
        assert_eq!(relative_url("guide/setup/", "guide/other/"), "../other/");
        assert_eq!(
            relative_url("guide/setup/", "guide/img/a.png"),
            "../img/a.png"
        );
        assert_eq!(relative_url("", "guide/setup/"), "guide/setup/");
        assert_eq!(relative_url("", "img/a.png"), "img/a.png");
        assert_eq!(relative_url("guide/", "guide/"), "./");
        assert_eq!(relative_url("a/b/", "c/"), "../../c/");
    }

    #[test]
    fn links_resolve_like_mkdocs() {
        let pages: BTreeMap<String, String> = [
            ("index.md", ""),
            ("other.md", "other/"),
            ("guide/setup.md", "guide/setup/"),
            ("guide/other.md", "guide/other/"),
            ("guide/index.md", "guide/"),
        ]
        .into_iter()
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
        .collect();
        let assets: BTreeSet<String> = ["guide/img/a.png".to_owned()].into_iter().collect();
        let ctx = RenderContext {
            source: "guide/setup.md",
            pages: &pages,
            assets: &assets,
            snippets: None,
            max_bytes: 1 << 20,
        };
        let cases = [
            ("../index.md#top", Outcome::Rewritten("../../#top".into())),
            ("other.md", Outcome::Rewritten("../other/".into())),
            ("./index.md", Outcome::Rewritten("../".into())),
            (
                "../other.md?x=1",
                Outcome::Rewritten("../../other/?x=1".into()),
            ),
            ("#local", Outcome::Keep("#local".into())),
            (
                "https://example.com/a.md",
                Outcome::Keep("https://example.com/a.md".into()),
            ),
            (
                "mailto:a@example.com",
                Outcome::Keep("mailto:a@example.com".into()),
            ),
        ];
        for (url, expected) in cases {
            assert_eq!(resolve(url, false, &ctx), expected, "{url}");
        }
        assert_eq!(
            resolve("img/a.png", true, &ctx),
            Outcome::Rewritten("../img/a.png".into())
        );
        assert!(matches!(
            resolve("img/b.png", true, &ctx),
            Outcome::Missing(..)
        ));
        assert!(matches!(
            resolve("missing.md", false, &ctx),
            Outcome::Broken(..)
        ));
        assert!(matches!(
            resolve("../../../etc/passwd.md", false, &ctx),
            Outcome::Broken(..)
        ));
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "data:text/html;base64,PHNjcmlwdD4=",
            "//evil.example",
            "/\\evil.example",
        ] {
            assert!(
                matches!(resolve(bad, false, &ctx), Outcome::Refused(_)),
                "{bad}"
            );
        }
    }
}
