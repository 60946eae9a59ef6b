//! The search box on every page. Without JavaScript it is a form that GETs
//! `/search?q=`. With it, suggestions appear as you type (names and titles,
//! typo tolerant), as an ARIA combobox: ↓/↑ move through them, Enter opens
//! the one selected (or searches when none is), Escape closes the list.

use crate::api::load_suggestions;
use crate::model::*;
use crate::pages::search::Highlighted;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;

/// Suggestions are asked for after this pause in typing.
const PAUSE_MS: u64 = 90;

#[component]
pub fn SearchBox() -> impl IntoView {
    let term = RwSignal::new(String::new());
    let suggestions: RwSignal<Vec<Suggestion>> = RwSignal::new(Vec::new());
    let active: RwSignal<Option<usize>> = RwSignal::new(None);
    let open = RwSignal::new(false);
    // Answers to older keystrokes are dropped.
    let asked = StoredValue::new(0u64);
    let navigate = use_navigate();

    let ask = move |text: String| {
        let generation = asked.get_value() + 1;
        asked.set_value(generation);
        if text.trim().chars().count() < 2 {
            suggestions.set(Vec::new());
            open.set(false);
            return;
        }
        set_timeout(
            move || {
                if asked.get_value() != generation {
                    return;
                }
                leptos::task::spawn_local(async move {
                    let found = load_suggestions(text).await.unwrap_or_default();
                    if asked.get_value() == generation {
                        open.set(!found.is_empty());
                        active.set(None);
                        suggestions.set(found);
                    }
                });
            },
            std::time::Duration::from_millis(PAUSE_MS),
        );
    };

    let go = {
        let navigate = navigate.clone();
        move |location: String| {
            open.set(false);
            if location.starts_with('/') {
                navigate(&location, Default::default());
            } else if let Some(window) = web_sys::window() {
                let _ = window.location().set_href(&location);
            }
        }
    };

    let on_keydown = {
        let go = go.clone();
        move |ev: web_sys::KeyboardEvent| {
            let count = suggestions.with(Vec::len);
            match ev.key().as_str() {
                "ArrowDown" if count > 0 => {
                    ev.prevent_default();
                    open.set(true);
                    active.update(|a| *a = Some(a.map_or(0, |i| (i + 1) % count)));
                }
                "ArrowUp" if count > 0 => {
                    ev.prevent_default();
                    active.update(|a| *a = Some(a.map_or(count - 1, |i| (i + count - 1) % count)));
                }
                "Escape" => {
                    open.set(false);
                    active.set(None);
                }
                "Enter" => {
                    if let (true, Some(i)) = (open.get_untracked(), active.get_untracked())
                        && let Some(s) = suggestions.with_untracked(|s| s.get(i).cloned())
                    {
                        ev.prevent_default();
                        go(s.location);
                    }
                }
                _ => {}
            }
        }
    };

    let option_id = |i: usize| format!("search-suggestion-{i}");
    view! {
        <form class="search-box" action="/search" method="get" role="search">
            <label for="search-box-q" class="visually-hidden">"Search the portal"</label>
            <input
                id="search-box-q"
                type="search"
                name="q"
                placeholder="Search"
                autocomplete="off"
                maxlength="1000"
                role="combobox"
                aria-autocomplete="list"
                aria-controls="search-suggestions"
                aria-expanded=move || if open.get() { "true" } else { "false" }
                aria-activedescendant=move || active.get().map(option_id)
                prop:value=move || term.get()
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    term.set(text.clone());
                    ask(text);
                }
                on:keydown=on_keydown
                on:blur=move |_| {
                    // After a click on a suggestion has been handled.
                    set_timeout(move || open.set(false), std::time::Duration::from_millis(150));
                }
            />
            <ul
                id="search-suggestions"
                class="search-suggestions"
                role="listbox"
                aria-label="Suggestions"
                hidden=move || !open.get()
            >
                {move || suggestions.get().into_iter().enumerate().map(|(i, s)| {
                    let go = go.clone();
                    let location = s.location.clone();
                    view! {
                        <li
                            id=option_id(i)
                            role="option"
                            aria-selected=move || if active.get() == Some(i) { "true" } else { "false" }
                        >
                            <a
                                href=s.location.clone()
                                tabindex="-1"
                                on:mousedown=move |ev| {
                                    ev.prevent_default();
                                    go(location.clone());
                                }
                            >
                                <span class="suggestion-title"><Highlighted segments=s.title/></span>
                                <span class="suggestion-meta">
                                    {s.type_label}
                                    {s.detail.map(|d| format!(" · {d}"))}
                                </span>
                            </a>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </form>
    }
}
