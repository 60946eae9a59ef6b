//! Built sites, stored (sled, its own database in the data directory).
//!
//! Three trees: `sites` holds one [`DocsSite`] per documented entity (name,
//! nav, page list, problems, build time: the nav is kept once per site, not
//! in every page, which is most of MkDocs' 423 MB for 1,000 pages), `pages`
//! one compressed [`DocsPage`] per page, `assets` the other files' bytes.
//! Page and asset keys carry the site's generation: a new build is written
//! under the next generation, then the site record is switched to it in one
//! insert, then the old generation is removed. A reader therefore always sees
//! one whole build, and a build that fails half-way leaves the last one
//! served.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use portal_types::docs::{
    DocsHeading, DocsNavItem, DocsPage, DocsPageEntry, DocsProblem, DocsSeverity, DocsSite,
};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{NavItem, Severity, Site};

/// A store failure.
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("techdocs store: {0}")]
    Sled(#[from] sled::Error),
    #[error("techdocs store: a record does not decode: {0}")]
    Decode(String),
}

/// The site record as stored: the shared view plus the generation its pages
/// and assets are kept under.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SiteRecord {
    generation: u64,
    site: DocsSite,
}

/// A site record as kept in memory.
#[derive(Clone)]
struct Decoded {
    generation: u64,
    site: Arc<DocsSite>,
}

/// The stored sites. Cheap to clone.
#[derive(Clone)]
pub struct SiteStore {
    db: sled::Db,
    sites: sled::Tree,
    pages: sled::Tree,
    assets: sled::Tree,
    /// Site records as decoded, so serving a page does not decode its site's
    /// page list and nav again (a 1,000-page site's record is ~100 KB).
    records: Arc<Mutex<HashMap<String, Decoded>>>,
}

/// A site's key: `namespace/kind/name`, lowercased (Backstage's storage
/// prefix).
pub fn site_key(namespace: &str, kind: &str, name: &str) -> String {
    format!("{namespace}/{kind}/{name}").to_lowercase()
}

fn item_key(site: &str, generation: u64, path: &str) -> Vec<u8> {
    let mut key = generation_prefix(site, generation);
    key.extend_from_slice(path.as_bytes());
    key
}

fn generation_prefix(site: &str, generation: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(site.len() + 10);
    key.extend_from_slice(site.as_bytes());
    key.push(0);
    key.extend_from_slice(&generation.to_be_bytes());
    key.push(0);
    key
}

fn site_prefix(site: &str) -> Vec<u8> {
    let mut key = site.as_bytes().to_vec();
    key.push(0);
    key
}

impl SiteStore {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: &Path) -> Result<SiteStore, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Sled(e.into()))?;
        let db = sled::Config::new()
            .path(dir)
            // Pages are read far more than written; a small cache is enough
            // since the hot ones are small.
            .cache_capacity(32 * 1024 * 1024)
            .open()?;
        Ok(SiteStore {
            sites: db.open_tree("sites")?,
            pages: db.open_tree("pages")?,
            assets: db.open_tree("assets")?,
            db,
            records: Arc::default(),
        })
    }

    /// Stores a freshly built site under `key`, replacing the previous one.
    pub fn put(
        &self,
        key: &str,
        site: &Site,
        etag: &str,
        build_timestamp: u64,
    ) -> Result<DocsSite, StoreError> {
        let previous = self.record(key)?;
        let generation = previous.as_ref().map_or(1, |r| r.generation + 1);
        // Anything left over from a build that stopped half-way.
        self.remove_generation(key, generation)?;
        let mut pages = sled::Batch::default();
        for page in &site.pages {
            let stored = DocsPage {
                path: page.path.clone(),
                title: page.title.clone(),
                html: page.html.clone(),
                toc: page
                    .toc
                    .iter()
                    .map(|h| DocsHeading {
                        level: h.level,
                        id: h.id.clone(),
                        title: h.title.clone(),
                    })
                    .collect(),
                text: page.text.clone(),
                edit_url: page.edit_url.clone(),
            };
            let json =
                serde_json::to_vec(&stored).map_err(|e| StoreError::Decode(e.to_string()))?;
            pages.insert(
                item_key(key, generation, &page.path),
                lz4_flex::compress_prepend_size(&json),
            );
        }
        self.pages.apply_batch(pages)?;
        let mut assets = sled::Batch::default();
        for asset in &site.assets {
            assets.insert(
                item_key(key, generation, &asset.path),
                asset.bytes.as_slice(),
            );
        }
        self.assets.apply_batch(assets)?;
        let docs = DocsSite {
            site_name: site.name.clone(),
            site_description: site.description.clone(),
            repo_url: site.repo_url.clone(),
            edit_uri: site.edit_uri.clone(),
            nav: site.nav.iter().map(nav_item).collect(),
            pages: site
                .pages
                .iter()
                .map(|p| DocsPageEntry {
                    path: p.path.clone(),
                    title: p.title.clone(),
                    source: p.source.clone(),
                })
                .collect(),
            assets: site
                .assets
                .iter()
                .map(|a| (a.path.clone(), a.bytes.len() as u64))
                .collect(),
            problems: site.problems.iter().map(problem).collect(),
            build_timestamp,
            etag: etag.to_owned(),
            includes: site.includes.clone(),
        };
        let record = SiteRecord {
            generation,
            site: docs.clone(),
        };
        let json = serde_json::to_vec(&record).map_err(|e| StoreError::Decode(e.to_string()))?;
        {
            // Under the cache's lock, so no reader caches the old record
            // after this switch.
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            self.sites.insert(key.as_bytes(), json)?;
            records.remove(key);
        }
        if let Some(previous) = previous {
            self.remove_generation(key, previous.generation)?;
        }
        Ok(docs)
    }

    fn record(&self, key: &str) -> Result<Option<Decoded>, StoreError> {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(record) = records.get(key) {
            return Ok(Some(record.clone()));
        }
        let Some(bytes) = self.sites.get(key.as_bytes())? else {
            return Ok(None);
        };
        let stored = serde_json::from_slice::<SiteRecord>(&bytes)
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        let record = Decoded {
            generation: stored.generation,
            site: Arc::new(stored.site),
        };
        records.insert(key.to_owned(), record.clone());
        Ok(Some(record))
    }

    fn remove_generation(&self, key: &str, generation: u64) -> Result<(), StoreError> {
        self.remove_items(&generation_prefix(key, generation))
    }

    /// Removes the pages and assets whose keys start with `prefix`.
    fn remove_items(&self, prefix: &[u8]) -> Result<(), StoreError> {
        for tree in [&self.pages, &self.assets] {
            let mut batch = sled::Batch::default();
            for k in tree.scan_prefix(prefix).keys() {
                batch.remove(k?);
            }
            tree.apply_batch(batch)?;
        }
        Ok(())
    }

    /// A stored site (everything but page bodies and asset bytes).
    pub fn site(&self, key: &str) -> Result<Option<Arc<DocsSite>>, StoreError> {
        Ok(self.record(key)?.map(|r| r.site))
    }

    /// A page by site path (`guide/setup/`, `""` for home).
    pub fn page(&self, key: &str, path: &str) -> Result<Option<DocsPage>, StoreError> {
        let Some(record) = self.record(key)? else {
            return Ok(None);
        };
        let Some(bytes) = self.pages.get(item_key(key, record.generation, path))? else {
            return Ok(None);
        };
        let json = lz4_flex::decompress_size_prepended(&bytes)
            .map_err(|e| StoreError::Decode(e.to_string()))?;
        serde_json::from_slice(&json)
            .map(Some)
            .map_err(|e| StoreError::Decode(e.to_string()))
    }

    /// An asset's bytes by path relative to docs_dir.
    pub fn asset(&self, key: &str, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(record) = self.record(key)? else {
            return Ok(None);
        };
        Ok(self
            .assets
            .get(item_key(key, record.generation, path))?
            .map(|v| v.to_vec()))
    }

    /// Removes a site and everything of it.
    pub fn remove(&self, key: &str) -> Result<(), StoreError> {
        {
            let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
            self.sites.remove(key.as_bytes())?;
            records.remove(key);
        }
        self.remove_items(&site_prefix(key))
    }

    /// The keys of every stored site.
    pub fn keys(&self) -> Result<Vec<String>, StoreError> {
        self.sites
            .iter()
            .keys()
            .map(|k| Ok(String::from_utf8_lossy(&k?).into_owned()))
            .collect()
    }

    /// Bytes kept: keys and values of every tree (what the store holds, before
    /// sled's own overhead).
    pub fn stored_bytes(&self) -> u64 {
        [&self.sites, &self.pages, &self.assets]
            .iter()
            .map(|tree| {
                tree.iter()
                    .filter_map(Result::ok)
                    .map(|(k, v)| (k.len() + v.len()) as u64)
                    .sum::<u64>()
            })
            .sum()
    }

    /// The database's size on disk, as sled counts it.
    pub fn size_on_disk(&self) -> u64 {
        self.db.size_on_disk().unwrap_or(0)
    }

    /// Writes everything to disk.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }
}

fn nav_item(item: &NavItem) -> DocsNavItem {
    match item {
        NavItem::Page { title, path } => DocsNavItem::Page {
            title: title.clone(),
            path: path.clone(),
        },
        NavItem::Section { title, children } => DocsNavItem::Section {
            title: title.clone(),
            children: children.iter().map(nav_item).collect(),
        },
        NavItem::Link { title, url } => DocsNavItem::Link {
            title: title.clone(),
            url: url.clone(),
        },
    }
}

/// A builder problem in the stored shape.
pub fn problem(p: &crate::Problem) -> DocsProblem {
    DocsProblem {
        severity: match p.severity {
            Severity::Warning => DocsSeverity::Warning,
            Severity::Error => DocsSeverity::Error,
        },
        place: p.place.clone(),
        message: p.message.clone(),
    }
}
