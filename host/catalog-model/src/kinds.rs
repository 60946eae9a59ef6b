//! The built-in kinds and their spec rules (Backstage's kind JSON schemas).
//!
//! Kind lookup is case-insensitive (`component` is treated as `Component`),
//! because entity refs treat kinds case-insensitively and rejecting a
//! lowercase kind in a catalog file helps nobody; the entity keeps its
//! original spelling. Unknown kinds get envelope validation only.

use serde_json::{Map, Value};

use crate::error::ValidationError;
use crate::validate::{EXPECT_NON_EMPTY, Errors};

/// apiVersions accepted by all built-in kinds except Template.
pub const BACKSTAGE_API_VERSIONS: &[&str] = &["backstage.io/v1alpha1", "backstage.io/v1beta1"];
/// apiVersions accepted by Template.
pub const TEMPLATE_API_VERSIONS: &[&str] = &["scaffolder.backstage.io/v1beta3"];

/// The `spec.type` of an API entity that describes an MCP server; such APIs
/// carry `remotes[]` instead of `definition`.
pub const API_TYPE_MCP_SERVER: &str = "mcp-server";

/// The kinds Backstage ships with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BuiltinKind {
    /// A piece of software (service, website, library, ...).
    Component,
    /// An interface exposed by components (`kind: API`).
    Api,
    /// Infrastructure a system needs (database, bucket, ...).
    Resource,
    /// A collection of components, APIs and resources.
    System,
    /// A business area grouping systems.
    Domain,
    /// An organisational unit (team, business unit, ...).
    Group,
    /// A person.
    User,
    /// A pointer to further catalog files.
    Location,
    /// A scaffolder template (`scaffolder.backstage.io/v1beta3`).
    Template,
}

impl BuiltinKind {
    /// Every built-in kind.
    pub const ALL: [BuiltinKind; 9] = [
        BuiltinKind::Component,
        BuiltinKind::Api,
        BuiltinKind::Resource,
        BuiltinKind::System,
        BuiltinKind::Domain,
        BuiltinKind::Group,
        BuiltinKind::User,
        BuiltinKind::Location,
        BuiltinKind::Template,
    ];

    /// Looks a kind up case-insensitively; `None` for unknown kinds.
    pub fn from_kind(kind: &str) -> Option<BuiltinKind> {
        BuiltinKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(kind))
    }

    /// The canonical spelling, e.g. `"API"` or `"Component"`.
    pub fn as_str(self) -> &'static str {
        match self {
            BuiltinKind::Component => "Component",
            BuiltinKind::Api => "API",
            BuiltinKind::Resource => "Resource",
            BuiltinKind::System => "System",
            BuiltinKind::Domain => "Domain",
            BuiltinKind::Group => "Group",
            BuiltinKind::User => "User",
            BuiltinKind::Location => "Location",
            BuiltinKind::Template => "Template",
        }
    }

    /// The apiVersions this kind accepts (compared exactly).
    pub fn api_versions(self) -> &'static [&'static str] {
        match self {
            BuiltinKind::Template => TEMPLATE_API_VERSIONS,
            _ => BACKSTAGE_API_VERSIONS,
        }
    }

    /// The spec fields this kind knows, with their requirement and type.
    pub fn spec_fields(self) -> &'static [SpecField] {
        match self {
            BuiltinKind::Component => COMPONENT_SPEC,
            BuiltinKind::Api => API_SPEC,
            BuiltinKind::Resource => RESOURCE_SPEC,
            BuiltinKind::System => SYSTEM_SPEC,
            BuiltinKind::Domain => DOMAIN_SPEC,
            BuiltinKind::Group => GROUP_SPEC,
            BuiltinKind::User => USER_SPEC,
            BuiltinKind::Location => LOCATION_SPEC,
            BuiltinKind::Template => TEMPLATE_SPEC,
        }
    }
}

impl std::fmt::Display for BuiltinKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The JSON shape a spec field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A string of at least one character.
    Str,
    /// An array of strings of at least one character each (may be empty).
    StrArray,
    /// Any object.
    Object,
    /// Any array.
    Array,
    /// An object, or an array of objects (Template `parameters`).
    ObjectOrArrayOfObjects,
    /// `"required"` or `"optional"` (Location `presence`).
    Presence,
    /// Group profile: object with optional non-empty string display fields.
    GroupProfile,
    /// User profile: object with optional non-empty string fields.
    UserProfile,
    /// Template steps: array of objects, each with a string `action`.
    Steps,
    /// MCP server remotes: at least one `{type, url}` object.
    Remotes,
}

/// One spec field rule of a built-in kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecField {
    /// Key inside `spec`.
    pub name: &'static str,
    /// Whether the key must be present.
    pub required: bool,
    /// The shape it must have.
    pub ty: FieldType,
}

const fn req(name: &'static str, ty: FieldType) -> SpecField {
    SpecField {
        name,
        required: true,
        ty,
    }
}

const fn opt(name: &'static str, ty: FieldType) -> SpecField {
    SpecField {
        name,
        required: false,
        ty,
    }
}

const GROUP_PROFILE_FIELDS: &[&str] = &["displayName", "email", "picture"];
const USER_PROFILE_FIELDS: &[&str] = &[
    "displayName",
    "email",
    "picture",
    "pronouns",
    "jobTitle",
    "startDateISO",
    "manager",
    "timezoneISO",
    "location",
    "directMessageURL",
];

use FieldType::*;

const COMPONENT_SPEC: &[SpecField] = &[
    req("type", Str),
    req("lifecycle", Str),
    req("owner", Str),
    opt("system", Str),
    opt("subcomponentOf", Str),
    opt("providesApis", StrArray),
    opt("consumesApis", StrArray),
    opt("dependsOn", StrArray),
];
const API_SPEC: &[SpecField] = &[
    req("type", Str),
    req("lifecycle", Str),
    req("owner", Str),
    req("definition", Str),
    opt("system", Str),
];
const RESOURCE_SPEC: &[SpecField] = &[
    req("type", Str),
    req("owner", Str),
    opt("dependsOn", StrArray),
    opt("dependencyOf", StrArray),
    opt("system", Str),
];
const SYSTEM_SPEC: &[SpecField] = &[req("owner", Str), opt("domain", Str), opt("type", Str)];
const DOMAIN_SPEC: &[SpecField] = &[req("owner", Str), opt("subdomainOf", Str), opt("type", Str)];
const GROUP_SPEC: &[SpecField] = &[
    req("type", Str),
    req("children", StrArray),
    opt("profile", GroupProfile),
    opt("parent", Str),
    opt("members", StrArray),
];
const USER_SPEC: &[SpecField] = &[req("memberOf", StrArray), opt("profile", UserProfile)];
const LOCATION_SPEC: &[SpecField] = &[
    opt("type", Str),
    opt("target", Str),
    opt("targets", StrArray),
    opt("presence", Presence),
];
const TEMPLATE_SPEC: &[SpecField] = &[
    req("type", Str),
    req("steps", Steps),
    opt("owner", Str),
    opt("lifecycle", Str),
    opt("parameters", ObjectOrArrayOfObjects),
    opt("secrets", Object),
    opt("presentation", Object),
    opt("output", Object),
    opt("formDecorators", Array),
    opt("EXPERIMENTAL_recovery", Object),
];

/// Validates the apiVersion and spec of a built-in kind, appending problems.
pub(crate) fn validate_builtin_kind(
    kind: BuiltinKind,
    kind_as_written: &str,
    api_version: Option<&str>,
    spec: Option<&Value>,
    errs: &mut Errors,
) {
    if let Some(v) = api_version
        && !kind.api_versions().contains(&v)
    {
        errs.push(ValidationError::UnsupportedApiVersion {
            kind: kind_as_written.to_string(),
            api_version: v.to_string(),
            allowed: kind.api_versions(),
        });
    }
    let spec = match spec {
        None => {
            errs.missing("spec");
            return;
        }
        Some(Value::Object(s)) => s,
        // A non-object spec was already reported by the envelope check.
        Some(_) => return,
    };

    if kind == BuiltinKind::Api
        && spec.get("type").and_then(Value::as_str) == Some(API_TYPE_MCP_SERVER)
    {
        validate_mcp_server_api(spec, errs);
        return;
    }
    for field in kind.spec_fields() {
        check_field(spec, field, errs);
    }
}

/// An MCP server API passes with either the standard API schema (a
/// `definition`) or the MCP schema (`remotes[]`, at least one).
fn validate_mcp_server_api(spec: &Map<String, Value>, errs: &mut Errors) {
    let common = [
        req("type", FieldType::Str),
        req("lifecycle", FieldType::Str),
        req("owner", FieldType::Str),
        opt("system", FieldType::Str),
    ];
    for field in &common {
        check_field(spec, field, errs);
    }
    let definition_ok = matches!(spec.get("definition"), Some(Value::String(s)) if !s.is_empty());
    if definition_ok {
        return;
    }
    check_field(spec, &req("remotes", FieldType::Remotes), errs);
}

fn check_field(spec: &Map<String, Value>, field: &SpecField, errs: &mut Errors) {
    let path = format!("spec.{}", field.name);
    let Some(value) = spec.get(field.name) else {
        if field.required {
            errs.missing(path);
        }
        return;
    };
    check_type(value, field.ty, &path, errs);
}

fn check_str(value: &Value, path: &str, errs: &mut Errors) {
    match value {
        Value::String(s) if !s.is_empty() => {}
        Value::String(s) => errs.invalid(path, s, EXPECT_NON_EMPTY),
        other => errs.wrong_type(path, "a string", other),
    }
}

fn check_type(value: &Value, ty: FieldType, path: &str, errs: &mut Errors) {
    match ty {
        FieldType::Str => check_str(value, path, errs),
        FieldType::StrArray => match value {
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    check_str(item, &format!("{path}[{i}]"), errs);
                }
            }
            other => errs.wrong_type(path, "an array of strings", other),
        },
        FieldType::Object => {
            if !value.is_object() {
                errs.wrong_type(path, "an object", value);
            }
        }
        FieldType::Array => {
            if !value.is_array() {
                errs.wrong_type(path, "an array", value);
            }
        }
        FieldType::ObjectOrArrayOfObjects => match value {
            Value::Object(_) => {}
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_object() {
                        errs.wrong_type(format!("{path}[{i}]"), "an object", item);
                    }
                }
            }
            other => errs.wrong_type(path, "an object or an array of objects", other),
        },
        FieldType::Presence => match value {
            Value::String(s) if s == "required" || s == "optional" => {}
            Value::String(s) => errs.invalid(path, s, "one of \"required\", \"optional\""),
            other => errs.wrong_type(path, "a string", other),
        },
        FieldType::GroupProfile | FieldType::UserProfile => {
            let Some(obj) = value.as_object() else {
                errs.wrong_type(path, "an object", value);
                return;
            };
            let fields = if ty == FieldType::GroupProfile {
                GROUP_PROFILE_FIELDS
            } else {
                USER_PROFILE_FIELDS
            };
            for f in fields {
                if let Some(v) = obj.get(*f) {
                    check_str(v, &format!("{path}.{f}"), errs);
                }
            }
            if ty == FieldType::UserProfile
                && let Some(handles) = obj.get("externalHandles")
            {
                let hpath = format!("{path}.externalHandles");
                match handles.as_object() {
                    Some(h) => {
                        for (k, v) in h {
                            check_str(v, &format!("{hpath}.{k}"), errs);
                        }
                    }
                    None => errs.wrong_type(hpath, "an object", handles),
                }
            }
        }
        FieldType::Steps => {
            let Some(steps) = value.as_array() else {
                errs.wrong_type(path, "an array of step objects", value);
                return;
            };
            for (i, step) in steps.iter().enumerate() {
                let spath = format!("{path}[{i}]");
                let Some(obj) = step.as_object() else {
                    errs.wrong_type(spath, "a step object", step);
                    continue;
                };
                match obj.get("action") {
                    None => errs.missing(format!("{spath}.action")),
                    Some(Value::String(_)) => {}
                    Some(other) => errs.wrong_type(format!("{spath}.action"), "a string", other),
                }
                for key in ["id", "name"] {
                    if let Some(v) = obj.get(key)
                        && !v.is_string()
                    {
                        errs.wrong_type(format!("{spath}.{key}"), "a string", v);
                    }
                }
                if let Some(v) = obj.get("input")
                    && !v.is_object()
                {
                    errs.wrong_type(format!("{spath}.input"), "an object", v);
                }
                if let Some(v) = obj.get("if")
                    && !(v.is_string() || v.is_boolean())
                {
                    errs.wrong_type(format!("{spath}.if"), "a string or a boolean", v);
                }
            }
        }
        FieldType::Remotes => {
            let Some(remotes) = value.as_array() else {
                errs.wrong_type(path, "an array of {type, url} objects", value);
                return;
            };
            if remotes.is_empty() {
                errs.invalid(path, "[]", "at least one remote ({type, url})");
            }
            for (i, remote) in remotes.iter().enumerate() {
                let rpath = format!("{path}[{i}]");
                let Some(obj) = remote.as_object() else {
                    errs.wrong_type(rpath, "an object with type and url", remote);
                    continue;
                };
                errs.req_nonempty_str(obj, "type", &format!("{rpath}.type"));
                errs.req_nonempty_str(obj, "url", &format!("{rpath}.url"));
            }
        }
    }
}
