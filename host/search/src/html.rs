//! A docs page's sanitised HTML split into sections at its headings, as
//! plain text: a hit in a section leads to that heading's anchor. The HTML
//! comes from the TechDocs builder (ammonia's output: well formed, no
//! scripts), so a small scanner is enough; anything unexpected only costs
//! a word boundary.

/// Text under one heading (the first section may have none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-6; 0 for text before the first heading.
    pub level: u8,
    pub anchor: Option<String>,
    pub title: String,
    pub text: String,
}

/// Tags after which words must not run together.
fn is_block(tag: &str) -> bool {
    matches!(
        tag,
        "p" | "div"
            | "li"
            | "ul"
            | "ol"
            | "br"
            | "tr"
            | "td"
            | "th"
            | "table"
            | "pre"
            | "blockquote"
            | "dt"
            | "dd"
            | "section"
            | "details"
            | "summary"
            | "hr"
            | "code"
    )
}

fn heading_level(tag: &str) -> Option<u8> {
    let b = tag.as_bytes();
    (b.len() == 2 && b[0] == b'h' && (b'1'..=b'6').contains(&b[1])).then(|| b[1] - b'0')
}

fn attribute(tag_body: &str, name: &str) -> Option<String> {
    let mut rest = tag_body;
    while let Some(i) = rest.find(name) {
        let before_ok = i == 0 || rest.as_bytes()[i - 1].is_ascii_whitespace();
        let after = &rest[i + name.len()..];
        if before_ok && let Some(v) = after.strip_prefix("=\"") {
            return v.find('"').map(|end| decode_entities(&v[..end]));
        }
        rest = after;
    }
    None
}

/// Decodes the character references ammonia writes (and numeric ones).
pub fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest[..rest.len().min(12)].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => entity
                .strip_prefix("#x")
                .or_else(|| entity.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| entity.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn push_text(buffer: &mut String, raw: &str) {
    let text = decode_entities(raw);
    for word in text.split_whitespace() {
        if !buffer.is_empty() && !buffer.ends_with(' ') {
            buffer.push(' ');
        }
        buffer.push_str(word);
    }
    if text.ends_with(char::is_whitespace) && !buffer.is_empty() && !buffer.ends_with(' ') {
        buffer.push(' ');
    }
}

/// Splits a page into sections at headings that have an `id`.
pub fn sections(html: &str) -> Vec<Section> {
    let mut out = vec![Section {
        level: 0,
        anchor: None,
        title: String::new(),
        text: String::new(),
    }];
    // Inside a heading: its level and title so far.
    let mut heading: Option<(u8, Option<String>, String)> = None;
    // Inside a heading's permalink (`¶`): skipped.
    let mut in_headerlink = false;
    let mut rest = html;
    loop {
        let (text, tag) = match rest.find('<') {
            Some(i) => (&rest[..i], Some(i)),
            None => (rest, None),
        };
        if !in_headerlink {
            match heading.as_mut() {
                Some((_, _, title)) => push_text(title, text),
                None => push_text(&mut out.last_mut().expect("a section").text, text),
            }
        }
        let Some(i) = tag else { break };
        let after = &rest[i + 1..];
        let Some(end) = after.find('>') else { break };
        let body = &after[..end];
        rest = &after[end + 1..];
        let closing = body.starts_with('/');
        let name: String = body
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(level) = heading_level(&name) {
            if closing {
                if let Some((level, anchor, title)) = heading.take() {
                    let title = title.trim().to_owned();
                    match anchor {
                        Some(anchor) => out.push(Section {
                            level,
                            anchor: Some(anchor),
                            title,
                            text: String::new(),
                        }),
                        // A heading without an id stays part of its section's text.
                        None => push_text(&mut out.last_mut().expect("a section").text, &title),
                    }
                }
            } else {
                heading = Some((level, attribute(body, "id"), String::new()));
            }
            continue;
        }
        if name == "a" {
            if closing {
                in_headerlink = false;
            } else if attribute(body, "class").is_some_and(|c| c.contains("headerlink")) {
                in_headerlink = true;
            }
        }
        if is_block(&name) {
            let buffer = match heading.as_mut() {
                Some((_, _, title)) => title,
                None => &mut out.last_mut().expect("a section").text,
            };
            if !buffer.is_empty() && !buffer.ends_with(' ') {
                buffer.push(' ');
            }
        }
    }
    for s in &mut out {
        let trimmed = s.text.trim_end().len();
        s.text.truncate(trimmed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_headings_with_ids() {
        let html = "<p>Intro &amp; more</p>\
            <h1 id=\"title\">Title<a class=\"headerlink\" href=\"#title\">¶</a></h1>\
            <p>First<br>line</p><h2 id=\"setup\">Set <code>up</code></h2><ul><li>one</li><li>two</li></ul>\
            <h3>No id</h3><p>tail &#x41;&#66;</p>";
        let s = sections(html);
        assert_eq!(s.len(), 3, "{s:?}");
        assert_eq!(s[0].text, "Intro & more");
        assert_eq!((s[1].level, s[1].anchor.as_deref()), (1, Some("title")));
        assert_eq!(s[1].title, "Title");
        assert_eq!(s[1].text, "First line");
        assert_eq!(s[2].title, "Set up");
        assert_eq!(s[2].text, "one two No id tail AB");
    }
}
