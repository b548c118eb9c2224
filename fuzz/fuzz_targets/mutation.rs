//! One damage to a byte buffer, shared by `wal_mutate` and `snap_mutate`:
//! a bit flip, a byte set, a truncation, or a run of 1 to 4 zeroed bytes
//! (a burst CRC-32C always detects). Offsets wrap modulo the length.

use arbitrary::Arbitrary;

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Mutation {
    FlipBit { at: u32, bit: u8 },
    SetByte { at: u32, value: u8 },
    Truncate { at: u32 },
    ZeroRange { at: u32, len: u8 },
}

impl Mutation {
    /// Apply to `b` (nothing happens to an empty buffer).
    pub fn apply(self, b: &mut Vec<u8>) {
        let len = b.len();
        if len == 0 {
            return;
        }
        match self {
            Mutation::FlipBit { at, bit } => b[at as usize % len] ^= 1 << (bit % 8),
            Mutation::SetByte { at, value } => b[at as usize % len] = value,
            Mutation::Truncate { at } => b.truncate(at as usize % len),
            Mutation::ZeroRange { at, len: n } => {
                let at = at as usize % len;
                let end = (at + usize::from(n % 4) + 1).min(len);
                b[at..end].fill(0);
            }
        }
    }
}
