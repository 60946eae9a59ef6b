//! The template editor's page (`/create/edit`): a pasted template's form, or
//! its problems, and what a dry run of it did.

use super::{OutputLink, OutputText, TemplateForm};
use serde::{Deserialize, Serialize};

/// A pasted template, checked: its form, or every problem with its place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EditorPreview {
    pub problems: Vec<String>,
    pub form: Option<TemplateForm>,
}

/// What a dry run did: each step with its rendered input and its output, the
/// log, the files it produced, and the output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DryRunView {
    pub status: String,
    pub error: Option<String>,
    pub steps: Vec<DryRunStep>,
    pub log: Vec<String>,
    pub files: Vec<DryRunFile>,
    pub links: Vec<OutputLink>,
    pub texts: Vec<OutputText>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunStep {
    pub id: String,
    pub name: String,
    pub action: String,
    pub status: String,
    /// Pretty JSON.
    pub input: Option<String>,
    pub output: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DryRunFile {
    pub path: String,
    pub size: u64,
    pub executable: bool,
    /// Its text, unless it is binary.
    pub text: Option<String>,
}
