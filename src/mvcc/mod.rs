//! etcd's meaning on top of the bbolt file: buckets, revision keys,
//! KeyValue values, and the numbers `etcdutl snapshot status` reports.

pub mod buckets;
pub mod kv;
pub mod replay;
pub mod revision;
pub mod scan;

pub use revision::Revision;
pub use scan::{DbScan, ScanOptions, StatusNumbers, Trailer, scan_db};
