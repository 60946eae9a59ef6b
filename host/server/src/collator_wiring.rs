//! Plugins feed the search: every search collator (`portal:plugin@1.3.0`)
//! is called on its schedule and what it returns replaces its document
//! type's documents in the search ([`CollatedSink`]). A plugin that loads
//! or is upgraded is collated at once; one that is removed takes its
//! documents with it. A failed collation keeps the last documents and is
//! logged (and counted on the plugin's status by the host).

use portal_plugin_host::PluginHost;
use portal_plugin_host::model::SearchDocument;
use portal_types::PluginEventKind;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often a collator that leaves it to the portal is called.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(300);

/// Where collated documents go (the search index).
pub trait CollatedSink: Send + Sync + 'static {
    /// Replaces every document of `document_type` (titled `title` on the
    /// search page) with `documents`.
    fn replace(&self, document_type: &str, title: &str, documents: Vec<SearchDocument>);
    /// Removes every document of `document_type`.
    fn remove(&self, document_type: &str);
    /// The document types it holds collated documents of.
    fn types(&self) -> Vec<String>;
}

/// The search index is where they go.
impl CollatedSink for portal_search::Search {
    fn replace(&self, document_type: &str, _title: &str, documents: Vec<SearchDocument>) {
        self.replace_collated(
            document_type,
            documents
                .into_iter()
                .map(|d| portal_search::CollatedDocument {
                    title: d.title,
                    text: d.text,
                    location: d.location,
                    fields: d.fields,
                })
                .collect(),
        );
    }

    fn remove(&self, document_type: &str) {
        self.replace_collated(document_type, Vec::new());
    }

    fn types(&self) -> Vec<String> {
        self.collated_types()
    }
}

/// One collator to run: its plugin, title and interval.
#[derive(Clone, PartialEq)]
struct Collator {
    plugin: String,
    title: String,
    interval: Duration,
}

/// The collators present, by document type. A type claimed by two plugins
/// goes to the first by name; the other is logged and not run.
fn present(plugins: &PluginHost, default_interval: Duration) -> BTreeMap<String, Collator> {
    let mut all = plugins.collators();
    all.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = BTreeMap::new();
    for (plugin, info) in all {
        let collator = Collator {
            plugin: plugin.clone(),
            title: info.title,
            interval: match info.refresh_interval_seconds {
                0 => default_interval,
                n => Duration::from_secs(u64::from(n)),
            },
        };
        if let Some(first) = out.get(&info.document_type) {
            let first: &Collator = first;
            tracing::warn!(
                plugin = %plugin,
                document_type = %info.document_type,
                "search: `{}` already collates this document type; this plugin's collator is not run",
                first.plugin
            );
            continue;
        }
        out.insert(info.document_type, collator);
    }
    out
}

/// Runs the collators for as long as the process runs.
pub fn spawn(
    plugins: PluginHost,
    sink: Arc<dyn CollatedSink>,
    default_interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut events = plugins.subscribe();
        plugins.wait_loaded().await;
        let mut collators = present(&plugins, default_interval);
        // Documents of plugins removed while the portal was down.
        for stale in sink.types() {
            if !collators.contains_key(&stale) {
                tracing::info!(document_type = %stale, "search: no plugin collates this type any more; its documents go");
                sink.remove(&stale);
            }
        }
        let mut due: HashMap<String, Instant> = collators
            .keys()
            .map(|t| (t.clone(), Instant::now()))
            .collect();
        loop {
            let now = Instant::now();
            let ready: Vec<String> = due
                .iter()
                .filter(|(_, at)| **at <= now)
                .map(|(t, _)| t.clone())
                .collect();
            for document_type in ready {
                let Some(collator) = collators.get(&document_type).cloned() else {
                    due.remove(&document_type);
                    continue;
                };
                collate(&plugins, &*sink, &document_type, &collator).await;
                due.insert(document_type, Instant::now() + collator.interval);
            }
            let next = due
                .values()
                .min()
                .copied()
                .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
            tokio::select! {
                _ = tokio::time::sleep_until(next) => {}
                event = events.recv() => {
                    let changed_plugin = match event {
                        Ok(event) if matches!(
                            event.kind,
                            PluginEventKind::Loaded | PluginEventKind::Upgraded | PluginEventKind::Unloaded
                        ) => event.plugin,
                        Ok(_) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => None,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    };
                    let now_present = present(&plugins, default_interval);
                    for gone in collators.keys().filter(|t| !now_present.contains_key(*t)) {
                        tracing::info!(document_type = %gone, "search: collator removed; its documents go");
                        sink.remove(gone);
                        due.remove(gone);
                    }
                    for (document_type, collator) in &now_present {
                        let fresh = collators.get(document_type) != Some(collator)
                            || changed_plugin.as_deref() == Some(collator.plugin.as_str());
                        if fresh {
                            due.insert(document_type.clone(), Instant::now());
                        }
                    }
                    collators = now_present;
                }
            }
        }
    })
}

async fn collate(
    plugins: &PluginHost,
    sink: &dyn CollatedSink,
    document_type: &str,
    collator: &Collator,
) {
    use tracing::Instrument;
    let span = tracing::info_span!("collate", plugin = %collator.plugin, %document_type);
    let started = std::time::Instant::now();
    let result = plugins
        .collate(&collator.plugin, document_type)
        .instrument(span.clone())
        .await;
    let _enter = span.enter();
    match result {
        Ok(documents) => {
            tracing::info!(
                documents = documents.len(),
                elapsed = ?started.elapsed(),
                "search: collated"
            );
            sink.replace(document_type, &collator.title, documents);
        }
        Err(e) => tracing::warn!("search: collation failed, the last documents stay: {e}"),
    }
}
