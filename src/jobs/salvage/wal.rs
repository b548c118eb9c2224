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
//! **Lost revisions rebuilt.** When pages of the `key` bucket were lost and
//! the WAL still holds the entries the db had applied (etcd keeps them back
//! to its last snapshot), the replay is first run over those: aligned on a
//! plain put whose key, value and lease match exactly one surviving
//! revision, with the key state rebuilt from the revisions before it, it
//! must write every surviving revision byte for byte and reach the db's
//! revision at the consistent index. If it does, what it wrote under the
//! damaged pages (above the compact revision) is what etcd had written
//! there, and is put back; the replay past the consistent index then goes
//! on from that exact state. If it does not line up, nothing is rebuilt.
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
use crate::mvcc::recover::{self, LostRange};
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
    /// Lost revisions rebuilt from entries the db had applied (when the
    /// `key` bucket lost pages).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rebuilt: Option<Rebuilt>,
}

impl WalReplay {
    pub fn complete(&self) -> bool {
        self.lost_total == 0 && self.skipped_because.is_none()
    }
}

/// Lost revisions rebuilt from the entries the db had applied.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Rebuilt {
    /// The entry the replay was aligned on and the revision it wrote.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_revision: Option<i64>,
    /// Entries from the anchor to the consistent index replayed.
    pub entries_replayed: u64,
    /// The store's revision at the consistent index, as the replay reached it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision_at_consistent_index: Option<i64>,
    /// Revisions the replay wrote that the db holds byte for byte.
    pub revisions_verified: u64,
    /// Revisions put back (they were under damaged pages).
    pub revisions: u64,
    pub ranges: Vec<RevRange>,
    /// Why nothing was rebuilt, if nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_rebuilt_because: Option<String>,
}

/// What the replay changes in the new db.
#[derive(Debug, Clone, Default)]
pub struct WalChanges {
    /// Lost revisions at or below the consistent index, rebuilt.
    pub rebuilt: Vec<(Vec<u8>, Vec<u8>)>,
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
    /// Key ranges of the `key` bucket under damaged pages.
    pub lost: &'x [LostRange],
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

    // Read as etcd does, up to the first fault; keep entries past ci (and,
    // to rebuild lost revisions, the ones at or below it).
    let mut entries: BTreeMap<u64, Read> = BTreeMap::new();
    let mut applied: BTreeMap<u64, Read> = BTreeMap::new();
    let mut bytes = 0usize;
    let mut applied_bytes = 0usize;
    let mut overflow = false;
    let mut applied_overflow = false;
    let keep_applied = !input.lost.is_empty();
    let summary = wal.scan_with(ScanStart::All, |_, rec| {
        if overflow || rec.kind() != RecordType::Entry {
            return;
        }
        let Ok(e) = rec.entry() else { return };
        // raft: a later entry with an index truncates the log from there
        let _ = entries.split_off(&e.index);
        let _ = applied.split_off(&e.index);
        let data = e.data.unwrap_or_default();
        let read = || Read { term: e.term, entry_type: e.entry_type, data: data.to_vec() };
        if e.index <= ci {
            // kept only to rebuild lost revisions, within its own budget
            if !keep_applied || applied_overflow {
                return;
            }
            applied_bytes = applied_bytes.saturating_add(data.len());
            if applied.len() >= MAX_ENTRIES || applied_bytes > MAX_BYTES {
                applied_overflow = true;
                applied.clear();
                return;
            }
            applied.insert(e.index, read());
        } else {
            bytes = bytes.saturating_add(data.len());
            if entries.len() >= MAX_ENTRIES || bytes > MAX_BYTES {
                overflow = true;
                return;
            }
            entries.insert(e.index, read());
        }
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

    // Rebuild lost revisions from the entries the db had applied.
    let mut model = None;
    if keep_applied {
        let mut r = Rebuilt::default();
        let aligned = if applied_overflow {
            Err(format!("more than {MAX_ENTRIES} entries or {MAX_BYTES} bytes at or below the consistent index"))
        } else {
            align(&applied, input, &mut r)
        };
        match aligned {
            Ok((m, rebuilt)) => {
                r.ranges = runs_of(rebuilt.iter().map(|(k, _)| k.as_slice()));
                r.revisions = rebuilt.len() as u64;
                if rebuilt.is_empty() {
                    r.not_rebuilt_because = Some(format!(
                        "the replay lines up with the db only from index {} (revision {}) on, after the damaged pages' revisions",
                        r.anchor_index.unwrap_or(0),
                        r.anchor_revision.unwrap_or(0)
                    ));
                }
                changes.rebuilt = rebuilt;
                model = Some(m);
            }
            Err(why) => r.not_rebuilt_because = Some(why),
        }
        rep.rebuilt = Some(r);
    }

    // Apply.
    let commit = rep.commit.unwrap_or(0);
    let mut model = model.unwrap_or_else(|| model_of(input.keys, input.leases, input.compact_revision));
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

fn runs_of<'x>(keys: impl Iterator<Item = &'x [u8]>) -> Vec<RevRange> {
    let mains: std::collections::BTreeSet<i64> = keys.filter_map(Revision::main_of).collect();
    recover::runs(mains).into_iter().map(|(a, b)| RevRange { first: Some(a), last: Some(b) }).collect()
}

/// Owned key/values.
type Owned = Vec<(Vec<u8>, Vec<u8>)>;

/// Anchors tried before giving up.
const MAX_ANCHORS: usize = 16;

/// Find where the entries the db applied line up with its revisions, and
/// replay them from there: a plain put whose key, value and lease match
/// exactly one surviving revision is a candidate anchor; the replay from it
/// (the key state rebuilt from the revisions before it) must write every
/// revision the db still holds byte for byte, and reach the db's revision
/// at the consistent index. Revisions it writes under damaged pages (above
/// the compact revision) are the lost ones, rebuilt. Returns the model at
/// the consistent index and the rebuilt entries.
fn align(
    applied: &BTreeMap<u64, Read>,
    input: &ReplayInput<'_, '_>,
    r: &mut Rebuilt,
) -> std::result::Result<(Model, Owned), String> {
    if applied.is_empty() {
        return Err("the WAL holds no entry at or below the consistent index (older segments were purged)".into());
    }
    let c = input.compact_revision.unwrap_or(0);
    let present: HashMap<&[u8], &[u8]> = input.keys.iter().map(|(k, v)| (*k, *v)).collect();
    // Surviving plain puts per user key: (main, value).
    let mut puts: HashMap<&[u8], Vec<(i64, &[u8])>> = HashMap::new();
    for (k, v) in input.keys {
        let Some(rev) = Revision::parse(k) else { continue };
        if rev.tombstone || rev.sub != 0 || rev.main <= c {
            continue;
        }
        if let Some(user) = kv::key_of(v) {
            puts.entry(user).or_default().push((rev.main, v));
        }
    }
    let decoded: Vec<(u64, u64, DecodedRequest)> =
        applied.iter().map(|(i, e)| (*i, e.term, DecodedRequest::decode(e.entry_type, &e.data))).collect();
    let mut tried = 0usize;
    let mut last_err = "no put in the WAL matches exactly one surviving revision".to_string();
    for (pos, (index, _, req)) in decoded.iter().enumerate() {
        let DecodedRequest::Internal(ir) = req else { continue };
        let Some(p) = &ir.put else { continue };
        if p.ignore_value || p.ignore_lease || ir.kind() != Some("put") {
            continue;
        }
        let cands: Vec<i64> = puts
            .get(p.key.as_slice())
            .map(|v| {
                v.iter()
                    .filter(|(_, val)| kv::decode(val).is_ok_and(|kv| kv.value == p.value && kv.lease == p.lease))
                    .map(|(m, _)| *m)
                    .collect()
            })
            .unwrap_or_default();
        let [m0] = cands.as_slice() else { continue };
        tried += 1;
        match simulate(decoded.get(pos..).unwrap_or_default(), *m0, input, &present, r) {
            Ok(ok) => {
                r.anchor_index = Some(*index);
                r.anchor_revision = Some(*m0);
                return Ok(ok);
            }
            Err(e) => last_err = format!("aligned on index {index} (revision {m0}): {e}"),
        }
        if tried >= MAX_ANCHORS {
            break;
        }
    }
    Err(last_err)
}

/// Replay `entries` (from the anchor to the consistent index) with the
/// anchor at revision `m0`; see [`align`].
fn simulate(
    entries: &[(u64, u64, DecodedRequest)],
    m0: i64,
    input: &ReplayInput<'_, '_>,
    present: &HashMap<&[u8], &[u8]>,
    r: &mut Rebuilt,
) -> std::result::Result<(Model, Owned), String> {
    let c = input.compact_revision.unwrap_or(0);
    let prior: Vec<(&[u8], &[u8])> =
        input.keys.iter().copied().filter(|(k, _)| Revision::main_of(k).is_some_and(|m| m < m0)).collect();
    let mut model = model_of(&prior, input.leases, input.compact_revision);
    model.revision = m0 - 1;
    // Leases may have been revoked since: every lease a put names counts
    // as existing (a put etcd rejected would write a revision the db
    // contradicts, and the alignment fails).
    for (_, _, req) in entries {
        if let DecodedRequest::Internal(ir) = req {
            if let Some(p) = &ir.put {
                if p.lease != 0 {
                    model.leases.insert(p.lease);
                }
            }
        }
    }
    let mut verified = 0u64;
    let mut rebuilt = Vec::new();
    for (index, _, req) in entries {
        let DecodedRequest::Internal(ir) = req else { continue };
        if !matches!(kind_of(req), Kind::Apply) {
            continue;
        }
        model.apply(ir);
        for ch in model.log.as_mut().map(std::mem::take).unwrap_or_default() {
            let key = ch.revision.to_key();
            let value = ch.value();
            match present.get(key.as_slice()) {
                Some(v) if *v == value.as_slice() => verified += 1,
                Some(_) => {
                    return Err(format!(
                        "index {index} writes revision {}/{} differently from the db",
                        ch.revision.main, ch.revision.sub
                    ));
                }
                None if input.lost.iter().any(|l| l.contains(&key)) => {
                    if ch.revision.main > c {
                        rebuilt.push((key, value));
                    }
                }
                None if ch.revision.main <= c => {} // compacted since
                None => {
                    return Err(format!(
                        "index {index} writes revision {}/{}, which the db lacks outside any damaged page",
                        ch.revision.main, ch.revision.sub
                    ));
                }
            }
        }
    }
    let db_last = input.keys.iter().filter_map(|(k, _)| Revision::main_of(k)).max().unwrap_or(0);
    let tail_lost = input.lost.iter().any(|l| l.hi.is_none());
    if (tail_lost && model.revision < db_last) || (!tail_lost && model.revision != db_last.max(c)) {
        return Err(format!(
            "the replay reaches revision {} at the consistent index, the db {db_last}",
            model.revision
        ));
    }
    if verified == 0 {
        return Err("no revision of the db to check the replay against".into());
    }
    // From the consistent index on, leases are the bucket's.
    model.leases = input.leases.iter().filter_map(|(k, _)| crate::bytes::be_u64(k, 0)).map(|id| id as i64).collect();
    model.log = Some(Vec::new());
    r.entries_replayed = entries.len() as u64;
    r.revisions_verified = verified;
    r.revision_at_consistent_index = Some(model.revision);
    Ok((model, rebuilt))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::etcdserverpb::{DeleteRangeRequest, Metadata, PutRequest};
    use crate::proto::raftpb::{Entry, HardState};
    use crate::proto::walpb;
    use crate::wal::write::{Encoder, write_segment};

    fn put(k: &str, v: &str) -> InternalRaftRequest {
        InternalRaftRequest {
            put: Some(PutRequest { key: k.into(), value: v.into(), ..Default::default() }),
            ..Default::default()
        }
    }

    /// A WAL of `reqs` (indexes 1..) with commit = last, and the key bucket
    /// etcd writes for the first `applied` of them (the consistent index).
    fn setup(reqs: &[InternalRaftRequest]) -> (tempfile::TempDir, Owned) {
        let dir = tempfile::tempdir().unwrap();
        let mut enc = Encoder::new(0);
        enc.crc_record();
        enc.metadata(&Metadata { node_id: 1, cluster_id: 2 });
        enc.snapshot(&walpb::Snapshot { index: 0, term: 0, conf_state: None });
        for (i, r) in reqs.iter().enumerate() {
            enc.entry(&Entry { r#type: 0, term: 2, index: i as u64 + 1, data: Some(r.encode_to_vec()) });
        }
        enc.state(&HardState { term: 2, vote: 1, commit: reqs.len() as u64 });
        write_segment(&dir.path().join("0000000000000000-0000000000000000.wal"), &enc.into_bytes()).unwrap();
        // etcd's key bucket for all of them (the model is etcd's apply path)
        let mut m = Model { revision: 1, log: Some(Vec::new()), ..Default::default() };
        for r in reqs {
            m.apply(r);
        }
        let keys = m.log.unwrap().iter().map(|c| (c.revision.to_key(), c.value())).collect();
        (dir, keys)
    }

    fn input<'x, 'a>(
        dir: &'x Path,
        ci: u64,
        keys: &'x [(&'a [u8], &'a [u8])],
        lost: &'x [LostRange],
    ) -> ReplayInput<'x, 'a> {
        ReplayInput {
            wal_dir: dir,
            consistent_index: Some(ci),
            keys,
            leases: &[],
            compact_revision: None,
            committed_only: false,
            lost,
        }
    }

    fn reqs() -> Vec<InternalRaftRequest> {
        let mut v: Vec<InternalRaftRequest> = (0..30).map(|i| put(&format!("k{}", i % 7), &format!("v{i}"))).collect();
        v.insert(
            12,
            InternalRaftRequest {
                delete_range: Some(DeleteRangeRequest { key: b"k3".to_vec(), ..Default::default() }),
                ..Default::default()
            },
        );
        v
    }

    #[test]
    fn lost_revisions_are_rebuilt_and_the_rest_replayed() {
        let reqs = reqs();
        let (dir, all) = setup(&reqs);
        // the db applied 25 entries (revisions 2..=26); revisions 10..=14 are lost
        let lost_range = LostRange {
            lo: Some(Revision { main: 10, sub: 0, tombstone: false }.to_key()),
            hi: Some(Revision { main: 15, sub: 0, tombstone: false }.to_key()),
        };
        let db: Vec<(&[u8], &[u8])> = all
            .iter()
            .filter(|(k, _)| {
                let m = Revision::main_of(k).unwrap();
                m <= 26 && !(10..15).contains(&m)
            })
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        let lost = [lost_range];
        let (rep, ch) = replay(&input(dir.path(), 25, &db, &lost)).unwrap();
        let rb = rep.rebuilt.as_ref().unwrap();
        assert_eq!(rb.not_rebuilt_because, None);
        assert_eq!(rb.revisions, 5);
        assert_eq!(rb.revision_at_consistent_index, Some(26));
        let mut got: Vec<(Vec<u8>, Vec<u8>)> = db.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect();
        got.extend(ch.rebuilt.clone());
        got.extend(ch.keys.clone());
        got.sort();
        assert_eq!(got, all, "rebuilt + replayed = what etcd wrote");
        assert_eq!(rep.applied_total, 6);
    }

    #[test]
    fn a_db_that_disagrees_with_the_wal_is_not_rebuilt_from_it() {
        let reqs = reqs();
        let (dir, mut all) = setup(&reqs);
        // one surviving revision differs from what the WAL says
        let v = all.iter_mut().find(|(k, _)| Revision::main_of(k) == Some(20)).unwrap();
        v.1 = crate::mvcc::replay::Change {
            revision: Revision { main: 20, sub: 0, tombstone: false },
            key: b"zz".to_vec(),
            put: Some(KeyState { create_revision: 20, mod_revision: 20, version: 1, value: b"x".to_vec(), lease: 0 }),
        }
        .value();
        let db: Vec<(&[u8], &[u8])> = all
            .iter()
            .filter(|(k, _)| {
                let m = Revision::main_of(k).unwrap();
                m <= 26 && !(10..15).contains(&m)
            })
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        let lost = [LostRange {
            lo: Some(Revision { main: 10, sub: 0, tombstone: false }.to_key()),
            hi: Some(Revision { main: 15, sub: 0, tombstone: false }.to_key()),
        }];
        let (rep, ch) = replay(&input(dir.path(), 25, &db, &lost)).unwrap();
        let rb = rep.rebuilt.unwrap();
        // never aligned across the disagreeing revision 20: at best after it
        assert!(rb.not_rebuilt_because.is_some(), "{rb:?}");
        assert!(rb.anchor_revision.is_none_or(|a| a > 20), "{rb:?}");
        assert!(ch.rebuilt.is_empty());
        // the entries past the consistent index are still replayed
        assert_eq!(rep.applied_total, 6);
    }
}
