//! `${{ }}` expressions: how a template's step inputs, `if`s, `each`es,
//! output and skeleton files are filled in.
//!
//! Backstage renders these with Nunjucks; its sandbox was escaped four times
//! because expressions could reach JavaScript objects. Here they are rendered by
//! minijinja, whose values are data only: no attribute of a value leads to code,
//! the host or its environment, whatever the expression says (`constructor`,
//! `__class__`, `__proto__` are merely undefined). Every render also runs
//! under an instruction budget and an output cap, so no template can loop, recurse
//! or grow its output without end.
//!
//! The rules Backstage users rely on:
//! - a value that is one lone `${{ expr }}` keeps its JSON type (a number, a
//!   list, an object); anything else renders as text;
//! - missing values render as empty text, and looking into them stays missing;
//! - values print as Nunjucks prints them: a list as its items joined with
//!   commas, an object as `[object Object]`, `null` as nothing;
//! - a value is never rendered twice: a parameter holding `${{ secrets.x }}`
//!   stays that text.

use crate::filters;
use crate::scope::Scope;
use minijinja::value::{Value as JinjaValue, ValueKind};
use minijinja::{Environment, ErrorKind, UndefinedBehavior};
use serde_json::Value;
use std::fmt::Write as _;

/// Instructions one render may run: far more than any real template needs
/// (a 51-file skeleton with loops uses under 50,000 per file), far less than
/// would hold a task up.
const FUEL: u64 = 2_000_000;
/// Bytes one render may produce (a skeleton file, a step input).
pub const MAX_OUTPUT_BYTES: usize = 16 << 20;
/// Nesting of calls, loops and blocks.
const RECURSION_LIMIT: usize = 100;

/// Where a render failed: a step's input path, an `if`, a skeleton file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{place}: {message}")]
pub struct RenderError {
    pub place: String,
    pub message: String,
}

impl RenderError {
    fn new(place: &str, message: impl Into<String>) -> RenderError {
        RenderError {
            place: place.to_owned(),
            message: message.into(),
        }
    }

    fn from_jinja(place: &str, error: &minijinja::Error) -> RenderError {
        let message = match error.kind() {
            ErrorKind::OutOfFuel => {
                "the expression ran too long (it loops or recurses too much)".to_owned()
            }
            _ => {
                // minijinja's own wording, without its source listing; the line
                // is the template's own.
                let mut message = error.detail().map_or_else(
                    || error.kind().to_string(),
                    |detail| format!("{}: {detail}", error.kind()),
                );
                if let Some(line) = error.line()
                    && line > 1
                {
                    let _ = write!(message, " (line {line})");
                }
                message
            }
        };
        RenderError::new(place, message)
    }
}

/// Renders expressions for one task: the values they can see are fixed when it
/// is made (`parameters`, `steps`, `secrets`, `user`, `context`, ...).
pub struct Templater {
    env: Environment<'static>,
}

impl Default for Templater {
    fn default() -> Self {
        Templater::new(Syntax::default())
    }
}

/// How a skeleton is written: Backstage's `fetch:template` options.
#[derive(Debug, Clone, Copy, Default)]
pub struct Syntax {
    /// Cookiecutter's `{{ }}` instead of `${{ }}` (`cookiecutterCompat`).
    pub cookiecutter: bool,
    pub trim_blocks: bool,
    pub lstrip_blocks: bool,
}

impl Templater {
    pub fn new(syntax: Syntax) -> Templater {
        let mut env = Environment::new();
        // `debug()` prints the whole context, secrets included.
        env.remove_global("debug");
        let variables = if syntax.cookiecutter {
            ("{{", "}}")
        } else {
            ("${{", "}}")
        };
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .variable_delimiters(variables.0, variables.1)
                .block_delimiters("{%", "%}")
                .comment_delimiters("{#", "#}")
                .trim_blocks(syntax.trim_blocks)
                .lstrip_blocks(syntax.lstrip_blocks)
                .keep_trailing_newline(true)
                .build()
                .expect("a valid syntax"),
        );
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(RECURSION_LIMIT);
        env.set_formatter(|out, _state, value| {
            let mut text = String::new();
            print_like_nunjucks(&mut text, value);
            out.write_str(&text)
                .map_err(|_| minijinja::Error::new(ErrorKind::WriteFailure, "write failed"))
        });
        filters::register(&mut env);
        Templater { env }
    }

    /// Renders every string in `value` (object keys stay as they are). A lone
    /// expression keeps its type; one that is missing drops its key (`None` at
    /// the top), as in Backstage, so an action sees the input as not given.
    pub fn render_value(
        &self,
        value: &Value,
        scope: &Scope,
        place: &str,
    ) -> Result<Option<Value>, RenderError> {
        self.render_in(value, &scope.root(), place)
    }

    fn render_in(
        &self,
        value: &Value,
        context: &JinjaValue,
        place: &str,
    ) -> Result<Option<Value>, RenderError> {
        Ok(Some(match value {
            Value::String(text) => return self.render_string(text, context, place),
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    // A missing item stays in its place, as `null`.
                    let rendered = self.render_in(item, context, &format!("{place}[{i}]"))?;
                    out.push(rendered.unwrap_or(Value::Null));
                }
                Value::Array(out)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (key, item) in map {
                    if let Some(rendered) =
                        self.render_in(item, context, &format!("{place}.{key}"))?
                    {
                        out.insert(key.clone(), rendered);
                    }
                }
                Value::Object(out)
            }
            other => other.clone(),
        }))
    }

    fn render_string(
        &self,
        text: &str,
        context: &JinjaValue,
        place: &str,
    ) -> Result<Option<Value>, RenderError> {
        if let Some(expression) = lone_expression(text) {
            let compiled = self
                .env
                .compile_expression(expression)
                .map_err(|e| RenderError::from_jinja(place, &e))?;
            let value = compiled
                .eval(context)
                .map_err(|e| RenderError::from_jinja(place, &e))?;
            return to_json(&value, place);
        }
        if !text.contains("${{") && !text.contains("{%") && !text.contains("{#") {
            return Ok(Some(Value::String(text.to_owned())));
        }
        self.render_text_in(text, context, place)
            .map(|s| Some(Value::String(s)))
    }

    /// Every expression in `value` that does not parse, each at its place.
    /// Nothing is rendered: this is the check a template gets before a task
    /// starts, and in CI.
    pub fn check(&self, value: &Value, place: &str) -> Vec<RenderError> {
        let mut errors = Vec::new();
        self.check_in(value, place, &mut errors);
        errors
    }

    fn check_in(&self, value: &Value, place: &str, errors: &mut Vec<RenderError>) {
        match value {
            Value::String(text) => {
                let parsed = match lone_expression(text) {
                    Some(expression) => self.env.compile_expression(expression).map(drop),
                    None if text.contains("${{") || text.contains("{%") || text.contains("{#") => {
                        self.env.template_from_str(text).map(drop)
                    }
                    None => Ok(()),
                };
                if let Err(e) = parsed {
                    errors.push(RenderError::from_jinja(place, &e));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_in(item, &format!("{place}[{i}]"), errors);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.check_in(item, &format!("{place}.{key}"), errors);
                }
            }
            _ => {}
        }
    }

    /// Renders text (a skeleton file, a file or folder name) to text.
    pub fn render_text(
        &self,
        text: &str,
        scope: &Scope,
        place: &str,
    ) -> Result<String, RenderError> {
        self.render_text_in(text, &scope.root(), place)
    }

    fn render_text_in(
        &self,
        text: &str,
        context: &JinjaValue,
        place: &str,
    ) -> Result<String, RenderError> {
        let rendered = self
            .env
            .render_str(text, context)
            .map_err(|e| RenderError::from_jinja(place, &e))?;
        if rendered.len() > MAX_OUTPUT_BYTES {
            return Err(RenderError::new(
                place,
                format!(
                    "renders to {} bytes, over the limit of {MAX_OUTPUT_BYTES}",
                    rendered.len()
                ),
            ));
        }
        Ok(rendered)
    }

    /// Whether a step's `if` (or an output item's) holds: a rendered value that
    /// is missing, `false`, `null`, `0` or empty text does not.
    pub fn condition(
        &self,
        condition: &Value,
        scope: &Scope,
        place: &str,
    ) -> Result<bool, RenderError> {
        Ok(match self.render_value(condition, scope, place)? {
            None | Some(Value::Null) | Some(Value::Bool(false)) => false,
            Some(Value::String(s)) => !(s.is_empty() || s == "false"),
            Some(Value::Number(n)) => n.as_f64() != Some(0.0),
            Some(_) => true,
        })
    }
}

/// `expr` when `text` is a lone `${{ expr }}` (spaces around it allowed).
fn lone_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("${{")?.strip_suffix("}}")?;
    (!inner.contains("${{") && !inner.contains("}}")).then_some(inner)
}

/// A rendered value as JSON; `None` for missing.
fn to_json(value: &JinjaValue, place: &str) -> Result<Option<Value>, RenderError> {
    if value.is_undefined() {
        return Ok(None);
    }
    if value.kind() == ValueKind::Plain || value.kind() == ValueKind::Invalid {
        return Err(RenderError::new(
            place,
            format!("renders to a {} that is not data", value.kind()),
        ));
    }
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| RenderError::new(place, format!("renders to something that is not JSON: {e}")))
}

/// Prints a value as Nunjucks (JavaScript's `String(value)`) would.
fn print_like_nunjucks(out: &mut String, value: &JinjaValue) {
    match value.kind() {
        ValueKind::Undefined | ValueKind::None => {}
        ValueKind::Seq | ValueKind::Iterable => {
            if let Ok(items) = value.try_iter() {
                for (i, item) in items.enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    print_like_nunjucks(out, &item);
                }
            }
        }
        ValueKind::Map => out.push_str("[object Object]"),
        ValueKind::Bool => out.push_str(if value.is_true() { "true" } else { "false" }),
        // JavaScript has one number type: 2.0 prints as 2.
        ValueKind::Number => match (value.as_i64(), f64::try_from(value.clone())) {
            (Some(i), _) => {
                let _ = write!(out, "{i}");
            }
            (None, Ok(f)) if f.fract() == 0.0 && f.abs() < 1e15 => {
                let _ = write!(out, "{}", f as i64);
            }
            _ => {
                let _ = write!(out, "{value}");
            }
        },
        _ => {
            let _ = write!(out, "{value}");
        }
    }
}

#[cfg(test)]
mod tests;
