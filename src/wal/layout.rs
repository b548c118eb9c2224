//! WAL byte layout: constants for segments and record framing.
//!
//! ```text
//! segment file  <seq:%016x>-<index:%016x>.wal, preallocated to 64 000 000 bytes
//! +--------+---------------------------+---------+--------+-----+-----------+
//! | frame  | frame                     | frame   | frame  | ... | 00 00 ... |
//! +--------+---------------------------+---------+--------+-----+-----------+
//!   CRC      METADATA                    (STATE)   ENTRY...       zero tail
//!   every frame starts 8-byte aligned   (last segment only)
//!
//! frame
//!  0       8                          8+N            8+N+P
//!  +-------+--------------------------+--------------+
//!  | word  | walpb.Record (N bytes)   | P zero bytes |
//!  +-------+--------------------------+--------------+
//!
//! word: u64 little-endian
//!  63  62..59   58..56   55 ...................... 0
//!  +---+--------+--------+---------------------------+
//!  | F | unused |   P    |   N (record length)       |
//!  +---+--------+--------+---------------------------+
//!  F = 1 iff P != 0, so the top byte is 0x80|P, or 0x00 when P = 0.
//!  A word of 0 ends the records of the file (preallocated zeros).
//! ```
//!
//! Each offset constant below is built from the one before.

/// Bytes in a length word ("frame size" upstream).
pub const FRAME_SIZE: u64 = 8;
/// Offset of the `walpb.Record` inside a frame.
pub const RECORD_OFFSET: u64 = FRAME_SIZE;
/// Records (and so length words) are aligned to this many bytes.
pub const ALIGN: u64 = FRAME_SIZE;

/// Mask of the record length N in the length word (low 56 bits).
pub const LEN_MASK: u64 = 0x00FF_FFFF_FFFF_FFFF;
/// Bit 63: set iff the record is followed by padding.
pub const PAD_FLAG: u64 = 1 << 63;
/// Shift of the padding count P (bits 56..58).
pub const PAD_SHIFT: u32 = 56;
/// Mask of P after shifting.
pub const PAD_MASK: u64 = 0x7;
/// Bits 59..62: never set by etcd and ignored by its decoder.
pub const UNUSED_BITS: u64 = 0x78 << PAD_SHIFT;

/// `SegmentSizeBytes`: 64 000 000 (decimal), the preallocated size of a
/// segment and the offset at which etcd cuts to a new one.
pub const SEGMENT_SIZE: u64 = 64_000_000;
/// Torn-write detection granularity (`minSectorSize`).
pub const SECTOR_SIZE: u64 = 512;
/// The encoder's buffered-writer page (`walPageBytes = 8 × 512`).
pub const PAGE_BYTES: u64 = 8 * SECTOR_SIZE;

/// etcd 3.4 and 3.5.0–3.5.4 refuse records with N ≥ 10 MiB − P
/// (`ErrMaxWALEntrySizeLimitExceeded`, not repairable). 3.5.5+ only
/// requires the record to fit in the file.
pub const MAX_RECORD_BYTES_V34: u64 = 10 * 1024 * 1024;

/// `walpb.Record.type` values.
pub mod record_type {
    /// `etcdserverpb.Metadata` (opaque to the WAL).
    pub const METADATA: i64 = 1;
    /// `raftpb.Entry`.
    pub const ENTRY: i64 = 2;
    /// `raftpb.HardState`.
    pub const STATE: i64 = 3;
    /// No data; `crc` = running CRC at the start of the segment.
    pub const CRC: i64 = 4;
    /// `walpb.Snapshot`.
    pub const SNAPSHOT: i64 = 5;
}

/// Split a length word into (N, P): etcd's `decodeFrameSize`.
pub fn decode_len_word(word: u64) -> (u64, u64) {
    let n = word & LEN_MASK;
    let p = if word & PAD_FLAG != 0 { (word >> PAD_SHIFT) & PAD_MASK } else { 0 };
    (n, p)
}

/// The length word etcd writes for a record of `n` bytes: `encodeFrameSize`.
pub fn encode_len_word(n: u64) -> u64 {
    let p = padding_for(n);
    let mut word = n & LEN_MASK;
    if p != 0 {
        word |= (0x80 | p) << PAD_SHIFT;
    }
    word
}

/// Padding etcd writes after a record of `n` bytes: (8 − n mod 8) mod 8.
pub fn padding_for(n: u64) -> u64 {
    (ALIGN - n % ALIGN) % ALIGN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn len_word_round_trip() {
        // first record of every WAL: N=4, P=4
        assert_eq!(encode_len_word(4).to_le_bytes(), [4, 0, 0, 0, 0, 0, 0, 0x84]);
        assert_eq!(decode_len_word(0x8400_0000_0000_0004), (4, 4));
        assert_eq!(encode_len_word(24), 24);
        assert_eq!(decode_len_word(24), (24, 0));
        // P bits are ignored without the flag
        assert_eq!(decode_len_word(0x0700_0000_0000_0010), (0x0700_0000_0000_0010 & LEN_MASK, 0));
        for n in 0..64 {
            let (n2, p) = decode_len_word(encode_len_word(n));
            assert_eq!((n2 + p) % ALIGN, 0);
            assert_eq!(n2, n);
        }
        assert_eq!(UNUSED_BITS, 0x7800_0000_0000_0000);
        assert_eq!(PAGE_BYTES, 4096);
    }
}
