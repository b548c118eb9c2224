//! Walk every bucket's page tree: the checks of bbolt's `tx.Check()` plus
//! our own bounds checks, with key/values streamed to a [`Sink`].
//!
//! Guarantees against hostile files:
//! * every page id is checked against the high-water mark and the file end
//!   before it is read, including its overflow run;
//! * a visited bitset (one bit per page *in the file*, so memory is bounded
//!   by the file size, not by a hostile HWM) catches cycles and pages
//!   reached twice; a page reached twice is never descended into again;
//! * descent uses an explicit stack with a depth cap ([`MAX_DEPTH`]), and
//!   bucket nesting is capped the same way, so a crafted file cannot
//!   overflow the native stack.
//!
//! Parallelism: a large bucket is split at its top branch levels and the
//! subtrees are walked on rayon workers, each with its own sink; results are
//! merged in key order. If any page turns out to be reachable twice, the
//! parallel result is discarded and the whole walk is redone sequentially in
//! bbolt's depth-first order, so findings are identical from run to run.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use rayon::prelude::*;

use super::db::Db;
use super::layout::*;
use super::page::Page;
use crate::bytes::Bytes;
use crate::error::{Error, Location};
use crate::report::Finding;

/// Where a key/value lives (for findings about values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KvLoc {
    /// Page id (0 for an inline bucket's fake page).
    pub pgid: u64,
    /// File offset of the leaf element.
    pub offset: u64,
}

/// A branch or leaf page of a bucket's tree, as the walker reads it
/// (before its elements). Pages reached twice, unreadable pages and pages
/// of another type are never reported here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageVisit {
    /// Page id; for an inline bucket the id of the page holding its value.
    pub pgid: u64,
    pub is_leaf: bool,
    /// Elements on the page.
    pub count: u16,
    /// Additional pages of the run (0 for an inline bucket).
    pub overflow: u32,
    /// 0 for a bucket's root page (bbolt's `forEachPage` depth).
    pub depth: usize,
    /// Bytes in use as bbolt's `Bucket.Stats()` counts them
    /// ([`Page::bbolt_in_use`]).
    pub in_use: u64,
    /// The fake leaf page inside an inline bucket's value.
    pub inline: bool,
}

/// Receives the key/values of one bucket, in key order.
pub trait Sink<'a>: Send + Sized {
    /// One leaf element. For a nested bucket `value` is its header bytes.
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], is_bucket: bool, loc: KvLoc);
    /// An empty sink of the same kind, for a subtree walked elsewhere.
    fn fresh(&self) -> Self;
    /// Append the results of the subtree that follows this one in key order.
    fn merge(&mut self, later: Self);
    /// A branch or leaf page of this bucket's tree, in no particular order
    /// (subtrees are walked in parallel). Ignored unless a sink wants it.
    fn page(&mut self, _visit: &PageVisit) {}
    /// The sink of a bucket nested in this one, after it was walked.
    /// Dropped unless a sink wants it (etcd never nests buckets).
    fn nested(&mut self, _child: Self) {}
}

/// A sink that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl<'a> Sink<'a> for NullSink {
    fn kv(&mut self, _: &'a [u8], _: &'a [u8], _: bool, _: KvLoc) {}
    fn fresh(&self) -> Self {
        NullSink
    }
    fn merge(&mut self, _: Self) {}
}

/// Collects a bucket's key/values, borrowed from the file, in key order;
/// nested-bucket entries are only counted.
#[derive(Debug, Default)]
pub struct Collect<'a> {
    pub kvs: Vec<(&'a [u8], &'a [u8])>,
    pub nested: u64,
}

impl<'a> Sink<'a> for Collect<'a> {
    fn kv(&mut self, k: &'a [u8], v: &'a [u8], is_bucket: bool, _: KvLoc) {
        if is_bucket {
            self.nested += 1;
        } else {
            self.kvs.push((k, v));
        }
    }
    fn fresh(&self) -> Self {
        Collect::default()
    }
    fn merge(&mut self, later: Self) {
        self.kvs.extend(later.kvs);
        self.nested += later.nested;
    }
}

/// A finding inside a bucket's tree, with the key range it covers so that
/// callers who know what the keys mean (e.g. revisions) can say what is
/// affected.
#[derive(Debug, Clone)]
pub struct TreeFinding {
    pub finding: Finding,
    /// Bucket path (top-level name first); empty for the root bucket.
    pub bucket: Vec<Vec<u8>>,
    /// Smallest key that may live under the damaged page (inclusive).
    pub lo: Option<Vec<u8>>,
    /// Key bound above the damaged page (exclusive), if any.
    pub hi: Option<Vec<u8>>,
    /// Does bbolt's own `tx.Check()` (>= 1.3.7) report or panic on this?
    /// False for damage only we detect (e.g. inline bucket internals).
    pub bbolt_detects: bool,
}

/// A top-level bucket with what its sink collected.
#[derive(Debug)]
pub struct BucketResult<'a, S> {
    pub name: &'a [u8],
    /// Root pgid, 0 for inline buckets.
    pub root: u64,
    pub sequence: u64,
    pub sink: S,
}

/// Result of a whole-file walk.
#[derive(Debug)]
pub struct WalkResult<'a, S> {
    pub buckets: Vec<BucketResult<'a, S>>,
    /// The root bucket's own sink (`make_sink(None)`): its entries are the
    /// top-level buckets' headers, its pages the root bucket's tree.
    pub root: S,
    pub findings: Vec<TreeFinding>,
    /// Pages reached from the root (including overflow pages and metas).
    pub reachable_pages: u64,
    /// Pages in the persisted freelist (0 when not persisted).
    pub freelist_pages: u64,
    /// Pages of the persisted freelist page's own run counted in
    /// `reachable_pages` (0 when not persisted or unreadable).
    pub freelist_run_pages: u64,
    /// Pages in `[2, HWM)` neither reachable nor in a persisted freelist:
    /// free pages when the freelist is not persisted (etcd on Linux).
    pub unreachable_pages: u64,
    /// Pages in `[2, HWM)` listed in a persisted freelist and not
    /// reachable. With `reachable_pages` and `unreachable_pages` this
    /// accounts for every page below `min(HWM, pages in the file)` once.
    pub free_listed_pages: u64,
    /// The walk was redone sequentially because a page was shared.
    pub fell_back_to_sequential: bool,
}

#[derive(Debug, Clone, Default)]
pub struct WalkOptions {
    /// Split large trees over rayon workers.
    pub parallel: bool,
    /// Bytes of pages visited so far, for a progress display (the walker
    /// only adds to it; it never prints).
    pub progress: Option<Arc<AtomicU64>>,
}

/// A bitset over the pages present in the file.
struct Bits(Vec<AtomicU64>);

impl Bits {
    fn new(n: u64) -> Bits {
        let words = usize::try_from(n.div_ceil(64)).unwrap_or(0);
        Bits((0..words).map(|_| AtomicU64::new(0)).collect())
    }
    /// Set bit `i`; returns whether it was already set. Out of range is
    /// reported as "already set" so that callers never descend there.
    fn set(&self, i: u64) -> bool {
        let Some(w) = usize::try_from(i / 64).ok().and_then(|w| self.0.get(w)) else { return true };
        let m = 1u64 << (i % 64);
        w.fetch_or(m, Ordering::Relaxed) & m != 0
    }
    fn get(&self, i: u64) -> bool {
        let Some(w) = usize::try_from(i / 64).ok().and_then(|w| self.0.get(w)) else { return false };
        w.load(Ordering::Relaxed) & (1u64 << (i % 64)) != 0
    }
    fn count(&self) -> u64 {
        self.0.iter().map(|w| u64::from(w.load(Ordering::Relaxed).count_ones())).sum()
    }
}

struct Ctx<'d, 'a> {
    db: &'d Db<'a>,
    visited: Bits,
    /// Pages listed in a persisted freelist.
    free: Option<Bits>,
    parallel: bool,
    conflict: AtomicBool,
    hwm: u64,
    pages_in_file: u64,
    progress: Option<Arc<AtomicU64>>,
}

#[derive(Clone, Copy)]
struct Frame<'a> {
    pgid: u64,
    depth: usize,
    lo: Option<&'a [u8]>,
    hi: Option<&'a [u8]>,
}

/// A nested bucket found in a leaf, walked after its parent's tree.
#[derive(Clone, Copy)]
struct Nested<'a> {
    name: &'a [u8],
    value: &'a [u8],
    loc: KvLoc,
}

/// Everything one (sub)tree walk produces.
struct Out<'a, S> {
    sink: S,
    findings: Vec<TreeFinding>,
    nested: Vec<Nested<'a>>,
}

impl<'a, S: Sink<'a>> Out<'a, S> {
    fn merge(&mut self, later: Out<'a, S>) {
        self.sink.merge(later.sink);
        self.findings.extend(later.findings);
        self.nested.extend(later.nested);
    }
}

/// Walk the whole file: freelist, root bucket, every bucket.
///
/// `make_sink(Some(name))` is called for each top-level bucket;
/// `make_sink(None)` for the root bucket and for nested buckets.
pub fn walk<'a, S, F>(db: &Db<'a>, opts: WalkOptions, make_sink: F) -> WalkResult<'a, S>
where
    S: Sink<'a>,
    F: Fn(Option<&'a [u8]>) -> S + Sync,
{
    let first = walk_once(db, opts.parallel, opts.progress.clone(), &make_sink);
    let mut result = if first.1 {
        let mut again = walk_once(db, false, opts.progress.clone(), &make_sink).0;
        again.fell_back_to_sequential = true;
        again
    } else {
        first.0
    };
    // One canonical order, whatever the schedule: by file offset.
    result.findings.sort_by_key(|f| (f.finding.location.offset, f.finding.location.page));
    result
}

fn walk_once<'a, S, F>(
    db: &Db<'a>,
    parallel: bool,
    progress: Option<Arc<AtomicU64>>,
    make_sink: &F,
) -> (WalkResult<'a, S>, bool)
where
    S: Sink<'a>,
    F: Fn(Option<&'a [u8]>) -> S + Sync,
{
    let hwm = db.hwm();
    let pages_in_file = db.pages_in_file();
    let ctx = Ctx {
        db,
        visited: Bits::new(pages_in_file.min(hwm).max(2)),
        free: None,
        parallel,
        conflict: AtomicBool::new(false),
        hwm,
        pages_in_file,
        progress,
    };
    let mut findings = Vec::new();
    // Pages 0 and 1 are the metas: reachable by definition.
    ctx.visited.set(0);
    ctx.visited.set(1);
    let mut ctx = ctx;
    let mut freelist_pages = 0;
    let mut freelist_run_pages = 0;
    if db.meta().has_freelist() {
        let (free, n, run) = load_freelist(&ctx, &mut findings);
        ctx.free = free;
        freelist_pages = n;
        freelist_run_pages = run;
    }

    // The root bucket: its entries are the top-level buckets.
    let root_frame = Frame { pgid: db.meta().root, depth: 0, lo: None, hi: None };
    let root_out = walk_tree(&ctx, root_frame, &[], make_sink(None));
    findings.extend(root_out.findings);
    let root_sink = root_out.sink;
    let mut buckets = Vec::new();
    for n in root_out.nested {
        let sink = make_sink(Some(n.name));
        let path: Vec<&'a [u8]> = vec![n.name];
        let (root, sequence, sink, mut f) = walk_bucket(&ctx, n, &path, sink, make_sink, 1);
        findings.append(&mut f);
        buckets.push(BucketResult { name: n.name, root, sequence, sink });
    }

    let reachable = ctx.visited.count();
    let mut unreachable = 0;
    let mut free_listed = 0;
    let upper = hwm.min(pages_in_file);
    if let Some(free) = &ctx.free {
        for id in 2..upper {
            let r = ctx.visited.get(id);
            let f = free.get(id);
            if r && f {
                findings.push(tf(
                    Finding::damage("bolt.freelist.reachable_freed", page_loc(db, id), format!("page {id}: reachable freed"))
                        .meaning("the freelist says this page is free while the tree still uses it; the next write would overwrite live data (bbolt check: \"reachable freed\")")
                        .action("do not start etcd on this file; restore from a snapshot"),
                    &[],
                    None,
                    None,
                    true,
                ));
            } else if f && !r {
                free_listed += 1;
            } else if !r && !f {
                unreachable += 1;
                findings.push(tf(
                    Finding::damage("bolt.freelist.unreachable_unfreed", page_loc(db, id), format!("page {id}: unreachable unfreed"))
                        .meaning("the page is neither used nor free: it leaks space (bbolt check: \"unreachable unfreed\"); no data is lost by it")
                        .action("a defrag (etcdutl defrag) rewrites the file without it"),
                    &[],
                    None,
                    None,
                    true,
                ));
            }
        }
    } else {
        for id in 2..upper {
            if !ctx.visited.get(id) {
                unreachable += 1;
            }
        }
    }
    let conflict = ctx.conflict.load(Ordering::Relaxed);
    (
        WalkResult {
            buckets,
            root: root_sink,
            findings,
            reachable_pages: reachable,
            freelist_pages,
            freelist_run_pages,
            unreachable_pages: unreachable,
            free_listed_pages: free_listed,
            fell_back_to_sequential: false,
        },
        conflict,
    )
}

/// Walk one bucket (and, recursively, its nested buckets).
fn walk_bucket<'a, S, F>(
    ctx: &Ctx<'_, 'a>,
    n: Nested<'a>,
    path: &[&'a [u8]],
    sink: S,
    make_sink: &F,
    nesting: usize,
) -> (u64, u64, S, Vec<TreeFinding>)
where
    S: Sink<'a>,
    F: Fn(Option<&'a [u8]>) -> S + Sync,
{
    let mut findings = Vec::new();
    let b = Bytes::new(n.value, n.loc.offset);
    let (root, sequence) = match (b.u64_le(0), b.u64_le(8)) {
        (Ok(r), Ok(s)) => (r, s),
        _ => {
            findings.push(tf(
                Finding::damage(
                    "bolt.bucket.header",
                    Location::page(n.loc.pgid, n.loc.offset),
                    format!(
                        "bucket {}: header value is {} bytes, need {BUCKET_HEADER_SIZE}",
                        show(path),
                        n.value.len()
                    ),
                )
                .meaning("the bucket cannot be opened; everything in it is unreachable")
                .action("restore from a snapshot"),
                path,
                None,
                None,
                true,
            ));
            return (0, 0, sink, findings);
        }
    };
    if nesting > MAX_DEPTH {
        findings.push(tf(
            Finding::damage(
                "bolt.bucket.depth",
                Location::page(n.loc.pgid, n.loc.offset),
                format!("buckets nested more than {MAX_DEPTH} deep"),
            )
            .meaning("no real file nests buckets this deep (etcd never nests); the file is corrupt"),
            path,
            None,
            None,
            false,
        ));
        return (root, sequence, sink, findings);
    }
    let out = if root == 0 {
        walk_inline(ctx, n, path, sink)
    } else {
        walk_tree(ctx, Frame { pgid: root, depth: 0, lo: None, hi: None }, path, sink)
    };
    let Out { mut sink, findings: mut f, nested } = out;
    findings.append(&mut f);
    for child in nested {
        let mut p = path.to_vec();
        p.push(child.name);
        let (_, _, child_sink, mut f) = walk_bucket(ctx, child, &p, make_sink(None), make_sink, nesting + 1);
        sink.nested(child_sink);
        findings.append(&mut f);
    }
    (root, sequence, sink, findings)
}

/// An inline bucket: its value holds a leaf page after the 16-byte header.
/// bbolt's check skips these; we check them like any leaf.
fn walk_inline<'a, S: Sink<'a>>(ctx: &Ctx<'_, 'a>, n: Nested<'a>, path: &[&'a [u8]], sink: S) -> Out<'a, S> {
    let mut out = Out { sink, findings: Vec::new(), nested: Vec::new() };
    let b = Bytes::new(n.value, n.loc.offset);
    let page = b.tail(BUCKET_HEADER_SIZE).and_then(|pb| Page::header(0, pb));
    let loc = Location::page(n.loc.pgid, n.loc.offset);
    match page {
        Ok(p) if p.is_leaf() => {
            let frame = Frame { pgid: n.loc.pgid, depth: 0, lo: None, hi: None };
            out.sink.page(&PageVisit {
                pgid: n.loc.pgid,
                is_leaf: true,
                count: p.count,
                overflow: 0,
                depth: 0,
                in_use: p.bbolt_in_use(),
                inline: true,
            });
            leaf(ctx, &p, frame, path, &mut out, true);
        }
        Ok(p) => out.findings.push(tf(
            Finding::damage(
                "bolt.bucket.inline_type",
                loc,
                format!("inline bucket {}: page type is {}, want leaf", show(path), p.type_name()),
            )
            .page_type(p.type_name())
            .meaning("bbolt would misread this bucket; its contents are lost"),
            path,
            None,
            None,
            false,
        )),
        Err(e) => out.findings.push(tf(
            Finding::damage("bolt.bucket.inline_truncated", loc, format!("inline bucket {}: {}", show(path), e.kind()))
                .meaning("the inline bucket's page header does not fit in its value; its contents are lost"),
            path,
            None,
            None,
            false,
        )),
    }
    let _ = ctx;
    out
}

/// Walk the page tree rooted at `root`, in parallel when allowed.
fn walk_tree<'a, S: Sink<'a>>(ctx: &Ctx<'_, 'a>, root: Frame<'a>, path: &[&'a [u8]], sink: S) -> Out<'a, S> {
    if !ctx.parallel {
        let mut out = Out { sink, findings: Vec::new(), nested: Vec::new() };
        walk_seq(ctx, vec![root], path, &mut out);
        return out;
    }
    // Expand the top branch levels in this thread until there is enough
    // work to share, keeping frames in key order.
    let target = rayon::current_num_threads().saturating_mul(8).max(8);
    let mut head = Out { sink: sink.fresh(), findings: Vec::new(), nested: Vec::new() };
    let mut frontier = vec![root];
    for _ in 0..3 {
        if frontier.len() >= target {
            break;
        }
        let mut next = Vec::with_capacity(frontier.len() * 4);
        let mut expanded = false;
        for f in frontier {
            let is_branch = ctx.db.page_head(f.pgid).map(|p| p.is_branch()).unwrap_or(false);
            if is_branch && f.pgid < ctx.hwm {
                let mut kids = Vec::new();
                visit(ctx, f, path, &mut head, &mut kids);
                kids.reverse(); // visit pushes in stack (reverse) order
                next.extend(kids);
                expanded = true;
            } else {
                next.push(f);
            }
        }
        frontier = next;
        if !expanded {
            break;
        }
    }
    let jobs: Vec<(Frame<'a>, S)> = frontier.into_iter().map(|f| (f, sink.fresh())).collect();
    let parts: Vec<Out<'a, S>> = jobs
        .into_par_iter()
        .map(|(f, s)| {
            let mut out = Out { sink: s, findings: Vec::new(), nested: Vec::new() };
            walk_seq(ctx, vec![f], path, &mut out);
            out
        })
        .collect();
    // The top levels' pages were reported to `head`'s sink.
    let mut out = Out { sink, findings: head.findings, nested: Vec::new() };
    out.sink.merge(head.sink);
    for p in parts {
        out.merge(p);
    }
    out
}

fn walk_seq<'a, S: Sink<'a>>(ctx: &Ctx<'_, 'a>, mut stack: Vec<Frame<'a>>, path: &[&'a [u8]], out: &mut Out<'a, S>) {
    let mut kids = Vec::new();
    while let Some(f) = stack.pop() {
        if ctx.parallel && ctx.conflict.load(Ordering::Relaxed) {
            return; // the result will be thrown away
        }
        kids.clear();
        visit(ctx, f, path, out, &mut kids);
        stack.append(&mut kids);
    }
}

/// Check one page and, for a branch, push its children (last first) onto
/// `kids`; for a leaf, feed its elements to the sink.
fn visit<'a, S: Sink<'a>>(
    ctx: &Ctx<'_, 'a>,
    f: Frame<'a>,
    path: &[&'a [u8]],
    out: &mut Out<'a, S>,
    kids: &mut Vec<Frame<'a>>,
) {
    let db = ctx.db;
    let id = f.pgid;
    let loc = page_loc(db, id);
    let mk = |out: &mut Out<'a, S>, finding: Finding, bbolt: bool| {
        out.findings.push(tf(finding, path, f.lo, f.hi, bbolt));
    };
    if f.depth > MAX_DEPTH {
        mk(
            out,
            Finding::damage("bolt.tree.depth", loc, format!("page {id}: tree deeper than {MAX_DEPTH} levels"))
                .meaning(LOST_SUBTREE),
            false,
        );
        return;
    }
    if id >= ctx.hwm {
        mk(
            out,
            Finding::damage(
                "bolt.page.out_of_bounds",
                loc,
                format!("page {id}: out of bounds: {} (high-water mark)", ctx.hwm),
            )
            .meaning(LOST_SUBTREE)
            .action(ACTION_RESTORE),
            id > ctx.hwm,
        );
        return;
    }
    if id >= ctx.pages_in_file {
        mk(
            out,
            Finding::damage(
                "bolt.page.past_eof",
                loc,
                format!("page {id}: past the end of the file ({} pages)", ctx.pages_in_file),
            )
            .meaning(LOST_SUBTREE)
            .action(ACTION_RESTORE),
            true,
        );
        return;
    }
    let head = match db.page_head(id) {
        Ok(h) => h,
        Err(e) => {
            mk(
                out,
                Finding::damage("bolt.page.unreadable", loc, format!("page {id}: {}", e.kind())).meaning(LOST_SUBTREE),
                true,
            );
            return;
        }
    };
    let last = id.saturating_add(u64::from(head.overflow));
    if last >= ctx.hwm || last >= ctx.pages_in_file {
        mk(
            out,
            Finding::damage(
                "bolt.page.overflow_out_of_bounds",
                loc,
                format!(
                    "page {id}: overflow {} runs to page {last}, past the high-water mark {} or the end of the file",
                    head.overflow, ctx.hwm
                ),
            )
            .page_type(head.type_name())
            .meaning(LOST_SUBTREE)
            .action(ACTION_RESTORE),
            true,
        );
        return;
    }
    // Mark the run reachable; a page reached twice is a cycle or a shared page.
    let mut dup = None;
    for p in id..=last {
        if ctx.visited.set(p) && dup.is_none() {
            dup = Some(p);
        }
    }
    if let Some(p) = dup {
        if ctx.parallel {
            ctx.conflict.store(true, Ordering::Relaxed);
        } else {
            mk(
                out,
                Finding::damage("bolt.page.multiple_references", page_loc(db, p), format!("page {p}: multiple references (reached again from page {id}'s parent)"))
                    .page_type(head.type_name())
                    .meaning("two parents point to the same page (or a pointer loops back): bbolt panics with \"freepages: failed to get all reachable pages\" at open; the subtree is not read twice")
                    .action(ACTION_RESTORE),
                true,
            );
        }
        return;
    }
    if let Some(p) = &ctx.progress {
        p.fetch_add((last - id + 1).saturating_mul(u64::from(db.page_size())), Ordering::Relaxed);
    }
    let page = match db.page(id) {
        Ok(p) => p,
        Err(e) => {
            mk(
                out,
                Finding::damage("bolt.page.unreadable", loc, format!("page {id}: {}", e.kind())).meaning(LOST_SUBTREE),
                true,
            );
            return;
        }
    };
    if page.header_id != id {
        mk(
            out,
            Finding::damage("bolt.page.id_mismatch", loc.clone(), format!("page {id}: header says it is page {}", page.header_id))
                .page_type(page.type_name())
                .meaning("the page holds other bytes than its parent expects (stale or misplaced write); bbolt >= 1.3.7 panics \"Page expected to be: %v, but self identifies as %v\"")
                .action(ACTION_RESTORE),
            true,
        );
    }
    if page.is_branch() || page.is_leaf() {
        out.sink.page(&PageVisit {
            pgid: id,
            is_leaf: page.is_leaf(),
            count: page.count,
            overflow: page.overflow,
            depth: f.depth,
            in_use: page.bbolt_in_use(),
            inline: false,
        });
    }
    if page.is_branch() {
        branch(ctx, &page, f, path, out, kids);
    } else if page.is_leaf() {
        leaf(ctx, &page, f, path, out, false);
    } else {
        mk(
            out,
            Finding::damage("bolt.page.invalid_type", loc, format!("page {id}: invalid type: {}", page.type_name()))
                .page_type(page.type_name())
                .meaning(LOST_SUBTREE)
                .action(ACTION_RESTORE),
            true,
        );
    }
}

/// What a damaged element means, by finding code.
fn meaning_for(code: &str) -> &'static str {
    match code {
        "bolt.leaf.key_order" => {
            "keys are out of order: bbolt's binary search can miss keys in and around this page (etcd's boot-time scan of the key bucket still reads them, with whatever the damaged key says); bbolt >= 1.3.7's check fails"
        }
        "bolt.branch.key_order" => {
            "branch keys are out of order: lookups through this page can descend into the wrong child and miss keys; bbolt >= 1.3.7's check fails"
        }
        "bolt.leaf.element" | "bolt.leaf.empty_key" | "bolt.leaf.flags" => {
            "bbolt cannot read this element or the rest of the leaf; the keys stored there are unreachable"
        }
        _ => LOST_SUBTREE,
    }
}

const LOST_SUBTREE: &str = "bbolt cannot read this page; the keys stored under it are unreachable";
const ACTION_RESTORE: &str = "restore from a good snapshot; on a multi-member cluster remove this member and add it back (it resyncs from the leader); with no good snapshot, `etcd-forensics salvage` rescues the readable keys into one";

fn branch<'a, S: Sink<'a>>(
    ctx: &Ctx<'_, 'a>,
    page: &Page<'a>,
    f: Frame<'a>,
    path: &[&'a [u8]],
    out: &mut Out<'a, S>,
    kids: &mut Vec<Frame<'a>>,
) {
    let db = ctx.db;
    let id = page.pgid;
    let n = usize::from(page.count);
    let bad = |out: &mut Out<'a, S>, code: &'static str, off: u64, what: String, bbolt: bool| {
        out.findings.push(tf(
            Finding::damage(code, Location::page(id, off), what)
                .page_type("branch")
                .meaning(meaning_for(code))
                .action(ACTION_RESTORE),
            path,
            f.lo,
            f.hi,
            bbolt,
        ));
    };
    if n == 0 {
        bad(out, "bolt.branch.empty", page.offset(), format!("page {id}: branch page has no elements"), true);
        return;
    }
    let mut elems = Vec::with_capacity(n);
    let mut order_reported = false;
    for i in 0..n {
        let e = match page.branch(i) {
            Ok(e) => e,
            Err(err) => {
                bad(
                    out,
                    "bolt.branch.element",
                    err.location().offset.unwrap_or(page.offset()),
                    format!("page {id}: {}", err.kind()),
                    true,
                );
                break;
            }
        };
        let eoff = page.offset().saturating_add((PAGE_HEADER_SIZE + i * BRANCH_ELEMENT_SIZE) as u64);
        if e.key.is_empty() {
            bad(out, "bolt.branch.empty_key", eoff, format!("page {id}: element {i} has a zero-length key"), true);
            break;
        }
        if !order_reported {
            if let Some(msg) = order_problem(i, e.key, elems.last().map(|(k, _): &(&[u8], u64)| *k), f, "branch", id) {
                bad(out, "bolt.branch.key_order", eoff, msg, true);
                order_reported = true;
            }
        }
        elems.push((e.key, e.child));
    }
    // Children are pushed last-first so that they pop in key order.
    for i in (0..elems.len()).rev() {
        let Some(&(key, child)) = elems.get(i) else { continue };
        let hi = elems.get(i + 1).map(|(k, _)| *k).or(f.hi);
        kids.push(Frame { pgid: child, depth: f.depth + 1, lo: Some(key), hi });
    }
    let _ = db;
}

fn leaf<'a, S: Sink<'a>>(
    ctx: &Ctx<'_, 'a>,
    page: &Page<'a>,
    f: Frame<'a>,
    path: &[&'a [u8]],
    out: &mut Out<'a, S>,
    inline: bool,
) {
    let id = f.pgid;
    let n = usize::from(page.count);
    let base = page.offset();
    let ptype = if inline { "inline leaf" } else { "leaf" };
    let mut prev: Option<&'a [u8]> = None;
    let mut order_reported = false;
    for i in 0..n {
        let eoff = base.saturating_add((PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE) as u64);
        let bad = |out: &mut Out<'a, S>, code: &'static str, off: u64, what: String, bbolt: bool| {
            out.findings.push(tf(
                Finding::damage(code, Location::page(id, off), what)
                    .page_type(ptype)
                    .meaning(meaning_for(code))
                    .action(ACTION_RESTORE),
                path,
                f.lo,
                f.hi,
                bbolt && !inline,
            ));
        };
        let e = match page.leaf(i) {
            Ok(e) => e,
            Err(err) => {
                bad(
                    out,
                    "bolt.leaf.element",
                    err.location().offset.unwrap_or(eoff),
                    format!("page {id}: {}", err.kind()),
                    true,
                );
                return;
            }
        };
        if e.key.is_empty() {
            bad(out, "bolt.leaf.empty_key", eoff, format!("page {id}: element {i} has a zero-length key"), true);
            return;
        }
        if e.flags & !BUCKET_LEAF_FLAG != 0 {
            bad(
                out,
                "bolt.leaf.flags",
                eoff,
                format!("page {id}: element {i} has unknown flags {:#x}", e.flags),
                false,
            );
            return;
        }
        if !order_reported {
            if let Some(msg) = order_problem(i, e.key, prev, f, "leaf", id) {
                bad(out, "bolt.leaf.key_order", eoff, msg, true);
                order_reported = true;
            }
        }
        prev = Some(e.key);
        let loc = KvLoc { pgid: id, offset: eoff };
        if e.is_bucket() {
            out.nested.push(Nested { name: e.key, value: e.value, loc });
        }
        out.sink.kv(e.key, e.value, e.is_bucket(), loc);
    }
    let _ = ctx;
}

/// bbolt >= 1.3.7's key-order rules (`recursivelyCheckPages`).
fn order_problem(i: usize, key: &[u8], prev: Option<&[u8]>, f: Frame<'_>, kind: &str, id: u64) -> Option<String> {
    if let Some(p) = prev {
        if key <= p {
            let rel = if key == p { "=" } else { "<" };
            return Some(format!(
                "key[{i}]=(hex){} on {kind} page({id}) needs to be > (found {rel}) than previous element (hex){}",
                hex(key),
                hex(p)
            ));
        }
    } else if let Some(lo) = f.lo {
        if key < lo {
            return Some(format!(
                "the first key[{i}]=(hex){} on {kind} page({id}) needs to be >= the key in the ancestor ({})",
                hex(key),
                hex(lo)
            ));
        }
    }
    if let Some(hi) = f.hi {
        if key >= hi {
            return Some(format!(
                "key[{i}]=(hex){} on {kind} page({id}) needs to be < than key of the next element in ancestor (hex){}",
                hex(key),
                hex(hi)
            ));
        }
    }
    None
}

/// The persisted freelist: the free set, the number of ids in it, and the
/// pages of its own run marked reachable.
fn load_freelist(ctx: &Ctx<'_, '_>, findings: &mut Vec<TreeFinding>) -> (Option<Bits>, u64, u64) {
    let db = ctx.db;
    let id = db.meta().freelist;
    let loc = page_loc(db, id);
    let mut bad = |code: &'static str, what: String| {
        findings.push(tf(
            Finding::damage(code, loc.clone(), what)
                .page_type("freelist")
                .meaning("bbolt cannot load the freelist; the file does not open (etcd on Linux ignores a persisted freelist only if it was never written)")
                .action("restore from a snapshot"),
            &[],
            None,
            None,
            true,
        ));
    };
    if id < 2 || id >= ctx.hwm || id >= ctx.pages_in_file {
        bad(
            "bolt.freelist.out_of_bounds",
            format!("freelist page {id} is out of bounds (high-water mark {})", ctx.hwm),
        );
        return (None, 0, 0);
    }
    let page = match db.page(id) {
        Ok(p) => p,
        Err(e) => {
            bad("bolt.freelist.unreadable", format!("freelist page {id}: {}", e.kind()));
            return (None, 0, 0);
        }
    };
    if page.flags != FREELIST_FLAG {
        bad("bolt.freelist.type", format!("page {id}: invalid type: {}, want freelist", page.type_name()));
        return (None, 0, 0);
    }
    let last = id.saturating_add(u64::from(page.overflow));
    let mut run = 0u64;
    for p in id..=last.min(ctx.pages_in_file.saturating_sub(1)) {
        if !ctx.visited.set(p) {
            run += 1;
        }
    }
    let ids = match page.freelist_ids() {
        Ok(ids) => ids,
        Err(e) => {
            bad("bolt.freelist.count", format!("page {id}: {}", e.kind()));
            return (None, 0, run);
        }
    };
    let free = Bits::new(ctx.pages_in_file.min(ctx.hwm).max(2));
    let mut n = 0u64;
    let mut reported = 0;
    for fid in ids {
        if fid < 2 || fid >= ctx.hwm {
            if reported < 16 {
                bad(
                    "bolt.freelist.id_out_of_bounds",
                    format!("freelist page {id} lists page {fid}, outside [2, {})", ctx.hwm),
                );
                reported += 1;
            }
            continue;
        }
        if free.set(fid) {
            if reported < 16 {
                bad("bolt.freelist.double_free", format!("page {fid}: already freed"));
                reported += 1;
            }
            continue;
        }
        n += 1;
    }
    (Some(free), n, run)
}

fn page_loc(db: &Db<'_>, id: u64) -> Location {
    Location::page(id, db.offset_of(id))
}

fn tf(finding: Finding, path: &[&[u8]], lo: Option<&[u8]>, hi: Option<&[u8]>, bbolt_detects: bool) -> TreeFinding {
    let bucket = if path.is_empty() { None } else { Some(show(path)) };
    TreeFinding {
        finding: finding.bucket(bucket),
        bucket: path.iter().map(|p| p.to_vec()).collect(),
        lo: lo.map(<[u8]>::to_vec),
        hi: hi.map(<[u8]>::to_vec),
        bbolt_detects,
    }
}

/// Bucket path for messages: names joined by `/`, non-UTF-8 shown lossily.
pub fn show(path: &[&[u8]]) -> String {
    path.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect::<Vec<_>>().join("/")
}

pub fn hex(b: &[u8]) -> String {
    use std::fmt::Write;
    let shown = b.get(..64).unwrap_or(b);
    let mut s = String::with_capacity(shown.len() * 2 + 3);
    for x in shown {
        let _ = write!(s, "{x:02x}");
    }
    if b.len() > shown.len() {
        s.push_str("...");
    }
    s
}

/// Convert a walk error into an `Error` for callers that want one.
pub fn first_error(findings: &[TreeFinding]) -> Option<Error> {
    findings.first().map(|f| Error::malformed(f.finding.what.clone(), f.finding.location.clone()))
}

#[cfg(test)]
mod tests {
    use super::super::meta::tests::{bucket_header, meta_page, small_file};
    use super::super::page::tests::{branch_page, leaf_page};
    use super::*;

    const PS: usize = 512;

    fn file(root: u64, pages: Vec<Vec<u8>>) -> Vec<u8> {
        small_file(PS as u32, root, pages)
    }

    fn bucket_value(root: u64) -> Vec<u8> {
        bucket_header(root)
    }

    /// Collects keys.
    #[derive(Default)]
    struct Keys(Vec<Vec<u8>>);
    impl<'a> Sink<'a> for Keys {
        fn kv(&mut self, k: &'a [u8], _: &'a [u8], _: bool, _: KvLoc) {
            self.0.push(k.to_vec());
        }
        fn fresh(&self) -> Self {
            Keys::default()
        }
        fn merge(&mut self, later: Self) {
            self.0.extend(later.0);
        }
    }

    fn run(f: &[u8], parallel: bool) -> WalkResult<'_, Keys> {
        let db = Db::open(f).unwrap();
        walk(&db, WalkOptions { parallel, progress: None }, |_| Keys::default())
    }

    fn codes<S>(r: &WalkResult<'_, S>) -> Vec<&'static str> {
        r.findings.iter().map(|f| f.finding.code).collect()
    }

    /// root (page 2) -> bucket "b" rooted at branch page 3 -> leaves 4, 5.
    fn two_level() -> Vec<Vec<u8>> {
        vec![
            leaf_page(2, PS, &[(b"b", &bucket_value(3), 1)]),
            branch_page(3, PS, &[(b"a", 4), (b"m", 5)]),
            leaf_page(4, PS, &[(b"a", b"1", 0), (b"c", b"2", 0)]),
            leaf_page(5, PS, &[(b"m", b"3", 0), (b"z", b"4", 0)]),
        ]
    }

    #[test]
    fn clean_tree_in_order_both_modes() {
        let f = file(2, two_level());
        for parallel in [false, true] {
            let r = run(&f, parallel);
            assert!(r.findings.is_empty(), "{:?}", codes(&r));
            assert_eq!(r.buckets.len(), 1);
            let keys: Vec<&[u8]> = r.buckets[0].sink.0.iter().map(Vec::as_slice).collect();
            assert_eq!(keys, vec![&b"a"[..], b"c", b"m", b"z"]);
            assert_eq!(r.reachable_pages, 6);
            assert_eq!(r.unreachable_pages, 0);
        }
    }

    #[test]
    fn cycle_is_reported_once_and_terminates() {
        let mut pages = two_level();
        pages[1] = branch_page(3, PS, &[(b"a", 4), (b"m", 3)]); // child points back to itself
        let f = file(2, pages);
        for parallel in [false, true] {
            let r = run(&f, parallel);
            assert_eq!(codes(&r), vec!["bolt.page.multiple_references"]);
            assert_eq!(r.findings[0].finding.location.page, Some(3));
            assert_eq!(r.fell_back_to_sequential, parallel);
            assert_eq!(r.unreachable_pages, 1); // page 5
        }
    }

    #[test]
    fn out_of_bounds_child_names_the_key_range() {
        let mut pages = two_level();
        pages[1] = branch_page(3, PS, &[(b"a", 4), (b"m", 99)]);
        let f = file(2, pages);
        let r = run(&f, true);
        assert_eq!(codes(&r), vec!["bolt.page.out_of_bounds"]);
        let t = &r.findings[0];
        assert_eq!(t.finding.location.page, Some(99));
        assert_eq!(t.lo.as_deref(), Some(&b"m"[..]));
        assert_eq!(t.hi, None);
        assert_eq!(t.finding.bucket.as_deref(), Some("b"));
        assert!(t.bbolt_detects);
    }

    #[test]
    fn bad_type_and_id_mismatch() {
        let mut pages = two_level();
        pages[2][8] = 0x20; // page 4: unknown flags
        pages[3][0] = 9; // page 5 claims to be page 9
        let f = file(2, pages);
        let r = run(&f, false);
        assert_eq!(codes(&r), vec!["bolt.page.invalid_type", "bolt.page.id_mismatch"]);
    }

    #[test]
    fn key_order_violations() {
        let mut pages = two_level();
        pages[2] = leaf_page(4, PS, &[(b"c", b"1", 0), (b"a", b"2", 0)]);
        pages[3] = leaf_page(5, PS, &[(b"b", b"3", 0)]); // below its branch key "m"
        let f = file(2, pages);
        let r = run(&f, true);
        assert_eq!(codes(&r), vec!["bolt.leaf.key_order", "bolt.leaf.key_order"]);
        assert!(r.findings[0].finding.what.contains("found <"), "{}", r.findings[0].finding.what);
        assert!(r.findings[1].finding.what.contains("needs to be >= the key in the ancestor"));
    }

    #[test]
    fn overflow_past_hwm_and_element_past_page() {
        let mut pages = two_level();
        pages[2][12..16].copy_from_slice(&7u32.to_le_bytes()); // page 4 overflow 7
        pages[3][40..44].copy_from_slice(&1000u32.to_le_bytes()); // page 5 element 1 ksize 1000
        let f = file(2, pages);
        let r = run(&f, false);
        assert_eq!(codes(&r), vec!["bolt.page.overflow_out_of_bounds", "bolt.leaf.element"]);
    }

    #[test]
    fn inline_bucket_is_read() {
        let inner = leaf_page(0, 48, &[(b"k", b"v", 0)]);
        let mut val = bucket_value(0);
        val.extend(&inner[..16 + 16 + 2]);
        let f = file(2, vec![leaf_page(2, PS, &[(b"in", &val, 1)])]);
        let r = run(&f, true);
        assert!(r.findings.is_empty(), "{:?}", codes(&r));
        assert_eq!(r.buckets[0].root, 0);
        assert_eq!(r.buckets[0].sink.0, vec![b"k".to_vec()]);
    }

    #[test]
    fn deep_chain_is_capped() {
        // A chain of 80 single-child branch pages: deeper than MAX_DEPTH.
        let n = 80u64;
        let mut pages = vec![leaf_page(2, PS, &[(b"b", &bucket_value(3), 1)])];
        for i in 0..n {
            pages.push(branch_page(3 + i, PS, &[(b"a", 4 + i)]));
        }
        pages.push(leaf_page(3 + n, PS, &[(b"a", b"1", 0)]));
        let f = file(2, pages);
        let r = run(&f, false);
        assert_eq!(codes(&r), vec!["bolt.tree.depth"]);
    }

    #[test]
    fn persisted_freelist_checks() {
        let mut pages = two_level();
        // page 6: freelist listing 5 (reachable) and 7 twice; page 7: garbage
        let mut fl = vec![0u8; PS];
        fl[0..8].copy_from_slice(&6u64.to_le_bytes());
        fl[8..10].copy_from_slice(&FREELIST_FLAG.to_le_bytes());
        fl[10..12].copy_from_slice(&3u16.to_le_bytes());
        fl[16..24].copy_from_slice(&5u64.to_le_bytes());
        fl[24..32].copy_from_slice(&7u64.to_le_bytes());
        fl[32..40].copy_from_slice(&7u64.to_le_bytes());
        pages.push(fl);
        pages.push(vec![0u8; PS]);
        pages.push(vec![0u8; PS]); // page 8: neither used nor free
        let hwm = pages.len() as u64 + 2;
        let mut f = meta_page(0, PS as u32, 2, 6, hwm, 2);
        f.extend(meta_page(1, PS as u32, 2, 6, hwm, 3));
        for p in pages {
            f.extend(p);
        }
        let r = run(&f, true);
        let mut c = codes(&r);
        c.sort();
        assert_eq!(
            c,
            vec!["bolt.freelist.double_free", "bolt.freelist.reachable_freed", "bolt.freelist.unreachable_unfreed"]
        );
    }
}
