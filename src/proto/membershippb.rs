//! `membershippb` (`server/etcdserver/api/membership/membershippb`,
//! proto3, 3.5+): membership requests carried in
//! [`InternalRaftRequest`](super::etcdserverpb::InternalRaftRequest) (FORMATS.md §7.2).

/// `membershippb.Attributes`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Attributes {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, repeated, tag = "2")]
    pub client_urls: Vec<String>,
}

/// `membershippb.ClusterVersionSetRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClusterVersionSetRequest {
    #[prost(string, tag = "1")]
    pub ver: String,
}

/// `membershippb.ClusterMemberAttrSetRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ClusterMemberAttrSetRequest {
    #[prost(uint64, tag = "1")]
    pub member_id: u64,
    #[prost(message, optional, tag = "2")]
    pub member_attributes: Option<Attributes>,
}

/// `membershippb.DowngradeInfoSetRequest`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DowngradeInfoSetRequest {
    #[prost(bool, tag = "1")]
    pub enabled: bool,
    #[prost(string, tag = "2")]
    pub ver: String,
}
