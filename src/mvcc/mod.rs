//! etcd's meaning on top of the bbolt file: buckets, revision keys,
//! KeyValue values, and the numbers `etcdutl snapshot status` reports;
//! per-key views of the `key` bucket ([`index`]), HashKV ([`hashkv`]) and
//! the small buckets decoded ([`schema`]).

pub mod buckets;
pub mod hashkv;
pub mod index;
pub mod kv;
pub mod recover;
pub mod replay;
pub mod revision;
pub mod scan;
pub mod schema;
pub mod space;
pub mod version;

pub use revision::Revision;
pub use scan::{DbScan, ScanOptions, StatusNumbers, Trailer, scan_db};
