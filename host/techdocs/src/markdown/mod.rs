//! One page: Markdown to sanitised HTML, with its table of contents, title
//! and search text. CommonMark and GFM come from pulldown-cmark; the
//! MkDocs extensions are a line pass before it ([`extensions`]); links are
//! rewritten and checked on the event stream ([`links`]), bare URLs become
//! links as on GitHub ([`autolinks`]); the HTML is
//! sanitised last ([`sanitize`]), so raw HTML in a page is only ever seen
//! after ammonia has cleaned it.

mod autolinks;
mod extensions;
pub(crate) mod highlight;
mod links;
mod sanitize;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use pulldown_cmark::{CodeBlockKind, CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, html};

use crate::{Heading, Problem};

/// Reads the files that `--8<-- "path"` lines include.
pub trait SnippetLoader {
    /// The text of the file at `path` (as written in the page), or why it
    /// may not be included.
    fn load(&self, path: &str) -> Result<String, String>;
}

/// What a page needs to know about the rest of the site.
#[derive(Clone, Copy)]
pub struct RenderContext<'a> {
    /// The page's source path relative to docs_dir, e.g. `guide/setup.md`.
    pub source: &'a str,
    /// Every page of the site: source path → site path (`guide/setup/`).
    /// Relative links to Markdown files not in it are broken.
    pub pages: &'a BTreeMap<String, String>,
    /// Every asset of the site, by path relative to docs_dir.
    pub assets: &'a BTreeSet<String>,
    /// Where snippets come from; `None` refuses every snippet.
    pub snippets: Option<&'a dyn SnippetLoader>,
    /// Largest page, snippets included, in bytes.
    pub max_bytes: u64,
}

impl RenderContext<'_> {
    /// The site path of the page being rendered.
    pub fn page_path(&self) -> String {
        self.pages
            .get(self.source)
            .cloned()
            .unwrap_or_else(|| crate::nav::site_path(self.source, false))
    }
}

/// One rendered page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rendered {
    /// Sanitised HTML of the page body.
    pub html: String,
    /// Every heading, in order, with its anchor id.
    pub toc: Vec<Heading>,
    /// The `title` of the front matter, as plain text.
    pub front_matter_title: Option<String>,
    /// The text of the first level-1 heading.
    pub first_h1: Option<String>,
    /// Plain text for search.
    pub text: String,
    /// What went wrong on the way (broken links, refused URLs, snippets).
    pub problems: Vec<Problem>,
}

/// Escapes text for HTML content and attribute values (`& < > " '`), with
/// the escaper pulldown-cmark itself writes HTML with.
pub(crate) fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Writing into a String cannot fail.
    let _ = pulldown_cmark_escape::escape_html(&mut out, text);
    out
}

/// Raw HTML with its relative `href="…"` and `src="…"` values resolved as
/// Markdown links and images are (absolute, external and fragment URLs are
/// kept as written by `links::resolve`).
fn raw_html_links(raw: &str, ctx: &RenderContext, problems: &mut Vec<Problem>) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    loop {
        let next = ["href=\"", "src=\"", "href='", "src='"]
            .iter()
            .filter_map(|a| rest.find(a).map(|i| (i, *a)))
            .min_by_key(|(i, _)| *i);
        let Some((i, attr)) = next else {
            out.push_str(rest);
            return out;
        };
        let start = i + attr.len();
        let quote = attr.chars().last().unwrap_or('"');
        let Some(len) = rest[start..].find(quote) else {
            out.push_str(rest);
            return out;
        };
        out.push_str(&rest[..start]);
        let value = &rest[start..start + len];
        let image = attr.starts_with("src");
        let what = if image { "image" } else { "link" };
        // A value that is dropped keeps its text: the sanitiser decides.
        let kept = judged(links::resolve(value, image, ctx), what, ctx, problems);
        out.push_str(kept.as_deref().unwrap_or(value));
        rest = &rest[start + len..];
    }
}

/// The URL a link or image keeps once `links::resolve` judged it, or `None`
/// when it is dropped (its text stays); each problem is recorded.
fn judged(
    outcome: links::Outcome,
    what: &str,
    ctx: &RenderContext,
    problems: &mut Vec<Problem>,
) -> Option<String> {
    match outcome {
        links::Outcome::Keep(url) | links::Outcome::Rewritten(url) => Some(url),
        links::Outcome::Missing(url, reason) => {
            problems.push(Problem::warning(ctx.source, reason));
            Some(url)
        }
        links::Outcome::Broken(reason) => {
            let message = match what {
                "image" => format!("missing image: {reason}"),
                _ => reason,
            };
            problems.push(Problem::warning(ctx.source, message));
            None
        }
        links::Outcome::Refused(reason) => {
            problems.push(Problem::warning(
                ctx.source,
                format!("{what} dropped: {reason}"),
            ));
            None
        }
    }
}

/// Latin letters with accents folded to their base letter, as the NFKD
/// decomposition MkDocs' slugify starts with would (`é` → `e`, `ß` → `ss`).
fn fold_latin(c: char) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        ("àáâãäåāăą", "a"),
        ("çćĉċč", "c"),
        ("ďđ", "d"),
        ("èéêëēĕėęě", "e"),
        ("ĝğġģ", "g"),
        ("ĥħ", "h"),
        ("ìíîïĩīĭįı", "i"),
        ("ĵ", "j"),
        ("ķ", "k"),
        ("ĺļľŀł", "l"),
        ("ñńņňŉ", "n"),
        ("òóôõöøōŏő", "o"),
        ("ŕŗř", "r"),
        ("śŝşš", "s"),
        ("ţťŧ", "t"),
        ("ùúûüũūŭůűų", "u"),
        ("ŵ", "w"),
        ("ýÿŷ", "y"),
        ("źżž", "z"),
        ("ß", "ss"),
        ("æ", "ae"),
        ("œ", "oe"),
    ];
    let lower = c.to_lowercase().next()?;
    TABLE
        .iter()
        .find(|(from, _)| from.contains(lower))
        .map(|(_, to)| *to)
}

/// An anchor id like MkDocs' `toc` extension makes: lowercase, ASCII
/// letters, digits, `_` and `-` kept (accented Latin letters folded to
/// their base letter first), runs of spaces and hyphens made one `-`,
/// everything else dropped. Letters and digits of other scripts are kept,
/// lowercased, as `pymdownx.slugs.uslugify` does (MkDocs' default drops
/// them, which leaves a Cyrillic or Japanese heading no usable anchor).
pub fn slugify(text: &str) -> String {
    let mut out = String::new();
    let mut pending_dash = false;
    for c in text.trim().chars() {
        if let Some(folded) = fold_latin(c) {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push_str(folded);
        } else if c.is_ascii_alphanumeric() || c == '_' {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.push(c.to_ascii_lowercase());
        } else if c.is_alphanumeric() {
            if pending_dash && !out.is_empty() {
                out.push('-');
            }
            pending_dash = false;
            out.extend(c.to_lowercase());
        } else if c.is_whitespace() || c == '-' {
            pending_dash = true;
        }
    }
    out
}

/// Makes `id` unique among `used` as MkDocs does: `x`, `x_1`, `x_2`, ...
fn unique_id(id: String, used: &mut HashSet<String>) -> String {
    let mut candidate = if id.is_empty() {
        "section".to_owned()
    } else {
        id
    };
    while used.contains(&candidate) {
        candidate = match candidate.rsplit_once('_') {
            Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                format!("{base}_{}", n.parse::<u64>().unwrap_or(0) + 1)
            }
            _ => format!("{candidate}_1"),
        };
    }
    used.insert(candidate.clone());
    candidate
}

/// Splits YAML front matter (`---` on the first line up to a `---` or
/// `...` line) from the body.
fn split_front_matter(text: &str) -> (Option<&str>, &str) {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return (None, text);
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if content == "---" || content == "..." {
            return (Some(&rest[..offset]), &rest[offset + line.len()..]);
        }
        offset += line.len();
    }
    (None, text)
}

/// The plain text of a line of inline Markdown (for titles from front
/// matter): markup and raw HTML removed.
pub(crate) fn inline_text(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// A code block's language from its info string (`python title="x"`,
/// `{.rust .numberLines}`): the first word, letters, digits and `+-_#.` only.
fn code_language(info: &str) -> Option<String> {
    let first = info.split_whitespace().next()?;
    let first = first.trim_start_matches('{').trim_start_matches('.');
    let lang: String = first
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || "+-_#.".contains(*c))
        .take(40)
        .collect();
    let lang = lang.replace(['#', '.'], "");
    (!lang.is_empty()).then_some(lang)
}

struct HeadingBuffer<'a> {
    level: u8,
    custom_id: Option<String>,
    events: Vec<Event<'a>>,
    text: String,
}

/// Renders one page.
pub fn render_markdown(markdown: &str, ctx: &RenderContext<'_>) -> Rendered {
    let mut problems = Vec::new();
    let (front, body) = split_front_matter(markdown);
    let front_matter_title = front.and_then(|yaml| {
        let mut yaml_problems = Vec::new();
        match crate::mkdocs::parse_yaml(yaml, ctx.source, &mut yaml_problems) {
            Ok(node) => {
                problems.extend(yaml_problems);
                node.get("title")
                    .and_then(|t| t.as_scalar())
                    .map(inline_text)
                    .filter(|t| !t.is_empty())
            }
            Err(e) => {
                problems.push(Problem::warning(
                    ctx.source,
                    format!("front matter ignored: {e}"),
                ));
                None
            }
        }
    });
    let text = extensions::preprocess(body, ctx, &mut problems);

    let options = Options::ENABLE_TABLES
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_HEADING_ATTRIBUTES;
    let mut out: Vec<Event<'_>> = Vec::new();
    let mut toc = Vec::new();
    let mut used_ids = HashSet::new();
    let mut first_h1 = None;
    let mut search = String::new();
    let mut heading: Option<HeadingBuffer<'_>> = None;
    let mut code: Option<(Option<String>, String)> = None;
    // For each open link/image: whether its start tag was kept.
    let mut link_kept: Vec<bool> = Vec::new();
    let mut image_kept: Vec<bool> = Vec::new();

    macro_rules! emit {
        ($event:expr) => {
            match heading.as_mut() {
                Some(h) => h.events.push($event),
                None => out.push($event),
            }
        };
    }

    // Adjacent text events are merged so bare URLs are seen whole.
    let mut events: Vec<Event<'_>> = Vec::new();
    for event in Parser::new_ext(&text, options) {
        if let (Event::Text(t), Some(Event::Text(previous))) = (&event, events.last_mut()) {
            *previous = format!("{previous}{t}").into();
            continue;
        }
        events.push(event);
    }

    for event in events {
        if let Some((_, buffer)) = code.as_mut() {
            match event {
                Event::Text(t) => {
                    buffer.push_str(&t);
                    continue;
                }
                Event::End(TagEnd::CodeBlock) => {
                    let (lang, buffer) = code.take().unwrap_or_default();
                    search.push_str(&buffer);
                    search.push('\n');
                    let html = match lang.as_deref() {
                        Some("mermaid") => format!(
                            "<pre class=\"mermaid\"><code>{}</code></pre>\n",
                            escape_html(&buffer)
                        ),
                        Some(lang) => format!(
                            "<pre><code class=\"language-{lang}\">{}</code></pre>\n",
                            highlight::highlight(lang, &buffer)
                                .unwrap_or_else(|| escape_html(&buffer))
                        ),
                        None => format!("<pre><code>{}</code></pre>\n", escape_html(&buffer)),
                    };
                    emit!(Event::Html(html.into()));
                    continue;
                }
                _ => continue,
            }
        }
        match event {
            Event::Start(Tag::CodeBlock(kind)) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => code_language(&info),
                    CodeBlockKind::Indented => None,
                };
                code = Some((lang, String::new()));
            }
            Event::Start(Tag::Heading { level, id, .. }) => {
                heading = Some(HeadingBuffer {
                    level: level as u8,
                    custom_id: id.map(|i| i.to_string()),
                    events: Vec::new(),
                    text: String::new(),
                });
            }
            Event::End(TagEnd::Heading(level)) => {
                let Some(h) = heading.take() else { continue };
                let title = h.text.split_whitespace().collect::<Vec<_>>().join(" ");
                let custom = h.custom_id.map(|id| {
                    id.chars()
                        .filter(|c| c.is_ascii_alphanumeric() || "-_.:".contains(*c))
                        .collect::<String>()
                });
                let id = unique_id(
                    custom
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| slugify(&title)),
                    &mut used_ids,
                );
                if h.level == 1 && first_h1.is_none() && !title.is_empty() {
                    first_h1 = Some(title.clone());
                }
                search.push_str(&title);
                search.push('\n');
                out.push(Event::Start(Tag::Heading {
                    level,
                    id: Some(CowStr::from(id.clone())),
                    classes: Vec::new(),
                    attrs: Vec::new(),
                }));
                out.extend(h.events);
                out.push(Event::InlineHtml(
                    format!(
                        "<a class=\"headerlink\" href=\"#{id}\" title=\"Permanent link\">¶</a>"
                    )
                    .into(),
                ));
                out.push(Event::End(TagEnd::Heading(level)));
                toc.push(Heading {
                    level: h.level,
                    id,
                    title,
                });
            }
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let url = if link_type == LinkType::Email {
                    format!("mailto:{dest_url}")
                } else {
                    dest_url.to_string()
                };
                let kept = judged(links::resolve(&url, false, ctx), "link", ctx, &mut problems);
                link_kept.push(kept.is_some());
                if let Some(u) = kept {
                    emit!(Event::Start(Tag::Link {
                        // A `mailto:` autolink is an ordinary link now.
                        link_type: if link_type == LinkType::Email {
                            LinkType::Inline
                        } else {
                            link_type
                        },
                        dest_url: u.into(),
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Link) => {
                if link_kept.pop().unwrap_or(false) {
                    emit!(Event::End(TagEnd::Link));
                }
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                let kept = judged(
                    links::resolve(&dest_url, true, ctx),
                    "image",
                    ctx,
                    &mut problems,
                );
                image_kept.push(kept.is_some());
                if let Some(u) = kept {
                    emit!(Event::Start(Tag::Image {
                        link_type,
                        dest_url: u.into(),
                        title,
                        id,
                    }));
                }
            }
            Event::End(TagEnd::Image) => {
                if image_kept.pop().unwrap_or(false) {
                    emit!(Event::End(TagEnd::Image));
                }
            }
            Event::Text(t) => {
                if let Some(h) = heading.as_mut() {
                    h.text.push_str(&t);
                }
                search.push_str(&t);
                if link_kept.is_empty() && image_kept.is_empty() {
                    for (piece, href) in autolinks::split(&t) {
                        match href {
                            Some(href) => {
                                emit!(Event::Start(Tag::Link {
                                    link_type: LinkType::Autolink,
                                    dest_url: href.into(),
                                    title: CowStr::Borrowed(""),
                                    id: CowStr::Borrowed(""),
                                }));
                                emit!(Event::Text(piece.to_owned().into()));
                                emit!(Event::End(TagEnd::Link));
                            }
                            None => emit!(Event::Text(piece.to_owned().into())),
                        }
                    }
                } else {
                    emit!(Event::Text(t));
                }
            }
            Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.text.push_str(&t);
                }
                search.push_str(&t);
                emit!(Event::Code(t));
            }
            Event::SoftBreak | Event::HardBreak => {
                search.push(' ');
                if let Some(h) = heading.as_mut() {
                    h.text.push(' ');
                }
                emit!(event);
            }
            Event::End(
                TagEnd::Paragraph | TagEnd::Item | TagEnd::TableCell | TagEnd::BlockQuote(_),
            ) => {
                search.push('\n');
                emit!(event);
            }
            // Raw HTML written in the page: its relative links and images are
            // resolved like Markdown's (`<a href="setup.md">`), and reported
            // when broken; the sanitiser still has the last word.
            Event::Html(raw) => emit!(Event::Html(raw_html_links(&raw, ctx, &mut problems).into())),
            Event::InlineHtml(raw) => {
                emit!(Event::InlineHtml(
                    raw_html_links(&raw, ctx, &mut problems).into()
                ))
            }
            other => emit!(other),
        }
    }
    // An unterminated heading or code block (cannot happen with a complete
    // parse, but never lose content).
    if let Some(h) = heading.take() {
        out.extend(h.events);
    }

    let mut raw = String::with_capacity(text.len() * 2);
    html::push_html(&mut raw, out.into_iter());
    // Table alignment as classes: the sanitiser drops every `style`.
    let raw = raw
        .replace("style=\"text-align: left\"", "class=\"align-left\"")
        .replace("style=\"text-align: center\"", "class=\"align-center\"")
        .replace("style=\"text-align: right\"", "class=\"align-right\"");
    let html = sanitize::sanitize(&raw);
    let text = search.split_whitespace().collect::<Vec<_>>().join(" ");
    Rendered {
        html,
        toc,
        front_matter_title,
        first_h1,
        text,
        problems,
    }
}

#[cfg(test)]
mod tests;
