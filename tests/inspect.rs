//! The inspection commands (`get`, `history`, `hashkv`, `members`, `auth`,
//! `leases`, ...) against what real etcd answered: the fixtures' golden
//! `etcdctl get --rev R -w json` and `etcdctl endpoint hashkv --rev R`
//! outputs (recorded from the live server before the snapshot), and a live
//! etcd 3.5.1 whose answers are compared with ours on its snapshot file and
//! on its data dir.

use std::process::Output;

use serde_json::Value;

use etcd_forensics::output::inspect::base64;

use crate::util::{self, EtcdProcess};

const VERSIONS: [&str; 6] = ["v3.4.23", "v3.5.1", "v3.5.16", "v3.5.30", "v3.6.16", "v3.7.3"];
/// Fixtures with golden `get`/`hashkv` outputs (tiny was never compacted).
const GOLDEN: [&str; 7] = ["tiny", "v3.4.23", "v3.5.1", "v3.5.16", "v3.5.30", "v3.6.16", "v3.7.3"];

fn ours(args: &[&str]) -> Output {
    util::ours(args)
}

fn ours_json(args: &[&str]) -> Value {
    let out = ours(args);
    let s = util::assert_success(&out);
    serde_json::from_str(&s).unwrap_or_else(|e| panic!("bad JSON ({e}) from {args:?}: {s}"))
}

fn golden(dir: &str, name: &str) -> Value {
    let p = util::fixture(dir).join(name);
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Both files of a fixture: the snapshot and the raw member db (not
/// committed past 3.5.1: 3.5.16+ and 3.6+ builds grow it to 16 MiB).
fn files(dir: &str) -> Vec<String> {
    ["snapshot.db", "member-db"]
        .iter()
        .map(|f| util::fixture(dir).join(f))
        .filter(|p| p.exists() || dir == "v3.4.23" || dir == "v3.5.1")
        .map(|p| p.display().to_string())
        .collect()
}

fn revs(m: &Value) -> Vec<i64> {
    m["golden_revisions"].as_array().unwrap().iter().map(|r| r.as_i64().unwrap()).collect()
}

#[test]
fn get_at_every_golden_revision_equals_etcdctl() {
    for dir in GOLDEN {
        let m = util::manifest(dir);
        let current = m["current_revision"].as_i64().unwrap();
        for f in files(dir) {
            let before = util::file_fingerprint(&f);
            // Every golden revision, plus the current one asked as --rev 0.
            let mut cases: Vec<(i64, i64)> = revs(&m).into_iter().map(|r| (r, r)).collect();
            cases.push((0, current));
            for (asked, golden_rev) in cases {
                let g = golden(dir, &format!("get-rev-{golden_rev}.json"));
                let o = ours_json(&["get", &f, "", "--prefix", "--rev", &asked.to_string(), "-w", "json"]);
                let what = format!("{f} --rev {asked}");
                assert!(g["kvs"].as_array().is_some_and(|a| !a.is_empty()), "{what}: empty golden");
                assert_eq!(o["kvs"], g["kvs"], "{what}: kvs differ");
                assert_eq!(o["count"], g["count"], "{what}: count differs");
                // etcd's header carries the current revision, whatever --rev asked.
                assert_eq!(o["header"]["revision"], g["header"]["revision"], "{what}");
                if dir != "v3.4.23" {
                    assert_eq!(o["header"]["raft_term"], g["header"]["raft_term"], "{what}: the db's meta/term");
                } else {
                    assert!(o["header"].get("raft_term").is_none(), "{what}: 3.4 writes no meta/term");
                }
                assert!(o.get("more").is_none(), "{what}");
            }
            util::assert_unchanged(&f, &before);
        }
    }
}

#[test]
fn get_refuses_compacted_and_future_revisions_like_etcd() {
    for dir in VERSIONS {
        let m = util::manifest(dir);
        let probe = &m["compacted_probe"];
        let below = probe["rev"].as_i64().unwrap();
        let etcd_error = probe["error"].as_str().unwrap();
        let future = m["current_revision"].as_i64().unwrap() + 1;
        for f in files(dir) {
            let out = ours(&["get", &f, "", "--prefix", "--rev", &below.to_string()]);
            assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
            let err = String::from_utf8_lossy(&out.stderr);
            // etcdctl prefixes "etcdserver: "; the mvcc message is the same.
            let mvcc = etcd_error.trim_start_matches("etcdserver: ");
            assert!(err.contains(mvcc), "{err} lacks {mvcc}");
            assert!(out.stdout.is_empty());
            let out = ours(&["get", &f, "/plain/a", "--rev", &future.to_string()]);
            assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
            assert!(String::from_utf8_lossy(&out.stderr).contains("mvcc: required revision is a future revision"));
        }
    }
}

#[test]
fn get_ranges_limits_and_simple_output() {
    let f = &files("v3.5.1")[0];
    let g = golden("v3.5.1", "get-rev-262.json");
    let all = g["kvs"].as_array().unwrap();
    let keys = |v: &Value| -> Vec<Value> { v["kvs"].as_array().unwrap().iter().map(|k| k["key"].clone()).collect() };
    // --prefix /plain/ is the golden's /plain/ keys.
    let plain: Vec<&Value> = all.iter().filter(|k| k["key"].as_str().unwrap().starts_with("L3BsYWlu")).collect();
    let o = ours_json(&["get", f, "/plain/", "--prefix", "-w", "json"]);
    assert_eq!(o["kvs"].as_array().unwrap().iter().collect::<Vec<_>>(), plain);
    // A range [/plain/b, /plain/g) and --from-key.
    let o = ours_json(&["get", f, "/plain/b", "/plain/g", "-w", "json"]);
    assert_eq!(keys(&o), ["/plain/b", "/plain/f"].map(|k| Value::from(base64(k.as_bytes()))));
    let o = ours_json(&["get", f, "/txn/", "--from-key", "-w", "json"]);
    assert_eq!(o["count"], 3);
    // --limit keeps the total count and says more.
    let o = ours_json(&["get", f, "", "--prefix", "--limit", "2", "--keys-only", "-w", "json"]);
    assert_eq!(o["count"], g["count"]);
    assert_eq!(o["more"], true);
    assert_eq!(keys(&o), all[..2].iter().map(|k| k["key"].clone()).collect::<Vec<_>>());
    assert!(o["kvs"][0].get("value").is_none(), "keys only");
    // A missing key: etcd omits kvs and count.
    let o = ours_json(&["get", f, "/nope", "-w", "json"]);
    assert!(o.get("kvs").is_none() && o.get("count").is_none(), "{o}");
    // Simple: key line, value line, raw.
    let s = util::assert_success(&ours(&["get", f, "/plain/a"]));
    assert_eq!(s, "/plain/a\nvalue-a2\n");
    let s = util::assert_success(&ours(&["get", f, "/plain/", "--prefix", "--keys-only", "--limit", "2"]));
    assert_eq!(s, "/plain/a\n\n/plain/b\n\n");
    let s = util::assert_success(&ours(&["get", f, "/plain/a", "--print-value-only"]));
    assert_eq!(s, "value-a2\n");
}

#[test]
fn large_values_come_back_whole() {
    use sha2::{Digest, Sha256};
    let m = util::manifest("v3.5.1");
    for f in files("v3.5.1") {
        let o = ours_json(&["get", &f, "/large/", "--prefix", "-w", "json"]);
        for kv in o["kvs"].as_array().unwrap() {
            let key = String::from_utf8(decode64(kv["key"].as_str().unwrap())).unwrap();
            let value = decode64(kv["value"].as_str().unwrap());
            // The last manifest entry of a key is its current value.
            let want = m["large_values"].as_array().unwrap().iter().rev().find(|l| l["key"] == key.as_str()).unwrap();
            assert_eq!(value.len() as u64, want["size"].as_u64().unwrap(), "{key}");
            assert_eq!(util::hex(&Sha256::digest(&value)), want["sha256"].as_str().unwrap(), "{key}");
        }
    }
}

fn decode64(s: &str) -> Vec<u8> {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        acc = acc << 6 | A.iter().position(|&a| a == c).unwrap() as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[test]
fn hashkv_equals_etcd_endpoint_hashkv() {
    for dir in GOLDEN {
        let m = util::manifest(dir);
        let current = m["current_revision"].as_i64().unwrap();
        for f in files(dir) {
            // the fixtures' writers: their exact rules, not the newest of their line
            let writer = match dir {
                "v3.4.23" => "3.4.23",
                "v3.5.16" => "3.5.16",
                "v3.5.30" => "3.5.30",
                "v3.6.16" => "3.6.16",
                "v3.7.3" => "3.7.3",
                _ => "3.5.1",
            };
            for case in m["hashkv"].as_array().unwrap() {
                let rev = case["rev"].as_i64().unwrap();
                let out = ours(&["hashkv", &f, "--rev", &rev.to_string(), "-w", "json", "--etcd-version", writer]);
                if case["ok"].as_bool().unwrap() {
                    let g = &golden(dir, case["file"].as_str().unwrap())[0]["HashKV"];
                    if g["compact_revision"].as_i64() < m["compact_revision"].as_i64()
                        && rev <= m["compact_revision"].as_i64().unwrap()
                    {
                        // 3.6+ live member at the compact revision: the hash it
                        // recorded while compacting (over revisions since
                        // deleted); a restarted member answers as we do (see
                        // tests/versions.rs)
                        continue;
                    }
                    let o: Value = serde_json::from_str(&util::assert_success(&out)).unwrap();
                    assert_eq!(o["hash"], g["hash"], "{f} --rev {rev}");
                    assert_eq!(o["compactRevision"], g["compact_revision"], "{f} --rev {rev}");
                    assert_eq!(o["hashRevision"], rev);
                } else {
                    // Both 3.4.23 and 3.5.1 refuse rev <= compact revision.
                    assert_eq!(out.status.code(), Some(1), "{f} --rev {rev}: {}", util::show(&out));
                    let err = String::from_utf8_lossy(&out.stderr);
                    assert!(err.contains(case["error"].as_str().unwrap()), "{err}");
                }
            }
            // No --rev: the current revision, as `etcdctl endpoint hashkv`.
            let g = &golden(dir, "hashkv.json")[0]["HashKV"];
            let s = util::assert_success(&ours(&["hashkv", &f, "--etcd-version", writer]));
            assert_eq!(s, format!("{}, {current}, {}\n", g["hash"], g["compact_revision"]));
            // by default, the newest release of the writer's line: the same hash here
            assert_eq!(util::assert_success(&ours(&["hashkv", &f])), s);
            // etcd 3.5.10+ accepts the compact revision itself.
            let compact = m["compact_revision"].as_i64().unwrap();
            if compact > 0 {
                let c = compact.to_string();
                let o = ours_json(&["hashkv", &f, "--rev", &c, "--etcd-version", "3.6.0", "-w", "json"]);
                assert_eq!(o["hashRevision"], compact);
            }
        }
    }
}

#[test]
fn history_of_the_hot_key_accounts_for_its_200_puts() {
    for dir in VERSIONS {
        let m = util::manifest(dir);
        let puts = m["hot_key"]["puts"].as_i64().unwrap();
        let key = m["hot_key"]["key"].as_str().unwrap();
        let compact = m["compact_revision"].as_i64().unwrap();
        for f in files(dir) {
            let o = ours_json(&["history", &f, key, "-w", "json"]);
            let events = o["events"].as_array().unwrap();
            assert!(events.iter().all(|e| e["type"] == "PUT"));
            // The compaction at 119 left the newest put <= 119 (version 100);
            // the stored versions run on without a hole to 200.
            let versions: Vec<i64> = events.iter().map(|e| e["kv"]["version"].as_i64().unwrap()).collect();
            let first = versions[0];
            assert_eq!(versions, (first..=puts).collect::<Vec<_>>());
            assert!(events[0]["revision"].as_i64().unwrap() <= compact);
            let gaps = o["gaps"].as_array().unwrap();
            assert_eq!(gaps.len(), 1, "{gaps:?}");
            assert_eq!(gaps[0]["missingPuts"].as_i64().unwrap() + events.len() as i64, puts);
            assert_eq!(gaps[0]["compacted"], true);
            let last = events.last().unwrap();
            assert_eq!(decode64(last["kv"]["value"].as_str().unwrap()), format!("count-{puts:04}").into_bytes());
            // The simple form has one line per stored put, after the gap line.
            let s = util::assert_success(&ours(&["history", &f, key]));
            let lines: Vec<&str> = s.lines().collect();
            assert_eq!(lines.len(), events.len() + 1);
            assert!(lines[0].contains("removed by the compaction at"), "{}", lines[0]);
            assert!(lines[1..].iter().all(|l| l.contains(" PUT ")));
        }
    }
    // A key with a delete and a rebirth after the compaction.
    let f = &files("v3.5.1")[0];
    let s = util::assert_success(&ours(&["history", f, "/bulk/k00015"]));
    let kinds: Vec<&str> = s.lines().map(|l| l.split(' ').nth(1).unwrap()).collect();
    assert_eq!(kinds, ["PUT", "DELETE", "PUT"], "{s}");
}

#[test]
fn members_lists_the_member_etcd_reported() {
    for dir in VERSIONS {
        let m = util::manifest(dir);
        let id = m["endpoint_status"][0]["Status"]["header"]["member_id"].as_u64().unwrap();
        for f in files(dir) {
            let o = ours_json(&["members", &f, "-w", "json"]);
            let ids: Vec<&str> = o["members"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
            assert_eq!(ids, [format!("{id:x}")], "{f}");
            let s = util::assert_success(&ours(&["members", &f]));
            assert!(s.starts_with(&format!("{id:x}, started, ")), "{s}");
        }
    }
}

#[test]
fn auth_lists_users_and_roles_and_never_a_password_hash() {
    for dir in VERSIONS {
        let m = util::manifest(dir);
        let want = &m["auth"];
        for f in files(dir) {
            // The file does hold bcrypt hashes: the test means something.
            let raw = std::fs::read(&f).unwrap();
            assert!(raw.windows(4).any(|w| w == b"$2a$"), "{f} has no bcrypt hash");
            let o = ours_json(&["auth", &f, "-w", "json"]);
            assert_eq!(o["enabled"], want["enabled"]);
            let users = o["users"].as_array().unwrap();
            let names: Vec<&str> = users.iter().map(|u| u["name"].as_str().unwrap()).collect();
            assert_eq!(names, ["alice", "bob"]);
            for u in users {
                assert_eq!(u["roles"], want["users"][u["name"].as_str().unwrap()]["roles"]);
                assert_eq!(u["hasPassword"], true);
            }
            let roles = o["roles"].as_array().unwrap();
            let names: Vec<&str> = roles.iter().map(|r| r["name"].as_str().unwrap()).collect();
            assert_eq!(names, ["reader", "writer"]);
            for r in roles {
                let perms = r["permissions"].as_array().unwrap();
                let want = want["roles"][r["name"].as_str().unwrap()].as_array().unwrap();
                assert_eq!(perms.len(), want.len());
                for (p, w) in perms.iter().zip(want) {
                    assert_eq!(p["permType"], w["perm"]);
                    assert_eq!(p["key"], base64(w["key"].as_str().unwrap().as_bytes()));
                    assert_eq!(p["prefix"], w["prefix"]);
                }
            }
            for fmt in ["simple", "table", "json"] {
                let out = ours(&["auth", &f, "-w", fmt]);
                let text = util::assert_success(&out);
                assert!(!text.contains("$2a$") && !text.contains("JDJhJ"), "-w {fmt} shows a hash: {text}");
                for (_, u) in want["users"].as_object().unwrap() {
                    assert!(!text.contains(u["password"].as_str().unwrap()));
                }
            }
        }
    }
}

#[test]
fn leases_lists_the_live_leases() {
    for dir in VERSIONS {
        let m = util::manifest(dir);
        let l = &m["leases"];
        for f in files(dir) {
            let o = ours_json(&["leases", &f, "--keys", "-w", "json"]);
            let got = o["leases"].as_array().unwrap();
            let ids: Vec<&str> = got.iter().map(|x| x["id"].as_str().unwrap()).collect();
            let mut want =
                vec![l["live_with_keys"]["id_hex"].as_str().unwrap(), l["live_no_keys"]["id_hex"].as_str().unwrap()];
            want.sort();
            assert_eq!(ids, want, "{f}");
            for x in got {
                let w =
                    if x["id"] == l["live_with_keys"]["id_hex"] { &l["live_with_keys"] } else { &l["live_no_keys"] };
                assert_eq!(x["ttl"], w["ttl"]);
                let keys: Vec<Value> = w["keys"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|k| base64(k.as_str().unwrap().as_bytes()).into())
                    .collect();
                assert_eq!(x["keys"].as_array().unwrap(), &keys);
                assert_eq!(x["keyCount"], keys.len());
            }
            assert_eq!(o["missing"], Value::Array(vec![]));
            let s = util::assert_success(&ours(&["leases", &f]));
            assert!(s.starts_with("found 2 leases\n"), "{s}");
        }
    }
}

#[test]
fn meta_buckets_and_alarms() {
    for dir in VERSIONS {
        let m = util::manifest(dir);
        let st = &m["endpoint_status"][0]["Status"];
        for f in files(dir) {
            let o = ours_json(&["meta", &f, "-w", "json"]);
            assert_eq!(o["currentRevision"], m["current_revision"]);
            assert_eq!(o["compactRevision"], m["compact_revision"]);
            assert_eq!(o["finishedCompactRevision"], m["compact_revision"]);
            assert_eq!(o["pendingCompaction"], false);
            // The snapshot was taken at the raft index endpoint status reported
            // (3.4 only records the index of entries that wrote to the backend).
            let ci = o["consistentIndex"].as_u64().unwrap();
            let raft_index = st["raftIndex"].as_u64().unwrap();
            if dir != "v3.4.23" && f.ends_with("snapshot.db") {
                assert_eq!(ci, raft_index, "{f}");
            } else {
                assert!(ci <= raft_index, "{f}: {ci} > {raft_index}");
            }
            if dir != "v3.4.23" {
                assert_eq!(o["term"], st["raftTerm"]);
                assert_eq!(o["confState"]["voters"][0], st["header"]["member_id"]);
                assert_eq!(o["writtenBy"]["release"], &dir[1..4], "{o}");
            } else {
                assert!(o.get("term").is_none() && o.get("confState").is_none(), "3.4 writes neither: {o}");
            }
            let b = ours_json(&["buckets", &f, "-w", "json"]);
            let names: Vec<&str> =
                b["buckets"].as_array().unwrap().iter().map(|x| x["name"].as_str().unwrap()).collect();
            assert_eq!(
                names,
                [
                    "alarm",
                    "auth",
                    "authRoles",
                    "authUsers",
                    "cluster",
                    "key",
                    "lease",
                    "members",
                    "members_removed",
                    "meta"
                ]
            );
            let total: u64 = b["buckets"].as_array().unwrap().iter().map(|x| x["entries"].as_u64().unwrap()).sum();
            let stem = if f.ends_with("snapshot.db") { "snapshot" } else { "member-db" };
            let status = golden(dir, &format!("{stem}.status.etcdutl.json"));
            assert_eq!(total, status["totalKey"].as_u64().unwrap(), "3.5's totalKey counts every bucket entry");
            let a = util::assert_success(&ours(&["alarms", &f]));
            assert_eq!(a, "");
        }
    }
}

#[test]
fn inspection_usage_errors() {
    let f = &files("v3.5.1")[0];
    assert_eq!(ours(&["get", f]).status.code(), Some(2));
    assert_eq!(ours(&["get", f, "a", "b", "--prefix"]).status.code(), Some(2));
    assert_eq!(ours(&["hashkv", f, "--etcd-version", "banana"]).status.code(), Some(2));
    assert_eq!(ours(&["get", "/nonexistent", "a"]).status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = ours(&["meta", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not an etcd data dir"));
    let s = util::assert_success(&ours(&["get", "--help"]));
    assert!(s.contains("Time travel") && s.contains("EXIT CODES"), "{s}");
}

/// A damaged copy: answers still come, the damage is named, exit 1.
#[test]
fn damage_in_the_key_bucket_is_reported_not_hidden() {
    let (_tmp, f) = util::copy_to_temp("v3.5.1/snapshot.db");
    let mut bytes = std::fs::read(&f).unwrap();
    // Find one value of the key bucket (the KeyValue of /plain/a) and break its varint framing.
    let needle = b"\x0a\x08/plain/a";
    let at = bytes.windows(needle.len()).position(|w| w == needle).unwrap();
    bytes[at + 1] = 0x7f; // key length past the value's end
    std::fs::write(&f, &bytes).unwrap();
    let f = f.display().to_string();
    let out = ours(&["get", &f, "/plain/", "--prefix"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a mvccpb.KeyValue"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("/plain/b"), "the rest is still answered");
}

// ---------------------------------------------------------------------------
// A live etcd 3.5.1: our answers from its files equal its own.

/// The JSON etcdctl printed.
fn ctl_json(e: &EtcdProcess, args: &[&str]) -> Value {
    let out = e.etcdctl(args);
    serde_json::from_str(&util::assert_success(&out)).unwrap_or_else(|err| panic!("{err}: {}", util::show(&out)))
}

#[test]
fn live_etcd_351_get_and_hashkv_equal_ours_on_snapshot_and_data_dir() {
    let Some(bins) = util::require_etcd35() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut e = EtcdProcess::start(&bins, &data, "inspect", &[] as &[&str]);
    for (k, v) in [("/a/1", "v1"), ("/a/2", "v2"), ("/a/3", "v3"), ("/b/1", "x"), ("/b/2", "y"), ("/a/1", "v1b")] {
        e.put(k, v);
    }
    util::assert_success(&e.etcdctl(["del", "/a/2"])); // 8
    util::assert_success(&e.etcdctl(["del", "/b/", "--prefix"])); // 9: two tombstones
    e.put("/a/2", "again"); // 10
    let lease = ctl_json(&e, &["lease", "grant", "600", "-w", "json"]);
    let lease_hex = format!("{:x}", lease["ID"].as_i64().unwrap());
    util::assert_success(&e.etcdctl(["put", "/l/1", "leased", "--lease", &lease_hex])); // 11
    let txn = "value(\"/a/1\") = \"v1b\"\n\nput /t/ok yes\ndel /a/3\n\nput /t/no no\n\n";
    util::assert_success(&util::etcdctl_with_stdin(&bins, Some(e.endpoint()), ["txn"], Some(txn.as_bytes()))); // 12
    let early = tmp.path().join("early.db");
    util::assert_success(&e.etcdctl(["snapshot", "save", &early.display().to_string()]));
    // Compact at the revision of a tombstone (8, /a/2) that a later put reborn.
    util::assert_success(&e.etcdctl(["compact", "8", "--physical"]));
    e.put("/a/3", "v3b"); // 13
    e.put("/c/1", "c"); // 14
    util::assert_success(&e.etcdctl(["del", "/c/1"])); // 15
    e.put("/a/1", "v1c"); // 16
    let current = 16i64;
    let status = ctl_json(&e, &["endpoint", "status", "-w", "json"]);
    assert_eq!(status[0]["Status"]["header"]["revision"], current, "workload revisions moved: {status}");

    // What etcd answers, recorded before the snapshot and the stop.
    let mut gets = Vec::new();
    for rev in 8..=current {
        for args in [vec!["get", "", "--prefix"], vec!["get", "/a/", "--prefix", "--limit", "2"], vec!["get", "/a/2"]] {
            let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            a.extend(["--rev".into(), rev.to_string(), "-w".into(), "json".into()]);
            let v = ctl_json(&e, &a.iter().map(String::as_str).collect::<Vec<_>>());
            gets.push((a, v));
        }
    }
    let simple = util::assert_success(&e.etcdctl(["get", "", "--prefix"]));
    let keys_only = util::assert_success(&e.etcdctl(["get", "", "--prefix", "--keys-only"]));
    let mut hashes = Vec::new();
    for rev in 9..=current {
        let h = ctl_json(&e, &["endpoint", "hashkv", "--rev", &rev.to_string(), "-w", "json"]);
        hashes.push((rev, h[0]["HashKV"].clone()));
    }
    let now = ctl_json(&e, &["endpoint", "hashkv", "-w", "json"]);
    let refused = e.etcdctl(["endpoint", "hashkv", "--rev", "8"]);
    assert!(!refused.status.success(), "3.5.1 refuses the compact revision itself");
    let snap = tmp.path().join("snap.db");
    util::assert_success(&e.etcdctl(["snapshot", "save", &snap.display().to_string()]));
    e.stop();

    let snap = snap.display().to_string();
    let dir = data.display().to_string();
    for input in [&snap, &dir] {
        let o = ours_json(&["hashkv", input, "-w", "json"]);
        assert_eq!(o["hash"], now[0]["HashKV"]["hash"], "{input}");
        assert_eq!(o["compactRevision"], 8);
        for (rev, h) in &hashes {
            let o = ours_json(&["hashkv", input, "--rev", &rev.to_string(), "-w", "json"]);
            assert_eq!(o["hash"], h["hash"], "{input} --rev {rev}");
            assert_eq!(o["compactRevision"], h["compact_revision"], "{input} --rev {rev}");
        }
        // 3.5.1 refuses the compact revision; newer 3.5 (our default for a
        // 3.5 file) answers it.
        let out = ours(&["hashkv", input, "--rev", "8", "--etcd-version", "3.5.1"]);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(ours_json(&["hashkv", input, "--rev", "8", "-w", "json"])["hashRevision"], 8);
        assert!(String::from_utf8_lossy(&refused.stderr).contains("required revision has been compacted"));
        assert!(String::from_utf8_lossy(&out.stderr).contains("required revision has been compacted"));
        for (args, theirs) in &gets {
            let mut a: Vec<&str> = vec![args[0].as_str(), input.as_str()];
            a.extend(args[1..].iter().map(String::as_str));
            let mine = ours_json(&a);
            if input == &dir {
                // From the data dir the header's ids and term come from the WAL: the whole response is etcd's.
                assert_eq!(&mine, theirs, "{a:?}");
            } else {
                assert_eq!(mine["kvs"], theirs["kvs"], "{a:?}");
                assert_eq!(mine.get("count"), theirs.get("count"), "{a:?}");
                assert_eq!(mine.get("more"), theirs.get("more"), "{a:?}");
                assert_eq!(mine["header"]["revision"], theirs["header"]["revision"], "{a:?}");
            }
        }
        assert_eq!(util::assert_success(&ours(&["get", input, "", "--prefix"])), simple);
        assert_eq!(util::assert_success(&ours(&["get", input, "", "--prefix", "--keys-only"])), keys_only);
        let out = ours(&["get", input, "", "--prefix", "--rev", "7"]);
        assert_eq!(out.status.code(), Some(1));
        // The leased key and its lease.
        let l = ours_json(&["leases", input, "--keys", "-w", "json"]);
        assert_eq!(l["leases"][0]["id"], format!("{lease_hex:0>16}"));
        assert_eq!(l["leases"][0]["keys"][0], base64(b"/l/1"));
        // The reborn key's history: put, delete (compacted away), put.
        let h = ours_json(&["history", input, "/a/2", "-w", "json"]);
        let revs: Vec<i64> = h["events"].as_array().unwrap().iter().map(|x| x["revision"].as_i64().unwrap()).collect();
        assert_eq!(revs, [10], "3.5.1's compaction at 8 removed /a/2's put at 3 and its tombstone at 8");
    }
    // The early snapshot (never compacted, revision 12) is the same history, behind.
    let early = early.display().to_string();
    let out = ours(&["diff", &early, &snap]);
    let s = util::assert_success(&out);
    assert!(s.contains("compared revisions 9..=12") && s.contains("b is 4 revisions ahead"), "{s}");
    assert!(s.contains("hashkv not compared"), "{s}");
    let m = ours_json(&["members", &dir, "-w", "json"]);
    assert_eq!(m["members"][0]["id"], format!("{:x}", status[0]["Status"]["header"]["member_id"].as_u64().unwrap()));
    assert_eq!(m["members"][0]["name"], "inspect");
}

#[test]
fn diff_finds_the_first_divergent_revision() {
    let a = util::fixture("v3.5.1/snapshot.db").display().to_string();
    // The snapshot and the member's own db hold the same history.
    let m = util::fixture("v3.5.1/member-db").display().to_string();
    let out = ours(&["diff", &a, &m]);
    let s = util::assert_success(&out);
    assert!(s.contains("identical: the same history through revision 262"), "{s}");
    // One changed byte in a value written at 120 (`put /txn/ok1 one`, above the compaction).
    let (_tmp, copy) = util::copy_to_temp("v3.5.1/snapshot.db");
    let mut bytes = std::fs::read(&copy).unwrap();
    let needle = b"\x0a\x08/txn/ok1";
    let at = bytes.windows(needle.len()).position(|w| w == needle).unwrap();
    let value = at + bytes[at..].windows(5).position(|w| w == b"\x2a\x03one").unwrap() + 2;
    bytes[value + 2] = b'E';
    std::fs::write(&copy, &bytes).unwrap();
    let copy = copy.display().to_string();
    let out = ours(&["diff", &a, &copy, "-w", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    let o: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(o["firstDivergentRevision"], 120);
    assert_eq!(o["keysDiffering"], 1);
    assert_eq!(o["keys"][0]["key"], base64(b"/txn/ok1"));
    assert_eq!(o["keys"][0]["a"]["value"], base64(b"one"));
    assert_eq!(o["keys"][0]["b"]["value"], base64(b"onE"));
    // HashKV (what etcd's corruption check compares) agrees before and differs from there on.
    let h = o["hashes"].as_array().unwrap();
    let at = |r: i64| h.iter().find(|x| x["revision"] == r).unwrap();
    assert!(h.iter().all(|x| x["revision"] != 119), "119 is the compact revision: 3.5.1 refuses it");
    assert_ne!(at(120)["a"], at(120)["b"]);
    assert_eq!(at(262)["a"], ours_json(&["hashkv", &a, "-w", "json"])["hash"]);
    // Two different runs of the workload: lease ids are random, first used at 122.
    let b = util::fixture("v3.4.23/snapshot.db").display().to_string();
    let o: Value = serde_json::from_slice(&ours(&["diff", &a, &b, "-w", "json"]).stdout).unwrap();
    assert_eq!(o["firstDivergentRevision"], 122, "{o}");
    assert_eq!(
        o["hashes"][0],
        serde_json::json!({"revision": 121, "a": o["hashes"][0]["a"], "b": o["hashes"][0]["a"]})
    );
    // Nothing in common: not comparable, exit 1.
    let t = util::fixture("tiny/snapshot.db").display().to_string();
    let out = ours(&["diff", &t, &a]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cannot compare"));
}

/// Every inspection over `data`: none may panic, whatever the bytes.
pub fn all_inspections(data: &[u8]) {
    use etcd_forensics::jobs::inspect::{GetOptions, ResponseHeader, Store};
    use etcd_forensics::mvcc::hashkv::HashRules;
    use etcd_forensics::mvcc::index::KeyRange;
    let Ok(s) = Store::open(data, std::path::Path::new("fuzz"), HashRules::default()) else { return };
    let opts = GetOptions { range: KeyRange::everything(), rev: 0, limit: 0 };
    if let Ok(a) = s.get(ResponseHeader::default(), &opts) {
        for kv in &a.kvs {
            let _ = kv.kv();
        }
    }
    let _ = s.get(ResponseHeader::default(), &GetOptions { rev: s.current - 1, ..opts });
    let _ = s.hashkv(0);
    let _ = s.history(b"/plain/a");
    let _ = s.buckets();
    let _ = s.leases();
    let _ = s.members();
    let _ = s.auth();
    let _ = s.alarms();
    let _ = s.meta();
    let _ = s.digests(0, i64::MAX);
    crate::space::space_invariants(data);
}

#[test]
fn inspections_survive_damaged_files() {
    // (tiny is 5 pages: every page gets hit; fewer flips on the 162-page file keep this quick)
    for (name, flips) in [("tiny/snapshot.db", 300), ("v3.5.1/snapshot.db", 40)] {
        let good = std::fs::read(util::fixture(name)).unwrap();
        all_inspections(&good);
        // A deterministic spread of single-byte changes over every page,
        // and truncations; the answers may be wrong, never a panic.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for _ in 0..flips {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let mut bad = good.clone();
            let at = (x % good.len() as u64) as usize;
            bad[at] ^= (x >> 32) as u8 | 1;
            all_inspections(&bad);
        }
        for len in [0, 100, 4096, 8192, 3 * 4096 + 17, good.len() / 2] {
            all_inspections(&good[..len.min(good.len())]);
        }
    }
}
