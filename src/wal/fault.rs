//! How a WAL is damaged, classified the way etcd reacts to it.
//!
//! Each [`Fault`] corresponds to an outcome of etcd's WAL reading code
//! (FORMATS.md §6.7, §11 rows 1–8): what message etcd prints and whether
//! it repairs the damage, refuses to boot, panics, or silently drops data.

use std::fmt;

use serde::Serialize;

use crate::error::Error;

/// What is wrong with a WAL, in etcd's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Fault {
    /// The last segment ends inside a record, or a failing record of the
    /// last segment has an all-zero 512-byte sector (`isTornEntry`).
    /// etcd gets `io.ErrUnexpectedEOF` and `wal.Repair` truncates it.
    TornTail,
    /// A segment other than the last ends inside a record. etcd's repair
    /// only touches the last segment, so it fails to boot.
    TruncatedSegment,
    /// A data record's CRC does not match (and the record is not torn):
    /// `walpb: crc mismatch`.
    CrcMismatch,
    /// A segment's CRC record does not continue the running CRC of the
    /// previous segment: `wal: crc mismatch`.
    ChainMismatch,
    /// A zero length word followed, later in the same file, by non-zero
    /// bytes: etcd stops reading that file at the zero word.
    ZeroRunMidLog,
    /// A length word claims more bytes than the file has left
    /// (3.5.5+: `max entry size limit exceeded`, repairable on the last
    /// segment; 3.4: fatal only if N ≥ 10 MiB − P). A record whose present
    /// bytes start the `walpb.Record` its length word announces was cut by
    /// the end of the file instead: [`Fault::TornTail`] or
    /// [`Fault::TruncatedSegment`].
    MaxSizeExceeded,
    /// A record (or its payload) does not decode as protobuf.
    ProtoError,
    /// A record type other than 1–5: `wal: unexpected block type`.
    UnexpectedType,
    /// No segment at all, or none covers the snapshot index:
    /// `wal: file not found`.
    MissingSegment,
    /// Segment sequence numbers are not consecutive.
    SeqGap,
    /// An entry index jumps forward: `wal: slice bounds out of range`.
    IndexGap,
    /// METADATA records differ: `wal: conflicting metadata found`.
    ConflictingMetadata,
    /// Reading from a snapshot: no SNAPSHOT record has its index:
    /// `wal: snapshot not found`.
    SnapshotNotFound,
    /// Reading from a snapshot: the SNAPSHOT record with its index has
    /// another term: `wal: snapshot mismatch`.
    SnapshotMismatch,
}

impl Fault {
    /// Stable machine-readable code, e.g. `wal.torn_tail`.
    pub fn code(self) -> &'static str {
        match self {
            Fault::TornTail => "wal.torn_tail",
            Fault::TruncatedSegment => "wal.truncated_segment",
            Fault::CrcMismatch => "wal.crc_mismatch",
            Fault::ChainMismatch => "wal.chain_mismatch",
            Fault::ZeroRunMidLog => "wal.zero_run",
            Fault::MaxSizeExceeded => "wal.max_size_exceeded",
            Fault::ProtoError => "wal.proto_error",
            Fault::UnexpectedType => "wal.unexpected_type",
            Fault::MissingSegment => "wal.missing_segment",
            Fault::SeqGap => "wal.seq_gap",
            Fault::IndexGap => "wal.index_gap",
            Fault::ConflictingMetadata => "wal.conflicting_metadata",
            Fault::SnapshotNotFound => "wal.snapshot_not_found",
            Fault::SnapshotMismatch => "wal.snapshot_mismatch",
        }
    }

    /// The message etcd 3.4/3.5 reports for it (3.6 adds context).
    pub fn etcd_message(self) -> &'static str {
        match self {
            Fault::TornTail | Fault::TruncatedSegment => "unexpected EOF",
            Fault::CrcMismatch => "walpb: crc mismatch",
            Fault::ChainMismatch => "wal: crc mismatch",
            Fault::ZeroRunMidLog => "(none: etcd stops reading the file at the zero word)",
            Fault::MaxSizeExceeded => "wal: max entry size limit exceeded",
            Fault::ProtoError => "proto: illegal wireType / unexpected EOF",
            Fault::UnexpectedType => "wal: unexpected block type",
            Fault::MissingSegment => "wal: file not found",
            Fault::SeqGap => "wal: file not found (sequence numbers do not increase continuously)",
            Fault::IndexGap => "wal: slice bounds out of range",
            Fault::ConflictingMetadata => "wal: conflicting metadata found",
            Fault::SnapshotNotFound => "wal: snapshot not found",
            Fault::SnapshotMismatch => "wal: snapshot mismatch",
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// What etcd does when it meets a fault at boot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum EtcdOutcome {
    /// `wal.Repair` truncates the last segment (backup `<seg>.broken`) and
    /// etcd boots without the dropped records.
    Repairs,
    /// etcd boots, but ignores (and in write mode zeroes) the bytes after
    /// the fault.
    DropsSilently,
    /// etcd refuses to boot (`failed to read WAL, cannot be repaired`).
    Fails,
    /// etcd panics while reading (e.g. `pbutil.MustUnmarshal` on a record
    /// whose CRC is fine but whose payload does not decode).
    Panics,
}

/// A WAL fault with its place and the underlying error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalError {
    pub fault: Fault,
    pub outcome: EtcdOutcome,
    /// File offset of the length word of the record concerned (the
    /// segment start for segment-level faults). `error.location()` holds
    /// the file and the exact offset of the problem.
    pub record_offset: u64,
    /// What went wrong, with file and offset.
    pub error: Error,
    /// Version-specific behaviour, when etcd versions disagree.
    pub note: Option<String>,
}

impl WalError {
    pub fn new(fault: Fault, outcome: EtcdOutcome, record_offset: u64, error: Error) -> Self {
        WalError { fault, outcome, record_offset, error, note: None }
    }
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
    /// Add the segment path to the error's location.
    pub fn in_file(mut self, path: &std::path::Path) -> Self {
        self.error = self.error.in_file(path);
        self
    }
}

impl fmt::Display for WalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.fault, self.fault.etcd_message(), self.error)?;
        if let Some(n) = &self.note {
            write!(f, "; {n}")?;
        }
        Ok(())
    }
}

impl std::error::Error for WalError {}

impl From<WalError> for Error {
    fn from(e: WalError) -> Error {
        e.error
    }
}
