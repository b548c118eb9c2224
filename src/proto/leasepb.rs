//! `leasepb` (`server/lease/leasepb/lease.proto`, proto3): values of the
//! backend's `lease` bucket (FORMATS.md §2.5). \[LAB\] `08 <id> 10 d8 04` = ID, TTL 600.

/// `leasepb.Lease`.
#[derive(Clone, Copy, PartialEq, Eq, prost::Message)]
pub struct Lease {
    #[prost(int64, tag = "1")]
    pub id: i64,
    /// Seconds.
    #[prost(int64, tag = "2")]
    pub ttl: i64,
    /// Only set by lease checkpointing (3.4+).
    #[prost(int64, tag = "3")]
    pub remaining_ttl: i64,
}
