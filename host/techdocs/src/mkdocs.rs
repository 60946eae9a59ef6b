//! `mkdocs.yml` read as data. MkDocs itself executes configuration: hooks
//! and plugins are Python modules, `!!python/name:` and
//! `!!python/object/apply:` tags import and call Python, `!ENV` reads the
//! environment, `INHERIT` and `!relative` read other files. None of that
//! happens here. The YAML is parsed into a small tree that keeps each
//! node's tag; any node carrying a tag other than the YAML core types is
//! dropped with a warning, and the keys that only make sense for code
//! execution or custom themes are ignored with a warning.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Tagged;

use crate::error::BuildError;
use crate::{BuildLimits, Problem};

/// A YAML node with the tag it was written with (if any).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub tag: Option<String>,
    pub value: Value,
}

/// The value of a YAML node. Numbers are kept as text: the configuration
/// keys read here are strings, lists and maps.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Tagged(value, tag) = Tagged::<Value>::deserialize(deserializer)?;
        Ok(Node { tag, value })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Number(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::String(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
                Ok(Value::String(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some((k, v)) = map.next_entry::<Node, Node>()? {
                    entries.push((k, v));
                }
                Ok(Value::Map(entries))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}

impl Node {
    /// The node's text if it is a scalar.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) | Value::Number(s) => Some(s),
            Value::Bool(true) => Some("true"),
            Value::Bool(false) => Some("false"),
            _ => None,
        }
    }

    /// The value under `key` if this is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_scalar() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }
}

/// Whether a resolved tag is one of the YAML core types (which change
/// nothing but how a scalar is typed).
fn is_core_tag(tag: &str) -> bool {
    let name = tag
        .strip_prefix("tag:yaml.org,2002:")
        .or_else(|| tag.strip_prefix("!!"))
        .unwrap_or(tag);
    matches!(
        name,
        "str" | "int" | "float" | "bool" | "null" | "seq" | "map" | "!" | ""
    ) || tag == "!"
}

/// Replaces every node carrying a non-core tag (`!!python/...`, `!ENV`,
/// `!relative`, ...) with null and reports it; `path` names the node for the
/// message.
fn strip_tags(node: &mut Node, path: &str, file: &str, problems: &mut Vec<Problem>) {
    if let Some(tag) = &node.tag
        && !is_core_tag(tag)
    {
        problems.push(Problem::warning(
                file,
                format!(
                    "`{}`: value tagged `{}` ignored (tags are read as data; nothing is executed or read)",
                    if path.is_empty() { "(document)" } else { path },
                    tag.chars().take(100).collect::<String>()
                ),
            ));
        node.tag = None;
        node.value = Value::Null;
        return;
    }
    match &mut node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                strip_tags(item, &format!("{path}[{i}]"), file, problems);
            }
        }
        Value::Map(entries) => {
            entries.retain(|(k, _)| {
                let keep = k.tag.as_deref().is_none_or(is_core_tag);
                if !keep {
                    problems.push(Problem::warning(
                        file,
                        format!(
                            "`{path}`: key tagged `{}` ignored",
                            k.tag
                                .as_deref()
                                .unwrap_or("")
                                .chars()
                                .take(100)
                                .collect::<String>()
                        ),
                    ));
                }
                keep
            });
            for (k, v) in entries.iter_mut() {
                let key = k
                    .as_scalar()
                    .unwrap_or("?")
                    .chars()
                    .take(100)
                    .collect::<String>();
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                strip_tags(v, &child, file, problems);
            }
        }
        _ => {}
    }
}

/// Parses YAML text into a [`Node`] under a budget (depth, nodes, aliases),
/// with tags other than the core ones stripped and reported.
pub(crate) fn parse_yaml(
    text: &str,
    file: &str,
    problems: &mut Vec<Problem>,
) -> Result<Node, BuildError> {
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: 64,
            max_nodes: 200_000,
            max_aliases: 1_000,
            max_anchors: 1_000,
            max_documents: 1,
            max_total_scalar_bytes: 16 * 1024 * 1024,
            max_recorded_anchor_events: 200_000,
            max_merge_keys: 1_000,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: 200_000,
            max_replay_stack_depth: 32,
        },
        with_snippet: false,
    };
    if text.trim().is_empty() {
        return Ok(Node {
            tag: None,
            value: Value::Map(Vec::new()),
        });
    }
    let mut node: Node =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| BuildError::ConfigYaml {
            file: file.to_owned(),
            line: e.location().map(|l| l.line() as usize),
            message: {
                let message = e.to_string();
                let first = message.lines().next().unwrap_or("").trim();
                match first.rfind(" at line ") {
                    Some(i) => first[..i].to_owned(),
                    None => first.to_owned(),
                }
            },
        })?;
    strip_tags(&mut node, "", file, problems);
    Ok(node)
}

/// One entry of the configured nav, before it is matched with the pages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NavEntry {
    /// A page, by its path relative to docs_dir.
    Page { title: Option<String>, file: String },
    Section {
        title: String,
        children: Vec<NavEntry>,
    },
    /// An external link (not yet checked).
    Link { title: String, url: String },
}

/// What the builder uses from `mkdocs.yml`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Config {
    pub site_name: String,
    /// `site_description` (plain text), if any.
    pub site_description: Option<String>,
    pub docs_dir: String,
    pub nav: Option<Vec<NavEntry>>,
    pub repo_url: Option<String>,
    /// `Some("")` disables edit links.
    pub edit_uri: Option<String>,
}

/// Plugins that only change how MkDocs builds, not what runs: accepted
/// silently.
const HARMLESS_PLUGINS: &[&str] = &["techdocs-core", "search", "material/search"];

/// Keys that exist to run code or load files from elsewhere: ignored, with a
/// warning so the author knows the portal's build differs.
const IGNORED_KEYS: &[(&str, &str)] = &[
    (
        "hooks",
        "hooks are Python code, which the portal never runs",
    ),
    ("INHERIT", "configuration is never read from other files"),
    (
        "extra_javascript",
        "the portal never adds a site's own JavaScript to pages",
    ),
    (
        "extra_css",
        "the portal never adds a site's own CSS to pages",
    ),
];

/// Reads the configuration out of the parsed YAML.
pub(crate) fn read_config(
    root: &Node,
    file: &str,
    limits: &BuildLimits,
    problems: &mut Vec<Problem>,
) -> Result<Config, BuildError> {
    let invalid = |message: String| BuildError::ConfigInvalid {
        file: file.to_owned(),
        message,
    };
    match &root.value {
        Value::Map(_) => {}
        Value::Null => {}
        _ => return Err(invalid("the document is not a mapping of keys".to_owned())),
    }
    for (key, why) in IGNORED_KEYS {
        if root.get(key).is_some() {
            problems.push(Problem::warning(file, format!("`{key}` ignored: {why}")));
        }
    }
    if root
        .get("theme")
        .and_then(|t| t.get("custom_dir"))
        .is_some()
    {
        problems.push(Problem::warning(
            file,
            "`theme.custom_dir` ignored: pages are shown in the portal's own layout",
        ));
    }
    if let Some(plugins) = root.get("plugins") {
        let names: Vec<String> = match &plugins.value {
            Value::Seq(items) => items
                .iter()
                .filter_map(|item| match &item.value {
                    Value::Map(entries) => entries
                        .first()
                        .and_then(|(k, _)| k.as_scalar().map(str::to_owned)),
                    _ => item.as_scalar().map(str::to_owned),
                })
                .collect(),
            Value::Map(entries) => entries
                .iter()
                .filter_map(|(k, _)| k.as_scalar().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        for name in names {
            if !HARMLESS_PLUGINS.contains(&name.as_str()) {
                problems.push(Problem::warning(
                    file,
                    format!(
                        "`plugins`: plugin `{}` ignored: plugins are Python code, which the portal never runs",
                        name.chars().take(100).collect::<String>()
                    ),
                ));
            }
        }
    }

    let string_key = |key: &str, problems: &mut Vec<Problem>| -> Option<String> {
        let node = root.get(key)?;
        match &node.value {
            Value::Null => None,
            _ => match node.as_scalar() {
                Some(s) => Some(s.to_owned()),
                None => {
                    problems.push(Problem::warning(
                        file,
                        format!("`{key}` is not a string: ignored"),
                    ));
                    None
                }
            },
        }
    };

    let site_name = string_key("site_name", problems).unwrap_or_else(|| {
        problems.push(Problem::warning(
            file,
            "`site_name` is missing: using \"Documentation Site\"",
        ));
        "Documentation Site".to_owned()
    });
    let docs_dir = match root.get("docs_dir") {
        None
        | Some(Node {
            value: Value::Null, ..
        }) => "docs".to_owned(),
        Some(node) => match node.as_scalar() {
            Some(s) => s.to_owned(),
            None => return Err(invalid("`docs_dir` is not a string".to_owned())),
        },
    };
    let site_description = string_key("site_description", problems);
    let repo_url = string_key("repo_url", problems);
    let edit_uri = string_key("edit_uri", problems);
    let nav = match root.get("nav") {
        None => None,
        Some(Node {
            value: Value::Null, ..
        }) => None,
        Some(Node {
            value: Value::Seq(items),
            ..
        }) => Some(read_nav(items, 1, file, limits, problems)?),
        Some(_) => return Err(invalid("`nav` is not a list".to_owned())),
    };
    Ok(Config {
        site_name,
        site_description,
        docs_dir,
        nav,
        repo_url,
        edit_uri,
    })
}

/// Whether a nav target is a URL rather than a file in docs_dir.
fn looks_like_url(target: &str) -> bool {
    let lower = target.to_ascii_lowercase();
    lower.contains("://")
        || lower.starts_with("mailto:")
        || lower.starts_with("//")
        || lower
            .split('/')
            .next()
            .is_some_and(|first| first.contains(':'))
}

fn read_nav(
    items: &[Node],
    depth: usize,
    file: &str,
    limits: &BuildLimits,
    problems: &mut Vec<Problem>,
) -> Result<Vec<NavEntry>, BuildError> {
    if depth > limits.max_nav_depth {
        return Err(BuildError::NavTooDeep {
            file: file.to_owned(),
            limit: limits.max_nav_depth,
        });
    }
    let mut out = Vec::new();
    for item in items {
        match &item.value {
            Value::Null => {}
            Value::String(target) => {
                if looks_like_url(target) {
                    out.push(NavEntry::Link {
                        title: target.clone(),
                        url: target.clone(),
                    });
                } else {
                    out.push(NavEntry::Page {
                        title: None,
                        file: target.clone(),
                    });
                }
            }
            Value::Map(entries) if entries.len() == 1 => {
                let (key, value) = &entries[0];
                let Some(title) = key.as_scalar().map(str::to_owned) else {
                    problems.push(Problem::warning(file, "`nav`: an entry's title is not text: entry ignored"));
                    continue;
                };
                match &value.value {
                    Value::String(target) if looks_like_url(target) => out.push(NavEntry::Link {
                        title,
                        url: target.clone(),
                    }),
                    Value::String(target) => out.push(NavEntry::Page {
                        title: Some(title),
                        file: target.clone(),
                    }),
                    Value::Seq(children) => out.push(NavEntry::Section {
                        title,
                        children: read_nav(children, depth + 1, file, limits, problems)?,
                    }),
                    _ => problems.push(Problem::warning(
                        file,
                        format!(
                            "`nav`: entry `{}` is neither a file, a link nor a list: ignored",
                            title.chars().take(100).collect::<String>()
                        ),
                    )),
                }
            }
            _ => problems.push(Problem::warning(
                file,
                "`nav`: an entry is not `file.md`, `Title: file.md`, `Title: URL` or `Title: [...]`: ignored",
            )),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Result<Config, BuildError>, Vec<Problem>) {
        let mut problems = Vec::new();
        let config = parse_yaml(text, "mkdocs.yml", &mut problems).and_then(|node| {
            read_config(&node, "mkdocs.yml", &BuildLimits::default(), &mut problems)
        });
        (config, problems)
    }

    #[test]
    fn reads_the_keys_it_needs() {
        let (config, problems) = parse(
            "site_name: My Docs\ndocs_dir: documentation\nrepo_url: https://github.com/o/r\nedit_uri: edit/dev/documentation/\nnav:\n  - Home: index.md\n  - guide.md\n  - Guide:\n      - Setup: guide/setup.md\n  - Backstage: https://backstage.io\nplugins:\n  - techdocs-core\nmarkdown_extensions:\n  - admonition\n",
        );
        let config = config.unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(config.site_name, "My Docs");
        assert_eq!(config.docs_dir, "documentation");
        assert_eq!(config.repo_url.as_deref(), Some("https://github.com/o/r"));
        assert_eq!(config.edit_uri.as_deref(), Some("edit/dev/documentation/"));
        assert_eq!(
            config.nav.unwrap(),
            vec![
                NavEntry::Page {
                    title: Some("Home".into()),
                    file: "index.md".into()
                },
                NavEntry::Page {
                    title: None,
                    file: "guide.md".into()
                },
                NavEntry::Section {
                    title: "Guide".into(),
                    children: vec![NavEntry::Page {
                        title: Some("Setup".into()),
                        file: "guide/setup.md".into()
                    }],
                },
                NavEntry::Link {
                    title: "Backstage".into(),
                    url: "https://backstage.io".into()
                },
            ]
        );
    }

    #[test]
    fn defaults_when_keys_are_missing() {
        let (config, problems) = parse("site_name: x\n");
        let config = config.unwrap();
        assert_eq!(config.docs_dir, "docs");
        assert_eq!(config.nav, None);
        assert!(problems.is_empty());
    }

    #[test]
    fn python_and_env_tags_are_ignored_with_a_warning() {
        let (config, problems) = parse(
            "site_name: !ENV [SECRET, x]\ndocs_dir: !relative $config_dir\nmarkdown_extensions:\n  - pymdownx.emoji:\n      emoji_index: !!python/name:material.extensions.emoji.twemoji\n  - x: !!python/object/apply:os.system [\"touch /tmp/pwned\"]\n",
        );
        let config = config.unwrap();
        // Tagged values count as absent.
        assert_eq!(config.site_name, "Documentation Site");
        assert_eq!(config.docs_dir, "docs");
        let text = format!("{problems:?}");
        for needle in [
            "!ENV",
            "!relative",
            "python/name",
            "python/object/apply",
            "site_name",
            "emoji_index",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(!std::path::Path::new("/tmp/pwned").exists());
    }

    #[test]
    fn hostile_keys_are_ignored_with_a_warning() {
        let (config, problems) = parse(
            "site_name: x\nhooks: [hooks.py]\nINHERIT: ../base.yml\nextra_javascript: [evil.js]\nextra_css: [x.css]\ntheme:\n  name: material\n  custom_dir: overrides\nplugins:\n  - search\n  - techdocs-core\n  - macros:\n      module_name: main\n  - mkdocstrings\n",
        );
        config.unwrap();
        let text = format!("{problems:?}");
        for needle in [
            "`hooks`",
            "`INHERIT`",
            "`extra_javascript`",
            "`extra_css`",
            "theme.custom_dir",
            "`macros`",
            "`mkdocstrings`",
        ] {
            assert!(text.contains(needle), "{needle}: {text}");
        }
        assert!(
            !text.contains("`search`") && !text.contains("techdocs-core"),
            "{text}"
        );
    }

    #[test]
    fn invalid_yaml_names_the_file_and_line() {
        let (config, _) = parse("site_name: x\nnav: [a\n  b: : c\n");
        let err = config.unwrap_err().to_string();
        assert!(
            err.contains("mkdocs.yml") && err.contains("not valid YAML"),
            "{err}"
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let (config, _) = parse(&text);
        let err = config.unwrap_err().to_string();
        assert!(err.contains("mkdocs.yml"), "{err}");
    }

    #[test]
    fn too_deep_nav_is_refused() {
        let mut text = String::from("site_name: x\nnav:\n");
        let mut indent = String::from("  ");
        for i in 0..10 {
            text.push_str(&format!("{indent}- S{i}:\n"));
            indent.push_str("    ");
        }
        text.push_str(&format!("{indent}- a.md\n"));
        let (config, _) = parse(&text);
        let err = config.unwrap_err().to_string();
        assert!(err.contains("nested deeper than 8"), "{err}");
    }
}
