//! Building plugins: the first-party Rust plugins and test plugins with cargo for
//! `wasm32-wasip2`, the Python examples with componentize-py, the JavaScript
//! examples with componentize-js. Output goes to `target/portal-plugins/`, one
//! `<name>.wasm` each, plus `-2.0.0` variants that the tests swap in to check
//! live replacement.

use crate::tools;
use crate::util::{cargo_command, root, run, step, target_dir};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

/// Rust plugins: (package, output file).
const RUST_PLUGINS: &[(&str, &str)] = &[
    ("portal-plugin-ownership", "ownership.wasm"),
    ("portal-plugin-ci-status", "ci-status.wasm"),
    ("portal-plugin-github-discovery", "github-discovery.wasm"),
    ("portal-plugin-incidents", "incidents.wasm"),
    ("portal-plugin-hostile", "hostile.wasm"),
    ("portal-plugin-compat", "compat.wasm"),
    ("portal-plugin-builtin-actions", "builtin-actions.wasm"),
];

/// Installed by `cargo xtask run` (ci-status and github-discovery need a GitHub
/// grant and token, so they are built but not installed).
pub const DEMO_PLUGINS: &[&str] = &[
    "ownership.wasm",
    "scorecard.wasm",
    "quick-links.wasm",
    "builtin-actions.wasm",
];

pub fn out_dir() -> PathBuf {
    target_dir().join("portal-plugins")
}

pub fn build_all() -> Result<()> {
    std::fs::create_dir_all(out_dir())?;
    build_rust()?;
    for example in examples("python")? {
        build_python(&example, "1.0.0")?;
        build_python(&example, "2.0.0")?;
    }
    for example in examples("javascript")? {
        build_javascript(&example, "1.0.0")?;
        build_javascript(&example, "2.0.0")?;
    }
    Ok(())
}

fn build_rust() -> Result<()> {
    step("building Rust plugins (wasm32-wasip2)");
    let mut args = vec!["build", "--target", "wasm32-wasip2", "--profile", "plugin"];
    for (package, _) in RUST_PLUGINS {
        args.extend(["-p", package]);
    }
    run(&mut cargo_command(&args))?;
    let built = target_dir().join("wasm32-wasip2").join("plugin");
    for (package, file) in RUST_PLUGINS {
        copy_if_changed(
            &built.join(format!("{}.wasm", package.replace('-', "_"))),
            &out_dir().join(file),
        )?;
    }
    // A second version of `compat`, for the live-replacement test.
    let variants = target_dir().join("variants");
    let mut command = cargo_command(&[
        "build",
        "--target",
        "wasm32-wasip2",
        "--profile",
        "plugin",
        "-p",
        "portal-plugin-compat",
        "--target-dir",
    ]);
    command.arg(&variants).env("COMPAT_VERSION", "2.0.0");
    run(&mut command)?;
    copy_if_changed(
        &variants
            .join("wasm32-wasip2")
            .join("plugin")
            .join("portal_plugin_compat.wasm"),
        &out_dir().join("compat-2.0.0.wasm"),
    )
}

/// The example folders of one language.
fn examples(language: &str) -> Result<Vec<PathBuf>> {
    let dir = root().join("examples").join("plugins").join(language);
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    found.sort();
    Ok(found)
}

fn output_name(example: &Path, version: &str) -> PathBuf {
    let name = example.file_name().unwrap().to_string_lossy();
    if version == "1.0.0" {
        out_dir().join(format!("{name}.wasm"))
    } else {
        out_dir().join(format!("{name}-{version}.wasm"))
    }
}

/// A copy of the example with `VERSION = "1.0.0"` set to `version`, in target/.
fn versioned_source(example: &Path, version: &str, source: &str) -> Result<PathBuf> {
    if version == "1.0.0" {
        return Ok(example.to_owned());
    }
    let name = example.file_name().unwrap().to_string_lossy();
    let copy = target_dir()
        .join("variants")
        .join(format!("{name}-{version}"));
    std::fs::create_dir_all(&copy)?;
    let text = std::fs::read_to_string(example.join(source))?;
    let replaced = text
        .replacen("\"1.0.0\"", &format!("\"{version}\""), 1)
        .replacen("'1.0.0'", &format!("'{version}'"), 1);
    if replaced == text {
        bail!(
            "{} has no VERSION = \"1.0.0\" to rewrite",
            example.join(source).display()
        );
    }
    write_if_changed(&copy.join(source), &replaced)?;
    Ok(copy)
}

fn build_python(example: &Path, version: &str) -> Result<()> {
    let out = output_name(example, version);
    if up_to_date(&out, &[example, &root().join("wit")])? {
        return Ok(());
    }
    step(&format!("building {} with componentize-py", out.display()));
    let source = versioned_source(example, version, "app.py")?;
    run(Command::new(tools::componentize_py())
        .arg("-d")
        .arg(root().join("wit").join("1.1.0"))
        .args([
            "-w",
            "portal:plugin/panel-plugin@1.1.0",
            "componentize",
            "-p",
        ])
        .arg(&source)
        .arg("app")
        .arg("-o")
        .arg(&out))
}

fn build_javascript(example: &Path, version: &str) -> Result<()> {
    let out = output_name(example, version);
    if up_to_date(&out, &[&example.join("app.js"), &root().join("wit")])? {
        return Ok(());
    }
    step(&format!("building {} with componentize-js", out.display()));
    let source = versioned_source(example, version, "app.js")?;
    run(Command::new(
        example
            .join("node_modules")
            .join(".bin")
            .join("componentize-js"),
    )
    .arg(source.join("app.js"))
    .arg("--wit")
    .arg(root().join("wit").join("1.1.0"))
    .args([
        "--world-name",
        "portal:plugin/panel-plugin@1.1.0",
        "--disable",
        "fetch-event",
        "--out",
    ])
    .arg(&out)
    .current_dir(example))
}

/// Rebuilds the frozen 1.0.0 fixtures from source, against `wit/1.0.0`.
pub fn freeze_fixtures() -> Result<()> {
    step("building plugins against portal:plugin@1.0.0");
    let dir = target_dir().join("fixtures");
    let mut command = cargo_command(&[
        "build",
        "--target",
        "wasm32-wasip2",
        "--profile",
        "plugin",
        "-p",
        "portal-plugin-compat",
        "-p",
        "portal-plugin-ownership",
        "--features",
        "portal-plugin-compat/wit-1-0",
        "--target-dir",
    ]);
    command.arg(&dir);
    run(&mut command)?;
    let fixtures = root().join("tests").join("fixtures").join("plugins");
    std::fs::create_dir_all(&fixtures)?;
    let built = dir.join("wasm32-wasip2").join("plugin");
    for (package, file) in [
        ("portal_plugin_compat", "compat-1.0.0.wasm"),
        ("portal_plugin_ownership", "ownership-1.0.0.wasm"),
    ] {
        std::fs::copy(built.join(format!("{package}.wasm")), fixtures.join(file))?;
        eprintln!("    froze {}", fixtures.join(file).display());
    }
    Ok(())
}

fn copy_if_changed(from: &Path, to: &Path) -> Result<()> {
    let new = std::fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    if std::fs::read(to).ok().as_deref() != Some(&new[..]) {
        std::fs::write(to, new)?;
    }
    Ok(())
}

fn write_if_changed(path: &Path, text: &str) -> Result<()> {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text)?;
    }
    Ok(())
}

/// Whether `out` is newer than every file under `inputs`.
fn up_to_date(out: &Path, inputs: &[&Path]) -> Result<bool> {
    let Ok(built) = out.metadata().and_then(|m| m.modified()) else {
        return Ok(false);
    };
    let newest = inputs.iter().map(|p| newest_mtime(p)).max().flatten();
    Ok(newest.is_some_and(|n| n <= built))
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = path.metadata().ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .flatten()
        .filter(|e| e.file_name() != "node_modules" && e.file_name() != "__pycache__")
        .filter_map(|e| newest_mtime(&e.path()))
        .max()
}
