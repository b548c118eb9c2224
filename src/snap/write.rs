//! Writing `.snap` files and the v2 store JSON that `snapshot restore`
//! puts in them (FORMATS.md §8.1, §8.3, §10.3 step 4).
//!
//! ```text
//! snappb.snapshot { 1 crc = CRC32C(data), 2 data = raftpb.Snapshot {
//!     1 data = v2 store JSON, 2 metadata = {conf_state, index, term} } }
//! ```
//!
//! The JSON is what Go's `json.Marshal` makes of a fresh v2 store
//! (`v2store.New("/0", "/1")`) after one `Create` of
//! `/0/members/<hex id>/raftAttributes` per member, in the order given:
//! object keys in struct order, map keys (`Children`) sorted, no spaces,
//! strings escaped as Go escapes them (`<`, `>`, `&`, U+2028/9 as `\uXXXX`),
//! and the watcher's event ring as an array of exactly 1000 slots (unused
//! ones `null`), because etcd indexes it directly when it records a later
//! v2 write.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use prost::Message;

use crate::error::{Error, Result};
use crate::proto::{raftpb, snappb};

/// The v2 event history's ring size (`newEventHistory(1000)`).
pub const EVENT_QUEUE_CAPACITY: usize = 1000;
/// `ExpireTime` of permanent nodes (Go's zero `time.Time`).
const PERMANENT: &str = "0001-01-01T00:00:00Z";

/// A string as Go's `encoding/json` writes it (with HTML escaping on, the
/// default of `json.Marshal`; Go before 1.22 writes `\b` and `\f` as
/// `\u0008`/`\u000c`, as etcd 3.4/3.5 binaries do).
pub fn go_json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON array of Go-escaped strings.
pub fn go_json_string_array(items: &[String]) -> String {
    let parts: Vec<String> = items.iter().map(|s| go_json_string(s)).collect();
    format!("[{}]", parts.join(","))
}

/// One member as `snapshot restore` stores it in the v2 store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2Member {
    pub id: u64,
    /// Sorted, as etcd's `types.URLs` are.
    pub peer_urls: Vec<String>,
}

impl V2Member {
    /// `json.Marshal(membership.RaftAttributes)` (no learners in a restore).
    pub fn raft_attributes(&self) -> String {
        format!(r#"{{"peerURLs":{}}}"#, go_json_string_array(&self.peer_urls))
    }
}

/// A v2 store node in the order Go marshals `v2store.node`.
struct Node {
    path: String,
    index: u64,
    /// `Some` for keys; directories have value "".
    value: Option<String>,
    children: BTreeMap<String, Node>,
}

impl Node {
    fn dir(path: &str, index: u64) -> Node {
        Node { path: path.to_owned(), index, value: None, children: BTreeMap::new() }
    }
    fn write(&self, out: &mut String) {
        let _ = write!(
            out,
            r#"{{"Path":{},"CreatedIndex":{i},"ModifiedIndex":{i},"ExpireTime":"{PERMANENT}","Value":{},"Children":"#,
            go_json_string(&self.path),
            go_json_string(self.value.as_deref().unwrap_or("")),
            i = self.index
        );
        if self.value.is_some() {
            out.push_str("null");
        } else {
            out.push('{');
            for (i, (name, child)) in self.children.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&go_json_string(name));
                out.push(':');
                child.write(out);
            }
            out.push('}');
        }
        out.push('}');
    }
}

/// The v2 store JSON after creating `members` in order (member *k*,
/// 1-based, gets index *k*; `/0/members` is created with the first).
pub fn v2_store_json(members: &[V2Member]) -> String {
    v2_store_json_with(members, 0)
}

/// [`v2_store_json`] with `getsFail` = `gets_fail` (3.6+'s restore builds
/// the store with one failed get of `/0/members`).
pub fn v2_store_json_with(members: &[V2Member], gets_fail: u64) -> String {
    let mut root = Node::dir("/", 0);
    let mut zero = Node::dir("/0", 0);
    let one = Node::dir("/1", 0);
    let mut dir = Node::dir("/0/members", 1);
    let mut events: Vec<String> = Vec::new();
    for (k, m) in members.iter().enumerate() {
        let index = k as u64 + 1;
        let hex = format!("{:x}", m.id);
        let mpath = format!("/0/members/{hex}");
        let key = format!("{mpath}/raftAttributes");
        let value = m.raft_attributes();
        let mut mdir = Node::dir(&mpath, index);
        mdir.children.insert(
            "raftAttributes".into(),
            Node { path: key.clone(), index, value: Some(value.clone()), children: BTreeMap::new() },
        );
        dir.children.insert(hex, mdir);
        events.push(format!(
            r#"{{"action":"create","node":{{"key":{},"value":{},"modifiedIndex":{index},"createdIndex":{index}}}}}"#,
            go_json_string(&key),
            go_json_string(&value)
        ));
    }
    if !members.is_empty() {
        zero.children.insert("members".into(), dir);
    }
    root.children.insert("0".into(), zero);
    root.children.insert("1".into(), one);

    // eventQueue.insert: Events[Back] = e; Back = (Back+1) % cap; Size
    // grows to cap, then Front advances.
    let mut ring: Vec<Option<&String>> = vec![None; EVENT_QUEUE_CAPACITY];
    let (mut front, mut back, mut size) = (0usize, 0usize, 0usize);
    for e in &events {
        if let Some(slot) = ring.get_mut(back) {
            *slot = Some(e);
        }
        back = (back + 1) % EVENT_QUEUE_CAPACITY;
        if size == EVENT_QUEUE_CAPACITY {
            front = (front + 1) % EVENT_QUEUE_CAPACITY;
        } else {
            size += 1;
        }
    }
    let n = members.len() as u64;
    // StartIndex = index of the event at Front (0 when there is none).
    let start_index = if size == 0 { 0 } else { n - size as u64 + 1 };

    let mut out = String::with_capacity(8192);
    out.push_str(r#"{"Root":"#);
    root.write(&mut out);
    out.push_str(r#","WatcherHub":{"EventHistory":{"Queue":{"Events":["#);
    for (i, slot) in ring.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(slot.map_or("null", |s| s.as_str()));
    }
    let _ = write!(
        out,
        r#"],"Size":{size},"Front":{front},"Back":{back},"Capacity":{EVENT_QUEUE_CAPACITY}}},"StartIndex":{start_index},"LastIndex":{n}}}}},"CurrentIndex":{n},"#
    );
    let _ = write!(
        out,
        r#""Stats":{{"getsSuccess":0,"getsFail":{gets_fail},"setsSuccess":0,"setsFail":0,"deleteSuccess":0,"deleteFail":0,"updateSuccess":0,"updateFail":0,"createSuccess":{n},"createFail":0,"compareAndSwapSuccess":0,"compareAndSwapFail":0,"compareAndDeleteSuccess":0,"compareAndDeleteFail":0,"expireCount":0,"watchers":0}},"CurrentVersion":2}}"#
    );
    out
}

/// The bytes of a `.snap` file: `snappb.snapshot{crc, data}`.
pub fn encode_snap(snapshot: &raftpb::Snapshot) -> Vec<u8> {
    encode_snap_bytes(snapshot.encode_to_vec())
}

/// The bytes of a `.snap` file around an already encoded `raftpb.Snapshot`.
pub fn encode_snap_bytes(data: Vec<u8>) -> Vec<u8> {
    snappb::Snapshot { crc: crc32c::crc32c(&data), data: Some(data) }.encode_to_vec()
}

/// `%016x-%016x.snap` (term first).
pub fn snap_file_name(term: u64, index: u64) -> String {
    format!("{term:016x}-{index:016x}.snap")
}

/// Create `path` (must not exist), mode 0644 as etcd's `WriteAndSyncFile`
/// with 0666 under the usual umask, write and fsync.
pub fn write_snap_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o644);
    }
    let mut f = o.open(path).map_err(|e| Error::io("create", path, &e))?;
    f.write_all(bytes).map_err(|e| Error::io("write", path, &e))?;
    f.sync_all().map_err(|e| Error::io("fsync", path, &e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testvec::{NODE_ID, SNAP_3423_SHA256, v2_store_3423};
    use sha2::{Digest, Sha256};

    fn appendix_member() -> V2Member {
        V2Member { id: NODE_ID, peer_urls: vec!["http://127.0.0.1:25801".into()] }
    }

    #[test]
    fn appendix_a_json_and_file() {
        let json = v2_store_json(&[appendix_member()]);
        assert_eq!(json, v2_store_3423());
        assert_eq!(json.matches(",null").count(), 999);
        let snap = raftpb::Snapshot {
            data: Some(json.into_bytes()),
            metadata: raftpb::SnapshotMetadata {
                conf_state: raftpb::ConfState { voters: vec![NODE_ID], ..Default::default() },
                index: 1,
                term: 1,
            },
        };
        let file = encode_snap(&snap);
        assert_eq!(file.len(), 6491);
        let sha: String = Sha256::digest(&file).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(sha, SNAP_3423_SHA256);
        assert_eq!(&file[..6], &[0x08, 0xa1, 0xd3, 0xc4, 0x8c, 0x03], "crc 0x319129a1");
        // and our reader accepts it
        let s = crate::snap::decode(&file).unwrap();
        assert_eq!((s.metadata.term, s.metadata.index), (1, 1));
        assert_eq!(snap_file_name(1, 1), "0000000000000001-0000000000000001.snap");
    }

    #[test]
    fn three_members_sorted_children_and_indexes() {
        let ms = [
            V2Member { id: 0xbe3e0bcbdc818b57, peer_urls: vec!["http://127.0.0.1:24802".into()] },
            V2Member { id: 0x9f611b9b8fd8bba1, peer_urls: vec!["http://127.0.0.1:24801".into()] },
            V2Member { id: 0x1, peer_urls: vec!["http://a:1".into(), "http://b:1".into()] },
        ];
        let json = v2_store_json(&ms);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        let members = &v["Root"]["Children"]["0"]["Children"]["members"];
        assert_eq!(members["CreatedIndex"], 1);
        let keys: Vec<&String> = members["Children"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["1", "9f611b9b8fd8bba1", "be3e0bcbdc818b57"]);
        // serde_json's map is sorted too; check the text order directly
        let p1 = json.find(r#""1":{"Path":"/0/members/1""#).unwrap();
        let p9 = json.find(r#""9f611b9b8fd8bba1":"#).unwrap();
        assert!(p1 < p9);
        assert_eq!(members["Children"]["be3e0bcbdc818b57"]["CreatedIndex"], 1);
        assert_eq!(members["Children"]["1"]["CreatedIndex"], 3);
        let q = &v["WatcherHub"]["EventHistory"]["Queue"];
        assert_eq!((q["Size"].as_u64(), q["Back"].as_u64(), q["Front"].as_u64()), (Some(3), Some(3), Some(0)));
        assert_eq!(q["Events"].as_array().unwrap().len(), 1000);
        assert_eq!(v["CurrentIndex"], 3);
        assert_eq!(v["Stats"]["createSuccess"], 3);
        assert_eq!(v["WatcherHub"]["EventHistory"]["StartIndex"], 1);
        let st = crate::snap::parse_v2_store(json.as_bytes(), 0).unwrap();
        assert!(st.problems.is_empty(), "{:?}", st.problems);
        assert_eq!(st.members.len(), 3);
    }

    #[test]
    fn go_escaping() {
        assert_eq!(go_json_string("a\"b\\c\n\t\r"), r#""a\"b\\c\n\t\r""#);
        assert_eq!(go_json_string("<&>\u{2028}\u{8}é"), r#""\u003c\u0026\u003e\u2028\u0008é""#);
    }
}
