//! etcd's protobuf messages, hand-written as prost structs.
//!
//! Who writes them: etcd 3.4–3.6 marshal with gogo-protobuf, 3.7+ with
//! google-protobuf; field numbers are stable across 3.4–3.7 (FORMATS.md §7).
//! There is no `build.rs` and no `protoc`: every message below is written out
//! with `#[derive(prost::Message)]`, with field numbers, types and labels
//! chosen so that **encoding is byte-identical to etcd's** for the messages
//! etcd writes to disk:
//!
//! * proto2 fields that gogo always emits (`nullable=false`) use prost's
//!   `required` label, which prost always encodes and never checks on decode
//!   (an absent field reads as 0, as in gogo);
//! * proto2 `bytes` fields emitted only when non-nil are `Option<Vec<u8>>`;
//! * proto2 repeated scalars are `packed = "false"` (gogo writes one key per
//!   element); prost's decoder accepts packed input as well;
//! * proto3 messages use unlabeled fields, which omit zero values;
//! * prost sorts fields by number when encoding, as gogo does.
//!
//! Byte diagram of one field (see [`wire`] for the reader):
//!
//! ```text
//! +----------------------------+----------------------------------+
//! | key: varint(num<<3 | wt)   | value (varint / 8 / len+bytes / 4)|
//! +----------------------------+----------------------------------+
//!   e.g. 08 04        = field 1, varint 4       (walpb.Record type=CRC)
//!        a2 06 03 ... = field 100, 3 bytes      (InternalRaftRequest.header)
//! ```
//!
//! Invariants checked when decoding untrusted bytes: prost refuses lengths
//! beyond the remaining input before allocating and limits message nesting
//! to 100 levels; [`wire::Reader`] (used for the zero-copy hot paths) does
//! the same for lengths and group nesting. [`decode`] turns prost errors into
//! crate errors that carry the file offset of the message.
//!
//! Modules: [`raftpb`], [`walpb`], [`snappb`], [`etcdserverpb`],
//! [`membershippb`], [`mvccpb`], [`authpb`], [`leasepb`]; entry payloads are
//! decoded by [`decode_entry_data`].

pub mod authpb;
pub mod etcdserverpb;
pub mod leasepb;
pub mod membershippb;
pub mod mvccpb;
pub mod raftpb;
pub mod snappb;
pub mod walpb;
pub mod wire;

use crate::error::{Error, ErrorKind, Result};
use etcdserverpb::{InternalRaftRequest, Request};
use raftpb::{ConfChange, ConfChangeV2, Entry, EntryType};

/// Decode a prost message from untrusted bytes. `offset` is the file offset
/// of `data[0]`; a decode error is reported there (prost does not say where
/// inside the message it failed).
pub fn decode<M: prost::Message + Default>(data: &[u8], offset: u64) -> Result<M> {
    M::decode(data).map_err(|e| Error::at(ErrorKind::Proto(e.to_string()), offset))
}

/// The cluster version a normal entry's `data` sets
/// ([`DecodedRequest::cluster_version_set`]), decoding only entries that can
/// be one: such requests are a few dozen bytes and hold either the tag of
/// `InternalRaftRequest.cluster_version_set` (field 1300) or the v2 path
/// `/0/version`, so a scan of a whole WAL decodes almost nothing.
pub fn cluster_version_of(entry_type: i32, data: &[u8]) -> Option<String> {
    const MAX_LEN: usize = 512;
    const TAG_1300: [u8; 2] = [0xa2, 0x51]; // varint of (1300 << 3) | 2
    let maybe = entry_type == EntryType::EntryNormal as i32
        && data.len() <= MAX_LEN
        && (data.windows(2).any(|w| w == TAG_1300) || data.windows(10).any(|w| w == b"/0/version"));
    if !maybe {
        return None;
    }
    DecodedRequest::decode(entry_type, data).cluster_version_set().map(str::to_string)
}

/// What a raft entry's `Data` holds, decoded the way etcd's apply path does
/// (FORMATS.md §7.1 "Entry payloads").
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // decoded one at a time
pub enum DecodedRequest {
    /// A normal entry with no data: the leader's no-op at the start of a term.
    Empty,
    /// A normal entry holding an `InternalRaftRequest` (all 3.x proposals).
    Internal(InternalRaftRequest),
    /// A normal entry holding a bare v2 `Request` (v2 proposals; 3.4 still
    /// proposes these for member attributes and the cluster version).
    V2(Request),
    /// An `EntryConfChange` entry.
    ConfChange(ConfChange),
    /// An `EntryConfChangeV2` entry (not proposed by etcd 3.4–3.6).
    ConfChangeV2(ConfChangeV2),
    /// The data does not decode as what the entry type says. etcd panics
    /// on such an entry when it applies it (`pbutil.MustUnmarshal`).
    Undecodable {
        entry_type: i32,
        /// The decoder's message.
        error: String,
    },
}

impl DecodedRequest {
    /// Decode `data` of an entry of type `entry_type` (`raftpb.EntryType`
    /// as stored; unknown values give [`DecodedRequest::Undecodable`]).
    /// For normal entries etcd tries `InternalRaftRequest` first and falls
    /// back to the v2 `Request` when that fails; so do we.
    pub fn decode(entry_type: i32, data: &[u8]) -> DecodedRequest {
        let undecodable = |e: prost::DecodeError| DecodedRequest::Undecodable { entry_type, error: e.to_string() };
        match EntryType::try_from(entry_type) {
            Ok(EntryType::EntryNormal) => {
                if data.is_empty() {
                    return DecodedRequest::Empty;
                }
                match <InternalRaftRequest as prost::Message>::decode(data) {
                    Ok(r) => DecodedRequest::Internal(r),
                    Err(_) => match <Request as prost::Message>::decode(data) {
                        Ok(r) => DecodedRequest::V2(r),
                        Err(e) => undecodable(e),
                    },
                }
            }
            Ok(EntryType::EntryConfChange) => match <ConfChange as prost::Message>::decode(data) {
                Ok(c) => DecodedRequest::ConfChange(c),
                Err(e) => undecodable(e),
            },
            Ok(EntryType::EntryConfChangeV2) => match <ConfChangeV2 as prost::Message>::decode(data) {
                Ok(c) => DecodedRequest::ConfChangeV2(c),
                Err(e) => undecodable(e),
            },
            Err(_) => DecodedRequest::Undecodable { entry_type, error: format!("unknown entry type {entry_type}") },
        }
    }

    /// The cluster version this request sets, if it is one: a v3
    /// `ClusterVersionSet` (3.5+) or a v2 `PUT /0/version` (3.4, and 3.5
    /// before the cluster reaches 3.5), bare or inside an
    /// `InternalRaftRequest`.
    pub fn cluster_version_set(&self) -> Option<&str> {
        fn v2(r: &Request) -> Option<&str> {
            (r.method == "PUT" && r.path == "/0/version").then_some(r.val.as_str())
        }
        match self {
            DecodedRequest::Internal(req) => {
                req.cluster_version_set.as_ref().map(|c| c.ver.as_str()).or_else(|| req.v2.as_ref().and_then(v2))
            }
            DecodedRequest::V2(r) => v2(r),
            _ => None,
        }
    }

    /// Short name for listings: `noop`, `put`, `txn`, `v2:PUT`, `confchange:AddNode`, …
    pub fn label(&self) -> String {
        match self {
            DecodedRequest::Empty => "noop".into(),
            DecodedRequest::Internal(r) => r.kind().unwrap_or("empty-request").into(),
            DecodedRequest::V2(r) => format!("v2:{}", r.method),
            DecodedRequest::ConfChange(c) => match raftpb::ConfChangeType::try_from(c.r#type) {
                Ok(t) => format!("confchange:{}", format!("{t:?}").trim_start_matches("ConfChange")),
                Err(_) => format!("confchange:type{}", c.r#type),
            },
            DecodedRequest::ConfChangeV2(_) => "confchangev2".into(),
            DecodedRequest::Undecodable { .. } => "undecodable".into(),
        }
    }
}

/// Decode what `entry.data` holds (see [`DecodedRequest::decode`]).
pub fn decode_entry_data(entry: &Entry) -> DecodedRequest {
    DecodedRequest::decode(entry.r#type, entry.data.as_deref().unwrap_or(&[]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testvec::{CLUSTER_ID, NODE_ID, WAL_3423, hex};
    use etcdserverpb::{Metadata, PutRequest, RequestHeader};
    use prost::Message;

    /// Payload (`walpb.Record` bytes) of the record whose length word is at `at`.
    fn record_at(wal: &[u8], at: usize) -> &[u8] {
        let n = u64::from_le_bytes(wal[at..at + 8].try_into().unwrap()) & 0x00ff_ffff_ffff_ffff;
        &wal[at + 8..at + 8 + n as usize]
    }

    #[test]
    fn appendix_a_records_encode_byte_for_byte() {
        let wal = hex(WAL_3423);
        let md = Metadata { node_id: NODE_ID, cluster_id: CLUSTER_ID };
        let member = br#"{"id":1608544175929105451,"peerURLs":["http://127.0.0.1:25801"],"name":"s1"}"#;
        let cc = raftpb::ConfChange {
            id: 0,
            r#type: raftpb::ConfChangeType::ConfChangeAddNode as i32,
            node_id: NODE_ID,
            context: Some(member.to_vec()),
        };
        let entry =
            Entry { r#type: EntryType::EntryConfChange as i32, term: 1, index: 1, data: Some(cc.encode_to_vec()) };
        let hs = raftpb::HardState { term: 1, vote: NODE_ID, commit: 1 };
        let snap0 = walpb::Snapshot { index: 0, term: 0, conf_state: None };
        let snap1 = walpb::Snapshot { index: 1, term: 1, conf_state: None };
        let rec = |t: i64, crc: u32, data: Option<Vec<u8>>| walpb::Record { r#type: t, crc, data }.encode_to_vec();
        assert_eq!(record_at(&wal, 0x00), rec(4, 0, None));
        assert_eq!(record_at(&wal, 0x10), rec(1, 0x14e5533b, Some(md.encode_to_vec())));
        assert_eq!(record_at(&wal, 0x38), rec(5, 0x879bddcd, Some(snap0.encode_to_vec())));
        assert_eq!(record_at(&wal, 0x50), rec(2, 0xcd8c8df8, Some(entry.encode_to_vec())));
        assert_eq!(record_at(&wal, 0xc8), rec(3, 0x18fe6e37, Some(hs.encode_to_vec())));
        assert_eq!(record_at(&wal, 0xe8), rec(5, 0x148a45ea, Some(snap1.encode_to_vec())));

        // and back
        let r = walpb::Record::decode(record_at(&wal, 0x50)).unwrap();
        let e = Entry::decode(r.data.as_deref().unwrap()).unwrap();
        assert_eq!(e, entry);
        assert_eq!(decode_entry_data(&e), DecodedRequest::ConfChange(cc));
        assert_eq!(decode_entry_data(&e).label(), "confchange:AddNode");
    }

    #[test]
    fn appendix_a_v35_snapshot_record() {
        let rec = hex(crate::testvec::WAL_351_LAST);
        let s = walpb::Snapshot {
            index: 1,
            term: 1,
            conf_state: Some(raftpb::ConfState { voters: vec![NODE_ID], ..Default::default() }),
        };
        let r = walpb::Record { r#type: 5, crc: 0x8fe6e40b, data: Some(s.encode_to_vec()) };
        assert_eq!(r.encode_to_vec(), &rec[8..8 + 28]);
    }

    #[test]
    fn normal_entries_try_internal_then_v2() {
        let put = InternalRaftRequest {
            header: Some(RequestHeader { id: 9, ..Default::default() }),
            put: Some(PutRequest { key: b"k".to_vec(), ..Default::default() }),
            ..Default::default()
        };
        let d = DecodedRequest::decode(0, &put.encode_to_vec());
        assert_eq!(d.label(), "put");
        let v2 = Request {
            id: 7,
            method: "PUT".into(),
            path: "/0/version".into(),
            val: "3.4.0".into(),
            ..Default::default()
        };
        match DecodedRequest::decode(0, &v2.encode_to_vec()) {
            DecodedRequest::V2(r) => assert_eq!(r, v2),
            other => panic!("{other:?}"),
        }
        assert_eq!(DecodedRequest::decode(0, &[]), DecodedRequest::Empty);
        assert!(matches!(DecodedRequest::decode(1, &[0xff]), DecodedRequest::Undecodable { .. }));
        assert!(matches!(DecodedRequest::decode(7, &[]), DecodedRequest::Undecodable { entry_type: 7, .. }));
    }

    #[test]
    fn decode_errors_carry_offset() {
        let e = decode::<raftpb::HardState>(&[0x08], 0x1234).unwrap_err();
        assert_eq!(e.location().offset, Some(0x1234));
        assert!(matches!(e.kind(), ErrorKind::Proto(_)));
    }

    #[test]
    fn small_messages() {
        // FORMATS.md §2.5: `08 <id varint> 10 d8 04` = ID, TTL 600
        let l = leasepb::Lease { id: 5, ttl: 600, remaining_ttl: 0 };
        assert_eq!(l.encode_to_vec(), [0x08, 5, 0x10, 0xd8, 0x04]);
        let kv = mvccpb::KeyValue {
            key: b"foo".to_vec(),
            create_revision: 2,
            mod_revision: 3,
            version: 2,
            value: b"bar".to_vec(),
            lease: 0,
        };
        let enc = kv.encode_to_vec();
        assert_eq!(&enc[..5], &[0x0a, 3, b'f', b'o', b'o']);
        assert_eq!(mvccpb::KeyValue::decode(&enc[..]).unwrap(), kv);
        let u = authpb::User {
            name: b"root".to_vec(),
            password: vec![],
            roles: vec!["root".into()],
            options: Some(authpb::UserAddOptions { no_password: true }),
        };
        assert_eq!(authpb::User::decode(&u.encode_to_vec()[..]).unwrap(), u);
        let am = etcdserverpb::AlarmMember { member_id: 1, alarm: etcdserverpb::AlarmType::Nospace as i32 };
        assert_eq!(am.encode_to_vec(), [0x08, 1, 0x10, 1]);
    }

    #[test]
    fn deep_nesting_is_refused_not_a_stack_overflow() {
        // TxnRequest { success: [RequestOp { request_txn: TxnRequest { ... } }] }, 1000 deep
        let mut msg: Vec<u8> = Vec::new();
        for _ in 0..1000 {
            let mut op = vec![0x22]; // RequestOp.request_txn
            prost::encoding::encode_varint(msg.len() as u64, &mut op);
            op.extend(&msg);
            let mut txn = vec![0x12]; // TxnRequest.success
            prost::encoding::encode_varint(op.len() as u64, &mut txn);
            txn.extend(op);
            msg = txn;
        }
        assert!(etcdserverpb::TxnRequest::decode(&msg[..]).is_err());
    }

    /// Every single-byte corruption of the Appendix A records, fed to every
    /// decoder: nothing may panic.
    #[test]
    fn decoders_are_total_on_bit_flips() {
        let wal = hex(WAL_3423);
        for i in 0..wal.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut w = wal.clone();
                w[i] ^= flip;
                for start in [0usize, 8, 0x18, 0x40, 0x58, 0x60, 0xd0, 0xf0] {
                    let s = &w[start..];
                    let _ = walpb::Record::decode(s);
                    let _ = Entry::decode(s);
                    let _ = raftpb::Snapshot::decode(s);
                    let _ = walpb::Snapshot::decode(s);
                    let _ = InternalRaftRequest::decode(s);
                    let _ = DecodedRequest::decode(0, s);
                    let _ = DecodedRequest::decode(1, s);
                    for f in wire::Reader::new(s, 0) {
                        if f.is_err() {
                            break;
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod cluster_version_tests {
    use prost::Message;

    use super::cluster_version_of as cluster_version_set;
    use crate::proto::etcdserverpb::RequestHeader;
    use crate::proto::etcdserverpb::{InternalRaftRequest, Request};
    use crate::proto::membershippb::ClusterVersionSetRequest;

    const NORMAL: i32 = 0;

    fn v2(method: &str, path: &str, val: &str) -> Request {
        Request { method: method.into(), path: path.into(), val: val.into(), ..Default::default() }
    }

    #[test]
    fn cluster_version_sets_in_every_encoding() {
        // as etcd proposes it: a header with the request id, then field 1300
        let v3 = InternalRaftRequest {
            header: Some(RequestHeader { id: 0x1234_5678_9abc, ..Default::default() }),
            cluster_version_set: Some(ClusterVersionSetRequest { ver: "3.6.0".into() }),
            ..Default::default()
        };
        assert_eq!(cluster_version_set(NORMAL, &v3.encode_to_vec()).as_deref(), Some("3.6.0"));
        // a bare v2 request (3.4) and one inside an InternalRaftRequest
        let bare = v2("PUT", "/0/version", "3.4.0");
        assert_eq!(cluster_version_set(NORMAL, &bare.encode_to_vec()).as_deref(), Some("3.4.0"));
        let wrapped = InternalRaftRequest { v2: Some(v2("PUT", "/0/version", "3.5.0")), ..Default::default() };
        assert_eq!(cluster_version_set(NORMAL, &wrapped.encode_to_vec()).as_deref(), Some("3.5.0"));
        // other v2 writes, other paths, other entry types and garbage are not
        let attrs = v2("PUT", "/0/members/8e9e05c52164694d/attributes", "{}");
        assert_eq!(cluster_version_set(NORMAL, &attrs.encode_to_vec()), None);
        assert_eq!(cluster_version_set(NORMAL, &v2("DELETE", "/0/version", "").encode_to_vec()), None);
        assert_eq!(cluster_version_set(1, &v3.encode_to_vec()), None);
        assert_eq!(cluster_version_set(NORMAL, &[0xff, 0xff, 0xff]), None);
    }
}
