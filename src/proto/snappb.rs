//! `snappb` (proto2): the `.snap` file envelope.
//!
//! Written by etcd's snapshotter (`server/etcdserver/api/snap/snappb/snap.proto`),
//! FORMATS.md §7.4/§8.1: 1 crc uint32 (always), 2 data bytes (if non-nil)
//! = marshaled [`crate::proto::raftpb::Snapshot`]. `crc` is CRC32C of
//! `data` with seed 0.
//!
//! The `.snap` reader parses the envelope zero-copy with
//! [`crate::proto::wire`]; this struct is for writers and tests.

/// `snappb.snapshot`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Snapshot {
    #[prost(uint32, required, tag = "1")]
    pub crc: u32,
    #[prost(bytes = "vec", optional, tag = "2")]
    pub data: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn crc_always_emitted() {
        let s = Snapshot { crc: 0, data: None };
        assert_eq!(s.encode_to_vec(), [0x08, 0]);
        let s = Snapshot { crc: 1, data: Some(vec![7]) };
        assert_eq!(s.encode_to_vec(), [0x08, 1, 0x12, 1, 7]);
    }
}
