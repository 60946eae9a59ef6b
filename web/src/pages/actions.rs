//! `/create/actions`: every installed template action (Backstage's
//! "Installed actions" page): its plugin, its inputs and outputs, and what its
//! plugin is granted, so a template author sees what a step can reach before
//! writing it.

use crate::api::load_actions;
use crate::model::{ActionField, ActionRow};
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn ActionsPage() -> impl IntoView {
    let actions = Resource::new(|| (), |_| load_actions());
    view! {
        <Title text="Installed actions"/>
        <div class="page-header">
            <h1>"Installed actions"</h1>
            <p class="subtitle">
                "The steps templates can use. Each runs in its plugin's sandbox, with only what the plugin is granted; drop a plugin into the plugins folder to add more."
            </p>
            <p><a href="/create">"Back to templates"</a></p>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match actions.await {
                    Err(e) => view! { <ErrorBox title="Actions could not be loaded" message=describe(&e)/> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <div class="card empty-state">
                            <p>"No template actions are installed: templates cannot run yet."</p>
                        </div>
                    }
                    .into_any(),
                    Ok(rows) => view! {
                        <ul class="action-list" aria-label="Actions">
                            {rows.into_iter().map(|a| view! { <li><ActionCard action=a/></li> }).collect_view()}
                        </ul>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ActionCard(action: ActionRow) -> impl IntoView {
    let heading_id = format!("action-{}", action.id)
        .replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "-");
    let labelled_by = heading_id.clone();
    view! {
        <article class="card action-card" aria-labelledby=labelled_by data-action=action.id.clone()>
            <header>
                <h2 id=heading_id><code>{action.id.clone()}</code></h2>
                <span class="secondary">"from " {action.plugin.clone()}</span>
            </header>
            <p>{action.description.clone()}</p>
            <Fields caption="Input" fields=action.inputs/>
            <Fields caption="Output" fields=action.outputs/>
            {(!action.missing_grants.is_empty()).then(|| view! {
                <p class="alert tone-warning missing-grants" role="note">
                    "Templates using this action are refused until the operator sets: "
                    {action.missing_grants.join(", ")}
                </p>
            })}
            <h3 class="label">"Its plugin may reach"</h3>
            {if action.grants.is_empty() {
                view! { <p class="secondary grants">"Nothing outside the task's workspace."</p> }.into_any()
            } else {
                view! {
                    <ul class="grants">
                        {action.grants.into_iter().map(|g| view! { <li>{g}</li> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </article>
    }
}

#[component]
fn Fields(caption: &'static str, fields: Vec<ActionField>) -> impl IntoView {
    (!fields.is_empty()).then(|| {
        view! {
            <div class="table-wrap">
                <table class="w-table action-fields">
                    <caption>{caption}</caption>
                    <thead>
                        <tr><th scope="col">"Name"</th><th scope="col">"Type"</th><th scope="col">"Description"</th></tr>
                    </thead>
                    <tbody>
                        {fields
                            .into_iter()
                            .map(|f| view! {
                                <tr>
                                    <td>
                                        <code>{f.name}</code>
                                        {f.required.then(|| view! { <span class="badge tone-info">"required"</span> })}
                                    </td>
                                    <td>{f.type_}</td>
                                    <td>{f.description}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
    })
}
