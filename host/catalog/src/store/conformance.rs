//! What every [`CatalogStore`] must do, as checks a backend's tests call
//! with a way to open its store (the sled backend's tests and the
//! PostgreSQL one's run the same checks).
//!
//! `open` must return a store over the same data each time it is called
//! (a reopen), starting empty on the first call.

use super::{
    Body, CatalogStore, ChangeSet, StoredEntity, StoredItem, StoredLocation, StoredSource,
};
use std::collections::BTreeMap;

/// Opens the store under test (again: the same data).
pub type Open = dyn Fn() -> Box<dyn CatalogStore>;

/// An entity as the checks write it.
pub fn entity(name: &str, source: &str) -> StoredEntity {
    StoredEntity {
        entity_ref: format!("component:default/{name}"),
        uid: format!("uid-{name}"),
        source: source.into(),
        body: Body::pack(
            format!(
                "{{\"apiVersion\":\"backstage.io/v1alpha1\",\"kind\":\"Component\",\"metadata\":{{\"name\":\"{name}\",\"description\":\"ünïcödé \\\"quoted\\\"\"}}}}"
            )
            .as_bytes(),
        ),
        errors: Vec::new(),
    }
}

pub fn source(key: &str, confirmed_at: u64) -> StoredSource {
    StoredSource {
        key: key.into(),
        parent: Some("location:default/root".into()),
        location_type: "file".into(),
        location_target: format!("/srv/{key}.yaml"),
        confirmed_at,
        errors: vec![serde_json::json!({"type": "x", "message": "m"})],
        deps: vec![format!("/srv/{key}.yaml")],
    }
}

pub fn location(id: &str) -> StoredLocation {
    StoredLocation {
        id: id.into(),
        type_: "url".into(),
        target: format!("https://example.test/{id}/catalog-info.yaml"),
    }
}

/// Everything a store holds, sorted, for comparisons.
#[derive(Debug, Default, PartialEq)]
pub struct Contents {
    pub entities: BTreeMap<String, StoredEntity>,
    pub sources: BTreeMap<String, StoredSource>,
    pub locations: BTreeMap<String, StoredLocation>,
}

pub fn contents(store: &dyn CatalogStore) -> Contents {
    let mut c = Contents::default();
    store
        .load(&mut |item| match item {
            StoredItem::Entity(e) => {
                assert!(
                    c.entities.insert(e.entity_ref.clone(), e).is_none(),
                    "an entity twice"
                );
            }
            StoredItem::Source(s) => {
                c.sources.insert(s.key.clone(), s);
            }
            StoredItem::Location(l) => {
                c.locations.insert(l.id.clone(), l);
            }
        })
        .expect("load");
    c
}

/// Commits, replaces, deletes, and reads it all back after a reopen.
pub fn commits_replace_delete_and_survive_a_reopen(open: &Open) {
    {
        let store = open();
        assert_eq!(
            contents(&*store),
            Contents::default(),
            "a new store is empty"
        );
        store
            .commit(&ChangeSet {
                put_entities: vec![entity("a", "s1"), entity("b", "s1"), entity("c", "s2")],
                put_sources: vec![source("s1", 5), source("s2", 6)],
                put_locations: vec![location("l1"), location("l2")],
                ..Default::default()
            })
            .unwrap();
        // An empty change set is allowed and changes nothing.
        store.commit(&ChangeSet::default()).unwrap();
        let mut b = entity("b", "s2");
        b.uid = "uid-b2".into();
        b.errors = br#"[{"type":"e","message":"bad"}]"#.to_vec();
        store
            .commit(&ChangeSet {
                delete_entities: vec![
                    "component:default/a".into(),
                    "component:default/none".into(),
                ],
                put_entities: vec![b],
                delete_sources: vec!["s1".into()],
                put_sources: vec![source("s2", 9)],
                delete_locations: vec!["l2".into()],
                ..Default::default()
            })
            .unwrap();
        store.flush().unwrap();
    }
    let store = open();
    let c = contents(&*store);
    assert_eq!(
        c.entities.keys().collect::<Vec<_>>(),
        ["component:default/b", "component:default/c"]
    );
    let b = &c.entities["component:default/b"];
    assert_eq!((b.uid.as_str(), b.source.as_str()), ("uid-b2", "s2"));
    assert_eq!(b.errors, br#"[{"type":"e","message":"bad"}]"#);
    assert_eq!(b.body.json(), entity("b", "s2").body.json());
    assert_eq!(c.entities["component:default/c"], entity("c", "s2"));
    assert_eq!(c.sources.values().collect::<Vec<_>>(), [&source("s2", 9)]);
    assert_eq!(c.locations.values().collect::<Vec<_>>(), [&location("l1")]);
}

/// A change set that deletes and puts the same ref keeps the put (deletes
/// apply first), and one that puts a ref twice keeps the last.
pub fn deletes_apply_before_puts(open: &Open) {
    let store = open();
    store
        .commit(&ChangeSet {
            put_entities: vec![entity("x", "s1")],
            ..Default::default()
        })
        .unwrap();
    let mut second = entity("x", "s2");
    second.uid = "second".into();
    store
        .commit(&ChangeSet {
            delete_entities: vec!["component:default/x".into()],
            put_entities: vec![entity("x", "s1"), second],
            ..Default::default()
        })
        .unwrap();
    let c = contents(&*store);
    assert_eq!(c.entities["component:default/x"].uid, "second");
}

/// A large change set (a big file) is one commit, and reads back whole.
pub fn large_change_sets(open: &Open) {
    let store = open();
    let n = 20_000;
    store
        .commit(&ChangeSet {
            put_entities: (0..n).map(|i| entity(&format!("e{i}"), "big")).collect(),
            put_sources: vec![source("big", 1)],
            ..Default::default()
        })
        .unwrap();
    let c = contents(&*store);
    assert_eq!(c.entities.len(), n);
    store
        .commit(&ChangeSet {
            delete_entities: (0..n).map(|i| format!("component:default/e{i}")).collect(),
            delete_sources: vec!["big".into()],
            ..Default::default()
        })
        .unwrap();
    assert_eq!(contents(&*store), Contents::default());
}

/// Every check, in order, each on a fresh store from `fresh`.
pub fn all(fresh: &dyn Fn() -> Box<Open>) {
    commits_replace_delete_and_survive_a_reopen(&*fresh());
    deletes_apply_before_puts(&*fresh());
    large_change_sets(&*fresh());
}
