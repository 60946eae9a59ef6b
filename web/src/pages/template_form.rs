//! `/create/templates/:namespace/:name`: a template's form, one page per
//! parameter schema with Back and Next, then a review of the values and
//! "Create", which starts the task and opens its page.
//!
//! The server renders the whole form (every page, the later ones hidden), so
//! the page is complete without JavaScript; once hydrated, the steps work in
//! place. Each page's values are checked on "Next" (the rules in
//! `model::create`, patterns with the browser's own regular expressions), the
//! message beside its field; the server checks them again on "Create", and a
//! refusal shows on the review step.

use crate::api::{create_task, load_template_form, set_status};
use crate::app::Icon;
use crate::model::{
    Choice, CreateOutcome, Entry, Field, Input, ShownWhen, TemplateForm, TextWidget,
    encode_component, split_list,
};
use crate::widgets::{ErrorBox, Loading, Tags, describe};
use leptos::either::{Either, EitherOf3};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::{Map, Value};

/// Tests a JSON Schema `pattern` (an ECMAScript regular expression, as
/// Backstage's form checks it: `new RegExp(pattern, "u")`). `None` where it
/// cannot be checked: on the server, or when the pattern does not compile.
pub fn pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    #[cfg(target_arch = "wasm32")]
    {
        js::RegExp::new(pattern, "u").ok().map(|re| re.test(text))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (pattern, text);
        None
    }
}

#[cfg(target_arch = "wasm32")]
mod js {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        /// JavaScript's `RegExp`.
        pub type RegExp;
        #[wasm_bindgen(catch, constructor)]
        pub fn new(pattern: &str, flags: &str) -> Result<RegExp, JsValue>;
        #[wasm_bindgen(method)]
        pub fn test(this: &RegExp, text: &str) -> bool;
    }
}

#[component]
pub fn TemplateFormPage() -> impl IntoView {
    let params = use_params_map();
    let key = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("namespace").unwrap_or_default(),
                p.get("name").unwrap_or_default(),
            )
        })
    });
    let data = Resource::new(
        move || key.get(),
        |(namespace, name)| load_template_form(namespace, name),
    );
    view! {
        <Transition fallback=|| view! { <Loading/> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(Some(form)) => view! { <Wizard form=form/> }.into_any(),
                    Ok(None) => {
                        set_status(404);
                        let (namespace, name) = key.get_untracked();
                        view! {
                            <Title text="Template not found"/>
                            <div class="page-header">
                                <p class="breadcrumb"><a href="/create">"Create"</a></p>
                                <h1>"Template not found"</h1>
                            </div>
                            <div class="card empty-state">
                                <p>
                                    "The catalog has no template named " <strong>{name}</strong>
                                    " in namespace " <strong>{namespace}</strong> "."
                                </p>
                                <p><a href="/create">"See the templates there are"</a> "."</p>
                            </div>
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <ErrorBox title="This template cannot be used" message=describe(&e)/>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// One field of the form while it is being filled in.
#[derive(Clone)]
struct Slot {
    field: Field,
    /// The DOM id of its control (the first one, for groups).
    id: String,
    /// What the ids of a group's controls start with.
    base: String,
    entry: RwSignal<Entry>,
    error: RwSignal<Option<String>>,
    /// For a conditional field: its condition, and the deciding field with
    /// its entry.
    decided_by: Option<(ShownWhen, Field, RwSignal<Entry>)>,
}

impl Slot {
    fn new(page: usize, field: Field) -> Slot {
        let base = dom_id(&format!("field-{page}-"), &field.key);
        let id = match &field.input {
            Input::Choice { radio: true, .. } | Input::Checkboxes { .. } => format!("{base}-0"),
            Input::RepoUrl { .. } => format!("{base}-owner"),
            _ => base.clone(),
        };
        Slot {
            entry: RwSignal::new(field.initial_entry()),
            error: RwSignal::new(None),
            id,
            base,
            field,
            decided_by: None,
        }
    }

    /// Whether the field shows (a conditional one, while its condition holds).
    fn shown(&self, tracked: bool) -> bool {
        let Some((when, decider, entry)) = &self.decided_by else {
            return true;
        };
        let entry = if tracked {
            entry.get()
        } else {
            entry.get_untracked()
        };
        when.holds(decider.value_of(&entry).ok().flatten().as_ref())
    }

    fn value(&self) -> Result<Option<Value>, String> {
        self.field.value_of(&self.entry.get_untracked())
    }

    /// Checks the entry, shows the problem beside the field; whether it is fine.
    fn validate(&self) -> bool {
        let result = self
            .value()
            .and_then(|v| self.field.check(v.as_ref(), &pattern_matches));
        let ok = result.is_ok();
        self.error.set(result.err());
        ok
    }
}

fn dom_id(prefix: &str, value: &str) -> String {
    let mut id = String::from(prefix);
    for c in value.chars() {
        id.push(if c.is_ascii_alphanumeric() { c } else { '-' });
    }
    id
}

fn focus(id: String) {
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Some(el) = document().get_element_by_id(&id) {
            let _ = el.unchecked_into::<web_sys::HtmlElement>().focus();
        }
    });
}

/// A template's form, page by page, then a review. By default its last
/// button creates the task; with `on_finish` (the template editor) it hands
/// the checked values over instead, and the page's own header is left out.
#[component]
pub fn Wizard(
    form: TemplateForm,
    #[prop(optional)] on_finish: Option<Callback<(Map<String, Value>, Map<String, Value>)>>,
) -> AnyView {
    let embedded = on_finish.is_some();
    let TemplateForm {
        namespace,
        name,
        title,
        description,
        entity_href,
        pages,
    } = form;
    let review = pages.len();
    let slots: Vec<Vec<Slot>> = pages
        .iter()
        .enumerate()
        .map(|(p, page)| {
            let mut slots: Vec<Slot> = page
                .fields
                .iter()
                .map(|f| Slot::new(p, f.clone()))
                .collect();
            // Conditional fields follow the entry of the field that decides.
            for i in 0..slots.len() {
                let Some(when) = slots[i].field.shown_when.clone() else {
                    continue;
                };
                if let Some(decider) = slots.iter().find(|s| s.field.key == when.key) {
                    let decided_by = (when, decider.field.clone(), decider.entry);
                    slots[i].decided_by = Some(decided_by);
                }
            }
            slots
        })
        .collect();
    let slots = StoredValue::new(slots);
    let page_titles: Vec<String> = pages.iter().map(|p| p.title.clone()).collect();
    let step = RwSignal::new(0usize);
    let refused = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();

    // The first field of a page that fails its checks (all of them show their message).
    let invalid_on = move |page: usize| -> Option<String> {
        slots.with_value(|pages| {
            let mut first = None;
            for slot in pages[page].iter().filter(|s| s.shown(false)) {
                if !slot.validate() && first.is_none() {
                    first = Some(slot.id.clone());
                }
            }
            first
        })
    };
    let first_control = move |page: usize| -> String {
        if page >= review {
            return "form-page-review".to_owned();
        }
        slots.with_value(|pages| {
            pages[page]
                .first()
                .map(|s| s.id.clone())
                .unwrap_or_else(|| format!("form-page-{page}"))
        })
    };
    let collect_values = move || {
        slots.with_value(|pages| {
            let mut values = Map::new();
            let mut secrets = Map::new();
            for slot in pages.iter().flatten().filter(|s| s.shown(false)) {
                if let Ok(Some(v)) = slot.value() {
                    let target = if slot.field.secret {
                        &mut secrets
                    } else {
                        &mut values
                    };
                    target.insert(slot.field.key.clone(), v);
                }
            }
            (values, secrets)
        })
    };

    let on_submit = {
        let namespace = namespace.clone();
        let name = name.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            if busy.get_untracked() {
                return;
            }
            let current = step.get_untracked();
            if current < review {
                match invalid_on(current) {
                    Some(id) => focus(id),
                    None => {
                        step.set(current + 1);
                        focus(first_control(current + 1));
                    }
                }
                return;
            }
            // Every page once more (the values may have been typed before
            // the page was live), then create.
            for page in 0..review {
                if let Some(id) = invalid_on(page) {
                    step.set(page);
                    focus(id);
                    return;
                }
            }
            let (values, secrets) = collect_values();
            if let Some(finish) = on_finish {
                finish.run((values, secrets));
                return;
            }
            busy.set(true);
            refused.set(None);
            let navigate = navigate.clone();
            let (namespace, name) = (namespace.clone(), name.clone());
            leptos::task::spawn_local(async move {
                match create_task(namespace, name, values, secrets).await {
                    Ok(CreateOutcome::Started { id }) => {
                        navigate(
                            &format!("/create/tasks/{}", encode_component(&id)),
                            Default::default(),
                        );
                    }
                    Ok(CreateOutcome::Refused { message }) => {
                        refused.set(Some(message));
                        busy.set(false);
                        focus("form-refused".to_owned());
                    }
                    Err(e) => {
                        refused.set(Some(describe(&e)));
                        busy.set(false);
                        focus("form-refused".to_owned());
                    }
                }
            });
        }
    };
    let on_back = move |_| {
        let current = step.get_untracked();
        if current > 0 {
            refused.set(None);
            step.set(current - 1);
            focus(first_control(current - 1));
        }
    };

    let mut labels = page_titles.clone();
    labels.push("Review".to_owned());
    let stepper = labels
        .into_iter()
        .enumerate()
        .map(|(i, label)| {
            view! {
                <li
                    class=move || match step.get() {
                        s if s == i => "current",
                        s if s > i => "done",
                        _ => "",
                    }
                    aria-current=move || (step.get() == i).then_some("step")
                >
                    <span class="stepper-number" aria-hidden="true">{i + 1}</span>
                    <span>{label}</span>
                </li>
            }
        })
        .collect_view();

    let form_pages = pages
        .into_iter()
        .enumerate()
        .map(|(i, page)| {
            let heading_id = format!("form-page-{i}");
            let labelled_by = heading_id.clone();
            let fields = slots.with_value(|s| s[i].clone());
            view! {
                <section class="form-page" hidden=move || step.get() != i aria-labelledby=labelled_by>
                    <h2 id=heading_id tabindex="-1">{page.title}</h2>
                    {page.description.map(|d| view! { <p class="secondary page-description">{d}</p> })}
                    {if fields.is_empty() {
                        view! { <p class="empty">"Nothing to fill in on this page."</p> }.into_any()
                    } else {
                        fields
                            .into_iter()
                            .map(|slot| {
                                if slot.decided_by.is_some() {
                                    let watched = slot.clone();
                                    Either::Left(view! {
                                        <div class="conditional-field" hidden=move || !watched.shown(true)>
                                            {field_view(slot)}
                                        </div>
                                    })
                                } else {
                                    Either::Right(field_view(slot))
                                }
                            })
                            .collect_view()
                            .into_any()
                    }}
                </section>
            }
        })
        .collect_view();

    let review_list = move || {
        slots.with_value(|pages| {
            pages
                .iter()
                .enumerate()
                .map(|(i, fields)| {
                    let rows = fields
                        .iter()
                        .filter(|slot| slot.shown(true))
                        .map(|slot| {
                            let shown = match slot.field.value_of(&slot.entry.get()) {
                                Ok(v) => slot.field.display(v.as_ref()),
                                Err(e) => e,
                            };
                            let key = slot.field.key.clone();
                            view! {
                                <div data-key=key>
                                    <dt>{slot.field.label.clone()}</dt>
                                    <dd>{shown}</dd>
                                </div>
                            }
                        })
                        .collect_view();
                    view! {
                        <h3 class="label">{page_titles.get(i).cloned().unwrap_or_default()}</h3>
                        <dl class="about-fields review-values">{rows}</dl>
                    }
                })
                .collect_view()
        })
    };

    let submit_label = move || {
        let current = step.get();
        if busy.get() {
            "Creating…"
        } else if current >= review {
            if embedded { "Dry run" } else { "Create" }
        } else if current + 1 == review {
            "Review"
        } else {
            "Next"
        }
    };

    let header = (!embedded).then(|| {
        view! {
            <Title text=title.clone()/>
            <div class="page-header">
                <p class="breadcrumb">
                    <a href="/create">"Create"</a>
                    <span aria-hidden="true">" / "</span>
                    <a href=entity_href>{title.clone()}</a>
                </p>
                <h1>
                    <Icon name="template"/>
                    <span>{title.clone()}</span>
                </h1>
                {description.map(|d| view! { <p class="subtitle">{d}</p> })}
            </div>
        }
    });

    view! {
        {header}
        <ol class="stepper" aria-label="Steps">{stepper}</ol>
        <form class="card template-form" novalidate on:submit=on_submit>
            {form_pages}
            <section class="form-page" hidden=move || step.get() != review aria-labelledby="form-page-review">
                <h2 id="form-page-review" tabindex="-1">"Review"</h2>
                <p class="secondary page-description">
                    {if embedded { "Check the values, then dry-run." } else { "Check the values, then create." }}
                </p>
                {move || refused.get().map(|message| view! {
                    <div class="alert tone-danger" role="alert" id="form-refused" tabindex="-1">
                        <Icon name="warning"/>
                        <div>
                            <p class="alert-title">"The task was not started"</p>
                            <p>{message}</p>
                        </div>
                    </div>
                })}
                {review_list}
            </section>
            <noscript>
                <p class="alert tone-warning">"This form needs JavaScript to go from page to page and to create."</p>
            </noscript>
            <div class="form-actions">
                <button type="button" class="button" on:click=on_back disabled=move || step.get() == 0 || busy.get()>
                    "Back"
                </button>
                <button type="submit" class="button primary" disabled=move || busy.get()>
                    {submit_label}
                </button>
            </div>
        </form>
    }
    // Erased: the form's full view type is deep enough to overflow the
    // compiler's query depth where a page nests it (the template editor).
    .into_any()
}

/// The control of a one-control field: every kind of field is drawn with
/// one of three elements (few distinct view types keep the browser bundle
/// small).
enum Control {
    /// `<input>`: text, password, number, entity ref with suggestions, tags.
    Line {
        kind: &'static str,
        class: Option<&'static str>,
        step: Option<&'static str>,
        min: Option<String>,
        max: Option<String>,
        placeholder: Option<String>,
        /// Suggestions (`<datalist>`): its id and (value, label) pairs.
        suggestions: Option<(String, Vec<(String, String)>)>,
    },
    /// `<textarea>`: multi-line text, lists, JSON.
    Area {
        class: Option<&'static str>,
        rows: &'static str,
        placeholder: Option<String>,
    },
    /// `<select>`: (value, label) pairs, the first one "Choose…" unless a
    /// value is required and given.
    Select { options: Vec<(String, String)> },
}

/// How a field is laid out: one control with its label, a checkbox with its
/// label after it, or a group of controls under a legend.
enum Layout {
    Single {
        control: Control,
        /// A line of help under the control ("A Group or User from the catalog.").
        hint: Option<String>,
        /// Show the typed tags as chips.
        tags: bool,
    },
    Check,
    /// Radio buttons (`multiple: false`) or checkboxes: one per label.
    Choices {
        labels: Vec<String>,
        multiple: bool,
    },
    Repo {
        hosts: Vec<String>,
    },
}

fn layout(field: &Field, id: &str) -> Layout {
    let placeholder = field.placeholder.clone();
    let line = |kind: &'static str, placeholder: Option<String>| Control::Line {
        kind,
        class: None,
        step: None,
        min: None,
        max: None,
        placeholder,
        suggestions: None,
    };
    let single = |control: Control| Layout::Single {
        control,
        hint: None,
        tags: false,
    };
    let select = |options: &[Choice], value: &dyn Fn(usize, &Choice) -> String| {
        let mut list = vec![(String::new(), "Choose…".to_owned())];
        list.extend(
            options
                .iter()
                .enumerate()
                .map(|(i, o)| (value(i, o), o.label.clone())),
        );
        Control::Select { options: list }
    };
    match &field.input {
        Input::Boolean => Layout::Check,
        Input::Choice {
            options,
            radio: true,
        } => Layout::Choices {
            labels: options.iter().map(|o| o.label.clone()).collect(),
            multiple: false,
        },
        Input::Checkboxes { options, .. } => Layout::Choices {
            labels: options.iter().map(|o| o.label.clone()).collect(),
            multiple: true,
        },
        Input::RepoUrl { hosts } => Layout::Repo {
            hosts: hosts.clone(),
        },
        Input::Choice { options, .. } => single(select(options, &|i, _| i.to_string())),
        Input::Entity {
            options,
            arbitrary,
            kinds,
        } => {
            let ref_of = |_: usize, o: &Choice| o.value.as_str().unwrap_or_default().to_owned();
            let control = if *arbitrary {
                Control::Line {
                    kind: "text",
                    class: None,
                    step: None,
                    min: None,
                    max: None,
                    placeholder: placeholder.or_else(|| Some("kind:namespace/name".to_owned())),
                    suggestions: Some((
                        format!("{id}-options"),
                        options
                            .iter()
                            .enumerate()
                            .map(|(i, o)| (ref_of(i, o), o.label.clone()))
                            .collect(),
                    )),
                }
            } else {
                select(options, &ref_of)
            };
            Layout::Single {
                control,
                hint: (!kinds.is_empty())
                    .then(|| format!("A {} from the catalog.", kinds.join(" or "))),
                tags: false,
            }
        }
        Input::Tags => Layout::Single {
            control: line(
                "text",
                placeholder.or_else(|| Some("java, website".to_owned())),
            ),
            hint: Some("Tags separated by commas.".to_owned()),
            tags: true,
        },
        Input::List { .. } => single(Control::Area {
            class: None,
            rows: "3",
            placeholder: placeholder
                .or_else(|| Some("One per line, or separated by commas".to_owned())),
        }),
        Input::Json => single(Control::Area {
            class: Some("code"),
            rows: "4",
            placeholder: placeholder.or_else(|| Some("JSON".to_owned())),
        }),
        Input::Number {
            integer,
            minimum,
            maximum,
            ..
        } => single(Control::Line {
            kind: "number",
            class: Some("number"),
            step: Some(if *integer { "1" } else { "any" }),
            min: minimum.map(|m| m.to_string()),
            max: maximum.map(|m| m.to_string()),
            placeholder,
            suggestions: None,
        }),
        Input::Text {
            widget: TextWidget::Textarea,
            ..
        } => single(Control::Area {
            class: None,
            rows: "4",
            placeholder,
        }),
        Input::Text {
            widget: TextWidget::Password,
            ..
        } => single(line("password", placeholder)),
        Input::Text { .. } => single(line("text", placeholder)),
    }
}

/// One field: its label, description, control, help and problem.
fn field_view(slot: Slot) -> impl IntoView {
    let Slot {
        field,
        id,
        base,
        entry,
        error,
        decided_by: _,
    } = slot;
    let desc_id = format!("{id}-description");
    let help_id = format!("{id}-help");
    let error_id = format!("{id}-error");
    let described_by = {
        let mut ids = Vec::new();
        if field.description.is_some() {
            ids.push(desc_id.clone());
        }
        if field.help.is_some() {
            ids.push(help_id.clone());
        }
        ids.push(error_id.clone());
        ids.join(" ")
    };
    let invalid = move || error.get().is_some().then_some("true");
    let has_error = move || error.get().is_some();
    let clear = move || error.set(None);
    let set_text = move |ev: leptos::ev::Event| {
        entry.set(Entry::Text(event_target_value(&ev)));
        clear();
    };
    let initial = field.initial_entry();
    let initial_text = initial.text();
    let required = field.required;
    let autofocus = field.autofocus;
    let key = field.key.clone();
    let label = field.label.clone();
    let required_mark = required.then(|| {
        view! {
            <span class="required" aria-hidden="true">" *"</span>
            <span class="visually-hidden">" (required)"</span>
        }
    });
    let description = field
        .description
        .clone()
        .map(|d| view! { <p class="field-description" id=desc_id>{d}</p> });
    let help = field
        .help
        .clone()
        .map(|h| view! { <p class="field-help" id=help_id>{h}</p> });
    let problem = move || {
        error.get().map(|e| {
            view! {
                <p class="field-error" id=error_id.clone()>
                    <Icon name="warning"/>
                    <span>{e}</span>
                </p>
            }
        })
    };

    match layout(&field, &id) {
        Layout::Check => {
            let checked = matches!(initial, Entry::Flag(true));
            EitherOf3::A(view! {
                <div class="form-field checkbox-field" class:has-error=has_error>
                    <div class="checkbox-line">
                        <input
                            type="checkbox"
                            id=id.clone()
                            name=key
                            checked=checked
                            autofocus=autofocus
                            aria-describedby=described_by
                            aria-invalid=invalid
                            on:change=move |ev| {
                                entry.set(Entry::Flag(event_target_checked(&ev)));
                                clear();
                            }
                        />
                        <label for=id>{label}{required_mark}</label>
                    </div>
                    {description}
                    {help}
                    {problem}
                </div>
            })
        }
        Layout::Choices { labels, multiple } => {
            let ticked: Vec<usize> = match &initial {
                Entry::Many(t) => t.clone(),
                _ => initial_text.parse().into_iter().collect(),
            };
            let kind = if multiple { "checkbox" } else { "radio" };
            let items = labels
                .into_iter()
                .enumerate()
                .map(|(i, text)| {
                    let option_id = format!("{base}-{i}");
                    view! {
                        <label class="choice" for=option_id.clone()>
                            <input
                                type=kind
                                id=option_id.clone()
                                name=key.clone()
                                value=i.to_string()
                                checked=ticked.contains(&i)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    if multiple {
                                        entry.update(|e| {
                                            if let Entry::Many(list) = e {
                                                list.retain(|x| *x != i);
                                                if on {
                                                    list.push(i);
                                                    list.sort_unstable();
                                                }
                                            }
                                        });
                                    } else if on {
                                        entry.set(Entry::Text(i.to_string()));
                                    }
                                    clear();
                                }
                            />
                            <span>{text}</span>
                        </label>
                    }
                })
                .collect_view();
            EitherOf3::B(view! {
                <fieldset class="form-field group-field" class:has-error=has_error aria-describedby=described_by>
                    <legend>{label}{required_mark}</legend>
                    {description}
                    {Either::Left(view! { <div class="choices">{items}</div> })}
                    {help}
                    {problem}
                </fieldset>
            })
        }
        Layout::Repo { hosts } => {
            let (host, owner, repo) = match &initial {
                Entry::Repo { host, owner, repo } => (host.clone(), owner.clone(), repo.clone()),
                _ => Default::default(),
            };
            let set_part = move |part: usize, text: String| {
                entry.update(|e| {
                    if let Entry::Repo { host, owner, repo } = e {
                        match part {
                            0 => *host = text,
                            1 => *owner = text,
                            _ => *repo = text,
                        }
                    }
                });
                clear();
            };
            let host_id = format!("{base}-host");
            let host_control = if hosts.is_empty() {
                Either::Left(view! {
                    <input
                        type="text"
                        id=host_id.clone()
                        value=host
                        placeholder="github.com"
                        aria-invalid=invalid
                        on:input=move |ev| set_part(0, event_target_value(&ev))
                    />
                })
            } else {
                let options = hosts
                    .into_iter()
                    .map(|h| {
                        let selected = h == host;
                        let text = h.clone();
                        view! { <option value=h selected=selected>{text}</option> }
                    })
                    .collect_view();
                Either::Right(view! {
                    <select id=host_id.clone() on:change=move |ev| set_part(0, event_target_value(&ev))>
                        {options}
                    </select>
                })
            };
            let owner_id = format!("{base}-owner");
            let repo_id = format!("{base}-repo");
            let body = view! {
                <div class="repo-picker">
                    <div class="repo-part">
                        <label for=host_id>"Host"</label>
                        {host_control}
                    </div>
                    <div class="repo-part">
                        <label for=owner_id.clone()>"Owner"</label>
                        <input
                            type="text"
                            id=owner_id
                            value=owner
                            autofocus=autofocus
                            aria-invalid=invalid
                            on:input=move |ev| set_part(1, event_target_value(&ev))
                        />
                    </div>
                    <div class="repo-part">
                        <label for=repo_id.clone()>"Repository"</label>
                        <input
                            type="text"
                            id=repo_id
                            value=repo
                            aria-invalid=invalid
                            on:input=move |ev| set_part(2, event_target_value(&ev))
                        />
                    </div>
                </div>
            };
            EitherOf3::B(view! {
                <fieldset class="form-field group-field" class:has-error=has_error aria-describedby=described_by>
                    <legend>{label}{required_mark}</legend>
                    {description}
                    {Either::Right(body)}
                    {help}
                    {problem}
                </fieldset>
            })
        }
        Layout::Single {
            control,
            hint,
            tags,
        } => {
            let control = match control {
                Control::Line {
                    kind,
                    class,
                    step,
                    min,
                    max,
                    placeholder,
                    suggestions,
                } => {
                    let list_id = suggestions.as_ref().map(|(list_id, _)| list_id.clone());
                    let datalist = suggestions.map(|(list_id, items)| {
                        view! {
                            <datalist id=list_id>
                                {items
                                    .into_iter()
                                    .map(|(value, text)| view! { <option value=value>{text}</option> })
                                    .collect_view()}
                            </datalist>
                        }
                    });
                    EitherOf3::A(view! {
                        <input
                            type=kind
                            id=id.clone()
                            name=key
                            class=class
                            step=step
                            min=min
                            max=max
                            list=list_id
                            value=initial_text
                            placeholder=placeholder
                            autocomplete="off"
                            autofocus=autofocus
                            aria-describedby=described_by
                            aria-invalid=invalid
                            on:input=set_text
                        />
                        {datalist}
                    })
                }
                Control::Area {
                    class,
                    rows,
                    placeholder,
                } => EitherOf3::B(view! {
                    <textarea
                        id=id.clone()
                        name=key
                        class=class
                        rows=rows
                        placeholder=placeholder
                        autofocus=autofocus
                        aria-describedby=described_by
                        aria-invalid=invalid
                        on:input=set_text
                    >
                        {initial_text}
                    </textarea>
                }),
                Control::Select { options } => {
                    let items = options
                        .into_iter()
                        .map(|(value, text)| {
                            let selected = value == initial_text;
                            view! { <option value=value selected=selected>{text}</option> }
                        })
                        .collect_view();
                    EitherOf3::C(view! {
                        <select
                            id=id.clone()
                            name=key
                            autofocus=autofocus
                            aria-describedby=described_by
                            aria-invalid=invalid
                            on:change=set_text
                        >
                            {items}
                        </select>
                    })
                }
            };
            let hint = hint.map(|h| view! { <p class="field-help">{h}</p> });
            let preview = tags.then(|| {
                move || {
                    let tags = split_list(&entry.get().text());
                    (!tags.is_empty())
                        .then(|| view! { <div class="tags-preview"><Tags tags=tags/></div> })
                }
            });
            EitherOf3::C(view! {
                <div class="form-field" class:has-error=has_error>
                    <label for=id>{label}{required_mark}</label>
                    {description}
                    {control}
                    {hint}
                    {preview}
                    {help}
                    {problem}
                </div>
            })
        }
    }
}
