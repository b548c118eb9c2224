//! Writing a fresh, compact bbolt file from ordered buckets (bulk load).
//!
//! What we write is what bbolt itself would write if every bucket were
//! created and filled in one transaction of a fresh database, the way etcd's
//! defrag refills a file (`backend.defragdb`, bucket `FillPercent` 0.9):
//!
//! ```text
//! page 0   meta, txid 0  ┐ both metas point at the same tree (root, HWM);
//! page 1   meta, txid 1  ┘ freelist = u64::MAX (not persisted, etcd on Linux)
//! page 2.. bucket 1: leaves, then each branch level bottom-up (root last)
//!          bucket 2: ...            (buckets small enough are inline: no pages)
//!          root bucket: leaf (and branches) holding one entry per bucket
//! HWM      = one past the last page; the file is exactly HWM * pageSize bytes
//! ```
//!
//! Rules mirrored from bbolt 1.3.6 (`node.go` `spill`/`split`/`splitTwo`/
//! `splitIndex`/`write`, `bucket.go` `inlineable`/`write`), FORMATS.md §1.6,
//! §1.7, §1.17:
//!
//! * a node (all elements of one tree level, as bbolt holds them in memory
//!   before commit) is split when it has more than 4 elements and its size
//!   (`16 + Σ(16 + key + value)`) is not below the page size; each split
//!   takes elements while the running size stays within
//!   `pageSize * fillPercent` (at least 2 per node, at least 2 left over),
//!   exactly as `splitIndex` counts;
//! * a node that still does not fit one page is written over
//!   `ceil(size / pageSize)` contiguous pages (`overflow` = extra pages);
//! * each branch element names a child by the child's first key;
//! * a bucket is written inline (value = 16-byte header with root 0 + a
//!   fake leaf page) iff its elements fit `pageSize / 4` bytes
//!   (`inlineable`); otherwise its value is the 16-byte header with its root
//!   page id; sequences are 0 (as after defrag);
//! * the root bucket uses bbolt's default fill percent 0.5;
//! * payloads follow the element array back to back in element order;
//!   unused page bytes are zero.
//!
//! Two passes, as STYLE.md §3 asks: [`plan`] assigns every page id from the
//! sizes alone; [`Plan::emit`] then writes pages in id order to any
//! `io::Write`, one node at a time, so memory stays at one node's pages plus
//! the plan (a few words per page).
//!
//! Invariants checked before anything is written: bucket names and keys are
//! non-empty, strictly increasing and within bbolt's limits (key ≤ 32768
//! bytes, value ≤ 2^31 − 2 bytes); no node gets 0xFFFF elements or more.

use std::io::Write;

use super::layout::*;
use super::meta::fnv1a64;
use crate::error::{Error, ErrorKind, Location, Result};

/// bbolt's `MaxValueSize`.
pub const MAX_VALUE_SIZE: usize = (1 << 31) - 2;
/// bbolt's `minKeysPerPage`.
const MIN_KEYS_PER_PAGE: usize = 2;
/// etcd's defrag fill percent (`backend.defragdb`: `FillPercent = 0.9`).
pub const DEFRAG_FILL_PERCENT: f64 = 0.9;
/// bbolt's `DefaultFillPercent`, used for the root bucket.
pub const DEFAULT_FILL_PERCENT: f64 = 0.5;

/// One top-level bucket: its name and its key/values in key order.
#[derive(Debug, Clone, Default)]
pub struct Bucket<'a> {
    pub name: &'a [u8],
    pub entries: Vec<(&'a [u8], &'a [u8])>,
}

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// 4096 for every etcd file on x86-64/arm64.
    pub page_size: u32,
    /// Fill percent of every top-level bucket (clamped to 0.1..=1.0 as bbolt does).
    pub fill_percent: f64,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions { page_size: 4096, fill_percent: DEFRAG_FILL_PERCENT }
    }
}

/// One node of a tree: a run of elements of its level, and its pages.
#[derive(Debug, Clone, Copy)]
struct NodePlan {
    /// Element range in the level below's node list (branch) or in the
    /// entries (leaf).
    start: usize,
    end: usize,
    /// Index in the leaf entries of this node's first key.
    first: usize,
    pgid: u64,
    pages: u64,
}

/// All levels of one paged tree; `levels[0]` are the leaves, the last
/// level has exactly one node: the root.
#[derive(Debug, Clone, Default)]
struct TreePlan {
    levels: Vec<Vec<NodePlan>>,
}

impl TreePlan {
    fn root(&self) -> u64 {
        self.levels.last().and_then(|l| l.first()).map_or(0, |n| n.pgid)
    }
    fn pages(&self) -> u64 {
        self.levels.iter().flatten().map(|n| n.pages).sum()
    }
}

/// Where one bucket went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketPlacement {
    pub name: Vec<u8>,
    /// Root page id; 0 for an inline bucket.
    pub root: u64,
    /// Pages used (0 for inline).
    pub pages: u64,
    pub entries: usize,
    /// Levels of its tree (1: a single leaf); 0 for inline.
    pub depth: usize,
}

/// Pass 1: every page id assigned. Borrowed buckets are kept for pass 2.
#[derive(Debug, Clone)]
pub struct Plan<'b, 'a> {
    buckets: &'b [Bucket<'a>],
    opts: WriteOptions,
    /// Per bucket: `Some(tree)` when paged, `None` when inline.
    trees: Vec<Option<TreePlan>>,
    /// The root bucket's values (bucket headers, with inline pages).
    root_values: Vec<Vec<u8>>,
    root_tree: TreePlan,
    hwm: u64,
}

fn bad(msg: impl Into<String>) -> Error {
    Error::new(ErrorKind::Malformed(msg.into()), Location::default())
}

fn show(b: &[u8]) -> String {
    super::walk::hex(b)
}

/// Clamp as bbolt's `splitTwo` does.
fn threshold(page_size: usize, fill: f64) -> usize {
    let fill = if fill.is_nan() { DEFAULT_FILL_PERCENT } else { fill.clamp(0.1, 1.0) };
    // Go: int(float64(pageSize) * fillPercent), truncating.
    (page_size as f64 * fill) as usize
}

/// Split elements `0..sizes.len()` (each `sizes[i]` = element header +
/// key + value bytes) into nodes, as bbolt's `split` does on one node.
fn split(sizes: &[usize], page_size: usize, fill: f64) -> Vec<std::ops::Range<usize>> {
    let thr = threshold(page_size, fill);
    let mut out = Vec::new();
    let mut start = 0usize;
    let n = sizes.len();
    loop {
        let rest = sizes.get(start..).unwrap_or_default();
        let fits = rest.iter().try_fold(PAGE_HEADER_SIZE, |sz, &e| {
            let sz = sz.saturating_add(e);
            if sz >= page_size { None } else { Some(sz) }
        });
        if rest.len() <= MIN_KEYS_PER_PAGE * 2 || fits.is_some() {
            out.push(start..n);
            return out;
        }
        // splitIndex: loop i in 0..len-minKeys; break when i >= minKeys and
        // the element would cross the threshold; index = last i visited.
        let mut index = 0usize;
        let mut sz = PAGE_HEADER_SIZE;
        for (i, &el) in rest.iter().enumerate().take(rest.len() - MIN_KEYS_PER_PAGE) {
            index = i;
            if i >= MIN_KEYS_PER_PAGE && sz.saturating_add(el) > thr {
                break;
            }
            sz = sz.saturating_add(el);
        }
        out.push(start..start + index);
        start += index;
    }
}

fn node_size(sizes: &[usize]) -> usize {
    sizes.iter().fold(PAGE_HEADER_SIZE, |a, &b| a.saturating_add(b))
}

/// Plan one paged tree over `n` leaf elements.
fn plan_tree(
    leaf_sizes: &[usize],
    key_len: impl Fn(usize) -> usize,
    next_pgid: &mut u64,
    page_size: usize,
    fill: f64,
) -> Result<TreePlan> {
    let ps = page_size as u64;
    let mut plan = TreePlan::default();
    let make_level = |sizes: &[usize], firsts: &dyn Fn(usize) -> usize, next_pgid: &mut u64| -> Result<Vec<NodePlan>> {
        let mut level = Vec::new();
        for r in split(sizes, page_size, fill) {
            if r.len() >= MAX_ELEMENTS {
                return Err(bad(format!(
                    "a page would hold {} elements; bbolt allows at most {}",
                    r.len(),
                    MAX_ELEMENTS - 1
                )));
            }
            let size = node_size(sizes.get(r.clone()).unwrap_or_default()) as u64;
            let pages = size.div_ceil(ps).max(1);
            let first = if r.is_empty() { 0 } else { firsts(r.start) };
            level.push(NodePlan { start: r.start, end: r.end, first, pgid: *next_pgid, pages });
            *next_pgid = next_pgid.checked_add(pages).ok_or_else(|| bad("page ids overflow"))?;
        }
        Ok(level)
    };
    let leaves = make_level(leaf_sizes, &|i| i, next_pgid)?;
    plan.levels.push(leaves);
    while plan.levels.last().is_some_and(|l| l.len() > 1) {
        let below = plan.levels.last().cloned().unwrap_or_default();
        let sizes: Vec<usize> = below.iter().map(|c| BRANCH_ELEMENT_SIZE + key_len(c.first)).collect();
        let level = make_level(&sizes, &|i| below.get(i).map_or(0, |c| c.first), next_pgid)?;
        plan.levels.push(level);
    }
    Ok(plan)
}

fn leaf_elem_size(k: &[u8], v: &[u8]) -> usize {
    LEAF_ELEMENT_SIZE + k.len() + v.len()
}

fn check_sorted<'a>(what: &str, keys: impl Iterator<Item = &'a [u8]>) -> Result<()> {
    let mut prev: Option<&[u8]> = None;
    for k in keys {
        if k.is_empty() {
            return Err(bad(format!("{what}: zero-length key (bbolt forbids it)")));
        }
        if k.len() > MAX_KEY_SIZE {
            return Err(bad(format!("{what}: key of {} bytes exceeds bbolt's limit {MAX_KEY_SIZE}", k.len())));
        }
        if let Some(p) = prev {
            if p >= k {
                return Err(bad(format!(
                    "{what}: keys not strictly increasing: (hex){} then (hex){}",
                    show(p),
                    show(k)
                )));
            }
        }
        prev = Some(k);
    }
    Ok(())
}

/// Pass 1: validate the input and assign every page.
pub fn plan<'b, 'a>(buckets: &'b [Bucket<'a>], opts: WriteOptions) -> Result<Plan<'b, 'a>> {
    let ps = opts.page_size as usize;
    if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&opts.page_size) || !opts.page_size.is_power_of_two() {
        return Err(bad(format!(
            "page size {} is not a power of two in {MIN_PAGE_SIZE}..={MAX_PAGE_SIZE}",
            opts.page_size
        )));
    }
    check_sorted("bucket names", buckets.iter().map(|b| b.name))?;
    let mut next_pgid = 2u64;
    let mut trees = Vec::with_capacity(buckets.len());
    let mut root_values = Vec::with_capacity(buckets.len());
    for b in buckets {
        let what = format!("bucket {}", String::from_utf8_lossy(b.name));
        check_sorted(&what, b.entries.iter().map(|(k, _)| *k))?;
        if let Some((k, v)) = b.entries.iter().find(|(_, v)| v.len() > MAX_VALUE_SIZE) {
            return Err(bad(format!("{what}: value of {} bytes under key (hex){} is too large", v.len(), show(k))));
        }
        let sizes: Vec<usize> = b.entries.iter().map(|(k, v)| leaf_elem_size(k, v)).collect();
        let inline_size = node_size(&sizes);
        if inline_size <= ps / 4 {
            // bucket.go `inlineable` + `write`: header (root 0, seq 0) + fake leaf page.
            let mut value = vec![0u8; BUCKET_HEADER_SIZE + inline_size];
            let page = value.get_mut(BUCKET_HEADER_SIZE..).unwrap_or_default();
            write_node(page, 0, true, b.entries.len(), |i| b.entries.get(i).map(|(k, v)| (0, *k, *v)))?;
            trees.push(None);
            root_values.push(value);
        } else {
            let tree = plan_tree(
                &sizes,
                |i| b.entries.get(i).map_or(0, |(k, _)| k.len()),
                &mut next_pgid,
                ps,
                opts.fill_percent,
            )?;
            let mut value = vec![0u8; BUCKET_HEADER_SIZE];
            put(&mut value, 0, &tree.root().to_le_bytes())?;
            trees.push(Some(tree));
            root_values.push(value);
        }
    }
    let root_sizes: Vec<usize> = buckets.iter().zip(&root_values).map(|(b, v)| leaf_elem_size(b.name, v)).collect();
    let root_tree = plan_tree(
        &root_sizes,
        |i| buckets.get(i).map_or(0, |b| b.name.len()),
        &mut next_pgid,
        ps,
        DEFAULT_FILL_PERCENT,
    )?;
    Ok(Plan { buckets, opts, trees, root_values, root_tree, hwm: next_pgid })
}

/// Copy `bytes` into `buf` at `off`, bounds-checked.
fn put(buf: &mut [u8], off: usize, bytes: &[u8]) -> Result<()> {
    let end = off.checked_add(bytes.len()).ok_or_else(|| bad("offset overflow"))?;
    buf.get_mut(off..end)
        .ok_or_else(|| bad(format!("write of {} bytes at {off} runs past a {}-byte page buffer", bytes.len(), end)))?
        .copy_from_slice(bytes);
    Ok(())
}

fn u32_of(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| bad(format!("{what} {n} does not fit in 32 bits")))
}

/// Write one node into `page` (header at 0): `node.write` in bbolt.
/// `elem(i)` gives (flags, key, value) for leaves, or (pgid as flags-less
/// branch: value = 8-byte LE child pgid) for branches.
fn write_node<'x>(
    page: &mut [u8],
    id: u64,
    is_leaf: bool,
    count: usize,
    elem: impl Fn(usize) -> Option<(u32, &'x [u8], &'x [u8])>,
) -> Result<()> {
    let count16 = u16::try_from(count).ok().filter(|&c| usize::from(c) < MAX_ELEMENTS);
    let count16 = count16.ok_or_else(|| bad(format!("{count} elements do not fit one page")))?;
    put(page, PAGE_ID, &id.to_le_bytes())?;
    put(page, PAGE_FLAGS, &(if is_leaf { LEAF_FLAG } else { BRANCH_FLAG }).to_le_bytes())?;
    put(page, PAGE_COUNT, &count16.to_le_bytes())?;
    let elsz = if is_leaf { LEAF_ELEMENT_SIZE } else { BRANCH_ELEMENT_SIZE };
    let mut data = PAGE_HEADER_SIZE + elsz * count;
    for i in 0..count {
        let (flags, key, value) = elem(i).ok_or_else(|| bad(format!("element {i} of {count} is missing")))?;
        let at = PAGE_HEADER_SIZE + elsz * i;
        let pos = u32_of(data - at, "element position")?;
        if is_leaf {
            put(page, at, &flags.to_le_bytes())?;
            put(page, at + 4, &pos.to_le_bytes())?;
            put(page, at + 8, &u32_of(key.len(), "key size")?.to_le_bytes())?;
            put(page, at + 12, &u32_of(value.len(), "value size")?.to_le_bytes())?;
            put(page, data, key)?;
            put(page, data + key.len(), value)?;
            data += key.len() + value.len();
        } else {
            put(page, at, &pos.to_le_bytes())?;
            put(page, at + 4, &u32_of(key.len(), "key size")?.to_le_bytes())?;
            put(page, at + 8, value)?; // the child pgid, 8 bytes LE
            put(page, data, key)?;
            data += key.len();
        }
    }
    Ok(())
}

/// A full meta page for a fresh file.
fn meta_page(id: u64, page_size: u32, root: u64, hwm: u64, txid: u64) -> Result<Vec<u8>> {
    let mut p = vec![0u8; page_size as usize];
    put(&mut p, PAGE_ID, &id.to_le_bytes())?;
    put(&mut p, PAGE_FLAGS, &META_FLAG.to_le_bytes())?;
    put(&mut p, META_MAGIC, &MAGIC.to_le_bytes())?;
    put(&mut p, META_VERSION, &VERSION.to_le_bytes())?;
    put(&mut p, META_PAGE_SIZE, &page_size.to_le_bytes())?;
    put(&mut p, META_ROOT, &root.to_le_bytes())?;
    put(&mut p, META_FREELIST, &NO_FREELIST.to_le_bytes())?;
    put(&mut p, META_PGID, &hwm.to_le_bytes())?;
    put(&mut p, META_TXID, &txid.to_le_bytes())?;
    let sum = fnv1a64(p.get(META_MAGIC..META_CHECKSUM).unwrap_or_default());
    put(&mut p, META_CHECKSUM, &sum.to_le_bytes())?;
    Ok(p)
}

impl<'a> Plan<'_, 'a> {
    /// High-water mark: pages in the file.
    pub fn hwm(&self) -> u64 {
        self.hwm
    }
    /// Bytes the file will have (`HWM * pageSize`).
    pub fn file_size(&self) -> u64 {
        self.hwm.saturating_mul(u64::from(self.opts.page_size))
    }
    /// Root page id of the root bucket.
    pub fn root(&self) -> u64 {
        self.root_tree.root()
    }
    /// Levels of the root bucket's tree.
    pub fn root_depth(&self) -> usize {
        self.root_tree.levels.len()
    }
    /// Where each bucket went.
    pub fn placements(&self) -> Vec<BucketPlacement> {
        self.buckets
            .iter()
            .zip(&self.trees)
            .map(|(b, t)| BucketPlacement {
                name: b.name.to_vec(),
                root: t.as_ref().map_or(0, TreePlan::root),
                pages: t.as_ref().map_or(0, TreePlan::pages),
                entries: b.entries.len(),
                depth: t.as_ref().map_or(0, |t| t.levels.len()),
            })
            .collect()
    }

    /// Pass 2: write the whole file, pages in id order.
    pub fn emit<W: Write>(&self, out: &mut W) -> Result<()> {
        let io = |e: std::io::Error| {
            Error::new(ErrorKind::Io { action: "write", message: e.to_string() }, Location::default())
        };
        let ps = self.opts.page_size;
        out.write_all(&meta_page(0, ps, self.root(), self.hwm, 0)?).map_err(io)?;
        out.write_all(&meta_page(1, ps, self.root(), self.hwm, 1)?).map_err(io)?;
        let mut next = 2u64;
        let mut buf = Vec::new();
        for (b, t) in self.buckets.iter().zip(&self.trees) {
            if let Some(t) = t {
                self.emit_tree(t, |i| b.entries.get(i).map(|(k, v)| (0, *k, *v)), &mut next, &mut buf, out)?;
            }
        }
        let root_elem = |i: usize| {
            let name = self.buckets.get(i)?.name;
            let value = self.root_values.get(i)?;
            Some((BUCKET_LEAF_FLAG, name, value.as_slice()))
        };
        self.emit_tree(&self.root_tree, root_elem, &mut next, &mut buf, out)?;
        if next != self.hwm {
            return Err(bad(format!("wrote {next} pages, planned {}", self.hwm)));
        }
        Ok(())
    }

    fn emit_tree<'x, W: Write>(
        &self,
        tree: &TreePlan,
        leaf: impl Fn(usize) -> Option<(u32, &'x [u8], &'x [u8])>,
        next: &mut u64,
        buf: &mut Vec<u8>,
        out: &mut W,
    ) -> Result<()>
    where
        'a: 'x,
    {
        let ps = self.opts.page_size as usize;
        for (depth, level) in tree.levels.iter().enumerate() {
            let below = if depth == 0 { None } else { tree.levels.get(depth - 1) };
            for node in level {
                if node.pgid != *next {
                    return Err(bad(format!("page {} planned out of order (expected {next})", node.pgid)));
                }
                let len = usize::try_from(node.pages).ok().and_then(|p| p.checked_mul(ps));
                let len = len.ok_or_else(|| bad("node too large"))?;
                buf.clear();
                buf.resize(len, 0);
                let count = node.end - node.start;
                match below {
                    None => write_node(buf, node.pgid, true, count, |i| leaf(node.start + i))?,
                    Some(children) => {
                        // Branch values: child pgid (LE), carried in the "value" slot.
                        let pgids: Vec<[u8; 8]> = children
                            .get(node.start..node.end)
                            .unwrap_or_default()
                            .iter()
                            .map(|c| c.pgid.to_le_bytes())
                            .collect();
                        let keys: Vec<&[u8]> = children
                            .get(node.start..node.end)
                            .unwrap_or_default()
                            .iter()
                            .map(|c| leaf(c.first).map_or(&[][..], |(_, k, _)| k))
                            .collect();
                        write_node(buf, node.pgid, false, count, |i| {
                            Some((0, *keys.get(i)?, pgids.get(i)?.as_slice()))
                        })?;
                    }
                }
                put(buf, PAGE_OVERFLOW, &u32_of(len / ps - 1, "overflow")?.to_le_bytes())?;
                out.write_all(buf).map_err(|e| {
                    Error::new(
                        ErrorKind::Io { action: "write", message: e.to_string() },
                        Location::page(node.pgid, node.pgid * ps as u64),
                    )
                })?;
                *next += node.pages;
            }
        }
        Ok(())
    }
}

/// Plan and write in one go; returns the plan's placements and HWM.
pub fn write_db<W: Write>(
    buckets: &[Bucket<'_>],
    opts: WriteOptions,
    out: &mut W,
) -> Result<(u64, Vec<BucketPlacement>)> {
    let p = plan(buckets, opts)?;
    p.emit(out)?;
    Ok((p.hwm(), p.placements()))
}

#[cfg(test)]
mod tests {
    use super::super::db::Db;
    use super::super::walk::{KvLoc, Sink, WalkOptions, walk};
    use super::*;

    /// Collects (key, value, is_bucket).
    #[derive(Default)]
    struct Collect(Vec<(Vec<u8>, Vec<u8>, bool)>);
    impl<'a> Sink<'a> for Collect {
        fn kv(&mut self, k: &'a [u8], v: &'a [u8], b: bool, _: KvLoc) {
            self.0.push((k.to_vec(), v.to_vec(), b));
        }
        fn fresh(&self) -> Self {
            Collect::default()
        }
        fn merge(&mut self, later: Self) {
            self.0.extend(later.0);
        }
    }

    type Owned = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

    fn write(owned: &Owned, opts: WriteOptions) -> (Vec<u8>, Vec<BucketPlacement>) {
        let buckets: Vec<Bucket<'_>> = owned
            .iter()
            .map(|(n, kvs)| Bucket {
                name: n,
                entries: kvs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect(),
            })
            .collect();
        let mut out = Vec::new();
        let (hwm, placed) = write_db(&buckets, opts, &mut out).unwrap();
        assert_eq!(out.len() as u64, hwm * u64::from(opts.page_size));
        (out, placed)
    }

    /// Write, read back with our reader, compare; also check page fill rules.
    fn round_trip(owned: &Owned, opts: WriteOptions) -> Vec<BucketPlacement> {
        let (file, placed) = write(owned, opts);
        let db = Db::open(&file).unwrap();
        assert_eq!(db.page_size(), opts.page_size);
        assert_eq!(db.current_meta(), 1);
        assert!(db.slots().iter().all(|s| s.is_valid()));
        for parallel in [false, true] {
            let r = walk(&db, WalkOptions { parallel, progress: None }, |_| Collect::default());
            let codes: Vec<String> = r.findings.iter().map(|f| f.finding.what.clone()).collect();
            assert!(codes.is_empty(), "{codes:?}");
            assert_eq!(r.unreachable_pages, 0, "every page is used");
            assert_eq!(r.reachable_pages, db.hwm());
            assert_eq!(r.buckets.len(), owned.len());
            for (b, (name, kvs)) in r.buckets.iter().zip(owned) {
                assert_eq!(b.name, name.as_slice());
                assert_eq!(b.sequence, 0);
                let got: Vec<(Vec<u8>, Vec<u8>)> = b.sink.0.iter().map(|(k, v, _)| (k.clone(), v.clone())).collect();
                assert_eq!(&got, kvs, "bucket {:?}", String::from_utf8_lossy(name));
            }
        }
        // Every non-overflowing page fits; overflow only for nodes with few elements.
        let ps = opts.page_size as usize;
        let mut id = 2u64;
        while id < db.hwm() {
            let p = db.page(id).unwrap();
            if p.overflow > 0 {
                assert!(p.count as usize <= 4, "page {id}: {} elements over {} pages", p.count, p.overflow + 1);
            }
            assert!(p.bytes.len() <= ps * (p.overflow as usize + 1));
            id += u64::from(p.overflow) + 1;
        }
        placed
    }

    fn kv(k: &str, v: &str) -> (Vec<u8>, Vec<u8>) {
        (k.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    #[test]
    fn empty_file_and_empty_buckets() {
        round_trip(&vec![], WriteOptions::default());
        let placed = round_trip(&vec![(b"alarm".to_vec(), vec![]), (b"key".to_vec(), vec![])], WriteOptions::default());
        assert!(placed.iter().all(|p| p.root == 0));
        // Empty inline bucket = 16-byte header + 16-byte page header (§1.7).
        let (file, _) = write(&vec![(b"alarm".to_vec(), vec![])], WriteOptions::default());
        let db = Db::open(&file).unwrap();
        let root = db.page(db.meta().root).unwrap();
        assert_eq!(root.leaf(0).unwrap().value.len(), 32);
        assert_eq!(db.hwm(), 3);
    }

    #[test]
    fn meta_pages_as_a_fresh_file() {
        let (file, _) = write(&vec![(b"b".to_vec(), vec![kv("k", "v")])], WriteOptions::default());
        let db = Db::open(&file).unwrap();
        let s = db.slots();
        let (m0, m1) = (s[0].meta.unwrap(), s[1].meta.unwrap());
        assert_eq!((m0.page_id, m0.txid, m1.page_id, m1.txid), (0, 0, 1, 1));
        assert_eq!((m0.root, m0.hwm, m0.freelist), (m1.root, m1.hwm, NO_FREELIST));
        assert_eq!(&file[80..4096], &[0u8; 4016][..]);
    }

    #[test]
    fn inline_threshold_is_a_quarter_page() {
        // 16 + (16 + 1 + v) <= 1024  <=>  v <= 991
        let at = |n: usize| vec![(b"b".to_vec(), vec![(b"k".to_vec(), vec![7u8; n])])];
        assert_eq!(round_trip(&at(991), WriteOptions::default())[0].root, 0);
        assert_ne!(round_trip(&at(992), WriteOptions::default())[0].root, 0);
    }

    #[test]
    fn splits_follow_fill_percent() {
        // 1000 entries of 16 + 17 + 100 = 133 bytes: threshold 3686 -> 27 per
        // leaf (16 + 27*133 = 3607; +133 = 3740 > 3686).
        let kvs: Vec<_> = (0..1000).map(|i| (format!("{i:017}").into_bytes(), vec![b'x'; 100])).collect();
        let owned = vec![(b"key".to_vec(), kvs)];
        let placed = round_trip(&owned, WriteOptions::default());
        let (file, _) = write(&owned, WriteOptions::default());
        let db = Db::open(&file).unwrap();
        let first_leaf = db.page(2).unwrap();
        assert_eq!(first_leaf.count, 27);
        assert!(placed[0].pages > 37);
        // bbolt's default 0.5 gives smaller leaves
        let (file, _) = write(&owned, WriteOptions { fill_percent: 0.5, ..Default::default() });
        assert_eq!(Db::open(&file).unwrap().page(2).unwrap().count, 15);
    }

    #[test]
    fn split_index_matches_bbolt_edge_cases() {
        // <= 4 elements never split, whatever their size
        assert_eq!(split(&[5000, 5000, 5000, 5000], 4096, 0.9), vec![0..4]);
        // 5 big elements: splitIndex stops at i=2 (>= minKeys and over threshold)
        assert_eq!(split(&[5000; 5], 4096, 0.9), vec![0..2, 2..5]);
        // fits below the page size: no split
        assert_eq!(split(&[100; 10], 4096, 0.9), vec![0..10]);
        // exactly the page size does not fit (sizeLessThan is strict)
        assert_eq!(split(&[408; 10], 4096, 1.0).len(), 2);
        // the loop ends without break: index = len - 3 (bbolt quirk)
        assert_eq!(split(&[1000, 1000, 1000, 1000, 1000], 8192, 1.0), vec![0..5]);
        assert_eq!(split(&[2000; 5], 8192, 1.0), vec![0..2, 2..5]);
        assert_eq!(split(&[], 4096, 0.9), vec![0..0]);
    }

    #[test]
    fn overflow_pages_for_large_values_and_keys() {
        let big = vec![(b"big".to_vec(), vec![kv("a", "1"), (b"b".to_vec(), vec![9u8; 20000]), kv("c", "3")])];
        round_trip(&big, WriteOptions::default());
        // huge keys make multi-page branch nodes
        let keys: Vec<_> = (0..40u8).map(|i| (vec![i + 1; 30000], b"v".to_vec())).collect();
        round_trip(&vec![(b"k".to_vec(), keys)], WriteOptions::default());
    }

    #[test]
    fn three_levels_and_small_pages() {
        let kvs: Vec<_> = (0..20000u32).map(|i| (i.to_be_bytes().to_vec(), i.to_le_bytes().to_vec())).collect();
        let owned = vec![(b"a".to_vec(), vec![kv("x", "y")]), (b"key".to_vec(), kvs)];
        round_trip(&owned, WriteOptions { page_size: 512, fill_percent: 0.9 });
        round_trip(&owned, WriteOptions::default());
    }

    #[test]
    fn refuses_bad_input() {
        let try_write = |owned: Owned| {
            let buckets: Vec<Bucket<'_>> = owned
                .iter()
                .map(|(n, kvs)| Bucket {
                    name: n,
                    entries: kvs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect(),
                })
                .collect();
            write_db(&buckets, WriteOptions::default(), &mut Vec::new()).map(|_| ())
        };
        assert!(try_write(vec![(b"b".to_vec(), vec![kv("b", ""), kv("a", "")])]).is_err());
        assert!(try_write(vec![(b"b".to_vec(), vec![kv("a", ""), kv("a", "")])]).is_err());
        assert!(try_write(vec![(b"b".to_vec(), vec![kv("", "x")])]).is_err());
        assert!(try_write(vec![(b"b".to_vec(), vec![]), (b"a".to_vec(), vec![])]).is_err());
        assert!(try_write(vec![(b"".to_vec(), vec![])]).is_err());
        assert!(try_write(vec![(b"b".to_vec(), vec![(vec![1u8; MAX_KEY_SIZE + 1], vec![])])]).is_err());
        let bad_ps = plan(&[], WriteOptions { page_size: 1000, fill_percent: 0.9 });
        assert!(bad_ps.is_err());
    }

    /// xorshift64*: deterministic randomness without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n.max(1)
        }
    }

    #[test]
    fn random_bucket_sets_round_trip() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for case in 0..60 {
            let nb = rng.below(6) as usize;
            let mut names = std::collections::BTreeSet::new();
            while names.len() < nb {
                let len = 1 + rng.below(12) as usize;
                names.insert((0..len).map(|_| rng.below(256) as u8).collect::<Vec<u8>>());
            }
            let mut owned: Owned = Vec::new();
            for name in names {
                let n = match rng.below(4) {
                    0 => rng.below(4),
                    1 => rng.below(60),
                    2 => rng.below(600),
                    _ => rng.below(5000),
                } as usize;
                let mut kvs = std::collections::BTreeMap::new();
                while kvs.len() < n {
                    let klen = 1 + match rng.below(10) {
                        0 => rng.below(3000),
                        _ => rng.below(24),
                    } as usize;
                    let vlen = match rng.below(20) {
                        0 => rng.below(20000),
                        1..=3 => rng.below(1500),
                        _ => rng.below(120),
                    } as usize;
                    let k: Vec<u8> = (0..klen).map(|_| rng.below(256) as u8).collect();
                    let v: Vec<u8> = (0..vlen).map(|_| rng.below(256) as u8).collect();
                    kvs.insert(k, v);
                }
                owned.push((name, kvs.into_iter().collect()));
            }
            let ps = [512u32, 1024, 4096, 4096, 16384][rng.below(5) as usize];
            let fill = [0.1, 0.5, 0.9, 1.0][rng.below(4) as usize];
            let opts = WriteOptions { page_size: ps, fill_percent: fill };
            let placed = round_trip(&owned, opts);
            assert_eq!(placed.len(), owned.len(), "case {case}");
        }
    }
}
