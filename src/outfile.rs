//! Writing large output files (a restored or defragmented db) fast and
//! safely.
//!
//! Buffered writes of a GiB-sized file followed by `fsync` leave the kernel
//! to write back a GiB of dirty page cache at the end; on the machines we
//! measured that costs 3-4 s, while the same bytes written with `O_DIRECT` in
//! large aligned chunks take under one. [`BulkWriter`] does that: it fills
//! page-aligned 8 MiB buffers on the caller's thread while a writer thread
//! sends the previous ones to the device, then fsyncs. Where the filesystem
//! refuses `O_DIRECT` (some tmpfs, FUSE), it writes through the page cache.
//!
//! [`create_hidden`] opens an *unnamed* file (`O_TMPFILE`) in a directory: it
//! has no name until [`link_hidden`] gives it one, and vanishes with the
//! process if it never gets one. `restore` writes the new db there while the
//! snapshot's SHA-256 is still being verified, so a snapshot that fails
//! verification leaves nothing behind, not even a temporary name.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Alignment `O_DIRECT` needs for buffers, offsets and lengths (the largest
/// logical block size in use; 512-byte devices accept it too).
pub const ALIGN: usize = 4096;
/// Bytes per write.
const CHUNK: usize = 8 << 20;
/// Buffers in flight (one filling, the others queued or being written).
const BUFFERS: usize = 3;

/// An output file and whether it was opened with `O_DIRECT`.
#[derive(Debug)]
pub struct OutFile {
    pub file: File,
    pub direct: bool,
}

#[cfg(target_os = "linux")]
fn open_with(o: &mut OpenOptions, path: &Path, flags: i32) -> io::Result<OutFile> {
    match o.clone().custom_flags(flags | libc::O_DIRECT).open(path) {
        Ok(file) => Ok(OutFile { file, direct: true }),
        // EINVAL: this filesystem does not do O_DIRECT.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            Ok(OutFile { file: o.custom_flags(flags).open(path)?, direct: false })
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_with(o: &mut OpenOptions, path: &Path, flags: i32) -> io::Result<OutFile> {
    Ok(OutFile { file: o.custom_flags(flags).open(path)?, direct: false })
}

/// Create `path` (it must not exist) with `mode`, for [`BulkWriter`].
pub fn create_new(path: &Path, mode: u32) -> io::Result<OutFile> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true).mode(mode);
    open_with(&mut o, path, 0)
}

/// Open `path`, which exists (an empty temporary file), for [`BulkWriter`].
pub fn open_existing(path: &Path) -> io::Result<OutFile> {
    let mut o = OpenOptions::new();
    o.write(true);
    open_with(&mut o, path, 0)
}

/// An unnamed file in directory `dir` (`O_TMPFILE`, Linux 3.11+), for
/// [`BulkWriter`] and then [`link_hidden`]. `Ok(None)` where the kernel or
/// the filesystem cannot do it: the caller then writes a named file.
#[cfg(target_os = "linux")]
pub fn create_hidden(dir: &Path, mode: u32) -> io::Result<Option<OutFile>> {
    let mut o = OpenOptions::new();
    o.write(true).mode(mode);
    match open_with(&mut o, dir, libc::O_TMPFILE) {
        Ok(f) => Ok(Some(f)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL | libc::ENOENT)) => {
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

#[cfg(not(target_os = "linux"))]
pub fn create_hidden(_dir: &Path, _mode: u32) -> io::Result<Option<OutFile>> {
    Ok(None)
}

/// Give a file from [`create_hidden`] the name `path` (same filesystem; it
/// must not exist).
#[allow(unsafe_code)]
pub fn link_hidden(file: &File, path: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::io::AsRawFd;
    // linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; following the
    // /proc/self/fd link is the unprivileged way (open(2), O_TMPFILE).
    let from = CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))?;
    let to = CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: both arguments are valid NUL-terminated strings that outlive
    // the call; linkat only reads them.
    let rc =
        unsafe { libc::linkat(libc::AT_FDCWD, from.as_ptr(), libc::AT_FDCWD, to.as_ptr(), libc::AT_SYMLINK_FOLLOW) };
    if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Bytes between writeback requests of [`Writeback`].
const WRITEBACK_STEP: u64 = 32 << 20;

/// Writes through the page cache, asking the kernel to start writing each
/// 32 MiB back to the device as soon as it is complete
/// (`sync_file_range(SYNC_FILE_RANGE_WRITE)`, which does not wait). The
/// pages stay cached, so a file that is read back right after (salvage
/// verifies what it wrote) is still read from memory, and the `fsync` at the
/// end has little left to write: without it, that `fsync` wrote 1.3 GB of
/// dirty pages at once after every byte had been copied. Elsewhere than
/// Linux it only forwards.
pub struct Writeback {
    file: File,
    written: u64,
    requested: u64,
}

impl Writeback {
    pub fn new(file: File) -> Self {
        Writeback { file, written: 0, requested: 0 }
    }

    /// Everything written so far on its way to the device, then `fsync`.
    pub fn finish(mut self) -> io::Result<File> {
        self.request(self.written);
        self.file.sync_all()?;
        Ok(self.file)
    }

    #[cfg(target_os = "linux")]
    #[allow(unsafe_code)]
    fn request(&mut self, upto: u64) {
        use std::os::fd::AsRawFd;
        if upto <= self.requested {
            return;
        }
        let (Ok(start), Ok(len)) =
            (libc::off64_t::try_from(self.requested), libc::off64_t::try_from(upto - self.requested))
        else {
            return;
        };
        // SAFETY: a plain system call on a descriptor we own; it reads no
        // memory of ours. A failure only loses the head start: the final
        // fsync writes whatever is still dirty.
        let _ = unsafe { libc::sync_file_range(self.file.as_raw_fd(), start, len, libc::SYNC_FILE_RANGE_WRITE) };
        self.requested = upto;
    }

    #[cfg(not(target_os = "linux"))]
    fn request(&mut self, upto: u64) {
        self.requested = upto;
    }
}

impl Write for Writeback {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.requested >= WRITEBACK_STEP {
            let upto = self.written - self.written % WRITEBACK_STEP;
            self.request(upto);
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// One filled buffer: its storage, the aligned start in it, the byte count,
/// and where it goes in the file.
struct Job {
    storage: Vec<u8>,
    len: usize,
    at: u64,
}

fn aligned_start(storage: &[u8]) -> usize {
    storage.as_ptr().align_offset(ALIGN)
}

/// A `Write` that streams into an [`OutFile`] from a writer thread.
/// Call [`BulkWriter::finish`]: dropping it unfinished abandons the file.
pub struct BulkWriter {
    jobs: Option<SyncSender<Job>>,
    free: Receiver<Vec<u8>>,
    allocated: usize,
    storage: Vec<u8>,
    fill: usize,
    at: u64,
    thread: Option<JoinHandle<io::Result<File>>>,
}

impl BulkWriter {
    pub fn new(out: OutFile) -> BulkWriter {
        let (jobs, inbox) = sync_channel::<Job>(BUFFERS);
        let (give_back, free) = sync_channel::<Vec<u8>>(BUFFERS);
        let OutFile { file, direct } = out;
        let thread = std::thread::spawn(move || -> io::Result<File> {
            for mut job in inbox {
                let start = aligned_start(&job.storage);
                // O_DIRECT writes whole blocks: pad the last one with zeros
                // (`finish` truncates the file to its real length).
                let len = if direct { job.len.div_ceil(ALIGN) * ALIGN } else { job.len };
                let bytes =
                    job.storage.get_mut(start..start + len).ok_or_else(|| io::Error::other("buffer too small"))?;
                if let Some(pad) = bytes.get_mut(job.len..) {
                    pad.fill(0);
                }
                file.write_all_at(bytes, job.at)?;
                // The filler may be gone (error path): then just drop it.
                let _ = give_back.send(job.storage);
            }
            Ok(file)
        });
        BulkWriter {
            jobs: Some(jobs),
            free,
            allocated: 1,
            storage: vec![0u8; CHUNK + ALIGN],
            fill: 0,
            at: 0,
            thread: Some(thread),
        }
    }

    /// The writer thread's error, once it has stopped.
    fn thread_error(&mut self) -> io::Error {
        self.jobs = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => e,
            Some(Err(_)) => io::Error::other("output writer thread panicked"),
            _ => io::Error::other("output writer thread stopped"),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.fill == 0 {
            return Ok(());
        }
        let next = if self.allocated < BUFFERS {
            self.allocated += 1;
            vec![0u8; CHUNK + ALIGN]
        } else {
            match self.free.recv() {
                Ok(b) => b,
                Err(_) => return Err(self.thread_error()),
            }
        };
        let storage = std::mem::replace(&mut self.storage, next);
        let job = Job { storage, len: self.fill, at: self.at };
        let sent = self.jobs.as_ref().map(|j| j.send(job));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.thread_error());
        }
        self.at += self.fill as u64;
        self.fill = 0;
        Ok(())
    }

    /// Write what is buffered, wait for the writer, set the file's exact
    /// length, fsync it, and return it.
    pub fn finish(mut self) -> io::Result<File> {
        self.send()?;
        self.jobs = None; // ends the writer's loop
        let file = match self.thread.take().map(JoinHandle::join) {
            Some(Ok(r)) => r?,
            _ => return Err(io::Error::other("output writer thread panicked")),
        };
        file.set_len(self.at)?;
        file.sync_all()?;
        Ok(file)
    }
}

impl Write for BulkWriter {
    fn write(&mut self, mut buf: &[u8]) -> io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            let start = aligned_start(&self.storage);
            let room = CHUNK - self.fill;
            let take = room.min(buf.len());
            let (now, rest) = buf.split_at(take);
            let dst = self
                .storage
                .get_mut(start + self.fill..start + self.fill + take)
                .ok_or_else(|| io::Error::other("buffer too small"))?;
            dst.copy_from_slice(now);
            self.fill += take;
            buf = rest;
            if self.fill == CHUNK {
                self.send()?;
            }
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for BulkWriter {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect()
    }

    #[test]
    fn writeback_writes_every_byte_and_asks_for_whole_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out");
        let data = pattern(2 * WRITEBACK_STEP as usize + 4099);
        let mut w = Writeback::new(File::create(&path).unwrap());
        for p in data.chunks(1 << 20) {
            w.write_all(p).unwrap();
            assert_eq!(w.requested % WRITEBACK_STEP, 0);
            assert!(w.written - w.requested < WRITEBACK_STEP, "{} {}", w.written, w.requested);
        }
        assert_eq!(w.requested, 2 * WRITEBACK_STEP);
        let f = w.finish().unwrap();
        drop(f);
        assert!(std::fs::read(&path).unwrap() == data);
    }

    fn write_in_pieces(out: OutFile, data: &[u8], piece: usize) -> File {
        let mut w = BulkWriter::new(out);
        for p in data.chunks(piece.max(1)) {
            w.write_all(p).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn bulk_writer_writes_exact_bytes_at_any_length() {
        let dir = tempfile::tempdir().unwrap();
        // Lengths around the block and chunk sizes, written in odd pieces.
        for (i, len) in
            [0usize, 1, 4095, 4096, 4097, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 12_345].into_iter().enumerate()
        {
            let data = pattern(len);
            let path = dir.path().join(format!("f{i}"));
            let out = create_new(&path, 0o600).unwrap();
            write_in_pieces(out, &data, 4099);
            assert_eq!(std::fs::read(&path).unwrap(), data, "len {len}");
        }
    }

    #[test]
    fn create_new_refuses_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x");
        std::fs::write(&path, b"keep").unwrap();
        assert!(create_new(&path, 0o600).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep");
    }

    #[test]
    fn hidden_file_has_no_name_until_linked() {
        let dir = tempfile::tempdir().unwrap();
        let Some(out) = create_hidden(dir.path(), 0o600).unwrap() else {
            eprintln!("O_TMPFILE not supported here; nothing to test");
            return;
        };
        let data = pattern(CHUNK + 777);
        let file = write_in_pieces(out, &data, 1 << 16);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "an unnamed file must not appear");
        let path = dir.path().join("db");
        link_hidden(&file, &path).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), data);
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        // A second link to an existing name fails.
        assert!(link_hidden(&file, &path).is_err());
    }

    #[test]
    fn abandoned_hidden_file_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        if let Some(out) = create_hidden(dir.path(), 0o600).unwrap() {
            let mut w = BulkWriter::new(out);
            w.write_all(&pattern(5000)).unwrap();
            drop(w);
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
