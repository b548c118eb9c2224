//! etcd's bucket names (`server/storage/schema/bucket.go`). All are
//! top-level buckets; etcd never nests buckets.

pub const KEY: &[u8] = b"key";
pub const META: &[u8] = b"meta";
pub const LEASE: &[u8] = b"lease";
pub const ALARM: &[u8] = b"alarm";
pub const CLUSTER: &[u8] = b"cluster";
pub const MEMBERS: &[u8] = b"members";
pub const MEMBERS_REMOVED: &[u8] = b"members_removed";
pub const AUTH: &[u8] = b"auth";
pub const AUTH_USERS: &[u8] = b"authUsers";
pub const AUTH_ROLES: &[u8] = b"authRoles";

/// Small buckets whose contents a scan keeps for lookups.
pub const KEEP: &[&[u8]] = &[META, ALARM, CLUSTER, MEMBERS, MEMBERS_REMOVED, AUTH];

/// Every bucket etcd 3.4 .. main creates.
pub const ALL: &[&[u8]] = &[ALARM, AUTH, AUTH_ROLES, AUTH_USERS, CLUSTER, KEY, LEASE, MEMBERS, MEMBERS_REMOVED, META];
