//! Jobs: what the commands do. Each returns a report (`wal` also hands
//! entries to a caller's sink as it reads them); none prints.

pub mod check;
pub mod cluster;
pub mod defrag;
pub mod diff;
pub mod floor;
pub mod inspect;
pub mod report;
pub mod restore;
pub mod salvage;
pub mod space;
pub mod status;
pub mod wal;

/// The outcome every command maps to an exit code (0 / 1; errors are 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Everything verified.
    Verified,
    /// Damage found (or, for `status`, the file was refused).
    Damaged,
}
