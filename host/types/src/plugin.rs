//! Plugin states, events and panel outcomes, as the host reports them and the
//! UI shows them. Serialised in lowercase, as `GET /api/plugins` always had them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Where a panel is shown on the entity page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Placement {
    /// A card on the overview tab.
    #[default]
    Card,
    /// A tab of its own.
    Tab,
}

/// The state of one plugin file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginState {
    /// Being read, compiled and checked.
    Loading,
    /// Serving calls (perhaps an older version, when the newest file failed).
    Loaded,
    /// Refused before it ran: not a component, unsupported contract, bad metadata, a name taken.
    Rejected,
    /// It failed while loading (compile, link or `describe`).
    Failed,
    /// The operator disabled it.
    Disabled,
}

impl PluginState {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginState::Loading => "loading",
            PluginState::Loaded => "loaded",
            PluginState::Rejected => "rejected",
            PluginState::Failed => "failed",
            PluginState::Disabled => "disabled",
        }
    }
}

impl fmt::Display for PluginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened to a plugin file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PluginEventKind {
    Loaded,
    /// Optimised code replaced the first, quickly compiled version.
    Upgraded,
    Rejected,
    Unloaded,
}

impl PluginEventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PluginEventKind::Loaded => "loaded",
            PluginEventKind::Upgraded => "upgraded",
            PluginEventKind::Rejected => "rejected",
            PluginEventKind::Unloaded => "unloaded",
        }
    }
}

impl fmt::Display for PluginEventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a panel shows an error card instead of its widgets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PanelFailureKind {
    /// The plugin or panel is gone (unloaded meanwhile).
    Unavailable,
    /// It ran past its time or CPU limit.
    Timeout,
    /// It returned output the portal refuses to show.
    Invalid,
    /// It trapped, ran out of memory or returned an error.
    Failed,
}

impl PanelFailureKind {
    /// The error card's headline.
    pub fn headline(self) -> &'static str {
        match self {
            PanelFailureKind::Unavailable => "This panel is not available right now.",
            PanelFailureKind::Timeout => "This panel took too long and was stopped.",
            PanelFailureKind::Invalid => "This panel sent something the portal cannot show.",
            PanelFailureKind::Failed => "This panel failed.",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PanelFailureKind::Unavailable => "unavailable",
            PanelFailureKind::Timeout => "timeout",
            PanelFailureKind::Invalid => "invalid",
            PanelFailureKind::Failed => "failed",
        }
    }
}

/// A panel that could not be shown, and the detail for the error card.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelFailure {
    pub kind: PanelFailureKind,
    pub message: String,
}

impl PanelFailure {
    pub fn new(kind: PanelFailureKind, message: impl Into<String>) -> PanelFailure {
        PanelFailure {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for PanelFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.as_str(), self.message)
    }
}
