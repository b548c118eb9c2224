//! Printers of the inspection commands (`get`, `history`, `hashkv`,
//! `buckets`, `leases`, `members`, `auth`, `alarms`, `meta`).
//!
//! JSON shapes (one JSON document per run, newline-terminated; byte
//! strings such as keys and values are base64, as etcdctl prints them;
//! ids are lowercase hex strings unless etcd's own shape says otherwise):
//!
//! * `get`: exactly `etcdctl get -w json`, i.e. Go's encoding of
//!   `RangeResponse` with its `omitempty` tags:
//!   `{"header":{"cluster_id","member_id","revision","raft_term"},
//!   "kvs":[{"key","create_revision","mod_revision","version","value",
//!   "lease"}],"more":true,"count":N}`; zero fields, an empty `kvs` and a
//!   false `more` are omitted. Written one key at a time.
//! * `history`: `{"key","revision","compactRevision","gaps":[{
//!   "beforeRevision","createRevision","missingPuts","compacted"}],
//!   "events":[{"type":"PUT"|"DELETE","revision","sub","kv":{<as in get>}}]}`,
//!   oldest first; a DELETE's `kv` is the stored tombstone (its key only);
//!   a gap is a run of puts the stored versions prove happened but that are
//!   not stored (a compaction removed them, or damage if not compacted).
//! * `hashkv`: `{"hash","hashRevision","compactRevision"}`, as
//!   `etcdutl hashkv -w json` (3.6).
//! * `buckets`: `{"buckets":[{"name","entries","bytes","keyBytes",
//!   "valueBytes","rootPage","inline"}]}`.
//! * `leases`: `{"leases":[{"id","ttl","remainingTtl","keyCount","keys"}],
//!   "missing":[{"id","keyCount","keys"}]}`; `keys` only with `--keys`.
//! * `members`: `{"members":[{"id","name","peerURLs","clientURLs",
//!   "isLearner"}],"removed":[id...]}` (+ `clusterVersion`, `downgrade`).
//! * `auth`: `{"enabled","revision","users":[{"name","roles",
//!   "hasPassword","noPassword"}],"roles":[{"name","permissions":[{
//!   "permType","key","rangeEnd","prefix"}]}]}`. Password hashes are never
//!   printed.
//! * `alarms`: `{"alarms":[{"memberId","alarm"}]}`.
//! * `meta`: `{"consistentIndex","term","scheduledCompactRevision",
//!   "finishedCompactRevision","storageVersion","confState","other",
//!   "currentRevision","compactRevision","pendingCompaction",
//!   "clusterVersion","downgrade"}`, absent values omitted.
//!
//! Simple output follows etcdctl where etcdctl has the command (`get`
//! prints each key and value on their own lines, raw; `members` prints
//! `id, status, name, peer urls, client urls, is learner`; `alarms` prints
//! `memberID:<id> alarm:<type>`); values in our own line formats are shown
//! with control characters and invalid UTF-8 escaped, so a line stays one.

use std::io::{self, Write};

use serde::Serialize;

use super::{WriteOut, table};
use crate::jobs::inspect::{
    BucketsAnswer, GetAnswer, HashAnswer, HistoryAnswer, LeasesAnswer, MetaAnswer, ResponseHeader,
};
use crate::k8s::{self, Encoding, K8sView};
use crate::mvcc::index::Stored;
use crate::mvcc::kv::KvRef;
use crate::mvcc::schema::{AlarmInfo, AuthInfo, Membership, show_bytes};

pub use crate::bytes::base64;

fn is_zero_i64(v: &i64) -> bool {
    *v == 0
}
fn is_zero_u64(v: &u64) -> bool {
    *v == 0
}

/// `mvccpb.KeyValue` as Go's encoding/json writes it.
#[derive(Serialize)]
struct KvJson {
    #[serde(skip_serializing_if = "String::is_empty")]
    key: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    create_revision: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    mod_revision: i64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    version: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    value: String,
    #[serde(skip_serializing_if = "is_zero_i64")]
    lease: i64,
    /// Kubernetes' view of a `/registry/` key and its value (ours, not etcdctl's).
    #[serde(skip_serializing_if = "Option::is_none")]
    k8s: Option<K8sView>,
}

impl KvJson {
    /// `k8s`: add Kubernetes' view of `/registry/` keys (of the value too,
    /// when `with_value`).
    fn new(kv: &KvRef<'_>, with_value: bool, k8s: bool) -> KvJson {
        KvJson {
            key: base64(kv.key),
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            value: if with_value { base64(kv.value) } else { String::new() },
            lease: kv.lease,
            k8s: if k8s { k8s::interpret(kv.key, with_value.then_some(kv.value)) } else { None },
        }
    }
}

/// `etcdserverpb.ResponseHeader` as Go's encoding/json writes it.
#[derive(Serialize)]
struct HeaderJson {
    #[serde(skip_serializing_if = "is_zero_u64")]
    cluster_id: u64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    member_id: u64,
    #[serde(skip_serializing_if = "is_zero_i64")]
    revision: i64,
    #[serde(skip_serializing_if = "is_zero_u64")]
    raft_term: u64,
}

impl From<ResponseHeader> for HeaderJson {
    fn from(h: ResponseHeader) -> Self {
        HeaderJson { cluster_id: h.cluster_id, member_id: h.member_id, revision: h.revision, raft_term: h.raft_term }
    }
}

fn json_to(w: &mut dyn Write, v: &impl Serialize) -> io::Result<()> {
    serde_json::to_writer(&mut *w, v).map_err(io::Error::other)
}

/// How `get` prints keys and values.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GetStyle {
    pub keys_only: bool,
    pub print_value_only: bool,
    /// No Kubernetes view: exactly etcdctl's output.
    pub raw: bool,
}

/// `# k8s: pods default/web-0: v1 Pod (protobuf)`: what a key names and
/// how its value is stored, for people.
fn k8s_line(v: &K8sView) -> String {
    let k = &v.key;
    let mut out = format!("# k8s: {}", k.resource);
    if let Some(g) = &k.group {
        out.push_str(&format!(".{g}"));
    }
    out.push(' ');
    if let Some(ns) = &k.namespace {
        out.push_str(&format!("{}/", show_bytes(ns.as_bytes())));
    }
    out.push_str(&show_bytes(k.name.as_bytes()));
    if k.namespace_guessed {
        out.push_str(if k.namespace.is_some() { " (namespaced? guessed)" } else { " (cluster-scoped? guessed)" });
    }
    if let Some(kind) = &v.kind {
        out.push_str(&format!(
            ": {} {}",
            show_bytes(v.api_version.as_deref().unwrap_or("").as_bytes()),
            show_bytes(kind.as_bytes())
        ));
    }
    match (v.encoding, &v.encryption) {
        (Some(Encoding::Encrypted), Some(e)) => out.push_str(&format!(
            ": encrypted at rest ({} {}, key or provider {}), not decoded",
            show_bytes(e.transformer.as_bytes()),
            show_bytes(e.version.as_bytes()),
            show_bytes(e.provider.as_bytes())
        )),
        (Some(Encoding::Raw), _) => out.push_str(": not a Kubernetes object encoding, shown as stored"),
        (Some(Encoding::Protobuf), _) => out.push_str(" (protobuf)"),
        (Some(Encoding::Json), _) => out.push_str(" (JSON)"),
        _ => {}
    }
    if let Some(e) = &v.error {
        out.push_str(&format!("; {}", show_bytes(e.as_bytes())));
    }
    out
}

/// A k8s value for people: the object as indented JSON, else the stored
/// bytes as they are (encrypted ones: nothing).
fn write_k8s_value(w: &mut dyn Write, v: &K8sView, value: &[u8]) -> io::Result<()> {
    match (&v.object, v.encoding) {
        (Some(o), _) => w.write_all(o.to_pretty().as_bytes()),
        (None, Some(Encoding::Encrypted)) => write!(w, "({} bytes of ciphertext)", value.len()),
        (None, _) => w.write_all(value),
    }
}

/// `get`, streamed key by key.
pub fn print_get(w: &mut dyn Write, a: &GetAnswer<'_>, how: WriteOut, style: GetStyle) -> io::Result<()> {
    if how == WriteOut::Json {
        w.write_all(b"{\"header\":")?;
        json_to(w, &HeaderJson::from(a.header))?;
        if !a.kvs.is_empty() {
            w.write_all(b",\"kvs\":[")?;
            for (i, s) in a.kvs.iter().enumerate() {
                if i > 0 {
                    w.write_all(b",")?;
                }
                json_to(w, &KvJson::new(&s.kv(), !style.keys_only, !style.raw))?;
            }
            w.write_all(b"]")?;
        }
        if a.more {
            w.write_all(b",\"more\":true")?;
        }
        if a.count > 0 {
            write!(w, ",\"count\":{}", a.count)?;
        }
        return w.write_all(b"}\n");
    }
    // etcdctl's printKV: key line then value line, raw bytes; with
    // --keys-only the value is empty, so an empty line follows each key.
    // A /registry/ key's value (unless --raw or --keys-only) is shown as
    // Kubernetes sees it: a `# k8s:` line, then the object as JSON.
    for s in &a.kvs {
        let kv = s.kv();
        let view = if style.raw || style.keys_only { None } else { k8s::interpret(kv.key, Some(kv.value)) };
        if let Some(v) = view {
            if !style.print_value_only {
                w.write_all(kv.key)?;
                writeln!(w, "\n{}", k8s_line(&v))?;
            }
            write_k8s_value(w, &v, kv.value)?;
            w.write_all(b"\n")?;
            continue;
        }
        if !style.print_value_only {
            w.write_all(kv.key)?;
            w.write_all(b"\n")?;
        }
        if !style.keys_only {
            w.write_all(kv.value)?;
        }
        w.write_all(b"\n")?;
    }
    Ok(())
}

#[derive(Serialize)]
struct EventJson {
    #[serde(rename = "type")]
    kind: &'static str,
    revision: i64,
    sub: i64,
    kv: KvJson,
}

fn event_name(s: &Stored<'_>) -> &'static str {
    if s.rev.tombstone { "DELETE" } else { "PUT" }
}

/// `history`, streamed revision by revision; `raw`: no Kubernetes view.
pub fn print_history(w: &mut dyn Write, a: &HistoryAnswer<'_>, how: WriteOut, raw: bool) -> io::Result<()> {
    if how == WriteOut::Json {
        write!(
            w,
            "{{\"key\":\"{}\",\"revision\":{},\"compactRevision\":{},\"gaps\":",
            base64(&a.key),
            a.current,
            a.compact
        )?;
        json_to(w, &a.gaps)?;
        w.write_all(b",\"events\":[")?;
        for (i, s) in a.events.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            let e = EventJson {
                kind: event_name(s),
                revision: s.rev.main,
                sub: s.rev.sub,
                kv: KvJson::new(&s.kv(), !s.rev.tombstone, !raw),
            };
            json_to(w, &e)?;
        }
        return w.write_all(b"]}\n");
    }
    let k8s_key = !raw && k8s::key::parse(&a.key).is_some();
    if let Some(v) = k8s::interpret(&a.key, None).filter(|_| k8s_key) {
        writeln!(w, "{}", k8s_line(&v))?;
    }
    let mut gaps = a.gaps.iter().peekable();
    for (i, s) in a.events.iter().enumerate() {
        if let Some(g) = gaps.next_if(|g| g.index == i) {
            let why = if g.compacted {
                format!("removed by the compaction at {}", a.compact)
            } else {
                "missing, though not compacted".to_string()
            };
            writeln!(
                w,
                "... {} earlier puts of this generation (created at {}) are not stored: {why}",
                g.missing_puts, g.create_revision
            )?;
        }
        let kv = s.kv();
        if s.rev.tombstone {
            writeln!(w, "{}/{} DELETE", s.rev.main, s.rev.sub)?;
            continue;
        }
        write!(w, "{}/{} PUT create_revision={} version={}", s.rev.main, s.rev.sub, kv.create_revision, kv.version)?;
        if kv.lease != 0 {
            write!(w, " lease={:016x}", kv.lease)?;
        }
        // A Kubernetes object on one line: its type, then its JSON.
        if let Some(v) = k8s::interpret(kv.key, Some(kv.value)).filter(|_| k8s_key) {
            if let (Some(o), Some(kind)) = (&v.object, &v.kind) {
                let api = v.api_version.as_deref().unwrap_or("");
                writeln!(w, " {} {} {}", show_bytes(api.as_bytes()), show_bytes(kind.as_bytes()), o.to_line())?;
                continue;
            }
            if let Some(e) = &v.encryption {
                writeln!(w, " encrypted ({} {}, {}), {} bytes", e.transformer, e.version, e.provider, kv.value.len())?;
                continue;
            }
        }
        writeln!(w, " value={}", show_bytes(kv.value))?;
    }
    Ok(())
}

/// `hashkv`, as `etcdutl hashkv` (3.6) prints it.
pub fn print_hashkv(w: &mut dyn Write, a: &HashAnswer, how: WriteOut) -> io::Result<()> {
    let h = &a.hash;
    match how {
        WriteOut::Json => {
            // etcdutl hashkv's three fields, then which rules answered
            let mut v = serde_json::to_value(h).unwrap_or(serde_json::Value::Null);
            if let (Some(m), Some(r)) = (v.as_object_mut(), &a.rules) {
                m.insert("rules".into(), serde_json::Value::String(r.clone()));
            }
            json_to(w, &v)?;
            writeln!(w)
        }
        WriteOut::Table => table::render(
            w,
            &["hash", "hash revision", "compact revision"],
            &[vec![h.hash.to_string(), h.hash_revision.to_string(), h.compact_revision.to_string()]],
        ),
        _ => writeln!(w, "{}, {}, {}", h.hash, h.hash_revision, h.compact_revision),
    }
}

pub fn print_buckets(w: &mut dyn Write, a: &BucketsAnswer, how: WriteOut) -> io::Result<()> {
    match how {
        WriteOut::Json => {
            json_to(w, a)?;
            writeln!(w)
        }
        WriteOut::Table => {
            let rows: Vec<Vec<String>> = a
                .buckets
                .iter()
                .map(|b| {
                    vec![
                        b.name.clone(),
                        b.entries.to_string(),
                        b.bytes.to_string(),
                        if b.inline { "inline".into() } else { b.root_page.to_string() },
                    ]
                })
                .collect();
            table::render(w, &["name", "entries", "bytes", "root page"], &rows)
        }
        _ => {
            for b in &a.buckets {
                writeln!(w, "{}, {}, {}", b.name, b.entries, b.bytes)?;
            }
            Ok(())
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LeaseJson {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remaining_ttl: Option<i64>,
    key_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    keys: Option<Vec<String>>,
}

#[derive(Serialize)]
struct LeasesJson {
    leases: Vec<LeaseJson>,
    missing: Vec<LeaseJson>,
}

fn key_list(keys: &[Vec<u8>]) -> String {
    keys.iter().map(|k| show_bytes(k)).collect::<Vec<_>>().join(" ")
}

/// `leases`; `with_keys` lists the attached keys (as `lease timetolive --keys`).
pub fn print_leases(w: &mut dyn Write, a: &LeasesAnswer, how: WriteOut, with_keys: bool) -> io::Result<()> {
    let keys_json = |keys: &[Vec<u8>]| with_keys.then(|| keys.iter().map(|k| base64(k)).collect());
    match how {
        WriteOut::Json => {
            let j = LeasesJson {
                leases: a
                    .leases
                    .iter()
                    .map(|l| LeaseJson {
                        id: format!("{:016x}", l.lease.id),
                        ttl: Some(l.lease.ttl),
                        remaining_ttl: Some(l.lease.remaining_ttl),
                        key_count: l.keys.len(),
                        keys: keys_json(&l.keys),
                    })
                    .collect(),
                missing: a
                    .missing
                    .iter()
                    .map(|(id, keys)| LeaseJson {
                        id: format!("{id:016x}"),
                        ttl: None,
                        remaining_ttl: None,
                        key_count: keys.len(),
                        keys: keys_json(keys),
                    })
                    .collect(),
            };
            json_to(w, &j)?;
            writeln!(w)
        }
        WriteOut::Table => {
            let mut rows: Vec<Vec<String>> = a
                .leases
                .iter()
                .map(|l| {
                    vec![
                        format!("{:016x}", l.lease.id),
                        l.lease.ttl.to_string(),
                        l.lease.remaining_ttl.to_string(),
                        l.keys.len().to_string(),
                    ]
                })
                .collect();
            for (id, keys) in &a.missing {
                rows.push(vec![format!("{id:016x}"), "missing".into(), "-".into(), keys.len().to_string()]);
            }
            table::render(w, &["id", "ttl", "remaining ttl", "keys"], &rows)
        }
        _ => {
            writeln!(w, "found {} leases", a.leases.len())?;
            for l in &a.leases {
                let remaining = if l.lease.remaining_ttl > 0 {
                    format!("{}s", l.lease.remaining_ttl)
                } else {
                    "not checkpointed".into()
                };
                write!(w, "lease {:016x} granted with TTL({}s), remaining({remaining})", l.lease.id, l.lease.ttl)?;
                if with_keys {
                    writeln!(w, ", attached keys([{}])", key_list(&l.keys))?;
                } else {
                    writeln!(w, ", attached keys({})", l.keys.len())?;
                }
            }
            for (id, keys) in &a.missing {
                writeln!(w, "lease {id:016x} is not in the lease bucket but keys carry it: [{}]", key_list(keys))?;
            }
            Ok(())
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MemberJson<'a> {
    id: String,
    name: &'a str,
    #[serde(rename = "peerURLs")]
    peer_urls: &'a [String],
    #[serde(rename = "clientURLs")]
    client_urls: &'a [String],
    is_learner: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MembersJson<'a> {
    members: Vec<MemberJson<'a>>,
    removed: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cluster_version: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    downgrade: &'a Option<serde_json::Value>,
}

/// `members`, with etcdctl `member list`'s columns.
pub fn print_members(w: &mut dyn Write, m: &Membership, how: WriteOut) -> io::Result<()> {
    let row = |x: &crate::mvcc::schema::MemberInfo| {
        vec![
            format!("{:x}", x.id),
            if x.name.is_empty() { "unstarted".into() } else { "started".into() },
            x.name.clone(),
            x.peer_urls.join(","),
            x.client_urls.join(","),
            x.is_learner.to_string(),
        ]
    };
    match how {
        WriteOut::Json => {
            let j = MembersJson {
                members: m
                    .members
                    .iter()
                    .map(|x| MemberJson {
                        id: format!("{:x}", x.id),
                        name: &x.name,
                        peer_urls: &x.peer_urls,
                        client_urls: &x.client_urls,
                        is_learner: x.is_learner,
                    })
                    .collect(),
                removed: m.removed.iter().map(|id| format!("{id:x}")).collect(),
                cluster_version: &m.cluster_version,
                downgrade: &m.downgrade,
            };
            json_to(w, &j)?;
            writeln!(w)
        }
        WriteOut::Table => {
            let rows: Vec<Vec<String>> = m.members.iter().map(row).collect();
            table::render(w, &["id", "status", "name", "peer addrs", "client addrs", "is learner"], &rows)?;
            for id in &m.removed {
                writeln!(w, "removed: {id:x}")?;
            }
            Ok(())
        }
        _ => {
            for x in &m.members {
                writeln!(w, "{}", row(x).join(", "))?;
            }
            for id in &m.removed {
                writeln!(w, "{id:x}, removed")?;
            }
            Ok(())
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermJson {
    perm_type: &'static str,
    key: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    range_end: String,
    prefix: bool,
}

#[derive(Serialize)]
struct RoleJson<'a> {
    name: &'a str,
    permissions: Vec<PermJson>,
}

#[derive(Serialize)]
struct AuthJson<'a> {
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
    users: &'a [crate::mvcc::schema::UserInfo],
    roles: Vec<RoleJson<'a>>,
}

fn perm_range(p: &crate::mvcc::schema::PermInfo) -> String {
    if p.range_end.is_empty() {
        show_bytes(&p.key)
    } else if p.range_end == [0] {
        format!("[{}, <open ended>", show_bytes(&p.key))
    } else if p.prefix {
        format!("[{}, {}) (prefix {})", show_bytes(&p.key), show_bytes(&p.range_end), show_bytes(&p.key))
    } else {
        format!("[{}, {})", show_bytes(&p.key), show_bytes(&p.range_end))
    }
}

/// `auth`: users with their roles (never their password hashes), roles
/// with their permissions.
pub fn print_auth(w: &mut dyn Write, a: &AuthInfo, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let j = AuthJson {
            enabled: a.enabled,
            revision: a.revision,
            users: &a.users,
            roles: a
                .roles
                .iter()
                .map(|r| RoleJson {
                    name: &r.name,
                    permissions: r
                        .permissions
                        .iter()
                        .map(|p| PermJson {
                            perm_type: p.perm_type,
                            key: base64(&p.key),
                            range_end: base64(&p.range_end),
                            prefix: p.prefix,
                        })
                        .collect(),
                })
                .collect(),
        };
        json_to(w, &j)?;
        return writeln!(w);
    }
    writeln!(w, "auth enabled: {}", a.enabled)?;
    if let Some(r) = a.revision {
        writeln!(w, "auth revision: {r}")?;
    }
    for u in &a.users {
        let pw = if u.no_password {
            "no password"
        } else if u.has_password {
            "password set"
        } else {
            "no password stored"
        };
        writeln!(w, "user {}: roles [{}], {pw}", u.name, u.roles.join(" "))?;
    }
    for r in &a.roles {
        if r.permissions.is_empty() {
            writeln!(w, "role {}: no permissions", r.name)?;
        }
        for p in &r.permissions {
            writeln!(w, "role {}: {} {}", r.name, p.perm_type, perm_range(p))?;
        }
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AlarmJson {
    member_id: String,
    alarm: &'static str,
}

#[derive(Serialize)]
struct AlarmsJson {
    alarms: Vec<AlarmJson>,
}

/// `alarms`, as `etcdctl alarm list` prints them.
pub fn print_alarms(w: &mut dyn Write, alarms: &[AlarmInfo], how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let j = AlarmsJson {
            alarms: alarms
                .iter()
                .map(|a| AlarmJson { member_id: format!("{:x}", a.member_id), alarm: a.alarm })
                .collect(),
        };
        json_to(w, &j)?;
        return writeln!(w);
    }
    for a in alarms {
        writeln!(w, "memberID:{:x} alarm:{}", a.member_id, a.alarm)?;
    }
    Ok(())
}

/// `meta`.
pub fn print_meta(w: &mut dyn Write, m: &MetaAnswer, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        json_to(w, m)?;
        return writeln!(w);
    }
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut opt = |k: &str, v: Option<String>| {
        if let Some(v) = v {
            rows.push((k.to_string(), v));
        }
    };
    let i = &m.meta;
    opt(
        "written by",
        m.written_by.as_ref().map(|w| match w.release {
            Some(r) => format!("etcd {r} ({})", w.evidence),
            None => format!("unknown ({})", w.evidence),
        }),
    );
    opt("rules", m.rules.clone());
    opt("consistent index", i.consistent_index.map(|x| x.to_string()));
    opt("term", i.term.map(|x| x.to_string()));
    opt("current revision", Some(m.current_revision.to_string()));
    opt("compact revision", Some(m.compact_revision.to_string()));
    opt("scheduled compact revision", i.scheduled_compact_revision.map(|x| x.to_string()));
    opt("finished compact revision", i.finished_compact_revision.map(|x| x.to_string()));
    if m.pending_compaction {
        opt("pending compaction", Some("yes (etcd finishes it at boot)".into()));
    }
    opt("storage version", i.storage_version.clone());
    opt("conf state", i.conf_state.as_ref().map(|v| v.to_string()));
    opt("cluster version", m.cluster_version.clone());
    opt("downgrade", m.downgrade.as_ref().map(|v| v.to_string()));
    for (k, v) in &i.other {
        opt(&format!("other key {k}"), Some(v.clone()));
    }
    if how == WriteOut::Table {
        let rows: Vec<Vec<String>> = rows.into_iter().map(|(k, v)| vec![k, v]).collect();
        return table::render(w, &["field", "value"], &rows);
    }
    for (k, v) in rows {
        writeln!(w, "{k}: {v}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_go() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"/hot/counter"), "L2hvdC9jb3VudGVy");
        assert_eq!(base64(&[0xff, 0xfe, 0x00]), "//4A");
    }

    #[test]
    fn get_json_omits_zero_fields_like_go() {
        let kv = KvRef { key: b"foo", create_revision: 2, mod_revision: 2, version: 1, value: b"", lease: 0 };
        let s = serde_json::to_string(&KvJson::new(&kv, true, true)).unwrap();
        assert_eq!(s, r#"{"key":"Zm9v","create_revision":2,"mod_revision":2,"version":1}"#);
        let h = HeaderJson::from(ResponseHeader { cluster_id: 0, member_id: 0, revision: 4, raft_term: 2 });
        assert_eq!(serde_json::to_string(&h).unwrap(), r#"{"revision":4,"raft_term":2}"#);
    }
}
