//! Portal's search: one [tantivy] index over catalog entities, TechDocs
//! pages (one document per section) and software templates, in
//! `<data>/search/v<SCHEMA_VERSION>/`.
//!
//! # Using it
//!
//! ```ignore
//! let search = Search::open(&data_dir.join("search"), Arc::new(my_sources))?;
//! // the server's wiring announces changes:
//! search.entities_changed(vec!["component:default/payments".into()]);
//! search.sites_changed(vec!["default/component/payments".into()]);
//! // and anyone queries:
//! let page = search.query(&SearchQuery { term: "paymnts".into(), ..Default::default() })?;
//! let top8 = search.suggest("paym", 8)?;
//! ```
//!
//! - [`Search::query`] answers Backstage's `GET /api/search/query`: the
//!   [`SearchResults`] serialise to its JSON shape (`results[{type,
//!   document{title,text,location,…}, highlight{preTag,postTag,fields},
//!   rank}]`, `nextPageCursor`, `previousPageCursor`, `numberOfResults`),
//!   plus `facets` (counts per filter value over all matches) and `ready`.
//! - [`Search::suggest`] is for a search box: names and titles only, the
//!   last word as a prefix, typo tolerant; a few fields per hit.
//! - Errors are [`SearchError`]; [`SearchError::is_input`] ones are the
//!   caller's (HTTP 400) and say which bound was crossed.
//!
//! # What it does
//!
//! - The crate knows nothing of the catalog or of TechDocs' store: it reads
//!   them through the [`Sources`] trait, which the server implements.
//! - Opening never waits for indexing: a writer thread brings the index
//!   level with the sources (a full build when it is new, or after a schema
//!   change; otherwise only what changed while the portal was down, found
//!   by comparing etags), and until it is done answers carry `ready: false`
//!   with what is indexed so far.
//! - Changes are applied in batches gathered for 25 ms, each one commit:
//!   an edit is searchable some tens of milliseconds after it is announced.
//! - Ranking: every word must match, in a name, title, keyword (tags, kind,
//!   type, owner, lifecycle, system, annotation keys) or text, exactly
//!   (BM25, weighted by field), as the prefix of a name or title word, or
//!   within its typo distance (one edit for 4-7 characters, two from 8,
//!   none below); `"quoted phrases"` must match in order; a whole name or
//!   title equal to the term adds a score no word sum reaches, so it comes
//!   first. Input never reaches tantivy's query parser (`query.rs`).

mod any_of;
mod collect;
mod documents;
mod error;
mod highlight;
mod html;
mod indexer;
mod query;
mod schema;
#[cfg(test)]
mod tests;

pub use documents::{CollatedDocument, SOFTWARE_CATALOG, SOFTWARE_TEMPLATE, TECHDOCS};
pub use error::SearchError;
pub use highlight::{POST_TAG, PRE_TAG};
pub use query::{
    DEFAULT_PAGE_LIMIT, FILTERS, MAX_FILTER_VALUES, MAX_OFFSET, MAX_PAGE_LIMIT, MAX_TERM_CHARS,
    MAX_WORDS, SearchQuery, typo_distance,
};
pub use schema::SCHEMA_VERSION;

use collect::{Matches, SegmentCache};
use documents::DocumentBuilder;
use highlight::Matcher;
use indexer::{Change, Indexer, Shared};
use portal_types::docs::{DocsPage, DocsSite};
use query::Scope;
use schema::Fields;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tantivy::schema::Value;
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Index, IndexReader, ReloadPolicy, TantivyDocument};

/// Where the index reads what it indexes. The server implements it over
/// the catalog and the TechDocs store; tests, over plain data.
pub trait Sources: Send + Sync + 'static {
    /// Calls `visit` with the JSON of every entity (as stored: `kind`,
    /// `metadata` with `etag`, `spec`).
    fn for_each_entity(&self, visit: &mut dyn FnMut(&[u8]));
    /// One entity's JSON by ref (`kind:namespace/name`, lowercase), `None`
    /// when there is none.
    fn entity(&self, entity_ref: &str) -> Option<Vec<u8>>;
    /// The keys (`namespace/kind/name`) of every stored docs site.
    fn site_keys(&self) -> Vec<String>;
    fn site(&self, key: &str) -> Option<Arc<DocsSite>>;
    fn page(&self, key: &str, path: &str) -> Option<DocsPage>;
}

/// How the index is written.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// Indexing threads (each buffers `writer_memory / threads`).
    pub writer_threads: usize,
    /// The writer's buffer, in bytes, in all (at least 15 MB per thread).
    pub writer_memory: usize,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            writer_threads: std::thread::available_parallelism()
                .map_or(1, |n| n.get())
                .min(2),
            writer_memory: 48 << 20,
        }
    }
}

/// The search index. Cheap to clone.
#[derive(Clone)]
pub struct Search {
    inner: Arc<Inner>,
}

struct Inner {
    fields: Fields,
    reader: IndexReader,
    analyzer: TextAnalyzer,
    shared: Arc<Shared>,
    segments: Arc<SegmentCache>,
    changes: Mutex<Option<Sender<Change>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    dir: PathBuf,
}

impl Drop for Inner {
    /// Stops the writer (after its current batch) and waits, so the
    /// index's lock is free when the last handle is gone.
    fn drop(&mut self) {
        self.changes
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(thread) = self
            .writer_thread
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            let _ = thread.join();
        }
    }
}

/// One result, in Backstage's shape.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResult {
    /// `software-catalog`, `techdocs` or `software-template`.
    #[serde(rename = "type")]
    pub doc_type: String,
    /// `title`, `text` (plain, cut to 500 characters), `location` (a path
    /// in the portal), and per type: `kind`, `namespace`, `name`, `type`,
    /// `lifecycle`, `owner`, `tags`… (entities and templates); `path`,
    /// `pageTitle`, `entityTitle`… (docs). Kept as JSON text, as the
    /// index stores it: an answer copies it instead of parsing and writing
    /// it again ([`SearchResult::document_fields`] parses it).
    pub document: Box<RawValue>,
    pub highlight: Highlight,
    /// 1-based position in the whole result list.
    pub rank: usize,
}

impl SearchResult {
    /// The document's fields, parsed (for views that read them).
    pub fn document_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::from_str(self.document.get()).unwrap_or_default()
    }
}

/// Backstage's highlight: `fields.title` (whole) and `fields.text` (a
/// snippet), HTML-escaped, matched words between `pre_tag` and `post_tag`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Highlight {
    pub pre_tag: &'static str,
    pub post_tag: &'static str,
    pub fields: BTreeMap<String, String>,
}

/// How many matches have a filter value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// A page of results.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchResults {
    pub results: Vec<SearchResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_cursor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_page_cursor: Option<String>,
    pub number_of_results: u64,
    /// Per filter (`types`, `kind`, `type`, `owner`, `lifecycle`, `tags`,
    /// `namespace`), the most frequent values among all matches.
    pub facets: BTreeMap<String, Vec<FacetCount>>,
    /// False while the index is still being built: results may be missing.
    pub ready: bool,
}

/// A search-box suggestion.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    #[serde(rename = "type")]
    pub doc_type: String,
    pub title: String,
    /// The title, escaped, with the typed words in `<mark>`.
    pub highlight: String,
    pub location: String,
    /// The entity's kind (for docs, the documented entity's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The index's state, for status pages, tests and benches.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchStatus {
    pub ready: bool,
    pub documents: u64,
    /// Changes announced but not yet searchable.
    pub pending: usize,
    pub commits: u64,
    pub schema_version: u32,
    /// How long the start-up reconciliation (a full build when new) took.
    pub build_millis: Option<u64>,
    /// Bytes of the index on disk (what the OS caches of it is its memory).
    pub disk_bytes: u64,
    /// Segments searched (a build leaves one; updates add small ones that
    /// are merged as they accumulate).
    pub segments: usize,
    pub last_error: Option<String>,
}

/// The facet dimensions reported, with their name in answers.
const FACETS: [(&str, &str); 7] = [
    ("doctype", "types"),
    ("kind", "kind"),
    ("type", "type"),
    ("owner", "owner"),
    ("lifecycle", "lifecycle"),
    ("tags", "tags"),
    ("namespace", "namespace"),
];
const FACET_VALUES: usize = 20;

fn open_index(dir: &Path) -> Result<(Index, bool), SearchError> {
    let open_err = |e: std::io::Error| SearchError::Open {
        path: dir.display().to_string(),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(open_err)?;
    // Older schemas' indexes are dropped: this one is rebuilt from the sources.
    let current = format!("v{SCHEMA_VERSION}");
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('v') && name != current && entry.path().is_dir() {
                tracing::info!(old = %name, "search: removing an index of another schema version");
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let path = dir.join(&current);
    let (schema, _) = schema::schema();
    let fresh = !path.join("meta.json").exists();
    std::fs::create_dir_all(&path).map_err(open_err)?;
    let opened = if fresh {
        Index::create_in_dir(&path, schema.clone())
    } else {
        Index::open_in_dir(&path).and_then(|index| {
            if index.schema() == schema {
                Ok(index)
            } else {
                Err(tantivy::TantivyError::SchemaError(
                    "the stored schema differs".into(),
                ))
            }
        })
    };
    match opened {
        Ok(index) => Ok((index, fresh)),
        Err(e) if !fresh => {
            // Unreadable (a crash mid-write, a foreign file): it is only a
            // cache of the sources, so start over.
            tracing::warn!(
                "search: the index in {} cannot be used ({e}); rebuilding it",
                path.display()
            );
            std::fs::remove_dir_all(&path).map_err(open_err)?;
            std::fs::create_dir_all(&path).map_err(open_err)?;
            Ok((Index::create_in_dir(&path, schema)?, true))
        }
        Err(e) => Err(e.into()),
    }
}

impl Search {
    /// Opens (or creates) the index under `dir` and starts its writer
    /// thread, which first brings it level with `sources`. Returns at once.
    pub fn open(dir: &Path, sources: Arc<dyn Sources>) -> Result<Search, SearchError> {
        Self::open_with(dir, sources, SearchOptions::default())
    }

    pub fn open_with(
        dir: &Path,
        sources: Arc<dyn Sources>,
        options: SearchOptions,
    ) -> Result<Search, SearchError> {
        let (index, fresh) = open_index(dir)?;
        schema::register(&index);
        let fields = schema::schema().1;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let threads = options.writer_threads.max(1);
        let writer = index
            .writer_with_num_threads(threads, options.writer_memory.max(threads * 15_000_000))?;
        let shared = Arc::new(Shared::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let segments = Arc::new(SegmentCache::new(
            FACETS.iter().map(|(dim, _)| *dim).collect(),
        ));
        let indexer = Indexer {
            writer,
            reader: reader.clone(),
            fields,
            builder: DocumentBuilder {
                fields,
                analyzer: schema::analyzer(),
            },
            sources,
            shared: shared.clone(),
            segments: segments.clone(),
        };
        tracing::info!(dir = %dir.display(), fresh, "search: opening the index");
        let writer_thread = std::thread::Builder::new()
            .name("search-indexer".into())
            .spawn(move || indexer.run(rx))
            .map_err(|e| SearchError::Open {
                path: dir.display().to_string(),
                source: e,
            })?;
        Ok(Search {
            inner: Arc::new(Inner {
                fields,
                reader,
                analyzer: schema::analyzer(),
                shared,
                segments,
                changes: Mutex::new(Some(tx)),
                writer_thread: Mutex::new(Some(writer_thread)),
                dir: dir.to_path_buf(),
            }),
        })
    }

    fn send(&self, change: Change) {
        self.inner.shared.pending.fetch_add(1, Ordering::AcqRel);
        let sent = match &*self.inner.changes.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(tx) => tx.send(change).is_ok(),
            None => false,
        };
        if !sent {
            self.inner.shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Entities (refs, `kind:namespace/name`) were added, changed or removed.
    pub fn entities_changed(&self, refs: Vec<String>) {
        if !refs.is_empty() {
            self.send(Change::Entities(refs));
        }
    }

    /// Docs sites (keys, `namespace/kind/name`) were built or removed.
    pub fn sites_changed(&self, keys: Vec<String>) {
        if !keys.is_empty() {
            self.send(Change::Sites(keys));
        }
    }

    /// Replaces every document of `doc_type` (a plugin's collation) with
    /// `documents`; none removes them.
    pub fn replace_collated(&self, doc_type: &str, documents: Vec<CollatedDocument>) {
        self.send(Change::Collated {
            doc_type: doc_type.to_owned(),
            documents,
        });
    }

    /// The collated document types in the index (to remove those whose
    /// plugin is gone): the `p:<type>` groups of the group field's
    /// dictionary that still have a live document (deleted documents stay
    /// in a dictionary until their segment is merged). A dictionary range,
    /// not a read of every document's group.
    pub fn collated_types(&self) -> Vec<String> {
        let searcher = self.inner.reader.searcher();
        let f = &self.inner.fields;
        let mut groups = std::collections::BTreeSet::new();
        for segment in searcher.segment_readers() {
            let Ok(index) = segment.inverted_index(f.group) else {
                continue;
            };
            let Ok(mut stream) = index.terms().range().ge("p:").lt("p;").into_stream() else {
                continue;
            };
            while stream.advance() {
                if let Ok(group) = std::str::from_utf8(stream.key()) {
                    groups.insert(group.to_owned());
                }
            }
        }
        groups
            .into_iter()
            .filter(|group| {
                let live = tantivy::query::TermQuery::new(
                    tantivy::Term::from_field_text(f.group, group),
                    tantivy::schema::IndexRecordOption::Basic,
                );
                searcher
                    .search(&live, &tantivy::collector::Count)
                    .is_ok_and(|n| n > 0)
            })
            .filter_map(|group| group.strip_prefix("p:").map(str::to_owned))
            .collect()
    }

    /// Compare everything with the sources (after a missed notification).
    pub fn reconcile_all(&self) {
        self.send(Change::All);
    }

    pub fn is_ready(&self) -> bool {
        self.inner.shared.ready.load(Ordering::Acquire)
    }

    pub fn status(&self) -> SearchStatus {
        let shared = &self.inner.shared;
        let ready = self.is_ready();
        let searcher = self.inner.reader.searcher();
        SearchStatus {
            ready,
            documents: searcher.num_docs(),
            segments: searcher.segment_readers().len(),
            pending: shared.pending.load(Ordering::Acquire),
            commits: shared.commits.load(Ordering::Relaxed),
            schema_version: SCHEMA_VERSION,
            build_millis: ready.then(|| shared.build_millis.load(Ordering::Relaxed)),
            disk_bytes: dir_size(&self.inner.dir),
            last_error: shared
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        }
    }

    /// Blocks until the index is ready and every announced change is
    /// searchable, or `timeout` passes (returns whether it got there).
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let until = Instant::now() + timeout;
        loop {
            if self.is_ready() && self.inner.shared.pending.load(Ordering::Acquire) == 0 {
                return true;
            }
            if Instant::now() >= until {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Runs a search (CPU-bound: call it off async threads).
    pub fn query(&self, q: &SearchQuery) -> Result<SearchResults, SearchError> {
        let limit = q.page_limit.unwrap_or(DEFAULT_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(SearchError::InvalidPageLimit {
                max: MAX_PAGE_LIMIT,
            });
        }
        let offset = query::decode_cursor(q.page_cursor.as_deref())?;
        let mut analyzer = self.inner.analyzer.clone();
        let parsed = query::parse_term(&mut analyzer, &q.term)?;
        let filters = query::parse_filters(q)?;
        let f = &self.inner.fields;
        let searcher = self.inner.reader.searcher();
        let mut typos = query::Typos::new(&searcher);
        let built = query::build(f, &parsed, &filters, Scope::Full, &mut typos);
        let built = query::excluding(f, built, &query::hidden_groups(&q.hidden_entities));
        let found = searcher.search(
            &built,
            &Matches {
                cache: &self.inner.segments,
                offset,
                limit,
                count_facets: true,
            },
        )?;
        let matcher = Matcher::new(&parsed, typos.used());
        let mut results = Vec::with_capacity(found.page.len());
        for (i, (_, address)) in found.page.into_iter().enumerate() {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Some(stored) = StoredDocument::of(&doc, f) else {
                continue;
            };
            let text = doc
                .get_first(f.full_text)
                .and_then(|v| v.as_str())
                .unwrap_or("");
            let mut fields = BTreeMap::new();
            fields.insert(
                "title".into(),
                matcher.mark_all(&mut analyzer, &stored.shown.title),
            );
            fields.insert("text".into(), matcher.snippet(&mut analyzer, text));
            let Some(document) = stored.with_text(&documents::answer_text(text)) else {
                continue;
            };
            let doc_type = stored.doc_type.to_owned();
            results.push(SearchResult {
                doc_type,
                document,
                highlight: Highlight {
                    pre_tag: PRE_TAG,
                    post_tag: POST_TAG,
                    fields,
                },
                rank: offset + i + 1,
            });
        }
        let total = found.total;
        let mut facet_counts = BTreeMap::new();
        for ((_, name), counts) in FACETS.iter().zip(&found.facets) {
            let values = collect::top_values(counts, FACET_VALUES)
                .into_iter()
                .map(|(value, count)| FacetCount {
                    value: value.to_owned(),
                    count,
                })
                .collect();
            facet_counts.insert((*name).to_owned(), values);
        }
        let next = offset + limit;
        Ok(SearchResults {
            results,
            next_page_cursor: ((next as u64) < total && next <= MAX_OFFSET)
                .then(|| query::encode_cursor(next)),
            previous_page_cursor: (offset > 0)
                .then(|| query::encode_cursor(offset.saturating_sub(limit))),
            number_of_results: total,
            facets: facet_counts,
            ready: self.is_ready(),
        })
    }

    /// The best few titles for what is being typed: names and titles only,
    /// the last word as a prefix, typo tolerant. `limit` is capped at 20.
    pub fn suggest(&self, term: &str, limit: usize) -> Result<Vec<Suggestion>, SearchError> {
        self.suggest_excluding(term, limit, &[])
    }

    /// [`Search::suggest`] without the hidden entities' documents (see
    /// [`SearchQuery::hidden_entities`]).
    pub fn suggest_excluding(
        &self,
        term: &str,
        limit: usize,
        hidden_entities: &[String],
    ) -> Result<Vec<Suggestion>, SearchError> {
        let limit = limit.clamp(1, 20);
        let mut analyzer = self.inner.analyzer.clone();
        let parsed = query::parse_term(&mut analyzer, term)?;
        if parsed.is_empty() {
            return Ok(Vec::new());
        }
        let f = &self.inner.fields;
        let searcher = self.inner.reader.searcher();
        let mut typos = query::Typos::new(&searcher);
        let built = query::build(f, &parsed, &[], Scope::Titles, &mut typos);
        let built = query::excluding(f, built, &query::hidden_groups(hidden_entities));
        let found = searcher.search(
            &built,
            &Matches {
                cache: &self.inner.segments,
                offset: 0,
                limit,
                count_facets: false,
            },
        )?;
        let matcher = Matcher::new(&parsed, typos.used());
        let mut out = Vec::with_capacity(found.page.len());
        for (_, address) in found.page {
            let doc: TantivyDocument = searcher.doc(address)?;
            let Some(stored) = StoredDocument::of(&doc, f) else {
                continue;
            };
            let Shown {
                title,
                location,
                kind,
            } = stored.shown;
            out.push(Suggestion {
                doc_type: stored.doc_type.to_owned(),
                highlight: matcher.mark_all(&mut analyzer, &title),
                title: title.into_owned(),
                location: location.into_owned(),
                kind: kind.map(Cow::into_owned),
            });
        }
        Ok(out)
    }
}

/// What the index stores of a result (see `documents::store`), read
/// without copying: the JSON stays text, and only the few fields the
/// answer needs are picked out of it.
struct StoredDocument<'a> {
    doc_type: &'a str,
    json: &'a str,
    shown: Shown<'a>,
}

/// The stored fields a result or suggestion shows (borrowed unless a
/// string holds escapes).
#[derive(Deserialize)]
struct Shown<'a> {
    #[serde(borrow, default)]
    title: Cow<'a, str>,
    #[serde(borrow, default)]
    location: Cow<'a, str>,
    #[serde(borrow, default)]
    kind: Option<Cow<'a, str>>,
}

impl<'a> StoredDocument<'a> {
    fn of(doc: &'a TantivyDocument, f: &Fields) -> Option<Self> {
        let json = doc.get_first(f.doc).and_then(|v| v.as_str())?;
        let doc_type = doc.get_first(f.doctype).and_then(|v| v.as_str())?;
        let shown = serde_json::from_str(json).ok()?;
        Some(StoredDocument {
            doc_type,
            json,
            shown,
        })
    }

    /// The answer's document: `text` first, then the stored fields as
    /// they are (the stored JSON is an object without `text`).
    fn with_text(&self, text: &str) -> Option<Box<RawValue>> {
        let rest = self.json.trim_start().strip_prefix('{')?;
        let text = serde_json::to_string(text).ok()?;
        let mut out = String::with_capacity(self.json.len() + text.len() + 10);
        out.push_str("{\"text\":");
        out.push_str(&text);
        if !rest.trim_start().starts_with('}') {
            out.push(',');
        }
        out.push_str(rest);
        RawValue::from_string(out).ok()
    }
}

fn dir_size(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(m) if m.is_dir() => stack.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}
