//! The WAL part of `salvage`: raft entries past the db's consistent index
//! that the db never applied, replayed into the salvaged key state.
//!
//! Reading stops at the first fault, as etcd's does (FORMATS.md §6.7): a
//! torn last record is where `wal.Repair` would cut, mid-log damage (a CRC
//! mismatch, a zero run, a bad frame) ends the readable log at the last
//! good record. Every entry read before that with an index above the
//! consistent index is applied in index order, as the member would apply
//! it if restarted alone (its own log, committed or not: a single member
//! commits its whole log once it elects itself; `--committed-only` stops at
//! the last HardState's commit instead). The apply logic is
//! `mvcc::replay::Model` with its change log on: each write transaction that
//! changes something gets the next main revision, its changes sub
//! revisions 0, 1, … in order; puts become `mvccpb.KeyValue`s, deletes
//! tombstones (`main_sub` + `t` → `KeyValue{key}`), exactly what etcd writes.
//! Lease grants and revokes also change the `lease` bucket, a compaction
//! sets `meta/scheduledCompactRev` (etcd finishes it at boot), and
//! `meta/consistent_index`/`term` become the last entry's.
//!
//! Not replayed (reported): auth, alarm, cluster version and member
//! attribute changes (restore rewrites membership anyway). Entries after
//! the cut are listed by reading on past the damage (`wal --raw`'s
//! reader): those above the consistent index are lost.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use prost::Message;
use serde::Serialize;

use crate::error::Result;
use crate::jobs::wal::{self as waljob, DumpEvent, DumpOptions};
use crate::mvcc::replay::{KeyState, Model};
use crate::mvcc::{Revision, kv};
use crate::proto::DecodedRequest;
use crate::proto::etcdserverpb::InternalRaftRequest;
use crate::proto::leasepb::Lease;
use crate::report::RevRange;
use crate::wal::{RecordType, ScanStart, WalDir};

/// Entries listed per kind before we only count them.
const MAX_LISTED: usize = 1000;
/// Entries kept in memory for the replay.
const MAX_ENTRIES: usize = 5_000_000;
const MAX_BYTES: usize = 2 << 30;

/// Where reading the WAL stopped.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalCut {
    pub segment: Option<PathBuf>,
    /// File offset of the record that could not be read (where etcd's
    /// repair would truncate, for a torn tail).
    pub offset: u64,
    pub code: &'static str,
    pub what: String,
    /// What etcd does about it: `repairs`, `fails`, `panics`, `dropsSilently`.
    pub etcd: String,
}

/// One entry past the consistent index.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalEntry {
    pub index: u64,
    pub term: u64,
    /// `put`, `txn`, `delete_range`, `lease_revoke`, `noop`, `v2:PUT`, …
    pub op: String,
    /// The main revision it wrote, when it changed the key space.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<i64>,
    /// Index ≤ the last HardState's commit.
    pub committed: bool,
    /// Why it was not applied (or changed nothing), if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What the WAL added.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalReplay {
    pub wal_dir: PathBuf,
    pub segments: usize,
    /// The db's consistent index: entries at or below it are in the db.
    pub consistent_index: Option<u64>,
    /// Last HardState's commit (before the cut).
    pub commit: Option<u64>,
    /// The last entry index read before the cut.
    pub last_index: Option<u64>,
    /// `None`: the WAL read to its end.
    pub cut: Option<WalCut>,
    /// Entries applied (index order; the first [`MAX_LISTED`]).
    pub applied: Vec<WalEntry>,
    pub applied_total: u64,
    /// Applied entries that were not yet committed.
    pub applied_uncommitted: u64,
    /// Main revisions the replay wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisions: Option<RevRange>,
    /// Entries read but not replayed (auth, alarms, membership, …; or past
    /// the commit with `--committed-only`).
    pub not_replayed: Vec<WalEntry>,
    pub not_replayed_total: u64,
    /// Entries above the consistent index found after the cut: lost.
    pub lost: Vec<WalEntry>,
    pub lost_total: u64,
    /// Entries found after the cut that the db already holds.
    pub after_cut_in_db: u64,
    /// Why the WAL was not replayed at all, if it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped_because: Option<String>,
}

impl WalReplay {
    pub fn complete(&self) -> bool {
        self.lost_total == 0 && self.skipped_because.is_none()
    }
}

/// What the replay changes in the new db.
#[derive(Debug, Clone, Default)]
pub struct WalChanges {
    /// New `key`-bucket entries, in revision order, all above the base.
    pub keys: Vec<(Vec<u8>, Vec<u8>)>,
    /// The whole `lease` bucket when the replay changed it.
    pub leases: Option<Vec<(Vec<u8>, Vec<u8>)>>,
    /// `meta` keys to set.
    pub meta: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The inputs of a replay.
pub struct ReplayInput<'x, 'a> {
    pub wal_dir: &'x Path,
    pub consistent_index: Option<u64>,
    /// The salvaged `key` bucket, sorted.
    pub keys: &'x [(&'a [u8], &'a [u8])],
    /// The salvaged `lease` bucket, sorted.
    pub leases: &'x [(&'a [u8], &'a [u8])],
    pub compact_revision: Option<i64>,
    pub committed_only: bool,
}

/// One entry read before the cut.
struct Read {
    term: u64,
    entry_type: i32,
    data: Vec<u8>,
}

/// Classify a request for the replay.
enum Kind {
    /// Changes the key space or the lease bucket: apply.
    Apply,
    /// Changes nothing in the db (reads, authenticate, a no-op).
    Nothing(&'static str),
    /// Changes the db in ways we do not replay.
    NotReplayed(&'static str),
}

fn kind_of(req: &DecodedRequest) -> Kind {
    match req {
        DecodedRequest::Empty => Kind::Nothing("the leader's empty entry"),
        DecodedRequest::ConfChange(_) | DecodedRequest::ConfChangeV2(_) => {
            Kind::Nothing("membership: `restore` writes the new cluster's")
        }
        DecodedRequest::V2(_) => Kind::NotReplayed("a v2 request (3.4 member attributes / cluster version)"),
        DecodedRequest::Undecodable { .. } => Kind::NotReplayed("does not decode (etcd panics applying it)"),
        DecodedRequest::Internal(r) => match r.kind() {
            Some("put" | "delete_range" | "txn" | "lease_grant" | "lease_revoke" | "compaction") => Kind::Apply,
            Some(
                "range" | "authenticate" | "auth_status" | "auth_user_get" | "auth_user_list" | "auth_role_get"
                | "auth_role_list",
            ) => Kind::Nothing("a read"),
            Some("lease_checkpoint") => Kind::Nothing("lease checkpoints are not persisted by default"),
            Some(k) if k.starts_with("auth") => Kind::NotReplayed("auth changes are not replayed"),
            Some("alarm") => Kind::NotReplayed("alarms are not replayed"),
            Some(_) => Kind::NotReplayed("cluster version / member attributes / downgrade: not replayed"),
            None => Kind::Nothing("an empty request"),
        },
    }
}

/// The model of the salvaged store: newest state of every live key.
fn model_of(keys: &[(&[u8], &[u8])], leases: &[(&[u8], &[u8])], compact: Option<i64>) -> Model {
    let mut m = Model { log: Some(Vec::new()), ..Default::default() };
    let mut last = 0i64;
    for (k, v) in keys {
        let Some(rev) = Revision::parse(k) else { continue };
        last = last.max(rev.main);
        let Ok(kv) = kv::decode(v) else { continue };
        if rev.tombstone {
            m.keys.remove(kv.key);
        } else if !kv.key.is_empty() {
            m.keys.insert(
                kv.key.to_vec(),
                KeyState {
                    create_revision: kv.create_revision,
                    mod_revision: kv.mod_revision,
                    version: kv.version,
                    value: kv.value.to_vec(),
                    lease: kv.lease,
                },
            );
        }
    }
    for (k, _) in leases {
        if let Some(id) = crate::bytes::be_u64(k, 0) {
            m.leases.insert(id as i64);
        }
    }
    m.compact_revision = compact.unwrap_or(0);
    m.revision = crate::mvcc::replay::current_revision(last, compact);
    m
}

fn be8(v: u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// Replay the WAL of `input.wal_dir` onto the salvaged buckets.
pub fn replay(input: &ReplayInput<'_, '_>) -> Result<(WalReplay, WalChanges)> {
    let mut rep = WalReplay { wal_dir: input.wal_dir.to_path_buf(), ..Default::default() };
    let mut changes = WalChanges::default();
    let wal = WalDir::open(input.wal_dir)?;
    rep.segments = wal.segments().len();
    if wal.segments().is_empty() {
        rep.skipped_because = Some("no WAL segment".into());
        return Ok((rep, changes));
    }
    let Some(ci) = input.consistent_index else {
        rep.skipped_because = Some(
            "the db's consistent index is unknown (meta bucket lost): which entries it holds cannot be told".into(),
        );
        return Ok((rep, changes));
    };
    rep.consistent_index = Some(ci);

    // Read as etcd does, up to the first fault; keep entries past ci.
    let mut entries: BTreeMap<u64, Read> = BTreeMap::new();
    let mut bytes = 0usize;
    let mut overflow = false;
    let summary = wal.scan_with(ScanStart::All, |_, rec| {
        if overflow || rec.kind() != RecordType::Entry {
            return;
        }
        let Ok(e) = rec.entry() else { return };
        // raft: a later entry with an index truncates the log from there
        let _ = entries.split_off(&e.index);
        if e.index <= ci {
            return;
        }
        let data = e.data.unwrap_or_default();
        bytes = bytes.saturating_add(data.len());
        if entries.len() >= MAX_ENTRIES || bytes > MAX_BYTES {
            overflow = true;
            return;
        }
        entries.insert(e.index, Read { term: e.term, entry_type: e.entry_type, data: data.to_vec() });
    })?;
    if overflow {
        rep.skipped_because =
            Some(format!("more than {MAX_ENTRIES} entries or {MAX_BYTES} bytes past the consistent index"));
        return Ok((rep, changes));
    }
    rep.commit = summary.hard_state.map(|h| h.commit);
    rep.last_index = summary.last_index;
    let cut_pos = summary.fault.as_ref().map(|f| {
        let seg = f.error.location().file.clone();
        rep.cut = Some(WalCut {
            segment: seg.clone(),
            offset: f.record_offset,
            code: f.fault.code(),
            what: f.error.kind().to_string(),
            etcd: serde_json::to_value(f.outcome).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
        });
        (seg, f.record_offset)
    });
    if let Some(first) = entries.keys().next() {
        if *first != ci + 1 {
            rep.skipped_because = Some(format!(
                "the WAL's entries past the consistent index {ci} start at {first}: entries {}..={} are missing",
                ci + 1,
                first - 1
            ));
            return Ok((rep, changes));
        }
    }

    // Apply.
    let commit = rep.commit.unwrap_or(0);
    let mut model = model_of(input.keys, input.leases, input.compact_revision);
    let base = model.revision;
    let mut leases: BTreeMap<Vec<u8>, Vec<u8>> = input.leases.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
    let mut leases_changed = false;
    let mut last_applied: Option<(u64, u64)> = None;
    let mut scheduled: Option<i64> = None;
    for (&index, e) in &entries {
        let committed = index <= commit;
        if input.committed_only && !committed {
            push(
                &mut rep.not_replayed,
                &mut rep.not_replayed_total,
                WalEntry {
                    index,
                    term: e.term,
                    op: DecodedRequest::decode(e.entry_type, &e.data).label(),
                    revision: None,
                    committed,
                    note: Some("not committed (--committed-only)".into()),
                },
            );
            continue;
        }
        let req = DecodedRequest::decode(e.entry_type, &e.data);
        let op = req.label();
        let mut entry = WalEntry { index, term: e.term, op, revision: None, committed, note: None };
        if let DecodedRequest::Undecodable { .. } = req {
            // etcd panics here: nothing after it is applied either
            entry.note = Some("does not decode: etcd panics applying it; the replay stops here".into());
            push(&mut rep.not_replayed, &mut rep.not_replayed_total, entry);
            break;
        }
        last_applied = Some((index, e.term));
        match kind_of(&req) {
            Kind::Apply => {
                let DecodedRequest::Internal(r) = &req else { continue };
                let before = model.revision;
                let lease_existed = r.lease_grant.as_ref().map(|g| model.leases.contains(&g.id));
                model.apply(r);
                apply_leases(r, lease_existed, &model, &mut leases, &mut leases_changed);
                if let Some(c) = &r.compaction {
                    if c.revision <= model.revision && c.revision > input.compact_revision.unwrap_or(0) {
                        scheduled = Some(scheduled.map_or(c.revision, |s| s.max(c.revision)));
                    } else {
                        entry.note = Some("compaction revision out of range: etcd rejects it".into());
                    }
                }
                if model.revision != before {
                    entry.revision = Some(model.revision);
                } else if r.put.is_some() || r.delete_range.is_some() || r.txn.is_some() || r.lease_revoke.is_some() {
                    entry.note = Some(no_change_reason(r).into());
                }
                rep.applied_total += 1;
                rep.applied_uncommitted += u64::from(!committed);
                if rep.applied.len() < MAX_LISTED {
                    rep.applied.push(entry);
                }
            }
            Kind::Nothing(why) => {
                entry.note = Some(why.into());
                rep.applied_total += 1;
                rep.applied_uncommitted += u64::from(!committed);
                if rep.applied.len() < MAX_LISTED {
                    rep.applied.push(entry);
                }
            }
            Kind::NotReplayed(why) => {
                entry.note = Some(why.into());
                push(&mut rep.not_replayed, &mut rep.not_replayed_total, entry);
            }
        }
    }
    if model.revision > base {
        rep.revisions = Some(RevRange { first: Some(base + 1), last: Some(model.revision) });
    }
    changes.keys = model.log.take().unwrap_or_default().iter().map(|c| (c.revision.to_key(), c.value())).collect();
    if leases_changed {
        changes.leases = Some(leases.into_iter().collect());
    }
    if let Some((index, term)) = last_applied {
        changes.meta.push((b"consistent_index".to_vec(), be8(index)));
        changes.meta.push((b"term".to_vec(), be8(term)));
    }
    if let Some(s) = scheduled {
        changes.meta.push((b"scheduledCompactRev".to_vec(), Revision { main: s, sub: 0, tombstone: false }.to_key()));
    }

    // What lies after the cut.
    if let Some((seg, off)) = cut_pos {
        lost_after_cut(&wal, seg.as_deref(), off, ci, &mut rep)?;
    }
    Ok((rep, changes))
}

fn push(list: &mut Vec<WalEntry>, total: &mut u64, e: WalEntry) {
    *total += 1;
    if list.len() < MAX_LISTED {
        list.push(e);
    }
}

/// Why a write changed nothing (etcd's outcome for the same request).
fn no_change_reason(r: &InternalRaftRequest) -> &'static str {
    if r.put.is_some() {
        "rejected as etcd rejects it (its lease does not exist, or ignore_value/ignore_lease on a missing key)"
    } else if r.delete_range.is_some() {
        "deleted nothing: no such key"
    } else if r.lease_revoke.is_some() {
        "no such lease"
    } else {
        "changed nothing (compare failed into an empty branch, or only reads)"
    }
}

/// Lease grants and revokes in the `lease` bucket.
fn apply_leases(
    r: &InternalRaftRequest,
    existed: Option<bool>,
    model: &Model,
    leases: &mut BTreeMap<Vec<u8>, Vec<u8>>,
    changed: &mut bool,
) {
    if let (Some(g), Some(false)) = (&r.lease_grant, existed) {
        let l = Lease { id: g.id, ttl: g.ttl, remaining_ttl: 0 };
        leases.insert(be8(g.id as u64), l.encode_to_vec());
        *changed = true;
    }
    if let Some(rv) = &r.lease_revoke {
        if !model.leases.contains(&rv.id) && leases.remove(&be8(rv.id as u64)).is_some() {
            *changed = true;
        }
    }
}

/// Entries found past the cut by reading on (`wal --raw`).
fn lost_after_cut(wal: &WalDir, seg: Option<&Path>, off: u64, ci: u64, rep: &mut WalReplay) -> Result<()> {
    let order: HashMap<PathBuf, usize> = wal.segments().iter().enumerate().map(|(i, s)| (s.path.clone(), i)).collect();
    let cut = (seg.and_then(|p| order.get(p)).copied().unwrap_or(0), off);
    let report = waljob::summarize(wal)?;
    let opts = DumpOptions { raw: true, ..Default::default() };
    let mut seen: BTreeMap<u64, WalEntry> = BTreeMap::new();
    let mut in_db = 0u64;
    waljob::dump(wal, &report, &opts, &mut |ev| {
        if let DumpEvent::Entry(e) = ev {
            let pos = (order.get(e.segment).copied().unwrap_or(0), e.offset);
            if pos >= cut {
                if e.index <= ci {
                    in_db += 1;
                } else {
                    let note = match e.crc {
                        waljob::CrcCheck::Verified => None,
                        waljob::CrcCheck::Mismatch => Some("its record fails its CRC".to_string()),
                        waljob::CrcCheck::Unchecked => Some("read after skipping damaged bytes".to_string()),
                    };
                    seen.insert(
                        e.index,
                        WalEntry {
                            index: e.index,
                            term: e.term,
                            op: e.request.label(),
                            revision: None,
                            committed: false,
                            note,
                        },
                    );
                }
            }
        }
        std::ops::ControlFlow::Continue(())
    })?;
    rep.after_cut_in_db = in_db;
    let commit = rep.commit.unwrap_or(0);
    for (_, mut e) in seen {
        e.committed = e.index <= commit;
        push(&mut rep.lost, &mut rep.lost_total, e);
    }
    Ok(())
}
