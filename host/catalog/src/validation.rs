//! Checking entities and files the way ingestion does, without storing
//! anything: Backstage's `validate-entity` and `analyze-location`, and
//! `portal catalog validate` ([`Validator`]).

use crate::config::CatalogConfig;
use crate::error::CatalogError;
use crate::ingest::read::{UrlReader, read_file};
use crate::ingest::rules::Rules;
use crate::ingest::{Outcome, Processor, ReadContext};
use portal_catalog_model::{ANNOTATION_LOCATION, ANNOTATION_ORIGIN_LOCATION, SerializedError};
use serde_json::Value;
use std::path::Path;

/// Validates an entity the way ingestion would (any kind allowed): `Ok` or
/// the errors in Backstage's serialized form.
pub(crate) fn validate_entity(
    processor: &Processor,
    entity: Value,
    location_ref: &str,
) -> Result<(), Vec<SerializedError>> {
    let (type_, target) = location_ref
        .split_once(':')
        .unwrap_or(("url", location_ref));
    let ctx = ReadContext {
        location_type: type_.to_owned(),
        location_target: target.to_owned(),
        origin: location_ref.to_owned(),
    };
    let processor = Processor {
        rules: Rules::allow_all(),
        ..processor.clone()
    };
    let mut deps = Vec::new();
    let mut value = entity;
    if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(a) = annotations.as_object_mut() {
            a.entry(ANNOTATION_LOCATION.to_owned())
                .or_insert_with(|| location_ref.into());
            a.entry(ANNOTATION_ORIGIN_LOCATION.to_owned())
                .or_insert_with(|| location_ref.into());
        }
    }
    match processor.process_value(value, &ctx, None, &mut deps) {
        Outcome::Entity(_) => Ok(()),
        Outcome::Failed { item, .. } => Err(vec![item.error.unwrap_or_default()]),
    }
}

/// Reads one file or URL and returns the entities it holds, `None` when it
/// does not exist; the first problem found is an input error.
pub(crate) fn read_entities(
    processor: &Processor,
    type_: &str,
    target: &str,
) -> Result<Option<Vec<Value>>, CatalogError> {
    let text = match processor.read_target(type_, target) {
        Ok(text) => text,
        Err(e) if e.is_not_found() => return Ok(None),
        Err(e) => return Err(CatalogError::Input(e.to_string())),
    };
    let ctx = ReadContext {
        location_type: type_.to_owned(),
        location_target: target.to_owned(),
        origin: format!("{type_}:{target}"),
    };
    let mut deps = Vec::new();
    let outcomes = processor
        .process_text(&text, &ctx, &mut deps)
        .map_err(|item| CatalogError::Input(item.message))?;
    outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::Entity(e) => Ok(e.entity.to_value()),
            Outcome::Failed { item, .. } => Err(CatalogError::Input(item.message)),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Checks catalog files the way ingestion does (YAML budgets, placeholders,
/// Backstage validation, relations, catalog rules) without opening a store.
pub struct Validator {
    processor: Processor,
}

/// What one document of a checked file became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckedDocument {
    /// A valid entity.
    Entity {
        /// Its ref (`kind:namespace/name`).
        entity_ref: String,
        /// 1-based line where its document starts, when known.
        line: Option<usize>,
    },
    /// A document that failed.
    Failed {
        /// Backstage's error name (`InputError`, ...).
        name: String,
        /// The message; it starts with `file:line: ` when the line is known.
        message: String,
    },
}

/// A file that could not be checked at all (unreadable, not YAML).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct UncheckedFile(pub String);

impl Validator {
    /// A validator with the configuration's limits and catalog rules (rules
    /// that name configured locations do not apply to loose files).
    pub fn new(config: &CatalogConfig) -> Validator {
        Validator {
            processor: Processor {
                limits: config.limits.clone(),
                rules: Rules::from_config(config, &[]),
                url: UrlReader::new(config),
            },
        }
    }

    /// Checks one file, each document on its own. Blocks (reads the file
    /// and any `$text` placeholders it names).
    pub fn check_file(&self, path: &Path) -> Result<Vec<CheckedDocument>, UncheckedFile> {
        let shown = path.display().to_string();
        let text = read_file(path, self.processor.limits.max_file_bytes)
            .map_err(|e| UncheckedFile(e.to_string()))?;
        let ctx = ReadContext {
            location_type: "file".into(),
            location_target: shown.clone(),
            origin: format!("file:{shown}"),
        };
        let mut deps = Vec::new();
        let outcomes = self
            .processor
            .process_text(&text, &ctx, &mut deps)
            .map_err(|item| UncheckedFile(item.error.map(|e| e.message).unwrap_or(item.message)))?;
        Ok(outcomes
            .into_iter()
            .map(|outcome| match outcome {
                Outcome::Entity(e) => CheckedDocument::Entity {
                    entity_ref: e.entity.ref_string(),
                    line: e.line,
                },
                Outcome::Failed { item, .. } => match item.error {
                    Some(e) => CheckedDocument::Failed {
                        name: e.name,
                        message: e.message,
                    },
                    None => CheckedDocument::Failed {
                        name: "Error".into(),
                        message: item.message,
                    },
                },
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_checked_document_by_document() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("catalog-info.yaml");
        std::fs::write(
            &file,
            "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: good\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n---\napiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bad name!\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
        )
        .unwrap();
        let validator = Validator::new(&CatalogConfig::default());
        let checked = validator.check_file(&file).unwrap();
        assert_eq!(checked.len(), 2, "{checked:?}");
        assert_eq!(
            checked[0],
            CheckedDocument::Entity {
                entity_ref: "component:default/good".into(),
                line: Some(1)
            }
        );
        assert!(
            matches!(&checked[1], CheckedDocument::Failed { message, .. } if message.contains("bad name!")),
            "{checked:?}"
        );
        let missing = validator.check_file(&dir.path().join("missing.yaml"));
        assert!(missing.is_err());
    }
}
