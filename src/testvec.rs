//! Test vectors shared by the format modules' unit tests (FORMATS.md
//! Appendix A: etcdctl 3.4.23 `snapshot restore` of one member).

/// Bytes from a hex string; whitespace is ignored.
pub fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd hex string {s:?}");
    digits.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

/// Member id of the Appendix A restore.
pub const NODE_ID: u64 = 1608544175929105451;
/// Cluster id of the Appendix A restore.
pub const CLUSTER_ID: u64 = 10879771742534321957;

/// The first 256 bytes of `member/wal/0000000000000000-0000000000000000.wal`.
pub const WAL_3423: &str = "
04 00 00 00 00 00 00 84 08 04 10 00 00 00 00 00
1f 00 00 00 00 00 00 81 08 01 10 bb a6 95 a7 01
1a 15 08 ab b8 9c 9e fd cc ac a9 16 10 a5 8e dd
f8 99 d8 ad fe 96 01 00 0e 00 00 00 00 00 00 82
08 05 10 cd bb ef bc 08 1a 04 08 00 10 00 00 00
6e 00 00 00 00 00 00 82 08 02 10 f8 9b b2 ec 0c
1a 64 08 01 10 01 18 01 22 5c 08 00 10 00 18 ab
b8 9c 9e fd cc ac a9 16 22 4c 7b 22 69 64 22 3a
31 36 30 38 35 34 34 31 37 35 39 32 39 31 30 35
34 35 31 2c 22 70 65 65 72 55 52 4c 73 22 3a 5b
22 68 74 74 70 3a 2f 2f 31 32 37 2e 30 2e 30 2e
31 3a 32 35 38 30 31 22 5d 2c 22 6e 61 6d 65 22
3a 22 73 31 22 7d 00 00 18 00 00 00 00 00 00 00
08 03 10 b7 dc f9 c7 01 1a 0e 08 01 10 ab b8 9c
9e fd cc ac a9 16 18 01 0e 00 00 00 00 00 00 82
08 05 10 ea 8b a9 a4 01 1a 04 08 01 10 01 00 00
";

/// Record offsets and CRCs of [`WAL_3423`].
pub const WAL_3423_RECORDS: [(u64, i64, u32); 6] = [
    (0x00, 4, 0),
    (0x10, 1, 0x14e5533b),
    (0x38, 5, 0x879bddcd),
    (0x50, 2, 0xcd8c8df8),
    (0xc8, 3, 0x18fe6e37),
    (0xe8, 5, 0x148a45ea),
];

/// The 3.5 variant of the last record (SNAPSHOT{1,1} with conf_state).
pub const WAL_351_LAST: &str = "
1c 00 00 00 00 00 00 84 08 05 10 8b c8 9b ff 08 1a 12 08 01 10 01 1a 0c
08 ab b8 9c 9e fd cc ac a9 16 28 00 00 00 00 00
";

/// The Appendix A segment, preallocated with zeros to `len` bytes (the real
/// file is 64 000 000 bytes; tests use less).
pub fn wal_3423(len: usize) -> Vec<u8> {
    let mut v = hex(WAL_3423);
    assert!(len >= v.len());
    v.resize(len, 0);
    v
}

/// The v2 store JSON of the Appendix A `.snap` (FORMATS.md §8.3, compact,
/// 999 `null`s in the event queue).
pub fn v2_store_3423() -> String {
    const E: &str = "0001-01-01T00:00:00Z";
    let node = |path: &str, idx: u64, val: &str, children: &str| {
        format!(
            r#"{{"Path":"{path}","CreatedIndex":{idx},"ModifiedIndex":{idx},"ExpireTime":"{E}","Value":{},"Children":{children}}}"#,
            serde_json::to_string(val).unwrap()
        )
    };
    let m = "1652b267d3c71c2b";
    let raft = r#"{"peerURLs":["http://127.0.0.1:25801"]}"#;
    let ra = node(&format!("/0/members/{m}/raftAttributes"), 1, raft, "null");
    let member = node(&format!("/0/members/{m}"), 1, "", &format!(r#"{{"raftAttributes":{ra}}}"#));
    let members = node("/0/members", 1, "", &format!(r#"{{"{m}":{member}}}"#));
    let n0 = node("/0", 0, "", &format!(r#"{{"members":{members}}}"#));
    let n1 = node("/1", 0, "", "{}");
    let root = node("/", 0, "", &format!(r#"{{"0":{n0},"1":{n1}}}"#));
    let ev = format!(
        r#"{{"action":"create","node":{{"key":"/0/members/{m}/raftAttributes","value":{},"modifiedIndex":1,"createdIndex":1}}}}"#,
        serde_json::to_string(raft).unwrap()
    );
    let events = format!("[{ev}{}]", ",null".repeat(999));
    let wh = format!(
        r#"{{"EventHistory":{{"Queue":{{"Events":{events},"Size":1,"Front":0,"Back":1,"Capacity":1000}},"StartIndex":1,"LastIndex":1}}}}"#
    );
    let stats = r#"{"getsSuccess":0,"getsFail":0,"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":1,"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}"#;
    format!(r#"{{"Root":{root},"WatcherHub":{wh},"CurrentIndex":1,"Stats":{stats},"CurrentVersion":2}}"#)
}

/// `member/snap/0000000000000001-0000000000000001.snap` of Appendix A,
/// built with our prost structs: 6491 bytes, envelope crc 0x319129a1,
/// SHA-256 [`SNAP_3423_SHA256`].
pub fn snap_3423() -> Vec<u8> {
    use crate::proto::{raftpb, snappb};
    use prost::Message;
    let snap = raftpb::Snapshot {
        data: Some(v2_store_3423().into_bytes()),
        metadata: raftpb::SnapshotMetadata {
            conf_state: raftpb::ConfState { voters: vec![NODE_ID], ..Default::default() },
            index: 1,
            term: 1,
        },
    }
    .encode_to_vec();
    snappb::Snapshot { crc: crc32c::crc32c(&snap), data: Some(snap) }.encode_to_vec()
}

/// SHA-256 of the Appendix A `.snap` file.
pub const SNAP_3423_SHA256: &str = "cb6fee11441f866ab79b2d19f1dc906256894019b6dbb734a2d691ead3d1b17a";
