//! The ways a plugin extends the portal, one module each. A module owns
//! everything about its extension point: its name, its configured limits, how
//! many bytes a call may copy out, the rule for its ids, the check of what a
//! plugin declares and of what a call returns, and the conversion from the bound
//! WIT types (`impl wit::v1::Binding`).
//!
//! Adding an extension point: a new module here implementing [`ExtensionPoint`]
//! and [`Declared`] (and `wit::v1::Binding`), and one line in [`each_declared`].

pub(crate) mod describe;
pub(crate) mod entity_provider;
pub(crate) mod panel;
pub(crate) mod search_collator;
pub(crate) mod template_action;

use crate::model::PluginInfo;
use crate::wit::Bound;

/// One kind of call into a plugin.
pub(crate) trait ExtensionPoint: Sized + 'static {
    /// Its name in errors and the UI ("panel").
    const KIND: &'static str;
    /// The key of its limits under `plugins.limits` and `plugins.grants.<name>.limits`.
    const LIMITS: portal_config::ExtensionPoint;
    /// Bytes the host copies out of the plugin per call: this bounds host memory
    /// even when a plugin returns many references to the same bytes.
    const TRANSFER_BYTES: usize;
    /// What a call passes to the plugin.
    type Request: Clone + Send;
    /// What the plugin returned, converted to the host's types but not yet checked.
    type Returned;
    /// What the rest of the portal gets.
    type Output;

    /// Checks what the plugin returned; `Err` is the reason it is refused.
    fn check_output(returned: Self::Returned) -> Result<Self::Output, String>;
}

/// An extension point a plugin declares in its metadata (`describe`), by id.
pub(crate) trait Declared: ExtensionPoint {
    /// The WIT interface a plugin exports for it, also its name in
    /// `extensionPoints` ("entity-provider").
    const INTERFACE: &'static str;
    /// What its ids are called in errors ("panel id").
    const ID_NOUN: &'static str;
    /// What a list of them is called in errors ("entity providers").
    const PLURAL: &'static str;
    /// What the metadata says about one of them.
    type Info;

    fn declared(info: &PluginInfo) -> &[Self::Info];
    fn id(info: &Self::Info) -> &str;
    /// The id rule; `Err` says what a valid id looks like.
    fn check_id(id: &str) -> Result<(), String> {
        if plain_id(id) {
            Ok(())
        } else {
            Err("must be 1-63 lowercase letters, digits and dashes".into())
        }
    }
    /// Checks beyond the id (for example a panel's filter).
    fn check_info(_info: &Self::Info) -> Result<(), String> {
        Ok(())
    }
}

/// Something done once for every declared extension point (see [`each_declared`]).
pub(crate) trait Visit {
    fn visit<E: Declared + Bound>(&mut self);
}

/// Every extension point a plugin can declare, in the order the UI lists them.
/// Adding an extension point is one line here.
pub(crate) fn each_declared(visit: &mut impl Visit) {
    visit.visit::<panel::Panel>();
    visit.visit::<entity_provider::EntityProvider>();
    visit.visit::<template_action::TemplateAction>();
    visit.visit::<search_collator::SearchCollator>();
}

/// Plugin names and most extension ids: lowercase letters, digits and `-`, 1 to
/// 63 long, not starting or ending with `-`.
pub(crate) fn plain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}

/// The extension points a plugin declares, by interface name.
pub(crate) fn declared_points(info: &PluginInfo) -> Vec<&'static str> {
    struct Points<'a>(&'a PluginInfo, Vec<&'static str>);
    impl Visit for Points<'_> {
        fn visit<E: Declared + Bound>(&mut self) {
            if !E::declared(self.0).is_empty() {
                self.1.push(E::INTERFACE);
            }
        }
    }
    let mut points = Points(info, Vec::new());
    each_declared(&mut points);
    points.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids() {
        for good in ["a", "c-panel", "x1", &"a".repeat(63)] {
            assert!(plain_id(good), "{good}");
        }
        for bad in ["", "-a", "a-", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(!plain_id(bad), "{bad}");
        }
    }
}
