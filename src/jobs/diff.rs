//! `diff A B`: do two stores (snapshots, dbs or data dirs, e.g. of two
//! members, or of one member at two times) hold the same history?
//!
//! Compaction deletes old revisions, so histories are compared where both
//! still have them: main revisions from just above the larger compact
//! revision up to the smaller current revision. Within that range every
//! main revision's entries (all subs, puts and tombstones, key and value
//! bytes) are digested on each side ([`RevDigest`]); the first revision
//! whose digests differ, or that only one side has, is where the histories
//! diverge. Then the keys whose state differs at the common revision are
//! listed (a `get "" --prefix --rev <common>` of each side, compared), and
//! HashKV, the hash etcd's own corruption check compares, is computed on
//! both sides at the common revision and around the divergence when the
//! compact revisions agree (etcd only compares hashes then, too).
//!
//! A store that is simply ahead of the other (more revisions on top of the
//! same history) is not divergent.

use std::path::PathBuf;

use serde::Serialize;

use super::inspect::{GetOptions, ResponseHeader, Store};
use crate::mvcc::index::{KeyRange, RevDigest};
use crate::mvcc::kv::KvRef;

/// Keys listed before we only count them.
pub const MAX_LISTED_KEYS: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    pub path: PathBuf,
    pub current_revision: i64,
    pub compact_revision: i64,
}

/// A KeyValue, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: Vec<u8>,
    pub create_revision: i64,
    pub mod_revision: i64,
    pub version: i64,
    pub value: Vec<u8>,
    pub lease: i64,
}

impl From<KvRef<'_>> for KeyValue {
    fn from(kv: KvRef<'_>) -> Self {
        KeyValue {
            key: kv.key.to_vec(),
            create_revision: kv.create_revision,
            mod_revision: kv.mod_revision,
            version: kv.version,
            value: kv.value.to_vec(),
            lease: kv.lease,
        }
    }
}

/// A key whose state at the common revision differs (`None`: absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDiff {
    pub key: Vec<u8>,
    pub a: Option<KeyValue>,
    pub b: Option<KeyValue>,
}

/// HashKV of both sides at one revision (`None`: that side refuses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HashPair {
    pub revision: i64,
    pub a: Option<u32>,
    pub b: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct DiffReport {
    pub a: Side,
    pub b: Side,
    /// Compared main revisions `from..=to` (empty when `from > to`).
    pub from: i64,
    pub to: i64,
    /// The first main revision in the compared range whose entries differ.
    pub first_divergent: Option<i64>,
    pub hashes: Vec<HashPair>,
    /// Keys whose state at `to` differs, at most [`MAX_LISTED_KEYS`].
    pub keys: Vec<KeyDiff>,
    pub keys_differing: u64,
    pub problems: Vec<String>,
}

impl DiffReport {
    /// Some revision is stored on both sides.
    pub fn comparable(&self) -> bool {
        self.from <= self.to
    }
    /// The same history wherever both sides have it.
    pub fn identical(&self) -> bool {
        self.comparable() && self.first_divergent.is_none() && self.keys_differing == 0
    }
}

/// The first main revision where two digest lists disagree.
pub fn first_divergence(a: &[RevDigest], b: &[RevDigest]) -> Option<i64> {
    let mut i = a.iter().peekable();
    let mut j = b.iter().peekable();
    loop {
        match (i.peek(), j.peek()) {
            (None, None) => return None,
            (Some(x), None) => return Some(x.main),
            (None, Some(y)) => return Some(y.main),
            (Some(x), Some(y)) if x.main != y.main => return Some(x.main.min(y.main)),
            (Some(x), Some(y)) if x != y => return Some(x.main),
            _ => {
                i.next();
                j.next();
            }
        }
    }
}

fn hash_at(s: &Store<'_>, rev: i64) -> Option<u32> {
    s.hashkv(rev).ok().map(|h| h.hash.hash)
}

/// Compare two stores.
pub fn diff(a: &Store<'_>, b: &Store<'_>) -> DiffReport {
    let from = a.compact.max(b.compact).max(0) + 1;
    let to = a.current.min(b.current);
    let side =
        |s: &Store<'_>| Side { path: s.path().to_path_buf(), current_revision: s.current, compact_revision: s.compact };
    if from > to {
        let problems = [a, b].iter().flat_map(|s| s.problems.clone()).collect();
        return DiffReport {
            a: side(a),
            b: side(b),
            from,
            to,
            first_divergent: None,
            hashes: Vec::new(),
            keys: Vec::new(),
            keys_differing: 0,
            problems,
        };
    }
    let (da, pa) = a.digests(from, to);
    let (db, pb) = b.digests(from, to);
    let mut problems = pa;
    problems.extend(pb);
    let first_divergent = first_divergence(&da, &db);

    // The state at the common revision, key by key.
    let opts = GetOptions { range: KeyRange::everything(), rev: to, limit: 0 };
    let mut keys = Vec::new();
    let mut keys_differing = 0u64;
    match (a.get(ResponseHeader::default(), &opts), b.get(ResponseHeader::default(), &opts)) {
        (Ok(ga), Ok(gb)) => {
            problems.extend(ga.problems);
            problems.extend(gb.problems);
            let mut i = ga.kvs.iter().peekable();
            let mut j = gb.kvs.iter().peekable();
            loop {
                let (x, y) = match (i.peek(), j.peek()) {
                    (None, None) => break,
                    (Some(x), Some(y)) if x.key == y.key => {
                        let same = x.value == y.value;
                        let pair = (Some(**x), Some(**y));
                        i.next();
                        j.next();
                        if same {
                            continue;
                        }
                        pair
                    }
                    (Some(x), Some(y)) if x.key < y.key => {
                        let p = (Some(**x), None);
                        i.next();
                        p
                    }
                    (Some(x), None) => {
                        let p = (Some(**x), None);
                        i.next();
                        p
                    }
                    (_, Some(y)) => {
                        let p = (None, Some(**y));
                        j.next();
                        p
                    }
                };
                keys_differing += 1;
                if keys.len() < MAX_LISTED_KEYS {
                    let key = x.or(y).map(|s| s.key.to_vec()).unwrap_or_default();
                    keys.push(KeyDiff { key, a: x.map(|s| s.kv().into()), b: y.map(|s| s.kv().into()) });
                }
            }
        }
        (ra, rb) => {
            for (side, r) in [("a", ra.err()), ("b", rb.err())] {
                if let Some(e) = r {
                    problems.push(format!("{side}: cannot read at revision {to}: {e}"));
                }
            }
        }
    }

    // HashKV where etcd would compare it: same compact revision.
    let mut hashes = Vec::new();
    if a.compact == b.compact {
        let mut at = vec![to];
        if let Some(d) = first_divergent {
            at = vec![d - 1, d, to];
        }
        at.retain(|&r| r >= from);
        at.dedup();
        for r in at {
            hashes.push(HashPair { revision: r, a: hash_at(a, r), b: hash_at(b, r) });
        }
    }
    let side =
        |s: &Store<'_>| Side { path: s.path().to_path_buf(), current_revision: s.current, compact_revision: s.compact };
    DiffReport { a: side(a), b: side(b), from, to, first_divergent, hashes, keys, keys_differing, problems }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(main: i64, crc: u32) -> RevDigest {
        RevDigest { main, crc, len: 1, entries: 1 }
    }

    #[test]
    fn divergence_is_the_first_differing_or_missing_revision() {
        let a = [d(2, 1), d(3, 1), d(4, 1)];
        assert_eq!(first_divergence(&a, &a), None);
        assert_eq!(first_divergence(&a, &[d(2, 1), d(3, 9), d(4, 1)]), Some(3));
        assert_eq!(first_divergence(&a, &[d(2, 1), d(4, 1)]), Some(3));
        assert_eq!(first_divergence(&a, &[d(2, 1), d(3, 1)]), Some(4));
        assert_eq!(first_divergence(&[], &[d(5, 1)]), Some(5));
    }
}
