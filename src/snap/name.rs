//! File names in `member/snap` (FORMATS.md §8.1, §8.2, §8.4, §9.1).
//!
//! | name | what | etcd |
//! |---|---|---|
//! | `%016x-%016x.snap` | raft snapshot, **term**-index | candidate, newest first |
//! | `*.snap.broken` | a `.snap` that failed to load | ignored |
//! | `%016x.snap.db` | backend received from the leader, **index** only | renamed over `db` when applied |
//! | `db` | the bbolt backend | expected |
//! | `db.tmp*` | orphaned defrag output | deleted |
//! | `tmp*` | temporary `.snap.db` download | deleted at boot |
//! | anything else | | `found unexpected non-snap file; skipping` |
//!
//! Candidate order is the names ending in `.snap` sorted descending **as
//! strings**, i.e. by term, then index.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;

/// What a file in the snap directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum SnapFileKind {
    /// `<term>-<index>.snap`. `canonical`: exactly `%016x-%016x` lower case.
    Snap { term: u64, index: u64, canonical: bool },
    /// `*.snap.broken`; term and index when the rest parses.
    Broken { term: Option<u64>, index: Option<u64> },
    /// `<index>.snap.db`.
    SnapDb { index: u64 },
    /// `db`.
    Db,
    /// `db.tmp*`.
    DbTmp,
    /// `tmp*`.
    Tmp,
    /// Anything else, including a `.snap` whose name does not parse.
    Other,
}

fn hex16(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn term_index(stem: &str) -> Option<(u64, u64, bool)> {
    let (a, b) = stem.split_once('-')?;
    let canonical = a.len() == 16 && b.len() == 16 && !stem.bytes().any(|c| c.is_ascii_uppercase());
    Some((hex16(a)?, hex16(b)?, canonical))
}

impl SnapFileKind {
    pub fn classify(name: &str) -> SnapFileKind {
        if let Some(stem) = name.strip_suffix(".snap.broken") {
            let ti = term_index(stem);
            return SnapFileKind::Broken { term: ti.map(|t| t.0), index: ti.map(|t| t.1) };
        }
        if let Some(stem) = name.strip_suffix(".snap.db") {
            if let Some(index) = hex16(stem) {
                return SnapFileKind::SnapDb { index };
            }
            return SnapFileKind::Other;
        }
        if let Some(stem) = name.strip_suffix(".snap") {
            return match term_index(stem) {
                Some((term, index, canonical)) => SnapFileKind::Snap { term, index, canonical },
                None => SnapFileKind::Other,
            };
        }
        if name == "db" {
            SnapFileKind::Db
        } else if name.starts_with("db.tmp") {
            SnapFileKind::DbTmp
        } else if name.starts_with("tmp") {
            SnapFileKind::Tmp
        } else {
            SnapFileKind::Other
        }
    }
}

/// A `.snap` candidate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SnapName {
    pub path: PathBuf,
    pub term: u64,
    pub index: u64,
    pub canonical: bool,
}

/// The files of a snap directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SnapFiles {
    pub dir: PathBuf,
    /// `.snap` files in etcd's candidate order (newest first).
    pub snaps: Vec<SnapName>,
    pub broken: Vec<PathBuf>,
    /// `<index>.snap.db` files, by index.
    pub snap_dbs: Vec<(u64, PathBuf)>,
    pub db: Option<PathBuf>,
    /// `db.tmp*` and `tmp*`: etcd deletes them.
    pub temporary: Vec<PathBuf>,
    pub other: Vec<PathBuf>,
}

impl SnapFiles {
    /// List `dir` (`member/snap`). Sub-directories are ignored.
    pub fn list(dir: &Path) -> Result<SnapFiles> {
        let mut out = SnapFiles { dir: dir.to_path_buf(), ..Default::default() };
        let mut snaps: Vec<(String, SnapName)> = Vec::new();
        for f in crate::source::list_files(dir)? {
            let path = f.path;
            let Some(name) = f.name else {
                out.other.push(path);
                continue;
            };
            match SnapFileKind::classify(&name) {
                SnapFileKind::Snap { term, index, canonical } => {
                    snaps.push((name, SnapName { path, term, index, canonical }))
                }
                SnapFileKind::Broken { .. } => out.broken.push(path),
                SnapFileKind::SnapDb { index } => out.snap_dbs.push((index, path)),
                SnapFileKind::Db => out.db = Some(path),
                SnapFileKind::DbTmp | SnapFileKind::Tmp => out.temporary.push(path),
                SnapFileKind::Other => out.other.push(path),
            }
        }
        // etcd: sort.Sort(sort.Reverse(sort.StringSlice(snaps)))
        snaps.sort_by(|a, b| b.0.cmp(&a.0));
        out.snaps = snaps.into_iter().map(|(_, s)| s).collect();
        out.broken.sort();
        out.snap_dbs.sort();
        out.temporary.sort();
        out.other.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify() {
        assert_eq!(
            SnapFileKind::classify("0000000000000002-000000000000001e.snap"),
            SnapFileKind::Snap { term: 2, index: 0x1e, canonical: true }
        );
        assert_eq!(
            SnapFileKind::classify("0000000000000002-000000000000001e.snap.broken"),
            SnapFileKind::Broken { term: Some(2), index: Some(0x1e) }
        );
        assert_eq!(SnapFileKind::classify("000000000000001e.snap.db"), SnapFileKind::SnapDb { index: 0x1e });
        assert_eq!(SnapFileKind::classify("db"), SnapFileKind::Db);
        assert_eq!(SnapFileKind::classify("db.tmp.123"), SnapFileKind::DbTmp);
        assert_eq!(SnapFileKind::classify("tmp0042"), SnapFileKind::Tmp);
        assert_eq!(SnapFileKind::classify("x.snap"), SnapFileKind::Other);
        assert_eq!(SnapFileKind::classify("notes"), SnapFileKind::Other);
    }

    #[test]
    fn candidates_newest_first() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "0000000000000001-0000000000000001.snap",
            "0000000000000002-0000000000000010.snap",
            "0000000000000001-0000000000000020.snap",
            "0000000000000020.snap.db",
            "db",
            "tmp1",
            "0000000000000003-0000000000000030.snap.broken",
        ] {
            std::fs::write(d.path().join(n), b"").unwrap();
        }
        let f = SnapFiles::list(d.path()).unwrap();
        let order: Vec<(u64, u64)> = f.snaps.iter().map(|s| (s.term, s.index)).collect();
        assert_eq!(order, [(2, 0x10), (1, 0x20), (1, 1)]);
        assert_eq!(f.snap_dbs.len(), 1);
        assert!(f.db.is_some());
        assert_eq!((f.temporary.len(), f.broken.len(), f.other.len()), (1, 1, 0));
    }
}
