//! `defrag`: etcd's defragmentation, offline, into a new file.
//!
//! etcd's defrag (`backend.defrag`/`defragdb`, FORMATS.md §1.15) opens a
//! fresh bbolt file, creates every top-level bucket of the old one in key
//! order, sets `FillPercent` 0.9 and `Put`s every key/value in order. The
//! result holds the same buckets, keys and values, written compact: no free
//! pages, bucket sequences 0, the freelist not persisted. We write exactly
//! that content with the bulk loader ([`crate::bolt::write`], fill percent
//! 0.9 for every top-level bucket as defrag sets it), in one pass instead of
//! etcd's commits of 10 000 puts, so the page layout differs slightly from
//! etcdutl's while every bucket's content and the `snapshot status` hash are
//! the same.
//!
//! Unlike `etcdutl defrag`, the input is never touched: the output is a new
//! file (STYLE.md §3): written under a temporary name beside it, fsynced,
//! moved into place only if the target still does not exist
//! (`persist_noclobber`), then the directory is fsynced. With `--snapshot` the
//! output ends with the SHA-256 trailer of `etcdctl snapshot save` files
//! (FORMATS.md §3), so `restore` accepts it without `--skip-hash-check`.
//!
//! The input is walked completely before anything is written, and refused
//! when a page cannot be read (then `salvage` is the tool): a defrag must
//! never silently drop data. One invalid meta page is not a reason to refuse:
//! bbolt uses the other one, and so do we. A snapshot file's SHA-256
//! trailer is verified while the new file is written, which is only named
//! once the trailer matched.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::Outcome;
use crate::bolt::Collect;
use crate::bolt::{self, Db, WalkOptions};
use crate::datadir;
use crate::error::{Error, Location, Result};
use crate::mvcc::scan::trailer_state;
use crate::mvcc::scan::{has_trailer, meta_findings};
use crate::mvcc::{Revision, Trailer, buckets};
use crate::outfile::{self, BulkWriter};
use crate::report::{Finding, Severity};
use crate::source::Source;

#[derive(Debug, Clone)]
pub struct DefragOptions {
    /// A db file, a `snapshot save` file or a data dir (its `member/snap/db`).
    pub source: PathBuf,
    /// The new file; must not exist.
    pub output: PathBuf,
    /// Append the SHA-256 trailer of `snapshot save` files.
    pub snapshot: bool,
    /// Do not verify the input's SHA-256 trailer.
    pub skip_hash_check: bool,
}

/// What `etcdutl snapshot status` (3.4/3.5) prints for a file, computed
/// from the bucket contents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusOf {
    pub hash: u32,
    pub revision: i64,
    pub total_key: u64,
    pub total_size: u64,
}

/// One bucket as written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketOut {
    pub name: String,
    pub entries: usize,
    /// Root page in the new file; 0 when inline.
    pub root: u64,
    pub pages: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DefragReport {
    /// What the user named.
    pub source: PathBuf,
    /// The bbolt file read.
    pub db_file: PathBuf,
    pub output: PathBuf,
    /// False when refused (then nothing was written).
    pub written: bool,
    /// Why the input was refused (damage), or what was noticed but does not
    /// stop a defrag (one bad meta page).
    pub findings: Vec<Finding>,
    pub page_size: u32,
    /// Meta page used (0 or 1) and its txid.
    pub meta_in_use: u8,
    pub txid: u64,
    pub source_pages: u64,
    pub source_file_size: u64,
    pub source_trailer: Trailer,
    /// Pages of the input neither reachable nor in a persisted freelist
    /// (free space the defrag gives back).
    pub free_pages: u64,
    pub pages: u64,
    pub file_size: u64,
    /// The output ends with a SHA-256 trailer.
    pub snapshot: bool,
    /// Lowercase hex SHA-256 of the db part (the trailer), when written.
    pub sha256: Option<String>,
    pub status: StatusOf,
    pub buckets: Vec<BucketOut>,
}

impl DefragReport {
    pub fn outcome(&self) -> Outcome {
        let damage = self.findings.iter().any(|f| f.severity == Severity::Damage);
        if self.written && !damage { Outcome::Verified } else { Outcome::Damaged }
    }
}

/// The db file of `path`: the path itself, or `member/snap/db` of a data dir.
pub fn resolve_db(path: &Path) -> Result<PathBuf> {
    if path.is_dir() {
        let p = datadir::locate(path, None)?;
        if !p.db.is_file() {
            return Err(Error::usage(format!("{}: no db file (expected {})", path.display(), p.db.display())));
        }
        Ok(p.db)
    } else {
        Ok(path.to_path_buf())
    }
}

/// Refuse an output path that exists (a file, a directory, a dangling link).
pub fn refuse_existing(output: &Path) -> Result<()> {
    if fs::symlink_metadata(output).is_ok() {
        return Err(Error::usage(format!(
            "{} exists; give a new file name (the output is never overwritten)",
            output.display()
        )));
    }
    Ok(())
}

/// Walk findings that do not make the content incomplete.
fn harmless(code: &str) -> bool {
    // A page neither used nor free (persisted freelist only) leaks space;
    // the defrag gives it back.
    code == "bolt.freelist.unreachable_unfreed"
}

/// `snapshot status` numbers of a set of buckets as the new file holds them.
pub fn status_of(buckets: &[bolt::write::Bucket<'_>], total_size: u64) -> StatusOf {
    let mut crc = 0u32;
    let mut total_key = 0u64;
    let mut revision = 0i64;
    for b in buckets {
        crc = crc32c::crc32c_append(crc, b.name);
        // in parallel over runs of entries: a GB of values is 0.15 s of CRC
        // on one core
        let (entries_crc, len) = crate::crc::pairs(&b.entries);
        crc = crate::crc::combine(crc, entries_crc, len);
        total_key += b.entries.len() as u64;
        if b.name == buckets::KEY {
            revision = b.entries.last().and_then(|(k, _)| Revision::main_of(k)).unwrap_or(0);
        }
    }
    StatusOf { hash: crc, revision, total_key, total_size }
}

/// Damaged entries of the `key` bucket listed before the rest are only counted.
const MAX_COPIED_DAMAGE: usize = 100;

/// Entries of the `key` bucket etcd cannot use (`check`'s value findings:
/// a key that is not a revision, a value that is not a `mvccpb.KeyValue`,
/// revisions that contradict the key). A defrag copies bytes, as etcd's
/// does, so they go into the new file as they are: it is written, and they
/// are reported as damage (exit 1) with what to do instead.
fn copied_damage(kvs: &[(&[u8], &[u8])]) -> Vec<Finding> {
    use rayon::prelude::*;
    let bad = |(k, v): &(&[u8], &[u8])| crate::mvcc::scan::key_value(k, v, Location::default()).0;
    // Counted in parallel without keeping them (a badly damaged db may hold
    // millions); only the listed ones are kept.
    let total = kvs.par_iter().filter(|e| bad(e).is_some()).count();
    if total == 0 {
        return Vec::new();
    }
    let mut out: Vec<Finding> = kvs
        .iter()
        .filter_map(bad)
        .take(MAX_COPIED_DAMAGE)
        .map(|f| {
            let meaning =
                format!("copied into the new file as it is (a defrag copies bytes): there too, {}", f.meaning);
            f.meaning(meaning).action(
                "run `etcd-forensics salvage` instead: it leaves out undecodable entries and names their revisions; \
                 or restore from a snapshot",
            )
        })
        .collect();
    if total > MAX_COPIED_DAMAGE {
        out.push(
            Finding::damage(
                "defrag.copied_damage",
                Location::default(),
                format!("{} more damaged entries of the key bucket not listed", total - MAX_COPIED_DAMAGE),
            )
            .bucket(Some("key".into()))
            .action("run `etcd-forensics check` on the input for the full list"),
        );
    }
    out
}

/// Run the defrag.
pub fn defrag(opts: &DefragOptions) -> Result<DefragReport> {
    refuse_existing(&opts.output)?;
    let db_file = resolve_db(&opts.source)?;
    let src = Source::open(&db_file)?;
    let data = src.bytes();
    let trailer_present = has_trailer(src.len());
    let skip = opts.skip_hash_check;
    // The trailer's SHA-256 (one sequential pass, the slowest part of a
    // defrag of a snapshot file) runs on its own thread beside the walk,
    // the plan and the write; the new file is moved into place only once it
    // has matched.
    std::thread::scope(|s| {
        let hasher = s.spawn(|| trailer_state(data, trailer_present, skip));
        let trailer_of = move || hasher.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        let db = Db::open(data).map_err(|f| f.error.in_file(&db_file))?;
        let walked = bolt::walk(&db, WalkOptions { parallel: true, progress: None }, |_| Collect::default());
        defrag_walked(opts, &db_file, &src, &db, &walked, trailer_of)
    })
}

/// The rest of [`defrag`] once the input has been walked; `trailer_of`
/// waits for the verdict on the input's SHA-256 trailer.
fn defrag_walked(
    opts: &DefragOptions,
    db_file: &Path,
    src: &Source,
    db: &Db<'_>,
    walked: &bolt::WalkResult<'_, Collect<'_>>,
    trailer_of: impl FnOnce() -> Trailer,
) -> Result<DefragReport> {
    let mut findings = Vec::new();
    meta_findings(db, &mut findings);
    // A bad meta page does not stop a defrag: say so.
    for f in &mut findings {
        if f.severity == Severity::Damage {
            f.severity = Severity::Warning;
            f.action = "nothing: the defragmented file has two fresh meta pages".into();
        }
    }
    let mut refused = false;
    for tf in &walked.findings {
        let mut f = tf.finding.clone();
        if f.severity == Severity::Damage && harmless(f.code) {
            f.severity = Severity::Warning;
            f.action = "nothing: the defragmented file gives the page back".into();
        } else if f.severity == Severity::Damage {
            refused = true;
            f.action = "a defrag would drop what this page holds: run `etcd-forensics salvage` instead".into();
        }
        findings.push(f);
    }
    for b in &walked.buckets {
        if b.sink.nested > 0 {
            refused = true;
            findings.push(
                Finding::damage(
                    "defrag.nested_bucket",
                    Location::default(),
                    format!("bucket {:?} holds nested buckets", String::from_utf8_lossy(b.name)),
                )
                .meaning("etcd never nests buckets: this is not an etcd db (etcd's defrag would turn them into empty values)"),
            );
        }
    }

    if let Some(key) = walked.buckets.iter().find(|b| b.name == buckets::KEY) {
        findings.extend(copied_damage(&key.sink.kvs));
    }

    let new: Vec<bolt::write::Bucket<'_>> =
        walked.buckets.iter().map(|b| bolt::write::Bucket { name: b.name, entries: b.sink.kvs.clone() }).collect();
    let wopts = bolt::write::WriteOptions { page_size: db.page_size(), ..Default::default() };
    let plan = bolt::write::plan(&new, wopts).map_err(|e| e.in_file(db_file))?;
    let mut report = DefragReport {
        source: opts.source.clone(),
        db_file: db_file.to_path_buf(),
        output: opts.output.clone(),
        written: false,
        findings,
        page_size: db.page_size(),
        meta_in_use: db.current_meta(),
        txid: db.meta().txid,
        source_pages: db.hwm(),
        source_file_size: src.len(),
        source_trailer: Trailer::Absent,
        free_pages: walked.unreachable_pages + walked.freelist_pages,
        pages: plan.hwm(),
        file_size: plan.file_size() + if opts.snapshot { 32 } else { 0 },
        snapshot: opts.snapshot,
        sha256: None,
        status: status_of(&new, plan.file_size()),
        buckets: plan
            .placements()
            .into_iter()
            .map(|p| BucketOut {
                name: String::from_utf8_lossy(&p.name).into_owned(),
                entries: p.entries,
                root: p.root,
                pages: p.pages,
            })
            .collect(),
    };
    let (written, trailer) = if refused {
        (None, trailer_of())
    } else {
        // Written while the hash may still run; abandoned on a mismatch.
        let mut trailer = Trailer::Absent;
        // The input's trailer is being hashed on another thread: hash the
        // output inline then (see [`Sha`]).
        let input_hashed = has_trailer(src.len()) && !opts.skip_hash_check;
        let written = write_new_db_gated(
            &opts.output,
            &plan,
            opts.snapshot,
            !input_hashed,
            None::<fn(&Path) -> Result<()>>,
            || {
                trailer = trailer_of();
                trailer != Trailer::Mismatch
            },
        )?;
        (written, trailer)
    };
    report.source_trailer = trailer;
    if report.source_trailer == Trailer::Mismatch {
        report.findings.push(
            Finding::damage("snapshot.trailer.mismatch", Location::default(), "SHA-256 trailer does not match the bytes before it")
                .meaning("the file is not what `snapshot save` wrote; a defrag would seal the damaged bytes under a fresh trailer")
                .action("use another snapshot, or --skip-hash-check if the content is known good"),
        );
    }
    for f in &mut report.findings {
        f.location = std::mem::take(&mut f.location).with_file(db_file);
    }
    if let Some(digest) = written {
        report.written = true;
        report.sha256 = digest.map(|d| hex(&d));
    }
    Ok(report)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Forwards writes, hashing them when asked to.
struct Hashing<W> {
    inner: W,
    sha: Option<Sha>,
}

/// Where the output's SHA-256 is computed. Hashing is one sequential pass at
/// ~1.5 GB/s (SHA-NI), as long as emitting and writing the pages: inline it
/// was a third of a salvage of a clean 1.3 GB file, on its own thread
/// ([`ShaPipe`]) it runs beside them. But a defrag of a snapshot already
/// hashes its input on a thread of its own: on two cores a third busy
/// thread and the copy into the pipe made it slower (1.4 s to 1.65 s), so
/// there the output is hashed inline.
enum Sha {
    Inline(Sha256),
    Thread(ShaPipe),
}

impl Sha {
    fn update(&mut self, data: &[u8]) {
        match self {
            Sha::Inline(s) => s.update(data),
            Sha::Thread(p) => p.update(data),
        }
    }
    fn finish(self) -> Option<[u8; 32]> {
        match self {
            Sha::Inline(s) => Some(s.finalize().into()),
            Sha::Thread(p) => p.finish(),
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if let Some(sha) = &mut self.sha {
            sha.update(buf.get(..n).unwrap_or_default());
        }
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A SHA-256 computed on a helper thread: bytes are copied into chunks of
/// [`ShaPipe::CHUNK`] that go to the thread through a bounded channel and
/// come back to be reused, so at most a few chunks exist at once.
struct ShaPipe {
    buf: Vec<u8>,
    to_hash: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    spare: std::sync::mpsc::Receiver<Vec<u8>>,
    thread: Option<std::thread::JoinHandle<[u8; 32]>>,
}

impl ShaPipe {
    const CHUNK: usize = 4 << 20;

    fn new() -> Self {
        let (to_hash, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        let (give_back, spare) = std::sync::mpsc::channel::<Vec<u8>>();
        let thread = std::thread::Builder::new()
            .name("sha256".into())
            .spawn(move || {
                let mut sha = Sha256::new();
                for mut chunk in rx {
                    sha.update(&chunk);
                    chunk.clear();
                    // The writer may have finished and gone: then the chunk is dropped.
                    let _ = give_back.send(chunk);
                }
                sha.finalize().into()
            })
            .ok();
        ShaPipe { buf: Vec::with_capacity(Self::CHUNK), to_hash: Some(to_hash), spare, thread }
    }

    fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let room = Self::CHUNK.saturating_sub(self.buf.len()).max(1);
            let (now, rest) = data.split_at(room.min(data.len()));
            self.buf.extend_from_slice(now);
            data = rest;
            if self.buf.len() >= Self::CHUNK {
                self.send();
            }
        }
    }

    fn send(&mut self) {
        let next = self.spare.try_recv().unwrap_or_else(|_| Vec::with_capacity(Self::CHUNK));
        let full = std::mem::replace(&mut self.buf, next);
        if let Some(tx) = &self.to_hash {
            // Fails only if the thread is gone; `finish` then reports it.
            let _ = tx.send(full);
        }
    }

    /// The digest of every byte given, or `None` if the thread could not be
    /// started or died.
    fn finish(mut self) -> Option<[u8; 32]> {
        if !self.buf.is_empty() {
            self.send();
        }
        drop(self.to_hash.take());
        self.thread.take()?.join().ok()
    }
}

/// Write the planned db to a new file `path` (which must not exist): a
/// temporary file beside it, mode 0600, fsynced, moved into place with
/// `persist_noclobber`, then the directory fsynced. With `trailer`, the
/// SHA-256 of the db bytes is appended as `snapshot save` does, and returned.
///
/// The bytes bypass the page cache (`O_DIRECT` through a writer thread, as
/// restore writes): buffered writes of a GiB spend most of a defrag copying
/// into the page cache and then waiting for the kernel to write it back.
pub fn write_new_db(path: &Path, plan: &bolt::write::Plan<'_, '_>, trailer: bool) -> Result<Option<[u8; 32]>> {
    let written = write_new_db_gated(path, plan, trailer, true, None::<fn(&Path) -> Result<()>>, || true)?;
    Ok(written.flatten())
}

/// [`write_new_db`], calling `verify` on the finished temporary file (after
/// its fsync, before it is moved into place); an error from it abandons the
/// file. The file is written through the page cache, where `verify` reads it
/// back from.
pub fn write_new_db_verified(
    path: &Path,
    plan: &bolt::write::Plan<'_, '_>,
    trailer: bool,
    verify: impl FnOnce(&Path) -> Result<()>,
) -> Result<Option<[u8; 32]>> {
    let written = write_new_db_gated(path, plan, trailer, true, Some(verify), || true)?;
    Ok(written.flatten())
}

/// The plan's pages, then (with `trailer`) their SHA-256, into `inner`.
fn emit_plan<W: Write>(
    inner: W,
    plan: &bolt::write::Plan<'_, '_>,
    trailer: bool,
    sha_thread: bool,
    tmp: &Path,
) -> Result<(W, Option<[u8; 32]>)> {
    let sha = trailer.then(|| if sha_thread { Sha::Thread(ShaPipe::new()) } else { Sha::Inline(Sha256::new()) });
    let mut w = Hashing { inner, sha };
    plan.emit(&mut w).map_err(|e| e.in_file(tmp))?;
    let digest: Option<[u8; 32]> = match w.sha {
        Some(sha) => Some(
            sha.finish()
                .ok_or_else(|| Error::io("hash", tmp, &std::io::Error::other("the SHA-256 thread could not run")))?,
        ),
        None => None,
    };
    let mut inner = w.inner;
    if let Some(d) = &digest {
        inner.write_all(d).map_err(|e| Error::io("write", tmp, &e))?;
    }
    Ok((inner, digest))
}

/// The writer behind [`write_new_db`]: `gate` is asked last, after the file
/// is complete and fsynced; when it says no, the temporary file is removed
/// and `None` returned (nothing was named).
fn write_new_db_gated(
    path: &Path,
    plan: &bolt::write::Plan<'_, '_>,
    trailer: bool,
    sha_thread: bool,
    verify: Option<impl FnOnce(&Path) -> Result<()>>,
    gate: impl FnOnce() -> bool,
) -> Result<Option<Option<[u8; 32]>>> {
    let io = |action: &'static str, p: &Path| {
        let p = p.to_path_buf();
        move |e: std::io::Error| Error::io(action, &p, &e)
    };
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| Error::usage(format!("{} has no file name", path.display())))?
        .to_string_lossy()
        .into_owned();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}.tmp-"))
        .rand_bytes(6)
        .tempfile_in(&parent)
        .map_err(io("create a temporary file in", &parent))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o600)).map_err(io("chmod", tmp.path()))?;
    }
    let digest = if verify.is_some() {
        let file = tmp.reopen().map_err(io("open", tmp.path()))?;
        let out = BufWriter::with_capacity(1 << 20, outfile::Writeback::new(file));
        let (inner, digest) = emit_plan(out, plan, trailer, sha_thread, tmp.path())?;
        let out = inner.into_inner().map_err(|e| Error::io("write", tmp.path(), e.error()))?;
        out.finish().map_err(io("fsync", tmp.path()))?;
        digest
    } else {
        let out = outfile::open_existing(tmp.path()).map_err(io("open", tmp.path()))?;
        let (inner, digest) = emit_plan(BulkWriter::new(out), plan, trailer, sha_thread, tmp.path())?;
        // finish: exact length, fsync.
        inner.finish().map_err(io("write", tmp.path()))?;
        digest
    };
    if let Some(verify) = verify {
        verify(tmp.path())?;
    }
    if !gate() {
        tmp.close().map_err(io("remove", &parent))?;
        return Ok(None);
    }
    tmp.persist_noclobber(path).map_err(|e| Error::io("move into place", path, &e.error))?;
    File::open(&parent).and_then(|d| d.sync_all()).map_err(io("fsync directory", &parent))?;
    Ok(Some(digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Owned = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

    fn borrowed(owned: &Owned) -> Vec<bolt::write::Bucket<'_>> {
        owned
            .iter()
            .map(|(n, kvs)| bolt::write::Bucket {
                name: n,
                entries: kvs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect(),
            })
            .collect()
    }

    fn write_file(dir: &Path, name: &str, owned: &Owned) -> PathBuf {
        let buckets = borrowed(owned);
        let mut bytes = Vec::new();
        bolt::write::write_db(&buckets, bolt::write::WriteOptions { page_size: 4096, fill_percent: 0.5 }, &mut bytes)
            .unwrap();
        let p = dir.join(name);
        fs::write(&p, &bytes).unwrap();
        p
    }

    /// A put of `/k/<i>` at revision `i`, as etcd writes it.
    fn put(i: i64) -> (Vec<u8>, Vec<u8>) {
        use prost::Message;
        let kv = crate::proto::mvccpb::KeyValue {
            key: format!("/k/{i}").into_bytes(),
            create_revision: i,
            mod_revision: i,
            version: 1,
            value: vec![b'v'; 40],
            lease: 0,
        };
        (Revision { main: i, sub: 0, tombstone: false }.to_key(), kv.encode_to_vec())
    }

    fn sample() -> Owned {
        let keys: Vec<(Vec<u8>, Vec<u8>)> = (1..3000i64).map(put).collect();
        vec![
            (b"key".to_vec(), keys),
            (b"meta".to_vec(), vec![(b"consistent_index".to_vec(), 7u64.to_be_bytes().to_vec())]),
        ]
    }

    fn read_all(path: &Path) -> Owned {
        let bytes = fs::read(path).unwrap();
        let db = Db::open(&bytes).unwrap();
        let w = bolt::walk(&db, WalkOptions::default(), |_| Collect::default());
        assert!(w.findings.is_empty());
        w.buckets
            .iter()
            .map(|b| (b.name.to_vec(), b.sink.kvs.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()))
            .collect()
    }

    #[test]
    fn sha_pipe_is_the_sha256_of_every_byte_however_it_is_cut() {
        let data: Vec<u8> = (0..2 * ShaPipe::CHUNK + 12_345).map(|i| (i * 31 % 251) as u8).collect();
        let want: [u8; 32] = Sha256::digest(&data).into();
        for piece in [4096, (1 << 20) + 3, ShaPipe::CHUNK - 1, ShaPipe::CHUNK, ShaPipe::CHUNK + 7, data.len()] {
            let mut p = ShaPipe::new();
            for part in data.chunks(piece) {
                p.update(part);
            }
            assert_eq!(p.finish(), Some(want), "pieces of {piece}");
        }
        let mut p = ShaPipe::new();
        for b in data.iter().take(10_000) {
            p.update(std::slice::from_ref(b));
        }
        let head: [u8; 32] = Sha256::digest(data.get(..10_000).unwrap()).into();
        assert_eq!(p.finish(), Some(head));
        let empty: [u8; 32] = Sha256::digest(b"").into();
        assert_eq!(ShaPipe::new().finish(), Some(empty));
    }

    #[test]
    fn status_of_hashes_like_one_sequential_crc() {
        let owned = sample();
        let buckets = borrowed(&owned);
        let mut crc = 0u32;
        for b in &buckets {
            crc = crc32c::crc32c_append(crc, b.name);
            for (k, v) in &b.entries {
                crc = crc32c::crc32c_append(crc32c::crc32c_append(crc, k), v);
            }
        }
        assert!(buckets.iter().any(|b| b.entries.len() > 2048), "more than one parallel run");
        let s = status_of(&buckets, 123);
        assert_eq!((s.hash, s.total_key, s.revision, s.total_size), (crc, 3000, 2999, 123));
    }

    #[test]
    fn same_content_compact_and_a_valid_trailer() {
        let dir = tempfile::tempdir().unwrap();
        let src = write_file(dir.path(), "db", &sample());
        let out = dir.path().join("new.db");
        let opts = DefragOptions { source: src.clone(), output: out.clone(), snapshot: true, skip_hash_check: false };
        let r = defrag(&opts).unwrap();
        assert!(r.written, "{:?}", r.findings);
        assert!(r.pages < r.source_pages, "fill 0.9 packs tighter than 0.5: {} vs {}", r.pages, r.source_pages);
        let bytes = fs::read(&out).unwrap();
        assert_eq!(bytes.len() as u64, r.file_size);
        assert!(has_trailer(bytes.len() as u64));
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        assert_eq!(Sha256::digest(body).as_slice(), sum);
        assert_eq!(read_all(&out), sample());
        assert_eq!(r.status.revision, 2999);
        // refuses to overwrite, and a snapshot is accepted as input
        assert!(defrag(&opts).is_err());
        let again = dir.path().join("again.db");
        let r2 =
            defrag(&DefragOptions { source: out.clone(), output: again.clone(), snapshot: false, ..opts }).unwrap();
        assert!(r2.written);
        assert_eq!(r2.source_trailer, Trailer::Valid);
        assert_eq!(r2.status, StatusOf { total_size: r2.status.total_size, ..r.status });
        assert!(!has_trailer(fs::metadata(&again).unwrap().len()));
    }

    /// Entries etcd cannot use are copied (a defrag copies bytes) and
    /// reported as damage: exit 1, with salvage as what to do instead.
    #[test]
    fn bad_key_values_are_copied_and_reported() {
        let dir = tempfile::tempdir().unwrap();
        let clean = write_file(dir.path(), "clean.db", &sample());
        let plain = |source: PathBuf, output: PathBuf| {
            defrag(&DefragOptions { source, output, snapshot: false, skip_hash_check: false }).unwrap()
        };
        let r = plain(clean, dir.path().join("clean.out"));
        assert!(r.written && r.findings.is_empty(), "{:?}", r.findings);
        assert_eq!(r.outcome(), Outcome::Verified);

        let mut owned = sample();
        let keys = &mut owned[0].1;
        keys[10].1 = vec![0xff, 0xff, 0xff]; // not a KeyValue
        keys[20].0.truncate(5); // not a revision key (sorts before the rest)
        keys.sort();
        let src = write_file(dir.path(), "bad.db", &owned);
        let out = dir.path().join("bad.out");
        let r = plain(src, out.clone());
        assert!(r.written, "copied, not refused");
        assert_eq!(read_all(&out), owned, "byte for byte");
        let codes: Vec<&str> = r.findings.iter().filter(|f| f.severity == Severity::Damage).map(|f| f.code).collect();
        assert_eq!(codes.len(), 2, "{codes:?}");
        assert!(codes.contains(&"mvcc.value.undecodable") && codes.contains(&"mvcc.key.bad_revision"), "{codes:?}");
        assert!(r.findings.iter().all(|f| f.action.contains("salvage")));
        assert_eq!(r.outcome(), Outcome::Damaged);

        // Beyond the cap, the rest are counted in one finding.
        let mut many = sample();
        for e in many[0].1.iter_mut().take(MAX_COPIED_DAMAGE + 7) {
            e.1 = vec![0xff];
        }
        let src = write_file(dir.path(), "many.db", &many);
        let r = plain(src, dir.path().join("many.out"));
        assert_eq!(r.findings.len(), MAX_COPIED_DAMAGE + 1);
        assert!(r.findings.last().is_some_and(|f| f.code == "defrag.copied_damage" && f.what.starts_with("7 more")));
    }

    #[test]
    fn damaged_input_is_refused_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let src = write_file(dir.path(), "db", &sample());
        let mut bytes = fs::read(&src).unwrap();
        // page 3: a leaf of the key bucket; make its type invalid
        bytes[3 * 4096 + 8] = 0x20;
        fs::write(&src, &bytes).unwrap();
        let out = dir.path().join("new.db");
        let r = defrag(&DefragOptions { source: src, output: out.clone(), snapshot: false, skip_hash_check: false })
            .unwrap();
        assert!(!r.written);
        assert!(r.findings.iter().any(|f| f.code == "bolt.page.invalid_type"), "{:?}", r.findings);
        assert!(!out.exists());
        let leftovers: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
    }

    #[test]
    fn a_trailer_that_does_not_match_is_refused_after_the_write_and_nothing_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let src = write_file(dir.path(), "db", &sample());
        let mut bytes = fs::read(&src).unwrap();
        let mut sum: [u8; 32] = Sha256::digest(&bytes).into();
        sum[0] ^= 1;
        bytes.extend_from_slice(&sum);
        fs::write(&src, &bytes).unwrap();
        let out = dir.path().join("new.db");
        let opts = DefragOptions { source: src, output: out.clone(), snapshot: false, skip_hash_check: false };
        let r = defrag(&opts).unwrap();
        assert!(!r.written);
        assert_eq!(r.source_trailer, Trailer::Mismatch);
        let f = r.findings.iter().find(|f| f.code == "snapshot.trailer.mismatch").expect("a trailer finding");
        assert_eq!(f.severity, Severity::Damage);
        assert!(!out.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "the written temporary file is removed");
        // --skip-hash-check: written, the trailer reported unverified.
        let r = defrag(&DefragOptions { skip_hash_check: true, ..opts }).unwrap();
        assert!(r.written, "{:?}", r.findings);
        assert_eq!(r.source_trailer, Trailer::Unverified);
        assert_eq!(read_all(&out), sample());
    }

    #[test]
    fn one_bad_meta_page_is_only_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let src = write_file(dir.path(), "db", &sample());
        let mut bytes = fs::read(&src).unwrap();
        bytes[4096 + 20] ^= 0xff; // meta 1's version: invalid
        fs::write(&src, &bytes).unwrap();
        let out = dir.path().join("new.db");
        let r = defrag(&DefragOptions { source: src, output: out.clone(), snapshot: false, skip_hash_check: false })
            .unwrap();
        assert!(r.written);
        assert_eq!(r.meta_in_use, 0);
        assert!(r.findings.iter().all(|f| f.severity < Severity::Damage), "{:?}", r.findings);
        assert_eq!(read_all(&out), sample());
    }
}
