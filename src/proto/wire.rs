//! A zero-copy, panic-free protobuf wire reader.
//!
//! prost decodes into owned structs; that is right for small messages but
//! wrong for the hot path of a WAL scan, where `walpb.Record.data` and
//! `raftpb.Entry.Data` should stay slices of the mapped file. This reader
//! yields one field at a time with its file offset and borrows
//! length-delimited payloads.
//!
//! Wire format (protobuf encoding spec):
//!
//! ```text
//! field  := key value
//! key    := varint( field_number << 3 | wire_type )
//! value  := varint                      wire type 0
//!         | 8 bytes LE                  wire type 1
//!         | varint(len) len bytes       wire type 2
//!         | fields... end-group key     wire type 3 (start group, skipped)
//!         | 4 bytes LE                  wire type 5
//! ```
//!
//! Rules mirrored from the gogo-protobuf unmarshalers etcd 3.4–3.6 use:
//!
//! * a varint is at most 10 bytes; an 11th byte is an overflow error; bits
//!   beyond 64 in the 10th byte are dropped (gogo `ErrIntOverflow…`);
//! * field number 0 is illegal; wire types 4 (stray end group), 6 and 7 are
//!   errors;
//! * a length prefix larger than the bytes left is a truncation
//!   (`io.ErrUnexpectedEOF` in Go), checked *before* slicing, so a hostile
//!   length never allocates anything;
//! * groups are skipped, nested at most [`MAX_GROUP_DEPTH`] deep.

use crate::error::{Error, ErrorKind, Result};

/// Deepest group nesting we skip before giving up (prost's default
/// recursion limit is the same).
pub const MAX_GROUP_DEPTH: u32 = 100;

/// Protobuf wire types.
pub mod wire_type {
    pub const VARINT: u8 = 0;
    pub const FIXED64: u8 = 1;
    pub const LEN: u8 = 2;
    pub const START_GROUP: u8 = 3;
    pub const END_GROUP: u8 = 4;
    pub const FIXED32: u8 = 5;
}

/// The value of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    /// Length-delimited payload (bytes, string or nested message).
    Len(&'a [u8]),
    /// A skipped group.
    Group,
    Fixed32(u32),
}

impl Value<'_> {
    pub fn wire_type(&self) -> u8 {
        match self {
            Value::Varint(_) => wire_type::VARINT,
            Value::Fixed64(_) => wire_type::FIXED64,
            Value::Len(_) => wire_type::LEN,
            Value::Group => wire_type::START_GROUP,
            Value::Fixed32(_) => wire_type::FIXED32,
        }
    }
}

/// One decoded field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field<'a> {
    pub number: u32,
    pub value: Value<'a>,
    /// File offset of the field's key.
    pub offset: u64,
    /// File offset of the payload (after the length prefix for `Len`).
    pub value_offset: u64,
}

impl<'a> Field<'a> {
    /// The varint payload, or a "wrong wire type" error naming `name`.
    pub fn varint(&self, name: &str) -> Result<u64> {
        match self.value {
            Value::Varint(v) => Ok(v),
            other => Err(self.wrong_type(name, other.wire_type())),
        }
    }
    /// The length-delimited payload, or a "wrong wire type" error.
    pub fn bytes(&self, name: &str) -> Result<&'a [u8]> {
        match self.value {
            Value::Len(b) => Ok(b),
            other => Err(self.wrong_type(name, other.wire_type())),
        }
    }
    fn wrong_type(&self, name: &str, wt: u8) -> Error {
        Error::at(ErrorKind::Proto(format!("wrong wire type {wt} for field {name} (#{})", self.number)), self.offset)
    }
}

/// Reads fields from a message body.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    base: u64,
    failed: bool,
}

impl<'a> Reader<'a> {
    /// `base` is the file offset of `data[0]`.
    pub fn new(data: &'a [u8], base: u64) -> Self {
        Reader { data, pos: 0, base, failed: false }
    }

    /// Position (relative to the start of the message) of the next field.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn off(&self, pos: usize) -> u64 {
        self.base.saturating_add(pos as u64)
    }

    fn err(&self, pos: usize, msg: impl Into<String>) -> Error {
        Error::at(ErrorKind::Proto(msg.into()), self.off(pos))
    }

    fn truncated(&self, pos: usize, need: u64) -> Error {
        let have = self.data.len().saturating_sub(pos) as u64;
        Error::at(ErrorKind::Truncated { need, have }, self.off(pos))
    }

    fn varint(&mut self) -> Result<u64> {
        let start = self.pos;
        let mut v: u64 = 0;
        for i in 0..10u32 {
            let Some(&b) = self.data.get(self.pos) else {
                return Err(self.truncated(start, u64::from(i) + 1));
            };
            self.pos += 1;
            v |= u64::from(b & 0x7f).wrapping_shl(7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(self.err(start, "varint overflows 64 bits"))
    }

    fn take(&mut self, len: u64) -> Result<&'a [u8]> {
        let start = self.pos;
        let left = self.data.len().saturating_sub(start) as u64;
        if len > left {
            return Err(self.truncated(start, len));
        }
        // len <= left <= usize::MAX
        let end = start.saturating_add(len as usize);
        let s = self.data.get(start..end).ok_or_else(|| self.truncated(start, len))?;
        self.pos = end;
        Ok(s)
    }

    fn key(&mut self) -> Result<(u32, u8, usize)> {
        let at = self.pos;
        let key = self.varint()?;
        let wt = (key & 7) as u8;
        let num = key >> 3;
        if num == 0 {
            return Err(self.err(at, "illegal field number 0"));
        }
        let number = u32::try_from(num).map_err(|_| self.err(at, format!("field number {num} out of range")))?;
        Ok((number, wt, at))
    }

    fn skip_group(&mut self, number: u32, depth: u32) -> Result<()> {
        if depth >= MAX_GROUP_DEPTH {
            return Err(self.err(self.pos, "groups nested too deeply"));
        }
        loop {
            let (n, wt, at) = self.key()?;
            match wt {
                wire_type::END_GROUP => {
                    if n != number {
                        return Err(self.err(at, format!("end group {n} does not match start group {number}")));
                    }
                    return Ok(());
                }
                wire_type::START_GROUP => self.skip_group(n, depth + 1)?,
                _ => {
                    self.value(wt, at)?;
                }
            }
        }
    }

    fn value(&mut self, wt: u8, at: usize) -> Result<Value<'a>> {
        Ok(match wt {
            wire_type::VARINT => Value::Varint(self.varint()?),
            wire_type::FIXED64 => {
                let b: [u8; 8] = self.take(8)?.try_into().map_err(|_| self.truncated(at, 8))?;
                Value::Fixed64(u64::from_le_bytes(b))
            }
            wire_type::LEN => {
                let len = self.varint()?;
                Value::Len(self.take(len)?)
            }
            wire_type::FIXED32 => {
                let b: [u8; 4] = self.take(4)?.try_into().map_err(|_| self.truncated(at, 4))?;
                Value::Fixed32(u32::from_le_bytes(b))
            }
            wire_type::END_GROUP => return Err(self.err(at, "end group without start group")),
            other => return Err(self.err(at, format!("illegal wire type {other}"))),
        })
    }

    /// The next field, `None` at the end of the message. After an error
    /// the reader is exhausted.
    pub fn next_field(&mut self) -> Result<Option<Field<'a>>> {
        if self.failed || self.pos >= self.data.len() {
            return Ok(None);
        }
        let r = self.next_inner();
        if r.is_err() {
            self.failed = true;
        }
        r.map(Some)
    }

    fn next_inner(&mut self) -> Result<Field<'a>> {
        let (number, wt, at) = self.key()?;
        if wt == wire_type::START_GROUP {
            self.skip_group(number, 0)?;
            return Ok(Field { number, value: Value::Group, offset: self.off(at), value_offset: self.off(at) });
        }
        let value = self.value(wt, at)?;
        let value_offset = match value {
            // The payload ends at `pos`; it starts `len` bytes earlier.
            Value::Len(b) => self.off(self.pos.saturating_sub(b.len())),
            _ => self.off(at),
        };
        Ok(Field { number, value, offset: self.off(at), value_offset })
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Field<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_field().transpose()
    }
}

/// Decode one varint at the start of `buf`: `(value, bytes used)`, or
/// `None` if it is truncated or longer than 10 bytes. For best-effort
/// parsing of damaged bytes; message decoding goes through [`Reader`].
pub fn read_varint(buf: &[u8]) -> Option<(u64, usize)> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().take(10).enumerate() {
        v |= u64::from(b & 0x7f).wrapping_shl(7 * i as u32);
        if b < 0x80 {
            return Some((v, i + 1));
        }
    }
    None
}

/// Encoded size of a varint.
pub fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Checks that bytes are exactly one given encoding, field by field, as
/// gogo's marshaler writes it (one-byte keys, minimal varints, nothing
/// else). The CRCs etcd stores cover only a payload field; this is how a
/// change to the bytes around it, which decoding cannot see, is found.
#[derive(Debug, Clone, Copy)]
pub struct Exact<'a> {
    buf: &'a [u8],
    pos: usize,
    ok: bool,
}

impl<'a> Exact<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Exact { buf, pos: 0, ok: true }
    }
    /// A varint field: key byte `key`, then `value`, minimally encoded.
    pub fn varint(mut self, key: u8, value: u64) -> Self {
        self.ok = self.ok && self.buf.get(self.pos) == Some(&key) && self.minimal(self.pos + 1, value);
        self
    }
    /// A length-delimited field whose value is the slice `value` of the
    /// checked bytes (the one decoding returned).
    pub fn bytes(mut self, key: u8, value: &[u8]) -> Self {
        self = self.varint(key, value.len() as u64);
        let here = self.buf.get(self.pos..).map(<[u8]>::as_ptr);
        self.ok = self.ok && here == Some(value.as_ptr()) && self.buf.len() - self.pos >= value.len();
        if self.ok {
            self.pos += value.len();
        }
        self
    }
    /// Every check passed and nothing follows.
    pub fn done(self) -> bool {
        self.ok && self.pos == self.buf.len()
    }
    fn minimal(&mut self, at: usize, value: u64) -> bool {
        let Some((v, used)) = self.buf.get(at..).and_then(read_varint) else { return false };
        // a 10th byte above 1 holds bits past 64 that decoding drops
        let exact =
            v == value && used == varint_len(value) && (used < 10 || self.buf.get(at + 9).is_some_and(|b| *b <= 1));
        if exact {
            self.pos = at + used;
        }
        exact
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_with_offsets() {
        #[rustfmt::skip]
        let data = [
            0x08, 0x96, 0x01,       // field 1 varint 150
            0x12, 0x02, b'h', b'i', // field 2 bytes "hi"
            0x1d, 1, 0, 0, 0,       // field 3 fixed32 1
        ];
        let fields: Vec<_> = Reader::new(&data, 100).map(|f| f.unwrap()).collect();
        assert_eq!(fields.len(), 3);
        assert_eq!(fields[0].value, Value::Varint(150));
        assert_eq!(fields[1].value, Value::Len(b"hi"));
        assert_eq!(fields[1].offset, 103);
        assert_eq!(fields[1].value_offset, 105);
        assert_eq!(fields[2].value, Value::Fixed32(1));
    }

    #[test]
    fn huge_length_is_truncation_not_allocation() {
        // field 3, length 2^63
        let data = [0x1a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01];
        let e = Reader::new(&data, 0x40).next_field().unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Truncated { .. }));
        assert_eq!(e.location().offset, Some(0x40 + 11));
    }

    #[test]
    fn rejects_bad_keys() {
        for bad in [&[0x00u8, 0x00][..], &[0x0c], &[0x0e], &[0x0f], &[0x08]] {
            let mut r = Reader::new(bad, 0);
            assert!(r.next_field().is_err(), "{bad:?}");
            assert_eq!(r.next_field().unwrap(), None, "fused after error");
        }
        // 11-byte varint
        let data = [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert!(Reader::new(&data, 0).next_field().is_err());
    }

    #[test]
    fn skips_groups_and_limits_depth() {
        // field 5 start group { field 1 varint 1 } field 5 end group, field 2 varint 7
        let data = [0x2b, 0x08, 0x01, 0x2c, 0x10, 0x07];
        let f: Vec<_> = Reader::new(&data, 0).map(|f| f.unwrap()).collect();
        assert_eq!(f[0].value, Value::Group);
        assert_eq!(f[1].value, Value::Varint(7));
        let mut deep = vec![0x0bu8; 200];
        deep.extend(vec![0x0cu8; 200]);
        assert!(Reader::new(&deep, 0).next_field().is_err());
    }

    #[test]
    fn varint_len_matches_encoding() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u64::MAX] {
            let mut buf = Vec::new();
            prost::encoding::encode_varint(v, &mut buf);
            assert_eq!(varint_len(v), buf.len(), "{v}");
        }
    }
}
