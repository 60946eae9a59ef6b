//! Multi-document YAML with budgets.
//!
//! Catalog files come from untrusted repositories, so every document is parsed
//! with serde-saphyr under a [`Budget`](serde_saphyr::Budget): bounded nesting,
//! node count, alias uses and alias replay (an alias bomb fails fast instead of
//! expanding to gigabytes). Documents are split at `---`/`...` marker lines
//! first (YAML forbids those lines inside any scalar, so the split is exact);
//! each document then parses on its own, so one broken document never hides
//! its neighbours, and errors carry the line in the file.

use crate::config::LimitsConfig;
use serde_json::Value;

/// One document of a file: its text and the 1-based line it starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawDocument<'a> {
    /// The document text (markers excluded).
    pub text: &'a str,
    /// Line number (1-based) of the document's first line in the file.
    pub line: usize,
}

/// A document failed to parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct YamlError {
    /// Line in the file (1-based), when known.
    pub line: Option<usize>,
    /// What went wrong.
    pub message: String,
}

fn is_marker(line: &str, marker: &str) -> bool {
    line.strip_prefix(marker)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
}

/// Splits a stream into documents at marker lines. Empty documents (only
/// whitespace and comments) are dropped.
pub fn split_documents(text: &str) -> Vec<RawDocument<'_>> {
    let mut docs = Vec::new();
    let mut start = 0usize;
    let mut start_line = 1usize;
    let mut offset = 0usize;
    let mut line_no = 1usize;
    fn push<'t>(
        text: &'t str,
        docs: &mut Vec<RawDocument<'t>>,
        from: usize,
        to: usize,
        line: usize,
    ) {
        let t = &text[from..to];
        let meaningful = t.lines().any(|l| {
            let l = l.trim();
            !l.is_empty() && !l.starts_with('#') && !l.starts_with('%')
        });
        if meaningful {
            docs.push(RawDocument { text: t, line });
        }
    }
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']);
        if is_marker(content, "---") {
            push(text, &mut docs, start, offset, start_line);
            // The marker line may carry content after it (`--- !tag` or `--- {a: 1}`).
            let after = &content[3..];
            if after.trim().is_empty() || after.trim_start().starts_with('#') {
                start = offset + line.len();
                start_line = line_no + 1;
            } else {
                start = offset + 3;
                start_line = line_no;
            }
        } else if is_marker(content, "...") {
            push(text, &mut docs, start, offset, start_line);
            start = offset + line.len();
            start_line = line_no + 1;
        }
        offset += line.len();
        line_no += 1;
    }
    push(text, &mut docs, start, text.len(), start_line);
    docs
}

/// Parses one document into JSON under the configured budget.
pub fn parse_document(doc: &RawDocument<'_>, limits: &LimitsConfig) -> Result<Value, YamlError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: limits.max_depth,
            max_nodes: limits.max_nodes,
            max_aliases: limits.max_aliases,
            max_anchors: limits.max_aliases.max(100),
            max_documents: 1,
            max_total_scalar_bytes: limits.max_file_bytes as usize,
            max_recorded_anchor_events: limits.max_nodes,
            max_merge_keys: limits.max_aliases,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: limits.max_nodes,
            max_replay_stack_depth: 32,
        },
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Value>(doc.text, options).map_err(|e| {
        let line = e.location().map(|l| l.line() as usize);
        let message = clean_message(&e.to_string());
        YamlError {
            line: line.map(|l| l + doc.line - 1).or(Some(doc.line)),
            message,
        }
    })
}

/// serde-saphyr appends "at line X column Y" of the document; the caller adds
/// the file's line instead, so drop it.
fn clean_message(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message).trim();
    match first.rfind(" at line ") {
        Some(i) => first[..i].to_owned(),
        None => first.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> LimitsConfig {
        LimitsConfig::default()
    }

    #[test]
    fn splits_at_marker_lines_only() {
        let text =
            "a: 1\n---\nb: |\n  ---not a marker\n  x\n--- \n# only a comment\n---\nc: 3\n...\n";
        let docs = split_documents(text);
        assert_eq!(docs.len(), 3, "{docs:?}");
        assert_eq!(docs[0].line, 1);
        assert_eq!(docs[1].line, 3);
        assert_eq!(docs[2].line, 9);
        assert_eq!(
            parse_document(&docs[1], &limits()).unwrap()["b"],
            "---not a marker\nx\n"
        );
    }

    #[test]
    fn marker_with_inline_content() {
        let docs = split_documents("--- {a: 1}\n--- {b: 2}\n");
        assert_eq!(docs.len(), 2);
        assert_eq!(parse_document(&docs[1], &limits()).unwrap()["b"], 2);
    }

    #[test]
    fn errors_carry_file_lines() {
        let text = "a: 1\n---\nkind: Component\nmetadata:\n  name: [unclosed\n";
        let docs = split_documents(text);
        let err = parse_document(&docs[1], &limits()).unwrap_err();
        assert!(err.line.unwrap() >= 3, "{err:?}");
    }

    #[test]
    fn alias_bomb_is_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for c in 'b'..='k' {
            text.push_str(&format!(
                "{c}: &{c} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
            ));
            prev = c;
        }
        let docs = split_documents(&text);
        let started = std::time::Instant::now();
        let err = parse_document(&docs[0], &limits()).unwrap_err();
        assert!(started.elapsed().as_secs() < 5);
        assert!(!err.message.is_empty());
    }

    #[test]
    fn depth_is_bounded() {
        let text = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        let docs = split_documents(&text);
        assert!(parse_document(&docs[0], &limits()).is_err());
    }
}
