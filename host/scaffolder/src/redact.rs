//! Keeps a task's secrets out of everything it shows: log lines, errors, step
//! outputs, the task's output and dry-run results. Each secret is replaced by
//! `***`, and so are its obvious transforms (base64 in both alphabets, with and
//! without padding, percent-encoding, JSON escaping), which a template or an
//! action may produce on the way to an `Authorization` header.

use base64::Engine as _;
use serde_json::Value;

pub const MASK: &str = "***";

#[derive(Debug, Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret containing another is masked whole.
    needles: Vec<String>,
}

impl Redactor {
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Redactor {
        let mut needles = Vec::new();
        for secret in secrets {
            if secret.is_empty() {
                continue;
            }
            let bytes = secret.as_bytes();
            let forms = [
                secret.to_owned(),
                base64::engine::general_purpose::STANDARD.encode(bytes),
                base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes),
                base64::engine::general_purpose::URL_SAFE.encode(bytes),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
                percent_encode(secret),
                json_escaped(secret),
            ];
            for form in forms {
                if !needles.contains(&form) {
                    needles.push(form);
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.len()));
        Redactor { needles }
    }

    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), MASK);
            }
        }
        out
    }

    /// Every string in `value`, object keys included.
    pub fn value(&self, value: &Value) -> Value {
        if self.is_empty() {
            return value.clone();
        }
        match value {
            Value::String(s) => Value::String(self.text(s)),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.value(v)).collect()),
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (self.text(k), self.value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn secrets_and_their_transforms_are_masked() {
        let secret = "s3cr3t/tok+en?\"x";
        let r = Redactor::new([secret]);
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
        for shown in [
            format!("token {secret} here"),
            format!("Authorization: Basic {b64}"),
            format!("u={url}"),
            format!("q={}", percent_encode(secret)),
            serde_json::to_string(&json!({ "t": secret })).unwrap(),
        ] {
            let masked = r.text(&shown);
            assert!(masked.contains(MASK), "{shown} → {masked}");
            assert!(!masked.contains("s3cr3t"), "{masked}");
        }
        assert_eq!(r.text("nothing here"), "nothing here");
    }

    #[test]
    fn values_are_masked_everywhere_keys_included() {
        let r = Redactor::new(["hunter2"]);
        let v = r.value(&json!({"a": ["x hunter2 y", {"hunter2": 1}], "n": 3}));
        assert_eq!(v, json!({"a": ["x *** y", {"***": 1}], "n": 3}));
    }

    #[test]
    fn a_secret_inside_another_is_masked_whole() {
        let r = Redactor::new(["abc", "xxabcxx"]);
        assert_eq!(r.text("[xxabcxx] [abc]"), "[***] [***]");
    }
}
