//! Software templates: Backstage's `scaffolder.backstage.io/v1beta3`.
//!
//! - [`template`]: a `Template` entity read into its parameters (form pages),
//!   steps and output, with every problem reported at its place.
//!
//! Next (issue 13): tasks persisted in the store, the step engine running
//! action plugins, and the `/api/scaffolder/v2` routes.

pub mod template;

pub use template::{OutputLink, OutputText, ParameterPage, Step, Template, TemplateError};
