//! Plugin panels on the entity page: how plugins share it, rendering each
//! panel in its own task under a deadline, and preparing checked output.

use super::*;
use crate::model::*;
use crate::ssr::branding::PanelLayout;
use crate::ssr::data::PanelInfo;
use crate::ssr::markdown;
use portal_types::Placement;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// Most panels rendered for one page.
const MAX_PANELS: usize = 24;

/// A backstop on top of the plugin host's own per-panel time limit.
const PANEL_DEADLINE: Duration = Duration::from_secs(10);

/// The panels of one entity page: those shown, in page order, and per plugin
/// those folded under "More from …".
#[derive(Debug, Default)]
pub(super) struct SharedPanels {
    pub shown: Vec<PanelInfo>,
    pub folded: Vec<(String, Vec<PanelInfo>)>,
}

/// Shares the page between plugins: the operator's plugin order first, then
/// by name; each plugin shows at most `layout.per_plugin` panels, and the page
/// at most `MAX_PANELS`; the rest is folded, never dropped.
pub(super) fn share_panels(panels: Vec<PanelInfo>, layout: &PanelLayout) -> SharedPanels {
    let mut by_plugin: BTreeMap<String, Vec<PanelInfo>> = BTreeMap::new();
    for p in panels {
        by_plugin.entry(p.plugin.clone()).or_default().push(p);
    }
    let rank = |plugin: &str| {
        layout
            .plugin_order
            .iter()
            .position(|o| o == plugin)
            .unwrap_or(usize::MAX)
    };
    let mut groups: Vec<(String, Vec<PanelInfo>)> = by_plugin.into_iter().collect();
    // Stable: plugins the operator did not order keep their name order.
    groups.sort_by_key(|(plugin, _)| rank(plugin));
    let mut shared = SharedPanels::default();
    for (plugin, mut ps) in groups {
        let room = MAX_PANELS.saturating_sub(shared.shown.len());
        let take = ps.len().min(layout.per_plugin).min(room);
        let rest = ps.split_off(take);
        shared.shown.extend(ps);
        if !rest.is_empty() {
            shared.folded.push((plugin, rest));
        }
    }
    shared
}

/// Renders panels concurrently, each in its own task, so one that panics,
/// fails or hangs only costs its own card.
pub(super) async fn render_panels(
    data: &Data,
    entity: &Arc<Value>,
    panels: &[&PanelInfo],
) -> Vec<PanelView> {
    let tasks: Vec<_> = panels
        .iter()
        .map(|p| {
            let data = data.clone();
            let entity = entity.clone();
            let (plugin, id) = (p.plugin.clone(), p.id.clone());
            tokio::spawn(async move {
                tokio::time::timeout(PANEL_DEADLINE, data.render_panel(&plugin, &id, &entity)).await
            })
        })
        .collect();
    let mut out = Vec::with_capacity(panels.len());
    for (p, task) in panels.iter().zip(tasks) {
        let result = match task.await {
            Ok(Ok(Ok(widget))) => prepare(widget),
            Ok(Ok(Err(failure))) => PanelResult::Err(failure),
            Ok(Err(_)) => PanelResult::Err(PanelFailure::new(
                PanelFailureKind::Timeout,
                format!("no answer within {} s", PANEL_DEADLINE.as_secs()),
            )),
            Err(join) => PanelResult::Err(PanelFailure::new(
                PanelFailureKind::Failed,
                format!("rendering failed inside the portal: {join}"),
            )),
        };
        if let PanelResult::Err(failure) = &result {
            tracing::warn!(plugin = %p.plugin, panel = %p.id, kind = failure.kind.as_str(), "panel failed: {}", failure.message);
        }
        out.push(PanelView {
            plugin: p.plugin.clone(),
            panel: p.id.clone(),
            title: p.title.clone(),
            result,
        });
    }
    out
}

/// Prepares a checked widget tree for the page: Markdown to sanitised HTML,
/// and (defence in depth: the host already refused them) unsafe links to text.
pub fn prepare(mut widget: Widget) -> PanelResult {
    widget.walk_mut(&mut |w| match w {
        Widget::Markdown { markdown: md, html } => {
            *html = markdown::to_safe_html(md);
            md.clear();
        }
        Widget::Link { label, url } if !portal_types::url::is_safe(url) => {
            *w = Widget::Text {
                text: format!("{label} ({url})"),
            };
        }
        _ => {}
    });
    PanelResult::Ok(widget)
}

/// The entity page's tabs and panels.
pub(super) struct PagePanels {
    pub tabs: Vec<Tab>,
    pub active_tab: String,
    pub cards: Vec<PanelView>,
    pub tab_panel: Option<PanelView>,
    pub more_panels: Vec<PanelFold>,
}

/// Tabs (overview, the API definition when there is one, then plugin tabs),
/// and the panels of the active tab, rendered.
pub(super) async fn page_panels(
    data: &Data,
    layout: &PanelLayout,
    e: &Value,
    href: &str,
    has_definition: bool,
    has_docs: bool,
    tab: Option<&str>,
) -> PagePanels {
    // Tabs: overview, the API definition, then one per tab panel shown.
    let panels = share_panels(data.panels_for(e).await, layout);
    let slug = |p: &PanelInfo| format!("{}.{}", p.plugin, p.id);
    let mut tabs = vec![Tab {
        slug: "overview".to_owned(),
        label: "Overview".to_owned(),
        href: href.to_owned(),
    }];
    if has_definition {
        tabs.push(Tab {
            slug: "definition".to_owned(),
            label: "Definition".to_owned(),
            href: format!("{href}/definition"),
        });
    }
    if has_docs {
        tabs.push(Tab {
            slug: "docs".to_owned(),
            label: "Docs".to_owned(),
            href: format!("{href}/docs"),
        });
    }
    for p in panels
        .shown
        .iter()
        .filter(|p| p.placement == Placement::Tab)
    {
        tabs.push(Tab {
            href: format!("{href}/{}", slug(p)),
            label: p.title.clone(),
            slug: slug(p),
        });
    }
    // A folded panel opens as a tab of its own when asked for.
    let folded = panels
        .folded
        .iter()
        .flat_map(|(_, ps)| ps)
        .find(|p| tab == Some(slug(p).as_str()));
    if let Some(p) = folded {
        tabs.push(Tab {
            href: format!("{href}/{}", slug(p)),
            label: p.title.clone(),
            slug: slug(p),
        });
    }
    let active_tab = match tab {
        Some(t) if tabs.iter().any(|x| x.slug == t) => t.to_owned(),
        _ => "overview".to_owned(),
    };
    let entity_arc = Arc::new(e.clone());
    let (cards, tab_panel) = if active_tab == "overview" {
        let cards: Vec<&PanelInfo> = panels
            .shown
            .iter()
            .filter(|p| p.placement != Placement::Tab)
            .collect();
        (render_panels(data, &entity_arc, &cards).await, None)
    } else if let Some(p) = panels
        .shown
        .iter()
        .filter(|p| p.placement == Placement::Tab)
        .chain(folded)
        .find(|p| slug(p) == active_tab)
    {
        (
            Vec::new(),
            render_panels(data, &entity_arc, &[p]).await.pop(),
        )
    } else {
        (Vec::new(), None)
    };
    let more_panels = panels
        .folded
        .iter()
        .map(|(plugin, ps)| PanelFold {
            plugin: plugin.clone(),
            panels: ps
                .iter()
                .map(|p| Tab {
                    href: format!("{href}/{}", slug(p)),
                    label: p.title.clone(),
                    slug: slug(p),
                })
                .collect(),
        })
        .collect();
    PagePanels {
        tabs,
        active_tab,
        cards,
        tab_panel,
        more_panels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn panel_output_is_prepared_and_markdown_sanitised() {
        let view: Widget =
            serde_json::from_value(json!({"type": "card", "title": "T", "children": [
                {"type": "markdown", "markdown": "**hi** <script>x</script> [off](//evil.example)"},
                {"type": "link", "label": "bad", "url": "javascript:alert(1)"},
                {"type": "sparkles"}
            ]}))
            .unwrap();
        let PanelResult::Ok(Widget::Card { children, .. }) = prepare(view) else {
            panic!("expected a card");
        };
        assert!(
            matches!(&children[0], Widget::Markdown { html, markdown } if html.contains("<strong>hi</strong>") && !html.contains("script") && !html.contains("evil.example") && markdown.is_empty()),
            "{:?}",
            children[0]
        );
        assert!(matches!(&children[1], Widget::Text { .. }));
        assert!(matches!(&children[2], Widget::Unknown));
    }

    fn panel(plugin: &str, id: usize) -> PanelInfo {
        PanelInfo {
            plugin: plugin.to_owned(),
            id: format!("p{id}"),
            title: format!("Panel {id}"),
            placement: Placement::Card,
        }
    }

    /// Thirty panels from one plugin beside one from another: the other is
    /// shown, the flood keeps its share and folds the rest.
    #[test]
    fn a_plugin_cannot_crowd_others_off_the_page() {
        let mut panels: Vec<PanelInfo> = (0..30).map(|i| panel("a-flood", i)).collect();
        panels.push(panel("z-good", 0));
        let layout = PanelLayout::default();
        let shared = share_panels(panels.clone(), &layout);
        let shown: Vec<&str> = shared.shown.iter().map(|p| p.plugin.as_str()).collect();
        assert_eq!(
            shown.iter().filter(|p| **p == "a-flood").count(),
            layout.per_plugin
        );
        assert!(shown.contains(&"z-good"), "{shown:?}");
        assert_eq!(shared.folded.len(), 1);
        assert_eq!(shared.folded[0].0, "a-flood");
        assert_eq!(shared.folded[0].1.len(), 30 - layout.per_plugin);

        // The operator's order comes before name order.
        let ordered = PanelLayout {
            plugin_order: vec!["z-good".to_owned()],
            per_plugin: 2,
        };
        let shared = share_panels(panels, &ordered);
        assert_eq!(shared.shown[0].plugin, "z-good");
        assert_eq!(shared.shown.len(), 3);
        assert_eq!(shared.folded[0].1.len(), 28);
    }

    /// However many plugins there are, the page renders at most `MAX_PANELS`
    /// and folds, never drops, the rest.
    #[test]
    fn the_page_cap_folds_instead_of_dropping() {
        let panels: Vec<PanelInfo> = (0..40)
            .flat_map(|p| (0..2).map(move |i| panel(&format!("plugin-{p:02}"), i)))
            .collect();
        let shared = share_panels(panels, &PanelLayout::default());
        assert_eq!(shared.shown.len(), MAX_PANELS);
        let folded: usize = shared.folded.iter().map(|(_, ps)| ps.len()).sum();
        assert_eq!(shared.shown.len() + folded, 80);
    }
}
