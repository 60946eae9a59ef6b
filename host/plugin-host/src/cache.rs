//! Compiled plugins cached on disk, keyed by the `.wasm`'s content hash, the
//! compiler tier and the engine's compatibility hash, so a restart (or a file
//! that comes back) does not compile again. Written atomically; a cache file that
//! fails to load is treated as a miss and replaced.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use wasmtime::Engine;
use wasmtime::component::Component;

use crate::engine::Tier;

#[derive(Clone)]
pub(crate) struct ArtifactCache {
    dir: PathBuf,
}

impl ArtifactCache {
    pub(crate) fn new(dir: PathBuf) -> std::io::Result<ArtifactCache> {
        std::fs::create_dir_all(&dir)?;
        Ok(ArtifactCache { dir })
    }

    fn path(&self, engine: &Engine, sha256: &str, tier: Tier) -> PathBuf {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        let engine_hash = hasher.finish();
        self.dir.join(format!(
            "{}-{}-{engine_hash:016x}.cwasm",
            &sha256[..32],
            tier.name()
        ))
    }

    /// A cached compiled component, if there is a usable one.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str, tier: Tier) -> Option<Component> {
        let path = self.path(engine, sha256, tier);
        if !path.exists() {
            return None;
        }
        // SAFETY: the cache directory belongs to the portal and only ever holds
        // artifacts this code wrote with `precompile_component` for this engine
        // configuration (the compatibility hash is part of the name). Plugin authors
        // supply `.wasm`, never `.cwasm`.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => Some(component),
            Err(e) => {
                tracing::warn!(path = %path.display(), "discarding unusable compiled plugin: {e}");
                let _ = std::fs::remove_file(&path);
                None
            }
        }
    }

    /// Compiles `wasm` and stores the artifact; returns the loaded component.
    pub(crate) fn compile(
        &self,
        engine: &Engine,
        wasm: &[u8],
        sha256: &str,
        tier: Tier,
    ) -> wasmtime::Result<Component> {
        let artifact = engine.precompile_component(wasm)?;
        let path = self.path(engine, sha256, tier);
        match write_atomically(&path, &artifact) {
            // SAFETY: as in `load`; the file was just written from `artifact`.
            Ok(()) => unsafe { Component::deserialize_file(engine, &path) },
            Err(e) => {
                tracing::warn!(path = %path.display(), "cannot cache compiled plugin: {e}");
                // SAFETY: `artifact` came from `precompile_component` on this engine.
                unsafe { Component::deserialize(engine, &artifact) }
            }
        }
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = path.with_extension(format!("tmp-{}-{n}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
