//! The WAL record writer against our reader: an arbitrary sequence of
//! records (CRC, metadata, entries, hard states, snapshots) is encoded with
//! an arbitrary starting CRC, then read back with the segment reader, as a
//! bare segment and as a preallocated one (zeros after the records). Every
//! record must come back with its type and payload, decoded equal to what
//! was written, with no anomaly; the CRC chain must end where the writer's
//! did; and the reader must stop cleanly at the end.
#![no_main]

use etcd_forensics::wal::SegmentReader;
use libfuzzer_sys::fuzz_target;

mod walgen;
use walgen::Records;

fuzz_target!(|input: Records| {
    let prev_crc = input.prev_crc;
    let seg = walgen::build(input);
    let (bytes, want, end_crc) = (seg.bytes, seg.want, seg.end_crc);
    assert_eq!(bytes.len() % 8, 0, "records are 8-byte aligned");
    let mut preallocated = bytes.clone();
    preallocated.resize(bytes.len() + 4096, 0);

    for (data, last) in [(&bytes, true), (&bytes, false), (&preallocated, true)] {
        let mut r = SegmentReader::new(data, last, prev_crc);
        for (n, w) in want.iter().enumerate() {
            let rec = match r.next_record() {
                Ok(Some(rec)) => rec,
                other => panic!("record {n}: {other:?}"),
            };
            walgen::check(n, &rec, w);
        }
        match r.next_record() {
            Ok(None) => {}
            other => panic!("after the last record: {other:?}"),
        }
        assert_eq!(r.crc(), end_crc, "CRC chain");
        assert_eq!(r.offset(), bytes.len() as u64, "reader stops at the end of the records");
    }
});
