//! The bbolt file format: reading, checking and writing.
//!
//! * [`layout`]: offsets and constants, with the byte diagram;
//! * [`meta`]: the two meta pages;
//! * [`page`]: page headers and elements;
//! * [`db`]: opening a file (page-size detection, meta selection);
//! * [`walk`]: walking every bucket's tree with `tx.Check()`'s invariants;
//! * [`lookup`]: point reads of one top-level bucket, without a walk;
//! * [`scavenge`]: leaf pages found by scanning every page (salvage);
//! * [`stats`]: bbolt's `Bucket.Stats()` from a walk (`space`);
//! * [`write`]: writing a fresh, compact file from ordered buckets (bulk load).
//!
//! This module knows bytes, not etcd: revision keys, protobuf values and
//! bucket names mean nothing here.

pub mod db;
pub mod layout;
pub mod lookup;
pub mod meta;
pub mod page;
pub mod scavenge;
pub mod stats;
pub mod walk;
pub mod write;

pub use db::{Db, MetaSlot, OpenFailure};
pub use meta::{Meta, MetaProblem};
pub use walk::{Collect, KvLoc, NullSink, PageVisit, Sink, TreeFinding, WalkOptions, WalkResult, walk};
