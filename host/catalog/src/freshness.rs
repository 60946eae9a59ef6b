//! Keeping the catalog fresh: reading locations (and the Location entities
//! they contain) into sources, the refresh loop, and file watching. (Plugin
//! providers run on their own intervals in the server, which hands their
//! snapshots to `writes`.)
//!
//! Every Location entity's targets are expanded to concrete files or URLs;
//! each becomes a source `read:<location entity ref>|<type>:<target>` whose
//! snapshot replaces what it emitted before. File locations are watched:
//! a change is re-read within a fraction of a second (debounced 150 ms), a
//! new file matching a glob is read, a deleted one's entities go.

use crate::catalog::Catalog;
use crate::error::CatalogError;
use crate::ingest::glob::{glob_base, glob_match, is_glob, is_yaml_file, walk_files};
use crate::ingest::{Outcome, ReadContext, error_item, resolve_relative};
use crate::loading::resolve_config_target;
use crate::state::{Delivery, SourceRun};
use crate::{reads, writes};
use notify::{RecursiveMode, Watcher};
use portal_catalog_model::{
    ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, LocationPresence, LocationSpec,
    location_entity, parse_location_ref,
};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Most files one glob or directory location expands to.
const MAX_FILES_PER_TARGET: usize = 200_000;

/// Background tasks of a started catalog; stopped when dropped.
pub(crate) struct FreshnessTasks {
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FreshnessTasks {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// What a Location entity's target looks like, for watching.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Glob(String),
    Dir(PathBuf),
    File(PathBuf),
}

impl Pattern {
    fn matches(&self, path: &Path) -> bool {
        match self {
            Pattern::Glob(g) => glob_match(g, &path.to_string_lossy()),
            Pattern::Dir(d) => path.starts_with(d),
            Pattern::File(f) => path == f,
        }
    }

    fn watch(&self) -> (PathBuf, RecursiveMode) {
        match self {
            Pattern::Glob(g) => (glob_base(g), RecursiveMode::Recursive),
            Pattern::Dir(d) => (d.clone(), RecursiveMode::Recursive),
            Pattern::File(f) => (
                f.parent().unwrap_or(Path::new("/")).to_path_buf(),
                RecursiveMode::NonRecursive,
            ),
        }
    }
}

/// One concrete read planned for a Location entity.
#[derive(Debug, Clone)]
struct ReadPlan {
    key: String,
    type_: String,
    target: String,
    origin: String,
    optional: bool,
    /// Set when the target could not even be expanded.
    problem: Option<portal_catalog_model::StatusItem>,
}

/// Whether a watch event can mean new content. Opening and reading a file are
/// reported too (inotify's OPEN and CLOSE_NOWRITE): reacting to those would
/// re-read every file forever, since the re-read opens it again.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        _ => true,
    }
}

/// The file watcher, shared by the freshness tasks and the reads that extend it.
type SharedWatcher = Arc<Mutex<Option<notify::RecommendedWatcher>>>;

#[derive(Default)]
pub(crate) struct WatchState {
    patterns: HashMap<String, Vec<Pattern>>,
    watched: BTreeMap<PathBuf, RecursiveMode>,
    /// Set by `start` when watching is on.
    watcher: Option<SharedWatcher>,
}

struct Busy<'a>(&'a Catalog);
impl<'a> Busy<'a> {
    fn new(c: &'a Catalog) -> Busy<'a> {
        c.inner.busy.fetch_add(1, Ordering::SeqCst);
        Busy(c)
    }
}
impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.inner.busy.fetch_sub(1, Ordering::SeqCst);
    }
}

fn watch_state(catalog: &Catalog) -> &Mutex<WatchState> {
    &catalog.inner.watches
}

/// Starts ingestion: syncs the configured and registered locations now
/// (in the background), then keeps them fresh (refresh loop, watching).
/// Needs a Tokio runtime. Stops when the catalog is dropped... or never:
/// the tasks hold a clone, so call [`Catalog::stop`] to end them.
pub(crate) fn start(catalog: &Catalog) {
    let mut tasks = Vec::new();
    let me = catalog.clone();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let watcher = if catalog.inner.config.watch {
        let tx = tx.clone();
        match notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
            if let Ok(event) = res
                && changes_content(&event.kind)
            {
                for p in event.paths {
                    let _ = tx.send(p);
                }
            }
        }) {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!("catalog: cannot watch files ({e}); relying on the refresh loop");
                None
            }
        }
    } else {
        None
    };
    let watcher = Arc::new(Mutex::new(watcher));
    watch_state(catalog)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .watcher = Some(watcher.clone());
    {
        let me = me.clone();
        let watcher = watcher.clone();
        tasks.push(tokio::spawn(async move {
            let started = std::time::Instant::now();
            sync_all(&me).await;
            let stats = me.stats();
            if stats.entities == 0 {
                tracing::info!(
                    "catalog: empty (no configured or registered location produced entities); add locations under catalog.locations or POST /api/catalog/locations"
                );
            } else {
                tracing::info!(
                    entities = stats.entities,
                    sources = stats.sources,
                    "catalog: ingested in {:.2?}",
                    started.elapsed()
                );
            }
            reconcile_watches(&me, &watcher);
            let interval = me.inner.config.refresh_interval_seconds;
            let mut tick = tokio::time::interval(Duration::from_secs(interval.max(1)));
            tick.tick().await;
            loop {
                if interval == 0 {
                    // Only watching; check the watch set now and then.
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    reconcile_watches(&me, &watcher);
                    continue;
                }
                tick.tick().await;
                sync_all(&me).await;
                reconcile_watches(&me, &watcher);
            }
        }));
    }
    if catalog.inner.leases.get().is_some() {
        let me = me.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(2)).await;
                take_over_waiting(&me).await;
            }
        }));
    }
    {
        let me = me.clone();
        let watcher2 = watcher.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut paths = HashSet::new();
                paths.insert(first);
                let deadline = tokio::time::Instant::now() + Duration::from_millis(150);
                while let Ok(Some(p)) = tokio::time::timeout_at(deadline, rx.recv()).await {
                    paths.insert(p);
                }
                on_paths_changed(&me, paths).await;
                reconcile_watches(&me, &watcher2);
            }
        }));
    }
    drop(tx);
    // The watcher lives until `stop`: the tasks and the watch state hold it.
    *catalog
        .inner
        .freshness
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = Some(FreshnessTasks { tasks });
}

/// Stops background work (refresh loop, watching).
pub(crate) fn stop(catalog: &Catalog) {
    catalog
        .inner
        .freshness
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take();
    watch_state(catalog)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .watcher = None;
}

/// Waits until no processing is under way and everything read is
/// stored (tools, tests, benchmarks).
pub(crate) async fn wait_idle(catalog: &Catalog) {
    let mut quiet = 0;
    while quiet < 3 {
        if catalog.inner.busy.load(Ordering::SeqCst) == 0 {
            quiet += 1;
        } else {
            quiet = 0;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let me = catalog.clone();
    let _ = tokio::task::spawn_blocking(move || me.inner.store.settle()).await;
}

/// Brings the configured and registered locations in (again): every
/// location is re-read. Returns when done.
pub(crate) async fn sync_all(catalog: &Catalog) {
    let _busy = Busy::new(catalog);
    let mut roots = Vec::new();
    let mut desired = HashSet::new();
    for (i, l) in catalog.inner.config.locations.iter().enumerate() {
        let target = resolve_config_target(&catalog.inner.base_dir, &l.type_, &l.target);
        let key = format!("config:{}:{target}", l.type_);
        desired.insert(key.clone());
        let mut spec = LocationSpec::new(l.type_.clone(), target);
        if l.presence.as_deref() == Some("optional") {
            spec.presence = Some(LocationPresence::Optional);
        }
        roots.push((key, spec, i));
    }
    let stale: Vec<String> = catalog
        .read_state()
        .sources
        .keys()
        .filter(|k| k.starts_with("config:") && !desired.contains(k.as_ref()))
        .map(|k| k.to_string())
        .collect();
    for key in stale {
        let orphans = catalog.inner.config.orphan_strategy;
        if let Err(e) = writes::commit_plan(
            catalog,
            |s| s.plan_source_removal(&key, orphans),
            |_| {},
            |_| {},
        ) {
            tracing::error!("catalog: cannot remove {key}: {e}");
        }
    }
    for l in reads::locations(&catalog.read_state()) {
        roots.push((
            format!("location:{}", l.id),
            LocationSpec::new(l.type_, l.target),
            usize::MAX,
        ));
    }
    let mut refs = Vec::new();
    for (key, spec, _) in roots {
        let entity_ref = format!("location:default/{}", spec.generated_entity_name());
        match writes::root_run(key.clone(), &spec) {
            Ok(run) => {
                let me = catalog.clone();
                let result =
                    tokio::task::spawn_blocking(move || writes::commit_run(&me, run)).await;
                match result {
                    Ok(_) => refs.push(entity_ref),
                    Err(e) => tracing::error!("catalog: location {key}: {e}"),
                }
            }
            Err(e) => tracing::error!("catalog: location {key}: {e}"),
        }
    }
    for r in refs {
        process_location_tree(catalog, &r, true).await;
    }
}

/// Reads a Location entity's targets and, in turn, the Location
/// entities found there. `reread_all` re-reads unchanged sources too.
pub(crate) async fn process_location_tree(catalog: &Catalog, location_ref: &str, reread_all: bool) {
    let _busy = Busy::new(catalog);
    let max_depth = catalog.inner.config.limits.max_location_depth;
    let mut queue = vec![(location_ref.to_owned(), 0usize)];
    let mut visited = HashSet::new();
    while let Some((r, depth)) = queue.pop() {
        if !visited.insert(r.clone()) {
            continue;
        }
        if depth > max_depth {
            tracing::warn!(
                "catalog: location {r} is nested more than {max_depth} levels deep (catalog.limits.max_location_depth); not read"
            );
            continue;
        }
        let next = process_location(catalog, &r, reread_all, None).await;
        queue.extend(next.into_iter().map(|n| (n, depth + 1)));
    }
}

fn plan_reads(location_ref: &str, value: &Value) -> (Vec<ReadPlan>, Vec<Pattern>) {
    let annotations = &value["metadata"]["annotations"];
    let own = annotations[ANNOTATION_LOCATION].as_str().unwrap_or("");
    let origin = annotations[ANNOTATION_ORIGIN_LOCATION]
        .as_str()
        .unwrap_or(own)
        .to_owned();
    let base = parse_location_ref(own).ok();
    let spec = &value["spec"];
    let type_ = spec["type"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| base.as_ref().map(|b| b.type_.clone()))
        .unwrap_or_else(|| "file".into());
    let optional = spec["presence"].as_str() == Some("optional");
    let mut targets: Vec<String> = Vec::new();
    if let Some(t) = spec["target"].as_str() {
        targets.push(t.to_owned());
    }
    if let Some(ts) = spec["targets"].as_array() {
        targets.extend(ts.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    let ctx = ReadContext {
        location_type: base
            .as_ref()
            .map(|b| b.type_.clone())
            .unwrap_or_else(|| type_.clone()),
        location_target: base.as_ref().map(|b| b.target.clone()).unwrap_or_default(),
        origin: origin.clone(),
    };
    let mut plans = Vec::new();
    let mut patterns = Vec::new();
    for t in targets {
        let resolved = if type_ == "file" && Path::new(&t).is_absolute() {
            Some(("file".to_owned(), crate::ingest::normalize(Path::new(&t))))
        } else if type_ == "url" && (t.starts_with("http://") || t.starts_with("https://")) {
            Some(("url".to_owned(), t.clone()))
        } else {
            resolve_relative(&ctx, &t).map(|(_, r)| (type_.clone(), r))
        };
        let Some((ty, target)) = resolved else {
            plans.push(ReadPlan {
                key: format!("read:{location_ref}|{type_}:{t}"),
                type_: type_.clone(),
                target: t.clone(),
                origin: origin.clone(),
                optional,
                problem: Some(error_item(
                    "InputError",
                    format!("cannot resolve target `{t}` of {location_ref}"),
                )),
            });
            continue;
        };
        let plan = |target: String, problem| ReadPlan {
            key: format!("read:{location_ref}|{ty}:{target}"),
            type_: ty.clone(),
            target,
            origin: origin.clone(),
            optional,
            problem,
        };
        if ty != "file" {
            plans.push(plan(target, None));
            continue;
        }
        let path = PathBuf::from(&target);
        if is_glob(&target) {
            patterns.push(Pattern::Glob(target.clone()));
            let base = glob_base(&target);
            let pattern = target.clone();
            let files = walk_files(
                &base,
                &|p| glob_match(&pattern, &p.to_string_lossy()),
                MAX_FILES_PER_TARGET,
            );
            if files.is_empty() {
                let problem = (!optional)
                    .then(|| error_item("NotFoundError", format!("no file matches {target}")));
                plans.push(plan(target.clone(), problem));
            }
            for f in files {
                plans.push(plan(f.display().to_string(), None));
            }
        } else if path.is_dir() {
            patterns.push(Pattern::Dir(path.clone()));
            for f in walk_files(&path, &is_yaml_file, MAX_FILES_PER_TARGET) {
                plans.push(plan(f.display().to_string(), None));
            }
        } else {
            patterns.push(Pattern::File(path));
            plans.push(plan(target, None));
        }
    }
    (plans, patterns)
}

/// Runs one read: file or URL to a source run (blocking).
fn run_read(catalog: &Catalog, plan: &ReadPlan, parent: &str) -> SourceRun {
    let mut deps = Vec::new();
    if plan.type_ == "file" {
        deps.push(plan.target.clone());
    }
    let delivery = if let Some(problem) = &plan.problem {
        Delivery::Gone(Some(problem.clone()))
    } else {
        let ctx = ReadContext {
            location_type: plan.type_.clone(),
            location_target: plan.target.clone(),
            origin: plan.origin.clone(),
        };
        match catalog
            .inner
            .processor
            .read_target(&plan.type_, &plan.target)
        {
            Ok(text) => match catalog.inner.processor.process_text(&text, &ctx, &mut deps) {
                Ok(mut outcomes) => {
                    // A source read for the first time brings new entities:
                    // build their bodies here, on this read's thread.
                    if !catalog.read_state().sources.contains_key(plan.key.as_str()) {
                        crate::state::prepare_fresh_bodies(&mut outcomes);
                    }
                    Delivery::Snapshot(outcomes)
                }
                Err(item) => Delivery::Failed(item),
            },
            Err(e) if e.is_not_found() => {
                if plan.optional {
                    tracing::info!(
                        "catalog: {}:{} does not exist (presence: optional); nothing read from it",
                        plan.type_,
                        plan.target
                    );
                    Delivery::Gone(None)
                } else {
                    Delivery::Gone(Some(error_item(e.error_name(), e.to_string())))
                }
            }
            Err(e) => Delivery::Failed(error_item(e.error_name(), e.to_string())),
        }
    };
    deps.sort();
    deps.dedup();
    SourceRun {
        key: plan.key.clone(),
        parent: Some(parent.to_owned()),
        location_type: plan.type_.clone(),
        location_target: plan.target.clone(),
        deps,
        delivery,
        errors: Vec::new(),
    }
}

/// Processes one Location entity: expands its targets, drops sources it
/// no longer leads to, reads the rest. Returns the Location entities to
/// process next.
async fn process_location(
    catalog: &Catalog,
    location_ref: &str,
    reread_all: bool,
    only: Option<&HashSet<PathBuf>>,
) -> Vec<String> {
    let value = {
        let state = catalog.read_state();
        match state.index.get_by_ref(location_ref) {
            Some(rec) => rec.value(),
            None => return Vec::new(),
        }
    };
    let r = location_ref.to_owned();
    let Ok((plans, patterns)) = tokio::task::spawn_blocking(move || plan_reads(&r, &value)).await
    else {
        return Vec::new();
    };
    let watcher = {
        let mut watches = watch_state(catalog)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        watches.patterns.insert(location_ref.to_owned(), patterns);
        watches.watcher.clone()
    };
    // Watch the targets before reading them: a file that changes or goes
    // while the first ingest is still running must not be missed until the
    // next refresh.
    if let Some(watcher) = watcher {
        let me = catalog.clone();
        let _ = tokio::task::spawn_blocking(move || reconcile_watches(&me, &watcher)).await;
    }
    let desired: HashSet<&str> = plans.iter().map(|p| p.key.as_str()).collect();
    let (existing, deps_of): (HashSet<String>, HashMap<String, Vec<String>>) = {
        let state = catalog.read_state();
        let keys: HashSet<String> = state
            .children
            .get(location_ref)
            .map(|s| s.iter().map(|k| k.to_string()).collect())
            .unwrap_or_default();
        let deps = keys
            .iter()
            .filter_map(|k| {
                state
                    .sources
                    .get(k.as_str())
                    .map(|s| (k.clone(), s.stored.deps.clone()))
            })
            .collect();
        (keys, deps)
    };
    for gone in existing.iter().filter(|k| !desired.contains(k.as_str())) {
        let orphans = catalog.inner.config.orphan_strategy;
        let key = gone.clone();
        let me = catalog.clone();
        let _ = tokio::task::spawn_blocking(move || {
            writes::commit_plan(
                &me,
                |s| s.plan_source_removal(&key, orphans),
                |_| {},
                |_| {},
            )
        })
        .await;
    }
    let todo: Vec<ReadPlan> = plans
        .into_iter()
        .filter(|p| {
            reread_all
                || !existing.contains(&p.key)
                || only.is_some_and(|paths| {
                    paths.contains(Path::new(&p.target))
                        || deps_of
                            .get(&p.key)
                            .is_some_and(|d| d.iter().any(|d| paths.contains(Path::new(d))))
                })
        })
        .collect();
    let todo = leased(catalog, location_ref, todo).await;
    catalog
        .inner
        .reads_planned
        .fetch_add(todo.len(), Ordering::SeqCst);
    // A pipeline: readers (one per core) parse sources while a single
    // committer stores them, so reading never waits for the writer lock.
    // A reader hands its run over before giving up its permit, so at
    // most `parallel` runs wait in the queue and memory stays bounded.
    let parallel = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 4);
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel));
    let (runs, mut ready) = tokio::sync::mpsc::channel::<SourceRun>(parallel);
    let me = catalog.clone();
    let committer = tokio::task::spawn_blocking(move || {
        let mut next = Vec::new();
        while let Some(run) = ready.blocking_recv() {
            let applied = writes::commit_run(&me, run);
            me.inner.reads_done.fetch_add(1, Ordering::SeqCst);
            next.extend(if reread_all {
                applied.all_locations
            } else {
                applied.changed_locations
            });
        }
        next
    });
    let mut set = tokio::task::JoinSet::new();
    for plan in todo {
        let me = catalog.clone();
        let parent = location_ref.to_owned();
        let runs = runs.clone();
        let permit = semaphore.clone().acquire_owned().await;
        set.spawn_blocking(move || {
            let _permit = permit;
            let run = run_read(&me, &plan, &parent);
            let _ = runs.blocking_send(run);
        });
    }
    drop(runs);
    while set.join_next().await.is_some() {}
    committer.await.unwrap_or_else(|e| {
        // Its runs were dropped, not stored: say so instead of nothing.
        tracing::error!("catalog: the writer stopped while reading {location_ref}: {e}");
        Vec::new()
    })
}

/// The reads this process may do now when other processes share the store:
/// those whose lease it holds. The others wait in `Inner::waiting` for
/// [`take_over_waiting`].
async fn leased(catalog: &Catalog, location_ref: &str, todo: Vec<ReadPlan>) -> Vec<ReadPlan> {
    let Some(leases) = catalog.inner.leases.get().cloned() else {
        return todo;
    };
    if todo.is_empty() {
        return todo;
    }
    let granted = acquire(leases, todo.iter().map(|p| p.key.clone()).collect()).await;
    let mut waiting = catalog
        .inner
        .waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut mine = Vec::with_capacity(granted.len());
    for plan in todo {
        if granted.contains(&plan.key) {
            waiting.remove(&plan.key);
            mine.push(plan);
        } else {
            waiting.insert(
                plan.key.clone(),
                (location_ref.to_owned(), plan.target.clone()),
            );
        }
    }
    mine
}

/// The leases of `keys` this process holds now (taken off the async
/// threads: it is a round trip to the store).
async fn acquire(
    leases: Arc<dyn crate::store::SourceLeases>,
    keys: Vec<String>,
) -> HashSet<String> {
    tokio::task::spawn_blocking(move || leases.acquire(&keys))
        .await
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// Reads the waiting sources whose lease this process can now take (their
/// holder died, or let them go).
async fn take_over_waiting(catalog: &Catalog) {
    let Some(leases) = catalog.inner.leases.get().cloned() else {
        return;
    };
    let waiting: Vec<(String, (String, String))> = catalog
        .inner
        .waiting
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if waiting.is_empty() {
        return;
    }
    let granted = acquire(leases, waiting.iter().map(|(k, _)| k.clone()).collect()).await;
    if granted.is_empty() {
        return;
    }
    // No longer waiting: planning puts back any still leased elsewhere, and
    // a target that has gone meanwhile is not retried for ever.
    {
        let mut still = catalog
            .inner
            .waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        still.retain(|k, _| !granted.contains(k));
    }
    let _busy = Busy::new(catalog);
    // By parent Location entity: one planning pass each, reading only the
    // taken-over targets.
    let mut by_parent: HashMap<String, HashSet<PathBuf>> = HashMap::new();
    for (_, (parent, target)) in waiting.into_iter().filter(|(k, _)| granted.contains(k)) {
        by_parent
            .entry(parent)
            .or_default()
            .insert(PathBuf::from(target));
    }
    tracing::info!(
        sources = granted.len(),
        "catalog: taking over sources whose lease was free"
    );
    for (parent, paths) in by_parent {
        let next = process_location(catalog, &parent, false, Some(&paths)).await;
        for n in next {
            process_location_tree(catalog, &n, false).await;
        }
    }
}

/// Re-reads one source now.
pub(crate) async fn reread_source(catalog: &Catalog, key: &str) {
    let _busy = Busy::new(catalog);
    if let Some(provider) = key.strip_prefix("provider:") {
        let _ = catalog.inner.provider_refresh.send(provider.to_owned());
        return;
    }
    if key.starts_with("config:") || key.starts_with("location:") {
        sync_all(catalog).await;
        return;
    }
    let Some(stored) = catalog
        .read_state()
        .sources
        .get(key)
        .map(|s| s.stored.clone())
    else {
        return;
    };
    let Some(parent) = stored.parent.clone() else {
        return;
    };
    // Re-plan through the parent so the read context (origin) is right.
    let next = process_location(
        catalog,
        &parent,
        false,
        Some(&HashSet::from([PathBuf::from(&stored.location_target)])),
    )
    .await;
    for n in next {
        process_location_tree(catalog, &n, false).await;
    }
}

async fn on_paths_changed(catalog: &Catalog, paths: HashSet<PathBuf>) {
    let _busy = Busy::new(catalog);
    let locations: Vec<String> = {
        let watches = watch_state(catalog)
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        watches
            .patterns
            .iter()
            .filter(|(_, ps)| ps.iter().any(|p| paths.iter().any(|path| p.matches(path))))
            .map(|(r, _)| r.clone())
            .collect()
    };
    let mut handled_parents = HashSet::new();
    for r in &locations {
        handled_parents.insert(r.clone());
        let next = process_location(catalog, r, false, Some(&paths)).await;
        for n in next {
            process_location_tree(catalog, &n, false).await;
        }
    }
    // Sources depending on a changed file through a placeholder.
    let parents: HashSet<String> = {
        let state = catalog.read_state();
        state
            .sources
            .values()
            .filter(|s| {
                s.stored.location_type == "file"
                    && s.stored.deps.iter().any(|d| paths.contains(Path::new(d)))
            })
            .filter_map(|s| s.stored.parent.clone())
            .filter(|p| !handled_parents.contains(p))
            .collect()
    };
    for p in parents {
        let next = process_location(catalog, &p, false, Some(&paths)).await;
        for n in next {
            process_location_tree(catalog, &n, false).await;
        }
    }
}

fn reconcile_watches(catalog: &Catalog, watcher: &SharedWatcher) {
    let mut guard = watcher.lock().unwrap_or_else(|e| e.into_inner());
    let Some(w) = guard.as_mut() else { return };
    let mut desired: BTreeMap<PathBuf, RecursiveMode> = BTreeMap::new();
    let mut watches = watch_state(catalog)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    {
        let state = catalog.read_state();
        watches
            .patterns
            .retain(|r, _| state.index.id_of_ref(r).is_some());
        for s in state.sources.values() {
            if s.stored.location_type != "file" {
                continue;
            }
            for d in s
                .stored
                .deps
                .iter()
                .chain(std::iter::once(&s.stored.location_target))
            {
                if let Some(parent) = Path::new(d).parent() {
                    desired
                        .entry(parent.to_path_buf())
                        .or_insert(RecursiveMode::NonRecursive);
                }
            }
        }
    }
    for ps in watches.patterns.values() {
        for p in ps {
            let (dir, mode) = p.watch();
            let entry = desired.entry(dir).or_insert(mode);
            if mode == RecursiveMode::Recursive {
                *entry = RecursiveMode::Recursive;
            }
        }
    }
    // Directories that do not exist yet: watch the nearest existing parent.
    let mut effective: BTreeMap<PathBuf, RecursiveMode> = BTreeMap::new();
    for (dir, mode) in desired {
        let mut d = dir.as_path();
        let mut mode = mode;
        while !d.exists() {
            match d.parent() {
                Some(p) => {
                    d = p;
                    mode = RecursiveMode::NonRecursive;
                }
                None => break,
            }
        }
        let entry = effective.entry(d.to_path_buf()).or_insert(mode);
        if mode == RecursiveMode::Recursive {
            *entry = RecursiveMode::Recursive;
        }
    }
    // Drop directories already covered by a recursive watch above them.
    let recursive: Vec<PathBuf> = effective
        .iter()
        .filter(|(_, m)| **m == RecursiveMode::Recursive)
        .map(|(d, _)| d.clone())
        .collect();
    effective.retain(|d, _| !recursive.iter().any(|r| d != r && d.starts_with(r)));
    let current = std::mem::take(&mut watches.watched);
    for (dir, mode) in &current {
        if effective.get(dir) != Some(mode) {
            let _ = w.unwatch(dir);
        }
    }
    for (dir, mode) in effective {
        if current.get(&dir) == Some(&mode) {
            watches.watched.insert(dir, mode);
            continue;
        }
        match w.watch(&dir, mode) {
            Ok(()) => {
                watches.watched.insert(dir, mode);
            }
            Err(e) => tracing::warn!("catalog: cannot watch {}: {e}", dir.display()),
        }
    }
}

/// Reads a location without storing anything: the entities it would
/// produce (its Location entity first), or the problems found.
pub(crate) async fn dry_run(
    catalog: &Catalog,
    type_: &str,
    target: &str,
) -> Result<Vec<Value>, CatalogError> {
    let spec = LocationSpec::new(type_, target);
    let mut root = location_entity(&spec, None).map_err(|e| CatalogError::Input(e.to_string()))?;
    root.set_default_namespace();
    let me = catalog.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let mut problems = Vec::new();
        let mut queue = vec![(root.to_value(), 0usize)];
        let max_depth = me.inner.config.limits.max_location_depth;
        while let Some((value, depth)) = queue.pop() {
            let r = format!(
                "location:{}/{}",
                value["metadata"]["namespace"].as_str().unwrap_or("default"),
                value["metadata"]["name"].as_str().unwrap_or("")
            )
            .to_lowercase();
            out.push(value.clone());
            if depth >= max_depth || out.len() > 10_000 {
                continue;
            }
            let (plans, _) = plan_reads(&r, &value);
            for plan in plans {
                let run = run_read(&me, &plan, &r);
                match run.delivery {
                    Delivery::Snapshot(outcomes) => {
                        for o in outcomes {
                            match o {
                                Outcome::Entity(e) => {
                                    let v = e.entity.to_value();
                                    if e.entity.kind.eq_ignore_ascii_case("location") {
                                        queue.push((v, depth + 1));
                                    } else {
                                        out.push(v);
                                    }
                                }
                                Outcome::Failed { item, .. } => problems.push(item.message),
                            }
                        }
                    }
                    Delivery::Failed(item) | Delivery::Gone(Some(item)) => {
                        problems.push(item.message)
                    }
                    Delivery::Gone(None) => {}
                }
            }
        }
        if problems.is_empty() {
            Ok(out)
        } else {
            Err(CatalogError::Input(problems.join("; ")))
        }
    })
    .await
    .map_err(|e| CatalogError::Input(e.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reading_a_file_is_not_a_change() {
        use notify::EventKind;
        use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind, RemoveKind};
        assert!(!changes_content(&EventKind::Access(AccessKind::Open(
            AccessMode::Any
        ))));
        assert!(!changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Read
        ))));
        assert!(changes_content(&EventKind::Access(AccessKind::Close(
            AccessMode::Write
        ))));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Any)));
        assert!(changes_content(&EventKind::Create(CreateKind::File)));
        assert!(changes_content(&EventKind::Remove(RemoveKind::File)));
    }
}
