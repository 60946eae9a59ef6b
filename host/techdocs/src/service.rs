//! Keeping built sites current: [`TechDocs`] is told which sites exist and
//! where their sources are ([`TechDocs::set_sources`], by the server from the
//! catalog), and from then on builds each one when it is new, when its
//! sources change on disk (watched with `notify`) or when asked, skipping the
//! build when the content hash ([`crate::fingerprint`]) is what was last
//! built. One build runs at a time, on a blocking thread: the request path
//! never waits for one, and a huge or hostile tree is bounded by
//! [`BuildLimits`]. A build that fails keeps the previous site served and
//! records the error in the site's [`DocsStatus`].

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use portal_types::docs::{DocsPage, DocsSite, DocsState, DocsStatus};
use portal_types::time::Timestamp;
use tokio::sync::{Notify, broadcast};

use crate::remote::{TreeFetcher, replace_tree};
use crate::store::{SiteStore, StoreError};
use crate::{BuildLimits, build_site, fingerprint, include_dirs, includes_hash};

/// Where a site's sources are, as the server resolved them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocsSource {
    /// A local checkout: `docs_root` holds `mkdocs.yml` and must lie inside
    /// `repo_root`.
    Local {
        repo_root: PathBuf,
        docs_root: PathBuf,
    },
    /// A tree to download (`url:` refs, and `dir:` refs of entities read
    /// from a URL): a GitHub folder URL or a `.tar.gz` URL. Downloaded by the
    /// [`TreeFetcher`] into the data directory, then built like a checkout.
    Remote { url: String },
    /// Not built here, and why (said on the site's status).
    Refused(String),
}

/// Downloaded sources are read again at most this often when asked (the
/// sync route, a catalog refresh)…
const REMOTE_MIN_INTERVAL: Duration = Duration::from_secs(60);
/// …and at least this often without being asked.
const REMOTE_REFRESH: Duration = Duration::from_secs(300);

/// How long file events are collected before the sites they touch are
/// checked: an editor's save is several events.
const SETTLE: Duration = Duration::from_millis(60);

/// The TechDocs builder and store. Cheap to clone.
#[derive(Clone)]
pub struct TechDocs {
    inner: Arc<Inner>,
}

struct Inner {
    store: SiteStore,
    limits: BuildLimits,
    /// Where downloaded sources are unpacked, one folder per site.
    remote_dir: PathBuf,
    fetcher: Option<Arc<dyn TreeFetcher>>,
    state: Mutex<State>,
    wake: Notify,
    /// The key of every site whose status changed.
    changes: broadcast::Sender<String>,
    version: AtomicU64,
    watcher: Mutex<Option<notify::RecommendedWatcher>>,
}

#[derive(Default)]
struct State {
    sources: HashMap<String, DocsSource>,
    status: HashMap<String, DocsStatus>,
    /// The content hash of a failed build's sources: not retried until they
    /// change.
    failed_hash: HashMap<String, String>,
    queue: VecDeque<String>,
    queued: HashSet<String>,
    /// Watched directories: recursive or not, and the sites under them.
    watched: BTreeMap<PathBuf, (RecursiveMode, HashSet<String>)>,
    /// When each downloaded site was last downloaded.
    fetched: HashMap<String, std::time::Instant>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a watch event can mean new content (not the OPEN and
/// CLOSE_NOWRITE our own reads cause, which would rebuild forever).
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

impl TechDocs {
    /// Opens the store in `dir` and starts the build worker and the file
    /// watcher (needs a Tokio runtime). Without a `fetcher`, downloaded
    /// sources are refused.
    pub fn start(
        dir: &Path,
        limits: BuildLimits,
        fetcher: Option<Arc<dyn TreeFetcher>>,
    ) -> Result<TechDocs, StoreError> {
        let store = SiteStore::open(dir)?;
        let (changes, _) = broadcast::channel(256);
        let docs = TechDocs {
            inner: Arc::new(Inner {
                store,
                limits,
                remote_dir: dir.join("remote"),
                fetcher,
                state: Mutex::new(State::default()),
                wake: Notify::new(),
                changes,
                version: AtomicU64::new(1),
                watcher: Mutex::new(None),
            }),
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
        match notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res
                && changes_content(&event.kind)
            {
                for p in event.paths {
                    let _ = tx.send(p);
                }
            }
        }) {
            Ok(w) => *lock(&docs.inner.watcher) = Some(w),
            Err(e) => tracing::warn!(
                "techdocs: cannot watch files ({e}); sites rebuild on catalog changes only"
            ),
        }
        tokio::task::spawn_blocking(crate::markdown::highlight::warm_up);
        tokio::spawn(docs.clone().worker());
        tokio::spawn(docs.clone().watch_events(rx));
        tokio::spawn(docs.clone().refresh_remote());
        Ok(docs)
    }

    /// The store (the REST routes and the UI read sites from it).
    pub fn store(&self) -> &SiteStore {
        &self.inner.store
    }

    /// The complete set of documented sites and their sources. New and
    /// changed ones are queued for a check; sites no longer listed are
    /// removed from the store.
    pub fn set_sources(&self, sources: HashMap<String, DocsSource>) {
        let mut removed = Vec::new();
        {
            let mut st = lock(&self.inner.state);
            let gone: Vec<String> = st
                .sources
                .keys()
                .filter(|k| !sources.contains_key(*k))
                .cloned()
                .collect();
            for key in gone {
                st.sources.remove(&key);
                st.status.remove(&key);
                st.failed_hash.remove(&key);
                st.fetched.remove(&key);
                removed.push(key);
            }
            for (key, source) in sources {
                if st.sources.get(&key) == Some(&source) {
                    continue;
                }
                st.sources.insert(key.clone(), source);
                st.failed_hash.remove(&key);
                st.fetched.remove(&key);
                let version = self.next_version();
                let status = st.status.entry(key.clone()).or_insert_with(|| DocsStatus {
                    key: key.clone(),
                    state: DocsState::Pending,
                    error: None,
                    build_timestamp: None,
                    problems: Vec::new(),
                    builds: 0,
                    skipped: 0,
                    version,
                });
                status.version = version;
                if st.queued.insert(key.clone()) {
                    st.queue.push_back(key);
                }
            }
            for key in &removed {
                for (_, keys) in st.watched.values_mut() {
                    keys.remove(key);
                }
            }
        }
        // Sites stored by an earlier run whose entity is gone.
        if let Ok(keys) = self.inner.store.keys() {
            let st = lock(&self.inner.state);
            removed.extend(keys.into_iter().filter(|k| !st.sources.contains_key(k)));
        }
        for key in removed {
            if let Err(e) = self.inner.store.remove(&key) {
                tracing::warn!(site = %key, "techdocs: cannot remove a site: {e}");
            }
            let _ = std::fs::remove_dir_all(self.remote_tree(&key));
            let _ = self.inner.changes.send(key);
        }
        self.unwatch_unused();
        self.inner.wake.notify_one();
    }

    /// Like [`TechDocs::request_check`], and downloaded sources are
    /// downloaded again however recently they were (Backstage's sync: a
    /// client asking whether the docs are current).
    pub fn request_sync(&self, key: &str) {
        lock(&self.inner.state).fetched.remove(key);
        self.request_check(key);
    }

    /// Queues a check (and, if the sources changed, a build) of one site.
    pub fn request_check(&self, key: &str) {
        let mut st = lock(&self.inner.state);
        if st.sources.contains_key(key) && st.queued.insert(key.to_owned()) {
            st.queue.push_back(key.to_owned());
            drop(st);
            self.inner.wake.notify_one();
        }
    }

    /// A site's build status; `None` when the site is not documented.
    pub fn status(&self, key: &str) -> Option<DocsStatus> {
        lock(&self.inner.state).status.get(key).cloned()
    }

    /// Every documented site's status, by key.
    pub fn statuses(&self) -> Vec<DocsStatus> {
        let mut all: Vec<DocsStatus> = lock(&self.inner.state).status.values().cloned().collect();
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all
    }

    /// The stored site.
    pub fn site(&self, key: &str) -> Result<Option<Arc<DocsSite>>, StoreError> {
        self.inner.store.site(key)
    }

    /// A stored page.
    pub fn page(&self, key: &str, path: &str) -> Result<Option<DocsPage>, StoreError> {
        self.inner.store.page(key, path)
    }

    /// Keys of sites whose status changed, as they change.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.inner.changes.subscribe()
    }

    /// Waits until nothing is queued or building (tools, tests, benches).
    pub async fn wait_idle(&self) {
        loop {
            {
                let st = lock(&self.inner.state);
                if st.queue.is_empty()
                    && !st
                        .status
                        .values()
                        .any(|s| matches!(s.state, DocsState::Building | DocsState::Pending))
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn next_version(&self) -> u64 {
        self.inner.version.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn update_status(&self, key: &str, f: impl FnOnce(&mut DocsStatus)) {
        let version = self.next_version();
        {
            let mut st = lock(&self.inner.state);
            let Some(status) = st.status.get_mut(key) else {
                return;
            };
            f(status);
            status.version = version;
        }
        let _ = self.inner.changes.send(key.to_owned());
    }

    async fn worker(self) {
        loop {
            let next = {
                let mut st = lock(&self.inner.state);
                let key = st.queue.pop_front();
                if let Some(key) = &key {
                    st.queued.remove(key);
                }
                key.and_then(|k| st.sources.get(&k).cloned().map(|s| (k, s)))
            };
            let Some((key, source)) = next else {
                if lock(&self.inner.state).queue.is_empty() {
                    self.inner.wake.notified().await;
                }
                continue;
            };
            let (repo_root, docs_root, watch) = match source {
                DocsSource::Local {
                    repo_root,
                    docs_root,
                } => (repo_root, docs_root, true),
                DocsSource::Remote { url } => match self.download(&key, &url).await {
                    Some(dir) => (dir.clone(), dir, false),
                    None => continue,
                },
                DocsSource::Refused(reason) => {
                    self.update_status(&key, |s| {
                        s.state = DocsState::Refused;
                        s.error = Some(reason);
                    });
                    continue;
                }
            };
            let me = self.clone();
            let k = key.clone();
            if let Err(e) =
                tokio::task::spawn_blocking(move || me.check(&k, &repo_root, &docs_root, watch))
                    .await
            {
                tracing::error!(site = %key, "techdocs: the build stopped: {e}");
                self.update_status(&key, |s| {
                    s.state = DocsState::Failed;
                    s.error = Some(format!("the build stopped: {e}"));
                });
            }
        }
    }

    /// Where a downloaded site's sources are unpacked.
    fn remote_tree(&self, key: &str) -> PathBuf {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(key.as_bytes());
        self.inner.remote_dir.join(hex::encode(&digest[..12]))
    }

    /// Downloads and unpacks a site's sources, unless that was done less
    /// than [`REMOTE_MIN_INTERVAL`] ago. The folder to build, or `None` when
    /// the download failed (said on the status; the last site stays).
    async fn download(&self, key: &str, url: &str) -> Option<PathBuf> {
        let dir = self.remote_tree(key);
        let recent = lock(&self.inner.state)
            .fetched
            .get(key)
            .is_some_and(|at| at.elapsed() < REMOTE_MIN_INTERVAL);
        if recent && dir.is_dir() {
            return Some(dir);
        }
        let Some(fetcher) = self.inner.fetcher.clone() else {
            self.update_status(key, |s| {
                s.state = DocsState::Refused;
                s.error = Some(format!("{url}: this portal does not download docs sources"));
            });
            return None;
        };
        let span = tracing::info_span!("techdocs_download", site = %key, %url);
        let fail = |error: String| {
            let _enter = span.enter();
            tracing::warn!("techdocs: {error}");
            self.update_status(key, |s| {
                s.state = DocsState::Failed;
                s.error = Some(error);
            });
        };
        self.update_status(key, |s| s.state = DocsState::Building);
        let tree = match fetcher.fetch(url, self.inner.limits.max_total_bytes).await {
            Ok(tree) => tree,
            Err(e) => {
                fail(format!("cannot download the docs sources: {e}"));
                return None;
            }
        };
        lock(&self.inner.state)
            .fetched
            .insert(key.to_owned(), std::time::Instant::now());
        let limits = self.inner.limits.clone();
        let target = dir.clone();
        let unpacked =
            tokio::task::spawn_blocking(move || replace_tree(&tree, &target, &limits)).await;
        match unpacked {
            Ok(Ok(unpacked)) => {
                for skipped in &unpacked.skipped {
                    tracing::info!(site = %key, "techdocs: {url}: {skipped}");
                }
                Some(dir)
            }
            Ok(Err(e)) => {
                fail(format!("cannot unpack the docs sources from {url}: {e}"));
                None
            }
            Err(e) => {
                fail(format!("the unpacking stopped: {e}"));
                None
            }
        }
    }

    /// Asks, every [`REMOTE_REFRESH`], for a check of every downloaded site.
    async fn refresh_remote(self) {
        let mut ticks = tokio::time::interval(REMOTE_REFRESH);
        ticks.tick().await;
        loop {
            ticks.tick().await;
            let keys: Vec<String> = lock(&self.inner.state)
                .sources
                .iter()
                .filter(|(_, s)| matches!(s, DocsSource::Remote { .. }))
                .map(|(k, _)| k.clone())
                .collect();
            for key in keys {
                self.request_check(&key);
            }
        }
    }

    /// Checks one site and builds it if its sources changed; `watch` says
    /// whether to watch them for edits (a checkout, not a download).
    /// Blocking.
    fn check(&self, key: &str, repo_root: &Path, docs_root: &Path, watch: bool) {
        let span = tracing::info_span!("techdocs_check", site = %key);
        let _enter = span.enter();
        let stored = match self.inner.store.site(key) {
            Ok(site) => site,
            Err(e) => {
                tracing::error!("{e}");
                None
            }
        };
        // The last build's snippet files count too, wherever they are.
        let includes: &[String] = stored.as_ref().map_or(&[], |s| &s.includes);
        let hash = match fingerprint(repo_root, docs_root, &self.inner.limits) {
            Ok(fp) => {
                if watch {
                    let include_dirs = include_dirs(repo_root, includes);
                    let mut dirs = vec![
                        (fp.docs_root.as_path(), RecursiveMode::NonRecursive),
                        (fp.docs_dir.as_path(), RecursiveMode::Recursive),
                    ];
                    dirs.extend(
                        include_dirs
                            .iter()
                            .map(|d| (d.as_path(), RecursiveMode::NonRecursive)),
                    );
                    self.watch(key, &dirs);
                }
                Some(fp.hash)
            }
            // The build says why, in the same words; watch what exists so
            // that a fix is seen.
            Err(_) => {
                let dir = repo_root.join(docs_root);
                if watch && dir.is_dir() {
                    self.watch(key, &[(&dir, RecursiveMode::NonRecursive)]);
                }
                None
            }
        };
        let sources_hash = hash;
        let hash = sources_hash
            .as_deref()
            .map(|h| includes_hash(h, repo_root, includes, &self.inner.limits));
        if let Some(hash) = &hash {
            let failed_before = lock(&self.inner.state).failed_hash.get(key) == Some(hash);
            if stored.as_ref().is_some_and(|s| &s.etag == hash) || failed_before {
                tracing::debug!("unchanged: build skipped");
                self.update_status(key, |s| {
                    s.skipped += 1;
                    if !failed_before {
                        s.state = DocsState::Built;
                        s.error = None;
                    } else {
                        s.state = DocsState::Failed;
                    }
                    if let Some(site) = &stored {
                        s.build_timestamp = Some(site.build_timestamp);
                        s.problems = site.problems.clone();
                    }
                });
                return;
            }
        }
        self.update_status(key, |s| s.state = DocsState::Building);
        let started = std::time::Instant::now();
        let result = build_site(repo_root, docs_root, &self.inner.limits);
        match result {
            Ok(site) => {
                let now = Timestamp::now().millis();
                // The hash with this build's includes (the check above used
                // the last build's).
                let etag = sources_hash
                    .as_deref()
                    .map(|h| includes_hash(h, repo_root, &site.includes, &self.inner.limits))
                    .unwrap_or_default();
                if watch {
                    let dirs = include_dirs(repo_root, &site.includes);
                    let dirs: Vec<(&Path, RecursiveMode)> = dirs
                        .iter()
                        .map(|d| (d.as_path(), RecursiveMode::NonRecursive))
                        .collect();
                    self.watch(key, &dirs);
                }
                match self.inner.store.put(key, &site, &etag, now) {
                    Ok(stored) => {
                        tracing::info!(
                            pages = site.pages.len(),
                            problems = site.problems.len(),
                            elapsed = ?started.elapsed(),
                            "techdocs: site built"
                        );
                        lock(&self.inner.state).failed_hash.remove(key);
                        // Durable before it is said to be built: a crash
                        // right after must not cost a rebuild (sled would
                        // flush within 500 ms anyway; readers already see
                        // the new site).
                        if let Err(e) = self.inner.store.flush() {
                            tracing::error!("techdocs: cannot flush the store: {e}");
                        }
                        self.update_status(key, |s| {
                            s.state = DocsState::Built;
                            s.error = None;
                            s.builds += 1;
                            s.build_timestamp = Some(stored.build_timestamp);
                            s.problems = stored.problems;
                        });
                    }
                    Err(e) => {
                        tracing::error!("techdocs: cannot store the site: {e}");
                        self.update_status(key, |s| {
                            s.state = DocsState::Failed;
                            s.error = Some(e.to_string());
                            s.builds += 1;
                        });
                    }
                }
            }
            Err(e) => {
                tracing::warn!("techdocs: build failed: {e}");
                if let Some(hash) = hash {
                    lock(&self.inner.state)
                        .failed_hash
                        .insert(key.to_owned(), hash);
                }
                self.update_status(key, |s| {
                    s.state = DocsState::Failed;
                    s.error = Some(e.to_string());
                    s.builds += 1;
                    if let Some(site) = &stored {
                        s.build_timestamp = Some(site.build_timestamp);
                        s.problems = site.problems.clone();
                    }
                });
            }
        }
    }

    /// Watches a site's docs root (for `mkdocs.yml`, not recursively) and
    /// docs_dir (all of it).
    fn watch(&self, key: &str, dirs: &[(&Path, RecursiveMode)]) {
        let mut watcher = lock(&self.inner.watcher);
        let Some(watcher) = watcher.as_mut() else {
            return;
        };
        let mut st = lock(&self.inner.state);
        for &(dir, mode) in dirs {
            let entry = st.watched.entry(dir.to_path_buf()).or_insert_with(|| {
                if let Err(e) = watcher.watch(dir, mode) {
                    tracing::warn!(dir = %dir.display(), "techdocs: cannot watch: {e}");
                }
                (mode, HashSet::new())
            });
            if entry.0 != mode && mode == RecursiveMode::Recursive {
                let _ = watcher.unwatch(dir);
                if let Err(e) = watcher.watch(dir, mode) {
                    tracing::warn!(dir = %dir.display(), "techdocs: cannot watch: {e}");
                }
                entry.0 = mode;
            }
            entry.1.insert(key.to_owned());
        }
    }

    fn unwatch_unused(&self) {
        let mut watcher = lock(&self.inner.watcher);
        let mut st = lock(&self.inner.state);
        let unused: Vec<PathBuf> = st
            .watched
            .iter()
            .filter(|(_, (_, keys))| keys.is_empty())
            .map(|(dir, _)| dir.clone())
            .collect();
        for dir in unused {
            st.watched.remove(&dir);
            if let Some(w) = watcher.as_mut() {
                let _ = w.unwatch(&dir);
            }
        }
    }

    /// Turns file events into checks of the sites they touch.
    async fn watch_events(self, mut rx: tokio::sync::mpsc::UnboundedReceiver<PathBuf>) {
        while let Some(first) = rx.recv().await {
            let mut paths = vec![first];
            let deadline = tokio::time::Instant::now() + SETTLE;
            while let Ok(Some(p)) = tokio::time::timeout_at(deadline, rx.recv()).await {
                paths.push(p);
            }
            let keys: HashSet<String> = {
                let st = lock(&self.inner.state);
                paths
                    .iter()
                    .flat_map(|p| {
                        st.watched
                            .iter()
                            .filter(move |(dir, (mode, _))| match mode {
                                RecursiveMode::Recursive => p.starts_with(dir),
                                RecursiveMode::NonRecursive => {
                                    p.parent() == Some(dir.as_path()) || p == *dir
                                }
                            })
                            .flat_map(|(_, (_, keys))| keys.iter().cloned())
                    })
                    .collect()
            };
            for key in keys {
                tracing::debug!(site = %key, "techdocs: sources changed on disk");
                self.request_check(&key);
            }
        }
    }
}
