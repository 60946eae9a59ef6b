//! URLs of the UI: query strings encoded and decoded the way forms do it, and
//! links to entity pages (labelled the way Backstage labels refs).

use super::EntityLink;

/// Parses `a=1&b=x+y` (`application/x-www-form-urlencoded`, with or without a leading `?`).
pub fn parse_query_string(qs: &str) -> Vec<(String, String)> {
    qs.trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode_component(k), decode_component(v))
        })
        .collect()
}

/// Decodes one form-encoded component (`+` is a space).
pub fn decode_component(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a URL query component.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b':' | b'/' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `kind:namespace/name` → `/catalog/namespace/kind/name`.
pub fn entity_href(kind: &str, namespace: &str, name: &str) -> String {
    format!(
        "/catalog/{}/{}/{}",
        encode_path(namespace),
        encode_path(&kind.to_ascii_lowercase()),
        encode_path(name)
    )
}

/// One path segment, percent-encoded.
pub fn encode_path(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A link for a ref, labelled the way Backstage does: the kind is left out
/// when it is the expected one, the namespace when it is `default`. A ref that
/// does not parse is shown as written and links to a search for it.
pub fn ref_link(entity_ref: &str, expected_kind: &str) -> EntityLink {
    let defaults = portal_types::RefDefaults::new(Some(expected_kind), "default");
    let Ok(r) = portal_types::parse_entity_ref(entity_ref, defaults) else {
        return EntityLink {
            label: entity_ref.to_owned(),
            href: format!("/search?q={}", encode_component(entity_ref)),
            kind: expected_kind.to_ascii_lowercase(),
        };
    };
    let mut label = String::new();
    if !r.is_kind(expected_kind) {
        label.push_str(&r.kind.to_ascii_lowercase());
        label.push(':');
    }
    if r.namespace != "default" {
        label.push_str(&r.namespace);
        label.push('/');
    }
    label.push_str(&r.name);
    EntityLink {
        label,
        href: entity_href(&r.kind, &r.namespace, &r.name),
        kind: r.kind.to_ascii_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_like_forms() {
        let pairs = parse_query_string("?q=a+b%2Bc&tag=x%20y&empty=&bad=%zz");
        assert_eq!(
            pairs,
            vec![
                ("q".to_owned(), "a b+c".to_owned()),
                ("tag".to_owned(), "x y".to_owned()),
                ("empty".to_owned(), String::new()),
                ("bad".to_owned(), "%zz".to_owned()),
            ]
        );
        assert_eq!(encode_component("a b+c/é"), "a%20b%2Bc/%C3%A9");
    }

    #[test]
    fn refs_are_labelled_like_backstage() {
        let l = ref_link("group:default/team-a", "group");
        assert_eq!(l.label, "team-a");
        assert_eq!(l.href, "/catalog/default/group/team-a");
        let l = ref_link("user:ops/jane", "group");
        assert_eq!(l.label, "user:ops/jane");
        assert_eq!(l.href, "/catalog/ops/user/jane");
    }
}
