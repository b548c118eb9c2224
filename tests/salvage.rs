//! `salvage` on copies of real etcd files with known content: the ground
//! truth is the undamaged original read with our reader. After damage, the
//! salvaged snapshot must hold every revision that was not stored on a
//! damaged page (compared as sets), nothing that was not in the original,
//! and real etcd 3.5.1 must boot `restore`'s data dir made from it and
//! serve exactly the keys the salvaged revisions say are live.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use etcd_forensics::bolt::{self, Db, WalkOptions};
use etcd_forensics::mvcc::{Revision, kv};
use etcd_forensics::output::inspect::base64;
use etcd_forensics::source::Source;

use crate::util::{self, Collect, EtcdBins, EtcdOptions, EtcdProcess};

const PS: usize = 4096;

type Entries = BTreeMap<Vec<u8>, Vec<u8>>;

/// The `key` bucket of a clean db or snapshot file.
fn key_bucket(path: &Path) -> Entries {
    let src = Source::open(path).unwrap();
    let db = Db::open(src.bytes()).unwrap_or_else(|e| panic!("{}: {}", path.display(), e.error));
    let r = bolt::walk(&db, WalkOptions::default(), |_| Collect::default());
    assert!(
        r.findings.is_empty(),
        "{}: {:?}",
        path.display(),
        r.findings.iter().map(|f| &f.finding.what).collect::<Vec<_>>()
    );
    r.buckets.into_iter().find(|b| b.name == b"key").map(|b| b.sink.0.into_iter().collect()).unwrap_or_default()
}

/// Branch and leaf pages of the `key` bucket of a clean file, depth first.
fn key_tree(file: &[u8]) -> (Vec<usize>, Vec<usize>) {
    let db = Db::open(file).unwrap();
    let root = db.page(db.meta().root).unwrap();
    let key = (0..root.count as usize).map(|i| root.leaf(i).unwrap()).find(|e| e.key == b"key").unwrap();
    let (mut branches, mut leaves) = (Vec::new(), Vec::new());
    let mut stack = vec![u64::from_le_bytes(key.value[..8].try_into().unwrap())];
    while let Some(id) = stack.pop() {
        let p = db.page(id).unwrap();
        if p.is_leaf() {
            leaves.push(id as usize);
        } else {
            branches.push(id as usize);
            for i in (0..p.count as usize).rev() {
                stack.push(p.branch(i).unwrap().child);
            }
        }
    }
    (branches, leaves)
}

/// Keys stored on leaf page `id` of a clean file.
fn leaf_keys(file: &[u8], id: usize) -> Vec<Vec<u8>> {
    let db = Db::open(file).unwrap();
    let p = db.page(id as u64).unwrap();
    (0..p.count as usize).map(|i| p.leaf(i).unwrap().key.to_vec()).collect()
}

/// Those of `keys` (from leaf page `victim`) that are also on another leaf
/// page of the file: an older copy of the page that bbolt freed but did
/// not overwrite yet, which salvage's page scan finds. Whether one exists
/// depends on which commits reused which free pages.
fn keys_on_other_leaves(file: &[u8], victim: usize, keys: &[Vec<u8>]) -> std::collections::BTreeSet<Vec<u8>> {
    let db = Db::open(file).unwrap();
    let mut elsewhere = std::collections::BTreeSet::new();
    for id in 2..(file.len() / PS) as u64 {
        if id as usize == victim {
            continue;
        }
        let Ok(p) = db.page(id) else { continue };
        if !p.is_leaf() {
            continue;
        }
        for i in 0..p.count as usize {
            if let Ok(e) = p.leaf(i) {
                if keys.iter().any(|k| k[..] == *e.key) {
                    elsewhere.insert(e.key.to_vec());
                }
            }
        }
    }
    elsewhere
}

/// Run `salvage -w json`: (exit code, report).
fn salvage(src: &Path, out: &Path) -> (i32, Value) {
    let o = util::ours(["salvage", &src.display().to_string(), "--output", &out.display().to_string(), "-w", "json"]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&o)));
    (o.status.code().unwrap_or(-1), v)
}

/// User keys alive at the last revision, as `etcdctl get -w json` kvs
/// (key, value base64; create/mod revision, version, lease).
fn live(entries: &Entries) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (k, v) in entries {
        let Some(rev) = Revision::parse(k) else { continue };
        let Ok(kv) = kv::decode(v) else { continue };
        let key = base64(kv.key);
        if rev.tombstone {
            out.remove(&key);
        } else {
            let mut m = serde_json::Map::new();
            m.insert("key".into(), key.clone().into());
            m.insert("create_revision".into(), kv.create_revision.into());
            m.insert("mod_revision".into(), kv.mod_revision.into());
            m.insert("version".into(), kv.version.into());
            if !kv.value.is_empty() {
                m.insert("value".into(), base64(kv.value).into());
            }
            if kv.lease != 0 {
                m.insert("lease".into(), kv.lease.into());
            }
            out.insert(key, Value::Object(m));
        }
    }
    out
}

/// Restore `snapshot` with ours for one member, boot etcd on it and read
/// every key; the keys must be exactly `expected`.
fn boot_and_compare(bins: &EtcdBins, snapshot: &Path, expected: &Entries, what: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let [client, peer] = util::free_ports::<2>();
    let url = util::local_url(peer);
    let out = util::ours([
        "restore",
        &snapshot.display().to_string(),
        "--data-dir",
        &data.display().to_string(),
        "--name",
        "s1",
        "--initial-cluster",
        &format!("s1={url}"),
        "--initial-advertise-peer-urls",
        &url,
    ]);
    util::assert_success(&out);
    let mut p = EtcdProcess::start_with(bins, &data, &EtcdOptions::new("s1").ports(client, peer));
    let got = p.etcdctl(["get", "", "--prefix", "-w", "json"]);
    let v: Value = serde_json::from_str(&util::assert_success(&got)).unwrap();
    let kvs: BTreeMap<String, Value> = v["kvs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_string(), kv))
        .collect();
    let want = live(expected);
    assert_eq!(kvs.len(), want.len(), "{what}: number of keys served by etcd {}", bins.version);
    assert_eq!(kvs, want, "{what}: keys served by etcd {}", bins.version);
    // and it takes writes
    p.put("/after/salvage", "ok");
    p.stop();
}

/// A copy of `fixture` damaged by `damage`, salvaged; returns the original
/// key bucket, the salvaged one, the report and the exit code.
struct Case {
    _tmp: tempfile::TempDir,
    original: Entries,
    salvaged: Entries,
    report: Value,
    code: i32,
    out: PathBuf,
}

fn run_case(fixture: &str, damage: impl FnOnce(&mut Vec<u8>)) -> Case {
    let tmp = tempfile::tempdir().unwrap();
    let src = util::fixture(fixture);
    let original = key_bucket(&src);
    let db = tmp.path().join("db");
    let mut bytes = std::fs::read(&src).unwrap();
    damage(&mut bytes);
    std::fs::write(&db, &bytes).unwrap();
    let before = util::file_fingerprint(&db);
    let out = tmp.path().join("salvaged.snapshot");
    let (code, report) = salvage(&db, &out);
    util::assert_unchanged(&db, &before);
    assert!(code == 0 || code == 1, "{report}");
    let chk = util::ours(["check", &out.display().to_string()]);
    assert_eq!(chk.status.code(), Some(0), "the salvaged file checks clean\n{}", util::show(&chk));
    let salvaged = key_bucket(&out);
    Case { _tmp: tmp, original, salvaged, report, code, out }
}

/// Nothing invented: every salvaged revision is the original's, byte for byte.
fn assert_subset(c: &Case) {
    for (k, v) in &c.salvaged {
        assert_eq!(c.original.get(k), Some(v), "revision {:?} is not the original's", Revision::parse(k));
    }
}

fn missing(c: &Case) -> Vec<Vec<u8>> {
    c.original.keys().filter(|k| !c.salvaged.contains_key(*k)).cloned().collect()
}

/// The member db of 3.5.1 and the `snapshot save` file of every release,
/// each with the release whose etcd boots what we restore from it.
const FILES: [(&str, &str); 7] = [
    ("v3.5.1/member-db", "3.5.1"),
    ("v3.4.23/snapshot.db", "3.4.23"),
    ("v3.5.1/snapshot.db", "3.5.1"),
    ("v3.5.16/snapshot.db", "3.5.16"),
    ("v3.5.30/snapshot.db", "3.5.30"),
    ("v3.6.16/snapshot.db", "3.6.16"),
    ("v3.7.3/snapshot.db", "3.7.3"),
];

#[test]
fn a_damaged_leaf_loses_exactly_its_revisions() {
    for (f, version) in FILES {
        eprintln!("case {f}");
        a_damaged_leaf_of(f, version);
    }
}

/// The cause of what the SIGKILL-under-load cases see now and then (fewer
/// revisions rebuilt from the WAL than the damaged leaf held): bbolt writes
/// a changed leaf to a new page and frees the old one, which keeps its bytes
/// until reused. When the tree's current copy is damaged, the scan finds
/// the page's revisions on that freed copy and puts them back; only the
/// rest are left to the WAL. Made deterministic here: the victim leaf's
/// bytes copied onto a free page of the real v3.5.1 db, then the victim
/// damaged. Every revision of the page comes back from the copy, none is
/// lost, and the report counts them as recovered from that page.
#[test]
fn a_freed_copy_of_a_damaged_leaf_brings_its_revisions_back() {
    let fixture = "v3.5.1/member-db";
    let src = std::fs::read(util::fixture(fixture)).unwrap();
    let (_, leaves) = key_tree(&src);
    let victim = leaves[leaves.len() / 2];
    let on_page = leaf_keys(&src, victim);
    // etcd 3.5 keeps no freelist on disk: a free page is one no tree reaches.
    let free = {
        let db = Db::open(&src).unwrap();
        let mut used = std::collections::BTreeSet::from([0u64, 1]);
        let mut stack = vec![db.meta().root];
        while let Some(id) = stack.pop() {
            let p = db.page(id).unwrap();
            used.extend(id..=id + u64::from(p.overflow));
            for i in 0..p.count as usize {
                if p.is_leaf() {
                    let e = p.leaf(i).unwrap();
                    let root = if e.is_bucket() { u64::from_le_bytes(e.value[..8].try_into().unwrap()) } else { 0 };
                    if root != 0 {
                        stack.push(root);
                    }
                } else {
                    stack.push(p.branch(i).unwrap().child);
                }
            }
        }
        (2..db.hwm()).find(|id| !used.contains(id)).expect("the fixture has a free page") as usize
    };
    assert_ne!(free, victim);
    let c = run_case(fixture, |b| {
        let copy = b[victim * PS..(victim + 1) * PS].to_vec();
        b[free * PS..(free + 1) * PS].copy_from_slice(&copy);
        b[victim * PS + 8] = 0x40;
    });
    assert_subset(&c);
    assert_eq!(missing(&c), Vec::<Vec<u8>>::new(), "nothing lost: {}", c.report["lost"]);
    assert_eq!(c.report["skippedPages"][0]["page"].as_u64(), Some(victim as u64), "{}", c.report["skippedPages"]);
    assert_eq!(c.report["recovered"]["revisions"].as_u64(), Some(on_page.len() as u64), "{}", c.report["recovered"]);
    assert_eq!(c.report["lost"]["revisions"].as_u64(), Some(0), "{}", c.report["lost"]);
    let pages: Vec<u64> = c.report["recovered"]["pages"].as_array().unwrap().iter().filter_map(Value::as_u64).collect();
    assert_eq!(pages, vec![free as u64], "recovered from the freed copy: {}", c.report["recovered"]);
    // and without the copy, exactly those revisions are lost
    let c = run_case(fixture, |b| b[victim * PS + 8] = 0x40);
    assert_eq!(missing(&c), on_page);
}

fn a_damaged_leaf_of(fixture: &str, version: &str) {
    let src = std::fs::read(util::fixture(fixture)).unwrap();
    let (_, leaves) = key_tree(&src);
    let victim = leaves[leaves.len() / 2];
    let on_page = leaf_keys(&src, victim);
    let c = run_case(fixture, |b| b[victim * PS + 8] = 0x40);
    assert_subset(&c);
    assert_eq!(missing(&c), on_page, "lost = the revisions stored on page {victim}");
    assert_eq!(c.code, 1, "{}", c.report);
    let skipped = c.report["skippedPages"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{}", c.report);
    assert_eq!(skipped[0]["page"].as_u64(), Some(victim as u64));
    assert_eq!(skipped[0]["bucket"], "key");
    // the report names the lost main revisions
    let mains: std::collections::BTreeSet<i64> = on_page.iter().map(|k| Revision::parse(k).unwrap().main).collect();
    let named: Vec<i64> = c.report["lost"]["partial"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_i64().unwrap())
        .chain(
            c.report["lost"]["ranges"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|r| r["first"].as_i64().unwrap()..=r["last"].as_i64().unwrap()),
        )
        .collect();
    for m in &mains {
        let whole = !c.salvaged.keys().any(|k| Revision::parse(k).unwrap().main == *m);
        assert!(named.contains(m) || !whole, "main revision {m} lost but not named: {}", c.report["lost"]);
    }
    // keys whose newest revision was on the page, and what stands in now
    let newest_of = |e: &Entries, user: &[u8]| {
        e.iter()
            .filter(|(_, v)| kv::key_of(v) == Some(user))
            .map(|(k, _)| Revision::parse(k).unwrap())
            .max_by_key(|r| (r.main, r.sub))
    };
    let listed: BTreeMap<String, Value> = c.report["keysNewestLost"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| (k["key"].as_str().unwrap().to_string(), k.clone()))
        .collect();
    let mut expected = 0;
    for k in &on_page {
        let user = kv::key_of(&c.original[k]).unwrap();
        if newest_of(&c.original, user) != Revision::parse(k) {
            continue; // a newer revision of the key survives
        }
        expected += 1;
        let entry = &listed[std::str::from_utf8(user).unwrap()];
        assert_eq!(entry["lost"]["main"].as_i64(), Some(Revision::parse(k).unwrap().main));
        let stand_in = newest_of(&c.salvaged, user);
        assert_eq!(entry["standIn"]["main"].as_i64(), stand_in.map(|r| r.main), "{entry}");
    }
    assert!(expected > 0, "the victim page held some key's newest revision");
    assert_eq!(listed.len(), expected, "{}", c.report["keysNewestLost"]);
    if let Some(bins) = util::require_version(version) {
        boot_and_compare(&bins, &c.out, &c.salvaged, &format!("damaged leaf of {fixture}"));
    }
}

#[test]
fn a_damaged_branch_page_loses_nothing() {
    for (f, version) in FILES {
        let src = std::fs::read(util::fixture(f)).unwrap();
        let (branches, _) = key_tree(&src);
        assert!(!branches.is_empty(), "{f}: the key bucket has branch pages");
        for victim in [branches[0], branches[branches.len() - 1]] {
            let c = run_case(f, |b| b[victim * PS + 8] = 0x40);
            assert_subset(&c);
            assert_eq!(missing(&c), Vec::<Vec<u8>>::new(), "{f}: branch page {victim}: {}", c.report["recovered"]);
            assert!(c.report["recovered"]["revisions"].as_u64().unwrap() > 0);
            assert_eq!(c.report["skippedPages"][0]["page"].as_u64(), Some(victim as u64), "{f}");
            if victim == branches[0] {
                if let Some(bins) = util::require_version(version) {
                    boot_and_compare(&bins, &c.out, &c.salvaged, &format!("damaged root branch of {f}"));
                }
            }
        }
    }
}

/// 3.5.16 compacted at 119, where a key was deleted: since 3.5.16 (and
/// 3.4.34, 3.6) compaction keeps a tombstone at exactly the compact
/// revision, so the file holds it. A damaged branch above it: the page
/// scan finds it, and salvage puts it back by the writer's rules; asked
/// for 3.5.15's rules it is dropped as compacted, and the report says
/// which rules applied.
#[test]
fn a_tombstone_at_the_compact_revision_comes_back_by_the_writers_rules() {
    let f = "v3.5.16/snapshot.db";
    let compact = util::manifest("v3.5.16")["revisions"]["compact"].as_i64().unwrap();
    let src = std::fs::read(util::fixture(f)).unwrap();
    let original = key_bucket(&util::fixture(f));
    let tomb = original
        .keys()
        .find(|k| Revision::parse(k).is_some_and(|r| r.main == compact && r.tombstone))
        .expect("3.5.16 keeps the tombstone at the compact revision")
        .clone();
    // the branch page above the leaf holding it
    let db = Db::open(&src).unwrap();
    let (branches, _) = key_tree(&src);
    let victim = *branches
        .iter()
        .rev()
        .find(|&&b| {
            let p = db.page(b as u64).unwrap();
            (0..p.count as usize).any(|i| leaf_keys(&src, p.branch(i).unwrap().child as usize).contains(&tomb))
        })
        .expect("a branch page right above the tombstone's leaf");
    let c = run_case(f, |b| b[victim * PS + 8] = 0x40);
    assert_eq!(c.report["rules"]["release"], "3.5", "{}", c.report["rules"]);
    assert_eq!(c.report["rules"]["source"], "detected");
    assert!(c.salvaged.contains_key(&tomb), "{}", c.report["recovered"]);
    assert_eq!(missing(&c), Vec::<Vec<u8>>::new());

    // 3.5.15's rules: the same tombstone is compacted history
    let tmp = tempfile::tempdir().unwrap();
    let db_path = tmp.path().join("db");
    let mut bytes = src.clone();
    bytes[victim * PS + 8] = 0x40;
    std::fs::write(&db_path, &bytes).unwrap();
    let out = tmp.path().join("old-rules.snapshot");
    let o = util::ours([
        "salvage",
        &db_path.display().to_string(),
        "--output",
        &out.display().to_string(),
        "--etcd-version",
        "3.5.15",
        "-w",
        "json",
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&o)));
    assert_eq!(v["rules"]["release"], "3.5.15");
    assert_eq!(v["rules"]["source"], "requested");
    assert!(v["recovered"]["compacted"].as_u64().unwrap() >= 1, "{}", v["recovered"]);
    assert!(!key_bucket(&out).contains_key(&tomb));
    let text = util::ours([
        "salvage",
        &db_path.display().to_string(),
        "--output",
        &tmp.path().join("s").display().to_string(),
    ]);
    assert_eq!(text.status.code(), Some(1), "a skipped page is damage: {}", util::show(&text));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains("compaction rules: etcd 3.5 rules (written by etcd 3.5"), "{stdout}");
}

#[test]
fn flipped_bytes_inside_a_leaf_keep_every_element_that_still_reads() {
    let src = std::fs::read(util::fixture("v3.5.1/member-db")).unwrap();
    let (_, leaves) = key_tree(&src);
    let victim = leaves[leaves.len() / 3];
    let on_page = leaf_keys(&src, victim);
    // garble the middle of the element array: those elements fail, the walk
    // stops there, the scan reads the rest
    let n = on_page.len();
    let c = run_case("v3.5.1/member-db", |b| {
        for x in &mut b[victim * PS + 16 + 16 * (n / 2)..victim * PS + 16 + 16 * (n / 2) + 20] {
            *x ^= 0xA5;
        }
    });
    assert_subset(&c);
    let lost = missing(&c);
    assert!(!lost.is_empty() && lost.len() < n, "{} of {n} lost", lost.len());
    assert!(lost.iter().all(|k| on_page.contains(k)), "only revisions of page {victim} are lost");
    assert!(c.report["recovered"]["revisions"].as_u64().unwrap() > 0, "{}", c.report["recovered"]);
}

#[test]
fn a_damaged_meta_page_falls_back_to_the_other() {
    // flip the newest meta's root pointer: it fails its checksum
    let src = std::fs::read(util::fixture("v3.5.1/member-db")).unwrap();
    let txid = |i: usize| u64::from_le_bytes(src[i * PS + 64..i * PS + 72].try_into().unwrap());
    let newest = if txid(1) > txid(0) { 1 } else { 0 };
    let c = run_case("v3.5.1/member-db", |b| b[newest * PS + 32] ^= 0x01);
    assert_eq!(c.report["meta"]["used"]["index"].as_u64(), Some(1 - newest as u64), "{}", c.report["meta"]);
    assert_eq!(c.report["meta"]["other"]["valid"], false);
    assert_eq!(missing(&c), Vec::<Vec<u8>>::new());
    assert_subset(&c);
    // both metas bad: the one whose fields still name a tree is used anyway
    let c = run_case("v3.5.1/member-db", |b| {
        b[72] ^= 0xff; // meta 0 checksum
        b[PS + 72] ^= 0xff; // meta 1 checksum
    });
    assert_eq!(c.report["meta"]["used"]["valid"], false, "{}", c.report["meta"]);
    assert_eq!(missing(&c), Vec::<Vec<u8>>::new());
    assert_eq!(c.code, 1, "an unvalidated meta is not a clean salvage");
}

#[test]
fn clean_input_is_copied_whole_and_restores() {
    for f in FILES.iter().map(|(f, _)| *f).chain(["tiny/member-db"]) {
        let c = run_case(f, |_| {});
        assert_eq!(c.code, 0, "{f}: {}", c.report);
        assert_eq!(c.salvaged, c.original, "{f}");
        // every bucket, not just `key`: the status hash of the content is the original's
        let st = util::ours(["status", "-w", "json", &util::fixture(f).display().to_string()]);
        let orig: Value = serde_json::from_str(&util::assert_success(&st)).unwrap();
        assert_eq!(c.report["result"]["status"]["hash"], orig["hash"], "{f}");
    }
    // refuses an existing output
    let c = run_case("tiny/member-db", |_| {});
    let again = util::ours([
        "salvage",
        &util::fixture("tiny/member-db").display().to_string(),
        "--output",
        &c.out.display().to_string(),
    ]);
    assert_eq!(again.status.code(), Some(2), "{}", util::show(&again));
}

// ---------------------------------------------------------------------------
// Data dirs: the db and the WAL of a real member killed with SIGKILL.

/// A member killed with SIGKILL after a workload of puts over 40
/// keys (300-byte values), deletes, a txn and a leased key. The backend
/// commits only every ~97 writes (`--backend-batch-limit`), so the last
/// writes are only in the WAL: entries past the db's consistent index.
fn killed_member(bins: &EtcdBins) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut p =
        EtcdProcess::start(bins, &data, "m", &["--backend-batch-interval", "1h", "--backend-batch-limit", "97"]);
    let pad = "x".repeat(300);
    for i in 0..330 {
        p.put(&format!("/k/{:02}", i % 40), &format!("{i}-{pad}"));
        if i % 50 == 49 {
            util::assert_success(&p.etcdctl(["del", &format!("/k/{:02}", (i / 50) % 40)]));
        }
        if i == 120 {
            let out = util::assert_success(&p.etcdctl(["lease", "grant", "600"]));
            let id = out.split_whitespace().nth(1).unwrap().to_string();
            util::assert_success(&p.etcdctl(["put", "/leased", "v", "--lease", &id]));
        }
        if i == 200 {
            let txn = "value(\"/k/01\") != \"nope\"\n\nput /txn/a yes\ndel /k/02\n\n\n";
            util::assert_success(&util::etcdctl_with_stdin(bins, Some(p.endpoint()), ["txn"], Some(txn.as_bytes())));
        }
    }
    p.kill();
    (tmp, data)
}

/// What real etcd makes of a data dir: booted alone on a copy (it applies
/// its whole log), read, stopped cleanly; then its `key` bucket.
struct Truth {
    keys: Entries,
    live: BTreeMap<String, Value>,
}

fn truth(bins: &EtcdBins, data: &Path) -> Truth {
    let (_t, copy) = util::copy_to_temp(data);
    let mut p = EtcdProcess::start(bins, &copy, "m", &[] as &[&str]);
    // a linearizable read: the leader applied its log
    util::assert_success(&p.etcdctl(["get", "/none", "--consistency=l"]));
    let got = p.etcdctl(["get", "", "--prefix", "-w", "json"]);
    let v: Value = serde_json::from_str(&util::assert_success(&got)).unwrap();
    let live = v["kvs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_string(), kv))
        .collect();
    p.stop();
    Truth { keys: key_bucket(&copy.join("member/snap/db")), live }
}

/// Salvage a data dir (damaged copy), with the input fingerprinted.
fn salvage_dir(data: &Path, out: &Path, extra: &[&str]) -> (i32, Value, Entries) {
    let files: Vec<PathBuf> = walk_files(data);
    let before: Vec<_> = files.iter().map(util::file_fingerprint).collect();
    let mut args =
        vec!["salvage".to_string(), data.display().to_string(), "--output".into(), out.display().to_string()];
    args.extend(["-w".into(), "json".into()]);
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = util::ours(args);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&o)));
    for (f, b) in files.iter().zip(&before) {
        util::assert_unchanged(f, b);
    }
    assert_eq!(walk_files(data), files, "salvage created or removed files in the input");
    let chk = util::ours(["check", &out.display().to_string()]);
    assert_eq!(chk.status.code(), Some(0), "the salvaged file checks clean\n{}", util::show(&chk));
    (o.status.code().unwrap_or(-1), v, key_bucket(out))
}

fn walk_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Entries of `t` with main revision ≤ `max`.
fn up_to(t: &Entries, max: i64) -> Entries {
    t.iter().filter(|(k, _)| Revision::parse(k).unwrap().main <= max).map(|(k, v)| (k.clone(), v.clone())).collect()
}

fn last_main(e: &Entries) -> i64 {
    e.keys().next_back().map_or(0, |k| Revision::parse(k).unwrap().main)
}

fn assert_same_entries(got: &Entries, want: &Entries, what: &str) {
    let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).map(|k| Revision::parse(k)).collect();
    let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).map(|k| Revision::parse(k)).collect();
    let differ: Vec<_> =
        got.iter().filter(|(k, v)| want.get(*k).is_some_and(|w| w != *v)).map(|(k, _)| Revision::parse(k)).collect();
    assert!(
        extra.is_empty() && missing.is_empty() && differ.is_empty(),
        "{what}: extra {extra:?}\nmissing {missing:?}\ndiffering {differ:?}"
    );
}

/// The damaged copy of `data`, made by `damage(copy)`.
fn damaged_copy(data: &Path, damage: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    let (t, copy) = util::copy_to_temp(data);
    damage(&copy);
    (t, copy)
}

/// The db's consistent index.
fn consistent_index(data: &Path) -> u64 {
    let o = util::ours(["meta", "-w", "json", &data.display().to_string()]);
    let v: Value = serde_json::from_str(&util::assert_success(&o)).unwrap();
    v["consistentIndex"].as_u64().unwrap_or_else(|| panic!("{v}"))
}

fn data_dir_db_damage_meta_branch_leaf(bins: EtcdBins) {
    let (_t, data) = killed_member(&bins);
    let truth = truth(&bins, &data);
    let db = std::fs::read(data.join("member/snap/db")).unwrap();
    let (branches, leaves) = key_tree(&db);
    assert!(!branches.is_empty() && leaves.len() >= 20, "{} branches, {} leaves", branches.len(), leaves.len());
    let out_dir = tempfile::tempdir().unwrap();

    // 0. undamaged: the WAL entries past the consistent index are replayed
    // exactly as etcd applies them
    let out = out_dir.path().join("clean.snapshot");
    let (code, v, got) = salvage_dir(&data, &out, &[]);
    assert!(
        v["wal"]["appliedTotal"].as_u64().unwrap() > 0,
        "the workload left entries past the consistent index: {}",
        v["wal"]
    );
    assert_same_entries(&got, &truth.keys, "undamaged data dir");
    assert_eq!(code, 0, "{v}");
    assert_eq!(live(&got), truth.live, "live keys");
    boot_and_compare(&bins, &out, &got, "undamaged data dir");

    // 1. the newest meta page damaged: the older one's tree, plus the WAL
    // from its (older) consistent index: nothing lost
    let txid = |i: usize| u64::from_le_bytes(db[i * PS + 64..i * PS + 72].try_into().unwrap());
    let newest = if txid(1) > txid(0) { 1 } else { 0 };
    let (_c, copy) = damaged_copy(&data, |d| flip(&d.join("member/snap/db"), newest * PS + 20, 0xff));
    let out = out_dir.path().join("meta.snapshot");
    let (_, v, got) = salvage_dir(&copy, &out, &[]);
    assert_eq!(v["meta"]["used"]["index"].as_u64(), Some(1 - newest as u64), "{}", v["meta"]);
    assert!(!v["meta"]["revertDiff"].as_array().unwrap().is_empty() || v["meta"]["sameTree"] == true, "{}", v["meta"]);
    assert_same_entries(&got, &truth.keys, "damaged meta page");
    boot_and_compare(&bins, &out, &got, "damaged meta page");

    // 2. a branch page of the key bucket: every leaf under it is found by the scan
    let victim = branches[branches.len() / 2];
    let (_c, copy) = damaged_copy(&data, |d| flip(&d.join("member/snap/db"), victim * PS + 8, 0x44));
    let out = out_dir.path().join("branch.snapshot");
    let (_, v, got) = salvage_dir(&copy, &out, &[]);
    assert_eq!(v["skippedPages"][0]["page"].as_u64(), Some(victim as u64), "{}", v["skippedPages"]);
    assert!(v["recovered"]["revisions"].as_u64().unwrap() > 0);
    assert_same_entries(&got, &truth.keys, "damaged branch page");
    boot_and_compare(&bins, &out, &got, "damaged branch page");

    // 3. a leaf. The WAL still holds every entry (no snapshot was taken), so
    // the replay aligned on the db's revisions rebuilds the leaf's revisions
    // exactly; without the WAL exactly its revisions are lost. The victim
    // holds only keys written again later in the db.
    let in_db = key_bucket(&data.join("member/snap/db"));
    let later = |leaf: usize| {
        leaf_keys(&db, leaf).iter().all(|k| {
            let user = kv::key_of(&in_db[k]).unwrap().to_vec();
            let rev = Revision::parse(k).unwrap();
            in_db
                .iter()
                .any(|(k2, v2)| Revision::parse(k2).unwrap().main > rev.main && kv::key_of(v2) == Some(&user[..]))
        })
    };
    let victim = *leaves[leaves.len() / 3..].iter().find(|&&l| later(l)).expect("a leaf whose keys are written again");
    let on_page = leaf_keys(&db, victim);
    let (_c, copy) = damaged_copy(&data, |d| flip(&d.join("member/snap/db"), victim * PS + 8, 0x44));
    let out = out_dir.path().join("leaf.snapshot");
    let (_, v, got) = salvage_dir(&copy, &out, &[]);
    // what the scan finds in stale copies of the page is not rebuilt
    let stale = keys_on_other_leaves(&db, victim, &on_page);
    assert_eq!(
        v["wal"]["rebuilt"]["revisions"].as_u64(),
        Some((on_page.len() - stale.len()) as u64),
        "{} of the page's {} revisions are on other leaves: {} / {}",
        stale.len(),
        on_page.len(),
        v["wal"]["rebuilt"],
        v["recovered"]
    );
    // The cause of the difference: the page's revisions that lie on other
    // (unreachable) leaves too are put back from those copies by the scan,
    // exactly those, and only the rest are rebuilt from the WAL.
    assert_eq!(
        v["recovered"]["revisions"].as_u64(),
        Some(stale.len() as u64),
        "the scan puts back exactly the page's revisions found on other leaves: {}",
        v["recovered"]
    );
    assert_eq!(v["lost"]["revisions"].as_u64(), Some(0), "{}", v["lost"]);
    assert_same_entries(&got, &truth.keys, "damaged leaf, rebuilt from the WAL");
    boot_and_compare(&bins, &out, &got, "damaged leaf, rebuilt from the WAL");

    let out = out_dir.path().join("leaf-nowal.snapshot");
    let (code, v, got) = salvage_dir(&copy, &out, &["--no-wal"]);
    if stale.len() < on_page.len() {
        assert_eq!(code, 1, "revisions were lost");
    }
    let mut want = in_db.clone();
    for k in on_page.iter().filter(|k| !stale.contains(*k)) {
        want.remove(k);
    }
    assert_same_entries(&got, &want, "damaged leaf, no WAL");
    assert!(
        v["lost"]["revisions"].as_u64().unwrap() > 0 || !v["lost"]["partial"].as_array().unwrap().is_empty(),
        "{}",
        v["lost"]
    );
    boot_and_compare(&bins, &out, &got, "damaged leaf, no WAL");

    // 4. the tail of the key bucket: the last leaf, rebuilt from the WAL too
    let victim = *leaves.last().unwrap();
    let (_c, copy) = damaged_copy(&data, |d| flip(&d.join("member/snap/db"), victim * PS + 8, 0x44));
    let out = out_dir.path().join("tail.snapshot");
    let (_, v, got) = salvage_dir(&copy, &out, &[]);
    assert!(v["lost"]["unknownFrom"].is_null(), "the replay knows the revision at the consistent index: {}", v["lost"]);
    assert_same_entries(&got, &truth.keys, "damaged last leaf, rebuilt from the WAL");
}

fn flip(path: &Path, at: usize, mask: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[at] ^= mask;
    std::fs::write(path, &b).unwrap();
}

/// (segment, offset of the length word, raft index) of every ENTRY record.
fn wal_entries(data: &Path) -> Vec<(PathBuf, usize, u64)> {
    use etcd_forensics::wal::{RecordType, ScanStart, WalDir};
    let wal = WalDir::open(&data.join("member/wal")).unwrap();
    let mut out = Vec::new();
    let s = wal
        .scan_with(ScanStart::All, |seg, rec| {
            if rec.kind() == RecordType::Entry {
                out.push((seg.path.clone(), rec.offset as usize, rec.entry().unwrap().index));
            }
        })
        .unwrap();
    assert!(s.fault.is_none(), "{:?}", s.fault);
    out
}

fn data_dir_wal_damage_torn_flipped_zeroed(bins: EtcdBins) {
    let (_t, data) = killed_member(&bins);
    let truth = truth(&bins, &data);
    let ci = consistent_index(&data);
    let entries = wal_entries(&data);
    let past: Vec<_> = entries.iter().filter(|e| e.2 > ci).cloned().collect();
    assert!(past.len() >= 4, "entries past the consistent index {ci}: {}", past.len());
    // the record in the middle of the entries past the consistent index
    let (seg, off, index) = past[past.len() / 2].clone();
    let out_dir = tempfile::tempdir().unwrap();

    // torn tail: the segment ends half-way through that record
    let (_c, copy) = damaged_copy(&data, |d| {
        let p = d.join("member/wal").join(seg.file_name().unwrap());
        let b = std::fs::read(&p).unwrap();
        std::fs::write(&p, &b[..off + 12]).unwrap();
    });
    let out = out_dir.path().join("torn.snapshot");
    let (code, v, got) = salvage_dir(&copy, &out, &[]);
    // a torn record, or (3.5.5+'s check) a length word past the end of the file
    assert_eq!(v["wal"]["cut"]["etcd"], "repairs", "{}", v["wal"]);
    assert_eq!(v["wal"]["applied"].as_array().unwrap().last().unwrap()["index"].as_u64(), Some(index - 1));
    let r = last_main(&got);
    assert_same_entries(&got, &up_to(&truth.keys, r), "torn WAL");
    assert!(r < last_main(&truth.keys), "the torn entries held writes");
    assert_eq!(code, 0, "a torn tail is cut as etcd's repair cuts it; nothing readable is left behind: {v}");
    // real etcd repairs the same copy and serves the same keys
    let repaired = truth_of_damaged(&bins, &copy);
    assert_eq!(live(&got), repaired, "etcd's own repair of the torn tail");
    boot_and_compare(&bins, &out, &got, "torn WAL");

    // a flipped bit inside that record: a CRC mismatch etcd refuses to boot
    let (_c, copy) =
        damaged_copy(&data, |d| flip(&d.join("member/wal").join(seg.file_name().unwrap()), off + 20, 0x10));
    let out = out_dir.path().join("flipped.snapshot");
    let (code, v, got) = salvage_dir(&copy, &out, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["wal"]["cut"]["code"], "wal.crc_mismatch", "{}", v["wal"]);
    let lost: Vec<u64> = v["wal"]["lost"].as_array().unwrap().iter().map(|e| e["index"].as_u64().unwrap()).collect();
    let expect_lost: Vec<u64> = past.iter().map(|e| e.2).filter(|&i| i > index).collect();
    assert!(expect_lost.iter().all(|i| lost.contains(i)), "lost {lost:?}, want at least {expect_lost:?}");
    let r = last_main(&got);
    assert_same_entries(&got, &up_to(&truth.keys, r), "flipped bit mid-log");
    boot_and_compare(&bins, &out, &got, "flipped bit mid-log");

    // a zeroed 4 KiB run from that record on: etcd stops reading there
    let (_c, copy) = damaged_copy(&data, |d| {
        let p = d.join("member/wal").join(seg.file_name().unwrap());
        let mut b = std::fs::read(&p).unwrap();
        for x in &mut b[off..off + 4096] {
            *x = 0;
        }
        std::fs::write(&p, &b).unwrap();
    });
    let out = out_dir.path().join("zeroed.snapshot");
    let (_, v, got) = salvage_dir(&copy, &out, &[]);
    assert!(v["wal"]["cut"].is_object(), "{}", v["wal"]);
    let r = last_main(&got);
    assert_same_entries(&got, &up_to(&truth.keys, r), "zeroed run");
    boot_and_compare(&bins, &out, &got, "zeroed run");
}

/// Keys real etcd serves from a (damaged) copy it can boot.
fn truth_of_damaged(bins: &EtcdBins, data: &Path) -> BTreeMap<String, Value> {
    truth(bins, data).live
}

/// Puts, deletes and txns from a thread until stopped (each etcdctl call
/// is killed at the stop, so nothing is retried into a copy later).
struct Load {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Load {
    fn start(bins: &EtcdBins, endpoint: &str) -> Load {
        use std::sync::atomic::Ordering;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, ctl, ep) = (stop.clone(), bins.etcdctl.clone(), endpoint.to_string());
        let thread = std::thread::spawn(move || {
            let mut i = 0usize;
            while !s.load(Ordering::SeqCst) {
                i += 1;
                let args: Vec<String> = match i % 9 {
                    0 => vec!["del".into(), format!("/load/{:02}", (i * 7) % 50)],
                    1 => vec!["put".into(), format!("/big/{}", i % 5), format!("{i}{}", "y".repeat(2000))],
                    _ => vec!["put".into(), format!("/load/{:02}", i % 50), format!("v{i}-{}", "z".repeat(200))],
                };
                let mut child = match std::process::Command::new(&ctl)
                    .env("ETCDCTL_API", "3")
                    .args(["--endpoints", &ep, "--dial-timeout", "1s", "--command-timeout", "2s"])
                    .args(&args)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                {
                    Ok(c) => c,
                    Err(_) => break,
                };
                loop {
                    if s.load(Ordering::SeqCst) {
                        let _ = child.kill();
                        let _ = child.wait();
                        return;
                    }
                    if let Ok(Some(_)) = child.try_wait() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
            }
        });
        Load { stop, thread: Some(thread) }
    }
    fn stop(mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }
}

fn sigkill_under_load_then_damage_keeps_everything_up_to_the_damage(bins: EtcdBins) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut p = EtcdProcess::start(&bins, &data, "k", &[] as &[&str]);
    // a base of committed data, then load, then SIGKILL mid-write
    for i in 0..150 {
        p.put(&format!("/base/{:02}", i % 30), &format!("{i}{}", "b".repeat(400)));
    }
    let load = Load::start(&bins, p.endpoint());
    std::thread::sleep(std::time::Duration::from_millis(2500));
    p.kill();
    load.stop();
    let truth = truth(&bins, &data);
    let db = std::fs::read(data.join("member/snap/db")).unwrap();
    let (_, leaves) = key_tree(&db);
    let in_db = key_bucket(&data.join("member/snap/db"));
    let out_dir = tempfile::tempdir().unwrap();

    // nothing damaged: salvage = what etcd reaches on a copy
    let out = out_dir.path().join("killed.snapshot");
    let (_, _, got) = salvage_dir(&data, &out, &[]);
    assert_same_entries(&got, &truth.keys, "killed member");

    // a damaged leaf whose keys are written again later: exactly its revisions are lost
    let later = |leaf: usize| {
        leaf_keys(&db, leaf).iter().all(|k| {
            let user = kv::key_of(&in_db[k]).unwrap().to_vec();
            let rev = Revision::parse(k).unwrap();
            in_db
                .iter()
                .any(|(k2, v2)| Revision::parse(k2).unwrap().main > rev.main && kv::key_of(v2) == Some(&user[..]))
        })
    };
    let victim = *leaves[leaves.len() / 4..].iter().find(|&&l| later(l)).expect("a leaf whose keys are written again");
    let on_page = leaf_keys(&db, victim);
    let (_c, copy) = damaged_copy(&data, |d| flip(&d.join("member/snap/db"), victim * PS + 8, 0x44));
    let out = out_dir.path().join("killed-leaf.snapshot");
    // with the WAL (it holds the whole history here): rebuilt, nothing lost
    let (_, v, got) = salvage_dir(&copy, &out, &[]);
    let stale = keys_on_other_leaves(&db, victim, &on_page);
    assert_eq!(
        v["wal"]["rebuilt"]["revisions"].as_u64(),
        Some((on_page.len() - stale.len()) as u64),
        "{} of the page's {} revisions are on other leaves: {}",
        stale.len(),
        on_page.len(),
        v["wal"]["rebuilt"]
    );
    // Why: the page's revisions that also lie on other leaves (unreachable
    // pages a later transaction freed, still holding older copies of the
    // page) are put back from those copies by the scan, exactly those; the
    // rest are rebuilt from the WAL.
    eprintln!("note: {} of the victim's {} revisions also on other leaves", stale.len(), on_page.len());
    assert_eq!(
        v["recovered"]["revisions"].as_u64(),
        Some(stale.len() as u64),
        "the scan puts back exactly the page's revisions found on other leaves: {}",
        v["recovered"]
    );
    assert_same_entries(&got, &truth.keys, "killed member, damaged leaf");
    boot_and_compare(&bins, &out, &got, "killed member, damaged leaf");
    // without it: exactly the leaf's revisions are lost, and what the db
    // had not applied
    let out = out_dir.path().join("killed-leaf-nowal.snapshot");
    let (code, _, got) = salvage_dir(&copy, &out, &["--no-wal"]);
    if stale.len() < on_page.len() {
        assert_eq!(code, 1, "revisions were lost");
    }
    let mut want = in_db.clone();
    for k in on_page.iter().filter(|k| !stale.contains(*k)) {
        want.remove(k);
    }
    assert_same_entries(&got, &want, "killed member, damaged leaf, no WAL");

    // the WAL's last segment damaged half-way through what the db lacks
    let ci = consistent_index(&data);
    let past: Vec<_> = wal_entries(&data).into_iter().filter(|e| e.2 > ci).collect();
    if let Some((seg, off, _)) = past.get(past.len() / 2).cloned() {
        let (_c, copy) =
            damaged_copy(&data, |d| flip(&d.join("member/wal").join(seg.file_name().unwrap()), off + 20, 0x08));
        let out = out_dir.path().join("killed-wal.snapshot");
        let (_, v, got) = salvage_dir(&copy, &out, &[]);
        assert!(v["wal"]["cut"].is_object(), "{}", v["wal"]);
        assert_same_entries(&got, &up_to(&truth.keys, last_main(&got)), "killed member, damaged WAL");
        boot_and_compare(&bins, &out, &got, "killed member, damaged WAL");
    } else {
        eprintln!("note: the db had applied the whole WAL when killed ({} entries); WAL damage case not exercised", ci);
    }
}

/// The data-dir cases, once per release of the matrix (a failure names
/// the version): a member of that release killed with SIGKILL, damaged,
/// salvaged, restored with ours and booted on that release.
macro_rules! data_dir_cases {
    ($($version:literal => $db:ident, $wal:ident, $load:ident;)*) => {$(
        #[test]
        fn $db() {
            let Some(bins) = util::require_version($version) else { return };
            data_dir_db_damage_meta_branch_leaf(bins);
        }
        #[test]
        fn $wal() {
            let Some(bins) = util::require_version($version) else { return };
            data_dir_wal_damage_torn_flipped_zeroed(bins);
        }
        #[test]
        fn $load() {
            let Some(bins) = util::require_version($version) else { return };
            sigkill_under_load_then_damage_keeps_everything_up_to_the_damage(bins);
        }
    )*};
}

data_dir_cases! {
    "3.4.23" => data_dir_db_damage_3_4_23, data_dir_wal_damage_3_4_23, sigkill_under_load_then_damage_3_4_23;
    "3.5.1" => data_dir_db_damage_3_5_1, data_dir_wal_damage_3_5_1, sigkill_under_load_then_damage_3_5_1;
    "3.5.16" => data_dir_db_damage_3_5_16, data_dir_wal_damage_3_5_16, sigkill_under_load_then_damage_3_5_16;
    "3.5.30" => data_dir_db_damage_3_5_30, data_dir_wal_damage_3_5_30, sigkill_under_load_then_damage_3_5_30;
    "3.6.16" => data_dir_db_damage_3_6_16, data_dir_wal_damage_3_6_16, sigkill_under_load_then_damage_3_6_16;
    "3.7.3" => data_dir_db_damage_3_7_3, data_dir_wal_damage_3_7_3, sigkill_under_load_then_damage_3_7_3;
}

/// Scattered random bytes flipped in a real db (40 per 660 kB, not the
/// metas; denser noise can damage a sub revision and both of its neighbours,
/// which then goes unnoticed): salvage never fails, its output checks clean, the revision does not run away, and no
/// revision above the compact revision appears that the original did not
/// have (a put's main revision is checked against its value, a tombstone's
/// and every sub revision against their neighbours, which above the compact
/// revision are consecutive; below it compaction leaves gaps, so there only
/// the main revision is checked). Values of puts may carry flipped bytes:
/// bbolt has no checksum to tell.
#[test]
fn random_noise_never_invents_revisions() {
    let src = util::fixture("v3.5.1/member-db");
    let original = key_bucket(&src);
    let last = last_main(&original);
    let compact = util::manifest("v3.5.1")["compact_revision"].as_i64().unwrap();
    let mains: std::collections::BTreeSet<(i64, bool)> =
        original.keys().map(|k| Revision::parse(k).unwrap()).map(|r| (r.main, r.tombstone)).collect();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut rnd = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..16 {
        let c = run_case("v3.5.1/member-db", |b| {
            for _ in 0..40 {
                let at = 2 * PS + (rnd() as usize) % (b.len() - 2 * PS);
                b[at] ^= 1 + (rnd() % 255) as u8;
            }
        });
        let extra: Vec<_> = c
            .salvaged
            .keys()
            .filter(|k| !original.contains_key(*k))
            .map(|k| Revision::parse(k).unwrap())
            .filter(|r| r.main > compact || !mains.contains(&(r.main, r.tombstone)))
            .collect();
        assert!(extra.is_empty(), "round {round}: revisions the original never had: {extra:?}\n{}", c.report);
        assert!(last_main(&c.salvaged) <= last, "round {round}");
    }
}
