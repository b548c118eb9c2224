//! `cluster PATH...`: every member of one etcd cluster at once, offline.
//!
//! Each PATH is a member's data dir (or a copy of one), or a snapshot/db
//! file. Per member: the `check DATA_DIR` diagnosis (verdict, willStart,
//! ids, hard state, last index, what a restart alone replays), the db's
//! revisions, its member list, and HashKV at a revision every member
//! still has. Across members:
//!
//! - **one cluster?** the WAL metadata's cluster ids;
//! - **one history?** every main revision's digest ([`RevDigest`], as
//!   `diff` compares) wherever two members both have it; a member whose
//!   history differs from the majority's is *divergent* (the first
//!   differing revision is reported);
//! - **who is ahead:** raft's own rule: the log with the higher last term,
//!   then the higher last index, is more up to date (§5.4.1 of the raft
//!   paper; etcd's raft `isUpToDate`). A snapshot file counts as a log
//!   ending at its consistent index, in its `meta/term`;
//! - **the best source:** the most up-to-date member that starts and agrees
//!   with the majority. If the members given include a quorum of the
//!   cluster's voters, it provably holds every committed entry: a committed
//!   entry is on a majority, every majority meets every quorum, and raft
//!   would elect exactly such a member. With fewer, entries committed by
//!   the members that are missing may be missing from it, and the report
//!   says from which index and revision on.
//!
//! Nothing is written here; [`restore`] writes the new cluster.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Outcome;
use super::diff::first_divergence;
use super::inspect;
use crate::datadir::{self, Diagnosis, Verdict};
use crate::error::Result;
use crate::mvcc::index::RevDigest;
use crate::mvcc::schema::MemberInfo;
use crate::mvcc::version::Release;
use crate::report::Severity;

pub mod kubeadm;
pub mod restore;

#[derive(Debug, Clone, Default)]
pub struct ClusterOptions {
    /// Rules of this release for every member (`None`: each member's writer).
    pub etcd_version: Option<Release>,
}

/// What a path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum InputKind {
    DataDir,
    /// A `snapshot save` file or a bare db: no raft log.
    Snapshot,
}

/// How far a member is behind the best source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Behind {
    /// Raft entries the best source's log has past this member's last index.
    pub entries: u64,
    /// Committed entries: the best source's commit minus this member's.
    pub committed_entries: u64,
    /// Main revisions: the best source's revision once its log is applied,
    /// minus this member's.
    pub revisions: i64,
}

/// One member, as its files tell.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberReport {
    pub path: PathBuf,
    pub kind: InputKind,
    /// `clean`, `repairable`, `damaged`.
    pub verdict: Verdict,
    pub will_start: bool,
    /// WAL metadata, hex as etcd prints it.
    pub member_id: Option<String>,
    pub cluster_id: Option<String>,
    /// This member's name, from its own member list.
    pub name: Option<String>,
    /// The member list as this member's db records it.
    pub members: Vec<MemberInfo>,
    /// Under 3.4/3.5 rules, the membership etcd recovers at boot (the v2
    /// store of its `.snap` and the WAL's committed conf changes), which is
    /// what counts: 3.5 left the db's bucket stale on promotion.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub members_at_boot: Option<Vec<datadir::BootMember>>,
    /// The db's consistent index (raft index applied).
    pub applied_index: Option<u64>,
    /// Last HardState: term and commit.
    pub term: Option<u64>,
    pub commit_index: Option<u64>,
    /// raft's last index and its term (a snapshot: its consistent index and
    /// `meta/term`).
    pub last_index: Option<u64>,
    pub last_term: Option<u64>,
    /// The db's current and compact revisions.
    pub revision: Option<i64>,
    pub compact_revision: Option<i64>,
    /// Revision etcd serves after a restart alone: committed entries past
    /// the db's consistent index replayed.
    pub revision_at_boot: Option<i64>,
    /// Revision once every entry in its log is applied.
    pub revision_after_commit: Option<i64>,
    /// Committed entries a restart alone replays.
    pub replay_at_boot: Option<u64>,
    /// Entries in its log past its commit (a leader decides on them).
    pub uncommitted_entries: Option<u64>,
    pub stopped_cleanly: Option<bool>,
    /// HashKV of the db at the cluster report's `hashKvRevision`.
    pub hash_kv: Option<u32>,
    /// Damage and warning findings of `check`.
    pub damage: usize,
    pub warnings: usize,
    /// Codes of the damage findings.
    pub damage_codes: Vec<String>,
    /// Set when the path could not be read at all.
    pub error: Option<String>,
    /// Relative to the best source (`None` for the source itself and when
    /// there is none).
    pub behind: Option<Behind>,
    /// The first revision where this member's history differs from the
    /// majority's (`None`: agrees wherever both have revisions).
    pub divergent_from: Option<i64>,
    /// Which rules were applied to its db.
    pub rules: Option<String>,
    /// Its member id is in the `members_removed` bucket of its own db or of
    /// another member's: removed from the cluster, it is left out.
    pub removed: bool,
    #[serde(skip)]
    pub diagnosis: Option<Diagnosis>,
}

/// Can the members given still form a quorum?
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quorum {
    /// Voting members in the cluster's member list.
    pub voters: usize,
    /// Votes needed: voters / 2 + 1.
    pub needed: usize,
    /// Voters present among the paths (by member id) whose etcd starts.
    pub present: Vec<String>,
    /// `present` reaches `needed`: those members can be started and elect a
    /// leader.
    pub formed: bool,
}

/// Starting the cluster again as it is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Startup {
    /// The members can simply be started again (no restore needed).
    pub possible: bool,
    /// Paths in the order to start them: the most up to date first. raft
    /// elects a leader once a quorum is up; start them together.
    pub order: Vec<PathBuf>,
    pub why: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterReport {
    pub members: Vec<MemberReport>,
    /// Every data dir carries the same cluster id.
    pub same_cluster: bool,
    pub cluster_ids: Vec<String>,
    /// Every member's history agrees wherever two of them have the same
    /// revisions.
    pub consistent: bool,
    /// The lowest revision where some member's history leaves the majority's.
    pub first_divergent_revision: Option<i64>,
    /// The revision every member's HashKV is taken at (the lowest current
    /// revision, when no member has compacted past it).
    pub hash_kv_revision: Option<i64>,
    /// Every member's HashKV at `hashKvRevision` is the same.
    pub hash_kv_agree: Option<bool>,
    /// The path of the best source of data, if any member can be one.
    pub best: Option<PathBuf>,
    /// The best source provably holds every entry the cluster committed.
    pub best_is_complete: bool,
    /// Why, one sentence each.
    pub reasons: Vec<String>,
    pub quorum: Option<Quorum>,
    pub startup: Startup,
    /// Everything present, starting, in one cluster, in one history.
    pub intact: bool,
}

impl ClusterReport {
    pub fn outcome(&self) -> Outcome {
        if self.intact && self.consistent && self.same_cluster { Outcome::Verified } else { Outcome::Damaged }
    }
    pub fn best_member(&self) -> Option<&MemberReport> {
        let best = self.best.as_ref()?;
        self.members.iter().find(|m| &m.path == best)
    }
}

/// An opened member: its report and the digests of its history.
struct Opened {
    report: MemberReport,
    /// Digests of every main revision from its compact revision + 1 to its
    /// current revision (`None`: db unreadable).
    digests: Option<Vec<RevDigest>>,
    /// The mapped db, kept for HashKV once the shared revision is known.
    input: Option<inspect::Input>,
    /// Its db's `members_removed` ids.
    removed_ids: Vec<u64>,
}

fn open_member(path: &Path, opts: &ClusterOptions) -> Opened {
    let kind = if path.is_dir() { InputKind::DataDir } else { InputKind::Snapshot };
    let mut r = MemberReport {
        path: path.to_path_buf(),
        kind,
        verdict: Verdict::Damaged,
        will_start: false,
        member_id: None,
        cluster_id: None,
        name: None,
        members: Vec::new(),
        members_at_boot: None,
        applied_index: None,
        term: None,
        commit_index: None,
        last_index: None,
        last_term: None,
        revision: None,
        compact_revision: None,
        revision_at_boot: None,
        revision_after_commit: None,
        replay_at_boot: None,
        uncommitted_entries: None,
        stopped_cleanly: None,
        hash_kv: None,
        damage: 0,
        warnings: 0,
        damage_codes: Vec::new(),
        error: None,
        behind: None,
        divergent_from: None,
        rules: None,
        removed: false,
        diagnosis: None,
    };
    let findings = match kind {
        InputKind::DataDir => {
            let d = match datadir::diagnose(
                path,
                &datadir::Options { wal_dir: None, etcd_version: opts.etcd_version, keep_boot_changes: false },
            ) {
                Ok(d) => d,
                Err(e) => {
                    r.error = Some(e.to_string());
                    return Opened { report: r, digests: None, input: None, removed_ids: Vec::new() };
                }
            };
            r.verdict = d.verdict;
            r.will_start = d.will_start;
            r.member_id.clone_from(&d.member_id);
            r.cluster_id.clone_from(&d.cluster_id);
            if let Some(db) = &d.db {
                r.applied_index = db.consistent_index;
            }
            if let Some(w) = &d.wal {
                r.term = w.hard_state.map(|h| h.term);
                r.commit_index = w.hard_state.map(|h| h.commit);
                let snap = d.snapshot.as_ref().map(|s| (s.index, s.term));
                r.last_index = w.last_index.max(snap.map(|s| s.0));
                r.last_term = match (w.last_index, snap) {
                    (Some(l), Some((si, _))) if l >= si => w.last_term,
                    (None, Some((_, st))) => Some(st),
                    (_, Some((_, st))) => Some(st),
                    (Some(_), None) => w.last_term,
                    (None, None) => None,
                };
                if let (Some(l), Some(c)) = (r.last_index, r.commit_index) {
                    r.uncommitted_entries = Some(l.saturating_sub(c.max(r.applied_index.unwrap_or(0))));
                }
            }
            if let Some(p) = &d.prediction {
                r.revision_at_boot = Some(p.revision_at_boot);
                r.revision_after_commit = Some(p.revision_after_commit);
                r.replay_at_boot = Some(p.entries_to_apply_at_boot);
            }
            r.stopped_cleanly = d.stopped_cleanly;
            r.members_at_boot.clone_from(&d.members_at_boot);
            let f = d.findings.clone();
            r.diagnosis = Some(d);
            f
        }
        InputKind::Snapshot => match super::check::check_file(path, super::check::CheckOptions::default()) {
            Ok(c) => {
                let damaged = c.outcome() == Outcome::Damaged;
                r.verdict = if damaged { Verdict::Damaged } else { Verdict::Clean };
                r.will_start = !damaged;
                if let Some(s) = &c.scan {
                    r.applied_index = s.consistent_index;
                    r.last_index = s.consistent_index;
                    r.last_term = s.term;
                    r.term = s.term;
                    r.commit_index = s.consistent_index;
                }
                c.findings
            }
            Err(e) => {
                r.error = Some(e.to_string());
                return Opened { report: r, digests: None, input: None, removed_ids: Vec::new() };
            }
        },
    };
    r.damage = findings.iter().filter(|f| f.severity == Severity::Damage).count();
    r.warnings = findings.iter().filter(|f| f.severity == Severity::Warning).count();
    r.damage_codes = findings.iter().filter(|f| f.severity == Severity::Damage).map(|f| f.code.to_string()).collect();
    r.damage_codes.dedup();

    let input = match inspect::open(path) {
        Ok(i) => i,
        Err(e) => {
            r.error.get_or_insert(e.to_string());
            return Opened { report: r, digests: None, input: None, removed_ids: Vec::new() };
        }
    };
    let store = match input.store_for(opts.etcd_version) {
        Ok(s) => s,
        Err(e) => {
            r.error.get_or_insert(e.to_string());
            return Opened { report: r, digests: None, input: None, removed_ids: Vec::new() };
        }
    };
    r.revision = Some(store.current);
    r.compact_revision = Some(store.compact);
    r.rules = store.rules_text();
    if r.revision_at_boot.is_none() && kind == InputKind::Snapshot {
        r.revision_at_boot = Some(store.current);
        r.revision_after_commit = Some(store.current);
        r.replay_at_boot = Some(0);
    }
    let mut removed_ids = Vec::new();
    if let Ok(m) = store.members() {
        r.members = m.members;
        removed_ids = m.removed;
    }
    if let Some(id) = &r.member_id {
        r.name = r.members.iter().find(|m| &format!("{:x}", m.id) == id).map(|m| m.name.clone());
    }
    let (digests, _) = store.digests(store.compact.max(0) + 1, store.current);
    drop(store);
    Opened { report: r, digests: Some(digests), input: Some(input), removed_ids }
}

/// HashKV of an opened member's db at `rev`.
fn hash_kv_of(input: &inspect::Input, rev: i64, opts: &ClusterOptions) -> Option<u32> {
    let store = input.store_for(opts.etcd_version).ok()?;
    store.hashkv(rev).ok().map(|h| h.hash.hash)
}

/// Digests of `d` restricted to main revisions in `[lo, hi]`.
fn window(d: &[RevDigest], lo: i64, hi: i64) -> &[RevDigest] {
    let a = d.partition_point(|x| x.main < lo);
    let b = d.partition_point(|x| x.main <= hi);
    d.get(a..b.max(a)).unwrap_or_default()
}

/// First revision where two members' histories differ where both have them.
fn pair_divergence(a: &Opened, b: &Opened) -> Option<i64> {
    let (Some(da), Some(db)) = (&a.digests, &b.digests) else { return None };
    let (ra, rb) = (&a.report, &b.report);
    let lo = ra.compact_revision.unwrap_or(-1).max(rb.compact_revision.unwrap_or(-1)).max(0) + 1;
    let hi = ra.revision.unwrap_or(0).min(rb.revision.unwrap_or(0));
    if lo > hi {
        return None;
    }
    first_divergence(window(da, lo, hi), window(db, lo, hi))
}

/// raft's "more up to date": higher last term, then higher last index.
fn up_to_date_key(m: &MemberReport) -> (u64, u64, i64) {
    (m.last_term.unwrap_or(0), m.last_index.unwrap_or(0), m.revision_after_commit.or(m.revision).unwrap_or(0))
}

/// Analyse every member.
// Every index below is a position in `opened` (or in vectors of the same
// length `n` built from it) taken from `0..n`; none comes from file bytes.
#[allow(clippy::indexing_slicing)]
pub fn analyze(paths: &[PathBuf], opts: &ClusterOptions) -> Result<ClusterReport> {
    if paths.is_empty() {
        return Err(crate::error::Error::usage("give at least one member's data dir or a snapshot file"));
    }
    let mut opened: Vec<Opened> = Vec::with_capacity(paths.len());
    for p in paths {
        if !p.exists() {
            return Err(crate::error::Error::usage(format!("{}: no such file or directory", p.display())));
        }
        opened.push(open_member(p, opts));
    }
    let mut reasons = Vec::new();

    // One cluster?
    let mut ids: BTreeMap<String, usize> = BTreeMap::new();
    for o in &opened {
        if let Some(c) = &o.report.cluster_id {
            *ids.entry(c.clone()).or_default() += 1;
        }
    }
    let same_cluster = ids.len() <= 1;
    let main_cluster = ids.iter().max_by_key(|(_, n)| **n).map(|(c, _)| c.clone());
    if !same_cluster {
        reasons.push(format!(
            "the data dirs belong to {} clusters ({}): only members of cluster {} are compared",
            ids.len(),
            ids.iter().map(|(c, n)| format!("{c}: {n}")).collect::<Vec<_>>().join(", "),
            main_cluster.as_deref().unwrap_or("?")
        ));
    }
    let in_main = |o: &Opened| o.report.cluster_id.is_none() || o.report.cluster_id == main_cluster;
    for o in &opened {
        if let Some(e) = &o.report.error {
            reasons.push(format!("{}: could not be read: {e}", o.report.path.display()));
        }
    }

    // Removed members: in some member's `members_removed` (a member records
    // its own removal too, then stops).
    let removed: std::collections::BTreeSet<String> =
        opened.iter().filter(|o| in_main(o)).flat_map(|o| o.removed_ids.iter().map(|i| format!("{i:x}"))).collect();
    for o in &mut opened {
        let main = o.report.cluster_id.is_none() || o.report.cluster_id == main_cluster;
        o.report.removed = main && o.report.member_id.as_ref().is_some_and(|id| removed.contains(id));
        if o.report.removed {
            reasons.push(format!(
                "{}: member {} was removed from the cluster (members_removed): etcd stops it as soon as it reaches a peer (\"the member has been permanently removed from the cluster\"); it is left out of the start order and is no source; move its data dir aside",
                o.report.path.display(),
                o.report.member_id.as_deref().unwrap_or("?")
            ));
        }
    }
    let in_main = |o: &Opened| in_main(o) && !o.report.removed;

    // One history? Pairwise first divergences; a member that disagrees
    // with more members than it agrees with is divergent.
    let n = opened.len();
    let mut div: Vec<Vec<Option<i64>>> = vec![vec![None; n]; n];
    for i in 0..n {
        for j in (i + 1)..n {
            if let (Some(a), Some(b)) = (opened.get(i), opened.get(j)) {
                if in_main(a) && in_main(b) {
                    let d = pair_divergence(a, b);
                    if let Some(row) = div.get_mut(i) {
                        row[j] = d;
                    }
                    if let Some(row) = div.get_mut(j) {
                        row[i] = d;
                    }
                }
            }
        }
    }
    let mut first_divergent: Option<i64> = None;
    let mut divergent = vec![false; n];
    for i in 0..n {
        let row = &div[i];
        let disagree = row.iter().filter(|d| d.is_some()).count();
        let comparable = (0..n).filter(|&j| j != i && opened[j].digests.is_some() && in_main(&opened[j])).count();
        let agree = comparable.saturating_sub(disagree);
        if disagree > 0 {
            first_divergent =
                first_divergent.min(row.iter().flatten().min().copied()).or(row.iter().flatten().min().copied());
            // strictly more disagreement than agreement (a tie between two
            // members marks both, since the files cannot tell who is right)
            if disagree > agree || (disagree == agree && n == 2) {
                divergent[i] = true;
                opened[i].report.divergent_from = row.iter().flatten().min().copied();
            }
        }
    }
    if let Some(r) = first_divergent {
        let who: Vec<String> =
            (0..n).filter(|&i| divergent[i]).map(|i| opened[i].report.path.display().to_string()).collect();
        reasons.push(format!(
            "histories diverge at revision {r}: {} disagree{} with the others; compare the values with `etcd-forensics diff A B`",
            if who.is_empty() { "members".to_string() } else { who.join(", ") },
            if who.len() == 1 { "s" } else { "" }
        ));
    }
    let consistent = first_divergent.is_none();

    // HashKV at a revision every readable member has.
    let readable: Vec<&Opened> = opened.iter().filter(|o| o.digests.is_some() && in_main(o)).collect();
    let lo = readable.iter().filter_map(|o| o.report.compact_revision).max();
    let hi = readable.iter().filter_map(|o| o.report.revision).min();
    let hash_kv_revision = match (lo, hi) {
        (Some(lo), Some(hi)) if hi > 0 && hi >= lo.max(1) => Some(hi),
        _ => None,
    };
    if let Some(rev) = hash_kv_revision {
        for o in opened.iter_mut().filter(|o| o.digests.is_some()) {
            o.report.hash_kv = o.input.as_ref().and_then(|i| hash_kv_of(i, rev, opts));
        }
    }
    let hashes: Vec<u32> = opened.iter().filter(|o| in_main(o)).filter_map(|o| o.report.hash_kv).collect();
    let hash_kv_agree = hash_kv_revision.map(|_| hashes.windows(2).all(|w| w.first() == w.get(1)));

    // The cluster's voters, by the most up-to-date member's list.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(up_to_date_key(&opened[i].report)));
    fn boot_list(r: &MemberReport) -> Option<&Vec<datadir::BootMember>> {
        r.members_at_boot.as_ref().filter(|m| !m.is_empty())
    }
    let list_from =
        order.iter().copied().find(|&i| boot_list(&opened[i].report).is_some() || !opened[i].report.members.is_empty());
    let voters: Vec<String> = list_from
        .map(|i| match boot_list(&opened[i].report) {
            Some(b) => b.iter().filter(|m| !m.is_learner).map(|m| m.id.clone()).collect(),
            None => opened[i].report.members.iter().filter(|m| !m.is_learner).map(|m| format!("{:x}", m.id)).collect(),
        })
        .unwrap_or_default();
    let any_dir = opened.iter().any(|o| o.report.kind == InputKind::DataDir);
    let quorum = (!voters.is_empty() && any_dir).then(|| {
        let mut present: Vec<String> = opened
            .iter()
            .zip(&divergent)
            .filter(|(o, dv)| o.report.will_start && in_main(o) && !**dv)
            .filter_map(|(o, _)| o.report.member_id.clone())
            .filter(|id| voters.contains(id))
            .collect();
        present.sort();
        present.dedup();
        let needed = voters.len() / 2 + 1;
        Quorum { voters: voters.len(), needed, formed: present.len() >= needed, present }
    });

    // The best source.
    let is_candidate: Vec<bool> = (0..n)
        .map(|i| opened[i].report.will_start && opened[i].digests.is_some() && in_main(&opened[i]) && !divergent[i])
        .collect();
    let candidate = |i: usize| is_candidate[i];
    let best = order.iter().copied().find(|&i| candidate(i)).or_else(|| {
        // nothing starts: the most up-to-date readable one, for salvage
        order
            .iter()
            .copied()
            .find(|&i| opened[i].digests.is_some() && in_main(&opened[i]) && !divergent[i])
            // nothing else: a removed member's data, which stops at its removal
            .or_else(|| order.iter().copied().find(|&i| opened[i].digests.is_some() && opened[i].report.removed))
    });
    let mut best_is_complete = false;
    if let Some(b) = best {
        let br = opened[b].report.clone();
        let label =
            br.name.clone().map_or_else(|| br.path.display().to_string(), |nm| format!("{nm} ({})", br.path.display()));
        let (t, i, _) = up_to_date_key(&br);
        let rev = br.revision_after_commit.or(br.revision).unwrap_or(0);
        if !br.will_start {
            reasons.push(format!("no member starts as it is; {label} is the most up to date readable one: salvage it (`etcd-forensics salvage`) before restoring from it"));
        }
        match &quorum {
            _ if br.kind == InputKind::Snapshot && !any_dir => reasons.push(format!(
                "best source: {label}, the most up-to-date snapshot given (term {t}, index {i}, revision {rev}): it holds what the cluster had applied when it was saved; writes after that are not in it"
            )),
            Some(q) if q.formed => {
                best_is_complete = true;
                reasons.push(format!(
                    "best source: {label}, the most up-to-date log (last term {t}, index {i}, revision {rev}) among {} of {} voting members, a quorum: every entry the cluster committed is on at least one of them, so it is on this one (raft would elect it)",
                    q.present.len(),
                    q.voters
                ));
            }
            Some(q) => reasons.push(format!(
                "best source: {label}, the most up-to-date log (last term {t}, index {i}, revision {rev}) of the members given; only {} of {} voting members are here, fewer than a quorum ({}): entries the others committed after index {i} may be missing, so writes acknowledged at revisions above {rev} may be lost",
                q.present.len(),
                q.voters,
                q.needed
            )),
            None => reasons.push(format!(
                "best source: {label}, the most up-to-date data given (term {t}, index {i}, revision {rev}); no member list to tell whether anything committed is missing"
            )),
        }
        if let (Some(c), Some(l)) = (br.commit_index, br.last_index) {
            if l > c {
                reasons.push(format!(
                    "{label}: entries {}..={l} of its log are past its known commit {c}: a restore keeps only what it knows is committed unless `--uncommitted keep` (they may have been acknowledged by the old leader)",
                    c + 1
                ));
            }
        }
        for (j, o) in opened.iter_mut().enumerate() {
            if j == b || o.digests.is_none() || o.report.removed {
                continue;
            }
            let entries = br.last_index.unwrap_or(0).saturating_sub(o.report.last_index.unwrap_or(0));
            let committed_entries = br.commit_index.unwrap_or(0).saturating_sub(o.report.commit_index.unwrap_or(0));
            let revisions = rev - o.report.revision_after_commit.or(o.report.revision).unwrap_or(0);
            o.report.behind = Some(Behind { entries, committed_entries, revisions });
            if entries > 0 || revisions > 0 {
                reasons.push(format!(
                    "{}: behind the best source by {entries} raft entries ({committed_entries} committed) and {revisions} revisions{}",
                    o.report.path.display(),
                    if o.report.will_start { "; started with the others, it catches up from the leader" } else { "" }
                ));
            }
        }
    } else {
        reasons.push(
            "no member's db can be read: there is no source to restore from; try `etcd-forensics salvage` on each"
                .into(),
        );
    }

    // Restarting as is.
    let all_start =
        opened.iter().filter(|o| !o.report.removed).all(|o| o.report.will_start && o.report.error.is_none());
    let all_present = quorum.as_ref().is_some_and(|q| q.present.len() == q.voters);
    let intact = all_start && same_cluster && consistent && all_present;
    let start_order: Vec<PathBuf> =
        order.iter().filter(|&&i| candidate(i)).map(|&i| opened[i].report.path.clone()).collect();
    let startup = match &quorum {
        Some(q) if q.formed && consistent => Startup {
            possible: true,
            order: start_order,
            why: format!(
                "{} of {} voting members start and agree: start them together (the most up-to-date first; raft elects a leader once {} are up, and the others catch up from it){}",
                q.present.len(),
                q.voters,
                q.needed,
                if q.present.len() < q.voters { "; replace the missing members afterwards (`etcdctl member remove` / `member add`)" } else { "" }
            ),
        },
        Some(q) if q.formed => Startup {
            possible: false,
            order: start_order,
            why: "a quorum starts, but the histories diverge: do not start the divergent member; restore the cluster from the best source".into(),
        },
        Some(q) => Startup {
            possible: false,
            order: Vec::new(),
            why: format!(
                "only {} of {} voting members can start, fewer than a quorum ({}): the cluster cannot elect a leader; restore it from the best source (`cluster ... --restore --out DIR`)",
                q.present.len(),
                q.voters,
                q.needed
            ),
        },
        None => Startup {
            possible: false,
            order: Vec::new(),
            why: if any_dir {
                "no member list was found (no readable db): restore a new cluster from the best source".into()
            } else {
                "snapshot files only: restore a new cluster from the best source (`--restore --out DIR`)".into()
            },
        },
    };
    if intact {
        reasons.insert(0, "every member is present, starts, and holds the same history: the cluster is intact".into());
    }

    Ok(ClusterReport {
        members: opened.into_iter().map(|o| o.report).collect(),
        same_cluster,
        cluster_ids: ids.into_keys().collect(),
        consistent,
        first_divergent_revision: first_divergent,
        hash_kv_revision,
        hash_kv_agree,
        best: best.map(|b| paths[b].clone()),
        best_is_complete,
        reasons,
        quorum,
        startup,
        intact,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(main: i64, crc: u32) -> RevDigest {
        RevDigest { main, crc, len: 1, entries: 1 }
    }

    #[test]
    fn window_cuts_by_revision() {
        let v = vec![d(2, 0), d(3, 0), d(5, 0), d(9, 0)];
        assert_eq!(window(&v, 3, 5).iter().map(|x| x.main).collect::<Vec<_>>(), vec![3, 5]);
        assert!(window(&v, 6, 8).is_empty());
        assert!(window(&v, 10, 3).is_empty());
    }

    #[test]
    fn up_to_date_follows_raft() {
        let mut a = sample();
        let mut b = sample();
        a.last_term = Some(3);
        a.last_index = Some(10);
        b.last_term = Some(4);
        b.last_index = Some(8);
        assert!(up_to_date_key(&b) > up_to_date_key(&a), "a higher last term wins over a longer log");
        b.last_term = Some(3);
        assert!(up_to_date_key(&a) > up_to_date_key(&b));
    }

    fn sample() -> MemberReport {
        open_member(Path::new("/nonexistent/for-test"), &ClusterOptions::default()).report
    }
}
