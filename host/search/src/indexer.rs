//! The one writer: a thread that owns tantivy's `IndexWriter`, brings the
//! index level with the sources at start (a full build when it is empty),
//! then applies changes as they are announced, in small batches, each
//! committed and made visible at once.

use crate::Sources;
use crate::collect::SegmentCache;
use crate::documents::{
    CollatedDocument, DocumentBuilder, RawEntity, collated_group, site_entity_ref,
};
use crate::schema::Fields;
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::collector::TopDocs;
use tantivy::indexer::{LogMergePolicy, NoMergePolicy};
use tantivy::query::TermQuery;
use tantivy::schema::IndexRecordOption;
use tantivy::{IndexReader, IndexWriter, Searcher, Term};

/// What changed, as announced by the server's wiring.
#[derive(Debug)]
pub enum Change {
    /// Entities by ref (`kind:namespace/name`): added, changed or removed.
    Entities(Vec<String>),
    /// Docs sites by key (`namespace/kind/name`).
    Sites(Vec<String>),
    /// Anything may have changed (a missed notification): compare everything.
    All,
    /// A plugin's collation: every document of its type, replacing the last.
    Collated {
        doc_type: String,
        documents: Vec<CollatedDocument>,
    },
}

/// How long changes are gathered before one commit: a catalog sync is
/// many notifications in a row, and a commit costs a segment.
const GATHER: Duration = Duration::from_millis(25);

/// During a full build, commit this often so searches see progress.
const BUILD_COMMIT_EVERY: usize = 25_000;

/// Between builds, the small segments of incremental commits are merged
/// early (4 of a size, not tantivy's 8), and a segment a third deleted is
/// rewritten: fewer segments, faster queries.
fn steady_merge_policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_num_segments(4);
    policy.set_del_docs_ratio_before_merge(0.3);
    policy
}

/// What the writer and the readers share.
#[derive(Default)]
pub struct Shared {
    pub ready: AtomicBool,
    /// Changes announced and not yet searchable.
    pub pending: AtomicUsize,
    pub commits: AtomicU64,
    /// How long the first reconciliation (a full build on an empty index) took.
    pub build_millis: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

pub struct Indexer {
    pub writer: IndexWriter,
    pub reader: IndexReader,
    pub fields: Fields,
    pub builder: DocumentBuilder,
    pub sources: Arc<dyn Sources>,
    pub shared: Arc<Shared>,
    /// What queries derive per segment, derived here after each reload.
    pub segments: Arc<SegmentCache>,
}

fn group_term(fields: &Fields, group: &str) -> Term {
    Term::from_field_text(fields.group, group)
}

impl Indexer {
    pub fn run(mut self, rx: Receiver<Change>) {
        let started = Instant::now();
        let span = tracing::info_span!("search_build");
        self.warm();
        // No merges while everything is (re)written; one segment after. Also
        // on a restart: measured, the segments a restart finds (a build's
        // and its updates') cost a fifth of the query throughput, more than
        // the merge's few seconds in this thread.
        self.writer.set_merge_policy(Box::new(NoMergePolicy));
        let built = span.in_scope(|| self.reconcile());
        let built = built.and_then(|n| self.commit().map(|_| n));
        let built = built.and_then(|n| self.merge_all().map(|_| n));
        self.writer
            .set_merge_policy(Box::new(steady_merge_policy()));
        self.report(built, "build");
        self.shared
            .build_millis
            .store(started.elapsed().as_millis() as u64, Ordering::Relaxed);
        self.shared.ready.store(true, Ordering::Release);
        tracing::info!(
            millis = started.elapsed().as_millis() as u64,
            documents = self.reader.searcher().num_docs(),
            "search: index ready"
        );
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            let deadline = Instant::now() + GATHER;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(change) => batch.push(change),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            }
            let count = batch.len();
            let span = tracing::debug_span!("search_update", changes = count);
            let result = span.in_scope(|| self.apply(batch));
            let result = result.and_then(|_| self.commit());
            self.report(result, "update");
            self.shared.pending.fetch_sub(count, Ordering::AcqRel);
        }
    }

    fn report<T>(&self, result: tantivy::Result<T>, what: &str) {
        if let Err(e) = result {
            tracing::error!("search: index {what} failed: {e}");
            *self
                .shared
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(e.to_string());
        }
    }

    /// Merges every segment into one. A query pays per segment (a typo's
    /// automaton runs over each one's dictionary, scorers are set up per
    /// segment), so the index is left in one after a build.
    fn merge_all(&mut self) -> tantivy::Result<()> {
        let ids = self.writer.index().searchable_segment_ids()?;
        if ids.len() > 1 {
            let started = Instant::now();
            self.writer.merge(&ids).wait()?;
            self.reader.reload()?;
            self.warm();
            tracing::info!(
                segments = ids.len(),
                millis = started.elapsed().as_millis() as u64,
                "search: merged the index into one segment"
            );
        }
        Ok(())
    }

    /// Derives per-segment query data for the segments now searched.
    fn warm(&self) {
        if let Err(e) = self.segments.warm(&self.reader.searcher()) {
            // Queries derive it themselves then.
            tracing::warn!("search: preparing segment data failed: {e}");
        }
    }

    fn commit(&mut self) -> tantivy::Result<()> {
        self.writer.commit()?;
        self.reader.reload()?;
        self.warm();
        self.shared.commits.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn apply(&mut self, batch: Vec<Change>) -> tantivy::Result<()> {
        let mut entities = BTreeSet::new();
        let mut sites = BTreeSet::new();
        for change in batch {
            match change {
                Change::All => {
                    self.reconcile()?;
                    return Ok(());
                }
                Change::Entities(refs) => entities.extend(refs),
                Change::Sites(keys) => sites.extend(keys),
                Change::Collated {
                    doc_type,
                    documents,
                } => {
                    self.writer
                        .delete_term(group_term(&self.fields, &collated_group(&doc_type)));
                    for (i, document) in documents.iter().enumerate() {
                        self.writer
                            .add_document(self.builder.collated(&doc_type, i, document))?;
                    }
                    tracing::debug!(%doc_type, documents = documents.len(), "search: collated");
                }
            }
        }
        let searcher = self.reader.searcher();
        for entity_ref in &entities {
            let group = format!("e:{entity_ref}");
            self.writer.delete_term(group_term(&self.fields, &group));
            if let Some(e) = self
                .sources
                .entity(entity_ref)
                .and_then(|json| RawEntity::parse(&json))
            {
                self.writer.add_document(self.builder.entity(&e))?;
            }
            // Its docs carry its title, owner and lifecycle.
            if let Some((kind, rest)) = entity_ref.split_once(':')
                && let Some((ns, name)) = rest.split_once('/')
            {
                sites.insert(format!("{ns}/{kind}/{name}"));
            }
        }
        for key in &sites {
            self.update_site(&searcher, key)?;
        }
        tracing::debug!(
            entities = entities.len(),
            sites = sites.len(),
            "search: applied changes"
        );
        Ok(())
    }

    /// The content version a site's documents are indexed at: the build's
    /// and its entity's.
    fn site_etag(site: &portal_types::docs::DocsSite, entity: Option<&RawEntity>) -> String {
        format!(
            "{}:{}:{}",
            site.etag,
            site.build_timestamp,
            entity.map(RawEntity::etag).unwrap_or_default()
        )
    }

    fn update_site(&mut self, searcher: &Searcher, key: &str) -> tantivy::Result<()> {
        let group = format!("s:{key}");
        let Some(site) = self.sources.site(key) else {
            self.writer.delete_term(group_term(&self.fields, &group));
            return Ok(());
        };
        let entity = site_entity_ref(key)
            .and_then(|r| self.sources.entity(&r))
            .and_then(|json| RawEntity::parse(&json));
        let etag = Self::site_etag(&site, entity.as_ref());
        if indexed_etag(searcher, &self.fields, &group)?.as_deref() == Some(etag.as_str()) {
            return Ok(());
        }
        self.writer.delete_term(group_term(&self.fields, &group));
        self.add_site(key, &site, entity.as_ref(), &etag)?;
        Ok(())
    }

    fn add_site(
        &mut self,
        key: &str,
        site: &portal_types::docs::DocsSite,
        entity: Option<&RawEntity>,
        etag: &str,
    ) -> tantivy::Result<usize> {
        let mut added = 0;
        for entry in &site.pages {
            let Some(page) = self.sources.page(key, &entry.path) else {
                continue;
            };
            for doc in self.builder.docs_page(key, etag, &page, entity) {
                self.writer.add_document(doc)?;
                added += 1;
            }
        }
        Ok(added)
    }

    /// Compares every group in the index with the sources and replaces
    /// what differs; on an empty index this is the full build.
    fn reconcile(&mut self) -> tantivy::Result<usize> {
        let mut indexed = indexed_groups(&self.reader.searcher(), &self.fields)?;
        let mut added = 0usize;
        let mut since_commit = 0usize;
        let mut error = None;
        let sources = self.sources.clone();
        sources.for_each_entity(&mut |json| {
            if error.is_some() {
                return;
            }
            let Some(e) = RawEntity::parse(json) else {
                return;
            };
            let group = format!("e:{}", e.entity_ref());
            match indexed.remove(&group) {
                Some(etag) if !etag.is_empty() && etag == e.etag() => return,
                Some(_) => {
                    self.writer.delete_term(group_term(&self.fields, &group));
                }
                None => {}
            }
            if let Err(err) = self.writer.add_document(self.builder.entity(&e)) {
                error = Some(err);
                return;
            }
            added += 1;
            since_commit += 1;
            if since_commit >= BUILD_COMMIT_EVERY {
                since_commit = 0;
                if let Err(err) = self.commit() {
                    error = Some(err);
                }
            }
        });
        if let Some(e) = error {
            return Err(e);
        }
        for key in self.sources.site_keys() {
            let group = format!("s:{key}");
            let Some(site) = self.sources.site(&key) else {
                continue;
            };
            let entity = site_entity_ref(&key)
                .and_then(|r| self.sources.entity(&r))
                .and_then(|json| RawEntity::parse(&json));
            let etag = Self::site_etag(&site, entity.as_ref());
            match indexed.remove(&group) {
                Some(old) if old == etag => continue,
                Some(_) => {
                    self.writer.delete_term(group_term(&self.fields, &group));
                }
                None => {}
            }
            added += self.add_site(&key, &site, entity.as_ref(), &etag)?;
        }
        // Collated documents are not in the sources: their collators
        // replace them (and the wiring removes those of plugins gone).
        indexed.retain(|group, _| !group.starts_with("p:"));
        let removed = indexed.len();
        for group in indexed.keys() {
            self.writer.delete_term(group_term(&self.fields, group));
        }
        tracing::info!(
            added,
            removed,
            "search: reconciled the index with the sources"
        );
        Ok(added)
    }
}

/// Every group in the index with its etag, read from the fast fields.
fn indexed_groups(
    searcher: &Searcher,
    fields: &Fields,
) -> tantivy::Result<HashMap<String, String>> {
    let _ = fields;
    let mut out = HashMap::new();
    let mut group = String::new();
    let mut etag = String::new();
    for segment in searcher.segment_readers() {
        let ff = segment.fast_fields();
        let (Some(groups), Some(etags)) = (ff.str("group")?, ff.str("etag")?) else {
            continue;
        };
        let alive = segment.alive_bitset();
        for doc in 0..segment.max_doc() {
            if alive.is_some_and(|a| !a.is_alive(doc)) {
                continue;
            }
            group.clear();
            etag.clear();
            if let Some(ord) = groups.term_ords(doc).next() {
                groups.ord_to_str(ord, &mut group)?;
            }
            if let Some(ord) = etags.term_ords(doc).next() {
                etags.ord_to_str(ord, &mut etag)?;
            }
            if !out.contains_key(group.as_str()) {
                out.insert(group.clone(), etag.clone());
            }
        }
    }
    Ok(out)
}

/// The etag a group is indexed at, if it is.
fn indexed_etag(
    searcher: &Searcher,
    fields: &Fields,
    group: &str,
) -> tantivy::Result<Option<String>> {
    let query = TermQuery::new(group_term(fields, group), IndexRecordOption::Basic);
    let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
    let Some((_, address)) = top.first() else {
        return Ok(None);
    };
    let segment = searcher.segment_reader(address.segment_ord);
    let Some(etags) = segment.fast_fields().str("etag")? else {
        return Ok(None);
    };
    let mut etag = String::new();
    if let Some(ord) = etags.term_ords(address.doc_id).next() {
        etags.ord_to_str(ord, &mut etag)?;
    }
    Ok(Some(etag))
}
