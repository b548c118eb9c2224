//! `raftpb` (proto2): raft log entries, hard state and snapshot metadata.
//!
//! Written by etcd's raft library (`raft/raftpb/raft.proto` in 3.4/3.5,
//! `go.etcd.io/raft/v3/raftpb/raft.proto` in 3.6+) with gogo-protobuf,
//! `nullable=false` on scalars. Field order and "always emitted" rules
//! (FORMATS.md §7.1):
//!
//! | Message | # | Field | Emitted |
//! |---|---|---|---|
//! | Entry | 1 Type, 2 Term, 3 Index | always |
//! | | 4 Data | if non-nil ([`Option`]) |
//! | HardState | 1 term, 2 vote, 3 commit | always |
//! | ConfState | 1 voters, 2 learners, 3 voters_outgoing, 4 learners_next | per element, unpacked |
//! | | 5 auto_leave | always (`28 00`) |
//! | SnapshotMetadata | 1 conf_state, 2 index, 3 term | always |
//! | Snapshot | 1 data | if non-nil |
//! | | 2 metadata | always |
//! | ConfChange | 1 id, 2 type, 3 node_id | always |
//! | | 4 context | if non-nil |
//! | ConfChangeSingle | 1 type, 2 node_id | always |
//! | ConfChangeV2 | 1 transition | always |
//! | | 2 changes, 3 context | per element / if non-nil |
//!
//! prost's `required` label is what makes a scalar "always emitted": prost
//! never checks presence of required fields when decoding, so absent fields
//! simply read as 0, as gogo does.

/// `raftpb.EntryType`.
#[allow(clippy::enum_variant_names)] // upstream names, so grep finds both
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum EntryType {
    EntryNormal = 0,
    EntryConfChange = 1,
    EntryConfChangeV2 = 2,
}

/// `raftpb.ConfChangeType`.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConfChangeType {
    ConfChangeAddNode = 0,
    ConfChangeRemoveNode = 1,
    ConfChangeUpdateNode = 2,
    ConfChangeAddLearnerNode = 3,
}

/// `raftpb.ConfChangeTransition`.
#[allow(clippy::enum_variant_names)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum ConfChangeTransition {
    ConfChangeTransitionAuto = 0,
    ConfChangeTransitionJointImplicit = 1,
    ConfChangeTransitionJointExplicit = 2,
}

/// `raftpb.Entry`: one raft log entry (WAL ENTRY record payload).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Entry {
    #[prost(enumeration = "EntryType", required, tag = "1")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "2")]
    pub term: u64,
    #[prost(uint64, required, tag = "3")]
    pub index: u64,
    /// Absent for the leader's no-op entry at the start of a term.
    #[prost(bytes = "vec", optional, tag = "4")]
    pub data: Option<Vec<u8>>,
}

/// `raftpb.HardState`: term, vote and commit index (WAL STATE record).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct HardState {
    #[prost(uint64, required, tag = "1")]
    pub term: u64,
    #[prost(uint64, required, tag = "2")]
    pub vote: u64,
    #[prost(uint64, required, tag = "3")]
    pub commit: u64,
}

impl HardState {
    /// etcd's `raft.IsEmptyHardState`: all three fields zero. Empty hard
    /// states are never written to the WAL.
    pub fn is_empty(&self) -> bool {
        self.term == 0 && self.vote == 0 && self.commit == 0
    }
}

/// `raftpb.ConfState`: cluster membership as raft sees it.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct ConfState {
    #[prost(uint64, repeated, packed = "false", tag = "1")]
    pub voters: Vec<u64>,
    #[prost(uint64, repeated, packed = "false", tag = "2")]
    pub learners: Vec<u64>,
    #[prost(uint64, repeated, packed = "false", tag = "3")]
    pub voters_outgoing: Vec<u64>,
    #[prost(uint64, repeated, packed = "false", tag = "4")]
    pub learners_next: Vec<u64>,
    #[prost(bool, required, tag = "5")]
    pub auto_leave: bool,
}

/// `raftpb.SnapshotMetadata`.
#[derive(Clone, PartialEq, Eq, prost::Message)]
pub struct SnapshotMetadata {
    #[prost(message, required, tag = "1")]
    pub conf_state: ConfState,
    #[prost(uint64, required, tag = "2")]
    pub index: u64,
    #[prost(uint64, required, tag = "3")]
    pub term: u64,
}

/// `raftpb.Snapshot`: the payload of a `.snap` file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Snapshot {
    /// The v2 store as JSON (etcd 3.4–3.6).
    #[prost(bytes = "vec", optional, tag = "1")]
    pub data: Option<Vec<u8>>,
    #[prost(message, required, tag = "2")]
    pub metadata: SnapshotMetadata,
}

/// `raftpb.ConfChange` (payload of `EntryConfChange` entries).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfChange {
    #[prost(uint64, required, tag = "1")]
    pub id: u64,
    #[prost(enumeration = "ConfChangeType", required, tag = "2")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "3")]
    pub node_id: u64,
    /// etcd: JSON of `membership.Member` (AddNode/AddLearnerNode/UpdateNode).
    #[prost(bytes = "vec", optional, tag = "4")]
    pub context: Option<Vec<u8>>,
}

/// `raftpb.ConfChangeSingle`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct ConfChangeSingle {
    #[prost(enumeration = "ConfChangeType", required, tag = "1")]
    pub r#type: i32,
    #[prost(uint64, required, tag = "2")]
    pub node_id: u64,
}

/// `raftpb.ConfChangeV2` (never proposed by etcd 3.4–3.6).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ConfChangeV2 {
    #[prost(enumeration = "ConfChangeTransition", required, tag = "1")]
    pub transition: i32,
    #[prost(message, repeated, tag = "2")]
    pub changes: Vec<ConfChangeSingle>,
    #[prost(bytes = "vec", optional, tag = "3")]
    pub context: Option<Vec<u8>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testvec::hex;
    use prost::Message;

    #[test]
    fn hard_state_always_emits_all_fields() {
        let hs = HardState::default();
        assert_eq!(hs.encode_to_vec(), [0x08, 0, 0x10, 0, 0x18, 0]);
        assert!(hs.is_empty());
    }

    #[test]
    fn conf_state_unpacked_and_auto_leave() {
        let cs = ConfState { voters: vec![1, 2], ..Default::default() };
        assert_eq!(cs.encode_to_vec(), [0x08, 1, 0x08, 2, 0x28, 0]);
        // packed input is accepted too
        let packed = [0x0a, 2, 1, 2, 0x28, 0];
        assert_eq!(ConfState::decode(&packed[..]).unwrap(), cs);
    }

    #[test]
    fn snapshot_metadata_from_appendix_a() {
        // 3.5 WAL snapshot record's conf_state + the .snap metadata layout
        let md = SnapshotMetadata {
            conf_state: ConfState { voters: vec![1608544175929105451], ..Default::default() },
            index: 1,
            term: 1,
        };
        assert_eq!(md.encode_to_vec(), hex("0a0c08abb89c9efdccaca9162800 1001 1801"));
        let snap = Snapshot { data: None, metadata: md.clone() };
        let enc = snap.encode_to_vec();
        assert_eq!(enc[0], 0x12);
        assert_eq!(Snapshot::decode(&enc[..]).unwrap(), snap);
    }

    #[test]
    fn entry_without_data_and_conf_change_v2_round_trip() {
        let e = Entry { r#type: 0, term: 2, index: 5, data: None };
        assert_eq!(e.encode_to_vec(), [0x08, 0, 0x10, 2, 0x18, 5]);
        let e2 = Entry { data: Some(vec![]), ..e.clone() };
        assert_eq!(e2.encode_to_vec(), [0x08, 0, 0x10, 2, 0x18, 5, 0x22, 0]);
        assert_eq!(Entry::decode(&e2.encode_to_vec()[..]).unwrap(), e2);
        let cc = ConfChangeV2 {
            transition: ConfChangeTransition::ConfChangeTransitionJointExplicit as i32,
            changes: vec![ConfChangeSingle { r#type: 3, node_id: 9 }],
            context: None,
        };
        assert_eq!(cc.encode_to_vec(), [0x08, 2, 0x12, 4, 0x08, 3, 0x10, 9]);
        assert_eq!(ConfChangeV2::decode(&cc.encode_to_vec()[..]).unwrap(), cc);
    }
}

/// etcd 3.7 serialises raftpb with google-protobuf and explicit presence
/// (go.etcd.io/raft 3.7): a field the code never set is not written, where
/// gogo wrote every required scalar. What `etcdutl snapshot restore` 3.7
/// sets, and so writes, was observed on real 3.7.3 output:
/// `ConfChange{Type, NodeID, Context}` (no `08 00` for the unset id) and
/// `ConfState{Voters}` (no `28 00` for the unset auto_leave).
pub mod presence {
    use prost::encoding::{bool as pbool, bytes as pbytes, uint64};

    use super::{ConfChange, ConfState, Snapshot, SnapshotMetadata};

    /// [`ConfChange`] with `id` written only when non-zero.
    pub fn conf_change(cc: &ConfChange) -> Vec<u8> {
        let mut b = Vec::new();
        if cc.id != 0 {
            uint64::encode(1, &cc.id, &mut b);
        }
        prost::encoding::int32::encode(2, &cc.r#type, &mut b);
        uint64::encode(3, &cc.node_id, &mut b);
        if let Some(ctx) = &cc.context {
            pbytes::encode(4, ctx, &mut b);
        }
        b
    }

    /// [`ConfState`] with `auto_leave` written only when true.
    pub fn conf_state(cs: &ConfState) -> Vec<u8> {
        let mut b = Vec::new();
        for (tag, ids) in [(1, &cs.voters), (2, &cs.learners), (3, &cs.voters_outgoing), (4, &cs.learners_next)] {
            for id in ids {
                uint64::encode(tag, id, &mut b);
            }
        }
        if cs.auto_leave {
            pbool::encode(5, &cs.auto_leave, &mut b);
        }
        b
    }

    /// `raftpb.SnapshotMetadata` with a presence-encoded conf state.
    pub fn snapshot_metadata(m: &SnapshotMetadata) -> Vec<u8> {
        let mut b = Vec::new();
        pbytes::encode(1, &conf_state(&m.conf_state), &mut b);
        uint64::encode(2, &m.index, &mut b);
        uint64::encode(3, &m.term, &mut b);
        b
    }

    /// `raftpb.Snapshot` with presence-encoded metadata.
    pub fn snapshot(s: &Snapshot) -> Vec<u8> {
        let mut b = Vec::new();
        if let Some(d) = &s.data {
            pbytes::encode(1, d, &mut b);
        }
        pbytes::encode(2, &snapshot_metadata(&s.metadata), &mut b);
        b
    }

    /// `walpb.Snapshot` with a presence-encoded conf state.
    pub fn wal_snapshot(s: &crate::proto::walpb::Snapshot) -> Vec<u8> {
        let mut b = Vec::new();
        uint64::encode(1, &s.index, &mut b);
        uint64::encode(2, &s.term, &mut b);
        if let Some(cs) = &s.conf_state {
            pbytes::encode(3, &conf_state(cs), &mut b);
        }
        b
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use prost::Message;

        #[test]
        fn omits_unset_fields_and_decodes_back() {
            let cc = ConfChange { id: 0, r#type: 0, node_id: 7, context: Some(b"{}".to_vec()) };
            let b = conf_change(&cc);
            assert_eq!(b, [0x10, 0x00, 0x18, 0x07, 0x22, 0x02, b'{', b'}']);
            assert_eq!(ConfChange::decode(b.as_slice()).unwrap(), cc);
            let cs = ConfState { voters: vec![1, 2], ..Default::default() };
            assert_eq!(conf_state(&cs), [0x08, 1, 0x08, 2]);
            assert_eq!(ConfState::decode(conf_state(&cs).as_slice()).unwrap(), cs);
            let s = Snapshot { data: Some(vec![1]), metadata: SnapshotMetadata { conf_state: cs, index: 1, term: 1 } };
            assert_eq!(Snapshot::decode(snapshot(&s).as_slice()).unwrap(), s);
            // the gogo form is two bytes longer (the `28 00` of auto_leave)
            assert_eq!(s.encode_to_vec().len(), snapshot(&s).len() + 2);
        }
    }
}
