//! Replays every input saved under `testdata/fuzz/<target>/` (crashes and
//! interesting cases found by `cargo fuzz`) through every parser, so plain
//! `cargo test` keeps them fixed. Inputs of `*_mutate` targets are saved as
//! the mutated file itself, so they replay like any other file.

use std::path::PathBuf;

use etcd_forensics::bolt::page::Page;
use etcd_forensics::bytes::Bytes;
use etcd_forensics::mvcc::{Revision, ScanOptions, kv, scan_db};
use etcd_forensics::wal::SegmentReader;

fn inputs() -> Vec<PathBuf> {
    let root = crate::util::repo_root().join("testdata/fuzz");
    let mut out = Vec::new();
    let Ok(targets) = std::fs::read_dir(&root) else { return out };
    for t in targets.flatten() {
        if let Ok(files) = std::fs::read_dir(t.path()) {
            out.extend(files.flatten().map(|f| f.path()).filter(|p| p.is_file()));
        }
    }
    out.sort();
    out
}

/// Every parser on `data`; none may panic, loop or over-allocate.
pub fn all_parsers(data: &[u8]) {
    for sequential in [false, true] {
        let _ = scan_db(data, ScanOptions { skip_trailer_hash: false, sequential, progress: None });
    }
    if let Ok(p) = Page::header(0, Bytes::new(data, 0)) {
        for i in 0..usize::from(p.count).min(4096) {
            let _ = p.leaf(i);
            let _ = p.branch(i);
        }
        let _ = p.freelist_ids().map(|ids| ids.count());
    }
    let _ = Revision::parse(data);
    let _ = kv::decode(data);
    for last in [false, true] {
        let mut r = SegmentReader::new(data, last, 0);
        for _ in 0..100_000 {
            match r.next_record() {
                Ok(Some(rec)) => {
                    let _ = rec.entry().map(|e| e.request());
                    let _ = rec.hard_state();
                    let _ = rec.snapshot();
                    let _ = rec.metadata();
                }
                _ => break,
            }
        }
    }
    let _ = etcd_forensics::snap::decode(data);
    crate::inspect::all_inspections(data);
}

#[test]
fn saved_fuzz_inputs_do_not_panic() {
    let files = inputs();
    for f in &files {
        let data = std::fs::read(f).unwrap();
        let r = std::panic::catch_unwind(|| all_parsers(&data));
        assert!(r.is_ok(), "{} panics", f.display());
    }
    eprintln!("replayed {} saved fuzz inputs", files.len());
}

#[test]
fn fixtures_and_their_prefixes_do_not_panic() {
    // Every fixture cut at page-ish boundaries: a cheap stand-in for the
    // fuzzers in plain `cargo test`.
    let data = std::fs::read(crate::util::fixture("tiny/snapshot.db")).unwrap();
    for cut in (0..data.len()).step_by(509) {
        all_parsers(&data[..cut]);
    }
}
