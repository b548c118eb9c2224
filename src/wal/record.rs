//! The record stream of one segment: etcd's `decoder`, zero-copy.
//!
//! [`SegmentReader`] walks the frames of one mapped segment (see
//! [`super::layout`] for the byte diagram) and yields [`Record`]s that
//! borrow the file. Per frame, in etcd's order (FORMATS.md §6.4, §6.7):
//!
//! 1. fewer than 8 bytes left: none → end of file; some → unexpected EOF;
//! 2. length word 0 → end of the records of this file ([`SegmentEnd::ZeroWord`]);
//! 3. N + P larger than the bytes left after the frame start →
//!    [`Fault::MaxSizeExceeded`] (etcd 3.5.5+'s check; nothing is allocated
//!    from the length word, records are slices of the map), unless the
//!    bytes that are there start the `walpb.Record` the length word
//!    announces (type 1–5, crc, a data length adding up to exactly N) and
//!    N is below 3.4's limit: then the file was cut inside a real record,
//!    an unexpected EOF in every version (3.5.5+ words it as the size
//!    check, wrapping `io.ErrUnexpectedEOF`), as in step 4;
//! 4. the frame runs past the end of the file → unexpected EOF;
//! 5. `walpb.Record` does not decode → torn (last segment) or proto error;
//! 6. non-CRC record: running CRC R := CRC32C-update(R, data) must equal
//!    `crc`, else torn (last segment) or CRC mismatch;
//!    CRC record: if R ≠ 0 and R ≠ `crc` → chain mismatch; then R := `crc`.
//!
//! "Torn" is etcd's `isTornEntry`: on the last segment only, the frame
//! body (record plus padding) cut at the file's 512-byte sector
//! boundaries has a piece that is all zeros. Torn records and EOF on the
//! last segment are [`Fault::TornTail`], which etcd repairs by truncating.
//!
//! After the first error the reader returns `Ok(None)` forever.

use crate::bytes::le_u64;
use crate::error::{Error, ErrorKind, Result};
use crate::proto::etcdserverpb::Metadata;
use crate::proto::raftpb::{Entry, HardState};
use crate::proto::wire::{self, Reader};
use crate::proto::{DecodedRequest, decode, walpb};

use super::fault::{EtcdOutcome, Fault, WalError};
use super::layout::{
    ALIGN, FRAME_SIZE, MAX_RECORD_BYTES_V34, PAD_FLAG, SECTOR_SIZE, UNUSED_BITS, decode_len_word, padding_for,
    record_type,
};

/// `walpb.Record.type`, named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordType {
    Metadata,
    Entry,
    State,
    Crc,
    Snapshot,
    /// Anything else: etcd's `ReadAll` fails with `unexpected block type`.
    Unknown(i64),
}

impl RecordType {
    pub fn from_i64(t: i64) -> Self {
        match t {
            record_type::METADATA => RecordType::Metadata,
            record_type::ENTRY => RecordType::Entry,
            record_type::STATE => RecordType::State,
            record_type::CRC => RecordType::Crc,
            record_type::SNAPSHOT => RecordType::Snapshot,
            other => RecordType::Unknown(other),
        }
    }
    /// Upstream-style lower-case name (`metadata`, `entry`, …).
    pub fn name(self) -> &'static str {
        match self {
            RecordType::Metadata => "metadata",
            RecordType::Entry => "entry",
            RecordType::State => "state",
            RecordType::Crc => "crc",
            RecordType::Snapshot => "snapshot",
            RecordType::Unknown(_) => "unknown",
        }
    }
}

/// One framed, CRC-checked record, borrowing the segment bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Record<'a> {
    /// File offset of the length word.
    pub offset: u64,
    /// The raw length word.
    pub len_word: u64,
    /// N: bytes of `walpb.Record`.
    pub len: u64,
    /// P: padding bytes after it.
    pub padding: u64,
    /// `walpb.Record.type`.
    pub rec_type: i64,
    /// `walpb.Record.crc`.
    pub crc: u32,
    /// `walpb.Record.data`; `None` when the field is absent (CRC records).
    pub data: Option<&'a [u8]>,
    /// File offset of the first byte of `data`.
    pub data_offset: u64,
    /// The padding bytes.
    pub pad: &'a [u8],
    /// The `walpb.Record` bytes are exactly how etcd encodes (type, crc,
    /// data): `08 <type> 10 <crc> [1a <len> <data>]`, minimal varints,
    /// nothing else. See [`is_canonical`].
    pub canonical: bool,
}

/// Something unusual about a record that etcd accepts silently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordAnomaly {
    /// P differs from (8 − N mod 8) mod 8, so later frames are misaligned.
    PaddingMismatch { expected: u64, found: u64 },
    /// Padding bytes are not zero.
    PaddingNotZero,
    /// Bits 59..62 (or, without the pad flag, 56..62) of the length word
    /// are set; etcd ignores them.
    UnusedLengthBits,
    /// N ≥ 10 MiB − P: etcd 3.4 and 3.5.0–3.5.4 refuse this record.
    OverV34Limit,
    /// The `walpb.Record` decodes, its CRC matches, but its bytes are not
    /// how any etcd writes it (a changed field tag, an unknown or repeated
    /// field, an over-long varint, bits of the crc varint past 32): the
    /// record was changed after it was written, in a way etcd reads
    /// without noticing (the CRC covers only `data`).
    NotAsEtcdWrites,
}

impl RecordAnomaly {
    pub fn code(self) -> &'static str {
        match self {
            RecordAnomaly::PaddingMismatch { .. } => "wal.padding_mismatch",
            RecordAnomaly::PaddingNotZero => "wal.padding_not_zero",
            RecordAnomaly::UnusedLengthBits => "wal.length_word_unused_bits",
            RecordAnomaly::OverV34Limit => "wal.record_over_3_4_limit",
            RecordAnomaly::NotAsEtcdWrites => "wal.record_not_as_etcd_writes",
        }
    }
    pub fn describe(self) -> String {
        match self {
            RecordAnomaly::PaddingMismatch { expected, found } => {
                format!("length word says {found} padding bytes, etcd writes {expected}")
            }
            RecordAnomaly::PaddingNotZero => "padding bytes are not zero".into(),
            RecordAnomaly::UnusedLengthBits => "unused bits of the length word are set".into(),
            RecordAnomaly::OverV34Limit => "record is 10 MiB or larger: etcd 3.4 and 3.5.0-3.5.4 cannot read it".into(),
            RecordAnomaly::NotAsEtcdWrites => {
                "the record's header bytes (type, crc, data tags) are not as etcd writes \
                                               them: changed after writing; etcd reads it anyway, the CRC covers only \
                                               the data"
                    .into()
            }
        }
    }
}

impl<'a> Record<'a> {
    pub fn kind(&self) -> RecordType {
        RecordType::from_i64(self.rec_type)
    }
    /// `data`, or empty when absent.
    pub fn data(&self) -> &'a [u8] {
        self.data.unwrap_or(&[])
    }
    /// File offset just past the padding: where the next frame starts.
    pub fn end(&self) -> u64 {
        self.offset.saturating_add(FRAME_SIZE).saturating_add(self.len).saturating_add(self.padding)
    }
    /// Oddities etcd does not check.
    pub fn anomalies(&self) -> Vec<RecordAnomaly> {
        let mut v = Vec::new();
        let expected = padding_for(self.len);
        if self.padding != expected {
            v.push(RecordAnomaly::PaddingMismatch { expected, found: self.padding });
        }
        if self.pad.iter().any(|b| *b != 0) {
            v.push(RecordAnomaly::PaddingNotZero);
        }
        let unused = if self.len_word & PAD_FLAG != 0 { UNUSED_BITS } else { 0x7f << 56 };
        if self.len_word & unused != 0 {
            v.push(RecordAnomaly::UnusedLengthBits);
        }
        if self.len.saturating_add(self.padding) >= MAX_RECORD_BYTES_V34 {
            v.push(RecordAnomaly::OverV34Limit);
        }
        if !self.canonical {
            v.push(RecordAnomaly::NotAsEtcdWrites);
        }
        v
    }
    /// The `raftpb.Entry` of an ENTRY record, zero-copy.
    pub fn entry(&self) -> Result<EntryRef<'a>> {
        EntryRef::parse(self.data(), self.data_offset)
    }
    /// The `raftpb.HardState` of a STATE record.
    pub fn hard_state(&self) -> Result<HardState> {
        decode(self.data(), self.data_offset)
    }
    /// The `walpb.Snapshot` of a SNAPSHOT record.
    pub fn snapshot(&self) -> Result<walpb::Snapshot> {
        decode(self.data(), self.data_offset)
    }
    /// The `etcdserverpb.Metadata` of a METADATA record.
    pub fn metadata(&self) -> Result<Metadata> {
        decode(self.data(), self.data_offset)
    }
}

/// A `raftpb.Entry` whose data still borrows the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryRef<'a> {
    /// `raftpb.EntryType` as stored.
    pub entry_type: i32,
    pub term: u64,
    pub index: u64,
    pub data: Option<&'a [u8]>,
    /// File offset of the first byte of `data`.
    pub data_offset: u64,
}

impl<'a> EntryRef<'a> {
    /// Parse `raftpb.Entry` without copying `Data`. Same rules as gogo's
    /// unmarshaler: last occurrence wins, unknown fields are skipped,
    /// wrong wire types are errors; the enum is the low 32 bits.
    pub fn parse(buf: &'a [u8], base: u64) -> Result<Self> {
        let mut e = EntryRef { entry_type: 0, term: 0, index: 0, data: None, data_offset: base };
        let mut r = Reader::new(buf, base);
        while let Some(f) = r.next_field()? {
            match f.number {
                1 => e.entry_type = f.varint("Type")? as i32,
                2 => e.term = f.varint("Term")?,
                3 => e.index = f.varint("Index")?,
                4 => {
                    e.data = Some(f.bytes("Data")?);
                    e.data_offset = f.value_offset;
                }
                _ => {}
            }
        }
        Ok(e)
    }
    /// An owned `raftpb::Entry`.
    pub fn to_entry(&self) -> Entry {
        Entry { r#type: self.entry_type, term: self.term, index: self.index, data: self.data.map(<[u8]>::to_vec) }
    }
    /// What the entry's data holds (see [`DecodedRequest::decode`]).
    pub fn request(&self) -> DecodedRequest {
        DecodedRequest::decode(self.entry_type, self.data.unwrap_or(&[]))
    }
}

/// How the records of a segment ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SegmentEnd {
    /// The file ends exactly after the last record.
    Eof { offset: u64 },
    /// A zero length word at `offset`. `nonzero_after` is the offset of
    /// the first non-zero byte after it, if any: data etcd will not read.
    ZeroWord { offset: u64, nonzero_after: Option<u64> },
}

impl SegmentEnd {
    pub fn offset(&self) -> u64 {
        match self {
            SegmentEnd::Eof { offset } | SegmentEnd::ZeroWord { offset, .. } => *offset,
        }
    }
}

/// Parsed fields of a `walpb.Record`: (type, crc, data and its offset).
type RecordFields<'a> = (i64, u32, Option<(&'a [u8], u64)>);

/// Parse `walpb.Record` zero-copy, with gogo's rules.
pub fn parse_record(buf: &[u8], base: u64) -> Result<RecordFields<'_>> {
    let (mut t, mut crc, mut data) = (0i64, 0u32, None);
    let mut r = Reader::new(buf, base);
    while let Some(f) = r.next_field()? {
        match f.number {
            1 => t = f.varint("Type")? as i64,
            // gogo accumulates into a uint32: only the low 32 bits survive.
            2 => crc = f.varint("Crc")? as u32,
            3 => data = Some((f.bytes("Data")?, f.value_offset)),
            _ => {}
        }
    }
    Ok((t, crc, data))
}

/// Is `rec` byte for byte etcd's encoding of `walpb.Record{type, crc,
/// data}` (gogo, every release): `08 <type> 10 <crc>`, then `1a <len>
/// <data>` when data is present, each varint minimal, nothing else.
/// `data` must be the slice [`parse_record`] returned from `rec`.
pub fn is_canonical(rec: &[u8], rec_type: i64, crc: u32, data: Option<&[u8]>) -> bool {
    let head = wire::Exact::new(rec).varint(0x08, rec_type as u64).varint(0x10, u64::from(crc));
    match data {
        None => head.done(),
        Some(d) => head.bytes(0x1a, d).done(),
    }
}

/// etcd's `isTornEntry`: `body` (record plus padding) starts at file offset
/// `file_offset`; cut at 512-byte sector boundaries of the file, is any
/// piece all zeros?
pub fn is_torn(body: &[u8], file_offset: u64) -> bool {
    let mut off = file_offset;
    let mut rest = body;
    while !rest.is_empty() {
        let to_boundary = SECTOR_SIZE - off % SECTOR_SIZE;
        let n = usize::try_from(to_boundary).unwrap_or(usize::MAX).min(rest.len());
        let Some((chunk, tail)) = rest.split_at_checked(n) else {
            return false;
        };
        if chunk.iter().all(|b| *b == 0) {
            return true;
        }
        off = off.saturating_add(n as u64);
        rest = tail;
    }
    false
}

/// Do the bytes `present` of a frame cut by the end of the file start the
/// `walpb.Record` its length word announces: field 1 type 1–5, field 2
/// crc, field 3 with a length that makes the record exactly `n` bytes?
/// Then the file was cut inside a real record; a damaged length word
/// almost never passes this.
pub fn is_cut_record(present: &[u8], n: u64) -> bool {
    fn check(b: &[u8], n: u64) -> Option<bool> {
        let mut pos = 0usize;
        let mut next = || {
            let (v, used) = b.get(pos..).and_then(wire::read_varint)?;
            pos += used;
            Some((v, pos))
        };
        let (key, _) = next()?;
        let (t, _) = next()?;
        // A CRC record has no data: it cannot be cut after its length word.
        let t = i64::try_from(t).ok()?;
        if key != 0x08 || !(record_type::METADATA..=record_type::SNAPSHOT).contains(&t) || t == record_type::CRC {
            return None;
        }
        let (key, _) = next()?;
        next()?; // crc
        let (key3, _) = next()?;
        let (len, header) = next()?;
        (key == 0x10 && key3 == 0x1a).then_some((header as u64).checked_add(len)? == n)
    }
    check(present, n).unwrap_or(false)
}

/// Index of the first non-zero byte of `s`.
pub fn first_nonzero(s: &[u8]) -> Option<usize> {
    // Word at a time: a 64 MB preallocated tail is scanned often.
    let mut chunks = s.chunks_exact(8);
    let mut base = 0usize;
    for c in chunks.by_ref() {
        if le_u64(c, 0) != Some(0) {
            return c.iter().position(|b| *b != 0).map(|i| base + i);
        }
        base += 8;
    }
    chunks.remainder().iter().position(|b| *b != 0).map(|i| base + i)
}

/// Decodes the records of one segment (etcd's `decoder` for one file).
#[derive(Debug, Clone)]
pub struct SegmentReader<'a> {
    data: &'a [u8],
    pos: usize,
    crc: u32,
    /// `false` after [`SegmentReader::resume_at`] with an unknown CRC: the
    /// next record's `crc` field is adopted instead of checked.
    crc_known: bool,
    is_last: bool,
    end: Option<SegmentEnd>,
    failed: bool,
}

impl<'a> SegmentReader<'a> {
    /// `data` is the whole segment file. `is_last`: this is the last
    /// segment of the WAL (only there are records tested for tearing).
    /// `crc`: the running CRC carried over from the previous segment (0
    /// when starting to read).
    pub fn new(data: &'a [u8], is_last: bool, crc: u32) -> Self {
        SegmentReader { data, pos: 0, crc, crc_known: true, is_last, end: None, failed: false }
    }

    /// Start decoding at file offset `offset` of the segment `data` (the
    /// whole file, so offsets, torn-write sectors and error locations stay
    /// file offsets). `crc` is the running CRC just before `offset`; `None`
    /// means unknown: the first record's `crc` field is then adopted
    /// unchecked (as etcd's decoder adopts a CRC record's). Used to read on
    /// past damage (`etcd-forensics wal --raw`); etcd itself never resumes.
    pub fn resume_at(data: &'a [u8], offset: u64, is_last: bool, crc: Option<u32>) -> Self {
        let pos = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        SegmentReader { data, pos, crc: crc.unwrap_or(0), crc_known: crc.is_some(), is_last, end: None, failed: false }
    }

    /// The running CRC after the last good record.
    pub fn crc(&self) -> u32 {
        self.crc
    }
    /// File offset just past the last good record (etcd's `lastValidOff`,
    /// where `Repair` would truncate).
    pub fn offset(&self) -> u64 {
        self.pos as u64
    }
    /// How the records ended, once `next_record` returned `Ok(None)`
    /// without an error.
    pub fn end(&self) -> Option<SegmentEnd> {
        self.end
    }

    /// The next record; `Ok(None)` at the end of the records.
    pub fn next_record(&mut self) -> Result<Option<Record<'a>>, WalError> {
        if self.failed || self.end.is_some() {
            return Ok(None);
        }
        match self.decode_one() {
            Ok(Some(r)) => Ok(Some(r)),
            Ok(None) => Ok(None),
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    fn unexpected_eof(&self, at: u64, error: Error, note: Option<String>) -> WalError {
        let (fault, outcome) = if self.is_last {
            (Fault::TornTail, EtcdOutcome::Repairs)
        } else {
            (Fault::TruncatedSegment, EtcdOutcome::Fails)
        };
        let e = WalError::new(fault, outcome, at, error);
        match note {
            Some(n) => e.with_note(n),
            None => e,
        }
    }

    fn decode_one(&mut self) -> Result<Option<Record<'a>>, WalError> {
        let pos = self.pos;
        let at = pos as u64;
        let rest = self.data.get(pos..).unwrap_or(&[]);
        if rest.is_empty() {
            self.end = Some(SegmentEnd::Eof { offset: at });
            return Ok(None);
        }
        let Some(word) = le_u64(rest, 0) else {
            let e = Error::at(ErrorKind::Truncated { need: FRAME_SIZE, have: rest.len() as u64 }, at);
            return Err(self.unexpected_eof(at, e, Some("the file ends inside a length word".into())));
        };
        if word == 0 {
            let nonzero_after = first_nonzero(rest).map(|i| at.saturating_add(i as u64));
            self.end = Some(SegmentEnd::ZeroWord { offset: at, nonzero_after });
            return Ok(None);
        }
        let (n, p) = decode_len_word(word);
        let avail = rest.len() as u64; // >= 8 here
        let body_len = n.saturating_add(p);
        if body_len > avail {
            // etcd 3.5.5+: recBytes > fileSize - lastValidOff - padBytes
            let present = rest.get(FRAME_SIZE as usize..).unwrap_or(&[]);
            if n < MAX_RECORD_BYTES_V34.saturating_sub(p) && is_cut_record(present, n) {
                let have = avail - FRAME_SIZE;
                let e = Error::at(ErrorKind::Truncated { need: body_len, have }, at + FRAME_SIZE);
                return Err(self.unexpected_eof(
                    at,
                    e,
                    Some(format!(
                        "the file ends inside the record ({n} bytes announced, {have} left); \
                         etcd 3.5.5+ words this unexpected EOF as `max entry size limit exceeded`"
                    )),
                ));
            }
            let e = Error::at(ErrorKind::Truncated { need: FRAME_SIZE.saturating_add(body_len), have: avail }, at);
            let v34 = if n >= MAX_RECORD_BYTES_V34.saturating_sub(p) {
                "etcd 3.4 and 3.5.0-3.5.4 refuse it outright (not repairable)"
            } else {
                "etcd 3.4 and 3.5.0-3.5.4 hit unexpected EOF instead"
            };
            let (outcome, how) = if self.is_last {
                (EtcdOutcome::Repairs, "3.5.5+ treat it as unexpected EOF and repair the last segment")
            } else {
                (EtcdOutcome::Fails, "this is not the last segment, so repair cannot help")
            };
            return Err(WalError::new(Fault::MaxSizeExceeded, outcome, at, e)
                .with_note(format!("length word {word:#018x} claims {n} bytes with {avail} left; {how}; {v34}")));
        }
        let body_start = pos.saturating_add(FRAME_SIZE as usize);
        let body_avail = avail - FRAME_SIZE;
        if body_len > body_avail {
            let e = Error::at(ErrorKind::Truncated { need: body_len, have: body_avail }, at + FRAME_SIZE);
            return Err(self.unexpected_eof(at, e, Some("the file ends inside the record".into())));
        }
        // body_len <= body_avail < usize::MAX: these conversions are exact.
        let n_us = n as usize;
        let body_end = body_start.saturating_add(body_len as usize);
        let body = self.data.get(body_start..body_end).unwrap_or(&[]);
        let (rec_bytes, pad) = body.split_at_checked(n_us).unwrap_or((body, &[]));
        let body_off = at + FRAME_SIZE;

        let (rec_type, crc, data) = match parse_record(rec_bytes, body_off) {
            Ok(v) => v,
            Err(e) => {
                if self.is_last && is_torn(body, body_off) {
                    return Err(self.unexpected_eof(
                        at,
                        e,
                        Some("record does not decode and has an all-zero sector (torn write)".into()),
                    ));
                }
                return Err(WalError::new(Fault::ProtoError, EtcdOutcome::Fails, at, e));
            }
        };
        let (data_slice, data_offset) = match data {
            Some((d, o)) => (Some(d), o),
            None => (None, body_off),
        };
        if rec_type == record_type::CRC {
            if self.crc != 0 && self.crc != crc {
                let e = Error::at(ErrorKind::BadChecksum { expected: u64::from(crc), actual: u64::from(self.crc) }, at);
                return Err(WalError::new(Fault::ChainMismatch, EtcdOutcome::Fails, at, e).with_note(format!(
                    "CRC record says the previous segments end with crc {crc:#010x}, they end with {:#010x}",
                    self.crc
                )));
            }
            self.crc = crc;
            self.crc_known = true;
        } else if !self.crc_known {
            // Resumed with an unknown CRC: nothing to check against.
            self.crc = crc;
            self.crc_known = true;
        } else {
            let computed = crc32c::crc32c_append(self.crc, data_slice.unwrap_or(&[]));
            if computed != crc {
                let e = Error::at(ErrorKind::BadChecksum { expected: u64::from(crc), actual: u64::from(computed) }, at);
                if self.is_last && is_torn(body, body_off) {
                    return Err(self.unexpected_eof(
                        at,
                        e,
                        Some("crc mismatch on a record with an all-zero sector (torn write)".into()),
                    ));
                }
                return Err(WalError::new(Fault::CrcMismatch, EtcdOutcome::Fails, at, e));
            }
            self.crc = computed;
        }
        self.pos = body_end;
        Ok(Some(Record {
            offset: at,
            len_word: word,
            len: n,
            padding: p,
            rec_type,
            crc,
            data: data_slice,
            data_offset,
            pad,
            canonical: is_canonical(rec_bytes, rec_type, crc, data_slice),
        }))
    }
}

impl<'a> Iterator for SegmentReader<'a> {
    type Item = Result<Record<'a>, WalError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record().transpose()
    }
}

/// What could be read of a record that failed, or of the records after a
/// repair point (best effort, never fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PartialRecord {
    pub rec_type: Option<i64>,
    pub crc: Option<u32>,
    /// Entry header, for ENTRY records whose header survived.
    pub entry_type: Option<i32>,
    pub term: Option<u64>,
    pub index: Option<u64>,
}

/// Read what survives of a damaged `walpb.Record` (`buf` may be cut short):
/// fields up to the first error, and the entry header if the payload is an
/// entry whose first fields survived.
pub fn peek_record(buf: &[u8]) -> PartialRecord {
    let mut out = PartialRecord::default();
    let mut data: Option<&[u8]> = None;
    let mut pos = 0usize;
    while let Some((key, used)) = buf.get(pos..).and_then(wire::read_varint) {
        pos += used;
        let (num, wt) = (key >> 3, key & 7);
        match wt {
            0 => {
                let Some((v, used)) = buf.get(pos..).and_then(wire::read_varint) else {
                    break;
                };
                pos += used;
                match num {
                    1 => out.rec_type = Some(v as i64),
                    2 => out.crc = Some(v as u32),
                    _ => {}
                }
            }
            2 => {
                let Some((len, used)) = buf.get(pos..).and_then(wire::read_varint) else {
                    break;
                };
                pos += used;
                let rest = buf.get(pos..).unwrap_or(&[]);
                let take = usize::try_from(len).unwrap_or(usize::MAX).min(rest.len());
                if num == 3 {
                    data = rest.get(..take);
                }
                pos = pos.saturating_add(take);
            }
            _ => break,
        }
    }
    if out.rec_type == Some(record_type::ENTRY) {
        let d = data.unwrap_or(&[]);
        let mut pos = 0usize;
        while let Some((key, used)) = d.get(pos..).and_then(wire::read_varint) {
            pos += used;
            if key & 7 != 0 {
                break;
            }
            let Some((v, used)) = d.get(pos..).and_then(wire::read_varint) else {
                break;
            };
            pos += used;
            match key >> 3 {
                1 => out.entry_type = Some(v as i32),
                2 => out.term = Some(v),
                3 => out.index = Some(v),
                _ => {}
            }
        }
    }
    out
}

/// Where a frame at `offset` ends if its length word is believed: used by
/// salvage to step over records. `None` if there is no sane frame there.
pub(crate) fn frame_end(data: &[u8], offset: usize) -> Option<(usize, u64, u64)> {
    let word = le_u64(data, offset)?;
    if word == 0 {
        return None;
    }
    let (n, p) = decode_len_word(word);
    let end = (offset as u64).checked_add(FRAME_SIZE)?.checked_add(n)?.checked_add(p)?;
    let end = usize::try_from(end).ok()?;
    Some((end, n, p))
}

/// Round `x` down to the frame alignment.
pub(crate) fn align_down(x: usize) -> usize {
    x - x % ALIGN as usize
}
