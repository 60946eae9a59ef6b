//! The widget tree plugin panels draw with: the portal renders it with its own
//! components, so a plugin never sends HTML or script. Plugins send it
//! flattened ([`flat`]); the host rebuilds the tree there and refuses one that
//! breaks a rule below, and the UI draws exactly what the host accepted.
//!
//! The rules, one set for both sides:
//! - at most [`MAX_NODES`] nodes holding at most [`MAX_TEXT_BYTES`] of text;
//! - nested at most [`MAX_DEPTH`] levels below the root;
//! - every node reachable from the root exactly once (no sharing, no cycles,
//!   no strays);
//! - table rows as wide as the table's columns;
//! - link URLs pass [`crate::url::classify`].

pub mod flat;

use serde::{Deserialize, Serialize};

/// Most nodes one panel may send.
pub const MAX_NODES: usize = 5_000;
/// Most text (labels, values, Markdown, code) one panel may send.
pub const MAX_TEXT_BYTES: usize = 1 << 20;
/// Deepest nesting below the root (the root is at depth 0).
pub const MAX_DEPTH: usize = 24;

/// One widget of a panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Widget {
    Text {
        text: String,
    },
    /// Markdown as the plugin wrote it. Before a page shows it, the server
    /// renders and sanitises it into `html` (and drops `markdown`).
    Markdown {
        #[serde(default)]
        markdown: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        html: String,
    },
    Link {
        label: String,
        url: String,
    },
    Badge {
        label: String,
        #[serde(default)]
        tone: Tone,
    },
    Stat {
        label: String,
        value: String,
        #[serde(default)]
        tone: Tone,
    },
    Code {
        #[serde(default)]
        language: String,
        content: String,
    },
    Empty {
        message: String,
    },
    Card {
        title: String,
        children: Vec<Widget>,
    },
    KeyValues {
        items: Vec<KeyValue>,
    },
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<Widget>>,
    },
    Stack {
        children: Vec<Widget>,
    },
    Row {
        children: Vec<Widget>,
    },
    /// A widget type this portal does not know (sent by a newer host).
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    pub key: String,
    pub value: Widget,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Tone {
    #[default]
    Neutral,
    Info,
    Success,
    Warning,
    Danger,
}

impl Tone {
    /// The CSS class the UI draws this tone with.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Neutral => "tone-neutral",
            Tone::Info => "tone-info",
            Tone::Success => "tone-success",
            Tone::Warning => "tone-warning",
            Tone::Danger => "tone-danger",
        }
    }
}

impl Widget {
    /// Calls `f` on this widget and every widget below it, depth first.
    pub fn walk_mut(&mut self, f: &mut impl FnMut(&mut Widget)) {
        f(self);
        match self {
            Widget::Card { children, .. }
            | Widget::Stack { children }
            | Widget::Row { children } => {
                for c in children {
                    c.walk_mut(f);
                }
            }
            Widget::KeyValues { items } => {
                for kv in items {
                    kv.value.walk_mut(f);
                }
            }
            Widget::Table { rows, .. } => {
                for c in rows.iter_mut().flatten() {
                    c.walk_mut(f);
                }
            }
            _ => {}
        }
    }
}
