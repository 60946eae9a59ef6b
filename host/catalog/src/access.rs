//! [`Access`]: what the asker may see. Every read of the catalog takes one.
//!
//! The server builds it in one place (`host/server/src/request.rs`), from
//! who is asking; the catalog applies it inside every read by intersecting
//! the bitmap of visible entities with the read's own bitmap, so a
//! restricted read stays a set operation over the index. `Access::all()`
//! costs nothing: no predicate is evaluated and no bitmap is built.

use crate::index::{Id, Index};
use crate::query;
use portal_catalog_model::Predicate;
use roaring::RoaringBitmap;

/// Who may see what: everything, or the entities matching a catalog
/// predicate (the same `by-query` language the REST API takes).
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// Entities outside this predicate are invisible (`None`: all visible).
    visible: Option<Predicate>,
}

impl Access {
    /// Sees everything.
    pub fn all() -> Access {
        Access { visible: None }
    }

    /// Sees only the entities matching `predicate`.
    pub fn only(predicate: Predicate) -> Access {
        Access {
            visible: Some(predicate),
        }
    }

    /// Whether this access sees everything.
    pub fn is_all(&self) -> bool {
        self.visible.is_none()
    }

    /// The predicate of what is visible (`None`: everything).
    pub fn predicate(&self) -> Option<&Predicate> {
        self.visible.as_ref()
    }

    /// The visible entities of `index`, or `None` when everything is
    /// (no work at all for [`Access::all`]).
    pub(crate) fn visible(&self, index: &Index) -> Option<RoaringBitmap> {
        self.visible.as_ref().map(|p| query::eval(index, p))
    }

    /// Narrows `set` to what is visible.
    pub(crate) fn restrict(&self, index: &Index, set: &mut RoaringBitmap) {
        if let Some(visible) = self.visible(index) {
            *set &= visible;
        }
    }
}

/// The visible entities, computed once for a read that looks at several.
pub(crate) struct Visible(Option<RoaringBitmap>);

impl Visible {
    pub(crate) fn of(access: &Access, index: &Index) -> Visible {
        Visible(access.visible(index))
    }

    pub(crate) fn contains(&self, id: Id) -> bool {
        self.0.as_ref().is_none_or(|v| v.contains(id))
    }
}
