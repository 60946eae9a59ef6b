//! Ownership card: who owns this entity, how to reach them, and where it sits in
//! the system → domain hierarchy, read from the catalog.

use portal_plugin_sdk::{self as sdk, Plugin, PluginError, meta, panel};
use serde_json::Value;

struct Ownership;

impl Plugin for Ownership {
    fn describe() -> meta::PluginInfo {
        sdk::info(
            "ownership",
            env!("CARGO_PKG_VERSION"),
            "Owner, contacts and system hierarchy of an entity",
        )
        .panel(
            "owner",
            "Ownership",
            meta::PanelPlacement::Card,
            "spec.owner",
        )
        .catalog_read()
        .build()
    }

    fn render(request: panel::RenderRequest) -> Result<panel::View, PluginError> {
        let entity: Value = serde_json::from_str(&request.entity)
            .map_err(|e| sdk::error("bad-entity", e.to_string()))?;
        let namespace = entity["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .to_owned();
        let mut view = sdk::ViewBuilder::new();
        let mut items = Vec::new();

        let owner_ref = qualify(
            entity["spec"]["owner"].as_str().unwrap_or(""),
            "group",
            &namespace,
        );
        match lookup(&owner_ref)? {
            Some(owner) => {
                let title = display_name(&owner);
                let link = view.link(title, entity_path(&owner));
                items.push(("Owner".to_owned(), link));
                if let Some(email) = owner["spec"]["profile"]["email"].as_str() {
                    let mail = view.link(email, format!("mailto:{email}"));
                    items.push(("Contact".to_owned(), mail));
                }
                if let Some(members) = owner["spec"]["members"].as_array() {
                    let n = view.text(members.len().to_string());
                    items.push(("Members".to_owned(), n));
                }
                if let Some(parent) = owner["spec"]["parent"].as_str() {
                    let p = view.text(parent);
                    items.push(("Part of".to_owned(), p));
                }
            }
            None => {
                let missing = view.badge(
                    format!("{owner_ref} is not in the catalog"),
                    panel::Tone::Warning,
                );
                items.push(("Owner".to_owned(), missing));
            }
        }

        // System, then its domain.
        if let Some(system) = entity["spec"]["system"].as_str() {
            let system_ref = qualify(system, "system", &namespace);
            match lookup(&system_ref)? {
                Some(system) => {
                    let link = view.link(display_name(&system), entity_path(&system));
                    items.push(("System".to_owned(), link));
                    if let Some(domain) = system["spec"]["domain"].as_str() {
                        let domain_ref = qualify(domain, "domain", &namespace);
                        let node = match lookup(&domain_ref)? {
                            Some(d) => view.link(display_name(&d), entity_path(&d)),
                            None => view.text(domain),
                        };
                        items.push(("Domain".to_owned(), node));
                    }
                }
                None => {
                    let node = view.badge(
                        format!("{system_ref} is not in the catalog"),
                        panel::Tone::Warning,
                    );
                    items.push(("System".to_owned(), node));
                }
            }
        }
        if let Some(lifecycle) = entity["spec"]["lifecycle"].as_str() {
            let tone = match lifecycle {
                "production" => panel::Tone::Success,
                "deprecated" => panel::Tone::Danger,
                "experimental" => panel::Tone::Warning,
                _ => panel::Tone::Neutral,
            };
            let badge = view.badge(lifecycle, tone);
            items.push(("Lifecycle".to_owned(), badge));
        }
        let kv = view.key_values(items);
        let card = view.card("Ownership", vec![kv]);
        Ok(view.finish(card))
    }
}

/// `team-a` → `group:default/team-a`; refs that carry a kind or namespace keep them.
fn qualify(reference: &str, default_kind: &str, namespace: &str) -> String {
    let (kind, rest) = match reference.split_once(':') {
        Some((kind, rest)) if !kind.contains('/') => (kind.to_owned(), rest),
        _ => (default_kind.to_owned(), reference),
    };
    let (ns, name) = match rest.split_once('/') {
        Some((ns, name)) => (ns.to_owned(), name),
        None => (namespace.to_owned(), rest),
    };
    format!(
        "{}:{}/{}",
        kind.to_lowercase(),
        ns.to_lowercase(),
        name.to_lowercase()
    )
}

fn lookup(entity_ref: &str) -> Result<Option<Value>, PluginError> {
    match sdk::catalog::get_entity(entity_ref) {
        Ok(Some(json)) => Ok(serde_json::from_str(&json).ok()),
        Ok(None) => Ok(None),
        Err(e) => Err(sdk::error(
            "catalog",
            format!("reading {entity_ref}: {e:?}"),
        )),
    }
}

fn display_name(entity: &Value) -> String {
    entity["spec"]["profile"]["displayName"]
        .as_str()
        .or_else(|| entity["metadata"]["title"].as_str())
        .or_else(|| entity["metadata"]["name"].as_str())
        .unwrap_or("?")
        .to_owned()
}

/// The portal's page for an entity (Backstage's URL shape).
fn entity_path(entity: &Value) -> String {
    format!(
        "/catalog/{}/{}/{}",
        entity["metadata"]["namespace"]
            .as_str()
            .unwrap_or("default"),
        entity["kind"].as_str().unwrap_or("").to_lowercase(),
        entity["metadata"]["name"].as_str().unwrap_or("")
    )
}

sdk::export!(Ownership);
