//! Every command on damaged inputs: bbolt files truncated, bit-flipped,
//! zeroed or random; WAL segments and `.snap` files the same, inside a data
//! dir. Whatever the bytes, each command exits 0, 1 or 2 (never a panic, a
//! signal or a hang), says why when it exits 2, and leaves its input as it
//! was. The fuzz targets check the parsers and the `status`/`check`/`space`/
//! `report` jobs in-process; this runs the binary, so every job (`get`,
//! `history`, `hashkv`, `leases`, `diff`, `salvage`, `restore`, `cluster`,
//! ...) and every printer is on the path.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::util;

const PAGE: usize = 4096;
/// Far above what any of these small inputs needs: a run this long is a hang.
const TIMEOUT: Duration = Duration::from_secs(60);

/// xorshift64: the same damage on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Damaged copies of `orig`, named: truncations, zeroed pages, byte flips
/// (half of them in page headers and element headers, where the structure
/// is), and random bytes.
fn variants(orig: &[u8], seed: u64, flips: usize) -> Vec<(String, Vec<u8>)> {
    let mut rng = Rng(seed);
    let len = orig.len();
    let mut out = Vec::new();
    for cut in [0, 1, 100, PAGE - 1, PAGE, 2 * PAGE, 3 * PAGE + 17, len / 2, len.saturating_sub(33), len - 1] {
        if cut < len {
            out.push((format!("cut-{cut}"), orig[..cut].to_vec()));
        }
    }
    let pages = len / PAGE;
    for p in [0, 1, 2, 3, pages / 2, pages.saturating_sub(1)] {
        if p < pages {
            let mut b = orig.to_vec();
            b[p * PAGE..(p + 1) * PAGE].fill(0);
            out.push((format!("zero-page-{p}"), b));
        }
    }
    for i in 0..flips {
        let mut b = orig.to_vec();
        let mut what = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let at = if i % 2 == 0 { rng.below(pages.max(1)) * PAGE + rng.below(64) } else { rng.below(len) };
            if at < len {
                let x = 1u8 << rng.below(8);
                b[at] ^= if i % 3 == 0 { 0xff } else { x };
                what.push(at.to_string());
            }
        }
        out.push((format!("flip-{}", what.join("-")), b));
    }
    out.push(("random".into(), (0..len.min(64 * 1024)).map(|_| rng.next() as u8).collect()));
    out
}

/// Runs our binary with `args`; fails the test unless it ended by itself
/// with 0, 1 or 2, without a panic, and with a message when it exits 2.
fn run_ok(what: &str, args: &[&str]) -> i32 {
    let mut cmd = util::ours_cmd();
    cmd.args(args);
    let out = util::run_bounded(&mut cmd, TIMEOUT).unwrap_or_else(|e| panic!("{what}: {args:?}: {e} (a hang?)"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or_else(|| panic!("{what}: {args:?} killed by a signal\n{}", util::show(&out)));
    assert!(matches!(code, 0..=2), "{what}: {args:?} exited {code}\n{}", util::show(&out));
    assert!(!stderr.contains("panicked"), "{what}: {args:?} panicked\n{}", util::show(&out));
    if code == 2 {
        assert!(!stderr.trim().is_empty(), "{what}: {args:?} exited 2 without a word\n{}", util::show(&out));
    }
    code
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Every command that reads a db or snapshot file, on `file`.
fn db_commands(what: &str, file: &Path, orig: &Path, scratch: &Path) -> Vec<i32> {
    let f = s(file);
    let o = s(orig);
    let out = |name: &str| s(&scratch.join(name));
    let (defragged, salvaged, html, restored) = (out("defrag.db"), out("salvage.db"), out("r.html"), out("restored"));
    let runs: Vec<Vec<&str>> = vec![
        vec!["status", &f],
        vec!["status", "-w", "table", &f],
        vec!["status", "-w", "json", "--compat", &f],
        vec!["check", "-w", "json", &f],
        vec!["check", &f],
        vec!["get", &f, "", "--prefix"],
        vec!["get", &f, "", "--prefix", "--keys-only", "-w", "json"],
        vec!["get", &f, "", "--prefix", "--rev", "130"],
        vec!["get", &f, "/registry/", "--prefix", "-w", "json"],
        vec!["history", &f, "foo"],
        vec!["hashkv", "-w", "json", &f],
        vec!["hashkv", &f, "--rev", "130"],
        vec!["space", "-w", "json", &f],
        vec!["space", &f],
        vec!["buckets", &f],
        vec!["leases", "-w", "json", &f],
        vec!["members", &f],
        vec!["auth", "-w", "json", &f],
        vec!["alarms", &f],
        vec!["meta", "-w", "json", &f],
        vec!["diff", &o, &f],
        vec!["diff", "-w", "json", &f, &o],
        vec!["defrag", &f, "--output", &defragged],
        vec!["salvage", &f, "--output", &salvaged],
        vec!["report", "--output", &html, &f],
        vec!["restore", &f, "--data-dir", &restored, "--skip-hash-check"],
    ];
    runs.iter().map(|a| run_ok(what, a)).collect()
}

/// Runs `job` for each variant on two threads, each variant in a scratch
/// dir of its own, and checks that the damaged file is unchanged after.
fn each_variant(variants: Vec<(String, Vec<u8>)>, job: impl Fn(&str, &Path, &Path) + Sync, file_name: &str) {
    let work = std::sync::Mutex::new(variants.into_iter());
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| {
                loop {
                    let Some((name, bytes)) = work.lock().unwrap().next() else { break };
                    let dir = tempfile::tempdir().unwrap();
                    let scratch = dir.path().join("out");
                    std::fs::create_dir(&scratch).unwrap();
                    let input = dir.path().join("in");
                    std::fs::create_dir(&input).unwrap();
                    let file = input.join(file_name);
                    std::fs::write(&file, &bytes).unwrap();
                    let before = util::file_fingerprint(&file);
                    job(&name, &file, &scratch);
                    util::assert_unchanged(&file, &before);
                }
            });
        }
    });
}

#[test]
fn every_db_command_on_damaged_files_exits_0_1_or_2() {
    for (fixture, seed) in [("v3.5.1/member-db", 1u64), ("v3.5.1/snapshot.db", 2), ("v3.7.3/snapshot.db", 3)] {
        let orig_path = util::fixture(fixture);
        let orig = std::fs::read(&orig_path).unwrap();
        // The control: on the undamaged file every command runs and finds
        // nothing, so the arguments above reach the jobs.
        let tmp = tempfile::tempdir().unwrap();
        let codes = db_commands(&format!("{fixture} undamaged"), &orig_path, &orig_path, tmp.path());
        assert!(codes.iter().all(|&c| c == 0), "{fixture}: exit codes {codes:?} on the undamaged file");
        let vs = variants(&orig, 0x9E37_79B9_7F4A_7C15 ^ seed, 24);
        let n = vs.len();
        let damage_found = std::sync::atomic::AtomicUsize::new(0);
        each_variant(
            vs,
            |name, file, scratch| {
                let codes = db_commands(&format!("{fixture} {name}"), file, &orig_path, scratch);
                // `check -w json` is the fourth run
                if codes.get(3) == Some(&1) {
                    damage_found.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
            },
            "db",
        );
        // Not every flip lands where it matters (free pages, slack), but
        // most of these must be found.
        let found = damage_found.into_inner();
        assert!(found * 2 > n, "{fixture}: check found damage in only {found} of {n} variants");
    }
}

/// A data dir: the v3.5.1 db, a real 3.5.1 WAL segment and `.snap` file.
fn data_dir(root: &Path, wal: &[u8], snap: &[u8]) -> PathBuf {
    let member = root.join("member");
    std::fs::create_dir_all(member.join("wal")).unwrap();
    std::fs::create_dir_all(member.join("snap")).unwrap();
    std::fs::copy(util::fixture("v3.5.1/member-db"), member.join("snap/db")).unwrap();
    std::fs::write(member.join("wal/0000000000000000-0000000000000000.wal"), wal).unwrap();
    std::fs::write(member.join("snap/0000000000000002-000000000000000b.snap"), snap).unwrap();
    root.to_path_buf()
}

fn data_dir_commands(what: &str, dir: &Path, scratch: &Path) -> Vec<i32> {
    let d = s(dir);
    let wal = s(&dir.join("member/wal"));
    let out = |name: &str| s(&scratch.join(name));
    let (salvaged, html, planned) = (out("salvage.db"), out("r.html"), out("cluster"));
    let runs: Vec<Vec<&str>> = vec![
        vec!["check", &d],
        vec!["check", "-w", "json", &d],
        vec!["wal", &d, "--summary"],
        vec!["wal", "--wal-dir", &wal, "-w", "json"],
        vec!["wal", &d, "--raw", "--start-index", "3"],
        vec!["salvage", &d, "--output", &salvaged],
        vec!["report", "--output", &html, &d],
        vec!["cluster", "-w", "json", &d],
        vec!["cluster", &d, "--restore", "--out", &planned, "--dry-run"],
    ];
    runs.iter().map(|a| run_ok(what, a)).collect()
}

#[test]
fn every_data_dir_command_on_damaged_wal_and_snap_exits_0_1_or_2() {
    let wal = std::fs::read(util::repo_root().join("fuzz/seeds/wal_segment/real-3.5.1-head.wal")).unwrap();
    let snap =
        std::fs::read(util::repo_root().join("fuzz/seeds/snap_file/0000000000000002-000000000000000b.snap")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = data_dir(&tmp.path().join("data"), &wal, &snap);
    let scratch = tmp.path().join("out");
    std::fs::create_dir(&scratch).unwrap();
    let codes = data_dir_commands("undamaged", &dir, &scratch);
    assert!(codes.iter().all(|&c| c <= 1), "exit codes {codes:?} on the undamaged data dir");
    let mut cases: Vec<(String, Vec<u8>, Vec<u8>)> = Vec::new();
    for (name, w) in variants(&wal, 11, 20) {
        cases.push((format!("wal {name}"), w, snap.clone()));
    }
    for (name, sn) in variants(&snap, 12, 12) {
        cases.push((format!("snap {name}"), wal.clone(), sn));
    }
    let work = std::sync::Mutex::new(cases.into_iter());
    std::thread::scope(|sc| {
        for _ in 0..2 {
            sc.spawn(|| {
                loop {
                    let Some((name, w, sn)) = work.lock().unwrap().next() else { break };
                    let tmp = tempfile::tempdir().unwrap();
                    let dir = data_dir(&tmp.path().join("data"), &w, &sn);
                    let scratch = tmp.path().join("out");
                    std::fs::create_dir(&scratch).unwrap();
                    let seg = dir.join("member/wal/0000000000000000-0000000000000000.wal");
                    let snap_file = dir.join("member/snap/0000000000000002-000000000000000b.snap");
                    let before = [util::file_fingerprint(&seg), util::file_fingerprint(&snap_file)];
                    let _ = data_dir_commands(&name, &dir, &scratch);
                    run_ok(&name, &["check", &s(&snap_file)]);
                    run_ok(&name, &["status", &s(&snap_file)]);
                    util::assert_unchanged(&seg, &before[0]);
                    util::assert_unchanged(&snap_file, &before[1]);
                }
            });
        }
    });
}
