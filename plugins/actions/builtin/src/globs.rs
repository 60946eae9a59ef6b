//! Glob patterns as Backstage's `globby` reads them (`dot: true`): `*` and
//! `?` stay within one path part, `**` crosses folders, dotfiles match, a
//! leading `./` is dropped and a leading `!` excludes. Patterns are matched
//! against paths relative to a root that were found by walking it, so a
//! pattern can never match anything outside.

use crate::error::{ActionError, Result};
use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use std::path::Path;

pub struct Globs {
    include: GlobSet,
    exclude: GlobSet,
}

impl Globs {
    /// `input` names the list in errors (`copyWithoutTemplating`).
    pub fn new(input: &str, patterns: &[&str]) -> Result<Globs> {
        let named: Vec<(String, &str)> = patterns
            .iter()
            .enumerate()
            .map(|(i, pattern)| (format!("{input}[{i}]"), *pattern))
            .collect();
        Globs::named(&named)
    }

    /// One pattern; `input` names it in errors (`files[2]`).
    pub fn one(input: &str, pattern: &str) -> Result<Globs> {
        Globs::named(&[(input.to_owned(), pattern)])
    }

    fn named(patterns: &[(String, &str)]) -> Result<Globs> {
        let mut include = GlobSetBuilder::new();
        let mut exclude = GlobSetBuilder::new();
        for (input, raw) in patterns {
            let (negated, pattern) = match raw.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, *raw),
            };
            let pattern = clean(pattern);
            let glob = GlobBuilder::new(pattern)
                .literal_separator(true)
                .backslash_escape(true)
                .build()
                .map_err(|e| {
                    ActionError::invalid(format!(
                        "input `{input}` (`{raw}`) is not a valid glob: {}",
                        e.kind()
                    ))
                })?;
            if negated {
                exclude.add(glob);
            } else {
                include.add(glob);
            }
        }
        let build = |set: GlobSetBuilder| {
            set.build()
                .map_err(|e| ActionError::invalid(format!("invalid globs: {e}")))
        };
        Ok(Globs {
            include: build(include)?,
            exclude: build(exclude)?,
        })
    }

    /// Whether a relative path (`/`-separated) is matched.
    pub fn is_match(&self, relative: &str) -> bool {
        let path = Path::new(relative);
        self.include.is_match(path) && !self.exclude.is_match(path)
    }
}

/// `./a/b/` → `a/b`: how globby reads a pattern relative to its folder.
fn clean(mut pattern: &str) -> &str {
    while let Some(rest) = pattern.strip_prefix("./") {
        pattern = rest;
    }
    let trimmed = pattern.trim_end_matches('/');
    if trimmed.is_empty() { pattern } else { trimmed }
}

/// Whether a pattern has anything a glob treats specially; without, it names
/// one path.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '[', '{', '\\'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_globby_does() {
        let globs = Globs::new(
            "copyWithoutTemplating",
            &[
                "./.github/workflows/*",
                "**/*.png",
                "docs/**",
                "!docs/keep.md",
            ],
        )
        .unwrap();
        let cases = [
            (".github/workflows/ci.yaml", true),
            (".github/workflows/deep/ci.yaml", false),
            ("logo.png", true),
            ("assets/img/logo.png", true),
            ("docs/a.md", true),
            ("docs/sub/a.md", true),
            ("docs/keep.md", false),
            ("src/main.rs", false),
        ];
        for (path, expected) in cases {
            assert_eq!(globs.is_match(path), expected, "{path}");
        }
    }

    #[test]
    fn a_star_matches_dotfiles_but_not_across_folders() {
        let globs = Globs::new("files", &["*"]).unwrap();
        assert!(globs.is_match(".env"));
        assert!(globs.is_match("README.md"));
        assert!(!globs.is_match("src/main.rs"));
        let folder = Globs::new("files", &["src/"]).unwrap();
        assert!(folder.is_match("src"));
    }

    #[test]
    fn a_bad_pattern_names_its_input() {
        let e = Globs::new("copyWithoutRender", &["ok", "a[b"])
            .err()
            .unwrap();
        assert_eq!(e.code, "invalid-input");
        assert!(
            e.message
                .starts_with("input `copyWithoutRender[1]` (`a[b`) is not a valid glob"),
            "{}",
            e.message
        );
    }

    #[test]
    fn plain_names_are_not_globs() {
        assert!(!is_glob("src/main.rs"));
        assert!(is_glob("src/*.rs"));
        assert!(is_glob("**/x"));
    }
}
