//! Lays out an entity's relation graph: the entity in the middle, what it
//! belongs to or is used by (owner, system, parent, groups, dependents) on the
//! left, what it depends on, provides, contains or owns on the right, each
//! node captioned with its relation. Computed here, drawn as SVG by the page.

use crate::model::{Graph, GraphEdge, GraphNode, Row, ref_link};
use std::fmt::Write as _;

const NODE_W: f32 = 200.0;
const NODE_H: f32 = 44.0;
const GAP: f32 = 14.0;
const WIDTH: f32 = 760.0;
const PAD: f32 = 16.0;
/// Most neighbours drawn per side; the rest become one "+N more" node.
const PER_SIDE: usize = 8;

/// Relations drawn on the left: what the entity belongs to or is provided by.
const LEFT: &[&str] = &[
    "ownedBy",
    "partOf",
    "childOf",
    "memberOf",
    "apiProvidedBy",
    "apiConsumedBy",
    "dependencyOf",
];

pub fn layout(center: &Row, relations: &[(String, String)]) -> Graph {
    let mut left: Vec<(&str, &str)> = Vec::new();
    let mut right: Vec<(&str, &str)> = Vec::new();
    for (t, r) in relations {
        if LEFT.contains(&t.as_str()) {
            left.push((t, r));
        } else {
            right.push((t, r));
        }
    }
    let rows = left
        .len()
        .min(PER_SIDE + 1)
        .max(right.len().min(PER_SIDE + 1))
        .max(1);
    let height = PAD * 2.0 + rows as f32 * NODE_H + (rows as f32 - 1.0) * GAP;
    let cx = (WIDTH - NODE_W) / 2.0;
    let cy = (height - NODE_H) / 2.0;
    let mut graph = Graph {
        width: WIDTH,
        height,
        nodes: vec![GraphNode {
            x: cx,
            y: cy,
            w: NODE_W,
            h: NODE_H,
            label: center.title.clone().unwrap_or_else(|| center.name.clone()),
            caption: center.kind.clone(),
            kind: center.kind.clone(),
            href: None,
            center: true,
        }],
        edges: Vec::new(),
    };
    for (side, items) in [(0, &left), (1, &right)] {
        let shown = if items.len() > PER_SIDE + 1 {
            PER_SIDE
        } else {
            items.len()
        };
        let slots = shown + usize::from(items.len() > shown);
        let column_h = slots as f32 * NODE_H + (slots as f32 - 1.0).max(0.0) * GAP;
        let top = (height - column_h) / 2.0;
        let x = if side == 0 { PAD } else { WIDTH - PAD - NODE_W };
        for slot in 0..slots {
            let y = top + slot as f32 * (NODE_H + GAP);
            let node = if slot < shown {
                let (rel, target) = items[slot];
                let link = ref_link(target, "component");
                GraphNode {
                    x,
                    y,
                    w: NODE_W,
                    h: NODE_H,
                    label: link.label.clone(),
                    caption: format!("{rel} · {}", link.kind),
                    kind: link.kind,
                    href: Some(link.href),
                    center: false,
                }
            } else {
                GraphNode {
                    x,
                    y,
                    w: NODE_W,
                    h: NODE_H,
                    label: format!("+{} more", items.len() - shown),
                    caption: "see the tables below".to_owned(),
                    kind: String::new(),
                    href: None,
                    center: false,
                }
            };
            // A curve from the centre's side to the node's facing side.
            let (x1, x2) = if side == 0 {
                (cx, x + NODE_W)
            } else {
                (cx + NODE_W, x)
            };
            let (y1, y2) = (cy + NODE_H / 2.0, y + NODE_H / 2.0);
            let mid = (x1 + x2) / 2.0;
            // Every arrow reads "entity —relation→ neighbour".
            let path =
                format!("M{x1:.1},{y1:.1} C{mid:.1},{y1:.1} {mid:.1},{y2:.1} {x2:.1},{y2:.1}");
            graph.edges.push(GraphEdge { path });
            graph.nodes.push(node);
        }
    }
    graph
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// The graph as SVG markup: nodes are links (focusable, with their full name
/// as a tooltip), edges are curves with arrow heads.
pub fn to_svg(graph: &Graph, title: &str) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="relation-graph" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" role="group" aria-label="{t}"><title>{t}</title><defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow"/></marker></defs>"#,
        w = graph.width,
        h = graph.height,
        t = esc(title)
    );
    for e in &graph.edges {
        let _ = write!(
            s,
            r#"<path class="edge" d="{}" marker-end="url(#arrow)"/>"#,
            esc(&e.path)
        );
    }
    for n in &graph.nodes {
        let class = if n.center { "node center" } else { "node" };
        let body = format!(
            r#"<g class="{class} kind-{kind}"><title>{full}</title><rect x="{x}" y="{y}" width="{w}" height="{h}" rx="8"/><text class="label" x="{tx}" y="{ly}">{label}</text><text class="caption" x="{tx}" y="{cy}">{caption}</text></g>"#,
            kind = esc(&n.kind),
            full = esc(&n.label),
            x = n.x,
            y = n.y,
            w = n.w,
            h = n.h,
            tx = n.x + 12.0,
            ly = n.y + 19.0,
            cy = n.y + 35.0,
            label = esc(&clip(&n.label, 26)),
            caption = esc(&clip(&n.caption, 32)),
        );
        match &n.href {
            Some(href) => {
                let _ = write!(
                    s,
                    r#"<a href="{}" aria-label="{}">{body}</a>"#,
                    esc(href),
                    esc(&format!("{} ({})", n.label, n.caption))
                );
            }
            None => s.push_str(&body),
        }
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_are_split_and_capped() {
        let center = Row {
            name: "web".into(),
            kind: "component".into(),
            ..Row::default()
        };
        let mut rels = vec![("ownedBy".to_owned(), "group:default/team-a".to_owned())];
        for i in 0..20 {
            rels.push(("dependsOn".to_owned(), format!("component:default/c{i}")));
        }
        let g = layout(&center, &rels);
        // centre + 1 owner + 8 dependencies + "+12 more"
        assert_eq!(g.nodes.len(), 11);
        assert_eq!(g.edges.len(), 10);
        assert!(g.nodes.iter().any(|n| n.label == "+12 more"));
        // Neighbours of another kind than the centre carry their kind.
        let owner = g.nodes.iter().find(|n| n.label == "group:team-a").unwrap();
        assert!(owner.x < g.nodes[0].x);
        assert_eq!(owner.href.as_deref(), Some("/catalog/default/group/team-a"));
        assert!(g.nodes.iter().all(|n| n.y >= 0.0 && n.y + n.h <= g.height));
        let svg = to_svg(&g, "Relations of <web>");
        assert!(svg.contains(r#"href="/catalog/default/group/team-a""#));
        assert!(svg.contains("Relations of &lt;web&gt;"));
        assert_eq!(svg.matches("<a ").count(), 9);
    }
}
