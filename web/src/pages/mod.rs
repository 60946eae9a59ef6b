//! The pages, one module each. Each loads its view through a server function
//! inside a `<Transition>`: on the server the route waits for it (SSR mode
//! `Async`, so the HTML is complete without JavaScript); in the browser the
//! previous content stays visible while the next one loads.
//!
//! Adding a page: a module here with its component, its view in `crate::model`,
//! a builder in `crate::ssr::views`, a server function in `crate::api`, and a
//! `<Route>` in `crate::app`.

mod actions;
mod audit;
mod catalog;
mod create;
pub(crate) mod docs;
mod editor;
mod entity;
mod not_found;
mod plugins;
pub(crate) mod search;
mod search_box;
mod task;
mod template_form;

pub use actions::ActionsPage;
pub use audit::AuditPage;
pub use catalog::CatalogPage;
pub use create::CreatePage;
pub use docs::{DocsPage, DocsReader, DocsSitePage};
pub use editor::EditorPage;
pub use entity::EntityPage;
pub use not_found::NotFound;
pub use plugins::PluginsPage;
pub use search::SearchPage;
pub use search_box::SearchBox;
pub use task::TaskPage;
pub use template_form::TemplateFormPage;
