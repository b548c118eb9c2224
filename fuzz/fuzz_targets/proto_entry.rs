//! Arbitrary bytes as the data of a raft entry of each type and as every
//! protobuf message etcd stores; decoded messages must re-encode and decode
//! to the same value. And our zero-copy wire reader (`proto::wire`, the hot
//! path of WAL and bbolt value parsing) against prost's own wire decoding
//! of the same bytes: where prost reads a field sequence, ours reads the
//! same one; varints decode and measure as prost's do; `Exact` accepts
//! bytes only when they are the canonical encoding. And 3.7's
//! explicit-presence encoders write what decodes back to the same message.
#![no_main]

use etcd_forensics::proto::wire::{self, Exact, Reader, Value};
use etcd_forensics::proto::{self, DecodedRequest, etcdserverpb, raftpb, walpb};
use libfuzzer_sys::fuzz_target;
use prost::Message;
use prost::encoding::{self as pe, WireType};

fn roundtrip<M: Message + Default + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = proto::decode::<M>(data, 0) {
        let again = M::decode(m.encode_to_vec().as_slice()).expect("re-encoded message decodes");
        assert_eq!(again, m);
    }
}

/// A field as prost reads it: (number, wire value); `None` for a group.
type Seen<'a> = (u32, Option<Value<'a>>);

/// The fields of `data` by prost's wire functions; `None` where prost
/// rejects the bytes.
fn prost_fields(data: &[u8]) -> Option<Vec<Seen<'_>>> {
    let mut buf = data;
    let mut out = Vec::new();
    let ctx = pe::DecodeContext::default();
    while !buf.is_empty() {
        let (number, wt) = pe::decode_key(&mut buf).ok()?;
        let value = match wt {
            WireType::Varint => Some(Value::Varint(pe::decode_varint(&mut buf).ok()?)),
            WireType::SixtyFourBit => {
                let (b, rest) = buf.split_first_chunk::<8>()?;
                buf = rest;
                Some(Value::Fixed64(u64::from_le_bytes(*b)))
            }
            WireType::ThirtyTwoBit => {
                let (b, rest) = buf.split_first_chunk::<4>()?;
                buf = rest;
                Some(Value::Fixed32(u32::from_le_bytes(*b)))
            }
            WireType::LengthDelimited => {
                let len = usize::try_from(pe::decode_varint(&mut buf).ok()?).ok()?;
                if len > buf.len() {
                    return None;
                }
                let (v, rest) = buf.split_at(len);
                buf = rest;
                Some(Value::Len(v))
            }
            WireType::StartGroup => {
                pe::skip_field(wt, number, &mut buf, ctx.clone()).ok()?;
                None
            }
            WireType::EndGroup => return None,
        };
        out.push((number, value));
    }
    Some(out)
}

fn wire_checks(data: &[u8]) {
    // Varints: ours and prost's agree wherever prost decodes one.
    let mut b = data;
    if let Ok(v) = pe::decode_varint(&mut b) {
        assert_eq!(wire::read_varint(data), Some((v, data.len() - b.len())), "varint");
        assert_eq!(wire::varint_len(v), pe::encoded_len_varint(v), "varint length");
        // Exact accepts the canonical encoding of (key, v), and these bytes
        // only if they are that encoding.
        let mut canon = vec![0x08];
        pe::encode_varint(v, &mut canon);
        assert!(Exact::new(&canon).varint(0x08, v).done(), "canonical encoding refused");
        let mine = [&[0x08][..], data].concat();
        assert_eq!(Exact::new(&mine).varint(0x08, v).done(), mine == canon, "Exact on {mine:?}");
    }
    // Fields: where prost reads the whole message, ours reads the same.
    let ours: Result<Vec<Seen<'_>>, _> = Reader::new(data, 0)
        .map(|f| {
            f.map(|f| {
                assert!(f.offset < data.len() as u64 && f.value_offset <= data.len() as u64);
                (f.number, if f.value == Value::Group { None } else { Some(f.value) })
            })
        })
        .collect();
    if let Some(theirs) = prost_fields(data) {
        assert_eq!(ours.as_ref().ok(), Some(&theirs), "fields of {data:?}");
    }
}

/// The explicit-presence encoders of 3.7's layout (`raftpb::presence`)
/// write what decodes back to the same message, and never longer than the
/// gogo form (they only leave out default fields).
fn presence_checks(data: &[u8]) {
    use raftpb::presence;
    fn back<M: Message + Default + PartialEq + std::fmt::Debug>(m: &M, bytes: &[u8]) {
        assert_eq!(&M::decode(bytes).expect("presence encoding decodes"), m);
        assert!(bytes.len() <= m.encoded_len(), "presence form longer than gogo's");
    }
    if let Ok(m) = raftpb::ConfChange::decode(data) {
        back(&m, &presence::conf_change(&m));
    }
    if let Ok(m) = raftpb::ConfState::decode(data) {
        back(&m, &presence::conf_state(&m));
    }
    if let Ok(m) = raftpb::SnapshotMetadata::decode(data) {
        back(&m, &presence::snapshot_metadata(&m));
    }
    if let Ok(m) = raftpb::Snapshot::decode(data) {
        back(&m, &presence::snapshot(&m));
    }
    if let Ok(m) = walpb::Snapshot::decode(data) {
        back(&m, &presence::wal_snapshot(&m));
    }
}

fuzz_target!(|data: &[u8]| {
    wire_checks(data);
    presence_checks(data);
    for t in [0, 1, 2, 3, -1] {
        let d = DecodedRequest::decode(t, data);
        let _ = d.label();
    }
    roundtrip::<walpb::Record>(data);
    roundtrip::<walpb::Snapshot>(data);
    roundtrip::<raftpb::Entry>(data);
    roundtrip::<raftpb::HardState>(data);
    roundtrip::<raftpb::Snapshot>(data);
    roundtrip::<raftpb::ConfChange>(data);
    roundtrip::<etcdserverpb::Metadata>(data);
    roundtrip::<etcdserverpb::InternalRaftRequest>(data);
    roundtrip::<etcdserverpb::Request>(data);
});
