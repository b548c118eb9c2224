//! One page of arbitrary bytes: header, every branch and leaf element
//! (whatever the flags say), the freelist ids, and inline bucket pages found
//! in leaf values. See `checks::bolt_page`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;

fuzz_target!(|data: &[u8]| checks::bolt_page(data));
