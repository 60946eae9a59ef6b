//! The catalog's in-memory state and the one place it changes: applying a
//! source snapshot (diff against what the source emitted before into one
//! atomic change set for the store, and the index update under the write
//! lock).

use crate::config::OrphanStrategy;
use crate::index::{Body, Edge, EntityRec, Id, Index, edges_of_body};
use crate::ingest::{Outcome, ReadyEntity};
use crate::store::{ChangeSet, StoredEntity, StoredLocation, StoredSource};
use crate::time::Timestamp;
use portal_catalog_model::{ANNOTATION_ORPHAN, FlatEntity, StatusItem};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

/// Key of the holder of orphaned entities (orphan strategy `keep`).
pub const ORPHANS: &str = "orphans";

/// A source-level problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceError {
    /// The source could not be read at all: its entities are stale.
    pub stale: bool,
    /// The error.
    pub item: StatusItem,
}

/// A source in memory.
#[derive(Debug, Clone)]
pub struct SourceState {
    /// As stored.
    pub stored: StoredSource,
    /// Decoded errors.
    pub errors: Vec<SourceError>,
    /// `confirmed_at` formatted.
    pub confirmed_text: Arc<str>,
    /// `confirmed_at` as last written to the store.
    pub persisted_confirmed: u64,
}

impl SourceState {
    pub fn new(stored: StoredSource) -> SourceState {
        let errors = stored
            .errors
            .iter()
            .filter_map(|v| serde_json::from_value(v.clone()).ok())
            .collect();
        SourceState {
            confirmed_text: Timestamp(stored.confirmed_at).to_rfc3339().into(),
            persisted_confirmed: stored.confirmed_at,
            errors,
            stored,
        }
    }
}

/// Everything in memory.
#[derive(Debug, Default)]
pub struct State {
    pub index: Index,
    pub sources: HashMap<Arc<str>, SourceState>,
    /// Location entity ref → keys of the sources reading its targets.
    pub children: HashMap<Arc<str>, BTreeSet<Arc<str>>>,
    pub locations: BTreeMap<String, StoredLocation>,
    /// `status.items` other parts of the portal attach to entities (a
    /// TechDocs build's problems), by entity ref. Kept in memory only: their
    /// owners attach them again after a restart.
    pub attached: HashMap<Arc<str>, AttachedStatus>,
}

/// The items attached to one entity, by who attached them.
#[derive(Debug, Default)]
pub struct AttachedStatus {
    pub by_source: BTreeMap<String, Vec<StatusItem>>,
    /// The items as JSON, comma-separated, ready to render.
    pub json: Vec<u8>,
    /// Whether any is an error.
    pub has_errors: bool,
}

impl AttachedStatus {
    fn refresh(&mut self) {
        self.json.clear();
        self.has_errors = false;
        for item in self.by_source.values().flatten() {
            if !self.json.is_empty() {
                self.json.push(b',');
            }
            serde_json::to_writer(&mut self.json, item).expect("JSON");
            self.has_errors |= item.level == portal_catalog_model::StatusLevel::Error;
        }
    }
}

impl State {
    /// Replaces what `source` attached to `entity_ref` (lowercase); no items
    /// removes it.
    pub fn attach_status(&mut self, entity_ref: &str, source: &str, items: Vec<StatusItem>) {
        if items.is_empty() {
            if let Some(attached) = self.attached.get_mut(entity_ref) {
                attached.by_source.remove(source);
                if attached.by_source.is_empty() {
                    self.attached.remove(entity_ref);
                } else {
                    attached.refresh();
                }
            }
            return;
        }
        let attached = self.attached.entry(entity_ref.into()).or_default();
        attached.by_source.insert(source.to_owned(), items);
        attached.refresh();
    }

    pub fn add_source(&mut self, source: SourceState) {
        let key: Arc<str> = source.stored.key.as_str().into();
        if let Some(parent) = &source.stored.parent {
            self.children
                .entry(parent.as_str().into())
                .or_default()
                .insert(key.clone());
        }
        self.sources.insert(key, source);
    }

    pub fn remove_source(&mut self, key: &str) {
        if let Some(s) = self.sources.remove(key)
            && let Some(parent) = &s.stored.parent
            && let Some(set) = self.children.get_mut(parent.as_str())
        {
            set.remove(key);
            if set.is_empty() {
                self.children.remove(parent.as_str());
            }
        }
    }

    /// Sources below a Location entity, transitively (children first).
    pub fn descendant_sources(&self, location_ref: &str, out: &mut Vec<Arc<str>>) {
        let Some(keys) = self.children.get(location_ref) else {
            return;
        };
        for key in keys {
            if out.contains(key) {
                continue;
            }
            out.push(key.clone());
            for id in self.index.source_ids(key).iter() {
                if let Some(rec) = self.index.get(id)
                    && rec.kind_lower() == "location"
                {
                    let r = rec.entity_ref.clone();
                    self.descendant_sources(&r, out);
                }
            }
        }
    }
}

/// What a source delivered.
#[derive(Debug)]
pub enum Delivery {
    /// A full snapshot: replaces the source's entities.
    Snapshot(Vec<Outcome>),
    /// The source could not be read: keep its entities, record the error.
    Failed(StatusItem),
    /// The target is gone: remove the source's entities (with an error when
    /// the target was required).
    Gone(Option<StatusItem>),
}

/// A source run to apply.
#[derive(Debug)]
pub struct SourceRun {
    pub key: String,
    pub parent: Option<String>,
    pub location_type: String,
    pub location_target: String,
    pub deps: Vec<String>,
    pub delivery: Delivery,
    /// Extra source-level errors (e.g. documents that failed).
    pub errors: Vec<StatusItem>,
}

/// What applying changed.
#[derive(Debug, Default)]
pub struct Applied {
    pub changes: ChangeSet,
    /// Location entities that are new or changed (their targets need reading).
    pub changed_locations: Vec<String>,
    /// Location entities emitted (changed or not).
    pub all_locations: Vec<String>,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
    /// Index operations to perform after the commit.
    ops: Vec<IndexOp>,
    sources_put: Vec<SourceState>,
    sources_removed: Vec<String>,
}

#[derive(Debug)]
enum IndexOp {
    Remove(Id),
    Insert(Box<(EntityRec, FlatEntity, Vec<Edge>)>),
    Errors(Id, Box<[u8]>),
}

fn new_uid() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Builds the body of entities expected to be new, with fresh uids, so the
/// writer only files them: serializing, hashing and packing run in the
/// parallel read stage (an entity that turns out to exist is rebuilt with its
/// own uid in [`State::plan`]).
pub fn prepare_fresh_bodies(outcomes: &mut [Outcome]) {
    for outcome in outcomes {
        if let Outcome::Entity(ready) = outcome {
            let uid = new_uid();
            let json = entity_body(ready.entity.to_value(), &uid);
            ready.fresh = Some(crate::ingest::FreshBody {
                uid,
                body: Body::pack(&json),
            });
        }
    }
}

/// Serializes an entity for storage: uid set, etag = hash of the rest.
fn entity_body(mut value: serde_json::Value, uid: &str) -> Vec<u8> {
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.insert("uid".into(), uid.into());
        meta.remove("etag");
    }
    let without_etag = serde_json::to_vec(&value).expect("JSON");
    let digest = Sha256::digest(&without_etag);
    let etag = hex::encode(&digest[..12]);
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        meta.insert("etag".into(), etag.into());
    }
    serde_json::to_vec(&value).expect("JSON")
}

fn edges_of(ready: &ReadyEntity) -> Vec<Edge> {
    ready.edges.iter().filter_map(Edge::of_relation).collect()
}

fn errors_json(items: &[StatusItem]) -> Vec<u8> {
    if items.is_empty() {
        Vec::new()
    } else {
        serde_json::to_vec(items).expect("JSON")
    }
}

fn stored_entity(rec: &EntityRec) -> StoredEntity {
    StoredEntity {
        entity_ref: rec.entity_ref.to_string(),
        uid: rec.uid.to_string(),
        source: rec.source.to_string(),
        body: rec.body.clone(),
        errors: rec.errors.to_vec(),
    }
}

/// Builds an [`EntityRec`] from a stored entity (its edges are derived from
/// the body: [`crate::index::edges_of_body`]).
pub fn rec_from_stored(e: StoredEntity) -> EntityRec {
    EntityRec {
        entity_ref: e.entity_ref.into(),
        uid: e.uid.into(),
        source: e.source.into(),
        body: e.body,
        errors: e.errors.into(),
    }
}

fn orphaned(rec: &EntityRec) -> (EntityRec, FlatEntity, Vec<Edge>) {
    let mut value = rec.value();
    // The orphan annotation changes no relation.
    let edges = edges_of_body(&value);
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(a) = annotations.as_object_mut() {
            a.insert(ANNOTATION_ORPHAN.into(), "true".into());
        }
    }
    let body = entity_body(value, &rec.uid);
    let flat = FlatEntity::from_value(&serde_json::from_slice(&body).expect("own JSON"));
    (
        EntityRec {
            entity_ref: rec.entity_ref.clone(),
            uid: rec.uid.clone(),
            source: ORPHANS.into(),
            body: Body::pack(&body),
            errors: Box::new([]),
        },
        flat,
        edges,
    )
}

impl State {
    /// Plans removing a source and everything below it.
    fn plan_remove_source(
        &self,
        key: &str,
        orphans: OrphanStrategy,
        applied: &mut Applied,
        removed_ids: &mut HashSet<Id>,
    ) {
        let mut keys: Vec<Arc<str>> = vec![key.into()];
        for id in self.index.source_ids(key).iter() {
            if let Some(rec) = self.index.get(id)
                && rec.kind_lower() == "location"
            {
                self.descendant_sources(&rec.entity_ref, &mut keys);
            }
        }
        for k in keys {
            for id in self.index.source_ids(&k).iter() {
                self.plan_remove_entity(id, orphans, applied, removed_ids);
            }
            if self.sources.contains_key(&*k) {
                applied.changes.delete_sources.push(k.to_string());
                applied.sources_removed.push(k.to_string());
            }
        }
    }

    fn plan_remove_entity(
        &self,
        id: Id,
        orphans: OrphanStrategy,
        applied: &mut Applied,
        removed_ids: &mut HashSet<Id>,
    ) {
        if !removed_ids.insert(id) {
            return;
        }
        let Some(rec) = self.index.get(id) else {
            return;
        };
        applied.ops.push(IndexOp::Remove(id));
        applied.removed += 1;
        match orphans {
            OrphanStrategy::Delete => {
                applied
                    .changes
                    .delete_entities
                    .push(rec.entity_ref.to_string());
            }
            OrphanStrategy::Keep => {
                let (orphan, flat, edges) = orphaned(rec);
                applied.changes.put_entities.push(stored_entity(&orphan));
                applied
                    .ops
                    .push(IndexOp::Insert(Box::new((orphan, flat, edges))));
            }
        }
    }

    /// Plans a source run: what to write and how the index changes.
    pub fn plan(&self, run: SourceRun, orphans: OrphanStrategy, now: Timestamp) -> Applied {
        let mut applied = Applied::default();
        let key: Arc<str> = run.key.as_str().into();
        let previous = self.sources.get(&key);
        let mut source_errors: Vec<SourceError> = run
            .errors
            .into_iter()
            .map(|item| SourceError { stale: false, item })
            .collect();
        let mut confirmed_at = now.0;
        let current_ids = self.index.source_ids(&key);
        let mut removed_ids: HashSet<Id> = HashSet::new();
        match run.delivery {
            Delivery::Failed(item) => {
                source_errors.push(SourceError { stale: true, item });
                confirmed_at = previous.map(|p| p.stored.confirmed_at).unwrap_or(0);
                // Earlier document errors stay relevant while the file is unreadable.
                if let Some(p) = previous {
                    source_errors.extend(p.errors.iter().filter(|e| !e.stale).cloned());
                }
            }
            Delivery::Gone(item) => {
                if let Some(item) = item {
                    source_errors.push(SourceError { stale: false, item });
                }
                for id in current_ids.iter() {
                    if let Some(rec) = self.index.get(id)
                        && rec.kind_lower() == "location"
                    {
                        self.plan_children_removal(
                            &rec.entity_ref,
                            orphans,
                            &mut applied,
                            &mut removed_ids,
                        );
                    }
                    self.plan_remove_entity(id, orphans, &mut applied, &mut removed_ids);
                }
            }
            Delivery::Snapshot(outcomes) => {
                let mut seen: HashSet<String> = HashSet::new();
                let mut kept: HashSet<Id> = HashSet::new();
                let mut unidentified: Vec<StatusItem> = Vec::new();
                for outcome in outcomes {
                    match outcome {
                        Outcome::Entity(mut ready) => {
                            let entity_ref = ready.entity.ref_string();
                            if !seen.insert(entity_ref.clone()) {
                                source_errors.push(SourceError {
                                    stale: false,
                                    item: crate::ingest::error_item(
                                        "ConflictError",
                                        format!(
                                            "{}: entity {entity_ref} appears more than once; the first one is used",
                                            at(&run.location_target, ready.line)
                                        ),
                                    ),
                                });
                                continue;
                            }
                            let existing_id = self.index.id_of_ref(&entity_ref);
                            let existing = existing_id.and_then(|id| self.index.get(id));
                            if let Some(e) = existing
                                && *e.source != *key
                                && &*e.source != ORPHANS
                            {
                                let other = self
                                    .sources
                                    .get(&e.source)
                                    .map(|s| {
                                        format!(
                                            "{}:{}",
                                            s.stored.location_type, s.stored.location_target
                                        )
                                    })
                                    .unwrap_or_else(|| e.source.to_string());
                                source_errors.push(SourceError {
                                    stale: false,
                                    item: crate::ingest::error_item(
                                        "ConflictError",
                                        format!(
                                            "{}: entity {entity_ref} is already provided by {other}; this copy is ignored",
                                            at(&run.location_target, ready.line)
                                        ),
                                    ),
                                });
                                continue;
                            }
                            let is_location = ready.entity.kind.eq_ignore_ascii_case("location");
                            let (uid, body) = match (existing, ready.fresh.take()) {
                                (None, Some(fresh)) => (fresh.uid, fresh.body),
                                _ => {
                                    let uid =
                                        existing.map(|e| e.uid.to_string()).unwrap_or_else(new_uid);
                                    let body = entity_body(ready.entity.to_value(), &uid);
                                    if let Some(e) = existing
                                        && *e.source == *key
                                        && *e.body.json() == *body
                                        && e.errors.is_empty()
                                    {
                                        kept.insert(existing_id.expect("existing"));
                                        if is_location {
                                            applied.all_locations.push(entity_ref);
                                        }
                                        continue;
                                    }
                                    (uid, Body::pack(&body))
                                }
                            };
                            let edges = edges_of(&ready);
                            let rec = EntityRec {
                                entity_ref: entity_ref.as_str().into(),
                                uid: uid.into(),
                                source: key.clone(),
                                body,
                                errors: Box::new([]),
                            };
                            applied.changes.put_entities.push(stored_entity(&rec));
                            if let Some(id) = existing_id {
                                applied.ops.push(IndexOp::Remove(id));
                                kept.insert(id);
                                applied.updated += 1;
                            } else {
                                applied.added += 1;
                            }
                            applied
                                .ops
                                .push(IndexOp::Insert(Box::new((rec, ready.flat, edges))));
                            if is_location {
                                applied.changed_locations.push(entity_ref.clone());
                                applied.all_locations.push(entity_ref);
                            }
                        }
                        Outcome::Failed { entity_ref, item } => {
                            let own = entity_ref
                                .as_deref()
                                .and_then(|r| self.index.id_of_ref(r))
                                .filter(|id| current_ids.contains(*id));
                            if let Some(id) = own
                                && seen.insert(entity_ref.clone().unwrap_or_default())
                            {
                                // Bad input changes nothing stored: keep the last good
                                // version, with the error attached to it.
                                kept.insert(id);
                                let rec = self.index.get(id).expect("own id");
                                let errors = errors_json(std::slice::from_ref(&item));
                                if *rec.errors != *errors {
                                    let mut stored = stored_entity(rec);
                                    stored.errors = errors.clone();
                                    applied.changes.put_entities.push(stored);
                                    applied.ops.push(IndexOp::Errors(id, errors.into()));
                                }
                                if rec.kind_lower() == "location" {
                                    applied.all_locations.push(rec.entity_ref.to_string());
                                }
                            } else if entity_ref.is_none() {
                                unidentified.push(item.clone());
                            }
                            source_errors.push(SourceError { stale: false, item });
                        }
                    }
                }
                for id in current_ids.iter() {
                    if kept.contains(&id) {
                        continue;
                    }
                    // A document that could not even be identified might be
                    // this entity: keep its last good version, error attached,
                    // rather than delete it because of bad input.
                    if !unidentified.is_empty()
                        && let Some(rec) = self.index.get(id)
                    {
                        let errors = errors_json(&unidentified);
                        if *rec.errors != *errors {
                            let mut stored = stored_entity(rec);
                            stored.errors = errors.clone();
                            applied.changes.put_entities.push(stored);
                            applied.ops.push(IndexOp::Errors(id, errors.into()));
                        }
                        if rec.kind_lower() == "location" {
                            applied.all_locations.push(rec.entity_ref.to_string());
                        }
                        continue;
                    }
                    if let Some(rec) = self.index.get(id)
                        && rec.kind_lower() == "location"
                    {
                        self.plan_children_removal(
                            &rec.entity_ref,
                            orphans,
                            &mut applied,
                            &mut removed_ids,
                        );
                    }
                    self.plan_remove_entity(id, orphans, &mut applied, &mut removed_ids);
                }
            }
        }
        let errors: Vec<serde_json::Value> = source_errors
            .iter()
            .map(|e| serde_json::to_value(e).expect("JSON"))
            .collect();
        let stored = StoredSource {
            key: run.key.clone(),
            parent: run.parent,
            location_type: run.location_type,
            location_target: run.location_target,
            confirmed_at,
            errors,
            deps: run.deps,
        };
        // Write the source record when anything but the confirmation time
        // changed, or when the stored confirmation is more than 10 minutes old
        // (memory always has the exact time).
        let changed = match previous {
            None => true,
            Some(p) => {
                p.stored.errors != stored.errors
                    || p.stored.deps != stored.deps
                    || p.stored.parent != stored.parent
                    || p.stored.location_target != stored.location_target
                    || stored.confirmed_at.saturating_sub(p.persisted_confirmed) > 600_000
            }
        };
        let mut state = SourceState::new(stored.clone());
        if changed || !applied.changes.is_empty() {
            applied.changes.put_sources.push(stored);
        } else if let Some(p) = previous {
            state.persisted_confirmed = p.persisted_confirmed;
        }
        applied.sources_put.push(state);
        applied
    }

    fn plan_children_removal(
        &self,
        location_ref: &str,
        orphans: OrphanStrategy,
        applied: &mut Applied,
        removed_ids: &mut HashSet<Id>,
    ) {
        let mut keys = Vec::new();
        self.descendant_sources(location_ref, &mut keys);
        for k in keys {
            for id in self.index.source_ids(&k).iter() {
                self.plan_remove_entity(id, orphans, applied, removed_ids);
            }
            applied.changes.delete_sources.push(k.to_string());
            applied.sources_removed.push(k.to_string());
        }
    }

    /// Plans removing a source (and everything below it).
    pub fn plan_source_removal(&self, key: &str, orphans: OrphanStrategy) -> Applied {
        let mut applied = Applied::default();
        let mut removed = HashSet::new();
        self.plan_remove_source(key, orphans, &mut applied, &mut removed);
        applied
    }

    /// Plans removing one entity (and, for a Location, what it led to).
    pub fn plan_entity_removal(&self, id: Id) -> Applied {
        let mut applied = Applied::default();
        let mut removed = HashSet::new();
        if let Some(rec) = self.index.get(id)
            && rec.kind_lower() == "location"
        {
            self.plan_children_removal(
                &rec.entity_ref.clone(),
                OrphanStrategy::Delete,
                &mut applied,
                &mut removed,
            );
        }
        self.plan_remove_entity(id, OrphanStrategy::Delete, &mut applied, &mut removed);
        applied
    }

    /// Applies what another process committed to the shared store: the
    /// records as they are now (a put replaces, a delete removes), so
    /// applying the same change twice changes nothing more. `entities` are
    /// the change's puts, prepared (parsed, flattened) outside the lock.
    /// Returns the entities (added, updated, removed).
    pub fn apply_stored(
        &mut self,
        changes: ChangeSet,
        entities: crate::loading::Prepared,
    ) -> (usize, usize, usize) {
        let (mut added, mut updated, mut removed) = (0, 0, 0);
        for entity_ref in &changes.delete_entities {
            if let Some(id) = self.index.id_of_ref(entity_ref) {
                self.index.remove(id);
                removed += 1;
            }
        }
        for (rec, flat, edges) in entities {
            match self.index.id_of_ref(&rec.entity_ref) {
                Some(id) => {
                    self.index.remove(id);
                    updated += 1;
                }
                None => added += 1,
            }
            self.index.insert(rec, &flat, &edges);
        }
        for key in &changes.delete_sources {
            self.remove_source(key);
        }
        for source in changes.put_sources {
            self.remove_source(&source.key);
            self.add_source(SourceState::new(source));
        }
        for id in &changes.delete_locations {
            self.locations.remove(id);
        }
        for location in changes.put_locations {
            self.locations.insert(location.id.clone(), location);
        }
        (added, updated, removed)
    }

    /// Applies a committed plan to memory.
    pub fn apply(&mut self, applied: &mut Applied) {
        for key in std::mem::take(&mut applied.sources_removed) {
            self.remove_source(&key);
        }
        for op in std::mem::take(&mut applied.ops) {
            match op {
                IndexOp::Remove(id) => {
                    self.index.remove(id);
                }
                IndexOp::Insert(boxed) => {
                    let (rec, flat, edges) = *boxed;
                    if let Some(id) = self.index.id_of_ref(&rec.entity_ref) {
                        self.index.remove(id);
                    }
                    self.index.insert(rec, &flat, &edges);
                }
                IndexOp::Errors(id, errors) => {
                    self.index.set_errors(id, errors);
                }
            }
        }
        for source in std::mem::take(&mut applied.sources_put) {
            self.add_source(source);
        }
        if self.index.by_source.contains_key(ORPHANS) && !self.sources.contains_key(ORPHANS) {
            let now = Timestamp::now().0;
            self.add_source(SourceState::new(StoredSource {
                key: ORPHANS.into(),
                parent: None,
                location_type: "orphans".into(),
                location_target: "orphans".into(),
                confirmed_at: now,
                errors: Vec::new(),
                deps: Vec::new(),
            }));
        }
    }
}

fn at(target: &str, line: Option<usize>) -> String {
    match line {
        Some(l) => format!("{target}:{l}"),
        None => target.to_owned(),
    }
}

/// Renders an entity's served JSON: the stored body plus `relations` and
/// `status` (`items` and `lastConfirmedAt`).
pub fn render(state: &State, rec: &EntityRec, out: &mut Vec<u8>) {
    let body = rec.body.json();
    out.reserve(body.len() + 128);
    out.extend_from_slice(&body[..body.len().saturating_sub(1)]);
    out.extend_from_slice(b",\"relations\":[");
    let mut first = true;
    for (type_, target) in state.index.relations_of(&rec.entity_ref) {
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(b"{\"type\":");
        write_json_str(out, type_);
        out.extend_from_slice(b",\"targetRef\":");
        write_json_str(out, target);
        out.push(b'}');
    }
    out.extend_from_slice(b"],\"status\":{");
    let source = state.sources.get(&rec.source);
    let mut items: Vec<u8> = Vec::new();
    let push_item = |items: &mut Vec<u8>, bytes: &[u8]| {
        if !items.is_empty() {
            items.push(b',');
        }
        items.extend_from_slice(bytes);
    };
    if rec.errors.len() > 2 {
        push_item(&mut items, &rec.errors[1..rec.errors.len() - 1]);
    }
    if !state.attached.is_empty()
        && let Some(attached) = state.attached.get(&rec.entity_ref)
    {
        push_item(&mut items, &attached.json);
    }
    if let Some(s) = source {
        for e in s.errors.iter().filter(|e| e.stale) {
            push_item(&mut items, &serde_json::to_vec(&e.item).expect("JSON"));
        }
    }
    if rec.kind_lower() == "location"
        && let Some(keys) = state.children.get(&rec.entity_ref)
    {
        for k in keys {
            if let Some(s) = state.sources.get(k) {
                for e in &s.errors {
                    push_item(&mut items, &serde_json::to_vec(&e.item).expect("JSON"));
                }
            }
        }
    }
    if !items.is_empty() {
        out.extend_from_slice(b"\"items\":[");
        out.extend_from_slice(&items);
        out.extend_from_slice(b"],");
    }
    out.extend_from_slice(b"\"lastConfirmedAt\":\"");
    match source {
        Some(s) => out.extend_from_slice(s.confirmed_text.as_bytes()),
        None => out.extend_from_slice(Timestamp(0).to_rfc3339().as_bytes()),
    }
    out.extend_from_slice(b"\"}}");
}

/// Writes a JSON string literal.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b < 0x7f)
    {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        serde_json::to_writer(&mut *out, s).expect("writing to a Vec");
    }
}
