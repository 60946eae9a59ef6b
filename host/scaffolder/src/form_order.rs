//! The order of a form's fields. A template's author writes its parameters'
//! properties in the order the form should show them (Backstage's form keeps
//! it), but the catalog holds entities as JSON with sorted keys. This reads
//! the order back from the template's YAML text and writes it into each page
//! as `ui:order`, unless the page already has one.

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};
use std::fmt;

/// Above this, a template's text is not read again for its order.
const MAX_TEXT_BYTES: usize = 1 << 20;

/// Each page's property names, in the order the text gives them, for the
/// Template `namespace/name` among the text's documents.
pub fn field_order(text: &str, namespace: &str, name: &str) -> Option<Vec<Vec<String>>> {
    if text.len() > MAX_TEXT_BYTES {
        return None;
    }
    let documents: Vec<Document> = serde_saphyr::from_multiple(text).ok()?;
    let document = documents.into_iter().find(|d| {
        d.kind.as_deref() == Some("Template")
            && d.metadata.as_ref().is_some_and(|m| {
                m.name.as_deref() == Some(name)
                    && m.namespace.as_deref().unwrap_or("default") == namespace
            })
    })?;
    let pages = match document.spec?.parameters? {
        Pages::One(page) => vec![page],
        Pages::Many(pages) => pages,
    };
    Some(
        pages
            .into_iter()
            .map(|p| p.properties.map(|k| k.0).unwrap_or_default())
            .collect(),
    )
}

/// Sets `ui:order` on each page of a parameter schema (`{steps: [{schema}]}`)
/// that has none.
pub fn apply(parameter_schema: &mut Value, order: &[Vec<String>]) {
    let Some(steps) = parameter_schema["steps"].as_array_mut() else {
        return;
    };
    for (step, keys) in steps.iter_mut().zip(order) {
        let schema = &mut step["schema"];
        if schema.is_object() && schema.get("ui:order").is_none() && !keys.is_empty() {
            schema["ui:order"] = json!(keys);
        }
    }
}

#[derive(Deserialize)]
struct Document {
    kind: Option<String>,
    metadata: Option<Metadata>,
    spec: Option<Spec>,
}

#[derive(Deserialize)]
struct Metadata {
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize)]
struct Spec {
    parameters: Option<Pages>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Pages {
    Many(Vec<Page>),
    One(Page),
}

#[derive(Deserialize)]
struct Page {
    properties: Option<Keys>,
}

/// A mapping's keys in order, its values skipped.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: other}
---
apiVersion: scaffolder.backstage.io/v1beta3
kind: Template
metadata:
  name: svc
spec:
  parameters:
    - title: First
      properties:
        zeta: {type: string}
        alpha: {type: string}
        mid: {type: number}
    - title: Second
      ui:order: [b, a]
      properties:
        b: {type: string}
        a: {type: string}
  steps: []
";

    #[test]
    fn the_texts_order_becomes_ui_order_where_there_is_none() {
        let order = field_order(TEXT, "default", "svc").unwrap();
        assert_eq!(order, [vec!["zeta", "alpha", "mid"], vec!["b", "a"]]);
        let mut schema = json!({ "steps": [
            { "schema": { "properties": {} } },
            { "schema": { "ui:order": ["a", "*"], "properties": {} } },
        ]});
        apply(&mut schema, &order);
        assert_eq!(
            schema["steps"][0]["schema"]["ui:order"],
            json!(["zeta", "alpha", "mid"])
        );
        assert_eq!(schema["steps"][1]["schema"]["ui:order"], json!(["a", "*"]));
        assert_eq!(field_order(TEXT, "default", "nope"), None);
        assert_eq!(field_order("kind: [", "default", "svc"), None);
    }

    #[test]
    fn one_page_without_a_list() {
        let text = "kind: Template\nmetadata: {name: t, namespace: ops}\nspec:\n  parameters:\n    properties:\n      b: {}\n      a: {}\n";
        assert_eq!(field_order(text, "ops", "t").unwrap(), [vec!["b", "a"]]);
    }
}
