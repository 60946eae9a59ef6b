//! The document shell, the app's routes and the page frame (sidebar, skip link).

use crate::model::{Branding, NavItem};
use crate::pages::*;
use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_location;
use leptos_router::{SsrMode, path};

/// The id of the `<script>` holding the branding, read back when hydrating.
pub const BRANDING_SCRIPT_ID: &str = "portal-branding";

/// JSON that is safe inside a `<script>` element.
pub fn script_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value)
        .unwrap_or_else(|_| "null".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The whole HTML document the server sends.
pub fn shell(options: LeptosOptions, branding: Branding, css_href: String) -> impl IntoView {
    let branding_json = script_json(&branding);
    let theme_css = branding.css.clone();
    #[cfg(feature = "ssr")]
    crate::ssr::security::provide_page_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="stylesheet" href=css_href/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <style id="portal-theme" inner_html=theme_css></style>
                <script type="application/json" id=BRANDING_SCRIPT_ID inner_html=branding_json></script>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App branding/>
            </body>
        </html>
    }
}

#[cfg(feature = "hydrate")]
pub fn read_branding_from_page() -> Branding {
    web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.get_element_by_id(BRANDING_SCRIPT_ID))
        .and_then(|e| e.text_content())
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

#[component]
pub fn App(branding: Branding) -> impl IntoView {
    provide_meta_context();
    let title = branding.title.clone();
    provide_context(branding.clone());
    view! {
        <Title formatter=move |page: String| {
            if page.is_empty() { title.clone() } else { format!("{page} · {title}") }
        }/>
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <div class="frame">
                <Sidebar branding=branding.clone()/>
                <main id="main" tabindex="-1">
                    <Routes fallback=|| view! { <NotFound/> }>
                        <Route path=path!("/catalog") view=CatalogPage ssr=SsrMode::Async/>
                        <Route
                            path=path!("/catalog/:namespace/:kind/:name")
                            view=EntityPage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/catalog/:namespace/:kind/:name/:tab")
                            view=EntityPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/plugins") view=PluginsPage ssr=SsrMode::Async/>
                        <Route path=path!("/audit") view=AuditPage ssr=SsrMode::Async/>
                        <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                        <Route path=path!("/docs") view=DocsPage ssr=SsrMode::Async/>
                        <Route
                            path=path!("/docs/:namespace/:kind/:name")
                            view=DocsSitePage
                            ssr=SsrMode::Async
                        />
                        <Route
                            path=path!("/docs/:namespace/:kind/:name/*path")
                            view=DocsSitePage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/create") view=CreatePage ssr=SsrMode::Async/>
                        <Route path=path!("/create/actions") view=ActionsPage ssr=SsrMode::Async/>
                        <Route path=path!("/create/edit") view=EditorPage ssr=SsrMode::Async/>
                        <Route
                            path=path!("/create/templates/:namespace/:name")
                            view=TemplateFormPage
                            ssr=SsrMode::Async
                        />
                        <Route path=path!("/create/tasks/:id") view=TaskPage ssr=SsrMode::Async/>
                    </Routes>
                </main>
            </div>
        </Router>
    }
}

#[component]
fn Sidebar(branding: Branding) -> impl IntoView {
    let location = use_location();
    let items = branding.sidebar.clone();
    view! {
        <header class="sidebar">
            <a class="brand" href="/catalog">
                {branding
                    .logo
                    .clone()
                    .map(|src| view! { <img class="brand-logo" src=src alt=""/> })}
                <span class="brand-title">{branding.title.clone()}</span>
            </a>
            <SearchBox/>
            <nav aria-label="Main">
                <ul>
                    {items
                        .into_iter()
                        .map(|item| {
                            let NavItem { label, href, icon, external } = item;
                            let target = href.clone();
                            let current = move || {
                                let path = location.pathname.get();
                                let search = location.search.get();
                                (!external && is_current(&target, &path, &search)).then_some("page")
                            };
                            view! {
                                <li>
                                    <a
                                        href=href.clone()
                                        aria-current=current
                                        target=external.then_some("_blank")
                                        rel=external.then_some("noopener noreferrer")
                                    >
                                        <Icon name=icon/>
                                        <span>{label}</span>
                                        {external.then(|| view! { <span class="visually-hidden">" (opens in a new tab)"</span> })}
                                    </a>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            </nav>
            {branding
                .viewer
                .clone()
                .map(|viewer| {
                    view! {
                        <p class="viewer">
                            <Icon name="user"/>
                            <a href=viewer.href.clone() title="Your page">{viewer.name.clone()}</a>
                            {viewer.guest.then(|| view! { <span class="viewer-note">"(local only)"</span> })}
                            {viewer.owned_href.clone().map(|href| view! {
                                <a class="viewer-owned" href=href>"What you own"</a>
                            })}
                            {viewer.may("audit.read").then(|| view! {
                                <a class="viewer-audit" href="/audit">"Audit log"</a>
                            })}
                            {viewer.signed_in.then(|| view! {
                                <form class="sign-out" method="post" action="/api/auth/sign-out">
                                    <button type="submit" class="link">"Sign out"</button>
                                </form>
                            })}
                        </p>
                    }
                })}
        </header>
    }
}

/// Whether the viewer may do `permission` (see `Viewer::may`); without a
/// viewer (no access control wired), yes.
pub fn viewer_may(permission: &str) -> bool {
    use_context::<Branding>()
        .and_then(|b| b.viewer)
        .is_none_or(|v| v.may(permission))
}

/// Whether a sidebar link points at the current page. A link with a query
/// (`/catalog?kind=api`) matches only that query; a plain one matches its path
/// and everything below it, unless a more specific link claims the page.
fn is_current(href: &str, path: &str, search: &str) -> bool {
    let (link_path, link_query) = href.split_once('?').unwrap_or((href, ""));
    let under = path == link_path || path.starts_with(&format!("{link_path}/"));
    if !under {
        return false;
    }
    let search = search.trim_start_matches('?');
    if link_query.is_empty() {
        // `/catalog?kind=api` belongs to the APIs entry, not to Catalog.
        !(path == "/catalog" && search.split('&').any(|p| p == "kind=api"))
    } else {
        path == link_path && search.split('&').any(|p| p == link_query)
    }
}

/// A small icon set, drawn for this UI.
#[component]
pub fn Icon(#[prop(into)] name: String) -> impl IntoView {
    let d = match name.as_str() {
        "catalog" => "M4 4h7v7H4zM13 4h7v7h-7zM4 13h7v7H4zM13 13h7v7h-7z",
        "api" => "M8 5 3 12l5 7M16 5l5 7-5 7M14 4l-4 16",
        "docs" => "M6 3h9l4 4v14H6zM14 3v5h5M9 12h7M9 16h7",
        "create" => "M12 4v16M4 12h16",
        "search" => "M10.5 4a6.5 6.5 0 1 1 0 13 6.5 6.5 0 0 1 0-13zM15.5 15.5 21 21",
        "plugins" => "M9 3v4M15 3v4M6 7h12v5a6 6 0 0 1-12 0zM12 18v3",
        "home" => "M3 11 12 4l9 7M6 10v10h12V10",
        "link" => "M14 4h6v6M20 4l-9 9M18 14v6H4V6h6",
        "group" => {
            "M8 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM16 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM2 20c0-3 3-5 6-5s6 2 6 5M12 20c0-3 2-5 4-5 3 0 6 2 6 5"
        }
        "user" => "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 4-6 8-6s8 2 8 6",
        "system" => "M12 3 3 8l9 5 9-5zM3 13l9 5 9-5",
        "domain" => {
            "M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18zM3 12h18M12 3c3 3 3 15 0 18M12 3c-3 3-3 15 0 18"
        }
        "component" => "M7 7h10v10H7zM10 3v4M14 3v4M10 17v4M14 17v4M3 10h4M3 14h4M17 10h4M17 14h4",
        "resource" => "M4 6c0-2 16-2 16 0v12c0 2-16 2-16 0zM4 6c0 2 16 2 16 0M4 12c0 2 16 2 16 0",
        "location" => {
            "M12 21s-7-6-7-11a7 7 0 0 1 14 0c0 5-7 11-7 11zM12 8a2 2 0 1 0 0 4 2 2 0 0 0 0-4z"
        }
        "template" => "M4 4h16v4H4zM4 11h7v9H4zM14 11h6v9h-6z",
        "external" => "M14 4h6v6M20 4l-9 9M18 14v6H4V6h6",
        "edit" => "M4 20h4L19 9l-4-4L4 16zM13 7l4 4",
        "source" => "M8 6 2 12l6 6M16 6l6 6-6 6",
        "warning" => "M12 3 2 20h20zM12 9v5M12 17v.5",
        _ => "M5 5h14v14H5z",
    };
    view! {
        <svg class="icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true" focusable="false">
            <path d=d fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round"/>
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sidebar_marks_the_current_entry() {
        assert!(is_current("/catalog", "/catalog", ""));
        assert!(is_current("/catalog", "/catalog/default/component/x", ""));
        assert!(!is_current("/catalog", "/catalog", "?kind=api"));
        assert!(is_current(
            "/catalog?kind=api",
            "/catalog",
            "?kind=api&type=openapi"
        ));
        assert!(!is_current("/catalog?kind=api", "/catalog", ""));
        assert!(!is_current("/plugins", "/catalog", ""));
    }

    #[test]
    fn script_json_cannot_close_the_script() {
        let s = script_json(&"</script><script>alert(1)</script>");
        assert!(!s.contains('<'));
    }
}
