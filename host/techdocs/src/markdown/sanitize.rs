//! The last step of every page: its HTML goes through ammonia with an
//! explicit allow-list of the elements and attributes this crate produces.
//! Raw HTML written in Markdown reaches a page only through here, so no
//! script, style, event handler, frame or form survives, and every `href` or
//! `src` left must pass the portal's URL rule (ammonia alone lets `//host`
//! and `/\host` through as relative URLs).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

/// Elements a page may contain.
const TAGS: &[&str] = &[
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "br",
    "hr",
    "div",
    "span",
    "a",
    "img",
    "pre",
    "code",
    "blockquote",
    "ul",
    "ol",
    "li",
    "em",
    "strong",
    "del",
    "s",
    "sup",
    "sub",
    "kbd",
    "mark",
    "small",
    "abbr",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "details",
    "summary",
    "input",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
];

/// Per-element attributes (besides the generic `title`).
const TAG_ATTRIBUTES: &[(&str, &[&str])] = &[
    ("a", &["href", "class", "id"]),
    ("img", &["src", "alt", "width", "height"]),
    ("h1", &["id"]),
    ("h2", &["id"]),
    ("h3", &["id"]),
    ("h4", &["id"]),
    ("h5", &["id"]),
    ("h6", &["id"]),
    ("div", &["class", "id"]),
    ("p", &["class"]),
    ("pre", &["class"]),
    ("code", &["class"]),
    ("span", &["class"]),
    ("sup", &["class", "id"]),
    ("li", &["class", "id"]),
    ("details", &["class", "open"]),
    ("summary", &["class"]),
    ("input", &["type", "checked", "disabled"]),
    ("ol", &["start"]),
    ("th", &["colspan", "rowspan", "class"]),
    ("td", &["colspan", "rowspan", "class"]),
];

/// Whether a class list is plain words (`admonition note`,
/// `language-rust`): at most 8 of them, each at most 64 ASCII word
/// characters or hyphens.
fn plain_classes(value: &str) -> bool {
    let words: Vec<&str> = value.split_ascii_whitespace().collect();
    words.len() <= 8
        && words.iter().all(|w| {
            w.len() <= 64
                && w.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn builder() -> &'static ammonia::Builder<'static> {
    static BUILDER: OnceLock<ammonia::Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = ammonia::Builder::empty();
        b.tags(TAGS.iter().copied().collect())
            .tag_attributes(
                TAG_ATTRIBUTES
                    .iter()
                    .map(|(tag, attrs)| (*tag, attrs.iter().copied().collect::<HashSet<_>>()))
                    .collect::<HashMap<_, _>>(),
            )
            .generic_attributes(["title"].into_iter().collect())
            .url_schemes(["http", "https", "mailto"].into_iter().collect())
            .link_rel(Some("noopener noreferrer"))
            .strip_comments(true)
            .clean_content_tags(["script", "style"].into_iter().collect())
            // Task-list boxes only show state.
            .set_tag_attribute_value("input", "type", "checkbox")
            .set_tag_attribute_value("input", "disabled", "")
            .attribute_filter(|_element, attribute, value| match attribute {
                "href" | "src" => portal_types::url::is_safe(value).then_some(value.into()),
                "class" => plain_classes(value).then_some(value.into()),
                // Letters and digits of any script (non-Latin headings'
                // anchors), never spaces, quotes or markup.
                "id" => (value.len() <= 256
                    && value
                        .chars()
                        .all(|c| c.is_alphanumeric() || "-_.:".contains(c)))
                .then_some(value.into()),
                _ => Some(value.into()),
            });
        b
    })
}

/// Sanitises a page's HTML.
pub(crate) fn sanitize(html: &str) -> String {
    builder().clean(html).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_markup_survives() {
        let html = "<div class=\"admonition note\"><p class=\"admonition-title\">T</p></div>\
            <details class=\"warning\" open=\"\"><summary>S</summary></details>\
            <h2 id=\"a-b\">A<a class=\"headerlink\" href=\"#a-b\">¶</a></h2>\
            <pre><code class=\"language-rust\">x</code></pre>\
            <ul><li><input disabled=\"\" type=\"checkbox\" checked=\"\"> t</li></ul>";
        let clean = sanitize(html);
        for needle in [
            "class=\"admonition note\"",
            "class=\"admonition-title\"",
            "<details class=\"warning\" open=\"\">",
            "id=\"a-b\"",
            "href=\"#a-b\"",
            "class=\"language-rust\"",
            "checked=\"\"",
            "type=\"checkbox\"",
        ] {
            assert!(clean.contains(needle), "{needle}: {clean}");
        }
    }

    #[test]
    fn hostile_markup_is_removed() {
        let clean = sanitize(
            "<script>alert(1)</script><img src=x onerror=alert(1)><a href=\"javascript:alert(1)\">j</a>\
             <svg onload=alert(1)></svg><iframe src=\"https://evil.example\"></iframe><style>*{}</style>\
             <form action=\"https://evil.example\"><input type=\"text\" name=\"q\"></form>\
             <meta http-equiv=\"refresh\" content=\"0;url=https://evil.example\">\
             <a href=\"//evil.example\">o</a><a href=\"/\\evil.example\">b</a><div class=\"a{b}\" style=\"x\">d</div>",
        );
        for bad in [
            "<script",
            "onerror",
            "onload",
            "javascript:",
            "<iframe",
            "<style",
            "<form",
            "<meta",
            "evil.example",
            "style=",
            "type=\"text\"",
            "a{b}",
        ] {
            assert!(!clean.contains(bad), "{bad}: {clean}");
        }
    }
}
