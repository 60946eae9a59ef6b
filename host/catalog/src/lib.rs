//! Portal's software catalog.
//!
//! - **Store** ([`store`]): a narrow [`CatalogStore`] trait (load everything,
//!   commit atomic change sets) and its sled implementation. One source
//!   snapshot (a file, a location, a provider run) is one atomic commit, so a
//!   crash never leaves half a file ingested.
//! - **Indexes** (in memory, rebuilt from the store at start): entities keep
//!   their final JSON as bytes; an inverted index of the flattened entity
//!   answers filters, predicates and facets with bitmap operations.
//! - **Ingestion** ([`ingest`], `engine`): `file` (file, directory, glob) and
//!   `url` locations, multi-document YAML under budgets, `$text`/`$json`/
//!   `$yaml`, location annotations, catalog rules, Location entities leading to
//!   more locations, plugin entity providers; errors become Backstage-shaped
//!   `status.items` on the entity or Location entity concerned.
//! - **Freshness**: a refresh loop, file watching (re-read within ~2 s), and
//!   removal (or orphaning) of entities no longer emitted. Every served entity
//!   carries `status.lastConfirmedAt`: when its source last confirmed it.
//!
//! Start at [`Catalog`].

pub mod body;
pub mod catalog;
pub mod config;
mod engine;
pub mod error;
pub mod index;
pub mod ingest;
pub mod postings;
pub mod query;
mod state;
pub mod store;
pub mod time;

pub use catalog::{
    Access, AddLocation, AncestryItem, Catalog, CatalogEvent, CatalogStats, EntityDoc,
    EntityHandle, LocationInfo, ProcessingProblem, ProvidedDocument, QueryResult, SourceInfo,
};
pub use config::{CatalogConfig, OrphanStrategy};
pub use error::CatalogError;
pub use query::{EntityQuery, FacetCount, FullTextFilter, OrderField, Page, Position, SortOrder};
pub use store::{CatalogStore, SledStore, StoreError};
pub use time::Timestamp;
