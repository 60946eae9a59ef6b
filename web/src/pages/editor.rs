//! `/create/edit`: the template editor. A template author pastes a template,
//! sees the form it generates (or every problem with it, each at its place),
//! fills the form in and dry-runs it with the files of a registered template:
//! each step's rendered input and output, the log, the files produced and the
//! output. Nothing is registered, nothing kept, nothing published.

use super::template_form::Wizard;
use crate::api::{dry_run_template, load_templates, preview_template};
use crate::model::{DryRunView, EditorPreview};
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::{Map, Value};

/// What the editor starts with: a small template using the built-in actions.
const STARTER: &str = r#"apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: my-template
  title: My template
spec:
  owner: team-a
  type: service
  parameters:
    - title: Service
      required: [name]
      properties:
        name:
          title: Name
          type: string
          pattern: '^[a-z0-9-]+$'
  steps:
    - id: hello
      name: Say hello
      action: debug:log
      input:
        message: Creating ${{ parameters.name }}
    - id: entity
      name: Write catalog-info.yaml
      action: catalog:write
      input:
        entity:
          apiVersion: backstage.io/v1alpha1
          kind: Component
          metadata:
            name: ${{ parameters.name }}
          spec:
            type: service
            lifecycle: experimental
            owner: team-a
"#;

#[component]
pub fn EditorPage() -> impl IntoView {
    let text = RwSignal::new(STARTER.to_owned());
    let files_from = RwSignal::new(String::new());
    let templates = Resource::new(|| (), |_| load_templates());
    let preview = Action::new(|text: &String| preview_template(text.clone()));
    let dry_run = Action::new(
        |(text, files_from, values, secrets): &(
            String,
            String,
            Map<String, Value>,
            Map<String, Value>,
        )| {
            dry_run_template(
                text.clone(),
                files_from.clone(),
                values.clone(),
                secrets.clone(),
            )
        },
    );
    let on_preview = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        dry_run.value().set(None);
        preview.dispatch(text.get_untracked());
    };
    let on_finish = Callback::new(
        move |(values, secrets): (Map<String, Value>, Map<String, Value>)| {
            dry_run.dispatch((
                text.get_untracked(),
                files_from.get_untracked(),
                values,
                secrets,
            ));
        },
    );

    view! {
        <Title text="Template editor"/>
        <div class="page-header">
            <p class="breadcrumb"><a href="/create">"Create"</a></p>
            <h1>"Template editor"</h1>
            <p class="subtitle">
                "Paste a template to see the form it generates, then dry-run it: every step's input and output and the files it would produce. Nothing is registered or published. "
                <code>"portal template check"</code>
                " runs the same checks in CI."
            </p>
        </div>
        <form class="card editor-form" on:submit=on_preview>
            <label for="template-text">"Template (YAML)"</label>
            <textarea
                id="template-text"
                rows="18"
                spellcheck="false"
                prop:value=move || text.get()
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <label for="files-from">"Skeleton files from"</label>
            <select id="files-from" on:change=move |ev| files_from.set(event_target_value(&ev))>
                <option value="">"None (the template uses no files)"</option>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        templates
                            .await
                            .unwrap_or_default()
                            .into_iter()
                            .map(|t| {
                                let label = format!("{} ({})", t.title.clone().unwrap_or_else(|| t.name.clone()), t.entity_ref);
                                view! { <option value=t.entity_ref.clone()>{label}</option> }
                            })
                            .collect_view()
                    })}
                </Transition>
            </select>
            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || preview.pending().get()>
                    {move || if preview.pending().get() { "Checking…" } else { "Check and show the form" }}
                </button>
            </div>
        </form>
        {move || preview.value().get().map(|result| match result {
            Err(e) => view! { <ErrorBox title="The template could not be checked" message=describe(&e)/> }.into_any(),
            Ok(EditorPreview { problems, form: None }) => view! {
                <div class="alert tone-danger editor-problems" role="alert">
                    <div>
                        <p class="alert-title">"The template has problems"</p>
                        <ul>{problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}</ul>
                    </div>
                </div>
            }
            .into_any(),
            Ok(EditorPreview { form: Some(form), .. }) => view! {
                <section class="editor-preview" aria-label="The form">
                    <h2>"The form"</h2>
                    <Wizard form=form on_finish=on_finish/>
                </section>
            }
            .into_any(),
        })}
        {move || dry_run.pending().get().then(|| view! { <Loading/> })}
        {move || dry_run.value().get().map(|result| match result {
            Err(e) => view! { <ErrorBox title="The dry run could not start" message=describe(&e)/> }.into_any(),
            Ok(view) => view! { <DryRunResult result=view/> }.into_any(),
        })}
    }
}

#[component]
fn DryRunResult(result: DryRunView) -> impl IntoView {
    let tone = if result.status == "completed" {
        "tone-success"
    } else {
        "tone-danger"
    };
    view! {
        <section class="card dry-run-result" aria-labelledby="dry-run-heading" data-status=result.status.clone()>
            <h2 id="dry-run-heading">
                "Dry run " <span class=format!("badge {tone}")>{result.status.clone()}</span>
            </h2>
            {result.error.map(|e| view! { <p class="alert tone-danger" role="alert">{e}</p> })}
            <h3>"Steps"</h3>
            <ol class="dry-run-steps">
                {result.steps.into_iter().map(|s| view! {
                    <li data-step=s.id.clone()>
                        <p><strong>{s.name}</strong> " " <code>{s.action}</code> " " <span class="badge">{s.status}</span></p>
                        {s.input.map(|i| view! { <details><summary>"Input"</summary><pre>{i}</pre></details> })}
                        {s.output.map(|o| view! { <details><summary>"Output"</summary><pre>{o}</pre></details> })}
                    </li>
                }).collect_view()}
            </ol>
            <h3>"Files it would produce"</h3>
            {if result.files.is_empty() {
                view! { <p class="secondary">"None."</p> }.into_any()
            } else {
                view! {
                    <ul class="dry-run-files">
                        {result.files.into_iter().map(|f| {
                            let about = format!("{} bytes{}", f.size, if f.executable { ", executable" } else { "" });
                            let path = f.path.clone();
                            view! {
                                <li data-file=path>
                                    <details>
                                        <summary><code>{f.path}</code> " " <span class="secondary">{about}</span></summary>
                                        {match f.text {
                                            Some(t) => view! { <pre>{t}</pre> }.into_any(),
                                            None => view! { <p class="secondary">"Binary."</p> }.into_any(),
                                        }}
                                    </details>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
            <h3>"Log"</h3>
            <pre class="dry-run-log">{result.log.join("\n")}</pre>
            {(!result.links.is_empty() || !result.texts.is_empty()).then(|| view! {
                <h3>"Output"</h3>
                <ul>
                    {result.links.into_iter().map(|l| view! { <li>{l.title} ": " <code>{l.target}</code></li> }).collect_view()}
                </ul>
                {result.texts.into_iter().map(|t| view! {
                    <div class="output-text"><p class="label">{t.title}</p><div inner_html=t.html></div></div>
                }).collect_view()}
            })}
        </section>
    }
}
