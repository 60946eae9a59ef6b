//! Turning catalog files into validated entities.
//!
//! For each document of a file: parse (under budgets), resolve `$text`,
//! `$json`, `$yaml` placeholders relative to the file, add the location
//! annotations, validate exactly as Backstage does, check the catalog rules,
//! and generate relations. Every problem becomes a Backstage-shaped status
//! item naming the file and line; one bad document never affects the others.

pub mod glob;
pub mod read;
pub mod rules;
pub mod tree;
pub mod yaml;

use crate::config::LimitsConfig;
use portal_catalog_model::{
    ANNOTATION_EDIT_URL, ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION,
    ANNOTATION_SOURCE_LOCATION, ANNOTATION_VIEW_URL, ENTITY_STATUS_CATALOG_PROCESSING_TYPE, Entity,
    FlatEntity, RelationEdge, SerializedError, StatusItem, StatusLevel, relation_edges,
};
use read::{ReadError, UrlReader};
use rules::Rules;
use serde_json::{Map, Value};
use std::path::{Path, PathBuf};

/// Where a document was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadContext {
    /// `file`, `url`, or `provider`.
    pub location_type: String,
    /// The file path, URL or provider location read.
    pub location_target: String,
    /// The origin location ref (`managed-by-origin-location`).
    pub origin: String,
}

impl ReadContext {
    /// `<type>:<target>`.
    pub fn location_ref(&self) -> String {
        format!("{}:{}", self.location_type, self.location_target)
    }
}

/// A document that became a valid entity.
#[derive(Debug, Clone)]
pub struct ReadyEntity {
    /// The entity (namespace set, annotations added).
    pub entity: Entity,
    /// Its flattened form (without relations).
    pub flat: FlatEntity,
    /// Relation edges its spec produced.
    pub edges: Vec<RelationEdge>,
    /// 1-based line in the file, when known.
    pub line: Option<usize>,
    /// Its stored body with a fresh uid, built before the writer takes over
    /// when the entity is expected to be new (the first read of a source).
    pub fresh: Option<FreshBody>,
}

/// An entity's body built ahead of the catalog's single writer.
#[derive(Debug, Clone)]
pub struct FreshBody {
    /// The new `metadata.uid` it carries.
    pub uid: String,
    /// The body (uid and etag set), packed.
    pub body: crate::body::Body,
}

/// What one document produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// A valid entity.
    Entity(Box<ReadyEntity>),
    /// The document failed; `entity_ref` is set when it could still be told
    /// which entity it was meant to be.
    Failed {
        /// Canonical ref, if identifiable.
        entity_ref: Option<String>,
        /// The error, as a status item.
        item: StatusItem,
    },
}

/// A `status.items` entry for a processing error (Backstage's shape).
pub fn error_item(name: &str, message: impl Into<String>) -> StatusItem {
    let message = message.into();
    StatusItem {
        type_: ENTITY_STATUS_CATALOG_PROCESSING_TYPE.to_owned(),
        level: StatusLevel::Error,
        message: format!("{name}: {message}"),
        error: Some(SerializedError {
            name: name.to_owned(),
            message,
            ..SerializedError::default()
        }),
        extra: Map::new(),
    }
}

/// Turns documents into entities.
#[derive(Clone)]
pub struct Processor {
    /// Input limits.
    pub limits: LimitsConfig,
    /// Catalog rules.
    pub rules: Rules,
    /// Reader for `url` placeholders and targets.
    pub url: UrlReader,
}

const MAX_PLACEHOLDERS: usize = 100;

impl Processor {
    /// Reads a file or URL target as text. Must run where blocking is allowed
    /// (URL reads block on the current Tokio runtime).
    pub fn read_target(&self, location_type: &str, target: &str) -> Result<String, ReadError> {
        match location_type {
            "file" => read::read_file(Path::new(target), self.limits.max_file_bytes),
            "url" => block_on(self.url.read(target)),
            other => Err(ReadError::Other {
                what: format!("{other}:{target}"),
                message: format!("unsupported location type `{other}` (use file or url)"),
            }),
        }
    }

    /// Processes a whole file's text.
    pub fn process_text(
        &self,
        text: &str,
        ctx: &ReadContext,
        deps: &mut Vec<String>,
    ) -> Result<Vec<Outcome>, StatusItem> {
        let docs = yaml::split_documents(text);
        if docs.len() > self.limits.max_documents_per_file {
            return Err(error_item(
                "InputError",
                format!(
                    "{} has {} documents, over the limit of {} (catalog.limits.max_documents_per_file)",
                    ctx.location_target,
                    docs.len(),
                    self.limits.max_documents_per_file
                ),
            ));
        }
        let mut out = Vec::with_capacity(docs.len());
        for doc in &docs {
            match yaml::parse_document(doc, &self.limits) {
                Ok(Value::Null) => {}
                Ok(value) => out.push(self.process_value(value, ctx, Some(doc.line), deps)),
                Err(e) => out.push(Outcome::Failed {
                    entity_ref: None,
                    item: error_item(
                        "InputError",
                        format!(
                            "{}:{}: YAML error: {}",
                            ctx.location_target,
                            e.line.unwrap_or(doc.line),
                            e.message
                        ),
                    ),
                }),
            }
        }
        Ok(out)
    }

    /// Processes one parsed document.
    pub fn process_value(
        &self,
        mut value: Value,
        ctx: &ReadContext,
        line: Option<usize>,
        deps: &mut Vec<String>,
    ) -> Outcome {
        let at = match line {
            Some(l) => format!("{}:{l}", ctx.location_target),
            None => ctx.location_target.clone(),
        };
        let identified = identify(&value);
        let fail = |name: &str, message: String| Outcome::Failed {
            entity_ref: identified.clone(),
            item: error_item(name, format!("{at}: {message}")),
        };
        if !value.is_object() {
            return fail(
                "InputError",
                format!(
                    "expected an entity (a mapping), found {}",
                    describe_json_type(&value)
                ),
            );
        }
        let mut budget = MAX_PLACEHOLDERS;
        if let Err(message) = self.substitute(&mut value, ctx, deps, &mut budget) {
            return fail("InputError", message);
        }
        annotate(&mut value, ctx);
        let mut entity = match Entity::from_value(value) {
            Ok(e) => e,
            Err(e) => return fail("InputError", e.to_string()),
        };
        entity.set_default_namespace();
        if !self.rules.allows(
            &entity.kind,
            &ctx.location_type,
            &ctx.location_target,
            &ctx.origin,
        ) {
            return fail(
                "NotAllowedError",
                format!(
                    "Entity {} at {}, originated at {}, is not of an allowed kind for that location (see catalog.rules)",
                    entity.ref_string(),
                    ctx.location_ref(),
                    ctx.origin
                ),
            );
        }
        let edges = match relation_edges(&entity) {
            Ok(edges) => edges,
            Err(e) => return fail("InputError", e.to_string()),
        };
        let flat = FlatEntity::from_entity(&entity);
        Outcome::Entity(Box::new(ReadyEntity {
            entity,
            flat,
            edges,
            line,
            fresh: None,
        }))
    }

    fn substitute(
        &self,
        value: &mut Value,
        ctx: &ReadContext,
        deps: &mut Vec<String>,
        budget: &mut usize,
    ) -> Result<(), String> {
        match value {
            Value::Object(map) => {
                if map.len() == 1 {
                    let (key, arg) = map.iter().next().expect("one entry");
                    if matches!(key.as_str(), "$text" | "$json" | "$yaml") {
                        let key = key.clone();
                        let Value::String(target) = arg else {
                            return Err(format!(
                                "placeholder {key} expects a string (a path or URL), got {}",
                                describe_json_type(arg)
                            ));
                        };
                        if *budget == 0 {
                            return Err(format!(
                                "more than {MAX_PLACEHOLDERS} placeholders in one entity"
                            ));
                        }
                        *budget -= 1;
                        let target = target.clone();
                        *value = self.resolve_placeholder(&key, &target, ctx, deps)?;
                        return Ok(());
                    }
                }
                for v in map.values_mut() {
                    self.substitute(v, ctx, deps, budget)?;
                }
                Ok(())
            }
            Value::Array(items) => {
                for v in items {
                    self.substitute(v, ctx, deps, budget)?;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn resolve_placeholder(
        &self,
        key: &str,
        target: &str,
        ctx: &ReadContext,
        deps: &mut Vec<String>,
    ) -> Result<Value, String> {
        let (type_, resolved) = resolve_relative(ctx, target).ok_or_else(|| {
            format!(
                "cannot resolve {key} target `{target}` relative to {}",
                ctx.location_ref()
            )
        })?;
        if type_ == "file" {
            deps.push(resolved.clone());
        }
        let text = self
            .read_target(&type_, &resolved)
            .map_err(|e| format!("{key} placeholder: {e}"))?;
        match key {
            "$text" => Ok(Value::String(text)),
            "$json" => serde_json::from_str(&text)
                .map_err(|e| format!("$json placeholder: {resolved} is not valid JSON: {e}")),
            _ => {
                let docs = yaml::split_documents(&text);
                if docs.len() > 1 {
                    return Err(format!(
                        "$yaml placeholder: {resolved} has {} documents; expected one",
                        docs.len()
                    ));
                }
                match docs.first() {
                    None => Ok(Value::Null),
                    Some(doc) => yaml::parse_document(doc, &self.limits).map_err(|e| {
                        format!(
                            "$yaml placeholder: {resolved}:{}: {}",
                            e.line.unwrap_or(1),
                            e.message
                        )
                    }),
                }
            }
        }
    }
}

/// Runs a future to completion from blocking code inside a Tokio runtime,
/// or on a small private runtime outside one (tools).
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => tokio::task::block_in_place(|| handle.block_on(f)),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(f),
    }
}

/// Resolves a target written inside a document relative to where the
/// document was read: `(type, absolute target)`.
pub fn resolve_relative(ctx: &ReadContext, target: &str) -> Option<(String, String)> {
    let target = target.trim();
    if target.starts_with("http://") || target.starts_with("https://") {
        return Some(("url".into(), target.to_owned()));
    }
    match ctx.location_type.as_str() {
        "file" => {
            let base = Path::new(&ctx.location_target)
                .parent()
                .unwrap_or(Path::new("/"));
            Some(("file".into(), normalize(&base.join(target))))
        }
        "url" => {
            let base = url::Url::parse(&ctx.location_target).ok()?;
            Some(("url".into(), base.join(target).ok()?.to_string()))
        }
        _ => {
            let base = url::Url::parse(&ctx.location_target).ok()?;
            if base.scheme() == "http" || base.scheme() == "https" {
                Some(("url".into(), base.join(target).ok()?.to_string()))
            } else {
                None
            }
        }
    }
}

/// Lexically normalizes a path (`a/./b/../c` → `a/c`), keeping it absolute.
pub fn normalize(path: &Path) -> String {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out.display().to_string()
}

fn describe_json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// The canonical ref a (possibly invalid) document names, if it has a kind
/// and a name.
pub fn identify(value: &Value) -> Option<String> {
    let kind = value.get("kind")?.as_str()?;
    let meta = value.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let ns = meta
        .get("namespace")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .unwrap_or("default");
    if kind.is_empty() || name.is_empty() {
        return None;
    }
    Some(format!("{kind}:{ns}/{name}").to_lowercase())
}

/// Adds the location annotations (values already in the document win).
pub fn annotate(value: &mut Value, ctx: &ReadContext) {
    let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(annotations) = annotations.as_object_mut() else {
        return;
    };
    let mut add = |k: &str, v: String| {
        annotations
            .entry(k.to_owned())
            .or_insert_with(|| Value::String(v));
    };
    add(ANNOTATION_LOCATION, ctx.location_ref());
    add(ANNOTATION_ORIGIN_LOCATION, ctx.origin.clone());
    let url = &ctx.location_target;
    let is_http = url.starts_with("http://") || url.starts_with("https://");
    if ctx.location_type == "url" && is_http || ctx.location_type == "provider" && is_http {
        add(ANNOTATION_VIEW_URL, url.clone());
        if !has_commit_hash(url) {
            add(ANNOTATION_EDIT_URL, edit_url(url));
        }
        if let Some(i) = url.rfind('/') {
            add(ANNOTATION_SOURCE_LOCATION, format!("url:{}", &url[..=i]));
        }
    }
}

fn has_commit_hash(url: &str) -> bool {
    url.split('/')
        .any(|s| s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn edit_url(url: &str) -> String {
    if url.contains("github.com/") && url.contains("/blob/") {
        url.replacen("/blob/", "/edit/", 1)
    } else if url.contains("/-/blob/") {
        url.replacen("/-/blob/", "/-/edit/", 1)
    } else {
        url.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CatalogConfig;
    use serde_json::json;

    fn processor() -> Processor {
        let config = CatalogConfig::default();
        Processor {
            limits: config.limits.clone(),
            rules: Rules::from_config(&config, &[]),
            url: UrlReader::new(&config),
        }
    }

    fn file_ctx(path: &str) -> ReadContext {
        ReadContext {
            location_type: "file".into(),
            location_target: path.into(),
            origin: format!("file:{path}"),
        }
    }

    #[test]
    fn one_bad_document_does_not_block_neighbours() {
        let text = "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad name!\nspec: {type: x, lifecycle: y, owner: z}\n---\nkind: [broken\n---\napiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: team-a\nspec:\n  type: team\n  children: []\n";
        let mut deps = Vec::new();
        let out = processor()
            .process_text(text, &file_ctx("/repo/catalog-info.yaml"), &mut deps)
            .unwrap();
        assert_eq!(out.len(), 4);
        assert!(matches!(&out[0], Outcome::Entity(e) if e.entity.metadata.name == "good"));
        match &out[1] {
            Outcome::Failed { entity_ref, item } => {
                assert_eq!(entity_ref.as_deref(), Some("component:default/bad name!"));
                assert!(
                    item.message.contains("/repo/catalog-info.yaml:10"),
                    "{}",
                    item.message
                );
            }
            other => panic!("{other:?}"),
        }
        match &out[2] {
            Outcome::Failed { entity_ref, item } => {
                assert!(entity_ref.is_none());
                assert!(item.message.contains("YAML error"), "{}", item.message);
                assert!(
                    item.message.contains("catalog-info.yaml:16"),
                    "{}",
                    item.message
                );
            }
            other => panic!("{other:?}"),
        }
        let Outcome::Entity(group) = &out[3] else {
            panic!()
        };
        assert_eq!(
            group.entity.annotation(ANNOTATION_LOCATION),
            Some("file:/repo/catalog-info.yaml")
        );
        assert_eq!(group.entity.metadata.namespace.as_deref(), Some("default"));
    }

    #[test]
    fn placeholders_resolve_relative_to_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("specs")).unwrap();
        std::fs::write(dir.path().join("specs/api.yaml"), "openapi: 3.0.0\n").unwrap();
        std::fs::write(dir.path().join("specs/data.json"), "{\"a\": [1, 2]}").unwrap();
        let path = dir.path().join("catalog-info.yaml");
        let value = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "petstore", "x": {"$json": "./specs/data.json"}, "y": {"$yaml": "specs/api.yaml"}},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": {"$text": "./specs/api.yaml"}}
        });
        let mut deps = Vec::new();
        let out = processor().process_value(
            value,
            &file_ctx(&path.display().to_string()),
            None,
            &mut deps,
        );
        let Outcome::Entity(e) = out else {
            panic!("{out:?}")
        };
        assert_eq!(e.entity.spec_str("definition"), Some("openapi: 3.0.0\n"));
        assert_eq!(e.entity.metadata.extra["x"], json!({"a": [1, 2]}));
        assert_eq!(e.entity.metadata.extra["y"], json!({"openapi": "3.0.0"}));
        assert_eq!(deps.len(), 3);

        let missing = json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "API",
            "metadata": {"name": "gone"},
            "spec": {"type": "openapi", "lifecycle": "production", "owner": "team-a", "definition": {"$text": "./nope.yaml"}}
        });
        let out = processor().process_value(
            missing,
            &file_ctx(&path.display().to_string()),
            Some(3),
            &mut deps,
        );
        let Outcome::Failed { entity_ref, item } = out else {
            panic!()
        };
        assert_eq!(entity_ref.as_deref(), Some("api:default/gone"));
        assert!(
            item.message.contains("nope.yaml does not exist"),
            "{}",
            item.message
        );
    }

    #[test]
    fn url_annotations() {
        let mut v =
            json!({"metadata": {"name": "x", "annotations": {"backstage.io/view-url": "custom"}}});
        annotate(
            &mut v,
            &ReadContext {
                location_type: "url".into(),
                location_target: "https://github.com/o/r/blob/main/svc/catalog-info.yaml".into(),
                origin: "url:https://github.com/o/r/blob/main/catalog-info.yaml".into(),
            },
        );
        let a = &v["metadata"]["annotations"];
        assert_eq!(a["backstage.io/view-url"], "custom");
        assert_eq!(
            a["backstage.io/edit-url"],
            "https://github.com/o/r/edit/main/svc/catalog-info.yaml"
        );
        assert_eq!(
            a["backstage.io/source-location"],
            "url:https://github.com/o/r/blob/main/svc/"
        );
        assert_eq!(
            a["backstage.io/managed-by-location"],
            "url:https://github.com/o/r/blob/main/svc/catalog-info.yaml"
        );
    }
}
