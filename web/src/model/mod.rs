//! What the server sends the pages: small, serialisable views, computed on the
//! server (in `crate::ssr::views`) and rendered by the components on both sides.
//! The browser never sees raw plugin output or catalog JSON, only these. One
//! module per area of the UI; `url` holds the URL codec they share.

mod catalog;
mod entity;
mod frame;
mod plugins;
mod search;
mod url;

pub use catalog::*;
pub use entity::*;
pub use frame::*;
pub use plugins::*;
pub use search::*;
pub use url::*;

pub use portal_types::{KeyValue, PanelFailure, PanelFailureKind, PluginState, Tone, Widget};
