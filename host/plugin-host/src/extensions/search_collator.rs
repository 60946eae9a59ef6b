//! Search collators (1.3.0): a plugin feeds the portal's search with
//! documents of its own types. Unlike the other extension points, a plugin
//! lists its collators through the export itself (`collators`, asked at load
//! with `describe`), as `meta`'s records cannot gain a field in a minor
//! version. What `collate` returns is checked here: sizes, field names, and
//! locations (an `http(s)` URL or a path of the portal, nothing else).

use super::{Declared, ExtensionPoint};
use crate::capabilities::HostState;
use crate::model::{self, CollatorInfo, PluginInfo, SearchDocument};
use crate::wit::v1::{self, search_collator};
use wasmtime::Store;
use wasmtime::component::{Instance, InstancePre};

pub(crate) struct SearchCollator;

/// Most documents one `collate` may return, and their bytes in all.
pub const MAX_DOCUMENTS: usize = 50_000;
pub const MAX_BYTES: usize = 64 << 20;
/// Longest title, and most fields per document.
const MAX_TITLE_CHARS: usize = 500;
const MAX_FIELDS: usize = 32;

/// The document types the portal indexes itself.
pub const RESERVED_TYPES: [&str; 4] = [
    "software-catalog",
    "techdocs",
    "software-template",
    "templates",
];

impl ExtensionPoint for SearchCollator {
    const KIND: &'static str = "search collator";
    const LIMITS: portal_config::ExtensionPoint = portal_config::ExtensionPoint::Collator;
    const TRANSFER_BYTES: usize = MAX_BYTES + (8 << 20);
    /// The document type.
    type Request = String;
    type Returned = Vec<SearchDocument>;
    type Output = Vec<SearchDocument>;

    fn check_output(documents: Vec<SearchDocument>) -> Result<Vec<SearchDocument>, String> {
        if documents.len() > MAX_DOCUMENTS {
            return Err(format!(
                "{} documents is over the limit of {MAX_DOCUMENTS} per collation",
                documents.len()
            ));
        }
        let mut bytes = 0usize;
        for (i, doc) in documents.iter().enumerate() {
            let at = |what: String| format!("document {i} (`{}`): {what}", short(&doc.title));
            bytes += doc.title.len() + doc.text.len() + doc.location.len();
            bytes += doc
                .fields
                .iter()
                .map(|(k, v)| k.len() + v.len())
                .sum::<usize>();
            if doc.title.trim().is_empty() {
                return Err(format!("document {i} has an empty title"));
            }
            if doc.title.chars().count() > MAX_TITLE_CHARS {
                return Err(at(format!(
                    "the title is over {MAX_TITLE_CHARS} characters"
                )));
            }
            if !location_allowed(&doc.location) {
                return Err(at(format!(
                    "the location `{}` is neither an http(s) URL nor a path of the portal (`/...`)",
                    short(&doc.location)
                )));
            }
            if doc.fields.len() > MAX_FIELDS {
                return Err(at(format!(
                    "{} fields is over the limit of {MAX_FIELDS}",
                    doc.fields.len()
                )));
            }
            for (name, _) in &doc.fields {
                if !field_name(name) {
                    return Err(at(format!(
                        "the field name `{}` must be 1-63 lowercase letters, digits, `-` and `_`",
                        short(name)
                    )));
                }
            }
        }
        if bytes > MAX_BYTES {
            return Err(format!(
                "the documents add up to {bytes} bytes, over the limit of {MAX_BYTES}"
            ));
        }
        Ok(documents)
    }
}

/// An `http(s)` URL, or a path of the portal (not `//host`, no scheme, no
/// backslash, no control characters).
pub fn location_allowed(location: &str) -> bool {
    if location.chars().any(|c| c.is_control()) || location.contains('\\') {
        return false;
    }
    if location.starts_with('/') {
        return !location.starts_with("//");
    }
    let lower = location.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && portal_types::url::is_safe(location)
}

fn field_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        s.push('…');
    }
    s
}

impl Declared for SearchCollator {
    const INTERFACE: &'static str = "search-collator";
    const ID_NOUN: &'static str = "document type";
    const PLURAL: &'static str = "search collators";
    type Info = CollatorInfo;

    fn declared(info: &PluginInfo) -> &[CollatorInfo] {
        &info.collators
    }
    fn id(info: &CollatorInfo) -> &str {
        &info.document_type
    }
    fn check_info(info: &CollatorInfo) -> Result<(), String> {
        if RESERVED_TYPES.contains(&info.document_type.as_str()) {
            return Err("is one of the portal's own document types".into());
        }
        if info.title.trim().is_empty() {
            return Err("has an empty title".into());
        }
        Ok(())
    }
}

pub(crate) fn info_from_v1(c: search_collator::CollatorInfo) -> CollatorInfo {
    CollatorInfo {
        document_type: c.document_type,
        title: c.title,
        refresh_interval_seconds: c.refresh_interval_seconds,
    }
}

impl v1::Binding for SearchCollator {
    type Indices = search_collator::GuestIndices;

    fn indices(pre: &InstancePre<HostState>) -> wasmtime::Result<Self::Indices> {
        search_collator::GuestIndices::new(pre)
    }

    async fn call<'a>(
        indices: &'a Self::Indices,
        store: &'a mut Store<HostState>,
        instance: &'a Instance,
        document_type: String,
    ) -> wasmtime::Result<Result<Vec<SearchDocument>, model::PluginError>> {
        let guest = indices.load(&mut *store, instance)?;
        let result = guest.call_collate(&mut *store, &document_type).await?;
        Ok(result
            .map(|documents| {
                documents
                    .into_iter()
                    .map(|d| SearchDocument {
                        title: d.title,
                        text: d.text,
                        location: d.location,
                        fields: d.fields,
                    })
                    .collect()
            })
            .map_err(v1::plugin_error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(title: &str, location: &str, fields: &[(&str, &str)]) -> SearchDocument {
        SearchDocument {
            title: title.into(),
            text: "text".into(),
            location: location.into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn documents_are_checked() {
        let ok = vec![
            doc(
                "Outage",
                "https://pd.example.com/incidents/1",
                &[("severity", "high")],
            ),
            doc("Runbook", "/docs/default/component/x/", &[]),
        ];
        assert!(SearchCollator::check_output(ok).is_ok());
        for (bad, why) in [
            (doc("x", "javascript:alert(1)", &[]), "location"),
            (doc("x", "//evil.example.com/x", &[]), "location"),
            (doc("x", "data:text/html,x", &[]), "location"),
            (doc("x", "/a\nb", &[]), "location"),
            (doc(" ", "/x", &[]), "empty title"),
            (doc("x", "/x", &[("Owner", "a")]), "field name"),
            (doc(&"t".repeat(501), "/x", &[]), "title is over"),
        ] {
            let err = SearchCollator::check_output(vec![bad]).unwrap_err();
            assert!(err.contains(why), "{err}");
        }
        let many: Vec<SearchDocument> = (0..MAX_DOCUMENTS + 1)
            .map(|_| doc("x", "/x", &[]))
            .collect();
        assert!(
            SearchCollator::check_output(many)
                .unwrap_err()
                .contains("limit")
        );
    }

    #[test]
    fn reserved_types_are_refused() {
        let info = |t: &str| CollatorInfo {
            document_type: t.into(),
            title: "T".into(),
            refresh_interval_seconds: 0,
        };
        assert!(SearchCollator::check_info(&info("incidents")).is_ok());
        assert!(SearchCollator::check_info(&info("techdocs")).is_err());
    }
}
