//! Glob patterns for file locations and catalog rules: `*` and `?` within one
//! path segment, `**` across segments, `{a,b}` alternatives.

use std::path::{Path, PathBuf};

/// Whether `pattern` has glob syntax.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '{'])
}

/// Matches `text` against `pattern`.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    for expanded in expand_braces(pattern) {
        if match_here(expanded.as_bytes(), text.as_bytes()) {
            return true;
        }
    }
    false
}

fn expand_braces(pattern: &str) -> Vec<String> {
    let Some(open) = pattern.find('{') else {
        return vec![pattern.to_owned()];
    };
    let Some(close_rel) = pattern[open..].find('}') else {
        return vec![pattern.to_owned()];
    };
    let close = open + close_rel;
    let (head, body, tail) = (
        &pattern[..open],
        &pattern[open + 1..close],
        &pattern[close + 1..],
    );
    let mut out = Vec::new();
    for alt in body.split(',') {
        for rest in expand_braces(tail) {
            out.push(format!("{head}{alt}{rest}"));
        }
    }
    out
}

fn match_here(p: &[u8], t: &[u8]) -> bool {
    if p.is_empty() {
        return t.is_empty();
    }
    if p.starts_with(b"**") {
        let mut rest = &p[2..];
        if rest.first() == Some(&b'/') {
            rest = &rest[1..];
            // `**/` also matches zero segments.
            if match_here(rest, t) {
                return true;
            }
        }
        for i in 0..t.len() {
            if (i == 0 || t[i - 1] == b'/') && match_here(rest, &t[i..]) {
                return true;
            }
        }
        return rest.is_empty() || match_here(rest, &t[t.len()..]);
    }
    match p[0] {
        b'*' => {
            for i in 0..=t.len() {
                if match_here(&p[1..], &t[i..]) {
                    return true;
                }
                if i < t.len() && t[i] == b'/' {
                    break;
                }
            }
            false
        }
        b'?' => !t.is_empty() && t[0] != b'/' && match_here(&p[1..], &t[1..]),
        c => !t.is_empty() && t[0] == c && match_here(&p[1..], &t[1..]),
    }
}

/// The directory a glob pattern starts walking from: its longest leading run
/// of segments without glob syntax.
pub fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for (i, segment) in pattern.split('/').enumerate() {
        if is_glob(segment) {
            break;
        }
        if i == 0 && segment.is_empty() {
            base.push("/");
        } else {
            base.push(segment);
        }
    }
    base
}

fn skip_dir(name: &str) -> bool {
    name.starts_with('.') || name == "node_modules"
}

/// Files under `dir` (recursively, hidden directories and `node_modules`
/// skipped) accepted by `accept`, sorted.
pub fn walk_files(dir: &Path, accept: &dyn Fn(&Path) -> bool, limit: usize) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            let name = entry.file_name().to_string_lossy().into_owned();
            if ft.is_dir() || (ft.is_symlink() && path.is_dir()) {
                if !skip_dir(&name) && depth < 32 {
                    stack.push((path, depth + 1));
                }
            } else if accept(&path) {
                out.push(path);
                if out.len() >= limit {
                    out.sort();
                    return out;
                }
            }
        }
    }
    out.sort();
    out
}

/// Whether a file looks like catalog YAML (for directory targets).
pub fn is_yaml_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml") | Some("yml")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching() {
        assert!(glob_match("/a/*.yaml", "/a/b.yaml"));
        assert!(!glob_match("/a/*.yaml", "/a/b/c.yaml"));
        assert!(glob_match("/a/**/*.yaml", "/a/b/c.yaml"));
        assert!(glob_match("/a/**/*.yaml", "/a/c.yaml"));
        assert!(glob_match("/a/**", "/a/b/c"));
        assert!(glob_match("/a/{x,y}/*.yml", "/a/y/z.yml"));
        assert!(glob_match(
            "https://github.com/org/*/blob/**",
            "https://github.com/org/r/blob/main/x.yaml"
        ));
        assert!(glob_match("/a/?.yaml", "/a/b.yaml"));
        assert!(!glob_match("/a/?.yaml", "/a/bb.yaml"));
    }

    #[test]
    fn bases() {
        assert_eq!(glob_base("/a/b/*/c.yaml"), PathBuf::from("/a/b"));
        assert_eq!(glob_base("/a/**/x"), PathBuf::from("/a"));
    }
}
