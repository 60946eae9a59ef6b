//! Small helpers that reproduce JavaScript string conversions, so that the
//! search index and matchers treat values exactly like Backstage does.

use serde_json::{Number, Value};

/// `String(n)` for a JSON number, as JavaScript prints it.
pub(crate) fn js_number_string(n: &Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    match n.as_f64() {
        Some(f) => js_f64_string(f),
        None => n.to_string(),
    }
}

/// `String(f)` for a double, as JavaScript prints it.
pub(crate) fn js_f64_string(f: f64) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "Infinity" } else { "-Infinity" }.to_string();
    }
    if f == 0.0 {
        // Covers -0 as well, which JavaScript prints as "0".
        return "0".to_string();
    }
    let abs = f.abs();
    if (1e-6..1e21).contains(&abs) {
        // Rust's Display prints the shortest round-tripping digits without an
        // exponent, which is what JavaScript does in this range.
        return format!("{f}");
    }
    // Exponent form: Rust prints `1e21` / `1.5e-7`, JavaScript `1e+21` / `1.5e-7`.
    let s = format!("{f:e}");
    match s.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => s,
    }
}

/// `String(v)` for a JSON primitive (string, number, boolean); `None` for
/// null, arrays and objects.
pub(crate) fn js_primitive_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(js_number_string(n)),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `s.toLocaleLowerCase('en-US')`; Unicode lowercasing without the
/// allocation when the input is already lowercase ASCII.
pub fn js_lower(s: &str) -> String {
    if s.bytes().all(|b| !b.is_ascii_uppercase() && b.is_ascii()) {
        s.to_string()
    } else {
        s.to_lowercase()
    }
}

/// `s.length` in JavaScript: the number of UTF-16 code units.
pub(crate) fn utf16_len(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.encode_utf16().count()
    }
}

/// Cuts very long values for error messages.
pub(crate) fn truncate_for_message(s: &str) -> String {
    const MAX: usize = 120;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// Describes a JSON value for "found ..." parts of error messages.
pub(crate) fn describe_value(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("a boolean ({b})"),
        Value::Number(n) => format!("a number ({n})"),
        Value::String(s) => format!("a string (\"{}\")", truncate_for_message(s)),
        Value::Array(a) => format!("an array with {} item(s)", a.len()),
        Value::Object(_) => "an object".to_string(),
    }
}

/// JSON text of a value for error messages, truncated.
pub(crate) fn json_for_message(v: &Value) -> String {
    truncate_for_message(&v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_print_like_javascript() {
        let cases: &[(Value, &str)] = &[
            (json!(7), "7"),
            (json!(-3), "-3"),
            (json!(7.0), "7"),
            (json!(7.5), "7.5"),
            (json!(0.1), "0.1"),
            (json!(-0.0), "0"),
            (json!(0.000015), "0.000015"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(1e21), "1e+21"),
            (json!(123456789012.0), "123456789012"),
            (json!(u64::MAX), "18446744073709551615"),
        ];
        for (v, want) in cases {
            let got = js_number_string(v.as_number().unwrap());
            assert_eq!(got, *want, "for {v}");
        }
    }

    #[test]
    fn primitives_stringify_like_javascript() {
        assert_eq!(js_primitive_string(&json!(true)).as_deref(), Some("true"));
        assert_eq!(js_primitive_string(&json!(false)).as_deref(), Some("false"));
        assert_eq!(js_primitive_string(&json!("X")).as_deref(), Some("X"));
        assert_eq!(js_primitive_string(&json!(null)), None);
        assert_eq!(js_primitive_string(&json!([1])), None);
    }

    #[test]
    fn lowercase_and_lengths() {
        assert_eq!(js_lower("ABC-def"), "abc-def");
        assert_eq!(js_lower("ÄÖ"), "äö");
        assert_eq!(utf16_len("abc"), 3);
        // U+1F600 is two UTF-16 code units, as JavaScript counts it.
        assert_eq!(utf16_len("a\u{1F600}"), 3);
        assert_eq!(utf16_len("é"), 1);
    }

    #[test]
    fn truncates_long_values() {
        let long = "x".repeat(500);
        let t = truncate_for_message(&long);
        assert!(t.chars().count() <= 121);
        assert!(t.ends_with('…'));
        assert_eq!(truncate_for_message("short"), "short");
    }
}
