//! Copying a tree from the template's directory into the workspace, shared by
//! the fetch actions: first a plan (every entry's destination, checked for
//! conflicts before anything is written), then its application.
//!
//! Symbolic links in a skeleton: a link whose target is relative and stays
//! inside the folder being fetched is copied as a link, with its target as
//! written; any other link (absolute, or leading out of that folder) is
//! skipped with a warning in the task log. Links are never followed while
//! reading a skeleton. A link that already sits at a destination in the
//! workspace is replaced, never written through.

use crate::context::Context;
use crate::error::{ActionError, Result, code};
use crate::paths::{self, display_relative};
use crate::platform;
use crate::source::Source;
use crate::walk::Kind;
use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

/// What one planned entry writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Dir,
    /// A file copied from `source`; its text rendered if `render` (binary
    /// and empty files are always copied as they are).
    File {
        source: PathBuf,
        render: bool,
    },
    /// A symbolic link with this (relative) target.
    Link {
        target: PathBuf,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Where it comes from, relative to the template's directory, for
    /// messages (`skeleton/README.md`).
    pub from: String,
    /// Where it goes: a path in the workspace.
    pub to: PathBuf,
    pub content: Content,
}

/// What one fetch writes.
pub struct Plan {
    items: Vec<Item>,
    /// Whether files that exist are replaced (`replace`); otherwise an
    /// existing file is an error.
    overwrite: bool,
}

/// What applying a plan did, for the log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub folders: usize,
    pub rendered: usize,
    pub copied: usize,
    pub links: usize,
}

impl Plan {
    pub fn new(overwrite: bool) -> Plan {
        Plan {
            items: Vec::new(),
            overwrite,
        }
    }

    pub fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// Refuses the plan, before anything is written, if it would put a file
    /// where a folder is or the other way round, write two entries to one
    /// place, or replace a file without `overwrite`.
    pub fn check(&self, ctx: &Context) -> Result<()> {
        let mut planned: HashMap<&Path, &Item> = HashMap::new();
        for item in &self.items {
            let shown = display_relative(ctx.workspace, &item.to);
            let is_dir = item.content == Content::Dir;
            if let Some(earlier) = planned.get(item.to.as_path()) {
                if is_dir && earlier.content == Content::Dir {
                    continue;
                }
                return Err(ActionError::new(
                    code::EXISTS,
                    format!(
                        "`{}` and `{}` would both be written to `{shown}`",
                        earlier.from, item.from
                    ),
                ));
            }
            planned.insert(&item.to, item);
            match (Kind::of(&item.to)?, is_dir) {
                (None, _) | (Some(Kind::Dir), true) => {}
                (Some(_), true) => {
                    return Err(ActionError::new(
                        code::EXISTS,
                        format!(
                            "`{shown}` exists in the workspace and is not a folder, so the folder `{}` cannot be written there",
                            item.from
                        ),
                    ));
                }
                (Some(Kind::Dir), false) => {
                    return Err(ActionError::new(
                        code::EXISTS,
                        format!(
                            "`{shown}` is a folder in the workspace, so `{}` cannot be written there",
                            item.from
                        ),
                    ));
                }
                (Some(_), false) if !self.overwrite => {
                    return Err(ActionError::new(
                        code::EXISTS,
                        format!(
                            "`{shown}` already exists in the workspace (set `replace: true` to overwrite it)"
                        ),
                    ));
                }
                (Some(_), false) => {}
            }
        }
        Ok(())
    }

    /// Writes the plan in order (a folder before what it holds). `render`
    /// turns a text file's contents into what is written.
    pub fn apply(&self, render: &mut dyn FnMut(&Item, &str) -> Result<String>) -> Result<Written> {
        let mut written = Written::default();
        for item in &self.items {
            match &item.content {
                Content::Dir => {
                    fs::create_dir_all(&item.to)
                        .map_err(|e| ActionError::io("create the folder", &item.to, &e))?;
                    written.folders += 1;
                }
                Content::File {
                    source,
                    render: wanted,
                } => {
                    let bytes =
                        fs::read(source).map_err(|e| ActionError::io("read", source, &e))?;
                    let text = if *wanted { text_of(&bytes) } else { None };
                    let rendered = text.map(|text| render(item, text)).transpose()?;
                    prepare(&item.to)?;
                    let data = rendered.as_deref().map_or(&bytes[..], str::as_bytes);
                    fs::write(&item.to, data)
                        .map_err(|e| ActionError::io("write", &item.to, &e))?;
                    if rendered.is_some() {
                        written.rendered += 1;
                    } else {
                        written.copied += 1;
                    }
                }
                Content::Link { target } => {
                    prepare(&item.to)?;
                    platform::symlink(target, &item.to)
                        .map_err(|e| ActionError::io("create the link", &item.to, &e))?;
                    written.links += 1;
                }
            }
        }
        Ok(written)
    }
}

impl Plan {
    /// Gives each copied file the executable bit its source has (WASI can
    /// neither read nor set it: the host does both). `fetched` is the
    /// template folder or file, or the download, the plan copies from.
    pub fn restore_executables(&self, ctx: &Context, fetched: &Source) -> Result<usize> {
        if let Some((root, executables)) = fetched.executables() {
            return self.mark_executables(ctx, root, executables);
        }
        let fetched = fetched.path.as_path();
        let Some(template) = ctx.template else {
            return Ok(0);
        };
        let has_files = self
            .items
            .iter()
            .any(|i| matches!(i.content, Content::File { .. }));
        if !has_files {
            return Ok(0);
        }
        let folder = if fetched.is_dir() {
            fetched
        } else {
            fetched.parent().unwrap_or(template)
        };
        let folder = folder.strip_prefix(template).unwrap_or(Path::new(""));
        let executables = ctx
            .host
            .template_executables(&folder.to_string_lossy())
            .map_err(|e| ActionError::new(code::IO, format!("cannot read file modes: {e}")))?;
        let executables: Vec<PathBuf> = executables.into_iter().map(PathBuf::from).collect();
        self.mark_executables(ctx, template, &executables)
    }

    /// Sets the executable bit of each file copied from one of
    /// `executables` (paths relative to `root`).
    fn mark_executables(
        &self,
        ctx: &Context,
        root: &Path,
        executables: &[PathBuf],
    ) -> Result<usize> {
        if executables.is_empty() {
            return Ok(0);
        }
        let mut marked = 0;
        for item in &self.items {
            let Content::File { source, .. } = &item.content else {
                continue;
            };
            let from = source.strip_prefix(root).unwrap_or(source);
            if !executables.iter().any(|e| e == from) {
                continue;
            }
            let to = item.to.strip_prefix(ctx.workspace).unwrap_or(&item.to);
            ctx.host
                .set_executable(&to.to_string_lossy(), true)
                .map_err(|e| {
                    ActionError::new(
                        code::IO,
                        format!("cannot make `{}` executable: {e}", to.display()),
                    )
                })?;
            marked += 1;
        }
        Ok(marked)
    }
}

/// Writes one file of the workspace (not from the template): replacing a
/// file or link there, never writing through a link, refusing a folder.
pub fn write_file(ctx: &Context, to: &Path, data: &[u8]) -> Result<()> {
    if Kind::of(to)? == Some(Kind::Dir) {
        return Err(ActionError::new(
            code::EXISTS,
            format!(
                "`{}` is a folder in the workspace",
                display_relative(ctx.workspace, to)
            ),
        ));
    }
    prepare(to)?;
    fs::write(to, data).map_err(|e| ActionError::io("write", to, &e))
}

/// Makes way for a file or link at `to`: its folder exists, and a file or
/// link already there (checked against `replace` by `check`) is removed, so
/// that a link is replaced rather than written through.
fn prepare(to: &Path) -> Result<()> {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent).map_err(|e| ActionError::io("create the folder", parent, &e))?;
    }
    if let Some(Kind::File | Kind::Symlink) = Kind::of(to)? {
        fs::remove_file(to).map_err(|e| ActionError::io("replace", to, &e))?;
    }
    Ok(())
}

/// A file's contents as text, if it is text: not empty, no NUL byte in its
/// first 8,000 bytes (git's test for binary), valid UTF-8.
pub fn text_of(bytes: &[u8]) -> Option<&str> {
    if bytes.is_empty() || bytes[..bytes.len().min(8000)].contains(&0) {
        return None;
    }
    std::str::from_utf8(bytes).ok()
}

/// The link at `source` as a planned link, if it may be copied: its target
/// is relative and, read from the link's own folder, stays inside the tree
/// being fetched (`relative` is the link's path in that tree). `None`, with
/// a warning logged, otherwise.
pub fn link_content(
    ctx: &Context,
    source: &Path,
    from: &str,
    relative: &str,
) -> Result<Option<Content>> {
    let target = fs::read_link(source).map_err(|e| ActionError::io("read the link", source, &e))?;
    let Some(text) = target.to_str() else {
        ctx.warn(format!(
            "skipped the link `{from}`: its target is not UTF-8"
        ));
        return Ok(None);
    };
    // Where the target is, relative to the fetched folder: lexically, as
    // everywhere (see `paths`).
    let stays = match relative.rsplit_once('/') {
        _ if text.is_empty() || text.starts_with('/') => false,
        Some((folder, _)) => paths::normalize(&format!("{folder}/{text}")).is_ok(),
        None => paths::normalize(text).is_ok(),
    };
    if !stays {
        ctx.warn(format!(
            "skipped the link `{from}`: its target `{text}` is outside the fetched folder"
        ));
        return Ok(None);
    }
    Ok(Some(Content::Link { target }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    fn file(from: &str, source: &Path, to: PathBuf, render: bool) -> Item {
        Item {
            from: from.to_owned(),
            to,
            content: Content::File {
                source: source.to_path_buf(),
                render,
            },
        }
    }

    #[test]
    fn text_is_what_is_not_empty_has_no_nul_and_is_utf8() {
        assert_eq!(text_of(b"hello"), Some("hello"));
        assert_eq!(text_of(b""), None);
        assert_eq!(text_of(b"PNG\0data"), None);
        assert_eq!(text_of(&[0xff, 0xfe, b'a']), None);
        let mut late_nul = vec![b'a'; 9000];
        late_nul[8500] = 0;
        assert!(
            text_of(&late_nul).is_some(),
            "only the first 8000 bytes are looked at"
        );
    }

    #[test]
    fn an_existing_file_is_an_error_unless_overwriting() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        Dirs::write(&dirs.template, &[("s/a.txt", "new")]);
        Dirs::write(&dirs.workspace, &[("a.txt", "old")]);
        let item = file(
            "s/a.txt",
            &dirs.template.join("s/a.txt"),
            dirs.workspace.join("a.txt"),
            false,
        );

        let mut plan = Plan::new(false);
        plan.push(item.clone());
        let e = plan.check(&ctx).unwrap_err();
        assert_eq!(e.code, "exists");
        assert_eq!(
            e.message,
            "`a.txt` already exists in the workspace (set `replace: true` to overwrite it)"
        );

        let mut plan = Plan::new(true);
        plan.push(item);
        plan.check(&ctx).unwrap();
        plan.apply(&mut |_, text| Ok(text.to_owned())).unwrap();
        assert_eq!(dirs.read("a.txt"), "new");
    }

    #[test]
    fn files_and_folders_do_not_replace_each_other() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        Dirs::write(&dirs.template, &[("s/x", "x")]);
        Dirs::write(&dirs.workspace, &[("dir/inner", ""), ("file", "")]);
        let mut plan = Plan::new(true);
        plan.push(file(
            "s/x",
            &dirs.template.join("s/x"),
            dirs.workspace.join("dir"),
            false,
        ));
        let e = plan.check(&ctx).unwrap_err();
        assert_eq!(e.code, "exists");
        assert!(
            e.message.starts_with("`dir` is a folder in the workspace"),
            "{}",
            e.message
        );

        let mut plan = Plan::new(true);
        plan.push(Item {
            from: "s/folder".into(),
            to: dirs.workspace.join("file"),
            content: Content::Dir,
        });
        let e = plan.check(&ctx).unwrap_err();
        assert!(
            e.message
                .starts_with("`file` exists in the workspace and is not a folder")
        );
    }

    #[test]
    fn two_entries_to_one_place_are_refused() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        let source = dirs.template.join("x");
        let mut plan = Plan::new(true);
        plan.push(file("s/a", &source, dirs.workspace.join("same"), true));
        plan.push(file("s/b", &source, dirs.workspace.join("same"), true));
        let e = plan.check(&ctx).unwrap_err();
        assert_eq!(e.message, "`s/a` and `s/b` would both be written to `same`");
    }

    #[test]
    fn an_existing_link_is_replaced_not_written_through() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        Dirs::write(&dirs.template, &[("s/a", "new")]);
        Dirs::write(&dirs.workspace, &[("real", "keep")]);
        std::os::unix::fs::symlink("real", dirs.workspace.join("a")).unwrap();
        let mut plan = Plan::new(true);
        plan.push(file(
            "s/a",
            &dirs.template.join("s/a"),
            dirs.workspace.join("a"),
            false,
        ));
        plan.check(&ctx).unwrap();
        plan.apply(&mut |_, t| Ok(t.to_owned())).unwrap();
        assert_eq!(dirs.read("real"), "keep");
        assert_eq!(dirs.read("a"), "new");
        assert!(
            !dirs
                .workspace
                .join("a")
                .symlink_metadata()
                .unwrap()
                .is_symlink()
        );
    }

    #[test]
    fn only_links_that_stay_inside_the_fetched_folder_are_kept() {
        let dirs = Dirs::new();
        let ctx = dirs.context();
        let s = dirs.template.join("s");
        Dirs::write(&s, &[("docs/index.md", "")]);
        let link = |name: &str, target: &str| {
            std::os::unix::fs::symlink(target, s.join(name)).unwrap();
            link_content(&ctx, &s.join(name), &format!("s/{name}"), name).unwrap()
        };
        assert_eq!(
            link("readme", "docs/index.md"),
            Some(Content::Link {
                target: "docs/index.md".into()
            })
        );
        assert_eq!(link("up", "../outside"), None);
        assert_eq!(link("abs", "/etc/passwd"), None);
        std::os::unix::fs::symlink("../index.md", s.join("docs/back")).unwrap();
        assert!(
            link_content(&ctx, &s.join("docs/back"), "s/docs/back", "docs/back")
                .unwrap()
                .is_some()
        );
        let log = dirs.lines.text();
        assert!(
            log.contains(
                "skipped the link `s/up`: its target `../outside` is outside the fetched folder"
            ),
            "{log}"
        );
        assert!(log.contains("skipped the link `s/abs`"), "{log}");
    }
}
