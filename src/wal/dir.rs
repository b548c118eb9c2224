//! Reading a whole WAL directory: etcd's `ReadAll` / `ValidSnapshotEntries`
//! without keeping the entries.
//!
//! [`WalDir::scan_with`] streams every record of the selected segments
//! through a callback and returns a [`WalSummary`]: metadata, last
//! HardState, all SNAPSHOT records, entry index range, per-segment facts,
//! the first [`WalError`] and, when etcd would cut the last segment, the
//! [`RepairPoint`]. Memory does not grow with the WAL: only one segment is
//! mapped at a time and entries are not kept.
//!
//! Checks, in file order (the first failing one is reported and the scan
//! stops there, as etcd does):
//!
//! * segment selection: sequence numbers consecutive ([`Fault::SeqGap`]);
//!   with a start snapshot, the last segment whose name index ≤ the
//!   snapshot index ([`Fault::MissingSegment`]);
//! * per record, the decoder checks of [`super::record`] (framing, size,
//!   CRC, CRC chain across segments, torn writes on the last segment);
//! * zero length word followed by non-zero bytes ([`Fault::ZeroRunMidLog`]);
//! * `ReadAll`'s checks: unknown record type, METADATA records identical,
//!   entry indexes without gaps (an entry may overwrite the tail: raft log
//!   truncation), payloads decode (etcd panics otherwise), and with a start
//!   snapshot, a SNAPSHOT record with its index and term.
//!
//! [`ScanStart::All`] reads every segment from the first (like
//! `ValidSnapshotEntries`) and applies `ReadAll`'s checks to all of them.
//! That is stricter than etcd when old segments precede the snapshot etcd
//! starts from; pass [`ScanStart::Snapshot`] to mirror `ReadAll` exactly.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Location, Result};
use crate::proto::etcdserverpb::Metadata;
use crate::proto::raftpb::{ConfState, HardState};
use crate::source::Source;

use super::fault::{EtcdOutcome, Fault, WalError};
use super::record::{Record, RecordType, SegmentEnd, SegmentReader};
use super::repair::{RepairKind, RepairPoint, salvage};
use super::segment::{Segment, WalFiles};

/// At most this many anomalies are kept in a summary (the count is exact).
pub const MAX_ANOMALIES: usize = 1000;

/// Where reading starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum ScanStart {
    /// Every segment from the first one present.
    #[default]
    All,
    /// As etcd's `ReadAll` does from a snapshot `{index, term}` (`{0, 0}`
    /// when there is no `.snap`).
    Snapshot { index: u64, term: u64 },
}

/// A WAL directory.
#[derive(Debug, Clone)]
pub struct WalDir {
    files: WalFiles,
}

/// Something etcd accepts but a forensic reader should mention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Anomaly {
    pub code: &'static str,
    pub location: Location,
    pub what: String,
}

/// Facts about one segment that was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentSummary {
    pub path: PathBuf,
    pub seq: u64,
    /// The index in the file name.
    pub name_index: u64,
    pub file_len: u64,
    pub records: u64,
    pub entries: u64,
    pub first_entry: Option<u64>,
    pub last_entry: Option<u64>,
    /// Offset just past the last good record.
    pub valid_end: u64,
    /// How the records ended; `None` if a fault stopped the scan here.
    pub end: Option<SegmentEnd>,
    /// Running CRC after the last good record.
    pub end_crc: u32,
}

/// Where a record is: index into [`WalSummary::segments`] and file offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordPos {
    pub segment: usize,
    pub offset: u64,
}

/// The last STATE record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRecord {
    pub term: u64,
    pub vote: u64,
    pub commit: u64,
    pub pos: RecordPos,
}

impl StateRecord {
    pub fn hard_state(&self) -> HardState {
        HardState { term: self.term, vote: self.vote, commit: self.commit }
    }
}

/// A SNAPSHOT record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotRecord {
    pub index: u64,
    pub term: u64,
    /// voters/learners… (3.5+ only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub voters: Option<Vec<u64>>,
    #[serde(skip)]
    pub conf_state: Option<ConfState>,
    pub pos: RecordPos,
}

/// The METADATA record (`etcdserverpb.Metadata`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetadataRecord {
    pub node_id: u64,
    pub cluster_id: u64,
    /// First copy.
    pub pos: RecordPos,
    /// How many METADATA records were read (one per segment).
    pub copies: u64,
}

/// What a scan found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalSummary {
    pub dir: PathBuf,
    pub start: ScanStart,
    pub segments: Vec<SegmentSummary>,
    pub metadata: Option<MetadataRecord>,
    pub hard_state: Option<StateRecord>,
    pub snapshots: Vec<SnapshotRecord>,
    /// Lowest entry index in the log (above the start snapshot).
    pub first_index: Option<u64>,
    /// raft's last index: the index of the last entry record (later
    /// entries overwrite earlier ones with the same or higher index).
    pub last_index: Option<u64>,
    /// Term of the entry at `last_index`.
    pub last_term: Option<u64>,
    /// ENTRY records read (including overwritten ones).
    pub entry_count: u64,
    /// raft log truncations: ENTRY records whose index is not above the
    /// previous last index (they replace that entry and all later ones).
    pub overwrites: u64,
    pub record_count: u64,
    /// Largest N seen.
    pub largest_record: u64,
    /// Running CRC after the last good record.
    pub crc: u32,
    /// The first fault, in file order.
    #[serde(serialize_with = "ser_fault")]
    pub fault: Option<WalError>,
    /// Where etcd would cut the last segment, if it would.
    pub repair: Option<RepairPoint>,
    pub anomalies: Vec<Anomaly>,
    /// Anomalies beyond [`MAX_ANOMALIES`].
    pub anomalies_omitted: u64,
}

fn ser_fault<S: serde::Serializer>(f: &Option<WalError>, s: S) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct F<'a> {
        fault: Fault,
        code: &'static str,
        outcome: EtcdOutcome,
        etcd_message: &'static str,
        record_offset: u64,
        location: &'a Location,
        error: String,
        note: Option<&'a str>,
    }
    match f {
        None => s.serialize_none(),
        Some(e) => s.serialize_some(&F {
            fault: e.fault,
            code: e.fault.code(),
            outcome: e.outcome,
            etcd_message: e.fault.etcd_message(),
            record_offset: e.record_offset,
            location: e.error.location(),
            error: e.error.kind().to_string(),
            note: e.note.as_deref(),
        }),
    }
}

impl WalSummary {
    /// `ValidSnapshotEntries`: SNAPSHOT records with index ≤ the last
    /// HardState's commit (0 when there is no STATE record). etcd only
    /// uses a `.snap` that matches one of these.
    pub fn valid_snapshots(&self) -> impl Iterator<Item = &SnapshotRecord> {
        let commit = self.hard_state.map_or(0, |h| h.commit);
        self.snapshots.iter().filter(move |s| s.index <= commit)
    }
    /// raft's `loadState` check: is HardState.commit beyond the last index
    /// (entries lost while a STATE record survived)? `snapshot_index` is
    /// the index of the snapshot etcd starts from (0 if none). Returns
    /// `(commit, last_index)` when out of range.
    pub fn commit_out_of_range(&self, snapshot_index: u64) -> Option<(u64, u64)> {
        let hs = self.hard_state?;
        let last = self.last_index.unwrap_or(0).max(snapshot_index);
        (hs.commit > last).then_some((hs.commit, last))
    }
    /// Would etcd boot this WAL (possibly after repairing it)?
    pub fn etcd_boots(&self) -> bool {
        self.fault.as_ref().is_none_or(|f| matches!(f.outcome, EtcdOutcome::Repairs | EtcdOutcome::DropsSilently))
    }
}

impl WalDir {
    /// List the WAL directory `dir` (`member/wal`).
    pub fn open(dir: &Path) -> Result<WalDir> {
        Ok(WalDir { files: WalFiles::list(dir)? })
    }
    /// All files of the directory, classified.
    pub fn files(&self) -> &WalFiles {
        &self.files
    }
    /// The segments, sorted.
    pub fn segments(&self) -> &[Segment] {
        &self.files.segments
    }

    /// The segments etcd would read from `start` (`selectWALFiles`), as a
    /// range of [`Self::segments`], and the selection fault if any. With a
    /// sequence gap the range stops before the gap.
    pub fn select(&self, start: ScanStart) -> (std::ops::Range<usize>, Option<WalError>) {
        let segs = self.segments();
        let dir_err = |msg: String| Error::malformed(msg, Location::file(&self.files.dir));
        if segs.is_empty() {
            let e = WalError::new(Fault::MissingSegment, EtcdOutcome::Fails, 0, dir_err("no .wal segment".into()));
            return (0..0, Some(e));
        }
        let first = match start {
            ScanStart::All => 0,
            ScanStart::Snapshot { index, .. } => match segs.iter().rposition(|s| s.name.index <= index) {
                Some(i) => i,
                None => {
                    let e = WalError::new(
                        Fault::MissingSegment,
                        EtcdOutcome::Fails,
                        0,
                        dir_err(format!("no segment starts at or before snapshot index {index}")),
                    );
                    return (0..0, Some(e));
                }
            },
        };
        let mut end = first + 1;
        while let (Some(prev), Some(next)) = (segs.get(end - 1), segs.get(end)) {
            if prev.name.seq.checked_add(1) != Some(next.name.seq) {
                let e = Error::malformed(
                    format!("segment sequence number {:#x} follows {:#x}", next.name.seq, prev.name.seq),
                    Location::file(&next.path),
                );
                return (first..end, Some(WalError::new(Fault::SeqGap, EtcdOutcome::Fails, 0, e)));
            }
            end += 1;
        }
        (first..end, None)
    }

    /// [`Self::scan_with`] from every segment, without a callback.
    pub fn scan(&self) -> Result<WalSummary> {
        self.scan_with(ScanStart::All, |_, _| {})
    }

    /// Read the WAL from `start`, calling `visit` for every record that
    /// passed the decoder's checks (framing and CRC), in order. The only
    /// `Err` is an I/O error opening a segment; damage is in
    /// [`WalSummary::fault`].
    pub fn scan_with<F>(&self, start: ScanStart, mut visit: F) -> Result<WalSummary>
    where
        F: FnMut(&Segment, &Record<'_>),
    {
        let (range, select_fault) = self.select(start);
        let mut sc = Scanner::new(&self.files.dir, start);
        for a in self.file_anomalies() {
            sc.anomaly(a.code, a.location, a.what);
        }
        let segs = self.segments();
        let last_in_dir = segs.len().saturating_sub(1);
        let mut crc = 0u32;
        for i in range {
            let Some(seg) = segs.get(i) else { break };
            let src = Source::open(&seg.path)?;
            let bytes = src.bytes();
            let is_last = i == last_in_dir;
            let si = sc.summary.segments.len();
            sc.summary.segments.push(SegmentSummary {
                path: seg.path.clone(),
                seq: seg.name.seq,
                name_index: seg.name.index,
                file_len: bytes.len() as u64,
                records: 0,
                entries: 0,
                first_entry: None,
                last_entry: None,
                valid_end: 0,
                end: None,
                end_crc: crc,
            });
            let mut rd = SegmentReader::new(bytes, is_last, crc);
            let mut fault: Option<WalError> = None;
            loop {
                let before = rd.crc();
                match rd.next_record() {
                    Ok(Some(rec)) => {
                        visit(seg, &rec);
                        if let Some(f) = sc.on_record(si, &rec) {
                            fault = Some(f.in_file(&seg.path));
                            break;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        if matches!(e.outcome, EtcdOutcome::Repairs) {
                            sc.summary.repair =
                                Some(repair_point(seg, bytes, RepairKind::Truncate, e.record_offset, Some(before)));
                        }
                        fault = Some(e.in_file(&seg.path));
                        break;
                    }
                }
            }
            crc = rd.crc();
            if let Some(s) = sc.summary.segments.get_mut(si) {
                s.valid_end = rd.offset();
                s.end = rd.end();
                s.end_crc = crc;
            }
            if fault.is_none() {
                fault = sc.on_segment_end(seg, bytes, rd.end(), is_last, rd.crc());
            }
            if let Some(f) = fault {
                sc.summary.fault = Some(f);
                break;
            }
        }
        sc.summary.crc = crc;
        if sc.summary.fault.is_none() {
            sc.summary.fault = select_fault;
        }
        if sc.summary.fault.is_none() {
            if let ScanStart::Snapshot { index, term } = start {
                if !sc.snapshot_matched {
                    let e = Error::malformed(
                        format!("no SNAPSHOT record with index {index} (term {term})"),
                        Location::file(&self.files.dir),
                    );
                    sc.summary.fault = Some(WalError::new(Fault::SnapshotNotFound, EtcdOutcome::Fails, 0, e));
                }
            }
        }
        Ok(sc.summary)
    }

    fn file_anomalies(&self) -> Vec<Anomaly> {
        let mut v = Vec::new();
        for s in &self.files.segments {
            if !s.name.canonical {
                v.push(Anomaly {
                    code: "wal.segment_name_noncanonical",
                    location: Location::file(&s.path),
                    what: format!("etcd reads this segment but would name it {}", s.name.file_name()),
                });
            }
        }
        for p in &self.files.broken {
            v.push(Anomaly {
                code: "wal.broken_file",
                location: Location::file(p),
                what: "backup left by an earlier wal.Repair (etcd ignores it with a warning)".into(),
            });
        }
        for p in &self.files.ignored {
            v.push(Anomaly {
                code: "wal.ignored_file",
                location: Location::file(p),
                what: "not a WAL file; etcd warns `ignored file in WAL directory`".into(),
            });
        }
        v
    }
}

fn repair_point(seg: &Segment, bytes: &[u8], kind: RepairKind, offset: u64, crc: Option<u32>) -> RepairPoint {
    let (dropped, dropped_total, dropped_entries) = salvage(bytes, offset, crc);
    let backup = match kind {
        RepairKind::Truncate => {
            let mut name = seg.path.clone().into_os_string();
            name.push(".broken");
            Some(PathBuf::from(name))
        }
        RepairKind::ZeroToEnd => None,
    };
    RepairPoint {
        segment: seg.path.clone(),
        kind,
        offset,
        file_len: bytes.len() as u64,
        backup,
        dropped,
        dropped_total,
        dropped_entries,
    }
}

struct Scanner {
    summary: WalSummary,
    start: ScanStart,
    metadata_raw: Option<Vec<u8>>,
    snapshot_matched: bool,
    /// ReadAll's "entries ≤ I are ignored" bound; `None` = take the first
    /// entry as the base (All mode over purged segments).
    base: Option<u64>,
}

impl Scanner {
    fn new(dir: &Path, start: ScanStart) -> Self {
        Scanner {
            summary: WalSummary {
                dir: dir.to_path_buf(),
                start,
                segments: Vec::new(),
                metadata: None,
                hard_state: None,
                snapshots: Vec::new(),
                first_index: None,
                last_index: None,
                last_term: None,
                entry_count: 0,
                overwrites: 0,
                record_count: 0,
                largest_record: 0,
                crc: 0,
                fault: None,
                repair: None,
                anomalies: Vec::new(),
                anomalies_omitted: 0,
            },
            start,
            metadata_raw: None,
            snapshot_matched: false,
            base: match start {
                ScanStart::All => None,
                ScanStart::Snapshot { index, .. } => Some(index),
            },
        }
    }

    fn anomaly(&mut self, code: &'static str, location: Location, what: String) {
        if self.summary.anomalies.len() < MAX_ANOMALIES {
            self.summary.anomalies.push(Anomaly { code, location, what });
        } else {
            self.summary.anomalies_omitted += 1;
        }
    }

    fn seg_path(&self, si: usize) -> PathBuf {
        self.summary.segments.get(si).map(|s| s.path.clone()).unwrap_or_default()
    }

    /// ReadAll's per-record checks. Returns the fault that stops reading.
    fn on_record(&mut self, si: usize, rec: &Record<'_>) -> Option<WalError> {
        let pos = RecordPos { segment: si, offset: rec.offset };
        let first_in_segment = self.summary.segments.get(si).is_some_and(|s| s.records == 0);
        if let Some(s) = self.summary.segments.get_mut(si) {
            s.records += 1;
        }
        self.summary.record_count += 1;
        self.summary.largest_record = self.summary.largest_record.max(rec.len);
        for a in rec.anomalies() {
            let path = self.seg_path(si);
            self.anomaly(a.code(), Location::at(rec.offset).with_file(&path), a.describe());
        }
        if first_in_segment && rec.kind() != RecordType::Crc {
            let path = self.seg_path(si);
            self.anomaly(
                "wal.segment_without_crc_record",
                Location::at(rec.offset).with_file(&path),
                format!("segment starts with a {} record, not a CRC record", rec.kind().name()),
            );
        }
        // etcd panics (pbutil.MustUnmarshal) when a payload with a good CRC
        // does not decode.
        let panics = |e: Error| {
            WalError::new(Fault::ProtoError, EtcdOutcome::Panics, rec.offset, e)
                .with_note(format!("the {} record's CRC is good but its payload does not decode", rec.kind().name()))
        };
        match rec.kind() {
            RecordType::Crc => {}
            RecordType::Metadata => {
                if let Some(raw) = &self.metadata_raw {
                    if raw.as_slice() != rec.data() {
                        let show = |d: &[u8]| match crate::proto::decode::<Metadata>(d, 0) {
                            Ok(m) => format!("node {:x} cluster {:x}", m.node_id, m.cluster_id),
                            Err(_) => format!("{} undecodable bytes", d.len()),
                        };
                        let e = Error::malformed(
                            format!("METADATA differs: {} here, {} before", show(rec.data()), show(raw)),
                            Location::at(rec.offset),
                        );
                        return Some(WalError::new(Fault::ConflictingMetadata, EtcdOutcome::Fails, rec.offset, e));
                    }
                    if let Some(m) = &mut self.summary.metadata {
                        m.copies += 1;
                    }
                } else {
                    self.metadata_raw = Some(rec.data().to_vec());
                    match rec.metadata() {
                        Ok(m) => {
                            self.summary.metadata =
                                Some(MetadataRecord { node_id: m.node_id, cluster_id: m.cluster_id, pos, copies: 1 })
                        }
                        Err(e) => return Some(panics(e)),
                    }
                }
            }
            RecordType::Entry => {
                let e = match rec.entry() {
                    Ok(e) => e,
                    Err(e) => return Some(panics(e)),
                };
                self.summary.entry_count += 1;
                if let Some(s) = self.summary.segments.get_mut(si) {
                    s.entries += 1;
                    s.first_entry = Some(s.first_entry.map_or(e.index, |f| f.min(e.index)));
                    s.last_entry = Some(e.index);
                }
                let base = match self.base {
                    Some(b) => b,
                    None => {
                        // All mode. Segment 0 starts with SNAPSHOT{0,0}
                        // (wal.Create), possibly followed by the snapshot
                        // a new WAL was seeded with (`etcdctl backup`):
                        // entries continue from the last SNAPSHOT seen.
                        // Over purged segments take the first entry.
                        let b = if self.summary.segments.first().is_some_and(|s| s.seq == 0) {
                            self.summary.snapshots.last().map_or(0, |s| s.index)
                        } else {
                            e.index.saturating_sub(1)
                        };
                        self.base = Some(b);
                        b
                    }
                };
                if e.index <= base {
                    return None; // ReadAll ignores entries at or below the snapshot
                }
                let last = self.summary.last_index.unwrap_or(base);
                if e.index > last.saturating_add(1) {
                    let err = Error::malformed(
                        format!(
                            "entry index {} follows {} (expected at most {})",
                            e.index,
                            last,
                            last.saturating_add(1)
                        ),
                        Location::at(rec.offset),
                    );
                    return Some(WalError::new(Fault::IndexGap, EtcdOutcome::Fails, rec.offset, err));
                }
                if self.summary.last_index.is_some() && e.index <= last {
                    self.summary.overwrites += 1;
                }
                self.summary.first_index = Some(self.summary.first_index.map_or(e.index, |f| f.min(e.index)));
                self.summary.last_index = Some(e.index);
                self.summary.last_term = Some(e.term);
            }
            RecordType::State => match rec.hard_state() {
                Ok(h) => {
                    self.summary.hard_state = Some(StateRecord { term: h.term, vote: h.vote, commit: h.commit, pos })
                }
                Err(e) => return Some(panics(e)),
            },
            RecordType::Snapshot => {
                let s = match rec.snapshot() {
                    Ok(s) => s,
                    Err(e) => return Some(panics(e)),
                };
                if let ScanStart::Snapshot { index, term } = self.start {
                    if s.index == index {
                        if s.term != term {
                            let e = Error::malformed(
                                format!(
                                    "SNAPSHOT record for index {index} has term {}, the snapshot has {term}",
                                    s.term
                                ),
                                Location::at(rec.offset),
                            );
                            return Some(WalError::new(Fault::SnapshotMismatch, EtcdOutcome::Fails, rec.offset, e));
                        }
                        self.snapshot_matched = true;
                    }
                }
                self.summary.snapshots.push(SnapshotRecord {
                    index: s.index,
                    term: s.term,
                    voters: s.conf_state.as_ref().map(|c| c.voters.clone()),
                    conf_state: s.conf_state,
                    pos,
                });
            }
            RecordType::Unknown(t) => {
                let e = Error::malformed(format!("unexpected block type {t}"), Location::at(rec.offset));
                return Some(WalError::new(Fault::UnexpectedType, EtcdOutcome::Fails, rec.offset, e));
            }
        }
        None
    }

    fn on_segment_end(
        &mut self,
        seg: &Segment,
        bytes: &[u8],
        end: Option<SegmentEnd>,
        is_last: bool,
        crc: u32,
    ) -> Option<WalError> {
        if self.summary.segments.last().is_some_and(|s| s.records == 0) {
            self.anomaly(
                "wal.empty_segment",
                Location::at(0).with_file(&seg.path),
                "segment holds no records (etcd writes a CRC and a METADATA record first)".into(),
            );
        }
        let Some(SegmentEnd::ZeroWord { offset, nonzero_after }) = end else {
            return None;
        };
        match nonzero_after {
            None => {
                if !is_last {
                    self.anomaly(
                        "wal.zero_tail_not_last",
                        Location::at(offset).with_file(&seg.path),
                        "a segment other than the last ends in zeros; etcd truncates segments when it cuts them".into(),
                    );
                }
                None
            }
            Some(nz) => {
                let e = Error::malformed(
                    format!("zero length word at {offset:#x}, but non-zero bytes follow at {nz:#x}"),
                    Location::at(offset).with_file(&seg.path),
                );
                if is_last {
                    self.summary.repair = Some(repair_point(seg, bytes, RepairKind::ZeroToEnd, offset, Some(crc)));
                    Some(WalError::new(Fault::ZeroRunMidLog, EtcdOutcome::DropsSilently, offset, e).with_note(
                        "etcd stops reading at the zero word and zeroes the rest of the segment when it opens the WAL for writing",
                    ))
                } else {
                    Some(WalError::new(Fault::ZeroRunMidLog, EtcdOutcome::Fails, offset, e).with_note(
                        "etcd skips to the next segment, whose CRC record then no longer matches (wal: crc mismatch)",
                    ))
                }
            }
        }
    }
}

impl std::fmt::Display for WalSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} segment(s), {} records", self.dir.display(), self.segments.len(), self.record_count)?;
        if let (Some(a), Some(b)) = (self.first_index, self.last_index) {
            write!(f, ", entries {a}..={b}")?;
        }
        if let Some(e) = &self.fault {
            write!(f, "; {e}")?;
        }
        Ok(())
    }
}
