//! `space`: where the bytes of a db go, and what is eating the quota.
//!
//! One parallel walk of the file ([`crate::bolt::walk`]) feeds every
//! bucket's pages to a [`StatsSink`] (bbolt's `Bucket.Stats()`) and its
//! key/values to a [`Collect`]; then, in memory:
//!
//! 1. **Pages** ([`PageCounts`]): every page of the file is counted once.
//!    Below `covered = min(HWM, pages in the file)`: the two metas, the
//!    persisted freelist's own pages, branch and leaf pages with their
//!    overflow pages (every bucket's tree, the root bucket's too), free
//!    pages listed in a persisted freelist, unreachable pages (neither
//!    reachable nor listed: with etcd's unpersisted freelist these are
//!    bbolt's free pages; with a persisted one they leak, "unreachable
//!    unfreed"), and reachable pages that could not be read. Above it:
//!    pages past the HWM (bbolt ≥ 1.3.7 grows the file ahead), and, for a
//!    truncated file, pages the HWM claims that the file lacks. So
//!    `covered + pastHwm = pagesInFile` and `covered + missing = HWM`
//!    (for any HWM ≥ 2); a file size that is not a multiple of the page
//!    size leaves `tailBytes` (32 for a `snapshot save` file's SHA-256).
//! 2. **Buckets**: `Bucket.Stats()` per top-level bucket, and their sum as
//!    `bbolt stats` prints it.
//! 3. **Keys** ([`key_usage`]): the `key` bucket by user-key prefix.
//! 4. **Defrag estimate** ([`DefragEstimate`]): the pages etcd's defrag
//!    would write, from the same plan as `etcd-forensics defrag`.
//!
//! Damage does not stop the report: what could not be read is left out and
//! the findings say where (exit 1).

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::Serialize;

use super::Outcome;
use super::inspect::Input;
use crate::bolt::stats::{BucketStats, FillHistogram, StatsSink};
use crate::bolt::{self, Collect, Db, KvLoc, PageVisit, Sink, WalkOptions};
use crate::error::{Location, Result};
use crate::mvcc::buckets;
use crate::mvcc::scan::meta_findings;
use crate::mvcc::schema::show_bytes;
use crate::mvcc::space::{KeyUsage, key_usage};
use crate::report::{Finding, Severity};

/// etcd's defrag commits every this many puts (`defragLimit`,
/// `backend.go`), counted over all buckets.
pub const DEFRAG_LIMIT: u64 = 10_000;

/// Pages a fresh bbolt file holds before etcd's defrag writes anything
/// (`DB.init`: two metas, an empty freelist page and an empty root leaf).
/// The first commit frees pages 2 and 3, so nothing it writes lands there.
pub const FRESH_FILE_PAGES: u64 = 4;

#[derive(Debug, Clone)]
pub struct SpaceOptions {
    /// `/`-separated segments that name a key group (≥ 1).
    pub prefix_depth: usize,
    /// Key groups listed; the rest is summed as "(other)".
    pub top: usize,
    /// Bytes of pages walked so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Also count the live Kubernetes objects ([`SpaceReport::kubernetes`]).
    pub kubernetes: bool,
}

impl Default for SpaceOptions {
    fn default() -> Self {
        SpaceOptions { prefix_depth: 2, top: 20, progress: None, kubernetes: false }
    }
}

/// Every page of the file, by what it holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCounts {
    pub meta: u64,
    /// The persisted freelist page and its overflow pages.
    pub freelist: u64,
    pub branch: u64,
    pub branch_overflow: u64,
    pub leaf: u64,
    pub leaf_overflow: u64,
    /// Listed in a persisted freelist and not reachable.
    pub free: u64,
    /// Neither reachable nor listed as free.
    pub unreachable: u64,
    /// Reachable, but unreadable or of the wrong type (damage).
    pub damaged: u64,
    /// In the file at or above the HWM (unused).
    pub past_hwm: u64,
    /// Below the HWM but past the end of the file (truncated file).
    pub missing: u64,
}

impl PageCounts {
    /// Pages below `min(HWM, pages in the file)`.
    pub fn covered(&self) -> u64 {
        [
            self.meta,
            self.freelist,
            self.branch,
            self.branch_overflow,
            self.leaf,
            self.leaf_overflow,
            self.free,
            self.unreachable,
            self.damaged,
        ]
        .iter()
        .fold(0u64, |a, b| a.saturating_add(*b))
    }
    /// Pages etcd could reuse without growing the file.
    pub fn reusable(&self) -> u64 {
        self.free.saturating_add(self.unreachable)
    }
}

/// File-level numbers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileSpace {
    pub file_size: u64,
    pub page_size: u32,
    /// `fileSize / pageSize`.
    pub pages_in_file: u64,
    /// `fileSize % pageSize` (32: a `snapshot save` SHA-256 trailer).
    pub tail_bytes: u64,
    pub high_water_mark: u64,
    /// `HWM * pageSize`: what `snapshot status` calls totalSize.
    pub logical_size: u64,
    /// Meta page in use (0/1) and its txid.
    pub meta_in_use: u8,
    pub txid: u64,
    /// The freelist is persisted (not etcd on Linux).
    pub freelist_persisted: bool,
    pub pages: PageCounts,
}

/// One top-level bucket.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketSpace {
    pub name: String,
    /// Root page id; 0 for an inline bucket.
    pub root: u64,
    pub stats: BucketStats,
    /// Leaf pages by fill, 10 % bins.
    pub leaf_fill: FillHistogram,
}

/// What etcd's defrag would make of the file.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefragEstimate {
    /// The HWM of the new file.
    pub pages: u64,
    /// `pages * pageSize`: the new file's logical size (what etcd's quota
    /// and `snapshot status` count). bbolt 1.3.6 (etcd 3.4, 3.5.0)
    /// ends the file there; bbolt >= 1.3.7 may grow it further ahead
    /// (FORMATS.md §1.13), which is not estimated.
    pub file_size: u64,
    /// `fileSize` of the input minus `file_size` (negative when the input
    /// is already more compact than etcd's defrag writes).
    pub reclaimable: i64,
    /// Transactions etcd's defrag uses (one per 10 000 puts).
    pub commits: u64,
    /// One commit: the estimate is exact. With more, bbolt moves pages
    /// between commits and the result can be a few pages larger.
    pub exact: bool,
    /// Why no estimate could be made (nested buckets, unreadable order).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SpaceReport {
    /// The bbolt file read.
    pub db_file: std::path::PathBuf,
    pub file: FileSpace,
    /// The root bucket's own pages (it holds the top-level buckets).
    pub root_bucket: BucketStats,
    pub buckets: Vec<BucketSpace>,
    /// Sum over the top-level buckets: what `bbolt stats` prints.
    pub total: BucketStats,
    /// Leaf pages of all buckets by fill.
    pub leaf_fill: FillHistogram,
    /// The `key` bucket by prefix; absent when there is no `key` bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keys: Option<KeyUsage>,
    pub defrag: DefragEstimate,
    /// Damage met (the numbers leave out what could not be read).
    pub findings: Vec<Finding>,
    /// Live Kubernetes objects (with [`SpaceOptions::kubernetes`], when the
    /// `key` bucket holds `/registry/` keys).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubernetes: Option<crate::k8s::summary::K8sSummary>,
}

impl SpaceReport {
    pub fn outcome(&self) -> Outcome {
        let unreadable = self.keys.as_ref().is_some_and(|k| k.unreadable_entries > 0);
        if unreadable || self.findings.iter().any(|f| f.severity == Severity::Damage) {
            Outcome::Damaged
        } else {
            Outcome::Verified
        }
    }
}

/// Pages and key/values of one bucket.
struct SpaceSink<'a> {
    stats: StatsSink,
    kvs: Collect<'a>,
}

impl<'a> Sink<'a> for SpaceSink<'a> {
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], is_bucket: bool, loc: KvLoc) {
        self.kvs.kv(key, value, is_bucket, loc);
    }
    fn fresh(&self) -> Self {
        SpaceSink { stats: self.stats.fresh(), kvs: Collect::default() }
    }
    fn merge(&mut self, later: Self) {
        self.stats.merge(later.stats);
        self.kvs.merge(later.kvs);
    }
    fn page(&mut self, visit: &PageVisit) {
        self.stats.page(visit);
    }
    fn nested(&mut self, child: Self) {
        self.stats.nested(child.stats);
    }
}

fn add_fill(a: &mut FillHistogram, b: &FillHistogram) {
    for (x, y) in a.iter_mut().zip(b) {
        *x = x.saturating_add(*y);
    }
}

/// Run `space` on an opened input.
pub fn space(input: &Input, opts: &SpaceOptions) -> Result<SpaceReport> {
    space_of(input.bytes(), &input.db_path, opts)
}

/// Run `space` on the bytes of a db file; `db_path` names it in the report.
pub fn space_of(data: &[u8], db_path: &std::path::Path, opts: &SpaceOptions) -> Result<SpaceReport> {
    let db = Db::open(data).map_err(|f| f.error.in_file(db_path))?;
    let ps = db.page_size();
    let walked = bolt::walk(&db, WalkOptions { parallel: true, progress: opts.progress.clone() }, |_| SpaceSink {
        stats: StatsSink::new(ps),
        kvs: Collect::default(),
    });

    let mut findings = Vec::new();
    meta_findings(&db, &mut findings);
    findings.extend(walked.findings.iter().map(|t| t.finding.clone()));
    for f in &mut findings {
        f.location = std::mem::take(&mut f.location).with_file(db_path);
    }

    let root_bucket = walked.root.stats.stats();
    let mut total = BucketStats::default();
    let mut leaf_fill = walked.root.stats.leaf_fill();
    let mut all_trees = root_bucket;
    let mut out_buckets = Vec::with_capacity(walked.buckets.len());
    for b in &walked.buckets {
        let stats = b.sink.stats.stats();
        total.add(&stats);
        all_trees.add(&stats);
        add_fill(&mut leaf_fill, &b.sink.stats.leaf_fill());
        out_buckets.push(BucketSpace {
            name: show_bytes(b.name),
            root: b.root,
            stats,
            leaf_fill: b.sink.stats.leaf_fill(),
        });
    }

    let file = file_space(&db, &walked, &all_trees);
    if file.pages.missing > 0 {
        findings.push(
            Finding::damage(
                "bolt.size.truncated",
                Location::at(file.file_size).with_file(db_path),
                format!(
                    "file is truncated: the high-water mark is {} pages, the file has {} ({} missing)",
                    file.high_water_mark, file.pages_in_file, file.pages.missing
                ),
            )
            .meaning("pages past the end of the file are lost")
            .action("find the complete file (an interrupted copy?) or restore from a snapshot"),
        );
    }
    let key_bucket = walked.buckets.iter().find(|b| b.name == buckets::KEY);
    let (keys, kubernetes) = match key_bucket {
        None => (None, None),
        Some(b) if opts.kubernetes => {
            let (usage, k8s) = rayon::join(
                || key_usage(&b.sink.kvs.kvs, opts.prefix_depth, opts.top),
                || crate::k8s::summary::summarize(&b.sink.kvs.kvs),
            );
            (Some(usage), k8s)
        }
        Some(b) => (Some(key_usage(&b.sink.kvs.kvs, opts.prefix_depth, opts.top)), None),
    };
    let defrag = estimate(&db, &walked, file.file_size);
    Ok(SpaceReport {
        db_file: db_path.to_path_buf(),
        file,
        root_bucket,
        buckets: out_buckets,
        total,
        leaf_fill,
        keys,
        defrag,
        findings,
        kubernetes,
    })
}

fn file_space<S>(db: &Db<'_>, walked: &bolt::WalkResult<'_, S>, trees: &BucketStats) -> FileSpace {
    let ps = u64::from(db.page_size());
    let file_size = db.data().len() as u64;
    let pages_in_file = db.pages_in_file();
    let hwm = db.hwm();
    let covered = hwm.min(pages_in_file).max(2);
    let tree_pages = trees.pages();
    let pages = PageCounts {
        meta: 2,
        freelist: walked.freelist_run_pages,
        branch: trees.branch_page_n,
        branch_overflow: trees.branch_overflow_n,
        leaf: trees.leaf_page_n,
        leaf_overflow: trees.leaf_overflow_n,
        free: walked.free_listed_pages,
        unreachable: walked.unreachable_pages,
        damaged: walked
            .reachable_pages
            .saturating_sub(2)
            .saturating_sub(walked.freelist_run_pages)
            .saturating_sub(tree_pages),
        past_hwm: pages_in_file.saturating_sub(covered),
        missing: hwm.saturating_sub(pages_in_file),
    };
    FileSpace {
        file_size,
        page_size: db.page_size(),
        pages_in_file,
        tail_bytes: file_size % ps.max(1),
        high_water_mark: hwm,
        logical_size: db.logical_size(),
        meta_in_use: db.current_meta(),
        txid: db.meta().txid,
        freelist_persisted: db.meta().has_freelist(),
        pages,
    }
}

/// The new file etcd's defrag writes. Our bulk loader's plan gives the
/// pages of every bucket written at FillPercent 0.9 (the root bucket at
/// 0.5), exactly as bbolt splits them; what bbolt adds is the pages that
/// are free at the end, since a page freed by a commit is reused by later
/// commits but not by the commit that freed it (`freelist.release` runs
/// when the next write transaction begins):
///
/// * one commit (≤ [`DEFRAG_LIMIT`] puts): the fresh file's freelist page and
///   empty root leaf (pages 2 and 3 of [`FRESH_FILE_PAGES`]), freed by the
///   first commit: `plan + 2`. Checked equal to `etcdutl defrag` (3.5.1).
/// * more commits: pages 2 and 3 are reused, and the last commit frees the
///   old copies of the nodes it rewrites: the root bucket's tree, and the
///   right edge (one page per level) of each bucket that already had pages
///   before the last commit and gets puts in it. A model: equal to
///   `etcdutl defrag` on 25 000 and 45 000 small revisions, 4 pages short
///   on 10 500 revisions of 5 KB (leaves are 3-page runs there, and the
///   model counts one page per level).
fn estimate<'a>(db: &Db<'a>, walked: &bolt::WalkResult<'a, SpaceSink<'a>>, file_size: u64) -> DefragEstimate {
    let ps = u64::from(db.page_size());
    let puts: u64 = walked.buckets.iter().map(|b| b.sink.kvs.kvs.len() as u64).sum();
    let commits = 1 + puts / (DEFRAG_LIMIT + 1);
    let mut est = DefragEstimate { pages: 0, file_size: 0, reclaimable: 0, commits, exact: false, unavailable: None };
    if let Some(b) = walked.buckets.iter().find(|b| b.sink.kvs.nested > 0) {
        est.unavailable = Some(format!(
            "bucket {} holds nested buckets, which etcd never writes (its defrag would turn them into empty values)",
            show_bytes(b.name)
        ));
        return est;
    }
    let new: Vec<bolt::write::Bucket<'a>> =
        walked.buckets.iter().map(|b| bolt::write::Bucket { name: b.name, entries: b.sink.kvs.kvs.clone() }).collect();
    let wopts = bolt::write::WriteOptions { page_size: db.page_size(), ..Default::default() };
    let plan = match bolt::write::plan(&new, wopts) {
        Ok(plan) => plan,
        Err(e) => {
            est.unavailable = Some(format!("the content cannot be written as bbolt would: {}", e.kind()));
            return est;
        }
    };
    let free_at_end = if commits == 1 {
        FRESH_FILE_PAGES - 2
    } else {
        // defragdb: the put that finds count > DEFRAG_LIMIT starts a new
        // transaction; the first holds DEFRAG_LIMIT puts, the others one more.
        let last_start = DEFRAG_LIMIT + (DEFRAG_LIMIT + 1) * (commits - 2);
        let mut first = 0u64; // puts before this bucket
        let mut spine = plan.root_depth() as u64;
        for p in plan.placements() {
            let end = first.saturating_add(p.entries as u64);
            if first < last_start && end > last_start {
                spine = spine.saturating_add(p.depth as u64);
            }
            first = end;
        }
        spine
    };
    est.pages = plan.hwm().saturating_add(free_at_end);
    est.file_size = est.pages.saturating_mul(ps);
    let signed = |x: u64| i64::try_from(x).unwrap_or(i64::MAX);
    est.reclaimable = signed(file_size).saturating_sub(signed(est.file_size));
    est.exact = commits == 1;
    est
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::bolt::layout::FREELIST_FLAG;
    use crate::bolt::meta::tests::{bucket_header, meta_page};
    use crate::bolt::page::tests::{branch_page, leaf_page};
    use crate::bolt::write::{Bucket, WriteOptions, write_db};
    use crate::mvcc::index::tests::History;

    fn run(f: &[u8]) -> SpaceReport {
        space_of(f, Path::new("test.db"), &SpaceOptions::default()).unwrap()
    }

    /// A persisted freelist: every kind of page once, by hand.
    /// 0,1 metas; 2 root leaf; 3 branch; 4, 5 leaves (5 with one overflow
    /// page 6); 7 freelist listing 8 and 9; 10 neither used nor listed;
    /// HWM 11; then 2 pages past the HWM and a 100-byte tail.
    #[test]
    fn every_page_kind_of_a_crafted_file() {
        const PS: usize = 512;
        let big = vec![b'x'; 600];
        let mut leaf5 = leaf_page(5, 2 * PS, &[(b"m", &big, 0)]);
        leaf5[12..16].copy_from_slice(&1u32.to_le_bytes());
        let mut fl = vec![0u8; PS];
        fl[0..8].copy_from_slice(&7u64.to_le_bytes());
        fl[8..10].copy_from_slice(&FREELIST_FLAG.to_le_bytes());
        fl[10..12].copy_from_slice(&2u16.to_le_bytes());
        fl[16..24].copy_from_slice(&8u64.to_le_bytes());
        fl[24..32].copy_from_slice(&9u64.to_le_bytes());
        let mut f = meta_page(0, PS as u32, 2, 7, 11, 4);
        f.extend(meta_page(1, PS as u32, 2, 7, 11, 5));
        f.extend(leaf_page(2, PS, &[(b"b", &bucket_header(3), 1)]));
        f.extend(branch_page(3, PS, &[(b"a", 4), (b"m", 5)]));
        f.extend(leaf_page(4, PS, &[(b"a", b"1", 0)]));
        f.extend(leaf5);
        f.extend(fl);
        f.resize(f.len() + 5 * PS + 100, 0);
        let r = run(&f);
        assert!(r.findings.iter().any(|x| x.code == "bolt.freelist.unreachable_unfreed"), "page 10");
        assert_eq!(r.outcome(), Outcome::Damaged);
        let p = r.file.pages;
        assert_eq!(
            p,
            PageCounts {
                meta: 2,
                freelist: 1,
                branch: 1,
                branch_overflow: 0,
                leaf: 3,
                leaf_overflow: 1,
                free: 2,
                unreachable: 1,
                damaged: 0,
                past_hwm: 2,
                missing: 0,
            }
        );
        assert_eq!(p.covered(), 11);
        assert_eq!((r.file.pages_in_file, r.file.tail_bytes, r.file.high_water_mark), (13, 100, 11));
        assert!(r.file.freelist_persisted);
        let b = &r.buckets[0].stats;
        assert_eq!((b.branch_page_n, b.leaf_page_n, b.leaf_overflow_n, b.key_n, b.depth), (1, 2, 1, 2, 2));
        assert_eq!(b.leaf_alloc, 3 * PS as u64);
        assert_eq!(b.leaf_inuse, (16 + 16 + 2) + (16 + 16 + 1 + 600));
        assert_eq!(r.root_bucket.leaf_page_n, 1);
        assert_eq!(r.total, *b);
        // no key bucket: no key usage; the estimate: the plan (metas, one
        // leaf page of "b", root leaf) + 2 pages of a fresh file
        assert!(r.keys.is_none());
        assert_eq!((r.defrag.pages, r.defrag.commits, r.defrag.exact), (5 + 2, 1, true));
        assert_eq!(r.defrag.reclaimable, f.len() as i64 - 7 * PS as i64);
    }

    /// A file from our writer: exactly the plan's pages, every number known.
    #[test]
    fn a_written_etcd_db() {
        let mut h = History::default();
        for i in 0..400i64 {
            h.put(2 + i, 0, &format!("/registry/pods/p{}", i % 50), &"v".repeat(60));
        }
        h.del(500, 0, "/registry/pods/p0").put(501, 0, "/registry/leases/l", "x");
        let entries: Vec<(&[u8], &[u8])> = h.entries.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
        let meta: Vec<(&[u8], &[u8])> = vec![(b"consistent_index", &[0, 0, 0, 0, 0, 0, 0, 9])];
        let buckets = vec![Bucket { name: b"key", entries: entries.clone() }, Bucket { name: b"meta", entries: meta }];
        let opts = WriteOptions { page_size: 4096, fill_percent: 0.9 };
        let plan = bolt::write::plan(&buckets, opts).unwrap();
        let mut f = Vec::new();
        write_db(&buckets, opts, &mut f).unwrap();
        let r = run(&f);
        assert!(r.findings.is_empty());
        assert_eq!(r.outcome(), Outcome::Verified);
        let p = r.file.pages;
        assert_eq!(p.covered(), plan.hwm());
        assert_eq!((p.unreachable, p.free, p.past_hwm, p.freelist), (0, 0, 0, 0));
        let key = &r.buckets[0];
        assert_eq!(key.stats.pages(), plan.placements()[0].pages);
        assert_eq!(key.stats.depth, plan.placements()[0].depth as u64);
        assert_eq!(key.stats.key_n, 402);
        // the file is already compact: etcd's defrag would add its 2 pages
        assert_eq!(r.defrag.pages, plan.hwm() + 2);
        assert_eq!(r.defrag.reclaimable, -2 * 4096);
        let k = r.keys.unwrap();
        assert_eq!(k.groups.len(), 2);
        let pods = &k.groups[0];
        assert_eq!(pods.prefix, "/registry/pods");
        assert_eq!((pods.keys, pods.live_keys, pods.revisions, pods.max_revisions), (50, 49, 401, 9));
        assert_eq!(pods.max_revisions_key, "/registry/pods/p0", "8 puts + 1 tombstone");
        let entry = |i: usize| crate::mvcc::space::entry_bytes(entries[i].0, entries[i].1);
        // current: the newest put of p1..p49 (entries 351..399)
        assert_eq!(pods.current_bytes, (351..400).map(entry).sum::<u64>());
        assert_eq!(pods.tombstone_bytes, entry(400));
        assert_eq!(k.total.total_bytes + 16 * key.stats.leaf_page_n, key.stats.leaf_inuse);
    }

    /// Meta pages that disagree on the page size (found by fuzzing:
    /// space counted two meta pages in a file that, read with the chosen
    /// meta's page size, held none). bbolt addresses pages with the page
    /// size `getPageSize` found, never the chosen meta's field; so do we,
    /// every page of the file is counted once, and the mismatch is damage.
    #[test]
    fn metas_that_disagree_on_the_page_size() {
        use crate::bolt::layout::NO_FREELIST;
        const PS: usize = 4096;
        // meta 0: 4096, txid 2; meta 1 (newer, chosen): claims 65536
        let mut f = meta_page(0, PS as u32, 2, NO_FREELIST, 3, 2);
        let mut m1 = meta_page(1, 65536, 2, NO_FREELIST, 3, 3);
        m1.truncate(PS);
        f.extend(m1);
        f.extend(leaf_page(2, PS, &[]));
        let r = run(&f);
        assert_eq!(r.file.page_size, 4096);
        assert_eq!(r.file.meta_in_use, 1);
        assert_eq!(r.file.pages_in_file, 3);
        assert_eq!(r.file.pages.covered() + r.file.pages.past_hwm, 3, "{:?}", r.file.pages);
        let scan = crate::mvcc::scan_db(&f, crate::mvcc::ScanOptions::default());
        assert!(scan.findings.iter().any(|x| x.code == "bolt.meta.page_size"), "{:?}", scan.findings);
        // meta 0 unreadable: bbolt's probe takes meta 1's 65536 and then
        // finds the file too small for two such pages; so do we
        f[72] ^= 1;
        let err = space_of(&f, Path::new("t.db"), &SpaceOptions::default()).unwrap_err();
        assert!(err.to_string().contains("file size too small"), "{err}");
    }
}
