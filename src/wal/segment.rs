//! Segment file names and the WAL directory listing.
//!
//! Names are `%016x-%016x.wal` = `<seq>-<index>`: `seq` counts segments
//! from 0 and must be consecutive, `index` is the raft index of the first
//! entry expected in the segment (FORMATS.md §6.1). etcd parses names with
//! `fmt.Sscanf("%016x-%016x.wal")`, which also accepts fewer digits and
//! upper-case hex; we accept the same and flag such names as
//! non-canonical. Other files in the directory:
//!
//! | name | etcd |
//! |---|---|
//! | `*.tmp` (`0.tmp`, `1.tmp`) | preallocated next segment; ignored silently |
//! | `*.wal.broken` | backup made by `Repair`; ignored with a warning |
//! | anything else | ignored with a warning `ignored file in WAL directory` |

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::Result;

/// A parsed segment name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SegmentName {
    pub seq: u64,
    /// Raft index of the first entry expected in the segment.
    pub index: u64,
    /// Exactly `%016x-%016x.wal` in lower case (what etcd writes).
    pub canonical: bool,
}

impl SegmentName {
    /// Parse a file name the way etcd's `parseWALName` accepts it.
    pub fn parse(name: &str) -> Option<SegmentName> {
        let stem = name.strip_suffix(".wal")?;
        let (a, b) = stem.split_once('-')?;
        let seq = parse_hex16(a)?;
        let index = parse_hex16(b)?;
        let canonical = a.len() == 16 && b.len() == 16 && !stem.bytes().any(|c| c.is_ascii_uppercase());
        Some(SegmentName { seq, index, canonical })
    }
    /// The name etcd would give this segment.
    pub fn file_name(&self) -> String {
        format!("{:016x}-{:016x}.wal", self.seq, self.index)
    }
}

/// 1 to 16 hex digits, either case (Go's `%016x` scan width).
fn parse_hex16(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 16 || !s.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

/// What a file in the WAL directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum WalFileKind {
    Segment(SegmentName),
    /// `*.tmp`: preallocated next segment of the file pipeline.
    Tmp,
    /// `*.broken`: a copy saved by `wal.Repair` before truncating.
    Broken,
    /// Anything else; etcd warns `ignored file in WAL directory`.
    Ignored,
}

impl WalFileKind {
    pub fn classify(name: &str) -> WalFileKind {
        if let Some(s) = SegmentName::parse(name) {
            WalFileKind::Segment(s)
        } else if name.ends_with(".tmp") {
            WalFileKind::Tmp
        } else if name.ends_with(".broken") {
            WalFileKind::Broken
        } else {
            WalFileKind::Ignored
        }
    }
}

/// A segment file found in the directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub path: PathBuf,
    pub name: SegmentName,
    /// File size in bytes at listing time.
    pub len: u64,
}

/// The files of a WAL directory, segments sorted by name as etcd sorts
/// them (`sort.Strings`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WalFiles {
    pub dir: PathBuf,
    pub segments: Vec<Segment>,
    pub tmp: Vec<PathBuf>,
    pub broken: Vec<PathBuf>,
    pub ignored: Vec<PathBuf>,
}

impl WalFiles {
    /// List `dir`. Sub-directories are ignored; unreadable entries are
    /// errors (we cannot tell what they are).
    pub fn list(dir: &Path) -> Result<WalFiles> {
        let mut out = WalFiles { dir: dir.to_path_buf(), ..Default::default() };
        let mut segs: Vec<(String, Segment)> = Vec::new();
        for f in crate::source::list_files(dir)? {
            let path = f.path;
            let Some(name) = f.name else {
                out.ignored.push(path);
                continue;
            };
            match WalFileKind::classify(&name) {
                WalFileKind::Segment(s) => segs.push((name, Segment { path, name: s, len: f.len })),
                WalFileKind::Tmp => out.tmp.push(path),
                WalFileKind::Broken => out.broken.push(path),
                WalFileKind::Ignored => out.ignored.push(path),
            }
        }
        segs.sort_by(|a, b| a.0.cmp(&b.0));
        out.segments = segs.into_iter().map(|(_, s)| s).collect();
        out.tmp.sort();
        out.broken.sort();
        out.ignored.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let s = SegmentName::parse("0000000000000001-00000000000186a1.wal").unwrap();
        assert_eq!((s.seq, s.index, s.canonical), (1, 0x186a1, true));
        assert_eq!(s.file_name(), "0000000000000001-00000000000186a1.wal");
        let s = SegmentName::parse("1-A.wal").unwrap();
        assert_eq!((s.seq, s.index, s.canonical), (1, 10, false));
        for bad in [
            "0000000000000000-0000000000000000.wal.broken",
            "0000000000000000-0000000000000000",
            "00000000000000000-0000000000000000.wal",
            "-0000000000000000.wal",
            "0000000000000000_0000000000000000.wal",
            "000000000000000g-0000000000000000.wal",
            "0.tmp",
        ] {
            assert_eq!(SegmentName::parse(bad), None, "{bad}");
        }
        assert_eq!(WalFileKind::classify("0.tmp"), WalFileKind::Tmp);
        assert_eq!(WalFileKind::classify("0000000000000000-0000000000000000.wal.broken"), WalFileKind::Broken);
        assert_eq!(WalFileKind::classify("notes.txt"), WalFileKind::Ignored);
    }

    #[test]
    fn list_sorts_and_classifies() {
        let d = tempfile::tempdir().unwrap();
        for n in [
            "0000000000000001-0000000000000005.wal",
            "0000000000000000-0000000000000000.wal",
            "0.tmp",
            "0000000000000000-0000000000000000.wal.broken",
            "junk",
        ] {
            std::fs::write(d.path().join(n), b"").unwrap();
        }
        std::fs::create_dir(d.path().join("sub")).unwrap();
        let f = WalFiles::list(d.path()).unwrap();
        let seqs: Vec<u64> = f.segments.iter().map(|s| s.name.seq).collect();
        assert_eq!(seqs, [0, 1]);
        assert_eq!((f.tmp.len(), f.broken.len(), f.ignored.len()), (1, 1, 1));
    }
}
