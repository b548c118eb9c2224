//! Real etcd files with fuzzer-chosen damage (the edits of
//! `bolt_file_mutate`), then every read-only query job on them: `get` at a
//! revision and over ranges, `history`, `hashkv`, `buckets`, `leases`,
//! `members`, `auth`, `alarms`, `meta`, `diff` against the undamaged file,
//! each through every printer (`checks::db_jobs`).
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

mod boltmut;
mod checks;

use boltmut::{Op, TINY, V351};

#[derive(Arbitrary, Debug)]
struct Input {
    big: bool,
    /// The revision asked for: small values hit real revisions of the
    /// fixtures (1..262), others the compacted and future cases.
    rev: i16,
    /// A key: its first byte picks a prefix of the fixtures' key space.
    key: Vec<u8>,
    ops: Vec<Op>,
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(bytes)) else { return };
    let orig = if input.big { V351 } else { TINY };
    let file = boltmut::damaged(orig, input.ops);
    if let Some(out) = std::env::var_os("DB_JOBS_MUTATE_DUMP") {
        let _ = std::fs::write(out, &file);
    }
    let key: Vec<u8> = input.key.into_iter().take(64).collect();
    checks::db_jobs(&file, orig, i64::from(input.rev), &key);
});
