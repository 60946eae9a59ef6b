//! The index's schema and its text analysis. Changing either changes what
//! is stored: bump [`SCHEMA_VERSION`], and the index is rebuilt in the
//! background at the next start.

use tantivy::schema::{
    FAST, FacetOptions, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, LowerCaser, RawTokenizer, RemoveLongFilter, SimpleTokenizer, TextAnalyzer,
};

/// The version of the schema and of how documents are made from the
/// catalog and the docs. An index of another version is deleted and rebuilt.
pub const SCHEMA_VERSION: u32 = 3;

/// The analyzer of every searchable text field, and of queries.
pub const WORDS: &str = "portal_words";

/// Words longer than this are not indexed (hashes, base64): nobody types them.
pub const MAX_WORD_BYTES: usize = 64;

/// Prefixes of name and title words are indexed up to this length, so a
/// word being typed is one term lookup instead of a dictionary scan.
pub const MAX_PREFIX_CHARS: usize = 20;

/// The fields, resolved once.
#[derive(Clone, Copy, Debug)]
pub struct Fields {
    /// Unique per document: `e:<entity ref>`, or `d:<site>/<path>#<anchor>`.
    pub id: Field,
    /// What is replaced together: `e:<entity ref>` or `s:<site key>`.
    pub group: Field,
    /// The group's content version when it was indexed (reconciling
    /// compares it with the sources').
    pub etag: Field,
    /// Name words (entity name; for docs, none).
    pub name: Field,
    pub title: Field,
    pub text: Field,
    /// Tags, kind, spec.type, owner, lifecycle, system, annotation keys;
    /// for docs, the entity's name and title.
    pub keywords: Field,
    /// The whole name and title, normalised (words joined by one space): an
    /// exact match ranks first.
    pub exact: Field,
    /// Prefixes of name and title words.
    pub prefix: Field,
    /// `/doctype/…`, `/kind/…`, `/type/…`, `/owner/…`, `/lifecycle/…`,
    /// `/tags/…`, `/namespace/…`: filters and counts.
    pub facets: Field,
    /// The result document as JSON (title, location, extras), without its
    /// type and text: answers splice it in as it is, unparsed.
    pub doc: Field,
    /// The result's type (`software-catalog`, `techdocs`, a plugin's).
    pub doctype: Field,
    /// The document's text, apart: the snippet is taken from it and the
    /// answer's `text` cut from it.
    pub full_text: Field,
    /// Characters of the shorter of name and title: among equal scores,
    /// the shorter ranks first (`payments` before `payments-api`).
    pub length: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = |positions: bool| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(WORDS)
                .set_index_option(if positions {
                    IndexRecordOption::WithFreqsAndPositions
                } else {
                    IndexRecordOption::WithFreqs
                }),
        )
    };
    let raw = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("raw")
            .set_index_option(IndexRecordOption::Basic)
            .set_fieldnorms(false),
    );
    let fields = Fields {
        id: b.add_text_field("id", STRING | FAST),
        group: b.add_text_field("group", STRING | FAST),
        etag: b.add_text_field("etag", STRING | FAST),
        name: b.add_text_field("name", words(true)),
        title: b.add_text_field("title", words(true)),
        text: b.add_text_field("text", words(true)),
        keywords: b.add_text_field("keywords", words(false)),
        exact: b.add_text_field("exact", raw.clone()),
        prefix: b.add_text_field("prefix", raw),
        facets: b.add_facet_field("facets", FacetOptions::default()),
        doc: b.add_text_field("doc", STORED),
        doctype: b.add_text_field("doctype", STORED),
        full_text: b.add_text_field("full_text", STORED),
        length: b.add_u64_field("length", FAST),
    };
    (b.build(), fields)
}

/// Splits on anything but letters and digits, drops very long words,
/// lowercases and folds accents (`Café` → `cafe`).
pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(MAX_WORD_BYTES))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

pub fn register(index: &tantivy::Index) {
    index.tokenizers().register(WORDS, analyzer());
    index.tokenizers().register(
        "raw",
        TextAnalyzer::builder(RawTokenizer::default()).build(),
    );
}

/// The words of a text, as indexed.
pub fn words(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut stream = analyzer.token_stream(text);
    while let Some(token) = stream.next() {
        out.push(token.text.clone());
    }
    out
}

/// A text normalised for exact comparison: its words joined by one space
/// (`Payments-API` and `payments api` are the same).
pub fn normalise(analyzer: &mut TextAnalyzer, text: &str) -> String {
    words(analyzer, text).join(" ")
}
