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
use crate::mvcc::index::{KeyQuery, KeyRange, KeySink, Stored};
use crate::mvcc::replay;
use crate::mvcc::schema::{self, AlarmInfo, AuthInfo, LeaseInfo, Membership, MetaInfo};
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
    /// Open the bbolt file and read what every question needs first.
    pub fn store(&self, rules: HashRules) -> Result<Store<'_>> {
        Store::open(self.src.bytes(), &self.db_path, rules)
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

/// An opened db with its revisions.
pub struct Store<'a> {
    db: Db<'a>,
    path: PathBuf,
    pub rules: HashRules,
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
    fn open(data: &'a [u8], path: &Path, rules: HashRules) -> Result<Store<'a>> {
        let db = Db::open(data).map_err(|f| f.error.in_file(path))?;
        let meta_entries = lookup::bucket_entries(&db, buckets::META).map_err(|e| e.in_file(path))?;
        let meta = schema::meta_info(meta_entries.as_deref().unwrap_or_default());
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
            meta,
            last_main,
            current,
            compact,
            pending_compaction,
            progress: None,
            problems,
        })
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
        let at = hashkv::hash_revision(rev, self.compact, self.current, self.rules)?;
        let q = KeyQuery {
            latest: Some(KeyRange::everything()),
            at,
            hash_compact: Some(self.compact),
            ..Default::default()
        };
        let (sink, problems) = self.scan_keys(&q);
        let hash = hashkv::hash(&sink, at, self.compact, self.rules, self.pending_compaction);
        Ok(HashAnswer { hash, current_revision: self.current, pending_compaction: self.pending_compaction, problems })
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
        })
    }
}
