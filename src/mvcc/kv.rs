//! Zero-copy reads of `mvccpb.KeyValue` fields from a `key`-bucket value.
//!
//! `status` and `check` touch every value of multi-GB files; decoding each
//! into an owned struct would allocate per revision. This scans the
//! protobuf wire format once and borrows the byte fields.
//!
//! KeyValue: 1 key bytes, 2 create_revision int64, 3 mod_revision int64,
//! 4 version int64, 5 value bytes, 6 lease int64.

/// The fields of a KeyValue, borrowed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KvRef<'a> {
    pub key: &'a [u8],
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: &'a [u8],
    pub lease: i64,
}

/// Why a value is not a KeyValue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KvError {
    Truncated { at: usize },
    BadWireType { field: u64, wire: u8, at: usize },
    VarintOverflow { at: usize },
}

impl std::fmt::Display for KvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KvError::Truncated { at } => write!(f, "protobuf truncated at byte {at}"),
            KvError::BadWireType { field, wire, at } => write!(f, "field {field} has wire type {wire} at byte {at}"),
            KvError::VarintOverflow { at } => write!(f, "varint longer than 10 bytes at byte {at}"),
        }
    }
}

fn varint(b: &[u8], pos: &mut usize) -> Result<u64, KvError> {
    let start = *pos;
    let mut v = 0u64;
    for shift in (0..70).step_by(7) {
        let Some(&byte) = b.get(*pos) else { return Err(KvError::Truncated { at: *pos }) };
        *pos += 1;
        if shift == 63 && byte > 1 {
            return Err(KvError::VarintOverflow { at: start });
        }
        v |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(KvError::VarintOverflow { at: start })
}

/// Decode `b` as a KeyValue (proto3: unknown fields are skipped, later
/// occurrences of a field win, as in protobuf).
pub fn decode(b: &[u8]) -> Result<KvRef<'_>, KvError> {
    let mut kv = KvRef::default();
    let mut pos = 0;
    while pos < b.len() {
        let at = pos;
        let tag = varint(b, &mut pos)?;
        let field = tag >> 3;
        let wire = (tag & 7) as u8;
        if field == 0 {
            return Err(KvError::BadWireType { field, wire, at });
        }
        match wire {
            0 => {
                let v = varint(b, &mut pos)?;
                match field {
                    2 => kv.create_revision = v as i64,
                    3 => kv.mod_revision = v as i64,
                    4 => kv.version = v as i64,
                    6 => kv.lease = v as i64,
                    1 | 5 => return Err(KvError::BadWireType { field, wire, at }),
                    _ => {}
                }
            }
            2 => {
                let len = varint(b, &mut pos)?;
                let end = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)).filter(|&e| e <= b.len());
                let Some(end) = end else { return Err(KvError::Truncated { at }) };
                let s = b.get(pos..end).unwrap_or_default();
                pos = end;
                match field {
                    1 => kv.key = s,
                    5 => kv.value = s,
                    2..=4 | 6 => return Err(KvError::BadWireType { field, wire, at }),
                    _ => {}
                }
            }
            1 => pos = pos.checked_add(8).filter(|&e| e <= b.len()).ok_or(KvError::Truncated { at })?,
            5 => pos = pos.checked_add(4).filter(|&e| e <= b.len()).ok_or(KvError::Truncated { at })?,
            _ => return Err(KvError::BadWireType { field, wire, at }),
        }
    }
    Ok(kv)
}

/// Only the `key` field (fast path for counting live keys).
pub fn key_of(b: &[u8]) -> Option<&[u8]> {
    // etcd writes field 1 first: `0a <len> key...`
    if b.first() == Some(&0x0a) {
        let mut pos = 1;
        let len = varint(b, &mut pos).ok()?;
        let end = pos.checked_add(usize::try_from(len).ok()?)?;
        return b.get(pos..end);
    }
    decode(b).ok().map(|kv| kv.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_put() {
        #[rustfmt::skip]
        let v = [
            0x0a, 3, b'f', b'o', b'o', // key "foo"
            0x10, 2,                   // create_revision 2
            0x18, 5,                   // mod_revision 5
            0x20, 3,                   // version 3
            0x2a, 3, b'b', b'a', b'r', // value "bar"
            0x30, 0x96, 0x01,          // lease 150
        ];
        let kv = decode(&v).unwrap();
        assert_eq!(
            kv,
            KvRef { key: b"foo", create_revision: 2, mod_revision: 5, version: 3, value: b"bar", lease: 150 }
        );
        assert_eq!(key_of(&v), Some(&b"foo"[..]));
    }

    #[test]
    fn tombstone_has_only_key() {
        let kv = decode(&[0x0a, 3, b'f', b'o', b'o']).unwrap();
        assert_eq!((kv.key, kv.mod_revision), (&b"foo"[..], 0));
    }

    #[test]
    fn errors() {
        assert_eq!(decode(&[0x0a, 5, b'a']), Err(KvError::Truncated { at: 0 }));
        assert!(matches!(decode(&[0x0b]), Err(KvError::BadWireType { .. })));
        assert!(matches!(decode(&[0x10; 1]), Err(KvError::Truncated { .. })));
        assert!(matches!(
            decode(&[0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(KvError::VarintOverflow { .. })
        ));
        assert!(matches!(
            decode(&[0x0a, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Err(KvError::Truncated { .. })
        ));
        assert!(matches!(decode(&[0x08, 1]), Err(KvError::BadWireType { .. })));
        assert_eq!(key_of(&[0x0a, 9, 1]), None);
    }
}
