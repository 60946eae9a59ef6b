//! Exercises every part of the contract: all four extension points and every host
//! interface. Built against `wit/1.0.0` (feature `wit-1-0`) it becomes the frozen
//! upgrade-safety fixture `tests/fixtures/plugins/compat-1.0.0.wasm`; built against
//! the newest contract it also calls what later minor versions added.

use portal_plugin_sdk::{
    self as sdk, Plugin, PluginError, entity_provider, meta, panel, template_action,
};

struct Compat;

/// `COMPAT_VERSION` at build time makes a second version for replacement tests.
const VERSION: &str = match option_env!("COMPAT_VERSION") {
    Some(v) => v,
    None => env!("CARGO_PKG_VERSION"),
};

impl Plugin for Compat {
    fn describe() -> meta::PluginInfo {
        sdk::info("compat", VERSION, "Calls every host function (tests)")
            .panel("echo", "Echo", meta::PanelPlacement::Card, "kind=component")
            .provider("fixed", "Two fixed entities", 0)
            .action(
                "compat:write-file",
                "Writes a file into the workspace",
                r#"{"type":"object","required":["path","content"],"properties":{"path":{"type":"string"},"content":{"type":"string"}}}"#,
                r#"{"type":"object","properties":{"written":{"type":"string"}}}"#,
            )
            .config_key("greeting")
            .secret("compat-token")
            .catalog_read()
            .storage()
            .build()
    }

    fn render(request: panel::RenderRequest) -> Result<panel::View, PluginError> {
        sdk::info!("rendering {}", request.panel_id);
        let entity: serde_json::Value = serde_json::from_str(&request.entity)
            .map_err(|e| sdk::error("bad-entity", e.to_string()))?;
        let name = entity["metadata"]["name"]
            .as_str()
            .unwrap_or("?")
            .to_owned();
        let owner = entity["spec"]["owner"].as_str().unwrap_or("").to_owned();

        let greeting = sdk::config::get("greeting").unwrap_or_else(|| "hello".into());
        let owner_found = match sdk::catalog::get_entity(&format!("group:{owner}")) {
            Ok(Some(_)) => "found".to_owned(),
            Ok(None) => "missing".to_owned(),
            Err(e) => format!("error {e:?}"),
        };
        let renders = match sdk::storage::get("renders") {
            Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).parse::<u64>().unwrap_or(0) + 1,
            Ok(None) => 1,
            Err(e) => return Err(sdk::error("storage", format!("{e:?}"))),
        };
        sdk::storage::set("renders", renders.to_string().as_bytes())
            .map_err(|e| sdk::error("storage", format!("{e:?}")))?;
        let secret = match sdk::config::get_secret("compat-token") {
            Ok(value) => format!("{} chars", value.len()),
            Err(e) => format!("{e:?}"),
        };

        let mut view = sdk::ViewBuilder::new();
        let mut lines = vec![
            view.text(format!("{greeting} {name} from compat {VERSION}")),
            view.text(format!("owner {owner}: {owner_found}")),
            view.text(format!("renders: {renders}")),
            view.text(format!("secret: {secret}")),
            view.text(format!("wit: {}", sdk::WIT_VERSION)),
        ];
        #[cfg(not(feature = "wit-1-0"))]
        {
            let keys = sdk::storage::list_keys("", 10)
                .map_err(|e| sdk::error("storage", format!("{e:?}")))?;
            lines.push(view.text(format!("keys: {}", keys.join(","))));
        }
        let badge = view.badge("compat", panel::Tone::Success);
        lines.push(badge);
        let card = view.card("Compat", lines);
        Ok(view.finish(card))
    }

    fn discover(provider_id: String) -> Result<Vec<entity_provider::ProvidedEntity>, PluginError> {
        if provider_id != "fixed" {
            return Err(sdk::error("unknown-provider", provider_id));
        }
        let entity = |name: &str| entity_provider::ProvidedEntity {
            body: format!(
                "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: service\n  lifecycle: production\n  owner: team-compat\n"
            ),
            location: format!("compat://fixed/{name}"),
        };
        Ok(vec![entity("compat-one"), entity("compat-two")])
    }

    fn execute(
        request: template_action::ActionRequest,
    ) -> Result<template_action::ActionResult, PluginError> {
        // Calls this instance has served: a task's consecutive steps share
        // one instance (the host's `ActionSession`), nothing else does.
        static CALLS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let calls = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let input: serde_json::Value = serde_json::from_str(&request.input)
            .map_err(|e| sdk::error("bad-input", e.to_string()))?;
        let path = input["path"]
            .as_str()
            .ok_or_else(|| sdk::error("bad-input", "`path` is required"))?;
        let content = input["content"].as_str().unwrap_or("");
        let target = format!("/workspace/{path}");
        if !request.dry_run {
            std::fs::write(&target, content)
                .map_err(|e| sdk::error("write-failed", format!("{target}: {e}")))?;
        }
        sdk::info!("wrote {} bytes to {target}", content.len());
        Ok(template_action::ActionResult {
            output: serde_json::json!({ "written": path, "dryRun": request.dry_run, "callsOnThisInstance": calls })
                .to_string(),
        })
    }
}

sdk::export!(Compat);
