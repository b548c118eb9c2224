//! bbolt's `Bucket.Stats()` (`bucket.go`, same in 1.3.6 and main), computed
//! from one walk of the file instead of a transaction.
//!
//! For every page of a bucket's tree (`forEachPage`, depth 0 at the root):
//!
//! * leaf page: `KeyN += count`; in use = header + element headers + the
//!   payloads up to the end of the last element ([`Page::bbolt_in_use`]).
//!   For an inline bucket that goes to `InlineBucketInuse` only (its page
//!   lives inside the parent's leaf, so it allocates nothing); otherwise
//!   `LeafPageN += 1`, `LeafInuse += used`, `LeafOverflowN += overflow`;
//! * branch page: `BranchPageN += 1`, `BranchInuse += used`,
//!   `BranchOverflowN += overflow`;
//! * `Depth` = deepest page depth + 1.
//!
//! Then `BranchAlloc = (BranchPageN + BranchOverflowN) * pageSize`,
//! `LeafAlloc = (LeafPageN + LeafOverflowN) * pageSize`, `BucketN = 1`,
//! `InlineBucketN = 1` for an inline bucket; nested buckets' stats are added
//! (`Add`: sums, `Depth` the maximum) and the deepest nested bucket's depth
//! is added to this bucket's `Depth`.
//!
//! `bbolt stats` prints the sum (`Add`) over the top-level buckets.
//!
//! [`Page::bbolt_in_use`]: super::page::Page::bbolt_in_use

use serde::Serialize;

use super::walk::{KvLoc, PageVisit, Sink};

/// bbolt's `BucketStats`, field for field (camelCase of the Go names in JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketStats {
    /// Logical branch pages (a run with overflow counts once).
    pub branch_page_n: u64,
    /// Additional pages of branch runs.
    pub branch_overflow_n: u64,
    /// Logical leaf pages (inline buckets have none).
    pub leaf_page_n: u64,
    /// Additional pages of leaf runs (large values).
    pub leaf_overflow_n: u64,
    /// Leaf elements: key/value pairs, nested-bucket entries included.
    pub key_n: u64,
    /// Levels of the B+tree (1: a single leaf), plus nested buckets' depth.
    pub depth: u64,
    /// `(BranchPageN + BranchOverflowN) * pageSize`.
    pub branch_alloc: u64,
    /// Bytes of branch pages holding data.
    pub branch_inuse: u64,
    /// `(LeafPageN + LeafOverflowN) * pageSize`.
    pub leaf_alloc: u64,
    /// Bytes of leaf pages holding data.
    pub leaf_inuse: u64,
    /// Buckets, this one included.
    pub bucket_n: u64,
    /// Inline buckets (stored in the parent's leaf).
    pub inline_bucket_n: u64,
    /// Bytes of inline buckets' fake leaf pages.
    pub inline_bucket_inuse: u64,
}

impl BucketStats {
    /// bbolt's `BucketStats.Add`: sums, except `Depth` (the maximum).
    pub fn add(&mut self, o: &BucketStats) {
        self.branch_page_n = self.branch_page_n.saturating_add(o.branch_page_n);
        self.branch_overflow_n = self.branch_overflow_n.saturating_add(o.branch_overflow_n);
        self.leaf_page_n = self.leaf_page_n.saturating_add(o.leaf_page_n);
        self.leaf_overflow_n = self.leaf_overflow_n.saturating_add(o.leaf_overflow_n);
        self.key_n = self.key_n.saturating_add(o.key_n);
        self.depth = self.depth.max(o.depth);
        self.branch_alloc = self.branch_alloc.saturating_add(o.branch_alloc);
        self.branch_inuse = self.branch_inuse.saturating_add(o.branch_inuse);
        self.leaf_alloc = self.leaf_alloc.saturating_add(o.leaf_alloc);
        self.leaf_inuse = self.leaf_inuse.saturating_add(o.leaf_inuse);
        self.bucket_n = self.bucket_n.saturating_add(o.bucket_n);
        self.inline_bucket_n = self.inline_bucket_n.saturating_add(o.inline_bucket_n);
        self.inline_bucket_inuse = self.inline_bucket_inuse.saturating_add(o.inline_bucket_inuse);
    }

    /// Pages of this bucket's trees (nested included): branch and leaf
    /// pages with their overflow pages.
    pub fn pages(&self) -> u64 {
        self.branch_page_n
            .saturating_add(self.branch_overflow_n)
            .saturating_add(self.leaf_page_n)
            .saturating_add(self.leaf_overflow_n)
    }
}

/// Leaf pages by fill: bin `i` counts pages whose in-use bytes are
/// `[10*i, 10*(i+1))` % of their run (the last bin includes 100 % and
/// anything a damaged page claims above it). Inline buckets are not pages.
pub type FillHistogram = [u64; 10];

/// Collects [`BucketStats`] from the pages the walker reports.
#[derive(Debug, Clone, Default)]
pub struct StatsSink {
    page_size: u64,
    /// This bucket's pages only (no allocation yet).
    own: BucketStats,
    /// The inline page was seen: this is an inline bucket.
    inline: bool,
    /// Nested buckets, summed (`subStats` in bbolt).
    sub: BucketStats,
    leaf_fill: FillHistogram,
}

impl StatsSink {
    pub fn new(page_size: u32) -> StatsSink {
        StatsSink { page_size: u64::from(page_size), ..StatsSink::default() }
    }

    /// The bucket's `Stats()`.
    pub fn stats(&self) -> BucketStats {
        let mut s = self.own;
        s.bucket_n = 1;
        s.inline_bucket_n = u64::from(self.inline);
        s.branch_alloc = s.branch_page_n.saturating_add(s.branch_overflow_n).saturating_mul(self.page_size);
        s.leaf_alloc = s.leaf_page_n.saturating_add(s.leaf_overflow_n).saturating_mul(self.page_size);
        s.depth = s.depth.saturating_add(self.sub.depth);
        s.add(&self.sub);
        s
    }

    /// Leaf pages by fill (nested buckets' included).
    pub fn leaf_fill(&self) -> FillHistogram {
        self.leaf_fill
    }
}

impl<'a> Sink<'a> for StatsSink {
    fn kv(&mut self, _: &'a [u8], _: &'a [u8], _: bool, _: KvLoc) {}

    fn fresh(&self) -> Self {
        StatsSink { page_size: self.page_size, ..StatsSink::default() }
    }

    fn merge(&mut self, later: Self) {
        // Only pages of one bucket arrive here, so depth is a maximum and
        // everything else a sum: exactly `Add`.
        self.own.add(&later.own);
        self.inline |= later.inline;
        self.sub.add(&later.sub);
        for (a, b) in self.leaf_fill.iter_mut().zip(later.leaf_fill) {
            *a = a.saturating_add(b);
        }
    }

    fn page(&mut self, v: &PageVisit) {
        let s = &mut self.own;
        s.depth = s.depth.max((v.depth as u64).saturating_add(1));
        if !v.is_leaf {
            s.branch_page_n = s.branch_page_n.saturating_add(1);
            s.branch_inuse = s.branch_inuse.saturating_add(v.in_use);
            s.branch_overflow_n = s.branch_overflow_n.saturating_add(u64::from(v.overflow));
            return;
        }
        s.key_n = s.key_n.saturating_add(u64::from(v.count));
        if v.inline {
            self.inline = true;
            s.inline_bucket_inuse = s.inline_bucket_inuse.saturating_add(v.in_use);
            return;
        }
        s.leaf_page_n = s.leaf_page_n.saturating_add(1);
        s.leaf_inuse = s.leaf_inuse.saturating_add(v.in_use);
        s.leaf_overflow_n = s.leaf_overflow_n.saturating_add(u64::from(v.overflow));
        let alloc = u64::from(v.overflow).saturating_add(1).saturating_mul(self.page_size).max(1);
        let bin = v.in_use.saturating_mul(10) / alloc;
        let bin = usize::try_from(bin).unwrap_or(usize::MAX).min(self.leaf_fill.len().saturating_sub(1));
        if let Some(b) = self.leaf_fill.get_mut(bin) {
            *b = b.saturating_add(1);
        }
    }

    fn nested(&mut self, child: Self) {
        self.sub.add(&child.stats());
        for (a, b) in self.leaf_fill.iter_mut().zip(child.leaf_fill) {
            *a = a.saturating_add(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::db::Db;
    use super::super::layout::BUCKET_LEAF_FLAG;
    use super::super::meta::tests::{bucket_header, small_file};
    use super::super::page::tests::{branch_page, leaf_page};
    use super::super::walk::{WalkOptions, walk};
    use super::super::write::{self, Bucket, WriteOptions};
    use super::*;

    const PS: usize = 512;

    fn stats_of(f: &[u8], parallel: bool) -> (Vec<(Vec<u8>, BucketStats, FillHistogram)>, BucketStats) {
        let db = Db::open(f).unwrap();
        let ps = db.page_size();
        let r = walk(&db, WalkOptions { parallel, progress: None }, |_| StatsSink::new(ps));
        assert!(r.findings.is_empty(), "{:?}", r.findings);
        let per = r.buckets.iter().map(|b| (b.name.to_vec(), b.sink.stats(), b.sink.leaf_fill())).collect();
        (per, r.root.stats())
    }

    /// root leaf (page 2): bucket "b" (root page 3), inline bucket "i",
    /// bucket "n" (root page 6) holding a nested inline bucket "x".
    /// "b": branch 3 -> leaves 4, 5.
    fn crafted() -> Vec<u8> {
        let inner = leaf_page(0, 16 + 16 + 3, &[(b"k", b"vv", 0)]);
        let mut inline = bucket_header(0);
        inline.extend(&inner);
        let n_root = leaf_page(6, PS, &[(b"q", b"1", 0), (b"x", &inline, BUCKET_LEAF_FLAG)]);
        small_file(
            PS as u32,
            2,
            vec![
                leaf_page(
                    2,
                    PS,
                    &[
                        (b"b", &bucket_header(3), BUCKET_LEAF_FLAG),
                        (b"i", &inline, BUCKET_LEAF_FLAG),
                        (b"n", &bucket_header(6), BUCKET_LEAF_FLAG),
                    ],
                ),
                branch_page(3, PS, &[(b"a", 4), (b"m", 5)]),
                leaf_page(4, PS, &[(b"a", b"1", 0), (b"c", b"22", 0)]),
                leaf_page(5, PS, &[(b"m", b"3", 0), (b"z", b"4", 0), (b"zz", b"55", 0)]),
                n_root,
            ],
        )
    }

    #[test]
    fn every_number_of_a_crafted_file() {
        let f = crafted();
        for parallel in [false, true] {
            let (per, root) = stats_of(&f, parallel);
            let names: Vec<&[u8]> = per.iter().map(|(n, _, _)| n.as_slice()).collect();
            assert_eq!(names, [&b"b"[..], b"i", b"n"]);
            // "b": branch 16 + 2*16 + "a" + "m"; leaves 16 + 2*16 + "a1c22" and 16 + 3*16 + "m3z4zz55"
            assert_eq!(
                per[0].1,
                BucketStats {
                    branch_page_n: 1,
                    branch_overflow_n: 0,
                    leaf_page_n: 2,
                    leaf_overflow_n: 0,
                    key_n: 5,
                    depth: 2,
                    branch_alloc: 512,
                    branch_inuse: 50,
                    leaf_alloc: 1024,
                    leaf_inuse: (48 + 5) + (64 + 8),
                    bucket_n: 1,
                    inline_bucket_n: 0,
                    inline_bucket_inuse: 0,
                }
            );
            // leaf fills 53/512 and 72/512: both in the 10..20 % bin
            assert_eq!(per[0].2, [0, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
            // "i": inline, one key, no pages: 16 + 16 + "kvv"
            assert_eq!(
                per[1].1,
                BucketStats {
                    key_n: 1,
                    depth: 1,
                    bucket_n: 1,
                    inline_bucket_n: 1,
                    inline_bucket_inuse: 35,
                    ..Default::default()
                }
            );
            assert_eq!(per[1].2, [0; 10]);
            // "n": one leaf (2 keys: "q" and the nested bucket "x") + nested inline "x"
            // header + 2 elements + "q" "1" "x" + the inline value (16 + 35)
            let n_leaf = 16 + 2 * 16 + 3 + (16 + 35);
            assert_eq!(
                per[2].1,
                BucketStats {
                    leaf_page_n: 1,
                    key_n: 2 + 1,
                    depth: 1 + 1,
                    leaf_alloc: 512,
                    leaf_inuse: n_leaf,
                    bucket_n: 2,
                    inline_bucket_n: 1,
                    inline_bucket_inuse: 35,
                    ..Default::default()
                }
            );
            // The root bucket's own tree: one leaf with three entries.
            assert_eq!((root.leaf_page_n, root.key_n, root.depth, root.bucket_n), (1, 3, 1, 1));
        }
    }

    /// Expected stats of a paged bucket computed straight from its pages,
    /// independently of the walker: depth-first from the root.
    fn by_hand(f: &[u8], root: u64) -> BucketStats {
        let db = Db::open(f).unwrap();
        let ps = u64::from(db.page_size());
        let mut s = BucketStats { bucket_n: 1, ..Default::default() };
        let mut stack = vec![(root, 0u64)];
        while let Some((id, depth)) = stack.pop() {
            let p = db.page(id).unwrap();
            s.depth = s.depth.max(depth + 1);
            let (n, ov) = (u64::from(p.count), u64::from(p.overflow));
            let start = p.bytes.as_slice().as_ptr() as usize;
            if p.is_leaf() {
                // in use = where the last element's value ends
                let last = p.leaf(p.count as usize - 1).unwrap();
                let pos_end = (last.value.as_ptr() as usize - start + last.value.len()) as u64;
                s.key_n += n;
                s.leaf_page_n += 1;
                s.leaf_overflow_n += ov;
                s.leaf_inuse += pos_end;
            } else {
                let last = p.branch(p.count as usize - 1).unwrap();
                let off = last.key.as_ptr() as usize - start;
                s.branch_page_n += 1;
                s.branch_overflow_n += ov;
                s.branch_inuse += (off + last.key.len()) as u64;
                for i in 0..p.count as usize {
                    stack.push((p.branch(i).unwrap().child, depth + 1));
                }
            }
        }
        s.branch_alloc = (s.branch_page_n + s.branch_overflow_n) * ps;
        s.leaf_alloc = (s.leaf_page_n + s.leaf_overflow_n) * ps;
        s
    }

    #[test]
    fn written_trees_with_overflow_match_a_page_by_page_count() {
        let keys: Vec<Vec<u8>> = (0..3000u32).map(|i| format!("key{i:06}").into_bytes()).collect();
        let big = vec![7u8; 9000];
        let small = [1u8; 60];
        let entries: Vec<(&[u8], &[u8])> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (k.as_slice(), if i % 500 == 7 { &big[..] } else { &small[..] }))
            .collect();
        let buckets = vec![Bucket { name: b"big", entries }, Bucket { name: b"small", entries: vec![(b"a", b"b")] }];
        let mut f = Vec::new();
        write::write_db(&buckets, WriteOptions { page_size: 4096, fill_percent: 0.9 }, &mut f).unwrap();
        let db = Db::open(&f).unwrap();
        let r = walk(&db, WalkOptions::default(), |_| crate::bolt::Collect::default());
        let big_root = r.buckets[0].root;
        let (per, _) = stats_of(&f, true);
        let want = by_hand(&f, big_root);
        assert_eq!(per[0].1, want);
        assert!(want.depth >= 2 && want.leaf_overflow_n >= 6, "{want:?}");
        assert_eq!(want.key_n, 3000);
        assert_eq!(per[1].1.inline_bucket_n, 1);
        assert_eq!(per[0].2.iter().sum::<u64>(), want.leaf_page_n);
    }
}
