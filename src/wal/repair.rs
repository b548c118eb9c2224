//! Where etcd would cut the WAL, and what it would lose.
//!
//! Two mechanisms drop the tail of the last segment (FORMATS.md §6.6–6.7):
//!
//! * `wal.Repair`, run once at boot when reading ends in
//!   `io.ErrUnexpectedEOF` (torn or truncated last record, or 3.5.5+'s size
//!   check): copy the segment to `<segment>.broken`, truncate it at the end
//!   of the last good record ([`RepairKind::Truncate`]);
//! * `ZeroToEnd`, run on every boot in write mode: everything after the
//!   last record read is zeroed. It loses data only when a zero length
//!   word hides records after it ([`RepairKind::ZeroToEnd`]).
//!
//! [`salvage`] lists, best effort, the records in the dropped region: it
//! decodes frames from the cut, and after garbage or zeros it resyncs on
//! the next 8-byte-aligned offset where a record with a known type decodes.
//! Where the running CRC is known it checks each record against it.

use std::path::PathBuf;

use serde::Serialize;

use crate::bytes::le_u64;

use super::layout::{FRAME_SIZE, record_type};
use super::record::{EntryRef, PartialRecord, align_down, first_nonzero, frame_end, parse_record, peek_record};

/// At most this many dropped records are listed (the count is exact).
pub const MAX_DROPPED_LISTED: usize = 10_000;

/// How etcd drops the tail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RepairKind {
    /// `wal.Repair`: backup to `<segment>.broken`, truncate at `offset`.
    Truncate,
    /// `ZeroToEnd`: zero from `offset` to the end of the file, no backup.
    ZeroToEnd,
}

/// The cut etcd would make in the last segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepairPoint {
    pub segment: PathBuf,
    pub kind: RepairKind,
    /// File offset of the cut: the end of the last good record.
    pub offset: u64,
    pub file_len: u64,
    /// The backup `wal.Repair` writes (`Truncate` only).
    pub backup: Option<PathBuf>,
    /// Records found after the cut (first [`MAX_DROPPED_LISTED`]).
    pub dropped: Vec<DroppedRecord>,
    /// How many records were found after the cut.
    pub dropped_total: u64,
    /// How many of them are (possibly partial) ENTRY records.
    pub dropped_entries: u64,
}

impl RepairPoint {
    /// The dropped ENTRY records.
    pub fn dropped_entries(&self) -> impl Iterator<Item = &DroppedRecord> {
        self.dropped.iter().filter(|d| d.fields.rec_type == Some(record_type::ENTRY))
    }
}

/// A record in the region etcd drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DroppedRecord {
    /// File offset of its length word.
    pub offset: u64,
    /// The whole frame is in the file and `walpb.Record` decodes.
    pub complete: bool,
    /// CRC check against the running CRC, when that is known (`None` after
    /// a resync, for CRC records, and for incomplete records).
    pub crc_ok: Option<bool>,
    #[serde(flatten)]
    pub fields: PartialRecord,
}

/// List the records from file offset `from` to the end of `data` (a whole
/// segment). `crc_before` is the running CRC just before `from`, if known.
/// Returns (listed records, total count, entry count).
pub fn salvage(data: &[u8], from: u64, crc_before: Option<u32>) -> (Vec<DroppedRecord>, u64, u64) {
    let mut out = Vec::new();
    let (mut total, mut entries) = (0u64, 0u64);
    let Ok(start) = usize::try_from(from) else {
        return (out, 0, 0);
    };
    let mut pos = start;
    let mut prev = crc_before;
    let mut push = |d: DroppedRecord, out: &mut Vec<DroppedRecord>| {
        total += 1;
        if d.fields.rec_type == Some(record_type::ENTRY) {
            entries += 1;
        }
        if out.len() < MAX_DROPPED_LISTED {
            out.push(d);
        }
    };
    while let Some(word) = le_u64(data, pos) {
        if word == 0 {
            // Skip the zero run; the next record starts at an aligned
            // offset at or before the first non-zero byte.
            match data.get(pos..).and_then(first_nonzero) {
                // i >= 8 because the word at pos is zero: progress.
                Some(i) => pos = align_down(pos.saturating_add(i)),
                None => break,
            }
            prev = None;
            continue;
        }
        let frame = frame_end(data, pos);
        if let Some((end, n, _)) = frame.filter(|(end, _, _)| *end <= data.len()) {
            let body_start = pos.saturating_add(FRAME_SIZE as usize);
            let rec = data.get(body_start..body_start.saturating_add(n as usize)).unwrap_or(&[]);
            if let Ok((t, crc, d)) = parse_record(rec, body_start as u64) {
                if (record_type::METADATA..=record_type::SNAPSHOT).contains(&t) {
                    let d = d.map(|(s, _)| s).unwrap_or(&[]);
                    let mut fields = PartialRecord { rec_type: Some(t), crc: Some(crc), ..Default::default() };
                    if t == record_type::ENTRY {
                        if let Ok(e) = EntryRef::parse(d, 0) {
                            fields.entry_type = Some(e.entry_type);
                            fields.term = Some(e.term);
                            fields.index = Some(e.index);
                        } else {
                            fields = PartialRecord { crc: Some(crc), ..peek_record(rec) };
                        }
                    }
                    let crc_ok =
                        if t == record_type::CRC { None } else { prev.map(|c| crc32c::crc32c_append(c, d) == crc) };
                    push(DroppedRecord { offset: pos as u64, complete: true, crc_ok, fields }, &mut out);
                    prev = Some(crc);
                    pos = end;
                    continue;
                }
            }
        }
        if pos == start {
            // The failing record itself: whatever of it survives.
            let body_start = pos.saturating_add(FRAME_SIZE as usize).min(data.len());
            let body_end = frame.map_or(data.len(), |(end, _, _)| end.min(data.len()));
            let body = data.get(body_start..body_end.max(body_start)).unwrap_or(&[]);
            push(
                DroppedRecord { offset: pos as u64, complete: false, crc_ok: None, fields: peek_record(body) },
                &mut out,
            );
            // Trust its length word if the frame fits in the file.
            pos = match frame {
                Some((end, _, _)) if end <= data.len() && end > pos => end,
                _ => pos.saturating_add(FRAME_SIZE as usize),
            };
        } else {
            pos = pos.saturating_add(FRAME_SIZE as usize);
        }
        prev = None;
    }
    (out, total, entries)
}
