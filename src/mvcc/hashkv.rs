//! HashKV: the hash of the KV history that `etcdctl endpoint hashkv`
//! returns and that etcd's corruption checks compare between members
//! (FORMATS.md §5; 3.4.23 `mvcc/kvstore.go` `HashByRev`, 3.5.1
//! `server/mvcc/kvstore.go` `HashByRev`, 3.5.5+ `server/mvcc/hash.go`).
//!
//! Hash = CRC32C (Castagnoli, seed 0) of the 3 bytes `key`, then, for each
//! `key`-bucket entry in bucket order, its key bytes and value bytes, where
//! an entry is skipped if
//!
//! 1. its main revision is above the hash revision R;
//! 2. its main revision is ≤ the compact revision C, the keep set of R is
//!    not empty, and its (main, sub) is not in it (revisions a compaction
//!    at R would delete; see [`super::index`] for `keep(R)`);
//! 3. (3.4.34+, 3.5.16+, 3.6+ only) its main revision is C and it is a
//!    tombstone: newer compactions keep that tombstone, older ones delete
//!    it, and the hash must not depend on which did.
//!
//! Which R a server accepts also changed over time; see [`HashRules`].

use std::collections::HashSet;

use serde::Serialize;

use super::Revision;
use super::index::{KeySink, Stored};

/// Version-dependent behaviour of HashKV and of the store's revisions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashRules {
    /// `rev <= compactRev` is "compacted" (≤ 3.4.26, ≤ 3.5.9); later
    /// versions refuse only `rev < compactRev` and hash at C itself.
    pub compacted_inclusive: bool,
    /// Rule 3 above (3.4.34+, 3.5.16+, 3.6+).
    pub skip_compact_tombstone: bool,
    /// The store's current revision is at least `scheduledCompactRev`
    /// (3.4.32+, 3.5.14+, 3.6+; FORMATS.md §2.4).
    pub current_includes_scheduled: bool,
}

impl HashRules {
    /// etcd 3.4.23 and 3.5.1 (the fixtures' versions) behave alike.
    pub const ETCD_3_5_1: HashRules =
        HashRules { compacted_inclusive: true, skip_compact_tombstone: false, current_includes_scheduled: false };

    /// The rules of etcd `major.minor.patch`: 3.4 and 3.5 by patch level,
    /// anything older as 3.4.23, anything newer than 3.5 as 3.6.
    pub fn for_version(major: u32, minor: u32, patch: u32) -> HashRules {
        let (inclusive_until, skip_from, scheduled_from) = match (major, minor) {
            (3, 4) => (26, 34, 32),
            (3, 5) => (9, 16, 14),
            (0..=2, _) | (3, 0..=3) => return HashRules::ETCD_3_5_1,
            _ => {
                return HashRules {
                    compacted_inclusive: false,
                    skip_compact_tombstone: true,
                    current_includes_scheduled: true,
                };
            }
        };
        HashRules {
            compacted_inclusive: patch <= inclusive_until,
            skip_compact_tombstone: patch >= skip_from,
            current_includes_scheduled: patch >= scheduled_from,
        }
    }

    /// Parse `3.5.1` (or `v3.5.1`, `3.5`).
    pub fn parse(version: &str) -> Option<HashRules> {
        let v = version.strip_prefix('v').unwrap_or(version);
        let mut it = v.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(p) => p.parse().ok()?,
            None => 0,
        };
        if it.next().is_some() {
            return None;
        }
        Some(HashRules::for_version(major, minor, patch))
    }
}

impl Default for HashRules {
    fn default() -> Self {
        HashRules::ETCD_3_5_1
    }
}

/// What `etcdutl hashkv -w json` prints (3.6 names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KvHash {
    pub hash: u32,
    pub hash_revision: i64,
    pub compact_revision: i64,
}

/// Why etcd refuses a revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevError {
    /// `mvcc: required revision has been compacted`.
    Compacted { rev: i64, compact: i64 },
    /// `mvcc: required revision is a future revision`.
    Future { rev: i64, current: i64 },
}

impl RevError {
    /// etcd's own message (`mvcc.ErrCompacted`, `mvcc.ErrFutureRev`).
    pub fn etcd_message(&self) -> &'static str {
        match self {
            RevError::Compacted { .. } => "mvcc: required revision has been compacted",
            RevError::Future { .. } => "mvcc: required revision is a future revision",
        }
    }
}

impl std::fmt::Display for RevError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RevError::Compacted { rev, compact } => {
                write!(f, "{} (revision {rev}; the store is compacted at {compact})", self.etcd_message())
            }
            RevError::Future { rev, current } => {
                write!(f, "{} (revision {rev}; the current revision is {current})", self.etcd_message())
            }
        }
    }
}

/// HashKV's checks of a requested revision (`rev` 0 = current); returns
/// the revision to hash.
pub fn hash_revision(rev: i64, compact: i64, current: i64, rules: HashRules) -> Result<i64, RevError> {
    let compacted = if rules.compacted_inclusive { rev <= compact } else { rev < compact };
    if rev > 0 && compacted {
        return Err(RevError::Compacted { rev, compact });
    }
    if rev > 0 && rev > current {
        return Err(RevError::Future { rev, current });
    }
    Ok(if rev == 0 { current } else { rev })
}

/// Range's checks (`rangeKeys`: `rev < compactRev` is compacted in every
/// version); returns the revision to read at.
pub fn range_revision(rev: i64, compact: i64, current: i64) -> Result<i64, RevError> {
    if rev > current {
        return Err(RevError::Future { rev, current });
    }
    let rev = if rev <= 0 { current } else { rev };
    if rev < compact {
        return Err(RevError::Compacted { rev, compact });
    }
    Ok(rev)
}

/// The hash of a finished [`KeySink`] pass run with `at = rev` and
/// `hash_compact = Some(compact)` and `latest` covering every key.
///
/// `pending_compaction`: the db records a compaction at `compact` that had
/// not finished (`scheduledCompactRev` > `finishedCompactRev`); etcd
/// finishes it at boot before it can answer, deleting revisions ≤ compact
/// outside `keep(compact)`, so those are left out here too.
pub fn hash(sink: &KeySink<'_, '_>, rev: i64, compact: i64, rules: HashRules, pending_compaction: bool) -> KvHash {
    hash_with(sink, &[], rev, compact, rules, pending_compaction)
}

/// A `key`-bucket entry the db does not hold yet: one that a committed WAL
/// entry past the consistent index writes when etcd applies it at boot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    pub rev: Revision,
    /// The user key.
    pub key: Vec<u8>,
    /// The bucket value (a marshaled `mvccpb.KeyValue`).
    pub value: Vec<u8>,
}

/// [`hash`] of the db's `key` bucket followed by `appended` (in revision
/// order, every one above the db's last revision): the hash etcd reports
/// once it has applied those entries. An appended revision is a key's
/// newest event, so it takes that key's place in `keep(rev)`.
pub fn hash_with(
    sink: &KeySink<'_, '_>,
    appended: &[Appended],
    rev: i64,
    compact: i64,
    rules: HashRules,
    pending_compaction: bool,
) -> KvHash {
    let appended: Vec<&Appended> = appended.iter().filter(|a| a.rev.main <= rev).collect();
    let mut newest: std::collections::HashMap<&[u8], Revision> = std::collections::HashMap::new();
    for a in &appended {
        newest.insert(&a.key, a.rev);
    }
    // keep(rev): every key's latest event ≤ rev, when it is a put.
    let mut keep_nonempty = false;
    let mut keep: HashSet<(i64, i64)> = HashSet::new();
    let db_latest = sink.latest.iter().filter(|(k, _)| !newest.contains_key(*k)).map(|(_, s)| s.rev);
    for r in db_latest.chain(newest.values().copied()) {
        if !r.tombstone {
            keep_nonempty = true;
            if r.main <= compact {
                keep.insert((r.main, r.sub));
            }
        }
    }
    let skipped = |r: Revision| {
        (keep_nonempty && r.main <= compact && !keep.contains(&(r.main, r.sub)))
            || (rules.skip_compact_tombstone && r.main == compact && r.tombstone)
    };
    let survivors = pending_compaction.then(|| survivors_of_compaction(&sink.held));
    let mut crc = crc32c::crc32c(super::buckets::KEY);
    for (i, s) in sink.held.iter().enumerate() {
        if survivors.as_ref().is_some_and(|keep_c| !keep_c.contains(&i)) {
            continue;
        }
        if skipped(s.rev) {
            continue;
        }
        crc = crc32c::crc32c_append(crc, s.raw_key);
        crc = crc32c::crc32c_append(crc, s.value);
    }
    crc = crate::crc::combine(crc, sink.tail_crc, sink.tail_len);
    for a in appended.iter().filter(|a| !skipped(a.rev)) {
        crc = crc32c::crc32c_append(crc, &a.rev.to_key());
        crc = crc32c::crc32c_append(crc, &a.value);
    }
    KvHash { hash: crc, hash_revision: rev, compact_revision: compact }
}

/// Indexes into `held` (every revision ≤ C, in order) that a compaction
/// at C keeps: each key's latest event, when it is a put.
fn survivors_of_compaction(held: &[Stored<'_>]) -> HashSet<usize> {
    let mut last: std::collections::HashMap<&[u8], usize> = std::collections::HashMap::new();
    for (i, s) in held.iter().enumerate() {
        last.insert(s.key, i);
    }
    last.into_iter().filter(|&(_, i)| held.get(i).is_some_and(|s| !s.rev.tombstone)).map(|(_, i)| i).collect()
}

#[cfg(test)]
mod tests {
    use super::super::index::tests::{History, run};
    use super::super::index::{KeyQuery, KeyRange};
    use super::*;

    fn q(at: i64, compact: i64) -> KeyQuery {
        KeyQuery { latest: Some(KeyRange::everything()), at, hash_compact: Some(compact), ..Default::default() }
    }

    /// The reference: etcd's loop, written out over the entries.
    fn reference(entries: &[(Vec<u8>, Vec<u8>)], at: i64, compact: i64, keep: &[(i64, i64)], skip_tomb: bool) -> u32 {
        let mut h = crc32c::crc32c(b"key");
        for (k, v) in entries {
            let r = crate::mvcc::Revision::parse(k).unwrap();
            if r.main > at {
                continue;
            }
            if r.main <= compact && !keep.is_empty() && !keep.contains(&(r.main, r.sub)) {
                continue;
            }
            if skip_tomb && r.main == compact && r.tombstone {
                continue;
            }
            h = crc32c::crc32c_append(h, k);
            h = crc32c::crc32c_append(h, v);
        }
        h
    }

    #[test]
    fn version_rules() {
        let r = HashRules::parse("3.5.1").unwrap();
        assert_eq!(r, HashRules::ETCD_3_5_1);
        assert_eq!(HashRules::parse("v3.4.23").unwrap(), HashRules::ETCD_3_5_1);
        let r = HashRules::parse("3.5.10").unwrap();
        assert!(!r.compacted_inclusive && !r.skip_compact_tombstone && !r.current_includes_scheduled);
        let r = HashRules::parse("3.5.16").unwrap();
        assert!(!r.compacted_inclusive && r.skip_compact_tombstone && r.current_includes_scheduled);
        let r = HashRules::parse("3.4.27").unwrap();
        assert!(!r.compacted_inclusive && !r.skip_compact_tombstone);
        let r = HashRules::parse("3.4.34").unwrap();
        assert!(r.skip_compact_tombstone && r.current_includes_scheduled);
        let r = HashRules::parse("3.6").unwrap();
        assert!(!r.compacted_inclusive && r.skip_compact_tombstone && r.current_includes_scheduled);
        assert_eq!(HashRules::parse("3.7.0"), HashRules::parse("3.6.0"));
        assert!(HashRules::parse("three").is_none() && HashRules::parse("3.5.1.2").is_none());
    }

    #[test]
    fn revision_checks() {
        let old = HashRules::ETCD_3_5_1;
        let new = HashRules::parse("3.6.0").unwrap();
        assert_eq!(hash_revision(0, 5, 9, old), Ok(9));
        assert_eq!(hash_revision(5, 5, 9, old), Err(RevError::Compacted { rev: 5, compact: 5 }));
        assert_eq!(hash_revision(5, 5, 9, new), Ok(5));
        assert_eq!(hash_revision(4, 5, 9, new), Err(RevError::Compacted { rev: 4, compact: 5 }));
        assert_eq!(hash_revision(10, 5, 9, old), Err(RevError::Future { rev: 10, current: 9 }));
        assert_eq!(hash_revision(3, -1, 9, old), Ok(3));
        // Range: rev == compact works, below fails, 0 is current.
        assert_eq!(range_revision(5, 5, 9), Ok(5));
        assert_eq!(range_revision(4, 5, 9), Err(RevError::Compacted { rev: 4, compact: 5 }));
        assert_eq!(range_revision(0, 5, 9), Ok(9));
        assert_eq!(range_revision(10, 5, 9), Err(RevError::Future { rev: 10, current: 9 }));
        assert!(
            RevError::Compacted { rev: 4, compact: 5 }
                .to_string()
                .starts_with("mvcc: required revision has been compacted")
        );
    }

    const OLD: HashRules = HashRules::ETCD_3_5_1;

    /// Our hash of `entries` at `at` with compact revision `compact`.
    fn hashed(entries: &[(Vec<u8>, Vec<u8>)], at: i64, compact: i64, rules: HashRules, pending: bool) -> KvHash {
        let query = q(at, compact);
        hash(&run(entries, &query), at, compact, rules, pending)
    }

    /// The bucket as a 3.5.1 compaction at 6 leaves it: per key the newest
    /// revision ≤ 6 of the live generation; the tombstone at 6 is gone.
    fn compacted() -> History {
        let mut h = History::default();
        // kept by the compaction at 6:
        h.put(4, 0, "a", "a2"); // a: newest ≤ 6 (a was put at 2, 4)
        h.put(5, 1, "c", "c1");
        // after the compaction:
        h.put(7, 0, "a", "a3").del(8, 0, "c").put(9, 0, "d", "d1").put(9, 1, "e", "e1").del(10, 0, "d");
        h
    }

    #[test]
    fn compacted_bucket_matches_etcd_loop() {
        let h = compacted();
        for at in 6..=10 {
            let got = hashed(&h.entries, at, 6, OLD, false);
            // keep(at): each key's latest event <= at, when a put.
            let mut keep = vec![if at >= 7 { (7, 0) } else { (4, 0) }];
            if at < 8 {
                keep.push((5, 1));
            }
            if at == 9 {
                keep.push((9, 0));
            }
            if at >= 9 {
                keep.push((9, 1));
            }
            assert_eq!(got.hash, reference(&h.entries, at, 6, &keep, false), "at {at}");
            assert_eq!((got.hash_revision, got.compact_revision), (at, 6));
        }
        // At 7 the compacted a@4 is superseded by a@7: left out of the hash.
        assert_ne!(hashed(&h.entries, 7, 6, OLD, false).hash, reference(&h.entries, 7, 6, &[], false));
        assert_eq!(hashed(&h.entries, 6, 6, OLD, false).hash, reference(&h.entries, 6, 6, &[(4, 0), (5, 1)], false));
    }

    /// The db's entries up to some revision plus the rest appended (as a
    /// WAL replay appends them) hash as the whole bucket does, whatever the
    /// split: an appended revision supersedes the db's kept one.
    #[test]
    fn appended_entries_hash_as_if_they_were_in_the_bucket() {
        let mut h = compacted();
        h.put(11, 0, "c", "c2").put(11, 1, "a", "a4").del(12, 0, "e");
        let main = |k: &[u8]| crate::mvcc::Revision::parse(k).unwrap().main;
        for rules in [OLD, HashRules::parse("3.6").unwrap()] {
            for split in 5..=12 {
                let (db, rest): (Vec<_>, Vec<_>) = h.entries.iter().cloned().partition(|(k, _)| main(k) <= split);
                let appended: Vec<Appended> = rest
                    .iter()
                    .map(|(k, v)| Appended {
                        rev: crate::mvcc::Revision::parse(k).unwrap(),
                        key: crate::mvcc::kv::decode(v).unwrap().key.to_vec(),
                        value: v.clone(),
                    })
                    .collect();
                for at in 6..=12 {
                    let query = q(at, 6);
                    let got = hash_with(&run(&db, &query), &appended, at, 6, rules, false);
                    assert_eq!(got, hashed(&h.entries, at, 6, rules, false), "split {split} at {at}");
                }
            }
        }
    }

    #[test]
    fn empty_keep_hashes_everything_up_to_rev() {
        let mut h = History::default();
        h.put(2, 0, "a", "1").del(3, 0, "a").put(4, 0, "b", "1").del(5, 0, "b");
        assert_eq!(hashed(&h.entries, 5, 3, OLD, false).hash, reference(&h.entries, 5, 3, &[], false));
        // Never compacted: plain CRC of every entry ≤ rev.
        assert_eq!(hashed(&h.entries, 4, -1, OLD, false).hash, reference(&h.entries, 4, -1, &[], false));
        // Empty bucket: the CRC of "key".
        assert_eq!(hashed(&[], 1, -1, OLD, false).hash, crc32c::crc32c(b"key"));
    }

    #[test]
    fn newer_versions_skip_the_tombstone_at_the_compact_revision() {
        // A 3.5.16+ compaction at 3 keeps b's tombstone at 3.
        let mut h = History::default();
        h.put(2, 0, "a", "1").del(3, 0, "b").put(4, 0, "c", "1");
        let new = HashRules::parse("3.5.16").unwrap();
        assert_eq!(hashed(&h.entries, 3, 3, new, false).hash, reference(&h.entries, 3, 3, &[(2, 0)], true));
        // keep(3) = {a@2}: the tombstone is not in it, so the old rules drop it too.
        assert_eq!(hashed(&h.entries, 3, 3, new, false), hashed(&h.entries, 3, 3, OLD, false));
        // With every key deleted keep is empty: only rule 3 drops it.
        let mut g = History::default();
        g.put(2, 0, "b", "1").del(3, 0, "b");
        let all = &g.entries[1..];
        assert_eq!(hashed(all, 3, 3, new, false).hash, reference(all, 3, 3, &[], true));
        assert_ne!(hashed(all, 3, 3, new, false), hashed(all, 3, 3, OLD, false));
    }

    #[test]
    fn pending_compaction_is_finished_first() {
        // Scheduled at 5, not finished: a@2, a@3, b@4, b@5(t) are still there.
        let mut h = History::default();
        h.put(2, 0, "a", "1").put(3, 0, "a", "2").put(4, 0, "b", "1").del(5, 0, "b").put(6, 0, "c", "1");
        // What the compaction leaves: a@3 (a's latest <= 5) and everything above 5.
        let main = |k: &Vec<u8>| crate::mvcc::Revision::parse(k).unwrap().main;
        let after: Vec<_> = h.entries.iter().filter(|(k, _)| matches!(main(k), 3 | 6)).cloned().collect();
        for at in 5..=6 {
            assert_eq!(hashed(&h.entries, at, 5, OLD, true), hashed(&after, at, 5, OLD, false), "at {at}");
        }
        // Deleting every key: keep(6) is empty; only the survivors of the compaction are hashed.
        let mut h = History::default();
        h.put(2, 0, "a", "1").put(3, 0, "a", "2").del(4, 0, "a").put(5, 0, "z", "1").del(6, 0, "z");
        let survivors: Vec<_> = h.entries.iter().filter(|(k, _)| main(k) >= 5).cloned().collect();
        assert_eq!(hashed(&h.entries, 6, 5, OLD, true), hashed(&survivors, 6, 5, OLD, false));
    }
}
