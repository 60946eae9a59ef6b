//! Turning a panel's flattened node list back into a widget tree, and refusing
//! output the portal should not show: dangling or shared indices, cycles, too many
//! nodes, too much text, deep nesting, links to `javascript:` and the like.

use crate::model::{KeyValue, Tone, Widget};

pub const MAX_NODES: usize = 5_000;
pub const MAX_TEXT_BYTES: usize = 1 << 20;
pub const MAX_DEPTH: usize = 32;

/// A panel's output as the plugin sent it: nodes refer to children by index.
pub(crate) struct FlatView {
    pub nodes: Vec<FlatNode>,
    pub root: u32,
}

pub(crate) enum FlatNode {
    Text(String),
    Markdown(String),
    Link {
        label: String,
        url: String,
    },
    Badge {
        label: String,
        tone: Tone,
    },
    Stat {
        label: String,
        value: String,
        tone: Tone,
    },
    Code {
        language: String,
        content: String,
    },
    Empty(String),
    Card {
        title: String,
        children: Vec<u32>,
    },
    KeyValues(Vec<(String, u32)>),
    Table {
        columns: Vec<String>,
        rows: Vec<Vec<u32>>,
    },
    Stack(Vec<u32>),
    Row(Vec<u32>),
}

impl FlatNode {
    fn text_bytes(&self) -> usize {
        match self {
            FlatNode::Text(s) | FlatNode::Markdown(s) | FlatNode::Empty(s) => s.len(),
            FlatNode::Link { label, url } => label.len() + url.len(),
            FlatNode::Badge { label, .. } => label.len(),
            FlatNode::Stat { label, value, .. } => label.len() + value.len(),
            FlatNode::Code { language, content } => language.len() + content.len(),
            FlatNode::Card { title, .. } => title.len(),
            FlatNode::KeyValues(items) => items.iter().map(|(k, _)| k.len()).sum(),
            FlatNode::Table { columns, .. } => columns.iter().map(String::len).sum(),
            FlatNode::Stack(_) | FlatNode::Row(_) => 0,
        }
    }
}

/// Builds the tree, or says precisely what is wrong with the output.
pub(crate) fn view_to_tree(view: FlatView) -> Result<Widget, String> {
    let count = view.nodes.len();
    if count == 0 {
        return Err("the view has no nodes".into());
    }
    if count > MAX_NODES {
        return Err(format!(
            "the view has {count} nodes, over the limit of {MAX_NODES}"
        ));
    }
    let text: usize = view.nodes.iter().map(FlatNode::text_bytes).sum();
    if text > MAX_TEXT_BYTES {
        return Err(format!(
            "the view holds {text} bytes of text, over the limit of {MAX_TEXT_BYTES}"
        ));
    }
    let mut slots: Vec<Option<FlatNode>> = view.nodes.into_iter().map(Some).collect();
    build(&mut slots, view.root, 0)
}

fn build(slots: &mut [Option<FlatNode>], index: u32, depth: usize) -> Result<Widget, String> {
    if depth > MAX_DEPTH {
        return Err(format!("the view is nested deeper than {MAX_DEPTH} levels"));
    }
    let count = slots.len();
    let node = slots
        .get_mut(index as usize)
        .ok_or_else(|| format!("node index {index} is out of range (the view has {count} nodes)"))?
        .take()
        .ok_or_else(|| format!("node {index} is used more than once (or forms a cycle)"))?;
    let mut children = |ids: Vec<u32>| -> Result<Vec<Widget>, String> {
        ids.into_iter()
            .map(|id| build(slots, id, depth + 1))
            .collect()
    };
    Ok(match node {
        FlatNode::Text(text) => Widget::Text { text },
        FlatNode::Markdown(markdown) => Widget::Markdown { markdown },
        FlatNode::Link { label, url } => {
            check_url(&url)?;
            Widget::Link { label, url }
        }
        FlatNode::Badge { label, tone } => Widget::Badge { label, tone },
        FlatNode::Stat { label, value, tone } => Widget::Stat { label, value, tone },
        FlatNode::Code { language, content } => Widget::Code { language, content },
        FlatNode::Empty(message) => Widget::Empty { message },
        FlatNode::Card {
            title,
            children: ids,
        } => Widget::Card {
            title,
            children: children(ids)?,
        },
        FlatNode::Stack(ids) => Widget::Stack {
            children: children(ids)?,
        },
        FlatNode::Row(ids) => Widget::Row {
            children: children(ids)?,
        },
        FlatNode::KeyValues(items) => Widget::KeyValues {
            items: items
                .into_iter()
                .map(|(key, id)| {
                    Ok(KeyValue {
                        key,
                        value: build(slots, id, depth + 1)?,
                    })
                })
                .collect::<Result<_, String>>()?,
        },
        FlatNode::Table { columns, rows } => {
            let width = columns.len();
            let mut built = Vec::with_capacity(rows.len());
            for (i, row) in rows.into_iter().enumerate() {
                if row.len() != width {
                    return Err(format!(
                        "table row {i} has {} cells but the table has {width} columns",
                        row.len()
                    ));
                }
                built.push(
                    row.into_iter()
                        .map(|id| build(slots, id, depth + 1))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
            Widget::Table {
                columns,
                rows: built,
            }
        }
    })
}

/// Links may go to http(s), mailto, or a path inside the portal; nothing that runs.
fn check_url(url: &str) -> Result<(), String> {
    let lower = url.trim().to_ascii_lowercase();
    let ok = lower.starts_with("https://")
        || lower.starts_with("http://")
        || lower.starts_with("mailto:")
        || (lower.starts_with('/') && !lower.starts_with("//"));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "link URL `{url}` is not allowed: use http(s)://, mailto: or a path starting with /"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FlatNode {
        FlatNode::Text(s.into())
    }

    #[test]
    fn builds_a_tree() {
        let view = FlatView {
            nodes: vec![
                FlatNode::Card {
                    title: "CI".into(),
                    children: vec![1, 2],
                },
                text("ok"),
                FlatNode::Table {
                    columns: vec!["a".into()],
                    rows: vec![vec![3]],
                },
                FlatNode::Badge {
                    label: "green".into(),
                    tone: Tone::Success,
                },
            ],
            root: 0,
        };
        let tree = view_to_tree(view).unwrap();
        let json = serde_json::to_value(&tree).unwrap();
        assert_eq!(json["type"], "card");
        assert_eq!(json["children"][1]["rows"][0][0]["label"], "green");
    }

    #[test]
    fn refuses_bad_structure() {
        let cases: Vec<(FlatView, &str)> = vec![
            (
                FlatView {
                    nodes: vec![],
                    root: 0,
                },
                "no nodes",
            ),
            (
                FlatView {
                    nodes: vec![text("a")],
                    root: 3,
                },
                "out of range",
            ),
            (
                FlatView {
                    nodes: vec![FlatNode::Stack(vec![0])],
                    root: 0,
                },
                "more than once",
            ),
            (
                FlatView {
                    nodes: vec![FlatNode::Stack(vec![1, 1]), text("x")],
                    root: 0,
                },
                "more than once",
            ),
            (
                FlatView {
                    nodes: vec![FlatNode::Link {
                        label: "x".into(),
                        url: "javascript:alert(1)".into(),
                    }],
                    root: 0,
                },
                "not allowed",
            ),
            (
                FlatView {
                    nodes: vec![FlatNode::Table {
                        columns: vec!["a".into(), "b".into()],
                        rows: vec![vec![]],
                    }],
                    root: 0,
                },
                "has 0 cells",
            ),
            (
                FlatView {
                    nodes: (0..MAX_NODES + 1).map(|_| text("x")).collect(),
                    root: 0,
                },
                "over the limit",
            ),
            (
                FlatView {
                    nodes: vec![text(&"x".repeat(MAX_TEXT_BYTES + 1))],
                    root: 0,
                },
                "bytes of text",
            ),
        ];
        for (view, expected) in cases {
            let err = view_to_tree(view).unwrap_err();
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
    }

    #[test]
    fn refuses_deep_nesting() {
        let n = MAX_DEPTH as u32 + 5;
        let mut nodes: Vec<FlatNode> = (0..n).map(|i| FlatNode::Stack(vec![i + 1])).collect();
        nodes.push(text("leaf"));
        let err = view_to_tree(FlatView { nodes, root: 0 }).unwrap_err();
        assert!(err.contains("deeper"), "{err}");
    }
}
