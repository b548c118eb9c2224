//! Damage injected into copies of real-etcd fixtures: each is found, with
//! the right page, and clean files stay clean. Inputs are never modified.

use std::path::{Path, PathBuf};

use serde_json::Value;

use etcd_forensics::bolt::layout::{BRANCH_FLAG, LEAF_FLAG, NO_FREELIST};
use etcd_forensics::bolt::meta::fnv1a64;

use crate::util;

const PS: usize = 4096;

struct Run {
    code: i32,
    json: Value,
}

fn check(path: &Path) -> Run {
    let before = util::file_fingerprint(path);
    let out = util::ours(["check", "-w", "json", &path.display().to_string()]);
    util::assert_unchanged(path, &before);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&out)));
    Run { code: out.status.code().unwrap_or(-1), json }
}

fn findings(r: &Run) -> Vec<&Value> {
    r.json["findings"].as_array().unwrap().iter().collect()
}

fn damage_codes(r: &Run) -> Vec<String> {
    findings(r)
        .into_iter()
        .filter(|f| f["severity"] == "damage")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn has(r: &Run, code: &str, page: Option<u64>) -> bool {
    findings(r).iter().any(|f| f["code"] == code && (page.is_none() || f["location"]["page"].as_u64() == page))
}

/// A copy of a fixture, modified by `f`.
fn damaged(name: &str, f: impl FnOnce(&mut Vec<u8>)) -> (tempfile::TempDir, PathBuf) {
    let (dir, path) = util::copy_to_temp(util::fixture(name));
    let mut b = std::fs::read(&path).unwrap();
    f(&mut b);
    std::fs::write(&path, &b).unwrap();
    (dir, path)
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap())
}
fn u16_at(b: &[u8], off: usize) -> u16 {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap())
}
fn hwm(b: &[u8]) -> u64 {
    let m0 = u64_at(b, 64);
    let m1 = u64_at(b, PS + 64);
    if m1 > m0 { u64_at(b, PS + 56) } else { u64_at(b, 56) }
}

/// Pages of the `key` bucket of the given type: their first key is a
/// 17-byte revision key (`key` holds nothing else).
fn key_bucket_pages(b: &[u8], flags: u16) -> Vec<u64> {
    (2..hwm(b))
        .filter(|&id| {
            let p = id as usize * PS;
            if u64_at(b, p) != id || u16_at(b, p + 8) != flags || u16_at(b, p + 10) == 0 {
                return false;
            }
            let ksize_off = if flags == BRANCH_FLAG { p + 16 + 4 } else { p + 16 + 8 };
            let ksize = u32::from_le_bytes(b[ksize_off..ksize_off + 4].try_into().unwrap());
            ksize == 17
        })
        .collect()
}

const FIX: &str = "v3.5.1/member-db";

#[test]
fn clean_fixtures_have_no_findings() {
    for f in crate::status_parity::fixture_files() {
        let r = check(&f);
        assert_eq!(r.code, 0, "{}: {}", f.display(), r.json);
        assert_eq!(r.json["verdict"], "clean");
        let bad: Vec<_> = findings(&r).into_iter().filter(|x| x["severity"] != "info").collect();
        assert!(bad.is_empty(), "{}: {bad:?}", f.display());
    }
}

#[test]
fn flipped_byte_in_meta0_is_damage_but_nothing_is_lost() {
    let (_d, p) = damaged(FIX, |b| b[64] ^= 0x01); // meta 0 txid, inside the checksum
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert!(has(&r, "bolt.meta.invalid", Some(0)), "{}", r.json);
    assert_eq!(damage_codes(&r), vec!["bolt.meta.invalid"]);
    // status still answers (as etcdutl does) and names the anomaly
    let out = util::ours(["status", "-w", "json", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    let clean: Value =
        serde_json::from_slice(&util::ours(["status", "-w", "json", &util::fixture(FIX).display().to_string()]).stdout)
            .unwrap();
    for k in ["hash", "revision", "totalKey", "totalSize"] {
        assert_eq!(st[k], clean[k], "{k}");
    }
    assert!(st["metas"][0].as_str().unwrap().contains("checksum"), "{st}");
    if let Some(e35) = util::require_etcd35() {
        let theirs: Value = serde_json::from_str(&util::assert_success(&util::etcdutl(
            &e35,
            ["snapshot", "status", "-w", "json", &p.display().to_string()],
        )))
        .unwrap();
        assert_eq!(st["hash"], theirs["hash"]);
    }
}

#[test]
fn both_metas_bad_is_refused() {
    let (_d, p) = damaged(FIX, |b| {
        b[20] ^= 0xff;
        b[PS + 72] ^= 0xff;
    });
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert!(has(&r, "bolt.meta.invalid", Some(0)) && has(&r, "bolt.meta.invalid", Some(1)), "{}", r.json);
    assert!(has(&r, "bolt.open", None));
    let out = util::ours(["status", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("integrity check failed"));
}

#[test]
fn flipped_child_pointer_in_a_branch_page_names_the_page_and_revisions() {
    let orig = std::fs::read(util::fixture(FIX)).unwrap();
    let branches = key_bucket_pages(&orig, BRANCH_FLAG);
    let &branch = branches.first().expect("fixture has a key-bucket branch page");
    // element 1's child pgid: set a high byte -> far past the high-water mark
    let (_d, p) = damaged(FIX, |b| b[branch as usize * PS + 16 + 16 + 8 + 3] ^= 0x40);
    let r = check(&p);
    assert_eq!(r.code, 1);
    let f = findings(&r).into_iter().find(|f| f["code"] == "bolt.page.out_of_bounds").expect("out of bounds finding");
    assert_eq!(f["bucket"], "key");
    let revs = &f["revisions"];
    assert!(revs["first"].as_i64().unwrap() > 0, "{f}");
    // The lost pages are reported as free (unreachable), not as a crash.
    let out = util::ours(["status", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn branch_pointer_looping_back_is_a_cycle_not_a_hang() {
    let orig = std::fs::read(util::fixture(FIX)).unwrap();
    let &branch = key_bucket_pages(&orig, BRANCH_FLAG).first().unwrap();
    let (_d, p) = damaged(FIX, |b| {
        let off = branch as usize * PS + 16 + 16 + 8;
        b[off..off + 8].copy_from_slice(&branch.to_le_bytes());
    });
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert!(has(&r, "bolt.page.multiple_references", Some(branch)), "{}", r.json);
}

#[test]
fn flipped_key_in_a_key_bucket_leaf_names_page_and_revisions() {
    let orig = std::fs::read(util::fixture(FIX)).unwrap();
    let leaves = key_bucket_pages(&orig, LEAF_FLAG);
    let leaf = leaves[leaves.len() / 2];
    // element 1's key: its first byte (top of the main revision)
    let (_d, p) = damaged(FIX, |b| {
        let e = leaf as usize * PS + 16 + 16;
        let pos = u32::from_le_bytes(b[e + 4..e + 8].try_into().unwrap()) as usize;
        b[e + pos] ^= 0x10;
    });
    let r = check(&p);
    assert_eq!(r.code, 1);
    let f = findings(&r)
        .into_iter()
        .find(|f| f["code"] == "bolt.leaf.key_order" && f["location"]["page"] == leaf)
        .unwrap_or_else(|| panic!("{}", r.json));
    assert_eq!(f["bucket"], "key");
    assert_eq!(f["pageType"], "leaf");
    assert!(f["revisions"]["first"].as_i64().is_some(), "{f}");
}

#[test]
fn flipped_byte_in_a_value_is_damage_status_still_answers() {
    let orig = std::fs::read(util::fixture(FIX)).unwrap();
    let leaves = key_bucket_pages(&orig, LEAF_FLAG);
    let leaf = leaves[0];
    // element 0's value: its first byte is the KeyValue tag 0x0a; make it a bad wire type
    let (_d, p) = damaged(FIX, |b| {
        let e = leaf as usize * PS + 16;
        let pos = u32::from_le_bytes(b[e + 4..e + 8].try_into().unwrap()) as usize;
        let ksize = u32::from_le_bytes(b[e + 8..e + 12].try_into().unwrap()) as usize;
        b[e + pos + ksize] = 0x0f;
    });
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert!(has(&r, "mvcc.value.undecodable", Some(leaf)), "{}", r.json);
    let out = util::ours(["status", "-w", "json", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(st["anomalies"].as_array().is_some_and(|a| !a.is_empty()), "{st}");
}

#[test]
fn truncated_file() {
    let (_d, p) = damaged(FIX, |b| b.truncate(b.len() / 2));
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert!(has(&r, "bolt.size.truncated", None), "{}", r.json);
    assert!(has(&r, "bolt.page.past_eof", None), "{}", r.json);
    assert_eq!(util::ours(["status", &p.display().to_string()]).status.code(), Some(1));
}

#[test]
fn wrong_trailer_is_damage_status_still_answers() {
    let (_d, p) = damaged("v3.5.1/snapshot.db", |b| {
        let n = b.len();
        b[n - 1] ^= 0xff;
    });
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert_eq!(damage_codes(&r), vec!["snapshot.trailer.mismatch"]);
    // status, like etcdutl, does not hash the file unless asked to
    let plain = util::ours(["status", "-w", "json", &p.display().to_string()]);
    assert_eq!(plain.status.code(), Some(0));
    let st: Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert_eq!(st["trailer"], "unverified");
    let out = util::ours(["status", "--verify-trailer", "-w", "json", &p.display().to_string()]);
    assert_eq!(out.status.code(), Some(1));
    let st: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["trailer"], "mismatch");
    assert_eq!(st["revision"], 262);
}

#[test]
fn empty_and_random_files_are_damage_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::write(&empty, b"").unwrap();
    let r = check(&empty);
    assert_eq!(r.code, 1);
    assert!(has(&r, "bolt.open", None));
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for size in [1usize, 100, 4096, 8192, 3 * 4096 + 32, 65536, 1 << 20] {
        let rnd: Vec<u8> = (0..size)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        let f = dir.path().join(format!("random-{size}"));
        std::fs::write(&f, &rnd).unwrap();
        let r = check(&f);
        assert_eq!(r.code, 1, "{size}: {}", r.json);
        for w in ["simple", "json", "table", "fields"] {
            let out = util::ours(["status", "-w", w, &f.display().to_string()]);
            assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
        }
    }
}

/// Give a fixture a persisted freelist (as bbolt writes one when opened
/// without NoFreelistSync): first an empty freelist page at the old HWM, so
/// that `check` lists the unreachable pages; then those pages in it.
fn with_freelist(b: &[u8], ids: &[u64]) -> Vec<u8> {
    let h = hwm(b);
    let mut out = b[..h as usize * PS].to_vec();
    let mut page = vec![0u8; PS];
    page[0..8].copy_from_slice(&h.to_le_bytes());
    page[8..10].copy_from_slice(&0x10u16.to_le_bytes());
    page[10..12].copy_from_slice(&(ids.len() as u16).to_le_bytes());
    for (i, id) in ids.iter().enumerate() {
        page[16 + 8 * i..24 + 8 * i].copy_from_slice(&id.to_le_bytes());
    }
    out.extend(page);
    for m in [0, PS] {
        assert_eq!(u64_at(&out, m + 48), NO_FREELIST);
        out[m + 48..m + 56].copy_from_slice(&h.to_le_bytes());
        out[m + 56..m + 64].copy_from_slice(&(h + 1).to_le_bytes());
        let c = fnv1a64(&out[m + 16..m + 72]);
        out[m + 72..m + 80].copy_from_slice(&c.to_le_bytes());
    }
    out
}

#[test]
fn persisted_freelist_is_read_and_its_damage_found() {
    let orig = std::fs::read(util::fixture(FIX)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("fl.db");
    std::fs::write(&p, with_freelist(&orig, &[])).unwrap();
    let r = check(&p);
    let free: Vec<u64> = findings(&r)
        .into_iter()
        .filter(|f| f["code"] == "bolt.freelist.unreachable_unfreed")
        .map(|f| f["location"]["page"].as_u64().unwrap())
        .collect();
    assert!(!free.is_empty(), "fixture has free pages: {}", r.json);
    let good = with_freelist(&orig, &free);
    std::fs::write(&p, &good).unwrap();
    let r = check(&p);
    assert_eq!(r.code, 0, "{}", r.json);
    if let Some(e35) = util::require_etcd35() {
        // real bbolt accepts our freelist page, and hashes the same
        let theirs: Value = serde_json::from_str(&util::assert_success(&util::etcdutl(
            &e35,
            ["snapshot", "status", "-w", "json", &p.display().to_string()],
        )))
        .unwrap();
        let ours: Value =
            serde_json::from_slice(&util::ours(["status", "-w", "json", &p.display().to_string()]).stdout).unwrap();
        assert_eq!(ours["hash"], theirs["hash"]);
        assert_eq!(ours["freePages"].as_u64(), Some(free.len() as u64));
    }
    // Now damage the freelist page: list the first id twice and a reachable page.
    let h = hwm(&orig) as usize;
    let mut bad = good.clone();
    let first = free[0];
    let at = h * PS + 16 + 8 * (free.len() - 1);
    bad[at..at + 8].copy_from_slice(&first.to_le_bytes());
    std::fs::write(&p, &bad).unwrap();
    let r = check(&p);
    assert_eq!(r.code, 1);
    assert!(has(&r, "bolt.freelist.double_free", Some(h as u64)), "{}", r.json);
    let mut bad = good;
    let at = h * PS + 16;
    bad[at..at + 8].copy_from_slice(&3u64.to_le_bytes()); // page 3 is in use
    std::fs::write(&p, &bad).unwrap();
    let r = check(&p);
    assert!(has(&r, "bolt.freelist.reachable_freed", None) || has(&r, "bolt.freelist.double_free", None), "{}", r.json);
    assert_eq!(r.code, 1);
}

#[test]
fn sequential_and_parallel_walks_agree_on_damaged_files() {
    use etcd_forensics::mvcc::{ScanOptions, scan_db};
    let orig = std::fs::read(util::fixture(FIX)).unwrap();
    let leaves = key_bucket_pages(&orig, LEAF_FLAG);
    for (i, &leaf) in leaves.iter().enumerate().take(20) {
        let mut b = orig.clone();
        b[leaf as usize * PS + 16 + 4 + (i % 12)] ^= 0x5a;
        let a = scan_db(&b, ScanOptions { skip_trailer_hash: false, sequential: true, progress: None });
        let c = scan_db(&b, ScanOptions { skip_trailer_hash: false, sequential: false, progress: None });
        assert_eq!(a.findings, c.findings, "leaf {leaf}");
        assert_eq!(a.status, c.status);
    }
}
