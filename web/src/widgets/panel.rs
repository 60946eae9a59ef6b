//! Plugin panels: the portal's own components drawing a panel's widget tree,
//! or a contained error card when the panel could not be shown.

use crate::app::Icon;
use crate::model::*;
use leptos::prelude::*;

/// A plugin panel: its widgets, or a contained error.
#[component]
pub fn PanelCard(panel: PanelView, #[prop(optional)] tab: bool) -> impl IntoView {
    let PanelView {
        plugin,
        panel: id,
        title,
        result,
    } = panel;
    let heading_id = format!("panel-{plugin}-{id}");
    let body = match result {
        PanelResult::Ok(w) => render(without_repeated_title(w, &title), 0),
        PanelResult::Err(failure) => view! {
            <div class="panel-error" role="alert">
                <Icon name="warning"/>
                <div>
                    <p class="panel-error-title">{failure.kind.headline()}</p>
                    <p class="panel-error-detail">{failure.message}</p>
                    <p class="secondary">
                        "The rest of the page is unaffected. Details on the " <a href="/plugins">"plugins page"</a> "."
                    </p>
                </div>
            </div>
        }
        .into_any(),
    };
    let class = if tab {
        "card panel panel-tab"
    } else {
        "card panel"
    };
    let labelled_by = heading_id.clone();
    let data_plugin = plugin.clone();
    view! {
        <section class=class aria-labelledby=labelled_by data-plugin=data_plugin data-panel=id>
            <header class="card-header">
                <h2 id=heading_id>{title}</h2>
                <span class="plugin-attribution">"from " {plugin}</span>
            </header>
            <div class="card-body">{body}</div>
        </section>
    }
}

/// A panel whose whole output is one card titled like the panel itself shows
/// that card's contents: the panel's header already carries the title.
fn without_repeated_title(w: Widget, panel_title: &str) -> Widget {
    match w {
        Widget::Card { title, children }
            if title.trim().eq_ignore_ascii_case(panel_title.trim()) =>
        {
            Widget::Stack { children }
        }
        other => other,
    }
}

/// Draws a widget tree the host accepted (so at most
/// `portal_types::widget::MAX_DEPTH` levels deep; deeper parts, which the host
/// never sends, are left out).
pub fn render(w: Widget, depth: usize) -> AnyView {
    if depth > portal_types::widget::MAX_DEPTH {
        return view! { <p class="secondary">"(nested too deeply to show)"</p> }.into_any();
    }
    let kids = move |children: Vec<Widget>| {
        children
            .into_iter()
            .map(|c| render(c, depth + 1))
            .collect_view()
    };
    match w {
        Widget::Text { text } => view! { <p class="w-text">{text}</p> }.into_any(),
        Widget::Markdown { html, .. } => view! { <div class="w-markdown" inner_html=html></div> }.into_any(),
        Widget::Link { label, url } => {
            let external = portal_types::url::classify(&url) == Ok(portal_types::url::LinkTarget::External);
            view! {
                <a
                    class="w-link"
                    href=url
                    target=external.then_some("_blank")
                    rel=external.then_some("noopener noreferrer")
                >
                    {label}
                    {external.then(|| view! { <Icon name="external"/><span class="visually-hidden">" (opens in a new tab)"</span> })}
                </a>
            }
            .into_any()
        }
        Widget::Badge { label, tone } => {
            view! { <span class=format!("badge {}", tone.class())>{label}</span> }.into_any()
        }
        Widget::Stat { label, value, tone } => view! {
            <div class=format!("w-stat {}", tone.class())>
                <span class="w-stat-value">{value}</span>
                <span class="w-stat-label">{label}</span>
            </div>
        }
        .into_any(),
        Widget::Code { language, content } => view! {
            <pre class="w-code" data-language=language><code>{content}</code></pre>
        }
        .into_any(),
        Widget::Empty { message } => view! { <p class="empty">{message}</p> }.into_any(),
        Widget::Card { title, children } => view! {
            <div class="w-card">
                <h3>{title}</h3>
                {kids(children)}
            </div>
        }
        .into_any(),
        Widget::KeyValues { items } => view! {
            <dl class="w-kv">
                {items
                    .into_iter()
                    .map(|kv| view! {
                        <div>
                            <dt>{kv.key}</dt>
                            <dd>{render(kv.value, depth + 1)}</dd>
                        </div>
                    })
                    .collect_view()}
            </dl>
        }
        .into_any(),
        Widget::Table { columns, rows } => view! {
            <div class="table-wrap">
                <table class="w-table">
                    <thead>
                        <tr>{columns.into_iter().map(|c| view! { <th scope="col">{c}</th> }).collect_view()}</tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|r| view! {
                                <tr>{r.into_iter().map(|c| view! { <td>{render(c, depth + 1)}</td> }).collect_view()}</tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
        .into_any(),
        Widget::Stack { children } => view! { <div class="w-stack">{kids(children)}</div> }.into_any(),
        Widget::Row { children } => view! { <div class="w-row">{kids(children)}</div> }.into_any(),
        Widget::Unknown => view! {
            <p class="secondary">"(a widget this portal version cannot show)"</p>
        }
        .into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_card_titled_like_its_panel_is_not_titled_twice() {
        let card = Widget::Card {
            title: " Ownership ".into(),
            children: vec![Widget::Text { text: "x".into() }],
        };
        assert!(matches!(
            without_repeated_title(card, "ownership"),
            Widget::Stack { children } if children.len() == 1
        ));
        let other = Widget::Card {
            title: "CI".into(),
            children: Vec::new(),
        };
        assert!(matches!(
            without_repeated_title(other, "Ownership"),
            Widget::Card { .. }
        ));
    }
}
