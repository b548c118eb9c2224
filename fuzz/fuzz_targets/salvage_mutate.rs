//! The whole `salvage` job on real etcd files with fuzzer-chosen damage (the
//! edits of `bolt_file_mutate`): meta choice, tree walk past bad pages, the
//! scan of every page, the merge of found leaves, lost-revision accounting,
//! the rebuild and its own check, and every printer of the report; then
//! `defrag` of the same file. Checks: no panic; an undamaged file salvages
//! complete and defrags; whenever salvage or defrag says it wrote a file,
//! that file exists with the size the report gives, and our `check` finds
//! salvage's clean and in defrag's (which copies entries as bytes, as etcd's
//! does) only damage the defrag report names; when they do not write,
//! nothing is written; the input is never changed.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

use etcd_forensics::jobs::check::{CheckOptions, check_file};
use etcd_forensics::jobs::defrag::{DefragOptions, defrag};
use etcd_forensics::jobs::salvage::{SalvageOptions, salvage};
use etcd_forensics::output::WriteOut;
use etcd_forensics::report::Severity;

mod boltmut;

use boltmut::{Op, TINY, V351};

#[derive(Arbitrary, Debug)]
struct Input {
    big: bool,
    ops: Vec<Op>,
}

/// A scratch directory of this process (memory-backed when /dev/shm exists).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base =
            if std::path::Path::new("/dev/shm").is_dir() { PathBuf::from("/dev/shm") } else { std::env::temp_dir() };
        let d = base.join(format!("salvage_mutate-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    })
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(bytes)) else { return };
    let clean = input.ops.is_empty();
    let orig = if input.big { V351 } else { TINY };
    let file = boltmut::damaged(orig, input.ops);
    let dir = scratch();
    let src = dir.join("in.db");
    let out = dir.join("out.db");
    let defragged = dir.join("defrag.db");
    std::fs::write(&src, &file).expect("write input");
    let _ = std::fs::remove_file(&out);
    let _ = std::fs::remove_file(&defragged);

    let result = salvage(&SalvageOptions::new(&src, &out));
    // What a complete salvage wrote, to compare with a clean defrag.
    let complete = result.as_ref().ok().filter(|r| r.complete()).map(|r| r.result.status);
    assert_eq!(std::fs::read(&src).expect("read input back"), file, "salvage changed its input");
    match result {
        Ok(report) => {
            assert!(!clean || report.complete(), "an undamaged file salvages complete: {report:?}");
            let len = std::fs::metadata(&out).expect("salvage reported a file it did not write").len();
            assert_eq!(len, report.result.file_size, "size in the report");
            let checked = check_file(&out, CheckOptions { sequential: false, progress: None }).expect("check output");
            assert_eq!(checked.verdict, "clean", "salvage wrote a damaged file: {:?}", checked.findings);
            let mut sink = std::io::sink();
            for how in [WriteOut::Simple, WriteOut::Table, WriteOut::Json, WriteOut::Fields] {
                assert!(etcd_forensics::output::salvage::print(&mut sink, &report, how).is_ok());
            }
        }
        Err(e) => {
            assert!(!clean, "an undamaged file must salvage: {e}");
            assert!(!out.exists(), "nothing written on failure");
        }
    }

    let opts =
        DefragOptions { source: src.clone(), output: defragged.clone(), snapshot: false, skip_hash_check: false };
    let result = defrag(&opts);
    assert_eq!(std::fs::read(&src).expect("read input back"), file, "defrag changed its input");
    match &result {
        Ok(report) if report.written => {
            let len = std::fs::metadata(&defragged).expect("defrag reported a file it did not write").len();
            assert_eq!(len, report.file_size, "size in the defrag report");
            // A defrag copies bytes: damage in the entries goes into the new
            // file as it is, but only damage the report names.
            let checked =
                check_file(&defragged, CheckOptions { sequential: false, progress: None }).expect("check output");
            // Both read the whole tree: a salvage that lost nothing and a
            // defrag that copied nothing bad hold the same buckets (salvage
            // always writes `key`, `meta` and `lease`, even when the input
            // lacks them).
            let has = |n: &str| report.buckets.iter().any(|b| b.name == n);
            let defrag_clean = !report.findings.iter().any(|f| f.severity == Severity::Damage)
                && has("key")
                && has("meta")
                && has("lease");
            if let (Some(salvaged), true) = (complete, defrag_clean) {
                assert_eq!(salvaged, report.status, "salvage and defrag of the same readable file differ");
            }
            for f in checked.findings.iter().filter(|f| f.severity == Severity::Damage) {
                assert!(
                    report.findings.iter().any(|r| r.severity == Severity::Damage && r.code == f.code),
                    "defrag wrote damage it did not report: {f:?}"
                );
            }
        }
        Ok(_) | Err(_) => {
            assert!(!clean, "an undamaged file must defrag");
            assert!(!defragged.exists(), "nothing written when refused");
        }
    }
    if let Ok(r) = &result {
        let mut sink = std::io::sink();
        for how in [WriteOut::Simple, WriteOut::Table, WriteOut::Json, WriteOut::Fields] {
            assert!(etcd_forensics::output::defrag::print(&mut sink, r, how).is_ok());
        }
    }
});
