//! Field format validators and whole-entity validation.
//!
//! The rules are those of Backstage's catalog-model (1.10): the JSON schema of
//! the envelope (`Entity`, `EntityMeta`), `NoForeignRootFieldsEntityPolicy`,
//! `FieldFormatEntityPolicy` with the Kubernetes-style validators, the search
//! index's case-only duplicate key check, and the built-in kind schemas (see
//! [`crate::kinds`]). The validators are hand-written instead of regexes: they
//! are simple and run for every field of every entity on every refresh.

use serde_json::{Map, Value};

use crate::error::{ValidationError, ValidationErrors};
use crate::flatten::duplicate_case_keys;
use crate::jsutil::{describe_value, truncate_for_message, utf16_len};
use crate::kinds::{self, BuiltinKind};
use crate::refs::DEFAULT_NAMESPACE;

/// Which root fields an entity document may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidationMode {
    /// Entities as written by users or emitted by providers: only
    /// `apiVersion`, `kind`, `metadata` and `spec` (Backstage's
    /// `NoForeignRootFieldsEntityPolicy`).
    #[default]
    Input,
    /// Entities as stored and served by the catalog: `relations` and `status`
    /// are allowed too (and checked for shape).
    Stored,
}

/// Root fields allowed on input entities.
pub const INPUT_ROOT_FIELDS: &[&str] = &["apiVersion", "kind", "metadata", "spec"];
/// Root fields allowed on stored/output entities.
pub const STORED_ROOT_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "relations",
    "status",
];

/// Expectation text for names (entity names, label values, link icons).
pub const EXPECT_NAME: &str = "a string that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters in total";
/// Expectation text for prefix/suffix values (label keys, annotation keys, apiVersion).
pub const EXPECT_PREFIX_SUFFIX: &str = "a valid prefix and/or suffix";
/// Expectation text for label keys.
pub const EXPECT_LABEL_KEY: &str = "an optional DNS subdomain prefix and '/', followed by a name that is sequences of [a-zA-Z0-9] separated by any of [-_.], at most 63 characters";
/// Expectation text for namespaces.
pub const EXPECT_NAMESPACE: &str =
    "a string that is sequences of [a-z0-9] separated by [-], at most 63 characters in total";
/// Expectation text for kinds.
pub const EXPECT_KIND: &str =
    "a string that is a sequence of [a-zA-Z][a-z0-9A-Z], at most 63 characters in total";
/// Expectation text for apiVersion.
pub const EXPECT_API_VERSION: &str = "an optional DNS subdomain prefix and '/', followed by 1-63 characters of [a-zA-Z0-9] (e.g. backstage.io/v1alpha1)";
/// Expectation text for tags.
pub const EXPECT_TAG: &str =
    "a string that is sequences of [a-z0-9:+#] separated by [-], at most 63 characters in total";
/// Expectation text for URLs.
pub const EXPECT_URL: &str = "a string that is a valid url";
/// Expectation text for strings that must not be blank.
pub const EXPECT_NON_EMPTY: &str = "a non empty string";

// ---------------------------------------------------------------------------
// Field validators
// ---------------------------------------------------------------------------

/// A DNS label: 1–63 chars of `^[a-z0-9]+(?:-+[a-z0-9]+)*$`.
pub fn is_valid_dns_label(value: &str) -> bool {
    let b = value.as_bytes();
    if b.is_empty() || b.len() > 63 {
        return false;
    }
    let ok_char = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    ok_char(b[0]) && ok_char(b[b.len() - 1]) && b.iter().all(|&c| ok_char(c) || c == b'-')
}

/// A DNS subdomain: 1–253 chars, dot-separated DNS labels.
pub fn is_valid_dns_subdomain(value: &str) -> bool {
    let len = utf16_len(value);
    (1..=253).contains(&len) && value.split('.').all(is_valid_dns_label)
}

/// An object name (entity names, label values, link icons): 1–63 chars of
/// `^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`.
pub fn is_valid_object_name(value: &str) -> bool {
    let b = value.as_bytes();
    if b.is_empty() || b.len() > 63 {
        return false;
    }
    let alnum = |c: u8| c.is_ascii_alphanumeric();
    alnum(b[0])
        && alnum(b[b.len() - 1])
        && b.iter()
            .all(|&c| alnum(c) || c == b'-' || c == b'_' || c == b'.')
}

/// `metadata.name`: same rules as [`is_valid_object_name`].
pub fn is_valid_entity_name(value: &str) -> bool {
    is_valid_object_name(value)
}

/// `metadata.namespace`: a lowercase DNS label (the code rejects uppercase
/// even though Backstage's docs say otherwise).
pub fn is_valid_namespace(value: &str) -> bool {
    is_valid_dns_label(value)
}

/// `kind`: 1–63 chars of `^[a-zA-Z][a-z0-9A-Z]*$`.
pub fn is_valid_kind(value: &str) -> bool {
    let b = value.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric())
}

/// Splits on every `/`; one part is a bare suffix, two parts are prefix and
/// suffix, more parts are invalid.
fn prefix_and_or_suffix(
    value: &str,
    prefix_ok: fn(&str) -> bool,
    suffix_ok: fn(&str) -> bool,
) -> bool {
    let mut parts = value.split('/');
    let first = parts.next().unwrap_or("");
    match (parts.next(), parts.next()) {
        (None, _) => suffix_ok(first),
        (Some(second), None) => prefix_ok(first) && suffix_ok(second),
        _ => false,
    }
}

fn is_valid_api_version_suffix(value: &str) -> bool {
    !value.is_empty() && value.len() <= 63 && value.bytes().all(|c| c.is_ascii_alphanumeric())
}

/// `apiVersion`: `[prefix/]suffix` with a DNS subdomain prefix and a suffix of
/// 1–63 chars of `[a-zA-Z0-9]`.
pub fn is_valid_api_version(value: &str) -> bool {
    prefix_and_or_suffix(value, is_valid_dns_subdomain, is_valid_api_version_suffix)
}

/// Label keys: optional DNS subdomain prefix plus `/`, then an object name.
pub fn is_valid_label_key(value: &str) -> bool {
    prefix_and_or_suffix(value, is_valid_dns_subdomain, is_valid_object_name)
}

/// Label values: empty, or an object name.
pub fn is_valid_label_value(value: &str) -> bool {
    value.is_empty() || is_valid_object_name(value)
}

/// Annotation keys follow the label key rules (values can be any string).
pub fn is_valid_annotation_key(value: &str) -> bool {
    is_valid_label_key(value)
}

/// Tags: 1–63 chars of `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`.
pub fn is_valid_tag(value: &str) -> bool {
    let b = value.as_bytes();
    if b.is_empty() || b.len() > 63 {
        return false;
    }
    let ok_char =
        |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b':' | b'+' | b'#');
    if !ok_char(b[0]) || !ok_char(b[b.len() - 1]) {
        return false;
    }
    let mut prev_dash = false;
    for &c in b {
        if c == b'-' {
            if prev_dash {
                return false;
            }
            prev_dash = true;
        } else if ok_char(c) {
            prev_dash = false;
        } else {
            return false;
        }
    }
    true
}

/// A string with at least one non-whitespace character (Backstage's
/// `isValidString`, used for link titles).
pub fn is_non_blank_string(value: &str) -> bool {
    !value.trim().is_empty()
}

/// Whether `new URL(value)` would succeed in a browser or Node.js: an
/// absolute URL with a scheme, and for the special schemes (http, https, ws,
/// wss, ftp) a valid non-empty host and port.
///
/// This is a hand-written approximation of the WHATWG URL parser that covers
/// the cases seen in catalog files (it does not run IDNA on non-ASCII hosts).
pub fn is_valid_url(value: &str) -> bool {
    let trimmed = value.trim_matches(|c: char| c <= ' ');
    let cleaned: String;
    let s = if trimmed.contains(['\t', '\n', '\r']) {
        cleaned = trimmed
            .chars()
            .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
            .collect();
        cleaned.as_str()
    } else {
        trimmed
    };
    let Some(colon) = s.find(':') else {
        return false;
    };
    let scheme = &s[..colon];
    let sb = scheme.as_bytes();
    if sb.is_empty()
        || !sb[0].is_ascii_alphabetic()
        || !sb
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    {
        return false;
    }
    let rest = &s[colon + 1..];
    match scheme.to_ascii_lowercase().as_str() {
        "http" | "https" | "ws" | "wss" | "ftp" => {
            let after = rest.trim_start_matches(['/', '\\']);
            let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
            check_authority(&after[..end], true)
        }
        "file" => match rest
            .strip_prefix("//")
            .or_else(|| rest.strip_prefix("\\\\"))
        {
            Some(after) => {
                let end = after.find(['/', '\\', '?', '#']).unwrap_or(after.len());
                let host = &after[..end];
                host.is_empty() || check_host(host, true)
            }
            None => true,
        },
        _ => match rest.strip_prefix("//") {
            Some(after) => {
                let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                check_authority(&after[..end], false)
            }
            None => true,
        },
    }
}

fn check_authority(authority: &str, special: bool) -> bool {
    let host_port = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let (host, port) = if host_port.starts_with('[') {
        let Some(close) = host_port.find(']') else {
            return false;
        };
        let rest = &host_port[close + 1..];
        let port = if rest.is_empty() {
            None
        } else if let Some(p) = rest.strip_prefix(':') {
            Some(p)
        } else {
            return false;
        };
        (&host_port[..=close], port)
    } else {
        match host_port.rfind(':') {
            Some(i) => (&host_port[..i], Some(&host_port[i + 1..])),
            None => (host_port, None),
        }
    };
    if let Some(p) = port {
        if !p.is_empty() {
            if p.len() > 5 || !p.bytes().all(|c| c.is_ascii_digit()) {
                return false;
            }
            if p.parse::<u32>().map_or(true, |n| n > 65535) {
                return false;
            }
        }
        if host.is_empty() {
            return false;
        }
    }
    if host.is_empty() {
        return !special;
    }
    check_host(host, special)
}

const FORBIDDEN_HOST: &[char] = &[
    '\0', '\t', '\n', '\r', ' ', '#', '/', ':', '<', '>', '?', '@', '[', '\\', ']', '^', '|',
];

fn check_host(host: &str, special: bool) -> bool {
    if let Some(inner) = host.strip_prefix('[') {
        let Some(inner) = inner.strip_suffix(']') else {
            return false;
        };
        return inner.contains(':')
            && inner
                .bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.');
    }
    if !special {
        // Opaque host: no forbidden host code points.
        return !host.contains(FORBIDDEN_HOST);
    }
    let Some(decoded) = percent_decode(host) else {
        return false;
    };
    if decoded.is_empty()
        || decoded
            .chars()
            .any(|c| FORBIDDEN_HOST.contains(&c) || c.is_ascii_control() || c == '%')
    {
        return false;
    }
    // A host whose last label is numeric must be a valid IPv4 address.
    let lower = decoded.to_ascii_lowercase();
    let mut labels: Vec<&str> = lower.split('.').collect();
    if labels.len() > 1 && labels.last() == Some(&"") {
        labels.pop();
    }
    let last = labels.last().copied().unwrap_or("");
    let numeric_last = !last.is_empty()
        && (last.bytes().all(|c| c.is_ascii_digit())
            || (last.starts_with("0x") && last[2..].bytes().all(|c| c.is_ascii_hexdigit())));
    if numeric_last {
        return is_valid_ipv4(&labels);
    }
    true
}

fn parse_ipv4_number(part: &str) -> Option<u64> {
    if part.is_empty() {
        return None;
    }
    let (digits, radix) = if let Some(h) = part.strip_prefix("0x") {
        (h, 16)
    } else if part.len() > 1 && part.starts_with('0') {
        (&part[1..], 8)
    } else {
        (part, 10)
    };
    if digits.is_empty() {
        return Some(0);
    }
    if digits.len() > 20 {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

fn is_valid_ipv4(labels: &[&str]) -> bool {
    if labels.is_empty() || labels.len() > 4 {
        return false;
    }
    let mut nums = Vec::with_capacity(labels.len());
    for l in labels {
        match parse_ipv4_number(l) {
            Some(n) => nums.push(n),
            None => return false,
        }
    }
    let (last, init) = nums.split_last().expect("non-empty");
    if init.iter().any(|&n| n > 255) {
        return false;
    }
    let limit = 256u64.pow((5 - nums.len()) as u32);
    *last < limit
}

fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_string());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

// ---------------------------------------------------------------------------
// Whole-entity validation
// ---------------------------------------------------------------------------

/// Collects validation problems with field paths.
pub(crate) struct Errors {
    pub(crate) list: Vec<ValidationError>,
}

impl Errors {
    pub(crate) fn new() -> Self {
        Errors { list: Vec::new() }
    }

    pub(crate) fn push(&mut self, e: ValidationError) {
        self.list.push(e);
    }

    pub(crate) fn missing(&mut self, path: impl Into<String>) {
        self.push(ValidationError::Missing { path: path.into() });
    }

    pub(crate) fn wrong_type(
        &mut self,
        path: impl Into<String>,
        expected: &'static str,
        found: &Value,
    ) {
        self.push(ValidationError::WrongType {
            path: path.into(),
            expected,
            found: describe_value(found),
        });
    }

    pub(crate) fn invalid(&mut self, path: impl Into<String>, value: &str, expected: &'static str) {
        self.push(ValidationError::InvalidValue {
            path: path.into(),
            value: truncate_for_message(value),
            expected,
        });
    }

    /// Checks an optional string field that, when present, must be a string of
    /// at least one character (JSON schema `minLength: 1`). Returns the string.
    pub(crate) fn opt_nonempty_str<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'v str> {
        match obj.get(key) {
            None => None,
            Some(Value::String(s)) if !s.is_empty() => Some(s),
            Some(Value::String(s)) => {
                self.invalid(path, s, EXPECT_NON_EMPTY);
                None
            }
            Some(other) => {
                self.wrong_type(path, "a string", other);
                None
            }
        }
    }

    /// Checks a required string field of at least one character.
    pub(crate) fn req_nonempty_str<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<&'v str> {
        if !obj.contains_key(key) {
            self.missing(path);
            return None;
        }
        self.opt_nonempty_str(obj, key, path)
    }
}

/// Best-effort label for messages: `kind:namespace/name`, lowercased, with
/// placeholders for parts that are missing or not strings.
pub(crate) fn entity_label(value: &Value) -> String {
    let get = |ptr: &str| value.pointer(ptr).and_then(Value::as_str);
    let kind = get("/kind")
        .filter(|s| !s.is_empty())
        .unwrap_or("<unknown kind>");
    let namespace = get("/metadata/namespace")
        .filter(|s| !s.is_empty())
        .unwrap_or(DEFAULT_NAMESPACE);
    let name = get("/metadata/name")
        .filter(|s| !s.is_empty())
        .unwrap_or("<unknown name>");
    let part = |s: &str| truncate_for_message(&s.to_lowercase());
    format!("{}:{}/{}", part(kind), part(namespace), part(name))
}

/// Validates an entity document (JSON) fully: envelope, metadata formats,
/// case-only duplicate keys and, for built-in kinds, the kind's spec rules.
///
/// Unknown kinds only get envelope validation: they are common in the wild
/// (custom processors), so the catalog accepts them.
pub fn validate_entity_value(value: &Value, mode: ValidationMode) -> Result<(), ValidationErrors> {
    let label = entity_label(value);
    let Some(root) = value.as_object() else {
        return Err(ValidationErrors::new(
            label,
            vec![ValidationError::NotAnObject {
                found: describe_value(value),
            }],
        ));
    };
    let mut errs = Errors::new();

    let (allowed, allowed_text) = match mode {
        ValidationMode::Input => (INPUT_ROOT_FIELDS, "apiVersion, kind, metadata, spec"),
        ValidationMode::Stored => (
            STORED_ROOT_FIELDS,
            "apiVersion, kind, metadata, spec, relations, status",
        ),
    };
    for key in root.keys() {
        if !allowed.contains(&key.as_str()) {
            errs.push(ValidationError::UnknownRootField {
                field: key.clone(),
                allowed: allowed_text,
            });
        }
    }

    let api_version = errs.req_nonempty_str(root, "apiVersion", "apiVersion");
    if let Some(v) = api_version
        && !is_valid_api_version(v)
    {
        errs.invalid("apiVersion", v, EXPECT_API_VERSION);
    }
    let api_version = api_version.filter(|v| is_valid_api_version(v));

    let kind = errs.req_nonempty_str(root, "kind", "kind");
    if let Some(k) = kind
        && !is_valid_kind(k)
    {
        errs.invalid("kind", k, EXPECT_KIND);
    }
    let kind = kind.filter(|k| is_valid_kind(k));

    match root.get("metadata") {
        None => errs.missing("metadata"),
        Some(Value::Object(meta)) => validate_metadata(meta, &mut errs),
        Some(other) => errs.wrong_type("metadata", "an object", other),
    }

    match root.get("spec") {
        None | Some(Value::Object(_)) => {}
        Some(other) => errs.wrong_type("spec", "an object", other),
    }

    if mode == ValidationMode::Stored {
        if let Some(relations) = root.get("relations") {
            validate_relations_field(relations, &mut errs);
        }
        if let Some(status) = root.get("status") {
            validate_status_field(status, &mut errs);
        }
    }

    let dups = duplicate_case_keys(value);
    if !dups.is_empty() {
        errs.push(ValidationError::DuplicateCaseKeys { keys: dups });
    }

    if let Some(kind) = kind
        && let Some(builtin) = BuiltinKind::from_kind(kind)
    {
        kinds::validate_builtin_kind(builtin, kind, api_version, root.get("spec"), &mut errs);
    }

    if errs.list.is_empty() {
        Ok(())
    } else {
        Err(ValidationErrors::new(label, errs.list))
    }
}

fn validate_metadata(meta: &Map<String, Value>, errs: &mut Errors) {
    if let Some(name) = errs.req_nonempty_str(meta, "name", "metadata.name")
        && !is_valid_entity_name(name)
    {
        errs.invalid("metadata.name", name, EXPECT_NAME);
    }
    if let Some(ns) = errs.opt_nonempty_str(meta, "namespace", "metadata.namespace")
        && !is_valid_namespace(ns)
    {
        errs.invalid("metadata.namespace", ns, EXPECT_NAMESPACE);
    }
    errs.opt_nonempty_str(meta, "title", "metadata.title");
    match meta.get("description") {
        None | Some(Value::String(_)) => {}
        Some(other) => errs.wrong_type("metadata.description", "a string", other),
    }
    errs.opt_nonempty_str(meta, "uid", "metadata.uid");
    errs.opt_nonempty_str(meta, "etag", "metadata.etag");

    validate_string_map(
        meta.get("labels"),
        "metadata.labels",
        errs,
        |errs, path, key, value| {
            if !is_valid_label_key(key) {
                errs.push(ValidationError::InvalidKey {
                    path: path.to_string(),
                    key: truncate_for_message(key),
                    expected: EXPECT_LABEL_KEY,
                });
            }
            if !is_valid_label_value(value) {
                errs.invalid(format!("{path}.{key}"), value, EXPECT_NAME);
            }
        },
    );
    validate_string_map(
        meta.get("annotations"),
        "metadata.annotations",
        errs,
        |errs, path, key, _value| {
            if !is_valid_annotation_key(key) {
                errs.push(ValidationError::InvalidKey {
                    path: path.to_string(),
                    key: truncate_for_message(key),
                    expected: EXPECT_LABEL_KEY,
                });
            }
        },
    );

    match meta.get("tags") {
        None => {}
        Some(Value::Array(tags)) => {
            for (i, tag) in tags.iter().enumerate() {
                let path = format!("metadata.tags[{i}]");
                match tag {
                    Value::String(t) if is_valid_tag(t) => {}
                    Value::String(t) => errs.invalid(path, t, EXPECT_TAG),
                    other => errs.wrong_type(path, "a string", other),
                }
            }
        }
        Some(other) => errs.wrong_type("metadata.tags", "an array of strings", other),
    }

    match meta.get("links") {
        None => {}
        Some(Value::Array(links)) => {
            for (i, link) in links.iter().enumerate() {
                validate_link(link, i, errs);
            }
        }
        Some(other) => errs.wrong_type("metadata.links", "an array of link objects", other),
    }
}

fn validate_string_map(
    value: Option<&Value>,
    path: &str,
    errs: &mut Errors,
    check: impl Fn(&mut Errors, &str, &str, &str),
) {
    match value {
        None => {}
        Some(Value::Object(map)) => {
            for (k, v) in map {
                match v {
                    Value::String(s) => check(errs, path, k, s),
                    other => errs.wrong_type(format!("{path}.{k}"), "a string", other),
                }
            }
        }
        Some(other) => errs.wrong_type(path, "an object of string values", other),
    }
}

fn validate_link(link: &Value, i: usize, errs: &mut Errors) {
    let base = format!("metadata.links[{i}]");
    let Some(obj) = link.as_object() else {
        errs.wrong_type(base, "a link object with a url", link);
        return;
    };
    let url_path = format!("{base}.url");
    match obj.get("url") {
        None => errs.missing(url_path),
        Some(Value::String(u)) if is_valid_url(u) => {}
        Some(Value::String(u)) => errs.invalid(url_path, u, EXPECT_URL),
        Some(other) => errs.wrong_type(url_path, "a string", other),
    }
    let title_path = format!("{base}.title");
    match obj.get("title") {
        None => {}
        Some(Value::String(t)) if is_non_blank_string(t) => {}
        Some(Value::String(t)) => errs.invalid(title_path, t, EXPECT_NON_EMPTY),
        Some(other) => errs.wrong_type(title_path, "a string", other),
    }
    let icon_path = format!("{base}.icon");
    match obj.get("icon") {
        None => {}
        Some(Value::String(t)) if is_valid_object_name(t) => {}
        Some(Value::String(t)) => errs.invalid(icon_path, t, EXPECT_NAME),
        Some(other) => errs.wrong_type(icon_path, "a string", other),
    }
    errs.opt_nonempty_str(obj, "type", &format!("{base}.type"));
}

fn validate_relations_field(relations: &Value, errs: &mut Errors) {
    let Some(items) = relations.as_array() else {
        errs.wrong_type("relations", "an array of relation objects", relations);
        return;
    };
    for (i, rel) in items.iter().enumerate() {
        let base = format!("relations[{i}]");
        let Some(obj) = rel.as_object() else {
            errs.wrong_type(base, "a relation object with type and targetRef", rel);
            continue;
        };
        let type_path = format!("{base}.type");
        if let Some(t) = errs.req_nonempty_str(obj, "type", &type_path)
            && !t.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            errs.invalid(type_path, t, "a string of word characters [A-Za-z0-9_]");
        }
        errs.req_nonempty_str(obj, "targetRef", &format!("{base}.targetRef"));
    }
}

fn validate_status_field(status: &Value, errs: &mut Errors) {
    let Some(obj) = status.as_object() else {
        errs.wrong_type("status", "an object", status);
        return;
    };
    let Some(items) = obj.get("items") else {
        return;
    };
    let Some(items) = items.as_array() else {
        errs.wrong_type("status.items", "an array of status items", items);
        return;
    };
    for (i, item) in items.iter().enumerate() {
        let base = format!("status.items[{i}]");
        let Some(obj) = item.as_object() else {
            errs.wrong_type(base, "a status item object", item);
            continue;
        };
        errs.req_nonempty_str(obj, "type", &format!("{base}.type"));
        let level_path = format!("{base}.level");
        match obj.get("level") {
            None => errs.missing(level_path),
            Some(Value::String(l)) if matches!(l.as_str(), "info" | "warning" | "error") => {}
            Some(Value::String(l)) => {
                errs.invalid(level_path, l, "one of \"info\", \"warning\", \"error\"")
            }
            Some(other) => errs.wrong_type(level_path, "a string", other),
        }
        let msg_path = format!("{base}.message");
        match obj.get("message") {
            None => errs.missing(msg_path),
            Some(Value::String(_)) => {}
            Some(other) => errs.wrong_type(msg_path, "a string", other),
        }
        if let Some(error) = obj.get("error") {
            let epath = format!("{base}.error");
            match error.as_object() {
                None => errs.wrong_type(epath, "an object", error),
                Some(e) => {
                    errs.req_nonempty_str(e, "name", &format!("{epath}.name"));
                    let mpath = format!("{epath}.message");
                    match e.get("message") {
                        None => errs.missing(mpath),
                        Some(Value::String(_)) => {}
                        Some(other) => errs.wrong_type(mpath, "a string", other),
                    }
                    for key in ["code", "stack"] {
                        if let Some(v) = e.get(key)
                            && !v.is_string()
                        {
                            errs.wrong_type(format!("{epath}.{key}"), "a string", v);
                        }
                    }
                }
            }
        }
    }
}
