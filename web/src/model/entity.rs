//! The entity page's view: header facts, relations (graph and tables), the API
//! definition, group and user profiles, plugin panels and tabs.

use super::{Column, DocsSiteView, DocsStatusView, EntityLink, Row};
use portal_types::{PanelFailure, Widget};
use serde::{Deserialize, Serialize};

/// When the source last confirmed an entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmed {
    /// RFC 3339.
    pub at: String,
    /// "3 minutes ago".
    pub ago: String,
    /// Longer ago than the refresh loop should allow.
    pub stale: bool,
}

/// A problem the catalog had with an entity (`status.items`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    pub level: String,
    pub kind: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExternalLink {
    pub title: String,
    pub url: String,
}

/// A relation graph, laid out on the server, drawn as SVG.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Graph {
    pub width: f32,
    pub height: f32,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphNode {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
    pub label: String,
    /// The relation that links it to the centre (`ownedBy`, …).
    pub caption: String,
    pub kind: String,
    /// `None` for the centre node and for "+N more".
    pub href: Option<String>,
    pub center: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GraphEdge {
    /// SVG path data.
    pub path: String,
}

/// A table of related entities ("Depends on components", "Members", …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelationTable {
    pub id: String,
    pub title: String,
    pub empty: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    /// More than shown: how many, and a catalog link listing them all.
    pub more: Option<(u64, String)>,
}

/// An API's definition, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiDefinition {
    pub type_: String,
    pub title: Option<String>,
    pub version: Option<String>,
    pub description_html: Option<String>,
    pub servers: Vec<String>,
    pub groups: Vec<OperationGroup>,
    /// Why the definition could not be read as OpenAPI, if it could not.
    pub problem: Option<String>,
    pub raw: String,
    pub raw_truncated: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperationGroup {
    pub tag: String,
    pub operations: Vec<Operation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    pub operation_id: Option<String>,
    pub deprecated: bool,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<String>,
    pub responses: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Parameter {
    pub name: String,
    pub location: String,
    pub required: bool,
    pub description: Option<String>,
}

/// A user's or group's profile.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Profile {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub picture: Option<String>,
}

/// A tab of the entity page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tab {
    pub slug: String,
    pub label: String,
    pub href: String,
}

/// A plugin panel, rendered (or what went wrong).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PanelView {
    pub plugin: String,
    pub panel: String,
    pub title: String,
    pub result: PanelResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum PanelResult {
    Ok(Widget),
    /// A contained failure, shown as an error card.
    Err(PanelFailure),
}

/// Group and user pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgView {
    pub profile: Profile,
    pub parent: Option<EntityLink>,
    /// Group: child groups; user: the groups they belong to.
    pub groups: Vec<EntityLink>,
    /// Group members.
    pub members: Vec<Row>,
    pub members_more: Option<u64>,
}

/// Everything the entity page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntityView {
    pub entity_ref: String,
    pub kind: String,
    /// As written in the entity (`Component`).
    pub kind_label: String,
    pub namespace: String,
    pub name: String,
    pub title: Option<String>,
    pub description: Option<String>,
    pub type_: Option<String>,
    pub lifecycle: Option<String>,
    pub owner: Option<EntityLink>,
    pub system: Option<EntityLink>,
    pub domain: Option<EntityLink>,
    pub tags: Vec<String>,
    pub links: Vec<ExternalLink>,
    pub source_url: Option<String>,
    pub edit_url: Option<String>,
    pub confirmed: Option<Confirmed>,
    pub problems: Vec<Problem>,
    pub orphan: bool,
    /// The relation graph as SVG markup (built and escaped on the server).
    pub graph_svg: String,
    pub relations: Vec<RelationTable>,
    pub org: Option<OrgView>,
    pub owned: Option<RelationTable>,
    pub api: Option<ApiDefinition>,
    pub tabs: Vec<Tab>,
    pub active_tab: String,
    /// Card panels (shown on the overview tab).
    pub cards: Vec<PanelView>,
    /// The panel of the active tab, when it is a plugin tab.
    pub tab_panel: Option<PanelView>,
    /// Panels beyond a plugin's share of the page, per plugin: links that open each.
    pub more_panels: Vec<PanelFold>,
    /// The TechDocs build, for documented entities.
    pub docs_status: Option<DocsStatusView>,
    /// The docs site's home page, on the Docs tab.
    pub docs: Option<DocsSiteView>,
}

/// "More from <plugin>": the panels a plugin offers beyond its share of the page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelFold {
    pub plugin: String,
    pub panels: Vec<Tab>,
}

impl EntityView {
    pub fn display_name(&self) -> &str {
        self.title.as_deref().unwrap_or(&self.name)
    }
}
