//! `fetch:template` and `fetch:template:file`: copy a skeleton into the
//! workspace, rendering its file and folder names and its text files with
//! `values`, in the same `${{ }}` language the host renders step inputs with
//! (`portal-template-expr`: Nunjucks-compatible, data only, bounded).
//!
//! As in Backstage: the context is `{ values }` (also `{ cookiecutter }` with
//! `cookiecutterCompat`, whose `{{ }}` syntax it switches to); binary files
//! (a NUL byte in the first 8,000 bytes, or not UTF-8) and empty files are
//! copied byte for byte; `copyWithoutTemplating` globs copy matching files
//! without rendering their contents (their names are still rendered), the
//! legacy `copyWithoutRender` renders neither; `templateFileExtension`
//! renders only files with that extension and strips it; a name that renders
//! to nothing skips its file or folder (how templates include one only
//! `{% if %}` something holds).
//!
//! Unlike Backstage, which skips files that exist unless `replace` is set,
//! an existing file is an error naming it unless `replace` is set, and the
//! whole skeleton is checked before anything is written.

use crate::context::Context;
use crate::copy::{self, Content, Item, Plan};
use crate::error::{ActionError, Result, code};
use crate::fetch;
use crate::globs::Globs;
use crate::input::{Input, mistyped};
use crate::paths::{self, Refusal};
use crate::source::Source;
use crate::walk::{self, Kind};
use portal_template_expr::{RenderError, Scope, Syntax, Templater};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;

/// The options both actions share, and the rendering they make.
struct Rendering {
    templater: Templater,
    /// Converted once for every file and name of the skeleton.
    context: Scope,
}

impl Rendering {
    fn from_input(input: &Input) -> Result<Rendering> {
        let cookiecutter = input.flag("cookiecutterCompat")?;
        let syntax = Syntax {
            cookiecutter,
            trim_blocks: input.flag("trimBlocks")?,
            lstrip_blocks: input.flag("lstripBlocks")?,
        };
        let values = input.get("values").cloned().unwrap_or_else(|| json!({}));
        let mut context = json!({ "values": values });
        if cookiecutter {
            context["cookiecutter"] = context["values"].clone();
        }
        Ok(Rendering {
            templater: Templater::new(syntax),
            context: Scope::from_json(&context),
        })
    }

    /// A skeleton file's contents; errors name the file and the line.
    fn contents(&self, from: &str, text: &str) -> Result<String> {
        self.templater
            .render_text(text, &self.context, from)
            .map_err(|e| render_error(&format!("cannot render `{from}`"), &e))
    }

    /// A file or folder name, if it holds anything to render.
    fn name(&self, from: &str, name: &str) -> Result<String> {
        if !(name.contains("{{") || name.contains("{%") || name.contains("{#")) {
            return Ok(name.to_owned());
        }
        self.templater
            .render_text(name, &self.context, from)
            .map_err(|e| render_error(&format!("cannot render the name of `{from}`"), &e))
    }
}

fn render_error(what: &str, e: &RenderError) -> ActionError {
    ActionError::new(
        code::RENDER_ERROR,
        format!("{what}: {}", with_line(&e.message)),
    )
}

/// The templater names the line of an error only past the first (for a
/// step's one-line input the line says nothing); in a file it always helps.
fn with_line(message: &str) -> String {
    let unplaced = message.contains("ran too long") || message.starts_with("renders to");
    if message.contains("(line ") || unplaced {
        message.to_owned()
    } else {
        format!("{message} (line 1)")
    }
}

pub fn template_schema() -> Value {
    json!({
        "type": "object",
        "required": ["url"],
        "properties": {
            "url": {
                "title": "Fetch URL",
                "description": "Path of the skeleton folder, relative to the template's own directory, such as `./skeleton`. Or a remote one: a GitHub folder URL (`https://github.com/acme/templates/tree/main/skeleton`) or a `.tar.gz` URL, on a host the plugin is granted.",
                "type": "string"
            },
            "targetPath": {
                "title": "Target Path",
                "description": "Where in the workspace to put the rendered skeleton. Defaults to the workspace itself (`./`).",
                "type": "string"
            },
            "values": {
                "title": "Template Values",
                "description": "Values the skeleton's `${{ values.x }}` expressions see.",
                "type": "object"
            },
            "copyWithoutTemplating": {
                "title": "Copy Without Templating",
                "description": "Globs (relative to the skeleton) of files copied without rendering their contents; their names are still rendered.",
                "type": "array",
                "items": { "type": "string" }
            },
            "copyWithoutRender": {
                "title": "[Deprecated] Copy Without Render",
                "description": "Globs of files copied without rendering their contents or their names. Use `copyWithoutTemplating`.",
                "type": "array",
                "items": { "type": "string" }
            },
            "cookiecutterCompat": {
                "title": "Cookiecutter compatibility mode",
                "description": "Render `{{ cookiecutter.x }}` as well as `values`, as cookiecutter templates are written.",
                "type": "boolean"
            },
            "templateFileExtension": {
                "title": "Template File Extension",
                "description": "Render only files with this extension (`true` means `.njk`) and strip it; copy every other file as it is. Names are always rendered.",
                "type": ["string", "boolean"]
            },
            "replace": {
                "title": "Replace files",
                "description": "Overwrite files that already exist in the workspace. Otherwise an existing file is an error.",
                "type": "boolean"
            },
            "trimBlocks": {
                "title": "Trim Blocks",
                "description": "Remove the first newline after a block tag (`{% %}`).",
                "type": "boolean"
            },
            "lstripBlocks": {
                "title": "Lstrip Blocks",
                "description": "Strip spaces and tabs from the start of a line up to a block tag.",
                "type": "boolean"
            }
        }
    })
}

pub fn template_file_schema() -> Value {
    json!({
        "type": "object",
        "required": ["url", "targetPath"],
        "properties": {
            "url": {
                "title": "Fetch URL",
                "description": "Path of the file to render, relative to the template's own directory. Or a remote one: a GitHub folder URL (`https://github.com/acme/templates/tree/main/skeleton`) or a `.tar.gz` URL, on a host the plugin is granted.",
                "type": "string"
            },
            "targetPath": {
                "title": "Target Path",
                "description": "Path in the workspace to write the rendered file as.",
                "type": "string"
            },
            "values": {
                "title": "Template Values",
                "description": "Values the file's `${{ values.x }}` expressions see.",
                "type": "object"
            },
            "cookiecutterCompat": {
                "title": "Cookiecutter compatibility mode",
                "description": "Render `{{ cookiecutter.x }}` as well as `values`.",
                "type": "boolean"
            },
            "replace": {
                "title": "Replace file",
                "description": "Overwrite the file if it already exists in the workspace. Otherwise an existing file is an error.",
                "type": "boolean"
            },
            "trimBlocks": {
                "title": "Trim Blocks",
                "description": "Remove the first newline after a block tag (`{% %}`).",
                "type": "boolean"
            },
            "lstripBlocks": {
                "title": "Lstrip Blocks",
                "description": "Strip spaces and tabs from the start of a line up to a block tag.",
                "type": "boolean"
            }
        }
    })
}

/// Which files are rendered and which names.
enum Selection {
    /// Every file and name, except files the globs match; `render_names`
    /// says whether those files' names are rendered (`copyWithoutTemplating`)
    /// or not (`copyWithoutRender`).
    Globs {
        globs: Option<Globs>,
        render_names: bool,
    },
    /// Only files with this extension, which is stripped; every name.
    Extension(String),
}

impl Selection {
    fn from_input(ctx: &Context, input: &Input) -> Result<Selection> {
        let without_render = input.opt_strings("copyWithoutRender")?;
        let without_templating = input.opt_strings("copyWithoutTemplating")?;
        if without_render.is_some() && without_templating.is_some() {
            return Err(ActionError::invalid(
                "inputs `copyWithoutRender` and `copyWithoutTemplating` cannot be used together",
            ));
        }
        let extension = match input.get("templateFileExtension") {
            None | Some(Value::Bool(false)) => None,
            Some(Value::Bool(true)) => Some(".njk".to_owned()),
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::String(s)) if s.starts_with('.') => Some(s.clone()),
            Some(Value::String(s)) => Some(format!(".{s}")),
            Some(other) => {
                return Err(mistyped(
                    "templateFileExtension",
                    "a string or a boolean",
                    other,
                ));
            }
        };
        if let Some(extension) = extension {
            if without_render.is_some()
                || without_templating.is_some()
                || input.flag("cookiecutterCompat")?
            {
                return Err(ActionError::invalid(
                    "input `templateFileExtension` cannot be used with `copyWithoutRender`, `copyWithoutTemplating` or `cookiecutterCompat`",
                ));
            }
            return Ok(Selection::Extension(extension));
        }
        Ok(match (without_render, without_templating) {
            (Some(patterns), _) => {
                ctx.warn("`copyWithoutRender` is deprecated: use `copyWithoutTemplating`");
                Selection::Globs {
                    globs: Some(Globs::new("copyWithoutRender", &patterns)?),
                    render_names: false,
                }
            }
            (None, Some(patterns)) => Selection::Globs {
                globs: Some(Globs::new("copyWithoutTemplating", &patterns)?),
                render_names: true,
            },
            (None, None) => Selection::Globs {
                globs: None,
                render_names: true,
            },
        })
    }

    /// For one entry: (render its contents, render its name, its name).
    fn decide<'a>(&self, relative: &str, name: &'a str, is_file: bool) -> (bool, bool, &'a str) {
        match self {
            Selection::Extension(extension) => match name.strip_suffix(extension.as_str()) {
                Some(stem) if is_file && !stem.is_empty() => (true, true, stem),
                _ => (false, true, name),
            },
            Selection::Globs {
                globs,
                render_names,
            } => {
                let copied = globs.as_ref().is_some_and(|g| g.is_match(relative));
                (!copied, !copied || *render_names, name)
            }
        }
    }
}

/// `fetch:template`.
pub fn template(ctx: &Context, input: &Input) -> Result<Value> {
    let url = input.string("url")?;
    let fetched = Source::open(ctx, "url", url)?;
    let source = fetched.path.clone();
    let target_path = input.opt_string("targetPath")?.unwrap_or("./");
    let target = paths::workspace_path(ctx, "targetPath", target_path)?;
    fetched.check_target("targetPath", &target)?;
    let selection = Selection::from_input(ctx, input)?;
    let rendering = Rendering::from_input(input)?;
    let replace = input.flag("replace")?;
    if fetch::source_kind(&source, url)? != Kind::Dir {
        return Err(ActionError::invalid(format!(
            "input `url` (`{url}`) is a file; fetch:template renders a folder (use fetch:template:file for one file)"
        )));
    }
    let entries = walk::walk(&source, walk::SKELETON, &format!("the skeleton `{url}`"))?;

    let mut plan = Plan::new(replace);
    plan.push(Item {
        from: url.to_owned(),
        to: target.clone(),
        content: Content::Dir,
    });
    // Where each skeleton folder went, relative to the target; `None` if its
    // name rendered to nothing and it is skipped with all it holds.
    let mut folders: HashMap<&str, Option<PathBuf>> = HashMap::new();
    let mut skipped = 0usize;
    for entry in &entries {
        let from = paths::child_name(url, &entry.relative);
        let (parent, name) = entry
            .relative
            .rsplit_once('/')
            .unwrap_or(("", &entry.relative));
        let parent_out = if parent.is_empty() {
            Some(PathBuf::new())
        } else {
            folders.get(parent).cloned().flatten()
        };
        let (render_contents, render_name, name) =
            selection.decide(&entry.relative, name, entry.kind == Kind::File);
        let out = match parent_out {
            // Its folder is skipped, and it with it.
            None => None,
            Some(parent_out) => {
                let out = output_path(&rendering, &from, parent_out, name, render_name)?;
                skipped += usize::from(out.is_none());
                out
            }
        };
        let Some(out) = out else {
            if entry.kind == Kind::Dir {
                folders.insert(&entry.relative, None);
            }
            continue;
        };
        let path = walk::join(&source, &entry.relative);
        let content = match entry.kind {
            Kind::Dir => {
                folders.insert(&entry.relative, Some(out.clone()));
                Content::Dir
            }
            Kind::File => Content::File {
                source: path,
                render: render_contents,
            },
            Kind::Symlink => match copy::link_content(ctx, &path, &from, &entry.relative)? {
                Some(link) => link,
                None => continue,
            },
            Kind::Other => {
                ctx.warn(format!("skipped `{from}`: not a file, folder or link"));
                continue;
            }
        };
        plan.push(Item {
            from,
            to: target.join(out),
            content,
        });
    }
    plan.check(ctx)?;
    let written = plan.apply(&mut |item, text| rendering.contents(&item.from, text))?;
    plan.restore_executables(ctx, &fetched)?;
    ctx.info(format!(
        "rendered `{url}` into `{}`: {} files rendered, {} copied as they are, {} folders, {} links{}",
        paths::display_relative(ctx.workspace, &target),
        written.rendered,
        written.copied,
        written.folders,
        written.links,
        if skipped > 0 {
            format!(", {skipped} skipped (their names rendered to nothing)")
        } else {
            String::new()
        }
    ));
    Ok(json!({}))
}

/// Where an entry goes, relative to the target: its folder's place joined
/// with its (rendered) name; `None` when the name renders to nothing.
fn output_path(
    rendering: &Rendering,
    from: &str,
    parent_out: PathBuf,
    name: &str,
    render_name: bool,
) -> Result<Option<PathBuf>> {
    let rendered = if render_name {
        rendering.name(from, name)?
    } else {
        name.to_owned()
    };
    match paths::rendered_parts(&rendered) {
        Ok(Some(parts)) => {
            let mut out = parent_out;
            out.extend(parts);
            Ok(Some(out))
        }
        Ok(None) => Ok(None),
        Err(refusal) => {
            let why = match refusal {
                Refusal::Absolute => "an absolute path",
                Refusal::Escapes => "a path with `..`",
            };
            Err(ActionError::new(
                code::PATH_ESCAPE,
                format!(
                    "the name of `{from}` renders to `{rendered}`, {why}; names must stay inside the target folder"
                ),
            ))
        }
    }
}

/// `fetch:template:file`.
pub fn template_file(ctx: &Context, input: &Input) -> Result<Value> {
    let url = input.string("url")?;
    let fetched = Source::open(ctx, "url", url)?;
    let source = fetched.path.clone();
    let target_path = input.string("targetPath")?;
    let to = fetch::file_target(ctx, "targetPath", target_path)?;
    fetched.check_target("targetPath", &to)?;
    let rendering = Rendering::from_input(input)?;
    if fetch::source_kind(&source, url)? == Kind::Dir {
        return Err(ActionError::invalid(format!(
            "input `url` (`{url}`) is a folder; fetch:template:file renders one file (use fetch:template for a folder)"
        )));
    }
    fetch::check_file_size(&source, url)?;
    let mut plan = Plan::new(input.flag("replace")?);
    plan.push(Item {
        from: url.to_owned(),
        to,
        content: Content::File {
            source: source.clone(),
            render: true,
        },
    });
    plan.check(ctx)?;
    plan.apply(&mut |item, text| rendering.contents(&item.from, text))?;
    plan.restore_executables(ctx, &fetched)?;
    ctx.info(format!("rendered `{url}` as `{target_path}`"));
    Ok(json!({}))
}

#[cfg(test)]
mod tests;
