//! `restore`: make a new data dir from a snapshot, as `etcdutl snapshot
//! restore` (3.5 layout) or `etcdctl snapshot restore` 3.4 does, with no
//! etcd code (FORMATS.md §10).
//!
//! What we write (§10.3, §10.4, checklist §10.5):
//!
//! ```text
//! <data-dir>/                      0700
//!   member/                        0700
//!     snap/                        0700
//!       db                         0600  a fresh compact bbolt file (bolt::write)
//!       0000000000000001-<N>.snap  0644  v2 store with the N new members
//!     wal/                         0700  (or --wal-dir)
//!       0000000000000000-0000000000000000.wal  0600, 64 000 000 bytes:
//!         CRC, METADATA{local, cluster}, SNAPSHOT{0,0}, N x ENTRY(ConfChange
//!         AddNode, term 1, index i), STATE{term 1, vote ids[0], commit N},
//!         SNAPSHOT{N, 1 (+ conf_state in the 3.5 layout)}
//! ```
//!
//! Database content, bucket by bucket, equals what etcdutl/etcdctl leave:
//! every bucket is copied; `meta/consistent_index` = N; in the 3.5 layout
//! also `meta/term` = 1, `members` = the new members' JSON and
//! `members_removed` emptied; in the 3.4 layout `members` stays as it was,
//! and (as etcdctl 3.4's `DeleteRange` does) a live *user* key named like
//! a member id is deleted at a new revision. `--bump-revision B
//! --mark-compacted` adds key `(latest.main + B, 0)` with an empty value and
//! sets `meta/scheduledCompactRev` to it, as etcdutl ≥ 3.5.10 does; etcd then
//! finishes that compaction at boot. Only the file layout differs: ours is
//! bulk-loaded (like a defragmented db), theirs is a page-for-page copy.
//!
//! Not reproduced: etcdctl 3.4 runs a pending compaction
//! (`scheduledCompactRev` > `finishedCompactRev`) while restoring; we leave
//! it pending, and etcd resumes it at boot (same result once booted).
//!
//! Safety (STYLE.md §3): the snapshot is checked first (`scan_db`: every
//! page and value) and a damaged one is refused before anything is created.
//! The SHA-256 trailer (one sequential pass, ~1 GB/s) is verified on its own
//! thread while the db is written into an *unnamed* file (`O_TMPFILE`) in
//! the target's parent directory: a snapshot whose trailer is wrong is
//! refused and that file vanishes, so nothing with a name is created before
//! the whole snapshot is verified (where `O_TMPFILE` is unavailable, the db
//! is written after the hash instead). Everything is then built under
//! `<data-dir>.tmp-XXXXXX` next to the target, every file and directory is fsynced, and the directory is renamed
//! into place last (then its parent is fsynced), so a killed restore leaves at
//! most a `*.tmp-*` directory, never something that looks like a data dir.
//! With `--wal-dir`, the WAL directory is published the same way just before
//! the data dir.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use prost::Message;
use serde::Serialize;

use super::Outcome;
use crate::bolt::Collect;
use crate::bolt::{self, Db, WalkOptions};
use crate::error::{Error, ErrorKind, Location, Result};
use crate::membership::{self, Cluster};
use crate::mvcc::buckets;
use crate::mvcc::scan::has_trailer;
use crate::mvcc::scan::trailer_state;
use crate::mvcc::{Revision, ScanOptions, Trailer, kv, scan_db};
use crate::outfile::{self, BulkWriter};
use crate::proto::etcdserverpb::Metadata;
use crate::proto::raftpb::{self, ConfChange, ConfState, Entry, HardState};
use crate::proto::walpb;
use crate::report::{Finding, Severity};
use crate::snap::write::{
    V2Member, encode_snap, encode_snap_bytes, snap_file_name, v2_store_json_with, write_snap_file,
};
use crate::source::Source;
use crate::wal::SegmentName;
use crate::wal::write::{Encoder, write_segment};

/// Whose layout to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EtcdLayout {
    /// `etcdctl snapshot restore` 3.4: old members stay in the db, no
    /// `meta/term`, no `conf_state` in the WAL's last snapshot record.
    #[serde(rename = "3.4")]
    V34,
    /// `etcdutl snapshot restore` 3.5.
    #[serde(rename = "3.5")]
    V35,
    /// 3.6: as 3.5, but the `.snap`'s v2 store records one failed get
    /// (`getsFail: 1`: it is built by querying a fresh store), and with
    /// several members their creation order in it is Go map order.
    #[serde(rename = "3.6")]
    V36,
    /// 3.7: as 3.6, with raft messages in google-protobuf's explicit
    /// presence encoding (unset `ConfChange.id`, `ConfState.auto_leave`
    /// not written).
    #[serde(rename = "3.7")]
    V37,
}

impl EtcdLayout {
    /// The layout of the etcd line `release` belongs to (3.7 for anything
    /// newer, 3.4 for anything older).
    pub fn for_release(release: crate::mvcc::version::Release) -> EtcdLayout {
        match release.line() {
            (0..=2, _) | (3, 0..=4) => EtcdLayout::V34,
            (3, 5) => EtcdLayout::V35,
            (3, 6) => EtcdLayout::V36,
            _ => EtcdLayout::V37,
        }
    }

    /// 3.5 and later: members in the db, `meta/term`, conf state in the WAL.
    fn v35_or_later(self) -> bool {
        self != EtcdLayout::V34
    }
}

#[derive(Debug, Clone)]
pub struct RestoreOptions {
    pub snapshot: PathBuf,
    pub data_dir: PathBuf,
    pub wal_dir: Option<PathBuf>,
    pub name: String,
    pub initial_cluster: String,
    pub initial_cluster_token: String,
    pub initial_advertise_peer_urls: Vec<String>,
    pub skip_hash_check: bool,
    pub mark_compacted: bool,
    pub bump_revision: u64,
    /// `None`: the layout of the etcd line that wrote the snapshot.
    pub layout: Option<EtcdLayout>,
    pub dry_run: bool,
}

impl RestoreOptions {
    /// etcdutl's defaults for everything but the snapshot and data dir.
    pub fn new(snapshot: impl Into<PathBuf>, data_dir: impl Into<PathBuf>) -> Self {
        RestoreOptions {
            snapshot: snapshot.into(),
            data_dir: data_dir.into(),
            wal_dir: None,
            name: "default".into(),
            initial_cluster: "default=http://localhost:2380".into(),
            initial_cluster_token: "etcd-cluster".into(),
            initial_advertise_peer_urls: vec!["http://localhost:2380".into()],
            skip_hash_check: false,
            mark_compacted: false,
            bump_revision: 0,
            layout: None,
            dry_run: false,
        }
    }
}

/// What was (or, with `--dry-run`, would be) written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestorePlan {
    pub dry_run: bool,
    pub layout: EtcdLayout,
    /// Why this layout: `requested` (--etcd-version) or the detection.
    pub layout_source: String,
    pub snapshot: PathBuf,
    pub trailer: Trailer,
    pub data_dir: PathBuf,
    pub wal_dir: PathBuf,
    pub snap_dir: PathBuf,
    pub wal_file: PathBuf,
    pub snap_file: PathBuf,
    pub db_file: PathBuf,
    pub cluster: Cluster,
    /// The member named by `--name`.
    pub name: String,
    /// Raft index (and WAL commit) of the restored state: the member count.
    pub consistent_index: u64,
    pub term: u64,
    /// Main revision of the last key in the new db (etcd's current revision
    /// at boot, unless a compaction revision is higher).
    pub revision: i64,
    pub compact_revision: Option<i64>,
    /// Set by `--mark-compacted`: etcd compacts to it at boot.
    pub scheduled_compact_revision: Option<i64>,
    /// Entries of the `key` bucket (revisions, tombstones included).
    pub revisions: u64,
    /// User keys alive at the last revision, as in the snapshot.
    pub live_keys: u64,
    /// What `etcdutl snapshot status` (3.4/3.5) will print for the new db,
    /// except the size: hash, revision, total keys.
    pub status_hash: u32,
    pub total_key: u64,
    pub db_size: u64,
    pub db_pages: u64,
    /// User keys deleted because they are named like old member ids (3.4 layout only).
    pub deleted_member_named_keys: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct RestoreReport {
    /// `None` when the snapshot was refused.
    pub plan: Option<RestorePlan>,
    /// Why the snapshot was refused (damage found by the pre-check).
    pub findings: Vec<Finding>,
    pub snapshot: PathBuf,
}

impl RestoreReport {
    pub fn outcome(&self) -> Outcome {
        if self.plan.is_some() { Outcome::Verified } else { Outcome::Damaged }
    }
}

/// A top-level bucket read from the snapshot: name and key/values.
type TopBucket<'a> = (&'a [u8], Vec<(&'a [u8], &'a [u8])>);

fn be8(v: u64) -> Vec<u8> {
    v.to_be_bytes().to_vec()
}

/// Replace or insert `(key, value)` in a sorted bucket.
fn upsert<'a>(kvs: &mut Vec<(&'a [u8], &'a [u8])>, key: &'a [u8], value: &'a [u8]) {
    match kvs.binary_search_by(|(k, _)| (*k).cmp(key)) {
        Ok(i) => {
            if let Some(slot) = kvs.get_mut(i) {
                slot.1 = value;
            }
        }
        Err(i) => kvs.insert(i, (key, value)),
    }
}

fn usage(msg: impl Into<String>) -> Error {
    Error::usage(msg)
}

/// Is `dir` absent, or an empty directory?
pub(crate) fn absent_or_empty(dir: &Path) -> Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut it) => Ok(it.next().is_none()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(_) => Ok(false),
    }
}

/// Run the restore (or, with `dry_run`, everything but the writing).
pub fn restore(opts: &RestoreOptions) -> Result<RestoreReport> {
    // etcdutl: `(revisionBump == 0 && markCompacted) || (revisionBump > 0 && !markCompacted)`.
    if (opts.bump_revision == 0) == opts.mark_compacted {
        return Err(usage("--mark-compacted required if --revision-bump > 0"));
    }
    let cluster = membership::bootstrap(
        &opts.name,
        &opts.initial_cluster,
        &opts.initial_cluster_token,
        &opts.initial_advertise_peer_urls,
    )?;
    let n = cluster.members.len() as u64;

    let data_dir = opts.data_dir.clone();
    if !absent_or_empty(&data_dir)? {
        return Err(usage(format!("data-dir {:?} not empty or could not be read", data_dir.display().to_string())));
    }
    if let Some(w) = &opts.wal_dir {
        if fs::symlink_metadata(w).is_ok() {
            return Err(usage(format!("wal-dir {:?} exists", w.display().to_string())));
        }
    }
    let wal_dir = opts.wal_dir.clone().unwrap_or_else(|| data_dir.join("member").join("wal"));
    let snap_dir = data_dir.join("member").join("snap");

    let src = Source::open(&opts.snapshot)?;
    let bytes = src.bytes();
    if !has_trailer(src.len()) && !opts.skip_hash_check {
        return Err(usage("snapshot missing hash but --skip-hash-check=false")
            .in_file(&opts.snapshot)
            .with_hint("this is a raw db (e.g. member/snap/db), not a `snapshot save` file; add --skip-hash-check"));
    }
    let ids = Ids { cluster, n, data_dir, wal_dir, snap_dir };
    // The trailer's SHA-256 is one sequential pass over the whole file
    // (~1 GB/s): it runs on its own thread beside the structure check, the
    // plan and the db write (into an unnamed file), and everything waits for
    // it before anything gets a name.
    std::thread::scope(|s| {
        let present = has_trailer(bytes.len() as u64);
        let sha = (!opts.skip_hash_check).then(|| s.spawn(move || trailer_state(bytes, present, false)));
        let trailer = move || -> Trailer {
            match sha.map(|h| h.join()) {
                // --skip-hash-check: absent or unverified.
                None => trailer_state(bytes, present, true),
                Some(Ok(t)) => t,
                // The hash thread cannot panic (no indexing, no unwrap); if
                // it did, treat the snapshot as unverified-bad.
                Some(Err(_)) => Trailer::Mismatch,
            }
        };
        restore_verified(opts, bytes, ids, trailer)
    })
}

/// Member ids and the paths of the new data dir.
struct Ids {
    cluster: Cluster,
    n: u64,
    data_dir: PathBuf,
    wal_dir: PathBuf,
    snap_dir: PathBuf,
}

fn refused(opts: &RestoreOptions, findings: &[Finding]) -> RestoreReport {
    let damage = findings
        .iter()
        .filter(|f| f.severity == Severity::Damage)
        .cloned()
        .map(|mut f| {
            f.location = std::mem::take(&mut f.location).with_file(&opts.snapshot);
            f
        })
        .collect();
    RestoreReport { plan: None, findings: damage, snapshot: opts.snapshot.clone() }
}

/// The directory the data dir goes into, if it exists already (we create
/// nothing before the snapshot is verified).
fn existing_parent(data_dir: &Path) -> Option<PathBuf> {
    let parent = parent_dir(data_dir);
    parent.is_dir().then_some(parent)
}

/// The directory `path` lives in (`.` for a bare name).
pub(crate) fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn restore_verified(
    opts: &RestoreOptions,
    bytes: &[u8],
    ids: Ids,
    trailer: impl FnOnce() -> Trailer,
) -> Result<RestoreReport> {
    let Ids { cluster, n, data_dir, wal_dir, snap_dir } = ids;
    let mut trailer = Some(trailer);
    let mut known = Trailer::Unverified;
    // The trailer's state, waiting for the hash the first time.
    let mut verdict = move || {
        if let Some(t) = trailer.take() {
            known = t();
        }
        known
    };
    // 1. Verify everything before naming anything: the structure, every
    // page and value here; the trailer on the other thread.
    let mut scan = scan_db(bytes, ScanOptions { skip_trailer_hash: true, ..Default::default() });
    // Whose layout: --etcd-version, else the line that wrote the snapshot.
    let writer = crate::mvcc::version::Writer::of_scan(&scan);
    let (layout, layout_source) = match opts.layout {
        Some(l) => (l, "requested".to_string()),
        None => {
            let applied = crate::mvcc::version::Applied::choose(None, writer);
            (EtcdLayout::for_release(applied.release), applied.describe())
        }
    };
    let structure_damaged = scan.status.is_none() || scan.findings.iter().any(|f| f.severity == Severity::Damage);
    if structure_damaged || opts.dry_run {
        scan.trailer = verdict();
        if scan.trailer == Trailer::Mismatch {
            scan.findings.push(crate::mvcc::scan::trailer_mismatch());
        }
        if structure_damaged || scan.trailer == Trailer::Mismatch {
            return Ok(refused(opts, &scan.findings));
        }
    }

    // 2. Read every bucket.
    let db = Db::open(bytes).map_err(|f| f.error.in_file(&opts.snapshot))?;
    let walked = bolt::walk(&db, WalkOptions { parallel: true, progress: None }, |_| Collect::default());
    let mut tops: Vec<TopBucket<'_>> = Vec::new();
    for b in walked.buckets {
        if b.sink.nested > 0 {
            return Err(Error::malformed(
                format!("bucket {:?} holds nested buckets: this is not an etcd db", String::from_utf8_lossy(b.name)),
                Location::file(&opts.snapshot),
            ));
        }
        tops.push((b.name, b.sink.kvs));
    }

    // 3. Owned values the new db borrows.
    let member_hex: Vec<String> = cluster.members.iter().map(|m| m.hex_id()).collect();
    let member_json: Vec<String> = cluster.members.iter().map(|m| m.json()).collect();
    let ci = be8(n);
    let term = be8(1);
    let mut ensure = vec![buckets::META];
    match layout {
        EtcdLayout::V34 => ensure.extend([buckets::KEY, buckets::LEASE]),
        EtcdLayout::V35 | EtcdLayout::V36 | EtcdLayout::V37 => {
            ensure.extend([buckets::MEMBERS, buckets::MEMBERS_REMOVED, buckets::CLUSTER])
        }
    }
    for name in ensure {
        if let Err(i) = tops.binary_search_by(|(n, _)| (*n).cmp(name)) {
            tops.insert(i, (name, Vec::new()));
        }
    }
    let bucket = |tops: &[TopBucket<'_>], name: &[u8]| -> Vec<(Vec<u8>, Vec<u8>)> {
        tops.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, kvs)| kvs.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect())
            .unwrap_or_default()
    };

    // 3.4: DeleteRange(<key of members / members_removed>) on the user key space.
    let mut extra_keys: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    let mut deleted_names = Vec::new();
    if layout == EtcdLayout::V34 {
        let mut names: Vec<Vec<u8>> = bucket(&tops, buckets::MEMBERS).into_iter().map(|(k, _)| k).collect();
        names.extend(bucket(&tops, buckets::MEMBERS_REMOVED).into_iter().map(|(k, _)| k));
        let keys = tops.iter().find(|(n, _)| *n == buckets::KEY).map(|(_, k)| k.as_slice()).unwrap_or_default();
        let mut live: std::collections::HashMap<&[u8], bool> = names.iter().map(|k| (k.as_slice(), false)).collect();
        for (k, v) in keys {
            let Some(rev) = Revision::parse(k) else { continue };
            if let Some(user) = kv::key_of(v) {
                if let Some(l) = live.get_mut(user) {
                    *l = !rev.tombstone;
                }
            }
        }
        let last = keys.last().and_then(|(k, _)| Revision::main_of(k)).unwrap_or(1).max(1);
        let current = last.max(scan.compact_revision.unwrap_or(-1));
        let mut sub = 0i64;
        for name in &names {
            if live.get(name.as_slice()) == Some(&true) {
                live.insert(name.as_slice(), false); // a key listed twice is deleted once
                let k = Revision { main: current + 1, sub, tombstone: true }.to_key();
                let v = crate::proto::mvccpb::KeyValue { key: name.clone(), ..Default::default() }.encode_to_vec();
                extra_keys.push((k, v));
                deleted_names.push(String::from_utf8_lossy(name).into_owned());
                sub += 1;
            }
        }
    }

    // --bump-revision: one 17-byte key past the latest revision, empty value.
    let key_bucket_last = |tops: &[TopBucket<'_>], extra: &[(Vec<u8>, Vec<u8>)]| {
        extra.last().map(|(k, _)| k.clone()).or_else(|| {
            tops.iter().find(|(n, _)| *n == buckets::KEY).and_then(|(_, kvs)| kvs.last().map(|(k, _)| k.to_vec()))
        })
    };
    let mut scheduled_key = None;
    if opts.bump_revision > 0 {
        // etcdutl's bytesToRev: main and sub, whatever the length.
        let (main, _sub) = key_bucket_last(&tops, &extra_keys)
            .map(|k| {
                let main = Revision::main_of(&k).unwrap_or(0);
                let sub = k.get(9..17).and_then(|s| <[u8; 8]>::try_from(s).ok()).map_or(0, i64::from_be_bytes);
                (main, sub)
            })
            .unwrap_or((0, 0));
        let bump = i64::try_from(opts.bump_revision).ok().and_then(|b| main.checked_add(b));
        let bumped =
            bump.ok_or_else(|| usage(format!("--bump-revision {} overflows the revision", opts.bump_revision)))?;
        let k = Revision { main: bumped, sub: 0, tombstone: false }.to_key();
        extra_keys.push((k.clone(), Vec::new()));
        scheduled_key = Some(k);
    }

    // 4. Assemble the new buckets.
    let mut new: Vec<bolt::write::Bucket<'_>> = Vec::with_capacity(tops.len());
    for (name, kvs) in &tops {
        let mut entries = kvs.clone();
        if *name == buckets::META {
            upsert(&mut entries, b"consistent_index", &ci);
            if layout.v35_or_later() {
                upsert(&mut entries, b"term", &term);
            }
            if let Some(k) = &scheduled_key {
                upsert(&mut entries, b"scheduledCompactRev", k);
            }
        } else if *name == buckets::KEY {
            for (k, v) in &extra_keys {
                upsert(&mut entries, k, v);
            }
        } else if layout.v35_or_later() && *name == buckets::MEMBERS {
            entries = member_hex.iter().zip(&member_json).map(|(k, v)| (k.as_bytes(), v.as_bytes())).collect();
            entries.sort();
        } else if layout.v35_or_later() && *name == buckets::MEMBERS_REMOVED {
            entries.clear();
        }
        new.push(bolt::write::Bucket { name, entries });
    }
    let db_plan =
        bolt::write::plan(&new, bolt::write::WriteOptions::default()).map_err(|e| e.in_file(&opts.snapshot))?;

    // What `snapshot status` will say about the new db.
    let mut crc = 0u32;
    let mut total_key = 0u64;
    let mut revision = 0i64;
    let mut revisions = 0u64;
    for b in &new {
        crc = crc32c::crc32c_append(crc, b.name);
        let (stream, len) = crate::crc::pairs(&b.entries);
        crc = crate::crc::combine(crc, stream, len);
        total_key += b.entries.len() as u64;
        if b.name == buckets::KEY {
            revision = b.entries.last().and_then(|(k, _)| Revision::main_of(k)).unwrap_or(0);
            revisions = b.entries.len() as u64;
        }
    }

    // 5. WAL and .snap.
    let ids: Vec<u64> = cluster.members.iter().map(|m| m.id).collect();
    let mut enc = Encoder::new(0);
    enc.crc_record();
    enc.metadata(&Metadata { node_id: cluster.local, cluster_id: cluster.id });
    enc.snapshot(&walpb::Snapshot { index: 0, term: 0, conf_state: None });
    let presence = layout == EtcdLayout::V37;
    for (i, (m, json)) in cluster.members.iter().zip(&member_json).enumerate() {
        let cc = ConfChange { id: 0, r#type: 0, node_id: m.id, context: Some(json.clone().into_bytes()) };
        let data = if presence { raftpb::presence::conf_change(&cc) } else { cc.encode_to_vec() };
        enc.entry(&Entry { r#type: 1, term: 1, index: i as u64 + 1, data: Some(data) });
    }
    enc.state(&HardState { term: 1, vote: ids.first().copied().unwrap_or(0), commit: n });
    let conf_state = ConfState { voters: ids.clone(), ..Default::default() };
    let wal_cs = layout.v35_or_later().then(|| conf_state.clone());
    let last = walpb::Snapshot { index: n, term: 1, conf_state: wal_cs };
    if presence {
        enc.record(crate::wal::layout::record_type::SNAPSHOT, &raftpb::presence::wal_snapshot(&last));
    } else {
        enc.snapshot(&last);
    }
    let wal_bytes = enc.into_bytes();
    let v2: Vec<V2Member> =
        cluster.members.iter().map(|m| V2Member { id: m.id, peer_urls: m.peer_urls.clone() }).collect();
    let gets_fail = u64::from(matches!(layout, EtcdLayout::V36 | EtcdLayout::V37));
    let raft_snap = raftpb::Snapshot {
        data: Some(v2_store_json_with(&v2, gets_fail).into_bytes()),
        metadata: raftpb::SnapshotMetadata { conf_state, index: n, term: 1 },
    };
    let snap_bytes =
        if presence { encode_snap_bytes(raftpb::presence::snapshot(&raft_snap)) } else { encode_snap(&raft_snap) };

    let wal_name = SegmentName { seq: 0, index: 0, canonical: true }.file_name();
    let snap_name = snap_file_name(1, n);
    let plan = RestorePlan {
        dry_run: opts.dry_run,
        layout,
        layout_source,
        snapshot: opts.snapshot.clone(),
        trailer: scan.trailer,
        data_dir: data_dir.clone(),
        wal_file: wal_dir.join(&wal_name),
        snap_file: snap_dir.join(&snap_name),
        db_file: snap_dir.join("db"),
        wal_dir: wal_dir.clone(),
        snap_dir,
        name: opts.name.clone(),
        consistent_index: n,
        term: 1,
        revision,
        compact_revision: scan.compact_revision,
        scheduled_compact_revision: scheduled_key
            .as_deref()
            .and_then(Revision::main_of)
            .or(scan.scheduled_compact_revision),
        revisions,
        live_keys: scan.live_keys.unwrap_or(0).saturating_sub(deleted_names.len() as u64),
        status_hash: crc,
        total_key,
        db_size: db_plan.file_size(),
        db_pages: db_plan.hwm(),
        deleted_member_named_keys: deleted_names,
        cluster,
    };
    if opts.dry_run {
        return Ok(RestoreReport { plan: Some(plan), findings: Vec::new(), snapshot: opts.snapshot.clone() });
    }
    // 6. Write the db while the trailer is still being verified: into an
    // unnamed file beside the target, which vanishes if we stop here.
    let hidden = match existing_parent(&plan.data_dir) {
        Some(dir) if !opts.skip_hash_check => {
            let out = outfile::create_hidden(&dir, 0o600).map_err(io_err("create an unnamed file in", &dir))?;
            match out {
                Some(out) => Some(emit_db(out, &db_plan, &plan.db_file)?),
                None => None,
            }
        }
        _ => None,
    };
    scan.trailer = verdict();
    {
        if scan.trailer == Trailer::Mismatch {
            scan.findings.push(crate::mvcc::scan::trailer_mismatch());
            return Ok(refused(opts, &scan.findings));
        }
    }
    let plan = RestorePlan { trailer: scan.trailer, ..plan };
    publish(&plan, opts.wal_dir.is_some(), &db_plan, hidden, &wal_name, &wal_bytes, &snap_name, &snap_bytes)?;
    Ok(RestoreReport { plan: Some(plan), findings: Vec::new(), snapshot: opts.snapshot.clone() })
}

/// Write the db through a [`BulkWriter`] and fsync it.
fn emit_db(out: outfile::OutFile, db_plan: &bolt::write::Plan<'_, '_>, shown_as: &Path) -> Result<File> {
    let mut w = BulkWriter::new(out);
    db_plan.emit(&mut w).map_err(|e| e.in_file(shown_as))?;
    w.finish().map_err(io_err("write", shown_as))
}

fn io_err<'p>(action: &'static str, path: &'p Path) -> impl Fn(std::io::Error) -> Error + 'p {
    move |e| Error::io(action, path, &e)
}

fn mkdir_private(path: &Path) -> Result<()> {
    let mut b = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(path).map_err(io_err("create directory", path))
}

pub(crate) fn fsync_dir(path: &Path) -> Result<()> {
    File::open(path).and_then(|f| f.sync_all()).map_err(io_err("fsync directory", path))
}

/// The directory `path` lives in (`.` for a bare name), created if missing.
fn parent_of(path: &Path) -> Result<PathBuf> {
    let parent = parent_dir(path);
    fs::create_dir_all(&parent).map_err(io_err("create directory", &parent))?;
    Ok(parent)
}

/// A temporary directory `<target>.tmp-XXXXXX` beside `target` (mode 0700).
fn temp_beside(target: &Path) -> Result<(tempfile::TempDir, PathBuf)> {
    let parent = parent_of(target)?;
    let base = target
        .file_name()
        .ok_or_else(|| usage(format!("{} has no directory name", target.display())))?
        .to_string_lossy()
        .into_owned();
    let tmp = tempfile::Builder::new()
        .prefix(&format!("{base}.tmp-"))
        .rand_bytes(6)
        .tempdir_in(&parent)
        .map_err(io_err("create temporary directory in", &parent))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o700)).map_err(io_err("chmod", tmp.path()))?;
    }
    Ok((tmp, parent))
}

/// Rename the finished temporary directory onto `target` (absent or an
/// empty directory), then fsync the parent.
fn rename_into_place(tmp: tempfile::TempDir, target: &Path, parent: &Path) -> Result<()> {
    let from = tmp.keep();
    fs::rename(&from, target).map_err(|e| {
        let _ = fs::remove_dir_all(&from);
        Error::io("rename into place", target, &e)
    })?;
    fsync_dir(parent)
}

/// Put the db at `path`: link the already written unnamed file, or write it.
fn place_db(path: &Path, plan: &bolt::write::Plan<'_, '_>, hidden: Option<File>) -> Result<()> {
    if let Some(f) = hidden {
        // Fails without /proc: then write it again under its name.
        if outfile::link_hidden(&f, path).is_ok() {
            return Ok(());
        }
    }
    let out = outfile::create_new(path, 0o600).map_err(io_err("create", path))?;
    emit_db(out, plan, path).map(drop)
}

#[allow(clippy::too_many_arguments)]
fn publish(
    plan: &RestorePlan,
    separate_wal: bool,
    db_plan: &bolt::write::Plan<'_, '_>,
    hidden_db: Option<File>,
    wal_name: &str,
    wal_bytes: &[u8],
    snap_name: &str,
    snap_bytes: &[u8],
) -> Result<()> {
    let (tmp, parent) = temp_beside(&plan.data_dir)?;
    let root = tmp.path().to_path_buf();
    let member = root.join("member");
    let snap = member.join("snap");
    mkdir_private(&member)?;
    mkdir_private(&snap)?;
    place_db(&snap.join("db"), db_plan, hidden_db)?;
    // etcd writes the WAL (without its last record), then the .snap, then
    // the last record; all of it is published at once here.
    write_snap_file(&snap.join(snap_name), snap_bytes)?;
    fsync_dir(&snap)?;
    if separate_wal {
        let (wtmp, wparent) = temp_beside(&plan.wal_dir)?;
        write_segment(&wtmp.path().join(wal_name), wal_bytes)?;
        fsync_dir(wtmp.path())?;
        if fs::symlink_metadata(&plan.wal_dir).is_ok() {
            return Err(usage(format!("wal-dir {:?} exists", plan.wal_dir.display().to_string())));
        }
        rename_into_place(wtmp, &plan.wal_dir, &wparent)?;
    } else {
        let wal = member.join("wal");
        mkdir_private(&wal)?;
        write_segment(&wal.join(wal_name), wal_bytes)?;
        fsync_dir(&wal)?;
    }
    fsync_dir(&member)?;
    fsync_dir(&root)?;
    if !absent_or_empty(&plan.data_dir)? {
        return Err(usage(format!(
            "data-dir {:?} not empty or could not be read",
            plan.data_dir.display().to_string()
        )));
    }
    rename_into_place(tmp, &plan.data_dir, &parent)
}

/// For callers that want an `Error` from a refusal.
pub fn refusal_error(report: &RestoreReport) -> Option<Error> {
    report.plan.is_none().then(|| {
        Error::new(
            ErrorKind::Malformed(format!(
                "snapshot is damaged ({} findings); run `etcd-forensics check {}`",
                report.findings.len(),
                report.snapshot.display()
            )),
            Location::file(&report.snapshot),
        )
    })
}

#[cfg(test)]
mod tests;
