//! WAL reader tests on crafted bytes and the Appendix A vector.

use std::path::Path;

use prost::Message;

use super::layout::{encode_len_word, padding_for, record_type as rt};
use super::*;
use crate::error::ErrorKind;
use crate::proto::etcdserverpb::Metadata;
use crate::proto::raftpb::{ConfState, Entry, HardState};
use crate::proto::walpb;
use crate::testvec::{CLUSTER_ID, NODE_ID, WAL_3423_RECORDS, hex, wal_3423};

/// A test-only encoder that writes segments the way etcd does.
struct Seg {
    buf: Vec<u8>,
    crc: u32,
}

impl Seg {
    /// A segment starting with a CRC record carrying `prev_crc`.
    fn new(prev_crc: u32) -> Seg {
        let mut s = Seg { buf: Vec::new(), crc: prev_crc };
        s.raw(rt::CRC, prev_crc, None);
        s
    }
    /// Append a frame with explicit type/crc/data; returns its offset.
    fn raw(&mut self, t: i64, crc: u32, data: Option<&[u8]>) -> usize {
        let rec = walpb::Record { r#type: t, crc, data: data.map(<[u8]>::to_vec) }.encode_to_vec();
        let at = self.buf.len();
        self.buf.extend(encode_len_word(rec.len() as u64).to_le_bytes());
        self.buf.extend(&rec);
        self.buf.extend(vec![0u8; padding_for(rec.len() as u64) as usize]);
        at
    }
    fn rec(&mut self, t: i64, data: &[u8]) -> usize {
        self.crc = crc32c::crc32c_append(self.crc, data);
        self.raw(t, self.crc, Some(data))
    }
    fn metadata(&mut self, node: u64, cluster: u64) -> usize {
        self.rec(rt::METADATA, &Metadata { node_id: node, cluster_id: cluster }.encode_to_vec())
    }
    fn entry(&mut self, term: u64, index: u64, data: &[u8]) -> usize {
        let e = Entry { r#type: 0, term, index, data: Some(data.to_vec()) };
        self.rec(rt::ENTRY, &e.encode_to_vec())
    }
    fn state(&mut self, term: u64, commit: u64) -> usize {
        self.rec(rt::STATE, &HardState { term, vote: 1, commit }.encode_to_vec())
    }
    fn snapshot(&mut self, index: u64, term: u64) -> usize {
        let s = walpb::Snapshot { index, term, conf_state: Some(ConfState { voters: vec![1], ..Default::default() }) };
        self.rec(rt::SNAPSHOT, &s.encode_to_vec())
    }
    /// The bytes, zero-extended to `len` (preallocation) if longer.
    fn bytes(&self, len: usize) -> Vec<u8> {
        let mut v = self.buf.clone();
        if v.len() < len {
            v.resize(len, 0);
        }
        v
    }
}

/// Segment 0 as `wal.Create` writes it, plus entries 1..=n and a STATE.
fn first_segment(n: u64) -> Seg {
    let mut s = Seg::new(0);
    s.metadata(NODE_ID, CLUSTER_ID);
    s.rec(rt::SNAPSHOT, &walpb::Snapshot::default().encode_to_vec());
    for i in 1..=n {
        s.entry(1, i, format!("entry-{i}").as_bytes());
    }
    s.state(1, n);
    s
}

fn write_dir(segs: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, bytes) in segs {
        std::fs::write(d.path().join(name), bytes).unwrap();
    }
    d
}

const SEG0: &str = "0000000000000000-0000000000000000.wal";
const SEG1: &str = "0000000000000001-0000000000000004.wal";

fn scan(d: &Path) -> WalSummary {
    WalDir::open(d).unwrap().scan().unwrap()
}

fn records(bytes: &[u8], is_last: bool) -> (Vec<Record<'_>>, Option<WalError>, SegmentReader<'_>) {
    let mut rd = SegmentReader::new(bytes, is_last, 0);
    let mut v = Vec::new();
    loop {
        match rd.next_record() {
            Ok(Some(r)) => v.push(r),
            Ok(None) => return (v, None, rd),
            Err(e) => return (v, Some(e), rd),
        }
    }
}

#[test]
fn appendix_a_segment_decodes_with_its_crcs() {
    let wal = wal_3423(4096);
    let (recs, err, rd) = records(&wal, true);
    assert!(err.is_none(), "{err:?}");
    let got: Vec<(u64, i64, u32)> = recs.iter().map(|r| (r.offset, r.rec_type, r.crc)).collect();
    assert_eq!(got, WAL_3423_RECORDS);
    assert_eq!(rd.end(), Some(SegmentEnd::ZeroWord { offset: 0x100, nonzero_after: None }));
    assert_eq!(rd.crc(), 0x148a45ea);
    // crc32c_append has Go's crc32.Update semantics: the chain equals the
    // CRC32C of all payloads concatenated.
    let all: Vec<u8> = recs.iter().flat_map(|r| r.data().to_vec()).collect();
    assert_eq!(crc32c::crc32c(&all), 0x148a45ea);
    for r in &recs {
        assert!(r.anomalies().is_empty());
    }
    let md = recs[1].metadata().unwrap();
    assert_eq!((md.node_id, md.cluster_id), (NODE_ID, CLUSTER_ID));
    let e = recs[3].entry().unwrap();
    assert_eq!((e.entry_type, e.term, e.index), (1, 1, 1));
    // frame word, Record keys (type, crc, data len), Entry keys (type, term, index, data len)
    assert_eq!(e.data_offset, 0x50 + 8 + 10 + 8);
    assert_eq!(e.request().label(), "confchange:AddNode");
    assert_eq!(recs[4].hard_state().unwrap(), HardState { term: 1, vote: NODE_ID, commit: 1 });
    assert_eq!(recs[5].snapshot().unwrap(), walpb::Snapshot { index: 1, term: 1, conf_state: None });
}

#[test]
fn appendix_a_v35_last_record() {
    let mut wal = hex(crate::testvec::WAL_3423);
    wal.truncate(0xe8);
    wal.extend(hex(crate::testvec::WAL_351_LAST));
    assert_eq!(wal.len(), 272);
    wal.resize(1024, 0);
    let (recs, err, _) = records(&wal, true);
    assert!(err.is_none(), "{err:?}");
    let last = recs.last().unwrap();
    assert_eq!(last.crc, 0x8fe6e40b);
    assert_eq!(last.snapshot().unwrap().conf_state.unwrap().voters, [NODE_ID]);
}

#[test]
fn appendix_a_directory_summary() {
    let d = write_dir(&[(SEG0, wal_3423(8192)), ("0.tmp", vec![0; 64])]);
    let s = scan(d.path());
    assert!(s.fault.is_none(), "{:?}", s.fault);
    let md = s.metadata.unwrap();
    assert_eq!((md.node_id, md.cluster_id, md.pos.offset), (NODE_ID, CLUSTER_ID, 0x10));
    let hs = s.hard_state.unwrap();
    assert_eq!((hs.term, hs.vote, hs.commit), (1, NODE_ID, 1));
    let snaps: Vec<(u64, u64)> = s.snapshots.iter().map(|x| (x.index, x.term)).collect();
    assert_eq!(snaps, [(0, 0), (1, 1)]);
    assert_eq!(s.valid_snapshots().count(), 2);
    assert_eq!((s.first_index, s.last_index, s.last_term, s.entry_count), (Some(1), Some(1), Some(1), 1));
    assert_eq!(s.record_count, 6);
    assert_eq!(s.segments[0].valid_end, 0x100);
    assert!(s.anomalies.is_empty(), "{:?}", s.anomalies);
    assert!(s.etcd_boots());
    assert_eq!(s.commit_out_of_range(0), None);
    // ReadAll from the {1,1} snapshot: fine; from {1,2}: mismatch
    let w = WalDir::open(d.path()).unwrap();
    let ok = w.scan_with(ScanStart::Snapshot { index: 1, term: 1 }, |_, _| {}).unwrap();
    assert!(ok.fault.is_none());
    assert_eq!(ok.first_index, None, "entry 1 is at the snapshot index");
    let bad = w.scan_with(ScanStart::Snapshot { index: 1, term: 2 }, |_, _| {}).unwrap();
    assert_eq!(bad.fault.unwrap().fault, Fault::SnapshotMismatch);
    let none = w.scan_with(ScanStart::Snapshot { index: 7, term: 1 }, |_, _| {}).unwrap();
    assert_eq!(none.fault.unwrap().fault, Fault::SnapshotNotFound);
    // JSON shape is serializable
    let j = serde_json::to_value(&s).unwrap();
    assert_eq!(j["metadata"]["nodeId"], NODE_ID);
}

#[test]
fn visit_streams_every_record() {
    let s = first_segment(50);
    let d = write_dir(&[(SEG0, s.bytes(16384))]);
    let mut entries = Vec::new();
    let mut n = 0;
    let sum = WalDir::open(d.path())
        .unwrap()
        .scan_with(ScanStart::All, |_, r| {
            n += 1;
            if r.kind() == RecordType::Entry {
                entries.push(r.entry().unwrap().index);
            }
        })
        .unwrap();
    assert_eq!(n, sum.record_count);
    assert_eq!(entries, (1..=50).collect::<Vec<_>>());
    assert_eq!((sum.first_index, sum.last_index), (Some(1), Some(50)));
}

#[test]
fn truncated_record_is_torn_tail_on_last_segment() {
    let s = first_segment(3);
    let off = s.buf.len();
    let mut s2 = Seg { buf: s.buf.clone(), crc: s.crc };
    s2.entry(1, 4, b"lost");
    let bytes = &s2.buf[..s2.buf.len() - 5]; // cut inside the last record
    let (_, err, rd) = records(bytes, true);
    let err = err.unwrap();
    assert_eq!((err.fault, err.outcome, err.record_offset), (Fault::TornTail, EtcdOutcome::Repairs, off as u64));
    assert!(matches!(err.error.kind(), ErrorKind::Truncated { .. }));
    assert_eq!(err.error.location().offset, Some(off as u64 + 8));
    assert_eq!(rd.offset(), off as u64);
    // not last: fatal
    let (_, err, _) = records(bytes, false);
    assert_eq!(err.unwrap().fault, Fault::TruncatedSegment);

    let d = write_dir(&[(SEG0, bytes.to_vec())]);
    let sum = scan(d.path());
    let rp = sum.repair.as_ref().unwrap();
    assert_eq!((rp.kind, rp.offset), (RepairKind::Truncate, off as u64));
    assert!(rp.backup.as_ref().unwrap().to_string_lossy().ends_with(".wal.broken"));
    assert_eq!(rp.dropped_total, 1);
    let dr = rp.dropped[0];
    assert!(!dr.complete);
    assert_eq!((dr.fields.rec_type, dr.fields.index, dr.fields.term), (Some(rt::ENTRY), Some(4), Some(1)));
    assert_eq!(sum.last_index, Some(3));
    assert!(sum.etcd_boots());
}

#[test]
fn partial_length_word_is_unexpected_eof() {
    let s = first_segment(1);
    let mut b = s.buf.clone();
    b.extend([1, 2, 3]);
    let (_, err, _) = records(&b, true);
    let err = err.unwrap();
    assert_eq!(err.fault, Fault::TornTail);
    assert_eq!(err.error.kind(), &ErrorKind::Truncated { need: 8, have: 3 });
}

#[test]
fn bad_crc_is_crc_mismatch_at_the_record() {
    let mut s = first_segment(2);
    let at = s.entry(1, 3, b"payload-with-a-bit-flip");
    s.state(1, 3);
    let mut b = s.bytes(4096);
    let flip = at + 8 + 20; // inside the entry data
    b[flip] ^= 0x10;
    let (recs, err, _) = records(&b, true);
    let err = err.unwrap();
    assert_eq!((err.fault, err.outcome, err.record_offset), (Fault::CrcMismatch, EtcdOutcome::Fails, at as u64));
    assert!(matches!(err.error.kind(), ErrorKind::BadChecksum { .. }));
    assert_eq!(recs.last().unwrap().entry().unwrap().index, 2);
    let d = write_dir(&[(SEG0, b)]);
    let sum = scan(d.path());
    let f = sum.fault.as_ref().unwrap();
    assert_eq!(f.fault, Fault::CrcMismatch);
    assert_eq!(f.error.location().file.as_deref(), Some(d.path().join(SEG0).as_path()));
    assert!(sum.repair.is_none());
    assert!(!sum.etcd_boots());
    assert!(f.to_string().contains("walpb: crc mismatch"), "{f}");
}

#[test]
fn torn_sector_is_repairable_only_on_last_segment() {
    let mut s = first_segment(1);
    let big = vec![0xabu8; 2000];
    let at = s.entry(1, 2, &big);
    s.entry(1, 3, b"after");
    let mut b = s.bytes(8192);
    // zero one whole 512-byte sector inside the big record
    let sector = (at / 512 + 2) * 512;
    b[sector..sector + 512].fill(0);
    let (_, err, _) = records(&b, true);
    let err = err.unwrap();
    assert_eq!((err.fault, err.record_offset), (Fault::TornTail, at as u64));
    assert!(err.note.as_deref().unwrap().contains("torn"));
    let (_, err, _) = records(&b, false);
    assert_eq!(err.unwrap().fault, Fault::CrcMismatch);
    // the repair point lists the torn entry and the complete one after it
    let d = write_dir(&[(SEG0, b)]);
    let sum = scan(d.path());
    let rp = sum.repair.unwrap();
    assert_eq!(rp.offset, at as u64);
    let idx: Vec<_> = rp.dropped_entries().map(|d| (d.fields.index, d.complete, d.crc_ok)).collect();
    assert_eq!(idx, [(Some(2), true, Some(false)), (Some(3), true, Some(true))]);
}

#[test]
fn a_sector_of_zeros_that_is_not_torn_is_a_crc_mismatch() {
    // bit flip (non-zero) in the last record of the last segment: not torn
    let mut s = first_segment(1);
    let at = s.entry(1, 2, b"x");
    let mut b = s.bytes(1024);
    b[at + 8 + 3] ^= 1;
    let (_, err, _) = records(&b, true);
    let e = err.unwrap();
    assert!(matches!(e.fault, Fault::CrcMismatch | Fault::ProtoError), "{e}");
    assert_eq!(e.outcome, EtcdOutcome::Fails);
}

#[test]
fn zero_run_mid_log_drops_later_records() {
    let mut s = first_segment(2);
    let at = s.entry(1, 3, b"three");
    s.entry(1, 4, b"four");
    s.state(1, 4);
    let mut b = s.bytes(4096);
    b[at..at + 8].fill(0); // zero the length word of entry 3
    let (recs, err, rd) = records(&b, true);
    assert!(err.is_none());
    assert_eq!(recs.len(), 6);
    let nz = rd.end().unwrap();
    assert!(matches!(nz, SegmentEnd::ZeroWord { offset, nonzero_after: Some(_) } if offset == at as u64));
    let d = write_dir(&[(SEG0, b.clone())]);
    let sum = scan(d.path());
    let f = sum.fault.as_ref().unwrap();
    assert_eq!((f.fault, f.outcome, f.record_offset), (Fault::ZeroRunMidLog, EtcdOutcome::DropsSilently, at as u64));
    let rp = sum.repair.as_ref().unwrap();
    assert_eq!((rp.kind, rp.offset, rp.backup.as_ref()), (RepairKind::ZeroToEnd, at as u64, None));
    let dropped: Vec<_> = rp.dropped.iter().map(|d| (d.fields.rec_type, d.fields.index)).collect();
    // entry 3's frame is unreadable (its length word is gone); entry 4 and
    // the STATE record are found by resync
    assert_eq!(dropped, [(Some(rt::ENTRY), Some(4)), (Some(rt::STATE), None)]);
    assert_eq!(rp.dropped[0].crc_ok, None);
    assert_eq!(rp.dropped[1].crc_ok, Some(true));
    assert!(sum.etcd_boots());

    // the same in a segment that is not the last: fatal
    let mut s1 = Seg::new(s.crc);
    s1.metadata(NODE_ID, CLUSTER_ID);
    let d = write_dir(&[(SEG0, b), (SEG1, s1.bytes(1024))]);
    let sum = scan(d.path());
    let f = sum.fault.unwrap();
    assert_eq!((f.fault, f.outcome), (Fault::ZeroRunMidLog, EtcdOutcome::Fails));
    assert!(sum.repair.is_none());
}

#[test]
fn bad_padding_is_an_anomaly_not_an_error() {
    let mut s = first_segment(0);
    let at = s.entry(1, 1, b"abc"); // N is not a multiple of 8
    let mut b = s.bytes(1024);
    let word = u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let (n, p) = layout::decode_len_word(word);
    assert!(p > 1);
    // non-zero padding byte
    b[at + 8 + n as usize] = 0xee;
    let (recs, err, _) = records(&b, true);
    assert!(err.is_none());
    let r = recs.iter().find(|r| r.offset == at as u64).unwrap();
    assert_eq!(r.anomalies(), [RecordAnomaly::PaddingNotZero]);
    // a length word whose P disagrees with N, and unused bits set
    let mut b2 = s.bytes(1024);
    let bad = (word & !(0x7f << 56)) | (0xf8 | (p - 1)) << 56;
    b2[at..at + 8].copy_from_slice(&bad.to_le_bytes());
    let mut rd = SegmentReader::new(&b2, true, 0);
    let r = rd.find(|r| r.as_ref().map(|r| r.offset == at as u64).unwrap_or(true)).unwrap().unwrap();
    let an = r.anomalies();
    assert!(an.contains(&RecordAnomaly::PaddingMismatch { expected: p, found: p - 1 }), "{an:?}");
    assert!(an.contains(&RecordAnomaly::UnusedLengthBits), "{an:?}");
    // the scan reports them with their offset
    let d = write_dir(&[(SEG0, b)]);
    let sum = scan(d.path());
    assert!(sum.fault.is_none());
    assert_eq!(sum.anomalies.len(), 1);
    assert_eq!(sum.anomalies[0].code, "wal.padding_not_zero");
    assert_eq!(sum.anomalies[0].location.offset, Some(at as u64));
}

#[test]
fn crc_chain_break_across_segments() {
    let s0 = first_segment(3);
    let mut s1 = Seg::new(s0.crc ^ 1); // wrong carried CRC
    s1.metadata(NODE_ID, CLUSTER_ID);
    s1.entry(1, 4, b"four");
    let d = write_dir(&[(SEG0, s0.bytes(0)), (SEG1, s1.bytes(2048))]);
    let sum = scan(d.path());
    let f = sum.fault.unwrap();
    assert_eq!((f.fault, f.outcome, f.record_offset), (Fault::ChainMismatch, EtcdOutcome::Fails, 0));
    assert_eq!(f.error.location().file.as_deref(), Some(d.path().join(SEG1).as_path()));
    assert_eq!(f.error.kind(), &ErrorKind::BadChecksum { expected: u64::from(s0.crc ^ 1), actual: u64::from(s0.crc) });

    // the right CRC: fine, and entries continue across the boundary
    let mut s1 = Seg::new(s0.crc);
    s1.metadata(NODE_ID, CLUSTER_ID);
    s1.state(1, 3);
    s1.entry(1, 4, b"four");
    let d = write_dir(&[(SEG0, s0.bytes(0)), (SEG1, s1.bytes(2048))]);
    let sum = scan(d.path());
    assert!(sum.fault.is_none(), "{:?}", sum.fault);
    assert_eq!((sum.last_index, sum.segments.len(), sum.metadata.unwrap().copies), (Some(4), 2, 2));
    assert_eq!(sum.segments[0].end, Some(SegmentEnd::Eof { offset: s0.buf.len() as u64 }));
    // reading from segment 1 alone adopts its CRC record (running CRC 0)
    let mut rd = SegmentReader::new(&s1.buf, true, 0);
    assert!(rd.by_ref().all(|r| r.is_ok()));
    assert_eq!(rd.crc(), s1.crc);
}

#[test]
fn huge_length_word_is_max_size_exceeded() {
    let mut s = first_segment(1);
    let at = s.buf.len();
    s.buf.extend((layout::LEN_MASK).to_le_bytes()); // N = 2^56 - 1
    let b = s.bytes(4096);
    let (_, err, _) = records(&b, true);
    let e = err.unwrap();
    assert_eq!((e.fault, e.outcome, e.record_offset), (Fault::MaxSizeExceeded, EtcdOutcome::Repairs, at as u64));
    assert!(e.note.as_deref().unwrap().contains("not repairable"), "{:?}", e.note);
    let (_, err, _) = records(&b, false);
    assert_eq!(err.unwrap().outcome, EtcdOutcome::Fails);
    // a length just past the end, small: 3.4 would see unexpected EOF
    let mut s = first_segment(1);
    s.buf.extend(4000u64.to_le_bytes());
    let b = s.bytes(2048);
    let (_, err, _) = records(&b, true);
    let e = err.unwrap();
    assert_eq!(e.fault, Fault::MaxSizeExceeded);
    assert!(e.note.as_deref().unwrap().contains("unexpected EOF instead"));
}

#[test]
fn unknown_type_and_payload_errors() {
    let mut s = first_segment(1);
    let at = s.rec(9, b"what");
    let d = write_dir(&[(SEG0, s.bytes(1024))]);
    let f = scan(d.path()).fault.unwrap();
    assert_eq!((f.fault, f.record_offset), (Fault::UnexpectedType, at as u64));

    // an ENTRY whose CRC is right but whose payload is not a raftpb.Entry
    let mut s = first_segment(1);
    let at = s.rec(rt::ENTRY, &[0x0f, 0xff]);
    let d = write_dir(&[(SEG0, s.bytes(1024))]);
    let f = scan(d.path()).fault.unwrap();
    assert_eq!((f.fault, f.outcome, f.record_offset), (Fault::ProtoError, EtcdOutcome::Panics, at as u64));

    // a frame whose walpb.Record does not decode, in a segment that is not last
    let mut s = first_segment(1);
    let at = s.buf.len();
    s.buf.extend(encode_len_word(8).to_le_bytes());
    s.buf.extend([0x08, 0x02, 0x10, 0x01, 0x1a, 0x7f, 0x01, 0x02]); // data length 127 > 3
    let (_, err, _) = records(&s.buf, false);
    let e = err.unwrap();
    assert_eq!((e.fault, e.outcome, e.record_offset), (Fault::ProtoError, EtcdOutcome::Fails, at as u64));
}

#[test]
fn conflicting_metadata_and_index_gap() {
    let s0 = first_segment(3);
    let mut s1 = Seg::new(s0.crc);
    let at = s1.metadata(NODE_ID, CLUSTER_ID + 1);
    let d = write_dir(&[(SEG0, s0.bytes(0)), (SEG1, s1.bytes(1024))]);
    let f = scan(d.path()).fault.unwrap();
    assert_eq!((f.fault, f.record_offset), (Fault::ConflictingMetadata, at as u64));
    assert!(f.error.to_string().contains("cluster"), "{f}");

    let mut s = first_segment(3);
    let at = s.entry(1, 5, b"gap");
    let d = write_dir(&[(SEG0, s.bytes(1024))]);
    let f = scan(d.path()).fault.unwrap();
    assert_eq!((f.fault, f.record_offset), (Fault::IndexGap, at as u64));

    // first entry of segment 0 must be index 1
    let mut s = Seg::new(0);
    s.metadata(1, 2);
    s.entry(1, 2, b"x");
    let d = write_dir(&[(SEG0, s.bytes(512))]);
    assert_eq!(scan(d.path()).fault.unwrap().fault, Fault::IndexGap);
}

#[test]
fn wal_seeded_with_a_snapshot_starts_after_it() {
    // `etcdctl backup`: wal.Create, then SaveSnapshot{5, 2}, then entries 6..
    let mut s = Seg::new(0);
    s.metadata(NODE_ID, CLUSTER_ID);
    s.rec(rt::SNAPSHOT, &walpb::Snapshot::default().encode_to_vec());
    s.snapshot(5, 2);
    s.entry(2, 6, b"six");
    s.entry(2, 7, b"seven");
    s.state(2, 7);
    let d = write_dir(&[(SEG0, s.bytes(1024))]);
    let sum = scan(d.path());
    assert!(sum.fault.is_none(), "{:?}", sum.fault);
    assert_eq!((sum.first_index, sum.last_index), (Some(6), Some(7)));
    // but an entry 8 right after {0,0} with nothing between is a gap
    let mut s = first_segment(0);
    s.entry(1, 8, b"x");
    let d = write_dir(&[(SEG0, s.bytes(1024))]);
    assert_eq!(scan(d.path()).fault.unwrap().fault, Fault::IndexGap);
}

#[test]
fn overwrites_are_not_gaps() {
    let mut s = first_segment(3);
    s.entry(2, 2, b"new-2");
    s.entry(2, 3, b"new-3");
    s.entry(2, 4, b"new-4");
    let d = write_dir(&[(SEG0, s.bytes(2048))]);
    let sum = scan(d.path());
    assert!(sum.fault.is_none());
    assert_eq!((sum.first_index, sum.last_index, sum.last_term), (Some(1), Some(4), Some(2)));
    assert_eq!((sum.entry_count, sum.overwrites), (6, 1));
    // HardState commit 3 <= last index 4
    assert_eq!(sum.commit_out_of_range(0), None);
}

#[test]
fn purged_segments_and_selection() {
    // only segments 5 and 6 left; entries start at 100
    let mut s5 = Seg::new(0x1234_5678);
    s5.metadata(NODE_ID, CLUSTER_ID);
    s5.state(3, 99);
    s5.snapshot(99, 3);
    for i in 100..=102 {
        s5.entry(3, i, b"v");
    }
    let mut s6 = Seg::new(s5.crc);
    s6.metadata(NODE_ID, CLUSTER_ID);
    s6.state(3, 102);
    s6.entry(3, 103, b"w");
    let n5 = "0000000000000005-0000000000000060.wal";
    let n6 = "0000000000000006-0000000000000067.wal";
    let d = write_dir(&[(n5, s5.bytes(0)), (n6, s6.bytes(1024))]);
    let w = WalDir::open(d.path()).unwrap();
    let sum = w.scan().unwrap();
    assert!(sum.fault.is_none(), "{:?}", sum.fault);
    assert_eq!((sum.first_index, sum.last_index), (Some(100), Some(103)));
    // ReadAll from the snapshot {99, 3}: selects segment 5
    assert_eq!(w.select(ScanStart::Snapshot { index: 99, term: 3 }).0, 0..2);
    assert_eq!(w.select(ScanStart::Snapshot { index: 103, term: 3 }).0, 1..2);
    let s = w.scan_with(ScanStart::Snapshot { index: 99, term: 3 }, |_, _| {}).unwrap();
    assert!(s.fault.is_none(), "{:?}", s.fault);
    // from {0, 0}: no segment covers index 0
    let s = w.scan_with(ScanStart::Snapshot { index: 0, term: 0 }, |_, _| {}).unwrap();
    assert_eq!(s.fault.unwrap().fault, Fault::MissingSegment);
    // a commit beyond the last entry
    let mut s7 = Seg::new(s6.crc);
    s7.metadata(NODE_ID, CLUSTER_ID);
    s7.state(3, 200);
    let d2 =
        write_dir(&[(n5, s5.bytes(0)), (n6, s6.bytes(0)), ("0000000000000007-0000000000000068.wal", s7.bytes(64))]);
    let sum = WalDir::open(d2.path()).unwrap().scan().unwrap();
    assert_eq!(sum.commit_out_of_range(99), Some((200, 103)));
}

#[test]
fn seq_gap_and_empty_dir() {
    let s0 = first_segment(3);
    let s2 = Seg::new(s0.crc);
    let d = write_dir(&[(SEG0, s0.bytes(0)), ("0000000000000002-0000000000000004.wal", s2.bytes(64))]);
    let sum = scan(d.path());
    let f = sum.fault.unwrap();
    assert_eq!(f.fault, Fault::SeqGap);
    assert_eq!(sum.segments.len(), 1, "the segments before the gap are read");
    assert_eq!(sum.last_index, Some(3));

    let d = write_dir(&[("0.tmp", vec![0; 8]), ("x.wal.broken", vec![1])]);
    let sum = scan(d.path());
    assert_eq!(sum.fault.unwrap().fault, Fault::MissingSegment);
    assert_eq!(sum.anomalies.len(), 1);
    assert_eq!(sum.anomalies[0].code, "wal.broken_file");
}

#[test]
fn torn_test_cuts_at_file_sectors() {
    assert!(!is_torn_helper(&[1; 600], 0));
    let mut b = vec![1u8; 1100];
    b[512 - 100..1024 - 100].fill(0); // exactly sector 1 of the file when body starts at 100
    assert!(is_torn_helper(&b, 100));
    assert!(!is_torn_helper(&b, 101));
    // a chunk of only padding zeros after a sector boundary counts as torn
    let mut b = vec![1u8; 16];
    b[12..].fill(0);
    assert!(is_torn_helper(&b, 512 - 12));
    assert!(!is_torn_helper(&[], 0));
}

fn is_torn_helper(b: &[u8], off: u64) -> bool {
    record::is_torn(b, off)
}

#[test]
fn first_nonzero_finds_bytes_anywhere() {
    let mut b = vec![0u8; 1003];
    assert_eq!(record::first_nonzero(&b), None);
    for i in [0, 7, 8, 500, 1001, 1002] {
        b.fill(0);
        b[i] = 1;
        assert_eq!(record::first_nonzero(&b), Some(i));
    }
}

/// Tiny deterministic PRNG for the totality tests.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn drain_everything(b: &[u8]) {
    for last in [true, false] {
        for crc in [0u32, 0x148a45ea] {
            let mut rd = SegmentReader::new(b, last, crc);
            let mut n = 0;
            while let Ok(Some(r)) = rd.next_record() {
                let _ = (r.entry(), r.hard_state(), r.snapshot(), r.metadata(), r.anomalies(), r.end());
                if let Ok(e) = r.entry() {
                    let _ = e.request();
                }
                n += 1;
                assert!(n < 100_000);
            }
            let _ = (rd.end(), rd.offset());
        }
    }
    for from in [0u64, 8, 0x50, 0xe8, b.len() as u64, u64::MAX] {
        let _ = repair::salvage(b, from, Some(0));
    }
    let _ = record::peek_record(b);
}

/// Flip every byte of the Appendix A segment (several ways): no panic, and
/// every flip inside the records is noticed.
#[test]
fn reader_is_total_on_bit_flips() {
    let wal = wal_3423(1024);
    for i in 0..wal.len() {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut b = wal.clone();
            b[i] ^= mask;
            drain_everything(&b);
            if i < 0x100 {
                // a corrupted record never goes unnoticed: either an error,
                // an anomaly, or fewer/different records
                let (recs, err, _) = records(&b, true);
                let same = err.is_none()
                    && recs.len() == 6
                    && recs.iter().all(|r| r.anomalies().is_empty())
                    && recs
                        .iter()
                        .zip(WAL_3423_RECORDS)
                        .all(|(r, (o, t, c))| (r.offset, r.rec_type, r.crc) == (o, t, c));
                let padding_byte =
                    [0x0c..0x10, 0x37..0x38, 0x4e..0x50, 0xc6..0xc8, 0xfe..0x100].iter().any(|r| r.contains(&i));
                let unused_len_bits = [7usize, 0x17, 0x3f, 0x57, 0xcf, 0xef].contains(&i);
                if !padding_byte && !unused_len_bits {
                    assert!(!same, "flip {mask:#x} at {i:#x} went unnoticed");
                }
            }
        }
    }
    // truncations at every length
    for n in 0..0x110 {
        drain_everything(&wal[..n]);
    }
}

#[test]
fn reader_is_total_on_random_bytes() {
    let mut rng = XorShift(0x9e3779b97f4a7c15);
    for round in 0..2000 {
        let len = (rng.next() % 700) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if round % 3 == 0 {
            // plausible length words at aligned offsets
            for at in (0..len.saturating_sub(8)).step_by(8) {
                if rng.next() % 4 == 0 {
                    let w = (rng.next() % 64) | ((rng.next() % 2) << 63) | ((rng.next() % 8) << 56);
                    b[at..at + 8].copy_from_slice(&w.to_le_bytes());
                }
            }
        }
        drain_everything(&b);
    }
}

/// A realistic full segment: 64 000 000 bytes of small entries. Run with
/// `cargo test --release --lib -- --ignored large_segment` to see the time.
#[test]
#[ignore]
fn large_segment_scan_streams() {
    let mut s = first_segment(0);
    let payload = vec![0x5au8; 100];
    let mut i = 1;
    while s.buf.len() < layout::SEGMENT_SIZE as usize - 4096 {
        s.entry(1, i, &payload);
        if i % 100 == 0 {
            s.state(1, i);
        }
        i += 1;
    }
    let d = write_dir(&[(SEG0, s.bytes(layout::SEGMENT_SIZE as usize))]);
    let t = std::time::Instant::now();
    let mut n = 0u64;
    let sum = WalDir::open(d.path())
        .unwrap()
        .scan_with(ScanStart::All, |_, r| {
            if let Ok(e) = r.entry() {
                n += e.index & 1;
            }
        })
        .unwrap();
    eprintln!("{} entries in {:?}", sum.entry_count, t.elapsed());
    assert!(sum.fault.is_none());
    assert_eq!(sum.last_index, Some(i - 1));
    assert!(n > 0);
}

#[test]
fn resume_at_checks_from_a_known_crc_or_adopts_an_unknown_one() {
    let mut s = first_segment(0);
    let e1 = s.entry(1, 1, b"one");
    let crc_after_e1 = s.crc;
    let e2 = s.entry(1, 2, b"two");
    s.entry(1, 3, b"three");
    let b = s.bytes(1024);
    // known CRC: every record is checked, offsets stay file offsets
    let mut rd = SegmentReader::resume_at(&b, e2 as u64, true, Some(crc_after_e1));
    let offs: Vec<u64> = rd.by_ref().map(|r| r.unwrap().offset).collect();
    assert_eq!(offs.len(), 2);
    assert_eq!(offs[0], e2 as u64);
    assert_eq!(rd.crc(), s.crc);
    // a wrong known CRC is a mismatch at the first record
    let mut rd = SegmentReader::resume_at(&b, e2 as u64, true, Some(crc_after_e1 ^ 1));
    let err = rd.next_record().unwrap_err();
    assert_eq!((err.fault, err.record_offset), (Fault::CrcMismatch, e2 as u64));
    // unknown CRC: the first record's crc is adopted, the next ones are checked
    let mut rd = SegmentReader::resume_at(&b, e1 as u64, true, None);
    assert_eq!(rd.by_ref().filter(|r| r.is_ok()).count(), 3);
    assert_eq!(rd.crc(), s.crc);
    // and an offset past the end is simply the end
    let mut rd = SegmentReader::resume_at(&b, u64::MAX, true, None);
    assert!(rd.next_record().unwrap().is_none());
}

#[test]
fn record_cut_far_from_its_end_is_a_torn_tail_not_a_size_error() {
    let s = first_segment(2);
    let at = s.buf.len();
    let mut s2 = Seg { buf: s.buf.clone(), crc: s.crc };
    s2.entry(1, 3, &[0x5a; 300]);
    // cut 100 bytes into the 300-byte entry: N + P > bytes left, which
    // etcd 3.5.5+'s size check catches before reading, but the record's
    // header is there and adds up: the file was cut inside it
    let cut = &s2.buf[..at + 100];
    let (_, err, _) = records(cut, true);
    let err = err.unwrap();
    assert_eq!((err.fault, err.outcome, err.record_offset), (Fault::TornTail, EtcdOutcome::Repairs, at as u64));
    assert!(err.note.as_deref().unwrap().contains("max entry size limit exceeded"), "{:?}", err.note);
    assert_eq!(err.error.location().offset, Some(at as u64 + 8));
    let (_, err, _) = records(cut, false);
    assert_eq!(err.unwrap().fault, Fault::TruncatedSegment);
    let d = write_dir(&[(SEG0, cut.to_vec())]);
    let sum = scan(d.path());
    assert_eq!(sum.fault.as_ref().unwrap().fault, Fault::TornTail);
    assert_eq!(sum.repair.as_ref().unwrap().offset, at as u64);
    // the same bytes behind a length word that does not add up: damage to
    // the word, still etcd 3.5.5+'s size error
    let mut bad = cut.to_vec();
    let word = u64::from_le_bytes(bad[at..at + 8].try_into().unwrap());
    bad[at..at + 8].copy_from_slice(&(word + 8).to_le_bytes());
    let (_, err, _) = records(&bad, true);
    assert_eq!(err.unwrap().fault, Fault::MaxSizeExceeded);
    // too short to tell: a size error
    assert!(!record::is_cut_record(&[0x08, 0x02], 40));
    assert!(!record::is_cut_record(&[], 40));
}

/// One frame around hand-made `walpb.Record` bytes.
fn frame(rec: &[u8]) -> Vec<u8> {
    let mut b = encode_len_word(rec.len() as u64).to_le_bytes().to_vec();
    b.extend(rec);
    b.resize(b.len() + padding_for(rec.len() as u64) as usize, 0);
    b
}

/// Changes the CRC cannot see (it covers `data` only) and etcd decodes to
/// the same record: each reads as before, and is flagged.
#[test]
fn a_record_not_encoded_as_etcd_writes_it_reads_but_is_flagged() {
    let data = b"\x08\x01";
    let crc = crc32c::crc32c(data);
    let varint = |v: u32| {
        let mut b = Vec::new();
        prost::encoding::encode_varint(u64::from(v), &mut b);
        b
    };
    let entry = |crc_bytes: &[u8], tail: &[u8]| {
        let mut r = vec![0x08, 0x02, 0x10];
        r.extend(crc_bytes);
        r.extend([0x1a, data.len() as u8]);
        r.extend(data);
        r.extend(tail);
        r
    };
    // etcd's own bytes: no anomaly
    let good = entry(&varint(crc), &[]);
    assert_eq!(good, walpb::Record { r#type: rt::ENTRY, crc, data: Some(data.to_vec()) }.encode_to_vec());
    let mut cases: Vec<(&str, Vec<u8>, u32)> = vec![("as written", good.clone(), crc)];
    // a CRC record of a zero crc whose tag 10 became 30 (field 6): crc
    // defaults to 0 (found by fuzz/wal_mutate)
    cases.push(("zero crc, tag changed", vec![0x08, 0x04, 0x30, 0x00], 0));
    // bits 4-6 of the 5th byte of a 5-byte crc varint: gogo keeps 32 bits
    let big = 0xf000_0001u32;
    let mut five = varint(big);
    assert_eq!(five.len(), 5);
    five[4] |= 0x70;
    cases.push(("crc varint bits past 32", vec![0x08, 0x04, 0x10, five[0], five[1], five[2], five[3], five[4]], big));
    // an unknown field after the data, a repeated type, an over-long varint
    cases.push(("unknown field", entry(&varint(crc), &[0x20, 0x05]), crc));
    cases.push(("repeated type", [&[0x08u8, 0x02][..], &good].concat(), crc));
    let mut long = varint(crc);
    *long.last_mut().unwrap() |= 0x80;
    long.push(0x00);
    cases.push(("over-long crc varint", entry(&long, &[]), crc));
    for (what, rec, want_crc) in cases {
        let b = frame(&rec);
        // crc 0 (a segment's first CRC record): the CRC records pass
        let mut r = SegmentReader::new(&b, true, 0);
        let got = r.next_record().unwrap().unwrap_or_else(|| panic!("{what}: no record"));
        assert_eq!(got.crc, want_crc, "{what}");
        let flagged = got.anomalies().contains(&RecordAnomaly::NotAsEtcdWrites);
        assert_eq!(flagged, what != "as written", "{what}: {:?}", got.anomalies());
    }
}
