//! `key`-bucket keys and values: `Revision::parse` / `main_of` and
//! `kv::decode` / `kv::key_of` on arbitrary bytes, each checked against a
//! model. See `checks::mvcc_key`.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;

fuzz_target!(|data: &[u8]| checks::mvcc_key(data));
