//! The path rules: every path an input names is relative to a root (the
//! workspace, or the template's directory for `url`) and stays inside it.
//!
//! The rules are lexical: `..` is resolved against the path itself, never by
//! asking the file system, so `a/../b` is `b` and `../b` is refused whatever
//! exists. Symbolic links are not followed to decide (WASI has no `realpath`);
//! inside the component the sandbox refuses any link that leads out of a
//! preopened directory, and the actions never create such a link (see
//! `copy.rs`). Refusing here first gives an error that names the input.

use crate::context::Context;
use crate::error::{ActionError, Result, code};
use std::path::{Path, PathBuf};

/// Why a relative path is not acceptable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Absolute,
    /// A `..` that climbs above the root.
    Escapes,
}

/// `value` as a clean relative path: `.` and empty parts dropped, `..`
/// resolved. The empty path is the root itself.
pub fn normalize(value: &str) -> Result<PathBuf, Refusal> {
    if value.starts_with('/') {
        return Err(Refusal::Absolute);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in value.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(Refusal::Escapes)?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.iter().collect())
}

/// The relative path a workspace input names, checked: `input` names the
/// field in errors (`targetPath`, `files[2]`).
pub fn workspace_relative(input: &str, value: &str) -> Result<PathBuf> {
    normalize(value).map_err(|refusal| match refusal {
        Refusal::Absolute => ActionError::new(
            code::PATH_ESCAPE,
            format!(
                "input `{input}` (`{value}`) is an absolute path; paths are relative to the workspace"
            ),
        ),
        Refusal::Escapes => ActionError::new(
            code::PATH_ESCAPE,
            format!("input `{input}` (`{value}`) leads outside the workspace"),
        ),
    })
}

/// The workspace path an input names.
pub fn workspace_path(ctx: &Context, input: &str, value: &str) -> Result<PathBuf> {
    Ok(ctx.workspace.join(workspace_relative(input, value)?))
}

/// The file or folder of the template's directory that `url` names.
pub fn template_path(ctx: &Context, input: &str, url: &str) -> Result<PathBuf> {
    if let Some((scheme, _)) = url.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        let message = if scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
        {
            format!(
                "input `{input}` (`{url}`) is a remote URL where a path in the template's directory is expected"
            )
        } else {
            format!(
                "input `{input}` (`{url}`): only paths relative to the template's directory are supported, such as `./skeleton`"
            )
        };
        return Err(ActionError::new(code::UNSUPPORTED, message));
    }
    let relative = normalize(url).map_err(|refusal| match refusal {
        Refusal::Absolute => ActionError::new(
            code::PATH_ESCAPE,
            format!(
                "input `{input}` (`{url}`) is an absolute path; give a path relative to the template, such as `./skeleton`"
            ),
        ),
        Refusal::Escapes => ActionError::new(
            code::PATH_ESCAPE,
            format!("input `{input}` (`{url}`) leads outside the template's directory"),
        ),
    })?;
    let Some(template) = ctx.template else {
        return Err(ActionError::new(
            code::NOT_FOUND,
            format!(
                "input `{input}` (`{url}`) names a file of the template, but this template has no files (it was not loaded from a directory)"
            ),
        ));
    };
    Ok(template.join(relative))
}

/// Splits a rendered file or folder name into the path parts it stands for.
/// A name may render to several parts (`${{ values.dir }}` = `src/main`), but
/// never to an absolute path or a `..` part, wherever that would lead. `.`
/// and empty inner parts are dropped. `Ok(None)` when the name renders to
/// nothing: Backstage then skips the entry (a file or folder that a template
/// includes only `{% if %}` something holds).
pub fn rendered_parts(rendered: &str) -> Result<Option<Vec<&str>>, Refusal> {
    if rendered.is_empty() {
        return Ok(None);
    }
    if rendered.starts_with('/') {
        return Err(Refusal::Absolute);
    }
    let mut parts = Vec::new();
    for part in rendered.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(Refusal::Escapes),
            part => parts.push(part),
        }
    }
    // `.` or `./`: names nothing.
    Ok((!parts.is_empty()).then_some(parts))
}

/// How an entry found under `url` is named in messages: `./skeleton/a.txt`.
pub fn child_name(url: &str, relative: &str) -> String {
    match url.trim_end_matches('/') {
        "" => relative.to_owned(),
        base => format!("{base}/{relative}"),
    }
}

/// `path` relative to `root`, with `/` separators, for messages and outputs.
pub fn display_relative(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let text = relative.to_string_lossy().into_owned();
    if text.is_empty() {
        ".".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    #[test]
    fn relative_paths_are_normalized_and_escapes_refused() {
        let ok = [
            ("", ""),
            ("./", ""),
            (".", ""),
            ("a", "a"),
            ("./a/b/", "a/b"),
            ("a//b", "a/b"),
            ("a/../b", "b"),
            ("a/b/../../c", "c"),
            ("a/..", ""),
            ("..a/b..", "..a/b.."),
        ];
        for (value, expected) in ok {
            assert_eq!(normalize(value), Ok(PathBuf::from(expected)), "{value}");
        }
        let refused = [
            ("/etc", Refusal::Absolute),
            ("//x", Refusal::Absolute),
            ("..", Refusal::Escapes),
            ("../x", Refusal::Escapes),
            ("a/../../x", Refusal::Escapes),
            ("./a/./../..", Refusal::Escapes),
        ];
        for (value, expected) in refused {
            assert_eq!(normalize(value), Err(expected), "{value}");
        }
    }

    #[test]
    fn workspace_inputs_stay_in_the_workspace_and_errors_name_the_input() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        assert_eq!(
            workspace_path(&ctx, "targetPath", "./out/x").unwrap(),
            dirs.workspace.join("out/x")
        );
        assert_eq!(
            workspace_path(&ctx, "targetPath", "./").unwrap(),
            dirs.workspace.join("")
        );
        let e = workspace_path(&ctx, "targetPath", "../x").unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert_eq!(
            e.message,
            "input `targetPath` (`../x`) leads outside the workspace"
        );
        let e = workspace_path(&ctx, "files[1]", "/etc/passwd").unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert!(
            e.message
                .starts_with("input `files[1]` (`/etc/passwd`) is an absolute path")
        );
    }

    #[test]
    fn urls_are_relative_to_the_template_and_stay_inside_it() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        for (url, expected) in [
            ("./skeleton", "skeleton"),
            ("skeleton", "skeleton"),
            ("skeleton/../other/./x", "other/x"),
            (".", ""),
        ] {
            assert_eq!(
                template_path(&ctx, "url", url).unwrap(),
                dirs.template.join(expected),
                "{url}"
            );
        }
        let e = template_path(&ctx, "url", "../x").unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert_eq!(
            e.message,
            "input `url` (`../x`) leads outside the template's directory"
        );
        let e = template_path(&ctx, "url", "skeleton/../../x").unwrap_err();
        assert_eq!(e.code, "path-escape");
        let e = template_path(&ctx, "url", "/etc").unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert!(e.message.contains("`/etc`") && e.message.contains("absolute"));
    }

    #[test]
    fn remote_and_other_urls_are_refused_clearly() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        for url in [
            "https://github.com/acme/templates/tree/main/skeleton",
            "http://example.com/x",
            "HTTPS://example.com/x",
        ] {
            let e = template_path(&ctx, "url", url).unwrap_err();
            assert_eq!(e.code, "unsupported");
            assert!(
                e.message.contains("is a remote URL where a path") && e.message.contains(url),
                "{}",
                e.message
            );
        }
        let e = template_path(&ctx, "url", "file:///etc").unwrap_err();
        assert_eq!(e.code, "unsupported");
        assert!(e.message.contains("only paths relative to the template"));
        // A colon alone is a file name, not a scheme.
        assert!(template_path(&ctx, "url", "./a:b").is_ok());
    }

    #[test]
    fn a_template_without_files_has_no_url_to_fetch() {
        let dirs = Dirs::new();
        let e = template_path(&dirs.without_template(), "url", "./skeleton").unwrap_err();
        assert_eq!(e.code, "not-found");
        assert!(
            e.message.contains("this template has no files"),
            "{}",
            e.message
        );
    }

    #[test]
    fn rendered_names_may_hold_folders_but_never_escape() {
        assert_eq!(rendered_parts("a.md"), Ok(Some(vec!["a.md"])));
        assert_eq!(rendered_parts("src/main"), Ok(Some(vec!["src", "main"])));
        assert_eq!(rendered_parts("src//main/"), Ok(Some(vec!["src", "main"])));
        assert_eq!(rendered_parts(""), Ok(None));
        assert_eq!(rendered_parts("."), Ok(None));
        assert_eq!(rendered_parts("/etc"), Err(Refusal::Absolute));
        assert_eq!(rendered_parts(".."), Err(Refusal::Escapes));
        // Refused even where it would stay inside: a name is not a path.
        assert_eq!(rendered_parts("a/../b"), Err(Refusal::Escapes));
        assert_eq!(rendered_parts("..."), Ok(Some(vec!["..."])));
    }
}
