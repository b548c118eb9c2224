//! `status`: what `etcdutl snapshot status` prints, computed the same way,
//! plus the details operators need next to it.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::error::Result;
use crate::mvcc::{DbScan, ScanOptions, scan_db};
use crate::report::Severity;
use crate::source::Source;

#[derive(Debug, Clone)]
pub struct StatusReport {
    pub path: PathBuf,
    pub scan: DbScan,
}

impl StatusReport {
    /// etcdutl refuses a file whose integrity check fails (or that does
    /// not open); so do we.
    pub fn refused(&self) -> bool {
        self.scan.status.is_none() || self.scan.integrity_failed
    }
    /// Damage that etcdutl does not notice (a bad trailer, one bad meta
    /// page, an undecodable value): we still answer, and say so.
    pub fn anomalies(&self) -> impl Iterator<Item = &crate::report::Finding> {
        self.scan.findings.iter().filter(|f| f.severity >= Severity::Warning)
    }
    pub fn outcome(&self) -> Outcome {
        if self.refused() || self.scan.findings.iter().any(|f| f.severity == Severity::Damage) {
            Outcome::Damaged
        } else {
            Outcome::Verified
        }
    }
    /// The message etcdutl prints when it refuses the file.
    pub fn refusal_message(&self) -> String {
        let errors: Vec<&crate::report::Finding> =
            self.scan.findings.iter().filter(|f| f.severity == Severity::Damage).collect();
        let mut s = format!("snapshot file integrity check failed. {} errors found.", errors.len());
        for f in errors {
            s.push('\n');
            s.push_str(&f.location.clone().with_file(&self.path).to_string());
            s.push_str(": ");
            s.push_str(&f.what);
        }
        s
    }
}

#[derive(Debug, Clone, Default)]
pub struct StatusOptions {
    pub skip_hash_check: bool,
    /// Bytes scanned so far, for a progress display.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

pub fn status(path: &Path, opts: StatusOptions) -> Result<StatusReport> {
    let src = Source::open(path)?;
    let scan = scan_db(
        src.bytes(),
        ScanOptions { skip_trailer_hash: opts.skip_hash_check, sequential: false, progress: opts.progress.clone() },
    );
    Ok(StatusReport { path: path.to_path_buf(), scan })
}
