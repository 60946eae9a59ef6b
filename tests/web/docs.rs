//! TechDocs in the browser: an entity's Docs tab, the site's own pages with
//! their nav, relative links between pages, images, and an edit on disk
//! showing in the open page without a reload. The `/docs` list with its
//! filters, and the example organisation's sites.

use super::{SERIAL, WAIT, browser, shot, wait_hydrated};
use portal_tests::{PortalProcess, wait_for, workspace_root};
use std::path::Path;
use std::time::{Duration, Instant};

fn write_repo(root: &Path) {
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: handbook\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: documentation\n  lifecycle: production\n  owner: team-docs\n",
    );
    write(
        "mkdocs.yml",
        "site_name: The Handbook\nrepo_url: https://github.com/acme/handbook\nnav:\n  - Home: index.md\n  - Guide:\n      - Setup: guide/setup.md\n",
    );
    write(
        "docs/index.md",
        "# Welcome\n\nStart with [the setup](guide/setup.md).\n\n![diagram](img/d.svg)\n\n## Contents\n\nMore.\n",
    );
    write(
        "docs/guide/setup.md",
        "# Setup\n\nRun the installer.\n\n```rust\nfn main() {}\n```\n\nBack [home](../index.md).\n",
    );
    write(
        "docs/img/d.svg",
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"40\" height=\"20\"><rect width=\"40\" height=\"20\" fill=\"#36c\"/></svg>",
    );
}

fn portal(repo: &Path) -> PortalProcess {
    let config = format!(
        "app:\n  title: Acme Portal\ncatalog:\n  refresh_interval_seconds: 3600\n  locations:\n    - type: file\n      target: {}\n    - type: file\n      target: {}\n",
        repo.join("catalog-info.yaml").display(),
        workspace_root().join("examples/catalog/all.yaml").display(),
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    wait_for(WAIT, || {
        let s = portal
            .get_json("/api/techdocs/status/default/component/handbook")
            .ok()?;
        (s["state"] == "built").then_some(())
    })
    .unwrap_or_else(|| panic!("the handbook was not built; log:\n{}", portal.log()));
    portal
}

fn marker(b: &portal_tests::browser::Browser) -> bool {
    b.execute("return window.__noReload === true;", vec![])
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

#[test]
fn docs_are_read_followed_and_updated_live() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let repo = tempfile::tempdir().unwrap();
    write_repo(repo.path());
    let portal = portal(repo.path());
    let b = browser();

    // The entity's Docs tab shows the home page, its nav and its image.
    b.goto(&format!(
        "{}/catalog/default/component/handbook/docs",
        portal.url
    ))
    .unwrap();
    wait_hydrated(&b);
    let content = b.find(".docs-content").unwrap();
    assert!(b.text(&content).unwrap().contains("Start with the setup"));
    b.wait_until("the image loads", WAIT, |b| {
        Ok(b.execute(
            "const i = document.querySelector('.docs-content img'); return !!i && i.complete && i.naturalWidth > 0;",
            vec![],
        )?
        .as_bool()
        .filter(|ok| *ok))
    })
    .unwrap();
    shot(&b, "docs-tab");

    // The nav leads to the site's own pages, in place.
    b.execute("window.__noReload = true;", vec![]).unwrap();
    let setup = b.find(".docs-nav a[href$='/guide/setup/']").unwrap();
    b.click(&setup).unwrap();
    b.wait_until("the setup page", WAIT, |b| {
        Ok(b.body_text()?.contains("Run the installer").then_some(()))
    })
    .unwrap();
    assert!(
        b.current_url()
            .unwrap()
            .contains("/docs/default/component/handbook/guide/setup"),
        "{}",
        b.current_url().unwrap()
    );
    assert!(marker(&b), "following the nav reloaded the portal");
    let current = b.find(".docs-nav a[aria-current='page']").unwrap();
    assert_eq!(b.text(&current).unwrap(), "Setup");
    assert!(
        !b.find_all(".docs-content span[class^='hl-']")
            .unwrap()
            .is_empty(),
        "code is highlighted"
    );

    // A relative link in the page body.
    let home = b
        .find(".docs-content a[href='/docs/default/component/handbook']")
        .unwrap();
    b.click(&home).unwrap();
    b.wait_until("the home page", WAIT, |b| {
        Ok(b.body_text()?
            .contains("Start with the setup")
            .then_some(()))
    })
    .unwrap();
    assert!(marker(&b));
    assert!(
        b.find_all(".docs-toc a[href='#contents']").unwrap().len() == 1,
        "the table of contents lists the page's headings"
    );

    // An edit on disk shows in the open page, without a reload.
    let started = Instant::now();
    std::fs::write(
        repo.path().join("docs/index.md"),
        "# Welcome\n\nStart with [the setup](guide/setup.md).\n\nEdited while you read.\n",
    )
    .unwrap();
    b.wait_until("the edit shows", Duration::from_secs(10), |b| {
        Ok(b.body_text()?
            .contains("Edited while you read")
            .then_some(()))
    })
    .unwrap_or_else(|e| panic!("{e}; log:\n{}", portal.log()));
    eprintln!("edit visible in the browser after {:?}", started.elapsed());
    assert!(marker(&b), "the edit reloaded the portal");
    shot(&b, "docs-live-edit");

    // The list of documented entities, filtered by owner (server HTML).
    let html = portal.get("/docs").send().unwrap().text().unwrap();
    assert!(html.contains("The Handbook"), "{html}");
    assert!(html.contains("Payments Service"), "an example site: {html}");
    let html = portal
        .get("/docs?owner=team-docs")
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(html.contains("The Handbook"));
    assert!(!html.contains("Payments Service"), "{html}");
    b.goto(&format!("{}/docs", portal.url)).unwrap();
    wait_hydrated(&b);
    shot(&b, "docs-list");
    // An example site's nested nav.
    b.goto(&format!(
        "{}/docs/default/component/payments-service/getting-started/configuration/",
        portal.url
    ))
    .unwrap();
    let text = b.find(".docs-content").and_then(|c| b.text(&c)).unwrap();
    assert!(text.contains("ACQUIRER_TIMEOUT_MS"), "{text}");
    shot(&b, "docs-example");
}
