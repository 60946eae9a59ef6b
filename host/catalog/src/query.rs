//! Queries over the in-memory index: predicate evaluation to bitmaps,
//! full-text filtering, ordering, offset and keyset pagination, facets.

use crate::index::{Id, Index};
use portal_catalog_model::{ContainsTarget, FieldCondition, Matcher, Predicate, js_lower};
use roaring::RoaringBitmap;
use std::cmp::Ordering;
use std::sync::Arc;

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortOrder {
    /// Ascending.
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrderField {
    /// Dotted entity path, e.g. `metadata.name` (case-insensitive).
    pub field: String,
    /// Direction.
    pub order: SortOrder,
}

impl OrderField {
    /// Ascending on `field`.
    pub fn asc(field: impl Into<String>) -> OrderField {
        OrderField {
            field: field.into(),
            order: SortOrder::Asc,
        }
    }
    /// Descending on `field`.
    pub fn desc(field: impl Into<String>) -> OrderField {
        OrderField {
            field: field.into(),
            order: SortOrder::Desc,
        }
    }
}

/// A lowercase substring filter over some fields (Backstage's full-text
/// filter: a `LIKE '%term%'`).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct FullTextFilter {
    /// The term (trimmed, matched case-insensitively).
    pub term: String,
    /// Fields searched; empty means the first sort field, else `metadata.uid`
    /// (Backstage's default).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
}

/// Where a keyset page starts: the sort values and ref of an entity.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    /// Lowercased values of the sort fields (`None` where missing).
    pub values: Vec<Option<String>>,
    /// Canonical ref (the final tie-breaker).
    pub entity_ref: String,
}

/// How to page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    /// Skip `offset` entities, return at most `limit` (all when `None`).
    Offset {
        /// Entities to skip.
        offset: usize,
        /// Most to return.
        limit: Option<usize>,
    },
    /// The `limit` entities after (or, with `backwards`, before) a position.
    After {
        /// The position.
        position: Position,
        /// Page backwards.
        backwards: bool,
        /// Most to return.
        limit: usize,
    },
}

impl Default for Page {
    fn default() -> Self {
        Page::Offset {
            offset: 0,
            limit: None,
        }
    }
}

/// A query for entities.
#[derive(Debug, Clone, Default)]
pub struct EntityQuery {
    /// Which entities (`None`: all).
    pub filter: Option<Predicate>,
    /// Sort keys; the canonical ref always breaks ties. Empty: by ref.
    pub order: Vec<OrderField>,
    /// Drop entities that lack the first sort field (by-query semantics);
    /// otherwise they sort last.
    pub require_order_field: bool,
    /// Full-text filter.
    pub full_text: Option<FullTextFilter>,
    /// Paging.
    pub page: Page,
}

/// Evaluates a predicate to the set of matching ids.
pub fn eval(index: &Index, predicate: &Predicate) -> RoaringBitmap {
    match predicate {
        Predicate::All(items) => {
            let mut iter = items.iter();
            let Some(first) = iter.next() else {
                return index.all.clone();
            };
            let mut acc = eval(index, first);
            for p in iter {
                if acc.is_empty() {
                    break;
                }
                acc &= eval(index, p);
            }
            acc
        }
        Predicate::Any(items) => {
            let mut acc = RoaringBitmap::new();
            for p in items {
                acc |= eval(index, p);
            }
            acc
        }
        Predicate::Not(inner) => &index.all - eval(index, inner),
        Predicate::Fields(conds) => {
            let mut iter = conds.iter();
            let Some(first) = iter.next() else {
                return index.all.clone();
            };
            let mut acc = eval_condition(index, first);
            for c in iter {
                if acc.is_empty() {
                    break;
                }
                acc &= eval_condition(index, c);
            }
            acc
        }
    }
}

fn values_of(index: &Index, key: &str, value: &str) -> RoaringBitmap {
    if key == "metadata.uid" {
        return uid_matching(index, |uid| uid == value);
    }
    index.value_ids(key, value)
}

fn uid_matching(index: &Index, mut pred: impl FnMut(&str) -> bool) -> RoaringBitmap {
    if index.by_uid.len() < 64 {
        return index
            .by_uid
            .iter()
            .filter(|(uid, _)| pred(&js_lower(uid)))
            .map(|(_, id)| *id)
            .collect();
    }
    let mut out = RoaringBitmap::new();
    for (uid, id) in &index.by_uid {
        if pred(uid) {
            out.insert(*id);
        }
    }
    out
}

fn eval_condition(index: &Index, cond: &FieldCondition) -> RoaringBitmap {
    let key = cond.key.as_str();
    match &cond.matcher {
        Matcher::Eq(p) | Matcher::Contains(ContainsTarget::Primitive(p)) => {
            values_of(index, key, p.normalized())
        }
        Matcher::Exists(true) => index.present(key),
        Matcher::Exists(false) => &index.all - index.present(key),
        Matcher::In(ps) => {
            let mut acc = RoaringBitmap::new();
            for p in ps {
                acc |= values_of(index, key, p.normalized());
            }
            acc
        }
        Matcher::HasPrefix(prefix) => {
            let prefix = js_lower(prefix);
            if key == "metadata.uid" {
                return uid_matching(index, |uid| uid.starts_with(&prefix));
            }
            let mut acc = RoaringBitmap::new();
            if let Some(values) = index.value_map(key) {
                for (value, entry) in values.range::<str, _>((
                    std::ops::Bound::Included(prefix.as_str()),
                    std::ops::Bound::Unbounded,
                )) {
                    if !value.starts_with(prefix.as_str()) {
                        break;
                    }
                    entry.add_to(&mut acc);
                }
            }
            acc
        }
        Matcher::Contains(ContainsTarget::Relation { type_, target_refs }) => {
            let key = format!("relations.{type_}");
            match target_refs {
                None => index.present(&key),
                Some(refs) => {
                    let mut acc = RoaringBitmap::new();
                    for r in refs {
                        acc |= values_of(index, &key, r);
                    }
                    acc
                }
            }
        }
    }
}

/// Entities with a value of `field` containing `term` (both lowercased).
pub fn full_text(index: &Index, field: &str, term: &str) -> RoaringBitmap {
    let field = js_lower(field);
    if field == "metadata.uid" {
        return uid_matching(index, |uid| uid.contains(term));
    }
    let mut acc = RoaringBitmap::new();
    if let Some(values) = index.value_map(field.as_str()) {
        for (value, entry) in values.iter() {
            if value.contains(term) {
                entry.add_to(&mut acc);
            }
        }
    }
    acc
}

/// The ids a query selects (filter and full-text), before ordering.
pub fn matching(index: &Index, query: &EntityQuery) -> RoaringBitmap {
    let mut set = match &query.filter {
        Some(p) => eval(index, p),
        None => index.all.clone(),
    };
    if let Some(ft) = &query.full_text {
        let term = js_lower(ft.term.trim());
        if !term.is_empty() {
            let fields: Vec<String> = if !ft.fields.is_empty() {
                ft.fields.clone()
            } else if let Some(first) = query.order.first() {
                vec![first.field.clone()]
            } else {
                vec!["metadata.uid".to_owned()]
            };
            let mut hits = RoaringBitmap::new();
            for f in &fields {
                hits |= full_text(index, f, &term);
            }
            set &= hits;
        }
    }
    if query.require_order_field
        && let Some(first) = query.order.first()
    {
        set &= present_with_value(index, &js_lower(&first.field));
    }
    set
}

fn present_with_value(index: &Index, key: &str) -> RoaringBitmap {
    if key == "metadata.uid" {
        return index.all.clone();
    }
    let mut acc = RoaringBitmap::new();
    if let Some(values) = index.value_map(key) {
        for entry in values.values() {
            entry.add_to(&mut acc);
        }
    }
    acc
}

/// An ordered page of results.
#[derive(Debug, Clone, Default)]
pub struct PageOf {
    /// Ids in order.
    pub ids: Vec<Id>,
    /// Positions of the ids (same length).
    pub positions: Vec<Position>,
    /// Entities matched in total (before paging).
    pub total: u64,
    /// More entities follow the page.
    pub has_next: bool,
    /// Entities precede the page.
    pub has_prev: bool,
}

fn views(k: &Keyed) -> Vec<Option<&str>> {
    k.values.iter().map(|v| v.as_deref()).collect()
}

struct Keyed {
    values: Vec<Option<Arc<str>>>,
    entity_ref: Arc<str>,
    id: Id,
}

fn compare(
    order: &[OrderField],
    a_values: &[Option<&str>],
    a_ref: &str,
    b_values: &[Option<&str>],
    b_ref: &str,
) -> Ordering {
    for (i, o) in order.iter().enumerate() {
        let (a, b) = (
            a_values.get(i).copied().flatten(),
            b_values.get(i).copied().flatten(),
        );
        // Missing values sort last in either direction.
        let c = match (a, b) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => match o.order {
                SortOrder::Asc => a.cmp(b),
                SortOrder::Desc => b.cmp(a),
            },
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    a_ref.cmp(b_ref)
}

/// Orders and pages a matched set.
pub fn page(index: &Index, query: &EntityQuery, set: &RoaringBitmap) -> PageOf {
    let total = set.len();
    if query.order.is_empty() {
        return page_by_ref(index, query, set, total);
    }
    // Sort keys: the smallest value (asc) / largest (desc) of each field.
    let mut keyed: Vec<Keyed> = Vec::with_capacity(set.len() as usize);
    let mut value_of: Vec<std::collections::HashMap<Id, Arc<str>>> = Vec::new();
    for o in &query.order {
        let mut map = std::collections::HashMap::new();
        if let Some(values) = index.value_map(js_lower(&o.field).as_str()) {
            let iter: Box<dyn Iterator<Item = _>> = match o.order {
                SortOrder::Asc => Box::new(values.iter()),
                SortOrder::Desc => Box::new(values.iter().rev()),
            };
            for (value, entry) in iter {
                let shared: Arc<str> = Arc::from(&**value);
                for id in entry.iter() {
                    if set.contains(id) {
                        map.entry(id).or_insert_with(|| shared.clone());
                    }
                }
            }
        }
        value_of.push(map);
    }
    for id in set.iter() {
        let Some(rec) = index.get(id) else { continue };
        keyed.push(Keyed {
            values: value_of.iter().map(|m| m.get(&id).cloned()).collect(),
            entity_ref: rec.entity_ref.clone(),
            id,
        });
    }
    keyed.sort_by(|a, b| {
        compare(
            &query.order,
            &views(a),
            &a.entity_ref,
            &views(b),
            &b.entity_ref,
        )
    });
    let position = |k: &Keyed| Position {
        values: k
            .values
            .iter()
            .map(|v| v.as_deref().map(str::to_owned))
            .collect(),
        entity_ref: k.entity_ref.to_string(),
    };
    let (start, end) = match &query.page {
        Page::Offset { offset, limit } => {
            let start = (*offset).min(keyed.len());
            let end = match limit {
                Some(l) => (start + l).min(keyed.len()),
                None => keyed.len(),
            };
            (start, end)
        }
        Page::After {
            position: p,
            backwards,
            limit,
        } => {
            let pv: Vec<Option<&str>> = p.values.iter().map(|v| v.as_deref()).collect();
            let cmp_to =
                |k: &Keyed| compare(&query.order, &views(k), &k.entity_ref, &pv, &p.entity_ref);
            if *backwards {
                let end = keyed.partition_point(|k| cmp_to(k) == Ordering::Less);
                (end.saturating_sub(*limit), end)
            } else {
                let start = keyed.partition_point(|k| cmp_to(k) != Ordering::Greater);
                (start, (start + limit).min(keyed.len()))
            }
        }
    };
    let slice = &keyed[start..end];
    PageOf {
        ids: slice.iter().map(|k| k.id).collect(),
        positions: slice.iter().map(position).collect(),
        total,
        has_next: end < keyed.len(),
        has_prev: start > 0,
    }
}

fn page_by_ref(index: &Index, query: &EntityQuery, set: &RoaringBitmap, total: u64) -> PageOf {
    let mut out = PageOf {
        total,
        ..PageOf::default()
    };
    let small = set.len() <= 4096;
    // Cursor pages. Small sets: sort their refs; large ones: walk the
    // ordered ref map from the cursor.
    let ordered: Vec<(Arc<str>, Id)> = if small && matches!(query.page, Page::After { .. }) {
        let mut v: Vec<(Arc<str>, Id)> = set
            .iter()
            .filter_map(|id| index.get(id).map(|r| (r.entity_ref.clone(), id)))
            .collect();
        v.sort();
        v
    } else {
        Vec::new()
    };
    let push = |out: &mut PageOf, r: &Arc<str>, id: Id| {
        out.ids.push(id);
        out.positions.push(Position {
            values: Vec::new(),
            entity_ref: r.to_string(),
        });
    };
    match &query.page {
        Page::Offset { offset, limit } => {
            let order = index.ref_order();
            let end = offset.saturating_add(limit.unwrap_or(usize::MAX));
            out.has_next = (total as usize) > end;
            let want = end.min(total as usize);
            // Walk the ids in ref order while that is cheap (the first page
            // of a broad filter); when the matches are sparse in ref order,
            // rank them all and keep the first `want` instead.
            let budget = (total as usize).saturating_mul(2).max(4096);
            let mut page: Vec<Id> = Vec::with_capacity(want.min(4096));
            let mut walked = true;
            for (steps, &id) in order.ids.iter().enumerate() {
                if page.len() >= want {
                    break;
                }
                if steps > budget {
                    walked = false;
                    break;
                }
                if set.contains(id) {
                    page.push(id);
                }
            }
            if !walked {
                let mut keyed: Vec<(u32, Id)> = set
                    .iter()
                    .filter_map(|id| order.ranks.get(id as usize).map(|r| (*r, id)))
                    .filter(|(r, _)| *r != u32::MAX)
                    .collect();
                if want < keyed.len() {
                    keyed.select_nth_unstable(want);
                    keyed.truncate(want);
                }
                keyed.sort_unstable();
                page = keyed.into_iter().map(|(_, id)| id).collect();
            }
            for id in page.iter().skip(*offset) {
                if let Some(rec) = index.get(*id) {
                    push(&mut out, &rec.entity_ref, *id);
                }
            }
            out.has_prev = *offset > 0 && !set.is_empty();
        }
        Page::After {
            position,
            backwards,
            limit,
        } => {
            let after: &str = &position.entity_ref;
            if *backwards {
                let mut items: Vec<(Arc<str>, Id)> = Vec::new();
                let iter: Box<dyn Iterator<Item = (&Arc<str>, Id)>> = if small {
                    Box::new(
                        ordered
                            .iter()
                            .rev()
                            .filter(|(r, _)| &**r < after)
                            .map(|(r, id)| (r, *id)),
                    )
                } else {
                    Box::new(
                        index
                            .by_ref
                            .range::<str, _>((
                                std::ops::Bound::Unbounded,
                                std::ops::Bound::Excluded(after),
                            ))
                            .rev()
                            .filter(|(_, id)| set.contains(**id))
                            .map(|(r, id)| (r, *id)),
                    )
                };
                let mut iter = iter.peekable();
                while items.len() < *limit {
                    match iter.next() {
                        Some((r, id)) => items.push((r.clone(), id)),
                        None => break,
                    }
                }
                out.has_prev = iter.peek().is_some();
                out.has_next = true;
                for (r, id) in items.iter().rev() {
                    push(&mut out, r, *id);
                }
            } else {
                let iter: Box<dyn Iterator<Item = (&Arc<str>, Id)>> = if small {
                    Box::new(
                        ordered
                            .iter()
                            .filter(|(r, _)| &**r > after)
                            .map(|(r, id)| (r, *id)),
                    )
                } else {
                    Box::new(
                        index
                            .by_ref
                            .range::<str, _>((
                                std::ops::Bound::Excluded(after),
                                std::ops::Bound::Unbounded,
                            ))
                            .filter(|(_, id)| set.contains(**id))
                            .map(|(r, id)| (r, *id)),
                    )
                };
                for (r, id) in iter {
                    if out.ids.len() >= *limit {
                        out.has_next = true;
                        break;
                    }
                    push(&mut out, r, id);
                }
                out.has_prev = true;
            }
        }
    }
    out
}

/// One facet value and how many entities have it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FacetCount {
    /// The value as written (original spelling).
    pub value: String,
    /// Entities with it.
    pub count: u64,
}

/// Counts the values of `facet` over `set`, most frequent first.
pub fn facet(index: &Index, facet: &str, set: &RoaringBitmap) -> Vec<FacetCount> {
    let key = js_lower(facet);
    let mut out = Vec::new();
    if key == "metadata.uid" {
        for (uid, id) in &index.by_uid {
            if set.contains(*id) {
                out.push(FacetCount {
                    value: uid.to_string(),
                    count: 1,
                });
            }
        }
    } else if let Some(values) = index.value_map(key.as_str()) {
        let variants = index.variants(key.as_str());
        for (value, entry) in values.iter() {
            let mut total = entry.intersection_len(set);
            if total == 0 {
                continue;
            }
            for (spelling, ids) in variants.and_then(|v| v.get(value)).into_iter().flatten() {
                let c = ids.intersection_len(set);
                if c > 0 {
                    out.push(FacetCount {
                        value: spelling.to_string(),
                        count: c,
                    });
                    total -= c;
                }
            }
            if total > 0 {
                out.push(FacetCount {
                    value: value.to_string(),
                    count: total,
                });
            }
        }
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{Body, EntityRec, edges_of_body};
    use portal_catalog_model::FlatEntity;

    /// 10,000 entities of two kinds; every offset page must equal the slice
    /// of the matches sorted by ref, whether the pager walks the ref order
    /// (matches dense at the front) or ranks the matches (sparse ones).
    #[test]
    fn offset_pages_follow_ref_order_on_both_paths() {
        let mut index = Index::default();
        for i in 0..10_000u32 {
            // Names out of order, so ids and refs disagree.
            let n = (i * 7919) % 10_000;
            let kind = if n % 100 == 0 { "System" } else { "Component" };
            let value = serde_json::json!({
                "apiVersion": "backstage.io/v1alpha1", "kind": kind,
                "metadata": {"name": format!("e{n:05}"), "namespace": "default", "uid": format!("u{n}")},
                "spec": {"owner": "team"}
            });
            let rec = EntityRec {
                entity_ref: format!("{}:default/e{n:05}", kind.to_lowercase()).into(),
                uid: format!("u{n}").into(),
                source: "s".into(),
                body: Body::pack(&serde_json::to_vec(&value).unwrap()),
                errors: Box::new([]),
            };
            index.insert(rec, &FlatEntity::from_value(&value), &edges_of_body(&value));
        }
        for kind in ["component", "system"] {
            let set = index.value_ids("kind", kind);
            let mut expected: Vec<&str> = set
                .iter()
                .map(|id| &*index.get(id).unwrap().entity_ref)
                .collect();
            expected.sort_unstable();
            for (offset, limit) in [
                (0, Some(5)),
                (7, Some(20)),
                (90, Some(20)),
                (95, None),
                (200, Some(3)),
            ] {
                let query = EntityQuery {
                    filter: None,
                    order: Vec::new(),
                    require_order_field: false,
                    full_text: None,
                    page: Page::Offset { offset, limit },
                };
                let got = page(&index, &query, &set);
                let end = limit.map_or(expected.len(), |l| (offset + l).min(expected.len()));
                let want: Vec<&str> = expected[offset.min(end)..end].to_vec();
                let refs: Vec<&str> = got
                    .positions
                    .iter()
                    .map(|p| p.entity_ref.as_str())
                    .collect();
                assert_eq!(refs, want, "{kind} offset {offset} limit {limit:?}");
                assert_eq!(got.has_next, end < expected.len());
                assert_eq!(got.total, expected.len() as u64);
            }
        }
    }
}
