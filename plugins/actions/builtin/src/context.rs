//! What an action runs against: its two roots, the task log, and the host's
//! publishing capabilities. Inside the component the roots are the preopened
//! `/workspace` and `/template` and the capabilities are the contract's `git`
//! and `catalog` imports; the native tests pass temporary directories, collect
//! the log lines and record what would have been published.

use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
}

/// Where an action's log lines go: the task's log.
pub trait Log {
    fn log(&self, level: Level, message: &str);
}

/// A push of a workspace folder (the contract's `git.push-request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    pub source_path: String,
    pub remote: String,
    pub branch: String,
    pub commit_message: String,
    pub author_name: String,
    pub author_email: String,
    pub credentials: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pushed {
    pub commit: String,
    pub remote_url: String,
    pub work_tree: Option<String>,
}

/// What the host does on an action's behalf, outside the workspace. The host
/// checks every call against the plugin's grants and refuses both in dry runs.
pub trait Host {
    fn git_push(&self, request: &PushRequest) -> std::result::Result<Pushed, String>;
    /// Registers a `url` or `file` location; the refs of its entities.
    fn register_location(
        &self,
        location_type: &str,
        target: &str,
    ) -> std::result::Result<Vec<String>, String>;
    /// An outbound HTTP request (to a granted host): status and body.
    fn http(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> std::result::Result<(u16, String), String>;
    /// A GET of a file to download (to a granted host), redirects not
    /// followed: status, `Location`, body bytes.
    fn download(
        &self,
        url: &str,
        headers: &[(&str, &str)],
    ) -> std::result::Result<Download, String>;
    /// A configuration value granted to the plugin (`config.get`).
    fn config(&self, key: &str) -> Option<String>;
    /// A secret granted to the plugin (`config.get-secret`).
    fn secret(&self, name: &str) -> std::result::Result<String, String>;
    /// The executable files under a folder of the template (relative to its
    /// root), as paths relative to its root.
    fn template_executables(&self, dir: &str) -> std::result::Result<Vec<String>, String>;
    /// Sets or clears the executable bit of a workspace file (a path relative
    /// to the workspace).
    fn set_executable(&self, path: &str, executable: bool) -> std::result::Result<(), String>;
}

/// An answer to [`Host::download`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

pub struct Context<'a> {
    /// The task's workspace, read-write. Every path an action writes,
    /// deletes or lists is inside it.
    pub workspace: &'a Path,
    /// The template's own directory, read-only: where `url`s point. `None`
    /// when the template was not loaded from a directory.
    pub template: Option<&'a Path>,
    pub log: &'a dyn Log,
    pub host: &'a dyn Host,
    /// A dry run: report what would be published, publish nothing.
    pub dry_run: bool,
}

impl Context<'_> {
    pub fn info(&self, message: impl AsRef<str>) {
        self.log.log(Level::Info, message.as_ref());
    }

    pub fn warn(&self, message: impl AsRef<str>) {
        self.log.log(Level::Warn, message.as_ref());
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! A context over two temporary directories that keeps what is logged.

    use super::{Context, Download, Host, Level, Log, PushRequest, Pushed};
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    #[derive(Default)]
    pub struct Lines(pub RefCell<Vec<(Level, String)>>);

    impl Log for Lines {
        fn log(&self, level: Level, message: &str) {
            self.0.borrow_mut().push((level, message.to_owned()));
        }
    }

    impl Lines {
        pub fn text(&self) -> String {
            self.0
                .borrow()
                .iter()
                .map(|(_, line)| line.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        }
    }

    /// Records what the actions ask of the host and answers like a host that
    /// granted it. (The real capabilities are tested end to end, in `tests/`.)
    #[derive(Default)]
    pub struct Recorder {
        pub pushes: RefCell<Vec<PushRequest>>,
        pub registered: RefCell<Vec<(String, String)>>,
        /// Answered by `register_location`.
        pub entity_refs: RefCell<Vec<String>>,
        pub requests: RefCell<Vec<String>>,
        pub config: RefCell<std::collections::HashMap<String, String>>,
        /// Answers to `download`, by URL; any other URL fails.
        pub downloads: RefCell<std::collections::HashMap<String, Download>>,
        /// The headers each `download` was sent with, in order.
        pub download_headers: RefCell<Vec<Vec<(String, String)>>>,
        /// Secrets granted, by name; any other is refused.
        pub secrets: RefCell<std::collections::HashMap<String, String>>,
        /// The workspace and the template's folder.
        pub roots: RefCell<Option<(PathBuf, PathBuf)>>,
    }

    impl Host for Recorder {
        fn git_push(&self, request: &PushRequest) -> Result<Pushed, String> {
            self.pushes.borrow_mut().push(request.clone());
            let local = request.remote.starts_with('/');
            Ok(Pushed {
                commit: "0".repeat(40),
                remote_url: if local {
                    format!("file://{}", request.remote)
                } else {
                    request.remote.clone()
                },
                work_tree: local.then(|| request.remote.clone()),
            })
        }

        fn register_location(
            &self,
            location_type: &str,
            target: &str,
        ) -> Result<Vec<String>, String> {
            self.registered
                .borrow_mut()
                .push((location_type.to_owned(), target.to_owned()));
            Ok(self.entity_refs.borrow().clone())
        }

        /// No network in the native tests: the requests are recorded and
        /// refused (`tests/scaffolder` runs them against a GitHub stand-in).
        fn http(
            &self,
            method: &str,
            url: &str,
            _: &[(&str, &str)],
            _: &str,
        ) -> Result<(u16, String), String> {
            self.requests.borrow_mut().push(format!("{method} {url}"));
            Err("no network in native tests".into())
        }

        fn download(&self, url: &str, headers: &[(&str, &str)]) -> Result<Download, String> {
            self.requests.borrow_mut().push(format!("GET {url}"));
            self.download_headers.borrow_mut().push(
                headers
                    .iter()
                    .map(|(n, v)| (n.to_string(), v.to_string()))
                    .collect(),
            );
            self.downloads
                .borrow()
                .get(url)
                .cloned()
                .ok_or_else(|| "no network in native tests".to_owned())
        }

        fn config(&self, key: &str) -> Option<String> {
            self.config.borrow().get(key).cloned()
        }

        fn secret(&self, name: &str) -> Result<String, String> {
            self.secrets
                .borrow()
                .get(name)
                .cloned()
                .ok_or_else(|| format!("secret `{name}` is not granted"))
        }

        /// Natively the modes are real: read and set on the two directories.
        fn template_executables(&self, dir: &str) -> Result<Vec<String>, String> {
            use std::os::unix::fs::PermissionsExt;
            let roots = self.roots.borrow();
            let (_, template) = roots.as_ref().expect("Dirs sets the roots");
            let mut found = Vec::new();
            let mut pending = vec![template.join(dir)];
            while let Some(folder) = pending.pop() {
                for entry in std::fs::read_dir(&folder)
                    .map_err(|e| e.to_string())?
                    .flatten()
                {
                    let meta = entry.path().symlink_metadata().map_err(|e| e.to_string())?;
                    if meta.is_dir() {
                        pending.push(entry.path());
                    } else if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
                        let relative = entry.path().strip_prefix(template).unwrap().to_owned();
                        found.push(relative.to_string_lossy().into_owned());
                    }
                }
            }
            Ok(found)
        }

        fn set_executable(&self, path: &str, executable: bool) -> Result<(), String> {
            use std::os::unix::fs::PermissionsExt;
            let roots = self.roots.borrow();
            let (workspace, _) = roots.as_ref().expect("Dirs sets the roots");
            let file = workspace.join(path);
            let mode = if executable { 0o755 } else { 0o644 };
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode))
                .map_err(|e| e.to_string())
        }
    }

    /// A workspace and a template directory, both empty.
    pub struct Dirs {
        _root: tempfile::TempDir,
        pub workspace: PathBuf,
        pub template: PathBuf,
        pub lines: Lines,
        pub host: Recorder,
    }

    impl Dirs {
        pub fn new() -> Dirs {
            let root = tempfile::tempdir().unwrap();
            let workspace = root.path().join("workspace");
            let template = root.path().join("template");
            std::fs::create_dir(&workspace).unwrap();
            std::fs::create_dir(&template).unwrap();
            let host = Recorder {
                roots: RefCell::new(Some((workspace.clone(), template.clone()))),
                ..Recorder::default()
            };
            Dirs {
                _root: root,
                workspace,
                template,
                lines: Lines::default(),
                host,
            }
        }

        /// Next to both roots: what an escape would reach.
        pub fn outside(&self) -> PathBuf {
            self.workspace.parent().unwrap().to_path_buf()
        }

        pub fn context(&self) -> Context<'_> {
            Context {
                workspace: &self.workspace,
                template: Some(&self.template),
                log: &self.lines,
                host: &self.host,
                dry_run: false,
            }
        }

        pub fn without_template(&self) -> Context<'_> {
            Context {
                template: None,
                ..self.context()
            }
        }

        /// Writes `files` (path, contents) under `root`, creating folders.
        pub fn write(root: &Path, files: &[(&str, &str)]) {
            for (path, contents) in files {
                let path = root.join(path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, contents).unwrap();
            }
        }

        pub fn read(&self, path: &str) -> String {
            std::fs::read_to_string(self.workspace.join(path))
                .unwrap_or_else(|e| panic!("reading {path}: {e}"))
        }

        pub fn exists(&self, path: &str) -> bool {
            self.workspace.join(path).symlink_metadata().is_ok()
        }
    }
}
