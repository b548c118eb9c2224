//! Command-line behaviour: exit codes, help, usage errors.

use crate::util;

#[test]
fn missing_file_is_exit_2_with_a_useful_message() {
    let out = util::ours(["check", "/nonexistent/db"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/db") && err.contains("cannot open"), "{err}");
    assert_eq!(util::ours(["status", "/nonexistent/db"]).status.code(), Some(2));
}

#[test]
fn usage_errors_are_exit_2() {
    assert_eq!(util::ours(["status"]).status.code(), Some(2));
    assert_eq!(util::ours(["frobnicate"]).status.code(), Some(2));
    let f = util::fixture("tiny/snapshot.db").display().to_string();
    assert_eq!(util::ours(["status", "-w", "yaml", &f]).status.code(), Some(2));
}

#[test]
fn help_documents_exit_codes() {
    let out = util::ours(["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let s = String::from_utf8_lossy(&out.stdout);
    assert!(s.contains("EXIT CODES") && s.contains("damage found"), "{s}");
    let s = util::assert_success(&util::ours(["check", "--help"]));
    assert!(s.contains("EXIT CODES"), "{s}");
}

#[test]
fn completions_and_man_page() {
    assert!(util::assert_success(&util::ours(["completions", "bash"])).contains("etcd-forensics"));
    assert!(util::assert_success(&util::ours(["man"])).contains(".TH"));
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::process::Stdio;
    let f = util::fixture("v3.5.1/snapshot.db").display().to_string();
    let mut child = util::ours_cmd()
        .args(["status", "-w", "table", &f])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(matches!(out.status.code(), Some(0)), "{}", util::show(&out));
}

#[test]
fn floor_prints_one_crc_line_per_file() {
    let a = util::fixture("tiny/snapshot.db");
    let b = util::fixture("v3.5.1/snapshot.db");
    let (sa, sb) = (a.display().to_string(), b.display().to_string());
    let s = util::assert_success(&util::ours(["floor", &sa, &sb]));
    let lines: Vec<&str> = s.lines().collect();
    assert_eq!(lines.len(), 2, "{s}");
    for (line, path) in lines.iter().zip([&a, &b]) {
        let bytes = std::fs::read(path).unwrap();
        let want = format!("{:08x} {} {}", crc32c::crc32c(&bytes), bytes.len(), path.display());
        assert_eq!(*line, want);
    }
    // A missing file among several is exit 2, not a silent skip.
    assert_eq!(util::ours(["floor", &sa, "/nonexistent/db"]).status.code(), Some(2));
    assert_eq!(util::ours(["floor"]).status.code(), Some(2));
}
