//! Arbitrary bytes as the data of a raft entry of each type and as every
//! protobuf message etcd stores; decoded messages must re-encode and decode
//! to the same value.
#![no_main]

use etcd_forensics::proto::{self, DecodedRequest, etcdserverpb, raftpb, walpb};
use libfuzzer_sys::fuzz_target;
use prost::Message;

fn roundtrip<M: Message + Default + PartialEq + std::fmt::Debug>(data: &[u8]) {
    if let Ok(m) = proto::decode::<M>(data, 0) {
        let again = M::decode(m.encode_to_vec().as_slice()).expect("re-encoded message decodes");
        assert_eq!(again, m);
    }
}

fuzz_target!(|data: &[u8]| {
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
