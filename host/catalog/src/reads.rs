//! Every read of the catalog: entities by name, uid and refs, queries,
//! facets, ancestry, locations and status. Each runs over the state under
//! the read lock the façade holds, and each that can show an entity takes an
//! [`Access`], applied as a bitmap intersection (nothing at all for
//! `Access::all()`).

use crate::access::{Access, Visible};
use crate::error::CatalogError;
use crate::index::{EntityRec, Id};
use crate::query::{self, EntityQuery, FacetCount};
use crate::state::{self, State};
use crate::time::Timestamp;
use crate::types::{
    AncestryItem, EntityDoc, EntityHandle, LocationInfo, ProcessingProblem, QueryResult, SourceInfo,
};
use portal_catalog_model::{ANNOTATION_ORIGIN_LOCATION, Predicate, RefDefaults, parse_entity_ref};
use std::collections::HashSet;

/// Renders an entity as served.
pub(crate) fn doc(state: &State, rec: &EntityRec) -> EntityDoc {
    let mut out = Vec::new();
    state::render(state, rec, &mut out);
    let source = state.sources.get(&rec.source);
    EntityDoc {
        entity_ref: rec.entity_ref.clone(),
        uid: rec.uid.clone(),
        json: out.into(),
        last_confirmed: Timestamp(source.map(|s| s.stored.confirmed_at).unwrap_or(0)),
        has_errors: !rec.errors.is_empty()
            || source.is_some_and(|s| s.errors.iter().any(|e| e.stale))
            || (!state.attached.is_empty()
                && state
                    .attached
                    .get(&rec.entity_ref)
                    .is_some_and(|a| a.has_errors)),
    }
}

fn lookup(state: &State, access: &Access, id: Option<Id>) -> Option<EntityDoc> {
    let id = id?;
    if !Visible::of(access, &state.index).contains(id) {
        return None;
    }
    state.index.get(id).map(|rec| doc(state, rec))
}

fn canonical(kind: &str, namespace: &str, name: &str) -> String {
    format!("{kind}:{namespace}/{name}").to_lowercase()
}

/// An entity by kind, namespace and name (case-insensitive).
pub(crate) fn get(
    state: &State,
    kind: &str,
    namespace: &str,
    name: &str,
    access: &Access,
) -> Option<EntityDoc> {
    let id = state.index.id_of_ref(&canonical(kind, namespace, name));
    lookup(state, access, id)
}

/// An entity by ref (`[kind:][namespace/]name`; the kind is required).
pub(crate) fn get_by_ref(
    state: &State,
    entity_ref: &str,
    access: &Access,
) -> Result<Option<EntityDoc>, CatalogError> {
    let parsed = parse_entity_ref(entity_ref, RefDefaults::default())
        .map_err(|e| CatalogError::Input(e.to_string()))?;
    Ok(get(
        state,
        &parsed.kind,
        &parsed.namespace,
        &parsed.name,
        access,
    ))
}

/// An entity by `metadata.uid`.
pub(crate) fn get_by_uid(state: &State, uid: &str, access: &Access) -> Option<EntityDoc> {
    let id = state.index.by_uid.get(uid).copied();
    lookup(state, access, id)
}

/// Entities for refs, in order, `None` where missing, unparsable, invisible
/// or not matching `filter`.
pub(crate) fn get_by_refs(
    state: &State,
    refs: &[String],
    filter: Option<&Predicate>,
    access: &Access,
) -> Vec<Option<EntityDoc>> {
    let visible = Visible::of(access, &state.index);
    let allowed = filter.map(|p| query::eval(&state.index, p));
    refs.iter()
        .map(|r| {
            let parsed = parse_entity_ref(r, RefDefaults::default()).ok()?;
            let id = state.index.id_of_ref(&parsed.canonical())?;
            if !visible.contains(id) || allowed.as_ref().is_some_and(|a| !a.contains(id)) {
                return None;
            }
            state.index.get(id).map(|rec| doc(state, rec))
        })
        .collect()
}

/// The page of ids a query selects, after access.
fn matching_page(state: &State, q: &EntityQuery, access: &Access) -> query::PageOf {
    let mut set = query::matching(&state.index, q);
    access.restrict(&state.index, &mut set);
    query::page(&state.index, q, &set)
}

/// Runs a query and renders the page.
pub(crate) fn query(state: &State, q: &EntityQuery, access: &Access) -> QueryResult {
    let page = matching_page(state, q, access);
    QueryResult {
        items: page
            .ids
            .iter()
            .filter_map(|id| state.index.get(*id).map(|r| doc(state, r)))
            .collect(),
        positions: page.positions,
        total: page.total,
        has_next: page.has_next,
        has_prev: page.has_prev,
    }
}

/// Runs a query and returns handles to render later, and whether more follow.
pub(crate) fn query_handles(
    state: &State,
    q: &EntityQuery,
    access: &Access,
) -> (Vec<EntityHandle>, bool) {
    let page = matching_page(state, q, access);
    (
        page.ids
            .iter()
            .filter_map(|id| state.index.get(*id).map(|r| EntityHandle(r.clone())))
            .collect(),
        page.has_next,
    )
}

/// Renders handles (entities removed meanwhile are rendered as they were).
pub(crate) fn render(state: &State, handles: &[EntityHandle]) -> Vec<EntityDoc> {
    handles.iter().map(|h| doc(state, &h.0)).collect()
}

/// Counts values of `facets` over the visible entities matching `filter`.
pub(crate) fn facets(
    state: &State,
    facets: &[String],
    filter: Option<&Predicate>,
    access: &Access,
) -> Vec<(String, Vec<FacetCount>)> {
    let mut set = match filter {
        Some(p) => query::eval(&state.index, p),
        None => state.index.all.clone(),
    };
    access.restrict(&state.index, &mut set);
    facets
        .iter()
        .map(|f| (f.clone(), query::facet(&state.index, f, &set)))
        .collect()
}

/// The chain of entities that led to this one: the entity, the Location
/// entity whose target emitted it, and so on up to a root; it stops at the
/// first entity `access` does not see.
pub(crate) fn ancestry(
    state: &State,
    kind: &str,
    namespace: &str,
    name: &str,
    access: &Access,
) -> Option<(String, Vec<AncestryItem>)> {
    let root = canonical(kind, namespace, name);
    let visible = Visible::of(access, &state.index);
    let mut items = Vec::new();
    let mut current = Some(root.clone());
    let mut seen = HashSet::new();
    while let Some(r) = current.take() {
        if !seen.insert(r.clone()) {
            break;
        }
        let id = state.index.id_of_ref(&r)?;
        if !visible.contains(id) {
            break;
        }
        let rec = state.index.get(id)?;
        let parent = state
            .sources
            .get(&rec.source)
            .and_then(|s| s.stored.parent.clone())
            .filter(|p| state.index.id_of_ref(p).is_some());
        items.push(AncestryItem {
            entity: doc(state, rec),
            parent_entity_refs: parent.iter().cloned().collect(),
        });
        current = parent;
    }
    Some((root, items))
}

/// Every processing problem attached to an entity `access` sees (or to no
/// entity), for status pages.
pub(crate) fn processing_problems(state: &State, access: &Access) -> Vec<ProcessingProblem> {
    let visible = Visible::of(access, &state.index);
    let sees = |entity_ref: &str| {
        state
            .index
            .id_of_ref(entity_ref)
            .is_none_or(|id| visible.contains(id))
    };
    let mut out = Vec::new();
    for s in state.sources.values() {
        if s.stored.parent.as_deref().is_some_and(|p| !sees(p)) {
            continue;
        }
        for e in &s.errors {
            out.push(ProcessingProblem {
                entity_ref: s.stored.parent.clone(),
                location: format!("{}:{}", s.stored.location_type, s.stored.location_target),
                item: e.item.clone(),
                stale: e.stale,
            });
        }
    }
    for (r, id) in &state.index.by_ref {
        if let Some(rec) = state.index.get(*id)
            && !rec.errors.is_empty()
            && visible.contains(*id)
            && let Ok(items) =
                serde_json::from_slice::<Vec<portal_catalog_model::StatusItem>>(&rec.errors)
        {
            let location = state
                .sources
                .get(&rec.source)
                .map(|s| format!("{}:{}", s.stored.location_type, s.stored.location_target))
                .unwrap_or_default();
            for item in items {
                out.push(ProcessingProblem {
                    entity_ref: Some(r.to_string()),
                    location: location.clone(),
                    item,
                    stale: false,
                });
            }
        }
    }
    out
}

/// Every source, for status pages; `entities` counts those `access` sees.
pub(crate) fn sources(state: &State, access: &Access) -> Vec<SourceInfo> {
    let visible = access.visible(&state.index);
    let mut out: Vec<SourceInfo> = state
        .sources
        .values()
        .map(|s| SourceInfo {
            key: s.stored.key.clone(),
            type_: s.stored.location_type.clone(),
            target: s.stored.location_target.clone(),
            parent: s.stored.parent.clone(),
            entities: state
                .index
                .by_source
                .get(s.stored.key.as_str())
                .map(|b| match &visible {
                    None => b.len(),
                    Some(v) => b.intersection_len(v),
                })
                .unwrap_or(0),
            last_confirmed_at: s.confirmed_text.to_string(),
            errors: s.errors.iter().map(|e| e.item.clone()).collect(),
        })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// Registered locations.
pub(crate) fn locations(state: &State) -> Vec<LocationInfo> {
    state
        .locations
        .values()
        .map(LocationInfo::from_stored)
        .collect()
}

/// A registered location by id.
pub(crate) fn location(state: &State, id: &str) -> Option<LocationInfo> {
    state.locations.get(id).map(LocationInfo::from_stored)
}

/// The registered location an entity `access` sees came through (by its
/// origin annotation).
pub(crate) fn location_by_entity(
    state: &State,
    kind: &str,
    namespace: &str,
    name: &str,
    access: &Access,
) -> Result<LocationInfo, CatalogError> {
    let canonical = canonical(kind, namespace, name);
    let not_found = || {
        CatalogError::NotFound(format!(
            "No entity named '{name}' found, with kind '{kind}' in namespace '{namespace}'"
        ))
    };
    let id = state.index.id_of_ref(&canonical).ok_or_else(not_found)?;
    if !Visible::of(access, &state.index).contains(id) {
        return Err(not_found());
    }
    let doc = state.index.get(id).ok_or_else(not_found)?.value();
    let origin = doc["metadata"]["annotations"][ANNOTATION_ORIGIN_LOCATION]
        .as_str()
        .unwrap_or("");
    state
        .locations
        .values()
        .map(LocationInfo::from_stored)
        .find(|l| format!("{}:{}", l.type_, l.target) == origin)
        .ok_or_else(|| {
            CatalogError::NotFound(format!(
                "Found no location with key {origin} for entity {canonical}"
            ))
        })
}

/// Plugin provider keys that have a source (`<plugin>/<provider>`).
pub(crate) fn provider_keys(state: &State) -> Vec<String> {
    state
        .sources
        .keys()
        .filter_map(|k| k.strip_prefix("provider:").map(str::to_owned))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{Access, Catalog, CatalogConfig, EntityQuery, FacetCount, SledStore};
    use portal_catalog_model::Predicate;
    use serde_json::json;
    use std::sync::Arc;

    /// Two teams, a component of each (team-a's depends on team-b's), read
    /// from one configured file; the store lives as long as `dir`.
    async fn two_teams(dir: &tempfile::TempDir) -> Catalog {
        let file = dir.path().join("catalog.yaml");
        std::fs::write(
            &file,
            "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n\
             ---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-b\nspec:\n  type: team\n  children: []\n\
             ---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a-svc\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n  dependsOn: [component:b-svc]\n\
             ---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: b-svc\nspec:\n  type: service\n  lifecycle: production\n  owner: team-b\n",
        )
        .unwrap();
        let config = CatalogConfig::from_value(&json!({
            "locations": [{"type": "file", "target": file.to_string_lossy()}],
        }))
        .unwrap();
        let store = SledStore::open(&dir.path().join("store")).unwrap();
        let catalog = Catalog::open_with(Arc::new(store), config, dir.path().into()).unwrap();
        catalog.sync_all().await;
        catalog.wait_idle().await;
        catalog
    }

    /// Sees only what team-a owns.
    fn team_a_only() -> Access {
        Access::only(Predicate::parse(&json!({"spec.owner": "team-a"})).unwrap())
    }

    fn refs(docs: impl IntoIterator<Item = Option<crate::EntityDoc>>) -> Vec<Option<String>> {
        docs.into_iter()
            .map(|d| d.map(|d| d.entity_ref.to_string()))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restricted_access_filters_every_read() {
        let dir = tempfile::tempdir().unwrap();
        let catalog = two_teams(&dir).await;
        let (all, team_a) = (Access::all(), team_a_only());
        let a_svc = Some("component:default/a-svc".to_owned());

        // List (paged and streamed).
        let everything = catalog.query(&EntityQuery::default(), &all);
        assert_eq!(everything.total, 5, "location, two groups, two components");
        let listed = catalog.query(&EntityQuery::default(), &team_a);
        assert_eq!(listed.total, 1);
        assert_eq!(
            refs(listed.items.into_iter().map(Some)),
            vec![a_svc.clone()]
        );
        let (handles, more) = catalog.query_handles(&EntityQuery::default(), &team_a);
        assert!(!more);
        assert_eq!(
            refs(catalog.render(&handles).into_iter().map(Some)),
            vec![a_svc.clone()]
        );

        // A query whose own filter matches only invisible entities.
        let depends_on_a = EntityQuery {
            filter: Some(
                Predicate::parse(&json!({"relations.dependencyOf": "component:default/a-svc"}))
                    .unwrap(),
            ),
            ..EntityQuery::default()
        };
        assert_eq!(catalog.query(&depends_on_a, &all).total, 1);
        assert_eq!(catalog.query(&depends_on_a, &team_a).total, 0);

        // By name, by ref, by uid.
        assert!(catalog.get("component", "default", "b-svc", &all).is_some());
        assert!(
            catalog
                .get("component", "default", "b-svc", &team_a)
                .is_none()
        );
        assert!(
            catalog
                .get("Component", "default", "A-svc", &team_a)
                .is_some()
        );
        assert!(
            catalog
                .get_by_ref("group:team-a", &team_a)
                .unwrap()
                .is_none()
        );
        let b_uid = catalog
            .get_by_ref("component:b-svc", &all)
            .unwrap()
            .unwrap()
            .uid;
        assert!(catalog.get_by_uid(&b_uid, &all).is_some());
        assert!(catalog.get_by_uid(&b_uid, &team_a).is_none());

        // By refs: what the entity page resolves its relations with.
        let wanted: Vec<String> = ["component:a-svc", "component:b-svc", "group:team-a"]
            .map(str::to_owned)
            .into();
        assert_eq!(
            refs(catalog.get_by_refs(&wanted, None, &all)),
            vec![
                a_svc.clone(),
                Some("component:default/b-svc".into()),
                Some("group:default/team-a".into())
            ]
        );
        assert_eq!(
            refs(catalog.get_by_refs(&wanted, None, &team_a)),
            vec![a_svc.clone(), None, None]
        );

        // Facets count only what is visible.
        let count = |access: &Access| -> Vec<(String, Vec<FacetCount>)> {
            catalog.facets(&["kind".into(), "spec.owner".into()], None, access)
        };
        let facets = count(&team_a);
        let values = |i: usize| -> Vec<(String, u64)> {
            facets[i]
                .1
                .iter()
                .map(|f| (f.value.clone(), f.count))
                .collect()
        };
        assert_eq!(values(0), vec![("Component".to_owned(), 1)]);
        assert_eq!(values(1), vec![("team-a".to_owned(), 1)]);
        assert_eq!(count(&all)[0].1.len(), 3, "Component, Group, Location");

        // Ancestry stops at the first entity not visible (the Location).
        let (_, chain) = catalog
            .ancestry("component", "default", "a-svc", &all)
            .unwrap();
        assert_eq!(chain.len(), 2);
        let (_, chain) = catalog
            .ancestry("component", "default", "a-svc", &team_a)
            .unwrap();
        assert_eq!(chain.len(), 1);
        let (_, chain) = catalog
            .ancestry("component", "default", "b-svc", &team_a)
            .unwrap();
        assert!(chain.is_empty());

        // Status pages count what is visible.
        let counted =
            |access: &Access| -> u64 { catalog.sources(access).iter().map(|s| s.entities).sum() };
        assert_eq!(counted(&all), 5);
        assert_eq!(counted(&team_a), 1);

        // Access::all() evaluates nothing.
        assert!(all.visible(&catalog.read_state().index).is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn attached_status_items_are_served_and_removed() {
        use portal_catalog_model::{StatusItem, StatusLevel};
        let dir = tempfile::tempdir().unwrap();
        let catalog = two_teams(&dir).await;
        let all = Access::all();
        let item = |level, message: &str| StatusItem {
            type_: "portal.dev/techdocs".into(),
            level,
            message: message.into(),
            error: None,
            extra: Default::default(),
        };
        let served = |catalog: &Catalog| {
            let doc = catalog.get("component", "default", "a-svc", &all).unwrap();
            let json: serde_json::Value = serde_json::from_slice(&doc.json).unwrap();
            (json["status"]["items"].clone(), doc.has_errors)
        };
        assert_eq!(served(&catalog), (serde_json::Value::Null, false));

        // A warning is served but is not a problem of the entity.
        catalog.attach_status(
            "Component:default/A-SVC",
            "techdocs",
            vec![item(StatusLevel::Warning, "a broken link")],
        );
        let (items, has_errors) = served(&catalog);
        assert_eq!(items[0]["message"], "a broken link");
        assert_eq!(items[0]["level"], "warning");
        assert!(!has_errors);
        // Another source's error is added beside it, and counts.
        catalog.attach_status(
            "component:default/a-svc",
            "other",
            vec![item(StatusLevel::Error, "broken")],
        );
        let (items, has_errors) = served(&catalog);
        assert_eq!(items.as_array().unwrap().len(), 2, "{items}");
        assert!(has_errors);
        // Each source's items are replaced, then removed, on their own.
        catalog.attach_status("component:default/a-svc", "other", vec![]);
        catalog.attach_status("component:default/a-svc", "techdocs", vec![]);
        assert_eq!(served(&catalog), (serde_json::Value::Null, false));
        let other = catalog.get("component", "default", "b-svc", &all).unwrap();
        assert!(!other.has_errors);
    }
}
