use thiserror::Error;

/// Why a search failed. [`SearchError::is_input`] tells the caller's
/// mistakes (HTTP 400) from the index's (500).
#[derive(Debug, Error)]
pub enum SearchError {
    #[error("the search term is {chars} characters long; at most {max} are allowed")]
    TermTooLong { chars: usize, max: usize },
    #[error("the search term has {words} words; at most {max} are allowed")]
    TooManyWords { words: usize, max: usize },
    #[error(
        "unknown filter `{0}`; the filters are kind, type, owner, lifecycle, tags and namespace"
    )]
    UnknownFilter(String),
    #[error("a filter or type value is {chars} characters long; at most {max} are allowed")]
    FilterTooLong { chars: usize, max: usize },
    #[error("too many filter and type values; at most {max} are allowed")]
    TooManyFilters { max: usize },
    #[error("pageCursor is not a cursor this server gave out")]
    InvalidCursor,
    #[error("pageLimit must be between 1 and {max}")]
    InvalidPageLimit { max: usize },
    #[error("paging stops after the first {max} results; narrow the search instead")]
    PageTooDeep { max: usize },
    #[error("the search index failed: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("cannot open the search index in {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SearchError {
    /// The request was at fault (and would fail again as it is).
    pub fn is_input(&self) -> bool {
        !matches!(self, SearchError::Index(_) | SearchError::Open { .. })
    }
}
