//! `check`: every invariant of a db or snapshot file, all damage reported.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Outcome;
use crate::error::{Error, Location, Result};
use crate::mvcc::{DbScan, ScanOptions, scan_db};
use crate::report::{Finding, Severity};
use crate::snap::name::SnapFileKind;
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

/// Check one db or snapshot file; a raft snapshot (`*.snap`,
/// `*.snap.broken`, by name) is checked as one ([`check_snap`]). A WAL
/// segment is refused with where to look instead.
pub fn check_file(path: &Path, opts: CheckOptions) -> Result<CheckReport> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    match SnapFileKind::classify(name) {
        SnapFileKind::Snap { .. } | SnapFileKind::Broken { .. } => return check_snap(path),
        SnapFileKind::Other if name.ends_with(".snap") => return check_snap(path),
        _ => {}
    }
    if name.ends_with(".wal") {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        return Err(Error::usage(format!(
            "{} is a WAL segment: segments are read as a chain; run `etcd-forensics wal --summary {}` for the WAL, \
             or `etcd-forensics check DATA_DIR` for the whole member",
            path.display(),
            dir.display()
        )));
    }
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

/// Check one raft snapshot file (`member/snap/<term>-<index>.snap`) with
/// etcd's checks: the envelope CRC, the `raftpb.Snapshot` and its metadata,
/// the v2 store JSON etcd recovers membership from; and what etcd does not
/// check (name vs metadata, index 0, bytes not as etcd writes them).
pub fn check_snap(path: &Path) -> Result<CheckReport> {
    let src = Source::open(path)?;
    let rep = crate::snap::snapfile::inspect_bytes(path, src.bytes());
    let mut findings = Vec::new();
    if let Some(e) = &rep.fault {
        findings.push(
            Finding::damage(e.fault.code(), e.error.location().clone().with_file(path), e.error.kind().to_string())
                .meaning(format!(
                    "etcd logs \"{}\" if it tries this snapshot, renames the file to .broken and falls back to an older \
                     snapshot (or replays the WAL from the start)",
                    e.fault.etcd_message()
                ))
                .action("run `etcd-forensics check DATA_DIR` on the member: it says whether etcd can still start without this file"),
        );
    }
    if let Some(e) = &rep.store_error {
        findings.push(
            Finding::damage("snap.v2_store_unreadable", e.location().clone().with_file(path), e.kind().to_string())
                .meaning("the CRC matches but the v2 store JSON does not parse: etcd panics \"failed to recover from snapshot\" if it picks this snapshot")
                .action("move the file out of member/snap (keep a copy) so that etcd uses an older snapshot; check the data dir after"),
        );
    }
    for a in &rep.anomalies {
        findings.push(Finding::info(a.code, a.location.clone(), a.what.clone()).meaning("etcd accepts this"));
    }
    if let (Some(term), Some(index)) = (rep.term, rep.index) {
        let members =
            rep.store.as_ref().map(|s| s.members.iter().map(|m| format!("{:x}", m.id)).collect::<Vec<_>>().join(", "));
        findings.push(Finding::info(
            "snap.contents",
            Location::default().with_file(path),
            format!(
                "raft snapshot at term {term}, index {index}, {} bytes of v2 store{}",
                rep.data_len,
                members.map_or(String::new(), |m| format!(", members {m}"))
            ),
        ));
    }
    let damaged = findings.iter().any(|f| f.severity == Severity::Damage);
    Ok(CheckReport {
        path: path.to_path_buf(),
        verdict: if damaged { "damaged" } else { "clean" },
        findings,
        findings_dropped: 0,
        scan: None,
    })
}

/// Check a whole data dir (db, WAL, snaps and how they fit together).
pub fn check_dir(
    path: &Path,
    wal_dir: Option<&Path>,
    etcd_version: Option<crate::mvcc::version::Release>,
) -> Result<crate::datadir::Diagnosis> {
    let opts =
        crate::datadir::Options { wal_dir: wal_dir.map(Path::to_path_buf), etcd_version, keep_boot_changes: false };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testvec::{NODE_ID, snap_3423};

    #[test]
    fn a_snap_file_is_checked_as_a_raft_snapshot_by_its_name() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("0000000000000001-0000000000000001.snap");
        std::fs::write(&p, snap_3423()).unwrap();
        let r = check_file(&p, CheckOptions::default()).unwrap();
        assert_eq!(r.verdict, "clean", "{:?}", r.findings);
        let codes: Vec<_> = r.findings.iter().map(|f| f.code).collect();
        assert_eq!(codes, ["snap.contents"]);
        assert!(r.findings[0].what.ends_with(&format!("members {NODE_ID:x}")), "{}", r.findings[0].what);
        // a byte of the payload changed: etcd's crc mismatch, damage
        let mut b = snap_3423();
        let n = b.len();
        b[n - 3] ^= 0x40;
        let bad = d.path().join("0000000000000001-0000000000000002.snap");
        std::fs::write(&bad, b).unwrap();
        let r = check_file(&bad, CheckOptions::default()).unwrap();
        assert_eq!((r.verdict, r.findings[0].code), ("damaged", "snap.crc_mismatch"));
        // a WAL segment is refused with a pointer to `wal --summary`
        let w = d.path().join("0000000000000000-0000000000000000.wal");
        std::fs::write(&w, [0u8; 64]).unwrap();
        let e = check_file(&w, CheckOptions::default()).unwrap_err();
        assert!(e.to_string().contains("wal --summary"), "{e}");
    }
}
