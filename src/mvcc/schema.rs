//! What etcd keeps in its small buckets, decoded (FORMATS.md §2.3–2.8):
//! `meta`, `lease`, `alarm`, `cluster`, `members`, `members_removed`,
//! `auth`, `authUsers`, `authRoles`.
//!
//! Decoding never fails as a whole: an entry that does not decode is
//! reported in the result's `problems` and the rest is still read.
//! Password hashes (`authpb.User.password`) are never copied out: a user
//! only says whether it has one.

use serde::Serialize;

use super::revision::Revision;
use crate::proto::authpb::{PermissionType, Role, User};
use crate::proto::etcdserverpb::{AlarmMember, AlarmType};
use crate::proto::leasepb::Lease;

/// Bytes as text: UTF-8 as is, anything else (and control characters)
/// escaped `\xNN` / `\n` etc., so that a line stays a line.
pub fn show_bytes(b: &[u8]) -> String {
    match std::str::from_utf8(b) {
        Ok(s) if !s.chars().any(char::is_control) => s.to_string(),
        Ok(s) => s.chars().flat_map(char::escape_default).collect(),
        Err(_) => b.escape_ascii().to_string(),
    }
}

fn be_u64(v: &[u8]) -> Option<u64> {
    let b: [u8; 8] = v.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// The `meta` bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistent_index: Option<u64>,
    /// Raft term of the last applied entry (3.5+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_compact_revision: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_compact_revision: Option<i64>,
    /// `storageVersion` (3.6+).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage_version: Option<String>,
    /// `confState` (3.5+), the JSON etcd stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conf_state: Option<serde_json::Value>,
    /// Keys etcd does not write (name shown as text, value in hex).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<(String, String)>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

pub fn meta_info(entries: &[(&[u8], &[u8])]) -> MetaInfo {
    let mut m = MetaInfo::default();
    for &(k, v) in entries {
        let bad_u64 = |name: &str| format!("meta/{name}: {} bytes, want an 8-byte big-endian integer", v.len());
        match k {
            b"consistent_index" => match be_u64(v) {
                Some(x) => m.consistent_index = Some(x),
                None => m.problems.push(bad_u64("consistent_index")),
            },
            b"term" => match be_u64(v) {
                Some(x) => m.term = Some(x),
                None => m.problems.push(bad_u64("term")),
            },
            b"scheduledCompactRev" | b"finishedCompactRev" => {
                let name = show_bytes(k);
                match Revision::parse(v) {
                    Some(r) if k == b"scheduledCompactRev" => m.scheduled_compact_revision = Some(r.main),
                    Some(r) => m.finished_compact_revision = Some(r.main),
                    None => m.problems.push(format!("meta/{name}: not a revision key ({} bytes)", v.len())),
                }
            }
            b"storageVersion" => m.storage_version = Some(show_bytes(v)),
            b"confState" => match serde_json::from_slice(v) {
                Ok(j) => m.conf_state = Some(j),
                Err(e) => m.problems.push(format!("meta/confState: not JSON: {e}")),
            },
            _ => m.other.push((show_bytes(k), crate::bolt::walk::hex(v))),
        }
    }
    m
}

/// One `lease` bucket entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseInfo {
    pub id: i64,
    /// Granted TTL, seconds.
    pub ttl: i64,
    /// Checkpointed remaining TTL, seconds (0: never checkpointed).
    pub remaining_ttl: i64,
}

/// Decode the `lease` bucket. The bucket key (8-byte big-endian id) must
/// agree with the id in the value.
pub fn leases(entries: &[(&[u8], &[u8])]) -> (Vec<LeaseInfo>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for &(k, v) in entries {
        match crate::proto::decode::<Lease>(v, 0) {
            Ok(l) => {
                if be_u64(k).map(|x| x as i64) != Some(l.id) {
                    problems.push(format!(
                        "lease/{}: the key does not match the lease id {:x} in the value",
                        crate::bolt::walk::hex(k),
                        l.id
                    ));
                }
                out.push(LeaseInfo { id: l.id, ttl: l.ttl, remaining_ttl: l.remaining_ttl });
            }
            Err(e) => problems.push(format!("lease/{}: {}", crate::bolt::walk::hex(k), e.kind())),
        }
    }
    (out, problems)
}

/// One `alarm` bucket entry (the key is the marshaled `AlarmMember`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlarmInfo {
    pub member_id: u64,
    pub alarm: &'static str,
}

pub fn alarms(entries: &[(&[u8], &[u8])]) -> (Vec<AlarmInfo>, Vec<String>) {
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for &(k, _) in entries {
        match crate::proto::decode::<AlarmMember>(k, 0) {
            Ok(a) => out.push(AlarmInfo { member_id: a.member_id, alarm: alarm_name(a.alarm) }),
            Err(e) => problems.push(format!("alarm/{}: {}", crate::bolt::walk::hex(k), e.kind())),
        }
    }
    (out, problems)
}

/// etcdctl's names (`AlarmType` enum).
pub fn alarm_name(a: i32) -> &'static str {
    match AlarmType::try_from(a) {
        Ok(AlarmType::None) => "NONE",
        Ok(AlarmType::Nospace) => "NOSPACE",
        Ok(AlarmType::Corrupt) => "CORRUPT",
        Err(_) => "UNKNOWN",
    }
}

/// One `members` bucket entry: etcd's `membership.Member` JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberInfo {
    pub id: u64,
    #[serde(default, rename = "peerURLs")]
    pub peer_urls: Vec<String>,
    #[serde(default)]
    pub is_learner: bool,
    #[serde(default)]
    pub name: String,
    #[serde(default, rename = "clientURLs")]
    pub client_urls: Vec<String>,
}

/// Membership as the db records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub members: Vec<MemberInfo>,
    /// `members_removed`: ids of removed members.
    pub removed: Vec<u64>,
    /// `cluster/clusterVersion`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_version: Option<String>,
    /// `cluster/downgrade` (3.5+), the JSON etcd stored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downgrade: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

pub fn membership(members: &[(&[u8], &[u8])], removed: &[(&[u8], &[u8])], cluster: &[(&[u8], &[u8])]) -> Membership {
    let mut m = Membership::default();
    for &(k, v) in members {
        let key = show_bytes(k);
        match serde_json::from_slice::<MemberInfo>(v) {
            Ok(info) => {
                if format!("{:x}", info.id) != key {
                    m.problems.push(format!("members/{key}: the key does not match the member id {:x}", info.id));
                }
                m.members.push(info);
            }
            Err(e) => m.problems.push(format!("members/{key}: not a member JSON: {e}")),
        }
    }
    for &(k, _) in removed {
        match std::str::from_utf8(k).ok().and_then(|s| u64::from_str_radix(s, 16).ok()) {
            Some(id) => m.removed.push(id),
            None => m.problems.push(format!("members_removed/{}: not a hex member id", show_bytes(k))),
        }
    }
    for &(k, v) in cluster {
        match k {
            b"clusterVersion" => m.cluster_version = Some(show_bytes(v)),
            b"downgrade" => match serde_json::from_slice(v) {
                Ok(j) => m.downgrade = Some(j),
                Err(e) => m.problems.push(format!("cluster/downgrade: not JSON: {e}")),
            },
            _ => {}
        }
    }
    m
}

/// A user, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserInfo {
    pub name: String,
    pub roles: Vec<String>,
    /// A password hash is stored (its bytes are never shown).
    pub has_password: bool,
    /// Created with `--no-password` (3.5+).
    pub no_password: bool,
}

/// One permission of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermInfo {
    /// READ, WRITE or READWRITE.
    pub perm_type: &'static str,
    pub key: Vec<u8>,
    /// Empty: the single key; `[0]`: every key from `key` on.
    pub range_end: Vec<u8>,
    /// The range is exactly the keys starting with `key`.
    pub prefix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleInfo {
    pub name: String,
    pub permissions: Vec<PermInfo>,
}

/// Auth as the db records it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthInfo {
    /// `auth/authEnabled`; absent until auth was first toggled.
    pub enabled: bool,
    pub revision: Option<u64>,
    pub users: Vec<UserInfo>,
    pub roles: Vec<RoleInfo>,
    pub problems: Vec<String>,
}

pub fn auth(auth: &[(&[u8], &[u8])], users: &[(&[u8], &[u8])], roles: &[(&[u8], &[u8])]) -> AuthInfo {
    let mut a = AuthInfo::default();
    for &(k, v) in auth {
        match k {
            b"authEnabled" => a.enabled = v == [1],
            b"authRevision" => match be_u64(v) {
                Some(r) => a.revision = Some(r),
                None => a.problems.push(format!("auth/authRevision: {} bytes, want 8", v.len())),
            },
            _ => {}
        }
    }
    for &(k, v) in users {
        match crate::proto::decode::<User>(v, 0) {
            Ok(u) => a.users.push(UserInfo {
                name: show_bytes(&u.name),
                roles: u.roles,
                has_password: !u.password.is_empty(),
                no_password: u.options.is_some_and(|o| o.no_password),
            }),
            Err(e) => a.problems.push(format!("authUsers/{}: {}", show_bytes(k), e.kind())),
        }
    }
    for &(k, v) in roles {
        match crate::proto::decode::<Role>(v, 0) {
            Ok(r) => a.roles.push(RoleInfo {
                name: show_bytes(&r.name),
                permissions: r
                    .key_permission
                    .iter()
                    .map(|p| PermInfo {
                        perm_type: match PermissionType::try_from(p.perm_type) {
                            Ok(PermissionType::Read) => "READ",
                            Ok(PermissionType::Write) => "WRITE",
                            Ok(PermissionType::Readwrite) => "READWRITE",
                            Err(_) => "UNKNOWN",
                        },
                        key: p.key.clone(),
                        range_end: p.range_end.clone(),
                        prefix: !p.range_end.is_empty() && p.range_end == super::index::prefix_end(&p.key),
                    })
                    .collect(),
            }),
            Err(e) => a.problems.push(format!("authRoles/{}: {}", show_bytes(k), e.kind())),
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn meta_bucket() {
        let ci = 282u64.to_be_bytes();
        let rev = Revision { main: 119, sub: 0, tombstone: false }.to_key();
        let entries: Vec<(&[u8], &[u8])> = vec![
            (b"confState", br#"{"voters":[1],"auto_leave":false}"#),
            (b"consistent_index", &ci),
            (b"finishedCompactRev", &rev),
            (b"scheduledCompactRev", &rev),
            (b"term", b"\x00\x02"),
            (b"zzz", b"\x01"),
        ];
        let m = meta_info(&entries);
        assert_eq!(m.consistent_index, Some(282));
        assert_eq!((m.scheduled_compact_revision, m.finished_compact_revision), (Some(119), Some(119)));
        assert_eq!(m.conf_state.unwrap()["voters"][0], 1);
        assert_eq!(m.term, None);
        assert!(m.problems[0].contains("meta/term"), "{:?}", m.problems);
        assert_eq!(m.other, vec![("zzz".to_string(), "01".to_string())]);
    }

    #[test]
    fn users_never_carry_their_hash() {
        let u = User {
            name: b"bob".to_vec(),
            password: b"$2a$10$abcdefghijklmnopqrstuv".to_vec(),
            roles: vec!["reader".into()],
            options: None,
        }
        .encode_to_vec();
        let r = Role {
            name: b"writer".to_vec(),
            key_permission: vec![crate::proto::authpb::Permission {
                perm_type: 2,
                key: b"/bulk/".to_vec(),
                range_end: b"/bulk0".to_vec(),
            }],
        }
        .encode_to_vec();
        let a = auth(&[(b"authEnabled", b"\x01")], &[(b"bob", &u)], &[(b"writer", &r)]);
        assert!(a.enabled);
        assert!(a.users[0].has_password);
        let shown = format!("{a:?}");
        assert!(!shown.contains("$2a$") && !shown.contains("36, 50, 97, 36"), "{shown}");
        assert_eq!(a.roles[0].permissions[0].perm_type, "READWRITE");
        assert!(a.roles[0].permissions[0].prefix);
    }

    #[test]
    fn members_and_alarms() {
        let m = membership(
            &[(
                b"5485ed9a2f08260c",
                br#"{"id":6090535317558273548,"peerURLs":["http://127.0.0.1:23801"],"name":"n1","clientURLs":["http://127.0.0.1:23791"]}"#,
            )],
            &[(b"1f", b"removed")],
            &[(b"clusterVersion", b"3.5.0")],
        );
        assert_eq!(m.members[0].id, 6090535317558273548, "parsed as u64, not f64");
        assert!(m.problems.is_empty(), "{:?}", m.problems);
        assert_eq!(m.removed, vec![0x1f]);
        assert_eq!(m.cluster_version.as_deref(), Some("3.5.0"));
        let key = AlarmMember { member_id: 0xabc, alarm: 1 }.encode_to_vec();
        let (a, p) = alarms(&[(&key, b"")]);
        assert_eq!(a, vec![AlarmInfo { member_id: 0xabc, alarm: "NOSPACE" }]);
        assert!(p.is_empty());
    }

    #[test]
    fn lease_key_must_match() {
        let v = Lease { id: 7, ttl: 600, remaining_ttl: 0 }.encode_to_vec();
        let (l, p) = leases(&[(&7u64.to_be_bytes(), &v), (&8u64.to_be_bytes(), &v), (b"x", b"\xff")]);
        assert_eq!(l.len(), 2);
        assert_eq!(p.len(), 2, "{p:?}");
    }

    #[test]
    fn bytes_stay_on_one_line() {
        assert_eq!(show_bytes(b"/a/b"), "/a/b");
        assert_eq!(show_bytes(b"a\nb"), "a\\nb");
        assert_eq!(show_bytes(b"\xff\x00"), "\\xff\\x00");
        assert_eq!(show_bytes("é".as_bytes()), "é");
    }
}
