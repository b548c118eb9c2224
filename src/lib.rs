//! etcd-forensics: read etcd's on-disk files with no etcd running.
//!
//! Module map (dependencies run one way, top to bottom):
//!
//! | layer | modules | knows |
//! |---|---|---|
//! | bytes | [`bytes`], [`source`], [`error`] | panic-free reads, read-only maps |
//! | formats | [`bolt`], [`wal`], [`snap`], [`proto`] | file formats, not etcd meaning |
//! | meaning | [`mvcc`], [`datadir`], [`k8s`] | etcd's schema on top of the formats; Kubernetes' on top of etcd's keys and values |
//! | jobs | [`jobs`] | check, status, ...: return reports, never print |
//! | output | [`output`] | print reports as simple/table/json/fields |
//!
//! Damage found in a file is a [`report::Finding`], not an [`error::Error`].
//! Nothing in the library prints or exits.

pub mod bolt;
pub mod bytes;
pub mod crc;
pub mod datadir;
pub mod error;
pub mod jobs;
pub mod k8s;
pub mod membership;
pub mod mvcc;
pub mod outfile;
pub mod output;
pub mod proto;
pub mod report;
pub mod snap;
pub mod source;
pub mod wal;

#[cfg(test)]
mod testvec;

// Lets unit tests include files written for the integration tests
// (`tests/k8s_objects.rs`), which name the crate `etcd_forensics`.
#[cfg(test)]
extern crate self as etcd_forensics;

pub use error::{Error, ErrorKind, Location, Result};
