//! What expressions see (`parameters`, `secrets`, `user`, `steps`, `each`...),
//! converted for the template engine once. A task's scope grows by one step's
//! output at a time; converting the whole of it again for every render made a
//! long template cost time in the square of its steps.

use minijinja::value::{Serde, Value as JinjaValue};
use serde_json::Value;
use std::collections::BTreeMap;

/// The names and values expressions can use. Cheap to clone: values are shared.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    vars: BTreeMap<String, JinjaValue>,
    /// `steps.<id>`, kept apart so a step's output is added without touching
    /// the others.
    steps: BTreeMap<String, JinjaValue>,
}

impl Scope {
    /// A scope holding each key of `context` (a JSON object; anything else
    /// gives an empty scope).
    pub fn from_json(context: &Value) -> Scope {
        let mut scope = Scope::default();
        if let Value::Object(map) = context {
            for (name, value) in map {
                scope.set(name, value);
            }
        }
        scope
    }

    /// Sets `name` to `value` (`steps` sets every step at once).
    pub fn set(&mut self, name: &str, value: &Value) {
        if name == "steps" {
            self.steps.clear();
            if let Value::Object(steps) = value {
                for (id, step) in steps {
                    self.steps.insert(id.clone(), JinjaValue::from(Serde(step)));
                }
            }
            return;
        }
        self.vars
            .insert(name.to_owned(), JinjaValue::from(Serde(value)));
    }

    /// This scope with `name` set to `value` as well (a step's `each` item).
    pub fn with(&self, name: &str, value: &Value) -> Scope {
        let mut scope = self.clone();
        scope.set(name, value);
        scope
    }

    /// Records what step `id` returned: `steps.<id>.output` from now on.
    pub fn set_step_output(&mut self, id: &str, output: &Value) {
        let step = BTreeMap::from([("output", JinjaValue::from(Serde(output)))]);
        self.steps.insert(id.to_owned(), JinjaValue::from(step));
    }

    /// The root value a render sees.
    pub(crate) fn root(&self) -> JinjaValue {
        let mut root = self.vars.clone();
        root.insert("steps".to_owned(), JinjaValue::from(self.steps.clone()));
        JinjaValue::from(root)
    }
}

impl From<&Value> for Scope {
    fn from(context: &Value) -> Scope {
        Scope::from_json(context)
    }
}
