//! `report`: everything known about a data dir, a db file or a set of
//! members, gathered for one self-contained HTML page
//! ([`crate::output::html`]).
//!
//! Nothing here is computed twice or differently from the other commands:
//! each input's verdict and findings are `check`'s (the same
//! [`CheckReport`] or [`Diagnosis`] `check -w json` serializes), the space
//! numbers are `space`'s ([`SpaceReport`], with its Kubernetes count), a set
//! of members is `cluster`'s [`ClusterReport`]. What this adds: the SHA-256
//! and size of every input file (so a report can be matched to the files
//! later) and the marks of the timeline ([`Lane`]).
//!
//! The jobs run side by side ([`rayon::join`]): hashing the files, checking
//! them, and the space walk of the db.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Outcome;
use super::check::{CheckOptions, CheckReport, check_dir, check_file};
use super::cluster::{ClusterOptions, ClusterReport, analyze};
use super::space::{SpaceOptions, SpaceReport, space_of};
use crate::datadir::{Diagnosis, Verdict};
use crate::error::{Error, Result};
use crate::mvcc::version::Release;
use crate::report::{Finding, Severity};
use crate::source::Source;

/// Files deeper than this below an input dir are not hashed (a data dir is
/// `member/{snap,wal}/file`: depth 3).
const MAX_DEPTH: usize = 4;
/// At most this many files of an input are listed and hashed.
const MAX_FILES: usize = 10_000;

#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// `--etcd-version`: whose rules the checks follow (default: the writer's).
    pub etcd_version: Option<Release>,
    /// The time the report is stamped with, as seconds since the epoch
    /// (default: now; `SOURCE_DATE_EPOCH` in the binary).
    pub generated_at: Option<i64>,
    /// Bytes of db pages walked so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Leave out the SHA-256 of the input files (sizes are still listed):
    /// on a GiB-scale db the hash is most of the report's cost.
    pub no_hash: bool,
}

/// One file of an input, for the header.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HashedFile {
    pub path: PathBuf,
    pub size: u64,
    /// Lowercase hex; `None` when the file could not be read (`error` says why).
    pub sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputKind {
    DataDir,
    /// A db or `snapshot save` file.
    DbFile,
}

/// One path given on the command line.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputInfo {
    pub path: PathBuf,
    pub kind: InputKind,
    pub files: Vec<HashedFile>,
    /// Files left out beyond [`MAX_FILES`].
    pub files_omitted: u64,
    pub bytes: u64,
}

/// `check`'s answer for one input, exactly as `check -w json` gives it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Checked {
    File(Box<CheckReport>),
    Dir(Box<Diagnosis>),
    /// The input could not be checked at all (what `check` exits 2 with).
    Failed {
        error: String,
    },
}

impl Checked {
    /// `clean`, `repairable`, `damaged`, or `error`.
    pub fn verdict(&self) -> &'static str {
        match self {
            Checked::File(r) => r.verdict,
            Checked::Dir(d) => match d.verdict {
                Verdict::Clean => "clean",
                Verdict::Repairable => "repairable",
                Verdict::Damaged => "damaged",
            },
            Checked::Failed { .. } => "error",
        }
    }
    /// etcd's start, for a data dir.
    pub fn will_start(&self) -> Option<bool> {
        match self {
            Checked::Dir(d) => Some(d.will_start),
            _ => None,
        }
    }
    pub fn findings(&self) -> &[Finding] {
        match self {
            Checked::File(r) => &r.findings,
            Checked::Dir(d) => &d.findings,
            Checked::Failed { .. } => &[],
        }
    }
    pub fn findings_dropped(&self) -> u64 {
        match self {
            Checked::File(r) => r.findings_dropped,
            _ => 0,
        }
    }
    pub fn count(&self, s: Severity) -> usize {
        self.findings().iter().filter(|f| f.severity == s).count()
    }
    /// What to do, in one sentence.
    pub fn next_step(&self) -> String {
        let first_action = |sev: Severity| {
            self.findings().iter().find(|f| f.severity == sev && !f.action.is_empty()).map(|f| f.action.clone())
        };
        match self {
            Checked::Failed { error } => {
                format!("the input could not be read ({error}); check the path and permissions")
            }
            Checked::File(r) if r.verdict == "clean" => {
                "nothing to do: every checksum and structural invariant of the file verifies".into()
            }
            Checked::File(_) => first_action(Severity::Damage).unwrap_or_else(|| {
                "restore from another snapshot, or salvage what is readable (etcd-forensics salvage)".into()
            }),
            Checked::Dir(d) => match d.verdict {
                Verdict::Clean => "nothing to do: etcd starts on this data dir as it is".into(),
                Verdict::Repairable => first_action(Severity::Warning).unwrap_or_else(|| {
                    "etcd repairs this on start; keep a copy of the data dir before starting it".into()
                }),
                Verdict::Damaged => first_action(Severity::Damage).unwrap_or_else(|| {
                    "do not start etcd on this dir; restore from a snapshot or salvage (etcd-forensics salvage)".into()
                }),
            },
        }
    }
}

/// One input's check, with its timeline lane.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub path: PathBuf,
    /// The member's name, when the db or WAL tells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub check: Checked,
    pub lane: Lane,
}

/// A WAL segment on the raft index axis.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SegmentMark {
    pub file: String,
    /// The index in the file name (the first entry expected).
    pub name_index: u64,
    pub first_entry: Option<u64>,
    pub last_entry: Option<u64>,
    /// The worst finding in this file.
    pub worst: Option<Severity>,
}

/// Everything placed on one member's lanes.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lane {
    pub label: String,
    pub segments: Vec<SegmentMark>,
    /// `.snap` files: (file name, index).
    pub snap_files: Vec<(String, u64)>,
    /// SNAPSHOT records of the WAL: their indexes.
    pub wal_snapshots: Vec<u64>,
    pub consistent_index: Option<u64>,
    pub commit: Option<u64>,
    pub last_index: Option<u64>,
    pub compact_revision: Option<i64>,
    pub revision: Option<i64>,
    /// The revision etcd reaches after replaying the committed entries.
    pub revision_at_boot: Option<i64>,
}

impl Lane {
    /// The lowest and highest raft index marked, if any.
    pub fn raft_span(&self) -> Option<(u64, u64)> {
        let mut v: Vec<u64> = Vec::new();
        for s in &self.segments {
            v.push(s.name_index);
            v.extend(s.first_entry);
            v.extend(s.last_entry);
        }
        v.extend(self.snap_files.iter().map(|s| s.1));
        v.extend(&self.wal_snapshots);
        v.extend(self.consistent_index);
        v.extend(self.commit);
        v.extend(self.last_index);
        Some((*v.iter().min()?, *v.iter().max()?))
    }
    pub fn rev_span(&self) -> Option<(i64, i64)> {
        let v: Vec<i64> = [self.compact_revision, self.revision, self.revision_at_boot].into_iter().flatten().collect();
        Some((*v.iter().min()?, *v.iter().max()?))
    }
}

/// All a report shows.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IncidentReport {
    pub tool: String,
    pub tool_version: String,
    /// RFC 3339, UTC.
    pub generated_at: String,
    pub inputs: Vec<InputInfo>,
    pub subjects: Vec<Subject>,
    /// With several inputs: how they fit together as one cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterReport>,
    /// The db whose space (and Kubernetes objects) are shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_of: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space: Option<SpaceReport>,
    /// Why there is no space section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub space_error: Option<String>,
}

impl IncidentReport {
    /// Damage anywhere (or a cluster that is not intact): exit 1.
    pub fn outcome(&self) -> Outcome {
        let damaged = self.subjects.iter().any(|s| match &s.check {
            Checked::File(r) => r.outcome() == Outcome::Damaged,
            Checked::Dir(d) => super::check::dir_outcome(d, false) == Outcome::Damaged,
            Checked::Failed { .. } => true,
        });
        let cluster_bad = self.cluster.as_ref().is_some_and(|c| c.outcome() == Outcome::Damaged);
        if damaged || cluster_bad { Outcome::Damaged } else { Outcome::Verified }
    }
}

fn hash_file(path: &Path, no_hash: bool) -> HashedFile {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if no_hash {
        return HashedFile {
            path: path.to_path_buf(),
            size,
            sha256: None,
            error: Some("not hashed (--no-hash)".into()),
        };
    }
    match Source::open(path) {
        Ok(src) => {
            let digest: [u8; 32] = Sha256::digest(src.bytes()).into();
            HashedFile { path: path.to_path_buf(), size: src.len(), sha256: Some(hex_of(&digest)), error: None }
        }
        Err(e) => HashedFile { path: path.to_path_buf(), size, sha256: None, error: Some(e.to_string()) },
    }
}

/// Lowercase hex of a digest (all 32 bytes: `walk::hex` shortens only past 64).
fn hex_of(digest: &[u8; 32]) -> String {
    crate::bolt::walk::hex(digest)
}

/// Whether `check` of the single file input `path` hashes the whole file
/// anyway (a snapshot file: verifying its SHA-256 trailer), so that the
/// header takes that digest instead of reading the file a second time.
fn hashed_by_check(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
    !name.ends_with(".snap")
        && !name.ends_with(".snap.broken")
        && !name.ends_with(".wal")
        && std::fs::metadata(path).is_ok_and(|m| m.is_file() && crate::mvcc::scan::has_trailer(m.len()))
}

/// Fill in the header's SHA-256 of a file left to `check` ([`hashed_by_check`]):
/// the digest its trailer verification computed, or, when it did not
/// compute one (the file would not open as bbolt, ...), a pass of our own.
fn take_check_digest(info: &mut InputInfo, subject: Option<&Subject>) {
    let digest = match subject.map(|s| &s.check) {
        Some(Checked::File(r)) => r.scan.as_ref().and_then(|s| s.file_sha256),
        _ => None,
    };
    for f in &mut info.files {
        if f.sha256.is_none() && f.error.is_none() {
            match digest {
                Some(d) => f.sha256 = Some(hex_of(&d)),
                None => *f = hash_file(&f.path, false),
            }
        }
    }
}

/// Regular files below `dir`, sorted, at most [`MAX_FILES`] (and how many more).
fn files_below(dir: &Path) -> (Vec<PathBuf>, u64) {
    let mut out = Vec::new();
    let mut omitted = 0u64;
    let mut stack = vec![(dir.to_path_buf(), 0usize)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let Ok(t) = e.file_type() else { continue };
            let p = e.path();
            if t.is_dir() && depth < MAX_DEPTH {
                stack.push((p, depth + 1));
            } else if t.is_file() {
                if out.len() < MAX_FILES {
                    out.push(p);
                } else {
                    omitted += 1;
                }
            }
        }
    }
    out.sort();
    (out, omitted)
}

/// The header's entry for one input. With `deferred`, the file is not
/// hashed here: its `sha256` and `error` stay `None` for [`take_check_digest`].
fn input_info(path: &Path, no_hash: bool, deferred: bool) -> InputInfo {
    use rayon::prelude::*;
    let (kind, list, omitted) = if path.is_dir() {
        let (l, o) = files_below(path);
        (InputKind::DataDir, l, o)
    } else {
        (InputKind::DbFile, vec![path.to_path_buf()], 0)
    };
    let files: Vec<HashedFile> = list
        .par_iter()
        .map(|p| {
            if deferred {
                let size = std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                HashedFile { path: p.clone(), size, sha256: None, error: None }
            } else {
                hash_file(p, no_hash)
            }
        })
        .collect();
    let bytes = files.iter().map(|f| f.size).sum();
    InputInfo { path: path.to_path_buf(), kind, files, files_omitted: omitted, bytes }
}

fn worst_in(findings: &[Finding], file: &Path) -> Option<Severity> {
    findings.iter().filter(|f| f.location.file.as_deref() == Some(file)).map(|f| f.severity).max()
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The timeline marks of a data dir's diagnosis.
fn dir_lane(label: String, d: &Diagnosis) -> Lane {
    let mut lane = Lane { label, ..Lane::default() };
    if let Some(w) = &d.wal {
        lane.segments = w
            .segments
            .iter()
            .map(|s| SegmentMark {
                file: file_name(&s.path),
                name_index: s.name_index,
                first_entry: s.first_entry,
                last_entry: s.last_entry,
                worst: worst_in(&d.findings, &s.path),
            })
            .collect();
        lane.wal_snapshots = w.snapshots.iter().map(|s| s.index).collect();
        lane.commit = w.hard_state.map(|h| h.commit);
        lane.last_index = w.last_index;
    }
    if let Ok(snaps) = crate::snap::name::SnapFiles::list(&d.paths.snap_dir) {
        let mut v: Vec<(String, u64)> = snaps.snaps.iter().map(|s| (file_name(&s.path), s.index)).collect();
        v.sort_by_key(|s| s.1);
        lane.snap_files = v;
    }
    if let Some(db) = &d.db {
        lane.consistent_index = db.consistent_index;
        lane.compact_revision = db.compact_revision;
        lane.revision = Some(db.revision);
    }
    lane.revision_at_boot = d.prediction.as_ref().map(|p| p.revision_at_boot);
    lane
}

fn file_lane(label: String, r: &CheckReport) -> Lane {
    let mut lane = Lane { label, ..Lane::default() };
    if let Some(s) = &r.scan {
        lane.consistent_index = s.consistent_index;
        lane.compact_revision = s.compact_revision;
        lane.revision = s.status.as_ref().map(|st| st.revision);
    }
    lane
}

fn label_of(path: &Path) -> String {
    file_name(path)
}

fn check_one(path: &Path, opts: &ReportOptions, progress: Option<Arc<AtomicU64>>) -> Subject {
    let label = label_of(path);
    if path.is_dir() {
        match check_dir(path, None, opts.etcd_version) {
            Ok(d) => {
                let lane = dir_lane(label, &d);
                Subject { path: path.to_path_buf(), name: None, check: Checked::Dir(Box::new(d)), lane }
            }
            Err(e) => failed(path, label, &e),
        }
    } else {
        match check_file(path, CheckOptions { sequential: false, progress }) {
            Ok(r) => {
                let lane = file_lane(label, &r);
                Subject { path: path.to_path_buf(), name: None, check: Checked::File(Box::new(r)), lane }
            }
            Err(e) => failed(path, label, &e),
        }
    }
}

fn failed(path: &Path, label: String, e: &Error) -> Subject {
    Subject {
        path: path.to_path_buf(),
        name: None,
        check: Checked::Failed { error: e.to_string() },
        lane: Lane { label, ..Lane::default() },
    }
}

/// The db file of an input.
fn db_of(path: &Path) -> PathBuf {
    if path.is_dir() {
        crate::datadir::locate(path, None).map_or_else(|_| path.join("member/snap/db"), |p| p.db)
    } else {
        path.to_path_buf()
    }
}

fn space_for(db: &Path, progress: Option<Arc<AtomicU64>>) -> std::result::Result<SpaceReport, String> {
    let src = Source::open(db).map_err(|e| e.to_string())?;
    let opts = SpaceOptions { progress, kubernetes: true, ..SpaceOptions::default() };
    space_of(src.bytes(), db, &opts).map_err(|e| e.to_string())
}

/// Gather a report of `paths` (one data dir or db file, or several members).
pub fn build(paths: &[PathBuf], opts: &ReportOptions) -> Result<IncidentReport> {
    use rayon::prelude::*;
    if paths.is_empty() {
        return Err(Error::usage("give a data dir, a db or snapshot file, or several members' data dirs"));
    }
    for p in paths {
        if !p.exists() {
            return Err(Error::usage(format!("{}: no such file or directory", p.display())));
        }
    }
    let generated = opts.generated_at.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
    });

    // Which db the space section shows: the single input's, or (several
    // members) the best source's as `cluster` picks it.
    // A single snapshot file is hashed once, by check's trailer verification.
    let deferred = !opts.no_hash && matches!(paths, [one] if hashed_by_check(one));
    let (mut inputs, (subjects, cluster, space)) = rayon::join(
        || paths.par_iter().map(|p| input_info(p, opts.no_hash, deferred)).collect::<Vec<_>>(),
        || {
            if let [one] = paths {
                let db = db_of(one);
                let (subject, space) =
                    rayon::join(|| check_one(one, opts, None), || space_for(&db, opts.progress.clone()));
                (vec![subject], None, Some((db, space)))
            } else {
                let cluster = analyze(paths, &ClusterOptions { etcd_version: opts.etcd_version }).ok();
                let subjects = cluster_subjects(paths, cluster.as_ref(), opts);
                let pick = cluster.as_ref().and_then(|c| c.best.clone()).or_else(|| paths.first().cloned());
                let space = pick.map(|p| {
                    let db = db_of(&p);
                    let s = space_for(&db, opts.progress.clone());
                    (db, s)
                });
                (subjects, cluster, space)
            }
        },
    );
    if deferred {
        for info in &mut inputs {
            take_check_digest(info, subjects.first());
        }
    }
    let (space_of, space, space_error) = match space {
        Some((db, Ok(s))) => (Some(db), Some(s), None),
        Some((db, Err(e))) => (Some(db), None, Some(e)),
        None => (None, None, None),
    };
    Ok(IncidentReport {
        tool: env!("CARGO_PKG_NAME").to_string(),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        generated_at: crate::k8s::render::rfc3339(generated, 0, false).unwrap_or_default(),
        inputs,
        subjects,
        cluster,
        space_of,
        space,
        space_error,
    })
}

/// Subjects of a set of members: `cluster`'s diagnosis of each data dir
/// (the same `check` gives it), `check` of each file.
fn cluster_subjects(paths: &[PathBuf], cluster: Option<&ClusterReport>, opts: &ReportOptions) -> Vec<Subject> {
    use rayon::prelude::*;
    paths
        .par_iter()
        .map(|p| {
            let m = cluster.and_then(|c| c.members.iter().find(|m| &m.path == p));
            let mut s = match m.and_then(|m| m.diagnosis.clone()) {
                Some(d) => {
                    let label = label_of(p);
                    let lane = dir_lane(label, &d);
                    Subject { path: p.clone(), name: None, check: Checked::Dir(Box::new(d)), lane }
                }
                None => check_one(p, opts, None),
            };
            s.name = m.and_then(|m| m.name.clone());
            if let Some(n) = &s.name {
                s.lane.label = n.clone();
            }
            s
        })
        .collect()
}

/// Write `html` to `path`: a new file in the same directory, fsynced, then
/// linked under its name; an existing `path` is never replaced.
pub fn write_new_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = super::restore::parent_dir(path);
    let io = |what: &'static str| move |e: std::io::Error| Error::io(what, path, &e);
    if path.exists() {
        return Err(Error::usage(format!(
            "{}: already exists; give a new file name (reports are never written over)",
            path.display()
        )));
    }
    let mut tmp = tempfile::Builder::new().prefix(".report-").suffix(".tmp").tempfile_in(&dir).map_err(io("create"))?;
    tmp.write_all(bytes).map_err(io("write"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(io("chmod"))?;
    }
    tmp.as_file().sync_all().map_err(io("fsync"))?;
    tmp.persist_noclobber(path).map_err(|e| Error::io("rename", path, &e.error))?;
    super::restore::fsync_dir(&dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_span_every_mark() {
        let lane = Lane {
            segments: vec![SegmentMark {
                file: "a".into(),
                name_index: 0,
                first_entry: Some(1),
                last_entry: Some(40),
                worst: None,
            }],
            snap_files: vec![("s".into(), 30)],
            consistent_index: Some(41),
            compact_revision: Some(5),
            revision: Some(9),
            revision_at_boot: Some(12),
            ..Lane::default()
        };
        assert_eq!(lane.raft_span(), Some((0, 41)));
        assert_eq!(lane.rev_span(), Some((5, 12)));
        assert_eq!(Lane::default().raft_span(), None);
    }

    fn header_sha(path: &Path) -> Option<String> {
        let opts = ReportOptions { generated_at: Some(0), ..ReportOptions::default() };
        let r = build(&[path.to_path_buf()], &opts).unwrap();
        r.inputs[0].files[0].sha256.clone()
    }

    fn sha_hex(bytes: &[u8]) -> String {
        hex_of(&Sha256::digest(bytes).into())
    }

    /// A snapshot file's header digest comes from check's trailer pass; it
    /// must be the SHA-256 of every byte of the file, trailer included, in
    /// each case: valid trailer, broken trailer, a file that is not bbolt.
    #[test]
    fn header_digest_of_a_snapshot_is_the_whole_file() {
        let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fixtures/v3.5.1/snapshot.db");
        let bytes = std::fs::read(&fixture).unwrap();
        assert!(hashed_by_check(&fixture), "a snapshot file is hashed by check");
        assert_eq!(header_sha(&fixture), Some(sha_hex(&bytes)));

        let d = tempfile::tempdir().unwrap();
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let p = d.path().join("flipped.db");
        std::fs::write(&p, &flipped).unwrap();
        assert_eq!(header_sha(&p), Some(sha_hex(&flipped)), "trailer mismatch");

        // Trailer-sized but not bbolt: check fails to open it, the header
        // still hashes it.
        let junk = vec![0x5au8; 4096 * 3 + 32];
        let p = d.path().join("junk.db");
        std::fs::write(&p, &junk).unwrap();
        assert_eq!(header_sha(&p), Some(sha_hex(&junk)), "not bbolt");

        // A raw db (no trailer) is hashed by the header's own pass.
        let raw = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fixtures/v3.5.1/member-db");
        assert!(!hashed_by_check(&raw));
        assert_eq!(header_sha(&raw), Some(sha_hex(&std::fs::read(&raw).unwrap())));

        let no_hash = ReportOptions { generated_at: Some(0), no_hash: true, ..ReportOptions::default() };
        let r = build(&[fixture], &no_hash).unwrap();
        assert_eq!(r.inputs[0].files[0].sha256, None, "--no-hash");
    }

    #[test]
    fn never_writes_over_a_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("r.html");
        write_new_file(&p, b"one").unwrap();
        assert!(write_new_file(&p, b"two").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"one");
        let left: Vec<_> = std::fs::read_dir(d.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "no temporary file left behind");
    }
}
