//! `status`: what `etcdutl snapshot status` prints, computed the same way,
//! plus the details operators need next to it.

use std::path::{Path, PathBuf};

use super::Outcome;
use crate::error::Result;
use crate::mvcc::version::{Applied, Release, Writer};
use crate::mvcc::{DbScan, ScanOptions, scan_db};
use crate::report::Severity;
use crate::source::Source;

#[derive(Debug, Clone)]
pub struct StatusReport {
    pub path: PathBuf,
    pub scan: DbScan,
    /// Whose `snapshot status` this answers as (the writer's by default).
    pub applied: Applied,
}

impl StatusReport {
    /// totalKey as the applied release's etcdutl prints it: entries of
    /// every bucket (3.4, 3.5) or distinct live keys (3.6+).
    pub fn total_key(&self) -> Option<u64> {
        let st = self.scan.status.as_ref()?;
        if self.applied.release.status_live_total_key() { self.scan.live_keys.or(Some(0)) } else { Some(st.total_key) }
    }
    /// 3.6+'s `version` column (`meta/storageVersion` as semver, "" when
    /// absent or not a version), `None` for releases without it.
    pub fn version_column(&self) -> Option<String> {
        if !self.applied.release.status_version_column() {
            return None;
        }
        let sv = self.scan.storage_version.as_deref().unwrap_or("");
        Some(if Release::parse(sv).is_some_and(|r| r.patch.is_some()) { sv.trim().to_string() } else { String::new() })
    }

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
    /// `--etcd-version`: answer as this release's etcdutl (default: the
    /// release that wrote the file, see [`crate::mvcc::version`]).
    pub etcd_version: Option<Release>,
    /// Bytes scanned so far, for a progress display.
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

pub fn status(path: &Path, opts: StatusOptions) -> Result<StatusReport> {
    let src = Source::open(path)?;
    let scan = scan_db(
        src.bytes(),
        ScanOptions { skip_trailer_hash: opts.skip_hash_check, sequential: false, progress: opts.progress.clone() },
    );
    let applied = Applied::choose(opts.etcd_version, Writer::of_scan(&scan));
    Ok(StatusReport { path: path.to_path_buf(), scan, applied })
}
