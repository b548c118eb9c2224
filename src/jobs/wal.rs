//! `wal`: a WAL's entries, decoded, and what etcd would make of the WAL
//! (the successor of etcd's `tools/etcd-dump-logs`).
//!
//! Two passes over the segments, neither of which keeps entries in memory
//! (one segment is mapped at a time):
//!
//! 1. [`summarize`]: etcd's reading of the whole WAL ([`WalDir::scan_with`]
//!    from the first segment): metadata, last HardState, SNAPSHOT records,
//!    index range, and the first fault with what etcd does about it. This
//!    is the header of a dump and the whole of `--summary`, and it decides
//!    the exit code.
//! 2. [`dump`]: the ENTRY records again, in file order, each decoded
//!    ([`DecodedRequest`]), redacted ([`redact`]), filtered
//!    ([`DumpOptions`]) and handed to a sink as it is read. Without `raw` it
//!    stops where etcd stops (the first fault of pass 1). With `raw` it
//!    reads every segment and reads on past damage: after a record that
//!    fails its CRC but is otherwise intact it continues right after it
//!    with that record's CRC; after anything else it resumes at the next
//!    8-byte-aligned offset where a plausible record starts, adopting that
//!    record's CRC unchecked. Every error is handed to the sink as it is
//!    met.
//!
//! Entries are listed as the file holds them: when a new leader overwrote
//! a suffix of the raft log, both the old and the new entries appear (the
//! summary counts these as `overwrites`), whereas etcd-dump-logs prints
//! `ReadAll`'s final list.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use super::Outcome;
use crate::bytes::le_u64;
use crate::error::{Error, ErrorKind, Location, Result};
use crate::proto::DecodedRequest;
use crate::proto::raftpb::EntryType;
use crate::source::Source;
use crate::wal::layout::{FRAME_SIZE, PAD_FLAG, UNUSED_BITS, padding_for, record_type};
use crate::wal::record::{EntryRef, align_down, first_nonzero, frame_end, parse_record};
use crate::wal::{
    EtcdOutcome, Fault, Record, RecordType, ScanStart, SegmentEnd, SegmentReader, WalDir, WalError, WalSummary,
};

/// What redacted secrets are replaced with.
pub const REDACTED: &str = "<redacted>";

/// Find the WAL directory: `wal_dir` if given (etcd's `--wal-dir`), else
/// `DIR/member/wal` (a data dir), `DIR/wal` (a member dir) or `DIR` itself.
pub fn resolve_wal_dir(dir: Option<&Path>, wal_dir: Option<&Path>) -> Result<PathBuf> {
    let (given, explicit) = match (wal_dir, dir) {
        (Some(w), _) => (w, true),
        (None, Some(d)) => (d, false),
        (None, None) => return Err(Error::usage("give a data dir, a member dir or a WAL dir (or --wal-dir)")),
    };
    let meta = std::fs::metadata(given).map_err(|e| Error::io("open", given, &e))?;
    if !meta.is_dir() {
        return Err(Error::usage(format!(
            "{}: not a directory; give a data dir, a member dir or a WAL dir (`member/wal`)",
            given.display()
        )));
    }
    if !explicit {
        for sub in [Path::new("member").join("wal"), PathBuf::from("wal")] {
            let p = given.join(sub);
            if p.is_dir() {
                return Ok(p);
            }
        }
    }
    Ok(given.to_path_buf())
}

/// List the WAL directory; a directory without any `*.wal` segment is an
/// error (the command cannot run), not damage.
pub fn open(wal_dir: &Path) -> Result<WalDir> {
    let wal = WalDir::open(wal_dir)?;
    if wal.segments().is_empty() {
        return Err(Error::new(
            ErrorKind::Usage("no WAL segment (*.wal) here; give a data dir, a member dir or a WAL dir".into()),
            Location::file(wal_dir),
        ));
    }
    Ok(wal)
}

/// What [`summarize`] found: etcd's reading of the WAL.
#[derive(Debug, Clone)]
pub struct WalReport {
    pub wal_dir: PathBuf,
    pub summary: WalSummary,
    /// ENTRY records etcd reads before the first fault: what an unfiltered
    /// [`dump`] without `raw` lists.
    pub entry_count: u64,
    /// Each change of the cluster version the log sets, as (entry index,
    /// version), oldest first (entries raft overwrote are dropped; at most
    /// [`MAX_CLUSTER_VERSIONS`]). The members that wrote the log ran the
    /// last one's line or newer.
    pub cluster_versions: Vec<(u64, String)>,
}

/// Cluster-version changes kept by [`summarize`] (a real log has a handful).
pub const MAX_CLUSTER_VERSIONS: usize = 64;

impl WalReport {
    /// Verified when the WAL reads cleanly or etcd repairs what is wrong
    /// (a torn tail); damaged for any other fault.
    pub fn outcome(&self) -> Outcome {
        match &self.summary.fault {
            None => Outcome::Verified,
            Some(f) if f.outcome == EtcdOutcome::Repairs => Outcome::Verified,
            Some(_) => Outcome::Damaged,
        }
    }
    /// `clean`, `repairable` (etcd's `wal.Repair` fixes it at boot) or `damaged`.
    pub fn verdict(&self) -> &'static str {
        match &self.summary.fault {
            None => "clean",
            Some(f) if f.outcome == EtcdOutcome::Repairs => "repairable",
            Some(_) => "damaged",
        }
    }
    /// The highest raft index the WAL holds: raft's last index (the last
    /// ENTRY record's) or a higher SNAPSHOT record's.
    pub fn last_index(&self) -> Option<u64> {
        let snap = self.summary.snapshots.iter().map(|s| s.index).max();
        match (self.summary.last_index, snap) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        }
    }
    /// The segment file the first fault is in.
    pub fn fault_segment(&self) -> Option<&Path> {
        self.summary.fault.as_ref().and_then(|f| f.error.location().file.as_deref())
    }
}

/// Pass 1: read the WAL as etcd does, from the first segment.
pub fn summarize(wal: &WalDir) -> Result<WalReport> {
    let mut count = 0u64;
    // the last record visited: (its segment, offset, was a counted entry);
    // the pointer only identifies the segment, it is never dereferenced
    let mut last: Option<(*const crate::wal::Segment, u64, bool)> = None;
    let mut versions: Vec<(u64, String)> = Vec::new();
    let summary = wal.scan_with(ScanStart::All, |seg, rec| {
        let entry = if rec.kind() == RecordType::Entry { rec.entry().ok() } else { None };
        if let Some(e) = &entry {
            count += 1;
            while versions.last().is_some_and(|(i, _)| *i >= e.index) {
                versions.pop(); // raft overwrote it
            }
            if let Some(v) = e.data.and_then(|d| crate::proto::cluster_version_of(e.entry_type, d)) {
                if versions.len() < MAX_CLUSTER_VERSIONS && versions.last().is_none_or(|(_, last)| *last != v) {
                    versions.push((e.index, v));
                }
            }
        }
        last = Some((seg, rec.offset, entry.is_some()));
    })?;
    // The scan visits a record before its ReadAll checks; a record that
    // fails them (an index gap) is where etcd stops, so it is not read.
    if let (Some(f), Some((seg, off, true))) = (&summary.fault, last) {
        let file = f.error.location().file.as_deref();
        let same = wal.segments().iter().any(|s| std::ptr::eq(s, seg) && Some(s.path.as_path()) == file);
        if same && off == f.record_offset {
            count = count.saturating_sub(1);
        }
    }
    Ok(WalReport { wal_dir: wal.files().dir.clone(), summary, entry_count: count, cluster_versions: versions })
}

/// etcd-dump-logs' `--entry-type` names (`tools/etcd-dump-logs/main.go`,
/// 3.5 and 3.6), with its meanings: an entry matches a name if
/// etcd-dump-logs' filter of that name passes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryTypeName {
    /// `EntryConfChange` entries (and, unlike etcd-dump-logs, which cannot
    /// show them at all, `EntryConfChangeV2`, which etcd never writes).
    ConfigChange,
    /// Every `EntryNormal` entry, whatever its payload.
    Normal,
    /// Normal entries holding a bare v2 `Request`.
    Request,
    /// Normal entries holding an `InternalRaftRequest`, including the
    /// leader's empty no-op entries (an empty payload decodes as an empty
    /// `InternalRaftRequest`, so etcd-dump-logs counts them here).
    InternalRaftRequest,
    IrrRange,
    IrrPut,
    IrrDeleteRange,
    IrrTxn,
    IrrCompaction,
    IrrLeaseGrant,
    IrrLeaseRevoke,
    IrrLeaseCheckpoint,
}

impl EntryTypeName {
    pub const ALL: [EntryTypeName; 12] = [
        EntryTypeName::ConfigChange,
        EntryTypeName::Normal,
        EntryTypeName::Request,
        EntryTypeName::InternalRaftRequest,
        EntryTypeName::IrrRange,
        EntryTypeName::IrrPut,
        EntryTypeName::IrrDeleteRange,
        EntryTypeName::IrrTxn,
        EntryTypeName::IrrCompaction,
        EntryTypeName::IrrLeaseGrant,
        EntryTypeName::IrrLeaseRevoke,
        EntryTypeName::IrrLeaseCheckpoint,
    ];
    /// The names, as etcd-dump-logs spells them.
    pub const NAMES: [&'static str; 12] = [
        "ConfigChange",
        "Normal",
        "Request",
        "InternalRaftRequest",
        "IRRRange",
        "IRRPut",
        "IRRDeleteRange",
        "IRRTxn",
        "IRRCompaction",
        "IRRLeaseGrant",
        "IRRLeaseRevoke",
        "IRRLeaseCheckpoint",
    ];

    pub fn name(self) -> &'static str {
        let i = Self::ALL.iter().position(|t| *t == self).unwrap_or(0);
        Self::NAMES.get(i).copied().unwrap_or("")
    }
    /// Exact (case-sensitive) etcd-dump-logs name.
    pub fn from_name(s: &str) -> Option<EntryTypeName> {
        let i = Self::NAMES.iter().position(|n| *n == s)?;
        Self::ALL.get(i).copied()
    }
    /// Does an entry of raft type `entry_type` whose data decoded to `req` match?
    pub fn matches(self, entry_type: i32, req: &DecodedRequest) -> bool {
        let normal = entry_type == EntryType::EntryNormal as i32;
        let irr = |f: fn(&crate::proto::etcdserverpb::InternalRaftRequest) -> bool| match req {
            DecodedRequest::Internal(r) => normal && f(r),
            _ => false,
        };
        match self {
            EntryTypeName::ConfigChange => {
                entry_type == EntryType::EntryConfChange as i32 || entry_type == EntryType::EntryConfChangeV2 as i32
            }
            EntryTypeName::Normal => normal,
            EntryTypeName::Request => normal && matches!(req, DecodedRequest::V2(_)),
            EntryTypeName::InternalRaftRequest => {
                normal && matches!(req, DecodedRequest::Internal(_) | DecodedRequest::Empty)
            }
            EntryTypeName::IrrRange => irr(|r| r.range.is_some()),
            EntryTypeName::IrrPut => irr(|r| r.put.is_some()),
            EntryTypeName::IrrDeleteRange => irr(|r| r.delete_range.is_some()),
            EntryTypeName::IrrTxn => irr(|r| r.txn.is_some()),
            EntryTypeName::IrrCompaction => irr(|r| r.compaction.is_some()),
            EntryTypeName::IrrLeaseGrant => irr(|r| r.lease_grant.is_some()),
            EntryTypeName::IrrLeaseRevoke => irr(|r| r.lease_revoke.is_some()),
            EntryTypeName::IrrLeaseCheckpoint => irr(|r| r.lease_checkpoint.is_some()),
        }
    }
}

impl std::fmt::Display for EntryTypeName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Replace secrets with [`REDACTED`]: the passwords of `AuthUserAdd` and
/// `AuthUserChangePassword` (plain text in 3.4; 3.5+ sends a bcrypt
/// `hashedPassword` instead) and the password and simple token of
/// `Authenticate`. Empty fields stay empty.
pub fn redact(req: &mut DecodedRequest) {
    let DecodedRequest::Internal(r) = req else { return };
    fn hide(s: &mut String) {
        if !s.is_empty() {
            *s = REDACTED.into();
        }
    }
    if let Some(a) = &mut r.auth_user_add {
        hide(&mut a.password);
        hide(&mut a.hashed_password);
    }
    if let Some(a) = &mut r.auth_user_change_password {
        hide(&mut a.password);
        hide(&mut a.hashed_password);
    }
    if let Some(a) = &mut r.authenticate {
        hide(&mut a.password);
        hide(&mut a.simple_token);
    }
}

/// Which entries [`dump`] hands to the sink, and how it reads.
#[derive(Debug, Clone, Default)]
pub struct DumpOptions {
    /// Only entries with index ≥ this.
    pub start_index: Option<u64>,
    /// Only entries with index ≤ this.
    pub end_index: Option<u64>,
    /// Only entries matching one of these; empty = all.
    pub entry_types: Vec<EntryTypeName>,
    /// Read every segment and read on past damage.
    pub raw: bool,
}

impl DumpOptions {
    fn wants_index(&self, index: u64) -> bool {
        self.start_index.is_none_or(|s| index >= s) && self.end_index.is_none_or(|e| index <= e)
    }
    fn wants(&self, entry_type: i32, req: &DecodedRequest) -> bool {
        self.entry_types.is_empty() || self.entry_types.iter().any(|t| t.matches(entry_type, req))
    }
}

/// Whether a listed entry's record passed its CRC check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrcCheck {
    Verified,
    /// `--raw` only: the record fails its CRC (the entry may be damaged).
    Mismatch,
    /// `--raw` only: the first record read after skipping damaged bytes;
    /// its CRC was adopted, there was nothing to check it against.
    Unchecked,
}

/// One entry, decoded and redacted.
#[derive(Debug, Clone)]
pub struct EntryView<'a> {
    pub segment: &'a Path,
    /// File offset of the record's length word.
    pub offset: u64,
    pub term: u64,
    pub index: u64,
    /// `raftpb.EntryType` as stored.
    pub entry_type: i32,
    /// Bytes of `Entry.Data`.
    pub data_len: usize,
    /// The decoded data, secrets redacted. Undecodable data is not kept
    /// (it could be a damaged request holding a password).
    pub request: DecodedRequest,
    pub crc: CrcCheck,
}

/// A WAL error met while dumping.
#[derive(Debug, Clone)]
pub struct DumpError {
    pub error: WalError,
    pub segment: PathBuf,
    /// `--raw`: the file offset where reading goes on (`None`: not in this
    /// segment).
    pub resume_at: Option<u64>,
}

/// What the sink is handed.
#[derive(Debug)]
pub enum DumpEvent<'a> {
    Entry(&'a EntryView<'a>),
    Error(&'a DumpError),
}

/// Counts of a [`dump`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DumpStats {
    /// ENTRY records read.
    pub entries_read: u64,
    /// Entries handed to the sink.
    pub entries_shown: u64,
    /// Errors handed to the sink.
    pub errors: u64,
    /// The sink asked to stop.
    pub stopped: bool,
}

/// Stop with `Ok(Break)` when the sink says so (for the `Result`-returning walks).
macro_rules! flow {
    ($e:expr) => {
        if let ControlFlow::Break(()) = $e {
            return Ok(ControlFlow::Break(()));
        }
    };
}

type Sink<'s> = dyn FnMut(DumpEvent<'_>) -> ControlFlow<()> + 's;

/// Pass 2: hand every wanted entry to `sink` as it is read, in file order.
/// `report` is [`summarize`]'s for the same directory. Without `raw` the
/// first fault of `report` is handed over last, where reading stops. The
/// sink returns `ControlFlow::Break` to stop early (e.g. a closed pipe).
pub fn dump(wal: &WalDir, report: &WalReport, opts: &DumpOptions, sink: &mut Sink<'_>) -> Result<DumpStats> {
    let mut w = Walker { opts, sink, stats: DumpStats::default(), last_index: None };
    let flow = if opts.raw { w.raw(wal)? } else { w.etcd_view(wal, report)? };
    w.stats.stopped = flow.is_break();
    Ok(w.stats)
}

struct Walker<'o, 's, 'k> {
    opts: &'o DumpOptions,
    sink: &'k mut Sink<'s>,
    stats: DumpStats,
    /// `raw`: the last entry index, to report index gaps.
    last_index: Option<u64>,
}

/// A frame at some offset that decodes as a `walpb.Record` of a known type.
struct Frame<'a> {
    end: usize,
    rec_type: i64,
    crc: u32,
    data: Option<(&'a [u8], u64)>,
}

impl Frame<'_> {
    /// A record that is in the file whole and decodes; `None` otherwise.
    fn at(bytes: &[u8], at: usize) -> Option<Frame<'_>> {
        let (end, n, p) = frame_end(bytes, at)?;
        if end > bytes.len() || p != padding_for(n) {
            return None;
        }
        let start = at.checked_add(FRAME_SIZE as usize)?;
        let rec = bytes.get(start..start.checked_add(usize::try_from(n).ok()?)?)?;
        let (rec_type, crc, data) = parse_record(rec, start as u64).ok()?;
        (record_type::METADATA..=record_type::SNAPSHOT).contains(&rec_type).then_some(Frame {
            end,
            rec_type,
            crc,
            data,
        })
    }
    /// Plausible enough to resume reading at: as etcd writes records
    /// (clean length word, data present iff not a CRC record, an entry
    /// that decodes).
    fn plausible(bytes: &[u8], at: usize) -> bool {
        let Some(word) = le_u64(bytes, at) else { return false };
        let unused = if word & PAD_FLAG != 0 { UNUSED_BITS } else { 0xff << 56 };
        if word & unused != 0 {
            return false;
        }
        let Some(f) = Frame::at(bytes, at) else { return false };
        match (f.rec_type, f.data) {
            (record_type::CRC, None) => true,
            (record_type::ENTRY, Some((d, off))) => EntryRef::parse(d, off).is_ok(),
            (record_type::CRC, Some(_)) | (_, None) => false,
            _ => true,
        }
    }
}

/// The first offset at or after `from` (rounded up to the frame alignment)
/// where a plausible record starts.
fn resync(bytes: &[u8], from: u64) -> Option<u64> {
    let align = FRAME_SIZE as usize;
    let from = usize::try_from(from).ok()?;
    let mut pos = from.checked_add(align - 1).map(align_down)?;
    while let Some(word) = le_u64(bytes, pos) {
        if word == 0 {
            // skip zero runs in one step: i >= 8 here, so this progresses
            pos = align_down(pos.saturating_add(first_nonzero(bytes.get(pos..)?)?));
            continue;
        }
        if Frame::plausible(bytes, pos) {
            return Some(pos as u64);
        }
        pos = pos.saturating_add(align);
    }
    None
}

impl Walker<'_, '_, '_> {
    fn emit_error(&mut self, segment: &Path, error: WalError, resume_at: Option<u64>) -> ControlFlow<()> {
        self.stats.errors += 1;
        let e = DumpError { error: error.in_file(segment), segment: segment.to_path_buf(), resume_at };
        (self.sink)(DumpEvent::Error(&e))
    }

    /// One ENTRY record: decode, filter, hand over.
    fn entry(
        &mut self,
        segment: &Path,
        offset: u64,
        data: &[u8],
        data_offset: u64,
        crc: CrcCheck,
        end: u64,
    ) -> ControlFlow<()> {
        let e = match EntryRef::parse(data, data_offset) {
            Ok(e) => e,
            Err(err) => {
                if !self.opts.raw {
                    return ControlFlow::Continue(()); // pass 1 stopped here: not reached
                }
                let we = WalError::new(Fault::ProtoError, EtcdOutcome::Panics, offset, err)
                    .with_note("the ENTRY record's payload does not decode as raftpb.Entry");
                return self.emit_error(segment, we, Some(end));
            }
        };
        self.stats.entries_read += 1;
        if self.opts.raw {
            if let Some(last) = self.last_index {
                if e.index > last.saturating_add(1) {
                    let err = Error::malformed(
                        format!("entry index {} follows {last} (expected at most {})", e.index, last.saturating_add(1)),
                        Location::at(offset),
                    );
                    let we = WalError::new(Fault::IndexGap, EtcdOutcome::Fails, offset, err);
                    self.emit_error(segment, we, Some(offset))?;
                }
            }
            self.last_index = Some(e.index);
        }
        if !self.opts.wants_index(e.index) {
            return ControlFlow::Continue(());
        }
        let mut request = e.request();
        if !self.opts.wants(e.entry_type, &request) {
            return ControlFlow::Continue(());
        }
        redact(&mut request);
        let view = EntryView {
            segment,
            offset,
            term: e.term,
            index: e.index,
            entry_type: e.entry_type,
            data_len: e.data.map_or(0, <[u8]>::len),
            request,
            crc,
        };
        self.stats.entries_shown += 1;
        (self.sink)(DumpEvent::Entry(&view))
    }

    fn record(&mut self, segment: &Path, rec: &Record<'_>, crc: CrcCheck) -> ControlFlow<()> {
        match rec.kind() {
            RecordType::Entry => self.entry(segment, rec.offset, rec.data(), rec.data_offset, crc, rec.end()),
            RecordType::Unknown(t) if self.opts.raw => {
                let err = Error::malformed(format!("unexpected block type {t}"), Location::at(rec.offset));
                let we = WalError::new(Fault::UnexpectedType, EtcdOutcome::Fails, rec.offset, err);
                self.emit_error(segment, we, Some(rec.end()))
            }
            _ => ControlFlow::Continue(()),
        }
    }

    /// Without `raw`: the segments etcd reads, up to the first fault.
    fn etcd_view(&mut self, wal: &WalDir, report: &WalReport) -> Result<ControlFlow<()>> {
        let segs = wal.segments();
        let (range, _) = wal.select(ScanStart::All);
        let fault = report.summary.fault.as_ref();
        let fault_file = report.fault_segment();
        let last_in_dir = segs.len().saturating_sub(1);
        let mut crc = 0u32;
        'segments: for i in range {
            let Some(seg) = segs.get(i) else { break };
            let cut = fault.filter(|_| fault_file == Some(seg.path.as_path())).map(|f| f.record_offset);
            let src = Source::open(&seg.path)?;
            let mut rd = SegmentReader::new(src.bytes(), i == last_in_dir, crc);
            loop {
                match rd.next_record() {
                    Ok(Some(rec)) => {
                        if cut.is_some_and(|c| rec.offset >= c) {
                            break 'segments;
                        }
                        flow!(self.record(&seg.path, &rec, CrcCheck::Verified));
                    }
                    Ok(None) => break,
                    Err(_) => break 'segments, // pass 1 has the same fault
                }
            }
            if cut.is_some() {
                break;
            }
            crc = rd.crc();
        }
        if let Some(f) = fault {
            self.stats.errors += 1;
            let segment = fault_file.map(Path::to_path_buf).unwrap_or_else(|| report.wal_dir.clone());
            let e = DumpError { error: f.clone(), segment, resume_at: None };
            flow!((self.sink)(DumpEvent::Error(&e)));
        }
        Ok(ControlFlow::Continue(()))
    }

    /// `raw`: every segment, reading on past damage.
    fn raw(&mut self, wal: &WalDir) -> Result<ControlFlow<()>> {
        let segs = wal.segments();
        let mut crc = 0u32;
        for (i, seg) in segs.iter().enumerate() {
            let is_last = i + 1 == segs.len();
            let src = Source::open(&seg.path)?;
            let bytes = src.bytes();
            let path = seg.path.as_path();
            let mut rd = SegmentReader::new(bytes, is_last, crc);
            let mut check = CrcCheck::Verified;
            loop {
                match rd.next_record() {
                    Ok(Some(rec)) => {
                        flow!(self.record(path, &rec, check));
                        check = CrcCheck::Verified;
                    }
                    Ok(None) => {
                        let Some(SegmentEnd::ZeroWord { offset, nonzero_after: Some(nz) }) = rd.end() else {
                            break;
                        };
                        let resume = resync(bytes, nz.saturating_sub(nz % FRAME_SIZE));
                        let err = Error::malformed(
                            format!("zero length word at {offset:#x}, but non-zero bytes follow at {nz:#x}"),
                            Location::at(offset),
                        );
                        let outcome = if is_last { EtcdOutcome::DropsSilently } else { EtcdOutcome::Fails };
                        flow!(self.emit_error(path, WalError::new(Fault::ZeroRunMidLog, outcome, offset, err), resume));
                        let Some(at) = resume else { break };
                        rd = SegmentReader::resume_at(bytes, at, is_last, None);
                        check = CrcCheck::Unchecked;
                    }
                    Err(e) => {
                        let at = e.record_offset;
                        let frame = usize::try_from(at).ok().and_then(|a| Frame::at(bytes, a));
                        if let Some(f) = frame {
                            // Intact but failing its CRC (or, for a CRC
                            // record, the chain): go on right after it
                            // with the CRC it carries.
                            let end = f.end as u64;
                            flow!(self.emit_error(path, e, Some(end)));
                            if let (record_type::ENTRY, Some((d, off))) = (f.rec_type, f.data) {
                                flow!(self.entry(path, at, d, off, CrcCheck::Mismatch, end));
                            }
                            rd = SegmentReader::resume_at(bytes, end, is_last, Some(f.crc));
                            check = CrcCheck::Verified;
                        } else {
                            let resume = resync(bytes, at.saturating_add(FRAME_SIZE));
                            flow!(self.emit_error(path, e, resume));
                            let Some(r) = resume else { break };
                            rd = SegmentReader::resume_at(bytes, r, is_last, None);
                            check = CrcCheck::Unchecked;
                        }
                    }
                }
            }
            crc = rd.crc();
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// Also used by the printers' tests (`output::wal`).
#[cfg(test)]
pub(crate) mod tests;
