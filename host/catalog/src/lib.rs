//! Portal's software catalog.
//!
//! Start at [`Catalog`], a façade over one module per job:
//!
//! - **Start-up** (`loading`): opens the store and rebuilds the in-memory
//!   indexes from it.
//! - **Reads** (`reads`): entities by name, uid and refs, queries, facets,
//!   ancestry, status. Every read that can show an entity takes an
//!   [`Access`] (what the asker may see), applied as a bitmap intersection.
//! - **Writes** (`writes`): the single writer that applies a source snapshot
//!   (plan against the state, apply to memory, one atomic store commit),
//!   registered locations, deletes, refreshes, plugin providers.
//! - **Freshness** (`freshness`): reading locations and the Location entities
//!   they lead to, the refresh loop, file watching, removal (or orphaning)
//!   of entities no longer emitted. Every served entity carries
//!   `status.lastConfirmedAt`: when its source last confirmed it.
//! - **Validation** (`validation`, [`Validator`]): ingestion's checks with
//!   nothing stored (`validate-entity`, `analyze-location`,
//!   `portal catalog validate`).
//!
//! Underneath: `ingest` turns files and URLs into validated entities (YAML
//! under budgets, `$text`/`$json`/`$yaml`, location annotations, catalog
//! rules); `state` diffs a source's snapshot against what it emitted before;
//! `index` holds entity bodies (LZ4-compressed against a dictionary of
//! typical entities, `body`) and an inverted index of the flattened entity
//! that answers filters, predicates and facets with bitmap operations;
//! [`store`] is the narrow [`CatalogStore`] trait (load everything, commit
//! atomic change sets) and its sled implementation, so one source snapshot
//! is one commit and a crash never leaves half a file ingested.

mod access;
mod body;
mod catalog;
pub mod config;
mod error;
mod freshness;
mod index;
mod ingest;
mod loading;
mod postings;
mod query;
mod reads;
mod state;
pub mod store;
use portal_types::time;
mod types;
mod validation;
mod writes;

pub use access::Access;
pub use ingest::read::ReadError;
pub use ingest::tree::RemoteTree;

/// A YAML file's documents read the way ingestion reads them (under the
/// configured budget, so a hostile file cannot exhaust memory): each
/// document's first line and its JSON, or why it does not parse. For tools
/// that check files of other kinds (`portal template check`).
pub fn read_yaml_documents(
    text: &str,
    limits: &config::LimitsConfig,
) -> Vec<(usize, Result<serde_json::Value, String>)> {
    ingest::yaml::split_documents(text)
        .iter()
        .map(|doc| {
            (
                doc.line,
                ingest::yaml::parse_document(doc, limits).map_err(|e| e.to_string()),
            )
        })
        .collect()
}
pub use catalog::Catalog;
pub use config::{CatalogConfig, OrphanStrategy};
pub use error::CatalogError;
pub use query::{EntityQuery, FacetCount, FullTextFilter, OrderField, Page, Position, SortOrder};
pub use store::{CatalogStore, SledStore, SourceLeases, StoreError};
pub use time::Timestamp;
pub use types::{
    AddLocation, AncestryItem, CatalogEvent, CatalogStats, EntityDoc, EntityHandle, LocationInfo,
    ProcessingProblem, ProvidedDocument, QueryResult, SourceInfo,
};
pub use validation::{CheckedDocument, UncheckedFile, Validator};
