//! `portal:plugin@1.x`: bindings generated from `wit/1.1.0` (the newest 1.x), the
//! host-function implementations for it, and conversions between its types and
//! the host's model. Adding a 1.x minor version means regenerating from the new
//! folder and implementing the added host functions here, nothing else.

use crate::capabilities::{self, HostCallError, HostFailure, HostState};
use crate::error::LoadError;
use crate::model;
use crate::{LogLevel, view};
use std::path::Path;
use wasmtime::Store;
use wasmtime::component::{HasSelf, Instance, InstancePre, Linker};

pub const VERSION: &str = "1.1.0";

wasmtime::component::bindgen!({
    path: "../../wit/1.1.0",
    world: "portal:plugin/plugin",
    imports: { default: async | trappable | tracing },
    exports: { default: async },
});

use exports::portal::plugin::{entity_provider, meta, panel, template_action};
use portal::plugin::types::{HostError, PluginError};

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<HostState, HasSelf<HostState>>(linker, |state| state)
}

/// The exports of a 1.x plugin. `meta` is required; the extension points are
/// optional and probed, so adding a new one in a later 1.x is not a breaking change.
pub(crate) struct Exports {
    meta: meta::GuestIndices,
    panel: Option<panel::GuestIndices>,
    provider: Option<entity_provider::GuestIndices>,
    action: Option<template_action::GuestIndices>,
}

impl Exports {
    pub(crate) fn bind(file: &Path, pre: &InstancePre<HostState>) -> Result<Exports, LoadError> {
        let meta = meta::GuestIndices::new(pre).map_err(|e| LoadError::Link {
            file: file.to_owned(),
            reason: format!("it does not export `portal:plugin/meta` (every plugin must): {e}"),
        })?;
        Ok(Exports {
            meta,
            panel: panel::GuestIndices::new(pre).ok(),
            provider: entity_provider::GuestIndices::new(pre).ok(),
            action: template_action::GuestIndices::new(pre).ok(),
        })
    }

    pub(crate) fn has_panel(&self) -> bool {
        self.panel.is_some()
    }
    pub(crate) fn has_provider(&self) -> bool {
        self.provider.is_some()
    }
    pub(crate) fn has_action(&self) -> bool {
        self.action.is_some()
    }

    pub(crate) async fn describe(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
    ) -> wasmtime::Result<model::PluginInfo> {
        let guest = self.meta.load(&mut *store, instance)?;
        let info = guest.call_describe(&mut *store).await?;
        Ok(convert::plugin_info(info))
    }

    pub(crate) async fn render(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        panel_id: &str,
        entity_json: &str,
    ) -> wasmtime::Result<Result<Result<model::Widget, String>, model::PluginError>> {
        let indices = self
            .panel
            .as_ref()
            .ok_or_else(|| wasmtime::format_err!("no panel export"))?;
        let guest = indices.load(&mut *store, instance)?;
        let request = panel::RenderRequest {
            panel_id: panel_id.to_owned(),
            entity: entity_json.to_owned(),
        };
        let result = guest.call_render(&mut *store, &request).await?;
        Ok(result
            .map(|v| view::view_to_tree(convert::flat_view(v)))
            .map_err(convert::plugin_error))
    }

    pub(crate) async fn discover(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        provider_id: &str,
    ) -> wasmtime::Result<Result<Vec<model::ProvidedEntity>, model::PluginError>> {
        let indices = self
            .provider
            .as_ref()
            .ok_or_else(|| wasmtime::format_err!("no entity-provider export"))?;
        let guest = indices.load(&mut *store, instance)?;
        let result = guest.call_discover(&mut *store, provider_id).await?;
        Ok(result
            .map(|entities| {
                entities
                    .into_iter()
                    .map(|e| model::ProvidedEntity {
                        body: e.body,
                        location: e.location,
                    })
                    .collect()
            })
            .map_err(convert::plugin_error))
    }

    pub(crate) async fn execute(
        &self,
        store: &mut Store<HostState>,
        instance: &Instance,
        request: &model::ActionRequest,
    ) -> wasmtime::Result<Result<String, model::PluginError>> {
        let indices = self
            .action
            .as_ref()
            .ok_or_else(|| wasmtime::format_err!("no template-action export"))?;
        let guest = indices.load(&mut *store, instance)?;
        let request = template_action::ActionRequest {
            action_id: request.action_id.clone(),
            input: request.input.to_string(),
            task_id: request.task_id.clone(),
            dry_run: request.dry_run,
        };
        let result = guest.call_execute(&mut *store, &request).await?;
        Ok(result.map(|r| r.output).map_err(convert::plugin_error))
    }
}

// ---- host functions -------------------------------------------------------
// Each returns `Ok(Err(host-error))` when it refuses, and a trap (`Err`) only
// when the call must end: its CPU budget ran out during host work.

type HostResult<T> = wasmtime::Result<Result<T, HostError>>;

fn host_error(e: HostCallError) -> HostError {
    match e {
        HostCallError::Denied(m) => HostError::Denied(m),
        HostCallError::Invalid(m) => HostError::Invalid(m),
        HostCallError::LimitExceeded(m) => HostError::LimitExceeded(m),
        HostCallError::Unavailable(m) => HostError::Unavailable(m),
    }
}

fn finish<T>(result: Result<T, HostFailure>) -> HostResult<T> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(HostFailure::Refused(e)) => Ok(Err(host_error(e))),
        Err(HostFailure::Trap(trap)) => Err(trap),
    }
}

impl portal::plugin::types::Host for HostState {}

impl portal::plugin::log::Host for HostState {
    async fn log(
        &mut self,
        level: portal::plugin::log::Level,
        message: String,
    ) -> wasmtime::Result<()> {
        use portal::plugin::log::Level;
        let level = match level {
            Level::Trace => LogLevel::Trace,
            Level::Debug => LogLevel::Debug,
            Level::Info => LogLevel::Info,
            Level::Warn => LogLevel::Warn,
            Level::Error => LogLevel::Error,
        };
        capabilities::log::log(self, level, &message);
        Ok(())
    }
}

impl portal::plugin::catalog::Host for HostState {
    async fn get_entity(&mut self, entity_ref: String) -> HostResult<Option<String>> {
        finish(capabilities::catalog::get_entity(self, entity_ref).await)
    }

    async fn query_entities(&mut self, filter: String, limit: u32) -> HostResult<Vec<String>> {
        finish(capabilities::catalog::query_entities(self, filter, limit).await)
    }
}

impl portal::plugin::storage::Host for HostState {
    async fn get(&mut self, key: String) -> HostResult<Option<Vec<u8>>> {
        finish(capabilities::storage::get(self, key).await)
    }

    async fn set(&mut self, key: String, value: Vec<u8>) -> HostResult<()> {
        finish(capabilities::storage::set(self, key, value).await)
    }

    async fn delete(&mut self, key: String) -> HostResult<()> {
        finish(capabilities::storage::delete(self, key).await)
    }

    /// Added in 1.1.0.
    async fn list_keys(&mut self, prefix: String, limit: u32) -> HostResult<Vec<String>> {
        finish(capabilities::storage::list_keys(self, prefix, limit).await)
    }
}

impl portal::plugin::config::Host for HostState {
    async fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        Ok(capabilities::config::get(self, &key))
    }

    async fn get_secret(&mut self, name: String) -> HostResult<String> {
        finish(capabilities::config::get_secret(self, &name).map_err(HostFailure::from))
    }
}

// ---- conversions ----------------------------------------------------------

mod convert {
    use super::*;
    use crate::view::{FlatNode, FlatView};

    pub(super) fn plugin_error(e: PluginError) -> model::PluginError {
        model::PluginError {
            code: e.code,
            message: e.message,
        }
    }

    fn schema(text: String) -> Option<serde_json::Value> {
        if text.trim().is_empty() {
            None
        } else {
            Some(serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)))
        }
    }

    pub(super) fn plugin_info(info: meta::PluginInfo) -> model::PluginInfo {
        model::PluginInfo {
            name: info.name,
            version: info.version,
            description: info.description,
            panels: info
                .panels
                .into_iter()
                .map(|p| model::PanelInfo {
                    id: p.id,
                    title: p.title,
                    placement: match p.placement {
                        meta::PanelPlacement::Card => model::Placement::Card,
                        meta::PanelPlacement::Tab => model::Placement::Tab,
                    },
                    applies_to: p.applies_to,
                })
                .collect(),
            providers: info
                .providers
                .into_iter()
                .map(|p| model::ProviderInfo {
                    id: p.id,
                    description: p.description,
                    refresh_interval_seconds: p.refresh_interval_seconds,
                })
                .collect(),
            actions: info
                .actions
                .into_iter()
                .map(|a| model::ActionInfo {
                    id: a.id,
                    description: a.description,
                    input_schema: schema(a.input_schema),
                    output_schema: schema(a.output_schema),
                })
                .collect(),
            requests: model::CapabilityRequests {
                http_hosts: info.requests.http_hosts,
                secrets: info.requests.secrets,
                config_keys: info.requests.config_keys,
                catalog_read: info.requests.catalog_read,
                storage: info.requests.storage,
            },
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

    pub(super) fn flat_view(view: panel::View) -> FlatView {
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
}
