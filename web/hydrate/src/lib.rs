//! The hydration entry point Leptos's loader script calls (`mod.hydrate()`).

#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    portal_web::hydrate();
}
