//! Decoding one `.snap` file, as etcd's `snap.Read` does.
//!
//! ```text
//! file = snappb.snapshot
//!   08 <crc varint>                      1 crc   (always; CRC32C of data, seed 0)
//!   12 <len varint> <raftpb.Snapshot>    2 data
//!        0a <len> <v2 store JSON>          1 data
//!        12 <len> <SnapshotMetadata>       2 metadata
//!             0a <len> <ConfState>           1 conf_state (voters... 28 00)
//!             10 <index>                     2 index
//!             18 <term>                      3 term
//! ```
//!
//! etcd's outcomes (FORMATS.md §8.2, §11 row 10), in its order:
//!
//! | check | etcd | here |
//! |---|---|---|
//! | file is empty | `snap: empty snapshot` | [`SnapFault::Empty`] |
//! | envelope does not decode | the proto error | [`SnapFault::ProtoError`] |
//! | `data` empty or `crc == 0` | `snap: empty snapshot` | [`SnapFault::Empty`] |
//! | CRC32C(data) ≠ crc | `snap: crc mismatch` | [`SnapFault::CrcMismatch`] |
//! | `raftpb.Snapshot` does not decode | the proto error | [`SnapFault::ProtoError`] |
//!
//! Each makes etcd rename the file to `<name>.broken` and try the next
//! older one. The envelope and `raftpb.Snapshot` are parsed zero-copy, so
//! the JSON stays a slice of the file and errors carry file offsets.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Location, Result};
use crate::proto::raftpb::{ConfState, SnapshotMetadata};
use crate::proto::wire::{Exact, Reader};
use crate::source::Source;

use super::name::SnapFileKind;
use super::v2store::{V2Store, parse_v2_store};

/// Why etcd rejects a `.snap` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SnapFault {
    /// `snap: empty snapshot`: zero-length file, no data, or crc 0.
    Empty,
    /// `snap: crc mismatch`.
    CrcMismatch,
    /// The envelope or the `raftpb.Snapshot` inside does not decode.
    ProtoError,
}

impl SnapFault {
    pub fn code(self) -> &'static str {
        match self {
            SnapFault::Empty => "snap.empty",
            SnapFault::CrcMismatch => "snap.crc_mismatch",
            SnapFault::ProtoError => "snap.proto_error",
        }
    }
    pub fn etcd_message(self) -> &'static str {
        match self {
            SnapFault::Empty => "snap: empty snapshot",
            SnapFault::CrcMismatch => "snap: crc mismatch",
            SnapFault::ProtoError => "proto: unexpected EOF / illegal wireType",
        }
    }
}

/// A rejected `.snap`, with file and offset in `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapError {
    pub fault: SnapFault,
    pub error: Error,
}

impl SnapError {
    fn new(fault: SnapFault, error: Error) -> Self {
        SnapError { fault, error }
    }
    pub fn in_file(mut self, path: &Path) -> Self {
        self.error = self.error.in_file(path);
        self
    }
}

impl fmt::Display for SnapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.fault.code(), self.fault.etcd_message(), self.error)
    }
}

impl std::error::Error for SnapError {}

impl From<SnapError> for Error {
    fn from(e: SnapError) -> Error {
        e.error
    }
}

/// A decoded `.snap`, borrowing the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snap<'a> {
    /// `snappb.snapshot.crc` (verified).
    pub crc: u32,
    /// `snappb.snapshot.data`: the marshaled `raftpb.Snapshot`.
    pub payload: &'a [u8],
    pub payload_offset: u64,
    /// `raftpb.Snapshot.data`: the v2 store JSON (3.4–3.6).
    pub data: Option<&'a [u8]>,
    pub data_offset: u64,
    pub metadata: SnapshotMetadata,
    /// The envelope is byte for byte how etcd writes it: `08 <crc> 12
    /// <len> <payload>`, minimal varints, nothing else. The crc covers
    /// only the payload; a change around it that decoding cannot see
    /// (bits of the crc varint past 32, an unknown field) clears this.
    pub canonical: bool,
}

/// Decode a whole `.snap` file with etcd's checks.
pub fn decode(file: &[u8]) -> std::result::Result<Snap<'_>, SnapError> {
    let proto = |e: Error| SnapError::new(SnapFault::ProtoError, e);
    let empty = |what: &str, at: u64| SnapError::new(SnapFault::Empty, Error::malformed(what, Location::at(at)));
    if file.is_empty() {
        return Err(empty("zero-length file", 0));
    }
    let (mut crc, mut payload, mut payload_offset) = (0u32, None, 0u64);
    let mut r = Reader::new(file, 0);
    while let Some(f) = r.next_field().map_err(proto)? {
        match f.number {
            1 => crc = f.varint("Crc").map_err(proto)? as u32,
            2 => {
                payload = Some(f.bytes("Data").map_err(proto)?);
                payload_offset = f.value_offset;
            }
            _ => {}
        }
    }
    let payload = match payload {
        Some(p) if !p.is_empty() => p,
        _ => return Err(empty("the envelope has no data", 0)),
    };
    if crc == 0 {
        return Err(empty("the envelope's crc is 0", 0));
    }
    let actual = crc32c::crc32c(payload);
    if actual != crc {
        return Err(SnapError::new(
            SnapFault::CrcMismatch,
            Error::at(ErrorKind::BadChecksum { expected: u64::from(crc), actual: u64::from(actual) }, payload_offset),
        ));
    }
    // raftpb.Snapshot: bytes field 1 (last wins), message field 2 (all
    // occurrences merge, which is decoding their concatenation).
    let (mut data, mut data_offset) = (None, payload_offset);
    let mut md_parts: Vec<&[u8]> = Vec::new();
    let mut md_offset = payload_offset;
    let mut r = Reader::new(payload, payload_offset);
    while let Some(f) = r.next_field().map_err(proto)? {
        match f.number {
            1 => {
                data = Some(f.bytes("Data").map_err(proto)?);
                data_offset = f.value_offset;
            }
            2 => {
                if md_parts.is_empty() {
                    md_offset = f.value_offset;
                }
                md_parts.push(f.bytes("Metadata").map_err(proto)?);
            }
            _ => {}
        }
    }
    let metadata = match md_parts.as_slice() {
        [one] => crate::proto::decode::<SnapshotMetadata>(one, md_offset),
        parts => crate::proto::decode::<SnapshotMetadata>(&parts.concat(), md_offset),
    }
    .map_err(proto)?;
    let canonical = Exact::new(file).varint(0x08, u64::from(crc)).bytes(0x12, payload).done();
    Ok(Snap { crc, payload, payload_offset, data, data_offset, metadata, canonical })
}

/// `raftpb.ConfState`, serializable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfStateInfo {
    pub voters: Vec<u64>,
    pub learners: Vec<u64>,
    pub voters_outgoing: Vec<u64>,
    pub learners_next: Vec<u64>,
    pub auto_leave: bool,
}

impl From<&ConfState> for ConfStateInfo {
    fn from(c: &ConfState) -> Self {
        ConfStateInfo {
            voters: c.voters.clone(),
            learners: c.learners.clone(),
            voters_outgoing: c.voters_outgoing.clone(),
            learners_next: c.learners_next.clone(),
            auto_leave: c.auto_leave,
        }
    }
}

/// Something odd about a `.snap` that etcd does not check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapAnomaly {
    pub code: &'static str,
    pub location: Location,
    pub what: String,
}

/// Everything known about one `.snap` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapReport {
    pub path: PathBuf,
    pub file_len: u64,
    /// (term, index) from the file name, when it parses.
    pub name_term_index: Option<(u64, u64)>,
    /// Stored envelope crc (when the envelope decodes).
    pub crc: Option<u32>,
    pub index: Option<u64>,
    pub term: Option<u64>,
    pub conf_state: Option<ConfStateInfo>,
    /// Bytes of v2 store JSON.
    pub data_len: u64,
    /// Why etcd would reject the file (and rename it `.broken`).
    #[serde(serialize_with = "ser_snap_error")]
    pub fault: Option<SnapError>,
    /// The v2 store, when the file loads and its JSON parses.
    pub store: Option<V2Store>,
    /// The JSON does not parse: etcd panics `failed to recover from
    /// snapshot` if it picks this snapshot.
    #[serde(serialize_with = "ser_error")]
    pub store_error: Option<Error>,
    pub anomalies: Vec<SnapAnomaly>,
}

fn ser_snap_error<S: serde::Serializer>(e: &Option<SnapError>, s: S) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct F<'a> {
        code: &'static str,
        etcd_message: &'static str,
        location: &'a Location,
        error: String,
    }
    match e {
        None => s.serialize_none(),
        Some(e) => s.serialize_some(&F {
            code: e.fault.code(),
            etcd_message: e.fault.etcd_message(),
            location: e.error.location(),
            error: e.error.kind().to_string(),
        }),
    }
}

fn ser_error<S: serde::Serializer>(e: &Option<Error>, s: S) -> std::result::Result<S::Ok, S::Error> {
    match e {
        None => s.serialize_none(),
        Some(e) => s.serialize_some(&e.to_string()),
    }
}

impl SnapReport {
    /// Would etcd load this file (before matching it against the WAL)?
    pub fn loadable(&self) -> bool {
        self.fault.is_none()
    }
}

/// Read and check the `.snap` file at `path`. The only `Err` is an I/O
/// error; damage is in [`SnapReport::fault`] / [`SnapReport::store_error`].
pub fn inspect(path: &Path) -> Result<SnapReport> {
    let src = Source::open(path)?;
    Ok(inspect_bytes(path, src.bytes()))
}

/// [`inspect`] on bytes already in memory; `path` is only used in messages.
pub fn inspect_bytes(path: &Path, bytes: &[u8]) -> SnapReport {
    let name = path.file_name().and_then(|n| n.to_str()).map(SnapFileKind::classify);
    let name_term_index = match name {
        Some(SnapFileKind::Snap { term, index, .. }) => Some((term, index)),
        Some(SnapFileKind::Broken { term: Some(t), index: Some(i) }) => Some((t, i)),
        _ => None,
    };
    let mut rep = SnapReport {
        path: path.to_path_buf(),
        file_len: bytes.len() as u64,
        name_term_index,
        crc: None,
        index: None,
        term: None,
        conf_state: None,
        data_len: 0,
        fault: None,
        store: None,
        store_error: None,
        anomalies: Vec::new(),
    };
    let snap = match decode(bytes) {
        Ok(s) => s,
        Err(e) => {
            // the stored crc is still interesting when only the CRC is wrong
            if let ErrorKind::BadChecksum { expected, .. } = e.error.kind() {
                rep.crc = u32::try_from(*expected).ok();
            }
            rep.fault = Some(e.in_file(path));
            return rep;
        }
    };
    let md = &snap.metadata;
    rep.crc = Some(snap.crc);
    rep.index = Some(md.index);
    rep.term = Some(md.term);
    rep.conf_state = Some(ConfStateInfo::from(&md.conf_state));
    rep.data_len = snap.data.map_or(0, |d| d.len() as u64);
    let at = |o: u64| Location::at(o).with_file(path);
    if !snap.canonical {
        rep.anomalies.push(SnapAnomaly {
            code: "snap.envelope_not_as_etcd_writes",
            location: at(0),
            what: "the envelope around the checksummed payload is not as etcd writes it (crc varint, tags or \
                   trailing bytes changed): the file was changed after etcd wrote it; etcd reads it anyway"
                .into(),
        });
    }
    if let Some((t, i)) = name_term_index {
        if (t, i) != (md.term, md.index) {
            rep.anomalies.push(SnapAnomaly {
                code: "snap.name_mismatch",
                location: at(snap.payload_offset),
                what: format!("file name says term {t} index {i}, metadata says term {} index {}", md.term, md.index),
            });
        }
    }
    if md.index == 0 {
        rep.anomalies.push(SnapAnomaly {
            code: "snap.index_zero",
            location: at(snap.payload_offset),
            what: "snapshot index is 0; etcd never writes such a snapshot".into(),
        });
    }
    match parse_v2_store(snap.data.unwrap_or(&[]), snap.data_offset) {
        Ok(store) => rep.store = Some(store),
        Err(e) => rep.store_error = Some(e.in_file(path)),
    }
    rep
}
