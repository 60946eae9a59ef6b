//! A small binary encoding for stored entities (they are many; JSON would
//! escape the body a second time and slow the start-up load).
//!
//! Layout, version 1: `0x01`, then length-prefixed (u32 LE) byte strings:
//! ref, uid, source, body, errors, then u32 edge count and per edge the
//! source, type and target.

use super::{StoreError, StoredEdge, StoredEntity};

const VERSION: u8 = 1;

fn put(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
}

pub fn encode_entity(e: &StoredEntity) -> Vec<u8> {
    let edges_len: usize = e
        .edges
        .iter()
        .map(|x| 12 + x.source.len() + x.type_.len() + x.target.len())
        .sum();
    let mut out = Vec::with_capacity(
        1 + 24
            + e.entity_ref.len()
            + e.uid.len()
            + e.source.len()
            + e.body.len()
            + e.errors.len()
            + edges_len,
    );
    out.push(VERSION);
    put(&mut out, e.entity_ref.as_bytes());
    put(&mut out, e.uid.as_bytes());
    put(&mut out, e.source.as_bytes());
    put(&mut out, &e.body);
    put(&mut out, &e.errors);
    out.extend_from_slice(&(e.edges.len() as u32).to_le_bytes());
    for edge in &e.edges {
        put(&mut out, edge.source.as_bytes());
        put(&mut out, edge.type_.as_bytes());
        put(&mut out, edge.target.as_bytes());
    }
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
    if bytes.first() != Some(&VERSION) {
        return Err(corrupt("unknown record version"));
    }
    let mut r = Reader { bytes, pos: 1 };
    let decode = |r: &mut Reader| -> Option<StoredEntity> {
        let entity_ref = r.string()?;
        let uid = r.string()?;
        let source = r.string()?;
        let body = r.bytes()?.to_vec();
        let errors = r.bytes()?.to_vec();
        let n = r.u32()? as usize;
        let mut edges = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            edges.push(StoredEdge {
                source: r.string()?,
                type_: r.string()?,
                target: r.string()?,
            });
        }
        Some(StoredEntity {
            entity_ref,
            uid,
            source,
            body,
            errors,
            edges,
        })
    };
    decode(&mut r).ok_or_else(|| corrupt("truncated record"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let e = StoredEntity {
            entity_ref: "component:default/a".into(),
            uid: "u".into(),
            source: "s".into(),
            body: b"{\"kind\":\"Component\"}".to_vec(),
            errors: Vec::new(),
            edges: vec![StoredEdge {
                source: "component:default/a".into(),
                type_: "ownedBy".into(),
                target: "group:default/t".into(),
            }],
        };
        let bytes = encode_entity(&e);
        assert_eq!(decode_entity("k", &bytes).unwrap(), e);
        assert!(decode_entity("k", &bytes[..bytes.len() - 3]).is_err());
        assert!(decode_entity("k", b"").is_err());
    }
}
