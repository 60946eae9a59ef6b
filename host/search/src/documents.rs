//! What is indexed of an entity, a template and a documentation page, and
//! where each result leads in the UI.

use crate::schema::{Fields, MAX_PREFIX_CHARS, normalise, words};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use tantivy::TantivyDocument;
use tantivy::schema::Facet;
use tantivy::tokenizer::TextAnalyzer;

/// Backstage's type of catalog entity documents.
pub const SOFTWARE_CATALOG: &str = "software-catalog";
/// Backstage's type of documentation documents.
pub const TECHDOCS: &str = "techdocs";
/// Software templates (Template entities), leading to their form.
pub const SOFTWARE_TEMPLATE: &str = "software-template";

/// A document a plugin's search collator returned (checked by the plugin
/// host: an `http(s)` or portal location, field names of lowercase letters,
/// digits, `-` and `_`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollatedDocument {
    pub title: String,
    pub text: String,
    pub location: String,
    pub fields: Vec<(String, String)>,
}

/// The group of a collated document type's documents.
pub fn collated_group(doc_type: &str) -> String {
    format!("p:{doc_type}")
}

/// Text indexed per document at most (a docs section, a description).
const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Characters of `document.text` in answers (the snippet shows the match).
pub const ANSWER_TEXT_CHARS: usize = 500;

/// Stores what an answer shows: the result document as JSON without its
/// type and text, the type apart, and the text apart (answering splices the
/// small JSON in unparsed, and cuts the text with [`answer_text`]).
fn store(doc: &mut TantivyDocument, f: &Fields, mut stored: Map<String, Value>, text: &str) {
    if let Some(Value::String(doctype)) = stored.remove("doctype") {
        doc.add_text(f.doctype, doctype);
    }
    doc.add_text(f.doc, Value::Object(stored).to_string());
    doc.add_text(f.full_text, text);
}

/// `document.text` in answers: the first [`ANSWER_TEXT_CHARS`] characters.
pub fn answer_text(text: &str) -> String {
    match text.char_indices().nth(ANSWER_TEXT_CHARS) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The parts of an entity search reads (unknown fields are skipped unparsed).
#[derive(Debug, Deserialize)]
pub struct RawEntity {
    #[serde(default, rename = "apiVersion")]
    pub api_version: String,
    pub kind: String,
    pub metadata: RawMetadata,
    #[serde(default)]
    pub spec: RawSpec,
}

#[derive(Debug, Deserialize)]
pub struct RawMetadata {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, serde::de::IgnoredAny>,
    #[serde(default)]
    pub etag: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct RawSpec {
    #[serde(default)]
    pub owner: Option<Value>,
    #[serde(default, rename = "type")]
    pub type_: Option<Value>,
    #[serde(default)]
    pub lifecycle: Option<Value>,
    #[serde(default)]
    pub system: Option<Value>,
}

fn str_of(v: &Option<Value>) -> Option<&str> {
    v.as_ref()
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
}

impl RawEntity {
    pub fn parse(json: &[u8]) -> Option<RawEntity> {
        serde_json::from_slice(json).ok()
    }

    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("default")
    }

    /// `kind:namespace/name`, lowercased.
    pub fn entity_ref(&self) -> String {
        format!("{}:{}/{}", self.kind, self.namespace(), self.metadata.name).to_lowercase()
    }

    /// The content version: the catalog's etag (a hash of the stored body).
    pub fn etag(&self) -> String {
        self.metadata.etag.clone().unwrap_or_default()
    }

    pub fn title(&self) -> &str {
        self.metadata
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&self.metadata.name)
    }

    pub fn is_template(&self) -> bool {
        self.kind.eq_ignore_ascii_case("template")
            && self
                .api_version
                .to_ascii_lowercase()
                .starts_with("scaffolder.backstage.io/")
    }

    /// The owner as a full ref (`group:default/team-a`), lowercased.
    pub fn owner(&self) -> Option<String> {
        str_of(&self.spec.owner).map(|o| full_ref(o, "group", self.namespace()))
    }

    pub fn spec_type(&self) -> Option<&str> {
        str_of(&self.spec.type_)
    }

    pub fn lifecycle(&self) -> Option<&str> {
        str_of(&self.spec.lifecycle)
    }

    pub fn system(&self) -> Option<&str> {
        str_of(&self.spec.system)
    }
}

/// `[kind:][namespace/]name` completed with defaults, lowercased: how owner
/// values are indexed and how owner filters are read.
pub fn full_ref(value: &str, default_kind: &str, default_namespace: &str) -> String {
    let value = value.trim();
    let (kind, rest) = match value.split_once(':') {
        Some((k, rest)) if !k.contains('/') => (k, rest),
        _ => (default_kind, value),
    };
    let (namespace, name) = rest.split_once('/').unwrap_or((default_namespace, rest));
    format!("{kind}:{namespace}/{name}").to_lowercase()
}

/// One path segment, percent-encoded (as the web UI's `encode_path`).
pub fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// The entity page: `/catalog/:namespace/:kind/:name`.
pub fn entity_location(namespace: &str, kind: &str, name: &str) -> String {
    format!(
        "/catalog/{}/{}/{}",
        encode_path(namespace),
        encode_path(&kind.to_ascii_lowercase()),
        encode_path(name)
    )
}

/// The template's form: `/create/templates/:namespace/:name`.
pub fn template_location(namespace: &str, name: &str) -> String {
    format!(
        "/create/templates/{}/{}",
        encode_path(namespace),
        encode_path(name)
    )
}

/// A docs page (`path` as the site lists it: `guide/setup/`, `""` for the
/// home page), with the section's anchor.
pub fn docs_location(site_key: &str, path: &str, anchor: Option<&str>) -> String {
    let mut parts = site_key.splitn(3, '/');
    let (ns, kind, name) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let mut out = format!(
        "/docs/{}/{}/{}",
        encode_path(ns),
        encode_path(kind),
        encode_path(name)
    );
    if !path.is_empty() {
        for segment in path.split('/') {
            out.push('/');
            out.push_str(&encode_path(segment));
        }
    }
    if let Some(anchor) = anchor {
        out.push('#');
        out.push_str(&encode_path(anchor));
    }
    out
}

/// The entity ref of a site key (`namespace/kind/name` → `kind:namespace/name`).
pub fn site_entity_ref(site_key: &str) -> Option<String> {
    let mut parts = site_key.splitn(3, '/');
    let (ns, kind, name) = (parts.next()?, parts.next()?, parts.next()?);
    Some(format!("{kind}:{ns}/{name}"))
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Builds index documents; holds the analyzer so names are normalised as
/// queries are.
pub struct DocumentBuilder {
    pub fields: Fields,
    pub analyzer: TextAnalyzer,
}

impl DocumentBuilder {
    fn facet(doc: &mut TantivyDocument, fields: &Fields, dim: &str, value: &str) {
        let value = value.trim().to_lowercase();
        if !value.is_empty() {
            doc.add_facet(fields.facets, Facet::from_path([dim, value.as_str()]));
        }
    }

    fn prefixes(&mut self, doc: &mut TantivyDocument, texts: &[&str]) {
        let mut seen = std::collections::HashSet::new();
        for text in texts {
            for word in words(&mut self.analyzer, text) {
                for (count, (i, c)) in word.char_indices().enumerate() {
                    if count >= MAX_PREFIX_CHARS {
                        break;
                    }
                    let prefix = &word[..i + c.len_utf8()];
                    if seen.insert(prefix.to_owned()) {
                        doc.add_text(self.fields.prefix, prefix);
                    }
                }
            }
        }
    }

    /// The document of a catalog entity (a Template becomes a template
    /// document, leading to its form).
    pub fn entity(&mut self, e: &RawEntity) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::new();
        let entity_ref = e.entity_ref();
        let group = format!("e:{entity_ref}");
        doc.add_text(f.id, &group);
        doc.add_text(f.group, &group);
        doc.add_text(f.etag, e.etag());
        let namespace = e.namespace();
        let title = e.title();
        let description = e.metadata.description.as_deref().unwrap_or("");
        let template = e.is_template();
        let doctype = if template {
            SOFTWARE_TEMPLATE
        } else {
            SOFTWARE_CATALOG
        };
        doc.add_text(f.name, &e.metadata.name);
        doc.add_text(f.title, title);
        doc.add_text(f.text, truncate(description, MAX_TEXT_BYTES));
        let owner = e.owner();
        let mut keywords: Vec<&str> = vec![&e.kind];
        keywords.extend(e.metadata.tags.iter().map(String::as_str));
        keywords.extend(e.spec_type());
        keywords.extend(owner.as_deref());
        keywords.extend(e.lifecycle());
        keywords.extend(e.system());
        keywords.extend(e.metadata.annotations.keys().map(String::as_str));
        for k in keywords {
            doc.add_text(f.keywords, k);
        }
        let exact_name = normalise(&mut self.analyzer, &e.metadata.name);
        let exact_title = normalise(&mut self.analyzer, title);
        doc.add_text(f.exact, &exact_name);
        if exact_title != exact_name {
            doc.add_text(f.exact, &exact_title);
        }
        self.prefixes(&mut doc, &[&e.metadata.name, title]);
        let length = e.metadata.name.chars().count().min(title.chars().count());
        doc.add_u64(f.length, length as u64);
        Self::facet(&mut doc, &f, "doctype", doctype);
        Self::facet(&mut doc, &f, "kind", &e.kind);
        Self::facet(&mut doc, &f, "namespace", namespace);
        if let Some(t) = e.spec_type() {
            Self::facet(&mut doc, &f, "type", t);
        }
        if let Some(o) = &owner {
            Self::facet(&mut doc, &f, "owner", o);
        }
        if let Some(l) = e.lifecycle() {
            Self::facet(&mut doc, &f, "lifecycle", l);
        }
        for t in &e.metadata.tags {
            Self::facet(&mut doc, &f, "tags", t);
        }
        let location = if template {
            template_location(namespace, &e.metadata.name)
        } else {
            entity_location(namespace, &e.kind, &e.metadata.name)
        };
        let mut stored = Map::new();
        stored.insert("doctype".into(), doctype.into());
        stored.insert("title".into(), title.into());
        let text = truncate(description, MAX_TEXT_BYTES);
        stored.insert("location".into(), location.into());
        stored.insert("kind".into(), e.kind.clone().into());
        stored.insert("namespace".into(), namespace.into());
        stored.insert("name".into(), e.metadata.name.clone().into());
        if let Some(t) = e.spec_type() {
            // Backstage's catalog documents carry spec.type under both names.
            stored.insert("type".into(), t.into());
            stored.insert("componentType".into(), t.into());
        }
        if let Some(l) = e.lifecycle() {
            stored.insert("lifecycle".into(), l.into());
        }
        if let Some(o) = &owner {
            stored.insert("owner".into(), o.clone().into());
        }
        if let Some(s) = e.system() {
            stored.insert("system".into(), s.into());
        }
        if !e.metadata.tags.is_empty() {
            stored.insert("tags".into(), json!(e.metadata.tags));
        }
        store(&mut doc, &f, stored, text);
        doc
    }

    /// The document of one collated document (`index`: its place in its
    /// collation, for a unique id). Its fields are keywords and facets (a
    /// field `status` is the filter `filters[status]`).
    pub fn collated(
        &mut self,
        doc_type: &str,
        index: usize,
        c: &CollatedDocument,
    ) -> TantivyDocument {
        let f = self.fields;
        let mut doc = TantivyDocument::new();
        let group = collated_group(doc_type);
        doc.add_text(f.id, format!("{group}:{index}"));
        doc.add_text(f.group, &group);
        doc.add_text(f.etag, "");
        let text = truncate(&c.text, MAX_TEXT_BYTES);
        doc.add_text(f.title, &c.title);
        doc.add_text(f.text, text);
        for (_, value) in &c.fields {
            doc.add_text(f.keywords, value);
        }
        doc.add_text(f.exact, normalise(&mut self.analyzer, &c.title));
        self.prefixes(&mut doc, &[&c.title]);
        doc.add_u64(f.length, c.title.chars().count() as u64);
        Self::facet(&mut doc, &f, "doctype", doc_type);
        let mut stored = Map::new();
        stored.insert("doctype".into(), doc_type.into());
        stored.insert("title".into(), c.title.clone().into());
        stored.insert("location".into(), c.location.clone().into());
        for (name, value) in &c.fields {
            if matches!(name.as_str(), "doctype" | "title" | "text" | "location") {
                continue;
            }
            Self::facet(&mut doc, &f, name, value);
            stored.insert(name.clone(), value.clone().into());
        }
        store(&mut doc, &f, stored, text);
        doc
    }

    /// The documents of one page of a docs site: one per section, so a hit
    /// leads to its heading. `entity` is the documented entity, if known.
    pub fn docs_page(
        &mut self,
        site_key: &str,
        etag: &str,
        page: &portal_types::docs::DocsPage,
        entity: Option<&RawEntity>,
    ) -> Vec<TantivyDocument> {
        let f = self.fields;
        let group = format!("s:{site_key}");
        let mut out = Vec::new();
        let sections = crate::html::sections(&page.html);
        let (ns, kind, name) = {
            let mut p = site_key.splitn(3, '/');
            (
                p.next().unwrap_or("").to_owned(),
                p.next().unwrap_or("").to_owned(),
                p.next().unwrap_or("").to_owned(),
            )
        };
        let entity_title = entity.map(|e| e.title().to_owned()).unwrap_or(name.clone());
        let owner = entity.and_then(RawEntity::owner);
        let lifecycle = entity.and_then(|e| e.lifecycle().map(str::to_owned));
        for (i, section) in sections.iter().enumerate() {
            // The page's first heading is its title: its hits lead to the page top.
            let first_title = i == 0 || (i == 1 && sections[0].text.trim().is_empty());
            let anchor = if first_title && section.level <= 1 {
                None
            } else {
                section.anchor.as_deref()
            };
            let title = if section.title.is_empty() {
                page.title.as_str()
            } else {
                section.title.as_str()
            };
            if section.text.trim().is_empty() && section.title.is_empty() {
                continue;
            }
            let text = truncate(&section.text, MAX_TEXT_BYTES);
            let mut doc = TantivyDocument::new();
            doc.add_text(
                f.id,
                format!("d:{site_key}/{}#{}", page.path, anchor.unwrap_or("")),
            );
            doc.add_text(f.group, &group);
            doc.add_text(f.etag, etag);
            doc.add_text(f.title, title);
            if title != page.title {
                // The page's title finds every section of it, ranked below the title's own.
                doc.add_text(f.keywords, &page.title);
            }
            doc.add_text(f.text, text);
            doc.add_text(f.keywords, &name);
            doc.add_text(f.keywords, &entity_title);
            doc.add_text(f.exact, normalise(&mut self.analyzer, title));
            self.prefixes(&mut doc, &[title]);
            // Ranks after an entity of the same title (`payments`, then its docs).
            doc.add_u64(f.length, title.chars().count() as u64 + 8);
            Self::facet(&mut doc, &f, "doctype", TECHDOCS);
            Self::facet(&mut doc, &f, "kind", &kind);
            Self::facet(&mut doc, &f, "namespace", &ns);
            if let Some(o) = &owner {
                Self::facet(&mut doc, &f, "owner", o);
            }
            if let Some(l) = &lifecycle {
                Self::facet(&mut doc, &f, "lifecycle", l);
            }
            if let Some(e) = entity {
                for t in &e.metadata.tags {
                    Self::facet(&mut doc, &f, "tags", t);
                }
            }
            let mut stored = Map::new();
            stored.insert("doctype".into(), TECHDOCS.into());
            stored.insert("title".into(), title.into());
            stored.insert(
                "location".into(),
                docs_location(site_key, &page.path, anchor).into(),
            );
            stored.insert("path".into(), page.path.clone().into());
            stored.insert("pageTitle".into(), page.title.clone().into());
            stored.insert("kind".into(), kind.clone().into());
            stored.insert("namespace".into(), ns.clone().into());
            stored.insert("name".into(), name.clone().into());
            stored.insert("entityTitle".into(), entity_title.clone().into());
            if let Some(o) = &owner {
                stored.insert("owner".into(), o.clone().into());
            }
            if let Some(l) = &lifecycle {
                stored.insert("lifecycle".into(), l.clone().into());
            }
            store(&mut doc, &f, stored, text);
            out.push(doc);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_and_locations() {
        assert_eq!(
            full_ref("team-a", "group", "default"),
            "group:default/team-a"
        );
        assert_eq!(full_ref("user:Jane", "group", "ns"), "user:ns/jane");
        assert_eq!(
            full_ref("prod/team-b", "group", "default"),
            "group:prod/team-b"
        );
        assert_eq!(
            docs_location("default/component/svc", "guide/setup/", Some("install")),
            "/docs/default/component/svc/guide/setup/#install"
        );
        assert_eq!(
            docs_location("default/component/svc", "", None),
            "/docs/default/component/svc"
        );
        assert_eq!(
            entity_location("default", "Component", "a b"),
            "/catalog/default/component/a%20b"
        );
        assert_eq!(
            site_entity_ref("default/component/svc").unwrap(),
            "component:default/svc"
        );
    }
}
