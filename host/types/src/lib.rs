//! The seam between the portal's host and its web UI: the few types both sides
//! exchange, defined once.
//!
//! - [`widget`]: the tree of widgets a plugin panel draws with, the flattened
//!   form plugins send it in (WIT has no recursive types), and the limits and
//!   rules a tree must meet before anything renders it;
//! - [`url`]: the one rule for which URLs may become links, applied to plugin
//!   output, Markdown and entity data alike;
//! - [`plugin`]: plugin states and events, panel placement, why a panel could
//!   not be shown;
//! - [`docs`]: TechDocs sites as stored and shown (nav, pages, build status);
//! - [`EntityRef`] and its parser: entity references, from `portal-catalog-model` (re-exported,
//!   never copied).
//!
//! Nothing here does I/O; the crate builds for `wasm32-unknown-unknown` too.

pub mod docs;
pub mod plugin;
pub mod time;
pub mod url;
pub mod widget;

pub use plugin::{PanelFailure, PanelFailureKind, Placement, PluginEventKind, PluginState};
pub use portal_catalog_model::{EntityRef, RefDefaults, RefError, parse_entity_ref};
pub use widget::{KeyValue, Tone, Widget};

pub use time::Timestamp;
