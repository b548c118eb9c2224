//! A whole etcd data dir: what etcd will do with it at boot.
//!
//! The diagnosis follows etcd's boot sequence (FORMATS.md §9.2; 3.4
//! `etcdserver/server.go` `NewServer`, 3.5 `server/etcdserver/server.go`):
//!
//! 1. open `member/snap/db` (bbolt; both metas bad or a corrupt page graph
//!    make etcd panic);
//! 2. `ValidSnapshotEntries`: read every WAL segment, collect SNAPSHOT
//!    records with index ≤ the last HardState's commit;
//! 3. `LoadNewestAvailable`: the newest loadable `.snap` matching one of
//!    them (broken ones are renamed `.broken`);
//! 4. a snapshot newer than the db's consistent index needs
//!    `<index>.snap.db`;
//! 5. `ReadAll` from that snapshot; an unexpected EOF is repaired (torn
//!    tail cut), anything else is fatal;
//! 6. raft: `snapshot.index ≤ commit ≤ last index`;
//! 7. apply committed entries past the consistent index.
//!
//! and then checks what etcd does not: a db ahead of its WAL (starts, but
//! new writes are never applied), WAL member id vs the `members` bucket,
//! active alarms. Every finding says what etcd will do and what to do.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::bolt::Db;
use crate::error::{Error, Location, Result};
use crate::mvcc::replay::{self, Model};
use crate::mvcc::version::{Release, Writer};
use crate::mvcc::{DbScan, ScanOptions, scan_db};
use crate::proto::DecodedRequest;
use crate::proto::etcdserverpb::AlarmMember;
use crate::report::{Finding, Severity};
use crate::snap::{SnapFiles, SnapReport, inspect};
use crate::source::Source;
use crate::wal::{EtcdOutcome, Fault, RecordType, ScanStart, WalDir, WalSummary};

/// Where the parts of a data dir are.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Paths {
    pub data_dir: PathBuf,
    pub member: PathBuf,
    pub snap_dir: PathBuf,
    pub wal_dir: PathBuf,
    pub db: PathBuf,
}

/// Accept a data dir (`<dir>/member/...`) or a member dir (`<dir>/snap`, `<dir>/wal`).
pub fn locate(path: &Path, wal_dir: Option<&Path>) -> Result<Paths> {
    let member = if path.join("member").is_dir() {
        path.join("member")
    } else if path.join("snap").is_dir() || path.join("wal").is_dir() {
        path.to_path_buf()
    } else {
        return Err(Error::usage(format!(
            "{} is not an etcd data dir: no member/ (nor snap/ or wal/) inside; give the directory etcd ran with as --data-dir, or a db/snapshot file",
            path.display()
        )));
    };
    let snap_dir = member.join("snap");
    Ok(Paths {
        data_dir: path.to_path_buf(),
        wal_dir: wal_dir.map_or_else(|| member.join("wal"), Path::to_path_buf),
        db: snap_dir.join("db"),
        snap_dir,
        member,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing wrong.
    Clean,
    /// etcd starts and repairs the damage by itself (a torn WAL tail).
    Repairable,
    /// etcd will not start, or will start and serve wrong data.
    Damaged,
}

#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DbFacts {
    pub path: PathBuf,
    pub consistent_index: Option<u64>,
    pub term: Option<u64>,
    /// etcd's current store revision at boot.
    pub revision: i64,
    pub compact_revision: Option<i64>,
    pub live_keys: Option<u64>,
    pub members: Vec<String>,
    /// `members_removed`: ids of members removed from the cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members_removed: Vec<String>,
    pub alarms: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotUsed {
    /// The `.snap` file etcd loads (3.4-3.6), or the WAL dir when the
    /// snapshot is the WAL's newest committed snapshot record (3.7).
    pub path: PathBuf,
    pub term: u64,
    pub index: u64,
    /// The snapshot is the WAL's record (3.7), not a `.snap` file.
    #[serde(skip)]
    pub from_wal_record: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Prediction {
    /// Revision after applying the committed entries past the consistent index.
    pub revision_at_boot: i64,
    /// Revision once every entry in the WAL is committed and applied (what a
    /// single-member cluster reaches right after it elects itself).
    pub revision_after_commit: i64,
    /// Entries past the consistent index (committed, then all).
    pub entries_to_apply_at_boot: u64,
    pub entries_to_apply_after_commit: u64,
    /// The compact revision after those committed entries (a compaction
    /// can be among them).
    pub compact_revision_at_boot: i64,
    /// With [`Options::keep_boot_changes`]: every `key`-bucket entry the
    /// committed entries write, in order (all above the db's revision).
    #[serde(skip)]
    pub boot_changes: Vec<replay::Change>,
}

/// Everything `check DATA_DIR` learns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Diagnosis {
    pub paths: Paths,
    pub verdict: Verdict,
    pub will_start: bool,
    /// WAL metadata member id, lowercase hex as etcd prints it.
    pub member_id: Option<String>,
    pub cluster_id: Option<String>,
    pub db: Option<DbFacts>,
    pub wal: Option<WalSummary>,
    pub snapshot: Option<SnapshotUsed>,
    pub prediction: Option<Prediction>,
    /// The etcd line that wrote the dir, as the db records it.
    pub written_by: Option<Writer>,
    /// The cluster version etcd will determine at boot: for 3.6+ the db's
    /// `cluster/clusterVersion`, raised by the cluster-version sets it will
    /// replay; for 3.4/3.5 the loaded `.snap`'s v2 `/0/version`, raised by
    /// the committed sets past the snapshot.
    pub cluster_version: Option<String>,
    /// `--etcd-version`: the release `willStart` is predicted for.
    pub target: Option<Release>,
    /// The member stopped with its db and WAL in step: no WAL damage and
    /// nothing to replay: every entry past the db's consistent index is an
    /// empty leader-election entry (a planned shutdown of several members at
    /// once leaves a few), and the consistent index is not past the commit.
    /// A clean stop leaves this; a kill, crash or power loss under writes
    /// usually does not. `None` when there is no WAL or db.
    pub stopped_cleanly: Option<bool>,
    /// The `<index>.snap.db` etcd renames over the db at boot (a snapshot
    /// received but not applied): `db`, `prediction` and the version
    /// findings describe it, not `member/snap/db`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub db_swapped_in: Option<PathBuf>,
    /// Under 3.4/3.5 rules, the raft membership etcd recovers at boot: the
    /// loaded `.snap`'s v2 store (empty without one), then every committed
    /// conf change in the WAL past it. 3.4/3.5 take membership from there,
    /// not from the db's `members` bucket, which 3.5 before the fix left
    /// stale (a promoted learner still a learner). `None` under 3.6+ rules
    /// (the bucket is the membership) or when the WAL holds too many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_at_boot: Option<Vec<BootMember>>,
    pub findings: Vec<Finding>,
}

/// A member as raft knows it at boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BootMember {
    /// Lowercase hex.
    pub id: String,
    pub is_learner: bool,
}

/// Conf changes kept for [`Diagnosis::members_at_boot`]; past this the
/// membership is not predicted.
const MAX_CONF_CHANGES: usize = 10_000;

/// Entries kept for the replay prediction; beyond this we stop predicting.
const MAX_REPLAY_ENTRIES: usize = 1_000_000;
const MAX_REPLAY_BYTES: usize = 1 << 30;

/// db findings that make etcd (bbolt 1.3.6, as in 3.4.23 and 3.5.1) fail
/// to start: the page-graph errors its freelist rebuild panics on, pages it
/// cannot read, and values mvcc cannot unmarshal.
fn db_fatal(code: &str) -> bool {
    matches!(
        code,
        "bolt.open"
            | "bolt.page.out_of_bounds"
            | "bolt.page.multiple_references"
            | "bolt.page.invalid_type"
            | "bolt.page.past_eof"
            | "bolt.page.overflow_out_of_bounds"
            | "bolt.page.unreadable"
            | "bolt.size.truncated"
            | "bolt.tree.depth"
            | "bolt.branch.element"
            | "bolt.branch.empty"
            | "bolt.leaf.element"
            | "bolt.bucket.header"
            | "bolt.freelist.out_of_bounds"
            | "bolt.freelist.unreadable"
            | "bolt.freelist.type"
            | "bolt.freelist.count"
            | "bolt.freelist.double_free"
            | "mvcc.value.undecodable"
    )
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub wal_dir: Option<PathBuf>,
    /// The etcd release that will run this data dir (`check --etcd-version`):
    /// its upgrade/downgrade rules decide `willStart`. `None`: a release of
    /// the writer's own line.
    pub etcd_version: Option<Release>,
    /// Keep the `key`-bucket changes that the committed entries past the
    /// consistent index make ([`Prediction::boot_changes`]): `hashkv DATA_DIR`
    /// hashes the store as etcd has it once it has booted.
    pub keep_boot_changes: bool,
}

struct Ctx {
    findings: Vec<Finding>,
    fatal: bool,
}

impl Ctx {
    fn push(&mut self, f: Finding) {
        self.findings.push(f);
    }
    fn fatal(&mut self, f: Finding) {
        self.fatal = true;
        self.findings.push(f);
    }
}

fn loc(path: &Path, offset: Option<u64>) -> Location {
    Location { file: Some(path.to_path_buf()), offset, page: None }
}

/// Diagnose a data dir.
pub fn diagnose(path: &Path, opts: &Options) -> Result<Diagnosis> {
    let paths = locate(path, opts.wal_dir.as_deref())?;
    let mut cx = Ctx { findings: Vec::new(), fatal: false };

    // 1. The db.
    let (mut db_src, mut scan, mut db_facts) = (None, None, None);
    if paths.db.exists() {
        (db_src, scan, db_facts) = read_db(&paths.db, &mut cx)?;
    }

    // 2. WAL files.
    let wal_exists = paths.wal_dir.is_dir();
    let wal = if wal_exists { Some(WalDir::open(&paths.wal_dir)?) } else { None };
    let has_wal = wal.as_ref().is_some_and(|w| !w.segments().is_empty());
    if !has_wal {
        return Ok(no_wal(paths, cx, db_facts, wal_exists, opts.wal_dir.is_some()));
    }
    let wal = wal.ok_or_else(|| Error::usage("no WAL"))?;
    if db_src.is_none() {
        cx.fatal(
            Finding::damage("datadir.db.missing", loc(&paths.db, None), "the WAL exists but member/snap/db does not")
                .meaning("etcd refuses to start: \"database file (...) of the backend is missing\"")
                .action("restore the member from a snapshot (`etcdutl snapshot restore`), or remove it from the cluster and add it back empty"),
        );
    }

    // 3. ValidSnapshotEntries: every segment, snapshot records <= commit.
    let all = wal.scan()?;
    if let Some(f) = &all.fault {
        if matches!(f.outcome, EtcdOutcome::Fails | EtcdOutcome::Panics) {
            cx.fatal(wal_fault_finding(f, &all));
        }
    }
    let valid: Vec<(u64, u64)> = all.valid_snapshots().map(|s| (s.term, s.index)).collect();

    // 4. The .snap etcd will use (3.4-3.6); 3.7 reads none (below).
    let reads_snaps = reads_snap_files(opts.etcd_version, scan.as_ref());
    let snaps = if paths.snap_dir.is_dir() { Some(SnapFiles::list(&paths.snap_dir)?) } else { None };
    let mut chosen: Option<SnapshotUsed> = None;
    let mut snap_cluster_version: Option<String> = None;
    let mut snap_members: Option<Vec<(u64, bool)>> = None;
    if let Some(snaps) = &snaps {
        for (i, s) in snaps.snaps.iter().enumerate() {
            let rep = inspect(&s.path)?;
            let matched = valid.contains(&(s.term, s.index));
            if !rep.loadable() {
                snap_fault_finding(&mut cx, &rep, reads_snaps);
                continue;
            }
            for a in &rep.anomalies {
                cx.push(Finding::info(a.code, a.location.clone(), a.what.clone()).meaning("etcd accepts this"));
            }
            if !matched {
                if chosen.is_none() {
                    cx.push(
                        Finding::info("snap.orphan", loc(&s.path, None), format!("{}: no committed WAL snapshot record (term {}, index {})", file_name(&s.path), s.term, s.index))
                            .meaning("etcd writes the .snap before its WAL record: a crash in between leaves this file, which etcd skips (an older snapshot is used)")
                            .action(if i == 0 { "nothing; etcd ignores it" } else { "nothing" }),
                    );
                }
                continue;
            }
            if chosen.is_none() {
                chosen =
                    Some(SnapshotUsed { path: s.path.clone(), term: s.term, index: s.index, from_wal_record: false });
                snap_cluster_version = rep.store.as_ref().and_then(|st| st.cluster_version.clone());
                snap_members = rep.store.as_ref().map(|st| st.members.iter().map(|m| (m.id, m.is_learner)).collect());
                if let (Some(store), Some(meta)) = (&rep.store, all.metadata) {
                    if !store.members.is_empty() && !store.members.iter().any(|m| m.id == meta.node_id) {
                        cx.push(
                            Finding::warning("snap.member_unknown", loc(&s.path, None), format!("the snapshot's membership does not list this member ({:x})", meta.node_id))
                                .meaning("this member's WAL and its .snap disagree about the cluster; the member was probably removed, or the files come from different members")
                                .action("compare `etcdctl member list` on a healthy member with the WAL member id"),
                        );
                    }
                }
            }
        }
        for b in &snaps.broken {
            cx.push(
                Finding::info(
                    "snap.broken_file",
                    loc(b, None),
                    format!("{}: a .snap etcd already set aside as broken", file_name(b)),
                )
                .meaning("etcd renamed it after failing to load it; it is ignored")
                .action("nothing; keep it for the record or delete it"),
            );
        }
    }

    if !reads_snaps {
        // 3.7 `recoverSnapshot`: the newest committed WAL snapshot record
        // is the snapshot (with its conf state); no .snap file is opened.
        snap_cluster_version = None;
        chosen = valid.last().map(|&(term, index)| SnapshotUsed {
            path: paths.wal_dir.clone(),
            term,
            index,
            from_wal_record: true,
        });
    }

    // 5. db vs the chosen snapshot.
    let ci = db_facts.as_ref().and_then(|d| d.consistent_index).unwrap_or(0);
    let mut swapped_in = None;
    if let (Some(s), Some(_)) = (&chosen, &db_src) {
        if s.index > ci {
            let snapdb = snaps.as_ref().and_then(|f| f.snap_dbs.iter().find(|(i, _)| *i == s.index));
            match snapdb {
                Some((_, p)) => {
                    cx.push(
                        Finding::info("datadir.snap_db.pending", loc(p, None), format!("db consistent index {ci} is older than snapshot index {}; etcd will replace the db with {}", s.index, file_name(p)))
                            .meaning("a snapshot from the leader was received but not applied before the stop; etcd renames that file over the db at boot, and this report describes the dir as etcd will run it, from that file")
                            .action("nothing; the old db is discarded at boot (keep a copy if it matters)"),
                    );
                    // `openSnapshotBackend`: the rename comes before anything
                    // else reads the db (the old one only had to open)
                    (db_src, scan, db_facts) = read_db(p, &mut cx)?;
                    swapped_in = Some(p.clone());
                    if opts.etcd_version.is_some_and(|t| t.line() == (3, 5) && t.patch.is_some_and(|n| n <= 1)) {
                        // 3.5.0/3.5.1 `NewServer`: the consistent indexer keeps
                        // the old backend, which `recoverSnapshotBackend` has
                        // closed; its first read (`kvindex := ci.ConsistentIndex()`)
                        // runs a closed tx. 3.5.2 added `ci.SetBackend(be)`.
                        let t = opts.etcd_version.map_or_else(String::new, |t| t.to_string());
                        cx.fatal(
                            Finding::damage("datadir.version.snap_db_swap_panics", loc(p, None), format!("etcd {t} cannot boot a dir whose db it must replace with {}", file_name(p)))
                                .meaning(format!("etcd {t} renames the file over the db, then reads the consistent index through the old, closed backend and panics: \"assertion failed: tx closed\" (fixed in 3.5.2); the files are fine"))
                                .action("start this member with etcd 3.5.2 or newer (any later 3.5.x reads the same files); or rename the .snap.db over member/snap/db by hand before starting 3.5.1"),
                        );
                    }
                }
                None => cx.fatal(
                    Finding::damage("datadir.db.older_than_snapshot", loc(&paths.db, None), format!("db consistent index {ci} is older than the snapshot etcd will use (index {}), and {:016x}.snap.db is missing", s.index, s.index))
                        .meaning("etcd refuses to start: \"failed to find database snapshot file (snap: snapshot file doesn't exist)\"")
                        .action("restore the member from a snapshot, or remove it from the cluster and add it back"),
                ),
            }
        }
    }

    let ci = db_facts.as_ref().and_then(|d| d.consistent_index).unwrap_or(0);

    // 6. ReadAll from the snapshot, collecting entries past the consistent index.
    let start = chosen
        .as_ref()
        .map_or(ScanStart::Snapshot { index: 0, term: 0 }, |s| ScanStart::Snapshot { index: s.index, term: s.term });
    let mut entries: BTreeMap<u64, (u64, Vec<u8>, i32)> = BTreeMap::new();
    // cluster versions set by entries past the snapshot, at or below the
    // consistent index (3.4/3.5 apply them to the v2 store all the same)
    let mut early_versions: BTreeMap<u64, String> = BTreeMap::new();
    let mut kept_bytes = 0usize;
    let mut overflowed = false;
    // committed conf changes decide the membership 3.4/3.5 recover
    let mut conf_changes: BTreeMap<u64, (i32, u64)> = BTreeMap::new();
    let mut conf_overflow = false;
    let read = wal.scan_with(start, |_, rec| {
        if rec.kind() != RecordType::Entry {
            return;
        }
        let Ok(e) = rec.entry() else { return };
        let _ = conf_changes.split_off(&e.index);
        if e.entry_type == crate::proto::raftpb::EntryType::EntryConfChange as i32 {
            if let Some(cc) = e.data.and_then(|d| <crate::proto::raftpb::ConfChange as prost::Message>::decode(d).ok())
            {
                conf_overflow |= conf_changes.len() >= MAX_CONF_CHANGES;
                if !conf_overflow {
                    conf_changes.insert(e.index, (cc.r#type, cc.node_id));
                }
            }
        }
        if overflowed {
            return;
        }
        if e.index <= ci {
            // raft may overwrite later entries with this index
            let _ = entries.split_off(&e.index);
            let _ = early_versions.split_off(&e.index);
            if let Some(v) = e.data.and_then(|d| crate::proto::cluster_version_of(e.entry_type, d)) {
                note_early_version(&mut early_versions, e.index, v);
            }
            return;
        }
        let _ = early_versions.split_off(&e.index);
        let _ = entries.split_off(&e.index);
        kept_bytes = kept_bytes.saturating_add(e.data.map_or(0, <[u8]>::len));
        if entries.len() >= MAX_REPLAY_ENTRIES || kept_bytes > MAX_REPLAY_BYTES {
            overflowed = true;
            return;
        }
        entries.insert(e.index, (e.term, e.data.map(<[u8]>::to_vec).unwrap_or_default(), e.entry_type));
    })?;
    let mut repaired = false;
    if let Some(f) = &read.fault {
        match f.outcome {
            EtcdOutcome::Repairs => {
                repaired = true;
                cx.push(wal_fault_finding(f, &read));
            }
            EtcdOutcome::DropsSilently => cx.push(wal_fault_finding(f, &read)),
            EtcdOutcome::Fails | EtcdOutcome::Panics => {
                let first = wal.segments().first().map_or(0, |s| s.name.index);
                let from = chosen.as_ref().map_or(0, |s| s.index);
                if f.fault == Fault::MissingSegment && from < first {
                    cx.fatal(purged_wal_finding(&paths, chosen.as_ref(), first, reads_snaps, &valid));
                } else if all.fault.as_ref().map(|a| (a.fault, a.record_offset)) != Some((f.fault, f.record_offset)) {
                    cx.fatal(wal_fault_finding(f, &read));
                }
            }
        }
    }
    for a in read.anomalies.iter().take(50) {
        cx.push(Finding::info(a.code, a.location.clone(), a.what.clone()).meaning("etcd accepts this"));
    }

    // 7. raft's checks and the db/WAL relationship.
    let snap_index = chosen.as_ref().map_or(0, |s| s.index);
    let last = read.last_index.unwrap_or(0).max(snap_index);
    let hs = read.hard_state;
    if let Some((commit, last)) = read.commit_out_of_range(snap_index) {
        cx.fatal(
            Finding::damage("wal.commit_out_of_range", loc(&paths.wal_dir, None), format!("HardState commit {commit} is beyond the last entry in the WAL ({last})"))
                .meaning(format!("etcd panics at boot: \"state.commit {commit} is out of range [{snap_index}, {last}]\"; committed entries {}..={commit} are lost from this member's log", last + 1))
                .action("this member cannot be repaired in place: remove it from the cluster and add it back (it resyncs from the leader); for a single-member cluster restore from a snapshot"),
        );
    }
    if db_src.is_some() && ci > 0 {
        if ci > last {
            let f = Finding::damage(
                "datadir.db_ahead_of_wal",
                loc(&paths.db, None),
                format!("the db has applied raft index {ci} but the WAL{} ends at index {last}", if repaired { " (after etcd's repair)" } else { "" }),
            )
            .meaning(if runs_publish_v3(opts.etcd_version, scan.as_ref()) {
                // Observed with 3.6.16: "failed to publish local member to
                // cluster through raft" every publish-timeout (7 s) until the
                // index passes the consistent index; then it serves.
                format!(
                    "etcd 3.6+ starts but serves no client for a long while: raft hands out indexes {}..={ci} again and the backend skips them as already applied, including the member's own publish request (a v3 request since 3.6), which times out and is retried every 7 s; after the leader's empty entry, about {} such retries (~{} s) use up the gap, then the member is ready and applies writes normally; the WAL also lacks entries the db contains",
                    last + 1,
                    ci - last - 1,
                    (ci - last - 1).saturating_mul(7)
                )
            } else {
                format!(
                    "etcd starts, but raft hands out indexes {}..={ci} again to new entries and the backend skips them as already applied: the leader's empty entry takes index {}, and the next {} writes after the restart are logged but never applied (their clients time out); the WAL also lacks entries the db contains",
                    last + 1,
                    last + 1,
                    ci - last - 1
                )
            })
            .action("do not put this member back in service: restore it from a snapshot, or remove it from the cluster and add it back");
            cx.push(f);
        } else if hs.is_some_and(|h| ci > h.commit) {
            cx.push(
                Finding::warning("datadir.db_ahead_of_commit", loc(&paths.db, None), format!("db consistent index {ci} is past the WAL's last known commit {}", hs.map_or(0, |h| h.commit)))
                    .meaning("the db applied entries whose commit was not yet recorded in a WAL STATE record; they are in the WAL and will be committed again (ETCD_VERIFY would flag this)")
                    .action("nothing needed"),
            );
        }
        if ci < snap_index
            && !cx
                .findings
                .iter()
                .any(|f| f.code == "datadir.snap_db.pending" || f.code == "datadir.db.older_than_snapshot")
        {
            // covered above
        }
    }

    // Membership: WAL member id vs the db's members bucket.
    if let (Some(meta), Some(d)) = (all.metadata, &db_facts) {
        let id = format!("{:x}", meta.node_id);
        if d.members_removed.contains(&id) {
            // `RaftCluster.RemoveMember` applied to itself: the member
            // stops (`shouldstop`); started again, its peers answer
            // rafthttp with "removed" and it stops again.
            cx.fatal(
                Finding::damage("datadir.member.removed", loc(&paths.db, None), format!("member {id} (this data dir's WAL) was removed from the cluster: its own db lists it in members_removed"))
                    .meaning("etcd stops this member as soon as it reaches a peer (\"the member has been permanently removed from the cluster\"); the files are not damaged, but they belong to a member that no longer exists, and its data stopped at the removal")
                    .action("do not start it, and restore from it only if no other member's data survives (it stops at the removal); to bring this machine back, `etcdctl member add` a new member and start it with an empty data dir and --initial-cluster-state existing (it syncs from the leader); move this dir aside"),
            );
        } else if !d.members.is_empty() && !d.members.contains(&id) {
            let what = format!(
                "the WAL belongs to member {id}, which the db's members bucket does not list ({})",
                d.members.join(", ")
            );
            match opts.etcd_version.filter(|t| t.line() >= (3, 6)) {
                Some(t) => cx.fatal(
                    Finding::damage("datadir.version.members_layout", loc(&paths.db, None), what)
                        .meaning(format!("etcd {t} reads membership from this bucket and panics at boot: \"failed to update; member unknown\" (seen with 3.6.16 on a data dir that etcdctl 3.4's `snapshot restore` wrote, which keeps the old cluster's members in the db)"))
                        .action("restore the snapshot again with `etcd-forensics restore --etcd-version 3.6` (or etcdutl 3.5+), which replaces the db's members; or start this dir with etcd 3.5 first"),
                ),
                None => cx.push(
                    Finding::warning("datadir.member_not_in_db", loc(&paths.db, None), what)
                        .meaning("the db may come from another member or cluster (or a 3.4 restore left stale members); 3.6 and later read membership from this bucket and panic at boot (\"failed to update; member unknown\")")
                        .action("make sure db and WAL belong together before starting this member; before starting it with etcd 3.6+, restore it with a 3.5+ layout"),
                ),
            }
        }
    }

    // Versions: who wrote the dir, and whether the release that will run it can.
    // The cluster version etcd determines at boot: 3.6+ read the db's
    // `cluster/clusterVersion` and raise it with the cluster-version sets
    // they apply (past the consistent index); 3.4/3.5 read it from the v2
    // store, i.e. the loaded .snap's `/0/version`, raised by every committed
    // set past the snapshot, whatever the consistent index (the db's value
    // plays no part: a 3.5-layout restore of a 3.6 snapshot boots on 3.5).
    let commit = read.hard_state.map_or(0, |h| h.commit);
    let replayed = entries
        .iter()
        .filter_map(|(&i, (_, data, etype))| Some((i, crate::proto::cluster_version_of(*etype, data)?)))
        .collect::<Vec<_>>();
    // (version, where etcd finds it) of each candidate; the newest line wins
    let mut candidates: Vec<(String, VersionSource)> = Vec::new();
    let written_by = scan.as_ref().map(|sc| {
        let w = Writer::of_scan(sc);
        if opts.etcd_version.or(w.release).is_some_and(|r| r.line() < (3, 6)) {
            if let (Some(v), Some(snap)) = (&snap_cluster_version, &chosen) {
                candidates.push((v.clone(), VersionSource::Snap(snap.path.clone())));
            }
            let snap_index = chosen.as_ref().map_or(0, |s| s.index);
            let sets = early_versions.iter().chain(replayed.iter().map(|(i, v)| (i, v)));
            let applied = sets.filter(|&(&i, _)| i > snap_index && i <= commit);
            candidates.extend(applied.map(|(&i, v)| (v.clone(), VersionSource::Wal(i))));
        } else {
            candidates.extend(sc.cluster_version.iter().map(|v| (v.clone(), VersionSource::Db)));
            candidates.extend(replayed.iter().map(|(i, v)| (v.clone(), VersionSource::Wal(*i))));
        }
        w
    });
    // the first of the newest: etcd refuses at the first it meets
    let line = |v: &str| Release::parse(v).map(|r| r.line());
    let cluster_version = candidates.into_iter().reduce(|a, b| if line(&b.0) > line(&a.0) { b } else { a });
    if let (Some(sc), Some(w)) = (&scan, &written_by) {
        version_findings(&mut cx, &paths, sc, w, cluster_version.as_ref(), opts.etcd_version);
    }

    // 8. Prediction.
    let will_start = !cx.fatal;
    let mut prediction = None;
    if will_start && !overflowed {
        if let (Some(src), Some(d)) = (&db_src, &db_facts) {
            if let Ok(db) = Db::open(src.bytes()) {
                let mut model: Model = if entries.is_empty() {
                    Model {
                        revision: d.revision,
                        compact_revision: d.compact_revision.unwrap_or(-1),
                        ..Default::default()
                    }
                } else {
                    replay::load_model(&db, d.revision, d.compact_revision.unwrap_or(-1))
                };
                let commit = hs.map_or(0, |h| h.commit);
                if opts.keep_boot_changes {
                    model.log = Some(Vec::new());
                }
                let (mut at_boot, mut n_boot, mut n_all) = (model.revision, 0u64, 0u64);
                let (mut compact_at_boot, mut boot_changes) = (model.compact_revision, Vec::new());
                for (index, (_, data, etype)) in &entries {
                    if let DecodedRequest::Internal(req) = DecodedRequest::decode(*etype, data) {
                        model.apply(&req);
                    }
                    n_all += 1;
                    if *index <= commit {
                        at_boot = model.revision;
                        compact_at_boot = model.compact_revision;
                        n_boot += 1;
                        if let Some(log) = model.log.as_mut() {
                            boot_changes.append(log);
                        }
                    }
                }
                prediction = Some(Prediction {
                    revision_at_boot: at_boot,
                    revision_after_commit: model.revision,
                    entries_to_apply_at_boot: n_boot,
                    entries_to_apply_after_commit: n_all,
                    compact_revision_at_boot: compact_at_boot,
                    boot_changes,
                });
            }
        }
    }

    let commit = hs.map_or(0, |h| h.commit);
    // Entries past the consistent index that carry something to apply; the
    // empty entries a new leader appends (elections, also while members
    // stop) change nothing.
    let to_apply = entries.values().filter(|(_, data, etype)| !(data.is_empty() && *etype == 0)).count() as u64;
    let noops = entries.len() as u64 - to_apply;
    let stopped_cleanly = db_src.as_ref().map(|_| {
        let clean = read.fault.is_none() && !overflowed && to_apply == 0 && ci <= commit;
        if clean && noops > 0 {
            cx.push(
                Finding::info("datadir.stopped_cleanly", loc(&paths.member, None), format!("db applied index {ci}, WAL commit {commit}, last entry {last}: the {noops} entr{} past the applied index {} leader-election no-ops", if noops == 1 { "y" } else { "ies" }, if noops == 1 { "is a" } else { "are" }))
                    .meaning("db and WAL are in step: nothing to replay (a planned shutdown of several members at once leaves these)")
                    .action("nothing"),
            );
        }
        if !clean && will_start {
            let what = format!(
                "db applied index {ci}, WAL commit {commit}, last entry {last}{}",
                if read.fault.is_some() { ", and the WAL's tail is damaged" } else { "" }
            );
            cx.push(
                Finding::info("datadir.unclean_stop", loc(&paths.member, None), what).meaning(format!(
                    "the member did not stop cleanly (a kill, crash or power loss, or it was stopped mid-write): etcd replays {to_apply} entr{} past the db's applied index at boot{}",
                    if to_apply == 1 { "y" } else { "ies" },
                    if last > commit { format!(", {} of them not yet known to be committed (a leader decides)", last.saturating_sub(commit.max(ci))) } else { String::new() }
                ))
                .action("nothing needed when the verdict is clean or repairable: etcd catches up by itself"),
            );
        }
        clean
    });
    let members_at_boot = (!runs_publish_v3(opts.etcd_version, scan.as_ref()) && !conf_overflow).then(|| {
        let commit = read.hard_state.map_or(0, |h| h.commit);
        boot_members(snap_members.as_deref().unwrap_or_default(), conf_changes.range(..=commit).map(|(_, c)| *c))
    });
    let verdict = verdict_of(&cx.findings);
    Ok(Diagnosis {
        paths,
        verdict,
        will_start,
        member_id: all.metadata.map(|m| format!("{:x}", m.node_id)),
        cluster_id: all.metadata.map(|m| format!("{:x}", m.cluster_id)),
        db: db_facts,
        wal: Some(read),
        snapshot: chosen,
        prediction,
        written_by,
        cluster_version: cluster_version.map(|(v, _)| v),
        target: opts.etcd_version,
        stopped_cleanly,
        db_swapped_in: swapped_in,
        members_at_boot,
        findings: cx.findings,
    })
}

/// `RaftCluster.Recover` from the v2 store, then `applyConfChange` of each
/// committed conf change: add (voter), add learner, remove; a promotion is
/// an add of an existing learner.
fn boot_members(base: &[(u64, bool)], changes: impl Iterator<Item = (i32, u64)>) -> Vec<BootMember> {
    use crate::proto::raftpb::ConfChangeType as T;
    let mut m: BTreeMap<u64, bool> = base.iter().copied().collect();
    for (t, id) in changes {
        match T::try_from(t) {
            Ok(T::ConfChangeAddNode) => {
                m.insert(id, false);
            }
            Ok(T::ConfChangeAddLearnerNode) => {
                m.insert(id, true);
            }
            Ok(T::ConfChangeRemoveNode) => {
                m.remove(&id);
            }
            _ => {}
        }
    }
    m.into_iter().map(|(id, is_learner)| BootMember { id: format!("{id:x}"), is_learner }).collect()
}

/// Cluster-version sets the 3.4/3.5 rule keeps, bounded whatever the WAL:
/// the rule picks the first set of the newest line, so a set whose line
/// an earlier kept set already reaches can never be that one (an
/// overwrite that removes the earlier set removes it too). What is kept
/// is therefore strictly rising in line, one set per line at most; only
/// a hostile log naming more than `MAX_EARLY_VERSIONS` lines loses its
/// oldest sets.
fn note_early_version(kept: &mut BTreeMap<u64, String>, index: u64, v: String) {
    let line = |v: &str| Release::parse(v).map(|r| r.line());
    let new = line(&v);
    if kept.values().any(|k| line(k) >= new) {
        return;
    }
    kept.insert(index, v);
    while kept.len() > MAX_EARLY_VERSIONS {
        let _ = kept.pop_first();
    }
}

/// Bound of `note_early_version`.
const MAX_EARLY_VERSIONS: usize = 16;

/// Warnings that mean "etcd repairs this by itself at start".
fn repaired_by_etcd(code: &str) -> bool {
    code == "wal.torn_tail" || code == "wal.max_size_exceeded" || code.starts_with("snap.") && code != "snap.orphan"
}

fn verdict_of(findings: &[Finding]) -> Verdict {
    if findings.iter().any(|f| f.severity == Severity::Damage) {
        Verdict::Damaged
    } else if findings.iter().any(|f| f.severity == Severity::Warning && repaired_by_etcd(f.code)) {
        Verdict::Repairable
    } else {
        Verdict::Clean
    }
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// Map and scan the db file at `path`, recording its findings.
fn read_db(path: &Path, cx: &mut Ctx) -> Result<(Option<Source>, Option<DbScan>, Option<DbFacts>)> {
    let src = Source::open(path)?;
    let scan = scan_db(src.bytes(), ScanOptions::default());
    for f in &scan.findings {
        let mut f = f.clone();
        f.location = std::mem::take(&mut f.location).with_file(path);
        if f.severity == Severity::Damage && db_fatal(f.code) {
            f.meaning = format!("{}; etcd fails to start on this db", f.meaning.trim_end_matches('.'));
            cx.fatal(f);
        } else {
            cx.push(f);
        }
    }
    let facts = db_facts_of(path, &scan, cx);
    Ok((Some(src), Some(scan), Some(facts)))
}

fn db_facts_of(path: &Path, scan: &DbScan, cx: &mut Ctx) -> DbFacts {
    let last_main = scan.status.as_ref().map_or(0, |s| s.revision);
    let mut facts = DbFacts {
        path: path.to_path_buf(),
        consistent_index: scan.consistent_index,
        term: scan.term,
        revision: replay::current_revision(last_main, scan.compact_revision),
        compact_revision: scan.compact_revision,
        live_keys: scan.live_keys,
        members: scan.members.clone(),
        members_removed: scan.members_removed.clone(),
        alarms: Vec::new(),
    };
    for raw in &scan.alarms {
        let Ok(a) = crate::proto::decode::<AlarmMember>(raw, 0) else {
            cx.push(Finding::damage(
                "mvcc.alarm.undecodable",
                loc(path, None),
                "an alarm bucket key does not decode as AlarmMember",
            ));
            continue;
        };
        let (name, f) = match a.alarm {
            1 => (
                "NOSPACE",
                Finding::warning("datadir.alarm.nospace", loc(path, None), format!("NOSPACE alarm active (raised by member {:x})", a.member_id))
                    .meaning("the db hit its space quota: etcd accepts only reads and deletes until the alarm is cleared")
                    .action("free space (`etcdctl compact <rev>` then `etcdctl defrag`), raise --quota-backend-bytes if needed, then `etcdctl alarm disarm`"),
            ),
            2 => (
                "CORRUPT",
                Finding::damage("datadir.alarm.corrupt", loc(path, None), format!("CORRUPT alarm active (raised against member {:x})", a.member_id))
                    .meaning("a corruption check found members' data diverged; the cluster refuses writes while it is active")
                    .action("find the diverged member (`etcdctl endpoint hashkv` on each, or `etcd-forensics status` on copies of their dbs), replace it from a healthy member, then `etcdctl alarm disarm`"),
            ),
            _ => ("NONE", Finding::info("datadir.alarm.other", loc(path, None), format!("alarm {} for member {:x}", a.alarm, a.member_id))),
        };
        facts.alarms.push(format!("{name}:{:x}", a.member_id));
        cx.push(f);
    }
    facts
}

fn no_wal(paths: Paths, mut cx: Ctx, db: Option<DbFacts>, wal_dir_exists: bool, wal_dir_given: bool) -> Diagnosis {
    if db.is_some() {
        let hint = if wal_dir_given { "" } else { " (if etcd ran with --wal-dir, pass the same --wal-dir here)" };
        cx.push(
            Finding::damage(
                "datadir.wal.missing",
                loc(&paths.wal_dir, None),
                format!("no WAL segments in {}{}", paths.wal_dir.display(), if wal_dir_exists { "" } else { " (the directory does not exist)" }),
            )
            .meaning("etcd treats this as a new member: it bootstraps a new raft log from --initial-cluster and keeps the db; the member's identity and unapplied log are gone")
            .action(format!("find the WAL{hint}; otherwise restore the member from a snapshot with `etcdutl snapshot restore`")),
        );
    } else {
        cx.push(
            Finding::info("datadir.empty", loc(&paths.member, None), "neither a db nor WAL segments")
                .meaning("etcd will bootstrap a new member here"),
        );
    }
    Diagnosis {
        verdict: verdict_of(&cx.findings),
        will_start: !cx.fatal,
        paths,
        member_id: None,
        cluster_id: None,
        db,
        wal: None,
        snapshot: None,
        prediction: None,
        written_by: None,
        cluster_version: None,
        target: None,
        db_swapped_in: None,
        stopped_cleanly: None,
        members_at_boot: None,
        findings: cx.findings,
    }
}

fn wal_fault_finding(f: &crate::wal::WalError, s: &WalSummary) -> Finding {
    let at = f.error.location().clone();
    let seg = at.file.as_deref().map(file_name).unwrap_or_default();
    let off = at.offset.unwrap_or(f.record_offset);
    let first_lost = s.last_index.map_or(0, |l| l + 1);
    let commit = s.hard_state.map_or(0, |h| h.commit);
    let (sev, meaning, action) = match f.outcome {
        EtcdOutcome::Repairs => {
            let dropped = s.repair.as_ref().map_or(0, |r| r.dropped_entries);
            let committed_lost = s.repair.as_ref().is_some_and(|r| r.dropped_entries().any(|d| d.fields.index.is_some_and(|i| i <= commit)));
            (
                Severity::Warning,
                format!(
                    "etcd repairs this torn tail on start: it truncates {seg} at offset {off} (backup {seg}.broken){}; {}",
                    if dropped > 0 { format!(" and drops {dropped} entries from index {first_lost} on") } else { String::new() },
                    if committed_lost {
                        "some dropped entries were already committed: other members still have them, a single member loses them"
                    } else {
                        "they were never committed, so nothing acknowledged is lost"
                    }
                ),
                "nothing needed: start etcd (keep a copy of the data dir first)".to_string(),
            )
        }
        EtcdOutcome::DropsSilently => (
            Severity::Damage,
            format!("etcd stops reading {seg} at offset {off} and zeroes everything after it on start: the records after the zero run are lost silently"),
            "copy the data dir before starting etcd; on a multi-member cluster remove and re-add this member, on a single member restore from a snapshot, or `etcd-forensics salvage` the data dir (it keeps every readable committed entry)".to_string(),
        ),
        EtcdOutcome::Fails | EtcdOutcome::Panics => (
            Severity::Damage,
            format!(
                "etcd refuses to start: \"{}\" in {seg} at offset {off}; entries from index {first_lost} on cannot be read",
                f.fault.etcd_message()
            ),
            "on a multi-member cluster remove this member and add it back (it resyncs from the leader); on a single member restore from a snapshot, or `etcd-forensics salvage` the data dir".to_string(),
        ),
    };
    let mut meaning = meaning;
    if let Some(n) = &f.note {
        meaning.push_str(&format!(" ({n})"));
    }
    Finding::new(sev, f.fault.code(), at, f.error.kind().to_string()).meaning(meaning).action(action)
}

/// `selectWALFiles` finds no segment for the snapshot etcd starts from:
/// the WAL was purged past it (etcd only purges segments older than a
/// `.snap` it keeps, so the newer `.snap` files are gone).
fn purged_wal_finding(
    paths: &Paths,
    chosen: Option<&SnapshotUsed>,
    first: u64,
    reads_snaps: bool,
    valid: &[(u64, u64)],
) -> Finding {
    let from = chosen.map_or_else(
        || "no usable .snap, so etcd reads the WAL from index 0".to_string(),
        |s| format!("the newest usable .snap is at index {}, so etcd reads the WAL from there", s.index),
    );
    let what =
        format!("{from}, but the WAL's oldest segment starts at index {first}: the segments before it were purged");
    let newest_record = valid.iter().map(|&(_, i)| i).filter(|&i| i >= first).max();
    let mut action = format!(
        "put back the member's .snap files (from a backup of member/snap: etcd needs one at index {first} or later, with its WAL snapshot record); otherwise, on a multi-member cluster remove this member and add it back, on a single member restore from a snapshot (`etcd-forensics restore` or `etcdutl snapshot restore`; this member's own db restores with `--skip-hash-check`: copy member/snap/db out first)"
    );
    if reads_snaps {
        if let Some(i) = newest_record {
            action.push_str(&format!("; etcd 3.7 would start this dir as it is (it builds the snapshot from the WAL's snapshot record at index {i} and opens no .snap)"));
        }
    }
    Finding::damage("datadir.wal.purged_past_snapshot", loc(&paths.wal_dir, None), what)
        .meaning(format!(
            "etcd refuses to start: \"failed to open WAL\" (\"{}\"); the entries before index {first} exist only in the db, which has applied them",
            Fault::MissingSegment.etcd_message()
        ))
        .action(action)
}

fn snap_fault_finding(cx: &mut Ctx, rep: &SnapReport, read_at_boot: bool) {
    let Some(fault) = &rep.fault else { return };
    let what = format!("{}: {}", file_name(&rep.path), fault.error.kind());
    // etcd copes by itself (renames it, uses an older snapshot or the WAL);
    // if that fallback fails, ReadAll's finding says so.
    let f =
        Finding::new(Severity::Warning, fault.fault.code(), fault.error.location().clone().with_file(&rep.path), what);
    cx.push(if read_at_boot {
        f.meaning(format!("etcd logs \"{}\", renames the file to .broken and falls back to an older snapshot (or replays the WAL from the start)", fault.fault.etcd_message()))
            .action("nothing if an older snapshot or the whole WAL is there; keep a copy of the broken file")
    } else {
        f.meaning(format!("etcd 3.7 does not read .snap files at boot (it starts from the WAL's snapshot record) and leaves this one as it is; etcd 3.6 and older would log \"{}\", rename it to .broken and fall back to an older snapshot", fault.fault.etcd_message()))
            .action("nothing for etcd 3.7+; before running this dir with an older release, delete or replace the broken file")
    });
}

/// Where etcd finds the cluster version it determines at boot.
enum VersionSource {
    /// `cluster/clusterVersion` (3.6+).
    Db,
    /// The loaded `.snap`'s v2 `/0/version` (3.4/3.5).
    Snap(PathBuf),
    /// A cluster-version set in the WAL entry of this index.
    Wal(u64),
}

/// Whether the release that will run the dir loads a `.snap` file at boot
/// (3.4-3.6: `LoadNewestAvailable`, the newest one the WAL has a committed
/// record of) or builds the snapshot from the WAL's newest committed
/// snapshot record alone (3.7: `recoverSnapshot` opens no `.snap`):
/// `--etcd-version`, else the release that wrote the db.
fn reads_snap_files(target: Option<Release>, scan: Option<&crate::mvcc::scan::DbScan>) -> bool {
    let runner = target.or_else(|| scan.and_then(|sc| Writer::of_scan(sc).release));
    runner.is_none_or(|r| r.line() < (3, 7))
}

/// Whether the release that will run the dir publishes its member
/// attributes as a v3 request (3.6+: `ClusterMemberAttrSet`, skipped like
/// any entry at or below the consistent index) rather than through the v2
/// store (3.4/3.5, applied whatever the index): `--etcd-version`, else the
/// release that wrote the db.
fn runs_publish_v3(target: Option<Release>, scan: Option<&crate::mvcc::scan::DbScan>) -> bool {
    let runner = target.or_else(|| scan.and_then(|sc| Writer::of_scan(sc).release));
    runner.is_some_and(|r| r.line() >= (3, 6))
}

/// What the release that will run the dir makes of its versions (each rule
/// as real etcd showed it on such a dir, see tests/versions.rs):
/// * a 3.6+ binary refuses a db whose `meta/storageVersion` is of a newer
///   line: `discovery failed ... version "3.7.0" is not supported`;
/// * any binary refuses a cluster version of a newer line (3.6+: the db's
///   `cluster/clusterVersion`, or one the WAL replay sets; 3.4/3.5: the
///   v2 store's, from the `.snap` and the WAL): `invalid downgrade; server
///   version is lower than determined cluster version`;
/// * a newer binary upgrades the dir (3.6 writes storageVersion).
fn version_findings(
    cx: &mut Ctx,
    paths: &Paths,
    scan: &DbScan,
    writer: &Writer,
    cluster_version: Option<&(String, VersionSource)>,
    target: Option<Release>,
) {
    let (cluster_version, cv_at) = (cluster_version.map(|(v, _)| v.as_str()), cluster_version.map(|(_, l)| l));
    let written = writer.release.map_or_else(|| "an unknown release".to_string(), |r| format!("etcd {r}"));
    let cv_line = cluster_version.and_then(Release::parse).map(|r| r.line());
    let sv = scan.storage_version.as_deref().filter(|s| !s.is_empty());
    let sv_line = sv.and_then(Release::parse).map(|r| r.line());
    let Some(t) = target else {
        let mut f = Finding::info(
            "datadir.version",
            loc(&paths.db, None),
            format!("written by {written} ({})", writer.evidence),
        );
        if let Some((ma, mi)) = cv_line.or(writer.release.map(|r| r.line())) {
            f = f
                .meaning(format!("etcd older than {ma}.{mi} refuses to start this dir (\"invalid downgrade; server version is lower than determined cluster version\"); {ma}.{mi} and the next minor release start it (a newer release upgrades it)"))
                .action(format!("run it with etcd {ma}.{mi} or newer; `check --etcd-version X` predicts a given binary; to go back to an older release, restore a snapshot with `restore --etcd-version X`"));
        }
        cx.push(f);
        return;
    };
    if t.line() >= (3, 6) && sv_line.is_some_and(|l| l > t.line()) {
        cx.fatal(
            Finding::damage("datadir.version.storage_ahead", loc(&paths.db, None), format!("meta/storageVersion is {:?}, newer than etcd {t}", sv.unwrap_or_default()))
                .meaning(format!("etcd {t} refuses to start: \"discovery failed ... version {:?} is not supported\"", sv.unwrap_or_default()))
                .action(format!("run the dir with etcd {} or newer; to move to {t}, take `etcdctl snapshot save` on the newer release and `restore --etcd-version {}.{}` it", sv.unwrap_or_default().trim_end_matches(".0"), t.major, t.minor)),
        );
    } else if cv_line.is_some_and(|l| l > t.line()) {
        let cv = cluster_version.unwrap_or_default();
        let (at, source) = match cv_at {
            Some(VersionSource::Snap(p)) => (loc(p, None), "the v2 store's /0/version in this .snap".to_string()),
            Some(VersionSource::Wal(i)) => {
                (loc(&paths.wal_dir, None), format!("set by WAL entry {i}, which etcd applies at boot"))
            }
            _ => (loc(&paths.db, None), "the db's cluster/clusterVersion".to_string()),
        };
        cx.fatal(
            Finding::damage("datadir.version.downgrade", at, format!("the cluster version is {cv} ({source}; written by {written}), newer than etcd {t}"))
                .meaning(format!("etcd {t} refuses to start: \"invalid downgrade; server version is lower than determined cluster version\" (determined cluster version {cv})"))
                .action(format!("run the dir with etcd {} or newer; a downgrade goes through `etcdctl downgrade enable {}.{}` on the running cluster, or through `etcdctl snapshot save` and `restore --etcd-version {}.{}` into a new dir", cv.trim_end_matches(".0"), t.major, t.minor, t.major, t.minor)),
        );
    } else if writer.release.is_some_and(|w| w.line() < t.line()) {
        cx.push(
            Finding::info("datadir.version.upgrade", loc(&paths.db, None), format!("written by {written}; etcd {t} will upgrade it"))
                .meaning("etcd upgrades the data in place once the cluster version rises (3.6+ writes meta/storageVersion); older releases may then refuse it")
                .action("keep a snapshot taken before the upgrade (`etcdctl snapshot save`) to be able to go back"),
        );
    }
}

#[cfg(test)]
mod early_version_tests {
    use super::{MAX_EARLY_VERSIONS, note_early_version};
    use std::collections::BTreeMap;

    #[test]
    fn keeps_only_sets_that_raise_the_line() {
        let mut kept = BTreeMap::new();
        for (i, v) in [(5, "3.5.0"), (6, "3.5.0"), (7, "3.4.0"), (8, "3.6.0"), (9, "garbage"), (10, "3.6.0")] {
            note_early_version(&mut kept, i, v.to_string());
        }
        let got: Vec<_> = kept.iter().map(|(i, v)| (*i, v.as_str())).collect();
        assert_eq!(got, [(5, "3.5.0"), (8, "3.6.0")]);
        // raft overwrites index 8 onward: 3.5's first set is what is left
        let _ = kept.split_off(&8);
        note_early_version(&mut kept, 8, "3.5.0".to_string());
        assert_eq!(kept.len(), 1);
    }

    #[test]
    fn a_hostile_log_stays_bounded() {
        let mut kept = BTreeMap::new();
        for i in 0..100_000u64 {
            note_early_version(&mut kept, i, format!("3.{i}.0"));
        }
        assert_eq!(kept.len(), MAX_EARLY_VERSIONS);
        assert_eq!(kept.last_key_value().map(|(_, v)| v.as_str()), Some("3.99999.0"));
    }
}

#[cfg(test)]
mod boot_member_tests {
    use super::{BootMember, boot_members};
    use crate::proto::raftpb::ConfChangeType as T;

    fn ids(v: &[BootMember]) -> Vec<(&str, bool)> {
        v.iter().map(|m| (m.id.as_str(), m.is_learner)).collect()
    }

    #[test]
    fn replacing_a_member_through_a_learner() {
        let changes = [
            (T::ConfChangeRemoveNode as i32, 0xc),
            (T::ConfChangeAddLearnerNode as i32, 0xd),
            (T::ConfChangeUpdateNode as i32, 0xa),
            // the promotion: an add of the learner
            (T::ConfChangeAddNode as i32, 0xd),
        ];
        let m = boot_members(&[(0xa, false), (0xb, false), (0xc, false)], changes.into_iter());
        assert_eq!(ids(&m), [("a", false), ("b", false), ("d", false)]);
        // without a .snap the v2 store starts empty: the WAL's changes alone
        let m =
            boot_members(&[], [(T::ConfChangeAddNode as i32, 1), (T::ConfChangeAddLearnerNode as i32, 2)].into_iter());
        assert_eq!(ids(&m), [("1", false), ("2", true)]);
        // an unknown type changes nothing
        assert_eq!(ids(&boot_members(&[(5, true)], [(99, 5)].into_iter())), [("5", true)]);
    }
}
