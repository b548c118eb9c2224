//! `restore` against the real thing: `etcdutl snapshot restore` 3.5.1 and
//! `etcdctl snapshot restore` 3.4.23 with the same flags (ids, WAL and
//! `.snap` bytes, db content), real etcd booting what we wrote (alone and as
//! three members), refusals, and SIGKILL at random moments.

use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

use serde_json::Value;

use etcd_forensics::bolt::Db;

use crate::util::{self, EtcdBins, EtcdOptions, EtcdProcess, read_buckets as buckets};

const WAL: &str = "member/wal/0000000000000000-0000000000000000.wal";
const SNAP1: &str = "member/snap/0000000000000001-0000000000000001.snap";
const DB: &str = "member/snap/db";

/// `--name s1 --initial-cluster s1=<url> --initial-cluster-token t --initial-advertise-peer-urls <url>`.
fn one_member(url: &str) -> Vec<String> {
    [
        "--name",
        "s1",
        "--initial-cluster",
        &format!("s1={url}"),
        "--initial-cluster-token",
        "t",
        "--initial-advertise-peer-urls",
        url,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn ours_restore(snapshot: &Path, data: &Path, flags: &[String]) -> Output {
    let mut args = vec!["restore".to_string(), snapshot.display().to_string(), "--data-dir".into()];
    args.push(data.display().to_string());
    args.extend(flags.iter().cloned());
    util::ours(args)
}

fn ours_restore_json(snapshot: &Path, data: &Path, flags: &[String]) -> Value {
    let mut f = flags.to_vec();
    f.extend(["-w".to_string(), "json".to_string()]);
    let out = ours_restore(snapshot, data, &f);
    let text = util::assert_success(&out);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn etcdutl_restore(bins: &EtcdBins, snapshot: &Path, data: &Path, flags: &[String]) {
    let mut args = vec!["snapshot".to_string(), "restore".into(), snapshot.display().to_string(), "--data-dir".into()];
    args.push(data.display().to_string());
    args.extend(flags.iter().cloned());
    util::assert_success(&util::etcdutl(bins, args));
}

fn etcdctl34_restore(bins: &EtcdBins, snapshot: &Path, data: &Path, flags: &[String]) {
    let mut args = vec!["snapshot".to_string(), "restore".into(), snapshot.display().to_string(), "--data-dir".into()];
    args.push(data.display().to_string());
    args.extend(flags.iter().cloned());
    util::assert_success(&util::etcdctl(bins, None, args));
}

/// `snapshot status -w json` of a db: (hash, revision, totalKey).
fn status(bins: &EtcdBins, db: &Path) -> (u64, i64, u64) {
    let out = match &bins.etcdutl {
        Some(_) => util::etcdutl(bins, ["snapshot", "status", "-w", "json", &db.display().to_string()]),
        None => util::etcdctl(bins, None, ["snapshot", "status", "-w", "json", &db.display().to_string()]),
    };
    let v: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
    (v["hash"].as_u64().unwrap(), v["revision"].as_i64().unwrap(), v["totalKey"].as_u64().unwrap())
}

fn assert_same_file(a: &Path, b: &Path) {
    let (x, y) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
    assert_eq!(x.len(), y.len(), "{} vs {}: sizes", a.display(), b.display());
    if let Some(i) = x.iter().zip(&y).position(|(p, q)| p != q) {
        panic!("{} and {} differ first at byte {i:#x}", a.display(), b.display());
    }
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
}

/// 3.6's and 3.7's etcdutl build the .snap's v2 store by ranging over
/// a Go map of members, so with several members the order in which they
/// are created, and so their `CreatedIndex` and the event history, changes
/// from run to run (three runs of 3.6.16 on the same input gave three
/// different files; 3.7.3 two in six). Ours creates them in id order, one of those orders:
/// the same file but for that order. One member: byte-identical.
fn same_snap_up_to_member_order(ours: &Path, theirs: &Path) {
    use etcd_forensics::snap::snapfile::decode;
    use etcd_forensics::snap::v2store::parse_v2_store;
    let (a, b) = (std::fs::read(ours).unwrap(), std::fs::read(theirs).unwrap());
    if a == b {
        return;
    }
    let (x, y) = (decode(&a).unwrap(), decode(&b).unwrap());
    // (the files' sizes may differ by the length of the crc varint)
    assert_eq!(x.payload.len(), y.payload.len(), "{}: payload sizes", theirs.display());
    assert_eq!(x.metadata, y.metadata, "{}", theirs.display());
    let (sx, sy) = (parse_v2_store(x.data.unwrap(), 0).unwrap(), parse_v2_store(y.data.unwrap(), 0).unwrap());
    assert!(sx.members.len() > 1, "one member leaves no order to differ in: {}", theirs.display());
    let strip = |st: &etcd_forensics::snap::v2store::V2Store| {
        let mut m = st.members.clone();
        m.iter_mut().for_each(|m| m.created_index = None);
        (m, st.current_index, st.cluster_version.clone(), st.removed.clone())
    };
    assert_eq!(strip(&sx), strip(&sy), "{}", theirs.display());
    let order = |st: &etcd_forensics::snap::v2store::V2Store| {
        let mut v: Vec<_> = st.members.iter().map(|m| m.created_index).collect();
        v.sort();
        v
    };
    assert_eq!(order(&sx), order(&sy), "created indexes: a permutation of each other");
}

/// Ours and theirs restored with the same flags: same ids, same WAL and
/// .snap bytes, same db content bucket by bucket, same `snapshot status`
/// numbers (hash, revision, total keys), and etcd's file modes.
fn compare_dirs(bins: &EtcdBins, ours: &Path, theirs: &Path) {
    let snaps = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d.join("member/snap"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(snaps(ours), snaps(theirs), "etcd {}", bins.version);
    let snap = snaps(ours).into_iter().find(|n| n.ends_with(".snap")).map(|n| format!("member/snap/{n}"));
    assert_same_file(&ours.join(WAL), &theirs.join(WAL));
    if let Some(snap) = &snap {
        if bins.version.starts_with("3.6.") || bins.version.starts_with("3.7.") {
            same_snap_up_to_member_order(&ours.join(snap), &theirs.join(snap));
        } else {
            assert_same_file(&ours.join(snap), &theirs.join(snap));
        }
    }
    assert_eq!(std::fs::metadata(ours.join(WAL)).unwrap().len(), 64_000_000);
    assert_eq!(buckets(&ours.join(DB)), buckets(&theirs.join(DB)), "db content differs");
    assert_eq!(status(bins, &ours.join(DB)), status(bins, &theirs.join(DB)));
    #[cfg(unix)]
    for (rel, m) in [
        ("", 0o700),
        ("member", 0o700),
        ("member/snap", 0o700),
        ("member/wal", 0o700),
        (DB, 0o600),
        (WAL, 0o600),
        (snap.as_deref().unwrap_or(DB), if snap.is_some() { 0o644 } else { 0o600 }),
    ] {
        assert_eq!(mode(&ours.join(rel)), m, "{rel}");
        assert_eq!(mode(&ours.join(rel)), mode(&theirs.join(rel)), "{rel} differs from etcd's");
    }
}

/// Each fixture (and a raw member db) restored by us and by etcdutl 3.5.1.
#[test]
fn parity_with_etcdutl_3_5() {
    let Some(bins) = util::require_etcd35() else { return };
    let flags = one_member("http://127.0.0.1:25801");
    for (fixture, raw) in [
        ("tiny/snapshot.db", false),
        ("v3.4.23/snapshot.db", false),
        ("v3.5.1/snapshot.db", false),
        ("v3.5.1/member-db", true),
        ("v3.4.23/member-db", true),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let mut f = flags.clone();
        if raw {
            f.push("--skip-hash-check".into());
        }
        // a 3.4 file gets the 3.4 layout by default; ask for etcdutl 3.5's
        let mut ours_flags = f.clone();
        ours_flags.extend(["--etcd-version".to_string(), "3.5".to_string()]);
        let plan = ours_restore_json(&util::fixture(fixture), &tmp.path().join("ours"), &ours_flags);
        assert_eq!(plan["cluster"]["local"], "1652b267d3c71c2b", "{fixture}");
        assert_eq!(plan["cluster"]["id"], "96fcb6c19f174725", "{fixture}");
        etcdutl_restore(&bins, &util::fixture(fixture), &tmp.path().join("theirs"), &f);
        compare_dirs(&bins, &tmp.path().join("ours"), &tmp.path().join("theirs"));
        let (hash, rev, total) = status(&bins, &tmp.path().join("ours").join(DB));
        assert_eq!(
            (hash, rev, total),
            (
                plan["statusHash"].as_u64().unwrap(),
                plan["revision"].as_i64().unwrap(),
                plan["totalKey"].as_u64().unwrap()
            )
        );
    }
}

/// `--etcd-version 3.4` against etcdctl 3.4.23's restore.
#[test]
fn parity_with_etcdctl_3_4() {
    let Some(bins) = util::require_etcd34() else { return };
    let flags = one_member("http://127.0.0.1:25801");
    for (fixture, raw) in [("tiny/snapshot.db", false), ("v3.4.23/snapshot.db", false), ("v3.4.23/member-db", true)] {
        let tmp = tempfile::tempdir().unwrap();
        let mut f = flags.clone();
        if raw {
            f.push("--skip-hash-check".into());
        }
        let mut ours = f.clone();
        ours.extend(["--etcd-version".to_string(), "3.4".to_string()]);
        util::assert_success(&ours_restore(&util::fixture(fixture), &tmp.path().join("ours"), &ours));
        etcdctl34_restore(&bins, &util::fixture(fixture), &tmp.path().join("theirs"), &f);
        compare_dirs(&bins, &tmp.path().join("ours"), &tmp.path().join("theirs"));
        // The Appendix A bytes, whatever the snapshot.
        let wal = std::fs::read(tmp.path().join("ours").join(WAL)).unwrap();
        assert_eq!(util::hex(&wal[0x10..0x18]), "1f00000000000081");
    }
}

/// `etcdctl get "" --prefix -w json` kvs of a running member.
fn all_kvs(p: &EtcdProcess) -> Vec<Value> {
    let out = p.etcdctl(["get", "", "--prefix", "-w", "json"]);
    let v: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
    v["kvs"].as_array().cloned().unwrap_or_default()
}

fn revision(p: &EtcdProcess) -> i64 {
    let out = p.etcdctl(["endpoint", "status", "-w", "json"]);
    let v: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
    v[0]["Status"]["header"]["revision"].as_i64().unwrap()
}

/// The golden kvs of a fixture at its current revision.
fn golden_kvs(dir: &str) -> (i64, Vec<Value>) {
    let rev = util::manifest(dir)["current_revision"].as_i64().unwrap();
    let text = std::fs::read_to_string(util::fixture(dir).join(format!("get-rev-{rev}.json"))).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    (rev, v["kvs"].as_array().cloned().unwrap())
}

/// Restore `dir`'s snapshot with ours for one member on free ports, boot
/// `bins` on it, check the keys, the revision, a compacted read and a write.
fn boot_restored(bins: &EtcdBins, dir: &str, extra: &[&str], bump: i64) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let [client, peer] = util::free_ports::<2>();
    let url = util::local_url(peer);
    let mut flags = one_member(&url);
    flags.extend(extra.iter().map(|s| s.to_string()));
    util::assert_success(&ours_restore(&util::fixture(dir).join("snapshot.db"), &data, &flags));
    let p = EtcdProcess::start_with(bins, &data, &EtcdOptions::new("s1").ports(client, peer));
    let (rev, kvs) = golden_kvs(dir);
    assert_eq!(all_kvs(&p), kvs, "{dir} on etcd {}: keys and values", bins.version);
    assert_eq!(revision(&p), rev + bump, "{dir} on etcd {}", bins.version);
    let compact = util::manifest(dir)["compact_revision"].as_i64().unwrap();
    if compact > 0 || bump > 0 {
        let probe = if bump > 0 { rev } else { compact - 19 };
        let out = p.etcdctl(["get", "/plain/a", "--rev", &probe.to_string()]);
        assert!(!out.status.success(), "{}", util::show(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("required revision has been compacted"),
            "{}",
            util::show(&out)
        );
    }
    p.put("/restored/probe", "yes");
    assert_eq!(revision(&p), rev + bump + 1);
    let member = util::assert_success(&p.etcdctl(["member", "list", "-w", "json"]));
    let v: Value = serde_json::from_str(&member).unwrap();
    assert_eq!(v["members"].as_array().unwrap().len(), 1);
    assert_eq!(v["members"][0]["ID"].as_u64().unwrap(), etcd_forensics::membership::member_id(&[url], "t"));
}

#[test]
fn etcd_3_5_boots_our_restore() {
    let Some(bins) = util::require_etcd35() else { return };
    boot_restored(&bins, "v3.5.1", &[], 0);
    boot_restored(&bins, "tiny", &[], 0);
}

#[test]
fn etcd_3_4_boots_our_restore() {
    let Some(bins) = util::require_etcd34() else { return };
    boot_restored(&bins, "v3.4.23", &["--etcd-version", "3.4"], 0);
    // the 3.5 layout boots on 3.4 too (3.4 ignores meta/term and conf_state)
    boot_restored(&bins, "v3.4.23", &[], 0);
}

/// `--bump-revision 1000 --mark-compacted` (etcdutl 3.5.10+; the 3.5.1
/// etcdutl here does not have it): the revision jumps by 1000 and the old
/// revisions read as compacted.
#[test]
fn bump_revision_boots_compacted() {
    if let Some(bins) = util::require_etcd35() {
        let out = util::etcdutl(&bins, ["snapshot", "restore", "x", "--bump-revision", "1"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("unknown flag"), "{}", util::show(&out));
        boot_restored(&bins, "v3.5.1", &["--bump-revision", "1000", "--mark-compacted"], 1000);
    }
    if let Some(bins) = util::require_etcd34() {
        boot_restored(
            &bins,
            "v3.4.23",
            &["--bump-revision", "1000", "--mark-compacted", "--etcd-version", "3.4"],
            1000,
        );
    }
}

/// One snapshot restored for three members on 127.0.0.1, for each release
/// with an etcdutl: the same files as that release's etcdutl writes (WAL,
/// .snap and its member list where the release writes one, ids), and all
/// three boot on that release, elect a leader, and replicate a write.
#[test]
fn three_members() {
    for version in ["3.5.1", "3.5.16", "3.5.30", "3.6.16", "3.7.3"] {
        if let Some(bins) = util::require_version(version) {
            three_members_of(&bins, &format!("v{version}"));
        }
    }
}

fn three_members_of(bins: &EtcdBins, dir: &str) {
    eprintln!("etcd {} on {dir}", bins.version);
    let bins = bins.clone();
    let tmp = tempfile::tempdir().unwrap();
    let ports = util::free_ports::<6>();
    let names = ["m1", "m2", "m3"];
    let peer = |i: usize| util::local_url(ports[3 + i]);
    let cluster = names.iter().enumerate().map(|(i, n)| format!("{n}={}", peer(i))).collect::<Vec<_>>().join(",");
    let snapshot = util::fixture(dir).join("snapshot.db");
    let mut dirs = Vec::new();
    for (i, n) in names.iter().enumerate() {
        let flags: Vec<String> = [
            "--name",
            n,
            "--initial-cluster",
            &cluster,
            "--initial-cluster-token",
            "tok3",
            "--initial-advertise-peer-urls",
            &peer(i),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ours = tmp.path().join(n);
        let plan = ours_restore_json(&snapshot, &ours, &flags);
        assert_eq!(plan["consistentIndex"], 3, "etcd {}", bins.version);
        let theirs = tmp.path().join(format!("{n}-etcdutl"));
        etcdutl_restore(&bins, &snapshot, &theirs, &flags);
        compare_dirs(&bins, &ours, &theirs);
        dirs.push(ours);
    }
    let handles: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (bins, dir, cluster) = (bins.clone(), dirs[i].clone(), cluster.clone());
            let opts = EtcdOptions::new(n).ports(ports[i], ports[3 + i]).arg("--initial-cluster").arg(&cluster);
            std::thread::spawn(move || EtcdProcess::start_with(&bins, &dir, &opts))
        })
        .collect();
    let procs: Vec<EtcdProcess> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let leaders: Vec<u64> = procs
        .iter()
        .map(|p| {
            let v: Value =
                serde_json::from_str(&util::assert_success(&p.etcdctl(["endpoint", "status", "-w", "json"]))).unwrap();
            v[0]["Status"]["leader"].as_u64().unwrap()
        })
        .collect();
    assert!(leaders[0] != 0 && leaders.iter().all(|&l| l == leaders[0]), "{leaders:?}");
    procs[0].put("/three/probe", "replicated");
    let out = util::assert_success(&procs[2].etcdctl(["get", "/three/probe", "--print-value-only"]));
    assert_eq!(out.trim(), "replicated");
    let (_, kvs) = golden_kvs(dir);
    let got = all_kvs(&procs[1]);
    assert_eq!(got.len(), kvs.len() + 1, "etcd {}", bins.version);
}

/// Exit codes and refusals: nothing is ever created on a refusal.
#[test]
fn refusals_and_dry_run() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = util::fixture("v3.5.1/snapshot.db");
    let target = tmp.path().join("t");
    // --dry-run: checks everything, writes nothing
    let out = ours_restore(&snap, &target, &["--dry-run".into()]);
    let text = util::assert_success(&out);
    assert!(text.contains("dry run"), "{text}");
    assert!(text.contains("revision          262"), "{text}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    // an existing non-empty data dir: usage error, exit 2, untouched
    std::fs::create_dir(&target).unwrap();
    std::fs::write(target.join("keep"), "x").unwrap();
    let out = ours_restore(&snap, &target, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"), "{}", util::show(&out));
    assert_eq!(std::fs::read_dir(&target).unwrap().count(), 1);
    // an existing empty data dir is fine (as etcdutl 3.5)
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    util::assert_success(&ours_restore(&snap, &empty, &[]));
    assert!(empty.join(DB).is_file());
    // bad flags as etcdutl refuses them
    let out = ours_restore(&snap, &tmp.path().join("x"), &["--bump-revision".into(), "5".into()]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    let out = ours_restore(&snap, &tmp.path().join("x"), &["--name".into(), "nope".into()]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    assert!(!tmp.path().join("x").exists());

    // a wrong trailer: damage, exit 1, nothing created
    let (_g, bad) = util::copy_to_temp("v3.5.1/snapshot.db");
    let mut bytes = std::fs::read(&bad).unwrap();
    let n = bytes.len();
    bytes[n - 1] ^= 0xff;
    std::fs::write(&bad, &bytes).unwrap();
    let out = ours_restore(&bad, &tmp.path().join("y"), &[]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-256 trailer"), "{}", util::show(&out));
    assert!(!tmp.path().join("y").exists());
    // The db was written (unnamed) while the trailer was checked: no trace of it.
    let left: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('y'))
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // a damaged page of the key bucket, past --skip-hash-check: exit 1
    let (_g2, bad2) = util::copy_to_temp("v3.5.1/snapshot.db");
    let mut bytes = std::fs::read(&bad2).unwrap();
    let page = key_bucket_leaf(&bytes);
    bytes[page * 4096 + 8] = 0x20; // page flags: no such page type
    std::fs::write(&bad2, &bytes).unwrap();
    let out = ours_restore(&bad2, &tmp.path().join("z"), &["--skip-hash-check".into(), "-w".into(), "json".into()]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["restored"], false);
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["bucket"] == "key"), "{v}");
    assert!(!tmp.path().join("z").exists());
    assert_eq!(
        std::fs::read_dir(tmp.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().contains(".tmp-"))
            .count(),
        0
    );
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

/// SIGKILL at random moments: afterwards the target is absent, or complete
/// (the restore had finished); at most `<target>.tmp-*` is left behind.
#[test]
fn killed_restore_leaves_no_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = util::fixture("v3.5.1/snapshot.db");
    // xorshift seeded from the clock: different moments on every run, printed for reruns
    let mut seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    eprintln!("kill test seed {seed}");
    // How long a whole restore takes here, so that kills land before, during and after it.
    let t0 = std::time::Instant::now();
    util::assert_success(&ours_restore(&snap, &tmp.path().join("tcalibrate"), &[]));
    let full = t0.elapsed().as_micros().max(1000) as u64;
    let mut killed_midway = 0;
    for i in 0..12 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = Duration::from_micros(seed % (full + full / 3));
        let target = tmp.path().join(format!("t{i}"));
        let mut child = util::ours_cmd()
            .args(["restore", &snap.display().to_string(), "--data-dir", &target.display().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if target.exists() {
            // Only a finished restore may leave the target: it must be complete.
            assert!(
                target.join(DB).is_file() && target.join(WAL).is_file() && target.join(SNAP1).is_file(),
                "t{i}: incomplete data dir after kill ({status:?}, {delay:?})"
            );
            let out = util::ours(["check", &target.join(DB).display().to_string()]);
            assert!(out.status.success(), "{}", util::show(&out));
        } else {
            killed_midway += 1;
        }
        for e in std::fs::read_dir(tmp.path()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(name.starts_with('t') && (!name.contains('.') || name.contains(".tmp-")), "unexpected {name}");
        }
    }
    eprintln!("{killed_midway} of 12 restores were killed before publishing");
}

/// etcdctl 3.4's restore deletes (at a new revision) every live user key
/// named like a key of the `members`/`members_removed` buckets; so does our
/// 3.4 layout, and the result is etcdctl's, byte for byte in content.
#[test]
fn etcdctl_3_4_deletes_user_keys_named_like_members() {
    let Some(bins) = util::require_etcd34() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let mut etcd = EtcdProcess::start(&bins, tmp.path().join("src"), "src", &[] as &[&str]);
    let v: Value =
        serde_json::from_str(&util::assert_success(&etcd.etcdctl(["endpoint", "status", "-w", "json"]))).unwrap();
    let id = format!("{:x}", v[0]["Status"]["header"]["member_id"].as_u64().unwrap());
    etcd.put("a", "1");
    etcd.put(&id, "named like the member");
    etcd.put("b", "2");
    let snap = tmp.path().join("snap.db");
    util::assert_success(&etcd.etcdctl(["snapshot", "save", &snap.display().to_string()]));
    etcd.stop();
    let flags = one_member("http://127.0.0.1:25801");
    let mut ours = flags.clone();
    ours.extend(["--etcd-version".to_string(), "3.4".to_string(), "-w".into(), "json".into()]);
    let out = ours_restore(&snap, &tmp.path().join("ours"), &ours);
    let plan: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
    assert_eq!(plan["deletedMemberNamedKeys"], serde_json::json!([id]));
    assert_eq!(plan["revision"], 5);
    etcdctl34_restore(&bins, &snap, &tmp.path().join("theirs"), &flags);
    compare_dirs(&bins, &tmp.path().join("ours"), &tmp.path().join("theirs"));
    // by default a 3.4 snapshot gets the 3.4 layout
    let plan_default = ours_restore_json(&snap, &tmp.path().join("ours-default"), &flags);
    assert_eq!((plan_default["layout"].as_str(), plan_default["revision"].as_i64()), (Some("3.4"), Some(5)));
    // the 3.5 layout leaves user keys alone, as etcdutl does
    let mut f35 = flags.clone();
    f35.extend(["--etcd-version".to_string(), "3.5".to_string()]);
    let plan35 = ours_restore_json(&snap, &tmp.path().join("ours35"), &f35);
    assert_eq!(plan35["revision"], 4);
}

/// What we restore passes our own data-dir check.
#[test]
fn our_check_passes_a_restored_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("d");
    util::assert_success(&ours_restore(
        &util::fixture("v3.5.1/snapshot.db"),
        &data,
        &one_member("http://127.0.0.1:25801"),
    ));
    let out = util::ours(["check", &data.display().to_string()]);
    assert!(out.status.success(), "{}", util::show(&out));
}
