//! `/plugins`: every plugin file, its state, capabilities and health. Once
//! hydrated it listens to `/_portal/events` and reloads its data whenever a
//! plugin is loaded, replaced, rejected or removed.

use crate::api::load_plugins;
use crate::app::Icon;
use crate::model::*;
use crate::widgets::{ErrorBox, Loading, describe, fmt_count};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn PluginsPage() -> impl IntoView {
    let version = RwSignal::new(0u64);
    let live = RwSignal::new(false);
    let data = Resource::new(move || version.get(), |_| load_plugins());

    // Live updates (browser only: effects do not run on the server).
    Effect::new(move |_| {
        use wasm_bindgen::JsCast;
        use wasm_bindgen::closure::Closure;
        let Ok(source) = web_sys::EventSource::new("/_portal/events") else {
            return;
        };
        let on_change = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |_| {
            version.update(|v| *v += 1);
        });
        let _ =
            source.add_event_listener_with_callback("plugins", on_change.as_ref().unchecked_ref());
        on_change.forget();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| live.set(true));
        source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        on_open.forget();
        let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| live.set(false));
        source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        let source = send_wrapper::SendWrapper::new(source);
        on_cleanup(move || source.close());
    });

    view! {
        <Title text="Plugins"/>
        <div class="page-header">
            <h1>"Plugins"</h1>
            <p class="subtitle">
                "WebAssembly plugins installed in this portal. Drop a "
                <code>".wasm"</code>
                " file into the plugins directory to install it, delete it to remove it."
            </p>
            <p class="live" role="status">
                {move || if live.get() {
                    view! { <span class="badge tone-success">"live"</span> " This list updates by itself." }.into_any()
                } else {
                    view! { <span class="badge tone-neutral">"static"</span> " Reload to see changes." }.into_any()
                }}
            </p>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorBox title="The plugins could not be listed" message=describe(&e)/> }.into_any(),
                    Ok(v) => view! { <PluginList view=v/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PluginList(view: PluginsView) -> impl IntoView {
    let PluginsView {
        plugins,
        plugins_dir,
    } = view;
    let loaded = plugins
        .iter()
        .filter(|p| p.state == PluginState::Loaded)
        .count();
    let summary = format!(
        "{} plugin file{}, {loaded} loaded",
        plugins.len(),
        if plugins.len() == 1 { "" } else { "s" }
    );
    view! {
        <p class="summary" aria-live="polite">
            {summary}
            {plugins_dir.map(|d| view! { " · directory " <code>{d}</code> })}
        </p>
        {if plugins.is_empty() {
            view! {
                <div class="card empty-state">
                    <p>"No plugins are installed."</p>
                </div>
            }
            .into_any()
        } else {
            view! {
                <ul class="plugin-list">
                    {plugins.into_iter().map(|p| view! { <li><PluginCard plugin=p/></li> }).collect_view()}
                </ul>
            }
            .into_any()
        }}
    }
}

#[component]
fn PluginCard(plugin: PluginRow) -> impl IntoView {
    let state_class = match plugin.state {
        PluginState::Loaded => "badge tone-success",
        PluginState::Loading => "badge tone-info",
        PluginState::Disabled => "badge tone-neutral",
        PluginState::Rejected | PluginState::Failed => "badge tone-danger",
    };
    let title = plugin.name.clone().unwrap_or_else(|| plugin.file.clone());
    let heading_id = format!(
        "plugin-{}",
        plugin
            .file
            .replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    let caps = plugin.capabilities.clone();
    let failure_rate = if plugin.calls > 0 {
        format!(
            " ({:.1}%)",
            plugin.failures as f64 * 100.0 / plugin.calls as f64
        )
    } else {
        String::new()
    };
    let labelled_by = heading_id.clone();
    let data_file = plugin.file.clone();
    view! {
        <article class="card plugin" aria-labelledby=labelled_by data-file=data_file>
            <header class="plugin-header">
                <h2 id=heading_id>
                    <Icon name="plugins"/>
                    <span>{title}</span>
                    {plugin.version.clone().map(|v| view! { <span class="version">{v}</span> })}
                </h2>
                <span class=state_class>{plugin.state.as_str()}</span>
            </header>
            {plugin.description.clone().map(|d| view! { <p class="description">{d}</p> })}
            {plugin.load_error.clone().map(|e| view! {
                <div class="alert tone-danger" role="alert">
                    <Icon name="warning"/>
                    <div>
                        <p class="alert-title">
                            {if plugin.state == PluginState::Loaded { "The newest file was rejected; the previous version keeps running" } else { "Could not be loaded" }}
                        </p>
                        <p>{e}</p>
                    </div>
                </div>
            })}
            <dl class="about-fields plugin-fields">
                <div><dt>"File"</dt><dd><code>{plugin.file.clone()}</code></dd></div>
                <div><dt>"WIT version"</dt><dd>{plugin.wit_version.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div>
                    <dt>"Extension points"</dt>
                    <dd>
                        {if plugin.extension_points.is_empty() {
                            "—".to_owned()
                        } else {
                            plugin.extension_points.join(", ")
                        }}
                    </dd>
                </div>
                <div><dt>"Compiler"</dt><dd>{plugin.compiler.clone().unwrap_or_else(|| "—".into())}</dd></div>
                {plugin.loaded_at.clone().map(|t| {
                    let datetime = t.clone();
                    view! { <div><dt>"Loaded"</dt><dd><time datetime=datetime>{t}</time></dd></div> }
                })}
                {(!plugin.panels.is_empty()).then(|| view! {
                    <div class="wide"><dt>"Panels"</dt><dd>{plugin.panels.join("; ")}</dd></div>
                })}
            </dl>
            <h3 class="label">"Capabilities"</h3>
            {if caps.is_empty() {
                view! { <p class="secondary">"Asks for nothing."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table class="w-table capabilities">
                            <caption class="visually-hidden">"Requested and granted capabilities"</caption>
                            <thead>
                                <tr><th scope="col">"Capability"</th><th scope="col">"Requested"</th><th scope="col">"Granted"</th></tr>
                            </thead>
                            <tbody>
                                {caps
                                    .into_iter()
                                    .map(|c| {
                                        let denied = c.requested && !c.granted;
                                        view! {
                                            <tr class:denied=denied>
                                                <td>{c.capability}</td>
                                                <td>{if c.requested { "yes" } else { "no" }}</td>
                                                <td>
                                                    {if c.granted {
                                                        view! { <span class="badge tone-success">"granted"</span> }.into_any()
                                                    } else {
                                                        view! { <span class="badge tone-warning">"not granted"</span> }.into_any()
                                                    }}
                                                </td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
                .into_any()
            }}
            {(!plugin.missing_grants.is_empty()).then(|| view! {
                <p class="secondary">"Missing grants: " {plugin.missing_grants.join(", ")}</p>
            })}
            {(!plugin.quotas.is_empty()).then(|| {
                let quotas = plugin.quotas.clone();
                view! {
                    <h3 class="label">"Quotas"</h3>
                    <div class="table-wrap">
                        <table class="w-table quotas">
                            <caption class="visually-hidden">"Quotas and their use"</caption>
                            <thead>
                                <tr><th scope="col">"Quota"</th><th scope="col">"Used"</th><th scope="col">"Limit"</th></tr>
                            </thead>
                            <tbody>
                                {quotas
                                    .into_iter()
                                    .map(|q| view! {
                                        <tr>
                                            <td>{q.quota}</td>
                                            <td>{q.used.unwrap_or_else(|| "per call".into())}</td>
                                            <td>{q.limit}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
            <h3 class="label">"Health"</h3>
            <dl class="about-fields">
                <div><dt>"Calls"</dt><dd>{fmt_count(plugin.calls)}</dd></div>
                <div><dt>"Failures"</dt><dd>{fmt_count(plugin.failures)}{failure_rate}</dd></div>
                <div class="wide"><dt>"Last error"</dt><dd>{plugin.last_error.clone().unwrap_or_else(|| "none".into())}</dd></div>
                {plugin.last_denial.clone().map(|d| view! { <div class="wide"><dt>"Last denied capability"</dt><dd>{d}</dd></div> })}
            </dl>
        </article>
    }
}
