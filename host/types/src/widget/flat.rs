//! A panel's output as plugins send it: a list of nodes where containers refer
//! to their children by index (WIT has no recursive types). [`FlatView::into_tree`]
//! rebuilds the [`Widget`] tree and refuses output that breaks a rule of
//! [`crate::widget`], saying exactly which.

use super::{KeyValue, MAX_DEPTH, MAX_NODES, MAX_TEXT_BYTES, Tone, Widget};
use std::fmt;

/// A panel's output as the plugin sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatView {
    pub nodes: Vec<FlatNode>,
    pub root: u32,
}

/// One node; containers hold the indices of their children.
#[derive(Debug, Clone, PartialEq)]
pub enum FlatNode {
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

/// Why a panel's output is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeError {
    NoNodes,
    TooManyNodes {
        count: usize,
    },
    TooMuchText {
        bytes: usize,
    },
    TooDeep,
    OutOfRange {
        index: u32,
        count: usize,
    },
    UsedTwice {
        index: u32,
    },
    Unreachable {
        index: usize,
        count: usize,
    },
    RowWidth {
        row: usize,
        cells: usize,
        columns: usize,
    },
    UnsafeLink(crate::url::UnsafeUrl),
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TreeError::NoNodes => write!(f, "the view has no nodes"),
            TreeError::TooManyNodes { count } => {
                write!(
                    f,
                    "the view has {count} nodes, over the limit of {MAX_NODES}"
                )
            }
            TreeError::TooMuchText { bytes } => write!(
                f,
                "the view holds {bytes} bytes of text, over the limit of {MAX_TEXT_BYTES}"
            ),
            TreeError::TooDeep => write!(f, "the view is nested deeper than {MAX_DEPTH} levels"),
            TreeError::OutOfRange { index, count } => write!(
                f,
                "node index {index} is out of range (the view has {count} nodes)"
            ),
            TreeError::UsedTwice { index } => {
                write!(f, "node {index} is used more than once (or forms a cycle)")
            }
            TreeError::Unreachable { index, count } => write!(
                f,
                "node {index} is not reachable from the root ({count} nodes are not): every node must be used exactly once"
            ),
            TreeError::RowWidth {
                row,
                cells,
                columns,
            } => write!(
                f,
                "table row {row} has {cells} cells but the table has {columns} columns"
            ),
            TreeError::UnsafeLink(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for TreeError {}

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

impl FlatView {
    /// Builds the tree, or says precisely what is wrong with the output.
    pub fn into_tree(self) -> Result<Widget, TreeError> {
        let count = self.nodes.len();
        if count == 0 {
            return Err(TreeError::NoNodes);
        }
        if count > MAX_NODES {
            return Err(TreeError::TooManyNodes { count });
        }
        let bytes: usize = self.nodes.iter().map(FlatNode::text_bytes).sum();
        if bytes > MAX_TEXT_BYTES {
            return Err(TreeError::TooMuchText { bytes });
        }
        let mut slots: Vec<Option<FlatNode>> = self.nodes.into_iter().map(Some).collect();
        let tree = build(&mut slots, self.root, 0)?;
        // Every node taken means every node was reachable exactly once.
        let strays = slots.iter().filter(|s| s.is_some()).count();
        if let Some(index) = slots.iter().position(Option::is_some) {
            return Err(TreeError::Unreachable {
                index,
                count: strays,
            });
        }
        Ok(tree)
    }
}

fn build(slots: &mut [Option<FlatNode>], index: u32, depth: usize) -> Result<Widget, TreeError> {
    if depth > MAX_DEPTH {
        return Err(TreeError::TooDeep);
    }
    let count = slots.len();
    let node = slots
        .get_mut(index as usize)
        .ok_or(TreeError::OutOfRange { index, count })?
        .take()
        .ok_or(TreeError::UsedTwice { index })?;
    let mut children = |ids: Vec<u32>| -> Result<Vec<Widget>, TreeError> {
        ids.into_iter()
            .map(|id| build(slots, id, depth + 1))
            .collect()
    };
    Ok(match node {
        FlatNode::Text(text) => Widget::Text { text },
        FlatNode::Markdown(markdown) => Widget::Markdown {
            markdown,
            html: String::new(),
        },
        FlatNode::Link { label, url } => {
            crate::url::classify(&url).map_err(TreeError::UnsafeLink)?;
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
                .collect::<Result<_, TreeError>>()?,
        },
        FlatNode::Table { columns, rows } => {
            let width = columns.len();
            let mut built = Vec::with_capacity(rows.len());
            for (i, row) in rows.into_iter().enumerate() {
                if row.len() != width {
                    return Err(TreeError::RowWidth {
                        row: i,
                        cells: row.len(),
                        columns: width,
                    });
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

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> FlatNode {
        FlatNode::Text(s.into())
    }

    fn view(nodes: Vec<FlatNode>, root: u32) -> FlatView {
        FlatView { nodes, root }
    }

    #[test]
    fn builds_a_tree() {
        let tree = view(
            vec![
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
            0,
        )
        .into_tree()
        .unwrap();
        let Widget::Card { children, .. } = tree else {
            panic!("a card")
        };
        assert!(
            matches!(&children[1], Widget::Table { rows, .. } if matches!(&rows[0][0], Widget::Badge { label, .. } if label == "green"))
        );
    }

    #[test]
    fn refuses_bad_structure() {
        let link = |url: &str| FlatNode::Link {
            label: "x".into(),
            url: url.into(),
        };
        let cases: Vec<(FlatView, &str)> = vec![
            (view(vec![], 0), "no nodes"),
            (view(vec![text("a")], 3), "out of range"),
            (view(vec![FlatNode::Stack(vec![0])], 0), "more than once"),
            (
                view(vec![FlatNode::Stack(vec![1, 1]), text("x")], 0),
                "more than once",
            ),
            (view(vec![text("shown"), text("stray")], 0), "not reachable"),
            (
                view(vec![FlatNode::Stack(vec![1]), text("a"), text("b")], 0),
                "node 2 is not reachable",
            ),
            (view(vec![link("javascript:alert(1)")], 0), "not allowed"),
            (view(vec![link("/\\evil.example/x")], 0), "backslash"),
            (
                view(
                    vec![FlatNode::Table {
                        columns: vec!["a".into(), "b".into()],
                        rows: vec![vec![]],
                    }],
                    0,
                ),
                "has 0 cells",
            ),
            (
                view((0..MAX_NODES + 1).map(|_| text("x")).collect(), 0),
                "over the limit",
            ),
            (
                view(vec![text(&"x".repeat(MAX_TEXT_BYTES + 1))], 0),
                "bytes of text",
            ),
        ];
        for (view, expected) in cases {
            let err = view.into_tree().unwrap_err().to_string();
            assert!(err.contains(expected), "{err} should mention {expected}");
        }
    }

    /// The depth limit is exact: `MAX_DEPTH` levels below the root pass, one more does not.
    #[test]
    fn nesting_is_limited_to_max_depth() {
        let chain = |levels: u32| {
            let mut nodes: Vec<FlatNode> =
                (0..levels).map(|i| FlatNode::Stack(vec![i + 1])).collect();
            nodes.push(text("leaf"));
            view(nodes, 0)
        };
        assert!(chain(MAX_DEPTH as u32).into_tree().is_ok());
        let err = chain(MAX_DEPTH as u32 + 1).into_tree().unwrap_err();
        assert_eq!(err, TreeError::TooDeep);
    }
}
