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
        let map = if len == 0 { None } else { Some(map_readonly(&file, len).map_err(|e| Error::io("map", path, &e))?) };
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

/// Files at least this large are populated and released in parallel.
const PARALLEL_MAP_MIN: u64 = 64 << 20;
/// Chunk of the mapping one worker populates or releases at a time.
const MAP_CHUNK: usize = 32 << 20;

/// Map `file` (`len` bytes) read-only.
#[allow(unsafe_code)]
fn map_readonly(file: &File, len: u64) -> std::io::Result<Mmap> {
    let mut opts = memmap2::MmapOptions::new();
    // Every job reads the whole file, and mapping the pages in one kernel
    // call costs a fraction of taking a fault per few pages. Large files are
    // populated by all workers at once below (the kernel then only takes the
    // mapping lock for reading); small ones with MAP_POPULATE.
    let parallel = len >= PARALLEL_MAP_MIN;
    if !parallel {
        opts.populate();
    }
    // SAFETY: the mapping is read-only (`Mmap`, never `MmapMut`) and we only
    // hand out shared slices of it. The remaining hazard is another process
    // truncating the file while we hold the map (a live etcd compacting or a
    // user copying over it): touching pages past the new end raises SIGBUS
    // and kills the process. That is not memory unsafety in our code, and
    // it is why the docs tell users to run us on a copy or a stopped member.
    let map = unsafe { opts.map(file)? };
    #[cfg(unix)]
    {
        // Sequential scans dominate; ignore the advice if the kernel refuses.
        let _ = map.advise(memmap2::Advice::Sequential);
    }
    #[cfg(target_os = "linux")]
    if parallel {
        // MADV_POPULATE_READ (Linux 5.14+). On older kernels this fails and
        // the pages fault in as they are read: slower, still correct.
        for_each_chunk(map.len(), |off, n| {
            let _ = map.advise_range(memmap2::Advice::PopulateRead, off, n);
        });
    }
    Ok(map)
}

/// Call `f(offset, len)` for each [`MAP_CHUNK`] of `len` bytes, on all
/// rayon workers.
#[cfg(target_os = "linux")]
fn for_each_chunk(len: usize, f: impl Fn(usize, usize) + Sync) {
    use rayon::prelude::*;
    (0..len).into_par_iter().step_by(MAP_CHUNK).for_each(|off| f(off, MAP_CHUNK.min(len - off)));
}

impl Drop for Source {
    /// Tearing down the page tables of a large mapping is serial work in
    /// `munmap` (and at exit); dropping them chunk by chunk in parallel with
    /// MADV_DONTNEED first leaves `munmap` nothing to do.
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(map) = &self.map {
            if self.len >= PARALLEL_MAP_MIN {
                for_each_chunk(map.len(), |off, n| {
                    // SAFETY: a shared, read-only, file-backed mapping: DONTNEED
                    // only drops our page-table entries; the file and the page
                    // cache are untouched and a later read would fault the same
                    // bytes back in. Nothing reads the map after this: it is being
                    // dropped.
                    let _ = unsafe { map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, off, n) };
                });
            }
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_file_is_mapped_populated_and_released_in_parallel() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big");
        let len = PARALLEL_MAP_MIN + 12345; // not a multiple of the chunk
        let f = File::create(&path).unwrap();
        f.set_len(len).unwrap();
        use std::os::unix::fs::FileExt;
        f.write_all_at(b"head", 0).unwrap();
        f.write_all_at(b"tail", len - 4).unwrap();
        drop(f);
        let src = Source::open(&path).unwrap();
        assert_eq!(src.len(), len);
        assert_eq!(src.bytes().len() as u64, len);
        assert_eq!(src.bytes().get(..4), Some(&b"head"[..]));
        assert_eq!(src.bytes().get(src.bytes().len() - 4..), Some(&b"tail"[..]));
        drop(src); // parallel MADV_DONTNEED, then munmap
        let again = Source::open(&path).unwrap();
        assert_eq!(again.bytes().get(..4), Some(&b"head"[..]));
    }

    #[test]
    fn empty_file_has_no_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        File::create(&path).unwrap();
        let src = Source::open(&path).unwrap();
        assert!(src.is_empty());
        assert!(src.bytes().is_empty());
    }
}
