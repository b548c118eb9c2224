//! Arbitrary bytes as a WAL segment (last and not last): drain every
//! record, decode every payload, and list what a repair would drop. Checks:
//! records lie inside the input, offsets only grow, and the decoder stops.
#![no_main]

use etcd_forensics::wal::SegmentReader;
use etcd_forensics::wal::repair::salvage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for last in [false, true] {
        let mut r = SegmentReader::new(data, last, 0);
        let mut prev = 0u64;
        let mut n = 0usize;
        loop {
            match r.next_record() {
                Ok(Some(rec)) => {
                    assert!(rec.offset >= prev, "offsets go backwards");
                    assert!(rec.end() <= data.len() as u64, "record past the input");
                    prev = rec.end();
                    let _ = rec.anomalies();
                    if let Ok(e) = rec.entry() {
                        let _ = e.request();
                        let _ = e.to_entry();
                    }
                    let _ = rec.hard_state();
                    let _ = rec.snapshot();
                    let _ = rec.metadata();
                    n += 1;
                    assert!(n <= data.len() / 8 + 1, "more records than 8-byte frames");
                }
                Ok(None) | Err(_) => break,
            }
        }
        let _ = r.end();
        let from = (r.offset() as usize).min(data.len()) as u64;
        let _ = salvage(data, from, Some(r.crc()));
    }
});
