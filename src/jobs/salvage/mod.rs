//! `salvage`: get everything that can still be read out of a damaged db
//! (or data dir) into a new, compact, verified snapshot file that `restore`
//! accepts.
//!
//! Steps (FORMATS.md §1.5, §1.14, §2, §11):
//!
//! 1. **Meta page.** Every meta page whose fields still describe a tree is
//!    a candidate (a page failing its checksum too, used only if no valid
//!    one exists). The newest valid one is used, as bbolt does: the older
//!    tree's pages are still in the file, so the scan (3.) puts back what
//!    they hold under a damaged page of the newest. Both trees are walked and
//!    what reverting to the other would lose is reported, bucket by bucket.
//! 2. **Walk** everything reachable from it; the walk skips what it cannot
//!    read and names each skipped page with the key range above it (from
//!    the branch keys): the *lost ranges*. `key`-bucket entries read from
//!    the tree are checked (revision key, KeyValue consistent with it);
//!    bad ones are dropped and their keys become lost ranges too.
//! 3. **Scan every page** of the file (`bolt::scavenge`) for leaves holding
//!    well-formed `key`-bucket entries (and `lease` entries), and put back
//!    the ones in lost ranges, as `mvcc::recover` decides (the tree wins;
//!    entries outside lost ranges are stale copies of deleted data;
//!    compacted history is not resurrected).
//! 4. **WAL** (data dirs, or `--wal-dir`): entries past the consistent index
//!    are replayed into the salvaged state; lost revisions the WAL still
//!    covers are rebuilt by a replay aligned on the surviving ones
//!    ([`wal`]).
//! 5. **Write** every bucket compact with the bulk loader and the SHA-256
//!    trailer of `snapshot save`, to a temporary file beside the output,
//!    check it (`scan_db`: every page, every value, the trailer) and move
//!    it into place only if the output still does not exist.
//!
//! The report says which pages were skipped, which revisions came back
//! from unreachable pages, which are lost (main revisions above the compact
//! revision are consecutive, so a missing one inside a lost range is a lost
//! write transaction), and which buckets other than `key` lost data.
//!
//! The input is opened read-only (a read-only map) and never written.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Outcome;
use super::defrag::{StatusOf, refuse_existing, status_of, write_new_db_verified};
use crate::bolt::layout::MAGIC;
use crate::bolt::scavenge::scan_leaves;
use crate::bolt::{self, Db, KvLoc, MetaProblem, Sink, TreeFinding, WalkOptions, WalkResult};
use crate::datadir::{self, Paths};
use crate::error::{Error, Location, Result};
use crate::mvcc::recover::{self, Found, KeyEntry, LostRange};
use crate::mvcc::version::{Applied, Release, Writer};
use crate::mvcc::{Revision, ScanOptions, buckets, kv, scan_db, schema};
use crate::report::{RevRange, Severity};
use crate::source::Source;

pub mod wal;

#[derive(Debug, Clone)]
pub struct SalvageOptions {
    /// A data dir, a db file or a `snapshot save` file.
    pub source: PathBuf,
    /// The snapshot file to write; must not exist.
    pub output: PathBuf,
    /// The WAL directory (default: the data dir's `member/wal`; a db file
    /// has none unless given).
    pub wal_dir: Option<PathBuf>,
    /// Do not replay the WAL.
    pub no_wal: bool,
    /// Replay only entries up to the last HardState's commit.
    pub committed_only: bool,
    /// Whose compaction rules decide which found revisions at or below the
    /// compact revision come back (default: the release that wrote the db).
    pub etcd_version: Option<Release>,
}

impl SalvageOptions {
    pub fn new(source: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        SalvageOptions {
            source: source.into(),
            output: output.into(),
            wal_dir: None,
            no_wal: false,
            committed_only: false,
            etcd_version: None,
        }
    }
}

/// Entries listed per kind in a report before we only count them.
const MAX_LISTED: usize = 1000;

/// One meta page as salvage saw it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaChoice {
    pub index: u8,
    pub txid: u64,
    pub root: u64,
    pub high_water_mark: u64,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<MetaProblem>,
    /// Pages its tree could not read.
    pub skipped_pages: usize,
}

/// What switching from the meta page used to the other one changes, for
/// one bucket.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketDiff {
    pub bucket: String,
    /// Entries only the tree used has: lost by reverting.
    pub lost_by_reverting: u64,
    /// Entries only the other tree has.
    pub only_in_other: u64,
    /// Keys in both with different values.
    pub changed: u64,
    /// `key` bucket: main revisions lost by reverting, as inclusive runs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revisions_lost_by_reverting: Vec<RevRange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub revisions_only_in_other: Vec<RevRange>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaReport {
    pub used: MetaChoice,
    /// Why this one.
    pub reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other: Option<MetaChoice>,
    /// The other tree compared with the one used (empty when the two metas
    /// name the same tree, or the other has none).
    pub revert_diff: Vec<BucketDiff>,
    /// The two metas name the same root and high-water mark.
    pub same_tree: bool,
}

/// A page the walk could not read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedPage {
    pub page: Option<u64>,
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_type: Option<String>,
    pub bucket: String,
    pub code: &'static str,
    pub what: String,
    /// Key range under the page (hex), from the branch keys above it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hi: Option<String>,
    /// `key` bucket: the main revisions that range covers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisions: Option<RevRange>,
}

/// A `key`-bucket entry read from the tree but not well-formed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BadEntry {
    pub page: u64,
    pub offset: u64,
    /// Hex of the key.
    pub key: String,
    pub why: &'static str,
}

/// What the page scan put back.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recovered {
    /// Pages of the file scanned.
    pub pages_scanned: u64,
    /// Pages that look like `key`-bucket leaves.
    pub key_leaves_found: u64,
    /// Revisions put back from pages the tree does not reach.
    pub revisions: u64,
    pub ranges: Vec<RevRange>,
    /// The pages they came from.
    pub pages: Vec<u64>,
    /// Copies of revisions the tree holds.
    pub duplicates: u64,
    /// Copies outside every lost range: older versions of data since
    /// deleted by a compaction; not put back.
    pub stale: u64,
    /// Revisions at or below the compact revision a compaction deleted.
    pub compacted: u64,
    /// Revisions found in two different versions.
    pub conflicts: u64,
    /// `lease` entries put back.
    pub leases: u64,
}

/// Revisions known to be lost.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lost {
    /// Main revisions above the compact revision, inside lost ranges, with
    /// no entry left: whole write transactions lost.
    pub ranges: Vec<RevRange>,
    pub revisions: u64,
    /// Main revisions present only in part (their first sub revisions are
    /// missing, or there is a gap between sub revisions).
    pub partial: Vec<i64>,
    /// A lost range runs past the newest revision left: how many newer
    /// revisions existed is unknown (the first unknown one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unknown_from: Option<i64>,
    /// A lost range reaches below the compact revision, where revisions
    /// legitimately missing (compacted) cannot be told from lost ones.
    pub below_compaction: bool,
}

/// A user key whose newest revision is lost, and what now stands in for it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyLost {
    /// The user key as text (`\xNN` escapes for non-UTF-8).
    pub key: String,
    /// The lost revision: `{main, sub, tombstone}`.
    pub lost: Revision,
    /// The key's newest revision in the salvaged snapshot, older than the
    /// lost one (`None`: the key does not exist there at all).
    pub stand_in: Option<Revision>,
    /// Where the key's name comes from: the damaged page's readable
    /// elements (not trusted enough to put back).
    pub source: String,
    /// The WAL replay wrote the key again at this revision, computing its
    /// version and create revision without the lost revision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replayed: Option<Revision>,
    #[serde(skip)]
    pub user: Vec<u8>,
}

/// A bucket other than `key` that lost data.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketAffected {
    pub bucket: String,
    pub what: String,
}

/// The new snapshot.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalvagedFile {
    /// Main revision of the last key (the store's revision after restore,
    /// unless the compact revision is higher).
    pub revision: i64,
    pub compact_revision: Option<i64>,
    /// Entries of the `key` bucket.
    pub revisions: u64,
    pub live_keys: u64,
    pub consistent_index: Option<u64>,
    pub term: Option<u64>,
    pub pages: u64,
    pub file_size: u64,
    pub sha256: String,
    /// What `etcdutl snapshot status` prints for it.
    pub status: StatusOf,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SalvageReport {
    pub source: PathBuf,
    pub db_file: PathBuf,
    pub output: PathBuf,
    pub page_size: u32,
    pub file_pages: u64,
    pub meta: MetaReport,
    pub skipped_pages: Vec<SkippedPage>,
    pub bad_entries: Vec<BadEntry>,
    pub bad_entries_total: u64,
    pub recovered: Recovered,
    pub lost: Lost,
    /// User keys whose newest revision is lost (as far as the damaged
    /// pages still name them).
    pub keys_newest_lost: Vec<KeyLost>,
    /// Lost revisions the damaged pages still name (newest or not).
    pub lost_revisions_named: u64,
    /// Lease ids live keys carry that the `lease` bucket lacks.
    pub missing_leases: Vec<String>,
    pub buckets_affected: Vec<BucketAffected>,
    /// The WAL replay (data dirs, or with `--wal-dir`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wal: Option<wal::WalReplay>,
    /// Whose compaction rules were applied to found revisions at or below
    /// the compact revision (3.4.34+, 3.5.16+ and 3.6+ keep a tombstone at
    /// exactly the compact revision; earlier releases delete it).
    pub rules: Applied,
    pub result: SalvagedFile,
}

impl SalvageReport {
    /// Was anything lost or uncertain?
    pub fn complete(&self) -> bool {
        self.lost.revisions == 0
            && self.lost.partial.is_empty()
            && self.lost.unknown_from.is_none()
            && !self.lost.below_compaction
            && self.bad_entries_total == 0
            && self.buckets_affected.is_empty()
            && self.meta.used.valid
            && self.wal.as_ref().is_none_or(wal::WalReplay::complete)
    }
    /// 0: written, nothing lost; 1: written, something lost or uncertain
    /// (the report says what).
    pub fn outcome(&self) -> Outcome {
        if self.complete() && self.skipped_pages.is_empty() { Outcome::Verified } else { Outcome::Damaged }
    }
}

/// Collects a bucket's entries with where they were read.
#[derive(Default)]
struct Entries<'a> {
    kvs: Vec<(&'a [u8], &'a [u8], KvLoc)>,
    nested: u64,
}

impl<'a> Sink<'a> for Entries<'a> {
    fn kv(&mut self, k: &'a [u8], v: &'a [u8], is_bucket: bool, loc: KvLoc) {
        if is_bucket {
            self.nested += 1;
        } else {
            self.kvs.push((k, v, loc));
        }
    }
    fn fresh(&self) -> Self {
        Entries::default()
    }
    fn merge(&mut self, later: Self) {
        self.kvs.extend(later.kvs);
        self.nested += later.nested;
    }
}

/// One candidate tree.
struct Tree<'a> {
    choice: MetaChoice,
    db: Db<'a>,
    /// `None` for a meta naming the same tree as another candidate (walked
    /// once).
    walk: Option<WalkResult<'a, Entries<'a>>>,
}

impl<'a> Tree<'a> {
    fn bucket(&self, name: &[u8]) -> Option<&Entries<'a>> {
        self.walk.as_ref()?.buckets.iter().find(|b| b.name == name).map(|b| &b.sink)
    }
    fn same_tree(&self, other: &MetaChoice) -> bool {
        self.choice.root == other.root && self.choice.high_water_mark == other.high_water_mark
    }
}

/// Walk findings that lose data (everything but a leaked page).
fn loses_data(tf: &TreeFinding) -> bool {
    tf.finding.severity == Severity::Damage && tf.finding.code != "bolt.freelist.unreachable_unfreed"
}

fn walk_tree<'a>(
    data: &'a [u8],
    index: u8,
    meta: bolt::Meta,
    valid: bool,
    problem: Option<MetaProblem>,
    done: &[Tree<'a>],
) -> Option<Tree<'a>> {
    let db = Db::with_meta(data, meta, index)?;
    let mut choice = MetaChoice {
        index,
        txid: meta.txid,
        root: meta.root,
        high_water_mark: meta.hwm,
        valid,
        problem,
        skipped_pages: 0,
    };
    if let Some(twin) = done.iter().find(|t| t.same_tree(&choice)) {
        choice.skipped_pages = twin.choice.skipped_pages;
        return Some(Tree { choice, db, walk: None });
    }
    let walk = bolt::walk(&db, WalkOptions { parallel: true, progress: None }, |_| Entries::default());
    choice.skipped_pages = walk.findings.iter().filter(|f| loses_data(f)).count();
    Some(Tree { choice, db, walk: Some(walk) })
}

/// The page size: bbolt's own detection when a meta validates, else meta
/// 0's field if plausible, else 4096.
fn page_size(data: &[u8]) -> u32 {
    let sane = |p: &u32| (bolt::layout::MIN_PAGE_SIZE..=bolt::layout::MAX_PAGE_SIZE).contains(p) && p.is_power_of_two();
    Db::open(data)
        .ok()
        .map(|d| d.page_size())
        .or_else(|| bolt::Meta::parse(data).map(|m| m.page_size).filter(sane))
        .unwrap_or(4096)
}

/// Every meta page that still names a tree, walked; best first.
fn candidate_trees(data: &[u8], ps: u32) -> Vec<Tree<'_>> {
    let pages_in_file = data.len() as u64 / u64::from(ps);
    let mut out = Vec::new();
    for index in 0..2u8 {
        let off = usize::try_from(u64::from(index) * u64::from(ps)).unwrap_or(usize::MAX);
        let page = data.get(off..).unwrap_or_default();
        let Some(meta) = bolt::Meta::parse(page) else { continue };
        let checked = bolt::Meta::validate(page);
        let valid = checked.is_ok() && meta.page_size == ps;
        // An invalid meta is only a candidate if its fields still look
        // like bbolt's: magic, this page size, a root inside the file.
        if !valid
            && (meta.magic != MAGIC
                || meta.page_size != ps
                || meta.root < 2
                || meta.root >= meta.hwm
                || meta.root >= pages_in_file)
        {
            continue;
        }
        let problem = checked.err();
        if let Some(t) = walk_tree(data, index, meta, valid, problem, &out) {
            out.push(t);
        }
    }
    // Valid first, then the newest, as bbolt picks. The newest tree with a
    // damaged page loses no more than the older one: the pages of the older
    // tree are still in the file and the scan puts back what they hold
    // under the damaged page's range, while the newest holds the last
    // transaction's writes.
    out.sort_by_key(|t| (!t.choice.valid, std::cmp::Reverse(t.choice.txid)));
    out
}

/// Both metas' slots as read, for a report when one is not a candidate.
fn slot_choice(data: &[u8], index: u8, ps: u32) -> Option<MetaChoice> {
    let off = usize::try_from(u64::from(index) * u64::from(ps)).ok()?;
    let page = data.get(off..)?;
    let meta = bolt::Meta::parse(page)?;
    let checked = bolt::Meta::validate(page);
    Some(MetaChoice {
        index,
        txid: meta.txid,
        root: meta.root,
        high_water_mark: meta.hwm,
        valid: checked.is_ok(),
        problem: checked.err(),
        skipped_pages: 0,
    })
}

fn hex(b: &[u8]) -> String {
    bolt::walk::hex(b)
}

/// Main revisions of `key`-bucket keys, as runs.
fn rev_runs<'x>(keys: impl Iterator<Item = &'x [u8]>) -> Vec<RevRange> {
    let mains: BTreeSet<i64> = keys.filter_map(Revision::main_of).collect();
    recover::runs(mains).into_iter().map(|(a, b)| RevRange { first: Some(a), last: Some(b) }).collect()
}

/// Compare two trees bucket by bucket (sorted borrowed entries, merged).
fn diff_trees(used: &Tree<'_>, other: &Tree<'_>) -> Vec<BucketDiff> {
    let (Some(wa), Some(wb)) = (&used.walk, &other.walk) else { return Vec::new() };
    let names: BTreeSet<&[u8]> = wa.buckets.iter().chain(&wb.buckets).map(|b| b.name).collect();
    let mut out = Vec::new();
    for name in names {
        fn sorted<'a>(t: &Tree<'a>, name: &[u8]) -> Vec<(&'a [u8], &'a [u8])> {
            let mut v: Vec<(&[u8], &[u8])> =
                t.bucket(name).map(|e| e.kvs.iter().map(|(k, v, _)| (*k, *v)).collect()).unwrap_or_default();
            v.sort_by(|x, y| x.0.cmp(y.0));
            v.dedup_by(|x, y| x.0 == y.0);
            v
        }
        let (a, b) = (sorted(used, name), sorted(other, name));
        let (mut only_a, mut only_b, mut changed) = (Vec::new(), Vec::new(), 0u64);
        let (mut i, mut j) = (0, 0);
        loop {
            match (a.get(i), b.get(j)) {
                (Some(x), Some(y)) => match x.0.cmp(y.0) {
                    std::cmp::Ordering::Less => {
                        only_a.push(x.0);
                        i += 1;
                    }
                    std::cmp::Ordering::Greater => {
                        only_b.push(y.0);
                        j += 1;
                    }
                    std::cmp::Ordering::Equal => {
                        changed += u64::from(x.1 != y.1);
                        i += 1;
                        j += 1;
                    }
                },
                (Some(x), None) => {
                    only_a.push(x.0);
                    i += 1;
                }
                (None, Some(y)) => {
                    only_b.push(y.0);
                    j += 1;
                }
                (None, None) => break,
            }
        }
        if only_a.is_empty() && only_b.is_empty() && changed == 0 {
            continue;
        }
        let is_key = name == buckets::KEY;
        out.push(BucketDiff {
            bucket: String::from_utf8_lossy(name).into_owned(),
            lost_by_reverting: only_a.len() as u64,
            only_in_other: only_b.len() as u64,
            changed,
            revisions_lost_by_reverting: if is_key { rev_runs(only_a.iter().copied()) } else { Vec::new() },
            revisions_only_in_other: if is_key { rev_runs(only_b.iter().copied()) } else { Vec::new() },
        });
    }
    out
}

/// The main revisions a lost `key` range covers.
fn range_revisions(r: &LostRange) -> RevRange {
    let first = r.lo.as_deref().and_then(Revision::main_of);
    let last = r.hi.as_deref().and_then(|hi| {
        let rev = Revision::parse(hi)?;
        Some(if rev.sub == 0 && !rev.tombstone { rev.main - 1 } else { rev.main })
    });
    RevRange { first, last }
}

/// Lost ranges of top-level bucket `name` from the walk's findings.
fn lost_ranges(walk: &WalkResult<'_, Entries<'_>>, name: &[u8]) -> Vec<LostRange> {
    let mut out = Vec::new();
    let present = walk.buckets.iter().any(|b| b.name == name);
    let root_damaged = walk.findings.iter().any(|f| f.bucket.is_empty() && loses_data(f));
    if !present && root_damaged {
        out.push(LostRange::everything());
    }
    for f in &walk.findings {
        if loses_data(f) && f.bucket.first().map(Vec::as_slice) == Some(name) {
            out.push(LostRange { lo: f.lo.clone(), hi: f.hi.clone() });
        }
    }
    out
}

/// The exact-key range of one key.
fn exact(key: &[u8]) -> LostRange {
    let mut hi = key.to_vec();
    hi.push(0);
    LostRange { lo: Some(key.to_vec()), hi: Some(hi) }
}

fn be_u64_exact(v: &[u8]) -> Option<u64> {
    let b: [u8; 8] = v.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// The input's db file and, for a data dir, its layout.
fn resolve(path: &Path) -> Result<(PathBuf, Option<Paths>)> {
    if path.is_dir() {
        let p = datadir::locate(path, None)?;
        if !p.db.is_file() {
            return Err(Error::usage(format!("{}: no db file (expected {})", path.display(), p.db.display())));
        }
        Ok((p.db.clone(), Some(p)))
    } else {
        Ok((path.to_path_buf(), None))
    }
}

/// Run the salvage.
pub fn salvage(opts: &SalvageOptions) -> Result<SalvageReport> {
    refuse_existing(&opts.output)?;
    let (db_file, paths) = resolve(&opts.source)?;
    let src = Source::open(&db_file)?;
    let data = src.bytes();

    // 1. The meta page.
    let ps = page_size(data);
    let mut trees = candidate_trees(data, ps);
    if trees.is_empty() {
        return Err(Error::malformed(
            "neither meta page names a tree (wrong magic, page size or root on both)",
            Location::file(&db_file),
        )
        .with_hint("this does not look like a bbolt file; nothing to salvage"));
    }
    let mut used = trees.remove(0);
    let mut other = trees.into_iter().next();
    if used.walk.is_none() {
        used.walk = other.as_mut().and_then(|o| o.walk.take());
    }
    let same_tree = other.as_ref().is_some_and(|o| used.same_tree(&o.choice));
    let revert_diff = match &other {
        Some(o) if !same_tree => diff_trees(&used, o),
        _ => Vec::new(),
    };
    let reason = match &other {
        _ if !used.choice.valid => {
            "no meta page validates; this one's fields still name a tree (the newest such)".to_string()
        }
        None => "the only meta page that names a tree".to_string(),
        Some(o) if !o.choice.valid => format!(
            "the other meta page is invalid ({})",
            o.choice.problem.as_ref().map(|p| p.to_string()).unwrap_or_default()
        ),
        Some(_) => "the newest valid meta page, as bbolt picks".to_string(),
    };
    let other_choice =
        other.as_ref().map(|o| o.choice.clone()).or_else(|| slot_choice(data, 1 - used.choice.index, ps));
    let meta = MetaReport { used: used.choice.clone(), reason, other: other_choice, revert_diff, same_tree };

    // 2. What the walk could not read.
    let Some(walk) = &used.walk else {
        return Err(Error::malformed("internal: the chosen tree was not walked", Location::file(&db_file)));
    };
    let mut skipped_pages = Vec::new();
    for f in walk.findings.iter().filter(|f| loses_data(f)) {
        let is_key = f.bucket.len() == 1 && f.bucket.first().map(Vec::as_slice) == Some(buckets::KEY);
        skipped_pages.push(SkippedPage {
            page: f.finding.location.page,
            offset: f.finding.location.offset,
            page_type: f.finding.page_type.clone(),
            bucket: f.bucket.iter().map(|b| String::from_utf8_lossy(b).into_owned()).collect::<Vec<_>>().join("/"),
            code: f.finding.code,
            what: f.finding.what.clone(),
            lo: f.lo.as_deref().map(hex),
            hi: f.hi.as_deref().map(hex),
            revisions: is_key.then(|| range_revisions(&LostRange { lo: f.lo.clone(), hi: f.hi.clone() })),
        });
    }
    let mut key_lost = lost_ranges(walk, buckets::KEY);
    let lease_lost = lost_ranges(walk, buckets::LEASE);

    // `key` entries from the tree, checked.
    let meta_info = schema::meta_info(
        &used
            .bucket(buckets::META)
            .map(|e| e.kvs.iter().map(|(k, v, _)| (*k, *v)).collect::<Vec<_>>())
            .unwrap_or_default(),
    );
    let compact = meta_info.finished_compact_revision;
    let cluster_version = used
        .bucket(buckets::CLUSTER)
        .and_then(|e| e.kvs.iter().find(|(k, _, _)| *k == b"clusterVersion").map(|(_, v, _)| schema::show_bytes(v)));
    let rules = Applied::choose(
        opts.etcd_version,
        Writer::detect(meta_info.storage_version.as_deref(), cluster_version.as_deref(), meta_info.term.is_some()),
    );
    let keep_compact_tombstone = rules.release.hash_rules().skip_compact_tombstone;
    // Above the compact revision the key bucket is dense: entries out of
    // sequence with their page neighbours have damaged keys. Known only
    // when the meta bucket was read.
    let floor = used
        .bucket(buckets::META)
        .map(|_| compact.unwrap_or(0).max(meta_info.scheduled_compact_revision.unwrap_or(0)).max(0));
    let mut tree_keys: Vec<(&[u8], &[u8], KvLoc)> = Vec::new();
    let mut bad_entries = Vec::new();
    let mut bad_total = 0u64;
    if let Some(e) = used.bucket(buckets::KEY) {
        let checked: Vec<KeyEntry> = e.kvs.iter().map(|(k, v, _)| recover::key_entry(k, v)).collect();
        let mut suspect = vec![false; e.kvs.len()];
        if let Some(floor) = floor {
            // per page, in walk (= page) order
            let mut start = 0;
            while start < e.kvs.len() {
                let page = e.kvs.get(start).map_or(0, |x| x.2.pgid);
                let end = e.kvs.iter().skip(start).position(|x| x.2.pgid != page).map_or(e.kvs.len(), |n| start + n);
                let items: Vec<(usize, Option<Revision>)> = checked
                    .get(start..end)
                    .unwrap_or_default()
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (i, if let KeyEntry::Valid(r) = c { Some(*r) } else { None }))
                    .collect();
                for (i, out) in recover::out_of_sequence(&items, floor).into_iter().enumerate() {
                    if let Some(s) = suspect.get_mut(start + i) {
                        *s = out;
                    }
                }
                start = end;
            }
        }
        for (((k, v, loc), c), sus) in e.kvs.iter().zip(&checked).zip(&suspect) {
            let (k, v, loc) = (*k, *v, *loc);
            let c = if *sus {
                KeyEntry::Invalid("out of sequence with its neighbours on the page (a damaged key)")
            } else {
                *c
            };
            match c {
                KeyEntry::Valid(_) | KeyEntry::Marker(_) => tree_keys.push((k, v, loc)),
                KeyEntry::Invalid(why) => {
                    bad_total += 1;
                    if bad_entries.len() < MAX_LISTED {
                        bad_entries.push(BadEntry { page: loc.pgid, offset: loc.offset, key: hex(k), why });
                    }
                    key_lost.push(exact(k));
                }
            }
        }
    }

    // 3. Every page of the file.
    let scan_db_view = Some(&used.db);
    let mut found_keys: Vec<Found<'_>> = Vec::new();
    let mut found_leases: Vec<Found<'_>> = Vec::new();
    let mut recovered = Recovered::default();
    if let Some(db) = scan_db_view {
        recovered.pages_scanned = db.pages_in_file().saturating_sub(2);
        let leaves = scan_leaves(db, |e| {
            matches!(recover::key_entry(e.key, e.value), KeyEntry::Valid(_)) || recover::lease_entry(e.key, e.value)
        });
        for l in &leaves {
            let clean = l.is_clean();
            let mut any_key = false;
            let suspect = match floor {
                Some(floor) => {
                    let items: Vec<(usize, Option<Revision>)> = l
                        .elems
                        .iter()
                        .map(|e| {
                            let r = match recover::key_entry(e.key, e.value) {
                                KeyEntry::Valid(r) => Some(r),
                                _ => None,
                            };
                            (e.index, r)
                        })
                        .collect();
                    recover::out_of_sequence(&items, floor)
                }
                None => vec![false; l.elems.len()],
            };
            for (e, _) in l.elems.iter().zip(&suspect).filter(|(_, s)| !**s) {
                let f = Found { key: e.key, value: e.value, pgid: l.pgid, clean };
                if recover::lease_entry(e.key, e.value) {
                    found_leases.push(f);
                } else {
                    any_key = true;
                    found_keys.push(f);
                }
            }
            recovered.key_leaves_found += u64::from(any_key);
        }
    }
    // Global bounds: a put's main revision is checked against its value,
    // not a tombstone's: one cannot lie beyond the newest put by more than
    // there are tombstones; no sub revision beyond the number of entries.
    let revs =
        || tree_keys.iter().map(|(k, _, _)| *k).chain(found_keys.iter().map(|f| f.key)).filter_map(Revision::parse);
    let newest_put = revs().filter(|r| !r.tombstone).map(|r| r.main).max().unwrap_or(0);
    let tombstones = revs().filter(|r| r.tombstone).count() as i64;
    let entries_seen = (tree_keys.len() + found_keys.len()) as i64;
    let in_bounds = |k: &[u8]| {
        Revision::parse(k)
            .is_none_or(|r| r.sub <= entries_seen && (!r.tombstone || r.main <= newest_put.saturating_add(tombstones)))
    };
    let mut tree_pairs: Vec<(&[u8], &[u8])> = Vec::with_capacity(tree_keys.len());
    for (k, v, loc) in tree_keys {
        if in_bounds(k) {
            tree_pairs.push((k, v));
        } else {
            bad_total += 1;
            if bad_entries.len() < MAX_LISTED {
                bad_entries.push(BadEntry {
                    page: loc.pgid,
                    offset: loc.offset,
                    key: hex(k),
                    why: "revision out of range (a damaged key)",
                });
            }
            key_lost.push(exact(k));
        }
    }
    found_keys.retain(|f| in_bounds(f.key));
    let merged_keys = recover::merge_key_bucket(tree_pairs, &found_keys, &key_lost, compact, keep_compact_tombstone);
    let tree_leases: Vec<(&[u8], &[u8])> =
        used.bucket(buckets::LEASE).map(|e| e.kvs.iter().map(|(k, v, _)| (*k, *v)).collect()).unwrap_or_default();
    let merged_leases = recover::merge_bucket(tree_leases, &found_leases, &lease_lost);
    recovered.revisions = merged_keys.recovered.len() as u64;
    recovered.ranges = rev_runs(merged_keys.recovered.iter().map(|(k, _)| *k));
    recovered.pages = merged_keys.recovered.iter().map(|(_, p)| *p).collect::<BTreeSet<u64>>().into_iter().collect();
    recovered.duplicates = merged_keys.duplicates;
    recovered.stale = merged_keys.stale;
    recovered.compacted = merged_keys.compacted;
    recovered.conflicts = merged_keys.conflicts;
    recovered.leases = merged_leases.recovered.len() as u64;

    // What is lost.

    // Other buckets.
    let mut buckets_affected = Vec::new();
    for name in buckets::ALL {
        if *name == buckets::KEY {
            continue;
        }
        let ranges = lost_ranges(walk, name);
        let n = String::from_utf8_lossy(name).into_owned();
        if ranges.iter().any(|r| r.lo.is_none() && r.hi.is_none()) && used.bucket(name).is_none() {
            let back = if *name == buckets::LEASE && recovered.leases > 0 {
                format!("; {} leases were found on unreachable pages and put back", recovered.leases)
            } else {
                String::new()
            };
            buckets_affected.push(BucketAffected {
                bucket: n,
                what: format!("the bucket is gone: the page that held it could not be read{back}"),
            });
        } else if !ranges.is_empty() {
            let what = ranges
                .iter()
                .map(|r| {
                    format!(
                        "keys {}..{}",
                        r.lo.as_deref().map_or_else(|| "(first)".into(), schema::show_bytes),
                        r.hi.as_deref().map_or_else(|| "(last)".into(), schema::show_bytes)
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let back = if *name == buckets::LEASE {
                format!(" ({} put back from unreachable pages)", recovered.leases)
            } else {
                String::new()
            };
            buckets_affected.push(BucketAffected {
                bucket: n,
                what: format!("entries under unreadable pages are lost: {what}{back}"),
            });
        }
    }

    // 4. The WAL: entries past the consistent index.
    let wal_dir =
        if opts.no_wal { None } else { opts.wal_dir.clone().or_else(|| paths.as_ref().map(|p| p.wal_dir.clone())) };
    let tree_meta: Vec<(&[u8], &[u8])> =
        used.bucket(buckets::META).map(|e| e.kvs.iter().map(|(k, v, _)| (*k, *v)).collect()).unwrap_or_default();
    let (wal_report, wal_changes) = match &wal_dir {
        Some(dir) if dir.is_dir() => {
            let input = wal::ReplayInput {
                wal_dir: dir,
                consistent_index: meta_info.consistent_index,
                keys: &merged_keys.entries,
                leases: &merged_leases.entries,
                compact_revision: compact,
                committed_only: opts.committed_only,
                lost: &key_lost,
            };
            let (r, c) = wal::replay(&input)?;
            (Some(r), c)
        }
        Some(dir) => (
            Some(wal::WalReplay {
                wal_dir: dir.clone(),
                skipped_because: Some("the WAL directory does not exist".into()),
                ..Default::default()
            }),
            wal::WalChanges::default(),
        ),
        None => (None, wal::WalChanges::default()),
    };

    // 5. The new file: every bucket of the tree, `key` and `lease` merged.
    let mut names: BTreeSet<&[u8]> = walk.buckets.iter().map(|b| b.name).collect();
    for n in [buckets::KEY, buckets::META, buckets::LEASE] {
        names.insert(n);
    }
    let mut out_buckets: Vec<bolt::write::Bucket<'_>> = Vec::new();
    for name in names {
        let entries = if name == buckets::KEY {
            let mut e = merged_keys.entries.clone();
            e.extend(wal_changes.rebuilt.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
            e.extend(wal_changes.keys.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
            recover::merge_bucket(e, &[], &[]).entries
        } else if name == buckets::LEASE {
            match &wal_changes.leases {
                Some(l) => l.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect(),
                None => merged_leases.entries.clone(),
            }
        } else if name == buckets::META {
            let mut e = tree_meta.clone();
            e.extend(wal_changes.meta.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
            // later values win: sort stably by key and keep the last
            e.reverse();
            e.sort_by(|a, b| a.0.cmp(b.0));
            e.dedup_by(|x, y| x.0 == y.0);
            e
        } else {
            let tree: Vec<(&[u8], &[u8])> =
                used.bucket(name).map(|e| e.kvs.iter().map(|(k, v, _)| (*k, *v)).collect()).unwrap_or_default();
            recover::merge_bucket(tree, &[], &[]).entries
        };
        out_buckets.push(bolt::write::Bucket { name, entries });
    }

    // Leases live keys need.
    let final_bucket =
        |n: &[u8]| out_buckets.iter().find(|b| b.name == n).map(|b| b.entries.as_slice()).unwrap_or_default();
    let missing_leases = missing_leases(final_bucket(buckets::KEY), final_bucket(buckets::LEASE));
    // What is lost: the db's revisions (with those the WAL rebuilt).
    let mut before_replay = merged_keys.entries.clone();
    before_replay.extend(wal_changes.rebuilt.iter().map(|(k, v)| (k.as_slice(), v.as_slice())));
    let before_replay = recover::merge_bucket(before_replay, &[], &[]).entries;
    let known_last = wal_report.as_ref().and_then(|w| w.rebuilt.as_ref()).and_then(|r| r.revision_at_consistent_index);
    let lost = lost_revisions(&before_replay, &key_lost, compact, known_last);
    let (mut keys_newest_lost, lost_revisions_named) = name_lost_keys(&used.db, &skipped_pages, &before_replay);
    // Keys the WAL replay wrote again: their new version and create
    // revision were computed without the lost revision.
    if !keys_newest_lost.is_empty() && !wal_changes.keys.is_empty() {
        let mut first_write: HashMap<&[u8], Revision> = HashMap::new();
        for (k, v) in &wal_changes.keys {
            if let (Some(rev), Some(user)) = (Revision::parse(k), kv::key_of(v)) {
                first_write.entry(user).or_insert(rev);
            }
        }
        for k in &mut keys_newest_lost {
            k.replayed = first_write.get(k.user.as_slice()).copied();
        }
    }

    let plan = bolt::write::plan(&out_buckets, bolt::write::WriteOptions { page_size: ps, ..Default::default() })
        .map_err(|e| e.in_file(&opts.output))?;
    let status = status_of(&out_buckets, plan.file_size());
    let digest = write_new_db_verified(&opts.output, &plan, true, verify_output)?;
    let live_keys = live_keys(final_bucket(buckets::KEY));
    let meta_out = out_buckets.iter().find(|b| b.name == buckets::META);
    let get_meta = |k: &[u8]| meta_out.and_then(|b| b.entries.iter().find(|(n, _)| *n == k).map(|(_, v)| *v));
    let result = SalvagedFile {
        revision: status.revision,
        compact_revision: compact,
        revisions: final_bucket(buckets::KEY).len() as u64,
        live_keys,
        consistent_index: get_meta(b"consistent_index").and_then(be_u64_exact),
        term: get_meta(b"term").and_then(be_u64_exact),
        pages: plan.hwm(),
        file_size: plan.file_size() + 32,
        sha256: digest.map(|d| d.iter().map(|b| format!("{b:02x}")).collect()).unwrap_or_default(),
        status,
    };
    let file_pages = data.len() as u64 / u64::from(ps);
    Ok(SalvageReport {
        source: opts.source.clone(),
        db_file,
        output: opts.output.clone(),
        page_size: ps,
        file_pages,
        meta,
        skipped_pages,
        bad_entries,
        bad_entries_total: bad_total,
        recovered,
        lost,
        keys_newest_lost,
        lost_revisions_named,
        missing_leases,
        buckets_affected,
        wal: wal_report,
        rules,
        result,
    })
}

/// The new file must check clean: every page, every value, the trailer.
fn verify_output(path: &Path) -> Result<()> {
    let src = Source::open(path)?;
    // The trailer (if any) is the SHA-256 computed while writing these
    // bytes; hashing them again here would double the cost of the check.
    let scan = scan_db(src.bytes(), ScanOptions { skip_trailer_hash: true, ..ScanOptions::default() });
    if let Some(f) = scan.findings.iter().find(|f| f.severity == Severity::Damage) {
        return Err(Error::malformed(
            format!("the salvaged file does not check clean ({}): {}; this is a bug in etcd-forensics", f.code, f.what),
            f.location.clone().with_file(path),
        ));
    }
    Ok(())
}

/// Live user keys after the last revision.
fn live_keys(entries: &[(&[u8], &[u8])]) -> u64 {
    let mut live: HashMap<&[u8], bool> = HashMap::new();
    for (k, v) in entries {
        let (Some(rev), Some(user)) = (Revision::parse(k), kv::key_of(v)) else { continue };
        live.insert(user, !rev.tombstone);
    }
    live.values().filter(|&&l| l).count() as u64
}

/// Lease ids (hex) attached to live keys but absent from the lease bucket.
fn missing_leases(keys: &[(&[u8], &[u8])], leases: &[(&[u8], &[u8])]) -> Vec<String> {
    let mut newest: HashMap<&[u8], i64> = HashMap::new();
    for (k, v) in keys {
        let Some(rev) = Revision::parse(k) else { continue };
        let Ok(kv) = kv::decode(v) else { continue };
        if rev.tombstone {
            newest.remove(kv.key);
        } else {
            newest.insert(kv.key, kv.lease);
        }
    }
    let have: HashSet<i64> =
        leases.iter().filter_map(|(k, _)| crate::bytes::be_u64(k, 0)).map(|id| id as i64).collect();
    let missing: BTreeSet<i64> = newest.values().copied().filter(|&l| l != 0 && !have.contains(&l)).collect();
    missing.into_iter().map(|l| format!("{:x}", l as u64)).collect()
}

/// Lost revisions still named by the readable elements of the damaged
/// `key`-bucket pages (read leniently: whatever the header says), and for
/// each user key whose newest revision is among them, the revision that now
/// stands in for it.
fn name_lost_keys(db: &Db<'_>, skipped: &[SkippedPage], keys: &[(&[u8], &[u8])]) -> (Vec<KeyLost>, u64) {
    use crate::bolt::layout::{LEAF_ELEMENT_SIZE, PAGE_HEADER_SIZE};
    if !skipped.iter().any(|p| p.bucket == "key") {
        return (Vec::new(), 0);
    }
    let present: HashSet<&[u8]> = keys.iter().map(|(k, _)| *k).collect();
    let mut named: Vec<(Revision, Vec<u8>, u64)> = Vec::new();
    for sp in skipped.iter().filter(|p| p.bucket == "key") {
        let Some(id) = sp.page else { continue };
        // the whole overflow run when it stays in the file, else one page
        let Ok(head) = db.page(id).or_else(|_| db.page_head(id)) else { continue };
        let fit = head.bytes.len().saturating_sub(PAGE_HEADER_SIZE) / LEAF_ELEMENT_SIZE;
        for i in 0..usize::from(head.count).min(fit) {
            let Ok(e) = head.leaf(i) else { continue };
            if present.contains(e.key) {
                continue;
            }
            if let KeyEntry::Valid(rev) = recover::key_entry(e.key, e.value) {
                if let Some(user) = kv::key_of(e.value) {
                    named.push((rev, user.to_vec(), id));
                }
            }
        }
    }
    let total = named.len() as u64;
    // Per user key, its revisions in the snapshot.
    let wanted: HashSet<&[u8]> = named.iter().map(|(_, u, _)| u.as_slice()).collect();
    let mut have: HashMap<&[u8], Vec<Revision>> = HashMap::new();
    for (k, v) in keys {
        let (Some(rev), Some(user)) = (Revision::parse(k), kv::key_of(v)) else { continue };
        if wanted.contains(user) {
            have.entry(user).or_default().push(rev);
        }
    }
    // The newest lost revision per key, if nothing newer survives.
    let mut newest: BTreeMap<Vec<u8>, (Revision, u64)> = BTreeMap::new();
    for (rev, user, page) in named {
        let e = newest.entry(user).or_insert((rev, page));
        if (rev.main, rev.sub) > (e.0.main, e.0.sub) {
            *e = (rev, page);
        }
    }
    let mut out = Vec::new();
    for (user, (rev, page)) in newest {
        let revs = have.get(user.as_slice()).map(Vec::as_slice).unwrap_or_default();
        if revs.iter().any(|r| (r.main, r.sub) > (rev.main, rev.sub)) {
            continue;
        }
        let stand_in = revs.iter().copied().max_by_key(|r| (r.main, r.sub));
        if out.len() < MAX_LISTED {
            out.push(KeyLost {
                key: schema::show_bytes(&user),
                lost: rev,
                stand_in,
                source: format!("damaged page {page}"),
                replayed: None,
                user: user.clone(),
            });
        }
    }
    (out, total)
}

/// Main revisions inside lost ranges with no entry left.
/// `known_last`: the store's revision at the db's consistent index, when the
/// WAL replay established it (then a lost tail is no longer open-ended).
fn lost_revisions(
    entries: &[(&[u8], &[u8])],
    lost: &[LostRange],
    compact: Option<i64>,
    known_last: Option<i64>,
) -> Lost {
    if lost.is_empty() {
        return Lost::default();
    }
    let c = compact.unwrap_or(0).max(0);
    // main -> subs present
    let mut subs: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for (k, _) in entries {
        if let Some(r) = Revision::parse(k) {
            subs.entry(r.main).or_default().push(r.sub);
        }
    }
    let newest = subs.keys().next_back().copied().unwrap_or(0);
    let mut out = Lost::default();
    let mut missing: BTreeSet<i64> = BTreeSet::new();
    let mut partial: BTreeSet<i64> = BTreeSet::new();
    for r in lost {
        let span = range_revisions(r);
        // etcd's store starts at revision 1 and its first write is revision 2
        let first = span.first.unwrap_or(2).max(2);
        if first <= c {
            out.below_compaction = true;
        }
        let lo = first.max(c + 1);
        let hi = match span.last {
            Some(l) => l,
            None => match known_last {
                Some(k) => k,
                None => {
                    // Open-ended: past the newest revision left nothing is known.
                    out.unknown_from = Some(newest + 1);
                    newest
                }
            },
        };
        // A damaged branch key can name any range: nothing above the newest
        // revision known is counted as lost (that is the unknown tail).
        let hi = hi.min(known_last.unwrap_or(newest).max(newest));
        if hi < lo || hi.saturating_sub(lo) > 100_000_000 {
            continue;
        }
        for m in lo..=hi {
            match subs.get(&m) {
                None => {
                    missing.insert(m);
                }
                Some(s) => {
                    let mut s = s.clone();
                    s.sort_unstable();
                    let contiguous = s.iter().enumerate().all(|(i, &x)| x == i as i64);
                    if !contiguous {
                        partial.insert(m);
                    }
                }
            }
        }
    }
    out.revisions = missing.len() as u64;
    out.ranges = recover::runs(missing).into_iter().map(|(a, b)| RevRange { first: Some(a), last: Some(b) }).collect();
    out.partial = partial.into_iter().take(MAX_LISTED).collect();
    out
}
