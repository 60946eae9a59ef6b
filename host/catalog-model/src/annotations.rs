//! Well-known annotation keys and related helpers.

/// Location ref (`<type>:<target>`) of the file that produced the entity;
/// added on ingest unless the YAML sets it.
pub const ANNOTATION_LOCATION: &str = "backstage.io/managed-by-location";
/// Location ref of the registered location the entity was first found through.
pub const ANNOTATION_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
/// URL to view the entity's source file.
pub const ANNOTATION_VIEW_URL: &str = "backstage.io/view-url";
/// URL to edit the entity's source file.
pub const ANNOTATION_EDIT_URL: &str = "backstage.io/edit-url";
/// Location ref (`url:<dir>/`) of the entity's source code.
pub const ANNOTATION_SOURCE_LOCATION: &str = "backstage.io/source-location";
/// Set to `"true"` by the stitcher when no location emits the entity any more.
pub const ANNOTATION_ORPHAN: &str = "backstage.io/orphan";
/// Where TechDocs sources live, e.g. `dir:.` or `url:https://...`.
pub const ANNOTATION_TECHDOCS_REF: &str = "backstage.io/techdocs-ref";
/// Ref of the template an entity was created from.
pub const ANNOTATION_SOURCE_TEMPLATE: &str = "backstage.io/source-template";
/// ISO 8601 duration a template saves (on Templates).
pub const ANNOTATION_TIME_SAVED: &str = "backstage.io/time-saved";

/// What the stitcher puts in place of `javascript:`-style view/edit URLs.
pub const REJECTED_URL_REPLACEMENT: &str =
    "https://backstage.io/annotation-rejected-for-security-reasons";

/// True for URLs using a script protocol (`javascript:`, allowing the
/// control characters and whitespace browsers ignore), which must not be
/// rendered as links. The stitcher replaces such view/edit URLs with
/// [`REJECTED_URL_REPLACEMENT`].
pub fn is_script_protocol_url(url: &str) -> bool {
    let rest = url.trim_start_matches(|c: char| c <= ' ');
    let mut chars = rest.chars().filter(|c| !matches!(c, '\r' | '\n' | '\t'));
    for expected in "javascript:".chars() {
        match chars.next() {
            Some(c) if c.eq_ignore_ascii_case(&expected) => {}
            _ => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_urls() {
        for bad in [
            "javascript:alert(1)",
            "  JavaScript:x",
            "\u{1}java\nscript:x",
            "jav\tascript:x",
        ] {
            assert!(is_script_protocol_url(bad), "{bad:?}");
        }
        for good in [
            "https://example.com",
            "javascript",
            "java script:x",
            "xjavascript:x",
            "",
        ] {
            assert!(!is_script_protocol_url(good), "{good:?}");
        }
    }
}
