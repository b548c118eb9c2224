//! `check`: every invariant of a db or snapshot file, all damage reported.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Outcome;
use crate::error::Result;
use crate::mvcc::{DbScan, ScanOptions, scan_db};
use crate::report::{Finding, Severity};
use crate::source::Source;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckReport {
    pub path: PathBuf,
    /// `clean` or `damaged`.
    pub verdict: &'static str,
    pub findings: Vec<Finding>,
    pub findings_dropped: u64,
    #[serde(skip)]
    pub scan: Option<DbScan>,
}

impl CheckReport {
    pub fn outcome(&self) -> Outcome {
        if self.findings.iter().any(|f| f.severity == Severity::Damage) { Outcome::Damaged } else { Outcome::Verified }
    }
    pub fn count(&self, s: Severity) -> usize {
        self.findings.iter().filter(|f| f.severity == s).count()
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub sequential: bool,
    /// Bytes scanned so far, for a progress display.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// Check one db or snapshot file.
pub fn check_file(path: &Path, opts: CheckOptions) -> Result<CheckReport> {
    let src = Source::open(path)?;
    let scan = scan_db(
        src.bytes(),
        ScanOptions { skip_trailer_hash: false, sequential: opts.sequential, progress: opts.progress.clone() },
    );
    let mut findings = scan.findings.clone();
    for f in &mut findings {
        f.location = std::mem::take(&mut f.location).with_file(path);
    }
    let damaged = findings.iter().any(|f| f.severity == Severity::Damage);
    Ok(CheckReport {
        path: path.to_path_buf(),
        verdict: if damaged { "damaged" } else { "clean" },
        findings,
        findings_dropped: scan.findings_dropped,
        scan: Some(scan),
    })
}

/// Check a whole data dir (db, WAL, snaps and how they fit together).
pub fn check_dir(
    path: &Path,
    wal_dir: Option<&Path>,
    etcd_version: Option<crate::mvcc::version::Release>,
) -> Result<crate::datadir::Diagnosis> {
    let opts = crate::datadir::Options { wal_dir: wal_dir.map(Path::to_path_buf), etcd_version };
    crate::datadir::diagnose(path, &opts)
}

/// Exit outcome of a data dir check: a repairable torn tail is verified
/// unless `strict`.
pub fn dir_outcome(d: &crate::datadir::Diagnosis, strict: bool) -> Outcome {
    use crate::datadir::Verdict;
    match d.verdict {
        Verdict::Clean => Outcome::Verified,
        Verdict::Repairable if !strict => Outcome::Verified,
        _ => Outcome::Damaged,
    }
}
