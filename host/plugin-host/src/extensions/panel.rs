//! Panels: a plugin draws a card or tab on an entity's page. It returns a
//! flattened widget tree (WIT has no recursive types), which
//! `portal_types::widget::flat` rebuilds and checks (the rules the UI draws by)
//! before anything renders it.

use super::{Declared, ExtensionPoint};
use crate::capabilities::HostState;
use crate::model::{self, PanelInfo, Placement, PluginInfo, Widget};
use crate::wit::v1::{self, meta, panel};
use portal_types::widget::flat::{FlatNode, FlatView};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

pub(crate) struct Panel;

/// Which panel to render, for which entity (Backstage-shaped JSON).
#[derive(Debug, Clone)]
pub(crate) struct RenderRequest {
    pub panel_id: String,
    pub entity_json: String,
}

impl ExtensionPoint for Panel {
    const KIND: &'static str = "panel";
    const LIMITS: portal_config::ExtensionPoint = portal_config::ExtensionPoint::Panel;
    // Panels return small structures.
    const TRANSFER_BYTES: usize = 8 << 20;
    type Request = RenderRequest;
    type Returned = FlatView;
    type Output = Widget;

    fn check_output(view: FlatView) -> Result<Widget, String> {
        view.into_tree().map_err(|e| e.to_string())
    }
}

impl Declared for Panel {
    const INTERFACE: &'static str = "panel";
    const ID_NOUN: &'static str = "panel id";
    const PLURAL: &'static str = "panels";
    type Info = PanelInfo;

    fn declared(info: &PluginInfo) -> &[PanelInfo] {
        &info.panels
    }
    fn id(info: &PanelInfo) -> &str {
        &info.id
    }
    fn check_info(info: &PanelInfo) -> Result<(), String> {
        crate::filter::PanelFilter::parse(&info.applies_to)
            .map(|_| ())
            .map_err(|e| format!("applies-to: {e}"))
    }
}

pub(crate) fn info_from_v1(p: meta::PanelInfo) -> PanelInfo {
    PanelInfo {
        id: p.id,
        title: p.title,
        placement: match p.placement {
            meta::PanelPlacement::Card => Placement::Card,
            meta::PanelPlacement::Tab => Placement::Tab,
        },
        applies_to: p.applies_to,
    }
}

impl v1::Binding for Panel {
    type Indices = panel::GuestIndices;

    fn indices(pre: &InstancePre<HostState>) -> wasmtime::Result<Self::Indices> {
        panel::GuestIndices::new(pre)
    }

    async fn call<'a>(
        indices: &'a Self::Indices,
        store: &'a mut Store<HostState>,
        instance: &'a Instance,
        request: RenderRequest,
    ) -> wasmtime::Result<Result<FlatView, model::PluginError>> {
        let guest = indices.load(&mut *store, instance)?;
        let request = panel::RenderRequest {
            panel_id: request.panel_id,
            entity: request.entity_json,
        };
        let result = guest.call_render(&mut *store, &request).await?;
        Ok(result.map(flat_view_from_v1).map_err(v1::plugin_error))
    }
}

fn tone(t: panel::Tone) -> model::Tone {
    match t {
        panel::Tone::Neutral => model::Tone::Neutral,
        panel::Tone::Info => model::Tone::Info,
        panel::Tone::Success => model::Tone::Success,
        panel::Tone::Warning => model::Tone::Warning,
        panel::Tone::Danger => model::Tone::Danger,
    }
}

fn flat_view_from_v1(view: panel::View) -> FlatView {
    let nodes = view
        .nodes
        .into_iter()
        .map(|node| match node {
            panel::Node::Text(text) => FlatNode::Text(text),
            panel::Node::Markdown(md) => FlatNode::Markdown(md),
            panel::Node::Link(l) => FlatNode::Link {
                label: l.label,
                url: l.url,
            },
            panel::Node::Badge(b) => FlatNode::Badge {
                label: b.label,
                tone: tone(b.tone),
            },
            panel::Node::Stat(s) => FlatNode::Stat {
                label: s.label,
                value: s.value,
                tone: tone(s.tone),
            },
            panel::Node::Code(c) => FlatNode::Code {
                language: c.language,
                content: c.content,
            },
            panel::Node::Empty(message) => FlatNode::Empty(message),
            panel::Node::Card(c) => FlatNode::Card {
                title: c.title,
                children: c.children,
            },
            panel::Node::KeyValues(items) => {
                FlatNode::KeyValues(items.into_iter().map(|kv| (kv.key, kv.value)).collect())
            }
            panel::Node::Table(t) => FlatNode::Table {
                columns: t.columns,
                rows: t.rows,
            },
            panel::Node::Stack(children) => FlatNode::Stack(children),
            panel::Node::Row(children) => FlatNode::Row(children),
        })
        .collect();
    FlatView {
        nodes,
        root: view.root,
    }
}
