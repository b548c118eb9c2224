#![allow(dead_code)] // each target that includes this module uses part of it
//! Valid WAL segments from `arbitrary` input, shared by `wal_write` and
//! `wal_mutate`: a list of records (CRC, metadata, entries, hard states,
//! snapshots) encoded with our writer, with what each must decode to and
//! where each ends.

use arbitrary::Arbitrary;
use etcd_forensics::proto::etcdserverpb::Metadata;
use etcd_forensics::proto::raftpb::{ConfState, Entry, HardState};
use etcd_forensics::proto::walpb;
use etcd_forensics::wal::Record;
use etcd_forensics::wal::write::Encoder;

#[derive(Arbitrary, Debug, Clone)]
pub enum Op {
    Crc,
    Metadata { node_id: u64, cluster_id: u64 },
    Entry { kind: u8, term: u64, index: u64, data: Option<Vec<u8>> },
    State { term: u64, vote: u64, commit: u64 },
    Snapshot { index: u64, term: u64, voters: Option<Vec<u64>> },
}

#[derive(Arbitrary, Debug)]
pub struct Records {
    pub prev_crc: u32,
    pub ops: Vec<Op>,
    /// Grow one entry past a page sometimes.
    pub grow: u8,
}

/// What a record must decode to.
#[derive(Debug)]
pub enum Want {
    Crc(u32),
    Metadata(Metadata),
    Entry(Entry),
    State(HardState),
    Snapshot(walpb::Snapshot),
}

pub struct Segment {
    pub bytes: Vec<u8>,
    /// One per record, in order.
    pub want: Vec<Want>,
    /// File offset just past each record (its padding included).
    pub ends: Vec<u64>,
    /// The running CRC after the last record.
    pub end_crc: u32,
}

pub fn build(input: Records) -> Segment {
    let mut enc = Encoder::new(input.prev_crc);
    let mut want = Vec::new();
    let mut ends = Vec::new();
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
        ends.push(enc.bytes().len() as u64);
    }
    let end_crc = enc.crc();
    Segment { bytes: enc.into_bytes(), want, ends, end_crc }
}

/// Record `n` came back clean and decodes to what was written.
pub fn check(n: usize, rec: &Record<'_>, w: &Want) {
    assert!(rec.anomalies().is_empty(), "record {n}: {:?}", rec.anomalies());
    match w {
        Want::Crc(c) => assert_eq!(rec.crc, *c, "record {n}: CRC record's value"),
        Want::Metadata(m) => assert_eq!(&rec.metadata().unwrap(), m, "record {n}"),
        Want::Entry(e) => assert_eq!(&rec.entry().unwrap().to_entry(), e, "record {n}"),
        Want::State(h) => assert_eq!(&rec.hard_state().unwrap(), h, "record {n}"),
        Want::Snapshot(s) => assert_eq!(&rec.snapshot().unwrap(), s, "record {n}"),
    }
}
