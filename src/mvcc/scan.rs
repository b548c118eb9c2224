//! One pass over an etcd backend file (db or `snapshot save` file) that
//! yields both what `etcdutl snapshot status` prints and every finding of
//! `check`: the bbolt structure, the meta pages, the file size, the
//! SHA-256 trailer and the `key` bucket's values.

use rayon::slice::ParallelSliceMut;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::buckets;
use super::kv;
use super::revision::Revision;
use crate::bolt::layout::{META_END, META_FLAG, PAGE_HEADER_SIZE};
use crate::bolt::{self, Db, KvLoc, MetaSlot, Sink, TreeFinding, WalkOptions};
use crate::bytes::{le_u16, le_u32, le_u64};
use crate::error::Location;
use crate::report::{Finding, RevRange};

/// A 64-bit hash of a user key, to sort by before comparing the keys
/// themselves. Collisions only cost a key comparison; a hostile file can
/// make many, which slows the sort but does not change its result.
fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut h = (key.len() as u64).wrapping_mul(K);
    let mut words = key.chunks_exact(8);
    for w in words.by_ref() {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        h = (h.rotate_left(23) ^ u64::from_le_bytes(b)).wrapping_mul(K);
    }
    let mut tail = [0u8; 8];
    for (t, &x) in tail.iter_mut().zip(words.remainder()) {
        *t = x;
    }
    h = (h.rotate_left(23) ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^ (h >> 29)
}

/// Files smaller than this are walked on one thread.
const PARALLEL_MIN_BYTES: usize = 8 << 20;

/// Findings kept per bucket sink before we only count them.
const MAX_VALUE_FINDINGS: usize = 1000;

/// Per-bucket accumulator: the status hash stream and etcd-level checks.
#[derive(Debug)]
pub struct EtcdSink<'a> {
    kind: Kind,
    /// CRC32C of `k1 v1 k2 v2 ...` (no bucket name), seed 0.
    pub crc: u32,
    /// Bytes fed to `crc`.
    pub len: u64,
    /// Key/value pairs (including nested-bucket entries).
    pub entries: u64,
    pub first_key: Option<&'a [u8]>,
    pub last_key: Option<&'a [u8]>,
    /// `key` bucket: (hash of the user key, user key, is a put) per
    /// revision, in revision order. Merging parts is an append;
    /// [`EtcdSink::live_keys`] sorts once.
    live: Vec<(u64, &'a [u8], bool)>,
    /// Small buckets: all key/values, for meta/members/alarm lookups.
    pub kvs: Vec<(&'a [u8], &'a [u8])>,
    pub findings: Vec<Finding>,
    pub findings_dropped: u64,
    pub tombstones: u64,
    pub kv_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// The `key` bucket.
    Key,
    /// A small bucket whose contents we keep (meta, alarm, members, ...).
    Keep,
    /// Anything else (lease, authUsers, unknown): hashed and counted only.
    Other,
    /// Root bucket and nested buckets: ignored.
    Ignore,
}

impl<'a> EtcdSink<'a> {
    pub fn for_bucket(name: Option<&[u8]>) -> Self {
        let kind = match name {
            None => Kind::Ignore,
            Some(buckets::KEY) => Kind::Key,
            Some(n) if buckets::KEEP.contains(&n) => Kind::Keep,
            Some(_) => Kind::Other,
        };
        EtcdSink {
            kind,
            crc: 0,
            len: 0,
            entries: 0,
            first_key: None,
            last_key: None,
            live: Vec::new(),
            kvs: Vec::new(),
            findings: Vec::new(),
            findings_dropped: 0,
            tombstones: 0,
            kv_bytes: 0,
        }
    }

    fn finding(&mut self, f: Finding) {
        if self.findings.len() < MAX_VALUE_FINDINGS {
            self.findings.push(f);
        } else {
            self.findings_dropped += 1;
        }
    }

    /// Number of live user keys (etcd 3.6's `totalKey`).
    ///
    /// A key is live when its newest revision is a put. A stable sort by
    /// the key's hash groups each key's revisions and keeps them in
    /// revision order, so the last of each run decides. Sorting once, in
    /// parallel, beats merging per-part hash maps (a serial step over every
    /// key), and sorting on the hash alone keeps the sort inside this array
    /// instead of chasing key pointers across the file. Each run of equal
    /// hashes is then checked key by key; a run that mixes keys (a
    /// collision) is sorted by key.
    pub fn live_keys(&mut self) -> u64 {
        self.live.par_sort_by_key(|e| e.0);
        let mut live = 0;
        for run in self.live.chunk_by(|a, b| a.0 == b.0) {
            let first = run.first().map(|e| e.1);
            // A run of one (most keys) needs no key comparison: reading the
            // key would be a cache miss into the map for every entry.
            if run.len() == 1 || run.iter().all(|e| Some(e.1) == first) {
                live += u64::from(run.last().is_some_and(|e| e.2));
            } else {
                let mut keys: Vec<(&[u8], bool)> = run.iter().map(|e| (e.1, e.2)).collect();
                keys.sort_by(|a, b| a.0.cmp(b.0)); // stable: revision order within a key
                live += keys.chunk_by(|a, b| a.0 == b.0).filter(|k| k.last().is_some_and(|e| e.1)).count() as u64;
            }
        }
        live
    }

    pub fn get(&self, key: &[u8]) -> Option<&'a [u8]> {
        self.kvs.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    fn check_key_value(&mut self, key: &'a [u8], value: &'a [u8], loc: KvLoc) {
        let at = Location::page(loc.pgid, loc.offset);
        let (damage, kv) = key_value(key, value, at);
        if let Some(f) = damage {
            self.finding(f);
        }
        if let Some((user_key, tombstone)) = kv {
            if tombstone {
                self.tombstones += 1;
            }
            self.live.push((key_hash(user_key), user_key, !tombstone));
        }
    }
}

/// etcd's view of one `key`-bucket entry: the damage it holds, if any
/// (a key that is not a revision, a value that is not a `mvccpb.KeyValue`,
/// one whose revisions contradict its key), and for an entry that decodes,
/// its user key and whether it is a tombstone. `at` is where it lies.
/// A `--bump-revision` marker (empty value, not a tombstone) is neither.
pub fn key_value<'a>(key: &[u8], value: &'a [u8], at: Location) -> (Option<Finding>, Option<(&'a [u8], bool)>) {
    let Some(rev) = Revision::parse(key) else {
        let f = Finding::damage(
            "mvcc.key.bad_revision",
            at,
            format!("key bucket key (hex){} is not a revision key", bolt::walk::hex(key)),
        )
        .bucket(Some("key".into()))
        .meaning("etcd 3.4/3.5 misread this entry at boot; 3.6 panics \"invalid revision length\"")
        .action("restore from a snapshot; on a multi-member cluster remove this member and add it back");
        return (Some(f), None);
    };
    let revs = Some(RevRange { first: Some(rev.main), last: Some(rev.main) });
    if value.is_empty() && !rev.tombstone {
        // `etcdutl snapshot restore --bump-revision` marker.
        return (None, None);
    }
    match kv::decode(value) {
        Err(e) => {
            let f = Finding::damage(
                "mvcc.value.undecodable",
                at,
                format!("revision {}/{}: value does not decode as mvccpb.KeyValue: {e}", rev.main, rev.sub),
            )
            .bucket(Some("key".into()))
            .revisions(revs)
            .meaning("etcd fails at boot: \"failed to unmarshal mvccpb.KeyValue\"")
            .action("restore from a snapshot; on a multi-member cluster remove this member and add it back (it resyncs from the leader)");
            (Some(f), None)
        }
        Ok(kv) => {
            let bad = if kv.key.is_empty() {
                Some("the KeyValue has an empty key".to_string())
            } else if !rev.tombstone && kv.mod_revision != rev.main {
                Some(format!(
                    "mod_revision {} differs from the revision key's main revision {}",
                    kv.mod_revision, rev.main
                ))
            } else if !rev.tombstone
                && (kv.create_revision <= 0 || kv.create_revision > kv.mod_revision || kv.version <= 0)
            {
                Some(format!(
                    "inconsistent KeyValue (create_revision {}, mod_revision {}, version {})",
                    kv.create_revision, kv.mod_revision, kv.version
                ))
            } else {
                None
            };
            let f = bad.map(|what| {
                Finding::damage("mvcc.value.inconsistent", at, format!("revision {}/{}: {what}", rev.main, rev.sub))
                    .bucket(Some("key".into()))
                    .revisions(revs)
                    .meaning("etcd would load this revision with wrong metadata; reads and watches of this key may return wrong data")
                    .action("compare with a healthy member (`etcdctl endpoint hashkv`) and restore from a snapshot if they differ")
            });
            (f, Some((kv.key, rev.tombstone)))
        }
    }
}

impl<'a> Sink<'a> for EtcdSink<'a> {
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], is_bucket: bool, loc: KvLoc) {
        if self.kind == Kind::Ignore {
            return;
        }
        self.entries += 1;
        // `snapshot status` hashes `k` then `v`; a nested bucket's v is nil.
        self.crc = crate::crc::append(self.crc, key);
        self.len += key.len() as u64;
        if !is_bucket {
            self.crc = crate::crc::append(self.crc, value);
            self.len += value.len() as u64;
            self.kv_bytes += (key.len() + value.len()) as u64;
        }
        if self.first_key.is_none() {
            self.first_key = Some(key);
        }
        self.last_key = Some(key);
        match self.kind {
            Kind::Key if !is_bucket => self.check_key_value(key, value, loc),
            Kind::Keep if !is_bucket => self.kvs.push((key, value)),
            _ => {}
        }
    }

    fn fresh(&self) -> Self {
        EtcdSink { kind: self.kind, ..EtcdSink::for_bucket(None) }
    }

    fn merge(&mut self, later: Self) {
        self.crc = crate::crc::combine(self.crc, later.crc, later.len);
        self.len += later.len;
        self.entries += later.entries;
        self.first_key = self.first_key.or(later.first_key);
        self.last_key = later.last_key.or(self.last_key);
        if self.live.is_empty() {
            self.live = later.live;
        } else {
            self.live.extend_from_slice(&later.live);
        }
        self.kvs.extend(later.kvs);
        for f in later.findings {
            self.finding(f);
        }
        self.findings_dropped += later.findings_dropped;
        self.tombstones += later.tombstones;
        self.kv_bytes += later.kv_bytes;
    }
}

/// State of the `snapshot save` SHA-256 trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trailer {
    /// `size % 512 != 32`: a raw db (e.g. `member/snap/db`).
    Absent,
    /// Present and equal to SHA-256 of the bytes before it.
    Valid,
    /// Present but wrong.
    Mismatch,
    /// Present, not verified (caller asked to skip).
    Unverified,
}

impl Trailer {
    pub fn as_str(self) -> &'static str {
        match self {
            Trailer::Absent => "absent",
            Trailer::Valid => "valid",
            Trailer::Mismatch => "mismatch",
            Trailer::Unverified => "unverified",
        }
    }
}

/// `snapshot save` files carry a trailer iff `size % 512 == 32` (`hasChecksum`).
pub fn has_trailer(len: u64) -> bool {
    len % 512 == 32
}

/// What `etcdutl snapshot status` computes, plus what operators need next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusNumbers {
    /// CRC32C over every top-level bucket name, key and value.
    pub hash: u32,
    /// Main revision of the last key in `key`.
    pub revision: i64,
    /// 3.4/3.5 meaning: key/values in all buckets.
    pub total_key: u64,
    /// HWM * pageSize.
    pub total_size: u64,
}

/// Everything one scan learns.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DbScan {
    /// `None` when the file does not open as bbolt at all.
    pub status: Option<StatusNumbers>,
    pub file_size: u64,
    pub page_size: Option<u32>,
    pub high_water_mark: Option<u64>,
    pub txid: Option<u64>,
    pub meta_in_use: Option<u8>,
    pub metas: Vec<MetaSlot>,
    pub trailer: Trailer,
    /// SHA-256 of the whole file (body and trailer), a by-product of
    /// verifying the trailer: `None` when it was not verified.
    #[serde(skip)]
    pub file_sha256: Option<[u8; 32]>,
    pub live_keys: Option<u64>,
    pub tombstones: Option<u64>,
    pub consistent_index: Option<u64>,
    pub term: Option<u64>,
    pub compact_revision: Option<i64>,
    pub scheduled_compact_revision: Option<i64>,
    pub storage_version: Option<String>,
    pub cluster_version: Option<String>,
    /// Keys of the `members` bucket (lowercase hex member ids).
    pub members: Vec<String>,
    /// Keys of the `members_removed` bucket (ids of removed members).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub members_removed: Vec<String>,
    /// Raw keys of the `alarm` bucket (marshaled `AlarmMember`).
    #[serde(skip)]
    pub alarms: Vec<Vec<u8>>,
    pub buckets: Vec<BucketSummary>,
    pub reachable_pages: u64,
    pub free_pages: u64,
    pub findings: Vec<Finding>,
    /// Findings beyond the per-bucket cap, counted but not listed.
    pub findings_dropped: u64,
    /// Structural damage that makes bbolt's integrity check (or open) fail:
    /// `snapshot status` refuses the file.
    pub integrity_failed: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketSummary {
    pub name: String,
    pub entries: u64,
    pub root_page: u64,
    pub inline: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ScanOptions {
    /// Do not verify the SHA-256 trailer (report it as unverified).
    pub skip_trailer_hash: bool,
    /// Walk sequentially (for testing determinism).
    pub sequential: bool,
    /// Bytes of pages visited so far (see [`WalkOptions::progress`]).
    pub progress: Option<std::sync::Arc<std::sync::atomic::AtomicU64>>,
}

/// Scan a whole backend file held in memory (usually an mmap).
pub fn scan_db(data: &[u8], opts: ScanOptions) -> DbScan {
    let file_size = data.len() as u64;
    let trailer_present = has_trailer(file_size);
    // The trailer hash is independent of the tree walk: run both at once.
    let ((trailer, file_sha256), opened) =
        rayon::join(|| trailer_digest(data, trailer_present, opts.skip_trailer_hash), || scan_tree(data, &opts));
    let mut scan = opened;
    scan.trailer = trailer;
    scan.file_sha256 = file_sha256;
    scan.file_size = file_size;
    size_findings(&mut scan, file_size, trailer_present);
    scan.findings.sort_by_key(|f| (f.location.offset.unwrap_or(u64::MAX), f.location.page));
    scan
}

/// The trailer's state: absent, unverified (`skip`), valid or mismatch.
pub fn trailer_state(data: &[u8], present: bool, skip: bool) -> Trailer {
    trailer_digest(data, present, skip).0
}

/// [`trailer_state`], and the SHA-256 of the whole file when the trailer
/// was verified: the same pass goes on over the 32 trailer bytes, so a
/// caller that wants both (`report`'s header) hashes the file once.
pub fn trailer_digest(data: &[u8], present: bool, skip: bool) -> (Trailer, Option<[u8; 32]>) {
    if !present {
        return (Trailer::Absent, None);
    }
    if skip {
        return (Trailer::Unverified, None);
    }
    let cut = data.len().saturating_sub(32);
    let (body, stored) = data.split_at(cut);
    let mut sha = Sha256::new();
    sha.update(body);
    let body_sum = sha.clone().finalize();
    sha.update(stored);
    let state = if body_sum.as_slice() == stored { Trailer::Valid } else { Trailer::Mismatch };
    (state, Some(sha.finalize().into()))
}

fn empty_scan(metas: Vec<MetaSlot>) -> DbScan {
    DbScan {
        status: None,
        file_size: 0,
        page_size: None,
        high_water_mark: None,
        txid: None,
        meta_in_use: None,
        metas,
        trailer: Trailer::Absent,
        live_keys: None,
        tombstones: None,
        consistent_index: None,
        term: None,
        compact_revision: None,
        scheduled_compact_revision: None,
        storage_version: None,
        cluster_version: None,
        members: Vec::new(),
        members_removed: Vec::new(),
        alarms: Vec::new(),
        file_sha256: None,
        buckets: Vec::new(),
        reachable_pages: 0,
        free_pages: 0,
        findings: Vec::new(),
        findings_dropped: 0,
        integrity_failed: true,
    }
}

fn scan_tree(data: &[u8], opts: &ScanOptions) -> DbScan {
    let db = match Db::open(data) {
        Ok(db) => db,
        Err(fail) => {
            let mut scan = empty_scan(fail.slots.clone());
            for s in &fail.slots {
                if let Some(p) = &s.problem {
                    scan.findings.push(
                        Finding::damage("bolt.meta.invalid", Location::page(u64::from(s.index), s.offset), format!("meta page {}: {p}", s.index))
                            .page_type("meta")
                            .meaning("neither meta page is valid: bbolt cannot open the file (etcd panics \"failed to open database\")")
                            .action("restore from a snapshot; on a multi-member cluster remove this member and add it back"),
                    );
                }
            }
            scan.findings.push(
                Finding::damage("bolt.open", fail.error.location().clone(), fail.error.to_string())
                    .meaning("this is not a usable bbolt file; etcd and etcdutl refuse it")
                    .action("check that this is an etcd db or `etcdctl snapshot save` file; if it is, restore from another snapshot"),
            );
            return scan;
        }
    };
    // Below a few MiB, splitting the walk costs more than it saves.
    let parallel = !opts.sequential && data.len() >= PARALLEL_MIN_BYTES;
    let mut walk = bolt::walk(&db, WalkOptions { parallel, progress: opts.progress.clone() }, EtcdSink::for_bucket);
    let mut scan = empty_scan(db.slots().to_vec());
    scan.page_size = Some(db.page_size());
    scan.high_water_mark = Some(db.hwm());
    scan.txid = Some(db.meta().txid);
    scan.meta_in_use = Some(db.current_meta());
    scan.reachable_pages = walk.reachable_pages;
    scan.free_pages = walk.unreachable_pages + walk.freelist_pages;
    meta_findings(&db, &mut scan.findings);

    // Revision ranges for damaged pages of the `key` bucket.
    scan.integrity_failed = walk.findings.iter().any(|f| f.bbolt_detects);
    for tf in walk.findings {
        let revs = key_bucket_range(&tf);
        scan.findings.push(tf.finding.revisions(revs));
    }

    // The status hash: bucket name then its k/v stream, buckets in order.
    let mut crc = 0u32;
    let mut total_key = 0u64;
    let mut revision = 0i64;
    for b in &walk.buckets {
        crc = crc32c::crc32c_append(crc, b.name);
        crc = crate::crc::combine(crc, b.sink.crc, b.sink.len);
        total_key += b.sink.entries;
        scan.buckets.push(BucketSummary {
            name: String::from_utf8_lossy(b.name).into_owned(),
            entries: b.sink.entries,
            root_page: b.root,
            inline: b.root == 0,
        });
    }
    let key = walk.buckets.iter_mut().find(|b| b.name == buckets::KEY);
    if let Some(k) = key {
        revision = k.sink.last_key.and_then(Revision::main_of).unwrap_or(0);
        scan.live_keys = Some(k.sink.live_keys());
        scan.tombstones = Some(k.sink.tombstones);
    }
    for b in walk.buckets.iter() {
        scan.findings.extend(b.sink.findings.iter().cloned());
        scan.findings_dropped += b.sink.findings_dropped;
    }
    if let Some(meta) = walk.buckets.iter().find(|b| b.name == buckets::META) {
        let s = &meta.sink;
        scan.consistent_index = s.get(b"consistent_index").and_then(be_u64_exact);
        scan.term = s.get(b"term").and_then(be_u64_exact);
        scan.compact_revision = s.get(b"finishedCompactRev").and_then(Revision::parse).map(|r| r.main);
        scan.scheduled_compact_revision = s.get(b"scheduledCompactRev").and_then(Revision::parse).map(|r| r.main);
        scan.storage_version = s.get(b"storageVersion").map(|v| String::from_utf8_lossy(v).into_owned());
    }
    if let Some(m) = walk.buckets.iter().find(|b| b.name == buckets::MEMBERS) {
        scan.members = m.sink.kvs.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect();
    }
    if let Some(m) = walk.buckets.iter().find(|b| b.name == buckets::MEMBERS_REMOVED) {
        scan.members_removed = m.sink.kvs.iter().map(|(k, _)| String::from_utf8_lossy(k).into_owned()).collect();
    }
    if let Some(a) = walk.buckets.iter().find(|b| b.name == buckets::ALARM) {
        scan.alarms = a.sink.kvs.iter().map(|(k, _)| k.to_vec()).collect();
    }
    if let Some(c) = walk.buckets.iter().find(|b| b.name == buckets::CLUSTER) {
        scan.cluster_version = c.sink.get(b"clusterVersion").map(|v| String::from_utf8_lossy(v).into_owned());
    }
    scan.status = Some(StatusNumbers { hash: crc, revision, total_key, total_size: db.logical_size() });
    scan
}

fn be_u64_exact(v: &[u8]) -> Option<u64> {
    let b: [u8; 8] = v.try_into().ok()?;
    Some(u64::from_be_bytes(b))
}

/// For a finding in the `key` bucket, the revisions stored under the page.
fn key_bucket_range(tf: &TreeFinding) -> Option<RevRange> {
    if tf.bucket.first().map(Vec::as_slice) != Some(buckets::KEY) || tf.bucket.len() != 1 {
        return None;
    }
    let first = tf.lo.as_deref().and_then(Revision::main_of);
    let last = tf.hi.as_deref().and_then(|hi| {
        let r = Revision::parse(hi)?;
        Some(if r.sub == 0 && !r.tombstone { r.main - 1 } else { r.main })
    });
    Some(RevRange { first, last })
}

/// Meta-page findings (pub for defrag/salvage): invalid metas (with what the fallback loses) and
/// damage to the parts bbolt does not checksum.
pub fn meta_findings(db: &Db<'_>, out: &mut Vec<Finding>) {
    let data = db.data();
    let ps = db.page_size() as usize;
    let current = db.current_meta();
    let good = *db.meta();
    for s in db.slots() {
        let loc = Location::page(u64::from(s.index), s.offset);
        if let Some(p) = &s.problem {
            let (meaning, lost) = match s.meta {
                Some(m)
                    if m.txid > good.txid
                        && (m.root != good.root || m.hwm != good.hwm || m.freelist != good.freelist) =>
                {
                    (
                        format!(
                            "bbolt falls back to meta page {current} (txid {}); if this page held the newer transaction (it claims txid {}), that last commit is lost",
                            good.txid, m.txid
                        ),
                        true,
                    )
                }
                _ => (
                    format!("bbolt and etcd use the other meta page ({current}, txid {}); nothing is lost", good.txid),
                    false,
                ),
            };
            out.push(
                Finding::damage("bolt.meta.invalid", loc, format!("meta page {}: {p}", s.index))
                    .page_type("meta")
                    .meaning(meaning)
                    .action(if lost {
                        "the db still opens; compare its revision with other members, and restore from a snapshot if the last transaction matters"
                    } else {
                        "the db still opens; a defrag or `snapshot save` + restore rewrites both meta pages"
                    }),
            );
            continue;
        }
        if let Some(m) = s.meta.filter(|m| m.page_size != db.page_size()) {
            out.push(
                Finding::damage(
                    "bolt.meta.page_size",
                    loc.clone(),
                    format!(
                        "meta page {} claims page size {}, but bbolt addresses this file with page size {} (from {})",
                        s.index,
                        m.page_size,
                        db.page_size(),
                        if db.slots().first().and_then(|s0| s0.valid_meta()).is_some() { "meta page 0" } else { "the probe for meta page 1" }
                    ),
                )
                .page_type("meta")
                .meaning("the two meta pages disagree on the page size: one of them is damaged under a valid checksum, or the file was assembled from two databases")
                .action("do not let etcd write to this file; restore from a snapshot, or salvage the keys into a new db"),
            );
        }
        // Valid meta: its header and zero padding are not checksummed.
        let off = usize::try_from(s.offset).unwrap_or(usize::MAX);
        let page = data.get(off..off.saturating_add(ps)).unwrap_or_default();
        let id = le_u64(page, 0);
        let flags = le_u16(page, 8);
        let count = le_u16(page, 10);
        let overflow = le_u32(page, 12);
        let mut bad = Vec::new();
        if id != Some(u64::from(s.index)) {
            bad.push(format!("header id {} (want {})", id.unwrap_or_default(), s.index));
        }
        if flags != Some(META_FLAG) {
            bad.push(format!("flags {:#x} (want 0x04)", flags.unwrap_or_default()));
        }
        if count != Some(0) || overflow != Some(0) {
            bad.push("non-zero count/overflow".into());
        }
        if let Some(pos) = page.get(META_END..).and_then(|rest| rest.iter().position(|&b| b != 0)) {
            bad.push(format!("non-zero byte at page offset {} (bbolt writes zeros after the meta)", META_END + pos));
        }
        let _ = PAGE_HEADER_SIZE;
        if !bad.is_empty() {
            out.push(
                Finding::damage("bolt.meta.unchecksummed", loc, format!("meta page {}: {}", s.index, bad.join(", ")))
                    .page_type("meta")
                    .meaning(
                        "bytes of the meta page outside its checksum are damaged; bbolt ignores them, nothing is lost",
                    )
                    .action("the db still opens; treat the medium as suspect"),
            );
        }
    }
}

fn size_findings(scan: &mut DbScan, file_size: u64, trailer_present: bool) {
    let (Some(ps), Some(hwm)) = (scan.page_size, scan.high_water_mark) else {
        if scan.trailer == Trailer::Mismatch {
            scan.findings.push(trailer_mismatch());
        }
        return;
    };
    let logical = hwm.saturating_mul(u64::from(ps));
    let body = if trailer_present { file_size - 32 } else { file_size };
    if body < logical {
        scan.integrity_failed = true;
        scan.findings.push(
            Finding::damage(
                "bolt.size.truncated",
                Location::at(file_size),
                format!("file is truncated: the high-water mark {hwm} x page size {ps} = {logical} bytes, the file has {body}"),
            )
            .meaning("pages past the end of the file are lost; bbolt reads them as a bus error or garbage")
            .action("find the complete file (an interrupted copy?) or restore from a snapshot"),
        );
    } else if body > logical {
        scan.findings.push(
            Finding::info(
                "bolt.size.beyond_hwm",
                Location::at(logical),
                format!("{} bytes past the high-water mark ({} pages), ignored", body - logical, (body - logical) / u64::from(ps)),
            )
            .meaning("normal for a live etcd db: bbolt grows the file ahead of use; a `snapshot save` file ends exactly at the high-water mark"),
        );
    }
    match scan.trailer {
        Trailer::Mismatch => scan.findings.push(trailer_mismatch()),
        Trailer::Valid if body != logical => scan.findings.push(
            Finding::warning(
                "snapshot.trailer.size",
                Location::at(body),
                format!(
                    "valid SHA-256 trailer, but the db part is {body} bytes and the high-water mark says {logical}"
                ),
            )
            .meaning("not how `etcdctl snapshot save` writes files; it was probably made another way"),
        ),
        _ => {}
    }
}

pub(crate) fn trailer_mismatch() -> Finding {
    Finding::damage(
        "snapshot.trailer.mismatch",
        Location::default(),
        "SHA-256 trailer does not match the bytes before it".to_string(),
    )
    .meaning("`etcdutl snapshot restore` refuses this file (\"expected sha256 ..., got ...\"); the bytes differ from what the server sent")
    .action("use another snapshot; if the db structure below checks clean, `restore --skip-hash-check` works at your own risk")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_rule() {
        assert!(has_trailer(20480 + 32));
        assert!(!has_trailer(20480));
        assert!(!has_trailer(0));
    }

    fn live_of(entries: &[(u64, &'static [u8], bool)]) -> u64 {
        let mut sink = EtcdSink::for_bucket(Some(buckets::KEY));
        sink.live = entries.to_vec();
        sink.live_keys()
    }

    #[test]
    fn live_keys_newest_revision_decides() {
        let (a, b, c): (&[u8], &[u8], &[u8]) = (b"a", b"b", b"c");
        // a: put, delete -> dead; b: put, delete, put -> live; c: put -> live
        let e = [(key_hash(a), a, true), (key_hash(b), b, true), (key_hash(a), a, false), (key_hash(b), b, false)];
        let mut v = e.to_vec();
        v.push((key_hash(c), c, true));
        v.push((key_hash(b), b, true));
        assert_eq!(live_of(&v), 2);
        assert_eq!(live_of(&e), 0);
        assert_eq!(live_of(&[]), 0);
    }

    #[test]
    fn live_keys_survive_hash_collisions() {
        // Force every key onto one hash: the run is split by key, and each
        // key's revisions keep their order (x: put then delete -> dead;
        // y: delete then put -> live; z: put -> live).
        let (x, y, z): (&[u8], &[u8], &[u8]) = (b"x", b"y", b"z");
        let v = [(7, y, false), (7, x, true), (7, z, true), (7, y, true), (7, x, false), (9, x, true)];
        // The last entry has another hash (as a bug would give): counted apart.
        assert_eq!(live_of(&v), 3);
        assert_eq!(live_of(&v[..5]), 2);
    }

    #[test]
    fn key_hash_uses_every_byte_and_the_length() {
        let base = b"/registry/pods/default/web-0".to_vec();
        let h = key_hash(&base);
        for i in 0..base.len() {
            let mut k = base.clone();
            if let Some(b) = k.get_mut(i) {
                *b ^= 1;
            }
            assert_ne!(key_hash(&k), h, "byte {i}");
        }
        assert_ne!(key_hash(b"ab\0"), key_hash(b"ab"));
        assert_ne!(key_hash(b""), key_hash(b"\0"));
    }
}
