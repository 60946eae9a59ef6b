//! The MkDocs / techdocs-core Markdown extensions, as a pass over lines
//! before CommonMark parsing: snippets are inlined, admonitions and tabs
//! become HTML wrappers around their (still Markdown) content, and
//! `attr_list` suffixes are removed. Outside snippets, nothing inside a
//! fenced code block is rewritten.
//!
//! Wrappers are emitted as HTML lines separated from their content by blank
//! lines, so CommonMark parses the content as Markdown; every title is
//! escaped here, and the whole page is sanitised afterwards anyway.

use super::{RenderContext, escape_html};
use crate::Problem;

/// Deepest nesting of snippet includes.
pub(crate) const MAX_SNIPPET_DEPTH: usize = 4;
/// Deepest nesting of admonitions and tabs (deeper markers stay text).
const MAX_BLOCK_DEPTH: usize = 16;

/// Runs every preprocessing step over a page's Markdown (front matter
/// already removed).
pub(crate) fn preprocess(
    text: &str,
    ctx: &RenderContext<'_>,
    problems: &mut Vec<Problem>,
) -> String {
    let mut budget = ctx.max_bytes.saturating_sub(text.len() as u64);
    let expanded = expand_snippets(text, ctx, 0, None, &mut budget, problems);
    let expanded = gfm_alerts(&expanded);
    let lines: Vec<&str> = expanded.lines().collect();
    let mut out = String::with_capacity(expanded.len() + 256);
    process_blocks(&lines, 0, &mut out);
    out
}

// ---------------------------------------------------------------- GitHub alerts

/// GitHub's alerts (`> [!NOTE]` then `> text` lines) become admonitions
/// (`!!! note` and an indented body), so both spellings look the same.
fn gfm_alerts(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut fence: Option<(char, usize)> = None;
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(open) = fence {
            if fence_closes(line, open) {
                fence = None;
            }
        } else if let Some(open) = fence_open(line) {
            fence = Some(open);
        } else if let Some(kind) = alert_kind(line) {
            let indent = indent_of(line);
            out.push_str(&format!("{indent}!!! {kind}\n"));
            while let Some(next) = lines.peek() {
                let Some(body) = next.trim_start().strip_prefix('>') else {
                    break;
                };
                let body = body.strip_prefix(' ').unwrap_or(body);
                out.push_str(&format!("{indent}    {body}\n"));
                lines.next();
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The admonition type of a `> [!TYPE]` line.
fn alert_kind(line: &str) -> Option<&'static str> {
    let rest = line.trim().strip_prefix('>')?.trim();
    let kind = rest.strip_prefix("[!")?.strip_suffix(']')?;
    Some(match kind.to_ascii_uppercase().as_str() {
        "NOTE" => "note",
        "TIP" => "tip",
        "IMPORTANT" => "info",
        "WARNING" => "warning",
        "CAUTION" => "danger",
        _ => return None,
    })
}

// ---------------------------------------------------------------- snippets

/// The leading whitespace of a line.
fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Parses `"path"` / `'path'` after a snippet marker.
fn quoted(rest: &str) -> Option<&str> {
    let rest = rest.trim();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = rest.strip_prefix(quote)?.strip_suffix(quote)?;
    (!inner.is_empty() && !inner.contains(quote)).then_some(inner)
}

/// Splits an optional `:start:end` line selection off a snippet path.
fn line_selection(spec: &str) -> (&str, Option<(usize, usize)>) {
    let mut parts = spec.rsplitn(3, ':');
    let last = parts.next();
    let middle = parts.next();
    let head = parts.next();
    match (head, middle, last) {
        (Some(path), Some(a), Some(b))
            if a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
                && !a.is_empty() =>
        {
            let start = a.parse().unwrap_or(1).max(1);
            let end = if b.is_empty() {
                usize::MAX
            } else {
                b.parse().unwrap_or(usize::MAX)
            };
            (path, Some((start, end)))
        }
        _ => (spec, None),
    }
}

fn expand_snippets(
    text: &str,
    ctx: &RenderContext<'_>,
    depth: usize,
    via: Option<&str>,
    budget: &mut u64,
    problems: &mut Vec<Problem>,
) -> String {
    if !text.contains("--8<--") {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = indent_of(line);
        if let Some(rest) = trimmed.strip_prefix(";--8<--") {
            // Escaped marker: shown as written, without the `;`.
            out.push_str(indent);
            out.push_str("--8<--");
            out.push_str(rest);
            out.push('\n');
            continue;
        }
        let Some(spec) = trimmed.strip_prefix("--8<--").and_then(quoted) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let place = match via {
            None => format!("{}:{}", ctx.source, number + 1),
            Some(via) => format!("{}:{} (in snippet `{via}`)", ctx.source, number + 1),
        };
        let (path, selection) = line_selection(spec);
        let included = if depth >= MAX_SNIPPET_DEPTH {
            Err(format!(
                "snippets nested deeper than {MAX_SNIPPET_DEPTH} levels"
            ))
        } else if path.contains("://") {
            Err("remote snippets are never fetched".to_owned())
        } else {
            match ctx.snippets {
                None => Err("snippets are not available here".to_owned()),
                Some(loader) => loader.load(path),
            }
        };
        let included = included.and_then(|content| {
            let content = match selection {
                None => content,
                Some((start, end)) => content
                    .lines()
                    .skip(start - 1)
                    .take(end.saturating_sub(start - 1))
                    .collect::<Vec<_>>()
                    .join("\n"),
            };
            if content.len() as u64 > *budget {
                return Err("the page would exceed the size limit (max_page_bytes)".to_owned());
            }
            *budget -= content.len() as u64;
            Ok(content)
        });
        match included {
            Ok(content) => {
                let nested =
                    expand_snippets(&content, ctx, depth + 1, Some(path), budget, problems);
                for included_line in nested.lines() {
                    if !included_line.is_empty() {
                        out.push_str(indent);
                    }
                    out.push_str(included_line);
                    out.push('\n');
                }
            }
            Err(reason) => {
                problems.push(Problem::error(
                    place,
                    format!("snippet `{path}` not included: {reason}"),
                ));
                out.push_str(indent);
                out.push_str(&format!(
                    "*[snippet `{}` not included]*\n",
                    path.replace('`', "'")
                ));
            }
        }
    }
    out
}

// ------------------------------------------------------- block structure

/// Width of leading whitespace in columns (tabs to multiples of 4).
fn indent_width(line: &str) -> usize {
    let mut width = 0;
    for c in line.chars() {
        match c {
            ' ' => width += 1,
            '\t' => width += 4 - width % 4,
            _ => break,
        }
    }
    width
}

/// Removes `columns` columns of leading whitespace.
fn dedent(line: &str, columns: usize) -> String {
    let mut width = 0;
    for (i, c) in line.char_indices() {
        if width >= columns {
            return line[i..].to_owned();
        }
        match c {
            ' ' => width += 1,
            '\t' => {
                width += 4 - width % 4;
                if width > columns {
                    return format!("{}{}", " ".repeat(width - columns), &line[i + 1..]);
                }
            }
            _ => return line[i..].to_owned(),
        }
    }
    String::new()
}

/// A fence opener: its character, length and indentation.
fn fence_open(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start();
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = trimmed.chars().take_while(|x| *x == c).count();
    if n < 3 || (c == '`' && trimmed[n..].contains('`')) {
        return None;
    }
    Some((c, n))
}

fn fence_closes(line: &str, fence: (char, usize)) -> bool {
    let trimmed = line.trim();
    let n = trimmed.chars().take_while(|x| *x == fence.0).count();
    n >= fence.1 && n == trimmed.chars().count()
}

/// `!!! type "Title"`, `??? type`, `???+ type ""`.
struct Admonition {
    collapsible: bool,
    open: bool,
    classes: Vec<String>,
    title: Option<String>,
}

fn parse_admonition(trimmed: &str) -> Option<Admonition> {
    let (collapsible, open, rest) = if let Some(rest) = trimmed.strip_prefix("!!!") {
        (false, false, rest)
    } else if let Some(rest) = trimmed.strip_prefix("???+") {
        (true, true, rest)
    } else if let Some(rest) = trimmed.strip_prefix("???") {
        (true, false, rest)
    } else {
        return None;
    };
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let rest = rest.trim();
    let (words, title) = match rest.find('"') {
        Some(i) => {
            let title = rest[i..].strip_prefix('"')?.strip_suffix('"')?;
            (&rest[..i], Some(title.to_owned()))
        }
        None => (rest, None),
    };
    let classes: Vec<String> = words.split_whitespace().map(str::to_owned).collect();
    if classes.is_empty()
        || !classes.iter().all(|w| {
            w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
    {
        return None;
    }
    let title = match title {
        Some(t) => (!t.is_empty()).then_some(t),
        None => Some(default_title(&classes[0])),
    };
    Some(Admonition {
        collapsible,
        open,
        classes,
        title,
    })
}

/// The title an admonition of `kind` gets when none is given: `Note`.
fn default_title(kind: &str) -> String {
    let mut chars = kind.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// `=== "Title"`, `===! "Title"` (starts a new set), `===+ "Title"`.
fn parse_tab(trimmed: &str) -> Option<(bool, String)> {
    let rest = trimmed.strip_prefix("===")?;
    let (new_set, rest) = match rest.strip_prefix('!') {
        Some(r) => (true, r),
        None => (false, rest.strip_prefix('+').unwrap_or(rest)),
    };
    if !rest.starts_with([' ', '\t']) {
        return None;
    }
    let title = rest.trim().strip_prefix('"')?.strip_suffix('"')?;
    Some((new_set, title.to_owned()))
}

/// The indented body after a marker line at `start - 1`: lines indented
/// by at least `width + 4` and blank lines between them. Returns the body
/// (dedented) and the index after it.
fn collect_body(lines: &[&str], start: usize, width: usize) -> (Vec<String>, usize) {
    let mut end = start;
    let mut last_content = start;
    while end < lines.len() {
        let line = lines[end];
        if line.trim().is_empty() {
            end += 1;
            continue;
        }
        if indent_width(line) >= width + 4 {
            end += 1;
            last_content = end;
        } else {
            break;
        }
    }
    let body = lines[start..last_content]
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                String::new()
            } else {
                dedent(l, width + 4)
            }
        })
        .collect();
    (body, last_content)
}

/// Writes `text` (which may hold several lines) with `indent` before each
/// non-empty line.
fn push_indented(out: &mut String, indent: &str, text: &str) {
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str(indent);
        }
        out.push_str(line);
        out.push('\n');
    }
}

fn process_body(body: &[String], depth: usize) -> String {
    let refs: Vec<&str> = body.iter().map(String::as_str).collect();
    let mut inner = String::new();
    process_blocks(&refs, depth + 1, &mut inner);
    inner
}

pub(crate) fn process_blocks(lines: &[&str], depth: usize, out: &mut String) {
    let mut fence: Option<(char, usize)> = None;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(open) = fence {
            if fence_closes(line, open) {
                fence = None;
            }
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        }
        if let Some(open) = fence_open(line) {
            fence = Some(open);
            out.push_str(line);
            out.push('\n');
            i += 1;
            continue;
        }
        let trimmed = line.trim_start();
        let indent = indent_of(line);
        let width = indent_width(line);
        if depth < MAX_BLOCK_DEPTH
            && let Some(adm) = parse_admonition(trimmed)
        {
            let (body, next) = collect_body(lines, i + 1, width);
            let inner = process_body(&body, depth);
            let classes = adm.classes.join(" ");
            let mut html = String::new();
            if adm.collapsible {
                let title = adm
                    .title
                    .clone()
                    .unwrap_or_else(|| default_title(&adm.classes[0]));
                html.push_str(&format!(
                    "<details class=\"{classes}\"{}>\n<summary>{}</summary>\n\n",
                    if adm.open { " open" } else { "" },
                    escape_html(&title)
                ));
            } else {
                html.push_str(&format!("<div class=\"admonition {classes}\">\n"));
                if let Some(title) = &adm.title {
                    html.push_str(&format!(
                        "<p class=\"admonition-title\">{}</p>\n",
                        escape_html(title)
                    ));
                }
                html.push('\n');
            }
            push_indented(out, indent, &html);
            push_indented(out, indent, &inner);
            out.push('\n');
            push_indented(
                out,
                indent,
                if adm.collapsible {
                    "</details>"
                } else {
                    "</div>"
                },
            );
            out.push('\n');
            i = next;
            continue;
        }
        if depth < MAX_BLOCK_DEPTH && parse_tab(trimmed).is_some() {
            push_indented(out, indent, "<div class=\"tabbed-set\">");
            let mut first = true;
            while let Some((new_set, title)) = lines.get(i).and_then(|l| {
                (indent_width(l) == width)
                    .then(|| parse_tab(l.trim_start()))
                    .flatten()
            }) {
                if new_set && !first {
                    break;
                }
                first = false;
                let (body, next) = collect_body(lines, i + 1, width);
                let inner = process_body(&body, depth);
                push_indented(
                    out,
                    indent,
                    &format!(
                        "<details class=\"tabbed-block\" open>\n<summary class=\"tabbed-label\">{}</summary>\n",
                        escape_html(&title)
                    ),
                );
                out.push('\n');
                push_indented(out, indent, &inner);
                out.push('\n');
                push_indented(out, indent, "</details>");
                // Blank lines between tabs of one set.
                i = next;
                let mut j = i;
                while j < lines.len() && lines[j].trim().is_empty() {
                    j += 1;
                }
                match lines.get(j) {
                    Some(l)
                        if indent_width(l) == width
                            && parse_tab(l.trim_start()).is_some_and(|(n, _)| !n) =>
                    {
                        i = j
                    }
                    _ => break,
                }
            }
            push_indented(out, indent, "</div>");
            out.push('\n');
            continue;
        }
        out.push_str(&strip_attr_lists(line));
        out.push('\n');
        i += 1;
    }
}

// ------------------------------------------------------------- attr_list

/// Whether the text inside `{...}` is an attribute list: `#id`, `.class`
/// and `key=value` tokens, optionally after a `:`.
fn attr_tokens(inner: &str) -> Option<Vec<&str>> {
    let inner = inner.strip_prefix(':').unwrap_or(inner).trim();
    if inner.is_empty() {
        return None;
    }
    let tokens: Vec<&str> = inner.split_whitespace().collect();
    tokens
        .iter()
        .all(|t| {
            (t.starts_with('#') || t.starts_with('.')) && t.len() > 1
                || t.contains('=') && !t.starts_with('=')
        })
        .then_some(tokens)
}

/// Removes `attr_list` groups (`{: .class }`, `{ #id }`) from a line. On a
/// heading, an `#id` is kept as `{#id}` for the heading parser; a line that
/// is nothing but an attribute list becomes empty. Groups inside code spans
/// are left alone.
fn strip_attr_lists(line: &str) -> String {
    if !line.contains('{') || !line.contains('}') {
        return line.to_owned();
    }
    let heading = {
        let t = line.trim_start();
        indent_width(line) < 4 && t.starts_with('#') && {
            let hashes = t.chars().take_while(|c| *c == '#').count();
            hashes <= 6 && t[hashes..].starts_with([' ', '\t'])
        }
    };
    let mut out = String::with_capacity(line.len());
    let mut heading_id: Option<String> = None;
    let mut in_code = 0usize;
    let mut i = 0;
    let bytes = line.as_bytes();
    while i < bytes.len() {
        let c = bytes[i];
        if c == b'`' {
            let run = bytes[i..].iter().take_while(|b| **b == b'`').count();
            in_code = if in_code == 0 {
                run
            } else if in_code == run {
                0
            } else {
                in_code
            };
            out.push_str(&line[i..i + run]);
            i += run;
            continue;
        }
        if c == b'{'
            && in_code == 0
            && let Some(close) = line[i..].find('}')
            && let Some(tokens) = attr_tokens(&line[i + 1..i + close])
        {
            if heading && let Some(id) = tokens.iter().find_map(|t| t.strip_prefix('#')) {
                heading_id = Some(id.to_owned());
            }
            i += close + 1;
            continue;
        }
        let ch = line[i..].chars().next().unwrap_or(' ');
        out.push(ch);
        i += ch.len_utf8();
    }
    if out.trim().is_empty() {
        return String::new();
    }
    if heading {
        let mut trimmed = out.trim_end().to_owned();
        if let Some(id) = heading_id {
            trimmed.push_str(&format!(" {{#{id}}}"));
        }
        return trimmed;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    fn blocks(text: &str) -> String {
        let lines: Vec<&str> = text.lines().collect();
        let mut out = String::new();
        process_blocks(&lines, 0, &mut out);
        out
    }

    #[test]
    fn admonition_markers_parse() {
        let a = parse_admonition("!!! note \"Read me\"").unwrap();
        assert_eq!(
            (a.collapsible, a.title.as_deref()),
            (false, Some("Read me"))
        );
        let a = parse_admonition("!!! warning").unwrap();
        assert_eq!(a.title.as_deref(), Some("Warning"));
        let a = parse_admonition("!!! tip \"\"").unwrap();
        assert_eq!(a.title, None);
        let a = parse_admonition("???+ danger inline end").unwrap();
        assert!(a.collapsible && a.open);
        assert_eq!(a.classes, ["danger", "inline", "end"]);
        assert!(parse_admonition("!!!note").is_none());
        assert!(parse_admonition("!!! <b>").is_none());
    }

    #[test]
    fn fenced_code_is_never_rewritten() {
        let text = "```\n!!! note\n    x\n=== \"T\"\n    y\n# H {: .c }\n```\n";
        assert_eq!(blocks(text), text);
        let text = "~~~~md\n```\n!!! note\n    x\n```\n~~~~\n";
        assert_eq!(blocks(text), text);
    }

    #[test]
    fn admonition_body_is_dedented_and_nested() {
        let out = blocks("!!! note \"A\"\n    one\n\n    !!! tip\n        two\n\nafter\n");
        assert!(out.contains("<div class=\"admonition note\">"), "{out}");
        assert!(out.contains("<div class=\"admonition tip\">"), "{out}");
        assert!(out.contains("\none\n"), "{out}");
        assert!(out.contains("\ntwo\n"), "{out}");
        assert!(out.trim_end().ends_with("after"), "{out}");
    }

    #[test]
    fn attr_lists_are_removed() {
        assert_eq!(
            strip_attr_lists("# Title {: #custom .big }"),
            "# Title {#custom}"
        );
        assert_eq!(strip_attr_lists("## Title { .big }"), "## Title");
        assert_eq!(strip_attr_lists("{: .note }"), "");
        assert_eq!(strip_attr_lists("[Go](x.md){ .md-button }"), "[Go](x.md)");
        assert_eq!(
            strip_attr_lists("code `{: .x }` here"),
            "code `{: .x }` here"
        );
        assert_eq!(strip_attr_lists("a {b} c"), "a {b} c");
    }

    struct Files;
    impl crate::markdown::SnippetLoader for Files {
        fn load(&self, path: &str) -> Result<String, String> {
            match path {
                "a.md" => Ok("A1\nA2\nA3\n--8<-- \"b.md\"".into()),
                "b.md" => Ok("B".into()),
                "loop.md" => Ok("--8<-- \"loop.md\"".into()),
                _ => Err("not found".into()),
            }
        }
    }

    #[test]
    fn snippets_are_included_with_limits() {
        let pages = BTreeMap::new();
        let assets = BTreeSet::new();
        let ctx = RenderContext {
            source: "p.md",
            pages: &pages,
            assets: &assets,
            snippets: Some(&Files),
            max_bytes: 1000,
        };
        let mut problems = Vec::new();
        let out = preprocess(
            "x\n  --8<-- \"a.md\"\n;--8<-- \"b.md\"\n--8<-- 'a.md:2:3'\n",
            &ctx,
            &mut problems,
        );
        assert_eq!(out, "x\n  A1\n  A2\n  A3\n  B\n--8<-- \"b.md\"\nA2\nA3\n");
        assert!(problems.is_empty(), "{problems:?}");
        let out = preprocess(
            "--8<-- \"loop.md\"\n--8<-- \"nope.md\"\n",
            &ctx,
            &mut problems,
        );
        assert!(out.contains("snippet `loop.md` not included"), "{out}");
        assert!(out.contains("snippet `nope.md` not included"), "{out}");
        let text = format!("{problems:?}");
        assert!(text.contains("nested deeper than 4"), "{text}");
        assert!(text.contains("p.md:2"), "{text}");
    }
}
