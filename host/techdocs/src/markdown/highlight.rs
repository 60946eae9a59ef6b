//! Code blocks highlighted on the server (syntect's Sublime grammars, pure
//! Rust regexes), as spans with `hl-` classes only: the sanitiser keeps
//! nothing but `class` on them, and the UI's stylesheet gives them colours,
//! so a theme is CSS and a page carries no inline style.

use std::sync::OnceLock;

use syntect::html::{ClassStyle, ClassedHTMLGenerator};
use syntect::parsing::SyntaxSet;
use syntect::util::LinesWithEndings;

/// Larger blocks are shown plain: highlighting is regex work whose cost a
/// hostile block could inflate.
const MAX_BLOCK_BYTES: usize = 32 * 1024;
/// Lines longer than this are a sign of minified or generated text.
const MAX_LINE_BYTES: usize = 2_000;

/// Loads the grammars now (about 25 ms), so the first build does not.
pub(crate) fn warm_up() {
    syntaxes();
}

fn syntaxes() -> &'static SyntaxSet {
    static SET: OnceLock<SyntaxSet> = OnceLock::new();
    SET.get_or_init(SyntaxSet::load_defaults_newlines)
}

/// Common names syntect's grammars do not list as tokens.
fn token(lang: &str) -> &str {
    match lang {
        "shell" | "console" | "zsh" => "bash",
        "yml" => "yaml",
        "ts" | "typescript" | "tsx" => "js",
        "jsonc" | "json5" => "json",
        "golang" => "go",
        "dockerfile" => "bash",
        "toml" | "ini" | "cfg" => "ini",
        other => other,
    }
}

/// The block's HTML (escaped, with `hl-` spans), or `None` when the language
/// is unknown or the block too large: the caller shows it plain.
pub(crate) fn highlight(lang: &str, code: &str) -> Option<String> {
    if code.len() > MAX_BLOCK_BYTES || code.lines().any(|l| l.len() > MAX_LINE_BYTES) {
        return None;
    }
    let set = syntaxes();
    let syntax = set.find_syntax_by_token(token(&lang.to_ascii_lowercase()))?;
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        set,
        ClassStyle::SpacedPrefixed { prefix: "hl-" },
    );
    for line in LinesWithEndings::from(code) {
        generator
            .parse_html_for_line_which_includes_newline(line)
            .ok()?;
    }
    Some(generator.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_languages_get_classes_unknown_ones_none() {
        let html = highlight("rust", "fn main() { let s = \"<b>\"; }\n").unwrap();
        assert!(html.contains("class=\"hl-"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("style="), "{html}");
        assert!(highlight("no-such-language", "x").is_none());
        assert!(highlight("rust", &"x".repeat(MAX_BLOCK_BYTES + 1)).is_none());
    }
}
