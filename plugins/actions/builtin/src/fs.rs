//! `fs:delete`, `fs:rename` and `fs:readdir`: the workspace's own files.
//! Every path is relative to the workspace and stays inside it (`paths`);
//! globs are matched against what a walk of the workspace finds, without
//! following links, so they cannot reach anything else.

use crate::context::Context;
use crate::error::{ActionError, Result, code};
use crate::globs::{self, Globs};
use crate::input::{Input, kind};
use crate::paths;
use crate::walk::{self, Kind};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

/// The most entries `fs:readdir` returns: its output must stay well under
/// the host's 1 MiB cap on an action's output.
const MAX_LISTED: usize = 5_000;

pub fn delete_schema() -> Value {
    json!({
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "title": "Files",
                "description": "Files and folders to delete, relative to the workspace; globs (`**/*.tmp`) allowed. A path that does not exist is not an error.",
                "type": "array",
                "items": { "type": "string" }
            }
        }
    })
}

pub fn rename_schema() -> Value {
    json!({
        "type": "object",
        "required": ["files"],
        "properties": {
            "files": {
                "title": "Files",
                "description": "Files and folders to rename, relative to the workspace.",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["from", "to"],
                    "properties": {
                        "from": { "type": "string", "title": "The source location of the file to be renamed" },
                        "to": { "type": "string", "title": "The destination of the new file" },
                        "overwrite": { "type": "boolean", "title": "Overwrite existing file or folder, default is false" }
                    }
                }
            }
        }
    })
}

pub fn readdir_schema() -> Value {
    json!({
        "type": "object",
        "required": ["paths"],
        "properties": {
            "paths": {
                "title": "Paths",
                "description": "Folders of the workspace to list, relative to it.",
                "type": "array",
                "items": { "type": "string", "minLength": 1 }
            },
            "recursive": {
                "title": "Recursive",
                "description": "List what the folders hold at every depth, not only their own entries.",
                "type": "boolean",
                "default": false
            }
        }
    })
}

pub fn readdir_output_schema() -> Value {
    let content = json!({
        "type": "object",
        "required": ["name", "path", "fullPath"],
        "properties": {
            "name": { "type": "string", "description": "Name of the file or directory" },
            "path": { "type": "string", "description": "path to the file or directory relative to the workspace" },
            "fullPath": { "type": "string", "description": "full path to the file or directory" }
        }
    });
    json!({
        "type": "object",
        "properties": {
            "files": { "type": "array", "items": content },
            "folders": { "type": "array", "items": content }
        }
    })
}

/// `fs:delete`. Every pattern is checked before anything is deleted.
pub fn delete(ctx: &Context, input: &Input) -> Result<Value> {
    enum Target {
        Path(String),
        Glob(Globs),
    }
    let patterns = input.strings("files")?;
    let mut targets = Vec::with_capacity(patterns.len());
    for (i, pattern) in patterns.iter().enumerate() {
        let name = format!("files[{i}]");
        let relative = paths::workspace_relative(&name, pattern)?;
        let Some(relative) = relative.to_str().filter(|r| !r.is_empty()) else {
            return Err(ActionError::invalid(format!(
                "input `{name}` (`{pattern}`) names the workspace itself, which cannot be deleted"
            )));
        };
        targets.push(if globs::is_glob(relative) {
            Target::Glob(Globs::one(&name, relative)?)
        } else {
            Target::Path(relative.to_owned())
        });
    }
    for (pattern, target) in patterns.iter().zip(targets) {
        let matched = match target {
            Target::Path(path) => vec![path],
            // Walked again for each glob: the one before may have deleted
            // some of it.
            Target::Glob(globs) => {
                let entries = walk::walk(ctx.workspace, walk::WORKSPACE, "the workspace")?;
                topmost(
                    entries
                        .iter()
                        .map(|e| e.relative.as_str())
                        .filter(|r| globs.is_match(r)),
                )
            }
        };
        let mut deleted = 0;
        for path in &matched {
            if remove(&ctx.workspace.join(path))? {
                ctx.info(format!("deleted `{path}`"));
                deleted += 1;
            }
        }
        if deleted == 0 {
            ctx.info(format!("`{pattern}`: nothing to delete"));
        }
    }
    Ok(json!({}))
}

/// Of paths in walk order (a folder before what it holds), those not inside
/// another: deleting a folder deletes the rest.
fn topmost<'a>(paths: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for path in paths {
        let inside = kept.last().is_some_and(|folder| {
            path.strip_prefix(folder.as_str())
                .is_some_and(|rest| rest.starts_with('/'))
        });
        if !inside {
            kept.push(path.to_owned());
        }
    }
    kept
}

/// Removes a file, link (never what it points to) or folder with everything
/// in it; false if nothing was there.
fn remove(path: &Path) -> Result<bool> {
    let removed = match Kind::of(path)? {
        None => return Ok(false),
        Some(Kind::Dir) => fs::remove_dir_all(path),
        Some(_) => fs::remove_file(path),
    };
    removed.map_err(|e| ActionError::io("delete", path, &e))?;
    Ok(true)
}

/// One rename of `fs:rename`, checked as far as can be before any is done.
struct Move<'a> {
    index: usize,
    from: &'a str,
    to: &'a str,
    source: PathBuf,
    destination: PathBuf,
    overwrite: bool,
}

/// `fs:rename`. Every entry's input is checked before anything is renamed;
/// what exists is checked as each is done (one may move what the next
/// renames).
pub fn rename(ctx: &Context, input: &Input) -> Result<Value> {
    let Some(files) = input.get("files") else {
        return Err(ActionError::invalid("input `files` is required"));
    };
    let Value::Array(files) = files else {
        return Err(ActionError::invalid(format!(
            "input `files` must be a list of {{from, to}}, not {}",
            kind(files)
        )));
    };
    let moves = files
        .iter()
        .enumerate()
        .map(|(i, file)| planned_move(ctx, i, file))
        .collect::<Result<Vec<_>>>()?;
    for Move {
        index: i,
        from,
        to,
        source,
        destination,
        overwrite,
    } in moves
    {
        if Kind::of(&source)?.is_none() {
            return Err(ActionError::new(
                code::NOT_FOUND,
                format!(
                    "input `files[{i}].from` (`{from}`): the workspace has no such file or folder"
                ),
            ));
        }
        if Kind::of(&destination)?.is_some() {
            if !overwrite {
                return Err(ActionError::new(
                    code::EXISTS,
                    format!(
                        "input `files[{i}].to` (`{to}`) already exists in the workspace (set `overwrite: true` to replace it)"
                    ),
                ));
            }
            remove(&destination)?;
        }
        if let Some(parent) = destination.parent() {
            fs::create_dir_all(parent)
                .map_err(|e| ActionError::io("create the folder", parent, &e))?;
        }
        fs::rename(&source, &destination)
            .map_err(|e| ActionError::io(&format!("rename `{from}` to"), &destination, &e))?;
        ctx.info(format!("renamed `{from}` to `{to}`"));
    }
    Ok(json!({}))
}

fn planned_move<'a>(ctx: &Context, i: usize, file: &'a Value) -> Result<Move<'a>> {
    let field = |key: &str| -> Result<&'a str> {
        match file.get(key) {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            _ => Err(ActionError::invalid(format!(
                "input `files[{i}].{key}` is required (each file needs `from` and `to`)"
            ))),
        }
    };
    let (from, to) = (field("from")?, field("to")?);
    let overwrite = match file.get("overwrite") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ActionError::invalid(format!(
                "input `files[{i}].overwrite` must be true or false, not {}",
                kind(other)
            )));
        }
    };
    let source = movable(ctx, &format!("files[{i}].from"), from)?;
    let destination = movable(ctx, &format!("files[{i}].to"), to)?;
    if source == destination {
        return Err(ActionError::invalid(format!(
            "input `files[{i}]`: `{from}` and `{to}` are the same path"
        )));
    }
    if destination.starts_with(&source) {
        return Err(ActionError::invalid(format!(
            "input `files[{i}]`: cannot move `{from}` into itself (`{to}`)"
        )));
    }
    Ok(Move {
        index: i,
        from,
        to,
        source,
        destination,
        overwrite,
    })
}

/// A path `fs:rename` may move from or to: in the workspace, not the
/// workspace itself.
fn movable(ctx: &Context, name: &str, value: &str) -> Result<PathBuf> {
    let relative = paths::workspace_relative(name, value)?;
    if relative.as_os_str().is_empty() {
        return Err(ActionError::invalid(format!(
            "input `{name}` (`{value}`) names the workspace itself"
        )));
    }
    Ok(ctx.workspace.join(relative))
}

/// `fs:readdir`: Backstage's shape, `{files, folders}` of `{name, path,
/// fullPath}`; a link counts as a file, as Node's `readdir` reports it.
/// Entries are sorted by path within each listed folder.
pub fn readdir(ctx: &Context, input: &Input) -> Result<Value> {
    let recursive = input.flag("recursive")?;
    let mut files = Vec::new();
    let mut folders = Vec::new();
    for (i, path) in input.strings("paths")?.into_iter().enumerate() {
        let name = format!("paths[{i}]");
        let relative = paths::workspace_relative(&name, path)?;
        let dir = ctx.workspace.join(&relative);
        match Kind::of(&dir)? {
            Some(Kind::Dir) => {}
            None => {
                return Err(ActionError::new(
                    code::NOT_FOUND,
                    format!("input `{name}` (`{path}`): the workspace has no such folder"),
                ));
            }
            Some(_) => {
                return Err(ActionError::invalid(format!(
                    "input `{name}` (`{path}`) is not a folder"
                )));
            }
        }
        let entries = if recursive {
            walk::walk(&dir, walk::WORKSPACE, &format!("`{path}`"))?
        } else {
            walk::children(&dir)?
        };
        for entry in entries {
            if files.len() + folders.len() >= MAX_LISTED {
                return Err(ActionError::new(
                    code::TOO_LARGE,
                    format!(
                        "the listing holds more than {MAX_LISTED} files and folders; list fewer or without `recursive`"
                    ),
                ));
            }
            let relative = relative.join(&entry.relative);
            let full = ctx.workspace.join(&relative);
            let item = json!({
                "name": relative.file_name().unwrap_or_default().to_string_lossy(),
                "path": relative.to_string_lossy(),
                "fullPath": full.to_string_lossy(),
            });
            if entry.kind == Kind::Dir {
                folders.push(item);
            } else {
                files.push(item);
            }
        }
    }
    Ok(json!({ "files": files, "folders": folders }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    fn input(json: Value) -> Input {
        Input::parse(&json.to_string()).unwrap()
    }

    #[test]
    fn delete_removes_paths_and_globs_and_ignores_what_is_missing() {
        let dirs = Dirs::new();
        Dirs::write(
            &dirs.workspace,
            &[
                ("keep.md", ""),
                ("a.tmp", ""),
                ("deep/b.tmp", ""),
                ("deep/c.txt", ""),
                ("build/out/x", ""),
                (".cache/y", ""),
            ],
        );
        delete(
            &dirs.context(),
            &input(json!({"files": ["**/*.tmp", "./build", ".cache/", "missing.txt"]})),
        )
        .unwrap();
        for gone in ["a.tmp", "deep/b.tmp", "build", ".cache"] {
            assert!(!dirs.exists(gone), "{gone}");
        }
        for kept in ["keep.md", "deep/c.txt"] {
            assert!(dirs.exists(kept), "{kept}");
        }
        let log = dirs.lines.text();
        assert!(log.contains("deleted `deep/b.tmp`"), "{log}");
        assert!(log.contains("`missing.txt`: nothing to delete"), "{log}");
    }

    #[test]
    fn delete_of_a_folder_glob_deletes_the_folder_once() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.workspace, &[("a/b/c", ""), ("a/d", ""), ("e", "")]);
        delete(&dirs.context(), &input(json!({"files": ["*"]}))).unwrap();
        assert_eq!(std::fs::read_dir(&dirs.workspace).unwrap().count(), 0);
        assert_eq!(dirs.lines.text(), "deleted `a`\ndeleted `e`");
    }

    #[test]
    fn delete_never_leaves_the_workspace() {
        let dirs = Dirs::new();
        let outside = dirs.outside().join("victim.txt");
        std::fs::write(&outside, "safe").unwrap();
        let ctx = dirs.context();
        for pattern in ["../victim.txt", "../*.txt", "/etc/*", "a/../../victim.txt"] {
            let e = delete(&ctx, &input(json!({ "files": [pattern] }))).unwrap_err();
            assert_eq!(e.code, "path-escape", "{pattern}");
            assert!(e.message.contains(pattern), "{}", e.message);
        }
        for pattern in [".", "./", "a/.."] {
            let e = delete(&ctx, &input(json!({ "files": [pattern] }))).unwrap_err();
            assert!(e.message.contains("the workspace itself"), "{pattern}");
        }
        // A link to something outside is deleted as a link.
        std::os::unix::fs::symlink(&outside, dirs.workspace.join("link")).unwrap();
        delete(&ctx, &input(json!({"files": ["link"]}))).unwrap();
        assert!(!dirs.exists("link"));
        let dir_outside = dirs.outside().join("dir");
        std::fs::create_dir(&dir_outside).unwrap();
        std::fs::write(dir_outside.join("f"), "").unwrap();
        std::os::unix::fs::symlink(&dir_outside, dirs.workspace.join("dirlink")).unwrap();
        delete(
            &ctx,
            &input(json!({"files": ["**/f", "dirlink/*", "dirlink"]})),
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "safe");
        assert!(dir_outside.join("f").exists(), "globs do not follow links");
    }

    #[test]
    fn a_bad_pattern_stops_the_step_before_anything_is_deleted() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.workspace, &[("a", "")]);
        let e = delete(&dirs.context(), &input(json!({"files": ["a", "../b"]}))).unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert!(dirs.exists("a"));
        let e = rename(
            &dirs.context(),
            &input(json!({"files": [{"from": "a", "to": "b"}, {"from": "b", "to": "/c"}]})),
        )
        .unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert!(dirs.exists("a"));
    }

    #[test]
    fn delete_needs_a_list_of_strings() {
        let dirs = Dirs::new();
        let e = delete(&dirs.context(), &input(json!({"files": "a"}))).unwrap_err();
        assert_eq!(
            e.message,
            "input `files` must be a list of strings, not a string"
        );
        let e = delete(&dirs.context(), &input(json!({}))).unwrap_err();
        assert_eq!(e.message, "input `files` is required");
    }

    #[test]
    fn rename_moves_files_and_folders_creating_folders() {
        let dirs = Dirs::new();
        Dirs::write(
            &dirs.workspace,
            &[("a.txt", "a"), ("src/x", "x"), ("taken", "old")],
        );
        rename(
            &dirs.context(),
            &input(json!({"files": [
                {"from": "a.txt", "to": "docs/b.txt"},
                {"from": "src", "to": "lib"},
                {"from": "docs/b.txt", "to": "taken", "overwrite": true}
            ]})),
        )
        .unwrap();
        assert_eq!(dirs.read("lib/x"), "x");
        assert_eq!(dirs.read("taken"), "a");
        assert!(!dirs.exists("a.txt") && !dirs.exists("src") && !dirs.exists("docs/b.txt"));
        assert!(dirs.lines.text().contains("renamed `src` to `lib`"));
    }

    #[test]
    fn rename_refuses_overwrites_escapes_and_nonsense() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.workspace, &[("a", "a"), ("b", "b"), ("dir/x", "")]);
        let ctx = dirs.context();
        let cases = [
            (
                json!([{"from": "a", "to": "b"}]),
                "exists",
                "input `files[0].to` (`b`) already exists",
            ),
            (
                json!([{"from": "a", "to": "../b"}]),
                "path-escape",
                "input `files[0].to` (`../b`) leads outside",
            ),
            (
                json!([{"from": "/etc/passwd", "to": "p"}]),
                "path-escape",
                "input `files[0].from` (`/etc/passwd`) is an absolute path",
            ),
            (
                json!([{"from": "nope", "to": "c"}]),
                "not-found",
                "input `files[0].from` (`nope`)",
            ),
            (
                json!([{"from": "a"}]),
                "invalid-input",
                "input `files[0].to` is required",
            ),
            (
                json!([{"from": "a", "to": "./a"}]),
                "invalid-input",
                "are the same path",
            ),
            (
                json!([{"from": "dir", "to": "dir/sub"}]),
                "invalid-input",
                "into itself",
            ),
            (
                json!([{"from": "a", "to": "."}]),
                "invalid-input",
                "names the workspace itself",
            ),
            (
                json!([{"from": "a", "to": "c", "overwrite": "yes"}]),
                "invalid-input",
                "must be true or false",
            ),
            (json!("a"), "invalid-input", "must be a list of {from, to}"),
        ];
        for (files, code, message) in cases {
            let e = rename(&ctx, &input(json!({ "files": files }))).unwrap_err();
            assert_eq!(e.code, code, "{files}");
            assert!(e.message.contains(message), "{files}: {}", e.message);
        }
        assert_eq!(dirs.read("b"), "b");
    }

    #[test]
    fn readdir_answers_in_backstage_shape() {
        let dirs = Dirs::new();
        Dirs::write(
            &dirs.workspace,
            &[
                ("src/main.rs", ""),
                ("src/lib/mod.rs", ""),
                ("README.md", ""),
            ],
        );
        let ctx = dirs.context();
        let full = |p: &str| dirs.workspace.join(p).to_string_lossy().into_owned();
        let output = readdir(&ctx, &input(json!({"paths": ["src"]}))).unwrap();
        assert_eq!(
            output,
            json!({
                "files": [{"name": "main.rs", "path": "src/main.rs", "fullPath": full("src/main.rs")}],
                "folders": [{"name": "lib", "path": "src/lib", "fullPath": full("src/lib")}],
            })
        );
        let output = readdir(&ctx, &input(json!({"paths": ["./"], "recursive": true}))).unwrap();
        let paths = |key: &str| -> Vec<String> {
            output[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["path"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(
            paths("files"),
            ["README.md", "src/lib/mod.rs", "src/main.rs"]
        );
        assert_eq!(paths("folders"), ["src", "src/lib"]);
    }

    #[test]
    fn readdir_refuses_escapes_and_missing_folders() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.workspace, &[("file", "")]);
        let ctx = dirs.context();
        let e = readdir(&ctx, &input(json!({"paths": [".."]}))).unwrap_err();
        assert_eq!(e.code, "path-escape");
        let e = readdir(&ctx, &input(json!({"paths": ["nope"]}))).unwrap_err();
        assert_eq!(e.code, "not-found");
        let e = readdir(&ctx, &input(json!({"paths": ["file"]}))).unwrap_err();
        assert!(e.message.contains("is not a folder"));
    }

    #[test]
    fn readdir_output_is_bounded() {
        let dirs = Dirs::new();
        for i in 0..=MAX_LISTED {
            std::fs::write(dirs.workspace.join(i.to_string()), "").unwrap();
        }
        let e = readdir(&dirs.context(), &input(json!({"paths": ["."]}))).unwrap_err();
        assert_eq!(e.code, "too-large");
    }
}
