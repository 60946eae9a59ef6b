//! Building blocks the pages share, each defined once: entity links, tags and
//! tables (`entity`), plugin panels drawn from their widget tree (`panel`),
//! loading and error states (`feedback`).

mod entity;
mod feedback;
mod panel;

pub use entity::*;
pub use feedback::*;
pub use panel::*;
