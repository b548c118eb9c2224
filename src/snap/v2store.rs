//! The v2 store JSON inside `raftpb.Snapshot.data` (FORMATS.md §8.3).
//!
//! Written by etcd 3.4–3.6's v2 store (`json.Marshal` of the whole store,
//! `server/etcdserver/api/v2store/store.go`). We read only what forensics
//! needs: cluster membership and version under `/0`, and whether there is
//! v2 content under `/1` and `/2`.
//!
//! ```text
//! {"Root": node, "WatcherHub": {...}, "CurrentIndex": n, "Stats": {...}, "CurrentVersion": 2}
//! node = {"Path", "CreatedIndex", "ModifiedIndex", "ExpireTime", "Value", "Children"}
//!   Children: object keyed by last path element (directories), null (keys)
//! /0/members/<hexid>/raftAttributes  {"peerURLs":[...], "isLearner":true?}
//! /0/members/<hexid>/attributes      {"name":"...", "clientURLs":[...]}
//! /0/removed_members/<hexid>         ""
//! /0/version                         "3.4.0"
//! ```
//!
//! Checks, each recorded as a problem (not an error): a member directory
//! without `raftAttributes` or with other children (etcd 3.4/3.5 fail with
//! `unknown key`), member ids that are not hex, attribute values that are
//! not JSON, an event queue whose length is not its capacity. A JSON
//! syntax error is an [`Error`] with the file offset of the bad byte
//! (etcd panics `failed to recover from snapshot`). `serde_json` limits
//! nesting to 128 levels.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Location, Result};

/// A cluster member as the v2 store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub id: u64,
    pub peer_urls: Vec<String>,
    pub is_learner: bool,
    /// From `attributes`; absent until the member published itself.
    pub name: Option<String>,
    pub client_urls: Vec<String>,
    /// `CreatedIndex` of the member's directory (creation order).
    pub created_index: Option<u64>,
}

/// What the v2 store says about the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct V2Store {
    pub current_index: Option<u64>,
    /// `/0/version`.
    pub cluster_version: Option<String>,
    /// Sorted by id.
    pub members: Vec<Member>,
    /// `/0/removed_members`, sorted.
    pub removed: Vec<u64>,
    /// Children of `/1` (v2 user keys; etcd 3.6 refuses to boot with any).
    pub v2_keys: usize,
    /// `/2` exists (v2 auth data).
    pub has_v2_auth: bool,
    /// Inconsistencies found.
    pub problems: Vec<String>,
}

#[derive(Deserialize)]
struct RaftAttributes {
    #[serde(rename = "peerURLs", default)]
    peer_urls: Vec<String>,
    #[serde(rename = "isLearner", default)]
    is_learner: bool,
}

#[derive(Deserialize)]
struct Attributes {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "clientURLs", default)]
    client_urls: Vec<String>,
}

fn children(node: &Value) -> Option<&serde_json::Map<String, Value>> {
    node.get("Children")?.as_object()
}

fn child<'a>(node: &'a Value, name: &str) -> Option<&'a Value> {
    children(node)?.get(name)
}

fn value_str(node: &Value) -> Option<&str> {
    node.get("Value")?.as_str()
}

/// File offset of serde_json's (line, column) inside `json` starting at `base`.
fn json_offset(json: &[u8], base: u64, line: usize, column: usize) -> u64 {
    let mut line_start = 0usize;
    if line > 1 {
        let mut seen = 1usize;
        for (i, b) in json.iter().enumerate() {
            if *b == b'\n' {
                seen += 1;
                if seen == line {
                    line_start = i + 1;
                    break;
                }
            }
        }
    }
    base.saturating_add(line_start as u64).saturating_add(column.saturating_sub(1) as u64)
}

/// Parse the v2 store JSON; `base` is the file offset of `json[0]`.
pub fn parse_v2_store(json: &[u8], base: u64) -> Result<V2Store> {
    let v: Value = serde_json::from_slice(json).map_err(|e| {
        Error::at(ErrorKind::Malformed(format!("v2 store JSON: {e}")), json_offset(json, base, e.line(), e.column()))
    })?;
    let root = v.get("Root").ok_or_else(|| Error::malformed("v2 store JSON has no Root", Location::at(base)))?;
    let mut st = V2Store { current_index: v.get("CurrentIndex").and_then(Value::as_u64), ..Default::default() };

    if let Some(dir0) = child(root, "0") {
        if let Some(ver) = child(dir0, "version") {
            st.cluster_version = value_str(ver).map(str::to_owned);
        }
        if let Some(members) = child(dir0, "members").and_then(children) {
            for (hex, node) in members {
                let Ok(id) = u64::from_str_radix(hex, 16) else {
                    st.problems.push(format!("/0/members/{hex}: member id is not hex"));
                    continue;
                };
                let mut m = Member {
                    id,
                    peer_urls: Vec::new(),
                    is_learner: false,
                    name: None,
                    client_urls: Vec::new(),
                    created_index: node.get("CreatedIndex").and_then(Value::as_u64),
                };
                let kids = children(node);
                match kids.and_then(|k| k.get("raftAttributes")).and_then(value_str) {
                    Some(s) => match serde_json::from_str::<RaftAttributes>(s) {
                        Ok(ra) => {
                            m.peer_urls = ra.peer_urls;
                            m.is_learner = ra.is_learner;
                        }
                        Err(e) => st.problems.push(format!("/0/members/{hex}/raftAttributes: {e}")),
                    },
                    None => st
                        .problems
                        .push(format!("/0/members/{hex} has no raftAttributes (etcd 3.4/3.5 cannot load membership)")),
                }
                if let Some(s) = kids.and_then(|k| k.get("attributes")).and_then(value_str) {
                    match serde_json::from_str::<Attributes>(s) {
                        Ok(a) => {
                            m.name = a.name;
                            m.client_urls = a.client_urls;
                        }
                        Err(e) => st.problems.push(format!("/0/members/{hex}/attributes: {e}")),
                    }
                }
                for k in kids.into_iter().flat_map(|k| k.keys()) {
                    if k != "raftAttributes" && k != "attributes" {
                        st.problems.push(format!("/0/members/{hex}/{k}: unknown key (etcd 3.4/3.5 fail on it)"));
                    }
                }
                st.members.push(m);
            }
        }
        if let Some(removed) = child(dir0, "removed_members").and_then(children) {
            for hex in removed.keys() {
                match u64::from_str_radix(hex, 16) {
                    Ok(id) => st.removed.push(id),
                    Err(_) => st.problems.push(format!("/0/removed_members/{hex}: member id is not hex")),
                }
            }
        }
    } else {
        st.problems.push("no /0 directory (cluster metadata)".into());
    }
    st.v2_keys = child(root, "1").and_then(children).map_or(0, |c| c.len());
    st.has_v2_auth = child(root, "2").is_some();

    if let Some(q) = v.get("WatcherHub").and_then(|w| w.get("EventHistory")).and_then(|h| h.get("Queue")) {
        let cap = q.get("Capacity").and_then(Value::as_u64);
        let len = q.get("Events").and_then(Value::as_array).map(|a| a.len() as u64);
        if let (Some(c), Some(l)) = (cap, len) {
            if c != l {
                st.problems
                    .push(format!("event queue holds {l} slots but its capacity is {c} (etcd indexes it directly)"));
            }
        }
    }
    st.members.sort_by_key(|m| m.id);
    st.removed.sort_unstable();
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testvec::{NODE_ID, v2_store_3423};

    #[test]
    fn appendix_a_store() {
        let st = parse_v2_store(v2_store_3423().as_bytes(), 0).unwrap();
        assert_eq!(st.current_index, Some(1));
        assert_eq!(st.members.len(), 1);
        let m = &st.members[0];
        assert_eq!((m.id, m.is_learner, m.created_index), (NODE_ID, false, Some(1)));
        assert_eq!(m.peer_urls, ["http://127.0.0.1:25801"]);
        assert_eq!(m.name, None);
        assert_eq!((st.v2_keys, st.has_v2_auth), (0, false));
        assert!(st.problems.is_empty(), "{:?}", st.problems);
        assert_eq!(st.cluster_version, None);
    }

    #[test]
    fn members_attributes_removed_version() {
        let raft = |urls: &str, learner: bool| {
            serde_json::to_string(&format!(
                r#"{{"peerURLs":[{urls}]{}}}"#,
                if learner { r#","isLearner":true"# } else { "" }
            ))
            .unwrap()
        };
        let j = format!(
            r#"{{"Root":{{"Children":{{"0":{{"Children":{{
                "members":{{"Children":{{
                    "a":{{"CreatedIndex":1,"Children":{{"raftAttributes":{{"Value":{}}},"attributes":{{"Value":{}}}}}}},
                    "b":{{"Children":{{"raftAttributes":{{"Value":{}}}}}}},
                    "c":{{"Children":{{"attributes":{{"Value":"{{}}"}},"junk":{{}}}}}},
                    "zz":{{}}
                }}}},
                "removed_members":{{"Children":{{"d":{{"Value":""}}}}}},
                "version":{{"Value":"3.4.0"}}
            }}}},"1":{{"Children":{{"k":{{}}}}}},"2":{{}}}}}},"CurrentIndex":9}}"#,
            raft(r#""http://a:2380""#, false),
            serde_json::to_string(r#"{"name":"s1","clientURLs":["http://a:2379"]}"#).unwrap(),
            raft(r#""http://b:2380""#, true),
        );
        let st = parse_v2_store(j.as_bytes(), 0).unwrap();
        let ids: Vec<u64> = st.members.iter().map(|m| m.id).collect();
        assert_eq!(ids, [0xa, 0xb, 0xc]);
        assert_eq!(st.members[0].name.as_deref(), Some("s1"));
        assert_eq!(st.members[0].client_urls, ["http://a:2379"]);
        assert!(st.members[1].is_learner);
        assert_eq!(st.removed, [0xd]);
        assert_eq!(st.cluster_version.as_deref(), Some("3.4.0"));
        assert_eq!((st.v2_keys, st.has_v2_auth, st.current_index), (1, true, Some(9)));
        assert_eq!(st.problems.len(), 3, "{:?}", st.problems); // c: no raftAttributes, c/junk, zz
    }

    #[test]
    fn syntax_error_has_file_offset() {
        let e = parse_v2_store(br#"{"Root":{"Path":"/",}}"#, 1000).unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Malformed(_)));
        // serde_json reports the column of the offending byte
        let off = e.location().offset.unwrap();
        assert!((1000 + 18..=1000 + 21).contains(&off), "{off}");
        let e = parse_v2_store(b"{\n\"x\":\n!}", 10).unwrap_err();
        assert_eq!(e.location().offset, Some(10 + 7));
        assert!(parse_v2_store(b"{}", 0).is_err(), "no Root");
        // deep nesting is refused, not a stack overflow
        let deep = "[".repeat(100_000);
        assert!(parse_v2_store(deep.as_bytes(), 0).is_err());
    }
}
