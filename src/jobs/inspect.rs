//! Read-only questions about what a db holds: `get` (with time travel),
//! `history`, `hashkv`, `buckets`, `leases`, `members`, `auth`, `alarms`,
//! `meta`. Each accepts a db file, a `snapshot save` file or a data dir
//! (whose `member/snap/db` is read).
//!
//! Answers borrow from the mapped file ([`Input`] owns the map), so a
//! `get` of millions of keys lists them without copying their values; the
//! printers decode and write one key at a time.
//!
//! The store's revisions follow etcd's boot (`store.restore`, FORMATS.md
//! §2.4): the current revision is the main revision of the last `key`
//! bucket key (1 if empty), at least the finished compaction; a compaction
//! that was scheduled but not finished is finished by etcd at boot, so it
//! counts as done here (see [`Store::pending_compaction`]).
//!
//! Damage does not stop an answer: entries that cannot be read are left
//! out and listed in the answer's `problems` (the CLI prints them and exits
//! 1, since etcd itself would refuse such a file).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use serde::Serialize;

use crate::bolt::{self, Db, KvLoc, Sink, WalkOptions, lookup};
use crate::datadir::{self, Paths};
use crate::error::{Error, Result};
use crate::mvcc::buckets;
use crate::mvcc::hashkv::{self, HashRules, KvHash, RevError};
use crate::mvcc::index::{DigestSink, KeyQuery, KeyRange, KeySink, RevDigest, Stored};
use crate::mvcc::replay;
use crate::mvcc::schema::{self, AlarmInfo, AuthInfo, LeaseInfo, Membership, MetaInfo};
use crate::mvcc::version::{Applied, Release, Writer};
use crate::report::Severity;
use crate::source::Source;
use crate::wal::WalDir;

/// An input file or data dir, mapped read-only.
pub struct Input {
    /// What the user named.
    pub path: PathBuf,
    /// The db or snapshot file read.
    pub db_path: PathBuf,
    /// The data dir's layout, when given a directory.
    pub data_dir: Option<Paths>,
    src: Source,
}

/// Open a db file, a snapshot file, or a data dir (its `member/snap/db`).
pub fn open(path: &Path) -> Result<Input> {
    let (db_path, data_dir) = if path.is_dir() {
        let paths = datadir::locate(path, None)?;
        if !paths.db.is_file() {
            return Err(Error::usage(format!("{}: no db file (expected {})", path.display(), paths.db.display())));
        }
        (paths.db.clone(), Some(paths))
    } else {
        (path.to_path_buf(), None)
    };
    let src = Source::open(&db_path)?;
    Ok(Input { path: path.to_path_buf(), db_path, data_dir, src })
}

/// A data dir's store once etcd has booted: the db plus the `key`-bucket
/// entries that the committed WAL entries past its consistent index write
/// (etcd applies them before it serves; see [`datadir::Prediction`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtBoot {
    pub appended: Vec<hashkv::Appended>,
    /// The store's revision and compact revision after them.
    pub current: i64,
    pub compact: i64,
    /// Committed entries past the consistent index, and the db's revision.
    pub entries: u64,
    pub db_revision: i64,
    /// The revision once every WAL entry is committed and applied too
    /// (what a single-member cluster reaches; a new leader may drop them).
    pub after_commit: i64,
}

/// What [`at_boot`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Boot {
    /// A db or snapshot file: there is no WAL to apply.
    NoWal,
    /// The db holds everything the WAL has committed.
    InStep,
    /// Committed entries past the db's consistent index.
    Replay(AtBoot),
    /// Entries to apply that cannot be replayed here, and why.
    NotReplayed(String),
}

/// Replay a data dir's committed WAL entries past the db's consistent index
/// on top of `store` (opened on the same input), as etcd does at boot.
pub fn at_boot(input: &Input, store: &Store<'_>, etcd_version: Option<Release>) -> Boot {
    let Some(paths) = &input.data_dir else { return Boot::NoWal };
    let opts = datadir::Options { wal_dir: None, etcd_version, keep_boot_changes: true };
    let d = match datadir::diagnose(&input.path, &opts) {
        Ok(d) => d,
        Err(e) => return Boot::NotReplayed(format!("the data dir could not be read: {e}")),
    };
    if let Some(f) = &d.db_swapped_in {
        return Boot::NotReplayed(format!(
            "etcd renames {} over the db at boot (a snapshot received but not applied); ask about that file",
            f.display()
        ));
    }
    let (Some(p), Some(db)) = (&d.prediction, &d.db) else {
        return Boot::NotReplayed(format!(
            "`etcd-forensics check {}` finds that etcd would not start this dir ({:?})",
            paths.data_dir.display(),
            d.verdict
        ));
    };
    if p.entries_to_apply_at_boot == 0 || p.boot_changes.is_empty() && p.compact_revision_at_boot == store.compact {
        return Boot::InStep;
    }
    if db.revision != store.current {
        return Boot::NotReplayed(format!(
            "the data dir's check sees revision {} where the db read here has {}",
            db.revision, store.current
        ));
    }
    if store.pending_compaction && p.compact_revision_at_boot != store.compact {
        return Boot::NotReplayed("a compaction is pending in the db and another one is in the WAL".to_string());
    }
    let appended = p
        .boot_changes
        .iter()
        .map(|c| hashkv::Appended { rev: c.revision, key: c.key.clone(), value: c.value() })
        .collect();
    Boot::Replay(AtBoot {
        appended,
        current: p.revision_at_boot,
        compact: p.compact_revision_at_boot,
        entries: p.entries_to_apply_at_boot,
        db_revision: store.current,
        after_commit: p.revision_after_commit,
    })
}

/// What a data dir's WAL says about who wrote it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WalIds {
    pub member_id: u64,
    pub cluster_id: u64,
    /// Term of the last HardState.
    pub term: u64,
}

impl Input {
    /// The mapped bytes of the db or snapshot file.
    pub fn bytes(&self) -> &[u8] {
        self.src.bytes()
    }

    /// Open the bbolt file and read what every question needs first.
    pub fn store(&self, rules: HashRules) -> Result<Store<'_>> {
        Store::open(self.src.bytes(), &self.db_path, rules)
    }

    /// [`Input::store`] with the rules of `requested`, or by default of the
    /// release that wrote the db (see [`crate::mvcc::version`]).
    pub fn store_for(&self, requested: Option<Release>) -> Result<Store<'_>> {
        Store::open_for(self.src.bytes(), &self.db_path, requested)
    }

    /// Member id, cluster id and raft term from the data dir's WAL (`None`
    /// for a file, or when the WAL cannot be read: these only fill a
    /// response header).
    pub fn wal_ids(&self) -> Option<WalIds> {
        let paths = self.data_dir.as_ref()?;
        let summary = WalDir::open(&paths.wal_dir).and_then(|w| w.scan()).ok()?;
        let meta = summary.metadata?;
        Some(WalIds {
            member_id: meta.node_id,
            cluster_id: meta.cluster_id,
            term: summary.hard_state.map_or(0, |h| h.term),
        })
    }

    /// The header etcd puts on responses, filled from what the files know:
    /// ids and term from the WAL of a data dir (else 0, or the db's
    /// `meta/term`), `revision` = the store's current revision.
    pub fn header(&self, store: &Store<'_>) -> ResponseHeader {
        let ids = self.wal_ids();
        ResponseHeader {
            cluster_id: ids.map_or(0, |i| i.cluster_id),
            member_id: ids.map_or(0, |i| i.member_id),
            revision: store.current,
            raft_term: ids.map(|i| i.term).filter(|&t| t > 0).or(store.meta.term).unwrap_or(0),
        }
    }
}

/// `etcdserverpb.ResponseHeader`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ResponseHeader {
    pub cluster_id: u64,
    pub member_id: u64,
    pub revision: i64,
    pub raft_term: u64,
}

/// Where [`Store`]'s rules come from.
enum RulesFrom {
    /// Given as they are.
    Fixed(HashRules),
    /// `--etcd-version`, else the db's writer's line.
    Writer(Option<Release>),
}

/// An opened db with its revisions.
pub struct Store<'a> {
    db: Db<'a>,
    path: PathBuf,
    pub rules: HashRules,
    /// Which release's rules `rules` are and why (`None` when opened with
    /// explicit [`HashRules`]).
    pub applied: Option<Applied>,
    pub meta: MetaInfo,
    /// Main revision of the last `key` bucket key.
    pub last_main: Option<i64>,
    /// The store's current revision at boot.
    pub current: i64,
    /// The compact revision etcd works with (-1: never compacted).
    pub compact: i64,
    /// `scheduledCompactRev` is above `finishedCompactRev`: etcd finishes
    /// that compaction at boot; `compact` is already the scheduled one.
    pub pending_compaction: bool,
    /// Bytes of pages walked so far, for a progress display.
    pub progress: Option<Arc<AtomicU64>>,
    /// Problems found while opening (in the meta bucket).
    pub problems: Vec<String>,
}

/// A `get` request.
#[derive(Debug, Clone)]
pub struct GetOptions {
    pub range: KeyRange,
    /// 0: the current revision.
    pub rev: i64,
    /// 0: no limit.
    pub limit: u64,
}

/// A `get` response: the keys in the range at the revision, in key order.
#[derive(Debug)]
pub struct GetAnswer<'a> {
    pub header: ResponseHeader,
    /// The revision read at.
    pub rev: i64,
    /// At most `limit` keys.
    pub kvs: Vec<Stored<'a>>,
    /// Keys in the range (before the limit).
    pub count: u64,
    pub more: bool,
    pub problems: Vec<String>,
}

/// Every revision of one key still in the file, oldest first.
#[derive(Debug)]
pub struct HistoryAnswer<'a> {
    pub key: Vec<u8>,
    pub events: Vec<Stored<'a>>,
    /// Puts that the stored revisions show happened but that are not
    /// stored any more (a compaction removes them).
    pub gaps: Vec<Gap>,
    pub current: i64,
    pub compact: i64,
    pub problems: Vec<String>,
}

/// Missing puts before `events[index]`: its version says `missing_puts`
/// earlier puts of its generation (created at `create_revision`) happened
/// that are not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Gap {
    #[serde(skip)]
    pub index: usize,
    /// The first stored revision after the gap.
    pub before_revision: i64,
    pub create_revision: i64,
    pub missing_puts: i64,
    /// The missing revisions are all at or below the compact revision.
    pub compacted: bool,
}

/// Where a key's stored puts skip versions: each put's version should be
/// one more than the previous put of its generation (or 1 for a new one).
fn gaps(events: &[Stored<'_>], compact: i64) -> Vec<Gap> {
    let mut out = Vec::new();
    let mut prev: Option<(i64, i64)> = None; // (create_revision, version) of the previous put
    for (i, s) in events.iter().enumerate() {
        if s.rev.tombstone {
            prev = None;
            continue;
        }
        let kv = s.kv();
        let before = match prev {
            Some((c, v)) if c == kv.create_revision => v,
            _ => 0,
        };
        let missing = kv.version - 1 - before;
        if missing > 0 {
            out.push(Gap {
                index: i,
                before_revision: s.rev.main,
                create_revision: kv.create_revision,
                missing_puts: missing,
                // A compaction keeps each generation's newest revision <= compact,
                // so only a gap that ends at or below it is its doing.
                compacted: s.rev.main <= compact,
            });
        }
        prev = Some((kv.create_revision, kv.version));
    }
    out
}

/// A HashKV answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HashAnswer {
    #[serde(flatten)]
    pub hash: KvHash,
    /// etcd's current revision (the response header's revision).
    pub current_revision: i64,
    /// A pending compaction was taken as finished (as etcd does at boot).
    pub pending_compaction: bool,
    /// Whose rules were applied, and why (see [`crate::mvcc::version`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
    #[serde(skip)]
    pub problems: Vec<String>,
}

/// One top-level bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketInfo {
    pub name: String,
    pub entries: u64,
    /// Bytes of keys and values.
    pub bytes: u64,
    pub key_bytes: u64,
    pub value_bytes: u64,
    /// Root page id (0 for an inline bucket).
    pub root_page: u64,
    pub inline: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BucketsAnswer {
    pub buckets: Vec<BucketInfo>,
    #[serde(skip)]
    pub problems: Vec<String>,
}

/// A lease with the keys attached to it at the current revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseAnswerItem {
    #[serde(flatten)]
    pub lease: LeaseInfo,
    pub keys: Vec<Vec<u8>>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LeasesAnswer {
    pub leases: Vec<LeaseAnswerItem>,
    /// Lease ids that live keys carry but the `lease` bucket lacks (etcd
    /// logs "failed to attach a lease" at boot and the keys never expire).
    pub missing: Vec<(i64, Vec<Vec<u8>>)>,
    #[serde(skip)]
    pub problems: Vec<String>,
}

/// The `meta` bucket and the revisions derived from it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaAnswer {
    #[serde(flatten)]
    pub meta: MetaInfo,
    pub current_revision: i64,
    pub compact_revision: i64,
    pub pending_compaction: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub downgrade: Option<serde_json::Value>,
    /// "written by etcd 3.6" and the evidence, with the rules applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written_by: Option<Writer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules: Option<String>,
}

/// Counts one bucket's entries and bytes.
#[derive(Debug, Default)]
struct Stats {
    entries: u64,
    key_bytes: u64,
    value_bytes: u64,
}

impl<'a> Sink<'a> for Stats {
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], _: bool, _: KvLoc) {
        self.entries += 1;
        self.key_bytes += key.len() as u64;
        self.value_bytes += value.len() as u64;
    }
    fn fresh(&self) -> Self {
        Stats::default()
    }
    fn merge(&mut self, later: Self) {
        self.entries += later.entries;
        self.key_bytes += later.key_bytes;
        self.value_bytes += later.value_bytes;
    }
}

impl<'a> Store<'a> {
    /// Open a db held in memory; `path` names it in messages.
    pub fn open(data: &'a [u8], path: &Path, rules: HashRules) -> Result<Store<'a>> {
        Self::open_inner(data, path, RulesFrom::Fixed(rules))
    }

    /// Open with the rules of `requested`, or of the release that wrote the
    /// db: `meta/storageVersion`, `cluster/clusterVersion`, `meta/term`.
    pub fn open_for(data: &'a [u8], path: &Path, requested: Option<Release>) -> Result<Store<'a>> {
        Self::open_inner(data, path, RulesFrom::Writer(requested))
    }

    fn open_inner(data: &'a [u8], path: &Path, rules: RulesFrom) -> Result<Store<'a>> {
        let db = Db::open(data).map_err(|f| f.error.in_file(path))?;
        let meta_entries = lookup::bucket_entries(&db, buckets::META).map_err(|e| e.in_file(path))?;
        let meta = schema::meta_info(meta_entries.as_deref().unwrap_or_default());
        let (rules, applied) = match rules {
            RulesFrom::Fixed(r) => (r, None),
            RulesFrom::Writer(requested) => {
                let cluster = lookup::bucket_entries(&db, buckets::CLUSTER).map_err(|e| e.in_file(path))?;
                let cv = cluster
                    .as_deref()
                    .unwrap_or_default()
                    .iter()
                    .find(|(k, _)| *k == b"clusterVersion")
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
                let writer = Writer::detect(meta.storage_version.as_deref(), cv.as_deref(), meta.term.is_some());
                let applied = Applied::choose(requested, writer);
                (applied.release.hash_rules(), Some(applied))
            }
        };
        let last = match lookup::bucket(&db, buckets::KEY).map_err(|e| e.in_file(path))? {
            Some(b) => lookup::last_entry(&db, b).map_err(|e| e.in_file(path))?,
            None => None,
        };
        let last_main = last.and_then(|(k, _)| crate::mvcc::Revision::main_of(k));
        let finished = meta.finished_compact_revision.unwrap_or(-1);
        let mut current = replay::current_revision(last_main.unwrap_or(0), meta.finished_compact_revision);
        let scheduled = meta.scheduled_compact_revision;
        if rules.current_includes_scheduled {
            current = current.max(scheduled.unwrap_or(-1));
        }
        // store.restore: resume a scheduled compaction above the finished
        // one (updateCompactRev refuses one above the current revision).
        let pending_compaction = scheduled.is_some_and(|s| s > finished && s <= current);
        let compact = if pending_compaction { scheduled.unwrap_or(finished) } else { finished };
        let problems = meta.problems.iter().map(|p| format!("{}: {p}", path.display())).collect();
        Ok(Store {
            db,
            path: path.to_path_buf(),
            rules,
            applied,
            meta,
            last_main,
            current,
            compact,
            pending_compaction,
            progress: None,
            problems,
        })
    }

    /// [`Applied::describe`] of the rules this store was opened with.
    pub fn rules_text(&self) -> Option<String> {
        self.applied.as_ref().map(Applied::describe)
    }

    fn walk_opts(&self) -> WalkOptions {
        WalkOptions { parallel: true, progress: self.progress.clone() }
    }

    /// One pass over the `key` bucket answering `q`, with the damage met
    /// on the way (in the tree of the `key` bucket or above it, and
    /// entries etcd could not load).
    fn scan_keys<'q>(&self, q: &'q KeyQuery) -> (KeySink<'a, 'q>, Vec<String>) {
        let walk = bolt::walk(&self.db, self.walk_opts(), |name| {
            KeySink::new(if name == Some(buckets::KEY) { Some(q) } else { None })
        });
        let mut problems = self.problems.clone();
        for f in &walk.findings {
            let relevant = f.bucket.first().is_none_or(|b| b.as_slice() == buckets::KEY);
            if relevant && f.finding.severity == Severity::Damage {
                problems.push(format!("{}: {}", f.finding.location.clone().with_file(&self.path), f.finding.what));
            }
        }
        let sink = walk.buckets.into_iter().find(|b| b.name == buckets::KEY).map(|b| b.sink);
        let sink = sink.unwrap_or_else(|| KeySink::new(Some(q)));
        for b in &sink.bad {
            problems.push(format!("{}: {}", b.location.clone().with_file(&self.path), b.what));
        }
        if sink.bad_count > sink.bad.len() as u64 {
            problems
                .push(format!("... and {} more unreadable key bucket entries", sink.bad_count - sink.bad.len() as u64));
        }
        (sink, problems)
    }

    /// Digests of every main revision in `[lo, hi]` of the `key` bucket,
    /// in order (for comparing two stores), with the damage met.
    pub fn digests(&self, lo: i64, hi: i64) -> (Vec<RevDigest>, Vec<String>) {
        let walk = bolt::walk(&self.db, self.walk_opts(), |name| {
            DigestSink::new(if name == Some(buckets::KEY) { Some((lo, hi)) } else { None })
        });
        let mut problems = self.problems.clone();
        for f in &walk.findings {
            let relevant = f.bucket.first().is_none_or(|b| b.as_slice() == buckets::KEY);
            if relevant && f.finding.severity == Severity::Damage {
                problems.push(format!("{}: {}", f.finding.location.clone().with_file(&self.path), f.finding.what));
            }
        }
        let revs = walk.buckets.into_iter().find(|b| b.name == buckets::KEY).map(|b| b.sink.revs).unwrap_or_default();
        (revs, problems)
    }

    /// The db file this store reads.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn small_bucket(&self, name: &[u8]) -> Result<Vec<lookup::Entry<'a>>> {
        Ok(lookup::bucket_entries(&self.db, name).map_err(|e| e.in_file(&self.path))?.unwrap_or_default())
    }

    /// `etcdctl get` at a revision (`opts.rev` 0: current).
    pub fn get(&self, header: ResponseHeader, opts: &GetOptions) -> std::result::Result<GetAnswer<'a>, RevError> {
        let at = hashkv::range_revision(opts.rev, self.compact, self.current)?;
        let q = KeyQuery { latest: Some(opts.range.clone()), at, ..Default::default() };
        let (sink, problems) = self.scan_keys(&q);
        let mut kvs = sink.live_sorted();
        let count = kvs.len() as u64;
        let limit = usize::try_from(opts.limit).unwrap_or(usize::MAX);
        let more = opts.limit > 0 && kvs.len() > limit;
        if opts.limit > 0 {
            kvs.truncate(limit);
        }
        Ok(GetAnswer { header, rev: at, kvs, count, more, problems })
    }

    /// Every revision of `key` still stored, oldest first.
    pub fn history(&self, key: &[u8]) -> HistoryAnswer<'a> {
        let q = KeyQuery { history: Some(KeyRange::single(key)), at: i64::MAX, ..Default::default() };
        let (sink, problems) = self.scan_keys(&q);
        HistoryAnswer {
            key: key.to_vec(),
            gaps: gaps(&sink.history, self.compact),
            events: sink.history,
            current: self.current,
            compact: self.compact,
            problems,
        }
    }

    /// HashKV at `rev` (0: current), by `self.rules`.
    pub fn hashkv(&self, rev: i64) -> std::result::Result<HashAnswer, RevError> {
        self.hashkv_of(rev, &[], self.compact, self.current)
    }

    /// [`Self::hashkv`] of the store as etcd has it once it has booted: the
    /// db followed by what `boot`'s committed WAL entries write.
    pub fn hashkv_at_boot(&self, rev: i64, boot: &AtBoot) -> std::result::Result<HashAnswer, RevError> {
        self.hashkv_of(rev, &boot.appended, boot.compact, boot.current)
    }

    /// HashKV of the db followed by `appended`, whose store has these
    /// compact and current revisions.
    fn hashkv_of(
        &self,
        rev: i64,
        appended: &[hashkv::Appended],
        compact: i64,
        current: i64,
    ) -> std::result::Result<HashAnswer, RevError> {
        let at = hashkv::hash_revision(rev, compact, current, self.rules)?;
        let q =
            KeyQuery { latest: Some(KeyRange::everything()), at, hash_compact: Some(compact), ..Default::default() };
        let (sink, problems) = self.scan_keys(&q);
        let hash = hashkv::hash_with(&sink, appended, at, compact, self.rules, self.pending_compaction);
        Ok(HashAnswer {
            hash,
            current_revision: current,
            pending_compaction: self.pending_compaction,
            rules: self.rules_text(),
            problems,
        })
    }

    /// Every top-level bucket with its entry and byte counts.
    pub fn buckets(&self) -> BucketsAnswer {
        let walk = bolt::walk(&self.db, self.walk_opts(), |_| Stats::default());
        let problems = walk
            .findings
            .iter()
            .filter(|f| f.finding.severity == Severity::Damage)
            .map(|f| format!("{}: {}", f.finding.location.clone().with_file(&self.path), f.finding.what))
            .collect();
        let buckets = walk
            .buckets
            .iter()
            .map(|b| BucketInfo {
                name: schema::show_bytes(b.name),
                entries: b.sink.entries,
                bytes: b.sink.key_bytes + b.sink.value_bytes,
                key_bytes: b.sink.key_bytes,
                value_bytes: b.sink.value_bytes,
                root_page: b.root,
                inline: b.root == 0,
            })
            .collect();
        BucketsAnswer { buckets, problems }
    }

    /// The `lease` bucket, with the keys attached to each lease at the
    /// current revision.
    pub fn leases(&self) -> Result<LeasesAnswer> {
        let (leases, lease_problems) = schema::leases(&self.small_bucket(buckets::LEASE)?);
        let q = KeyQuery { latest: Some(KeyRange::everything()), at: i64::MAX, ..Default::default() };
        let (sink, mut problems) = self.scan_keys(&q);
        problems.extend(lease_problems.into_iter().map(|p| format!("{}: {p}", self.path.display())));
        let mut attached: std::collections::BTreeMap<i64, Vec<Vec<u8>>> = std::collections::BTreeMap::new();
        for s in sink.live_sorted() {
            let kv = s.kv();
            if kv.lease != 0 {
                attached.entry(kv.lease).or_default().push(kv.key.to_vec());
            }
        }
        let mut items = Vec::new();
        for l in leases {
            let keys = attached.remove(&l.id).unwrap_or_default();
            items.push(LeaseAnswerItem { lease: l, keys });
        }
        Ok(LeasesAnswer { leases: items, missing: attached.into_iter().collect(), problems })
    }

    /// `members`, `members_removed` and `cluster`.
    pub fn members(&self) -> Result<Membership> {
        Ok(schema::membership(
            &self.small_bucket(buckets::MEMBERS)?,
            &self.small_bucket(buckets::MEMBERS_REMOVED)?,
            &self.small_bucket(buckets::CLUSTER)?,
        ))
    }

    /// `auth`, `authUsers` (never the password hashes) and `authRoles`.
    pub fn auth(&self) -> Result<AuthInfo> {
        Ok(schema::auth(
            &self.small_bucket(buckets::AUTH)?,
            &self.small_bucket(buckets::AUTH_USERS)?,
            &self.small_bucket(buckets::AUTH_ROLES)?,
        ))
    }

    /// The `alarm` bucket.
    pub fn alarms(&self) -> Result<(Vec<AlarmInfo>, Vec<String>)> {
        Ok(schema::alarms(&self.small_bucket(buckets::ALARM)?))
    }

    /// The `meta` bucket, the revisions, and the cluster version.
    pub fn meta(&self) -> Result<MetaAnswer> {
        let cluster = schema::membership(&[], &[], &self.small_bucket(buckets::CLUSTER)?);
        Ok(MetaAnswer {
            meta: self.meta.clone(),
            current_revision: self.current,
            compact_revision: self.compact,
            pending_compaction: self.pending_compaction,
            cluster_version: cluster.cluster_version,
            downgrade: cluster.downgrade,
            written_by: self.applied.as_ref().map(|a| a.writer.clone()),
            rules: self.rules_text(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bolt::layout::{BUCKET_LEAF_FLAG, NO_FREELIST};
    use crate::bolt::meta::tests::meta_page;
    use crate::bolt::page::tests::leaf_page;
    use crate::mvcc::index::tests::History;
    use crate::mvcc::revision::Revision;

    const PS: usize = 4096;

    type Kvs = Vec<(Vec<u8>, Vec<u8>)>;

    fn inline_bucket(kvs: &[(&[u8], &[u8])]) -> Vec<u8> {
        let size = 16 + 16 * kvs.len() + kvs.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
        let entries: Vec<(&[u8], &[u8], u32)> = kvs.iter().map(|(k, v)| (*k, *v, 0)).collect();
        let mut b = vec![0u8; 16];
        b.extend(leaf_page(0, size, &entries));
        b
    }

    /// A bbolt file: root leaf (page 2) with the `key` bucket (page 3)
    /// and an inline `meta` bucket; `key: None` leaves the `key` bucket out.
    fn db(key: Option<&Kvs>, meta: &[(&[u8], Vec<u8>)]) -> Vec<u8> {
        let meta_kvs: Vec<(&[u8], &[u8])> = meta.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        let meta_value = inline_bucket(&meta_kvs);
        let mut key_header = 3u64.to_le_bytes().to_vec();
        key_header.extend(0u64.to_le_bytes());
        let mut root: Vec<(&[u8], &[u8], u32)> = Vec::new();
        if key.is_some() {
            root.push((b"key", &key_header, BUCKET_LEAF_FLAG));
        }
        root.push((b"meta", &meta_value, BUCKET_LEAF_FLAG));
        let key_entries: Vec<(&[u8], &[u8], u32)> =
            key.map(|k| k.iter().map(|(a, b)| (a.as_slice(), b.as_slice(), 0)).collect()).unwrap_or_default();
        let mut f = meta_page(0, PS as u32, 2, NO_FREELIST, 4, 2);
        f.extend(meta_page(1, PS as u32, 2, NO_FREELIST, 4, 3));
        f.extend(leaf_page(2, PS, &root));
        f.extend(leaf_page(3, PS, &key_entries));
        f
    }

    fn rev(main: i64) -> Vec<u8> {
        Revision { main, sub: 0, tombstone: false }.to_key()
    }

    fn open(data: &[u8], rules: HashRules) -> Store<'_> {
        Store::open(data, Path::new("test.db"), rules).unwrap()
    }

    fn keys(a: &GetAnswer<'_>) -> Vec<String> {
        a.kvs.iter().map(|s| String::from_utf8_lossy(s.key).into_owned()).collect()
    }

    fn get<'a>(s: &Store<'a>, rev: i64) -> std::result::Result<GetAnswer<'a>, RevError> {
        s.get(ResponseHeader::default(), &GetOptions { range: KeyRange::prefix(b""), rev, limit: 0 })
    }

    #[test]
    fn revisions_of_a_compacted_store() {
        let mut h = History::default();
        h.put(4, 0, "a", "2").put(6, 0, "b", "1").del(7, 0, "a");
        let f = db(Some(&h.entries), &[(b"finishedCompactRev", rev(5)), (b"scheduledCompactRev", rev(5))]);
        let s = open(&f, HashRules::default());
        assert_eq!((s.current, s.compact, s.pending_compaction), (7, 5, false));
        assert_eq!(get(&s, 4).unwrap_err(), RevError::Compacted { rev: 4, compact: 5 });
        assert_eq!(keys(&get(&s, 5).unwrap()), ["a"]);
        assert_eq!(keys(&get(&s, 6).unwrap()), ["a", "b"]);
        assert_eq!(keys(&get(&s, 0).unwrap()), ["b"]);
        assert_eq!(get(&s, 8).unwrap_err(), RevError::Future { rev: 8, current: 7 });
        assert!(get(&s, 7).unwrap().problems.is_empty());
        assert_eq!(s.hashkv(5).unwrap_err(), RevError::Compacted { rev: 5, compact: 5 });
        let h6 = s.hashkv(6).unwrap();
        assert_eq!(h6.hash.hash_revision, 6);
        let history = s.history(b"a");
        assert_eq!(history.events.len(), 2);
        assert_eq!(history.gaps.len(), 0, "version 1 at 4: nothing missing");
    }

    #[test]
    fn a_pending_compaction_counts_as_done() {
        let mut h = History::default();
        h.put(2, 0, "a", "1").put(3, 0, "a", "2").put(4, 0, "b", "1").del(5, 0, "b").put(6, 0, "c", "1");
        let f = db(Some(&h.entries), &[(b"finishedCompactRev", rev(2)), (b"scheduledCompactRev", rev(5))]);
        let s = open(&f, HashRules::default());
        assert_eq!((s.current, s.compact, s.pending_compaction), (6, 5, true));
        assert!(matches!(get(&s, 4), Err(RevError::Compacted { .. })));
        // The hash etcd reports once it finished the compaction at boot.
        let after: Kvs =
            h.entries.iter().filter(|(k, _)| matches!(Revision::parse(k).unwrap().main, 3 | 6)).cloned().collect();
        let g = db(Some(&after), &[(b"finishedCompactRev", rev(5)), (b"scheduledCompactRev", rev(5))]);
        let done = open(&g, HashRules::default());
        assert_eq!(s.hashkv(6).unwrap().hash, done.hashkv(6).unwrap().hash);
        // A scheduled compaction above the current revision: 3.5.1 cannot
        // resume it (ErrFutureRev); 3.5.14+ raise the current revision to it.
        let f = db(Some(&h.entries), &[(b"scheduledCompactRev", rev(9))]);
        let old = open(&f, HashRules::default());
        assert_eq!((old.current, old.compact, old.pending_compaction), (6, -1, false));
        let new = open(&f, HashRules::parse("3.5.14").unwrap());
        assert_eq!((new.current, new.compact, new.pending_compaction), (9, 9, true));
    }

    #[test]
    fn empty_and_missing_key_buckets_are_revision_1() {
        for f in [db(Some(&Vec::new()), &[]), db(None, &[])] {
            let s = open(&f, HashRules::default());
            assert_eq!((s.current, s.compact, s.last_main), (1, -1, None));
            let a = get(&s, 0).unwrap();
            assert!(a.kvs.is_empty() && a.count == 0);
            assert_eq!(s.hashkv(0).unwrap().hash.hash, crc32c::crc32c(b"key"));
        }
    }

    #[test]
    fn a_bump_revision_marker_moves_the_revision_and_is_hashed() {
        let mut h = History::default();
        h.put(2, 0, "a", "1");
        let mut entries = h.entries.clone();
        entries.push((rev(1_000_002), Vec::new()));
        let f = db(Some(&entries), &[]);
        let s = open(&f, HashRules::default());
        assert_eq!(s.current, 1_000_002);
        assert_eq!(keys(&get(&s, 0).unwrap()), ["a"], "etcd indexes it under the empty key, outside any range");
        let mut crc = crc32c::crc32c(b"key");
        for (k, v) in &entries {
            crc = crc32c::crc32c_append(crc, k);
            crc = crc32c::crc32c_append(crc, v);
        }
        assert_eq!(s.hashkv(0).unwrap().hash.hash, crc);
    }

    #[test]
    fn leases_and_small_buckets() {
        use prost::Message;
        let mut h = History::default();
        h.put(2, 0, "a", "1");
        let mut entries = h.entries.clone();
        let kv = crate::proto::mvccpb::KeyValue {
            key: b"l".to_vec(),
            create_revision: 3,
            mod_revision: 3,
            version: 1,
            value: b"v".to_vec(),
            lease: 0x55,
        };
        entries.push((rev(3), kv.encode_to_vec()));
        let f = db(Some(&entries), &[(b"consistent_index", 9u64.to_be_bytes().to_vec())]);
        let s = open(&f, HashRules::default());
        let l = s.leases().unwrap();
        assert!(l.leases.is_empty());
        assert_eq!(l.missing, vec![(0x55, vec![b"l".to_vec()])], "a lease the lease bucket lacks");
        let m = s.meta().unwrap();
        assert_eq!((m.meta.consistent_index, m.current_revision, m.compact_revision), (Some(9), 3, -1));
        assert!(s.members().unwrap().members.is_empty());
        assert!(!s.auth().unwrap().enabled);
        let b = s.buckets();
        let names: Vec<&str> = b.buckets.iter().map(|x| x.name.as_str()).collect();
        assert_eq!(names, ["key", "meta"]);
        assert_eq!(b.buckets[0].entries, 2);
        assert!(b.problems.is_empty());
    }
}
