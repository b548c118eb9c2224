//! `walpb` (proto2): the WAL record envelope and the WAL snapshot marker.
//!
//! Written by etcd's WAL encoder (`server/storage/wal/walpb/record.proto`
//! `[E36]`, `wal/walpb/record.proto` `[E34]`), FORMATS.md §6.3:
//!
//! | Message | # | Field | Emitted |
//! |---|---|---|---|
//! | Record | 1 type int64 | always |
//! | | 2 crc uint32 | always, even 0 |
//! | | 3 data bytes | iff non-nil (absent for CRC records) |
//! | Snapshot | 1 index, 2 term | always (`08 00 10 00` for {0,0}) |
//! | | 3 conf_state | 3.5+, optional |
//!
//! The WAL reader does not decode [`Record`] with prost; it parses the
//! three fields zero-copy with [`crate::proto::wire`] (see
//! [`crate::wal::record`]). The struct is here for writers and tests.

use super::raftpb::ConfState;

/// `walpb.Record`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Record {
    #[prost(int64, required, tag = "1")]
    pub r#type: i64,
    #[prost(uint32, required, tag = "2")]
    pub crc: u32,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub data: Option<Vec<u8>>,
}

/// `walpb.Snapshot`: the WAL's record of a raft snapshot.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct Snapshot {
    #[prost(uint64, required, tag = "1")]
    pub index: u64,
    #[prost(uint64, required, tag = "2")]
    pub term: u64,
    /// Written by etcd 3.5+; 3.4 neither writes nor reads it.
    #[prost(message, optional, tag = "3")]
    pub conf_state: Option<ConfState>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn zero_snapshot_is_08_00_10_00() {
        assert_eq!(Snapshot::default().encode_to_vec(), [0x08, 0, 0x10, 0]);
    }

    #[test]
    fn crc_record_has_no_data_field() {
        let r = Record { r#type: 4, crc: 0, data: None };
        assert_eq!(r.encode_to_vec(), [0x08, 4, 0x10, 0]);
    }
}
