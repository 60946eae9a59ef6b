//! TechDocs end to end: a real `portal serve` ingests entities whose
//! `backstage.io/techdocs-ref` points at MkDocs sources on disk, builds them,
//! and serves them at Backstage's routes. Edits are rebuilt without any call,
//! unchanged trees are not, failures keep the last site and say why, and
//! hostile paths and files never get through.

use portal_tests::{PortalProcess, loopback_client, wait_for};
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(30);

/// A repository with a catalog file and a small MkDocs site.
fn write_repo(root: &Path) {
    let write = |rel: &str, text: &[u8]| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "catalog-info.yaml",
        b"apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc\n  annotations:\n    backstage.io/techdocs-ref: dir:.\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: remote\n  annotations:\n    backstage.io/techdocs-ref: url:https://github.com/acme/remote\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
    );
    write(
        "mkdocs.yml",
        b"site_name: Svc Docs\nsite_description: All about svc\nrepo_url: https://github.com/acme/svc\nnav:\n  - Home: index.md\n  - Guide:\n      - Setup: guide/setup.md\n",
    );
    write(
        "docs/index.md",
        b"# Welcome\n\nStart with [the setup](guide/setup.md).\n\n![diagram](img/diagram.svg)\n\n<script>alert('xss')</script>\n<img src=x onerror=alert(1)>\n",
    );
    write(
        "docs/guide/setup.md",
        b"# Setup\n\nRun `make`.\n\n```rust\nfn main() {}\n```\n\nBack [home](../index.md).\n",
    );
    write(
        "docs/img/diagram.svg",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script><rect width=\"1\" height=\"1\"/></svg>",
    );
}

fn portal(root: &Path) -> PortalProcess {
    let config = format!(
        "catalog:\n  refresh_interval_seconds: 3600\n  locations:\n    - type: file\n      target: {}\n",
        root.join("catalog-info.yaml").display()
    );
    PortalProcess::start(&config).expect("portal starts")
}

fn status(portal: &PortalProcess) -> Value {
    portal
        .get_json("/api/techdocs/status/default/component/svc")
        .unwrap_or(Value::Null)
}

/// Waits for the site's status to satisfy `check`.
fn wait_status(portal: &PortalProcess, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    wait_for(WAIT, || Some(status(portal)).filter(|s| check(s)))
        .unwrap_or_else(|| panic!("{what}: status {}\nlog:\n{}", status(portal), portal.log()))
}

fn get_text(portal: &PortalProcess, path: &str) -> (u16, String) {
    let response = portal.get(path).send().unwrap();
    (response.status().as_u16(), response.text().unwrap())
}

/// A GET with the path sent exactly as written (HTTP clients normalise
/// `..` and `%2e%2e` before sending; an attacker's client does not).
fn raw_get(portal: &PortalProcess, path: &str) -> (u16, String) {
    let addr = portal.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let code = response
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, response)
}

#[test]
fn sites_are_built_on_ingest_and_served_at_backstages_routes() {
    let repo = tempfile::tempdir().unwrap();
    write_repo(repo.path());
    let portal = portal(repo.path());
    let built = wait_status(&portal, "the site is built", |s| s["state"] == "built");
    assert_eq!(built["builds"], 1, "{built}");

    // Pages as MkDocs lays them out.
    let base = "/api/techdocs/static/docs/default/component/svc";
    let (code, home) = get_text(&portal, &format!("{base}/index.html"));
    assert_eq!(code, 200, "{home}");
    assert!(home.contains("Welcome"), "{home}");
    assert!(home.contains("href=\"guide/setup/\""), "{home}");
    assert!(home.contains("Svc Docs"), "{home}");
    // The sanitiser's work, end to end: no script, no handler.
    assert!(!home.contains("<script"), "{home}");
    assert!(!home.contains("onerror"), "{home}");
    let (code, setup) = get_text(&portal, &format!("{base}/guide/setup/index.html"));
    assert_eq!(code, 200);
    assert!(setup.contains("Run <code>make</code>"), "{setup}");
    assert!(setup.contains("href=\"../../\""), "nav back home: {setup}");
    assert_eq!(get_text(&portal, &format!("{base}/guide/setup/")).0, 200);
    assert_eq!(get_text(&portal, &format!("{base}/")).0, 200);
    let response = portal.get(&format!("{base}/index.html")).send().unwrap();
    let headers = response.headers();
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );

    // An SVG asset: its type, and a policy under which its script cannot run.
    let response = portal
        .get(&format!("{base}/img/diagram.svg"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/svg+xml");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("sandbox") && csp.contains("default-src 'none'"),
        "{csp}"
    );

    // Metadata, in Backstage's shapes.
    let meta = portal
        .get_json("/api/techdocs/metadata/techdocs/default/component/svc")
        .unwrap();
    assert_eq!(meta["site_name"], "Svc Docs");
    assert_eq!(meta["site_description"], "All about svc");
    assert!(meta["build_timestamp"].as_u64().unwrap() > 0);
    assert!(meta["etag"].as_str().unwrap().len() >= 32);
    let files: Vec<&str> = meta["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for f in ["index.html", "guide/setup/index.html", "img/diagram.svg"] {
        assert!(files.contains(&f), "{f} in {files:?}");
    }
    let entity = portal
        .get_json("/api/techdocs/metadata/entity/default/component/svc")
        .unwrap();
    assert_eq!(entity["metadata"]["name"], "svc");
    assert_eq!(entity["locationMetadata"]["type"], "dir");
    let (code, _) = get_text(
        &portal,
        "/api/techdocs/metadata/techdocs/default/component/nope",
    );
    assert_eq!(code, 404);

    // Paths that try to leave the site: all 404, whatever the spelling.
    let secret = repo.path().join("catalog-info.yaml");
    for hostile in [
        format!("{base}/../../../../../../etc/passwd"),
        format!("{base}/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd"),
        format!("{base}/%2e%2e%2f%2e%2e%2fmkdocs.yml"),
        format!("{base}/..%5c..%5cmkdocs.yml"),
        format!("{base}/..\\..\\mkdocs.yml"),
        format!("{base}//etc/passwd"),
        format!("{base}/{}", secret.display()),
        format!("{base}/%2fetc%2fpasswd"),
        format!("{base}/guide/../../mkdocs.yml"),
        "/api/techdocs/static/docs/default/component/..%2f..%2fsvc/index.html".to_owned(),
    ] {
        let (code, body) = raw_get(&portal, &hostile);
        // A raw backslash is not a URI character: the HTTP parser may refuse
        // the request line itself (400) before any route sees it.
        let refused = code == 404 || (hostile.contains('\\') && code == 400);
        assert!(refused, "{hostile}: {body}");
        assert!(!body.contains("root:"), "{hostile}");
        assert!(!body.contains("site_name"), "{hostile}");
    }

    // A url: source on a host the catalog may not read: the download is
    // refused, saying why and what to configure, on its status.
    let remote = wait_for(WAIT, || {
        portal
            .get_json("/api/techdocs/status/default/component/remote")
            .ok()
            .filter(|s| s["state"] == "failed")
    })
    .unwrap_or_else(|| panic!("the url: source fails; log:\n{}", portal.log()));
    assert!(
        remote["error"]
            .as_str()
            .unwrap()
            .contains("catalog.reading.allow"),
        "{remote}"
    );
}

/// A snippet included from outside docs_dir is part of the site: editing,
/// deleting and creating it rebuilds the page, with no call to the portal.
#[test]
fn a_snippet_outside_the_docs_folder_is_watched_and_hashed() {
    let repo = tempfile::tempdir().unwrap();
    write_repo(repo.path());
    std::fs::create_dir_all(repo.path().join("shared")).unwrap();
    std::fs::write(repo.path().join("shared/version.txt"), "Version one\n").unwrap();
    std::fs::write(
        repo.path().join("docs/guide/setup.md"),
        "# Setup\n\n--8<-- \"shared/version.txt\"\n",
    )
    .unwrap();
    let portal = portal(repo.path());
    wait_status(&portal, "built", |s| s["state"] == "built");
    let page = "/api/techdocs/static/docs/default/component/svc/guide/setup/index.html";
    let shows = |text: &'static str| {
        wait_for(WAIT, || {
            get_text(&portal, page).1.contains(text).then_some(())
        })
        .unwrap_or_else(|| {
            panic!(
                "`{text}` never showed: {}\nlog:\n{}",
                get_text(&portal, page).1,
                portal.log()
            )
        })
    };
    shows("Version one");
    std::fs::write(repo.path().join("shared/version.txt"), "Version two\n").unwrap();
    shows("Version two");
    std::fs::remove_file(repo.path().join("shared/version.txt")).unwrap();
    wait_status(&portal, "the missing snippet is a problem", |s| {
        s["problems"].to_string().contains("version.txt")
    });
    std::fs::write(repo.path().join("shared/version.txt"), "Version three\n").unwrap();
    shows("Version three");
}

const GITHUB_TOKEN: &str = "ghp_docs_stand_in";

/// A site in a GitHub repository, read through the catalog's GitHub
/// integration: the tarball API with the configured token, the redirect to
/// codeload, only the named folder unpacked, links never made; a push is
/// seen on Backstage's sync.
#[test]
fn url_sources_are_downloaded_through_the_github_integration() {
    let root = tempfile::tempdir().unwrap();
    let github = portal_tests::github::GithubStandIn::start(root.path(), GITHUB_TOKEN, &["acme"]);
    let mkdocs = "site_name: Remote Docs\nnav:\n  - Home: index.md\n  - Setup: setup.md\n";
    github.commit(
        "acme",
        "handbook",
        &[
            ("README.md", "outside the docs folder", false),
            ("site/mkdocs.yml", mkdocs, false),
            (
                "site/docs/index.md",
                "# Remote home\n\nSee [setup](setup.md).\n",
                false,
            ),
            ("site/docs/setup.md", "# Setup\n\nVersion one.\n", false),
        ],
        &[
            ("site/docs/passwd.md", "/etc/passwd"),
            ("site/docs/up", "../.."),
        ],
    );
    let base = github.server.url();
    let catalog_file = root.path().join("catalog-info.yaml");
    std::fs::write(
        &catalog_file,
        format!(
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: handbook\n  annotations:\n    backstage.io/techdocs-ref: url:{base}/acme/handbook/tree/main/site\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: missing\n  annotations:\n    backstage.io/techdocs-ref: url:{base}/acme/nothing-here/tree/main/docs\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n"
        ),
    )
    .unwrap();
    let host = base.trim_start_matches("http://");
    let config = format!(
        "secrets:\n  github-token:\n    value: {GITHUB_TOKEN}\ncatalog:\n  refresh_interval_seconds: 3600\n  locations:\n    - type: file\n      target: {}\n  reading:\n    allow:\n      - host: {host}\n    github:\n      - host: {host}\n        raw_base_url: {base}/raw\n        api_base_url: {}\n        token_secret: github-token\n",
        catalog_file.display(),
        github.api_url()
    );
    let portal = PortalProcess::start(&config).expect("portal starts");
    let status = |name: &str| {
        portal
            .get_json(&format!("/api/techdocs/status/default/component/{name}"))
            .unwrap_or(Value::Null)
    };
    let built = wait_for(WAIT, || {
        Some(status("handbook")).filter(|s| s["state"] == "built")
    })
    .unwrap_or_else(|| panic!("built: {}\nlog:\n{}", status("handbook"), portal.log()));
    assert_eq!(built["builds"], 1, "{built}");
    let page = "/api/techdocs/static/docs/default/component/handbook/setup/index.html";
    let (code, html) = get_text(&portal, page);
    assert_eq!(code, 200, "{html}");
    assert!(html.contains("Version one."), "{html}");
    let (code, home) = get_text(
        &portal,
        "/api/techdocs/static/docs/default/component/handbook/index.html",
    );
    assert_eq!(code, 200);
    assert!(home.contains("Remote home"), "{home}");
    // Only the folder was unpacked, and no link was made.
    for path in [
        "README.md",
        "passwd.md",
        "passwd/index.html",
        "up/index.html",
    ] {
        let (code, body) = get_text(
            &portal,
            &format!("/api/techdocs/static/docs/default/component/handbook/{path}"),
        );
        assert_eq!(code, 404, "{path}: {body}");
        assert!(!body.contains("root:"), "{path}");
    }
    let unpacked = walk(&portal.data_dir().join("techdocs/remote"));
    assert!(!unpacked.is_empty());
    assert!(
        unpacked
            .iter()
            .all(|p| !std::fs::symlink_metadata(p).unwrap().is_symlink()
                && !p.ends_with("README.md")),
        "{unpacked:?}"
    );

    // A repository that does not exist: a clear error on its status.
    let missing = wait_for(WAIT, || {
        Some(status("missing")).filter(|s| s["state"] == "failed")
    })
    .unwrap_or_else(|| panic!("missing: {}", status("missing")));
    let error = missing["error"].as_str().unwrap();
    assert!(
        error.contains("nothing-here") && error.contains("does not exist"),
        "{error}"
    );

    // A push: Backstage's sync downloads again and rebuilds.
    github.commit(
        "acme",
        "handbook",
        &[
            ("site/mkdocs.yml", mkdocs, false),
            ("site/docs/index.md", "# Remote home\n", false),
            ("site/docs/setup.md", "# Setup\n\nVersion two.\n", false),
        ],
        &[],
    );
    let (code, events) = get_text(&portal, "/api/techdocs/sync/default/component/handbook");
    assert_eq!(code, 200);
    assert!(events.contains("{\"updated\":true}"), "{events}");
    let (_, html) = get_text(&portal, page);
    assert!(html.contains("Version two."), "{html}");
    // Nothing new: downloaded again, not rebuilt.
    let (_, events) = get_text(&portal, "/api/techdocs/sync/default/component/handbook");
    assert!(events.contains("{\"updated\":false}"), "{events}");
    assert_eq!(status("handbook")["builds"], 2);
}

/// Every path under `dir`.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}

#[test]
fn edits_are_rebuilt_unchanged_trees_are_not_and_failures_keep_the_last_site() {
    let repo = tempfile::tempdir().unwrap();
    write_repo(repo.path());
    let portal = portal(repo.path());
    let first = wait_status(&portal, "the site is built", |s| s["state"] == "built");
    let first_built = first["build_timestamp"].as_u64().unwrap();

    // A catalog refresh re-reads the entity: the docs are checked, not rebuilt.
    let response = loopback_client()
        .post(format!("{}/api/catalog/refresh", portal.url))
        .json(&serde_json::json!({"entityRef": "component:default/svc"}))
        .send()
        .unwrap();
    assert!(response.status().is_success());
    // Touching a file without changing it is not a change either.
    let setup = repo.path().join("docs/guide/setup.md");
    let text = std::fs::read_to_string(&setup).unwrap();
    std::fs::write(&setup, &text).unwrap();
    wait_status(&portal, "an unchanged tree is checked", |s| {
        s["skipped"].as_u64() >= Some(1)
    });
    std::thread::sleep(Duration::from_millis(500));
    let checked = wait_status(&portal, "still one build", |s| s["state"] == "built");
    assert_eq!(
        checked["builds"], 1,
        "an unchanged tree was rebuilt: {checked}"
    );
    assert_eq!(checked["build_timestamp"].as_u64(), Some(first_built));

    // Backstage's sync: nothing changed, so nothing updated.
    let (code, events) = get_text(&portal, "/api/techdocs/sync/default/component/svc");
    assert_eq!(code, 200);
    assert!(
        events.contains("event: finish\ndata: {\"updated\":false}"),
        "{events}"
    );
    let checked = status(&portal);
    assert_eq!(checked["builds"], 1, "{checked}");

    // An edit: rebuilt and served, with no call to the portal.
    let started = Instant::now();
    std::fs::write(&setup, text.replace("Run `make`.", "Run `make all`.")).unwrap();
    let page = "/api/techdocs/static/docs/default/component/svc/guide/setup/index.html";
    wait_for(WAIT, || {
        let (_, html) = get_text(&portal, page);
        html.contains("make all").then_some(())
    })
    .unwrap_or_else(|| panic!("the edit never showed; log:\n{}", portal.log()));
    eprintln!("edit served after {:?}", started.elapsed());
    let rebuilt = status(&portal);
    assert_eq!(rebuilt["builds"], 2, "{rebuilt}");
    assert!(rebuilt["build_timestamp"].as_u64().unwrap() > first_built);

    // A broken link and a missing image are problems on the status.
    std::fs::write(
        repo.path().join("docs/index.md"),
        "# Welcome\n\nSee [nothing](missing.md) and ![x](img/none.png).\n",
    )
    .unwrap();
    let broken = wait_status(&portal, "problems are reported", |s| {
        s["builds"] == 3 && s["state"] == "built"
    });
    let problems = broken["problems"].to_string();
    assert!(problems.contains("missing.md"), "{problems}");
    assert!(problems.contains("none.png"), "{problems}");
    // …and on the entity's status.items, in the catalog API.
    let entity_items = || {
        portal
            .get_json("/api/catalog/entities/by-name/component/default/svc")
            .unwrap()["status"]["items"]
            .clone()
    };
    let items = wait_for(WAIT, || {
        Some(entity_items()).filter(|i| i.to_string().contains("missing.md"))
    })
    .unwrap_or_else(|| panic!("problems on status.items: {}", entity_items()));
    assert!(items.to_string().contains("none.png"), "{items}");
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["type"] == "portal.dev/techdocs"),
        "{items}"
    );

    // A configuration that cannot be read: the build fails, the error is on
    // the status, and the last site is still served.
    std::fs::write(repo.path().join("mkdocs.yml"), "site_name: [unclosed\n").unwrap();
    let failed = wait_status(&portal, "the failure is reported", |s| {
        s["state"] == "failed"
    });
    assert!(
        failed["error"].as_str().unwrap().contains("mkdocs.yml"),
        "{failed}"
    );
    let (code, html) = get_text(&portal, page);
    assert_eq!(code, 200);
    assert!(html.contains("make all"), "{html}");
    // The catalog marks both entities: the failed build and the refused
    // `url:` source.
    let (code, list) = get_text(&portal, "/catalog?kind=component");
    assert_eq!(code, 200);
    for name in ["svc", "remote"] {
        let at = list
            .find(&format!("/catalog/default/component/{name}\""))
            .unwrap_or_else(|| panic!("{name} is listed: {list}"));
        let row = &list[at..at + list[at..].find("</tr>").unwrap_or(list.len() - at)];
        assert!(row.contains("has problems"), "{name}: {row}");
    }

    // The failure is an error item on the entity.
    let items = entity_items();
    assert!(
        items
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["level"] == "error"
                && i["error"]["name"] == "TechDocsBuildError"
                && i["message"].as_str().unwrap().contains("mkdocs.yml")),
        "{items}"
    );

    // Fixed: built again, and the entity's items are gone.
    std::fs::write(repo.path().join("mkdocs.yml"), "site_name: Svc Docs\n").unwrap();
    wait_status(&portal, "fixed", |s| {
        s["state"] == "built" && s["error"].is_null()
    });
    std::fs::write(repo.path().join("docs/index.md"), "# Welcome\n").unwrap();
    wait_for(WAIT, || entity_items().is_null().then_some(()))
        .unwrap_or_else(|| panic!("items left: {}", entity_items()));
}

#[test]
fn a_huge_page_is_refused_the_portal_keeps_serving_and_a_restart_rebuilds_nothing() {
    let repo = tempfile::tempdir().unwrap();
    write_repo(repo.path());
    // 100 MB: sparse, so the test is quick; the builder refuses it by its size
    // before reading a byte.
    let huge = std::fs::File::create(repo.path().join("docs/huge.md")).unwrap();
    huge.set_len(100 * 1024 * 1024).unwrap();
    drop(huge);
    let portal = portal(repo.path());
    let built = wait_status(&portal, "the site is built without it", |s| {
        s["state"] == "built"
    });
    let problems = built["problems"].to_string();
    assert!(
        problems.contains("huge.md") && problems.contains("limit"),
        "{problems}"
    );
    let (code, _) = get_text(
        &portal,
        "/api/techdocs/static/docs/default/component/svc/index.html",
    );
    assert_eq!(code, 200);
    assert_eq!(get_text(&portal, "/healthcheck").0, 200);
    let list = portal.get_json("/api/techdocs/status").unwrap();
    assert!(list["items"].as_array().unwrap().len() >= 2, "{list}");

    // A restart serves the stored site and finds nothing to rebuild.
    let built_at = built["build_timestamp"].as_u64().unwrap();
    let portal = portal.restart().unwrap();
    let again = wait_status(&portal, "checked after a restart", |s| {
        s["state"] == "built" && s["skipped"].as_u64() >= Some(1)
    });
    assert_eq!(again["builds"], 0, "rebuilt after a restart: {again}");
    assert_eq!(again["build_timestamp"].as_u64(), Some(built_at));
    let (code, _) = get_text(
        &portal,
        "/api/techdocs/static/docs/default/component/svc/guide/setup/index.html",
    );
    assert_eq!(code, 200);
}
