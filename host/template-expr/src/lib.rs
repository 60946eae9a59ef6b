//! The `${{ }}` expressions of software templates (Backstage's
//! `scaffolder.backstage.io/v1beta3`): what fills a step's input, decides its
//! `if`, drives its `each`, and renders skeleton files and their names.
//!
//! Start at [`Templater`]. Rendering is data in, data out: no expression can
//! reach code, the host or its environment, and every render is bounded in
//! instructions, nesting and output size.
//!
//! Its limits stop loops and recursion, but not memory on their own: a
//! template can build a string that doubles in size on each of a few dozen
//! steps. Renders whose source an untrusted author controls therefore run
//! inside a sandbox with a memory cap (the template actions are WebAssembly
//! components that link this crate).

mod expr;
mod filters;
mod scope;

pub use expr::{MAX_OUTPUT_BYTES, RenderError, Syntax, Templater};
pub use scope::Scope;
