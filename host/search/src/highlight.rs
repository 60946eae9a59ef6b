//! Highlighted snippets: the words a query matched (exactly, as a prefix,
//! or within its typo distance) wrapped in `<mark>`, everything else
//! HTML-escaped. Done here rather than by tantivy's snippet generator,
//! which does not know which words a typo-tolerant query matched.

use crate::query::{ParsedTerm, typo_distance};
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

/// Edit distance with adjacent transpositions counting one, giving up
/// above `max`.
pub fn within_distance(a: &str, b: &str, max: u8) -> bool {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let max = max as usize;
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    let width = b.len() + 1;
    let mut rows = vec![vec![0usize; width]; 3];
    for (j, cell) in rows[1].iter_mut().enumerate() {
        *cell = j;
    }
    // rows[0]: i-2, rows[1]: i-1, rows[2]: i (rotated).
    for i in 1..=a.len() {
        rows.rotate_left(1);
        rows[2][0] = i;
        let mut best = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (rows[1][j] + 1)
                .min(rows[2][j - 1] + 1)
                .min(rows[1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(rows[0][j - 2] + 1);
            }
            rows[2][j] = v;
            best = best.min(v);
        }
        if best > max {
            return false;
        }
    }
    rows[2][b.len()] <= max
}

/// The query's words, ready to test tokens against.
pub struct Matcher {
    words: Vec<(String, u8)>,
}

impl Matcher {
    pub fn new(parsed: &ParsedTerm) -> Matcher {
        let mut words: Vec<(String, u8)> = parsed
            .all_words()
            .map(|w| (w.clone(), typo_distance(w)))
            .collect();
        words.sort();
        words.dedup();
        Matcher { words }
    }

    fn matches(&self, token: &str) -> bool {
        self.words.iter().any(|(w, d)| {
            token == w
                || (w.chars().count() >= 2 && token.starts_with(w.as_str()))
                || (*d > 0 && within_distance(token, w, *d))
        })
    }

    /// Byte ranges of matching words in `text` (scanning `limit` bytes).
    fn spans(&self, analyzer: &mut TextAnalyzer, text: &str, limit: usize) -> Vec<(usize, usize)> {
        let mut spans = Vec::new();
        if self.words.is_empty() {
            return spans;
        }
        let mut end = text.len().min(limit);
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let mut stream = analyzer.token_stream(&text[..end]);
        while let Some(token) = stream.next() {
            if self.matches(&token.text) {
                spans.push((token.offset_from, token.offset_to));
            }
        }
        spans
    }

    /// The whole text, escaped, with matches marked.
    pub fn mark_all(&self, analyzer: &mut TextAnalyzer, text: &str) -> String {
        let spans = self.spans(analyzer, text, usize::MAX);
        mark(text, 0, text.len(), &spans)
    }

    /// A window of the text around its first match (or its start), escaped,
    /// with matches marked and `…` where it was cut.
    pub fn snippet(&self, analyzer: &mut TextAnalyzer, text: &str) -> String {
        let spans = self.spans(analyzer, text, SCAN_BYTES);
        let first = spans.first().map_or(0, |s| s.0);
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
    fn distances() {
        assert!(within_distance("payments", "paymnets", 1));
        assert!(within_distance("payments", "paymts", 2));
        assert!(!within_distance("payments", "pay", 2));
        assert!(within_distance("abc", "abc", 0));
        assert!(!within_distance("abc", "abd", 0));
    }

    #[test]
    fn marks_escaped_text() {
        let mut a = analyzer();
        let parsed = parse_term(&mut a, "paymnts <b>").unwrap();
        let m = Matcher::new(&parsed);
        assert_eq!(
            m.mark_all(&mut a, "The Payments <b>API</b> & co"),
            "The <mark>Payments</mark> &lt;<mark>b</mark>&gt;API&lt;/<mark>b</mark>&gt; &amp; co"
        );
        let long = format!("{} needle {}", "word ".repeat(200), "tail ".repeat(200));
        let parsed = parse_term(&mut a, "needle").unwrap();
        let s = Matcher::new(&parsed).snippet(&mut a, &long);
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("<mark>needle</mark>"), "{s}");
        assert!(s.chars().count() < 260, "{}", s.len());
    }
}
