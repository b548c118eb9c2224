//! `etcdserverpb`: what etcd puts inside raft entries and WAL metadata.
//!
//! Written by etcd's server (`api/etcdserverpb/{raft_internal,etcdserver,rpc}.proto`
//! `[E35]/[E36]`, `etcdserver/etcdserverpb/*.proto` `[E34]`), FORMATS.md §7.2–7.4.
//!
//! * [`Metadata`] (proto2): the WAL METADATA record; both ids always emitted.
//! * [`InternalRaftRequest`] (proto3): the data of a normal entry in 3.x;
//!   exactly one request field is set; tags ≥ 16 take two key bytes
//!   (header = `a2 06`).
//! * [`Request`] (proto2): the v2 request; 3.4 still proposes these for
//!   `/0/members/<id>/attributes` and `/0/version`. All scalars are always
//!   emitted except `PrevExist` and `Refresh` (pointers in Go).
//! * [`AlarmMember`]: the key of the backend's `alarm` bucket.
//!
//! Proto3 messages omit zero scalars (prost's default for unlabeled
//! fields). Unknown fields are skipped when decoding.

use super::authpb::{Permission, UserAddOptions};
pub use super::membershippb::{
    Attributes, ClusterMemberAttrSetRequest, ClusterVersionSetRequest, DowngradeInfoSetRequest,
};

/// `etcdserverpb.Metadata`: the WAL METADATA record payload.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Metadata {
    #[prost(uint64, required, tag = "1")]
    pub node_id: u64,
    #[prost(uint64, required, tag = "2")]
    pub cluster_id: u64,
}

/// `etcdserverpb.Request`: a v2 request (proto2).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Request {
    #[prost(uint64, required, tag = "1")]
    pub id: u64,
    /// `PUT`, `POST`, `DELETE`, `QGET`, `GET`, `SYNC`, …
    #[prost(string, required, tag = "2")]
    pub method: String,
    #[prost(string, required, tag = "3")]
    pub path: String,
    #[prost(string, required, tag = "4")]
    pub val: String,
    #[prost(bool, required, tag = "5")]
    pub dir: bool,
    #[prost(string, required, tag = "6")]
    pub prev_value: String,
    #[prost(uint64, required, tag = "7")]
    pub prev_index: u64,
    #[prost(bool, optional, tag = "8")]
    pub prev_exist: Option<bool>,
    #[prost(int64, required, tag = "9")]
    pub expiration: i64,
    #[prost(bool, required, tag = "10")]
    pub wait: bool,
    #[prost(uint64, required, tag = "11")]
    pub since: u64,
    #[prost(bool, required, tag = "12")]
    pub recursive: bool,
    #[prost(bool, required, tag = "13")]
    pub sorted: bool,
    #[prost(bool, required, tag = "14")]
    pub quorum: bool,
    #[prost(int64, required, tag = "15")]
    pub time: i64,
    #[prost(bool, required, tag = "16")]
    pub stream: bool,
    #[prost(bool, optional, tag = "17")]
    pub refresh: Option<bool>,
}

/// `etcdserverpb.RequestHeader`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestHeader {
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(string, tag = "2")]
    pub username: String,
    #[prost(uint64, tag = "3")]
    pub auth_revision: u64,
}

/// `etcdserverpb.InternalRaftRequest`: every field of FORMATS.md §7.2.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InternalRaftRequest {
    #[prost(message, optional, tag = "100")]
    pub header: Option<RequestHeader>,
    /// Used by the apply path when non-zero, else `header.id`.
    #[prost(uint64, tag = "1")]
    pub id: u64,
    #[prost(message, optional, tag = "2")]
    pub v2: Option<Request>,
    #[prost(message, optional, tag = "3")]
    pub range: Option<RangeRequest>,
    #[prost(message, optional, tag = "4")]
    pub put: Option<PutRequest>,
    #[prost(message, optional, tag = "5")]
    pub delete_range: Option<DeleteRangeRequest>,
    #[prost(message, optional, tag = "6")]
    pub txn: Option<TxnRequest>,
    #[prost(message, optional, tag = "7")]
    pub compaction: Option<CompactionRequest>,
    #[prost(message, optional, tag = "8")]
    pub lease_grant: Option<LeaseGrantRequest>,
    #[prost(message, optional, tag = "9")]
    pub lease_revoke: Option<LeaseRevokeRequest>,
    #[prost(message, optional, tag = "10")]
    pub alarm: Option<AlarmRequest>,
    #[prost(message, optional, tag = "11")]
    pub lease_checkpoint: Option<LeaseCheckpointRequest>,
    #[prost(message, optional, tag = "1000")]
    pub auth_enable: Option<AuthEnableRequest>,
    #[prost(message, optional, tag = "1011")]
    pub auth_disable: Option<AuthDisableRequest>,
    #[prost(message, optional, tag = "1012")]
    pub authenticate: Option<InternalAuthenticateRequest>,
    #[prost(message, optional, tag = "1013")]
    pub auth_status: Option<AuthStatusRequest>,
    #[prost(message, optional, tag = "1100")]
    pub auth_user_add: Option<AuthUserAddRequest>,
    #[prost(message, optional, tag = "1101")]
    pub auth_user_delete: Option<AuthUserDeleteRequest>,
    #[prost(message, optional, tag = "1102")]
    pub auth_user_get: Option<AuthUserGetRequest>,
    #[prost(message, optional, tag = "1103")]
    pub auth_user_change_password: Option<AuthUserChangePasswordRequest>,
    #[prost(message, optional, tag = "1104")]
    pub auth_user_grant_role: Option<AuthUserGrantRoleRequest>,
    #[prost(message, optional, tag = "1105")]
    pub auth_user_revoke_role: Option<AuthUserRevokeRoleRequest>,
    #[prost(message, optional, tag = "1106")]
    pub auth_user_list: Option<AuthUserListRequest>,
    #[prost(message, optional, tag = "1107")]
    pub auth_role_list: Option<AuthRoleListRequest>,
    #[prost(message, optional, tag = "1200")]
    pub auth_role_add: Option<AuthRoleAddRequest>,
    #[prost(message, optional, tag = "1201")]
    pub auth_role_delete: Option<AuthRoleDeleteRequest>,
    #[prost(message, optional, tag = "1202")]
    pub auth_role_get: Option<AuthRoleGetRequest>,
    #[prost(message, optional, tag = "1203")]
    pub auth_role_grant_permission: Option<AuthRoleGrantPermissionRequest>,
    #[prost(message, optional, tag = "1204")]
    pub auth_role_revoke_permission: Option<AuthRoleRevokePermissionRequest>,
    #[prost(message, optional, tag = "1300")]
    pub cluster_version_set: Option<ClusterVersionSetRequest>,
    #[prost(message, optional, tag = "1301")]
    pub cluster_member_attr_set: Option<ClusterMemberAttrSetRequest>,
    #[prost(message, optional, tag = "1302")]
    pub downgrade_info_set: Option<DowngradeInfoSetRequest>,
    /// 3.6 tests only.
    #[prost(message, optional, tag = "9900")]
    pub downgrade_version_test: Option<DowngradeVersionTestRequest>,
}

impl InternalRaftRequest {
    /// The request id the apply path uses: `id` when non-zero, else `header.id`.
    pub fn request_id(&self) -> u64 {
        if self.id != 0 { self.id } else { self.header.as_ref().map_or(0, |h| h.id) }
    }

    /// Name of the (first) request field that is set, as in the proto
    /// (`put`, `txn`, `lease_grant`, …); `None` if none is.
    pub fn kind(&self) -> Option<&'static str> {
        let set: [(bool, &'static str); 31] = [
            (self.v2.is_some(), "v2"),
            (self.range.is_some(), "range"),
            (self.put.is_some(), "put"),
            (self.delete_range.is_some(), "delete_range"),
            (self.txn.is_some(), "txn"),
            (self.compaction.is_some(), "compaction"),
            (self.lease_grant.is_some(), "lease_grant"),
            (self.lease_revoke.is_some(), "lease_revoke"),
            (self.alarm.is_some(), "alarm"),
            (self.lease_checkpoint.is_some(), "lease_checkpoint"),
            (self.auth_enable.is_some(), "auth_enable"),
            (self.auth_disable.is_some(), "auth_disable"),
            (self.authenticate.is_some(), "authenticate"),
            (self.auth_status.is_some(), "auth_status"),
            (self.auth_user_add.is_some(), "auth_user_add"),
            (self.auth_user_delete.is_some(), "auth_user_delete"),
            (self.auth_user_get.is_some(), "auth_user_get"),
            (self.auth_user_change_password.is_some(), "auth_user_change_password"),
            (self.auth_user_grant_role.is_some(), "auth_user_grant_role"),
            (self.auth_user_revoke_role.is_some(), "auth_user_revoke_role"),
            (self.auth_user_list.is_some(), "auth_user_list"),
            (self.auth_role_list.is_some(), "auth_role_list"),
            (self.auth_role_add.is_some(), "auth_role_add"),
            (self.auth_role_delete.is_some(), "auth_role_delete"),
            (self.auth_role_get.is_some(), "auth_role_get"),
            (self.auth_role_grant_permission.is_some(), "auth_role_grant_permission"),
            (self.auth_role_revoke_permission.is_some(), "auth_role_revoke_permission"),
            (self.cluster_version_set.is_some(), "cluster_version_set"),
            (self.cluster_member_attr_set.is_some(), "cluster_member_attr_set"),
            (self.downgrade_info_set.is_some(), "downgrade_info_set"),
            (self.downgrade_version_test.is_some(), "downgrade_version_test"),
        ];
        set.iter().find(|(is, _)| *is).map(|(_, name)| *name)
    }
}

/// `RangeRequest.SortOrder`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SortOrder {
    None = 0,
    Ascend = 1,
    Descend = 2,
}

/// `RangeRequest.SortTarget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum SortTarget {
    Key = 0,
    Version = 1,
    Create = 2,
    Mod = 3,
    Value = 4,
}

/// `etcdserverpb.RangeRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RangeRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub range_end: Vec<u8>,
    #[prost(int64, tag = "3")]
    pub limit: i64,
    #[prost(int64, tag = "4")]
    pub revision: i64,
    #[prost(enumeration = "SortOrder", tag = "5")]
    pub sort_order: i32,
    #[prost(enumeration = "SortTarget", tag = "6")]
    pub sort_target: i32,
    #[prost(bool, tag = "7")]
    pub serializable: bool,
    #[prost(bool, tag = "8")]
    pub keys_only: bool,
    #[prost(bool, tag = "9")]
    pub count_only: bool,
    #[prost(int64, tag = "10")]
    pub min_mod_revision: i64,
    #[prost(int64, tag = "11")]
    pub max_mod_revision: i64,
    #[prost(int64, tag = "12")]
    pub min_create_revision: i64,
    #[prost(int64, tag = "13")]
    pub max_create_revision: i64,
}

/// `etcdserverpb.PutRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct PutRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
    #[prost(int64, tag = "3")]
    pub lease: i64,
    #[prost(bool, tag = "4")]
    pub prev_kv: bool,
    #[prost(bool, tag = "5")]
    pub ignore_value: bool,
    #[prost(bool, tag = "6")]
    pub ignore_lease: bool,
}

/// `etcdserverpb.DeleteRangeRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DeleteRangeRequest {
    #[prost(bytes = "vec", tag = "1")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "2")]
    pub range_end: Vec<u8>,
    #[prost(bool, tag = "3")]
    pub prev_kv: bool,
}

/// `etcdserverpb.RequestOp`: one operation of a transaction.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RequestOp {
    #[prost(oneof = "request_op::Request", tags = "1, 2, 3, 4")]
    pub request: Option<request_op::Request>,
}

/// The oneof of [`RequestOp`].
pub mod request_op {
    /// `RequestOp.request`.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Request {
        #[prost(message, tag = "1")]
        RequestRange(super::RangeRequest),
        #[prost(message, tag = "2")]
        RequestPut(super::PutRequest),
        #[prost(message, tag = "3")]
        RequestDeleteRange(super::DeleteRangeRequest),
        /// 3.3+.
        #[prost(message, tag = "4")]
        RequestTxn(super::TxnRequest),
    }
}

/// `Compare.CompareResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum CompareResult {
    Equal = 0,
    Greater = 1,
    Less = 2,
    NotEqual = 3,
}

/// `Compare.CompareTarget`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum CompareTarget {
    Version = 0,
    Create = 1,
    Mod = 2,
    Value = 3,
    Lease = 4,
}

/// `etcdserverpb.Compare`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Compare {
    #[prost(enumeration = "CompareResult", tag = "1")]
    pub result: i32,
    #[prost(enumeration = "CompareTarget", tag = "2")]
    pub target: i32,
    #[prost(bytes = "vec", tag = "3")]
    pub key: Vec<u8>,
    #[prost(oneof = "compare::TargetUnion", tags = "4, 5, 6, 7, 8")]
    pub target_union: Option<compare::TargetUnion>,
    #[prost(bytes = "vec", tag = "64")]
    pub range_end: Vec<u8>,
}

/// The oneof of [`Compare`].
pub mod compare {
    /// `Compare.target_union`.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum TargetUnion {
        #[prost(int64, tag = "4")]
        Version(i64),
        #[prost(int64, tag = "5")]
        CreateRevision(i64),
        #[prost(int64, tag = "6")]
        ModRevision(i64),
        #[prost(bytes = "vec", tag = "7")]
        Value(Vec<u8>),
        #[prost(int64, tag = "8")]
        Lease(i64),
    }
}

/// `etcdserverpb.TxnRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TxnRequest {
    #[prost(message, repeated, tag = "1")]
    pub compare: Vec<Compare>,
    #[prost(message, repeated, tag = "2")]
    pub success: Vec<RequestOp>,
    #[prost(message, repeated, tag = "3")]
    pub failure: Vec<RequestOp>,
}

/// `etcdserverpb.CompactionRequest`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct CompactionRequest {
    #[prost(int64, tag = "1")]
    pub revision: i64,
    #[prost(bool, tag = "2")]
    pub physical: bool,
}

/// `etcdserverpb.LeaseGrantRequest`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct LeaseGrantRequest {
    #[prost(int64, tag = "1")]
    pub ttl: i64,
    #[prost(int64, tag = "2")]
    pub id: i64,
}

/// `etcdserverpb.LeaseRevokeRequest`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct LeaseRevokeRequest {
    #[prost(int64, tag = "1")]
    pub id: i64,
}

/// `etcdserverpb.LeaseCheckpoint`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct LeaseCheckpoint {
    #[prost(int64, tag = "1")]
    pub id: i64,
    #[prost(int64, tag = "2")]
    pub remaining_ttl: i64,
}

/// `etcdserverpb.LeaseCheckpointRequest` (3.4+).
#[derive(Clone, PartialEq, prost::Message)]
pub struct LeaseCheckpointRequest {
    #[prost(message, repeated, tag = "1")]
    pub checkpoints: Vec<LeaseCheckpoint>,
}

/// `AlarmRequest.AlarmAction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AlarmAction {
    Get = 0,
    Activate = 1,
    Deactivate = 2,
}

/// `etcdserverpb.AlarmType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AlarmType {
    None = 0,
    Nospace = 1,
    Corrupt = 2,
}

/// `etcdserverpb.AlarmRequest`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AlarmRequest {
    #[prost(enumeration = "AlarmAction", tag = "1")]
    pub action: i32,
    #[prost(uint64, tag = "2")]
    pub member_id: u64,
    #[prost(enumeration = "AlarmType", tag = "3")]
    pub alarm: i32,
}

/// `etcdserverpb.AlarmMember`: the key of the backend's `alarm` bucket.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AlarmMember {
    #[prost(uint64, tag = "1")]
    pub member_id: u64,
    #[prost(enumeration = "AlarmType", tag = "2")]
    pub alarm: i32,
}

/// `etcdserverpb.AuthEnableRequest` (empty).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AuthEnableRequest {}

/// `etcdserverpb.AuthDisableRequest` (empty).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AuthDisableRequest {}

/// `etcdserverpb.AuthStatusRequest` (empty, 3.5+).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AuthStatusRequest {}

/// `etcdserverpb.InternalAuthenticateRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct InternalAuthenticateRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub password: String,
    #[prost(string, tag = "3")]
    pub simple_token: String,
}

/// `etcdserverpb.AuthUserAddRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthUserAddRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub password: String,
    /// 3.4+.
    #[prost(message, optional, tag = "3")]
    pub options: Option<UserAddOptions>,
    /// 3.5+.
    #[prost(string, tag = "4")]
    pub hashed_password: String,
}

/// `etcdserverpb.AuthUserGetRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthUserGetRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `etcdserverpb.AuthUserDeleteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthUserDeleteRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `etcdserverpb.AuthUserChangePasswordRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthUserChangePasswordRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub password: String,
    /// 3.5+.
    #[prost(string, tag = "3")]
    pub hashed_password: String,
}

/// `etcdserverpb.AuthUserGrantRoleRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthUserGrantRoleRequest {
    #[prost(string, tag = "1")]
    pub user: String,
    #[prost(string, tag = "2")]
    pub role: String,
}

/// `etcdserverpb.AuthUserRevokeRoleRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthUserRevokeRoleRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub role: String,
}

/// `etcdserverpb.AuthUserListRequest` (empty).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AuthUserListRequest {}

/// `etcdserverpb.AuthRoleListRequest` (empty).
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct AuthRoleListRequest {}

/// `etcdserverpb.AuthRoleAddRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthRoleAddRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

/// `etcdserverpb.AuthRoleGetRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthRoleGetRequest {
    #[prost(string, tag = "1")]
    pub role: String,
}

/// `etcdserverpb.AuthRoleDeleteRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthRoleDeleteRequest {
    #[prost(string, tag = "1")]
    pub role: String,
}

/// `etcdserverpb.AuthRoleGrantPermissionRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthRoleGrantPermissionRequest {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(message, optional, tag = "2")]
    pub perm: Option<Permission>,
}

/// `etcdserverpb.AuthRoleRevokePermissionRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct AuthRoleRevokePermissionRequest {
    #[prost(string, tag = "1")]
    pub role: String,
    #[prost(bytes = "vec", tag = "2")]
    pub key: Vec<u8>,
    #[prost(bytes = "vec", tag = "3")]
    pub range_end: Vec<u8>,
}

/// `etcdserverpb.DowngradeVersionTestRequest` (3.6 tests only).
#[derive(Clone, PartialEq, prost::Message)]
pub struct DowngradeVersionTestRequest {
    #[prost(string, tag = "1")]
    pub ver: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testvec::hex;
    use prost::Message;

    #[test]
    fn metadata_lab_example() {
        let md = Metadata { node_id: 1608544175929105451, cluster_id: 10879771742534321957 };
        assert_eq!(md.encode_to_vec(), hex("08abb89c9efdccaca916 10a58eddf899d8adfe9601"));
        // FORMATS.md §7.4 prints `08 a1f7e2feb8f3c6b09f01 10 ace8d6bdd7efc3bf9d01`
        // for another member; it must decode to two plain u64s too.
        let other = Metadata::decode(&hex("08a1f7e2feb8f3c6b09f01 10ace8d6bdd7efc3bf9d01")[..]).unwrap();
        assert_eq!(other.encode_to_vec(), hex("08a1f7e2feb8f3c6b09f01 10ace8d6bdd7efc3bf9d01"));
        assert_eq!(Metadata::default().encode_to_vec(), [0x08, 0, 0x10, 0]);
    }

    #[test]
    fn put_lab_example() {
        // §7.2: `22 <len> 0a 03 'foo' 12 03 'bar'` then `a2 06 <len> 08 <id>`
        let r = InternalRaftRequest {
            header: Some(RequestHeader { id: 0x1234, ..Default::default() }),
            put: Some(PutRequest { key: b"foo".to_vec(), value: b"bar".to_vec(), ..Default::default() }),
            ..Default::default()
        };
        let enc = r.encode_to_vec();
        let mut want = hex("220a 0a03666f6f 1203626172");
        want.extend(hex("a206 03 08b424"));
        assert_eq!(enc, want);
        let back = InternalRaftRequest::decode(&enc[..]).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.request_id(), 0x1234);
        assert_eq!(back.kind(), Some("put"));
    }

    #[test]
    fn v2_request_always_emits_scalars() {
        let r = Request { id: 1, method: "PUT".into(), ..Default::default() };
        let enc = r.encode_to_vec();
        #[rustfmt::skip]
        let want = [
            0x08, 1,                   // ID
            0x12, 3, b'P', b'U', b'T', // Method
            0x1a, 0,                   // Path
            0x22, 0,                   // Val
            0x28, 0,                   // Dir
            0x32, 0,                   // PrevValue
            0x38, 0,                   // PrevIndex
            0x48, 0,                   // Expiration (PrevExist absent)
            0x50, 0,                   // Wait
            0x58, 0,                   // Since
            0x60, 0,                   // Recursive
            0x68, 0,                   // Sorted
            0x70, 0,                   // Quorum
            0x78, 0,                   // Time
            0x80, 0x01, 0,             // Stream (Refresh absent)
        ];
        assert_eq!(enc, want);
        assert_eq!(Request::decode(&enc[..]).unwrap(), r);
    }

    #[test]
    fn txn_round_trip() {
        let t = TxnRequest {
            compare: vec![Compare {
                result: CompareResult::Equal as i32,
                target: CompareTarget::Mod as i32,
                key: b"k".to_vec(),
                target_union: Some(compare::TargetUnion::ModRevision(7)),
                range_end: b"l".to_vec(),
            }],
            success: vec![RequestOp {
                request: Some(request_op::Request::RequestTxn(TxnRequest {
                    success: vec![RequestOp {
                        request: Some(request_op::Request::RequestPut(PutRequest {
                            key: b"a".to_vec(),
                            ..Default::default()
                        })),
                    }],
                    ..Default::default()
                })),
            }],
            failure: vec![],
        };
        let enc = t.encode_to_vec();
        assert_eq!(TxnRequest::decode(&enc[..]).unwrap(), t);
        // range_end is tag 64: two-byte key 0x82 0x04
        assert!(enc.windows(3).any(|w| w == [0x82, 0x04, 0x01]));
    }
}
