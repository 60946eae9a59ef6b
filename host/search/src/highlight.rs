//! Highlighted snippets: the words a query matched (exactly, as a prefix,
//! or as one of the typo variants it used) wrapped in `<mark>`, everything else
//! HTML-escaped. Done here rather than by tantivy's snippet generator,
//! which does not know which words a typo-tolerant query matched.

use crate::query::ParsedTerm;
use std::collections::HashSet;
use tantivy::tokenizer::TextAnalyzer;

pub const PRE_TAG: &str = "<mark>";
pub const POST_TAG: &str = "</mark>";

/// Characters of text around the first match in a snippet.
const SNIPPET_CHARS: usize = 240;
/// Text is searched for a match this far at most.
const SCAN_BYTES: usize = 32 * 1024;

pub fn escape(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// A query word, ready to test tokens against.
struct Word {
    text: String,
    /// Whether tokens starting with it match (two characters or more).
    as_prefix: bool,
}

/// The query's words and the typo variants it matched them with: what
/// is marked is what matched.
pub struct Matcher {
    words: Vec<Word>,
    variants: HashSet<String>,
}

impl Matcher {
    pub fn new(parsed: &ParsedTerm, variants: &[String]) -> Matcher {
        let mut texts: Vec<&String> = parsed.all_words().collect();
        texts.sort();
        texts.dedup();
        let words = texts
            .into_iter()
            .map(|w| Word {
                as_prefix: w.chars().count() >= 2,
                text: w.clone(),
            })
            .collect();
        Matcher {
            words,
            variants: variants.iter().cloned().collect(),
        }
    }

    fn matches(&self, token: &str) -> bool {
        self.words
            .iter()
            .any(|w| token == w.text || (w.as_prefix && token.starts_with(w.text.as_str())))
            || self.variants.contains(token)
    }

    /// Byte ranges (in `text`) of matching words in `text[from..to]`
    /// (`to` moved back to a character boundary), the first `most` of them.
    fn spans(
        &self,
        analyzer: &mut TextAnalyzer,
        text: &str,
        from: usize,
        to: usize,
        most: usize,
    ) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        if self.words.is_empty() {
            return spans;
        }
        let mut end = text.len().min(to);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut stream = analyzer.token_stream(&text[from..end]);
        while let Some(token) = stream.next() {
            if self.matches(&token.text) {
                spans.push((from + token.offset_from, from + token.offset_to));
                if spans.len() >= most {
                    break;
                }
            }
        }
        spans
    }

    /// The whole text, escaped, with matches marked.
    pub fn mark_all(&self, analyzer: &mut TextAnalyzer, text: &str) -> String {
        let spans = self.spans(analyzer, text, 0, text.len(), usize::MAX);
        mark(text, 0, text.len(), &spans)
    }

    /// A window of the text around its first match (or its start), escaped,
    /// with matches marked and `…` where it was cut.
    pub fn snippet(&self, analyzer: &mut TextAnalyzer, text: &str) -> String {
        let first = self
            .spans(analyzer, text, 0, SCAN_BYTES, 1)
            .first()
            .map_or(0, |s| s.0);
        // Start a little before the first match, at a word boundary.
        let mut start = text[..first]
            .char_indices()
            .rev()
            .nth(SNIPPET_CHARS / 4)
            .map_or(0, |(i, _)| i);
        if start > 0 {
            start = text[start..first]
                .find(' ')
                .map_or(start, |i| start + i + 1);
        }
        let mut end = text[start..]
            .char_indices()
            .nth(SNIPPET_CHARS)
            .map_or(text.len(), |(i, _)| start + i);
        if end < text.len()
            && let Some(space) = text[start..end].rfind(' ')
            && space > 0
        {
            end = start + space;
        }
        // Only the window's words are marked.
        let spans = self.spans(analyzer, text, start, end, usize::MAX);
        let mut out = String::new();
        if start > 0 {
            out.push('…');
        }
        out.push_str(&mark(text, start, end, &spans));
        if end < text.len() {
            out.push('…');
        }
        out
    }
}

fn mark(text: &str, start: usize, end: usize, spans: &[(usize, usize)]) -> String {
    let mut out = String::with_capacity(end - start + 32);
    let mut at = start;
    for &(from, to) in spans {
        if from < at || to > end {
            continue;
        }
        escape(&text[at..from], &mut out);
        out.push_str(PRE_TAG);
        escape(&text[from..to], &mut out);
        out.push_str(POST_TAG);
        at = to;
    }
    escape(&text[at..end], &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::parse_term;
    use crate::schema::analyzer;

    #[test]
    fn marks_escaped_text() {
        let mut a = analyzer();
        let parsed = parse_term(&mut a, "paymnts <b>").unwrap();
        // `payments` is the variant the query matched `paymnts` with.
        let m = Matcher::new(&parsed, &["payments".to_owned()]);
        assert_eq!(
            m.mark_all(&mut a, "The Payments <b>API</b> & co"),
            "The <mark>Payments</mark> &lt;<mark>b</mark>&gt;API&lt;/<mark>b</mark>&gt; &amp; co"
        );
        let long = format!("{} needle {}", "word ".repeat(200), "tail ".repeat(200));
        let parsed = parse_term(&mut a, "needle").unwrap();
        let s = Matcher::new(&parsed, &[]).snippet(&mut a, &long);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>needle</mark>"), "{s}");
        assert!(s.chars().count() < 260, "{}", s.len());
    }
}
