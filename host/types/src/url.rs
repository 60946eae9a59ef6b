//! The one rule for which URLs may become links: plugin link widgets,
//! Markdown from plugins and entities, entity links and annotations all pass
//! through [`classify`] before a page shows them.
//!
//! A link may go to http(s) on a named host, to `mailto:`, or somewhere in the
//! portal itself (an absolute path, a relative reference, a query or a fragment).
//! Nothing that runs (`javascript:`, `data:`, `vbscript:` ...), and nothing that
//! looks like a portal path but which a browser opens on another host:
//! `//evil.example`, `/\evil.example` (browsers read `\` as `/`),
//! `/<TAB>/evil.example` (browsers drop tabs and newlines from URLs),
//! `/%2f/evil.example` and the like. The check is made on the URL as the
//! browser will receive it (after Markdown has decoded its entities), so
//! entity-encoded disguises meet the same rule.

use std::fmt;

/// Where a link that passed the rule leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkTarget {
    /// A page of the portal itself (same origin): opened in the same tab.
    Portal,
    /// Another site over http(s): opened in a new tab, without a referrer.
    External,
    /// An e-mail address.
    Mail,
}

/// Why a URL may not become a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsafeUrl {
    pub url: String,
    pub reason: &'static str,
}

impl fmt::Display for UnsafeUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "link URL `{}` is not allowed ({}): use http(s)://host/..., mailto: or a path in the portal such as /catalog",
            self.url.escape_debug(),
            self.reason
        )
    }
}

impl std::error::Error for UnsafeUrl {}

/// Longest URL accepted as a link.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// Classifies `url`, or says why it may not become a link.
pub fn classify(url: &str) -> Result<LinkTarget, UnsafeUrl> {
    let refuse = |reason: &'static str| {
        Err(UnsafeUrl {
            url: url.chars().take(200).collect(),
            reason,
        })
    };
    if url.is_empty() {
        return refuse("it is empty");
    }
    if url.len() > MAX_URL_BYTES {
        return refuse("it is too long");
    }
    // Browsers silently drop tabs and newlines from URLs and trim other
    // control characters and spaces at either end, so any of them can
    // disguise one URL as another: refuse them all, wherever they are.
    // (The surrounding-whitespace check is made once: per character it would
    // make a long URL of spaces quadratic.)
    if url.trim() != url
        || url
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() && c != ' ')
    {
        return refuse("it contains control characters or surrounding whitespace");
    }
    // Browsers read `\` as `/` in http(s) URLs and in paths.
    if url.contains('\\') {
        return refuse("it contains a backslash");
    }
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
    {
        let host_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..host_end];
        let host = authority.rsplit('@').next().unwrap_or("");
        if host.is_empty() || host.starts_with(':') {
            return refuse("it names no host");
        }
        return Ok(LinkTarget::External);
    }
    if let Some(address) = lower.strip_prefix("mailto:") {
        if address.is_empty() {
            return refuse("it names no address");
        }
        return Ok(LinkTarget::Mail);
    }
    if let Some(path) = lower.strip_prefix('/') {
        // `//host` is another site; so is `/%2f/host` once anything on the
        // way decodes it.
        if path.starts_with('/') || path.starts_with("%2f") || path.starts_with("%5c") {
            return refuse("it leads to another host");
        }
        return Ok(LinkTarget::Portal);
    }
    if lower.starts_with('?') || lower.starts_with('#') {
        return Ok(LinkTarget::Portal);
    }
    // A relative reference stays in the portal unless its first segment
    // names a scheme (`javascript:`, `data:`, `http:evil.example`, ...).
    let first_segment = &lower[..lower.find(['/', '?', '#']).unwrap_or(lower.len())];
    if first_segment.contains(':') {
        return refuse("its scheme is not http, https or mailto");
    }
    Ok(LinkTarget::Portal)
}

/// Whether `url` may become a link.
pub fn is_safe(url: &str) -> bool {
    classify(url).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_classified() {
        let cases = [
            ("https://example.com/x", LinkTarget::External),
            ("HTTP://Example.com", LinkTarget::External),
            ("https://user@example.com/", LinkTarget::External),
            ("mailto:team@example.com", LinkTarget::Mail),
            ("/catalog/default/component/x", LinkTarget::Portal),
            ("/catalog?kind=api&q=a b", LinkTarget::Portal),
            ("docs/page.md", LinkTarget::Portal),
            ("../other", LinkTarget::Portal),
            ("#heading", LinkTarget::Portal),
            ("?page=2", LinkTarget::Portal),
            ("/@evil.example", LinkTarget::Portal),
            ("&#47;&#47;evil.example", LinkTarget::Portal),
        ];
        for (url, expected) in cases {
            assert_eq!(classify(url), Ok(expected), "{url}");
        }
    }

    /// Disguised forms of off-site and script links, each refused.
    #[test]
    fn disguised_links_are_refused() {
        let cases = [
            "//evil.example/x",
            "/\\evil.example/x",
            "\\\\evil.example",
            "/\t/evil.example/x",
            "/\n/evil.example/x",
            "/\r/evil.example",
            "\t//evil.example",
            " /catalog",
            "/catalog ",
            "/\u{0}/evil.example",
            "/\u{1b}[31m",
            "/\u{7f}/evil.example",
            "/\u{85}/evil.example",
            "/\u{2028}/evil.example",
            "/%2f/evil.example",
            "/%2F%2Fevil.example",
            "/%5c/evil.example",
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "http:evil.example",
            "https:/\\evil.example",
            "http:\\\\evil.example",
            "https://",
            "https://:443/x",
            "https://@/x",
            "mailto:",
            "",
        ];
        for url in cases {
            assert!(classify(url).is_err(), "{url:?} should be refused");
        }
    }

    /// Inner spaces are part of a portal path or query (the browser encodes
    /// them); only surrounding whitespace disguises a URL. A URL as long as
    /// allowed is classified either way.
    #[test]
    fn long_urls_with_spaces_are_classified() {
        let spaces = format!("/catalog?q={}x", " ".repeat(MAX_URL_BYTES - 20));
        assert_eq!(classify(&spaces), Ok(LinkTarget::Portal));
        let padded = format!("{}/catalog", " ".repeat(MAX_URL_BYTES - 20));
        assert!(classify(&padded).is_err());
        assert!(classify(&format!("/{}", "a".repeat(MAX_URL_BYTES))).is_err());
    }

    #[test]
    fn refusals_say_why_without_echoing_control_characters() {
        let e = classify("/\n/evil.example").unwrap_err();
        let text = e.to_string();
        assert!(text.contains("control characters"), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }
}
