//! The store and the content hash on real trees: a build is stored whole,
//! replaced whole, and found unchanged when nothing changed.

use std::fs;
use std::path::Path;

use portal_techdocs::{BuildLimits, SiteStore, build_site, fingerprint};

fn write(root: &Path, rel: &str, text: &[u8]) {
    let path = root.join(rel);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "mkdocs.yml",
        b"site_name: S\nsite_description: D\n",
    );
    write(dir.path(), "docs/index.md", b"# Home\n\n[a](guide/a.md)\n");
    write(
        dir.path(),
        "docs/guide/a.md",
        b"# A\n\n```rust\nfn main() {}\n```\n",
    );
    write(dir.path(), "docs/img/x.png", &[0x89, b'P', b'N', b'G']);
    dir
}

#[test]
fn a_build_is_stored_replaced_and_removed_whole() {
    let repo = repo();
    let limits = BuildLimits::default();
    let site = build_site(repo.path(), Path::new("."), &limits).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SiteStore::open(dir.path()).unwrap();
    let stored = store.put("default/component/s", &site, "e1", 1).unwrap();
    assert_eq!(stored.site_name, "S");
    assert_eq!(stored.site_description.as_deref(), Some("D"));
    assert_eq!(stored.pages.len(), 2);
    let page = store
        .page("default/component/s", "guide/a/")
        .unwrap()
        .unwrap();
    assert!(page.html.contains("hl-"), "{}", page.html);
    assert_eq!(
        store
            .asset("default/component/s", "img/x.png")
            .unwrap()
            .unwrap(),
        vec![0x89, b'P', b'N', b'G']
    );
    assert!(
        store
            .page("default/component/s", "nope/")
            .unwrap()
            .is_none()
    );
    let bytes = store.stored_bytes();

    // A rebuild replaces the old generation instead of adding to it.
    write(repo.path(), "docs/guide/a.md", b"# A\n\nChanged.\n");
    let site = build_site(repo.path(), Path::new("."), &limits).unwrap();
    store.put("default/component/s", &site, "e2", 2).unwrap();
    let page = store
        .page("default/component/s", "guide/a/")
        .unwrap()
        .unwrap();
    assert!(page.html.contains("Changed."));
    assert_eq!(
        store.site("default/component/s").unwrap().unwrap().etag,
        "e2"
    );
    assert!(store.stored_bytes() < bytes * 2, "the old build was kept");

    // Reopened: the same site.
    store.flush().unwrap();
    drop(store);
    // sled's background flusher may hold the file lock a moment after the
    // last handle is dropped (a new process would not share it).
    let reopen = || SiteStore::open(dir.path());
    let started = std::time::Instant::now();
    let store = loop {
        match reopen() {
            Ok(store) => break store,
            Err(e) if started.elapsed() < std::time::Duration::from_secs(10) => {
                let _ = e;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(e) => panic!("reopen: {e}"),
        }
    };
    assert_eq!(
        store.keys().unwrap(),
        vec!["default/component/s".to_owned()]
    );
    assert!(store.page("default/component/s", "").unwrap().is_some());
    store.remove("default/component/s").unwrap();
    assert!(store.site("default/component/s").unwrap().is_none());
    assert_eq!(store.stored_bytes(), 0);
}

#[test]
fn the_fingerprint_moves_only_with_content() {
    let repo = repo();
    let limits = BuildLimits::default();
    let a = fingerprint(repo.path(), Path::new("."), &limits).unwrap();
    // Rewriting the same bytes is no change.
    write(
        repo.path(),
        "docs/guide/a.md",
        b"# A\n\n```rust\nfn main() {}\n```\n",
    );
    assert_eq!(
        fingerprint(repo.path(), Path::new("."), &limits)
            .unwrap()
            .hash,
        a.hash
    );
    write(repo.path(), "docs/guide/a.md", b"# A\n");
    let b = fingerprint(repo.path(), Path::new("."), &limits).unwrap();
    assert_ne!(a.hash, b.hash);
    write(repo.path(), "mkdocs.yml", b"site_name: T\n");
    assert_ne!(
        fingerprint(repo.path(), Path::new("."), &limits)
            .unwrap()
            .hash,
        b.hash
    );
    // Files outside docs_dir (next to mkdocs.yml) are not part of the site.
    write(repo.path(), "src/main.rs", b"fn main() {}\n");
    let c = fingerprint(repo.path(), Path::new("."), &limits).unwrap();
    write(repo.path(), "src/main.rs", b"fn main() { 1; }\n");
    assert_eq!(
        fingerprint(repo.path(), Path::new("."), &limits)
            .unwrap()
            .hash,
        c.hash
    );
    assert!(c.docs_dir.ends_with("docs"));
}
