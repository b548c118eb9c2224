//! The WAL record writer against our reader: an arbitrary sequence of
//! records (CRC, metadata, entries, hard states, snapshots) is encoded with
//! an arbitrary starting CRC, then read back with the segment reader, as a
//! bare segment and as a preallocated one (zeros after the records). Every
//! record must come back with its type and payload, decoded equal to what
//! was written, with no anomaly; the CRC chain must end where the writer's
//! did; and the reader must stop cleanly at the end.
#![no_main]

use arbitrary::Arbitrary;
use etcd_forensics::proto::etcdserverpb::Metadata;
use etcd_forensics::proto::raftpb::{ConfState, Entry, HardState};
use etcd_forensics::proto::walpb;
use etcd_forensics::wal::SegmentReader;
use etcd_forensics::wal::write::Encoder;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone)]
enum Op {
    Crc,
    Metadata { node_id: u64, cluster_id: u64 },
    Entry { kind: u8, term: u64, index: u64, data: Option<Vec<u8>> },
    State { term: u64, vote: u64, commit: u64 },
    Snapshot { index: u64, term: u64, voters: Option<Vec<u64>> },
}

#[derive(Arbitrary, Debug)]
struct Input {
    prev_crc: u32,
    ops: Vec<Op>,
    /// Grow one entry past a page sometimes.
    grow: u8,
}

/// What a record must decode to.
enum Want {
    Crc(u32),
    Metadata(Metadata),
    Entry(Entry),
    State(HardState),
    Snapshot(walpb::Snapshot),
}

fuzz_target!(|input: Input| {
    let mut enc = Encoder::new(input.prev_crc);
    let mut want = Vec::new();
    for (i, op) in input.ops.into_iter().take(200).enumerate() {
        match op {
            Op::Crc => {
                want.push(Want::Crc(enc.crc()));
                enc.crc_record();
            }
            Op::Metadata { node_id, cluster_id } => {
                let md = Metadata { node_id, cluster_id };
                enc.metadata(&md);
                want.push(Want::Metadata(md));
            }
            Op::Entry { kind, term, index, mut data } => {
                if i == 0 && input.grow > 200 {
                    if let Some(d) = &mut data {
                        *d = d.repeat(usize::from(input.grow - 200) * 100);
                    }
                }
                let e = Entry { r#type: i32::from(kind % 3), term, index, data };
                enc.entry(&e);
                want.push(Want::Entry(e));
            }
            Op::State { term, vote, commit } => {
                let hs = HardState { term, vote, commit };
                enc.state(&hs);
                want.push(Want::State(hs));
            }
            Op::Snapshot { index, term, voters } => {
                let conf_state = voters.map(|voters| ConfState { voters, ..Default::default() });
                let s = walpb::Snapshot { index, term, conf_state };
                enc.snapshot(&s);
                want.push(Want::Snapshot(s));
            }
        }
    }
    let end_crc = enc.crc();
    let bytes = enc.into_bytes();
    assert_eq!(bytes.len() % 8, 0, "records are 8-byte aligned");
    let mut preallocated = bytes.clone();
    preallocated.resize(bytes.len() + 4096, 0);

    for (data, last) in [(&bytes, true), (&bytes, false), (&preallocated, true)] {
        let mut r = SegmentReader::new(data, last, input.prev_crc);
        for (n, w) in want.iter().enumerate() {
            let rec = match r.next_record() {
                Ok(Some(rec)) => rec,
                other => panic!("record {n}: {other:?}"),
            };
            assert!(rec.anomalies().is_empty(), "record {n}: {:?}", rec.anomalies());
            match w {
                Want::Crc(c) => assert_eq!(rec.crc, *c, "record {n}: CRC record's value"),
                Want::Metadata(m) => assert_eq!(&rec.metadata().unwrap(), m),
                Want::Entry(e) => assert_eq!(&rec.entry().unwrap().to_entry(), e),
                Want::State(h) => assert_eq!(&rec.hard_state().unwrap(), h),
                Want::Snapshot(s) => assert_eq!(&rec.snapshot().unwrap(), s),
            }
        }
        match r.next_record() {
            Ok(None) => {}
            other => panic!("after the last record: {other:?}"),
        }
        assert_eq!(r.crc(), end_crc, "CRC chain");
        assert_eq!(r.offset(), bytes.len() as u64, "reader stops at the end of the records");
    }
});
