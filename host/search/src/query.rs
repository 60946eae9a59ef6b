//! User input → a tantivy query. The term is parsed here, never by
//! tantivy's query parser: field names, `*`, `~`, `^`, parentheses and
//! operators are just punctuation between words, so no input can reach a
//! field, a regex or a range. Every dimension of the input is bounded.

use crate::any_of::AnyOf;
use crate::error::SearchError;
use crate::schema::{Fields, words};
use std::collections::{BTreeMap, HashMap};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, DfaWrapper, EmptyQuery, FuzzyTermQuery,
    Occur, PhraseQuery, Query, TermQuery, TermSetQuery,
};
use tantivy::schema::Field;
use tantivy::schema::{Facet, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, Term};

/// The longest term accepted, in characters (Backstage's default is 100).
pub const MAX_TERM_CHARS: usize = 500;
/// The most words a term may have.
pub const MAX_WORDS: usize = 16;
/// Words beyond this many are matched exactly, without typo tolerance
/// (each typo-tolerant word is a dictionary scan per field).
pub const MAX_FUZZY_WORDS: usize = 6;
/// A whole term is matched as a misspelt name or title only up to this
/// length (a name is at most 63 characters; a longer term's automaton would
/// only cost).
pub const MAX_WHOLE_TYPO_CHARS: usize = 64;
/// A typo-tolerant word matches at most this many other words per field
/// (the most frequent), as Elasticsearch's `max_expansions` bounds it.
pub const MAX_VARIANTS: usize = 16;
/// Results per page: default and maximum.
pub const DEFAULT_PAGE_LIMIT: usize = 25;
pub const MAX_PAGE_LIMIT: usize = 100;
/// How deep paging may go.
pub const MAX_OFFSET: usize = 10_000;
/// Filter and type values in all, and the length of each.
pub const MAX_FILTER_VALUES: usize = 64;
pub const MAX_FILTER_CHARS: usize = 256;

/// The filters a query may use (document fields, as Backstage names them).
pub const FILTERS: &[&str] = &["kind", "type", "owner", "lifecycle", "tags", "namespace"];

/// Whether `name` may be a collated document's field (the plugin host's
/// rule): 1-63 lowercase letters, digits, `-` and `_`.
fn collated_field(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name != "doctype"
}

/// A search, as `GET /api/search/query` takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words and `"quoted phrases"`; empty lists everything (filtered).
    pub term: String,
    /// Document types (`software-catalog`, `techdocs`, `software-template`);
    /// empty means all.
    pub types: Vec<String>,
    /// Filter name → accepted values (OR within a name, AND across names).
    pub filters: BTreeMap<String, Vec<String>>,
    /// From a previous answer's `next_page_cursor` / `previous_page_cursor`.
    pub page_cursor: Option<String>,
    /// Results per page (1-100, default 25).
    pub page_limit: Option<usize>,
    /// Entities the asker may not see (canonical refs): their documents and
    /// their docs' sections are left out before anything is counted, so
    /// neither results nor facet counts reveal them.
    pub hidden_entities: Vec<String>,
}

/// The index groups of hidden entities: the entity's own document and its
/// docs site's sections (`kind:ns/name` → `e:kind:ns/name`, `s:ns/kind/name`).
pub fn hidden_groups(hidden_entities: &[String]) -> Vec<String> {
    let mut groups = Vec::with_capacity(hidden_entities.len() * 2);
    for entity_ref in hidden_entities {
        groups.push(format!("e:{entity_ref}"));
        if let Some((kind, rest)) = entity_ref.split_once(':')
            && let Some((ns, name)) = rest.split_once('/')
        {
            groups.push(format!("s:{ns}/{kind}/{name}"));
        }
    }
    groups
}

/// Whether a word is all digits.
fn is_number(word: &str) -> bool {
    word.bytes().all(|b| b.is_ascii_digit())
}

/// How many typos a word may have: none under 4 characters, one up to 7,
/// two from 8. Numbers (ids, ports, versions) are matched exactly: `1234`
/// is not a typo of `1235`.
pub fn typo_distance(word: &str) -> u8 {
    if is_number(word) {
        return 0;
    }
    match word.chars().count() {
        0..=3 => 0,
        4..=7 => 1,
        _ => 2,
    }
}

/// A term read: its plain words and its phrases (each already analysed).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedTerm {
    pub words: Vec<String>,
    pub phrases: Vec<Vec<String>>,
    /// Every word in order, normalised: compared with names and titles.
    pub exact: String,
    /// The term had text but no word in it (only punctuation).
    pub only_punctuation: bool,
}

impl ParsedTerm {
    pub fn is_empty(&self) -> bool {
        self.words.is_empty() && self.phrases.is_empty()
    }

    /// Every word, plain or in a phrase (for highlighting).
    pub fn all_words(&self) -> impl Iterator<Item = &String> {
        self.words.iter().chain(self.phrases.iter().flatten())
    }
}

/// Reads a term: `"` opens and closes a phrase (an unclosed one runs to
/// the end); everything else that is not a letter or digit separates words.
pub fn parse_term(analyzer: &mut TextAnalyzer, term: &str) -> Result<ParsedTerm, SearchError> {
    let chars = term.chars().count();
    if chars > MAX_TERM_CHARS {
        return Err(SearchError::TermTooLong {
            chars,
            max: MAX_TERM_CHARS,
        });
    }
    let mut parsed = ParsedTerm::default();
    let mut all = Vec::new();
    for (i, part) in term.split('"').enumerate() {
        let ws = words(analyzer, part);
        all.extend(ws.iter().cloned());
        if i % 2 == 1 && ws.len() > 1 {
            parsed.phrases.push(ws);
        } else {
            parsed.words.extend(ws);
        }
    }
    if all.len() > MAX_WORDS {
        return Err(SearchError::TooManyWords {
            words: all.len(),
            max: MAX_WORDS,
        });
    }
    parsed.only_punctuation = all.is_empty() && !term.trim().is_empty();
    parsed.exact = all.join(" ");
    Ok(parsed)
}

/// Checks filters and types and turns them into facet terms per dimension.
pub fn parse_filters(query: &SearchQuery) -> Result<Vec<Vec<Facet>>, SearchError> {
    let mut count = query.types.len();
    let mut out = Vec::new();
    let check = |v: &str| -> Result<String, SearchError> {
        let chars = v.chars().count();
        if chars > MAX_FILTER_CHARS {
            return Err(SearchError::FilterTooLong {
                chars,
                max: MAX_FILTER_CHARS,
            });
        }
        Ok(v.trim().to_lowercase())
    };
    let types: Vec<Facet> = query
        .types
        .iter()
        .map(|t| check(t).map(|t| Facet::from_path(["doctype", t.as_str()])))
        .collect::<Result<_, _>>()?;
    if !types.is_empty() {
        out.push(types);
    }
    for (name, values) in &query.filters {
        let dim = match name.as_str() {
            "tag" => "tags",
            n if FILTERS.contains(&n) => n,
            // A field of collated documents (`status`, `urgency`).
            n if collated_field(n) => n,
            _ => {
                return Err(SearchError::UnknownFilter(
                    name.chars().take(MAX_FILTER_CHARS).collect(),
                ));
            }
        };
        count += values.len();
        if count > MAX_FILTER_VALUES {
            return Err(SearchError::TooManyFilters {
                max: MAX_FILTER_VALUES,
            });
        }
        let mut facets = Vec::new();
        for v in values {
            let mut v = check(v)?;
            if dim == "owner" {
                v = crate::documents::full_ref(&v, "group", "default");
            }
            if !v.is_empty() {
                facets.push(Facet::from_path([dim, v.as_str()]));
            }
        }
        if !facets.is_empty() {
            out.push(facets);
        }
    }
    Ok(out)
}

/// Where a page starts: an offset, carried in an opaque cursor.
pub fn decode_cursor(cursor: Option<&str>) -> Result<usize, SearchError> {
    use base64::Engine;
    let Some(cursor) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(0);
    };
    if cursor.len() > 64 {
        return Err(SearchError::InvalidCursor);
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| SearchError::InvalidCursor)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| SearchError::InvalidCursor)?;
    let offset: usize = text
        .strip_prefix("o:")
        .and_then(|n| n.parse().ok())
        .ok_or(SearchError::InvalidCursor)?;
    if offset > MAX_OFFSET {
        return Err(SearchError::PageTooDeep { max: MAX_OFFSET });
    }
    Ok(offset)
}

pub fn encode_cursor(offset: usize) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("o:{offset}"))
}

fn term(field: tantivy::schema::Field, text: &str) -> Term {
    Term::from_field_text(field, text)
}

fn boosted(q: Box<dyn Query>, boost: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, boost))
}

fn term_query(field: tantivy::schema::Field, text: &str, boost: f32) -> Box<dyn Query> {
    boosted(
        Box::new(TermQuery::new(
            term(field, text),
            IndexRecordOption::WithFreqs,
        )),
        boost,
    )
}

fn constant(q: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(q, score))
}

/// Which fields a word is looked for in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Everything: names, titles, text, keywords.
    Full,
    /// Names and titles only (suggestions).
    Titles,
}

/// One word: found exactly (BM25, by field weight), as the prefix of a
/// name or title word, or within its typo distance.
fn word_query(
    f: &Fields,
    word: &str,
    fuzzy: bool,
    scope: Scope,
    typos: &mut Typos<'_>,
) -> Box<dyn Query> {
    let mut any: Vec<Box<dyn Query>> = vec![
        term_query(f.name, word, 4.0),
        term_query(f.title, word, 3.0),
    ];
    // A number is a prefix only while it is typed (suggestions): in a
    // search, `3` is not the start of `3054`.
    if scope == Scope::Titles || !is_number(word) {
        any.push(constant(
            Box::new(TermQuery::new(
                term(f.prefix, word),
                IndexRecordOption::Basic,
            )),
            1.0,
        ));
    }
    if scope == Scope::Full {
        any.push(term_query(f.keywords, word, 1.5));
        any.push(term_query(f.text, word, 1.0));
    }
    let mut searched = vec![f.name, f.title, f.prefix];
    if scope == Scope::Full {
        searched.extend([f.keywords, f.text]);
    }
    if fuzzy && typos.doc_freq(&searched, word) < TYPOS_BELOW {
        typos.widened = true;
        let mut fuzzy_fields = vec![(f.name, 0.8), (f.title, 0.7)];
        if scope == Scope::Full {
            fuzzy_fields.push((f.keywords, 0.4));
            fuzzy_fields.push((f.text, 0.3));
        }
        for (field, score) in fuzzy_fields {
            if let Some(q) = typos.query(field, word, score) {
                any.push(q);
            }
        }
    }
    Box::new(AnyOf::new(any))
}

/// Typo tolerance, resolved against the index: a word's variants (the
/// terms within its [`typo_distance`], not the word itself) become term
/// queries. tantivy's `FuzzyTermQuery` would instead gather, per field and
/// segment, every match of the automaton (the word itself included: tens
/// of thousands of postings for a common word) into a bitset per query.
///
/// Like Typesense's `typo_tokens_threshold`, a word is only widened to its
/// typos when it is itself in fewer than [`TYPOS_BELOW`] documents: a word
/// that fills a page as typed is what was meant (and `payment` still finds
/// `payments` as a prefix).
pub struct Typos<'a> {
    searcher: &'a Searcher,
    /// One automaton per word, shared by the fields.
    automata: HashMap<String, Option<DfaWrapper>>,
    /// The variants the query matches words with (for highlighting).
    used: Vec<String>,
    /// Whether a word was rare enough to be widened to its typos.
    widened: bool,
}

/// See [`Typos`]: a page of results.
pub const TYPOS_BELOW: u64 = DEFAULT_PAGE_LIMIT as u64;

impl<'a> Typos<'a> {
    pub fn new(searcher: &'a Searcher) -> Typos<'a> {
        Typos {
            searcher,
            automata: HashMap::new(),
            used: Vec::new(),
            widened: false,
        }
    }

    /// The variants the built query matches words with.
    pub fn used(&self) -> &[String] {
        &self.used
    }

    /// In how many documents `word` is, summed over `fields` (a document
    /// may count more than once: this is a threshold, not a total).
    pub fn doc_freq(&self, fields: &[Field], word: &str) -> u64 {
        let mut total = 0;
        for segment in self.searcher.segment_readers() {
            for &field in fields {
                if let Ok(index) = segment.inverted_index(field) {
                    total += u64::from(index.doc_freq(&term(field, word)).unwrap_or(0));
                }
            }
        }
        total
    }

    /// The terms of `field` within `word`'s typo distance, other than the
    /// word, the most frequent first (at most [`MAX_VARIANTS`]).
    pub fn variants(&mut self, field: Field, word: &str) -> Vec<String> {
        let distance = typo_distance(word);
        if distance == 0 {
            return Vec::new();
        }
        let automaton = self.automata.entry(word.to_owned()).or_insert_with(|| {
            FuzzyTermQuery::new(term(field, word), distance, true)
                .automaton()
                .ok()
        });
        let Some(automaton) = automaton.as_ref() else {
            return Vec::new();
        };
        let mut found: HashMap<Vec<u8>, u64> = HashMap::new();
        for segment in self.searcher.segment_readers() {
            let Ok(index) = segment.inverted_index(field) else {
                continue;
            };
            let Ok(mut stream) = index.terms().search(automaton).into_stream() else {
                continue;
            };
            while stream.advance() {
                if stream.key() != word.as_bytes() {
                    *found.entry(stream.key().to_vec()).or_default() +=
                        u64::from(stream.value().doc_freq);
                }
            }
        }
        let mut found: Vec<(Vec<u8>, u64)> = found.into_iter().collect();
        found.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        found
            .into_iter()
            .take(MAX_VARIANTS)
            .filter_map(|(t, _)| String::from_utf8(t).ok())
            .collect()
    }

    /// [`Typos::query`] for a whole name or title (not a word: its
    /// variants are not highlighted).
    fn whole_term(&mut self, field: Field, text: &str, score: f32) -> Option<Box<dyn Query>> {
        let used = self.used.len();
        let q = self.query(field, text, score);
        self.used.truncate(used);
        q
    }

    /// A match of any variant in `field`, scoring `score` once (automaton
    /// matches score a constant: the boost is the score). `None`: no variant.
    fn query(&mut self, field: Field, word: &str, score: f32) -> Option<Box<dyn Query>> {
        let variants = self.variants(field, word);
        if variants.is_empty() {
            return None;
        }
        self.used.extend(variants.iter().cloned());
        let any = variants
            .iter()
            .map(|v| {
                let q: Box<dyn Query> =
                    Box::new(TermQuery::new(term(field, v), IndexRecordOption::Basic));
                q
            })
            .collect();
        Some(constant(Box::new(AnyOf::new(any)), score))
    }
}

fn phrase_query(f: &Fields, phrase: &[String], scope: Scope) -> Box<dyn Query> {
    let mut fields = vec![(f.name, 4.0), (f.title, 3.0)];
    if scope == Scope::Full {
        fields.push((f.text, 1.0));
    }
    let any = fields
        .into_iter()
        .map(|(field, boost)| {
            let terms = phrase.iter().map(|w| term(field, w)).collect();
            boosted(Box::new(PhraseQuery::new(terms)), boost)
        })
        .collect();
    Box::new(AnyOf::new(any))
}

/// The score an exact name or title match adds: more than any BM25 sum of
/// a short query, so it ranks first.
pub const EXACT_SCORE: f32 = 1000.0;

/// Among equal scores, shorter names and titles first: a small bonus that
/// never outweighs a word matched in one more field.
pub fn length_bonus(length: u64) -> f32 {
    0.5 / (1.0 + length as f32)
}

/// The whole query: every word and phrase must match; an exact name or
/// title adds [`EXACT_SCORE`]; filters restrict without scoring.
pub fn build(
    f: &Fields,
    parsed: &ParsedTerm,
    filters: &[Vec<Facet>],
    scope: Scope,
    typos: &mut Typos<'_>,
) -> Box<dyn Query> {
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    if parsed.only_punctuation {
        return Box::new(EmptyQuery);
    }
    if parsed.is_empty() {
        must.push((Occur::Must, Box::new(AllQuery)));
    } else {
        for (i, w) in parsed.words.iter().enumerate() {
            must.push((
                Occur::Must,
                word_query(f, w, i < MAX_FUZZY_WORDS, scope, typos),
            ));
        }
        for p in &parsed.phrases {
            must.push((Occur::Must, phrase_query(f, p, scope)));
        }
        // The term is a whole name or title: those rank first. (Only
        // added when one exists: an optional clause is sought at every
        // match.)
        if typos.doc_freq(&[f.exact], &parsed.exact) > 0 {
            must.push((
                Occur::Should,
                constant(
                    Box::new(TermQuery::new(
                        term(f.exact, &parsed.exact),
                        IndexRecordOption::Basic,
                    )),
                    EXACT_SCORE,
                ),
            ));
        } else if typos.widened
            && parsed.exact.chars().count() <= MAX_WHOLE_TYPO_CHARS
            && !parsed.all_words().any(|w| is_number(w))
            && let Some(q) = typos.whole_term(f.exact, &parsed.exact, EXACT_SCORE / 2.0)
        {
            // Else a misspelt whole name comes next (`paymnts` →
            // `payments`), when a word was misspelt (rarer than a page)
            // and no number is in it (`service-12` is no typo of
            // `service-13`).
            must.push((Occur::Should, q));
        }
    }
    for values in filters {
        let any: Vec<Box<dyn Query>> = values
            .iter()
            .map(|facet| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_facet(f.facets, facet),
                    IndexRecordOption::Basic,
                ));
                q
            })
            .collect();
        must.push((Occur::Must, constant(Box::new(AnyOf::new(any)), 0.0)));
    }
    Box::new(BooleanQuery::new(must))
}

/// `query` without the documents of these groups (nothing to leave out:
/// the query itself, untouched).
pub fn excluding(f: &Fields, query: Box<dyn Query>, groups: &[String]) -> Box<dyn Query> {
    if groups.is_empty() {
        return query;
    }
    let terms = groups.iter().map(|g| Term::from_field_text(f.group, g));
    Box::new(BooleanQuery::new(vec![
        (Occur::Must, query),
        (Occur::MustNot, Box::new(TermSetQuery::new(terms))),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::analyzer;

    #[test]
    fn terms_are_words_and_phrases_never_syntax() {
        let mut a = analyzer();
        let p = parse_term(&mut a, r#"title:foo* bar~2 "Deploy the API" (((x"#).unwrap();
        assert_eq!(p.words, ["title", "foo", "bar", "2", "x"]);
        assert_eq!(p.phrases, [vec!["deploy", "the", "api"]]);
        let p = parse_term(&mut a, r#"a "unclosed phrase here"#).unwrap();
        assert_eq!(p.phrases, [vec!["unclosed", "phrase", "here"]]);
        let p = parse_term(&mut a, "*** ((( ~~").unwrap();
        assert!(p.only_punctuation && p.is_empty());
        let p = parse_term(&mut a, "   ").unwrap();
        assert!(!p.only_punctuation && p.is_empty());
        assert_eq!(
            parse_term(&mut a, "Payments-API").unwrap().exact,
            "payments api"
        );
    }

    #[test]
    fn bounds() {
        let mut a = analyzer();
        assert!(matches!(
            parse_term(&mut a, &"x".repeat(1 << 20)),
            Err(SearchError::TermTooLong { .. })
        ));
        assert!(matches!(
            parse_term(&mut a, &"a ".repeat(200)),
            Err(SearchError::TooManyWords { words: 200, .. })
        ));
        assert_eq!(decode_cursor(Some(&encode_cursor(50))).unwrap(), 50);
        assert!(matches!(
            decode_cursor(Some("!!")),
            Err(SearchError::InvalidCursor)
        ));
        assert!(matches!(
            decode_cursor(Some(&encode_cursor(MAX_OFFSET + 1))),
            Err(SearchError::PageTooDeep { .. })
        ));
    }

    #[test]
    fn typo_distances() {
        assert_eq!(typo_distance("api"), 0);
        assert_eq!(typo_distance("auth"), 1);
        assert_eq!(typo_distance("payment"), 1);
        assert_eq!(typo_distance("payments"), 2);
        assert_eq!(typo_distance("12345678"), 0);
        assert_eq!(typo_distance("oauth2"), 1);
    }
}
