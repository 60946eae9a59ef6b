//! The search page's view.

use super::{FacetValue, Row};
use serde::{Deserialize, Serialize};

/// Search results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchView {
    pub term: String,
    pub rows: Vec<Row>,
    pub total: u64,
    pub kinds: Vec<FacetValue>,
}
