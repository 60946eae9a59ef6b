//! Bare `https://...`, `http://...` and `www....` URLs in text become links,
//! as GFM's extended autolinks (and techdocs-core's `magiclink`) make them;
//! pulldown-cmark only links `<...>` autolinks. A URL the portal's rule
//! refuses stays text.

use portal_types::url::is_safe;

/// Characters that end a bare URL when they are its last ones.
const TRAILING: &[char] = &['.', ',', ':', ';', '!', '?', '\'', '"', '*', '_', '~'];

/// Where the next bare URL starts in `text`, if any.
fn next_start(text: &str) -> Option<usize> {
    let mut from = 0;
    while from < text.len() {
        let rest = &text[from..];
        let candidates = ["https://", "http://", "www."]
            .iter()
            .filter_map(|p| rest.find(p).map(|i| (i, *p)))
            .min_by_key(|(i, _)| *i)?;
        let at = from + candidates.0;
        let boundary = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| c.is_whitespace() || "(*_~".contains(c));
        if boundary {
            return Some(at);
        }
        from = at + candidates.1.len();
    }
    None
}

/// Splits text into pieces, each with the link it should become (if any).
pub(crate) fn split(text: &str) -> Vec<(&str, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = next_start(rest) {
        let tail = &rest[start..];
        let mut end = tail
            .find(|c: char| c.is_whitespace() || c == '<')
            .unwrap_or(tail.len());
        loop {
            let candidate = &tail[..end];
            let unbalanced_paren = candidate.ends_with(')')
                && candidate.matches(')').count() > candidate.matches('(').count();
            if candidate.ends_with(TRAILING) || unbalanced_paren {
                end -= 1;
            } else {
                break;
            }
        }
        let url = &tail[..end];
        let href = if url.starts_with("www.") {
            format!("http://{url}")
        } else {
            url.to_owned()
        };
        let has_host = url
            .trim_start_matches("https://")
            .trim_start_matches("http://")
            .trim_start_matches("www.")
            .contains('.')
            || !url.starts_with("www.");
        if url.len() <= "https://".len() || !has_host || !is_safe(&href) {
            // Not a URL after all: keep it as text and look further on.
            let skip = start + tail.chars().next().map_or(1, char::len_utf8);
            out.push((&rest[..skip], None));
            rest = &rest[skip..];
            continue;
        }
        if start > 0 {
            out.push((&rest[..start], None));
        }
        out.push((url, Some(href)));
        rest = &tail[end..];
    }
    if !rest.is_empty() {
        out.push((rest, None));
    }
    // Merge adjacent text pieces.
    let mut merged: Vec<(&str, Option<String>)> = Vec::new();
    for (piece, href) in out {
        if let (None, Some((previous, None))) = (&href, merged.last_mut()) {
            let start = previous.as_ptr() as usize - text.as_ptr() as usize;
            *previous = &text[start..start + previous.len() + piece.len()];
            continue;
        }
        merged.push((piece, href));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_urls_become_links() {
        assert_eq!(
            split("see https://example.com/a_(b). and www.example.org, ok"),
            vec![
                ("see ", None),
                (
                    "https://example.com/a_(b)",
                    Some("https://example.com/a_(b)".to_owned())
                ),
                (". and ", None),
                ("www.example.org", Some("http://www.example.org".to_owned())),
                (", ok", None),
            ]
        );
        assert_eq!(
            split("(https://x.example)"),
            vec![
                ("(", None),
                ("https://x.example", Some("https://x.example".to_owned())),
                (")", None)
            ]
        );
        assert_eq!(split("no link here"), vec![("no link here", None)]);
        assert_eq!(
            split("xhttps://a.example https:// www."),
            vec![("xhttps://a.example https:// www.", None)]
        );
        assert_eq!(
            split("javascript:alert(1)//https://"),
            vec![("javascript:alert(1)//https://", None)]
        );
    }
}
