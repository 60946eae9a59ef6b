//! Search in the browser: the search box on every page suggests as you type
//! (a misspelled name too), the keyboard picks a suggestion and lands on
//! it; the search page works without JavaScript, with facets and
//! highlighted results.

use super::{SERIAL, WAIT, browser, portal, shot, wait_hydrated};
use portal_tests::wait_for;

/// WebDriver's key codes.
const ARROW_DOWN: &str = "\u{E015}";
const ENTER: &str = "\u{E007}";

#[test]
fn a_misspelled_name_is_suggested_and_picked_with_the_keyboard() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    // The index catches up with the catalog in the background.
    wait_for(WAIT, || {
        let found = portal
            .get_json("/api/search/query?term=payments-service")
            .ok()?;
        (found["numberOfResults"].as_u64()? > 0).then_some(())
    })
    .unwrap_or_else(|| panic!("payments-service is never found; log:\n{}", portal.log()));

    let b = browser();
    b.goto(&format!("{}/catalog", portal.url)).unwrap();
    wait_hydrated(&b);
    let input = b.find("#search-box-q").unwrap();
    b.send_keys(&input, "paymnts").unwrap();
    b.wait_until("suggestions", WAIT, |b| {
        let shown = b.execute(
            "const l = document.getElementById('search-suggestions');\
             return !l.hidden && l.querySelectorAll('[role=option]').length > 0;",
            vec![],
        )?;
        Ok(shown.as_bool().filter(|s| *s))
    })
    .unwrap_or_else(|e| {
        shot(&b, "search-suggestions");
        panic!("no suggestions: {e}")
    });
    // The misspelling finds the domain `payments` and the service
    // `payments-service`; the keyboard goes to the service.
    let options = b
        .execute(
            "return Array.from(document.querySelectorAll('#search-suggestions [role=option]'))\
             .map(o => o.textContent);",
            vec![],
        )
        .unwrap();
    let options: Vec<String> = options
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o.as_str().unwrap_or("").to_owned())
        .collect();
    let target = options
        .iter()
        .position(|o| o.contains("payments-service"))
        .unwrap_or_else(|| panic!("payments-service is not suggested: {options:?}"));
    // The highlight is a <mark>, made by the page, not HTML from the index.
    assert!(
        b.execute(
            "return document.querySelectorAll('#search-suggestions mark').length > 0;",
            vec![]
        )
        .unwrap()
        .as_bool()
        .unwrap()
    );
    b.execute("window.__noReload = true;", vec![]).unwrap();
    for _ in 0..=target {
        b.send_keys(&input, ARROW_DOWN).unwrap();
    }
    let active = b
        .execute(
            "return document.getElementById('search-box-q').getAttribute('aria-activedescendant');",
            vec![],
        )
        .unwrap();
    assert_eq!(active, format!("search-suggestion-{target}"));
    b.send_keys(&input, ENTER).unwrap();
    b.wait_until("the entity page", WAIT, |b| {
        let url = b.current_url()?;
        Ok(url
            .ends_with("/catalog/default/component/payments-service")
            .then_some(()))
    })
    .unwrap_or_else(|e| {
        shot(&b, "search-picked");
        panic!("did not land on the entity: {e}")
    });
    assert_eq!(
        b.execute("return window.__noReload === true;", vec![])
            .unwrap(),
        true,
        "picking a suggestion reloaded the page"
    );
    shot(&b, "search-landed");
}

#[test]
fn the_search_page_works_without_javascript() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let portal = portal();
    let html = wait_for(WAIT, || {
        let html = portal.get("/search?q=payment").send().ok()?.text().ok()?;
        html.contains("payments-service").then_some(html)
    })
    .unwrap_or_else(|| panic!("no results; log:\n{}", portal.log()));
    // Highlighted, a link to the entity, facets as plain links.
    assert!(html.contains("<mark>"), "{html}");
    assert!(
        html.contains("href=\"/catalog/default/component/payments-service\""),
        "{html}"
    );
    assert!(
        html.contains("filters[kind]=") || html.contains("filters%5Bkind%5D="),
        "{html}"
    );
    // A hostile term is text, never markup.
    let hostile = portal
        .get("/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(!hostile.contains("<script>alert(1)"), "{hostile}");
}
