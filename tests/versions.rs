//! The version matrix: every release of [`util::MATRIX`] (3.4.23, 3.5.1,
//! 3.5.16, 3.5.30, 3.6.16, 3.7.3) writes its own files here, and what we
//! answer on them is compared with that same release's etcdutl/etcdctl and
//! server. One test per release, so a failure names the version.
//!
//! Per release, on a single member that ran a fixed workload (puts, a
//! key rewritten many times, deletes, a delete-range, a lease, a compaction
//! at a tombstone, writes after it), with `--snapshot-count 40` so that
//! `.snap` files and WAL snapshot records exist:
//! * `status -w json` (default rules = the writer's) equals that release's
//!   `snapshot status -w json` (etcdutl; etcdctl for 3.4) on the snapshot file
//!   and on the member db; `--compat -w simple|table|json|fields` is
//!   byte-identical to it;
//! * `check` is clean on the snapshot file and on the data dir, and the
//!   data dir's `willStart` is true;
//! * `get --rev R -w json` equals the live server's `etcdctl get --rev R`
//!   at the compact revision, just above it and at the current revision;
//! * `hashkv --rev R` equals `etcdctl endpoint hashkv --rev R` of the same
//!   release restarted on a copy of the data dir, for R below, at and above
//!   the compact revision and at the current one (refusals included); the
//!   live server before the restart agrees above the compact revision (at
//!   it, a never-restarted 3.5.5+/3.6+ member answers from the hash it
//!   recorded while compacting, which the files no longer hold);
//! * `wal --summary` reads the WAL clean and reaches the raft index the
//!   server reported;
//! * `restore` writes the same files as that release's `snapshot restore`
//!   with the same flags (WAL and `.snap` byte-identical, db with the same
//!   status), and the release boots our data dir and serves the keys;
//! * `salvage` of the data dir gives a snapshot whose restore that release
//!   boots with the same keys at the same revision;
//! * `meta` names the writer's line.

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::util::{self, EtcdBins, EtcdOptions, EtcdProcess};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn json(text: &str, what: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{what}: bad JSON ({e}): {text}"))
}

/// That release's offline `snapshot status` (etcdutl; etcdctl for 3.4).
fn their_status(bins: &EtcdBins, file: &Path, format: &str) -> Output {
    match &bins.etcdutl {
        Some(_) => util::etcdutl(bins, ["snapshot", "status", "-w", format, &s(file)]),
        None => util::etcdctl(bins, None, ["snapshot", "status", "-w", format, &s(file)]),
    }
}

/// The current revision, from a response header.
fn revision_of(etcd: &EtcdProcess) -> i64 {
    let out = util::assert_success(&etcd.etcdctl(["get", "/m/a", "-w", "json"]));
    json(&out, "get header")["header"]["revision"].as_i64().unwrap()
}

/// `endpoint hashkv --rev R` of a server: `Ok((hash, compact_revision))` or
/// `Err(message)`.
fn live_hashkv(etcd: &EtcdProcess, rev: i64) -> Result<(u64, i64), String> {
    let out = etcd.etcdctl(["endpoint", "hashkv", "--rev", &rev.to_string(), "-w", "json"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let v: Value = serde_json::from_str(text.trim()).unwrap_or(Value::Null);
    match v.get(0).map(|x| &x["HashKV"]) {
        Some(h) if out.status.success() && h["hash"].is_u64() => {
            Ok((h["hash"].as_u64().unwrap(), h["compact_revision"].as_i64().unwrap()))
        }
        _ => Err(format!("{}{}", text, String::from_utf8_lossy(&out.stderr))),
    }
}

/// Ours, with the rules of `version` (or the default, the newest release
/// of the writer's line, for `None`).
fn our_hashkv(path: &Path, rev: i64, version: Option<&str>) -> Result<(u64, i64), String> {
    let mut args = vec!["hashkv".to_string(), s(path), "--rev".into(), rev.to_string(), "-w".into(), "json".into()];
    if let Some(v) = version {
        args.extend(["--etcd-version".to_string(), v.to_string()]);
    }
    let out = util::ours(&args);
    if out.status.success() {
        let v = json(&String::from_utf8_lossy(&out.stdout), "hashkv");
        assert_eq!(v["hashRevision"], rev);
        Ok((v["hash"].as_u64().unwrap(), v["compactRevision"].as_i64().unwrap()))
    } else {
        assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

fn same_answer(ours: &Result<(u64, i64), String>, theirs: &Result<(u64, i64), String>, what: &str) {
    match (ours, theirs) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{what}: (hash, compact revision)"),
        (Err(a), Err(b)) => {
            let reason = ["required revision has been compacted", "required revision is a future revision"];
            let r = reason.iter().find(|r| b.contains(*r)).unwrap_or_else(|| panic!("{what}: etcd said {b}"));
            assert!(a.contains(r), "{what}: etcd refused with {r:?}, we said {a}");
        }
        _ => panic!("{what}: ours {ours:?}, etcd {theirs:?}"),
    }
}

fn flags(url: &str) -> Vec<String> {
    ["--name", "r1", "--initial-cluster", &format!("r1={url}"), "--initial-cluster-token", "matrix-token"]
        .iter()
        .map(|x| x.to_string())
        .chain(["--initial-advertise-peer-urls".to_string(), url.to_string()])
        .collect()
}

fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["member/snap", "member/wal"] {
        if let Ok(rd) = std::fs::read_dir(dir.join(sub)) {
            for e in rd {
                out.push(format!("{sub}/{}", e.unwrap().file_name().to_string_lossy()));
            }
        }
    }
    out.sort();
    out
}

fn assert_same_bytes(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    if x != y {
        let at = x.iter().zip(&y).position(|(p, q)| p != q).unwrap_or(x.len().min(y.len()));
        panic!("{} ({} bytes) and {} ({} bytes) differ first at byte {at:#x}", s(a), x.len(), s(b), y.len());
    }
}

fn matrix(version: &str) {
    let Some(bins) = util::require_version(version) else { return };
    let v = bins.version;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");

    // --- the workload, on a live member ------------------------------------
    let mut etcd = EtcdProcess::start(&bins, &data, "m1", &["--snapshot-count", "40"]);
    for k in ["a", "b", "c", "d", "e", "f"] {
        etcd.put(&format!("/m/{k}"), &format!("value-{k}"));
    }
    for i in 0..60 {
        etcd.put("/m/hot", &format!("hot-{i:03}-{}", "x".repeat(i % 40)));
    }
    util::assert_success(&etcd.etcdctl(["del", "/m/b"]));
    for i in 0..4 {
        etcd.put(&format!("/m/tmp/{i}"), "short-lived");
    }
    util::assert_success(&etcd.etcdctl(["del", "/m/tmp/", "--prefix"]));
    let grant = util::assert_success(&etcd.etcdctl(["lease", "grant", "3600"]));
    let lease = grant.split_whitespace().nth(1).unwrap().to_string();
    util::assert_success(&etcd.etcdctl(["put", "/m/leased", "with-lease", "--lease", &lease]));
    // compact at a tombstone (the rule that differs between releases)
    util::assert_success(&etcd.etcdctl(["del", "/m/c"]));
    let compact = revision_of(&etcd);
    util::assert_success(&etcd.etcdctl(["compaction", &compact.to_string(), "--physical"]));
    for i in 0..5 {
        etcd.put(&format!("/m/after/{i}"), &format!("after-{i}"));
        etcd.put("/m/hot", &format!("hot-after-{i}"));
    }
    let current = revision_of(&etcd);
    let probes = [compact, compact + 1, current];
    let live_get: Vec<Value> = probes
        .iter()
        .map(|r| {
            let out =
                util::assert_success(&etcd.etcdctl(["get", "", "--prefix", "--rev", &r.to_string(), "-w", "json"]));
            json(&out, "live get")
        })
        .collect();
    let hash_revs = [compact - 1, compact, compact + 1, current, current + 1];
    let live_hash: Vec<_> = hash_revs.iter().map(|&r| live_hashkv(&etcd, r)).collect();
    let es = util::assert_success(&etcd.etcdctl(["endpoint", "status", "-w", "json"]));
    let raft_index = json(&es, "endpoint status")[0]["Status"]["raftIndex"].as_u64().unwrap();
    let snap = tmp.path().join("snapshot.db");
    util::assert_success(&etcd.etcdctl(["snapshot", "save", &s(&snap)]));
    etcd.stop();
    let member_db = data.join("member/snap/db");
    let fingerprints: Vec<_> = [&snap, &member_db].iter().map(util::file_fingerprint).collect();

    // --- status ------------------------------------------------------------
    for file in [&snap, &member_db] {
        let what = format!("etcd {v}: status {}", s(file));
        let theirs = json(&util::assert_success(&their_status(&bins, file, "json")), &what);
        let ours = json(&util::assert_success(&util::ours(["status", &s(file), "-w", "json"])), &what);
        for k in theirs.as_object().unwrap().keys() {
            assert_eq!(ours[k], theirs[k], "{what}: {k} (ours {ours}, theirs {theirs})");
        }
        assert!(ours["rules"].as_str().unwrap().contains(&v[..3]), "{what}: rules {}", ours["rules"]);
        assert_eq!(ours.get("version").is_some(), theirs.get("version").is_some(), "{what}: version field");
    }
    // Debian builds its 3.5.30 with tablewriter 1.x: box-drawn tables, where
    // upstream 3.5 draws +-| (a property of that binary, not of the files)
    let style = if v == "3.5.30" { "unicode" } else { "ascii" };
    let style = if v.starts_with("3.7") { "unicode" } else { style };
    for format in ["simple", "table", "json", "fields"] {
        let theirs = util::assert_success(&their_status(&bins, &snap, format));
        let args = ["status", &s(&snap), "--compat", "-w", format, "--table-style", style];
        let ours = util::assert_success(&util::ours(args));
        assert_eq!(ours, theirs, "etcd {v}: status --compat -w {format} differs from etcdutl's");
    }

    // --- meta: who wrote it ----------------------------------------------------
    let m = json(&util::assert_success(&util::ours(["meta", &s(&data), "-w", "json"])), "meta");
    assert_eq!(m["writtenBy"]["release"], &v[..3], "etcd {v}: meta says {m}");

    // --- check ---------------------------------------------------------------
    let out = util::ours(["check", &s(&snap)]);
    assert_eq!(out.status.code(), Some(0), "etcd {v}: check snapshot\n{}", util::show(&out));
    let out = util::ours(["check", &s(&data), "-w", "json"]);
    assert_eq!(out.status.code(), Some(0), "etcd {v}: check data dir\n{}", util::show(&out));
    let c = json(&String::from_utf8_lossy(&out.stdout), "check");
    assert_eq!(c["verdict"], "clean", "etcd {v}: {c}");
    assert_eq!(c["willStart"], true, "etcd {v}: {c}");

    // --- get at the compact revision, above it, current -----------------------
    for (r, live) in probes.iter().zip(&live_get) {
        for file in [&snap, &data] {
            let out = util::ours(["get", &s(file), "", "--prefix", "--rev", &r.to_string(), "-w", "json"]);
            let o = json(&util::assert_success(&out), "get");
            assert_eq!(o["kvs"], live["kvs"], "etcd {v}: get --rev {r} on {}", s(file));
            assert_eq!(o["count"], live["count"], "etcd {v}: get --rev {r} count");
            assert_eq!(o["header"]["revision"], live["header"]["revision"], "etcd {v}: header revision");
        }
    }
    // below the compact revision: refused, as etcd does
    let out = util::ours(["get", &s(&snap), "/m/a", "--rev", &(compact - 1).to_string()]);
    assert_eq!(out.status.code(), Some(1), "etcd {v}: get below the compact revision\n{}", util::show(&out));

    // --- hashkv against the same release restarted on a copy ----------------
    let (_copy_guard, copy) = util::copy_to_temp(&data);
    let mut again = EtcdProcess::start(&bins, &copy, "m1", &[] as &[&str]);
    let restarted: Vec<_> = hash_revs.iter().map(|&r| live_hashkv(&again, r)).collect();
    again.stop();
    // 3.4.23 and 3.5.1 are not the newest of their line: the default
    // (newest 3.4.x/3.5.x rules) answers at the compact revision, they refuse
    let default_is_exact = !matches!(v, "3.4.23" | "3.5.1");
    for ((&r, theirs), live) in hash_revs.iter().zip(&restarted).zip(&live_hash) {
        for file in [&data, &snap] {
            let what = format!("etcd {v}: hashkv --rev {r} (compact {compact}) on {}", s(file));
            same_answer(&our_hashkv(file, r, Some(v)), theirs, &format!("{what} --etcd-version {v}"));
            if default_is_exact {
                same_answer(&our_hashkv(file, r, None), theirs, &format!("{what}, default rules"));
            }
        }
        let ours = our_hashkv(&data, r, Some(v));
        if r != compact {
            same_answer(&ours, live, &format!("etcd {v}: hashkv --rev {r} vs the live server"));
        } else if let (Ok(o), Ok(l)) = (&ours, live) {
            // the live member may answer from its compaction-time record
            assert!(o == l || l.1 < compact, "etcd {v}: live hashkv at the compact revision: {l:?}, ours {o:?}");
        }
    }

    // --- the same dir with every .snap file removed: etcd of every release
    // boots it from the db and the WAL (3.7 ignores .snap files at boot; the
    // older ones replay the WAL from the db's consistent index), and we say so
    let (_nosnap_guard, nosnap) = util::copy_to_temp(&data);
    let mut removed = 0;
    for e in std::fs::read_dir(nosnap.join("member/snap")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "snap") {
            std::fs::remove_file(&p).unwrap();
            removed += 1;
        }
    }
    assert!(removed > 0, "etcd {v}: --snapshot-count 40 wrote .snap files");
    let (start, codes) = check_for(&nosnap, None);
    assert!(start, "etcd {v}: no .snap files: {codes:?}");
    let p = EtcdProcess::boot(&bins, &nosnap, &EtcdOptions::new("m1"))
        .unwrap_or_else(|e| panic!("etcd {v} did not boot without .snap files: {e}"));
    let got = json(&util::assert_success(&p.etcdctl(["get", "", "--prefix", "-w", "json"])), "get");
    assert_eq!(got["kvs"], live_get[2]["kvs"], "etcd {v}: keys without .snap files");
    drop(p);

    // --- wal --summary --------------------------------------------------------
    let out = util::ours(["wal", &s(&data.join("member/wal")), "--summary", "-w", "json"]);
    let w = json(&util::assert_success(&out), "wal summary");
    assert_eq!(w["verdict"], "clean", "etcd {v}: {w}");
    assert!(w["lastIndex"].as_u64().unwrap() >= raft_index, "etcd {v}: last index {} < {raft_index}", w["lastIndex"]);
    assert!(w["snapshots"].as_array().unwrap().len() > 1, "etcd {v}: --snapshot-count 40 made WAL snapshots: {w}");

    // --- restore: same files as that release's, and it boots ours ------------
    let [client, peer] = util::free_ports::<2>();
    let url = util::local_url(peer);
    let theirs_dir = tmp.path().join("theirs");
    let ours_dir = tmp.path().join("ours");
    let mut args: Vec<String> =
        vec!["snapshot".into(), "restore".into(), s(&snap), "--data-dir".into(), s(&theirs_dir)];
    args.extend(flags(&url));
    util::assert_success(&match &bins.etcdutl {
        Some(_) => util::etcdutl(&bins, &args),
        None => util::etcdctl(&bins, None, &args),
    });
    let mut args: Vec<String> =
        vec!["restore".into(), s(&snap), "--data-dir".into(), s(&ours_dir), "-w".into(), "json".into()];
    args.extend(flags(&url));
    let r = json(&util::assert_success(&util::ours(&args)), "restore");
    assert_eq!(r["layout"].as_str().unwrap(), &v[..3], "etcd {v}: default layout follows the snapshot: {r}");
    assert_eq!(files_under(&ours_dir), files_under(&theirs_dir), "etcd {v}: restored files");
    for f in files_under(&ours_dir).iter().filter(|f| !f.ends_with("/db")) {
        assert_same_bytes(&ours_dir.join(f), &theirs_dir.join(f));
    }
    let st = |d: &Path| json(&util::assert_success(&their_status(&bins, &d.join("member/snap/db"), "json")), "st");
    let (a, b) = (st(&ours_dir), st(&theirs_dir));
    for k in ["hash", "revision", "totalKey"] {
        assert_eq!(a[k], b[k], "etcd {v}: restored db {k}");
    }
    let opts = EtcdOptions::new("r1").ports(client, peer).arg("--initial-cluster-token").arg("matrix-token");
    let booted = EtcdProcess::boot(&bins, &ours_dir, &opts).unwrap_or_else(|e| panic!("etcd {v} on our restore: {e}"));
    let got = util::assert_success(&booted.etcdctl(["get", "", "--prefix", "-w", "json"]));
    let got = json(&got, "get after restore");
    let want = &live_get[2];
    let kv_pairs = |x: &Value| -> Vec<(Value, Value)> {
        x["kvs"].as_array().unwrap().iter().map(|kv| (kv["key"].clone(), kv["value"].clone())).collect()
    };
    assert_eq!(kv_pairs(&got), kv_pairs(want), "etcd {v}: keys served from our restore");
    drop(booted);

    // --- salvage of the (undamaged) data dir: restores and boots the same ----
    let salvaged = tmp.path().join("salvaged.db");
    let out = util::ours(["salvage", &s(&data), "--output", &s(&salvaged)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "etcd {v}: salvage of a clean dir
{}",
        util::show(&out)
    );
    let salvaged_dir = tmp.path().join("salvaged-dir");
    let [client, peer] = util::free_ports::<2>();
    let url = util::local_url(peer);
    let mut args: Vec<String> = vec!["restore".into(), s(&salvaged), "--data-dir".into(), s(&salvaged_dir)];
    args.extend(flags(&url));
    util::assert_success(&util::ours(&args));
    let opts = EtcdOptions::new("r1").ports(client, peer).arg("--initial-cluster-token").arg("matrix-token");
    let booted = EtcdProcess::boot(&bins, &salvaged_dir, &opts).unwrap_or_else(|e| panic!("etcd {v} on salvage: {e}"));
    let got = json(&util::assert_success(&booted.etcdctl(["get", "", "--prefix", "-w", "json"])), "get");
    assert_eq!(kv_pairs(&got), kv_pairs(want), "etcd {v}: keys served from the salvaged snapshot");
    assert_eq!(got["header"]["revision"], want["header"]["revision"], "etcd {v}: revision after salvage");
    drop(booted);

    for (p, f) in [&snap, &member_db].iter().zip(&fingerprints) {
        util::assert_unchanged(p, f);
    }
}

#[test]
fn matrix_3_4_23() {
    matrix("3.4.23");
}

#[test]
fn matrix_3_5_1() {
    matrix("3.5.1");
}

#[test]
fn matrix_3_5_16() {
    matrix("3.5.16");
}

#[test]
fn matrix_3_5_30() {
    matrix("3.5.30");
}

#[test]
fn matrix_3_6_16() {
    matrix("3.6.16");
}

#[test]
fn matrix_3_7_3() {
    matrix("3.7.3");
}

/// `check DATA_DIR --etcd-version X -w json`: (willStart, finding codes).
fn check_for(dir: &Path, version: Option<&str>) -> (bool, Vec<String>) {
    let mut args = vec!["check".to_string(), s(dir), "-w".into(), "json".into()];
    if let Some(v) = version {
        args.extend(["--etcd-version".to_string(), v.to_string()]);
    }
    let out = util::ours(&args);
    let v = json(&String::from_utf8_lossy(&out.stdout), "check");
    let codes = v["findings"].as_array().unwrap().iter().map(|f| f["code"].as_str().unwrap().to_string()).collect();
    (v["willStart"].as_bool().unwrap(), codes)
}

/// A data dir written by `bins` (a few keys, clean stop).
fn written_by(bins: &EtcdBins, parent: &Path) -> std::path::PathBuf {
    written_with(bins, parent, "dir", &[], 5)
}

/// A data dir written by `bins` run with `args` (`puts` keys, clean stop).
fn written_with(bins: &EtcdBins, parent: &Path, name: &str, args: &[&str], puts: usize) -> std::path::PathBuf {
    let dir = parent.join(format!("{name}-{}", bins.version));
    let mut e = EtcdProcess::start(bins, &dir, "m1", args);
    for i in 0..puts {
        e.put(&format!("/v/{i}"), bins.version);
    }
    e.stop();
    dir
}

/// Real etcd `bins` on a copy of `dir`: `Ok` if it became healthy, else its log.
fn boots(bins: &EtcdBins, dir: &Path, opts: &EtcdOptions) -> Result<(), String> {
    let (_guard, copy) = util::copy_to_temp(dir);
    EtcdProcess::boot(bins, &copy, opts).map(drop)
}

/// Upgrade and downgrade traps, each predicted and then tried on real etcd.
#[test]
fn version_traps_match_real_etcd() {
    let (Some(e35), Some(e36), Some(e37), Some(e34)) = (
        util::require_version("3.5.30"),
        util::require_version("3.6.16"),
        util::require_version("3.7.3"),
        util::require_version("3.4.23"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d36 = written_by(&e36, tmp.path());
    let d37 = written_by(&e37, tmp.path());
    let m1 = EtcdOptions::new("m1");

    // a 3.6 dir: info without a target, refused by 3.5, upgraded by 3.7
    let (start, codes) = check_for(&d36, None);
    assert!(start && codes.contains(&"datadir.version".to_string()), "{codes:?}");
    let (start, codes) = check_for(&d36, Some("3.5"));
    assert!(!start && codes.contains(&"datadir.version.downgrade".to_string()), "{codes:?}");
    let log = boots(&e35, &d36, &m1).expect_err("etcd 3.5.30 started a 3.6 data dir");
    assert!(log.contains("invalid downgrade"), "{log}");
    // ... also when the cluster version is only in the .snap's v2 store
    // (3.4/3.5 read it from there, and the WAL past the snapshot has no
    // cluster-version set)
    let snapped = written_with(&e36, tmp.path(), "snapped", &["--snapshot-count", "5"], 30);
    let out = util::ours(["check", &s(&snapped), "--etcd-version", "3.5", "-w", "json"]);
    let c = json(&String::from_utf8_lossy(&out.stdout), "check");
    let f = c["findings"].as_array().unwrap().iter().find(|f| f["code"] == "datadir.version.downgrade");
    let at = f.unwrap_or_else(|| panic!("no downgrade finding: {c}"))["location"]["file"].as_str().unwrap().to_string();
    assert!(at.ends_with(".snap") && c["willStart"] == false, "{c}");
    let log = boots(&e35, &snapped, &m1).expect_err("etcd 3.5.30 started a 3.6 dir with a .snap");
    assert!(log.contains("invalid downgrade"), "{log}");
    let (start, codes) = check_for(&d36, Some("3.7"));
    assert!(start && codes.contains(&"datadir.version.upgrade".to_string()), "{codes:?}");
    boots(&e37, &d36, &m1).unwrap_or_else(|log| panic!("etcd 3.7.3 on a 3.6 dir: {log}"));

    // a 3.7 dir: its storageVersion is refused by 3.6
    let (start, codes) = check_for(&d37, Some("3.6.16"));
    assert!(!start && codes.contains(&"datadir.version.storage_ahead".to_string()), "{codes:?}");
    let log = boots(&e36, &d37, &m1).expect_err("etcd 3.6.16 started a 3.7 data dir");
    assert!(log.contains("is not supported"), "{log}");

    // a 3.4-layout restore (old members stay in the db) started by 3.6
    let [client, peer] = util::free_ports::<2>();
    let url = util::local_url(peer);
    let restored = tmp.path().join("restored-34");
    let snap = util::fixture("v3.4.23/snapshot.db");
    let mut args =
        vec!["restore".to_string(), s(&snap), "--data-dir".into(), s(&restored), "--etcd-version".into(), "3.4".into()];
    args.extend(flags(&url));
    util::assert_success(&util::ours(&args));
    let opts = EtcdOptions::new("r1").ports(client, peer).arg("--initial-cluster-token").arg("matrix-token");
    let (start, codes) = check_for(&restored, Some("3.6"));
    assert!(!start && codes.contains(&"datadir.version.members_layout".to_string()), "{codes:?}");
    let log = boots(&e36, &restored, &opts).expect_err("etcd 3.6.16 started a 3.4-layout restore");
    assert!(log.contains("member unknown"), "{log}");
    let (start, _) = check_for(&restored, Some("3.4"));
    assert!(start);
    boots(&e34, &restored, &opts).unwrap_or_else(|log| panic!("etcd 3.4.23 on its own layout: {log}"));
}

/// `restore --etcd-version Y` of a snapshot another line wrote (3.5, 3.6 and
/// 3.7 snapshots, each restored with the other two lines' rules) writes what
/// Y's `etcdutl snapshot restore` writes from it: the same file names, WAL
/// and `.snap` byte-identical, the same buckets in the db, the same status.
/// Y boots our dir exactly when it boots its own, and `check --etcd-version
/// Y` predicts which.
#[test]
fn restore_across_lines() {
    let releases = ["3.5.30", "3.6.16", "3.7.3"];
    let mut bins = Vec::new();
    for r in releases {
        let Some(b) = util::require_version(r) else { return };
        bins.push(b);
    }
    let tmp = tempfile::tempdir().unwrap();
    for (i, writer) in releases.iter().enumerate() {
        let snap = util::fixture(format!("v{writer}/snapshot.db"));
        for (j, by) in bins.iter().enumerate().filter(|&(j, _)| j != i) {
            let what = format!("snapshot of etcd {writer} restored with etcd {}'s rules", by.version);
            let [client, peer] = util::free_ports::<2>();
            let url = util::local_url(peer);
            let theirs_dir = tmp.path().join(format!("theirs-{i}-{j}"));
            let ours_dir = tmp.path().join(format!("ours-{i}-{j}"));
            let mut args: Vec<String> =
                vec!["snapshot".into(), "restore".into(), s(&snap), "--data-dir".into(), s(&theirs_dir)];
            args.extend(flags(&url));
            util::assert_success(&util::etcdutl(by, &args));
            let mut args: Vec<String> = vec!["restore".into(), s(&snap), "--data-dir".into(), s(&ours_dir)];
            args.extend(["--etcd-version".into(), by.version.into(), "-w".into(), "json".into()]); // an exact release
            args.extend(flags(&url));
            let r = json(&util::assert_success(&util::ours(&args)), "restore");
            assert_eq!(r["layout"].as_str().unwrap(), &by.version[..3], "{what}: {r}");
            assert_eq!(files_under(&ours_dir), files_under(&theirs_dir), "{what}: restored files");
            for f in files_under(&ours_dir).iter().filter(|f| !f.ends_with("/db")) {
                assert_same_bytes(&ours_dir.join(f), &theirs_dir.join(f));
            }
            let db = |d: &Path| d.join("member/snap/db");
            assert!(util::read_buckets(&db(&ours_dir)) == util::read_buckets(&db(&theirs_dir)), "{what}: buckets");
            let st = |d: &Path| {
                let mut v = json(&util::assert_success(&their_status(by, &db(d), "json")), "status");
                v.as_object_mut().unwrap().remove("totalSize"); // ours is written compact
                v
            };
            assert_eq!(st(&ours_dir), st(&theirs_dir), "{what}: status");

            let (predicted, codes) = check_for(&ours_dir, Some(by.version));
            let opts = EtcdOptions::new("r1").ports(client, peer).arg("--initial-cluster-token").arg("matrix-token");
            match boots(by, &ours_dir, &opts) {
                Ok(()) => assert!(predicted, "{what}: etcd boots our dir, check said it would not: {codes:?}"),
                Err(log) => {
                    assert!(!predicted, "{what}: check said it starts, etcd refused:\n{log}");
                    let theirs = boots(by, &theirs_dir, &opts);
                    assert!(theirs.is_err(), "{what}: etcd refused our dir and booted its own:\n{log}");
                }
            }
        }
    }
}

/// `endpoint status -w json` of one member: (revision, raft index, leader).
fn endpoint_status(p: &EtcdProcess) -> (i64, u64, u64) {
    let v = json(&util::assert_success(&p.etcdctl(["endpoint", "status", "-w", "json"])), "endpoint status");
    let st = &v[0]["Status"];
    (st["header"]["revision"].as_i64().unwrap(), st["raftIndex"].as_u64().unwrap(), st["leader"].as_u64().unwrap())
}

/// A 3-member cluster of one release under writes: one member SIGKILLed,
/// then a compaction and a defrag on the others, then a clean stop. Offline,
/// on all three data dirs: `check`, `status`, `hashkv` and `diff` agree with
/// what the live cluster reported before the stop.
fn three_member_cluster(version: &str) {
    let Some(bins) = util::require_version(version) else { return };
    let v = bins.version;
    let tmp = tempfile::tempdir().unwrap();
    let ports = util::free_ports::<6>();
    let names = ["c1", "c2", "c3"];
    let peer = |i: usize| util::local_url(ports[3 + i]);
    let cluster = names.iter().enumerate().map(|(i, n)| format!("{n}={}", peer(i))).collect::<Vec<_>>().join(",");
    let dirs: Vec<_> = names.iter().map(|n| tmp.path().join(n)).collect();
    let handles: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (bins, dir) = (bins.clone(), dirs[i].clone());
            let opts = EtcdOptions::new(n)
                .ports(ports[i], ports[3 + i])
                .arg("--initial-cluster")
                .arg(&cluster)
                .arg("--initial-cluster-token")
                .arg(format!("three-{v}"))
                .arg("--snapshot-count")
                .arg("60");
            std::thread::spawn(move || EtcdProcess::start_with(&bins, &dir, &opts))
        })
        .collect();
    let mut procs: Vec<EtcdProcess> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    for i in 0..60 {
        procs[i % 2].put(&format!("/c/k{:03}", i % 25), &format!("v{i}"));
    }
    // the third member dies under load: a writer keeps putting through the
    // first member while it is killed (its puts may fail until a new leader
    // is elected, if the killed member led)
    let stop_load = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (bins, endpoint, stop) = (bins.clone(), procs[0].endpoint().to_string(), stop_load.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let out = util::etcdctl(&bins, Some(&endpoint), ["put", &format!("/c/load{}", n % 7), &n.to_string()]);
                n += usize::from(out.status.success());
            }
            n
        })
    };
    std::thread::sleep(std::time::Duration::from_millis(400));
    let (behind_rev, _, _) = endpoint_status(&procs[2]);
    procs[2].kill();
    for i in 60..120 {
        let (k, val) = (format!("/c/k{:03}", i % 25), format!("v{i}"));
        let ok = (0..20).any(|_| {
            let done = procs[i % 2].etcdctl(["put", &k, &val]).status.success();
            if !done {
                std::thread::sleep(std::time::Duration::from_millis(250));
            }
            done
        });
        assert!(ok, "etcd {v}: put {k} never succeeded after the kill");
    }
    stop_load.store(true, std::sync::atomic::Ordering::Relaxed);
    let loaded = load.join().unwrap();
    assert!(loaded > 0, "etcd {v}: no write of the load went through");
    util::assert_success(&procs[0].etcdctl(["del", "/c/k000"]));
    let (rev, _, _) = endpoint_status(&procs[0]);
    // the live cluster's hashkv at each revision the killed member may
    // reach at boot, before the compaction moves the boundary. That can be
    // below what it acknowledged: etcd hands committed entries to the
    // applier before it saves the new commit index in the WAL, and boots
    // with the saved one.
    let around = (behind_rev - 20).max(1)..=rev.min(behind_rev + 60);
    let killed_hashes: std::collections::BTreeMap<i64, (u64, i64)> =
        around.clone().map(|r| (r, live_hashkv(&procs[0], r).unwrap())).collect();
    util::assert_success(&procs[0].etcdctl(["compaction", &(rev - 10).to_string(), "--physical"]));
    util::assert_success(&procs[0].etcdctl(["defrag"]));
    procs[1].put("/c/last", "after-defrag");
    let (current, _, _) = endpoint_status(&procs[0]);
    let compact = rev - 10;
    let live: Vec<_> = procs[..2].iter().map(|p| live_hashkv(p, current)).collect();
    assert_eq!(live[0], live[1], "etcd {v}: the live members disagree");
    let live_hash = live[0].clone().unwrap();
    procs[1].stop();
    procs[0].stop();

    for d in &dirs[..2] {
        let (start, codes) = check_for(d, None);
        assert!(start, "etcd {v}: {} {codes:?}", s(d));
        let out = util::ours(["check", &s(d), "-w", "json"]);
        assert_eq!(out.status.code(), Some(0), "etcd {v}: a cleanly stopped member has damage\n{}", util::show(&out));
        let c = json(&String::from_utf8_lossy(&out.stdout), "check");
        let warned: Vec<_> = c["findings"].as_array().unwrap().iter().filter(|f| f["severity"] != "info").collect();
        assert!(warned.is_empty(), "etcd {v}: {}: {warned:?}", s(d));
        let st =
            json(&util::assert_success(&util::ours(["status", &s(&d.join("member/snap/db")), "-w", "json"])), "st");
        assert_eq!(st["revision"], current, "etcd {v}: {}", s(d));
        assert_eq!(st["compactRevision"], compact, "etcd {v}: {}", s(d));
        assert_eq!(our_hashkv(d, current, None), Ok(live_hash), "etcd {v}: hashkv of {}", s(d));
    }
    let out = util::ours(["diff", &s(&dirs[0]), &s(&dirs[1]), "-w", "json"]);
    assert_eq!(out.status.code(), Some(0), "etcd {v}: the stopped members differ\n{}", util::show(&out));
    // the killed member: it starts, and is behind by the writes it missed.
    // Its db may lag what it acknowledged (bbolt commits in batches; SIGKILL
    // loses the open batch), the WAL replay brings it back.
    let (start, codes) = check_for(&dirs[2], None);
    assert!(start, "etcd {v}: killed member {codes:?}");
    let c = json(&String::from_utf8_lossy(&util::ours(["check", &s(&dirs[2]), "-w", "json"]).stdout), "check");
    let at_boot = c["prediction"]["revisionAfterCommit"].as_i64().unwrap();
    let st =
        json(&util::assert_success(&util::ours(["status", &s(&dirs[2].join("member/snap/db")), "-w", "json"])), "st");
    let killed_rev = st["revision"].as_i64().unwrap();
    assert!(killed_rev <= at_boot, "etcd {v}: db at {killed_rev}, replay reaches {at_boot}");
    assert!(
        at_boot >= behind_rev && at_boot < current,
        "etcd {v}: killed member reaches {at_boot}, had acknowledged {behind_rev}, cluster at {current}"
    );
    // it boots at the revision of its committed entries (the rest waits for
    // a leader), and its hashkv there is the live cluster's at that revision
    let boot_rev = c["prediction"]["revisionAtBoot"].as_i64().unwrap();
    assert!(killed_rev <= boot_rev && boot_rev <= at_boot, "etcd {v}: {killed_rev} {boot_rev} {at_boot}");
    let live_at_boot = killed_hashes
        .get(&boot_rev)
        .unwrap_or_else(|| panic!("etcd {v}: killed member boots at {boot_rev}, outside {around:?}"));
    assert_eq!(our_hashkv(&dirs[2], boot_rev, None), Ok(*live_at_boot), "etcd {v}: hashkv of the killed member");
    let out = util::ours(["diff", &s(&dirs[0]), &s(&dirs[2]), "-w", "json"]);
    let d = json(&String::from_utf8_lossy(&out.stdout), "diff");
    assert_eq!(d["b"]["currentRevision"], killed_rev, "etcd {v}: {d}");
    assert!(d["firstDivergentRevision"].is_null(), "etcd {v}: a member that is only behind has not diverged: {d}");
}

#[test]
fn three_members_3_6_16() {
    three_member_cluster("3.6.16");
}

#[test]
fn three_members_3_7_3() {
    three_member_cluster("3.7.3");
}

/// 3.6+ propose downgrade requests (`etcdctl downgrade enable/cancel`):
/// `wal` decodes them, and `meta` shows the db's `cluster/downgrade`.
#[test]
fn downgrade_requests_decode() {
    for version in ["3.6.16", "3.7.3"] {
        let Some(bins) = util::require_version(version) else { continue };
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let mut e = EtcdProcess::start(&bins, &data, "m1", &[] as &[&str]);
        e.put("a", "1");
        let target = if version.starts_with("3.7") { "3.6" } else { "3.5" };
        util::assert_success(&e.etcdctl(["downgrade", "enable", target]));
        util::assert_success(&e.etcdctl(["downgrade", "cancel"]));
        e.stop();
        let out = util::assert_success(&util::ours(["wal", &s(&data.join("member/wal"))]));
        let lines: Vec<&str> = out.lines().filter(|l| l.contains("downgrade_info_set")).collect();
        assert_eq!(lines.len(), 2, "etcd {version}: {out}");
        assert!(lines[0].contains(&format!(r#"{{"enabled":true,"ver":"{target}.0"}}"#)), "{}", lines[0]);
        assert!(lines[1].contains(r#""enabled":false"#), "{}", lines[1]);
        let m = json(&util::assert_success(&util::ours(["meta", &s(&data), "-w", "json"])), "meta");
        assert_eq!(m["downgrade"]["enabled"], false, "etcd {version}: {m}");
    }
}
