//! Builders for the two structures every plugin returns: its metadata and, for
//! panels, the flattened widget tree.

use crate::meta::{
    ActionInfo, CapabilityRequests, PanelInfo, PanelPlacement, PluginInfo, ProviderInfo,
};
use crate::panel::{Badge, Card, Code, KeyValue, Link, Node, NodeId, Stat, Table, Tone, View};

/// Starts a plugin's metadata.
pub fn info(name: &str, version: &str, description: &str) -> InfoBuilder {
    InfoBuilder {
        info: PluginInfo {
            name: name.to_owned(),
            version: version.to_owned(),
            description: description.to_owned(),
            panels: Vec::new(),
            providers: Vec::new(),
            actions: Vec::new(),
            requests: CapabilityRequests {
                http_hosts: Vec::new(),
                secrets: Vec::new(),
                config_keys: Vec::new(),
                catalog_read: false,
                storage: false,
            },
        },
    }
}

pub struct InfoBuilder {
    info: PluginInfo,
}

impl InfoBuilder {
    /// A panel; `applies_to` is a catalog filter such as `kind=component` ("" for all).
    pub fn panel(
        mut self,
        id: &str,
        title: &str,
        placement: PanelPlacement,
        applies_to: &str,
    ) -> Self {
        self.info.panels.push(PanelInfo {
            id: id.to_owned(),
            title: title.to_owned(),
            placement,
            applies_to: applies_to.to_owned(),
        });
        self
    }

    pub fn provider(mut self, id: &str, description: &str, refresh_interval_seconds: u32) -> Self {
        self.info.providers.push(ProviderInfo {
            id: id.to_owned(),
            description: description.to_owned(),
            refresh_interval_seconds,
        });
        self
    }

    /// A template action with JSON Schemas for its input and output ("" for none).
    pub fn action(
        mut self,
        id: &str,
        description: &str,
        input_schema: &str,
        output_schema: &str,
    ) -> Self {
        self.info.actions.push(ActionInfo {
            id: id.to_owned(),
            description: description.to_owned(),
            input_schema: input_schema.to_owned(),
            output_schema: output_schema.to_owned(),
        });
        self
    }

    pub fn http_host(mut self, host: &str) -> Self {
        self.info.requests.http_hosts.push(host.to_owned());
        self
    }

    pub fn secret(mut self, name: &str) -> Self {
        self.info.requests.secrets.push(name.to_owned());
        self
    }

    pub fn config_key(mut self, key: &str) -> Self {
        self.info.requests.config_keys.push(key.to_owned());
        self
    }

    pub fn catalog_read(mut self) -> Self {
        self.info.requests.catalog_read = true;
        self
    }

    pub fn storage(mut self) -> Self {
        self.info.requests.storage = true;
        self
    }

    pub fn build(self) -> PluginInfo {
        self.info
    }
}

/// Builds a panel's view. Each method adds a node and returns its id; containers
/// take the ids of their children. `finish` names the root.
#[derive(Default)]
pub struct ViewBuilder {
    nodes: Vec<Node>,
}

impl ViewBuilder {
    pub fn new() -> ViewBuilder {
        ViewBuilder::default()
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        (self.nodes.len() - 1) as NodeId
    }

    pub fn text(&mut self, text: impl Into<String>) -> NodeId {
        self.push(Node::Text(text.into()))
    }

    pub fn markdown(&mut self, markdown: impl Into<String>) -> NodeId {
        self.push(Node::Markdown(markdown.into()))
    }

    pub fn link(&mut self, label: impl Into<String>, url: impl Into<String>) -> NodeId {
        self.push(Node::Link(Link {
            label: label.into(),
            url: url.into(),
        }))
    }

    pub fn badge(&mut self, label: impl Into<String>, tone: Tone) -> NodeId {
        self.push(Node::Badge(Badge {
            label: label.into(),
            tone,
        }))
    }

    pub fn stat(
        &mut self,
        label: impl Into<String>,
        value: impl Into<String>,
        tone: Tone,
    ) -> NodeId {
        self.push(Node::Stat(Stat {
            label: label.into(),
            value: value.into(),
            tone,
        }))
    }

    pub fn code(&mut self, language: impl Into<String>, content: impl Into<String>) -> NodeId {
        self.push(Node::Code(Code {
            language: language.into(),
            content: content.into(),
        }))
    }

    pub fn empty(&mut self, message: impl Into<String>) -> NodeId {
        self.push(Node::Empty(message.into()))
    }

    pub fn card(&mut self, title: impl Into<String>, children: Vec<NodeId>) -> NodeId {
        self.push(Node::Card(Card {
            title: title.into(),
            children,
        }))
    }

    pub fn key_values(&mut self, items: Vec<(String, NodeId)>) -> NodeId {
        self.push(Node::KeyValues(
            items
                .into_iter()
                .map(|(key, value)| KeyValue { key, value })
                .collect(),
        ))
    }

    pub fn table(&mut self, columns: &[&str], rows: Vec<Vec<NodeId>>) -> NodeId {
        self.push(Node::Table(Table {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
        }))
    }

    pub fn stack(&mut self, children: Vec<NodeId>) -> NodeId {
        self.push(Node::Stack(children))
    }

    pub fn row(&mut self, children: Vec<NodeId>) -> NodeId {
        self.push(Node::Row(children))
    }

    pub fn finish(self, root: NodeId) -> View {
        View {
            nodes: self.nodes,
            root,
        }
    }
}
