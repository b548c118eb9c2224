//! A db file through `report` and its HTML page (`checks::report_page`).
//! The first byte picks the file: arbitrary bytes (random input rarely
//! opens as bbolt, so the rest of the page stays unreached), or one of
//! three real files with `bolt_file_mutate`'s edits (`boltmut.rs`): the
//! Kubernetes fixture (the resource summary, the treemap of `/registry`
//! prefixes), the tiny snapshot and the v3.5.1 member db. An unedited
//! fixture must report clean.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

mod boltmut;
mod checks;

static K8S: &[u8] = include_bytes!("../../testdata/fixtures/k8s/snapshot.db");

fuzz_target!(|bytes: &[u8]| {
    let Some((&pick, rest)) = bytes.split_first() else { return };
    let orig = match pick % 4 {
        0 => {
            checks::report_page(rest, None);
            return;
        }
        1 => K8S,
        2 => boltmut::TINY,
        _ => boltmut::V351,
    };
    let Ok(ops) = Vec::<boltmut::Op>::arbitrary_take_rest(Unstructured::new(rest)) else { return };
    let clean = ops.is_empty();
    let file = boltmut::damaged(orig, ops);
    checks::report_page(&file, clean.then_some("clean"));
});
