//! Arbitrary bytes as a whole db/snapshot file through `scan_db`, the one
//! pass behind `status` and `check`. Sequential and parallel walks must
//! agree exactly; the result is then rendered by every printer. See
//! `checks::bolt_file`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;

fuzz_target!(|data: &[u8]| checks::bolt_file(data, false));
