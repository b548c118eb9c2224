//! `defrag SRC --output DST` against `etcdutl defrag --data-dir` of each
//! release (3.4.23: `etcdctl defrag --data-dir`) on a copy of the same input: every bucket's keys and values are equal, the
//! `snapshot status` hash is equal, our output passes our `check` and
//! `etcdutl snapshot status`, and the input is never modified.

use std::path::Path;

use serde_json::Value;

use etcd_forensics::bolt::Db;

use crate::util::{self, EtcdBins, EtcdProcess, read_buckets as buckets};

/// `etcdutl snapshot status -w json` (3.4, which has no etcdutl: `etcdctl
/// snapshot status`): (hash, revision, totalKey, totalSize).
fn etcdutl_status(bins: &EtcdBins, db: &Path) -> (u64, i64, u64, u64) {
    let args = ["snapshot", "status", "-w", "json", &db.display().to_string()];
    let out = if bins.etcdutl.is_some() { util::etcdutl(bins, args) } else { util::etcdctl(bins, None, args) };
    let v: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
    (
        v["hash"].as_u64().unwrap(),
        v["revision"].as_i64().unwrap(),
        v["totalKey"].as_u64().unwrap(),
        v["totalSize"].as_u64().unwrap(),
    )
}

fn ours_defrag(src: &Path, dst: &Path, extra: &[&str]) -> Value {
    let mut args = vec!["defrag".to_string(), src.display().to_string(), "--output".into(), dst.display().to_string()];
    args.extend(["-w".into(), "json".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = util::ours(args);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&out)));
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    v
}

/// Our defrag of `data_dir` (a data dir) against etcdutl's defrag of a copy.
fn compare_with_etcdutl(bins: &EtcdBins, data_dir: &Path, what: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let db = data_dir.join("member/snap/db");
    let before = util::file_fingerprint(&db);
    let ours = tmp.path().join("ours.db");
    let v = ours_defrag(data_dir, &ours, &[]);
    util::assert_unchanged(&db, &before);
    assert_eq!(v["written"], true, "{v}");

    let (_t, copy) = util::copy_to_temp(data_dir);
    // 3.4 has no etcdutl; its etcdctl defragments a data dir offline.
    let args = ["defrag", "--data-dir", &copy.display().to_string()];
    util::assert_success(&if bins.etcdutl.is_some() {
        util::etcdutl(bins, args)
    } else {
        util::etcdctl(bins, None, args)
    });
    let theirs = copy.join("member/snap/db");

    assert_eq!(buckets(&ours), buckets(&theirs), "{what}: bucket contents differ from etcdutl defrag's");
    let (oh, orev, okeys, osize) = etcdutl_status(bins, &ours);
    let (th, trev, tkeys, _) = etcdutl_status(bins, &theirs);
    assert_eq!((oh, orev, okeys), (th, trev, tkeys), "{what}: snapshot status differs");
    assert_eq!(v["status"]["hash"].as_u64(), Some(oh), "{what}: our predicted hash");
    assert_eq!(v["status"]["totalSize"].as_u64(), Some(osize));
    assert_eq!(std::fs::metadata(&ours).unwrap().len(), osize, "no trailer, exactly HWM pages");
    let out = util::ours(["check", &ours.display().to_string()]);
    assert_eq!(out.status.code(), Some(0), "{what}: {}", util::show(&out));
}

#[test]
fn parity_with_etcdutl_defrag_on_fixtures() {
    if let Some(bins) = util::require_etcd35() {
        for f in ["v3.5.1/member-db", "v3.5.1/snapshot.db", "v3.4.23/member-db", "tiny/member-db"] {
            let (_t, dir) = util::dir_with_db(&util::fixture(f));
            compare_with_etcdutl(&bins, &dir, f);
        }
    }
    // each later release's snapshot against that release's etcdutl defrag
    // 3.4.23's own files against `etcdctl defrag --data-dir` 3.4.23.
    if let Some(bins) = util::require_etcd34() {
        for f in ["v3.4.23/member-db", "v3.4.23/snapshot.db"] {
            let (_t, dir) = util::dir_with_db(&util::fixture(f));
            compare_with_etcdutl(&bins, &dir, &format!("{f} (etcdctl 3.4.23 defrag --data-dir)"));
        }
    }
    for version in ["3.5.16", "3.5.30", "3.6.16", "3.7.3"] {
        if let Some(bins) = util::require_version(version) {
            let f = format!("v{version}/snapshot.db");
            let (_t, dir) = util::dir_with_db(&util::fixture(&f));
            compare_with_etcdutl(&bins, &dir, &format!("{f} (etcdutl {version})"));
        }
    }
}

/// A real member with deletes, overwrites and a compaction (free pages to
/// give back), stopped cleanly; for every release, against that release's
/// offline defrag (`etcdutl defrag`; 3.4.23: `etcdctl defrag --data-dir`).
fn parity_with_etcdutl_defrag_on_a_live_data_dir(bins: util::EtcdBins) {
    defrag_live_dir(&bins);
}

per_release!(parity_with_etcdutl_defrag_on_a_live_data_dir);

fn defrag_live_dir(bins: &EtcdBins) {
    let bins = bins.clone();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut p = EtcdProcess::start(&bins, &data, "m", &[] as &[&str]);
    let big = "v".repeat(3000);
    for i in 0..300 {
        p.put(&format!("/d/{:03}", i % 100), &format!("{big}{i}"));
    }
    util::assert_success(&p.etcdctl(["del", "/d/0", "--prefix"]));
    let st: Value =
        serde_json::from_str(&util::assert_success(&p.etcdctl(["endpoint", "status", "-w", "json"]))).unwrap();
    let rev = st[0]["Status"]["header"]["revision"].as_i64().unwrap();
    util::assert_success(&p.etcdctl(["compact", &rev.to_string()]));
    p.stop();
    compare_with_etcdutl(&bins, &data, &format!("live data dir of etcd {}", bins.version));
}

/// `--snapshot`: a SHA-256 trailer that `restore` accepts without
/// --skip-hash-check, and that etcdutl's own restore verifies.
#[test]
fn snapshot_output_restores_without_skip_hash_check() {
    let Some(bins) = util::require_etcd35() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("compact.snapshot");
    let v = ours_defrag(&util::fixture("v3.5.1/member-db"), &snap, &["--snapshot"]);
    let len = std::fs::metadata(&snap).unwrap().len();
    assert_eq!(len % 512, 32, "snapshot save's trailer rule");
    assert_eq!(v["fileSize"].as_u64(), Some(len));
    let out = util::ours([
        "restore",
        &snap.display().to_string(),
        "--data-dir",
        &tmp.path().join("r1").display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    let out = util::etcdutl(
        &bins,
        [
            "snapshot",
            "restore",
            &snap.display().to_string(),
            "--data-dir",
            &tmp.path().join("r2").display().to_string(),
        ],
    );
    util::assert_success(&out);
    // The output refuses to be overwritten, and nothing else appeared.
    let again = util::ours([
        "defrag",
        &util::fixture("v3.5.1/member-db").display().to_string(),
        "--output",
        &snap.display().to_string(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", util::show(&again));
    assert_eq!(std::fs::metadata(&snap).unwrap().len(), len);
}

/// A damaged input is refused (exit 1) and nothing is written.
#[test]
fn damaged_input_is_refused() {
    let (_t, db) = util::copy_to_temp("v3.5.1/member-db");
    let mut b = std::fs::read(&db).unwrap();
    // the first leaf of the key bucket: make its page type invalid
    let page = key_bucket_leaf(&b);
    b[page * 4096 + 8] = 0x40;
    std::fs::write(&db, &b).unwrap();
    let before = util::file_fingerprint(&db);
    let dst = db.parent().unwrap().join("out.db");
    let out = util::ours(["defrag", &db.display().to_string(), "--output", &dst.display().to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("salvage"), "{}", util::show(&out));
    assert!(!dst.exists());
    util::assert_unchanged(&db, &before);
}

/// A value in the `key` bucket that is not a `mvccpb.KeyValue` (found by
/// the salvage_mutate fuzz target): etcdutl's defrag copies it as bytes and
/// succeeds; ours copies it too, byte for byte the same content as
/// etcdutl's, but reports it as damage (exit 1) and points to salvage, and
/// our `check` of either output names the same revision.
#[test]
fn undecodable_value_is_copied_and_reported() {
    let (_t, dir) = util::dir_with_db(&util::fixture("v3.5.1/member-db"));
    let db = dir.join("member/snap/db");
    let mut b = std::fs::read(&db).unwrap();
    let leaf = key_bucket_leaf(&b);
    let (at, rev) = {
        let d = Db::open(&b).unwrap();
        let e = d.page(leaf as u64).unwrap().leaf(0).unwrap();
        let main = i64::from_be_bytes(e.key[..8].try_into().unwrap());
        (e.value.as_ptr() as usize - b.as_ptr() as usize, main)
    };
    b[at] = 0x01; // field 0, wire type 1: not a KeyValue
    std::fs::write(&db, &b).unwrap();
    let before = util::file_fingerprint(&db);
    let dst = dir.join("out.db");
    let out = util::ours(["defrag", &dir.display().to_string(), "--output", &dst.display().to_string(), "-w", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["written"], true, "copied, not refused");
    let bad: Vec<&Value> = v["findings"].as_array().unwrap().iter().filter(|f| f["severity"] == "damage").collect();
    assert_eq!(bad.len(), 1, "{v}");
    assert_eq!(bad[0]["code"], "mvcc.value.undecodable");
    assert_eq!(bad[0]["revisions"]["first"], rev);
    assert!(bad[0]["action"].as_str().unwrap().contains("salvage"));
    util::assert_unchanged(&db, &before);
    let check = |f: &Path| -> Vec<(String, i64)> {
        let out = util::ours(["check", &f.display().to_string(), "-w", "json"]);
        assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "damage")
            .map(|f| (f["code"].as_str().unwrap().to_string(), f["revisions"]["first"].as_i64().unwrap_or(-1)))
            .collect()
    };
    assert_eq!(check(&dst), vec![("mvcc.value.undecodable".to_string(), rev)]);
    if let Some(bins) = util::require_etcd35() {
        let (_c, copy) = util::copy_to_temp(&dir);
        util::assert_success(&util::etcdutl(&bins, ["defrag", "--data-dir", &copy.display().to_string()]));
        let theirs = copy.join("member/snap/db");
        assert_eq!(buckets(&dst), buckets(&theirs), "the same bytes as etcdutl's defrag copied");
        assert_eq!(check(&theirs), check(&dst));
    }
}

/// A leaf page of the `key` bucket (the first child of its root branch).
fn key_bucket_leaf(file: &[u8]) -> usize {
    let db = Db::open(file).unwrap();
    let root = db.page(db.meta().root).unwrap();
    let key = (0..root.count as usize).map(|i| root.leaf(i).unwrap()).find(|e| e.key == b"key").unwrap();
    let mut pgid = u64::from_le_bytes(key.value[..8].try_into().unwrap());
    loop {
        let p = db.page(pgid).unwrap();
        if p.is_leaf() {
            return pgid as usize;
        }
        pgid = p.branch(0).unwrap().child;
    }
}
