//! `fetch:plain` and `fetch:plain:file`: copy files of the template into the
//! workspace as they are. Like Backstage's (which copy with `fs.copy`), they
//! overwrite files that exist.

use crate::context::Context;
use crate::copy::{self, Content, Item, Plan};
use crate::error::{ActionError, Result};
use crate::input::Input;
use crate::paths;
use crate::source::Source;
use crate::walk::{self, Kind};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

pub fn plain_schema() -> Value {
    json!({
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "title": "Fetch URL",
                "description": "Path of the folder (or file) to copy, relative to the template's own directory, such as `./skeleton`. Or a remote one: a GitHub folder URL (`https://github.com/acme/templates/tree/main/skeleton`) or a `.tar.gz` URL, on a host the plugin is granted.",
                "type": "string"
            },
            "targetPath": {
                "title": "Target Path",
                "description": "Where in the workspace to put the contents. Defaults to the workspace itself (`./`).",
                "type": "string"
            }
        }
    })
}

pub fn plain_file_schema() -> Value {
    json!({
        "type": "object",
        "required": ["url", "targetPath"],
        "properties": {
            "url": {
                "title": "Fetch URL",
                "description": "Path of the file to copy, relative to the template's own directory. Or a remote one: a GitHub folder URL (`https://github.com/acme/templates/tree/main/skeleton`) or a `.tar.gz` URL, on a host the plugin is granted.",
                "type": "string"
            },
            "targetPath": {
                "title": "Target Path",
                "description": "Path in the workspace to write the file as.",
                "type": "string"
            }
        }
    })
}

/// `fetch:plain`: a folder's contents into `targetPath`, or one file into it.
pub fn plain(ctx: &Context, input: &Input) -> Result<Value> {
    let url = input.string("url")?;
    let fetched = Source::open(ctx, "url", url)?;
    let source = fetched.path.clone();
    let target_path = input.opt_string("targetPath")?.unwrap_or("./");
    let target = paths::workspace_path(ctx, "targetPath", target_path)?;
    fetched.check_target("targetPath", &target)?;
    let shown = paths::display_relative(ctx.workspace, &target);
    let mut plan = Plan::new(true);
    match source_kind(&source, url)? {
        Kind::Dir => {
            plan.push(Item {
                from: url.to_owned(),
                to: target.clone(),
                content: Content::Dir,
            });
            for entry in walk::walk(&source, walk::SKELETON, &format!("the folder `{url}`"))? {
                let from = paths::child_name(url, &entry.relative);
                let path = walk::join(&source, &entry.relative);
                let content = match entry.kind {
                    Kind::Dir => Content::Dir,
                    Kind::File => Content::File {
                        source: path,
                        render: false,
                    },
                    Kind::Symlink => {
                        match copy::link_content(ctx, &path, &from, &entry.relative)? {
                            Some(link) => link,
                            None => continue,
                        }
                    }
                    Kind::Other => {
                        ctx.warn(format!("skipped `{from}`: not a file, folder or link"));
                        continue;
                    }
                };
                plan.push(Item {
                    from,
                    to: target.join(&entry.relative),
                    content,
                });
            }
        }
        _ => {
            check_file_size(&source, url)?;
            // Into the folder `targetPath` names (the workspace by default),
            // under its own name; otherwise as `targetPath` itself.
            let into_folder = target == ctx.workspace
                || target_path.ends_with('/')
                || Kind::of(&target)? == Some(Kind::Dir);
            let to = if into_folder {
                target.join(source.file_name().unwrap_or_default())
            } else {
                target
            };
            plan.push(file_item(url, source.clone(), to));
        }
    }
    plan.check(ctx)?;
    let written = plan.apply(&mut |_, text| Ok(text.to_owned()))?;
    plan.restore_executables(ctx, &fetched)?;
    ctx.info(format!(
        "fetched `{url}` into `{shown}`: {} files, {} folders, {} links",
        written.copied, written.folders, written.links
    ));
    Ok(json!({}))
}

/// `fetch:plain:file`: one file, written as `targetPath`.
pub fn plain_file(ctx: &Context, input: &Input) -> Result<Value> {
    let url = input.string("url")?;
    let fetched = Source::open(ctx, "url", url)?;
    let source = fetched.path.clone();
    let target_path = input.string("targetPath")?;
    let to = file_target(ctx, "targetPath", target_path)?;
    fetched.check_target("targetPath", &to)?;
    if source_kind(&source, url)? == Kind::Dir {
        return Err(ActionError::invalid(format!(
            "input `url` (`{url}`) is a folder; fetch:plain:file copies one file (use fetch:plain for a folder)"
        )));
    }
    check_file_size(&source, url)?;
    let mut plan = Plan::new(true);
    plan.push(file_item(url, source.clone(), to));
    plan.check(ctx)?;
    plan.apply(&mut |_, text| Ok(text.to_owned()))?;
    plan.restore_executables(ctx, &fetched)?;
    ctx.info(format!("fetched `{url}` as `{target_path}`"));
    Ok(json!({}))
}

fn file_item(url: &str, source: PathBuf, to: PathBuf) -> Item {
    Item {
        from: url.to_owned(),
        to,
        content: Content::File {
            source,
            render: false,
        },
    }
}

/// A workspace path naming a file (`input` names the field): not the
/// workspace itself.
pub fn file_target(ctx: &Context, input: &str, value: &str) -> Result<PathBuf> {
    let relative = paths::workspace_relative(input, value)?;
    if relative.as_os_str().is_empty() {
        return Err(ActionError::invalid(format!(
            "input `{input}` (`{value}`) must name a file in the workspace"
        )));
    }
    Ok(ctx.workspace.join(relative))
}

/// What `url` names: a folder or a file. Not a link: one named directly is
/// refused rather than followed.
pub fn source_kind(source: &Path, url: &str) -> Result<Kind> {
    match Kind::of(source)? {
        None => Err(ActionError::new(
            crate::error::code::NOT_FOUND,
            format!(
                "input `url` (`{url}`): no such file or folder in the template's directory (or the download)"
            ),
        )),
        Some(Kind::Symlink) => Err(ActionError::invalid(format!(
            "input `url` (`{url}`) is a symbolic link; name the file or folder it points to"
        ))),
        Some(Kind::Other) => Err(ActionError::invalid(format!(
            "input `url` (`{url}`) is not a file or folder"
        ))),
        Some(kind) => Ok(kind),
    }
}

/// One file is held by the same bound as a whole skeleton.
pub fn check_file_size(source: &Path, url: &str) -> Result<()> {
    let len = std::fs::metadata(source)
        .map_err(|e| ActionError::io("inspect", source, &e))?
        .len();
    if len > walk::SKELETON.max_bytes {
        return Err(ActionError::new(
            crate::error::code::TOO_LARGE,
            format!(
                "input `url` (`{url}`) is over {} MiB",
                walk::SKELETON.max_bytes >> 20
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::testing::Dirs;

    fn input(json: Value) -> Input {
        Input::parse(&json.to_string()).unwrap()
    }

    #[test]
    fn the_executable_bit_is_kept_and_only_where_it_was() {
        use std::os::unix::fs::PermissionsExt;
        let dirs = Dirs::new();
        Dirs::write(
            &dirs.template,
            &[
                ("skeleton/run.sh", "#!/bin/sh\n"),
                ("skeleton/README.md", "x"),
            ],
        );
        let script = dirs.template.join("skeleton/run.sh");
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        plain(&dirs.context(), &input(json!({"url": "./skeleton"}))).unwrap();
        let mode = |p: &str| {
            std::fs::metadata(dirs.workspace.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o111
        };
        assert_ne!(mode("run.sh"), 0);
        assert_eq!(mode("README.md"), 0);
        crate::actions::run(
            &dirs.context(),
            "fetch:template",
            r#"{"url": "./skeleton", "targetPath": "rendered"}"#,
        )
        .unwrap();
        assert_ne!(mode("rendered/run.sh"), 0);
        assert_eq!(mode("rendered/README.md"), 0);
    }

    #[test]
    fn fetch_plain_copies_a_folder_as_it_is() {
        let dirs = Dirs::new();
        Dirs::write(
            &dirs.template,
            &[
                ("skeleton/README.md", "# ${{ values.name }}"),
                ("skeleton/src/main.rs", "fn main() {}"),
                ("skeleton/.gitignore", "target"),
            ],
        );
        std::fs::create_dir(dirs.template.join("skeleton/empty")).unwrap();
        Dirs::write(&dirs.workspace, &[("README.md", "old")]);
        plain(&dirs.context(), &input(json!({"url": "./skeleton"}))).unwrap();
        assert_eq!(
            dirs.read("README.md"),
            "# ${{ values.name }}",
            "copied, not rendered, replaced"
        );
        assert_eq!(dirs.read("src/main.rs"), "fn main() {}");
        assert_eq!(dirs.read(".gitignore"), "target");
        assert!(dirs.workspace.join("empty").is_dir());

        plain(
            &dirs.context(),
            &input(json!({"url": "skeleton/", "targetPath": "sub/dir"})),
        )
        .unwrap();
        assert_eq!(dirs.read("sub/dir/src/main.rs"), "fn main() {}");
        assert!(
            dirs.lines
                .text()
                .contains("fetched `skeleton/` into `sub/dir`: 3 files, 3 folders, 0 links"),
            "{}",
            dirs.lines.text()
        );
    }

    #[test]
    fn fetch_plain_copies_one_file_into_the_target_folder() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.template, &[("files/LICENSE", "MIT")]);
        plain(&dirs.context(), &input(json!({"url": "./files/LICENSE"}))).unwrap();
        assert_eq!(dirs.read("LICENSE"), "MIT");
        plain(
            &dirs.context(),
            &input(json!({"url": "./files/LICENSE", "targetPath": "legal/"})),
        )
        .unwrap();
        assert_eq!(dirs.read("legal/LICENSE"), "MIT");
        plain(
            &dirs.context(),
            &input(json!({"url": "./files/LICENSE", "targetPath": "COPYING"})),
        )
        .unwrap();
        assert_eq!(dirs.read("COPYING"), "MIT");
    }

    #[test]
    fn fetch_plain_refuses_escapes_and_missing_sources() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.template, &[("skeleton/a", "a")]);
        let ctx = dirs.context();
        let e = plain(&ctx, &input(json!({"url": "../x"}))).unwrap_err();
        assert_eq!(e.code, "path-escape");
        let e = plain(
            &ctx,
            &input(json!({"url": "./skeleton", "targetPath": "../../etc"})),
        )
        .unwrap_err();
        assert_eq!(e.code, "path-escape");
        assert!(e.message.contains("`targetPath` (`../../etc`)"));
        let e = plain(&ctx, &input(json!({"url": "/etc"}))).unwrap_err();
        assert_eq!(e.code, "path-escape");
        let e = plain(&ctx, &input(json!({"url": "./nope"}))).unwrap_err();
        assert_eq!(e.code, "not-found");
        assert!(e.message.contains("`./nope`"));
        let e = plain(&ctx, &input(json!({"url": "https://github.com/a/b"}))).unwrap_err();
        assert_eq!(e.code, "unsupported");
        let e = plain(
            &dirs.without_template(),
            &input(json!({"url": "./skeleton"})),
        )
        .unwrap_err();
        assert!(e.message.contains("this template has no files"));
        let e = plain(&ctx, &input(json!({}))).unwrap_err();
        assert_eq!(e.message, "input `url` is required");
        assert!(!dirs.outside().join("etc").exists());
    }

    #[test]
    fn fetch_plain_copies_links_that_stay_inside_and_skips_the_others() {
        let dirs = Dirs::new();
        let s = dirs.template.join("skeleton");
        Dirs::write(&s, &[("docs/index.md", "docs")]);
        std::os::unix::fs::symlink("docs/index.md", s.join("README.md")).unwrap();
        std::os::unix::fs::symlink("../../secret", s.join("escape")).unwrap();
        plain(&dirs.context(), &input(json!({"url": "skeleton"}))).unwrap();
        let link = dirs.workspace.join("README.md");
        assert!(link.symlink_metadata().unwrap().is_symlink());
        assert_eq!(dirs.read("README.md"), "docs");
        assert!(!dirs.exists("escape"));
        assert!(
            dirs.lines
                .text()
                .contains("skipped the link `skeleton/escape`")
        );
    }

    #[test]
    fn a_link_named_by_url_is_refused() {
        let dirs = Dirs::new();
        std::os::unix::fs::symlink("/etc", dirs.template.join("skeleton")).unwrap();
        let e = plain(&dirs.context(), &input(json!({"url": "skeleton"}))).unwrap_err();
        assert_eq!(e.code, "invalid-input");
        assert!(e.message.contains("is a symbolic link"));
    }

    #[test]
    fn fetch_plain_refuses_a_skeleton_over_its_limits() {
        let dirs = Dirs::new();
        let s = dirs.template.join("skeleton");
        std::fs::create_dir(&s).unwrap();
        for i in 0..10_001 {
            std::fs::write(s.join(i.to_string()), "").unwrap();
        }
        let e = plain(&dirs.context(), &input(json!({"url": "skeleton"}))).unwrap_err();
        assert_eq!(e.code, "too-large");
        assert_eq!(
            e.message,
            "the folder `skeleton` holds more than 10000 files and folders"
        );
        assert_eq!(
            std::fs::read_dir(&dirs.workspace).unwrap().count(),
            0,
            "nothing written"
        );

        let big = dirs.template.join("big");
        std::fs::create_dir(&big).unwrap();
        for i in 0..3 {
            let f = std::fs::File::create(big.join(i.to_string())).unwrap();
            f.set_len(30 << 20).unwrap();
        }
        let e = plain(&dirs.context(), &input(json!({"url": "big"}))).unwrap_err();
        assert_eq!(e.message, "the folder `big` holds more than 64 MiB");
    }

    #[test]
    fn fetch_plain_file_writes_one_file_as_target_path() {
        let dirs = Dirs::new();
        Dirs::write(&dirs.template, &[("files/ci.yaml", "on: push")]);
        let ctx = dirs.context();
        plain_file(
            &ctx,
            &input(json!({"url": "./files/ci.yaml", "targetPath": ".github/workflows/ci.yaml"})),
        )
        .unwrap();
        assert_eq!(dirs.read(".github/workflows/ci.yaml"), "on: push");

        let e = plain_file(&ctx, &input(json!({"url": "./files/ci.yaml"}))).unwrap_err();
        assert_eq!(e.message, "input `targetPath` is required");
        let e = plain_file(&ctx, &input(json!({"url": "./files", "targetPath": "x"}))).unwrap_err();
        assert!(e.message.contains("is a folder"));
        let e = plain_file(
            &ctx,
            &input(json!({"url": "./files/ci.yaml", "targetPath": "./"})),
        )
        .unwrap_err();
        assert!(e.message.contains("must name a file"));
        let e = plain_file(
            &ctx,
            &input(json!({"url": "./files/ci.yaml", "targetPath": "a/../../x"})),
        )
        .unwrap_err();
        assert_eq!(e.code, "path-escape");
        let e = plain_file(
            &ctx,
            &input(json!({"url": "./files/ci.yaml", "targetPath": ".github"})),
        )
        .unwrap_err();
        assert_eq!(e.code, "exists");
    }
}
