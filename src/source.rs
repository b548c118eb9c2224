//! Read-only access to input files. The crate's only `unsafe` lives here.

use std::fs::File;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::error::{Error, Result};

/// An input file mapped read-only (or, for an empty file, no mapping).
pub struct Source {
    path: PathBuf,
    map: Option<Mmap>,
    len: u64,
}

impl Source {
    /// Open `path` read-only and map it. The file is never written.
    pub fn open(path: &Path) -> Result<Source> {
        let file = File::open(path).map_err(|e| Error::io("open", path, &e))?;
        let meta = file.metadata().map_err(|e| Error::io("stat", path, &e))?;
        if meta.is_dir() {
            return Err(Error::usage(format!(
                "{} is a directory; give a db or snapshot file (e.g. {}/member/snap/db)",
                path.display(),
                path.display()
            )));
        }
        let len = meta.len();
        let map = if len == 0 { None } else { Some(map_readonly(&file).map_err(|e| Error::io("map", path, &e))?) };
        Ok(Source { path: path.to_path_buf(), map, len })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
    pub fn len(&self) -> u64 {
        self.len
    }
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// Map `file` read-only.
#[allow(unsafe_code)]
fn map_readonly(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the mapping is read-only (`Mmap`, never `MmapMut`) and we only
    // hand out shared slices of it. The remaining hazard is another process
    // truncating the file while we hold the map (a live etcd compacting or a
    // user copying over it): touching pages past the new end raises SIGBUS
    // and kills the process. That is not memory unsafety in our code, and
    // it is why the docs tell users to run us on a copy or a stopped member.
    // MAP_POPULATE: every job reads the whole file, and faulting the pages in
    // one kernel call costs a fraction of taking one fault per 4 KiB page.
    let map = unsafe { memmap2::MmapOptions::new().populate().map(file)? };
    #[cfg(unix)]
    {
        // Sequential scans dominate; ignore the advice if the kernel refuses.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    Ok(map)
}

/// A regular file found in a directory.
#[derive(Debug, Clone)]
pub struct DirFile {
    pub path: PathBuf,
    /// The file name, if it is UTF-8 (etcd's names always are).
    pub name: Option<String>,
    pub len: u64,
}

/// The regular files of `dir` (sub-directories skipped; symlinks followed).
/// Any entry that cannot be read or stat'ed is an error: we cannot tell
/// what it is.
pub fn list_files(dir: &Path) -> Result<Vec<DirFile>> {
    let rd = std::fs::read_dir(dir).map_err(|e| Error::io("read directory", dir, &e))?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| Error::io("read directory", dir, &e))?;
        let path = ent.path();
        let meta = std::fs::metadata(&path).map_err(|e| Error::io("stat", &path, &e))?;
        if meta.is_dir() {
            continue;
        }
        let name = ent.file_name().to_str().map(str::to_owned);
        out.push(DirFile { path, name, len: meta.len() });
    }
    Ok(out)
}
