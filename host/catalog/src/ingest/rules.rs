//! Catalog rules: which kinds a location may supply.
//!
//! Without `catalog.rules`, every built-in kind is allowed (Backstage's
//! default, Component/API/Location only, silently drops Groups and Users;
//! Portal reports a rejected kind as an error on the location instead).
//! A rule allows kinds, optionally only for matching locations; rules on a
//! config location (`catalog.locations[].rules`) apply to everything read
//! through that location.

use super::glob::glob_match;
use crate::config::{CatalogConfig, CatalogRule};

const BUILTIN_KINDS: &[&str] = &[
    "component",
    "api",
    "resource",
    "system",
    "domain",
    "group",
    "user",
    "location",
    "template",
];

#[derive(Debug, Clone)]
struct Rule {
    any_kind: bool,
    kinds: Vec<String>,
    locations: Option<Vec<(String, Option<String>, Option<String>)>>,
}

impl Rule {
    fn from_config(rule: &CatalogRule) -> Rule {
        Rule {
            any_kind: rule.allow.iter().any(|k| k == "*"),
            kinds: rule.allow.iter().map(|k| k.to_lowercase()).collect(),
            locations: rule.locations.as_ref().map(|ls| {
                ls.iter()
                    .map(|l| (l.type_.clone(), l.target.clone(), l.pattern.clone()))
                    .collect()
            }),
        }
    }

    fn allows(&self, kind_lower: &str, location_type: &str, location_target: &str) -> bool {
        if !self.any_kind && !self.kinds.iter().any(|k| k == kind_lower) {
            return false;
        }
        match &self.locations {
            None => true,
            Some(ls) => ls.iter().any(|(t, target, pattern)| {
                t == location_type
                    && target.as_ref().is_none_or(|x| x == location_target)
                    && pattern
                        .as_ref()
                        .is_none_or(|p| glob_match(p, location_target))
            }),
        }
    }
}

/// The rules in force.
#[derive(Debug, Clone)]
pub struct Rules {
    global: Vec<Rule>,
    /// Extra rules per config location ref (`<type>:<target>`).
    per_origin: Vec<(String, Vec<Rule>)>,
}

impl Rules {
    /// Rules from the configuration. `origins` pairs each config location's
    /// ref with its index in `catalog.locations`.
    pub fn from_config(config: &CatalogConfig, origins: &[(String, usize)]) -> Rules {
        let global = match &config.rules {
            Some(rules) => rules.iter().map(Rule::from_config).collect(),
            None => vec![Rule {
                any_kind: false,
                kinds: BUILTIN_KINDS.iter().map(|k| k.to_string()).collect(),
                locations: None,
            }],
        };
        let per_origin = origins
            .iter()
            .filter_map(|(r, i)| {
                let extra = &config.locations.get(*i)?.rules;
                (!extra.is_empty())
                    .then(|| (r.clone(), extra.iter().map(Rule::from_config).collect()))
            })
            .collect();
        Rules { global, per_origin }
    }

    /// Allows everything (dry runs of tools, tests).
    pub fn allow_all() -> Rules {
        Rules {
            global: vec![Rule {
                any_kind: true,
                kinds: Vec::new(),
                locations: None,
            }],
            per_origin: Vec::new(),
        }
    }

    /// Whether an entity of `kind` read from `<type>:<target>` (found through
    /// `origin`) is allowed.
    pub fn allows(
        &self,
        kind: &str,
        location_type: &str,
        location_target: &str,
        origin: &str,
    ) -> bool {
        let kind = kind.to_lowercase();
        if self
            .global
            .iter()
            .any(|r| r.allows(&kind, location_type, location_target))
        {
            return true;
        }
        self.per_origin
            .iter()
            .filter(|(o, _)| o == origin)
            .any(|(_, rules)| {
                rules
                    .iter()
                    .any(|r| r.allows(&kind, location_type, location_target))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn default_allows_builtins_only() {
        let rules = Rules::from_config(&CatalogConfig::default(), &[]);
        for kind in ["Component", "group", "User", "Template", "Location"] {
            assert!(rules.allows(kind, "file", "/x", "file:/x"), "{kind}");
        }
        assert!(!rules.allows("Widget", "file", "/x", "file:/x"));
    }

    #[test]
    fn configured_rules() {
        let config = CatalogConfig::from_value(&json!({
            "locations": [{"type": "file", "target": "/t.yaml", "rules": [{"allow": ["Template"]}]}],
            "rules": [
                {"allow": ["Component", "Location"]},
                {"allow": ["*"], "locations": [{"type": "url", "pattern": "https://x/**"}]}
            ]
        }))
        .unwrap();
        let rules = Rules::from_config(&config, &[("file:/t.yaml".into(), 0)]);
        assert!(rules.allows("Component", "file", "/a", "file:/a"));
        assert!(!rules.allows("Group", "file", "/a", "file:/a"));
        assert!(rules.allows(
            "Widget",
            "url",
            "https://x/a/b.yaml",
            "url:https://x/a/b.yaml"
        ));
        assert!(rules.allows("Template", "file", "/t2.yaml", "file:/t.yaml"));
        assert!(!rules.allows("Template", "file", "/t2.yaml", "file:/other.yaml"));
    }
}
