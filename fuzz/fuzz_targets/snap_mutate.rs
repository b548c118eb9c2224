//! A valid `.snap`, damaged once, at one of its three layers: the file
//! (`snappb.snapshot{crc, data}`), the `raftpb.Snapshot` inside it (with
//! the envelope's CRC recomputed, so the damage gets past the checksum as
//! a bad writer's would), or the v2 store JSON a restore writes (re-wrapped
//! with a good CRC). The mutation is a bit flip, a byte set, a truncation
//! or up to 4 zeroed bytes.
//!
//! Properties:
//! * no panic in `decode`, `inspect_bytes` or the v2 store parser;
//! * file layer: a damaged file never decodes, unflagged, to the original
//!   snapshot (changes etcd cannot see, such as bits of a 5-byte crc varint
//!   past 32, leave the envelope not as etcd writes it: `canonical` false);
//! * `raftpb.Snapshot` layer: when our zero-copy decoder accepts the
//!   payload, prost decodes it to the same data and metadata;
//! * always: the report agrees with the decoder (loadable exactly when
//!   `decode` succeeds, same term and index), and its v2 store is exactly
//!   what the parser makes of the JSON.
#![no_main]

use std::path::Path;

use arbitrary::Arbitrary;
use etcd_forensics::proto::raftpb::{ConfState, Snapshot, SnapshotMetadata};
use etcd_forensics::snap::snapfile::{decode, inspect_bytes};
use etcd_forensics::snap::v2store::parse_v2_store;
use etcd_forensics::snap::write::{V2Member, encode_snap, encode_snap_bytes, v2_store_json};
use libfuzzer_sys::fuzz_target;
use prost::Message;

mod mutation;
use mutation::Mutation;

#[derive(Arbitrary, Debug)]
enum Layer {
    File,
    Payload,
    Json,
}

#[derive(Arbitrary, Debug)]
struct Input {
    members: Vec<(u64, Vec<String>)>,
    voters: Vec<u64>,
    learners: Vec<u64>,
    index: u64,
    term: u64,
    layer: Layer,
    mutation: Mutation,
}

fn mutate(mut b: Vec<u8>, m: Mutation) -> Vec<u8> {
    m.apply(&mut b);
    b
}

fuzz_target!(|input: Input| {
    let members: Vec<V2Member> = input
        .members
        .into_iter()
        .take(8)
        .filter(|(id, _)| *id != 0)
        .map(|(id, mut urls)| {
            urls.truncate(3);
            V2Member { id, peer_urls: urls }
        })
        .collect();
    let json = v2_store_json(&members).into_bytes();
    let metadata = SnapshotMetadata {
        conf_state: ConfState { voters: input.voters, learners: input.learners, ..Default::default() },
        index: input.index,
        term: input.term,
    };
    let snap = Snapshot { data: Some(json.clone()), metadata: metadata.clone() };
    let original = encode_snap(&snap);
    if let Ok(s) = decode(&original) {
        assert!(s.canonical, "our writer's envelope is not as etcd writes it");
    }

    let file = match input.layer {
        Layer::File => {
            let file = mutate(original.clone(), input.mutation);
            if file != original {
                if let Ok(got) = decode(&file) {
                    let same = got.metadata == metadata && got.data == Some(&json[..]) && got.canonical;
                    let first = original.iter().zip(&file).position(|(a, b)| a != b);
                    assert!(!same, "damage at {first:?} went unnoticed");
                }
            }
            file
        }
        Layer::Payload => {
            let payload = mutate(snap.encode_to_vec(), input.mutation);
            let file = encode_snap_bytes(payload.clone());
            if let Ok(got) = decode(&file) {
                let theirs = Snapshot::decode(&payload[..]).expect("prost rejects a payload we accept");
                assert_eq!(got.metadata, theirs.metadata);
                assert_eq!(got.data, theirs.data.as_deref());
            }
            file
        }
        Layer::Json => {
            let json = mutate(json.clone(), input.mutation);
            encode_snap(&Snapshot { data: Some(json), metadata: metadata.clone() })
        }
    };

    let rep = inspect_bytes(Path::new("0000000000000001-0000000000000001.snap"), &file);
    match decode(&file) {
        Ok(got) => {
            assert!(rep.loadable(), "{:?}", rep.fault);
            assert_eq!((rep.term, rep.index), (Some(got.metadata.term), Some(got.metadata.index)));
            let parsed = parse_v2_store(got.data.unwrap_or(&[]), got.data_offset);
            assert_eq!(rep.store.as_ref(), parsed.as_ref().ok());
            assert_eq!(rep.store_error.is_some(), parsed.is_err());
        }
        Err(e) => {
            assert!(!rep.loadable());
            assert_eq!(rep.fault.map(|f| f.fault), Some(e.fault));
            assert!(rep.store.is_none());
        }
    }
});
