//! `builtin-actions`: the first-party template actions, with Backstage's ids,
//! inputs and outputs: `fetch:plain`, `fetch:plain:file`, `fetch:template`,
//! `fetch:template:file`, `fs:delete`, `fs:rename`, `fs:readdir`,
//! `debug:wait`, `debug:log`, `catalog:write`, `catalog:register`, `publish:git` and
//! `publish:github`.
//!
//! It is a WebAssembly component (`portal:plugin@1.1` `template-action`). For
//! a call the host preopens the task's workspace read-write at `/workspace`
//! and, when the template was loaded from a directory, that directory
//! read-only at `/template`; those are the only files it can reach. Step
//! inputs arrive rendered: the only rendering done here is of skeletons
//! (`fetch:template`), with the host's own expression language
//! (`portal-template-expr`), inside this sandbox and under its memory cap.
//!
//! The actions are plain Rust over `std::fs` that take their two roots as
//! paths (`Context`), so `cargo test` runs them natively on temporary
//! directories; the component glue at the bottom of this file only
//! translates the contract's types. What happens outside the workspace
//! (pushing with git, registering a location) is the host's to do, through
//! `Context::host`: the contract's `git.push` and `catalog.register-location`
//! (WIT 1.2.0), each checked against the plugin's grants.
//!
//! Differences from Backstage, on purpose:
//! - `url` is a path relative to the template's directory, or a remote
//!   skeleton of the two kinds `source.rs` reads: a GitHub folder or file URL,
//!   or a `.tar.gz` URL (Backstage reads any integration's URL); absolute
//!   paths and `..` leading out of the template's directory are refused.
//! - Every workspace path is relative and stays inside the workspace;
//!   Backstage accepts an absolute path if it lands inside.
//! - `fetch:template` and `fetch:template:file` refuse to overwrite an
//!   existing file unless `replace` is set (Backstage skips it silently),
//!   and check the whole skeleton before writing anything.
//! - Skeletons are bounded: at most 10,000 files and folders, 64 MiB.
//! - Of a file's mode, only the executable bit is copied (through the host's
//!   `file-modes`: WASI can neither read nor set it).
//! - Symbolic links are copied as links only when they stay inside the
//!   fetched folder, and skipped with a warning otherwise (`copy.rs`).
//! - `catalog:write` adds `backstage.io/source-template` only when the step
//!   passes `sourceTemplate` (the contract does not carry the template's ref).

mod actions;
mod archive;
mod catalog;
mod context;
mod copy;
mod debug;
mod error;
mod fetch;
mod fs;
mod github;
mod globs;
mod input;
mod paths;
mod platform;
mod publish;
mod source;
mod template;
mod walk;

pub use actions::{ACTIONS, Action, run};
pub use context::{Context, Download, Host, Level, Log, PushRequest, Pushed};
pub use error::ActionError;

/// The plugin's name, as `describe` declares it (and its file is named).
pub const NAME: &str = "builtin-actions";

#[cfg(target_arch = "wasm32")]
mod component {
    use super::{ACTIONS, Context, Download, Host, Level, Log, NAME, PushRequest, Pushed, run};
    use portal_plugin_sdk::{self as sdk, HostError, Plugin, PluginError, meta, template_action};
    use std::path::Path;

    struct BuiltinActions;

    /// Lines go to the portal's log and the task's.
    struct TaskLog;

    impl Log for TaskLog {
        fn log(&self, level: Level, message: &str) {
            let level = match level {
                Level::Info => sdk::log::Level::Info,
                Level::Warn => sdk::log::Level::Warn,
            };
            sdk::log::log(level, message);
        }
    }

    /// The contract's `git` and `catalog` imports.
    struct PortalHost;

    fn host_error(e: HostError) -> String {
        match e {
            HostError::Denied(m) => format!("refused by the portal: {m}"),
            HostError::Invalid(m) => m,
            HostError::LimitExceeded(m) => format!("over a limit: {m}"),
            HostError::Unavailable(m) => m,
            HostError::NotFound(m) => m,
        }
    }

    impl Host for PortalHost {
        fn git_push(&self, r: &PushRequest) -> Result<Pushed, String> {
            let request = sdk::git::PushRequest {
                source_path: r.source_path.clone(),
                remote: r.remote.clone(),
                branch: r.branch.clone(),
                commit_message: r.commit_message.clone(),
                author_name: r.author_name.clone(),
                author_email: r.author_email.clone(),
                credentials: r
                    .credentials
                    .clone()
                    .map(|(username, password)| sdk::git::Credentials { username, password }),
            };
            sdk::git::push(&request)
                .map(|p| Pushed {
                    commit: p.commit,
                    remote_url: p.remote_url,
                    work_tree: p.work_tree,
                })
                .map_err(host_error)
        }

        fn register_location(
            &self,
            location_type: &str,
            target: &str,
        ) -> Result<Vec<String>, String> {
            sdk::catalog::register_location(location_type, target).map_err(host_error)
        }

        fn http(
            &self,
            method: &str,
            url: &str,
            headers: &[(&str, &str)],
            body: &str,
        ) -> Result<(u16, String), String> {
            sdk::http::send(method, url, headers, body).map(|r| (r.status, r.body))
        }

        fn download(&self, url: &str, headers: &[(&str, &str)]) -> Result<Download, String> {
            sdk::http::download(url, headers).map(|r| Download {
                status: r.status,
                location: r.location,
                body: r.body,
            })
        }

        fn config(&self, key: &str) -> Option<String> {
            sdk::config::get(key)
        }

        fn secret(&self, name: &str) -> Result<String, String> {
            sdk::config::get_secret(name).map_err(host_error)
        }

        fn template_executables(&self, dir: &str) -> Result<Vec<String>, String> {
            sdk::file_modes::template_executables(dir).map_err(host_error)
        }

        fn set_executable(&self, path: &str, executable: bool) -> Result<(), String> {
            sdk::file_modes::set_executable(path, executable).map_err(host_error)
        }
    }

    /// Whether the host preopened `dir`: read from the preopens list, which
    /// costs no file-system call, where `is_dir` costs a `stat` every step.
    fn preopened(dir: &Path) -> bool {
        wasip2::filesystem::preopens::get_directories()
            .into_iter()
            .any(|(_, name)| Path::new(&name) == dir)
    }

    impl Plugin for BuiltinActions {
        fn describe() -> meta::PluginInfo {
            let mut info = sdk::info(
                NAME,
                env!("CARGO_PKG_VERSION"),
                "Backstage's built-in template actions: fetch a skeleton, render it, work with the workspace's files, write catalog-info.yaml",
            );
            for action in ACTIONS {
                let output = action
                    .output_schema
                    .map(|s| s().to_string())
                    .unwrap_or_default();
                info = info.action(
                    action.id,
                    action.description,
                    &(action.input_schema)().to_string(),
                    &output,
                );
            }
            info.build()
        }

        fn execute(
            request: template_action::ActionRequest,
        ) -> Result<template_action::ActionResult, PluginError> {
            let template = Path::new("/template");
            let ctx = Context {
                workspace: Path::new("/workspace"),
                // Preopened only for templates loaded from a directory.
                template: preopened(template).then_some(template),
                log: &TaskLog,
                host: &PortalHost,
                dry_run: request.dry_run,
            };
            // A dry run's workspace is a scratch copy: the actions behave the same.
            run(&ctx, &request.action_id, &request.input)
                .map(|output| template_action::ActionResult {
                    output: output.to_string(),
                })
                .map_err(|e| sdk::error(e.code, e.message))
        }
    }

    portal_plugin_sdk::export!(BuiltinActions);
}
