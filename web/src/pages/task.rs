//! `/create/tasks/:id`: one run of a template. Its status, each step's
//! status, the log, and once it completed the output (links and text);
//! Cancel while it runs, Retry once it failed.
//!
//! The server renders the task as it is (the log so far included). Once
//! hydrated, the page follows the task's event stream
//! (`/api/scaffolder/v2/tasks/:id/eventstream?after=N`, same origin, so the
//! page's Content-Security-Policy allows it) and appends each line as it
//! arrives; the task's last event (completion or cancellation) reloads the
//! view for the final status and the output. Cancel and Retry are forms that
//! work without JavaScript too.

use crate::api::{CancelTask, RetryTask, cancel_task, load_task, retry_task, set_status};
use crate::app::Icon;
use crate::model::{
    LogLine, OutputLink, TaskEventView, TaskStep, TaskView, encode_component, is_final_status,
    status_tone,
};
use crate::widgets::{ErrorBox, Loading, describe};
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn TaskPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    // Bumped by the task's last event, Cancel and Retry: the view is loaded again.
    let version = RwSignal::new(0u64);
    // Lines that arrived live (for tests and curious readers: `data-streamed`).
    let streamed = RwSignal::new(0u64);
    let data = Resource::new(move || (id.get(), version.get()), |(id, _)| load_task(id));
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(v)) => view! { <TaskBody view=v version=version streamed=streamed/> }.into_any(),
                    Ok(None) => {
                        set_status(404);
                        view! {
                            <Title text="Task not found"/>
                            <div class="page-header">
                                <p class="breadcrumb"><a href="/create">"Create"</a></p>
                                <h1>"Task not found"</h1>
                            </div>
                            <div class="card empty-state">
                                <p>"There is no task " <code>{id.get_untracked()}</code> "."</p>
                                <p><a href="/create">"Start one from a template"</a> "."</p>
                            </div>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <ErrorBox title="This task could not be loaded" message=describe(&e)/>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// What the live log updates on the page.
#[derive(Clone, Copy)]
struct Live {
    status: RwSignal<String>,
    steps: RwSignal<Vec<TaskStep>>,
    lines: RwSignal<Vec<LogLine>>,
    /// The stream is open.
    following: RwSignal<bool>,
    /// Bumped to load the view again.
    version: RwSignal<u64>,
    /// Counts the lines that arrived live.
    streamed: RwSignal<u64>,
    log_ref: NodeRef<leptos::html::Ol>,
}

/// Follows the task's event stream (browser only), from after event `after`.
fn follow(id: &str, after: u64, live: Live) {
    let Live {
        status,
        steps,
        lines,
        following,
        version,
        streamed,
        log_ref,
    } = live;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    let url = format!(
        "/api/scaffolder/v2/tasks/{}/eventstream?after={after}",
        encode_component(id)
    );
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    // A reconnecting stream starts again after `after`: skip what was shown.
    let seen = Rc::new(Cell::new(after));
    let me = source.clone();
    let on_event =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
            let Some(text) = ev.data().as_string() else {
                return;
            };
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&text) else {
                return;
            };
            let Some(event) = TaskEventView::from_event(&event) else {
                return;
            };
            if event.line.id <= seen.get() {
                return;
            }
            seen.set(event.line.id);
            if let Some((step_id, step_status)) = &event.step {
                steps.update(|all| {
                    for s in all.iter_mut().filter(|s| &s.id == step_id) {
                        s.status = step_status.clone();
                    }
                });
            }
            if status.get_untracked() == "open" {
                status.set("processing".to_owned());
            }
            let last = event.task_status.clone();
            lines.update(|l| l.push(event.line));
            streamed.update(|n| *n += 1);
            request_animation_frame(move || {
                if let Some(log) = log_ref.get_untracked() {
                    log.set_scroll_top(log.scroll_height());
                }
            });
            if let Some(final_status) = last {
                me.close();
                following.set(false);
                status.set(final_status);
                // The output and the final state of each step.
                version.update(|v| *v += 1);
            }
        });
    for kind in ["log", "completion", "cancelled", "recovered"] {
        let _ = source.add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref());
    }
    on_event.forget();
    let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| following.set(true));
    source.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    let on_error = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| following.set(false));
    source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    let source = send_wrapper::SendWrapper::new(source);
    on_cleanup(move || source.close());
}

/// Cancel or Retry: a plain form posting to its server function (without
/// JavaScript the portal answers with a redirect back to this page); once
/// hydrated, the call is made in place and the view loaded again.
fn task_action(
    id: String,
    retry: bool,
    busy: RwSignal<bool>,
    failure: RwSignal<Option<String>>,
    version: RwSignal<u64>,
) -> Option<impl IntoView> {
    // What the viewer may not do is not offered (the server refuses it too).
    let permission = if retry {
        "scaffolder.task.create"
    } else {
        "scaffolder.task.cancel"
    };
    if !crate::app::viewer_may(permission) {
        return None;
    }
    let (url, label, class) = if retry {
        (RetryTask::url(), "Retry", "button primary")
    } else {
        (CancelTask::url(), "Cancel", "button")
    };
    let value = id.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        failure.set(None);
        let id = id.clone();
        leptos::task::spawn_local(async move {
            let result = if retry {
                retry_task(id).await
            } else {
                cancel_task(id).await
            };
            busy.set(false);
            match result {
                Ok(()) => version.update(|v| *v += 1),
                Err(e) => failure.set(Some(describe(&e))),
            }
        });
    };
    Some(view! {
        <form method="post" action=url on:submit=on_submit>
            <input type="hidden" name="id" value=value/>
            <button type="submit" class=class disabled=move || busy.get()>{label}</button>
        </form>
    })
}

#[component]
fn TaskBody(view: TaskView, version: RwSignal<u64>, streamed: RwSignal<u64>) -> impl IntoView {
    let status = RwSignal::new(view.status.clone());
    let steps = RwSignal::new(view.steps.clone());
    let lines = RwSignal::new(view.log.clone());
    let following = RwSignal::new(false);
    let log_ref = NodeRef::<leptos::html::Ol>::new();

    if !view.is_final() {
        let id = view.id.clone();
        let after = view.last_event_id;
        let live = Live {
            status,
            steps,
            lines,
            following,
            version,
            streamed,
            log_ref,
        };
        // Effects run in the browser only.
        Effect::new(move |_| follow(&id, after, live));
    }
    // Start at the end of a long log (once it is laid out in the page).
    Effect::new(move |_| {
        if log_ref.get().is_some() {
            request_animation_frame(move || {
                if let Some(log) = log_ref.get_untracked() {
                    log.set_scroll_top(log.scroll_height());
                }
            });
        }
    });

    let TaskView {
        id,
        template_title,
        template_href,
        created_at,
        error,
        links,
        texts,
        ..
    } = view;
    let started = created_at
        .get(..19)
        .unwrap_or(&created_at)
        .replace('T', " ");
    let running = move || !is_final_status(&status.get());
    let action_id = id.clone();
    let busy = RwSignal::new(false);
    let failure = RwSignal::new(None::<String>);
    let action_error = move || {
        failure
            .get()
            .map(|message| view! { <ErrorBox title="That did not work" message=message/> })
    };
    let error_box = error.map(|message| {
        let (class, title) = match status.get_untracked().as_str() {
            "cancelled" => ("alert tone-warning", "The task was cancelled"),
            _ => ("alert tone-danger", "The task failed"),
        };
        view! {
            <div class=class role="alert">
                <Icon name="warning"/>
                <div>
                    <p class="alert-title">{title}</p>
                    <p>{message}</p>
                </div>
            </div>
        }
    });
    let has_output = !links.is_empty() || !texts.is_empty();

    view! {
        <Title text=format!("{template_title} · task")/>
        <div class="page-header">
            <p class="breadcrumb">
                <a href="/create">"Create"</a>
                <span aria-hidden="true">" / "</span>
                {match template_href.clone() {
                    Some(href) => view! { <a href=href>{template_title.clone()}</a> }.into_any(),
                    None => view! { <span>{template_title.clone()}</span> }.into_any(),
                }}
            </p>
            <div class="task-title">
                <h1>
                    <Icon name="template"/>
                    <span>{template_title.clone()}</span>
                </h1>
                <span
                    class=move || format!("badge task-status {}", status_tone(&status.get()))
                    role="status"
                    data-status=move || status.get()
                >
                    {move || status.get()}
                </span>
            </div>
            <p class="subtitle">
                "Task " <code>{id.clone()}</code> " · started " <time datetime=created_at.clone()>{started} " UTC"</time>
                {move || (following.get() && running()).then(|| view! { " · " <span class="live-note">"following the log live"</span> })}
            </p>
            <div class="task-actions">
                {move || {
                    let status = status.get();
                    let retry = matches!(status.as_str(), "failed" | "cancelled");
                    (retry || running()).then(|| task_action(action_id.clone(), retry, busy, failure, version))
                }}
                {template_href.map(|href| view! { <a class="button" href=href>"Run again with new values"</a> })}
            </div>
        </div>
        {action_error}
        {error_box}
        {has_output.then(|| view! { <TaskOutput links=links texts=texts/> })}
        <div class="task-grid">
            <section class="card task-steps-card" aria-labelledby="steps-heading">
                <h2 id="steps-heading">"Steps"</h2>
                <ol class="task-steps">
                    {move || {
                        steps
                            .get()
                            .into_iter()
                            .map(|s| {
                                let tone = status_tone(&s.status);
                                let icon = match s.status.as_str() {
                                    "completed" => "✓",
                                    "failed" => "✕",
                                    "processing" => "●",
                                    "skipped" => "↷",
                                    "cancelled" => "–",
                                    _ => "○",
                                };
                                let action = (s.action != s.name).then(|| s.action.clone());
                                view! {
                                    <li class=format!("task-step step-{}", s.status) data-step=s.id.clone()>
                                        <span class=format!("step-icon {tone}") aria-hidden="true">{icon}</span>
                                        <span class="step-name">
                                            {s.name}
                                            {action.map(|a| view! { <span class="secondary">{a}</span> })}
                                        </span>
                                        <span class=format!("badge {tone}")>{s.status.clone()}</span>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ol>
            </section>
            <section class="card task-log-card" aria-labelledby="log-heading">
                <h2 id="log-heading">"Log"</h2>
                <ol
                    class="task-log"
                    role="log"
                    aria-label="Task log"
                    node_ref=log_ref
                    tabindex="0"
                    data-streamed=move || streamed.get().to_string()
                >
                    <For
                        each=move || lines.get()
                        key=|line| line.id
                        children=move |line| {
                            let class = format!("log-line log-{}", line.kind);
                            view! {
                                <li class=class data-event=line.id.to_string()>
                                    <span class="log-time">{line.time}</span>
                                    <span class="log-message">{line.message}</span>
                                </li>
                            }
                        }
                    />
                </ol>
                {move || lines.with(|l| l.is_empty()).then(|| view! { <p class="empty">"Nothing logged yet."</p> })}
            </section>
        </div>
    }
}

#[component]
fn TaskOutput(links: Vec<OutputLink>, texts: Vec<crate::model::OutputText>) -> impl IntoView {
    view! {
        <section class="card task-output" aria-labelledby="output-heading">
            <h2 id="output-heading">"Output"</h2>
            {(!links.is_empty()).then(|| view! {
                <ul class="links output-links">
                    {links
                        .into_iter()
                        .map(|l| {
                            let icon = l.kind.clone().unwrap_or_else(|| "link".to_owned());
                            match l.href {
                                Some(href) => view! {
                                    <li>
                                        <a
                                            class="button"
                                            href=href
                                            target=l.external.then_some("_blank")
                                            rel=l.external.then_some("noopener noreferrer")
                                            title=l.target
                                        >
                                            <Icon name=icon/>
                                            <span>{l.title}</span>
                                            {l.external.then(|| view! { <span class="visually-hidden">" (opens in a new tab)"</span> })}
                                        </a>
                                    </li>
                                }
                                .into_any(),
                                None => view! {
                                    <li>
                                        <span class="button disabled" title="This link is not allowed by the portal's link rule">
                                            <Icon name="warning"/>
                                            <span>{l.title}</span>
                                        </span>
                                        <code class="secondary">{l.target}</code>
                                    </li>
                                }
                                .into_any(),
                            }
                        })
                        .collect_view()}
                </ul>
            })}
            {texts
                .into_iter()
                .map(|t| view! {
                    <div class="output-text">
                        {(!t.title.is_empty()).then(|| view! { <h3 class="label">{t.title}</h3> })}
                        <div class="w-markdown" inner_html=t.html></div>
                    </div>
                })
                .collect_view()}
        </section>
    }
}
