//! Arbitrary bytes as a `.snap` file: envelope, CRC, raft snapshot, and the
//! v2 store JSON (also fed the raw input as JSON).
#![no_main]

use std::path::Path;

use etcd_forensics::snap::{decode, inspect_bytes, parse_v2_store};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = decode(data) {
        assert!(s.payload.len() <= data.len());
    }
    let _ = inspect_bytes(Path::new("fuzz.snap"), data);
    let _ = parse_v2_store(data, 0);
});
