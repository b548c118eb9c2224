//! `salvage` on copies of real etcd files with known content: the ground
//! truth is the undamaged original read with our reader. After damage, the
//! salvaged snapshot must hold every revision that was not stored on a
//! damaged page (compared as sets), nothing that was not in the original,
//! and real etcd 3.5.1 must boot `restore`'s data dir made from it and
//! serve exactly the keys the salvaged revisions say are live.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use etcd_forensics::bolt::{self, Db, KvLoc, Sink, WalkOptions};
use etcd_forensics::mvcc::{Revision, kv};
use etcd_forensics::output::inspect::base64;
use etcd_forensics::source::Source;

use crate::util::{self, EtcdBins, EtcdOptions, EtcdProcess};

const PS: usize = 4096;

#[derive(Default)]
struct Collect(Vec<(Vec<u8>, Vec<u8>)>);
impl<'a> Sink<'a> for Collect {
    fn kv(&mut self, k: &'a [u8], v: &'a [u8], _: bool, _: KvLoc) {
        self.0.push((k.to_vec(), v.to_vec()));
    }
    fn fresh(&self) -> Self {
        Collect::default()
    }
    fn merge(&mut self, later: Self) {
        self.0.extend(later.0);
    }
}

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

#[test]
fn a_damaged_leaf_loses_exactly_its_revisions() {
    let src = std::fs::read(util::fixture("v3.5.1/member-db")).unwrap();
    let (_, leaves) = key_tree(&src);
    let victim = leaves[leaves.len() / 2];
    let on_page = leaf_keys(&src, victim);
    let c = run_case("v3.5.1/member-db", |b| b[victim * PS + 8] = 0x40);
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
    if let Some(bins) = util::require_etcd35() {
        boot_and_compare(&bins, &c.out, &c.salvaged, "damaged leaf");
    }
}

#[test]
fn a_damaged_branch_page_loses_nothing() {
    let src = std::fs::read(util::fixture("v3.5.1/member-db")).unwrap();
    let (branches, _) = key_tree(&src);
    for victim in [branches[0], branches[branches.len() - 1]] {
        let c = run_case("v3.5.1/member-db", |b| b[victim * PS + 8] = 0x40);
        assert_subset(&c);
        assert_eq!(missing(&c), Vec::<Vec<u8>>::new(), "branch page {victim}: {}", c.report["recovered"]);
        assert!(c.report["recovered"]["revisions"].as_u64().unwrap() > 0);
        assert_eq!(c.report["skippedPages"][0]["page"].as_u64(), Some(victim as u64));
        if victim == branches[0] {
            if let Some(bins) = util::require_etcd35() {
                boot_and_compare(&bins, &c.out, &c.salvaged, "damaged root branch of the key bucket");
            }
        }
    }
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
    for f in ["v3.5.1/member-db", "v3.4.23/snapshot.db", "tiny/member-db"] {
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
