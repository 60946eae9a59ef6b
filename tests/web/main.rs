//! The web UI, end to end: a real `portal serve` with the example organisation
//! (`examples/catalog/`) and a panel plugin, driven by headless Chromium
//! through chromedriver. Run with `cargo xtask test` (it builds the hydration
//! bundle, the plugins and the portal, and installs Chromium when missing), or
//! `cargo test -p portal-tests --test web` once they are built.
//!
//! Screenshots of the main pages go to `target/test-artifacts/`. The Create
//! flow (templates, their forms and tasks) is in `create.rs`.

mod create;
mod docs;
mod search;

use portal_tests::browser::{Browser, artifacts_dir};
use portal_tests::{
    PortalProcess, built_plugin, install_plugin, shared_cache_dir, wait_for, workspace_root,
};
use serde_json::Value;
use std::sync::Mutex;
use std::time::Duration;

/// One browser test at a time: each runs a portal and a Chromium, and the
/// machines these run on are small.
static SERIAL: Mutex<()> = Mutex::new(());

const WAIT: Duration = Duration::from_secs(30);

/// A portal with the example organisation and the `ownership` panel plugin,
/// with the catalog ingested and the plugin live.
fn portal() -> PortalProcess {
    let config = format!(
        "app:\n  title: Acme Portal\n  colors:\n    light: {{ primary: \"#0b5fff\" }}\n\
         plugins:\n  cache_dir: {}\n\
         catalog:\n  locations:\n    - type: file\n      target: {}\n",
        shared_cache_dir().display(),
        workspace_root().join("examples/catalog/all.yaml").display(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("ownership.wasm"),
        "ownership.wasm",
    );
    wait_loaded(&portal, "ownership.wasm");
    wait_for(WAIT, || {
        portal
            .get_json("/api/catalog/entities/by-name/component/default/payments-service")
            .ok()
            .filter(|v| v["metadata"]["name"].is_string())
    })
    .unwrap_or_else(|| {
        panic!(
            "the example catalog was not ingested; log:\n{}",
            portal.log()
        )
    });
    portal
}

fn wait_loaded(portal: &PortalProcess, file: &str) {
    wait_for(Duration::from_secs(120), || {
        let list = portal.get_json("/api/plugins").ok()?;
        list["items"]
            .as_array()?
            .iter()
            .find(|p| p["file"] == file && p["state"] == "loaded")
            .cloned()
    })
    .unwrap_or_else(|| panic!("{file} did not load; log:\n{}", portal.log()));
}

fn browser() -> Browser {
    Browser::start().expect("headless Chromium starts (run `cargo xtask setup`)")
}

fn wait_hydrated(b: &Browser) {
    b.wait_until("hydration", WAIT, |b| {
        Ok(b.execute(
            "return document.documentElement.getAttribute('data-hydrated') === 'true';",
            vec![],
        )?
        .as_bool()
        .filter(|h| *h))
    })
    .expect("the page hydrates (is the bundle built? `cargo xtask build`)");
}

/// The names in the catalog table's Name column.
fn row_names(b: &Browser) -> Vec<String> {
    let names = b
        .execute(
            "return Array.from(document.querySelectorAll('table.catalog-table tbody tr td.col-name a'))\
             .map(a => a.getAttribute('href').split('/').pop());",
            vec![],
        )
        .expect("read rows");
    names
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn shot(b: &Browser, name: &str) {
    let path = artifacts_dir().join(format!("web-{name}.png"));
    b.screenshot(&path).expect("screenshot");
}

#[test]
fn catalog_is_readable_without_javascript() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    // The server's HTML alone has the rows, the filters with counts, and the
    // filter applied from the URL.
    let html = portal
        .get("/catalog?type=website")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains("<table"), "no table in:\n{html}");
    assert!(
        html.contains("href=\"/catalog/default/component/web-shop\""),
        "{html}"
    );
    assert!(
        !html.contains("href=\"/catalog/default/component/payments-service\""),
        "a service shows under type=website"
    );
    let all = portal.get("/catalog").send().unwrap().text().unwrap();
    assert!(
        all.contains("href=\"/catalog/default/component/payments-service\""),
        "{all}"
    );
    assert!(all.contains("name=\"type\""), "no type filter in the page");
    // Guest mode says so in the frame, and links to the guest's own page.
    assert!(
        all.contains("href=\"/catalog/default/user/guest\"") && all.contains("(local only)"),
        "no guest badge in the sidebar"
    );
    let me = portal.get("/me").send().unwrap();
    assert!(
        me.url().path() == "/catalog/default/user/guest",
        "{}",
        me.url()
    );
    // Backstage's old URL form still filters.
    let old = portal
        .get("/catalog?filters%5Bkind%5D=api")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        old.contains("href=\"/catalog/default/api/payments-api\""),
        "{old}"
    );
    assert!(!old.contains("href=\"/catalog/default/component/payments-service\""));
    // Every page carries a strict Content-Security-Policy whose nonce is the
    // one on the page's scripts, and the other security headers.
    let page = portal.get("/catalog").send().unwrap();
    let header = |name: &str| {
        page.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let csp = header("content-security-policy");
    for part in [
        "script-src 'self' 'nonce-",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "CSP `{csp}` lacks {part}");
    }
    let script_src = csp
        .split(';')
        .find(|d| d.trim().starts_with("script-src"))
        .unwrap_or("");
    assert!(
        !script_src.contains("'unsafe-inline'") && !script_src.contains("'unsafe-eval'"),
        "scripts may run inline: `{script_src}`"
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or("")
        .to_owned();
    assert!(nonce.len() >= 16, "nonce `{nonce}`");
    let html = page.text().unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the page's scripts do not carry the CSP nonce"
    );
    let again = portal.get("/catalog").send().unwrap();
    let other = again
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        !other.contains(&nonce),
        "the nonce is reused across responses"
    );
    // The home page is the catalog.
    let home = portal.get("/").send().unwrap();
    assert!(home.url().path() == "/catalog", "{}", home.url());
    // Unknown pages are the UI's 404; unknown API paths stay JSON.
    let missing = portal.get("/no-such-page").send().unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().unwrap().contains("Page not found"));
    let api = portal.get("/api/no-such").send().unwrap();
    assert_eq!(api.status(), 404);
    assert!(api.json::<Value>().unwrap()["error"]["name"] == "NotFoundError");
    let entity = portal
        .get("/catalog/default/component/no-such-thing")
        .send()
        .unwrap();
    assert_eq!(entity.status(), 404);
}

#[test]
fn catalog_lists_and_filters_in_place_after_hydration() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    let b = browser();
    b.goto(&format!("{}/catalog", portal.url)).unwrap();
    b.find("table.catalog-table").unwrap();
    let before = row_names(&b);
    assert!(
        before.contains(&"payments-service".to_owned()),
        "{before:?}"
    );
    assert!(before.len() > 5, "{before:?}");
    assert_eq!(b.title().unwrap(), "Catalog · Acme Portal");
    wait_hydrated(&b);
    shot(&b, "catalog");
    let viewer = b.find(".sidebar .viewer").unwrap();
    let viewer = b.text(&viewer).unwrap();
    assert!(
        viewer.contains("guest") && viewer.contains("(local only)"),
        "{viewer}"
    );

    // A marker on `window` survives only if no page load happens.
    b.execute("window.__portalMarker = 42; return null;", vec![])
        .unwrap();
    let checkbox = b.find("input[name='type'][value='website']").unwrap();
    // Click its label (the visible part).
    let label = b.find("label[for='f-type-website']").unwrap();
    let _ = checkbox;
    b.click(&label).unwrap();
    let after = b
        .wait_until("the list to filter to websites", WAIT, |b| {
            let url = b.current_url()?;
            let names = row_names(b);
            Ok((url.contains("type=website")
                && !names.contains(&"payments-service".to_owned())
                && !names.is_empty())
            .then_some(names))
        })
        .unwrap();
    assert!(
        after.iter().all(|n| before.contains(n)),
        "filtered rows {after:?} are not a subset of {before:?}"
    );
    let marker = b.execute("return window.__portalMarker;", vec![]).unwrap();
    assert_eq!(marker, Value::from(42), "the filter reloaded the page");

    // Text search, live, in the URL as well.
    b.execute("window.__portalMarker = 43; return null;", vec![])
        .unwrap();
    let clear = b.find("a.button[href='/catalog']").unwrap();
    b.click(&clear).unwrap();
    b.wait_until("the filter to clear", WAIT, |b| {
        Ok((!b.current_url()?.contains("type=")).then_some(()))
    })
    .unwrap();
    let search = b.find("#catalog-search").unwrap();
    b.send_keys(&search, "ledger").unwrap();
    let found = b
        .wait_until("the search to narrow the list", WAIT, |b| {
            let names = row_names(b);
            Ok((b.current_url()?.contains("q=ledger")
                && !names.is_empty()
                && names.iter().all(|n| n.contains("ledger")))
            .then_some(names))
        })
        .unwrap();
    assert!(found.contains(&"ledger-service".to_owned()), "{found:?}");
    assert_eq!(
        b.execute("return window.__portalMarker;", vec![]).unwrap(),
        Value::from(43),
        "searching reloaded the page"
    );
    shot(&b, "catalog-search");

    // The URL is the state: loading it fresh shows the same list.
    let url = b.current_url().unwrap();
    b.goto(&url).unwrap();
    b.find("table.catalog-table").unwrap();
    assert_eq!(row_names(&b), found);

    // A phone-sized window still shows the list.
    b.set_window_size(390, 844).unwrap();
    b.goto(&format!("{}/catalog?kind=all", portal.url)).unwrap();
    b.find("table.catalog-table").unwrap();
    shot(&b, "catalog-phone");
}

#[test]
fn entity_page_shows_about_graph_and_panel() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    let b = browser();
    b.goto(&format!(
        "{}/catalog/default/component/payments-service",
        portal.url
    ))
    .unwrap();
    let about = b.find("section.about").unwrap();
    let about_text = b.text(&about).unwrap();
    assert!(about_text.contains("team-payments"), "{about_text}");
    assert!(
        about_text.to_lowercase().contains("production") || about_text.contains("Lifecycle"),
        "{about_text}"
    );
    // The relations graph: an SVG with the entity and its neighbours.
    let nodes = b
        .execute(
            "const s = document.querySelector('.graph svg'); \
             return s ? Array.from(s.querySelectorAll('text, g > title')).map(t => t.textContent) : null;",
            vec![],
        )
        .unwrap();
    let nodes: Vec<String> = nodes
        .as_array()
        .expect("a relations SVG")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert!(
        nodes.iter().any(|n| n.contains("payments-service")),
        "{nodes:?}"
    );
    assert!(
        nodes.iter().any(|n| n.contains("payments-api")),
        "{nodes:?}"
    );
    // The ownership plugin's panel, drawn with the portal's widgets.
    let panel = b.find("section.panel[data-plugin='ownership']").unwrap();
    let panel_text = b.text(&panel).unwrap();
    assert!(panel_text.contains("Ownership"), "{panel_text}");
    assert!(
        b.find_all("section.panel[data-plugin='ownership'] .panel-error")
            .unwrap()
            .is_empty(),
        "{panel_text}"
    );
    wait_hydrated(&b);
    shot(&b, "entity");

    // An API's definition tab lists its operations.
    b.goto(&format!(
        "{}/catalog/default/api/payments-api/definition",
        portal.url
    ))
    .unwrap();
    b.find(".operations .operation").unwrap();
    shot(&b, "api-definition");

    // A group page: members and what it owns.
    b.goto(&format!(
        "{}/catalog/default/group/team-payments",
        portal.url
    ))
    .unwrap();
    let body = b.body_text().unwrap();
    assert!(body.contains("Members"), "{body}");
    assert!(body.contains("payments-service"), "{body}");
    shot(&b, "group");
}

#[test]
fn dropped_plugin_appears_live_and_a_failing_panel_is_contained() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    let b = browser();
    b.goto(&format!("{}/plugins", portal.url)).unwrap();
    let list = b.find("main").unwrap();
    assert!(b.text(&list).unwrap().contains("ownership"));
    assert!(!b.text(&list).unwrap().contains("hostile"));
    wait_hydrated(&b);
    b.wait_until("the live badge", WAIT, |b| {
        Ok(b.body_text()?.contains("live").then_some(()))
    })
    .unwrap();
    b.execute("window.__portalMarker = 7; return null;", vec![])
        .unwrap();

    // Drop a new plugin: the open page shows it without a reload.
    install_plugin(
        &portal.plugins_dir(),
        &built_plugin("hostile.wasm"),
        "hostile.wasm",
    );
    b.wait_until(
        "the plugins page to list the new plugin",
        Duration::from_secs(120),
        |b| {
            Ok(b.body_text()?
                .contains("Misbehaves on purpose")
                .then_some(()))
        },
    )
    .unwrap();
    assert_eq!(
        b.execute("return window.__portalMarker;", vec![]).unwrap(),
        Value::from(7),
        "the plugins page reloaded instead of updating"
    );
    wait_loaded(&portal, "hostile.wasm");
    // Each loaded plugin shows its quotas and its use of them.
    b.wait_until("quotas on the plugins page", WAIT, |b| {
        let text = b.body_text()?;
        Ok((text.contains("Quotas")
            && text.contains("Storage keys")
            && text.contains("HTTP requests per call"))
        .then_some(()))
    })
    .unwrap();
    shot(&b, "plugins");

    // Its panels appear on entity pages; the ones that fail are contained.
    b.goto(&format!(
        "{}/catalog/default/component/payments-service",
        portal.url
    ))
    .unwrap();
    // Fifteen panels from one plugin do not crowd the others off the page: it
    // shows its share (the first four), folds the rest under "More from
    // hostile", and the ownership panel is still there.
    let looping = b
        .find("section.panel[data-plugin='hostile'][data-panel='loop'] .panel-error")
        .unwrap();
    assert!(
        b.text(&looping).unwrap().contains("CPU") || b.text(&looping).unwrap().contains("too long")
    );
    assert_eq!(
        b.find_all("section.panel[data-plugin='hostile']")
            .unwrap()
            .len(),
        4,
        "the hostile plugin shows more than its share"
    );
    let fold = b.find("details.panel-fold[data-plugin='hostile']").unwrap();
    assert!(
        b.text(&fold)
            .unwrap()
            .contains("More from hostile (11 panels)"),
        "{}",
        b.text(&fold).unwrap()
    );
    b.find("section.panel[data-plugin='ownership']").unwrap();
    let entity_url = format!("{}/catalog/default/component/payments-service", portal.url);
    // A folded panel opens as a tab of its own: a working one renders...
    b.goto(&format!("{entity_url}/hostile.ok")).unwrap();
    let ok = b
        .find("section.panel[data-plugin='hostile'][data-panel='ok']")
        .unwrap();
    assert!(
        b.find_all("section.panel[data-plugin='hostile'][data-panel='ok'] .panel-error")
            .unwrap()
            .is_empty(),
        "{}",
        b.text(&ok).unwrap()
    );
    // ...and a failing one is contained.
    b.goto(&format!("{entity_url}/hostile.panic")).unwrap();
    let panic = b
        .find("section.panel[data-plugin='hostile'][data-panel='panic'] .panel-error")
        .unwrap();
    let message = b.text(&panic).unwrap();
    assert!(
        message.contains("failed") || message.contains("crashed"),
        "{message}"
    );
    b.goto(&entity_url).unwrap();
    // The rest of the page is intact.
    assert!(
        b.text(&b.find("section.about").unwrap())
            .unwrap()
            .contains("team-payments")
    );
    b.find("section.panel[data-plugin='ownership']").unwrap();
    b.find(".graph svg").unwrap();
    shot(&b, "entity-failing-panels");

    // Removing the file takes its panels away again.
    std::fs::remove_file(portal.plugins_dir().join("hostile.wasm")).unwrap();
    wait_for(WAIT, || {
        let list = portal.get_json("/api/plugins").ok()?;
        (!list["items"]
            .as_array()?
            .iter()
            .any(|p| p["file"] == "hostile.wasm"))
        .then_some(())
    })
    .expect("hostile.wasm unloads");
    b.goto(&format!(
        "{}/catalog/default/component/payments-service",
        portal.url
    ))
    .unwrap();
    b.find("section.about").unwrap();
    assert!(
        b.find_all("section.panel[data-plugin='hostile']")
            .unwrap()
            .is_empty()
    );
}
