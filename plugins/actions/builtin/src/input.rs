//! A step's input: the JSON object the host rendered, read field by field with
//! errors that name the field. `null` counts as not given (a lone expression
//! that evaluates to nothing).

use crate::error::{ActionError, Result};
use serde_json::{Map, Value};

pub struct Input {
    /// The text as the host sent it (catalog:write re-reads it to keep the
    /// entity's key order, which `serde_json::Value` sorts).
    raw: String,
    fields: Map<String, Value>,
}

impl Input {
    pub fn parse(text: &str) -> Result<Input> {
        // An action with nothing to say may be called with no input at all.
        if text.trim().is_empty() {
            return Ok(Input {
                raw: "{}".to_owned(),
                fields: Map::new(),
            });
        }
        match serde_json::from_str(text) {
            Ok(Value::Object(fields)) => Ok(Input {
                raw: text.to_owned(),
                fields,
            }),
            Ok(other) => Err(ActionError::invalid(format!(
                "the input must be an object, not {}",
                kind(&other)
            ))),
            Err(e) => Err(ActionError::invalid(format!("the input is not JSON: {e}"))),
        }
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The field, unless it is absent or `null`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields.get(name).filter(|v| !v.is_null())
    }

    pub fn string(&self, name: &str) -> Result<&str> {
        self.opt_string(name)?
            .ok_or_else(|| ActionError::invalid(format!("input `{name}` is required")))
    }

    pub fn opt_string(&self, name: &str) -> Result<Option<&str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(mistyped(name, "a string", other)),
        }
    }

    pub fn opt_bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(mistyped(name, "true or false", other)),
        }
    }

    pub fn flag(&self, name: &str) -> Result<bool> {
        Ok(self.opt_bool(name)?.unwrap_or(false))
    }

    /// A list of strings.
    pub fn opt_strings(&self, name: &str) -> Result<Option<Vec<&str>>> {
        let Some(value) = self.get(name) else {
            return Ok(None);
        };
        let Value::Array(items) = value else {
            return Err(mistyped(name, "a list of strings", value));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                item.as_str()
                    .ok_or_else(|| mistyped(&format!("{name}[{i}]"), "a string", item))
            })
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }

    pub fn strings(&self, name: &str) -> Result<Vec<&str>> {
        self.opt_strings(name)?
            .ok_or_else(|| ActionError::invalid(format!("input `{name}` is required")))
    }
}

pub fn mistyped(name: &str, expected: &str, value: &Value) -> ActionError {
    ActionError::invalid(format!(
        "input `{name}` must be {expected}, not {}",
        kind(value)
    ))
}

/// A JSON value's kind, for messages (never the value: it may be a secret).
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_with_their_types_and_named_when_wrong() {
        let input = Input::parse(
            r#"{"url": "./s", "replace": true, "files": ["a", "b"], "n": 3, "gone": null}"#,
        )
        .unwrap();
        assert_eq!(input.string("url").unwrap(), "./s");
        assert!(input.flag("replace").unwrap());
        assert!(!input.flag("absent").unwrap());
        assert_eq!(input.strings("files").unwrap(), ["a", "b"]);
        assert_eq!(input.opt_string("gone").unwrap(), None, "null is not given");

        let e = input.string("targetPath").unwrap_err();
        assert_eq!(e.code, "invalid-input");
        assert_eq!(e.message, "input `targetPath` is required");
        let e = input.opt_string("n").unwrap_err();
        assert_eq!(e.message, "input `n` must be a string, not a number");
        let e = input.opt_bool("url").unwrap_err();
        assert_eq!(e.message, "input `url` must be true or false, not a string");

        let bad_item = Input::parse(r#"{"files": ["a", 1]}"#).unwrap();
        let e = bad_item.strings("files").unwrap_err();
        assert_eq!(e.message, "input `files[1]` must be a string, not a number");
    }

    #[test]
    fn the_input_must_be_an_object() {
        assert_eq!(
            Input::parse("[1]").err().unwrap().message,
            "the input must be an object, not a list"
        );
        assert_eq!(Input::parse("{").err().unwrap().code, "invalid-input");
        assert!(Input::parse("").unwrap().get("x").is_none());
    }
}
