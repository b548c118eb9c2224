//! Integration tests: one binary (see Cargo.toml `autotests = false`).
//!
//! Real-etcd comparisons need the six releases of `util::MATRIX` (3.4.23,
//! 3.5.1, 3.5.16, 3.5.30, 3.6.16, 3.7.3; `.ci/run` installs them); on a
//! developer machine without them those tests print `skipping: ...`, in CI
//! (`CI=true`) they fail.

// A failed assertion in a test helper is a failed test: the panic-family
// lints guard library code that reads hostile files, not test code.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

#[macro_use]
mod util;

mod cli;
mod cluster;
mod damage;
mod datadir;
mod defrag;
mod fuzz_regressions;
mod hostile;
mod inspect;
mod k8s;
#[path = "k8s_objects.rs"]
mod k8s_objects;
mod report;
mod restore;
mod salvage;
mod space;
mod status_parity;
mod versions;
mod wal_dump;
