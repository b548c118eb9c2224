//! `.snap` tests: the Appendix A file rebuilt byte for byte, every rejection
//! etcd makes, and totality on damaged input.

use std::path::Path;

use sha2::Digest;

use super::*;
use crate::error::ErrorKind;
use crate::testvec::{NODE_ID, SNAP_3423_SHA256, hex, snap_3423};

const NAME: &str = "0000000000000001-0000000000000001.snap";

#[test]
fn appendix_a_snap_is_rebuilt_byte_for_byte() {
    let f = snap_3423();
    assert_eq!(f.len(), 6491);
    let sha: String = sha2::Sha256::digest(&f).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(sha, SNAP_3423_SHA256);
    assert_eq!(&f[..12], hex("08 a1d3c48c03 12 d232 0a bb32").as_slice());
    let s = decode(&f).unwrap();
    assert_eq!(s.crc, 0x319129a1);
    assert_eq!((s.payload_offset, s.data_offset), (9, 12));
    assert_eq!(s.data.unwrap().len(), 6459);
    assert_eq!((s.metadata.index, s.metadata.term), (1, 1));
    assert_eq!(s.metadata.conf_state.voters, [NODE_ID]);
    assert!(!s.metadata.conf_state.auto_leave);
}

#[test]
fn appendix_a_report() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join(NAME);
    std::fs::write(&p, snap_3423()).unwrap();
    let r = inspect(&p).unwrap();
    assert!(r.loadable());
    assert_eq!((r.name_term_index, r.index, r.term, r.crc), (Some((1, 1)), Some(1), Some(1), Some(0x319129a1)));
    assert_eq!(r.conf_state.as_ref().unwrap().voters, [NODE_ID]);
    assert!(r.anomalies.is_empty());
    assert!(r.store_error.is_none());
    let st = r.store.as_ref().unwrap();
    assert_eq!(st.members[0].id, NODE_ID);
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["store"]["members"][0]["peerUrls"][0], "http://127.0.0.1:25801");
    assert!(j["fault"].is_null());
}

fn fault(bytes: &[u8]) -> SnapError {
    decode(bytes).unwrap_err()
}

#[test]
fn empty_snapshots() {
    assert_eq!(fault(&[]).fault, SnapFault::Empty);
    assert_eq!(fault(&[0x08, 0x05]).fault, SnapFault::Empty, "no data");
    assert_eq!(fault(&[0x08, 0x05, 0x12, 0x00]).fault, SnapFault::Empty, "empty data");
    let mut f = snap_3423();
    f[1..6].copy_from_slice(&[0x80, 0x80, 0x80, 0x80, 0x00]); // crc 0, same length
    assert_eq!(fault(&f).fault, SnapFault::Empty, "crc 0");
}

#[test]
fn crc_mismatch_names_the_payload_offset() {
    let mut f = snap_3423();
    f[3000] ^= 0x20;
    let e = fault(&f);
    assert_eq!(e.fault, SnapFault::CrcMismatch);
    assert_eq!(e.error.location().offset, Some(9));
    assert!(matches!(e.error.kind(), ErrorKind::BadChecksum { expected: 0x319129a1, .. }));
    let r = inspect_bytes(Path::new(NAME), &f);
    assert_eq!(r.crc, Some(0x319129a1));
    assert!(r.fault.unwrap().to_string().contains("snap: crc mismatch"));
}

/// Wrap `payload` in an envelope with a correct CRC.
fn envelope(payload: &[u8]) -> Vec<u8> {
    use prost::Message;
    crate::proto::snappb::Snapshot { crc: crc32c::crc32c(payload), data: Some(payload.to_vec()) }.encode_to_vec()
}

#[test]
fn proto_errors() {
    // envelope truncated
    let f = snap_3423();
    let e = fault(&f[..100]);
    assert_eq!(e.fault, SnapFault::ProtoError);
    assert!(matches!(e.error.kind(), ErrorKind::Truncated { .. }));
    assert_eq!(e.error.location().offset, Some(9));
    // good CRC, but the raftpb.Snapshot inside is garbage
    let env = envelope(&[0x0a, 0x05, b'x']);
    let e = fault(&env);
    // the 5-byte string should start right after `0a 05`, 2 bytes into the payload
    let payload_at = (env.len() - 3) as u64;
    assert_eq!((e.fault, e.error.location().offset), (SnapFault::ProtoError, Some(payload_at + 2)));
    let e = fault(&envelope(&[0x12, 0x02, 0x10, 0x80]));
    assert_eq!(e.fault, SnapFault::ProtoError, "metadata truncated varint");
}

#[test]
fn bad_json_and_odd_metadata() {
    use crate::proto::raftpb;
    use prost::Message;
    let snap = raftpb::Snapshot {
        data: Some(br#"{"Root":nope}"#.to_vec()),
        metadata: raftpb::SnapshotMetadata { index: 0, term: 4, ..Default::default() },
    }
    .encode_to_vec();
    let f = envelope(&snap);
    let r = inspect_bytes(Path::new(NAME), &f);
    assert!(r.loadable(), "etcd loads it; it panics later in v2store.Recovery");
    let se = r.store_error.unwrap();
    // serde_json stops at the `o` of `nope`, byte 9 of the JSON
    let s = decode(&f).unwrap();
    assert_eq!(se.location().offset, Some(s.data_offset + 9));
    assert_eq!(se.location().file.as_deref(), Some(Path::new(NAME)));
    let codes: Vec<&str> = r.anomalies.iter().map(|a| a.code).collect();
    assert_eq!(codes, ["snap.name_mismatch", "snap.index_zero"]);
    // metadata split over two fields merges
    let mut two = Vec::new();
    two.extend([0x12, 0x02, 0x10, 0x07]); // index 7
    two.extend([0x12, 0x02, 0x18, 0x03]); // term 3
    let s2 = envelope(&two);
    let m = decode(&s2).unwrap().metadata;
    assert_eq!((m.index, m.term), (7, 3));
}

struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Flip bytes of the Appendix A file everywhere except the long JSON middle
/// (whose flips are all CRC mismatches, checked by sampling), truncate it at
/// every length of the head and tail, and feed random bytes: no panic, and
/// every flip is rejected.
#[test]
fn decoder_is_total() {
    let f = snap_3423();
    let p = Path::new(NAME);
    let mut positions: Vec<usize> = (0..64).chain(f.len() - 64..f.len()).collect();
    positions.extend((64..f.len() - 64).step_by(97));
    for &i in &positions {
        for mask in [0x01u8, 0x80, 0xff] {
            let mut b = f.clone();
            b[i] ^= mask;
            let r = inspect_bytes(p, &b);
            assert!(r.fault.is_some() || r.store_error.is_some(), "flip {mask:#x} at {i} went unnoticed");
        }
    }
    for n in (0..64).chain(f.len() - 64..f.len()) {
        let r = inspect_bytes(p, &f[..n]);
        assert!(r.fault.is_some(), "truncated to {n}");
    }
    let mut rng = XorShift(0x2545f4914f6cdd1d);
    for _ in 0..3000 {
        let len = (rng.next() % 200) as usize;
        let mut b: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if len > 4 && rng.next() % 2 == 0 {
            // give it a valid CRC so the inner decoders run
            b = envelope(&b);
        }
        let _ = inspect_bytes(p, &b);
    }
}

/// Changes to the envelope that decoding cannot see (the crc covers only
/// the payload) load as before and are flagged.
#[test]
fn an_envelope_not_as_etcd_writes_it_loads_but_is_flagged() {
    let good = snap_3423();
    assert!(decode(&good).unwrap().canonical);
    // 3.4.23's crc 0x319129a1 is a 5-byte varint: set bits 4-6 of its 5th
    // byte (gogo keeps 32 bits), append an unknown field, repeat the crc
    assert_eq!(good[0], 0x08);
    assert!(good[1..5].iter().all(|b| b & 0x80 != 0));
    let mut slack = good.clone();
    slack[5] |= 0x70;
    let unknown = [&good[..], &[0x20, 0x01]].concat();
    let repeated = [&good[..6], &good[..]].concat();
    for (what, bytes) in [("crc bits past 32", slack), ("unknown field", unknown), ("repeated crc", repeated)] {
        let s = decode(&bytes).unwrap_or_else(|e| panic!("{what}: {e:?}"));
        assert_eq!(s.crc, 0x319129a1, "{what}");
        assert!(!s.canonical, "{what}");
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join(NAME);
        std::fs::write(&p, &bytes).unwrap();
        let r = inspect(&p).unwrap();
        assert!(r.loadable(), "{what}");
        let codes: Vec<_> = r.anomalies.iter().map(|a| a.code).collect();
        assert_eq!(codes, ["snap.envelope_not_as_etcd_writes"], "{what}");
    }
}
