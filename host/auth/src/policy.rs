//! The permission policy: an ordered list of rules, read from a YAML file.
//!
//! ```yaml
//! rules:
//!   - description: admins may do anything
//!     permissions: ["*"]
//!     users: { member_of: [group:default/admins] }
//!     decision: allow
//!   - description: owners may delete and refresh what they own
//!     permissions: [catalog.entity.delete, catalog.entity.refresh]
//!     resources: { is_entity_owner: true }
//!     decision: allow
//!   - permissions: [catalog.entity.read]
//!     resources: { not: { kind: [User] } }
//!     decision: allow
//! default: deny
//! ```
//!
//! The first rule that applies decides, like a firewall. A rule applies to
//! a request when one of its `permissions` patterns matches and its `users`
//! condition holds for the asker. A rule with a `resources` condition
//! decides only for the resources matching it; the others are decided by
//! the rules below it. So the decision for one asker and one permission is
//! allow, deny, or a condition on the resource; for catalog reads that
//! condition becomes a catalog predicate and the catalog filters lists,
//! facets and counts with it, exactly as it filters a query.
//!
//! `users` conditions: `is` (user refs), `member_of` (group refs, through
//! the asker's ownership refs, so nested groups count), `claim` (a map of
//! claim name to a value or a list of values), `guest` (bool), and the
//! combinators `all_of`, `any_of`, `not`. All keys of one object must hold.
//!
//! `resources` conditions on catalog entities: `is_entity_owner: true`,
//! `kind`, `type`, `namespace`, `lifecycle`, `name` (lists of values),
//! `has_label`, `has_annotation` (lists of keys), `label`, `annotation`
//! (maps of key to value), and the combinators. On template actions
//! (`scaffolder.action.execute`): `action` (a list of action ids).

use crate::identity::{Identity, Principal};
use crate::permission::{Pattern, Permission, ResourceType};
use portal_catalog_model::Predicate;
use portal_catalog_model::predicate::{ContainsTarget, FieldCondition, Matcher, Primitive};
use serde_json::{Map, Value};
use std::path::Path;

/// A policy file that could not be used: the message names the rule and key.
#[derive(Debug, thiserror::Error)]
#[error("invalid permission policy {origin}: {message}")]
pub struct PolicyError {
    pub origin: String,
    pub message: String,
}

/// What a policy says about one permission for one asker.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Allow,
    Deny,
    /// Allowed for the resources matching the condition only.
    Conditional(Condition),
}

/// A condition on a resource, with the asker's refs already filled in.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A catalog entity matching this predicate.
    Entity(Predicate),
    /// A template action with one of these ids.
    Action(Vec<String>),
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    /// The catalog predicate of this condition (action leaves match
    /// nothing: they never occur in a catalog permission's decision).
    pub fn to_predicate(&self) -> Predicate {
        match self {
            Condition::Entity(p) => p.clone(),
            Condition::Action(_) => Predicate::Any(vec![]),
            Condition::All(items) => {
                Predicate::All(items.iter().map(|c| c.to_predicate()).collect())
            }
            Condition::Any(items) => {
                Predicate::Any(items.iter().map(|c| c.to_predicate()).collect())
            }
            Condition::Not(inner) => Predicate::Not(Box::new(inner.to_predicate())),
        }
    }

    /// Whether a template action's id satisfies this condition.
    pub fn matches_action(&self, id: &str) -> bool {
        match self {
            Condition::Entity(_) => false,
            Condition::Action(ids) => ids.iter().any(|a| a == id),
            Condition::All(items) => items.iter().all(|c| c.matches_action(id)),
            Condition::Any(items) => items.iter().any(|c| c.matches_action(id)),
            Condition::Not(inner) => !inner.matches_action(id),
        }
    }
}

/// A parsed, checked policy.
#[derive(Debug, Clone)]
pub struct Policy {
    rules: Vec<Rule>,
    default: bool,
}

#[derive(Debug, Clone)]
struct Rule {
    permissions: Vec<Pattern>,
    users: Option<UserCondition>,
    resources: Option<ResourceCondition>,
    allow: bool,
}

#[derive(Debug, Clone)]
enum UserCondition {
    Is(Vec<String>),
    MemberOf(Vec<String>),
    Claim(Vec<(String, Vec<Value>)>),
    Guest(bool),
    All(Vec<UserCondition>),
    Any(Vec<UserCondition>),
    Not(Box<UserCondition>),
}

#[derive(Debug, Clone)]
enum ResourceCondition {
    IsEntityOwner,
    /// Any value of the (lowercased) entity path equals one of these.
    FieldIn(String, Vec<String>),
    FieldExists(String),
    Action(Vec<String>),
    All(Vec<ResourceCondition>),
    Any(Vec<ResourceCondition>),
    Not(Box<ResourceCondition>),
}

impl ResourceCondition {
    fn resource_type(&self) -> Option<ResourceType> {
        match self {
            ResourceCondition::Action(_) => Some(ResourceType::ScaffolderAction),
            ResourceCondition::All(items) | ResourceCondition::Any(items) => {
                items.iter().find_map(|c| c.resource_type())
            }
            ResourceCondition::Not(inner) => inner.resource_type(),
            _ => Some(ResourceType::CatalogEntity),
        }
    }

    fn mixes_types(&self) -> bool {
        fn types(c: &ResourceCondition, out: &mut Vec<ResourceType>) {
            match c {
                ResourceCondition::All(items) | ResourceCondition::Any(items) => {
                    items.iter().for_each(|c| types(c, out))
                }
                ResourceCondition::Not(inner) => types(inner, out),
                other => out.extend(other.resource_type()),
            }
        }
        let mut out = vec![];
        types(self, &mut out);
        out.windows(2).any(|w| w[0] != w[1])
    }

    fn bind(&self, identity: Option<&Identity>) -> Condition {
        match self {
            ResourceCondition::IsEntityOwner => {
                let refs = identity
                    .map(|i| i.ownership_refs.clone())
                    .unwrap_or_default();
                Condition::Entity(Predicate::Fields(vec![FieldCondition {
                    key: "relations".into(),
                    matcher: Matcher::Contains(ContainsTarget::Relation {
                        type_: "ownedby".into(),
                        target_refs: Some(refs.iter().map(|r| r.to_lowercase()).collect()),
                    }),
                }]))
            }
            ResourceCondition::FieldIn(key, values) => {
                Condition::Entity(Predicate::Fields(vec![FieldCondition {
                    key: key.clone(),
                    matcher: Matcher::In(values.iter().cloned().map(Primitive::string).collect()),
                }]))
            }
            ResourceCondition::FieldExists(key) => {
                Condition::Entity(Predicate::Fields(vec![FieldCondition {
                    key: key.clone(),
                    matcher: Matcher::Exists(true),
                }]))
            }
            ResourceCondition::Action(ids) => Condition::Action(ids.clone()),
            ResourceCondition::All(items) => {
                Condition::All(items.iter().map(|c| c.bind(identity)).collect())
            }
            ResourceCondition::Any(items) => {
                Condition::Any(items.iter().map(|c| c.bind(identity)).collect())
            }
            ResourceCondition::Not(inner) => Condition::Not(Box::new(inner.bind(identity))),
        }
    }
}

impl UserCondition {
    fn holds(&self, principal: &Principal) -> bool {
        let identity = principal.identity();
        match self {
            UserCondition::Is(refs) => {
                identity.is_some_and(|i| refs.iter().any(|r| r.eq_ignore_ascii_case(&i.user_ref)))
            }
            UserCondition::MemberOf(groups) => identity.is_some_and(|i| {
                groups
                    .iter()
                    .any(|g| i.ownership_refs.iter().any(|o| o.eq_ignore_ascii_case(g)))
            }),
            UserCondition::Claim(claims) => identity.is_some_and(|i| {
                claims.iter().all(|(name, wanted)| {
                    i.claims.get(name).is_some_and(|have| {
                        wanted.iter().any(|w| match have {
                            Value::Array(items) => items.contains(w),
                            other => other == w,
                        })
                    })
                })
            }),
            UserCondition::Guest(want) => matches!(principal, Principal::Guest(_)) == *want,
            UserCondition::All(items) => items.iter().all(|c| c.holds(principal)),
            UserCondition::Any(items) => items.iter().any(|c| c.holds(principal)),
            UserCondition::Not(inner) => !inner.holds(principal),
        }
    }
}

/// The decision being built from the rules, bottom up.
enum Partial {
    Const(bool),
    Cond(Condition),
}

impl Policy {
    /// A policy that allows everything (no policy configured).
    pub fn allow_all() -> Policy {
        Policy {
            rules: vec![],
            default: true,
        }
    }

    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            origin: origin.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        Policy::parse(&text, &origin)
    }

    /// Parses policy YAML; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Policy, PolicyError> {
        let error = |message: String| PolicyError {
            origin: origin.to_owned(),
            message,
        };
        let doc: Value = serde_saphyr::from_str(text).map_err(|e| error(e.to_string()))?;
        let Value::Object(mut doc) = doc else {
            return Err(error("expected a map with `rules` and `default`".into()));
        };
        let default = match doc.remove("default") {
            None => false,
            Some(Value::String(s)) if s == "deny" => false,
            Some(Value::String(s)) if s == "allow" => true,
            Some(other) => {
                return Err(error(format!(
                    "`default` must be allow or deny, not {other}"
                )));
            }
        };
        let rules = match doc.remove("rules") {
            None => vec![],
            Some(Value::Array(rules)) => rules,
            Some(_) => return Err(error("`rules` must be a list".into())),
        };
        if let Some(key) = doc.keys().next() {
            return Err(error(format!(
                "unknown key `{key}` (expected `rules`, `default`)"
            )));
        }
        let rules = rules
            .into_iter()
            .enumerate()
            .map(|(i, rule)| parse_rule(rule).map_err(|m| error(format!("rules[{i}]: {m}"))))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy { rules, default })
    }

    /// The decision for `principal` asking for `permission`.
    pub fn decide(&self, principal: &Principal, permission: &Permission) -> Decision {
        match principal {
            Principal::System => return Decision::Allow,
            Principal::Service(service) => {
                let allowed = service.permissions.iter().any(|p| p.matches(permission));
                return if allowed {
                    Decision::Allow
                } else {
                    Decision::Deny
                };
            }
            Principal::Guest(_) | Principal::User(_) => {}
        }
        let mut decision = Partial::Const(self.default);
        for rule in self.rules.iter().rev() {
            if !rule.permissions.iter().any(|p| p.matches(permission)) {
                continue;
            }
            if rule.users.as_ref().is_some_and(|u| !u.holds(principal)) {
                continue;
            }
            decision = match &rule.resources {
                None => Partial::Const(rule.allow),
                // A wildcard rule with a resource condition of another type
                // does not speak for this permission.
                Some(cond) if cond.resource_type() != Some(permission.resource) => continue,
                Some(cond) => {
                    let cond = cond.bind(principal.identity());
                    match (rule.allow, decision) {
                        (true, Partial::Const(true)) => Partial::Const(true),
                        (true, Partial::Const(false)) => Partial::Cond(cond),
                        (true, Partial::Cond(rest)) => {
                            Partial::Cond(Condition::Any(vec![cond, rest]))
                        }
                        (false, Partial::Const(false)) => Partial::Const(false),
                        (false, Partial::Const(true)) => {
                            Partial::Cond(Condition::Not(Box::new(cond)))
                        }
                        (false, Partial::Cond(rest)) => Partial::Cond(Condition::All(vec![
                            Condition::Not(Box::new(cond)),
                            rest,
                        ])),
                    }
                }
            };
        }
        match decision {
            Partial::Const(true) => Decision::Allow,
            Partial::Const(false) => Decision::Deny,
            Partial::Cond(cond) => Decision::Conditional(cond),
        }
    }
}

fn parse_rule(rule: Value) -> Result<Rule, String> {
    let Value::Object(mut rule) = rule else {
        return Err("a rule must be a map".into());
    };
    rule.remove("description");
    let permissions = match rule.remove("permissions") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Pattern::parse(s),
                other => Err(format!("a permission must be a string, not {other}")),
            })
            .collect::<Result<Vec<_>, _>>()?,
        _ => return Err("`permissions` must be a non-empty list".into()),
    };
    let allow = match rule.remove("decision") {
        Some(Value::String(s)) if s == "allow" => true,
        Some(Value::String(s)) if s == "deny" => false,
        _ => return Err("`decision` must be allow or deny".into()),
    };
    let users = rule
        .remove("users")
        .map(|v| parse_user(&v).map_err(|m| format!("users: {m}")))
        .transpose()?;
    let resources = rule
        .remove("resources")
        .map(|v| parse_resource(&v).map_err(|m| format!("resources: {m}")))
        .transpose()?;
    if let Some(key) = rule.keys().next() {
        return Err(format!(
            "unknown key `{key}` (expected description, permissions, users, resources, decision)"
        ));
    }
    if let Some(cond) = &resources {
        if cond.mixes_types() {
            return Err("resources: a condition on catalog entities cannot be combined with one on template actions".into());
        }
        let resource = cond.resource_type();
        for pattern in permissions.iter().filter(|p| p.is_exact()) {
            let permission = crate::permission::by_name(pattern.as_str()).expect("parsed");
            if Some(permission.resource) != resource {
                return Err(format!(
                    "`{}` is not about {}: a `resources` condition cannot apply to it",
                    permission.name,
                    match resource {
                        Some(ResourceType::ScaffolderAction) => "template actions",
                        _ => "catalog entities",
                    }
                ));
            }
        }
    }
    Ok(Rule {
        permissions,
        users,
        resources,
        allow,
    })
}

fn string_list(value: &Value, key: &str) -> Result<Vec<String>, String> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(format!("`{key}` must list strings, not {other}")),
            })
            .collect(),
        _ => Err(format!(
            "`{key}` must be a string or a non-empty list of strings"
        )),
    }
}

fn object(value: &Value) -> Result<&Map<String, Value>, String> {
    match value {
        Value::Object(map) if !map.is_empty() => Ok(map),
        _ => Err(format!("expected a non-empty map, found {value}")),
    }
}

/// `all_of` / `any_of` items.
fn combinator<T>(
    value: &Value,
    key: &str,
    parse: fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    match value {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse(item).map_err(|m| format!("{key}[{i}]: {m}")))
            .collect(),
        _ => Err(format!("`{key}` must be a non-empty list of conditions")),
    }
}

fn parse_user(value: &Value) -> Result<UserCondition, String> {
    let mut all = vec![];
    for (key, v) in object(value)? {
        all.push(match key.as_str() {
            "is" => UserCondition::Is(string_list(v, key)?),
            "member_of" => UserCondition::MemberOf(string_list(v, key)?),
            "guest" => UserCondition::Guest(v.as_bool().ok_or("`guest` must be true or false")?),
            "claim" => UserCondition::Claim(
                object(v)
                    .map_err(|m| format!("claim: {m}"))?
                    .iter()
                    .map(|(name, wanted)| {
                        let wanted = match wanted {
                            Value::Array(items) => items.clone(),
                            other => vec![other.clone()],
                        };
                        (name.clone(), wanted)
                    })
                    .collect(),
            ),
            "all_of" => UserCondition::All(combinator(v, key, parse_user)?),
            "any_of" => UserCondition::Any(combinator(v, key, parse_user)?),
            "not" => UserCondition::Not(Box::new(parse_user(v).map_err(|m| format!("not: {m}"))?)),
            other => {
                return Err(format!(
                    "unknown condition `{other}` (expected is, member_of, claim, guest, all_of, any_of, not)"
                ));
            }
        });
    }
    Ok(if all.len() == 1 {
        all.pop().unwrap()
    } else {
        UserCondition::All(all)
    })
}

fn parse_resource(value: &Value) -> Result<ResourceCondition, String> {
    let mut all = vec![];
    for (key, v) in object(value)? {
        let field = |path: &str| -> Result<ResourceCondition, String> {
            Ok(ResourceCondition::FieldIn(
                path.to_owned(),
                string_list(v, key)?,
            ))
        };
        match key.as_str() {
            "is_entity_owner" => match v {
                Value::Bool(true) => all.push(ResourceCondition::IsEntityOwner),
                Value::Bool(false) => all.push(ResourceCondition::Not(Box::new(
                    ResourceCondition::IsEntityOwner,
                ))),
                _ => return Err("`is_entity_owner` must be true or false".into()),
            },
            "kind" => all.push(field("kind")?),
            "type" => all.push(field("spec.type")?),
            "namespace" => all.push(field("metadata.namespace")?),
            "lifecycle" => all.push(field("spec.lifecycle")?),
            "name" => all.push(field("metadata.name")?),
            "has_label" | "has_annotation" => {
                let prefix = if key == "has_label" {
                    "metadata.labels."
                } else {
                    "metadata.annotations."
                };
                let keys = string_list(v, key)?;
                all.push(ResourceCondition::Any(
                    keys.iter()
                        .map(|k| {
                            ResourceCondition::FieldExists(format!("{prefix}{}", k.to_lowercase()))
                        })
                        .collect(),
                ));
            }
            "label" | "annotation" => {
                let prefix = if key == "label" {
                    "metadata.labels."
                } else {
                    "metadata.annotations."
                };
                for (k, wanted) in object(v).map_err(|m| format!("{key}: {m}"))? {
                    let path = format!("{prefix}{}", k.to_lowercase());
                    all.push(ResourceCondition::FieldIn(path, string_list(wanted, k)?));
                }
            }
            "action" => all.push(ResourceCondition::Action(string_list(v, key)?)),
            "all_of" => all.push(ResourceCondition::All(combinator(v, key, parse_resource)?)),
            "any_of" => all.push(ResourceCondition::Any(combinator(v, key, parse_resource)?)),
            "not" => all.push(ResourceCondition::Not(Box::new(
                parse_resource(v).map_err(|m| format!("not: {m}"))?,
            ))),
            other => {
                return Err(format!(
                    "unknown condition `{other}` (expected is_entity_owner, kind, type, namespace, lifecycle, name, has_label, has_annotation, label, annotation, action, all_of, any_of, not)"
                ));
            }
        }
    }
    Ok(if all.len() == 1 {
        all.pop().unwrap()
    } else {
        ResourceCondition::All(all)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permission::*;
    use serde_json::json;

    const POLICY: &str = r#"
rules:
  - description: admins do anything
    permissions: ["*"]
    users: { member_of: [group:default/admins] }
    decision: allow
  - description: nobody deletes production systems but admins
    permissions: [catalog.entity.delete]
    resources: { lifecycle: [production] }
    decision: deny
  - permissions: [catalog.entity.delete, catalog.entity.refresh]
    resources: { is_entity_owner: true }
    decision: allow
  - permissions: [catalog.entity.read]
    resources: { not: { kind: [User, Group] } }
    decision: allow
  - permissions: [catalog.entity.read]
    users: { guest: false }
    decision: allow
  - permissions: [scaffolder.action.execute]
    resources: { action: ["fetch:template", "catalog:register"] }
    decision: allow
  - permissions: [scaffolder.task.create, catalog.location.*]
    decision: allow
"#;

    fn entity(kind: &str, owner: &str, lifecycle: &str) -> portal_catalog_model::Entity {
        let value = json!({
            "apiVersion": "backstage.io/v1alpha1", "kind": kind,
            "metadata": {"name": "x", "namespace": "default"},
            "spec": {"owner": owner, "lifecycle": lifecycle, "type": "service"},
            "relations": [{"type": "ownedBy", "targetRef": owner}]
        });
        serde_json::from_value(value).unwrap()
    }

    fn user(groups: &[&str]) -> Principal {
        let mut identity = Identity::user("user:default/jane");
        identity
            .ownership_refs
            .extend(groups.iter().map(|g| g.to_string()));
        Principal::User(identity)
    }

    fn allows(decision: &Decision, e: &portal_catalog_model::Entity) -> bool {
        match decision {
            Decision::Allow => true,
            Decision::Deny => false,
            Decision::Conditional(c) => c.to_predicate().matches_entity(e),
        }
    }

    #[test]
    fn first_applying_rule_decides_per_resource() {
        let policy = Policy::parse(POLICY, "test").unwrap();
        let team_a = user(&["group:default/team-a"]);
        let admin = user(&["group:default/admins"]);
        let ours = entity("Component", "group:default/team-a", "experimental");
        let ours_prod = entity("Component", "group:default/team-a", "production");
        let theirs = entity("Component", "group:default/team-b", "experimental");

        let delete = policy.decide(&team_a, &CATALOG_ENTITY_DELETE);
        assert!(allows(&delete, &ours));
        assert!(
            !allows(&delete, &ours_prod),
            "the deny above the owner rule wins"
        );
        assert!(!allows(&delete, &theirs));
        assert_eq!(
            policy.decide(&admin, &CATALOG_ENTITY_DELETE),
            Decision::Allow
        );

        // Signed-in users read everything; a guest does not see people.
        assert_eq!(
            policy.decide(&team_a, &CATALOG_ENTITY_READ),
            Decision::Allow
        );
        let guest = Principal::Guest(Identity::user("user:default/guest"));
        let read = policy.decide(&guest, &CATALOG_ENTITY_READ);
        assert!(allows(&read, &theirs));
        assert!(!allows(&read, &entity("User", "group:default/team-a", "")));

        assert_eq!(policy.decide(&team_a, &AUDIT_READ), Decision::Deny);
        assert_eq!(
            policy.decide(&team_a, &CATALOG_LOCATION_CREATE),
            Decision::Allow
        );
        let Decision::Conditional(actions) = policy.decide(&team_a, &SCAFFOLDER_ACTION_EXECUTE)
        else {
            panic!("actions are conditional");
        };
        assert!(actions.matches_action("fetch:template"));
        assert!(!actions.matches_action("publish:github"));
    }

    #[test]
    fn services_have_their_own_permissions() {
        let policy = Policy::parse(POLICY, "test").unwrap();
        let ci = Principal::Service(crate::identity::Service {
            name: "ci".into(),
            permissions: vec![Pattern::parse("catalog.location.*").unwrap()].into(),
        });
        assert_eq!(
            policy.decide(&ci, &CATALOG_LOCATION_CREATE),
            Decision::Allow
        );
        assert_eq!(policy.decide(&ci, &CATALOG_ENTITY_READ), Decision::Deny);
    }

    #[test]
    fn mistakes_are_named() {
        let cases = [
            (
                "rules: [{permissions: [catalog.entity.reed], decision: allow}]",
                "catalog.entity.reed",
            ),
            (
                "rules: [{permissions: [audit.read], decision: maybe}]",
                "decision",
            ),
            (
                "rules: [{permissions: [audit.read], decision: allow, resources: {kind: [User]}}]",
                "audit.read",
            ),
            (
                "rules: [{permissions: [catalog.entity.read], decision: allow, resources: {knd: [User]}}]",
                "knd",
            ),
            (
                "rules: [{permissions: [catalog.entity.read], decision: allow, users: {member: [x]}}]",
                "member",
            ),
            (
                "rules: [{permissions: [catalog.entity.read], decision: allow, resouces: {}}]",
                "resouces",
            ),
            ("default: maybe", "default"),
            ("rules: [ {", "test"),
        ];
        for (text, needle) in cases {
            let err = Policy::parse(text, "test").unwrap_err().to_string();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn claims_and_combinators() {
        let policy = Policy::parse(
            r#"
rules:
  - permissions: [audit.read]
    users: { any_of: [ { claim: { email: [ops@acme.example] } }, { is: user:default/root } ] }
    decision: allow
"#,
            "test",
        )
        .unwrap();
        let mut ops = Identity::user("user:default/ops");
        ops.claims.insert("email".into(), json!("ops@acme.example"));
        assert_eq!(
            policy.decide(&Principal::User(ops), &AUDIT_READ),
            Decision::Allow
        );
        assert_eq!(
            policy.decide(
                &Principal::User(Identity::user("user:default/root")),
                &AUDIT_READ
            ),
            Decision::Allow
        );
        assert_eq!(policy.decide(&user(&[]), &AUDIT_READ), Decision::Deny);
    }
}
