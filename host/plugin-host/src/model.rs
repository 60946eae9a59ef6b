//! The host's own view of plugins: what they are and what they return. Every WIT
//! version converts into these types (see `wit/`), so the rest of the portal never
//! depends on a particular version of the contract.

use serde::Serialize;

/// The widget tree panels return, and where a panel goes: shared with the web UI.
pub use portal_types::{KeyValue, Placement, Tone, Widget};

/// What a plugin says about itself (`meta.describe`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub description: String,
    pub panels: Vec<PanelInfo>,
    pub providers: Vec<ProviderInfo>,
    pub actions: Vec<ActionInfo>,
    /// Search collators (1.3.0; asked of the `search-collator` export itself).
    pub collators: Vec<CollatorInfo>,
    pub requests: CapabilityRequests,
}

impl PluginInfo {
    /// The extension points the plugin provides, by name.
    pub fn extension_points(&self) -> Vec<&'static str> {
        crate::extensions::declared_points(self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PanelInfo {
    pub id: String,
    pub title: String,
    pub placement: Placement,
    /// A catalog filter; empty means every entity.
    pub applies_to: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderInfo {
    pub id: String,
    pub description: String,
    pub refresh_interval_seconds: u32,
}

/// A search collator: the document type it feeds the search with.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollatorInfo {
    pub document_type: String,
    pub title: String,
    pub refresh_interval_seconds: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionInfo {
    pub id: String,
    pub description: String,
    pub input_schema: Option<serde_json::Value>,
    pub output_schema: Option<serde_json::Value>,
}

/// Capabilities a plugin asks for, or (as `Grants`) the part it actually gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityRequests {
    pub http_hosts: Vec<String>,
    pub secrets: Vec<String>,
    pub config_keys: Vec<String>,
    pub catalog_read: bool,
    pub storage: bool,
}

/// One entity document emitted by an entity provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProvidedEntity {
    /// YAML or JSON text in `catalog-info.yaml` format.
    pub body: String,
    /// Where it came from, as a URL.
    pub location: String,
}

/// One document a search collator returned (checked: see
/// `extensions::search_collator`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SearchDocument {
    pub title: String,
    pub text: String,
    /// An `http(s)` URL or a path of the portal.
    pub location: String,
    pub fields: Vec<(String, String)>,
}

/// The directories a template action sees: its task's workspace (read-write,
/// at `/workspace`) and, when the template has files, its directory (read-only,
/// at `/template`).
#[derive(Debug, Clone)]
pub struct ActionDirs {
    pub workspace: std::path::PathBuf,
    pub template: Option<std::path::PathBuf>,
}

/// A template step handed to an action plugin.
#[derive(Debug, Clone)]
pub struct ActionRequest {
    pub action_id: String,
    pub input: serde_json::Value,
    pub task_id: String,
    pub dry_run: bool,
}

/// An error a plugin itself returned (as opposed to one the host detected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PluginError {
    pub code: String,
    pub message: String,
}
