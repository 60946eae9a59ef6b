//! `catalog:write`: an entity as a YAML catalog descriptor in the workspace,
//! its keys in the order the template wrote them.
//!
//! Backstage adds the annotation `backstage.io/source-template` from the
//! task's template ref; the action contract does not carry that ref, so the
//! step may pass it as `sourceTemplate` (`${{ template.entityRef }}` or a
//! literal ref) and the annotation is added only then.

use crate::context::Context;
use crate::copy;
use crate::error::{ActionError, Result};
use crate::fetch;
use crate::input::{Input, mistyped};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Value, json};
use std::fmt;

const SOURCE_TEMPLATE: &str = "backstage.io/source-template";

pub fn write_schema() -> Value {
    json!({
        "type": "object",
        "required": ["entity"],
        "properties": {
            "filePath": {
                "title": "Catalog file path",
                "description": "Path in the workspace to write; defaults to `catalog-info.yaml`.",
                "type": "string"
            },
            "entity": {
                "title": "Entity info to write catalog-info.yaml",
                "description": "You can provide the same values used in the Entity schema.",
                "type": "object"
            },
            "sourceTemplate": {
                "title": "Source template",
                "description": "The template's entity ref (`${{ template.entityRef }}`); when given, it is written as the annotation `backstage.io/source-template`.",
                "type": "string"
            }
        }
    })
}

pub fn write(ctx: &Context, input: &Input) -> Result<Value> {
    let file_path = input.opt_string("filePath")?.unwrap_or("catalog-info.yaml");
    let to = fetch::file_target(ctx, "filePath", file_path)?;
    let source_template = input.opt_string("sourceTemplate")?;
    match input.get("entity") {
        None => return Err(ActionError::invalid("input `entity` is required")),
        Some(Value::Object(_)) => {}
        Some(other) => return Err(mistyped("entity", "an object", other)),
    }
    // Read again from the text: `Value` has lost the key order.
    #[derive(serde::Deserialize)]
    struct Fields {
        entity: Ordered,
    }
    let Fields { mut entity } = serde_json::from_str(input.raw())
        .map_err(|e| ActionError::invalid(format!("input `entity`: {e}")))?;
    if let Some(reference) = source_template {
        let not_object = |name: &str, kind: &str| {
            ActionError::invalid(format!("input `{name}` must be an object, not {kind}"))
        };
        let metadata = entity
            .field("metadata")
            .map_err(|kind| not_object("entity.metadata", kind))?;
        let annotations = metadata
            .field("annotations")
            .map_err(|kind| not_object("entity.metadata.annotations", kind))?;
        annotations.set(SOURCE_TEMPLATE, Ordered::String(reference.to_owned()));
    }
    let yaml = serde_saphyr::to_string(&entity).map_err(|e| {
        ActionError::invalid(format!("input `entity` cannot be written as YAML: {e}"))
    })?;
    // Replaces a file that is there, as Backstage does.
    copy::write_file(ctx, &to, yaml.as_bytes())?;
    ctx.info(format!("wrote the entity to `{file_path}`"));
    Ok(json!({}))
}

/// A JSON value whose objects keep their key order (`serde_json::Value`
/// sorts keys unless its `preserve_order` feature is on, which would change
/// every crate it is built with).
#[derive(Debug, Clone, PartialEq)]
enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Ordered {
    /// The object at `key` of this object, made if absent (or `null`); the
    /// kind of what is in the way otherwise.
    fn field(&mut self, key: &str) -> Result<&mut Ordered, &'static str> {
        let Ordered::Object(entries) = self else {
            return Err(self.kind());
        };
        let index = match entries.iter().position(|(k, _)| k == key) {
            Some(index) => index,
            None => {
                entries.push((key.to_owned(), Ordered::Object(Vec::new())));
                entries.len() - 1
            }
        };
        let value = &mut entries[index].1;
        match value {
            Ordered::Object(_) => Ok(value),
            Ordered::Null => {
                *value = Ordered::Object(Vec::new());
                Ok(value)
            }
            other => Err(other.kind()),
        }
    }

    /// Sets `key` of this object (which `field` made sure it is).
    fn set(&mut self, key: &str, value: Ordered) {
        if let Ordered::Object(entries) = self {
            match entries.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key.to_owned(), value)),
            }
        }
    }

    /// Its kind, for messages (as `input::kind` says it).
    fn kind(&self) -> &'static str {
        match self {
            Ordered::Null => "null",
            Ordered::Bool(_) => "a boolean",
            Ordered::Number(_) => "a number",
            Ordered::String(_) => "a string",
            Ordered::Array(_) => "a list",
            Ordered::Object(_) => "an object",
        }
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Ordered::Null => serializer.serialize_unit(),
            Ordered::Bool(b) => serializer.serialize_bool(*b),
            Ordered::Number(n) => n.serialize(serializer),
            Ordered::String(s) => serializer.serialize_str(s),
            Ordered::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Ordered::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Ordered, D::Error> {
        deserializer.deserialize_any(OrderedVisitor)
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = Ordered;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }
    fn visit_none<E>(self) -> Result<Ordered, E> {
        Ok(Ordered::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
        Ok(Ordered::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
        Ok(Ordered::Number(v.into()))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
        Ok(Ordered::Number(v.into()))
    }
    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Ordered, E> {
        serde_json::Number::from_f64(v)
            .map(Ordered::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
        Ok(Ordered::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Ordered, E> {
        Ok(Ordered::String(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Ordered::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
        let mut object = Ordered::Object(Vec::new());
        // A repeated key keeps its first place and its last value, as
        // JavaScript's JSON.parse does.
        while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
            object.set(&key, value);
        }
        Ok(object)
    }
}

#[cfg(test)]
mod tests;
