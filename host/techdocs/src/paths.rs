//! Pure path rules shared by the tree walk, the nav and link rewriting:
//! which files are pages, and how a relative path joins onto a folder
//! without ever leaving the root.

use std::path::{Component, Path};

/// Whether a file name is a Markdown page (the extensions MkDocs reads).
pub(crate) fn is_markdown(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".md", ".markdown"].iter().any(|ext| lower.ends_with(ext))
}

/// Joins a `/`-separated relative path onto `base` segments lexically, or
/// `None` if it is absolute or climbs above the base's root with `..`.
pub(crate) fn join_rel(base: &[String], rel: &str) -> Option<Vec<String>> {
    if rel.is_empty()
        || rel.starts_with('/')
        || rel.contains('\\')
        || rel.contains('\0')
        || Path::new(rel).is_absolute()
        || Path::new(rel)
            .components()
            .any(|c| matches!(c, Component::Prefix(_) | Component::RootDir))
    {
        return None;
    }
    let mut out = base.to_vec();
    for segment in rel.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop()?;
            }
            s => out.push(s.to_owned()),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn join_rel_refuses_escapes_and_absolute_paths() {
        assert_eq!(
            join_rel(&segs(&["a"]), "b/c.md"),
            Some(segs(&["a", "b", "c.md"]))
        );
        assert_eq!(join_rel(&segs(&["a"]), "../x.md"), Some(segs(&["x.md"])));
        assert_eq!(join_rel(&segs(&["a"]), "../../x.md"), None);
        assert_eq!(join_rel(&[], "/etc/passwd"), None);
        assert_eq!(join_rel(&[], "a\\..\\..\\x"), None);
        assert_eq!(join_rel(&[], ""), None);
    }
}
