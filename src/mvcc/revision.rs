//! MVCC revision keys of the `key` bucket (`mvcc/revision.go`).
//!
//! ```text
//! 0..8   main  i64 big-endian   store revision of the write txn
//! 8      '_'   0x5F
//! 9..17  sub   i64 big-endian   index of the change inside the txn
//! 17     't'   0x74             optional: tombstone (deletion)
//! ```

use serde::Serialize;

use crate::bytes::be_u64;

pub const REVISION_KEY_LEN: usize = 17;
pub const TOMBSTONE_KEY_LEN: usize = 18;

/// A decoded revision key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Revision {
    pub main: i64,
    pub sub: i64,
    pub tombstone: bool,
}

impl Revision {
    /// Decode a `key`-bucket key; `None` if it is not a valid revision key
    /// (wrong length, missing separator, bad tombstone marker, negative).
    pub fn parse(key: &[u8]) -> Option<Revision> {
        let tombstone = match key.len() {
            REVISION_KEY_LEN => false,
            TOMBSTONE_KEY_LEN if key.get(17) == Some(&b't') => true,
            _ => return None,
        };
        if key.get(8) != Some(&b'_') {
            return None;
        }
        let main = i64::try_from(be_u64(key, 0)?).ok()?;
        let sub = i64::try_from(be_u64(key, 9)?).ok()?;
        Some(Revision { main, sub, tombstone })
    }

    /// Main revision as etcd's 3.4/3.5 `bytesToRev` reads it: the first 8
    /// bytes big-endian, whatever follows (used for `snapshot status`).
    pub fn main_of(key: &[u8]) -> Option<i64> {
        be_u64(key, 0).map(|v| v as i64)
    }

    pub fn to_key(self) -> Vec<u8> {
        let mut k = Vec::with_capacity(TOMBSTONE_KEY_LEN);
        k.extend_from_slice(&(self.main as u64).to_be_bytes());
        k.push(b'_');
        k.extend_from_slice(&(self.sub as u64).to_be_bytes());
        if self.tombstone {
            k.push(b't');
        }
        k
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_put_and_tombstone() {
        #[rustfmt::skip]
        let put = [
            0, 0, 0, 0, 0, 0, 0, 7, // main 7
            b'_',
            0, 0, 0, 0, 0, 0, 0, 2, // sub 2
        ];
        assert_eq!(Revision::parse(&put), Some(Revision { main: 7, sub: 2, tombstone: false }));
        let mut del = put.to_vec();
        del.push(b't');
        assert_eq!(Revision::parse(&del), Some(Revision { main: 7, sub: 2, tombstone: true }));
        assert_eq!(Revision { main: 7, sub: 2, tombstone: true }.to_key(), del);
    }

    #[test]
    fn reject_malformed() {
        let mut k = Revision { main: 1, sub: 0, tombstone: false }.to_key();
        assert!(Revision::parse(&k[..16]).is_none());
        k[8] = b'-';
        assert!(Revision::parse(&k).is_none());
        let mut d = Revision { main: 1, sub: 0, tombstone: false }.to_key();
        d.push(b'x');
        assert!(Revision::parse(&d).is_none());
        let neg = Revision { main: -1, sub: 0, tombstone: false }.to_key();
        assert!(Revision::parse(&neg).is_none());
        assert_eq!(Revision::main_of(&neg), Some(-1));
    }
}
