//! What the server sends the pages: small, serialisable views, computed on the
//! server (in `crate::ssr::views`) and rendered by the components on both sides.
//! The browser never sees raw plugin output or catalog JSON, only these. One
//! module per area of the UI (`create`: software templates' forms and tasks);
//! `url` holds the URL codec they share.

mod audit;
mod catalog;
mod create;
mod docs;
mod editor;
mod entity;
mod frame;
mod plugins;
mod search;
mod url;

pub use audit::*;
pub use catalog::*;
pub use create::*;
pub use docs::*;
pub use editor::*;
pub use entity::*;
pub use frame::*;
pub use plugins::*;
pub use search::*;
pub use url::*;

pub use portal_types::{KeyValue, PanelFailure, PanelFailureKind, PluginState, Tone, Widget};

/// `12345` → `12,345`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}
