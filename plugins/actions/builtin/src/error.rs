//! What an action returns when it cannot do its job: a stable code and a
//! message for a person. The component glue turns it into the contract's
//! `plugin-error`; the actions themselves never see the WIT types.

use std::fmt;
use std::io;
use std::path::Path;

/// The codes the actions use.
pub mod code {
    /// The step's input is malformed: a missing or mistyped field, options
    /// that cannot go together.
    pub const INVALID_INPUT: &str = "invalid-input";
    /// A path leaves the root it must stay in (the workspace, the template's
    /// directory), or is absolute.
    pub const PATH_ESCAPE: &str = "path-escape";
    /// A path the input names does not exist.
    pub const NOT_FOUND: &str = "not-found";
    /// A skeleton file or name did not render.
    pub const RENDER_ERROR: &str = "render-error";
    /// The target exists and the input does not allow replacing it.
    pub const EXISTS: &str = "exists";
    /// Over a size or count limit (skeleton size, entries listed).
    pub const TOO_LARGE: &str = "too-large";
    /// Asked for something this plugin does not do (yet): remote skeletons.
    pub const UNSUPPORTED: &str = "unsupported";
    /// The file system failed underneath (permissions, disk full, the
    /// sandbox refusing).
    pub const IO: &str = "io-error";
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionError {
    pub code: &'static str,
    pub message: String,
}

impl ActionError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ActionError {
        ActionError {
            code,
            message: message.into(),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ActionError {
        ActionError::new(code::INVALID_INPUT, message)
    }

    /// An I/O failure on `path` while doing `what` ("read", "write", ...).
    /// `path` is shown as the action sees it (`/workspace/...` inside the
    /// component).
    pub fn io(what: &str, path: &Path, error: &io::Error) -> ActionError {
        let code = if error.kind() == io::ErrorKind::NotFound {
            code::NOT_FOUND
        } else {
            code::IO
        };
        ActionError::new(code, format!("cannot {what} {}: {error}", path.display()))
    }
}

impl fmt::Display for ActionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for ActionError {}

pub type Result<T, E = ActionError> = std::result::Result<T, E>;
