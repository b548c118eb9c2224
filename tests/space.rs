//! `space` on the real-etcd fixtures: every page counted once, bbolt's
//! `Bucket.Stats()` per bucket equal to a page-by-page count done here from
//! the raw bytes, key counts equal to `etcdutl snapshot status` and the
//! golden `get`, and the defrag estimate equal to the size of the file
//! real `etcdutl defrag` (3.5.1) writes. Inputs are never modified.

use std::path::Path;

use serde_json::Value;

use crate::util;

const FIXTURES: [&str; 6] = [
    "tiny/member-db",
    "tiny/snapshot.db",
    "v3.4.23/member-db",
    "v3.4.23/snapshot.db",
    "v3.5.1/member-db",
    "v3.5.1/snapshot.db",
];

/// `space -w json` of `path`; the exit code must be `code`; the input must not change.
fn space_json(path: &Path, extra: &[&str], code: i32) -> Value {
    let db = if path.is_dir() { path.join("member/snap/db") } else { path.to_path_buf() };
    let before = util::file_fingerprint(&db);
    let mut args = vec!["space".to_string(), path.display().to_string(), "-w".into(), "json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = util::ours(&args);
    util::assert_unchanged(&db, &before);
    assert_eq!(out.status.code(), Some(code), "{}", util::show(&out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&out)))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a u64: {v}"))
}

/// The page counts add up to the file's pages and to the HWM.
fn assert_pages_add_up(v: &Value, what: &str) {
    let f = &v["file"];
    let p = &f["pages"];
    let ps = u(&f["pageSize"]);
    let size = u(&f["fileSize"]);
    let hwm = u(&f["highWaterMark"]);
    let covered: u64 =
        ["meta", "freelist", "branch", "branchOverflow", "leaf", "leafOverflow", "free", "unreachable", "damaged"]
            .iter()
            .map(|k| u(&p[*k]))
            .sum();
    assert_eq!(covered + u(&p["pastHwm"]), size / ps, "{what}: pages in the file");
    assert_eq!(u(&f["pagesInFile"]), size / ps, "{what}");
    assert_eq!(u(&f["tailBytes"]), size % ps, "{what}");
    assert_eq!(covered + u(&p["missing"]), hwm, "{what}: HWM");
    assert_eq!(u(&f["logicalSize"]), hwm * ps, "{what}");
}

#[test]
fn pages_add_up_on_every_fixture() {
    for f in FIXTURES {
        let path = util::fixture(f);
        let v = space_json(&path, &[], 0);
        assert_pages_add_up(&v, f);
        let file = &v["file"];
        assert_eq!(u(&file["fileSize"]), std::fs::metadata(&path).unwrap().len(), "{f}");
        // bbolt 1.3.6 with etcd's unpersisted freelist: the file ends at the
        // HWM (plus the trailer of a snapshot), nothing damaged.
        assert_eq!(u(&file["pages"]["pastHwm"]), 0, "{f}");
        assert_eq!(u(&file["tailBytes"]), if f.ends_with("snapshot.db") { 32 } else { 0 }, "{f}");
        assert_eq!(file["freelistPersisted"], false, "{f}");
        assert_eq!(u(&file["pages"]["damaged"]), 0, "{f}");
        assert!(v["findings"].as_array().unwrap().is_empty(), "{f}: {}", v["findings"]);
    }
    // A data dir reads its member/snap/db.
    let (_t, dir) = util::dir_with_db(&util::fixture("v3.5.1/member-db"));
    let d = space_json(&dir, &[], 0);
    let f = space_json(&util::fixture("v3.5.1/member-db"), &[], 0);
    assert_eq!(d["file"], f["file"]);
    assert_eq!(d["buckets"], f["buckets"]);
}

// ---------------------------------------------------------------------------
// bbolt's Bucket.Stats(), counted here from the raw bytes

fn le16(b: &[u8], at: usize) -> u64 {
    u64::from(u16::from_le_bytes(b[at..at + 2].try_into().unwrap()))
}
fn le32(b: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(b[at..at + 4].try_into().unwrap()))
}
fn le64(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Stats {
    branch_page_n: u64,
    branch_overflow_n: u64,
    leaf_page_n: u64,
    leaf_overflow_n: u64,
    key_n: u64,
    depth: u64,
    branch_alloc: u64,
    branch_inuse: u64,
    leaf_alloc: u64,
    leaf_inuse: u64,
    bucket_n: u64,
    inline_bucket_n: u64,
    inline_bucket_inuse: u64,
}

impl Stats {
    fn from_json(v: &Value) -> Stats {
        Stats {
            branch_page_n: u(&v["branchPageN"]),
            branch_overflow_n: u(&v["branchOverflowN"]),
            leaf_page_n: u(&v["leafPageN"]),
            leaf_overflow_n: u(&v["leafOverflowN"]),
            key_n: u(&v["keyN"]),
            depth: u(&v["depth"]),
            branch_alloc: u(&v["branchAlloc"]),
            branch_inuse: u(&v["branchInuse"]),
            leaf_alloc: u(&v["leafAlloc"]),
            leaf_inuse: u(&v["leafInuse"]),
            bucket_n: u(&v["bucketN"]),
            inline_bucket_n: u(&v["inlineBucketN"]),
            inline_bucket_inuse: u(&v["inlineBucketInuse"]),
        }
    }
}

/// In-use bytes of the page at `p` (its header first), as bucket.go counts:
/// up to the end of the last element's payload.
fn in_use(p: &[u8]) -> u64 {
    let (leaf, count) = (le16(p, 8) == 2, le16(p, 10) as usize);
    if count == 0 {
        return 16;
    }
    let e = 16 + 16 * (count - 1);
    if leaf {
        e as u64 + le32(p, e + 4) + le32(p, e + 8) + le32(p, e + 12)
    } else {
        e as u64 + le32(p, e) + le32(p, e + 4)
    }
}

/// A leaf element: flags, key, value.
type Elem<'a> = (u64, &'a [u8], &'a [u8]);

/// Leaf elements of the page at `p`.
fn leaf_elems(p: &[u8]) -> Vec<Elem<'_>> {
    (0..le16(p, 10) as usize)
        .map(|i| {
            let e = 16 + 16 * i;
            let (pos, k, v) = (le32(p, e + 4) as usize, le32(p, e + 8) as usize, le32(p, e + 12) as usize);
            (le32(p, e), &p[e + pos..e + pos + k], &p[e + pos + k..e + pos + k + v])
        })
        .collect()
}

/// `Bucket.Stats()` of the bucket whose header value is `header`.
fn bucket_stats(file: &[u8], ps: usize, header: &[u8]) -> Stats {
    let root = le64(header, 0);
    let mut s = Stats { bucket_n: 1, ..Stats::default() };
    if root == 0 {
        let page = &header[16..];
        s.inline_bucket_n = 1;
        s.key_n = le16(page, 10);
        s.inline_bucket_inuse = in_use(page);
        s.depth = 1;
        return s;
    }
    let mut stack = vec![(root, 0u64)];
    while let Some((id, depth)) = stack.pop() {
        let p = &file[id as usize * ps..];
        s.depth = s.depth.max(depth + 1);
        let (count, overflow) = (le16(p, 10), le32(p, 12));
        match le16(p, 8) {
            1 => {
                s.branch_page_n += 1;
                s.branch_overflow_n += overflow;
                s.branch_inuse += in_use(p);
                for i in 0..count as usize {
                    stack.push((le64(p, 16 + 16 * i + 8), depth + 1));
                }
            }
            2 => {
                s.leaf_page_n += 1;
                s.leaf_overflow_n += overflow;
                s.leaf_inuse += in_use(p);
                s.key_n += count;
                assert!(leaf_elems(p).iter().all(|(f, _, _)| *f == 0), "etcd never nests buckets");
            }
            t => panic!("page {id}: type {t}"),
        }
    }
    s.branch_alloc = (s.branch_page_n + s.branch_overflow_n) * ps as u64;
    s.leaf_alloc = (s.leaf_page_n + s.leaf_overflow_n) * ps as u64;
    s
}

/// The page size, the current meta's offset, and the root bucket's leaf
/// (a single leaf page in every fixture): name and header of each bucket.
fn root_leaf(file: &[u8]) -> (usize, usize, Vec<Elem<'_>>) {
    let ps = le32(file, 24) as usize;
    let meta = if le64(file, ps + 64) > le64(file, 64) { ps } else { 0 };
    let root = le64(file, meta + 32) as usize;
    let page = &file[root * ps..(root + 1) * ps];
    assert_eq!(le16(page, 8), 2, "root bucket is one leaf");
    (ps, meta, leaf_elems(page))
}

/// Every top-level bucket's stats, and the HWM.
fn stats_by_hand(path: &Path) -> (Vec<(String, Stats)>, u64) {
    let file = std::fs::read(path).unwrap();
    let (ps, meta, buckets) = root_leaf(&file);
    let out = buckets
        .into_iter()
        .map(|(_, name, header)| (String::from_utf8(name.to_vec()).unwrap(), bucket_stats(&file, ps, header)))
        .collect();
    (out, le64(&file, meta + 56))
}

/// The first leaf page of the `key` bucket (a paged bucket).
fn first_key_leaf(file: &[u8]) -> usize {
    let (ps, _, buckets) = root_leaf(file);
    let (_, _, header) = buckets.into_iter().find(|(_, n, _)| *n == b"key").unwrap();
    let mut id = le64(header, 0) as usize;
    while le16(&file[id * ps..], 8) == 1 {
        id = le64(&file[id * ps..], 16 + 8) as usize;
    }
    id
}

#[test]
fn bucket_stats_equal_a_page_by_page_count() {
    for f in FIXTURES {
        let path = util::fixture(f);
        let v = space_json(&path, &[], 0);
        let (want, hwm) = stats_by_hand(&path);
        let got: Vec<(String, Stats)> = v["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| (b["name"].as_str().unwrap().to_string(), Stats::from_json(&b["stats"])))
            .collect();
        assert_eq!(got, want, "{f}");
        // `bbolt stats`: the sum, depth the maximum.
        let total = Stats::from_json(&v["total"]);
        let sum = |g: fn(&Stats) -> u64| want.iter().map(|(_, s)| g(s)).sum::<u64>();
        assert_eq!(total.key_n, sum(|s| s.key_n), "{f}");
        assert_eq!(total.leaf_inuse, sum(|s| s.leaf_inuse), "{f}");
        assert_eq!(total.bucket_n, want.len() as u64, "{f}");
        assert_eq!(total.depth, want.iter().map(|(_, s)| s.depth).max().unwrap(), "{f}");
        // Pages: the trees plus the root leaf and the metas; the rest is free.
        let p = &v["file"]["pages"];
        let tree_pages = sum(|s| s.branch_page_n + s.branch_overflow_n + s.leaf_page_n + s.leaf_overflow_n);
        assert_eq!(u(&p["branch"]) + u(&p["branchOverflow"]) + u(&p["leaf"]) + u(&p["leafOverflow"]), tree_pages + 1);
        assert_eq!(u(&p["unreachable"]), hwm - 2 - tree_pages - 1, "{f}");
        // Leaf fill histogram: one entry per leaf page.
        let fill: u64 = v["leafFill"].as_array().unwrap().iter().map(u).sum();
        assert_eq!(fill, sum(|s| s.leaf_page_n) + 1, "{f}: the root leaf counts too");
    }
}

/// The tiny fixture by hand: three puts; every bucket is inline, the key
/// bucket too (3 revisions fit pageSize / 4 = 1024 bytes).
#[test]
fn tiny_fixture_by_hand() {
    let v = space_json(&util::fixture("tiny/member-db"), &[], 0);
    let key = v["buckets"].as_array().unwrap().iter().find(|b| b["name"] == "key").unwrap();
    let s = Stats::from_json(&key["stats"]);
    assert_eq!((s.key_n, s.inline_bucket_n, s.leaf_page_n, s.depth), (3, 1, 0, 1));
    let k = &v["keys"];
    assert_eq!(u(&k["groupCount"]), 2, "foo and hello");
    let foo = k["groups"].as_array().unwrap().iter().find(|g| g["prefix"] == "foo").unwrap();
    assert_eq!((u(&foo["keys"]), u(&foo["revisions"]), u(&foo["liveKeys"])), (1, 2, 1));
    assert!(u(&foo["supersededBytes"]) > 0 && u(&foo["tombstoneBytes"]) == 0);
    // Inline: the key bucket's bytes (16-byte header, 16 per element, keys, values) are its in-use bytes.
    assert_eq!(u(&k["total"]["totalBytes"]) + 16, s.inline_bucket_inuse);
}

#[test]
fn key_counts_equal_etcdutl_status_and_golden_get() {
    for (dir, live_rev) in [("tiny", 4), ("v3.4.23", 262), ("v3.5.1", 262)] {
        for file in ["member-db", "snapshot.db"] {
            let f = format!("{dir}/{file}");
            let v = space_json(&util::fixture(&f), &[], 0);
            let stem = file.trim_end_matches(".db"); // snapshot.status.*, member-db.status.*
            let status = std::fs::read_to_string(util::fixture(format!("{dir}/{stem}.status.etcdutl.json"))).unwrap();
            let status: Value = serde_json::from_str(&status).unwrap();
            // etcdutl's totalKey counts the entries of every bucket.
            assert_eq!(u(&v["total"]["keyN"]), u(&status["totalKey"]), "{f}");
            assert_eq!(u(&v["file"]["logicalSize"]), u(&status["totalSize"]), "{f}");
            let k = &v["keys"];
            let key_bucket = v["buckets"].as_array().unwrap().iter().find(|b| b["name"] == "key").unwrap();
            assert_eq!(
                u(&k["total"]["revisions"]) + u(&k["unreadableEntries"]),
                u(&key_bucket["stats"]["keyN"]),
                "{f}"
            );
            let get: Value = serde_json::from_str(
                &std::fs::read_to_string(util::fixture(format!("{dir}/get-rev-{live_rev}.json"))).unwrap(),
            )
            .unwrap();
            assert_eq!(u(&k["total"]["liveKeys"]), u(&get["count"]), "{f}: live keys = etcdctl get --prefix count");
            let t = &k["total"];
            assert_eq!(u(&t["totalBytes"]), u(&t["currentBytes"]) + u(&t["compactableBytes"]), "{f}");
            assert_eq!(u(&t["compactableBytes"]), u(&t["supersededBytes"]) + u(&t["tombstoneBytes"]), "{f}");
            // A paged key bucket: entry bytes + one 16-byte header per leaf page = LeafInuse.
            let s = Stats::from_json(&key_bucket["stats"]);
            if s.leaf_page_n > 0 {
                assert_eq!(u(&t["totalBytes"]) + 16 * s.leaf_page_n, s.leaf_inuse, "{f}");
            }
            // The groups (and "(other)") add up to the total.
            let groups = k["groups"].as_array().unwrap();
            for field in ["keys", "liveKeys", "revisions", "totalBytes", "compactableBytes"] {
                assert_eq!(groups.iter().map(|g| u(&g[field])).sum::<u64>(), u(&t[field]), "{f}: {field}");
            }
        }
    }
    // Prefix depth and top: the full workload's groups at depth 1.
    let v = space_json(&util::fixture("v3.5.1/member-db"), &["--prefix-depth", "1", "--top", "3"], 0);
    let groups: Vec<&str> =
        v["keys"]["groups"].as_array().unwrap().iter().map(|g| g["prefix"].as_str().unwrap()).collect();
    assert_eq!(groups, ["/bulk", "/large", "/hot", "(other)"]);
    let hot = &v["keys"]["groups"][2];
    assert_eq!(
        (u(&hot["keys"]), u(&hot["revisions"]), hot["maxRevisionsKey"].as_str()),
        (1, 101, Some("/hot/counter"))
    );
    assert_eq!(u(&v["keys"]["groupCount"]), 6, "/bulk /hot /large /lease /plain /txn (/tmp was compacted away)");
}

// ---------------------------------------------------------------------------
// Defrag estimate against real etcdutl defrag

/// Our estimate and the size of the file `etcdutl defrag` writes from a copy.
fn estimate_and_real(bins: &util::EtcdBins, db: &Path) -> (Value, u64) {
    let v = space_json(db, &[], 0);
    let (_t, dir) = util::dir_with_db(db);
    util::assert_success(&util::etcdutl(bins, ["defrag", "--data-dir", &dir.display().to_string()]));
    (v, std::fs::metadata(dir.join("member/snap/db")).unwrap().len())
}

#[test]
fn defrag_estimate_equals_etcdutl_defrag_on_fixtures() {
    let Some(bins) = util::require_etcd35() else { return };
    for f in FIXTURES {
        let path = util::fixture(f);
        let (v, real) = estimate_and_real(&bins, &path);
        let d = &v["defrag"];
        assert_eq!(d["exact"], true, "{f}: one commit");
        assert_eq!(u(&d["fileSize"]), real, "{f}: estimate vs etcdutl defrag");
        let size = std::fs::metadata(&path).unwrap().len();
        assert_eq!(d["reclaimable"].as_i64().unwrap(), size as i64 - real as i64, "{f}");
    }
}

/// More than 10 000 entries: etcd's defrag commits every 10 000 puts and
/// bbolt rewrites (and frees) the right edge of the tree at each commit;
/// the pages the last commit frees stay free in the file. Exact for small
/// values, a few pages short with multi-page leaves.
#[test]
fn defrag_estimate_with_several_commits_equals_etcdutl_defrag() {
    let Some(bins) = util::require_etcd35() else { return };
    use etcd_forensics::bolt::write::{Bucket, WriteOptions, write_db};
    use etcd_forensics::mvcc::Revision;
    use etcd_forensics::proto::mvccpb::KeyValue;
    use prost::Message;
    let tmp = tempfile::tempdir().unwrap();
    // (revisions, value bytes): a 3-level tree; a wide one; values of two
    // pages (overflow runs that need contiguous free pages).
    for (n, value_len) in [(25_000usize, 100usize), (45_000, 20), (10_500, 5_000)] {
        let kvs: Vec<(Vec<u8>, Vec<u8>)> = (1..=n as i64)
            .map(|i| {
                let kv = KeyValue {
                    key: format!("/k/{i:06}").into_bytes(),
                    create_revision: i,
                    mod_revision: i,
                    version: 1,
                    value: vec![b'v'; value_len],
                    lease: 0,
                };
                (Revision { main: i, sub: 0, tombstone: false }.to_key(), kv.encode_to_vec())
            })
            .collect();
        let entries = kvs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
        let meta = vec![(&b"consistent_index"[..], &[0, 0, 0, 0, 0, 0, 0, 9][..])];
        let buckets = vec![Bucket { name: b"key", entries }, Bucket { name: b"meta", entries: meta }];
        let mut bytes = Vec::new();
        write_db(&buckets, WriteOptions { page_size: 4096, fill_percent: 0.5 }, &mut bytes).unwrap();
        let db = tmp.path().join(format!("db-{n}"));
        std::fs::write(&db, &bytes).unwrap();
        let (v, real) = estimate_and_real(&bins, &db);
        let d = &v["defrag"];
        let est = u(&d["fileSize"]);
        assert_eq!(d["exact"], false);
        assert_eq!(u(&d["commits"]), 1 + (n as u64 + 1) / 10_001);
        eprintln!("{n} entries of {value_len} bytes: estimate {est}, etcdutl defrag {real}");
        if value_len < 1000 {
            assert_eq!(est, real, "{n} entries: the model of the last commit's freed pages");
        } else {
            // Leaves of two 5 KB values are 3-page runs: the model counts one
            // page per level of the rewritten edge and misses the rest of
            // the run (measured: 4 pages of 15 800 short).
            assert!(real >= est && real - est <= 8 * 4096, "{n} entries: estimate {est}, real {real}");
        }
    }
}

// ---------------------------------------------------------------------------
// Damage and refusal

#[test]
fn damage_is_reported_with_exit_1_and_pages_still_add_up() {
    let (_t, copy) = util::copy_to_temp("v3.5.1/member-db");
    let clean = space_json(&copy, &[], 0);
    let mut bytes = std::fs::read(&copy).unwrap();
    let ps = 4096;
    let leaf = first_key_leaf(&bytes);
    bytes[leaf * ps + 8] = 0x20; // invalid page type
    std::fs::write(&copy, &bytes).unwrap();
    let v = space_json(&copy, &[], 1);
    assert_pages_add_up(&v, "damaged copy");
    assert_eq!(u(&v["file"]["pages"]["damaged"]), 1);
    assert_eq!(u(&v["file"]["pages"]["leaf"]), u(&clean["file"]["pages"]["leaf"]) - 1);
    assert!(
        v["findings"].as_array().unwrap().iter().any(|f| f["code"] == "bolt.page.invalid_type"),
        "{}",
        v["findings"]
    );
    // Table output says so too, and still reports.
    let out = util::ours(["space", &copy.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("invalid type") && text.contains("defrag estimate"), "{text}");

    // Truncated: the HWM claims pages the file lacks.
    let (_t2, cut) = util::copy_to_temp("v3.5.1/member-db");
    let bytes = std::fs::read(&cut).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 10 * ps]).unwrap();
    let v = space_json(&cut, &[], 1);
    assert_pages_add_up(&v, "truncated copy");
    assert_eq!(u(&v["file"]["pages"]["missing"]), 10);
}

/// `space` on any bytes (damaged fixtures, saved fuzz inputs; called from
/// `inspect::all_inspections`): no panic, and when the file opens every
/// page is counted exactly once.
pub fn space_invariants(data: &[u8]) {
    use etcd_forensics::jobs::space::{SpaceOptions, space_of};
    use etcd_forensics::output::{WriteOut, space::print};
    let Ok(r) = space_of(data, Path::new("fuzz"), &SpaceOptions::default()) else { return };
    let f = &r.file;
    let covered = f.high_water_mark.min(f.pages_in_file).max(2);
    assert_eq!(f.pages.covered(), covered, "{:?}", f.pages);
    assert_eq!(covered + f.pages.past_hwm, f.pages_in_file);
    for how in [WriteOut::Table, WriteOut::Json] {
        print(&mut std::io::sink(), &r, how).unwrap();
    }
}

#[test]
fn not_a_bbolt_file_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let junk = tmp.path().join("junk");
    std::fs::write(&junk, vec![0xA5u8; 100_000]).unwrap();
    let out = util::ours(["space", &junk.display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    let out = util::ours(["space", &tmp.path().join("missing").display().to_string()]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    let out = util::ours(["space", &junk.display().to_string(), "--prefix-depth", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
}
