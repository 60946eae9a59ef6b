//! What an action runs against: its two roots and the task log. Inside the
//! component the roots are the preopened `/workspace` and `/template`; the
//! native tests pass temporary directories and collect the log lines.

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

pub struct Context<'a> {
    /// The task's workspace, read-write. Every path an action writes,
    /// deletes or lists is inside it.
    pub workspace: &'a Path,
    /// The template's own directory, read-only: where `url`s point. `None`
    /// when the template was not loaded from a directory.
    pub template: Option<&'a Path>,
    pub log: &'a dyn Log,
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

    use super::{Context, Level, Log};
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

    /// A workspace and a template directory, both empty.
    pub struct Dirs {
        _root: tempfile::TempDir,
        pub workspace: PathBuf,
        pub template: PathBuf,
        pub lines: Lines,
    }

    impl Dirs {
        pub fn new() -> Dirs {
            let root = tempfile::tempdir().unwrap();
            let workspace = root.path().join("workspace");
            let template = root.path().join("template");
            std::fs::create_dir(&workspace).unwrap();
            std::fs::create_dir(&template).unwrap();
            Dirs {
                _root: root,
                workspace,
                template,
                lines: Lines::default(),
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
