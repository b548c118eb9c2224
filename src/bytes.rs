//! A byte view that cannot panic and knows its file offset.
//!
//! Every read of untrusted bytes in this crate goes through [`Bytes`]. Its
//! methods return `Result` and stamp errors with `base + position`, so a
//! parser never indexes a slice directly (the crate denies
//! `clippy::indexing_slicing`).

use crate::error::{Error, ErrorKind, Result};

/// Standard base64 with padding (RFC 4648; Go's `encoding/json` for
/// `[]byte`, as etcdctl and Kubernetes print bytes).
pub fn base64(b: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(A.get((i & 63) as usize).copied().unwrap_or(b'='));
    let mut s = String::with_capacity(b.len().div_ceil(3) * 4);
    for c in b.chunks(3) {
        let n = c.iter().enumerate().fold(0u32, |n, (i, &x)| n | u32::from(x) << (16 - 8 * i));
        s.push(sym(n >> 18));
        s.push(sym(n >> 12));
        s.push(if c.len() > 1 { sym(n >> 6) } else { '=' });
        s.push(if c.len() > 2 { sym(n) } else { '=' });
    }
    s
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bytes<'a> {
    data: &'a [u8],
    /// File offset of `data[0]`.
    base: u64,
}

impl<'a> Bytes<'a> {
    pub fn new(data: &'a [u8], base: u64) -> Self {
        Bytes { data, base }
    }
    pub fn as_slice(&self) -> &'a [u8] {
        self.data
    }
    pub fn len(&self) -> usize {
        self.data.len()
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    /// File offset of the first byte.
    pub fn base(&self) -> u64 {
        self.base
    }
    fn offset_of(&self, pos: usize) -> u64 {
        self.base.saturating_add(pos as u64)
    }
    fn truncated(&self, pos: usize, need: usize) -> Error {
        let have = self.data.len().saturating_sub(pos);
        Error::at(ErrorKind::Truncated { need: need as u64, have: have as u64 }, self.offset_of(pos))
    }

    /// `len` bytes starting at `pos`.
    pub fn sub(&self, pos: usize, len: usize) -> Result<Bytes<'a>> {
        let end = pos.checked_add(len).ok_or_else(|| self.truncated(pos, len))?;
        match self.data.get(pos..end) {
            Some(d) => Ok(Bytes { data: d, base: self.offset_of(pos) }),
            None => Err(self.truncated(pos, len)),
        }
    }
    /// Everything from `pos` on.
    pub fn tail(&self, pos: usize) -> Result<Bytes<'a>> {
        match self.data.get(pos..) {
            Some(d) => Ok(Bytes { data: d, base: self.offset_of(pos) }),
            None => Err(self.truncated(pos, 0)),
        }
    }
    pub fn slice(&self, pos: usize, len: usize) -> Result<&'a [u8]> {
        self.sub(pos, len).map(|b| b.data)
    }
    pub fn array<const N: usize>(&self, pos: usize) -> Result<[u8; N]> {
        let s = self.slice(pos, N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(s);
        Ok(out)
    }
    pub fn u8(&self, pos: usize) -> Result<u8> {
        self.data.get(pos).copied().ok_or_else(|| self.truncated(pos, 1))
    }
    pub fn u16_le(&self, pos: usize) -> Result<u16> {
        self.array(pos).map(u16::from_le_bytes)
    }
    pub fn u32_le(&self, pos: usize) -> Result<u32> {
        self.array(pos).map(u32::from_le_bytes)
    }
    pub fn u64_le(&self, pos: usize) -> Result<u64> {
        self.array(pos).map(u64::from_le_bytes)
    }
    pub fn u64_be(&self, pos: usize) -> Result<u64> {
        self.array(pos).map(u64::from_be_bytes)
    }
}

/// Little-endian reads from a slice that the caller has already bounded;
/// still panic-free: missing bytes read as `None`.
pub fn le_u64(s: &[u8], pos: usize) -> Option<u64> {
    let b: [u8; 8] = s.get(pos..pos.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}
pub fn le_u32(s: &[u8], pos: usize) -> Option<u32> {
    let b: [u8; 4] = s.get(pos..pos.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(b))
}
pub fn le_u16(s: &[u8], pos: usize) -> Option<u16> {
    let b: [u8; 2] = s.get(pos..pos.checked_add(2)?)?.try_into().ok()?;
    Some(u16::from_le_bytes(b))
}
pub fn be_u64(s: &[u8], pos: usize) -> Option<u64> {
    let b: [u8; 8] = s.get(pos..pos.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_know_their_offset() {
        let data = [1u8, 0, 0, 0, 0, 0, 0, 0, 0xff];
        let b = Bytes::new(&data, 0x1000);
        assert_eq!(b.u64_le(0).unwrap(), 1);
        let e = b.u64_le(4).unwrap_err();
        assert_eq!(e.location().offset, Some(0x1004));
        assert_eq!(e.kind(), &ErrorKind::Truncated { need: 8, have: 5 });
    }

    #[test]
    fn huge_lengths_do_not_overflow() {
        let data = [0u8; 4];
        let b = Bytes::new(&data, 0);
        assert!(b.sub(2, usize::MAX).is_err());
        assert!(b.sub(usize::MAX, 1).is_err());
        assert!(b.tail(5).is_err());
        assert_eq!(b.tail(4).unwrap().len(), 0);
        assert_eq!(le_u64(&data, usize::MAX), None);
    }

    #[test]
    fn sub_views_keep_base() {
        let data = [0u8, 1, 2, 3, 4, 5];
        let b = Bytes::new(&data, 100).sub(2, 3).unwrap();
        assert_eq!(b.base(), 102);
        assert_eq!(b.as_slice(), &[2, 3, 4]);
        assert_eq!(b.u8(3).unwrap_err().location().offset, Some(105));
    }
}
