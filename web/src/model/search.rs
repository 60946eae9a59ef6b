//! The search page's and the search box's views. Highlighted text arrives
//! as segments (text, highlighted or not) and is drawn as text with `<mark>`
//! elements: no HTML from the index is ever injected.

use super::FacetValue;
use serde::{Deserialize, Serialize};

/// What the search page asks for (its URL's query).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchRequest {
    pub term: String,
    /// Document types to search (`software-catalog`, `techdocs`, ...); all
    /// when empty.
    pub types: Vec<String>,
    /// `(field, value)` filters: kind, type, owner, lifecycle, tags, ...
    pub filters: Vec<(String, String)>,
    pub cursor: Option<String>,
}

impl SearchRequest {
    /// Reads `q`, `type`, `filters[field]` (or `field=` for the known
    /// facets) and `cursor` from a query string.
    pub fn from_query(pairs: &[(String, String)]) -> SearchRequest {
        let mut request = SearchRequest::default();
        for (key, value) in pairs {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            match key.as_str() {
                "q" | "term" => request.term = value.to_owned(),
                "type" | "types[]" => request.types.push(value.to_owned()),
                "cursor" | "pageCursor" => request.cursor = Some(value.to_owned()),
                key => {
                    if let Some(field) = key
                        .strip_prefix("filters[")
                        .and_then(|k| k.strip_suffix(']'))
                    {
                        request.filters.push((field.to_owned(), value.to_owned()));
                    }
                }
            }
        }
        request
    }

    /// This request's URL.
    pub fn href(&self) -> String {
        let mut pairs: Vec<(String, &str)> = Vec::new();
        if !self.term.is_empty() {
            pairs.push(("q".into(), &self.term));
        }
        for t in &self.types {
            pairs.push(("type".into(), t));
        }
        for (field, value) in &self.filters {
            pairs.push((format!("filters[{field}]"), value));
        }
        if let Some(cursor) = &self.cursor {
            pairs.push(("cursor".into(), cursor));
        }
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    super::encode_component(k),
                    super::encode_component(v)
                )
            })
            .collect();
        format!("/search?{}", query.join("&"))
    }

    /// The same search with one filter toggled, from the first page.
    pub fn toggled(&self, field: &str, value: &str) -> SearchRequest {
        let mut next = self.clone();
        next.cursor = None;
        let pair = (field.to_owned(), value.to_owned());
        if field == "doctype" {
            if next.types.contains(&pair.1) {
                next.types.retain(|t| t != value);
            } else {
                next.types = vec![pair.1];
            }
        } else if next.filters.contains(&pair) {
            next.filters.retain(|p| p != &pair);
        } else {
            next.filters.retain(|(f, _)| f != field);
            next.filters.push(pair);
        }
        next
    }
}

/// A piece of highlighted text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// One result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The document type, and what it is called (`Software catalog`).
    pub doc_type: String,
    pub type_label: String,
    pub title: Vec<Segment>,
    pub text: Vec<Segment>,
    /// A path of the portal or an http(s) URL (checked by the server).
    pub location: String,
    /// Small facts shown under the title (kind, owner, lifecycle, ...).
    pub details: Vec<(String, String)>,
}

/// A facet: a filter field and its values with counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchFacet {
    pub field: String,
    pub label: String,
    pub values: Vec<FacetValue>,
}

/// Search results.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SearchView {
    pub request: SearchRequest,
    pub hits: Vec<SearchHit>,
    pub total: u64,
    pub facets: Vec<SearchFacet>,
    pub next: Option<String>,
    pub previous: Option<String>,
    /// False while the index is still being built.
    pub ready: bool,
    /// Why the search was refused (a term too long, ...), for the user.
    pub refused: Option<String>,
}

/// One suggestion of the search box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suggestion {
    pub title: Vec<Segment>,
    pub type_label: String,
    /// Where choosing it leads.
    pub location: String,
    /// A short detail (kind, owner).
    pub detail: Option<String>,
}

/// Splits text highlighted with `<mark>`/`</mark>` (and otherwise
/// HTML-escaped) into segments of plain text.
pub fn segments(highlighted: &str) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut rest = highlighted;
    let mut hit = false;
    loop {
        let tag = if hit { "</mark>" } else { "<mark>" };
        let (text, next) = match rest.find(tag) {
            Some(at) => (&rest[..at], Some(&rest[at + tag.len()..])),
            None => (rest, None),
        };
        if !text.is_empty() {
            out.push(Segment {
                text: unescape(text),
                hit,
            });
        }
        match next {
            Some(next) => {
                rest = next;
                hit = !hit;
            }
            None => return out,
        }
    }
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Plain segments of unhighlighted text.
pub fn plain(text: &str) -> Vec<Segment> {
    if text.is_empty() {
        return Vec::new();
    }
    vec![Segment {
        text: text.to_owned(),
        hit: false,
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlights_become_text_segments() {
        let s = segments("a &lt;b&gt; <mark>pay&amp;ments</mark> end");
        assert_eq!(
            s,
            vec![
                Segment {
                    text: "a <b> ".into(),
                    hit: false
                },
                Segment {
                    text: "pay&ments".into(),
                    hit: true
                },
                Segment {
                    text: " end".into(),
                    hit: false
                },
            ]
        );
        // Markup never survives as markup: it is text.
        let s = segments("<mark><script>x</script></mark>");
        assert_eq!(s[0].text, "<script>x</script>");
    }

    #[test]
    fn requests_round_trip_through_urls() {
        let pairs = crate::model::parse_query_string(
            "q=pay%20ments&type=techdocs&filters%5Bowner%5D=team-a&cursor=c2",
        );
        let r = SearchRequest::from_query(&pairs);
        assert_eq!(r.term, "pay ments");
        assert_eq!(r.types, ["techdocs"]);
        assert_eq!(r.filters, [("owner".to_owned(), "team-a".to_owned())]);
        assert_eq!(
            SearchRequest::from_query(&crate::model::parse_query_string(&r.href()[8..])),
            r
        );
        let toggled = r.toggled("owner", "team-a");
        assert!(toggled.filters.is_empty() && toggled.cursor.is_none());
    }
}
