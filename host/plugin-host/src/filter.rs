//! Which entities a panel applies to: a catalog filter in the REST API's syntax,
//! evaluated with the catalog model's own matcher, so that a panel's `applies-to`
//! means exactly what the same string means in `GET /api/catalog/entities?filter=`.

use portal_catalog_model::{EntityFilter, FlatEntity};

pub(crate) struct PanelFilter {
    filter: Option<EntityFilter>,
}

impl PanelFilter {
    pub(crate) fn parse(text: &str) -> Result<PanelFilter, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(PanelFilter { filter: None });
        }
        EntityFilter::parse(&[text])
            .map(|f| PanelFilter { filter: Some(f) })
            .map_err(|e| format!("`{text}` is not a valid catalog filter: {e}"))
    }

    pub(crate) fn matches(&self, entity: &serde_json::Value) -> bool {
        match &self.filter {
            None => true,
            Some(filter) => filter.matches(&FlatEntity::from_value(entity)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn applies_to_uses_catalog_filter_semantics() {
        let entity = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": { "name": "web", "annotations": { "github.com/project-slug": "acme/web" } },
            "spec": { "type": "service", "owner": "team-a", "lifecycle": "production" }
        });
        let cases = [
            ("", true),
            ("kind=component", true),
            ("kind=API", false),
            ("metadata.annotations.github.com/project-slug", true),
            ("metadata.annotations.pagerduty.com/service-id", false),
            ("kind=component,spec.type=website", false),
            ("spec.owner", true),
        ];
        for (filter, expected) in cases {
            assert_eq!(
                PanelFilter::parse(filter).unwrap().matches(&entity),
                expected,
                "{filter}"
            );
        }
        assert!(PanelFilter::parse("kind=").is_err() || PanelFilter::parse("=x").is_err());
    }
}
