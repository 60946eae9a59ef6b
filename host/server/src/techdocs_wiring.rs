//! TechDocs meets the catalog: which entities are documented and where their
//! sources are. Every catalog change (debounced) lists the entities with a
//! `backstage.io/techdocs-ref` annotation and hands their resolved sources to
//! [`TechDocs::set_sources`], which builds what is new or changed. The
//! builder knows nothing of the catalog; this is the only place they meet.

use portal_catalog::{Access, Catalog, EntityQuery, Page};
use portal_catalog_model::{Predicate, SerializedError, StatusItem, StatusLevel};
use portal_techdocs::{DocsSource, FetchedTree, TechDocs, TreeFetcher, site_key};
use portal_types::docs::{DOCS_STATUS_TYPE, DocsSeverity, DocsState, DocsStatus};
use serde_json::json;
use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

/// The annotation naming a documented entity's sources.
pub const TECHDOCS_REF: &str = "backstage.io/techdocs-ref";

/// At most this many of a build's problems are put on the entity (all are
/// on the Docs tab); one more item says how many were left out.
const MAX_STATUS_ITEMS: usize = 20;

/// Keeps the builder's list of sites in step with the catalog, and the
/// builds' errors and problems on their entities' `status.items`, for as
/// long as the process runs.
pub fn spawn(catalog: Catalog, docs: TechDocs) {
    {
        let (catalog, docs) = (catalog.clone(), docs.clone());
        tokio::spawn(async move {
            let mut changes = docs.subscribe();
            loop {
                let key = match changes.recv().await {
                    Ok(key) => vec![key],
                    // Missed some: attach every site's again.
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        docs.statuses().into_iter().map(|s| s.key).collect()
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                for key in key {
                    attach(&catalog, &key, docs.status(&key).as_ref());
                }
            }
        });
    }
    tokio::spawn(async move {
        let mut events = catalog.subscribe();
        reconcile(&catalog, &docs);
        loop {
            match events.recv().await {
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
            // A sync is many events in a row: settle, then look once.
            tokio::time::sleep(Duration::from_millis(100)).await;
            while events.try_recv().is_ok() {}
            reconcile(&catalog, &docs);
        }
    });
}

/// Puts a site's build errors and problems on its entity (or removes them).
fn attach(catalog: &Catalog, key: &str, status: Option<&DocsStatus>) {
    let mut parts = key.splitn(3, '/');
    let (Some(namespace), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let items = status.map(status_items).unwrap_or_default();
    catalog.attach_status(&format!("{kind}:{namespace}/{name}"), "techdocs", items);
}

/// A docs status as `status.items`: the failure or refusal, then each
/// problem of the site served.
pub fn status_items(status: &DocsStatus) -> Vec<StatusItem> {
    let item = |level, message: String, error: Option<SerializedError>| StatusItem {
        type_: DOCS_STATUS_TYPE.to_owned(),
        level,
        message,
        error,
        extra: Default::default(),
    };
    let mut items = Vec::new();
    let failure = status.error.clone().unwrap_or_default();
    match status.state {
        DocsState::Failed => items.push(item(
            StatusLevel::Error,
            format!("TechDocs: the last build failed (the previous site, if any, is still served): {failure}"),
            Some(SerializedError {
                name: "TechDocsBuildError".into(),
                message: failure,
                ..Default::default()
            }),
        )),
        DocsState::Refused => items.push(item(
            StatusLevel::Error,
            format!("TechDocs: not built: {failure}"),
            Some(SerializedError {
                name: "InputError".into(),
                message: failure,
                ..Default::default()
            }),
        )),
        DocsState::Pending | DocsState::Building | DocsState::Built => {}
    }
    for problem in status.problems.iter().take(MAX_STATUS_ITEMS) {
        let level = match problem.severity {
            DocsSeverity::Error => StatusLevel::Error,
            DocsSeverity::Warning => StatusLevel::Warning,
        };
        items.push(item(
            level,
            format!("TechDocs: {}: {}", problem.place, problem.message),
            None,
        ));
    }
    if status.problems.len() > MAX_STATUS_ITEMS {
        items.push(item(
            StatusLevel::Warning,
            format!(
                "TechDocs: {} more problems, listed on the entity's Docs tab",
                status.problems.len() - MAX_STATUS_ITEMS
            ),
            None,
        ));
    }
    items
}

/// What reconciling reads of an entity.
#[derive(serde::Deserialize)]
struct Documented {
    kind: String,
    metadata: DocumentedMetadata,
}

#[derive(serde::Deserialize)]
struct DocumentedMetadata {
    name: String,
    namespace: Option<String>,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

/// Every documented entity, with its source resolved.
fn reconcile(catalog: &Catalog, docs: &TechDocs) {
    let filter = Predicate::parse(
        &json!({ format!("metadata.annotations.{TECHDOCS_REF}"): { "$exists": true } }),
    )
    .expect("a valid predicate");
    let query = EntityQuery {
        filter: Some(filter),
        page: Page::Offset {
            offset: 0,
            limit: None,
        },
        ..Default::default()
    };
    let (handles, _) = catalog.query_handles(&query, &Access::all());
    let mut sources = HashMap::new();
    for handle in &handles {
        // The stored body, read into the four fields used: no relations or
        // status rendered, no full JSON tree built.
        let Ok(entity) = serde_json::from_slice::<Documented>(&catalog.stored_body(handle)) else {
            continue;
        };
        let annotations = &entity.metadata.annotations;
        let source = resolve(
            annotations.get(TECHDOCS_REF).map_or("", String::as_str),
            annotations
                .get("backstage.io/managed-by-location")
                .map_or("", String::as_str),
        );
        sources.insert(
            site_key(
                entity.metadata.namespace.as_deref().unwrap_or("default"),
                &entity.kind,
                &entity.metadata.name,
            ),
            source,
        );
    }
    tracing::debug!(sites = sources.len(), "techdocs: documented entities");
    docs.set_sources(sources);
}

/// Where a `techdocs-ref` points, given the entity's `managed-by-location`.
/// `dir:` is resolved against the folder of the catalog file the entity was
/// read from: on disk, the repository is the nearest enclosing folder with a
/// `.git` (else that folder) and the docs must stay inside it; for a file
/// read from a GitHub URL, the folder is downloaded (`…/blob/<ref>/svc/x.yaml`
/// with `dir:docs` is `…/tree/<ref>/svc/docs`), never above the repository.
/// `url:` names a folder to download (a GitHub folder URL or a `.tar.gz`).
pub fn resolve(techdocs_ref: &str, location: &str) -> DocsSource {
    let techdocs_ref = techdocs_ref.trim();
    if let Some(rel) = techdocs_ref.strip_prefix("dir:") {
        let rel = rel.trim();
        if rel.is_empty() || Path::new(rel).is_absolute() || rel.contains('\\') {
            return DocsSource::Refused(format!(
                "`{TECHDOCS_REF}: {techdocs_ref}`: the directory must be a relative path such as `dir:.`"
            ));
        }
        if let Some(file) = location.strip_prefix("file:") {
            let base = Path::new(file).parent().unwrap_or(Path::new("/"));
            return DocsSource::Local {
                repo_root: repository_root(base),
                docs_root: base.join(rel),
            };
        }
        if let Some(url) = location.strip_prefix("url:") {
            return match folder_beside(url, rel) {
                Some(url) => DocsSource::Remote { url },
                None => DocsSource::Refused(format!(
                    "`{TECHDOCS_REF}: {techdocs_ref}` is relative to the entity's location `{location}`, which is not a file of a GitHub repository (`https://<host>/<owner>/<repo>/blob/<ref>/<path>`) or leads out of it: use url: with the folder's own URL"
                )),
            };
        }
        return DocsSource::Refused(format!(
            "`{TECHDOCS_REF}: {techdocs_ref}` is relative to the entity's location `{location}`, which is neither a file nor a URL"
        ));
    }
    if let Some(url) = techdocs_ref.strip_prefix("url:") {
        let url = url.trim();
        return match url::Url::parse(url) {
            Ok(parsed) if matches!(parsed.scheme(), "http" | "https") => DocsSource::Remote {
                url: url.to_owned(),
            },
            _ => DocsSource::Refused(format!(
                "`{TECHDOCS_REF}: {techdocs_ref}`: `{url}` is not an http(s) URL"
            )),
        };
    }
    DocsSource::Refused(format!(
        "`{TECHDOCS_REF}: {techdocs_ref}` is neither dir:<path> nor url:<url>"
    ))
}

/// The folder URL `rel` names beside the GitHub file `file_url`, staying
/// inside its repository and ref.
fn folder_beside(file_url: &str, rel: &str) -> Option<String> {
    let file = url::Url::parse(file_url).ok()?;
    let segments: Vec<&str> = file.path_segments()?.collect();
    let [owner, repo, "blob", git_ref, path @ ..] = segments.as_slice() else {
        return None;
    };
    if path.is_empty() {
        return None;
    }
    let mut folder: Vec<&str> = path[..path.len() - 1].to_vec();
    for part in rel.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                folder.pop()?;
            }
            part => folder.push(part),
        }
    }
    let mut tree = file.clone();
    tree.set_query(None);
    tree.set_fragment(None);
    tree.path_segments_mut()
        .ok()?
        .clear()
        .extend([*owner, *repo, "tree", *git_ref])
        .extend(folder);
    Some(tree.to_string())
}

/// Downloads `url:` sources through the catalog's reading integrations.
pub struct CatalogTreeFetcher(pub Catalog);

impl TreeFetcher for CatalogTreeFetcher {
    fn fetch(
        &self,
        url: &str,
        max_bytes: u64,
    ) -> Pin<Box<dyn Future<Output = Result<FetchedTree, String>> + Send + 'static>> {
        let catalog = self.0.clone();
        let url = url.to_owned();
        Box::pin(async move {
            let tree = catalog
                .read_tree(&url, max_bytes, "the TechDocs limit max_total_bytes")
                .await
                .map_err(|e| e.to_string())?;
            Ok(FetchedTree {
                archive: tree.archive,
                strip: tree.strip,
                subpath: tree.subpath,
            })
        })
    }
}

fn repository_root(base: &Path) -> PathBuf {
    base.ancestors()
        .find(|dir| dir.join(".git").exists())
        .unwrap_or(base)
        .to_path_buf()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_refs_resolve_next_to_the_catalog_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("svc/catalog-info.yaml");
        let location = format!("file:{}", file.display());
        assert_eq!(
            resolve("dir:.", &location),
            DocsSource::Local {
                repo_root: dir.path().join("svc"),
                docs_root: dir.path().join("svc/."),
            }
        );
        std::fs::create_dir_all(dir.path().join(".git")).unwrap();
        assert!(matches!(
            resolve("dir:../docs", &location),
            DocsSource::Local { repo_root, .. } if repo_root == dir.path()
        ));
        for refused in ["dir:/etc", "dir:", "url:file:///etc", "url:", "x"] {
            assert!(
                matches!(resolve(refused, &location), DocsSource::Refused(_)),
                "{refused}"
            );
        }
        assert_eq!(
            resolve("url:https://github.com/o/r/tree/main/docs", &location),
            DocsSource::Remote {
                url: "https://github.com/o/r/tree/main/docs".into()
            }
        );
    }

    #[test]
    fn dir_refs_of_entities_read_from_github_are_downloaded() {
        let location = "url:https://github.com/o/r/blob/main/svc/catalog-info.yaml";
        let remote = |r: &str| match resolve(r, location) {
            DocsSource::Remote { url } => Some(url),
            _ => None,
        };
        assert_eq!(
            remote("dir:.").as_deref(),
            Some("https://github.com/o/r/tree/main/svc")
        );
        assert_eq!(
            remote("dir:../docs").as_deref(),
            Some("https://github.com/o/r/tree/main/docs")
        );
        assert_eq!(remote("dir:../../x"), None, "above the repository");
        assert!(matches!(
            resolve("dir:.", "url:https://example.com/catalog-info.yaml"),
            DocsSource::Refused(_)
        ));
    }
}
