//! Arbitrary bytes as a db file through `report` and its HTML page. See
//! `checks::report_page`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;

fuzz_target!(|data: &[u8]| checks::report_page(data));
