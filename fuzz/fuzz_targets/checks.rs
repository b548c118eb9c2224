//! The checks behind every fuzz target, one public function per target,
//! kept free of libFuzzer so that a regression test can replay saved inputs
//! through exactly the same code:
//!
//! ```ignore
//! #[path = "../fuzz/fuzz_targets/checks.rs"]
//! mod checks; // needs only etcd-forensics and serde_json
//! checks::bolt_file(&std::fs::read(input)?, false);
//! ```
//!
//! * [`bolt_page`]: header, every branch and leaf element (whatever the flags
//!   say), the freelist ids, and inline bucket pages found in leaf values.
//!   Every accessor returns `Err` rather than panicking, and reads the same
//!   bytes whatever the page's file offset.
//! * [`mvcc_key`]: revision keys and KeyValue values, each against a model
//!   (re-encoding what was decoded gives the same thing back).
//! * [`bolt_file`]: a whole file through `scan_db` sequentially and in
//!   parallel (identical results required), then through every printer of
//!   `status` and `check`; then through `space` (every page counted once).
#![allow(dead_code)] // each target uses one entry point

use std::io;
use std::path::Path;

use etcd_forensics::bolt::layout::BUCKET_HEADER_SIZE;
use etcd_forensics::bolt::page::Page;
use etcd_forensics::bytes::Bytes;
use etcd_forensics::jobs::check::CheckReport;
use etcd_forensics::jobs::status::StatusReport;
use etcd_forensics::mvcc::Revision;
use etcd_forensics::mvcc::kv::{self, KvRef};
use etcd_forensics::mvcc::{DbScan, ScanOptions, scan_db};
use etcd_forensics::output::{self, WriteOut};
use etcd_forensics::report::Severity;

// ---- bolt_page
/// Inline buckets nest inside leaf values, and a crafted page can make
/// every one of 65535 elements an inline bucket overlapping the others:
/// bound the depth and the total number of inline pages drained.
const MAX_NESTING: usize = 4;
const MAX_INLINE_PAGES: usize = 16;

/// A branch element (key, child) and a leaf element (flags, key, value).
type Branch<'a> = (&'a [u8], u64);
type Leaf<'a> = (u32, &'a [u8], &'a [u8]);

/// What a page yields, independent of where it lies in the file.
#[derive(Debug, PartialEq, Eq)]
struct Seen<'a> {
    header: Option<(u64, u16, u16, u32)>,
    branches: Vec<Result<Branch<'a>, ()>>,
    leaves: Vec<Result<Leaf<'a>, ()>>,
    free: Result<Vec<u64>, ()>,
    inline: Vec<Seen<'a>>,
}

fn drain<'a>(data: &'a [u8], base: u64, depth: usize, budget: &mut usize) -> Seen<'a> {
    let mut seen = Seen { header: None, branches: Vec::new(), leaves: Vec::new(), free: Err(()), inline: Vec::new() };
    let Ok(page) = Page::header(0, Bytes::new(data, base)) else {
        assert!(data.len() < 16, "header of a {}-byte page failed", data.len());
        return seen;
    };
    seen.header = Some((page.header_id, page.flags, page.count, page.overflow));
    assert_eq!(page.offset(), base);
    let _ = (page.is_branch(), page.is_leaf(), page.type_name());
    // Element array entries past the page fail for every later index too
    // (the walk stops at the first one); two past the end are enough, and
    // a 65535 count on a short page stays cheap.
    let n = usize::from(page.count).min(data.len().saturating_sub(16) / 16 + 2);
    for i in 0..n {
        let e = page.branch(i);
        if let Ok(b) = &e {
            assert!(within(data, b.key));
        }
        seen.branches.push(e.map(|b| (b.key, b.child)).map_err(|_| ()));
    }
    for i in 0..n {
        let e = page.leaf(i);
        if let Ok(l) = &e {
            assert!(within(data, l.key) && within(data, l.value));
            // The value follows the key directly.
            assert_eq!(l.key.as_ptr_range().end, l.value.as_ptr());
            if l.is_bucket()
                && depth < MAX_NESTING
                && *budget > 0
                && let Some(inner) = l.value.get(BUCKET_HEADER_SIZE..)
            {
                *budget -= 1;
                seen.inline.push(drain(inner, base, depth + 1, budget));
            }
        }
        seen.leaves.push(e.map(|l| (l.flags, l.key, l.value)).map_err(|_| ()));
    }
    seen.free = match (page.freelist_span(), page.freelist_ids()) {
        (Ok((n, start)), Ok(ids)) => {
            let ids: Vec<u64> = ids.collect();
            assert_eq!(ids.len() as u64, n, "freelist yields a different number of ids than it claims");
            assert!(start + ids.len() * 8 <= data.len());
            Ok(ids)
        }
        (Err(_), Ok(_)) => panic!("freelist ids readable but span is not"),
        _ => Err(()),
    };
    seen
}

/// `bolt_page`: one page of arbitrary bytes.
pub fn bolt_page(data: &[u8]) {
    // The same bytes at offset 0 and near the top of the u64 offset range:
    // offsets only stamp error locations and must never overflow or change
    // what is read.
    let (mut b1, mut b2) = (MAX_INLINE_PAGES, MAX_INLINE_PAGES);
    let low = drain(data, 0, 0, &mut b1);
    let high = drain(data, u64::MAX - 16, 0, &mut b2);
    assert_eq!(low, high);
}

// ---- mvcc_key
fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// The canonical protobuf encoding of a KeyValue (proto3: zero fields omitted).
fn encode(kv: &KvRef<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    let bytes = |out: &mut Vec<u8>, field: u64, b: &[u8]| {
        if !b.is_empty() {
            put_varint(out, field << 3 | 2);
            put_varint(out, b.len() as u64);
            out.extend_from_slice(b);
        }
    };
    bytes(&mut out, 1, kv.key);
    for (field, v) in [(2, kv.create_revision), (3, kv.mod_revision), (4, kv.version)] {
        if v != 0 {
            put_varint(&mut out, field << 3);
            put_varint(&mut out, v as u64);
        }
    }
    bytes(&mut out, 5, kv.value);
    if kv.lease != 0 {
        put_varint(&mut out, 6 << 3);
        put_varint(&mut out, kv.lease as u64);
    }
    out
}

/// `inner` is borrowed from `outer` (empty slices may point anywhere).
fn within(outer: &[u8], inner: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr_range(), inner.as_ptr_range());
    inner.is_empty() || (o.start <= i.start && i.end <= o.end)
}

/// `mvcc_key`: arbitrary bytes as a `key`-bucket key and as its value.
pub fn mvcc_key(data: &[u8]) {
    // Revision keys: a parsed key re-encodes to the same bytes.
    if let Some(rev) = Revision::parse(data) {
        assert!(rev.main >= 0 && rev.sub >= 0);
        assert_eq!(rev.to_key(), data, "revision key does not round-trip");
        assert_eq!(Revision::main_of(data), Some(rev.main));
    }
    if data.len() >= 8 {
        assert!(Revision::main_of(data).is_some());
    }

    // KeyValue values.
    match kv::decode(data) {
        Ok(v) => {
            assert!(within(data, v.key) && within(data, v.value));
            assert!(kv::key_of(data).is_some(), "decode succeeds but key_of fails");
            let again = encode(&v);
            assert_eq!(kv::decode(&again), Ok(v), "re-encoded KeyValue decodes differently");
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
    if let Some(k) = kv::key_of(data) {
        assert!(within(data, k));
    }
}

// ---- bolt_file
/// `(code, offset, page)` of every finding, in report order.
fn positions(s: &DbScan) -> Vec<(&'static str, Option<u64>, Option<u64>)> {
    s.findings.iter().map(|f| (f.code, f.location.offset, f.location.page)).collect()
}

/// Scan `data` both ways; panic if the parallel walk disagrees with the
/// sequential one in any way (findings first, then every other field).
pub fn scan_both(data: &[u8], skip_trailer_hash: bool) -> DbScan {
    let seq = scan_db(data, ScanOptions { skip_trailer_hash, sequential: true, ..ScanOptions::default() });
    let par = scan_db(data, ScanOptions { skip_trailer_hash, sequential: false, ..ScanOptions::default() });
    assert_eq!(positions(&seq), positions(&par), "findings (code, offset, page) differ: sequential vs parallel");
    // Everything else (status numbers, buckets, counters, finding texts).
    let a = serde_json::to_string(&seq).unwrap_or_default();
    let b = serde_json::to_string(&par).unwrap_or_default();
    assert!(a == b, "scan results differ: sequential vs parallel\nseq: {a}\npar: {b}");
    check_invariants(&seq, data.len());
    seq
}

/// Cheap consistency rules every scan must satisfy.
fn check_invariants(s: &DbScan, len: usize) {
    assert_eq!(s.file_size, len as u64);
    if let (Some(st), Some(ps), Some(hwm)) = (&s.status, s.page_size, s.high_water_mark) {
        assert_eq!(st.total_size, hwm.saturating_mul(u64::from(ps)));
    }
    if s.status.is_none() {
        assert!(s.integrity_failed, "a file that does not open must count as refused");
        assert!(s.findings.iter().any(|f| f.severity == Severity::Damage), "unopenable file without a damage finding");
    }
    let total: u64 = s.buckets.iter().map(|b| b.entries).sum();
    if let Some(st) = &s.status {
        assert_eq!(st.total_key, total, "totalKey is not the sum of bucket entries");
    }
}

/// Render the scan the way `status` and `check` do, in every format.
pub fn render(scan: DbScan) {
    let path = Path::new("fuzz.db");
    let mut w = io::sink();
    use etcd_forensics::mvcc::version::{Applied, Writer};
    let applied = Applied::choose(None, Writer::of_scan(&scan));
    let status = StatusReport { path: path.to_path_buf(), scan, applied };
    let _ = status.outcome();
    let _ = status.anomalies().count();
    if status.refused() {
        let _ = status.refusal_message();
        assert!(output::status::print_refusal_json(&mut w, &status).is_ok());
    } else {
        for how in [WriteOut::Simple, WriteOut::Table, WriteOut::Json, WriteOut::Fields] {
            for compat in [false, true] {
                for style in [None, Some(output::table::Style::Unicode)] {
                    assert!(output::status::print(&mut w, &status, how, compat, style).is_ok());
                }
            }
        }
    }
    let scan = status.scan;
    let mut findings = scan.findings.clone();
    for f in &mut findings {
        f.location = std::mem::take(&mut f.location).with_file(path);
    }
    let damaged = findings.iter().any(|f| f.severity == Severity::Damage);
    let check = CheckReport {
        path: path.to_path_buf(),
        verdict: if damaged { "damaged" } else { "clean" },
        findings,
        findings_dropped: scan.findings_dropped,
        scan: Some(scan),
    };
    let _ = check.outcome();
    for how in [WriteOut::Simple, WriteOut::Json] {
        assert!(output::check::print(&mut w, &check, how).is_ok());
    }
}

/// `bolt_file`: a whole db or snapshot file (`skip_trailer_hash` as
/// `status --skip-hash-check`).
pub fn bolt_file(data: &[u8], skip_trailer_hash: bool) {
    let scan = scan_both(data, skip_trailer_hash);
    render(scan);
    space(data);
}

/// `space` on the same bytes: when the file opens, every page below
/// `min(HWM, pages in the file)` is counted exactly once, whatever the
/// damage; both printers render it.
pub fn space(data: &[u8]) {
    use etcd_forensics::jobs::space::{SpaceOptions, space_of};
    let opts = SpaceOptions { kubernetes: true, ..SpaceOptions::default() };
    let Ok(r) = space_of(data, Path::new("fuzz.db"), &opts) else { return };
    let f = &r.file;
    let covered = f.high_water_mark.min(f.pages_in_file).max(2);
    assert_eq!(f.pages.covered(), covered, "{:?}", f.pages);
    assert_eq!(covered + f.pages.past_hwm, f.pages_in_file);
    let mut w = io::sink();
    for how in [WriteOut::Table, WriteOut::Json] {
        assert!(output::space::print(&mut w, &r, how).is_ok());
    }
}

/// `k8s_value`: a `/registry/` value (the `k8s\0` envelope, JSON,
/// `k8s:enc:`) through `k8s::interpret`, the same bytes as a key through
/// `k8s::key::parse`, and, as `[type index, raw object bytes...]`, through
/// the k8s-pb type the index picks in `k8s::types::KNOWN`. No panics, and
/// every rendered object is valid JSON.
pub fn k8s_value(data: &[u8]) {
    use etcd_forensics::k8s;
    let check = |o: &k8s::Json| {
        let text = o.to_line();
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_ok(), "invalid JSON: {text}");
    };
    let _ = k8s::key::parse(data);
    for key in [b"/registry/pods/ns/name".as_slice(), data] {
        if let Some(v) = k8s::interpret(key, Some(data)) {
            if let Some(o) = &v.object {
                check(o);
            }
            let _ = serde_json::to_string(&v);
        }
    }
    if let Some((&i, raw)) = data.split_first() {
        let known = k8s::types::KNOWN;
        if let Some((api, kind)) = known.get(usize::from(i) % known.len()) {
            if let Ok(o) = k8s::types::render(api, kind, raw) {
                check(&o);
            }
        }
    }
}

/// `report_page`: arbitrary bytes as a db file through `report` (check,
/// space with the Kubernetes summary, SHA-256) and the HTML printer. No
/// panics; the page never holds a script or an element made from the
/// data, whatever the keys and values are.
pub fn report_page(data: &[u8], verdict: Option<&str>) {
    use etcd_forensics::jobs::report::{ReportOptions, build};
    thread_local! {
        static PATH: std::path::PathBuf =
            std::env::temp_dir().join(format!("etcd-forensics-fuzz-report-{}.db", std::process::id()));
    }
    let path = PATH.with(|p| p.clone());
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let r = build(std::slice::from_ref(&path), &ReportOptions { generated_at: Some(0), ..ReportOptions::default() });
    let Ok(r) = r else { return };
    if let Some(want) = verdict {
        let got: Vec<&str> = r.subjects.iter().map(|s| s.check.verdict()).collect();
        assert_eq!(got, vec![want], "verdict of an unedited fixture");
    }
    let html = output::html::render(&r);
    assert!(!html.contains("<script"), "a script in the page");
    assert!(!html.contains("<img"), "markup from the data");
    assert!(html.trim_end().ends_with("</html>"), "a whole page");
}

/// Every read-only query job on a db, as `get`, `history`, `hashkv`,
/// `buckets`, `leases`, `members`, `auth`, `alarms`, `meta` and `diff` run
/// them, each through its printers in every format: no panics, printers
/// never fail, `get` answers stay inside their range and limit and in key
/// order, and `diff` of `other` (the undamaged file) with itself is
/// identical.
pub fn db_jobs(data: &[u8], other: &[u8], rev: i64, key: &[u8]) {
    use etcd_forensics::jobs::diff::diff;
    use etcd_forensics::jobs::inspect::{GetOptions, ResponseHeader, Store};
    use etcd_forensics::mvcc::index::KeyRange;
    use etcd_forensics::output::WriteOut;
    use etcd_forensics::output::diff::print as print_diff;
    use etcd_forensics::output::inspect::{self as out, GetStyle};

    const FORMATS: [WriteOut; 4] = [WriteOut::Simple, WriteOut::Table, WriteOut::Json, WriteOut::Fields];
    let mut w = io::sink();
    let Ok(store) = Store::open_for(data, Path::new("fuzz.db"), None) else { return };
    let header = ResponseHeader { cluster_id: 1, member_id: 2, revision: rev, raft_term: 3 };
    let queries = [
        GetOptions { range: KeyRange::everything(), rev: 0, limit: 0 },
        GetOptions { range: KeyRange::prefix(key), rev, limit: 3 },
        GetOptions { range: KeyRange::single(key), rev, limit: 0 },
    ];
    for q in &queries {
        let Ok(a) = store.get(header, q) else { continue };
        assert!(a.kvs.len() as u64 <= a.count, "{} kvs of {}", a.kvs.len(), a.count);
        assert!(q.limit == 0 || a.kvs.len() as u64 <= q.limit);
        assert_eq!(a.more, q.limit != 0 && a.count > q.limit);
        let keys: Vec<&[u8]> = a.kvs.iter().map(|s| s.kv().key).collect();
        assert!(keys.windows(2).all(|p| p[0] < p[1]), "get answers in key order, once each");
        assert!(keys.iter().all(|k| q.range.contains(k)), "get answers inside the range");
        for how in FORMATS {
            for (keys_only, print_value_only, raw) in [(false, false, false), (true, false, true), (false, true, false)]
            {
                let style = GetStyle { keys_only, print_value_only, raw };
                assert!(out::print_get(&mut w, &a, how, style).is_ok());
            }
        }
    }
    let h = store.history(key);
    let hashkv = store.hashkv(rev);
    let buckets = store.buckets();
    let leases = store.leases();
    let members = store.members();
    let auth = store.auth();
    let alarms = store.alarms();
    let meta = store.meta();
    for how in FORMATS {
        assert!(out::print_history(&mut w, &h, how, false).is_ok());
        assert!(out::print_history(&mut w, &h, how, true).is_ok());
        if let Ok(a) = &hashkv {
            assert!(out::print_hashkv(&mut w, a, how).is_ok());
        }
        assert!(out::print_buckets(&mut w, &buckets, how).is_ok());
        if let Ok(l) = &leases {
            assert!(out::print_leases(&mut w, l, how, false).is_ok());
            assert!(out::print_leases(&mut w, l, how, true).is_ok());
        }
        if let Ok(m) = &members {
            assert!(out::print_members(&mut w, m, how).is_ok());
        }
        if let Ok(a) = &auth {
            assert!(out::print_auth(&mut w, a, how).is_ok());
        }
        if let Ok((a, _)) = &alarms {
            assert!(out::print_alarms(&mut w, a, how).is_ok());
        }
        if let Ok(m) = &meta {
            assert!(out::print_meta(&mut w, m, how).is_ok());
        }
    }
    if let Ok(orig) = Store::open_for(other, Path::new("orig.db"), None) {
        // once per fixture: the undamaged file is the same on every run
        static SELF_DIFF: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());
        if let Ok(mut seen) = SELF_DIFF.lock() {
            if !seen.contains(&other.len()) {
                assert!(diff(&orig, &orig).identical(), "a store differs from itself");
                seen.push(other.len());
            }
        }
        let r = diff(&store, &orig);
        for how in FORMATS {
            assert!(print_diff(&mut w, &r, how).is_ok());
        }
    }
}
