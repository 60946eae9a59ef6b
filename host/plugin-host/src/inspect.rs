//! Looking inside a `.wasm` without compiling or running it: is it a component,
//! which version of Portal's contract does it use, what does it import and export.
//! This is cheap, so a broken or foreign file is refused before any compile.

use crate::error::LoadError;
use sha2::{Digest, Sha256};
use std::path::Path;
use wasmparser::{Parser, Payload};

/// The package every plugin interface lives in.
pub const PACKAGE: &str = "portal:plugin";

/// What a plugin file declares about itself, read from its binary.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentSummary {
    pub size: u64,
    pub sha256: String,
    /// The `portal:plugin` version it was built against (the highest one named).
    pub wit_version: semver::Version,
    /// Top-level imports, e.g. `portal:plugin/log@1.0.0`, `wasi:http/outgoing-handler@0.2.6`.
    pub imports: Vec<String>,
    /// Top-level exports, e.g. `portal:plugin/panel@1.0.0`.
    pub exports: Vec<String>,
}

impl ComponentSummary {
    /// Whether it imports `wasi:http` (it wants outbound HTTP).
    pub fn uses_http(&self) -> bool {
        self.imports.iter().any(|i| i.starts_with("wasi:http/"))
    }
}

pub fn inspect(file: &Path, bytes: &[u8]) -> Result<ComponentSummary, LoadError> {
    let not_component = |reason: String| LoadError::NotAComponent {
        file: file.to_owned(),
        reason,
    };
    if bytes.len() < 8 || &bytes[..4] != b"\0asm" {
        let head: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
        return Err(not_component(format!(
            "it does not start with the WebAssembly magic bytes 00 61 73 6d (found {})",
            if head.is_empty() {
                "an empty file".to_owned()
            } else {
                head.join(" ")
            }
        )));
    }
    if Parser::is_core_wasm(bytes) {
        return Err(not_component(
            "it is a core WebAssembly module; build it as a component (for Rust: --target wasm32-wasip2; \
             or wrap a module with `wasm-tools component new`)"
                .to_owned(),
        ));
    }
    if !Parser::is_component(bytes) {
        return Err(not_component(
            "its header names an unknown WebAssembly encoding version".to_owned(),
        ));
    }

    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| not_component(format!("malformed binary: {e}")))?;
        match payload {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(reader) if depth == 1 => {
                for import in reader {
                    let import =
                        import.map_err(|e| not_component(format!("malformed import: {e}")))?;
                    imports.push(import.name.name.to_owned());
                }
            }
            Payload::ComponentExportSection(reader) if depth == 1 => {
                for export in reader {
                    let export =
                        export.map_err(|e| not_component(format!("malformed export: {e}")))?;
                    exports.push(export.name.name.to_owned());
                }
            }
            _ => {}
        }
    }

    let wit_version = imports
        .iter()
        .chain(&exports)
        .filter_map(|name| portal_version(name))
        .max()
        .ok_or_else(|| LoadError::NotAPlugin {
            file: file.to_owned(),
        })?;

    Ok(ComponentSummary {
        size: bytes.len() as u64,
        sha256: hex::encode(Sha256::digest(bytes)),
        wit_version,
        imports,
        exports,
    })
}

/// `portal:plugin/meta@1.2.0` → 1.2.0; other names → None.
fn portal_version(name: &str) -> Option<semver::Version> {
    let rest = name.strip_prefix(PACKAGE)?.strip_prefix('/')?;
    let (_, version) = rest.split_once('@')?;
    semver::Version::parse(version).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inspect_wat(wat: &str) -> Result<ComponentSummary, LoadError> {
        let bytes = wat::parse_str(wat).unwrap();
        inspect(Path::new("t.wasm"), &bytes)
    }

    #[test]
    fn refuses_non_wasm() {
        let err = inspect(Path::new("x.wasm"), b"\x7fELF\x02\x01\x01\0").unwrap_err();
        assert!(matches!(err, LoadError::NotAComponent { .. }));
        assert!(err.to_string().contains("7f 45 4c 46"), "{err}");
        let err = inspect(Path::new("x.wasm"), b"").unwrap_err();
        assert!(err.to_string().contains("empty file"), "{err}");
    }

    #[test]
    fn refuses_core_modules() {
        let err = inspect_wat("(module)").unwrap_err();
        assert!(err.to_string().contains("core WebAssembly module"), "{err}");
    }

    #[test]
    fn refuses_components_without_the_contract() {
        let err = inspect_wat("(component)").unwrap_err();
        assert!(matches!(err, LoadError::NotAPlugin { .. }), "{err}");
    }

    #[test]
    fn reads_the_contract_version() {
        let summary = inspect_wat(
            r#"(component
                (import "portal:plugin/log@1.0.0" (instance))
                (import "wasi:cli/environment@0.2.6" (instance))
                (instance $m)
                (export "portal:plugin/meta@2.3.0" (instance $m))
            )"#,
        )
        .unwrap();
        assert_eq!(summary.wit_version, semver::Version::new(2, 3, 0));
        assert_eq!(
            summary.imports,
            ["portal:plugin/log@1.0.0", "wasi:cli/environment@0.2.6"]
        );
        assert_eq!(summary.exports, ["portal:plugin/meta@2.3.0"]);
    }
}
