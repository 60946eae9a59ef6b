//! The plugins page's view: one row per plugin file.

use portal_types::PluginState;
use serde::{Deserialize, Serialize};

/// One installed plugin file, as the plugins page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginRow {
    pub file: String,
    pub state: PluginState,
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub wit_version: Option<String>,
    pub extension_points: Vec<String>,
    pub panels: Vec<String>,
    pub capabilities: Vec<CapabilityRow>,
    /// Its quotas and its use of them (empty until it has loaded).
    pub quotas: Vec<QuotaRow>,
    pub missing_grants: Vec<String>,
    pub compiler: Option<String>,
    pub calls: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    pub last_denial: Option<String>,
    pub load_error: Option<String>,
    pub loaded_at: Option<String>,
}

/// One quota of a plugin: what it limits, how much is used (for quotas counted
/// over time), and the limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaRow {
    pub quota: String,
    pub used: Option<String>,
    pub limit: String,
}

/// A capability: asked for, granted, both or neither.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityRow {
    pub capability: String,
    pub requested: bool,
    pub granted: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginsView {
    pub plugins: Vec<PluginRow>,
    pub plugins_dir: Option<String>,
}
