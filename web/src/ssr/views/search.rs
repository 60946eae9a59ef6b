//! The search page: one query of the portal's search index.

use super::*;
use crate::model::*;

pub async fn search(data: &Data, request: SearchRequest) -> Result<SearchView, String> {
    if request.term.trim().is_empty() {
        return Ok(SearchView {
            request,
            ready: true,
            ..Default::default()
        });
    }
    data.search(request).await.map_err(|e| e.0)
}
