//! The catalog page: filters to Backstage predicates, one facet count per
//! filter (each counting over the others), one page of rows.

use super::*;
use crate::model::*;
use crate::ssr::data::{EntityQuery, FacetCount, SortKey, TextSearch};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The catalog filters: (URL parameter, label, entity field, field to facet on).
const FILTERS: [(&str, &str, &str); 5] = [
    ("type", "Type", "spec.type"),
    ("owner", "Owner", "relations.ownedBy"),
    ("lifecycle", "Lifecycle", "spec.lifecycle"),
    ("tag", "Tags", "metadata.tags"),
    ("namespace", "Namespace", "metadata.namespace"),
];

fn selected<'a>(q: &'a CatalogQuery, param: &str) -> &'a [String] {
    match param {
        "type" => &q.types,
        "owner" => &q.owners,
        "lifecycle" => &q.lifecycles,
        "tag" => &q.tags,
        "namespace" => &q.namespaces,
        _ => &[],
    }
}

/// The predicate for a query, leaving out one filter (for that filter's counts).
fn predicate(q: &CatalogQuery, without: Option<&str>) -> Option<Value> {
    let mut all = Vec::new();
    if without != Some("kind")
        && let Some(kind) = q.effective_kind()
    {
        all.push(json!({ "kind": kind }));
    }
    for (param, _, field) in FILTERS {
        let values = selected(q, param);
        if without == Some(param) || values.is_empty() {
            continue;
        }
        let values: Vec<String> = if param == "owner" {
            values.iter().map(|v| canonical_ref(v, "group")).collect()
        } else {
            values.to_vec()
        };
        all.push(json!({ field: { "$in": values } }));
    }
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(json!({ "$all": all })),
    }
}

/// Most values listed per filter.
const MAX_FACET_VALUES: usize = 40;

pub async fn catalog(data: &Data, q: CatalogQuery) -> Result<CatalogView, String> {
    let q = q.normalized();
    let err = |e: crate::ssr::data::DataError| e.0;
    // Facet counts: each filter counts over the other filters. Requests with
    // the same predicate share one call.
    let mut requests: Vec<(Option<Value>, Vec<String>)> = Vec::new();
    let mut add = |filter: Option<Value>, field: &str| match requests
        .iter_mut()
        .find(|(f, _)| *f == filter)
    {
        Some((_, fields)) => fields.push(field.to_owned()),
        None => requests.push((filter, vec![field.to_owned()])),
    };
    add(predicate(&q, Some("kind")), "kind");
    for (param, _, field) in FILTERS {
        add(predicate(&q, Some(param)), field);
    }
    let mut counts: BTreeMap<String, Vec<FacetCount>> = BTreeMap::new();
    for (filter, fields) in requests {
        for (field, values) in data.facets(fields, filter).await.map_err(err)? {
            counts.insert(field, values);
        }
    }
    let facet_values = |param: &str, field: &str| -> Vec<FacetValue> {
        let chosen = selected(&q, param);
        let mut values: Vec<FacetValue> = counts
            .get(field)
            .map(|v| v.as_slice())
            .unwrap_or(&[])
            .iter()
            .map(|c| {
                let label = if param == "owner" {
                    ref_link(&c.value, "group").label
                } else {
                    c.value.clone()
                };
                let selected = chosen.iter().any(|s| {
                    if param == "owner" {
                        canonical_ref(s, "group") == c.value.to_lowercase()
                    } else {
                        s.eq_ignore_ascii_case(&c.value)
                    }
                });
                FacetValue {
                    value: c.value.clone(),
                    label,
                    count: c.count,
                    selected,
                }
            })
            .collect();
        // A value chosen in the URL that matches nothing still shows, so it can be unticked.
        for s in chosen {
            if !values
                .iter()
                .any(|v| v.selected && v.value.eq_ignore_ascii_case(s))
                && !(param == "owner"
                    && values
                        .iter()
                        .any(|v| v.selected && canonical_ref(s, "group") == v.value.to_lowercase()))
            {
                values.push(FacetValue {
                    value: s.clone(),
                    label: s.clone(),
                    count: 0,
                    selected: true,
                });
            }
        }
        values.sort_by(|a, b| {
            b.selected
                .cmp(&a.selected)
                .then(b.count.cmp(&a.count))
                .then_with(|| a.label.to_lowercase().cmp(&b.label.to_lowercase()))
        });
        // At 100k entities a field can have thousands of values (owners); the
        // page lists the most common ones (selected ones sort first, so they
        // always stay), and search reaches the rest.
        values.truncate(MAX_FACET_VALUES.max(chosen.len()));
        values
    };
    let mut kinds = facet_values("kind", "kind");
    let current_kind = q.effective_kind().map(str::to_owned);
    for k in &mut kinds {
        k.selected = current_kind.as_deref() == Some(&k.value.to_lowercase());
        k.value = k.value.to_lowercase();
    }
    kinds.sort_by(|a, b| a.label.to_lowercase().cmp(&b.label.to_lowercase()));
    if let Some(kind) = &current_kind
        && !kinds.iter().any(|k| &k.value == kind)
    {
        kinds.push(FacetValue {
            value: kind.clone(),
            label: kind.clone(),
            count: 0,
            selected: true,
        });
    }
    let facets: Vec<Facet> = FILTERS
        .iter()
        .map(|(param, label, field)| Facet {
            param: (*param).to_owned(),
            label: (*label).to_owned(),
            values: facet_values(param, field),
        })
        .filter(|f| !(f.param == "namespace" && f.values.len() <= 1))
        .collect();

    // Sorting: by ref is the index's natural order (fast at any size); it
    // equals "by name" when one kind in one namespace is listed.
    let column = q.sort_column();
    let single_namespace = q.namespaces.len() == 1
        || counts
            .get("metadata.namespace")
            .is_some_and(|v| v.len() <= 1);
    let order = match (column, q.desc) {
        (Column::Name, false) if current_kind.is_some() && single_namespace => Vec::new(),
        (Column::Kind, false) if single_namespace => Vec::new(),
        (c, desc) => {
            let mut keys = vec![SortKey {
                field: c.sort_field().unwrap_or("metadata.name").to_owned(),
                desc,
            }];
            if c != Column::Name {
                keys.push(SortKey {
                    field: "metadata.name".to_owned(),
                    desc: false,
                });
            }
            keys
        }
    };
    let text = (!q.text.is_empty()).then(|| TextSearch {
        term: q.text.clone(),
        fields: TEXT_FIELDS.iter().map(|s| (*s).to_owned()).collect(),
    });
    let page = data
        .query_entities(EntityQuery {
            filter: predicate(&q, None),
            text,
            order,
            offset: (q.page - 1) * q.size,
            limit: q.size,
        })
        .await
        .map_err(err)?;
    let heading = match &current_kind {
        None => "All entities".to_owned(),
        Some(k) => plural(
            &kinds
                .iter()
                .find(|v| &v.value == k)
                .map(|v| v.label.clone())
                .unwrap_or_else(|| k.clone()),
        ),
    };
    let last_page = (page.total as usize).div_ceil(q.size).max(1);
    // A failed docs build is on its entity's status.items (TechDocs).
    let rows: Vec<Row> = page.items.iter().map(row).collect();
    Ok(CatalogView {
        heading,
        kinds,
        facets,
        columns: Column::for_kind(current_kind.as_deref()),
        rows,
        total: page.total,
        has_next: page.has_next,
        last_page,
        query: q,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates_combine_the_filters() {
        let q = CatalogQuery::from_pairs([("type", "service"), ("owner", "team-a")]);
        assert_eq!(
            predicate(&q, None).unwrap(),
            json!({"$all": [
                {"kind": "component"},
                {"spec.type": {"$in": ["service"]}},
                {"relations.ownedBy": {"$in": ["group:default/team-a"]}}
            ]})
        );
        assert_eq!(
            predicate(&q, Some("type")).unwrap(),
            json!({"$all": [{"kind": "component"}, {"relations.ownedBy": {"$in": ["group:default/team-a"]}}]})
        );
        let all = CatalogQuery::from_pairs([("kind", "all")]);
        assert_eq!(predicate(&all, None), None);
    }
}
