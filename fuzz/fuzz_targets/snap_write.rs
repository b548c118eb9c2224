//! The .snap writer against our reader: an arbitrary raftpb.Snapshot (any
//! payload, conf state, index and term) and an arbitrary v2-store member
//! list are encoded, decoded back, and must come back equal: the CRC
//! verifies, metadata and data are unchanged, the file name parses, and the
//! v2 store JSON we write for a restore lists exactly the members given.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use etcd_forensics::proto::raftpb::{ConfState, Snapshot, SnapshotMetadata};
use etcd_forensics::snap::snapfile::decode;
use etcd_forensics::snap::v2store::parse_v2_store;
use etcd_forensics::snap::write::{V2Member, encode_snap, snap_file_name, v2_store_json};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    data: Option<Vec<u8>>,
    voters: Vec<u64>,
    learners: Vec<u64>,
    index: u64,
    term: u64,
    members: Vec<(u64, Vec<String>)>,
}

fuzz_target!(|input: Input| {
    let metadata = SnapshotMetadata {
        conf_state: ConfState { voters: input.voters, learners: input.learners, ..Default::default() },
        index: input.index,
        term: input.term,
    };
    let snap = Snapshot { data: input.data.clone(), metadata: metadata.clone() };
    let file = encode_snap(&snap);
    let got = decode(&file).expect("our own .snap decodes");
    assert_eq!(got.metadata, metadata);
    assert_eq!(got.data, input.data.as_deref());
    let name = snap_file_name(input.term, input.index);
    assert_eq!(name, format!("{:016x}-{:016x}.snap", input.term, input.index));

    // Members as a restore writes them: unique non-zero ids, sorted URLs.
    let mut by_id: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (id, mut urls) in input.members.into_iter().take(16) {
        if id == 0 {
            continue;
        }
        urls.truncate(4);
        urls.sort();
        by_id.insert(id, urls);
    }
    let members: Vec<V2Member> = by_id.iter().map(|(id, urls)| V2Member { id: *id, peer_urls: urls.clone() }).collect();
    let json = v2_store_json(&members);
    let store = parse_v2_store(json.as_bytes(), 0).expect("our own v2 store parses");
    let back: BTreeMap<u64, Vec<String>> = store.members.iter().map(|m| (m.id, m.peer_urls.clone())).collect();
    assert_eq!(back, by_id, "{json}");
    assert!(store.members.iter().all(|m| !m.is_learner));
});
