//! `/audit`: the audit log for those who may read it (`audit.read`): every
//! mutation and every denial, newest first, filtered by actor, action and
//! outcome, with the same selection exportable as JSON lines. A plain form
//! GET and plain links, so it works without JavaScript.

use crate::api::{load_audit, set_status};
use crate::model::*;
use crate::widgets::*;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_location;

#[component]
pub fn AuditPage() -> impl IntoView {
    let location = use_location();
    let request =
        Memo::new(move |_| AuditRequest::from_query(&parse_query_string(&location.search.get())));
    let page = Resource::new(move || request.get(), load_audit);
    view! {
        <Title text="Audit log"/>
        <div class="page-header">
            <h1>"Audit log"</h1>
            <p class="subtitle">"Every change and every refusal: who, what, when, from where, and how it ended."</p>
        </div>
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                let request = request.get_untracked();
                match page.await {
                    Err(e) => view! { <ErrorBox title="The audit log could not be read" message=describe(&e)/> }.into_any(),
                    Ok(view) if !view.allowed => {
                        set_status(403);
                        view! {
                            <div class="card empty-state">
                                <p>"You may not read the audit log (it needs the " <code>"audit.read"</code> " permission)."</p>
                            </div>
                        }
                        .into_any()
                    }
                    Ok(view) => view! { <AuditTable request view/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(request: AuditRequest, view: AuditView) -> impl IntoView {
    let outcome = request.outcome.clone();
    let selected = move |value: &str| outcome == value;
    let next = view.next_before.map(|seq| request.href_before(seq));
    let export = request.export_href();
    view! {
        <Form action="/audit">
            <div class="card audit-filters">
                <label>"Actor " <input type="text" name="actor" value=request.actor.clone() placeholder="user:default/jane"/></label>
                <label>"Action " <input type="text" name="action" value=request.action.clone() placeholder="catalog."/></label>
                <label>
                    "Outcome "
                    <select name="outcome">
                        <option value="" selected=selected("")>"any"</option>
                        <option value="succeeded" selected=selected("succeeded")>"succeeded"</option>
                        <option value="failed" selected=selected("failed")>"failed"</option>
                        <option value="denied" selected=selected("denied")>"denied"</option>
                    </select>
                </label>
                <button type="submit" class="button primary">"Filter"</button>
                <a class="button" href=export rel="external" download="audit.jsonl">"Export (JSON lines)"</a>
            </div>
        </Form>
        {if view.rows.is_empty() {
            view! { <div class="card empty-state"><p>"No entries match."</p></div> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="w-table audit-table">
                        <thead>
                            <tr>
                                <th scope="col">"When (UTC)"</th>
                                <th scope="col">"Who"</th>
                                <th scope="col">"Action"</th>
                                <th scope="col">"On"</th>
                                <th scope="col">"Outcome"</th>
                                <th scope="col">"From"</th>
                                <th scope="col">"Why"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {view.rows.into_iter().map(|row| {
                                let tone = match row.outcome.as_str() {
                                    "succeeded" => "badge tone-success",
                                    "failed" => "badge tone-warning",
                                    _ => "badge tone-danger",
                                };
                                view! {
                                    <tr data-seq=row.seq>
                                        <td><time datetime=row.time.clone()>{row.time.replace('T', " ").trim_end_matches('Z').to_owned()}</time></td>
                                        <td>{row.actor}</td>
                                        <td><code>{row.action}</code></td>
                                        <td>{row.resource}</td>
                                        <td><span class=tone>{row.outcome}</span></td>
                                        <td>{row.source}</td>
                                        <td>{row.detail}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
            .into_any()
        }}
        {next.map(|href| view! { <p><a class="button" rel="next" href=href>"Older entries"</a></p> })}
    }
}
