//! Write Portal plugins in Rust.
//!
//! ```ignore
//! use portal_plugin_sdk::{self as sdk, meta, panel, Plugin};
//!
//! struct Hello;
//!
//! impl Plugin for Hello {
//!     fn describe() -> meta::PluginInfo {
//!         sdk::info("hello", env!("CARGO_PKG_VERSION"), "Says hello")
//!             .panel("hello", "Hello", meta::PanelPlacement::Card, "kind=component")
//!             .build()
//!     }
//!
//!     fn render(request: panel::RenderRequest) -> Result<panel::View, sdk::PluginError> {
//!         let mut view = sdk::ViewBuilder::new();
//!         let text = view.text("Hello from Rust");
//!         let card = view.card("Hello", vec![text]);
//!         Ok(view.finish(card))
//!     }
//! }
//!
//! portal_plugin_sdk::export!(Hello);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release` and drop the `.wasm`
//! into the portal's plugins directory.

#[cfg(not(feature = "wit-1-0"))]
wit_bindgen::generate!({
    world: "portal:plugin/all-extensions",
    path: "../../wit/1.3.0",
    pub_export_macro: true,
    default_bindings_module: "portal_plugin_sdk",
});

#[cfg(feature = "wit-1-0")]
wit_bindgen::generate!({
    world: "portal:plugin/plugin",
    path: "../../wit/1.0.0",
    pub_export_macro: true,
    default_bindings_module: "portal_plugin_sdk",
});

mod builders;
#[cfg(feature = "http")]
pub mod http;

pub use builders::{InfoBuilder, ViewBuilder, info};
/// Search collators (since 1.3.0): documents of the plugin's own types for
/// the portal's search.
#[cfg(not(feature = "wit-1-0"))]
pub use exports::portal::plugin::search_collator;
pub use exports::portal::plugin::{entity_provider, meta, panel, template_action};
pub use portal::plugin::types::{HostError, PluginError};
pub use portal::plugin::{catalog, config, log, storage};
/// For template actions (since 1.2.0): pushing a workspace folder with git, and
/// the executable bit of files, which WASI cannot see.
#[cfg(not(feature = "wit-1-0"))]
pub use portal::plugin::{file_modes, git};

/// The version of the WIT contract this SDK was built against.
#[cfg(not(feature = "wit-1-0"))]
pub const WIT_VERSION: &str = "1.3.0";
#[cfg(feature = "wit-1-0")]
pub const WIT_VERSION: &str = "1.0.0";

/// A plugin. Implement `describe` and the extension points you declare in it;
/// the others answer "not provided".
pub trait Plugin {
    fn describe() -> meta::PluginInfo;

    fn render(request: panel::RenderRequest) -> Result<panel::View, PluginError> {
        Err(not_provided("panel", &request.panel_id))
    }

    fn discover(provider_id: String) -> Result<Vec<entity_provider::ProvidedEntity>, PluginError> {
        Err(not_provided("entity provider", &provider_id))
    }

    fn execute(
        request: template_action::ActionRequest,
    ) -> Result<template_action::ActionResult, PluginError> {
        Err(not_provided("template action", &request.action_id))
    }

    /// The search collators this plugin provides (none unless overridden).
    #[cfg(not(feature = "wit-1-0"))]
    fn collators() -> Vec<search_collator::CollatorInfo> {
        Vec::new()
    }

    /// Every document of `document_type` there is now.
    #[cfg(not(feature = "wit-1-0"))]
    fn collate(document_type: String) -> Result<Vec<search_collator::SearchDocument>, PluginError> {
        Err(not_provided("search collator", &document_type))
    }
}

fn not_provided(kind: &str, id: &str) -> PluginError {
    error(
        "not-provided",
        format!("this plugin provides no {kind} `{id}`"),
    )
}

/// A `PluginError` from a code and a message.
pub fn error(code: &str, message: impl Into<String>) -> PluginError {
    PluginError {
        code: code.to_owned(),
        message: message.into(),
    }
}

impl<T: Plugin> exports::portal::plugin::meta::Guest for T {
    fn describe() -> meta::PluginInfo {
        <T as Plugin>::describe()
    }
}

impl<T: Plugin> exports::portal::plugin::panel::Guest for T {
    fn render(request: panel::RenderRequest) -> Result<panel::View, PluginError> {
        <T as Plugin>::render(request)
    }
}

impl<T: Plugin> exports::portal::plugin::entity_provider::Guest for T {
    fn discover(provider_id: String) -> Result<Vec<entity_provider::ProvidedEntity>, PluginError> {
        <T as Plugin>::discover(provider_id)
    }
}

impl<T: Plugin> exports::portal::plugin::template_action::Guest for T {
    fn execute(
        request: template_action::ActionRequest,
    ) -> Result<template_action::ActionResult, PluginError> {
        <T as Plugin>::execute(request)
    }
}

#[cfg(not(feature = "wit-1-0"))]
impl<T: Plugin> exports::portal::plugin::search_collator::Guest for T {
    fn collators() -> Vec<search_collator::CollatorInfo> {
        <T as Plugin>::collators()
    }

    fn collate(document_type: String) -> Result<Vec<search_collator::SearchDocument>, PluginError> {
        <T as Plugin>::collate(document_type)
    }
}

/// Logging shortcuts: `sdk::info!("loaded {n} runs")`.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Info, &format!($($arg)*)) };
}

#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::log($crate::log::Level::Warn, &format!($($arg)*)) };
}
