//! Markdown from plugins and catalog entities, rendered to HTML and sanitised
//! (pulldown-cmark, then ammonia): no scripts, no event handlers, no styles,
//! links only to http(s)/mailto and relative URLs.

use pulldown_cmark::{Options, Parser, html};

/// Longest Markdown input rendered; the rest is cut.
const MAX_MARKDOWN: usize = 256 * 1024;

pub fn to_safe_html(markdown: &str) -> String {
    let mut end = markdown.len().min(MAX_MARKDOWN);
    while !markdown.is_char_boundary(end) {
        end -= 1;
    }
    let parser = Parser::new_ext(
        &markdown[..end],
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS,
    );
    let mut raw = String::new();
    html::push_html(&mut raw, parser);
    sanitize(&raw)
}

pub fn sanitize(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

/// Whether a URL from a plugin or an entity may become a link.
pub fn safe_url(url: &str) -> bool {
    let u = url.trim();
    let lower = u.to_ascii_lowercase();
    lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (u.starts_with('/') && !u.starts_with("//"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_and_handlers_are_removed() {
        let html = to_safe_html(
            // (A line starting with `<script>` is a raw HTML block to its end
            // in CommonMark, so the Markdown goes in its own paragraph.)
            "# Hi\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)> [x](javascript:alert(1)) **bold**",
        );
        assert!(html.contains("<h1>Hi</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn urls_are_checked() {
        assert!(safe_url("https://example.com"));
        assert!(safe_url("/catalog"));
        assert!(!safe_url("//evil.example.com"));
        assert!(!safe_url("javascript:alert(1)"));
        assert!(!safe_url(" JavaScript:alert(1)"));
    }
}
