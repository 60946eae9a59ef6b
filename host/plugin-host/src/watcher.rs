//! Watching the plugins directory. Events are debounced per file (a copy arrives
//! in several writes), then the file is looked at afresh: present means (re)load,
//! gone means unload. Temporary and hidden files are ignored, so writing
//! `.name.wasm.tmp` and renaming it into place is the cleanest way to install.

use crate::PluginHost;
use notify::{RecursiveMode, Watcher as _};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Quiet time after the last event on a file before it is loaded.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Stops watching when dropped.
pub struct DirectoryWatch {
    _watcher: notify::RecommendedWatcher,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for DirectoryWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a path names a plugin file the host should consider.
pub(crate) fn is_plugin_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    !name.starts_with('.') && name.ends_with(".wasm")
}

/// Whether an event can mean new content, a new name or a removal.
fn changes_content(kind: &notify::EventKind) -> bool {
    use notify::EventKind;
    use notify::event::{AccessKind, AccessMode, ModifyKind};
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other | EventKind::Any => false,
    }
}

pub(crate) fn watch(host: PluginHost, dir: &Path) -> notify::Result<DirectoryWatch> {
    let (tx, mut rx) = mpsc::unbounded_channel::<PathBuf>();
    let mut watcher =
        notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
            Ok(event) => {
                // Reading a file (our own loads included) raises access events;
                // reacting to those would reload forever.
                if !changes_content(&event.kind) {
                    return;
                }
                for path in event.paths {
                    if is_plugin_file(&path) {
                        let _ = tx.send(path);
                    }
                }
            }
            Err(e) => tracing::warn!("plugin directory watch error: {e}"),
        })?;
    watcher.watch(dir, RecursiveMode::NonRecursive)?;

    let task = tokio::spawn(async move {
        let mut pending: HashMap<PathBuf, Instant> = HashMap::new();
        loop {
            let next = pending.values().min().copied();
            tokio::select! {
                path = rx.recv() => match path {
                    Some(path) => { pending.insert(path, Instant::now() + DEBOUNCE); }
                    None => return,
                },
                _ = async { tokio::time::sleep_until(next.unwrap()).await }, if next.is_some() => {
                    let now = Instant::now();
                    let due: Vec<PathBuf> = pending
                        .iter()
                        .filter(|(_, at)| **at <= now)
                        .map(|(p, _)| p.clone())
                        .collect();
                    for path in due {
                        pending.remove(&path);
                        let host = host.clone();
                        tokio::spawn(async move { host.sync_file(&path).await });
                    }
                }
            }
        }
    });
    Ok(DirectoryWatch {
        _watcher: watcher,
        task,
    })
}
