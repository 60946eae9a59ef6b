//! Entity bodies as kept in memory: LZ4 blocks against a fixed dictionary.
//!
//! Every served entity's JSON stays in memory (serving never touches the
//! store), and at 100k entities those bodies were the largest single part of
//! the catalog's memory (~58 MB). They are small (≈600 bytes) and alike: the
//! same keys, kinds, annotation names and ref prefixes. LZ4 alone finds little
//! to reuse in 600 bytes, so blocks are compressed against a dictionary of
//! typical entities (`body_dictionary.json`, compiled in, so every process
//! reads every body the same way). Decompressing is well under a microsecond
//! per entity, cheaper than the JSON writing around it.

use std::borrow::Cow;

/// Typical entity JSON, the LZ4 dictionary (its last 64 KiB are used).
const DICTIONARY: &[u8] = include_bytes!("body_dictionary.json");

/// Tag of a body kept as it is (compression would not have paid).
const PLAIN: u8 = 0;
/// Tag of an LZ4 block: the tag, the length as u32 LE, the block.
const LZ4: u8 = 1;

/// One entity's JSON, compressed when that makes it smaller.
#[derive(Clone, PartialEq, Eq)]
pub struct Body(Box<[u8]>);

impl Body {
    /// Packs JSON bytes.
    pub fn pack(json: &[u8]) -> Body {
        let mut out = vec![0u8; 5 + lz4_flex::block::get_maximum_output_size(json.len())];
        out[0] = LZ4;
        out[1..5].copy_from_slice(&(json.len() as u32).to_le_bytes());
        match lz4_flex::block::compress_into_with_dict(json, &mut out[5..], DICTIONARY) {
            Ok(n) if 5 + n < json.len() => {
                out.truncate(5 + n);
                Body(out.into_boxed_slice())
            }
            _ => {
                let mut plain = Vec::with_capacity(json.len() + 1);
                plain.push(PLAIN);
                plain.extend_from_slice(json);
                Body(plain.into_boxed_slice())
            }
        }
    }

    /// The JSON bytes.
    pub fn json(&self) -> Cow<'_, [u8]> {
        match self.0.first() {
            Some(&LZ4) if self.0.len() >= 5 => {
                let len = u32::from_le_bytes([self.0[1], self.0[2], self.0[3], self.0[4]]) as usize;
                let mut out = vec![0u8; len];
                match lz4_flex::block::decompress_into_with_dict(&self.0[5..], &mut out, DICTIONARY)
                {
                    Ok(n) => {
                        out.truncate(n);
                        Cow::Owned(out)
                    }
                    // Only this module writes bodies; a failure is a bug here.
                    Err(e) => panic!("an entity body does not decompress: {e}"),
                }
            }
            Some(_) => Cow::Borrowed(&self.0[1..]),
            None => Cow::Borrowed(&[]),
        }
    }

    /// The packed form, as a store keeps it.
    pub fn packed(&self) -> &[u8] {
        &self.0
    }

    /// A body from its packed form; `None` unless it is one this module wrote
    /// (an LZ4 block must decompress to exactly its recorded length).
    pub fn from_packed(bytes: &[u8]) -> Option<Body> {
        let body = Body(bytes.into());
        match bytes.first() {
            Some(&PLAIN) => Some(body),
            Some(&LZ4) if bytes.len() >= 5 => {
                let len = u32::from_le_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]) as usize;
                let mut out = vec![0u8; len];
                match lz4_flex::block::decompress_into_with_dict(&bytes[5..], &mut out, DICTIONARY)
                {
                    Ok(n) if n == len => Some(body),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Body({})", String::from_utf8_lossy(&self.json()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_shrinks_typical_entities() {
        let entity = br#"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"payments-api","description":"Takes payments","tags":["java"],"namespace":"default","annotations":{"backstage.io/managed-by-location":"file:/srv/catalog/payments/catalog-info.yaml","backstage.io/managed-by-origin-location":"file:/srv/catalog/all.yaml"},"uid":"0b0e8f1c-7d4c-4a59-9a51-2f6f3c1d2e4f","etag":"5f1e2d3c4b5a69788796a5b4"},"spec":{"type":"service","lifecycle":"production","owner":"group:default/payments","system":"checkout","providesApis":["api:default/payments"],"dependsOn":["resource:default/payments-db"]}}"#;
        let body = Body::pack(entity);
        assert_eq!(&*body.json(), entity);
        assert!(
            body.packed().len() * 2 < entity.len(),
            "{} of {} bytes",
            body.packed().len(),
            entity.len()
        );
        for json in [&b""[..], b"{}", b"\xff\x00 not json at all"] {
            assert_eq!(&*Body::pack(json).json(), json, "kept plain");
        }
        assert_eq!(Body::from_packed(body.packed()), Some(body.clone()));
        assert_eq!(
            Body::from_packed(&body.packed()[..body.packed().len() - 2]),
            None
        );
        assert_eq!(Body::from_packed(b"\x07{}"), None);
        assert_eq!(Body::from_packed(b""), None);
        let random: Vec<u8> = (0..2000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        assert_eq!(&*Body::pack(&random).json(), &random[..]);
    }
}
