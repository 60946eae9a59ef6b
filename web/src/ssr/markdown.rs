//! Markdown from plugins and catalog entities, rendered to HTML and sanitised
//! (pulldown-cmark, then ammonia): no scripts, no event handlers, no styles,
//! and every link and image URL checked by the portal's one URL rule
//! (`portal_types::url`), after Markdown has decoded its entities.

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
        // Ammonia passes relative URLs through, `//host` and `/\host` among
        // them: the portal's rule decides instead.
        .attribute_filter(|_element, attribute, value| match attribute {
            "href" | "src" | "cite" | "action" | "formaction" | "srcset" | "poster" => {
                portal_types::url::is_safe(value).then_some(value.into())
            }
            _ => Some(value.into()),
        })
        .clean(html)
        .to_string()
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

    /// Off-site links disguised as portal paths lose their `href`, however
    /// they are written in the Markdown.
    #[test]
    fn disguised_links_lose_their_target() {
        for md in [
            "[x](//evil.example/a)",
            "[x](/\\evil.example/a)",
            "[x](&#47;&#47;evil.example/a)",
            "[x](/&#9;/evil.example/a)",
            "[x](<//evil.example/a>)",
            "[x](javascript&#58;alert(1))",
            "<a href=\"//evil.example\">x</a>",
            "<a href=\"/&#92;evil.example\">x</a>",
            "![i](//evil.example/pixel.png)",
        ] {
            let html = to_safe_html(md);
            assert!(!html.contains("javascript"), "{md}: {html}");
            // Whatever link is left stays in the portal (a percent-encoded
            // tab in a path is just a path there).
            for attr in ["href=\"", "src=\""] {
                for value in html.split(attr).skip(1) {
                    let value = value.split('"').next().unwrap_or("");
                    assert_eq!(
                        portal_types::url::classify(value),
                        Ok(portal_types::url::LinkTarget::Portal),
                        "{md}: {html}"
                    );
                    assert!(!value.starts_with("//"), "{md}: {html}");
                }
            }
        }
        let html = to_safe_html("[ok](/catalog) [site](https://example.com)");
        assert!(html.contains("href=\"/catalog\""), "{html}");
        assert!(html.contains("href=\"https://example.com\""), "{html}");
    }
}
