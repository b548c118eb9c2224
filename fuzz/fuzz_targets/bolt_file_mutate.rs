//! Real etcd files with fuzzer-chosen damage, then `scan_db` both ways.
//!
//! Random bytes rarely get past bbolt's meta checksum; starting from a real
//! file and applying a short list of structured edits (bit flips, integers
//! written into page headers and elements, page swaps and copies,
//! truncation, meta fields with the checksum fixed up) reaches the tree
//! walk, the inline buckets and the `key`-bucket checks at once.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

mod boltmut;
mod checks;

use boltmut::{Op, TINY, V351};

#[derive(Arbitrary, Debug)]
struct Input {
    big: bool,
    skip_trailer_hash: bool,
    ops: Vec<Op>,
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(bytes)) else { return };
    let file = boltmut::damaged(if input.big { V351 } else { TINY }, input.ops);
    // Reproducing a crash: `BOLT_FILE_MUTATE_DUMP=out.db bolt_file_mutate
    // crash-input` writes the edited file, which then replays through the
    // plain `bolt_file` path (and belongs in testdata/fuzz/bolt_file/).
    if let Some(out) = std::env::var_os("BOLT_FILE_MUTATE_DUMP") {
        let _ = std::fs::write(out, &file);
    }
    checks::bolt_file(&file, input.skip_trailer_hash);
});
