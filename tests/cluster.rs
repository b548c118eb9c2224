//! `cluster`: real 3-member clusters of every release, offline.
//!
//! Per release (one test each, so a failure names the version):
//! 1. three members under writes, stopped cleanly: `cluster` says intact and
//!    consistent (exit 0), every member stopped cleanly, HashKV agrees;
//! 2. a copy of one member with one value changed in its db: not
//!    consistent, at the revision of that write, with a different HashKV;
//! 3. restarted, one member SIGKILLed, more writes, the others stopped:
//!    the killed member is behind by exactly the revisions written after
//!    the kill, and by the raft entries the others' logs have past its own;
//! 4. restarted again, two members SIGKILLed under writes (quorum lost),
//!    their data dirs deleted: the survivor is the best source, not
//!    provably complete; `--restore` for 3 members writes data dirs that
//!    the release boots as a 3-member cluster: it elects a leader, takes
//!    writes, serves every acknowledged write up to the source's revision at
//!    its own revision, and the revision is bumped as asked; every
//!    acknowledged write it does not serve is above the revision the
//!    command named;
//! 5. a single member SIGKILLed under writes: our offline force-new-cluster
//!    (`cluster P --restore --from P --no-bump`) and real
//!    `etcd --force-new-cluster` on a copy serve the same keys at the same
//!    revisions.
//!
//! And without etcd: `--kubeadm` edits only the named fields of kubeadm's
//! manifests.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::util::{self, EtcdOptions, EtcdProcess, Three, put_rev};

fn s(p: &Path) -> String {
    p.display().to_string()
}

fn json(text: &str, what: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{what}: bad JSON ({e}): {text}"))
}

fn cluster_json(args: &[String]) -> (Option<i32>, Value) {
    let mut a = vec!["cluster".to_string()];
    a.extend(args.iter().cloned());
    a.extend(["-w".to_string(), "json".to_string()]);
    let out = util::ours(&a);
    let v = json(&String::from_utf8_lossy(&out.stdout), &format!("cluster {args:?}: {}", util::show(&out)));
    (out.status.code(), v)
}

fn status(p: &EtcdProcess) -> (i64, u64) {
    let v = json(&util::assert_success(&p.etcdctl(["endpoint", "status", "-w", "json"])), "endpoint status");
    let st = &v[0]["Status"];
    (st["header"]["revision"].as_i64().unwrap(), st["leader"].as_u64().unwrap())
}

/// All keys with their revisions, as the live server serves them.
/// key, value (base64), create, mod revision, version.
type Kv = (String, String, i64, i64, i64);

fn all_kvs(p: &EtcdProcess) -> (i64, Vec<Kv>) {
    let v = json(&util::assert_success(&p.etcdctl(["get", "", "--prefix", "-w", "json"])), "get");
    let kvs = v["kvs"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|kv| {
                    (
                        kv["key"].as_str().unwrap().to_string(),
                        kv["value"].as_str().unwrap_or("").to_string(),
                        kv["create_revision"].as_i64().unwrap(),
                        kv["mod_revision"].as_i64().unwrap(),
                        kv["version"].as_i64().unwrap(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (v["header"]["revision"].as_i64().unwrap(), kvs)
}

fn b64(s: &str) -> String {
    etcd_forensics::bytes::base64(s.as_bytes())
}

/// Replace every occurrence (bbolt leaves stale copies of pages in free
/// pages; the live one must change).
fn replace_in_file(path: &Path, from: &[u8], to: &[u8]) {
    let mut bytes = std::fs::read(path).unwrap();
    let mut n = 0;
    let mut at = 0;
    while let Some(i) = bytes[at..].windows(from.len()).position(|w| w == from) {
        bytes[at + i..at + i + to.len()].copy_from_slice(to);
        at += i + to.len();
        n += 1;
    }
    assert!(n > 0, "{from:?} not in {}", s(path));
    std::fs::write(path, bytes).unwrap();
}

fn scenario(version: &str) {
    let Some(bins) = util::require_version(version) else { return };
    let v = bins.version;
    let tmp = tempfile::tempdir().unwrap();
    let three = Three::new(&bins, tmp.path(), &format!("cluster-test-{v}"));
    let dirs: Vec<String> = three.dirs.iter().map(|d| s(d)).collect();

    // 1. clean stop.
    let procs = three.start();
    let mut acked: Vec<(String, String, i64)> = Vec::new();
    for i in 0..20 {
        let (k, val) = (format!("/a/{i:03}"), format!("val-a-{i:03}"));
        acked.push((k.clone(), val.clone(), put_rev(&procs[i % 3], &k, &val, 20).expect("put")));
    }
    let last = acked.last().unwrap().2;
    // a planned shutdown: every member gets SIGTERM at once
    util::stop_all(procs);
    let (code, r) = cluster_json(&dirs);
    assert_eq!(code, Some(0), "etcd {v}: {r}");
    assert_eq!(r["intact"], true, "etcd {v}: {r}");
    assert_eq!(r["consistent"], true, "etcd {v}: {r}");
    assert_eq!(r["sameCluster"], true, "etcd {v}: {r}");
    assert_eq!(r["hashKvAgree"], true, "etcd {v}: {r}");
    assert_eq!(r["quorum"]["formed"], true, "etcd {v}: {r}");
    assert_eq!(r["startup"]["possible"], true, "etcd {v}: {r}");
    for m in r["members"].as_array().unwrap() {
        assert_eq!(m["revision"], last, "etcd {v}: {m}");
        assert_eq!(m["stoppedCleanly"], true, "etcd {v}: a cleanly stopped member {m}");
        assert!(m["memberId"].is_string() && m["clusterId"] == r["clusterIds"][0], "etcd {v}: {m}");
        assert_eq!(m["members"].as_array().unwrap().len(), 3, "etcd {v}: {m}");
    }
    let c = json(&util::assert_success(&util::ours(["check", &dirs[0], "-w", "json"])), "check");
    assert_eq!(c["stoppedCleanly"], true, "etcd {v}: {c}");

    // 2. one value changed in a copy of n2's db: diverges at that write.
    let div = tmp.path().join("n2-changed");
    util::assert_success(&std::process::Command::new("cp").arg("-a").arg(&three.dirs[2]).arg(&div).output().unwrap());
    let (_, _, changed_rev) = acked[7].clone();
    replace_in_file(&div.join("member/snap/db"), b"val-a-007", b"VAL-a-007");
    let (code, r) = cluster_json(&[dirs[0].clone(), dirs[1].clone(), s(&div)]);
    assert_eq!(code, Some(1), "etcd {v}: {r}");
    assert_eq!(r["consistent"], false, "etcd {v}: {r}");
    assert_eq!(r["firstDivergentRevision"], changed_rev, "etcd {v}: {r}");
    assert_eq!(r["hashKvAgree"], false, "etcd {v}: {r}");
    let m2 = &r["members"][2];
    assert_eq!(m2["divergentFrom"], changed_rev, "etcd {v}: {m2}");
    assert_ne!(m2["hashKv"], r["members"][0]["hashKv"], "etcd {v}: {r}");
    assert!(r["members"][0]["divergentFrom"].is_null(), "etcd {v}: {r}");
    assert_ne!(r["best"], s(&div), "etcd {v}: the changed copy is never the source: {r}");

    // 3. one member killed; the others go on.
    let mut procs = three.start();
    for i in 0..5 {
        put_rev(&procs[0], &format!("/b/{i}"), "x", 20).expect("put");
    }
    std::thread::sleep(Duration::from_millis(1500));
    let (rev_at_kill, _) = status(&procs[2]);
    procs[2].kill();
    for i in 0..15 {
        put_rev(&procs[i % 2], &format!("/c/{i}"), "y", 40).expect("put after the kill");
    }
    let (rev_end, _) = status(&procs[0]);
    procs[1].stop();
    procs[0].stop();
    let (code, r) = cluster_json(&dirs);
    assert_eq!(r["consistent"], true, "etcd {v}: {r}");
    let best = r["best"].as_str().unwrap();
    assert_ne!(best, dirs[2], "etcd {v}: the killed member is not the source: {r}");
    let killed = &r["members"][2];
    assert_eq!(killed["behind"]["revisions"], rev_end - rev_at_kill, "etcd {v}: {killed}");
    assert!(killed["behind"]["entries"].as_u64().unwrap() >= 15, "etcd {v}: {killed}");
    assert!(killed["willStart"].as_bool().unwrap(), "etcd {v}: {killed}");
    assert_eq!(code, Some(0), "etcd {v}: a member that is only behind catches up: {r}");

    // 4. quorum loss: two killed under writes, their dirs deleted.
    let mut procs = three.start();
    let mut acked: Vec<(String, String, i64)> = Vec::new();
    for i in 0..30 {
        let (k, val) = (format!("/q/{i:03}"), format!("q-{i}"));
        if let Some(rev) = put_rev(&procs[i % 3], &k, &val, 40) {
            acked.push((k, val, rev));
        }
    }
    // a writer racing with the kill, as a client under load
    let writer = {
        let (bins, ep) = (bins.clone(), procs[0].endpoint().to_string());
        std::thread::spawn(move || {
            let mut acks = Vec::new();
            for i in 0..200 {
                let (k, val) = (format!("/r/{i:03}"), format!("r-{i}"));
                let out = util::etcdctl(&bins, Some(&ep), ["--command-timeout", "1s", "put", &k, &val, "-w", "json"]);
                if !out.status.success() {
                    break;
                }
                let j: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                if let Some(r) = j["header"]["revision"].as_i64() {
                    acks.push((k, val, r));
                }
            }
            acks
        })
    };
    std::thread::sleep(Duration::from_millis(400));
    procs[0].kill();
    procs[1].kill();
    acked.extend(writer.join().unwrap());
    procs[2].stop();
    std::fs::remove_dir_all(&three.dirs[0]).unwrap();
    std::fs::remove_dir_all(&three.dirs[1]).unwrap();
    let (code, r) = cluster_json(&[dirs[2].clone()]);
    assert_eq!(code, Some(1), "etcd {v}: {r}");
    assert_eq!(r["best"], dirs[2], "etcd {v}: {r}");
    assert_eq!(r["bestIsComplete"], false, "etcd {v}: {r}");
    assert_eq!(r["quorum"]["formed"], false, "etcd {v}: {r}");
    assert_eq!(r["startup"]["possible"], false, "etcd {v}: {r}");
    let named = r["members"][0]["revisionAfterCommit"].as_i64().unwrap();
    assert!(
        r["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x.as_str().unwrap().contains(&format!("revisions above {named} may be lost"))),
        "etcd {v}: {r}"
    );

    let new_ports = util::free_ports::<6>();
    let out_dir = tmp.path().join("restored");
    let mut args: Vec<String> =
        vec!["cluster".into(), dirs[2].clone(), "--restore".into(), "--out".into(), s(&out_dir)];
    for (i, n) in ["m0", "m1", "m2"].iter().enumerate() {
        args.extend(["--member".into(), format!("{n}={}", util::local_url(new_ports[3 + i]))]);
    }
    args.extend(["-w".into(), "json".into()]);
    let out = util::ours(&args);
    assert_eq!(out.status.code(), Some(0), "etcd {v}: {}", util::show(&out));
    let plan = json(&String::from_utf8_lossy(&out.stdout), "restore")["restore"].clone();
    let src_rev = plan["sourceRevision"].as_i64().unwrap();
    assert_eq!(plan["revision"].as_i64().unwrap(), src_rev + 1_000_000_000, "etcd {v}: {plan}");
    // dropped uncommitted entries: the source is its committed state, as a
    // restart alone would serve it; `keep` reaches its whole log's revision
    let survivor = &r["members"][0];
    assert_eq!(src_rev, survivor["revisionAtBoot"].as_i64().unwrap(), "etcd {v}: {plan} {survivor}");
    let past_commit = survivor["uncommittedEntries"].as_u64().unwrap();
    assert_eq!(plan["sourceLog"]["droppedUncommitted"].as_u64().unwrap(), past_commit, "etcd {v}: {plan}");
    let dropped_listed =
        plan["sourceLog"]["leftOut"].as_array().unwrap().iter().filter(|e| e["committed"] == false).count();
    assert_eq!(dropped_listed as u64, past_commit.min(1000), "etcd {v}: every dropped entry is listed: {plan}");
    let keep = util::ours([
        "cluster",
        &dirs[2],
        "--restore",
        "--dry-run",
        "--uncommitted",
        "keep",
        "--out",
        &s(&tmp.path().join("kept")),
        "--member",
        "k=http://127.0.0.1:1",
        "-w",
        "json",
    ]);
    let kept = json(&util::assert_success(&keep), "keep")["restore"].clone();
    assert_eq!(kept["sourceRevision"].as_i64().unwrap(), named, "etcd {v}: --uncommitted keep: {kept}");
    assert!(!tmp.path().join("kept").exists(), "etcd {v}: --dry-run wrote nothing");
    let ic = plan["initialCluster"].as_str().unwrap().to_string();
    let handles: Vec<_> = ["m0", "m1", "m2"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let opts = EtcdOptions::new(n)
                .ports(new_ports[i], new_ports[3 + i])
                .arg("--initial-cluster")
                .arg(&ic)
                .arg("--initial-cluster-token")
                .arg(plan["initialClusterToken"].as_str().unwrap());
            let (bins, dir) = (bins.clone(), out_dir.join(n));
            std::thread::spawn(move || EtcdProcess::boot(&bins, &dir, &opts))
        })
        .collect();
    let mut booted: Vec<EtcdProcess> =
        handles.into_iter().map(|h| h.join().unwrap().unwrap_or_else(|e| panic!("etcd {v}: {e}"))).collect();
    let (rev, leader) = status(&booted[0]);
    assert_ne!(leader, 0, "etcd {v}: no leader");
    assert_eq!(rev, src_rev + 1_000_000_000, "etcd {v}: revision after the bump");
    let (_, kvs) = all_kvs(&booted[1]);
    for (k, val, r) in &acked {
        let served = kvs.iter().find(|kv| kv.0 == b64(k));
        if *r <= src_rev {
            let kv =
                served.unwrap_or_else(|| panic!("etcd {v}: acknowledged {k} at {r} not served (source {src_rev})"));
            assert_eq!((kv.1.as_str(), kv.3), (b64(val).as_str(), *r), "etcd {v}: {k}");
        } else {
            assert!(
                served.is_none() && *r > named.min(src_rev),
                "etcd {v}: {k} at {r}: source {src_rev}, named {named}"
            );
        }
    }
    assert!(put_rev(&booted[2], "/after/restore", "ok", 20).is_some(), "etcd {v}: the new cluster takes writes");
    for p in &mut booted {
        p.stop();
    }

    // 5. offline force-new-cluster vs etcd's.
    let single = tmp.path().join("single");
    let mut e = EtcdProcess::start(&bins, &single, "solo", &[] as &[&str]);
    let writer = {
        let (bins, ep) = (bins.clone(), e.endpoint().to_string());
        std::thread::spawn(move || {
            for i in 0..400 {
                let out = util::etcdctl(&bins, Some(&ep), ["put", &format!("/s/{}", i % 50), &format!("v{i}")]);
                if !out.status.success() {
                    break;
                }
            }
        })
    };
    std::thread::sleep(Duration::from_millis(700));
    e.kill();
    writer.join().unwrap();
    let (theirs_dir, ours_src) = (tmp.path().join("fnc-theirs"), tmp.path().join("fnc-ours-src"));
    for d in [&theirs_dir, &ours_src] {
        util::assert_success(&std::process::Command::new("cp").arg("-a").arg(&single).arg(d).output().unwrap());
    }
    let mut theirs = EtcdProcess::start(&bins, &theirs_dir, "solo", &["--force-new-cluster"]);
    let their_kvs = all_kvs(&theirs);
    theirs.stop();
    let fnc_out = tmp.path().join("fnc-ours");
    let [cp, pp] = util::free_ports::<2>();
    let out = util::ours([
        "cluster",
        &s(&ours_src),
        "--restore",
        "--from",
        &s(&ours_src),
        "--out",
        &s(&fnc_out),
        "--member",
        &format!("solo={}", util::local_url(pp)),
        "--no-bump",
    ]);
    assert_eq!(out.status.code(), Some(0), "etcd {v}: {}", util::show(&out));
    let mut ours = EtcdProcess::boot(&bins, fnc_out.join("solo"), &EtcdOptions::new("solo").ports(cp, pp))
        .unwrap_or_else(|e| panic!("etcd {v}: {e}"));
    let our_kvs = all_kvs(&ours);
    ours.stop();
    assert_eq!(our_kvs, their_kvs, "etcd {v}: offline force-new-cluster vs etcd --force-new-cluster");
}

#[test]
fn cluster_3_4_23() {
    scenario("3.4.23");
}
#[test]
fn cluster_3_5_1() {
    scenario("3.5.1");
}
#[test]
fn cluster_3_5_16() {
    scenario("3.5.16");
}
#[test]
fn cluster_3_5_30() {
    scenario("3.5.30");
}
#[test]
fn cluster_3_6_16() {
    scenario("3.6.16");
}
#[test]
fn cluster_3_7_3() {
    scenario("3.7.3");
}

/// The membership changes of replacing a member, on real etcd: n2 removed
/// (`member remove`), n3 added as a learner, caught up and promoted, more
/// writes, every member stopped cleanly. The three members of the new
/// membership are intact and consistent, each lists n0, n1, n3; `wal`
/// decodes the three conf changes. The removed member's old data dir, given
/// with them, is named removed (its own db and theirs record it in
/// `members_removed`) and is neither a source nor in the start order; a
/// restart of the four dirs shows why: etcd stops it as soon as it reaches
/// a peer, "the member has been permanently removed from the cluster".
fn membership_changes(bins: util::EtcdBins) {
    let v = bins.version;
    let tmp = tempfile::tempdir().unwrap();
    let three = Three::new(&bins, tmp.path(), &format!("membership-{v}"));
    let mut procs = three.start();
    for i in 0..10 {
        put_rev(&procs[i % 3], &format!("/m/{i:02}"), "before", 20).expect("put");
    }
    let ids = |p: &EtcdProcess| -> Vec<(String, u64, bool)> {
        let out = p.etcdctl(["member", "list", "-w", "json"]);
        let v = json(&util::assert_success(&out), "member list");
        v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["name"].as_str().unwrap_or("").to_string(), m["ID"].as_u64().unwrap(), m["isLearner"] == true))
            .collect()
    };
    let n2 = ids(&procs[0]).iter().find(|m| m.0 == "n2").unwrap().1;
    // --strict-reconfig-check: refused ("unhealthy cluster") until every
    // member has been connected for a few seconds
    let retried = |p: &EtcdProcess, args: &[&str]| -> String {
        let mut out = p.etcdctl(args);
        for _ in 0..100 {
            if out.status.success() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
            out = p.etcdctl(args);
        }
        util::assert_success(&out)
    };
    retried(&procs[0], &["member", "remove", &format!("{n2:x}")]);
    // n2 applies its own removal and stops by itself
    let mut removed = procs.pop().unwrap();
    for _ in 0..100 {
        if removed.stop_if_exited() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    removed.stop();
    let [c3, p3] = util::free_ports::<2>();
    let added =
        retried(&procs[0], &["member", "add", "n3", "--learner", &format!("--peer-urls={}", util::local_url(p3))]);
    assert!(added.contains("n3"), "etcd {v}: {added}");
    let initial = format!(
        "n0={},n1={},n3={}",
        util::local_url(three.ports[3]),
        util::local_url(three.ports[4]),
        util::local_url(p3)
    );
    let opts = EtcdOptions::new("n3")
        .ports(c3, p3)
        .arg("--initial-cluster")
        .arg(&initial)
        .arg("--initial-cluster-state")
        .arg("existing")
        .arg("--initial-cluster-token")
        .arg(&three.token);
    let n3_dir = tmp.path().join("n3");
    // a learner answers no linearizable read, so it is healthy only once
    // promoted: start it on a thread and promote it meanwhile
    let starter = {
        let (bins, dir) = (bins.clone(), n3_dir.clone());
        std::thread::spawn(move || EtcdProcess::start_with(&bins, &dir, &opts))
    };
    let n3 = loop {
        if let Some(m) = ids(&procs[0]).iter().find(|m| m.0 == "n3") {
            break m.1;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut promoted = false;
    for _ in 0..100 {
        if procs[0].etcdctl(["member", "promote", &format!("{n3:x}")]).status.success() {
            promoted = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(promoted, "etcd {v}: the learner was never promoted");
    procs.push(starter.join().unwrap());
    let mut last = 0;
    for i in 0..10 {
        last = put_rev(&procs[i % 3], &format!("/m/after/{i:02}"), "after", 20).expect("put");
    }
    let live = ids(&procs[0]);
    assert!(live.iter().all(|m| !m.2), "etcd {v}: still a learner");
    let mut live_ids: Vec<String> = live.iter().map(|m| format!("{:x}", m.1)).collect();
    live_ids.sort();
    util::stop_all(procs);
    // 3.5 before the fix never updates an existing member in the db's
    // `members` bucket (`unsafeSaveMemberToBackend` returns "member already
    // exists"): the promotion and n3's name are only in the v2 store and the
    // WAL, which is what 3.5 recovers membership from
    let stale_bucket = v == "3.5.1" || v == "3.5.16";

    let dirs: Vec<String> = vec![s(&three.dirs[0]), s(&three.dirs[1]), s(&n3_dir)];
    let (code, r) = cluster_json(&dirs);
    assert_eq!(code, Some(0), "etcd {v}: {r}");
    assert_eq!(r["intact"], true, "etcd {v}: {r}");
    assert_eq!(r["consistent"], true, "etcd {v}: {r}");
    assert_eq!(r["quorum"]["voters"], 3, "etcd {v}: {r}");
    for m in r["members"].as_array().unwrap() {
        assert_eq!(m["revision"], last, "etcd {v}: {m}");
        let mut names: Vec<&str> =
            m["members"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
        names.sort();
        let learners = m["members"].as_array().unwrap().iter().filter(|x| x["isLearner"] == true).count();
        if stale_bucket {
            assert_eq!((names, learners), (vec!["", "n0", "n1"], 1), "etcd {v}: {m}");
        } else {
            assert_eq!((names, learners), (vec!["n0", "n1", "n3"], 0), "etcd {v}: {m}");
        }
        if v.starts_with("3.4") || v.starts_with("3.5") {
            let boot = m["membersAtBoot"].as_array().unwrap_or_else(|| panic!("etcd {v}: {m}"));
            let mut at_boot: Vec<&str> = boot.iter().map(|x| x["id"].as_str().unwrap()).collect();
            at_boot.sort();
            assert_eq!(at_boot, live_ids, "etcd {v}: {m}");
            assert!(boot.iter().all(|x| x["isLearner"] == false), "etcd {v}: {m}");
        }
        assert_eq!(m["removed"], false, "etcd {v}: {m}");
    }
    for d in &dirs {
        let out = util::ours(["check", d.as_str()]);
        assert_eq!(out.status.code(), Some(0), "etcd {v}: {}", util::show(&out));
    }
    let wal = util::assert_success(&util::ours(["wal", dirs[0].as_str()]));
    for t in ["ConfChangeRemoveNode", "ConfChangeAddLearnerNode", "ConfChangeAddNode"] {
        assert!(wal.contains(t), "etcd {v}: no {t} in\n{wal}");
    }

    // the old dir of the removed member, given with the others
    let mut all = dirs.clone();
    all.push(s(&three.dirs[2]));
    let (code, r) = cluster_json(&all);
    let gone = &r["members"][3];
    assert_eq!(gone["removed"], true, "etcd {v}: {r}");
    assert_eq!(gone["memberId"], format!("{n2:x}"), "etcd {v}: {gone}");
    assert_eq!(r["quorum"]["voters"], 3, "etcd {v}: {r}");
    assert_ne!(r["best"], all[3], "etcd {v}: {r}");
    assert!(r["startup"]["order"].as_array().unwrap().iter().all(|p| p != &all[3]), "etcd {v}: {r}");
    assert!(
        r["reasons"].as_array().unwrap().iter().any(|x| x.as_str().unwrap().contains("permanently removed")),
        "etcd {v}: {r}"
    );
    assert_eq!(code, Some(0), "etcd {v}: the three members are intact: {r}");
    // tried: the three start again, and the removed member, started beside
    // them, is told by its peers and exits
    let restart = |name: &str, ports: (u16, u16), dir: &Path| {
        let opts = EtcdOptions::new(name).ports(ports.0, ports.1).arg("--initial-cluster").arg(&initial);
        let (bins, dir) = (bins.clone(), dir.to_path_buf());
        std::thread::spawn(move || EtcdProcess::start_with(&bins, &dir, &opts))
    };
    let again: Vec<_> = vec![
        restart("n0", (three.ports[0], three.ports[3]), &three.dirs[0]),
        restart("n1", (three.ports[1], three.ports[4]), &three.dirs[1]),
        restart("n3", (c3, p3), &n3_dir),
    ];
    let again: Vec<EtcdProcess> = again.into_iter().map(|h| h.join().unwrap()).collect();
    let copy = tmp.path().join("n2-copy");
    assert!(std::process::Command::new("cp").arg("-a").arg(&three.dirs[2]).arg(&copy).status().unwrap().success());
    let gone_opts = EtcdOptions::new("n2")
        .ports(three.ports[2], three.ports[5])
        .arg("--initial-cluster")
        .arg(three.initial_cluster());
    let refused = EtcdProcess::boot(&bins, &copy, &gone_opts);
    util::stop_all(again);
    match refused {
        Err(log) => assert!(log.contains("exited during start-up"), "etcd {v}: the removed member: {log}"),
        Ok(mut p) => {
            p.kill();
            panic!("etcd {v}: the removed member came up");
        }
    }
    let (code, c) = {
        let out = util::ours(["check", "-w", "json", all[3].as_str()]);
        (out.status.code(), json(&String::from_utf8_lossy(&out.stdout), "check"))
    };
    assert_eq!(code, Some(1), "etcd {v}: {c}");
    assert!(c["findings"].as_array().unwrap().iter().any(|f| f["code"] == "datadir.member.removed"), "etcd {v}: {c}");
}

per_release!(membership_changes);

/// `--kubeadm` on kubeadm's manifests of three control-plane nodes: the
/// members come from them, and each edited manifest differs from its input
/// only in the data hostPath, `--initial-cluster`, `--initial-cluster-state`
/// and `--initial-cluster-token` (asserted field by field after parsing;
/// the rest byte-for-byte).
#[test]
fn kubeadm_manifests() {
    use etcd_forensics::jobs::cluster::kubeadm;
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("restore");
    let inputs: Vec<PathBuf> = ["etcd.yaml", "etcd-node2.yaml", "etcd-node3.yaml"]
        .iter()
        .map(|f| util::repo_root().join("testdata/kubeadm").join(f))
        .collect();
    let snapshot = util::fixture("v3.5.1/snapshot.db");
    let mut args = vec!["cluster".to_string(), s(&snapshot), "--restore".into(), "--out".into(), s(&out_dir)];
    for i in &inputs {
        args.extend(["--kubeadm".into(), s(i)]);
    }
    args.extend(["-w".into(), "json".into()]);
    let out = util::ours(&args);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    let plan = json(&String::from_utf8_lossy(&out.stdout), "restore")["restore"].clone();
    let ic = plan["initialCluster"].as_str().unwrap();
    assert_eq!(ic, "cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380,cp-3=https://10.0.0.13:2380");
    let token = plan["initialClusterToken"].as_str().unwrap();
    assert!(token.starts_with("etcd-forensics-") && token.len() > 20, "{token}");
    assert!(out_dir.join("STEPS.txt").is_file());
    let steps = std::fs::read_to_string(out_dir.join("STEPS.txt")).unwrap();
    assert!(
        steps.contains("kube-apiserver.yaml") && steps.find("mv ").unwrap() < steps.find("put ").unwrap(),
        "{steps}"
    );
    for (i, input) in inputs.iter().enumerate() {
        let name = format!("cp-{}", i + 1);
        let before = std::fs::read_to_string(input).unwrap();
        let after = std::fs::read_to_string(out_dir.join("manifests").join(&name).join("etcd.yaml")).unwrap();
        let (fb, fa) = (kubeadm::read(&before).unwrap(), kubeadm::read(&after).unwrap());
        assert_eq!(fa.name.as_deref(), Some(name.as_str()));
        assert_eq!(fa.initial_cluster.as_deref(), Some(ic));
        assert_eq!(fa.initial_cluster_state.as_deref(), Some("new"));
        assert_eq!(fa.initial_cluster_token.as_deref(), Some(token));
        assert_eq!(fa.host_data_dir.as_deref(), Some("/var/lib/etcd-restored"));
        assert_eq!(fb.host_data_dir.as_deref(), Some("/var/lib/etcd"));
        assert_eq!(fa.data_dir, fb.data_dir, "the path inside the container stays");
        let edited = ["--initial-cluster", "--initial-cluster-state", "--initial-cluster-token"];
        let keep = |f: &[(String, Option<String>)]| -> Vec<(String, Option<String>)> {
            f.iter().filter(|(k, _)| !edited.contains(&k.as_str())).cloned().collect()
        };
        assert_eq!(keep(&fa.flags), keep(&fb.flags), "{name}: other flags unchanged, in order");
        // the rest, byte for byte
        let strip = |t: &str| -> String {
            t.split_inclusive('\n')
                .filter(|l| !l.contains("- --initial-cluster") && !l.trim_start().starts_with("path: /var/lib/etcd"))
                .collect()
        };
        assert_eq!(strip(&after), strip(&before), "{name}");
        assert!(after.len() > strip(&after).len(), "{name}: the edited lines are there");
        let m = &plan["members"][i];
        assert_eq!(m["name"], name.as_str());
        assert!(m["flags"].as_array().unwrap().iter().any(|f| f == "--data-dir=/var/lib/etcd"), "{m}");
        // the data dir written for it
        let c = json(&util::assert_success(&util::ours(["check", &s(&out_dir.join(&name)), "-w", "json"])), "check");
        assert_eq!(c["willStart"], true, "{c}");
    }
    // an existing --out is never touched
    let again = util::ours(&args);
    assert_eq!(again.status.code(), Some(2), "{}", util::show(&again));
}
