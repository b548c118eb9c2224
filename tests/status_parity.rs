//! `status` against real etcdutl 3.5.1 and etcdctl 3.4.23 on the same files.

use serde_json::Value;

use crate::util;

/// Every committed db/snapshot fixture made by real etcd.
pub fn fixture_files() -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for dir in ["tiny", "v3.4.23", "v3.5.1"] {
        for f in ["snapshot.db", "member-db"] {
            let p = util::fixture(format!("{dir}/{f}"));
            assert!(p.exists(), "missing fixture {}", p.display());
            v.push(p);
        }
    }
    v
}

fn ours_json(path: &std::path::Path) -> Value {
    let out = util::ours(["status", "-w", "json"].iter().map(|s| s.to_string()).chain([path.display().to_string()]));
    let s = util::assert_success(&out);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("bad json {e}: {s}"))
}

const KEYS: [&str; 4] = ["hash", "revision", "totalKey", "totalSize"];

fn assert_same(ours: &Value, theirs: &Value, what: &str) {
    for k in KEYS {
        assert!(theirs.get(k).is_some(), "{what}: reference lacks {k}: {theirs}");
        assert_eq!(ours.get(k), theirs.get(k), "{what}: {k} differs: ours {ours} theirs {theirs}");
    }
}

#[test]
fn status_json_equals_etcdutl_351_on_every_fixture() {
    let Some(e35) = util::require_etcd35() else { return };
    for f in fixture_files() {
        let before = util::file_fingerprint(&f);
        let ours = ours_json(&f);
        util::assert_unchanged(&f, &before);
        let out = util::etcdutl(&e35, ["snapshot", "status", "-w", "json", &f.display().to_string()]);
        let theirs: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
        assert_same(&ours, &theirs, &format!("etcdutl 3.5.1 on {}", f.display()));
    }
}

#[test]
fn status_json_equals_etcdctl_3423_on_every_fixture() {
    let Some(e34) = util::require_etcd34() else { return };
    for f in fixture_files() {
        let out = util::etcdctl(&e34, None, ["snapshot", "status", "-w", "json", &f.display().to_string()]);
        let theirs: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
        assert_same(&ours_json(&f), &theirs, &format!("etcdctl 3.4.23 on {}", f.display()));
    }
}

#[test]
fn compat_output_is_byte_identical_to_etcdutl_in_every_format() {
    let Some(e35) = util::require_etcd35() else { return };
    for f in fixture_files() {
        let p = f.display().to_string();
        for w in ["simple", "table", "json", "fields"] {
            let ours = util::assert_success(&util::ours(["status", "--compat", "-w", w, &p]));
            let theirs = util::assert_success(&util::etcdutl(&e35, ["snapshot", "status", "-w", w, &p]));
            assert_eq!(ours, theirs, "-w {w} on {p}");
        }
    }
}

#[test]
fn extras_agree_with_the_live_server_that_made_the_fixture() {
    for dir in ["v3.4.23", "v3.5.1"] {
        let m = util::manifest(dir);
        let st = ours_json(&util::fixture(format!("{dir}/snapshot.db")));
        let compact = m["compact_revision"].as_i64().unwrap();
        assert_eq!(st["compactRevision"].as_i64(), Some(compact), "{dir}: {st}");
        assert_eq!(st["revision"].as_i64(), m["current_revision"].as_i64(), "{dir}");
        // 3.5 persists the consistent index on every backend commit, so it
        // equals the server's raft index when the snapshot was taken. 3.4
        // saves it only in transactions that change mvcc state, so trailing
        // entries without such changes (no-ops, auth, lease ops) are not
        // reflected: it may lag, never lead.
        let es = &m["endpoint_status"][0]["Status"];
        let raft_index = es["raftIndex"].as_u64().unwrap();
        let ci = st["consistentIndex"].as_u64().unwrap();
        if dir == "v3.5.1" {
            assert_eq!(ci, raft_index, "{dir}: {st}");
        } else {
            assert!(ci <= raft_index && ci + 10 > raft_index, "{dir}: ci {ci} raft index {raft_index}");
        }
        assert_eq!(st["trailer"], "unverified");
        let verified = util::assert_success(&util::ours([
            "status".to_string(),
            "--verify-trailer".into(),
            "-w".into(),
            "json".into(),
            util::fixture(format!("{dir}/snapshot.db")).display().to_string(),
        ]));
        assert!(verified.contains("\"trailer\":\"valid\""), "{verified}");
        // live keys = what `etcdctl get "" --prefix` returned at the current revision
        let cur = m["current_revision"].as_i64().unwrap();
        let get: Value =
            serde_json::from_str(&std::fs::read_to_string(util::fixture(format!("{dir}/get-rev-{cur}.json"))).unwrap())
                .unwrap();
        assert_eq!(st["liveKeys"].as_u64(), get["count"].as_u64(), "{dir}");
        let member = ours_json(&util::fixture(format!("{dir}/member-db")));
        assert_eq!(member["trailer"], "absent");
    }
}

/// Fresh files from a live etcd (not only the committed ones): write, save,
/// compare, for both versions.
fn status_matches_on_freshly_made_snapshots(bins: util::EtcdBins) {
    let dir = tempfile::tempdir().unwrap();
    let mut etcd = util::EtcdProcess::start(&bins, dir.path().join("data"), "fresh", &[] as &[&str]);
    for i in 0..300 {
        etcd.put(&format!("/fresh/{:04}", i % 120), &format!("value-{i}-{}", "x".repeat(i % 50)));
    }
    let snap = dir.path().join("s.db");
    util::assert_success(&etcd.etcdctl(["snapshot", "save", &snap.display().to_string()]));
    etcd.stop();
    let ours = ours_json(&snap);
    let theirs = match &bins.etcdutl {
        Some(_) => util::etcdutl(&bins, ["snapshot", "status", "-w", "json", &snap.display().to_string()]),
        None => util::etcdctl(&bins, None, ["snapshot", "status", "-w", "json", &snap.display().to_string()]),
    };
    let theirs: Value = serde_json::from_str(&util::assert_success(&theirs)).unwrap();
    assert_same(&ours, &theirs, &format!("fresh snapshot from etcd {}", bins.version));
    assert_eq!(ours["liveKeys"], 120);
}

per_release!(status_matches_on_freshly_made_snapshots);

/// The committed 3.5.16, 3.5.30 (Debian trixie's and sid's builds), 3.6.16
/// and 3.7.3 fixtures: by default `status` answers as their own etcdutl
/// (3.6+: live keys as totalKey and the version column; 3.7's box-drawn
/// table), byte for byte against the goldens that etcdutl wrote, and again
/// against that etcdutl now; `--etcd-version 3.5.1` answers as 3.5.1's
/// etcdutl on the same file (for the 3.5.x files: the same answer).
/// Debian's 3.5.30 draws box tables too (its tablewriter 1.x, a property of
/// that binary): `--table-style unicode` gives them.
#[test]
fn status_of_newer_files_is_their_own_etcdutls() {
    for (dir, version, style) in [
        ("v3.5.16", "3.5.16", None),
        ("v3.5.30", "3.5.30", Some("unicode")),
        ("v3.6.16", "3.6.16", None),
        ("v3.7.3", "3.7.3", None),
    ] {
        let f = util::fixture(format!("{dir}/snapshot.db"));
        let file = f.display().to_string();
        let own_json = std::fs::read_to_string(util::fixture(format!("{dir}/snapshot.status.own.json"))).unwrap();
        let own_table = std::fs::read_to_string(util::fixture(format!("{dir}/snapshot.status.own.txt"))).unwrap();
        let ours = util::assert_success(&util::ours(["status", &file, "--compat", "-w", "json"]));
        assert_eq!(ours, own_json, "{dir}: --compat -w json");
        let mut table = vec!["status", &file, "--compat", "-w", "table"];
        table.extend(style.iter().flat_map(|s| ["--table-style", s]));
        let ours = util::assert_success(&util::ours(table));
        assert_eq!(ours, own_table, "{dir}: --compat -w table");
        let full = ours_json(&f);
        assert!(full["rules"].as_str().unwrap().starts_with(&format!("etcd {}", &version[..3])), "{full}");
        let old = std::fs::read_to_string(util::fixture(format!("{dir}/snapshot.status.etcdutl.json"))).unwrap();
        let as351 =
            util::assert_success(&util::ours(["status", &file, "--compat", "-w", "json", "--etcd-version", "3.5.1"]));
        assert_eq!(as351, old, "{dir}: --etcd-version 3.5.1 answers as etcdutl 3.5.1");
        if version.starts_with("3.5") {
            assert_eq!(own_json, old, "{dir}: 3.5.x etcdutls agree");
        }
        if let Some(bins) = util::require_version(version) {
            let now = util::etcdutl(&bins, ["snapshot", "status", "-w", "json", &file]);
            assert_eq!(util::assert_success(&now), own_json, "{dir}: etcdutl {version} today");
        }
    }
}
