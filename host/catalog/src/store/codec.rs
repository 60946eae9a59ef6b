//! A small binary encoding for stored entities (they are many; JSON would
//! escape the body a second time and slow the start-up load).
//!
//! Layout, version 2: `0x02`, then length-prefixed (u32 LE) byte strings:
//! ref, uid, source, packed body ([`Body::packed`]), errors.
//! Version 1 (read, never written) had the JSON body and then the relation
//! edges (u32 count, per edge source, type, target); edges are now derived
//! from the body, and the packed body makes records a third of the size.

use super::{Body, StoreError, StoredEntity};

const VERSION: u8 = 2;
const VERSION_1: u8 = 1;

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

pub fn encode_entity(e: &StoredEntity) -> Vec<u8> {
    let body = e.body.packed();
    let mut out = Vec::with_capacity(
        1 + 20 + e.entity_ref.len() + e.uid.len() + e.source.len() + body.len() + e.errors.len(),
    );
    out.push(VERSION);
    put(&mut out, e.entity_ref.as_bytes());
    put(&mut out, e.uid.as_bytes());
    put(&mut out, e.source.as_bytes());
    put(&mut out, body);
    put(&mut out, &e.errors);
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn u32(&mut self) -> Option<u32> {
        let b = self.bytes.get(self.pos..self.pos + 4)?;
        self.pos += 4;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = self.u32()? as usize;
        let b = self.bytes.get(self.pos..self.pos + len)?;
        self.pos += len;
        Some(b)
    }
    fn string(&mut self) -> Option<String> {
        String::from_utf8(self.bytes()?.to_vec()).ok()
    }
}

pub fn decode_entity(key: &str, bytes: &[u8]) -> Result<StoredEntity, StoreError> {
    let corrupt = |message: &str| StoreError::Corrupt {
        key: key.to_owned(),
        message: message.to_owned(),
    };
    let version = match bytes.first() {
        Some(&v) if v == VERSION || v == VERSION_1 => v,
        _ => return Err(corrupt("unknown record version")),
    };
    let mut r = Reader { bytes, pos: 1 };
    let decode = |r: &mut Reader| -> Option<Result<StoredEntity, StoreError>> {
        let entity_ref = r.string()?;
        let uid = r.string()?;
        let source = r.string()?;
        let body = r.bytes()?;
        let body = if version == VERSION_1 {
            Body::pack(body)
        } else {
            match Body::from_packed(body) {
                Some(body) => body,
                None => return Some(Err(corrupt("the entity body does not unpack"))),
            }
        };
        let errors = r.bytes()?.to_vec();
        if version == VERSION_1 {
            let n = r.u32()?;
            for _ in 0..n * 3 {
                r.bytes()?;
            }
        }
        Some(Ok(StoredEntity {
            entity_ref,
            uid,
            source,
            body,
            errors,
        }))
    };
    decode(&mut r).unwrap_or_else(|| Err(corrupt("truncated record")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let json = br#"{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"a","namespace":"default"},"spec":{"type":"service","owner":"t"}}"#;
        let e = StoredEntity {
            entity_ref: "component:default/a".into(),
            uid: "u".into(),
            source: "s".into(),
            body: Body::pack(json),
            errors: b"[]".to_vec(),
        };
        let bytes = encode_entity(&e);
        assert_eq!(decode_entity("k", &bytes).unwrap(), e);
        assert!(decode_entity("k", &bytes[..bytes.len() - 3]).is_err());
        assert!(decode_entity("k", b"").is_err());
        let mut broken = bytes.clone();
        let body_at = bytes.len() - 4 - 2 - e.body.packed().len();
        broken[body_at] = 9;
        assert!(
            decode_entity("k", &broken).is_err(),
            "a body that does not unpack"
        );
    }

    #[test]
    fn reads_version_1_records() {
        let json = br#"{"kind":"Component"}"#;
        let mut v1 = vec![VERSION_1];
        for field in [&b"component:default/a"[..], b"u", b"s", json, b""] {
            put(&mut v1, field);
        }
        v1.extend_from_slice(&1u32.to_le_bytes());
        for field in [&b"component:default/a"[..], b"ownedBy", b"group:default/t"] {
            put(&mut v1, field);
        }
        let e = decode_entity("k", &v1).unwrap();
        assert_eq!(e.entity_ref, "component:default/a");
        assert_eq!(&*e.body.json(), json);
        assert!(decode_entity("k", &v1[..v1.len() - 1]).is_err());
    }
}
