//! Software templates: Backstage's `scaffolder.backstage.io/v1beta3`.
//!
//! - [`template`]: a `Template` entity read into its parameters (form pages),
//!   steps and output, with every problem reported at its place.
//! - [`engine`]: tasks: created, run step by step on action plugins (through
//!   the [`ActionRunner`] the server provides), cancelled, retried, dry-run.
//! - [`task`]: a task and its events, in Backstage's API shapes.
//! - [`store`]: where tasks and events are kept (sled, `<data>/scaffolder`).
//! - [`redact`]: secrets (and their obvious transforms) masked in all output.
//! - [`files`]: paths from requests checked; a workspace read back.

pub mod engine;
pub mod files;
pub mod form_order;
pub mod redact;
pub mod store;
pub mod task;
pub mod template;
pub mod values;
mod writer;

pub use engine::{
    ActionCall, ActionFuture, ActionInfo, ActionRunner, ActionSession, CreateError, DryRun,
    DryRunResult, LogLine, NewTask, Scaffolder, SessionFuture,
};
pub use task::{EventKind, Task, TaskEvent, TaskStatus};
pub use template::{OutputLink, OutputText, ParameterPage, Step, Template, TemplateError};
