//! `wal`: the dump and summary of WALs written by real etcd 3.4.23 and
//! 3.5.1, checked against the workload that wrote them, against etcdctl's
//! member ids, and, for damaged copies, against what etcd itself does with
//! them (repairs a torn tail, refuses a CRC mismatch).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::util::{self, EtcdBins, EtcdProcess};

const PUTS: usize = 50;

/// What the workload did, to compare the dump with.
struct Workload {
    _tmp: tempfile::TempDir,
    data: PathBuf,
    puts: Vec<(String, String)>,
    lease: String,
    member_id: u64,
    cluster_id: u64,
}

fn key(i: usize) -> String {
    format!("key-{i:02}")
}
fn value(i: usize) -> String {
    format!("value-{i:02}")
}

fn run_workload(bins: &EtcdBins) -> Workload {
    let tmp = tempfile::Builder::new().prefix("etcd-forensics-wal.").tempdir().unwrap();
    let data = tmp.path().join("data");
    // a small snapshot count, so the WAL holds SNAPSHOT records too
    let mut etcd = EtcdProcess::start(bins, &data, "walcmd", &["--snapshot-count", "20"]);
    let puts: Vec<(String, String)> = (1..=PUTS).map(|i| (key(i), value(i))).collect();
    for (k, v) in &puts {
        etcd.put(k, v);
    }
    util::assert_success(&etcd.etcdctl(["del", "key-07"]));
    let txn = b"value(\"key-01\") = \"value-01\"\n\nput txn-key txn-value\n\nput txn-fail fail-value\n\n";
    let out = util::etcdctl_with_stdin(bins, Some(etcd.endpoint()), ["txn"], Some(txn));
    assert!(util::assert_success(&out).contains("SUCCESS"), "{}", util::show(&out));
    // "lease 694d7d2a1e2c5a04 granted with TTL(600s)"
    let granted = util::assert_success(&etcd.etcdctl(["lease", "grant", "600"]));
    let lease = granted.split_whitespace().nth(1).unwrap().to_owned();
    util::assert_success(&etcd.etcdctl(["put", &format!("--lease={lease}"), "leased-key", "leased-value"]));
    util::assert_success(&etcd.etcdctl(["compaction", "10"]));
    util::assert_success(&etcd.etcdctl(["user", "add", "bob", "--new-user-password=secret"]));
    let ml: Value =
        serde_json::from_str(&util::assert_success(&etcd.etcdctl(["member", "list", "-w", "json"]))).unwrap();
    let member_id = ml["members"][0]["ID"].as_u64().unwrap();
    assert_eq!(ml["header"]["member_id"].as_u64(), Some(member_id));
    let cluster_id = ml["header"]["cluster_id"].as_u64().unwrap();
    // etcd cleans up on SIGTERM, then re-raises it: exit by signal 15 is a clean stop
    assert!(etcd.stop().is_some());
    Workload { _tmp: tmp, data, puts, lease, member_id, cluster_id }
}

fn ours(args: &[&str]) -> Output {
    util::ours(args)
}

/// Runs `wal ARGS -w json` and parses its JSON lines.
fn json_lines(args: &[&str]) -> (Output, Vec<Value>) {
    let mut a = vec!["wal"];
    a.extend_from_slice(args);
    a.extend_from_slice(&["-w", "json"]);
    let out = ours(&a);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", util::show(&out))))
        .collect();
    (out, lines)
}

fn entries(lines: &[Value]) -> Vec<&Value> {
    lines.iter().filter(|l| l.get("index").is_some()).collect()
}

fn indexes(lines: &[Value]) -> Vec<u64> {
    entries(lines).iter().map(|e| e["index"].as_u64().unwrap()).collect()
}

fn summary(dir: &str) -> (Output, Value) {
    let out = ours(&["wal", dir, "--summary", "-w", "json"]);
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "--summary prints one object\n{}", util::show(&out));
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{}", util::show(&out)));
    (out, v)
}

fn last_segment(data: &Path) -> PathBuf {
    let wal = data.join("member").join("wal");
    let mut segs: Vec<PathBuf> = fs::read_dir(&wal)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wal"))
        .collect();
    segs.sort();
    segs.pop().unwrap()
}

/// Starts etcd on `data` and returns its output once it exits (it is
/// expected to refuse the WAL); a member that stays up is killed after the
/// time limit and that is a failure.
fn etcd_refuses(bins: &EtcdBins, data: &Path) -> String {
    let [c, p] = util::free_ports::<2>();
    let (cu, pu) = (util::local_url(c), util::local_url(p));
    let mut cmd = Command::new(&bins.etcd);
    cmd.arg("--name").arg("walcmd").arg("--data-dir").arg(data);
    cmd.args(["--listen-client-urls", &cu, "--advertise-client-urls", &cu]);
    cmd.args(["--listen-peer-urls", &pu, "--initial-advertise-peer-urls", &pu]);
    cmd.args(["--initial-cluster", &format!("walcmd={pu}")]);
    let out = util::run_bounded(&mut cmd, Duration::from_secs(30)).expect("etcd should exit by itself on a bad WAL");
    assert!(!out.status.success(), "etcd accepted the damaged WAL\n{}", util::show(&out));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn check_version(bins: &EtcdBins) {
    let w = run_workload(bins);
    let data = w.data.to_str().unwrap();

    // --- the dump, in JSON ---------------------------------------------
    let (out, lines) = json_lines(&[data]);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    assert!(out.stderr.is_empty(), "a clean WAL prints nothing on stderr\n{}", util::show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("secret"), "the password leaked:\n{stdout}");
    if bins.version == util::ETCD34_VERSION {
        // 3.4 proposes the password in plain text: redaction is what keeps it out
        let raw = fs::read(last_segment(&w.data)).unwrap();
        assert!(raw.windows(6).any(|x| x == b"secret"), "3.4 was expected to store the password in the WAL");
    }
    let meta = &lines[0]["metadata"];
    assert!(meta.is_object(), "first line is the metadata: {}", lines[0]);
    let ents = entries(&lines);
    assert_eq!(ents.len() + 1, lines.len(), "only metadata and entries in a clean dump");
    let all_idx = indexes(&lines);
    assert!(all_idx.windows(2).all(|p| p[0] < p[1]), "indexes strictly increase: {all_idx:?}");

    // the puts, in order, with their keys and values
    let puts: Vec<&&Value> = ents
        .iter()
        .filter(|e| e["op"] == "put" && e["request"]["put"]["key"].as_str().unwrap().starts_with("key-"))
        .collect();
    let got: Vec<(String, String)> = puts
        .iter()
        .map(|e| {
            let p = &e["request"]["put"];
            (p["key"].as_str().unwrap().to_owned(), p["value"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(got, w.puts);
    for e in &puts {
        assert_eq!(e["type"], "EntryNormal");
        assert!(e["requestId"].as_str().is_some_and(|s| !s.is_empty()), "{e}");
        assert_eq!(e["request"]["header"]["id"], e["requestId"]);
    }
    let last_put_index = puts.last().unwrap()["index"].as_u64().unwrap();
    let find = |op: &str| ents.iter().copied().filter(|e| e["op"] == op).collect::<Vec<&Value>>();
    let del = find("delete_range");
    assert_eq!(del.len(), 1);
    assert_eq!(del[0]["request"]["deleteRange"]["key"], "key-07");
    let txn = find("txn");
    assert_eq!(txn.len(), 1);
    let t = &txn[0]["request"]["txn"];
    assert_eq!(
        t["compare"][0],
        serde_json::json!({"result": "EQUAL", "target": "VALUE", "key": "key-01", "value": "value-01"})
    );
    assert_eq!(t["success"][0]["requestPut"], serde_json::json!({"key": "txn-key", "value": "txn-value"}));
    assert_eq!(t["failure"][0]["requestPut"], serde_json::json!({"key": "txn-fail", "value": "fail-value"}));
    let grant = find("lease_grant");
    assert_eq!(grant.len(), 1);
    assert_eq!(grant[0]["request"]["leaseGrant"]["id"], w.lease.as_str());
    assert_eq!(grant[0]["request"]["leaseGrant"]["ttl"], 600);
    let leased: Vec<&Value> = find("put").into_iter().filter(|e| e["request"]["put"]["key"] == "leased-key").collect();
    assert_eq!(leased.len(), 1);
    assert_eq!(leased[0]["request"]["put"]["lease"], w.lease.as_str());
    assert_eq!(leased[0]["request"]["put"]["value"], "leased-value");
    let compaction = find("compaction");
    assert_eq!(compaction.len(), 1);
    assert_eq!(compaction[0]["request"]["compaction"]["revision"], 10);
    let user = find("auth_user_add");
    assert_eq!(user.len(), 1);
    let add = &user[0]["request"]["authUserAdd"];
    assert_eq!(add["name"], "bob");
    // 3.4 sends the password, 3.5 a bcrypt hash of it: either way redacted
    let secret_field = if bins.version == util::ETCD34_VERSION { "password" } else { "hashedPassword" };
    assert_eq!(add[secret_field], "<redacted>", "{add}");
    // the member's own bootstrap entries
    let cc = find("confchange:AddNode");
    assert_eq!(cc.len(), 1);
    assert_eq!(cc[0]["index"], 1);
    assert_eq!(cc[0]["request"]["confChange"]["nodeId"], format!("{:x}", w.member_id).as_str());
    assert_eq!(cc[0]["request"]["confChange"]["context"]["name"], "walcmd");
    assert!(!find("noop").is_empty());
    // how the member published itself and the cluster version: v2 store
    // requests up to 3.5, v3 requests (decoded, named) from 3.6 on
    let member_hex = format!("{:x}", w.member_id);
    let minor = &bins.version[..3];
    let cluster_version = format!("{minor}.0");
    let version_index = if minor == "3.4" || minor == "3.5" {
        let v2 = find("v2:PUT");
        let attrs = v2
            .iter()
            .find(|e| e["request"]["v2"]["path"] == format!("/0/members/{member_hex}/attributes").as_str())
            .unwrap_or_else(|| panic!("{}: no v2 attributes publish in {v2:?}", bins.version));
        assert!(attrs["request"]["v2"]["val"].as_str().unwrap().contains(r#""name":"walcmd""#), "{attrs}");
        let sets: Vec<_> = v2.iter().filter(|e| e["request"]["v2"]["path"] == "/0/version").collect();
        assert_eq!(sets.len(), 1, "{}: {v2:?}", bins.version);
        assert_eq!(sets[0]["request"]["v2"]["val"], cluster_version.as_str(), "{}", bins.version);
        assert!(find("cluster_member_attr_set").is_empty() && find("cluster_version_set").is_empty());
        sets[0]["index"].as_u64().unwrap()
    } else {
        assert!(find("v2:PUT").is_empty(), "{}: 3.6+ proposes no v2 requests", bins.version);
        let attrs = find("cluster_member_attr_set");
        assert_eq!(attrs.len(), 1, "{}", bins.version);
        let a = &attrs[0]["request"]["clusterMemberAttrSet"];
        assert_eq!(a["memberId"], member_hex.as_str(), "{a}");
        assert_eq!(a["memberAttributes"]["name"], "walcmd", "{a}");
        let ver = find("cluster_version_set");
        assert_eq!(ver.len(), 1, "{}", bins.version);
        assert_eq!(ver[0]["request"]["clusterVersionSet"]["ver"], cluster_version.as_str());
        ver[0]["index"].as_u64().unwrap()
    };
    // every entry decodes to a named request
    assert!(ents.iter().all(|e| e["op"].is_string() && e["op"] != "unknown"), "{}", bins.version);

    // --- the summary agrees with the dump and with etcdctl ---------------
    let (out, s) = summary(data);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    assert_eq!(&s, meta, "the dump's metadata line is the summary");
    assert_eq!(s["verdict"], "clean");
    assert_eq!(s["firstError"], Value::Null);
    assert_eq!(s["entryCount"].as_u64(), Some(ents.len() as u64));
    assert_eq!(s["lastIndex"].as_u64(), all_idx.last().copied());
    assert_eq!(s["firstIndex"].as_u64(), Some(1));
    assert!(s["hardState"]["commit"].as_u64().unwrap() >= last_put_index, "{s}");
    // etcdctl prints ids as decimal JSON numbers; etcd's logs and `member list` as hex
    assert_eq!(s["nodeIdDecimal"].as_u64(), Some(w.member_id));
    assert_eq!(s["nodeId"], format!("{:x}", w.member_id).as_str());
    assert_eq!(s["clusterIdDecimal"].as_u64(), Some(w.cluster_id));
    assert_eq!(s["clusterId"], format!("{:x}", w.cluster_id).as_str());
    assert_eq!(s["hardState"]["vote"], s["nodeId"], "a single member votes for itself");
    assert_eq!(s["segments"], 1);
    let snaps: Vec<u64> = s["snapshots"].as_array().unwrap().iter().map(|x| x["index"].as_u64().unwrap()).collect();
    assert_eq!(snaps[0], 0, "wal.Create's SNAPSHOT{{0,0}}");
    assert!(snaps.len() > 1, "--snapshot-count 20 makes etcd record snapshots: {snaps:?}");
    assert!(snaps.iter().all(|i| *i <= s["hardState"]["commit"].as_u64().unwrap()));
    // the writer's line, from the cluster version the log sets
    assert_eq!(
        s["clusterVersions"],
        serde_json::json!([{"index": version_index, "version": cluster_version}]),
        "{}",
        bins.version
    );
    assert_eq!(s["writtenBy"], minor, "{}", bins.version);

    // a member dir and the WAL dir itself read the same; --wal-dir overrides
    let member = w.data.join("member");
    let wal_dir = member.join("wal");
    for args in [
        vec![member.to_str().unwrap()],
        vec![wal_dir.to_str().unwrap()],
        vec!["/nonexistent", "--wal-dir", wal_dir.to_str().unwrap()],
    ] {
        let (out, l) = json_lines(&args);
        assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
        assert_eq!(&l[1..], &lines[1..], "{args:?}");
    }

    // --- filters -------------------------------------------------------
    let i10 = puts[9]["index"].as_u64().unwrap();
    let i20 = puts[19]["index"].as_u64().unwrap();
    let (out, l) = json_lines(&[data, "--start-index", &i10.to_string(), "--end-index", &i20.to_string()]);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    let want: Vec<u64> = all_idx.iter().copied().filter(|i| (i10..=i20).contains(i)).collect();
    assert_eq!(indexes(&l), want);
    assert_eq!(want.first(), Some(&i10));
    assert_eq!(want.last(), Some(&i20));
    let (out, l) = json_lines(&[data, "--entry-type", "IRRPut"]);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    assert!(entries(&l).iter().all(|e| e["op"] == "put"));
    assert_eq!(entries(&l).len(), PUTS + 1, "the 50 puts and the leased put");
    let (_, l) = json_lines(&[data, "--entry-type", "IRRTxn,IRRCompaction", "--entry-type", "IRRLeaseGrant"]);
    let ops: Vec<&str> = entries(&l).iter().map(|e| e["op"].as_str().unwrap()).collect();
    assert_eq!(ops, ["txn", "lease_grant", "compaction"]);
    let (_, l) = json_lines(&[data, "--entry-type", "ConfigChange"]);
    assert_eq!(indexes(&l), [1]);
    let out = ours(&["wal", data, "--entry-type", "IRRPut,Bogus"]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Bogus") && err.contains("IRRLeaseCheckpoint") && err.contains("ConfigChange"), "{err}");

    // --- simple output -------------------------------------------------
    let out = ours(&["wal", data]);
    let text = util::assert_success(&out);
    assert!(!text.contains("secret"));
    assert!(text.contains(&format!("nodeID={:x} clusterID={:x}", w.member_id, w.cluster_id)), "{text}");
    assert!(text.contains(r#"{"key":"key-01","value":"value-01"}"#), "{text}");
    assert!(text.contains(&format!("Entries shown: {} of {}", ents.len(), ents.len())), "{text}");
    let out = ours(&["wal", data, "--summary"]);
    let text = util::assert_success(&out);
    assert!(text.contains("verdict:        clean"), "{text}");
    let line =
        format!("cluster version: {cluster_version} (set at entry {version_index}): written by etcd {minor} or newer");
    assert!(text.contains(&line), "{}: {text}", bins.version);

    // a reader that goes away early is not an error
    let mut child = util::ours_cmd()
        .args(["wal", data])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));

    // --- a torn tail: etcd repairs it, we warn and exit 0 ---------------
    let (_torn_tmp, torn) = util::copy_to_temp(&w.data);
    let seg = last_segment(&torn);
    let bytes = fs::read(&seg).unwrap();
    let end = bytes.iter().rposition(|b| *b != 0).unwrap() + 1;
    let f = fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len((end - 4) as u64).unwrap(); // mid-record: the last record loses its last 4 bytes
    drop(f);
    let torn_s = torn.to_str().unwrap();
    let (out, s) = summary(torn_s);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("warning") && err.contains("wal.torn_tail") && err.contains("repairs"), "{err}");
    let fe = &s["firstError"];
    assert_eq!(fe["kind"], "wal.torn_tail", "{s}");
    assert_eq!(fe["outcome"], "repairs");
    assert_eq!(fe["segment"], seg.file_name().unwrap().to_str().unwrap());
    assert_eq!(s["verdict"], "repairable");
    assert_eq!(s["repair"]["offset"], fe["offset"]);
    assert!(fe["offset"].as_u64().unwrap() < end as u64);
    let (out, l) = json_lines(&[torn_s]);
    assert_eq!(out.status.code(), Some(0), "{}", util::show(&out));
    assert_eq!(l.last().unwrap()["error"]["kind"], "wal.torn_tail");
    // and etcd agrees: it repairs the segment and boots
    let mut etcd = EtcdProcess::start(bins, &torn, "walcmd", &[] as &[&str]);
    let got = util::assert_success(&etcd.etcdctl(["get", "key-50", "--print-value-only"]));
    assert_eq!(got.trim(), "value-50");
    etcd.stop();

    // --- a flipped byte in a middle record: etcd refuses, we exit 1 -------
    let (_flip_tmp, flip) = util::copy_to_temp(&w.data);
    let (seg_name, offset) = pick_untorn_put(&flip, &puts[PUTS / 2..]);
    let seg = flip.join("member").join("wal").join(&seg_name);
    let mut bytes = fs::read(&seg).unwrap();
    let at = offset as usize;
    let word = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
    let n = (word & 0x00ff_ffff_ffff_ffff) as usize;
    let body = &bytes[at + 8..at + 8 + n];
    let pos = body.windows(6).position(|x| x == b"value-").expect("the value is in the record") + at + 8;
    bytes[pos] ^= 0x20; // 'v' -> 'V'
    fs::write(&seg, &bytes).unwrap();
    let flip_s = flip.to_str().unwrap();
    let (out, s) = summary(flip_s);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("damage"), "{}", util::show(&out));
    let fe = &s["firstError"];
    assert_eq!(fe["kind"], "wal.crc_mismatch", "{s}");
    assert_eq!(fe["outcome"], "fails");
    assert_eq!(fe["segment"], seg_name.as_str());
    assert_eq!(fe["offset"].as_u64(), Some(offset));
    assert_eq!(s["verdict"], "damaged");
    // the dump stops just before the damaged record, and says why
    let (out, l) = json_lines(&[flip_s]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    assert!(indexes(&l).iter().all(|i| *i < entry_at(&lines, offset)));
    assert_eq!(l.last().unwrap()["error"]["kind"], "wal.crc_mismatch");
    // --raw reads on: every put is there, the damaged one marked
    let (out, l) = json_lines(&[flip_s, "--raw"]);
    assert_eq!(out.status.code(), Some(1), "{}", util::show(&out));
    assert_eq!(indexes(&l), all_idx, "--raw lists every entry");
    let bad: Vec<&Value> = entries(&l).into_iter().filter(|e| e.get("crc").is_some()).collect();
    assert_eq!(bad.len(), 1);
    assert_eq!((bad[0]["crc"].as_str(), bad[0]["offset"].as_u64()), (Some("mismatch"), Some(offset)));
    assert!(bad[0]["request"]["put"]["value"].as_str().unwrap().starts_with("Value-"));
    let errs: Vec<&Value> = l.iter().filter(|x| x.get("error").is_some()).collect();
    assert_eq!(errs.len(), 1);
    assert_eq!(
        (errs[0]["error"]["kind"].as_str(), errs[0]["error"]["offset"].as_u64()),
        (Some("wal.crc_mismatch"), Some(offset))
    );
    assert!(errs[0]["error"]["resumeAt"].as_u64().unwrap() > offset);
    let out = ours(&["wal", flip_s, "--raw"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("error: wal.crc_mismatch") && err.contains("reading on at offset"), "{err}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("[crc mismatch]"));
    // and etcd agrees: it will not boot
    let log = etcd_refuses(bins, &flip);
    assert!(log.contains("crc mismatch"), "{log}");
}

/// The index of the entry whose record is at `offset`.
fn entry_at(lines: &[Value], offset: u64) -> u64 {
    entries(lines).iter().find(|e| e["offset"].as_u64() == Some(offset)).unwrap()["index"].as_u64().unwrap()
}

/// (segment, offset) of the first of `puts` whose record etcd would not
/// call torn if its CRC failed (no 512-byte sector of it is all zeros), so
/// that a flipped byte in it is a plain CRC mismatch.
fn pick_untorn_put(data: &Path, puts: &[&&Value]) -> (String, u64) {
    for p in puts {
        let name = p["segment"].as_str().unwrap();
        let offset = p["offset"].as_u64().unwrap();
        let bytes = fs::read(data.join("member").join("wal").join(name)).unwrap();
        let at = offset as usize;
        let word = u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let n = (word & 0x00ff_ffff_ffff_ffff) as usize;
        let pad = if word >> 63 == 1 { ((word >> 56) & 7) as usize } else { 0 };
        let (start, end) = (at + 8, at + 8 + n + pad);
        let mut s = start;
        let mut torn = false;
        while s < end {
            let e = end.min((s / 512 + 1) * 512);
            torn |= bytes[s..e].iter().all(|b| *b == 0);
            s = e;
        }
        if !torn {
            return (name.to_owned(), offset);
        }
    }
    panic!("every candidate put straddles a sector with only padding in it");
}

/// One test per release of the matrix, so a failure names the version.
macro_rules! wal_dump_of {
    ($($name:ident => $version:literal),* $(,)?) => {$(
        #[test]
        fn $name() {
            let Some(bins) = util::require_version($version) else { return };
            check_version(&bins);
        }
    )*};
}

wal_dump_of! {
    wal_dump_of_etcd_3_4_23 => "3.4.23",
    wal_dump_of_etcd_3_5_1 => "3.5.1",
    wal_dump_of_etcd_3_5_16 => "3.5.16",
    wal_dump_of_etcd_3_5_30 => "3.5.30",
    wal_dump_of_etcd_3_6_16 => "3.6.16",
    wal_dump_of_etcd_3_7_3 => "3.7.3",
}

#[test]
fn wal_command_usage() {
    // no such directory, no segments: could not run
    let out = ours(&["wal", "/nonexistent/data"]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/data"));
    let d = tempfile::tempdir().unwrap();
    fs::create_dir_all(d.path().join("member").join("wal")).unwrap();
    let out = ours(&["wal", d.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no WAL segment"), "{}", util::show(&out));
    // bad flags
    assert_eq!(ours(&["wal"]).status.code(), Some(2));
    assert_eq!(ours(&["wal", "x", "-w", "table"]).status.code(), Some(2));
    assert_eq!(ours(&["wal", "x", "--summary", "--raw"]).status.code(), Some(2));
    let out = ours(&["wal", d.path().to_str().unwrap(), "--start-index", "5", "--end-index", "4"]);
    assert_eq!(out.status.code(), Some(2), "{}", util::show(&out));
    // the help teaches
    let help = util::assert_success(&ours(&["wal", "--help"]));
    for want in ["etcd-dump-logs", "--entry-type", "IRRLeaseCheckpoint", "--raw", "EXAMPLES", "EXIT CODES", "torn"] {
        assert!(help.contains(want), "{want} missing from:\n{help}");
    }
}
