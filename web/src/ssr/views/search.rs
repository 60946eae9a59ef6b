//! The search page (today a text search over the catalog).

use super::*;
use crate::model::*;
use crate::ssr::data::{EntityQuery, TextSearch};
use serde_json::json;

pub async fn search(data: &Data, term: &str, kind: Option<&str>) -> Result<SearchView, String> {
    let term = term.trim().to_owned();
    if term.is_empty() {
        return Ok(SearchView {
            term,
            rows: Vec::new(),
            total: 0,
            kinds: Vec::new(),
        });
    }
    let filter = kind.map(|k| json!({ "kind": k }));
    let page = data
        .query_entities(EntityQuery {
            filter,
            text: Some(TextSearch {
                term: term.clone(),
                fields: TEXT_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
            }),
            order: Vec::new(),
            offset: 0,
            limit: 100,
        })
        .await
        .map_err(|e| e.0)?;
    Ok(SearchView {
        term,
        rows: page.items.iter().map(row).collect(),
        total: page.total,
        kinds: Vec::new(),
    })
}
