//! Portal's web UI: a Leptos app, rendered on the server (feature `ssr`) and
//! hydrated in the browser (feature `hydrate`, built for
//! `wasm32-unknown-unknown` by `cargo xtask build`; see `web/hydrate`).
//!
//! - [`model`]: the views pages receive, computed on the server.
//! - [`api`]: the server functions pages load them with.
//! - `pages`, `widgets`: the components (both sides).
//! - `ssr` (server only): the data-access trait the portal implements
//!   ([`ssr::PortalData`]), the view builders, and the axum router
//!   ([`ssr::router`]) that serves pages, server functions, the hydration
//!   bundle and static assets.

#![recursion_limit = "256"]

pub mod api;
mod app;
pub mod model;
mod pages;
mod widgets;

#[cfg(feature = "ssr")]
pub mod ssr;

pub use app::{App, shell};

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
pub fn hydrate() {
    use leptos::prelude::*;
    console_error_panic_hook::set_once();
    let branding = app::read_branding_from_page();
    leptos::mount::hydrate_body(move || view! { <App branding=branding.clone()/> });
    // Tells scripts and tests that the page is live (filters work in place).
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
