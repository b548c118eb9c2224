//! The write-ahead log: `member/wal/*.wal`.
//!
//! **Who writes it**: etcd's `wal` package (`server/storage/wal/{wal,encoder}.go`
//! in 3.6, `server/wal/` in 3.5, `wal/` in 3.4); framing and CRC are the same
//! in 3.4–3.7 (FORMATS.md §6). One WAL is a directory of segments
//! `<seq:%016x>-<index:%016x>.wal`, each preallocated to 64 000 000 bytes;
//! only the last one has a zero tail.
//!
//! ```text
//! segment 0000000000000000-0000000000000000.wal
//!  0x00 +----------------------------------------------+
//!       | 04 00 00 00 00 00 00 84 | 08 04 10 00 | 00*4  |  CRC record (crc 0), N=4, P=4
//!  0x10 +----------------------------------------------+
//!       | 1f .. 81 | 08 01 10 <crc> 1a 15 <Metadata>|00 |  METADATA (node id, cluster id)
//!  0x38 +----------------------------------------------+
//!       | 0e .. 82 | 08 05 10 <crc> 1a 04 08 00 10 00  |  SNAPSHOT {index 0, term 0}
//!       +----------------------------------------------+
//!       | ENTRY, STATE, ENTRY..., SNAPSHOT, ...         |
//!       +----------------------------------------------+
//!       | 00 00 00 ... (preallocated, last segment only)|
//!       +----------------------------------------------+
//! later segments start with CRC (crc = running CRC so far), METADATA, STATE
//!
//! frame: u64 LE length word | walpb.Record (N) | P zero bytes   (see layout)
//! walpb.Record: 1 type int64 | 2 crc uint32 | 3 data bytes (absent for CRC)
//! ```
//!
//! Record types: 1 METADATA (`etcdserverpb.Metadata`), 2 ENTRY
//! (`raftpb.Entry`), 3 STATE (`raftpb.HardState`), 4 CRC, 5 SNAPSHOT
//! (`walpb.Snapshot`).
//!
//! **Invariants checked** (each maps to a [`Fault`], classified by what
//! etcd does about it, [`EtcdOutcome`]):
//!
//! * every record fits in its file; a record with N + P beyond the bytes
//!   left is [`Fault::MaxSizeExceeded`], one cut by the end of the file (its
//!   bytes there start the record its length word announces) is a
//!   [`Fault::TornTail`] (last segment) or [`Fault::TruncatedSegment`];
//!   lengths are never used to allocate;
//! * `crc` = CRC32C-update(running CRC, data) for every data record, and
//!   the running CRC is one chain over all segments: each segment's CRC
//!   record must carry it ([`Fault::CrcMismatch`], [`Fault::ChainMismatch`]);
//! * on the last segment a failing record with an all-zero 512-byte sector
//!   is torn ([`Fault::TornTail`], which `wal.Repair` truncates; see
//!   [`RepairPoint`]);
//! * a zero length word ends a file's records; non-zero bytes after it
//!   are [`Fault::ZeroRunMidLog`];
//! * segment sequence numbers are consecutive; entries have no index gaps;
//!   METADATA copies are identical; payloads decode; record types are 1–5;
//! * unusual but accepted things (padding, unused length bits, 3.4's 10 MiB
//!   limit, stray files) become [`Anomaly`]s.
//!
//! Modules: [`layout`] (constants, byte diagram), [`segment`] (names,
//! directory listing), [`record`] (one segment's record stream),
//! [`dir`] (whole-directory scan), [`repair`] (etcd's cut and what it
//! drops), [`fault`] (classification).

pub mod dir;
pub mod fault;
pub mod layout;
pub mod record;
pub mod repair;
pub mod segment;
pub mod write;

pub use dir::{
    Anomaly, MetadataRecord, RecordPos, ScanStart, SegmentSummary, SnapshotRecord, StateRecord, WalDir, WalSummary,
};
pub use fault::{EtcdOutcome, Fault, WalError};
pub use record::{EntryRef, Record, RecordAnomaly, RecordType, SegmentEnd, SegmentReader};
pub use repair::{DroppedRecord, RepairKind, RepairPoint};
pub use segment::{Segment, SegmentName, WalFileKind, WalFiles};

#[cfg(test)]
mod tests;
