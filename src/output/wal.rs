//! `wal` output: entries, errors, the header and `--summary`.
//!
//! # `-w json`
//!
//! JSON lines. A dump starts with `{"metadata": SUMMARY}`, then one line per
//! entry, in file order:
//!
//! ```text
//! {"term":2,"index":7,"type":"EntryNormal","op":"put","requestId":"5ac9...",
//!  "request":{"header":{"id":"5ac9..."},"put":{"key":"k","value":"v"}},
//!  "segment":"0000000000000000-0000000000000000.wal","offset":4096}
//! ```
//!
//! * `type`: the raft entry type, upstream name (`EntryNormal`,
//!   `EntryConfChange`, `EntryConfChangeV2`; another number if unknown);
//! * `op`: what the data holds: `noop` (leader's empty entry), an
//!   `InternalRaftRequest` field name (`put`, `delete_range`, `txn`,
//!   `compaction`, `lease_grant`, `auth_user_add`, `cluster_version_set`,
//!   …), `v2:<METHOD>` (bare v2 `Request`), `confchange:<Type>`,
//!   `confchangev2`, or `undecodable`;
//! * `requestId`: the id the apply path uses (`ID`, else `header.ID`; the
//!   v2 or conf change `ID`), omitted when 0;
//! * `request`: the decoded data: the `InternalRaftRequest` with its one
//!   request field (`{"header":…,"put":{…}}`, camelCase proto names),
//!   `{"v2":{…}}`, `{"confChange":{…}}` (its `context`, etcd's member
//!   JSON, embedded as JSON), `{"confChangeV2":{…}}`, `{}` for a no-op, or
//!   `{"undecodable":{"error","dataSize"}}` (undecodable bytes are never
//!   printed: they could be a damaged request holding a password);
//! * `crc`: only with `--raw` and only when not verified: `mismatch` (the
//!   record fails its CRC) or `unchecked` (first record after skipped bytes).
//!
//! Inside `request`: bytes fields (keys, values, range ends) are strings
//! when they are valid UTF-8, else base64 under the name plus `Base64`
//! (`"keyBase64":"AAEC"`); zero numbers, false flags and empty optional
//! bytes are omitted (keys and put values are always present); enums use
//! upstream names (`EQUAL`, `MOD`, `ConfChangeAddNode`, …). 64-bit ids are
//! lowercase hex strings: member, node and request ids as etcd prints
//! `types.ID` (`%x`), lease ids as etcdctl prints them (`%016x`).
//! Passwords, hashed passwords and simple tokens are `"<redacted>"`.
//!
//! Errors are lines `{"error": ERROR}`: without `--raw` only the first fault,
//! last, where reading stopped; with `--raw` each one where it was met.
//! ERROR is `{"segment","offset","kind","outcome","message","etcdMessage",
//! "note","resumeAt"}`: `segment` the file name, `offset` that of the
//! record's length word, `kind` the stable fault code (`wal.crc_mismatch`,
//! `wal.torn_tail`, …), `outcome` what etcd does (`repairs`, `fails`,
//! `panics`, `dropsSilently`), `resumeAt` (`--raw`) where reading went on.
//!
//! SUMMARY (also the one object `--summary -w json` prints):
//! `walDir`, `verdict` (`clean`, `repairable`, `damaged`), `nodeId` and
//! `clusterId` (hex strings, as etcd prints them) with `nodeIdDecimal` and
//! `clusterIdDecimal` (JSON numbers, as `etcdctl -w json` prints them),
//! `hardState` {`term`,`vote` (hex),`commit`}, `snapshots` [{`index`,`term`,
//! `voters`(3.5+)}], `firstIndex`, `lastIndex` (the highest raft index the
//! WAL holds: raft's last index or a higher SNAPSHOT record's), `lastTerm`,
//! `entryCount` (ENTRY records etcd reads; an unfiltered dump lists exactly
//! these), `overwrites`, `records`, `segments` (count), `segmentFiles`,
//! `firstError` (ERROR without `resumeAt`, or null), `repair` (where etcd
//! would cut the last segment and what it drops, or null), `anomalies`.
//! Absent values are null.

use std::io::{self, Write};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::jobs::wal::{CrcCheck, DumpError, DumpStats, EntryView, WalReport};
use crate::proto::DecodedRequest;
use crate::proto::etcdserverpb::{
    Compare, DeleteRangeRequest, InternalRaftRequest, PutRequest, RangeRequest, Request, RequestOp, TxnRequest,
    compare::TargetUnion, request_op,
};
use crate::proto::raftpb::{ConfChange, ConfChangeV2};
use crate::wal::{EtcdOutcome, WalError};

use super::WriteOut;

// ---------------------------------------------------------------------------
// An ordered JSON tree (serde_json's Map sorts keys; field order here is
// chosen for readers: key before value, term before index).

/// A JSON value whose objects keep the order they were built in.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Leaf(Value),
    Obj(Vec<(&'static str, Node)>),
    Arr(Vec<Node>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Leaf(v) => v.serialize(s),
            Node::Arr(items) => items.serialize(s),
            Node::Obj(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }
    }
}

impl Node {
    fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

fn leaf(v: impl Into<Value>) -> Node {
    Node::Leaf(v.into())
}

/// Builder of a [`Node::Obj`].
#[derive(Default)]
struct Obj(Vec<(&'static str, Node)>);

impl Obj {
    fn new() -> Self {
        Obj(Vec::new())
    }
    fn n(mut self, k: &'static str, v: Node) -> Self {
        self.0.push((k, v));
        self
    }
    fn v(self, k: &'static str, v: impl Into<Value>) -> Self {
        self.n(k, leaf(v))
    }
    /// Bytes as a UTF-8 string under `k`, or base64 under `kb`.
    fn bytes(self, k: &'static str, kb: &'static str, b: &[u8]) -> Self {
        match std::str::from_utf8(b) {
            Ok(s) => self.v(k, s),
            Err(_) => self.v(kb, base64(b)),
        }
    }
    fn bytes_nz(self, k: &'static str, kb: &'static str, b: &[u8]) -> Self {
        if b.is_empty() { self } else { self.bytes(k, kb, b) }
    }
    fn str_nz(self, k: &'static str, s: &str) -> Self {
        if s.is_empty() { self } else { self.v(k, s) }
    }
    fn i64_nz(self, k: &'static str, x: i64) -> Self {
        if x == 0 { self } else { self.v(k, x) }
    }
    fn u64_nz(self, k: &'static str, x: u64) -> Self {
        if x == 0 { self } else { self.v(k, x) }
    }
    fn flag(self, k: &'static str, b: bool) -> Self {
        if b { self.v(k, true) } else { self }
    }
    fn id(self, k: &'static str, id: u64) -> Self {
        self.v(k, hex_id(id))
    }
    fn id_nz(self, k: &'static str, id: u64) -> Self {
        if id == 0 { self } else { self.id(k, id) }
    }
    fn lease_nz(self, k: &'static str, id: i64) -> Self {
        if id == 0 { self } else { self.v(k, lease_id(id)) }
    }
    /// An enum by upstream name (its number if unknown).
    fn en(self, k: &'static str, x: i32, names: &[&'static str]) -> Self {
        let v = match usize::try_from(x).ok().and_then(|i| names.get(i)) {
            Some(name) => Value::from(*name),
            None => Value::from(x),
        };
        self.n(k, Node::Leaf(v))
    }
    fn en_nz(self, k: &'static str, x: i32, names: &[&'static str]) -> Self {
        if x == 0 { self } else { self.en(k, x, names) }
    }
    fn done(self) -> Node {
        Node::Obj(self.0)
    }
}

/// A member/node/request id as etcd's `types.ID` prints it.
pub fn hex_id(id: u64) -> String {
    format!("{id:x}")
}

/// A lease id as etcdctl prints it (`%016x`).
pub fn lease_id(id: i64) -> String {
    format!("{:016x}", id as u64)
}

pub use crate::bytes::base64;

// ---------------------------------------------------------------------------
// Requests

const ENTRY_TYPES: &[&str] = &["EntryNormal", "EntryConfChange", "EntryConfChangeV2"];
const SORT_ORDER: &[&str] = &["NONE", "ASCEND", "DESCEND"];
const SORT_TARGET: &[&str] = &["KEY", "VERSION", "CREATE", "MOD", "VALUE"];
const COMPARE_RESULT: &[&str] = &["EQUAL", "GREATER", "LESS", "NOT_EQUAL"];
const COMPARE_TARGET: &[&str] = &["VERSION", "CREATE", "MOD", "VALUE", "LEASE"];
const ALARM_ACTION: &[&str] = &["GET", "ACTIVATE", "DEACTIVATE"];
const ALARM_TYPE: &[&str] = &["NONE", "NOSPACE", "CORRUPT"];
const PERM_TYPE: &[&str] = &["READ", "WRITE", "READWRITE"];
const CONF_CHANGE_TYPE: &[&str] =
    &["ConfChangeAddNode", "ConfChangeRemoveNode", "ConfChangeUpdateNode", "ConfChangeAddLearnerNode"];
const CONF_CHANGE_TRANSITION: &[&str] =
    &["ConfChangeTransitionAuto", "ConfChangeTransitionJointImplicit", "ConfChangeTransitionJointExplicit"];

fn range(r: &RangeRequest) -> Node {
    Obj::new()
        .bytes("key", "keyBase64", &r.key)
        .bytes_nz("rangeEnd", "rangeEndBase64", &r.range_end)
        .i64_nz("limit", r.limit)
        .i64_nz("revision", r.revision)
        .en_nz("sortOrder", r.sort_order, SORT_ORDER)
        .en_nz("sortTarget", r.sort_target, SORT_TARGET)
        .flag("serializable", r.serializable)
        .flag("keysOnly", r.keys_only)
        .flag("countOnly", r.count_only)
        .i64_nz("minModRevision", r.min_mod_revision)
        .i64_nz("maxModRevision", r.max_mod_revision)
        .i64_nz("minCreateRevision", r.min_create_revision)
        .i64_nz("maxCreateRevision", r.max_create_revision)
        .done()
}

fn put(r: &PutRequest) -> Node {
    Obj::new()
        .bytes("key", "keyBase64", &r.key)
        .bytes("value", "valueBase64", &r.value)
        .lease_nz("lease", r.lease)
        .flag("prevKv", r.prev_kv)
        .flag("ignoreValue", r.ignore_value)
        .flag("ignoreLease", r.ignore_lease)
        .done()
}

fn delete_range(r: &DeleteRangeRequest) -> Node {
    Obj::new()
        .bytes("key", "keyBase64", &r.key)
        .bytes_nz("rangeEnd", "rangeEndBase64", &r.range_end)
        .flag("prevKv", r.prev_kv)
        .done()
}

fn compare(c: &Compare) -> Node {
    let o = Obj::new()
        .en("result", c.result, COMPARE_RESULT)
        .en("target", c.target, COMPARE_TARGET)
        .bytes("key", "keyBase64", &c.key)
        .bytes_nz("rangeEnd", "rangeEndBase64", &c.range_end);
    match &c.target_union {
        None => o,
        Some(TargetUnion::Version(v)) => o.v("version", *v),
        Some(TargetUnion::CreateRevision(v)) => o.v("createRevision", *v),
        Some(TargetUnion::ModRevision(v)) => o.v("modRevision", *v),
        Some(TargetUnion::Value(v)) => o.bytes("value", "valueBase64", v),
        Some(TargetUnion::Lease(v)) => o.v("lease", lease_id(*v)),
    }
    .done()
}

fn request_op(op: &RequestOp) -> Node {
    match &op.request {
        None => Obj::new().done(),
        Some(request_op::Request::RequestRange(r)) => Obj::new().n("requestRange", range(r)).done(),
        Some(request_op::Request::RequestPut(r)) => Obj::new().n("requestPut", put(r)).done(),
        Some(request_op::Request::RequestDeleteRange(r)) => Obj::new().n("requestDeleteRange", delete_range(r)).done(),
        // Nesting is bounded: prost refuses messages nested over 100 deep.
        Some(request_op::Request::RequestTxn(t)) => Obj::new().n("requestTxn", txn(t)).done(),
    }
}

fn txn(t: &TxnRequest) -> Node {
    Obj::new()
        .n("compare", Node::Arr(t.compare.iter().map(compare).collect()))
        .n("success", Node::Arr(t.success.iter().map(request_op).collect()))
        .n("failure", Node::Arr(t.failure.iter().map(request_op).collect()))
        .done()
}

fn v2(r: &Request) -> Node {
    let mut o = Obj::new()
        .id("id", r.id)
        .v("method", r.method.as_str())
        .v("path", r.path.as_str())
        .v("val", r.val.as_str())
        .flag("dir", r.dir)
        .str_nz("prevValue", &r.prev_value)
        .u64_nz("prevIndex", r.prev_index);
    if let Some(p) = r.prev_exist {
        o = o.v("prevExist", p);
    }
    o = o
        .i64_nz("expiration", r.expiration)
        .flag("wait", r.wait)
        .u64_nz("since", r.since)
        .flag("recursive", r.recursive)
        .flag("sorted", r.sorted)
        .flag("quorum", r.quorum)
        .i64_nz("time", r.time)
        .flag("stream", r.stream);
    if let Some(p) = r.refresh {
        o = o.v("refresh", p);
    }
    o.done()
}

/// A conf change context: etcd's member JSON, embedded when it parses.
fn context(o: Obj, ctx: Option<&[u8]>) -> Obj {
    match ctx {
        None => o,
        Some(c) => match serde_json::from_slice::<Value>(c) {
            Ok(v) => o.v("context", v),
            Err(_) => o.bytes("context", "contextBase64", c),
        },
    }
}

fn conf_change(c: &ConfChange) -> Node {
    let o = Obj::new().id("id", c.id).en("type", c.r#type, CONF_CHANGE_TYPE).id("nodeId", c.node_id);
    context(o, c.context.as_deref()).done()
}

fn conf_change_v2(c: &ConfChangeV2) -> Node {
    let changes = c
        .changes
        .iter()
        .map(|s| Obj::new().en("type", s.r#type, CONF_CHANGE_TYPE).id("nodeId", s.node_id).done())
        .collect();
    let o = Obj::new().en("transition", c.transition, CONF_CHANGE_TRANSITION).n("changes", Node::Arr(changes));
    context(o, c.context.as_deref()).done()
}

/// The one request field of an `InternalRaftRequest`: (camelCase name, value).
fn internal_op(r: &InternalRaftRequest) -> Option<(&'static str, Node)> {
    let empty = || Obj::new().done();
    let found = if let Some(x) = &r.v2 {
        ("v2", v2(x))
    } else if let Some(x) = &r.range {
        ("range", range(x))
    } else if let Some(x) = &r.put {
        ("put", put(x))
    } else if let Some(x) = &r.delete_range {
        ("deleteRange", delete_range(x))
    } else if let Some(x) = &r.txn {
        ("txn", txn(x))
    } else if let Some(x) = &r.compaction {
        ("compaction", Obj::new().v("revision", x.revision).flag("physical", x.physical).done())
    } else if let Some(x) = &r.lease_grant {
        ("leaseGrant", Obj::new().v("ttl", x.ttl).lease_nz("id", x.id).done())
    } else if let Some(x) = &r.lease_revoke {
        ("leaseRevoke", Obj::new().v("id", lease_id(x.id)).done())
    } else if let Some(x) = &r.alarm {
        let o = Obj::new().en("action", x.action, ALARM_ACTION).id("memberId", x.member_id);
        ("alarm", o.en("alarm", x.alarm, ALARM_TYPE).done())
    } else if let Some(x) = &r.lease_checkpoint {
        let cps = x
            .checkpoints
            .iter()
            .map(|c| Obj::new().v("id", lease_id(c.id)).v("remainingTtl", c.remaining_ttl).done())
            .collect();
        ("leaseCheckpoint", Obj::new().n("checkpoints", Node::Arr(cps)).done())
    } else if r.auth_enable.is_some() {
        ("authEnable", empty())
    } else if r.auth_disable.is_some() {
        ("authDisable", empty())
    } else if let Some(x) = &r.authenticate {
        let o = Obj::new().v("name", x.name.as_str()).str_nz("password", &x.password);
        ("authenticate", o.str_nz("simpleToken", &x.simple_token).done())
    } else if r.auth_status.is_some() {
        ("authStatus", empty())
    } else if let Some(x) = &r.auth_user_add {
        let mut o = Obj::new()
            .v("name", x.name.as_str())
            .str_nz("password", &x.password)
            .str_nz("hashedPassword", &x.hashed_password);
        if let Some(opt) = &x.options {
            o = o.n("options", Obj::new().v("noPassword", opt.no_password).done());
        }
        ("authUserAdd", o.done())
    } else if let Some(x) = &r.auth_user_delete {
        ("authUserDelete", Obj::new().v("name", x.name.as_str()).done())
    } else if let Some(x) = &r.auth_user_get {
        ("authUserGet", Obj::new().v("name", x.name.as_str()).done())
    } else if let Some(x) = &r.auth_user_change_password {
        let o = Obj::new().v("name", x.name.as_str()).str_nz("password", &x.password);
        ("authUserChangePassword", o.str_nz("hashedPassword", &x.hashed_password).done())
    } else if let Some(x) = &r.auth_user_grant_role {
        ("authUserGrantRole", Obj::new().v("user", x.user.as_str()).v("role", x.role.as_str()).done())
    } else if let Some(x) = &r.auth_user_revoke_role {
        ("authUserRevokeRole", Obj::new().v("name", x.name.as_str()).v("role", x.role.as_str()).done())
    } else if r.auth_user_list.is_some() {
        ("authUserList", empty())
    } else if r.auth_role_list.is_some() {
        ("authRoleList", empty())
    } else if let Some(x) = &r.auth_role_add {
        ("authRoleAdd", Obj::new().v("name", x.name.as_str()).done())
    } else if let Some(x) = &r.auth_role_delete {
        ("authRoleDelete", Obj::new().v("role", x.role.as_str()).done())
    } else if let Some(x) = &r.auth_role_get {
        ("authRoleGet", Obj::new().v("role", x.role.as_str()).done())
    } else if let Some(x) = &r.auth_role_grant_permission {
        let mut o = Obj::new().v("name", x.name.as_str());
        if let Some(p) = &x.perm {
            let perm = Obj::new().en("permType", p.perm_type, PERM_TYPE).bytes("key", "keyBase64", &p.key).bytes_nz(
                "rangeEnd",
                "rangeEndBase64",
                &p.range_end,
            );
            o = o.n("perm", perm.done());
        }
        ("authRoleGrantPermission", o.done())
    } else if let Some(x) = &r.auth_role_revoke_permission {
        let o = Obj::new().v("role", x.role.as_str()).bytes("key", "keyBase64", &x.key).bytes_nz(
            "rangeEnd",
            "rangeEndBase64",
            &x.range_end,
        );
        ("authRoleRevokePermission", o.done())
    } else if let Some(x) = &r.cluster_version_set {
        ("clusterVersionSet", Obj::new().v("ver", x.ver.as_str()).done())
    } else if let Some(x) = &r.cluster_member_attr_set {
        let mut o = Obj::new().id("memberId", x.member_id);
        if let Some(a) = &x.member_attributes {
            let urls = a.client_urls.iter().map(|u| leaf(u.as_str())).collect();
            o = o.n("memberAttributes", Obj::new().v("name", a.name.as_str()).n("clientUrls", Node::Arr(urls)).done());
        }
        ("clusterMemberAttrSet", o.done())
    } else if let Some(x) = &r.downgrade_info_set {
        ("downgradeInfoSet", Obj::new().v("enabled", x.enabled).v("ver", x.ver.as_str()).done())
    } else if let Some(x) = &r.downgrade_version_test {
        ("downgradeVersionTest", Obj::new().v("ver", x.ver.as_str()).done())
    } else {
        return None;
    };
    Some(found)
}

/// The request id of an entry's data, if any (0 = none).
pub fn request_id(req: &DecodedRequest) -> u64 {
    match req {
        DecodedRequest::Internal(r) => r.request_id(),
        DecodedRequest::V2(r) => r.id,
        DecodedRequest::ConfChange(c) => c.id,
        _ => 0,
    }
}

/// The `request` object of an entry (see the module docs).
pub fn request_node(e: &EntryView<'_>) -> Node {
    match &e.request {
        DecodedRequest::Empty => Obj::new().done(),
        DecodedRequest::Internal(r) => {
            let mut o = Obj::new().id_nz("id", r.id);
            if let Some(h) = &r.header {
                let hdr = Obj::new()
                    .id_nz("id", h.id)
                    .str_nz("username", &h.username)
                    .u64_nz("authRevision", h.auth_revision);
                o = o.n("header", hdr.done());
            }
            if let Some((k, v)) = internal_op(r) {
                o = o.n(k, v);
            }
            o.done()
        }
        DecodedRequest::V2(r) => Obj::new().n("v2", v2(r)).done(),
        DecodedRequest::ConfChange(c) => Obj::new().n("confChange", conf_change(c)).done(),
        DecodedRequest::ConfChangeV2(c) => Obj::new().n("confChangeV2", conf_change_v2(c)).done(),
        DecodedRequest::Undecodable { error, .. } => {
            let u = Obj::new().v("error", error.as_str()).v("dataSize", e.data_len as u64);
            Obj::new().n("undecodable", u.done()).done()
        }
    }
}

// ---------------------------------------------------------------------------
// Entries

fn file_name(p: &std::path::Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// One entry as a JSON line object.
pub fn entry_node(e: &EntryView<'_>) -> Node {
    let mut o = Obj::new()
        .v("term", e.term)
        .v("index", e.index)
        .en("type", e.entry_type, ENTRY_TYPES)
        .v("op", e.request.label())
        .id_nz("requestId", request_id(&e.request))
        .n("request", request_node(e))
        .v("segment", file_name(e.segment))
        .v("offset", e.offset);
    match e.crc {
        CrcCheck::Verified => {}
        CrcCheck::Mismatch => o = o.v("crc", "mismatch"),
        CrcCheck::Unchecked => o = o.v("crc", "unchecked"),
    }
    o.done()
}

/// etcd-dump-logs' short type column.
fn short_type(t: i32) -> String {
    match t {
        0 => "norm".into(),
        1 => "conf".into(),
        2 => "confv2".into(),
        other => format!("type{other}"),
    }
}

/// The data column of `-w simple`: the op, the request id, and the
/// request's fields as compact JSON.
pub fn entry_text(e: &EntryView<'_>) -> String {
    let label = e.request.label();
    let mut s = match &e.request {
        DecodedRequest::Empty => label,
        DecodedRequest::Internal(r) => {
            let mut s = label;
            let id = r.request_id();
            if id != 0 {
                s.push_str(&format!(" id={id:x}"));
            }
            if let Some(user) = r.header.as_ref().map(|h| h.username.as_str()).filter(|u| !u.is_empty()) {
                s.push_str(&format!(" user={user}"));
            }
            if let Some((_, v)) = internal_op(r) {
                s.push(' ');
                s.push_str(&v.to_json());
            }
            s
        }
        DecodedRequest::V2(r) => format!("{label} {}", v2(r).to_json()),
        DecodedRequest::ConfChange(c) => format!("{label} {}", conf_change(c).to_json()),
        DecodedRequest::ConfChangeV2(c) => format!("{label} {}", conf_change_v2(c).to_json()),
        DecodedRequest::Undecodable { error, .. } => format!("{label} ({} bytes): {error}", e.data_len),
    };
    match e.crc {
        CrcCheck::Verified => {}
        CrcCheck::Mismatch => s.push_str(" [crc mismatch]"),
        CrcCheck::Unchecked => s.push_str(" [crc unchecked]"),
    }
    s
}

pub fn print_entry(w: &mut dyn Write, e: &EntryView<'_>, how: WriteOut) -> io::Result<()> {
    match how {
        WriteOut::Json => writeln!(w, "{}", entry_node(e).to_json()),
        _ => writeln!(w, "{:>4}\t{:>10}\t{}\t{}", e.term, e.index, short_type(e.entry_type), entry_text(e)),
    }
}

// ---------------------------------------------------------------------------
// Errors

fn outcome_name(o: EtcdOutcome) -> &'static str {
    match o {
        EtcdOutcome::Repairs => "repairs",
        EtcdOutcome::DropsSilently => "dropsSilently",
        EtcdOutcome::Fails => "fails",
        EtcdOutcome::Panics => "panics",
    }
}

fn error_obj(e: &WalError) -> Obj {
    let segment = e.error.location().file.as_deref().map(file_name);
    let note = e.note.as_deref().map_or(Value::Null, Value::from);
    Obj::new()
        .v("segment", segment.map_or(Value::Null, Value::from))
        .v("offset", e.record_offset)
        .v("kind", e.fault.code())
        .v("outcome", outcome_name(e.outcome))
        .v("message", e.to_string())
        .v("etcdMessage", e.fault.etcd_message())
        .v("note", note)
}

/// `{"error": ERROR}`.
pub fn error_node(e: &DumpError) -> Node {
    let resume = e.resume_at.map_or(Value::Null, Value::from);
    Obj::new().n("error", error_obj(&e.error).v("resumeAt", resume).done()).done()
}

/// An error met while dumping: a JSON line, or a line for stderr.
pub fn print_error(w: &mut dyn Write, e: &DumpError, how: WriteOut) -> io::Result<()> {
    match how {
        WriteOut::Json => writeln!(w, "{}", error_node(e).to_json()),
        _ => {
            let next = match e.resume_at {
                Some(at) => format!("reading on at offset {at:#x}"),
                None => "nothing readable after it in this segment".into(),
            };
            writeln!(w, "error: {}\n    {next}", e.error)
        }
    }
}

/// What etcd does about the first fault, for stderr; nothing when clean.
pub fn print_verdict(w: &mut dyn Write, r: &WalReport) -> io::Result<()> {
    let Some(f) = &r.summary.fault else { return Ok(()) };
    let (head, etcd) = match f.outcome {
        EtcdOutcome::Repairs => {
            let mut s = "repairs it at boot (wal.Repair)".to_string();
            if let Some(rp) = &r.summary.repair {
                s.push_str(&format!(
                    ": truncates {} at offset {:#x}, dropping {} record(s), {} of them entries",
                    file_name(&rp.segment),
                    rp.offset,
                    rp.dropped_total,
                    rp.dropped_entries
                ));
                if let Some(b) = &rp.backup {
                    s.push_str(&format!(", after copying it to {}", file_name(b)));
                }
            }
            ("warning", s)
        }
        EtcdOutcome::DropsSilently => (
            "damage",
            "boots, but ignores everything after this point (and zeroes it when it opens the WAL for writing)".into(),
        ),
        EtcdOutcome::Fails => ("damage", "refuses to boot (failed to read WAL, cannot be repaired)".into()),
        EtcdOutcome::Panics => ("damage", "panics when it reads this record".into()),
    };
    writeln!(w, "{head}: {f}\n    etcd: {etcd}")
}

// ---------------------------------------------------------------------------
// Summary and header

fn opt_u64(x: Option<u64>) -> Value {
    x.map_or(Value::Null, Value::from)
}

/// The SUMMARY object (see the module docs).
pub fn summary_node(r: &WalReport) -> Node {
    let s = &r.summary;
    let md = s.metadata.as_ref();
    let hard_state = match &s.hard_state {
        Some(h) => Obj::new().v("term", h.term).id("vote", h.vote).v("commit", h.commit).done(),
        None => leaf(Value::Null),
    };
    let snapshots = s
        .snapshots
        .iter()
        .map(|sn| {
            let mut o = Obj::new().v("index", sn.index).v("term", sn.term);
            if let Some(v) = &sn.voters {
                o = o.n("voters", Node::Arr(v.iter().map(|id| leaf(hex_id(*id))).collect()));
            }
            o.done()
        })
        .collect();
    let segment_files = s
        .segments
        .iter()
        .map(|sg| {
            Obj::new()
                .v("name", file_name(&sg.path))
                .v("seq", sg.seq)
                .v("nameIndex", sg.name_index)
                .v("size", sg.file_len)
                .v("records", sg.records)
                .v("entries", sg.entries)
                .v("firstEntry", opt_u64(sg.first_entry))
                .v("lastEntry", opt_u64(sg.last_entry))
                .v("validEnd", sg.valid_end)
                .done()
        })
        .collect();
    let first_error = s.fault.as_ref().map_or(leaf(Value::Null), |f| error_obj(f).done());
    let repair = s.repair.as_ref().map_or(leaf(Value::Null), |rp| {
        Obj::new()
            .v("segment", file_name(&rp.segment))
            .v(
                "kind",
                match rp.kind {
                    crate::wal::RepairKind::Truncate => "truncate",
                    crate::wal::RepairKind::ZeroToEnd => "zeroToEnd",
                },
            )
            .v("offset", rp.offset)
            .v("fileSize", rp.file_len)
            .v("backup", rp.backup.as_deref().map(file_name).map_or(Value::Null, Value::from))
            .v("droppedRecords", rp.dropped_total)
            .v("droppedEntries", rp.dropped_entries)
            .done()
    });
    let anomalies = s
        .anomalies
        .iter()
        .map(|a| {
            Obj::new()
                .v("code", a.code)
                .v("file", a.location.file.as_deref().map(file_name).map_or(Value::Null, Value::from))
                .v("offset", opt_u64(a.location.offset))
                .v("what", a.what.as_str())
                .done()
        })
        .collect();
    Obj::new()
        .v("walDir", r.wal_dir.display().to_string())
        .v("verdict", r.verdict())
        .v("nodeId", md.map_or(Value::Null, |m| Value::from(hex_id(m.node_id))))
        .v("nodeIdDecimal", opt_u64(md.map(|m| m.node_id)))
        .v("clusterId", md.map_or(Value::Null, |m| Value::from(hex_id(m.cluster_id))))
        .v("clusterIdDecimal", opt_u64(md.map(|m| m.cluster_id)))
        .n("hardState", hard_state)
        .n("snapshots", Node::Arr(snapshots))
        .v("firstIndex", opt_u64(s.first_index))
        .v("lastIndex", opt_u64(r.last_index()))
        .v("lastTerm", opt_u64(s.last_term))
        .v("entryCount", r.entry_count)
        .v("overwrites", s.overwrites)
        .n(
            "clusterVersions",
            Node::Arr(
                r.cluster_versions
                    .iter()
                    .map(|(i, v)| Obj::new().v("index", *i).v("version", v.as_str()).done())
                    .collect(),
            ),
        )
        .v("writtenBy", writer_line(r).map_or(Value::Null, Value::from))
        .v("records", s.record_count)
        .v("segments", s.segments.len() as u64)
        .n("segmentFiles", Node::Arr(segment_files))
        .n("firstError", first_error)
        .n("repair", repair)
        .n("anomalies", Node::Arr(anomalies))
        .done()
}

/// The etcd line of the newest cluster version the log sets ("3.6"): the
/// members that wrote it ran that line or a newer one.
fn writer_line(r: &WalReport) -> Option<String> {
    let (_, v) = r.cluster_versions.last()?;
    crate::mvcc::version::Release::parse(v).map(|r| format!("{}.{}", r.major, r.minor))
}

fn or_none<T: std::fmt::Display>(x: Option<T>) -> String {
    x.map_or_else(|| "none".into(), |v| v.to_string())
}

/// `--summary`: one JSON object, or text.
pub fn print_summary(w: &mut dyn Write, r: &WalReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        return writeln!(w, "{}", summary_node(r).to_json());
    }
    let s = &r.summary;
    writeln!(w, "WAL directory:  {}", r.wal_dir.display())?;
    let names: Vec<String> = s.segments.iter().map(|sg| file_name(&sg.path)).collect();
    writeln!(w, "segments:       {} ({})", names.len(), names.join(", "))?;
    match &s.metadata {
        Some(m) => {
            writeln!(w, "node ID:        {:x} ({})", m.node_id, m.node_id)?;
            writeln!(w, "cluster ID:     {:x} ({})", m.cluster_id, m.cluster_id)?;
        }
        None => writeln!(w, "metadata:       none")?,
    }
    match &s.hard_state {
        Some(h) => writeln!(w, "hard state:     term={} vote={:x} commit={}", h.term, h.vote, h.commit)?,
        None => writeln!(w, "hard state:     none")?,
    }
    writeln!(w, "snapshots:      {}", snapshot_list(r))?;
    writeln!(w, "entries:        {} (index {}..={})", r.entry_count, or_none(s.first_index), or_none(s.last_index))?;
    if s.overwrites > 0 {
        writeln!(w, "overwrites:     {} (raft log suffixes replaced by a later leader)", s.overwrites)?;
    }
    writeln!(w, "last index:     {}", or_none(r.last_index()))?;
    if let (Some((i, v)), Some(line)) = (r.cluster_versions.last(), writer_line(r)) {
        writeln!(w, "cluster version: {v} (set at entry {i}): written by etcd {line} or newer")?;
    }
    writeln!(w, "records:        {}", s.record_count)?;
    match &s.fault {
        Some(f) => writeln!(w, "first error:    {f}")?,
        None => writeln!(w, "first error:    none")?,
    }
    for a in &s.anomalies {
        writeln!(w, "anomaly:        {}: {}: {}", a.code, a.location, a.what)?;
    }
    writeln!(w, "verdict:        {}", r.verdict())
}

/// Snapshot records as `index=… term=…`, at most 10 listed.
fn snapshot_list(r: &WalReport) -> String {
    const MAX: usize = 10;
    let s = &r.summary.snapshots;
    if s.is_empty() {
        return "none".into();
    }
    let mut out: Vec<String> = s.iter().take(MAX).map(|sn| format!("index={} term={}", sn.index, sn.term)).collect();
    if s.len() > MAX {
        out.push(format!("... and {} more", s.len() - MAX));
    }
    out.join(", ")
}

/// The head of a dump: `{"metadata": SUMMARY}`, or etcd-dump-logs' header
/// and the column titles.
pub fn print_header(w: &mut dyn Write, r: &WalReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        return writeln!(w, "{}", Obj::new().n("metadata", summary_node(r)).done().to_json());
    }
    let s = &r.summary;
    writeln!(w, "WAL directory: {} ({} segment(s))", r.wal_dir.display(), s.segments.len())?;
    writeln!(w, "WAL metadata:")?;
    let (node, cluster) =
        s.metadata.as_ref().map_or(("none".into(), "none".into()), |m| (hex_id(m.node_id), hex_id(m.cluster_id)));
    let (term, commit, vote) = s.hard_state.as_ref().map_or((0, 0, 0), |h| (h.term, h.commit, h.vote));
    writeln!(w, "nodeID={node} clusterID={cluster} term={term} commitIndex={commit} vote={vote:x}")?;
    writeln!(w, "Snapshot records: {}", snapshot_list(r))?;
    writeln!(w, "WAL entries: {}", r.entry_count)?;
    writeln!(w, "lastIndex={}", or_none(r.last_index()))?;
    writeln!(w, "{:>4}\t{:>10}\ttype\tdata", "term", "index")
}

/// The tail of a `-w simple` dump (nothing in JSON).
pub fn print_footer(w: &mut dyn Write, stats: &DumpStats, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        return Ok(());
    }
    writeln!(w, "\nEntries shown: {} of {} read", stats.entries_shown, stats.entries_read)?;
    if stats.errors > 0 {
        writeln!(w, "Errors: {}", stats.errors)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_rfc4648_vectors() {
        for (i, o) in
            [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE=")]
        {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn bytes_are_utf8_or_base64_and_objects_keep_order() {
        let n = Obj::new().bytes("key", "keyBase64", b"k").bytes("value", "valueBase64", &[0xff, 0]).done();
        assert_eq!(n.to_json(), r#"{"key":"k","valueBase64":"/wA="}"#);
        assert_eq!(lease_id(0x694d7d2a1e2c5a04), "694d7d2a1e2c5a04");
        assert_eq!(lease_id(5), "0000000000000005");
        assert_eq!(hex_id(0x8e9e05c52164694d), "8e9e05c52164694d");
    }

    /// The crafted WAL of the job's tests, printed both ways.
    fn dump_sample(how: WriteOut) -> (String, WalReport) {
        use crate::jobs::wal::tests::{SEG0, sample, write_dir};
        use crate::jobs::wal::{DumpEvent, DumpOptions, dump, open, summarize};
        let d = write_dir(&[(SEG0, sample().bytes(4096))]);
        let wal = open(d.path()).unwrap();
        let report = summarize(&wal).unwrap();
        let mut out = Vec::new();
        print_header(&mut out, &report, how).unwrap();
        let stats = dump(&wal, &report, &DumpOptions::default(), &mut |ev| {
            match ev {
                DumpEvent::Entry(e) => print_entry(&mut out, e, how).unwrap(),
                DumpEvent::Error(e) => print_error(&mut out, e, how).unwrap(),
            }
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        print_footer(&mut out, &stats, how).unwrap();
        (String::from_utf8(out).unwrap(), report)
    }

    #[test]
    fn json_lines_shapes() {
        let (text, _) = dump_sample(WriteOut::Json);
        assert!(!text.contains("secret"), "{text}");
        let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 1 + 13);
        let md = &lines[0]["metadata"];
        assert_eq!(md["nodeId"], "8e9e05c52164694d");
        assert_eq!(md["nodeIdDecimal"].as_u64(), Some(0x8e9e05c52164694d));
        assert_eq!(md["clusterId"], "cdf818194e3a8c32");
        assert_eq!(md["hardState"], serde_json::json!({"term": 2, "vote": "8e9e05c52164694d", "commit": 13}));
        assert_eq!((md["entryCount"].as_u64(), md["lastIndex"].as_u64()), (Some(13), Some(13)));
        assert_eq!(md["firstError"], Value::Null);
        let e = |i: usize| &lines[i];
        // keys come in a fixed, readable order
        assert!(text.lines().nth(4).unwrap().starts_with(r#"{"term":2,"index":4,"type":"EntryNormal","op":"put""#));
        assert_eq!(e(1)["type"], "EntryConfChange");
        assert_eq!(e(1)["request"]["confChange"]["nodeId"], "8e9e05c52164694d");
        assert_eq!(e(1)["request"]["confChange"]["context"]["peerURLs"][0], "http://127.0.0.1:2380");
        assert_eq!(e(2)["op"], "noop");
        assert_eq!(e(2)["request"], serde_json::json!({}));
        assert_eq!(e(3)["request"]["v2"]["path"], "/0/version");
        assert_eq!(e(3)["requestId"], "7");
        assert_eq!(e(4)["requestId"], "10");
        assert_eq!(e(4)["request"]["header"]["id"], "10");
        assert_eq!(e(4)["request"]["put"], serde_json::json!({"key": "foo", "value": "bar"}));
        assert_eq!(e(5)["request"]["put"], serde_json::json!({"keyBase64": "/wA=", "value": "v"}));
        assert_eq!(e(6)["request"]["deleteRange"], serde_json::json!({"key": "a", "rangeEnd": "b"}));
        let txn = &e(7)["request"]["txn"];
        assert_eq!(txn["success"][0]["requestTxn"]["success"][0]["requestPut"]["key"], "in");
        assert_eq!(txn["failure"][0]["requestPut"]["value"], "x");
        assert_eq!(txn["compare"], serde_json::json!([]));
        assert_eq!(e(8)["request"]["compaction"], serde_json::json!({"revision": 3, "physical": true}));
        assert_eq!(e(9)["request"]["leaseGrant"], serde_json::json!({"ttl": 60, "id": "000000000000694d"}));
        let add = &e(10)["request"]["authUserAdd"];
        assert_eq!(
            (&add["password"], &add["hashedPassword"]),
            (&Value::from("<redacted>"), &Value::from("<redacted>"))
        );
        assert_eq!(e(11)["request"]["authUserChangePassword"]["password"], "<redacted>");
        assert_eq!(e(12)["request"]["authenticate"]["simpleToken"], "<redacted>");
        assert_eq!(e(13)["op"], "undecodable");
        assert_eq!(e(13)["request"]["undecodable"]["dataSize"], 3);
        for l in &lines[1..] {
            assert_eq!(l["segment"], "0000000000000000-0000000000000000.wal");
            assert!(l["offset"].as_u64().unwrap() > 0);
            assert!(l.get("crc").is_none());
        }
    }

    #[test]
    fn simple_is_a_readable_table() {
        let (text, report) = dump_sample(WriteOut::Simple);
        assert!(!text.contains("secret"), "{text}");
        assert!(text.contains("nodeID=8e9e05c52164694d clusterID=cdf818194e3a8c32 term=2 commitIndex=13"), "{text}");
        assert!(text.contains("   2\t         4\tnorm\tput id=10 {\"key\":\"foo\",\"value\":\"bar\"}\n"), "{text}");
        assert!(text.contains("\tconf\tconfchange:AddNode {"), "{text}");
        assert!(text.contains("\tnorm\tnoop\n"), "{text}");
        assert!(text.contains("Entries shown: 13 of 13 read"), "{text}");
        let mut s = Vec::new();
        print_summary(&mut s, &report, WriteOut::Simple).unwrap();
        let s = String::from_utf8(s).unwrap();
        assert!(s.contains("verdict:        clean") && s.contains("last index:     13"), "{s}");
        let mut v = Vec::new();
        print_verdict(&mut v, &report).unwrap();
        assert!(v.is_empty());
    }
}
