//! Per-key views of the `key` bucket: what a range of keys held at a
//! revision, every revision of a key, and the revisions a compaction at a
//! revision keeps. etcd answers these from its in-memory `treeIndex`; we
//! answer them straight from the bucket.
//!
//! # etcd's index
//!
//! etcd rebuilds the index at boot from the `key` bucket (3.4.23/3.5.1
//! `kvstore.go` `restoreIntoIndex`), visiting revision keys in order:
//!
//! * a put of a key not in the index starts its first generation;
//! * a put of a known key appends to the key's last generation (starting it
//!   if that generation is empty);
//! * a tombstone appends to the last generation and opens a new, empty one;
//!   a tombstone of an unknown key, or of a key whose last generation is
//!   empty, is ignored;
//! * a put with an empty value (`etcdutl snapshot restore --bump-revision`'s
//!   marker) unmarshals as a KeyValue with an empty key, so etcd indexes it
//!   as a put of the key `""`; so do we.
//!
//! Two questions are asked of a key's generations at a revision R
//! (`key_index.go`):
//!
//! * `get(R)`: find the generation live at R (`findGeneration`: scanning
//!   from the newest generation, a closed generation whose tombstone is
//!   ≤ R means "deleted"), then its newest revision with main ≤ R;
//! * `keep(R)` (HashKV and compaction): take the first generation whose
//!   tombstone is > R (or the last generation), add its newest revision
//!   with main ≤ R, and drop it again if it is a closed generation's
//!   tombstone.
//!
//! Both come down to one fact per key, its **latest event**: the newest
//! revision with main ≤ R. If that is a put, `get(R)` returns it and
//! `keep(R)` keeps it; if it is a tombstone (or there is none), the key does
//! not exist at R and nothing is kept. (A generation live at R has its
//! tombstone above R, so its newest revision ≤ R is a put; a key whose
//! latest event is a tombstone has no generation live at R.) [`KeySink`]
//! therefore keeps one entry per key, not one per revision: memory grows
//! with the number of keys, as etcd's own index does. The unit tests check
//! this rule against a literal model of etcd's generations on many
//! generated histories.

use std::collections::HashMap;

use super::kv;
use super::revision::Revision;
use crate::bolt::{KvLoc, Sink};
use crate::error::Location;

/// A key range with etcd's `RangeRequest` conventions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRange {
    pub key: Vec<u8>,
    /// Empty: the single key `key`; `[0]`: every key ≥ `key`; otherwise
    /// the half-open range `[key, range_end)`.
    pub range_end: Vec<u8>,
}

impl KeyRange {
    /// One key.
    pub fn single(key: &[u8]) -> KeyRange {
        KeyRange { key: key.to_vec(), range_end: Vec::new() }
    }
    /// `[key, range_end)` as given to etcd (`etcdctl get KEY RANGE_END`).
    pub fn new(key: &[u8], range_end: &[u8]) -> KeyRange {
        KeyRange { key: key.to_vec(), range_end: range_end.to_vec() }
    }
    /// Every key starting with `prefix`, as clientv3's `WithPrefix` asks
    /// for it (an empty prefix means every key: `["\0", "\0")`).
    pub fn prefix(prefix: &[u8]) -> KeyRange {
        if prefix.is_empty() {
            return KeyRange { key: vec![0], range_end: vec![0] };
        }
        KeyRange { key: prefix.to_vec(), range_end: prefix_end(prefix) }
    }
    /// Every key ≥ `key` (`--from-key`; an empty key means every key).
    pub fn from_key(key: &[u8]) -> KeyRange {
        let key = if key.is_empty() { vec![0] } else { key.to_vec() };
        KeyRange { key, range_end: vec![0] }
    }
    /// Every key, including the empty key etcd indexes for a
    /// `--bump-revision` marker (HashKV's keep set covers it).
    pub fn everything() -> KeyRange {
        KeyRange { key: Vec::new(), range_end: vec![0] }
    }
    pub fn is_single(&self) -> bool {
        self.range_end.is_empty()
    }
    pub fn contains(&self, k: &[u8]) -> bool {
        if self.range_end.is_empty() {
            return k == self.key.as_slice();
        }
        if k < self.key.as_slice() {
            return false;
        }
        self.range_end == [0] || k < self.range_end.as_slice()
    }
}

/// clientv3's `GetPrefixRangeEnd`: the prefix with its last byte below
/// 0xff incremented (and what follows dropped); `[0]` ("every key from
/// here on") when every byte is 0xff.
pub fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// One revision of the `key` bucket, borrowed from the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored<'a> {
    pub rev: Revision,
    /// The bucket key (17 or 18 bytes).
    pub raw_key: &'a [u8],
    /// The bucket value: a marshaled `mvccpb.KeyValue`.
    pub value: &'a [u8],
    /// The user key inside the value.
    pub key: &'a [u8],
}

impl<'a> Stored<'a> {
    /// The decoded KeyValue (the sink only keeps values that decode).
    pub fn kv(&self) -> kv::KvRef<'a> {
        kv::decode(self.value).unwrap_or_default()
    }
}

/// What a pass over the `key` bucket collects.
#[derive(Debug, Clone, Default)]
pub struct KeyQuery {
    /// Keep the latest event (main ≤ [`Self::at`]) of every key in this range.
    pub latest: Option<KeyRange>,
    /// Keep every revision (all of them, whatever `at`) of keys in this range.
    pub history: Option<KeyRange>,
    /// Newest main revision that counts for `latest` and hashing
    /// (`i64::MAX`: all).
    pub at: i64,
    /// HashKV: the compact revision. Revisions in `(compact, at]` are hashed
    /// as they come; those ≤ compact are held until `keep(at)` is known.
    pub hash_compact: Option<i64>,
}

/// An entry etcd could not load: not a revision key, or a value that is
/// not a KeyValue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadEntry {
    pub location: Location,
    pub what: String,
}

/// Bad entries listed before we only count them.
const MAX_BAD: usize = 100;

/// A bucket sink: ignores every bucket but `key`, where it answers a
/// [`KeyQuery`]. Subtrees walked in parallel merge in key order.
#[derive(Debug)]
pub struct KeySink<'a, 'q> {
    query: Option<&'q KeyQuery>,
    /// Latest event per user key, for keys in `query.latest`.
    pub latest: HashMap<&'a [u8], Stored<'a>>,
    /// Every revision of keys in `query.history`, oldest first.
    pub history: Vec<Stored<'a>>,
    /// HashKV: revisions with main ≤ compact (and ≤ at), oldest first.
    pub held: Vec<Stored<'a>>,
    /// HashKV: CRC32C (seed 0) of `k v` of revisions in `(compact, at]`.
    pub tail_crc: u32,
    pub tail_len: u64,
    /// Entries of the bucket.
    pub entries: u64,
    /// The last bucket key seen (the store revision comes from it).
    pub last_key: Option<&'a [u8]>,
    pub bad: Vec<BadEntry>,
    pub bad_count: u64,
}

impl<'a, 'q> KeySink<'a, 'q> {
    /// A sink answering `query` (None: a sink for another bucket, which
    /// ignores everything).
    pub fn new(query: Option<&'q KeyQuery>) -> Self {
        KeySink {
            query,
            latest: HashMap::new(),
            history: Vec::new(),
            held: Vec::new(),
            tail_crc: 0,
            tail_len: 0,
            entries: 0,
            last_key: None,
            bad: Vec::new(),
            bad_count: 0,
        }
    }

    fn bad(&mut self, loc: KvLoc, what: String) {
        self.bad_count += 1;
        if self.bad.len() < MAX_BAD {
            self.bad.push(BadEntry { location: Location::page(loc.pgid, loc.offset), what });
        }
    }

    /// Feed one bucket entry (what the walker calls; also handy in tests).
    pub fn entry(&mut self, raw_key: &'a [u8], value: &'a [u8], loc: KvLoc) {
        let Some(q) = self.query else { return };
        self.entries += 1;
        self.last_key = Some(raw_key);
        let Some(rev) = Revision::parse(raw_key) else {
            self.bad(loc, format!("key bucket key (hex){} is not a revision key", crate::bolt::walk::hex(raw_key)));
            return;
        };
        let kv = match kv::decode(value) {
            Ok(kv) => kv,
            Err(e) => {
                self.bad(loc, format!("revision {}/{}: value is not a mvccpb.KeyValue: {e}", rev.main, rev.sub));
                return;
            }
        };
        let s = Stored { rev, raw_key, value, key: kv.key };
        if q.history.as_ref().is_some_and(|h| h.contains(kv.key)) {
            self.history.push(s);
        }
        if rev.main > q.at {
            return;
        }
        if let Some(c) = q.hash_compact {
            if rev.main <= c {
                self.held.push(s);
            } else {
                self.tail_crc = crc32c::crc32c_append(self.tail_crc, raw_key);
                self.tail_crc = crc32c::crc32c_append(self.tail_crc, value);
                self.tail_len += (raw_key.len() + value.len()) as u64;
            }
        }
        if q.latest.as_ref().is_some_and(|r| r.contains(kv.key)) {
            self.latest.insert(kv.key, s);
        }
    }

    /// Main revision of the last bucket key (etcd's `bytesToRev`).
    pub fn last_main(&self) -> Option<i64> {
        self.last_key.and_then(Revision::main_of)
    }

    /// The keys that exist at `at`, sorted, with the revision that holds
    /// each one's value.
    pub fn live_sorted(&self) -> Vec<Stored<'a>> {
        let mut v: Vec<Stored<'a>> = self.latest.values().filter(|s| !s.rev.tombstone).copied().collect();
        v.sort_unstable_by(|a, b| a.key.cmp(b.key));
        v
    }
}

impl<'a> Sink<'a> for KeySink<'a, '_> {
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], is_bucket: bool, loc: KvLoc) {
        if !is_bucket {
            self.entry(key, value, loc);
        }
    }
    fn fresh(&self) -> Self {
        KeySink::new(self.query)
    }
    fn merge(&mut self, later: Self) {
        // Later subtrees hold later revisions: their latest events win.
        if self.latest.is_empty() {
            self.latest = later.latest;
        } else {
            self.latest.extend(later.latest);
        }
        self.history.extend(later.history);
        self.held.extend(later.held);
        self.tail_crc = crate::crc::combine(self.tail_crc, later.tail_crc, later.tail_len);
        self.tail_len += later.tail_len;
        self.entries += later.entries;
        self.last_key = later.last_key.or(self.last_key);
        self.bad_count += later.bad_count;
        let room = MAX_BAD.saturating_sub(self.bad.len());
        self.bad.extend(later.bad.into_iter().take(room));
    }
}

/// One main revision's entries in the `key` bucket, digested: CRC32C of
/// `k v` of each of its entries (all subs, puts and tombstones) in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevDigest {
    pub main: i64,
    pub crc: u32,
    pub len: u64,
    pub entries: u32,
}

/// A sink (for the `key` bucket only) digesting each main revision in
/// `[lo, hi]`, to compare two stores revision by revision in O(revisions)
/// small records. Other buckets get `None` and are ignored.
#[derive(Debug)]
pub struct DigestSink {
    bounds: Option<(i64, i64)>,
    pub revs: Vec<RevDigest>,
}

impl DigestSink {
    pub fn new(bounds: Option<(i64, i64)>) -> Self {
        DigestSink { bounds, revs: Vec::new() }
    }

    fn push(&mut self, d: RevDigest) {
        match self.revs.last_mut() {
            Some(last) if last.main == d.main => {
                last.crc = crate::crc::combine(last.crc, d.crc, d.len);
                last.len += d.len;
                last.entries += d.entries;
            }
            _ => self.revs.push(d),
        }
    }
}

impl<'a> Sink<'a> for DigestSink {
    fn kv(&mut self, key: &'a [u8], value: &'a [u8], is_bucket: bool, _: KvLoc) {
        let Some((lo, hi)) = self.bounds else { return };
        // etcd's bytesToRev: the first 8 bytes, whatever follows.
        let Some(main) = Revision::main_of(key) else { return };
        if is_bucket || main < lo || main > hi {
            return;
        }
        let crc = crc32c::crc32c_append(crc32c::crc32c(key), value);
        self.push(RevDigest { main, crc, len: (key.len() + value.len()) as u64, entries: 1 });
    }
    fn fresh(&self) -> Self {
        DigestSink::new(self.bounds)
    }
    fn merge(&mut self, later: Self) {
        for d in later.revs {
            self.push(d);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) const LOC: KvLoc = KvLoc { pgid: 0, offset: 0 };

    /// A `key`-bucket entry: revision key and marshaled KeyValue.
    pub(crate) fn put(main: i64, sub: i64, key: &str, create: i64, version: i64, value: &str) -> (Vec<u8>, Vec<u8>) {
        use prost::Message;
        let kv = crate::proto::mvccpb::KeyValue {
            key: key.as_bytes().to_vec(),
            create_revision: create,
            mod_revision: main,
            version,
            value: value.as_bytes().to_vec(),
            lease: 0,
        };
        (Revision { main, sub, tombstone: false }.to_key(), kv.encode_to_vec())
    }

    pub(crate) fn del(main: i64, sub: i64, key: &str) -> (Vec<u8>, Vec<u8>) {
        use prost::Message;
        let kv = crate::proto::mvccpb::KeyValue { key: key.as_bytes().to_vec(), ..Default::default() };
        (Revision { main, sub, tombstone: true }.to_key(), kv.encode_to_vec())
    }

    /// A key history builder that fills create_revision and version as etcd does.
    #[derive(Default)]
    pub(crate) struct History {
        pub entries: Vec<(Vec<u8>, Vec<u8>)>,
        state: HashMap<String, (i64, i64)>,
    }

    impl History {
        pub(crate) fn put(&mut self, main: i64, sub: i64, key: &str, value: &str) -> &mut Self {
            let (create, ver) = match self.state.get(key) {
                Some(&(c, v)) => (c, v + 1),
                None => (main, 1),
            };
            self.state.insert(key.to_string(), (create, ver));
            self.entries.push(put(main, sub, key, create, ver, value));
            self
        }
        pub(crate) fn del(&mut self, main: i64, sub: i64, key: &str) -> &mut Self {
            self.state.remove(key);
            self.entries.push(del(main, sub, key));
            self
        }
    }

    pub(crate) fn run<'a, 'q>(entries: &'a [(Vec<u8>, Vec<u8>)], q: &'q KeyQuery) -> KeySink<'a, 'q> {
        let mut s = KeySink::new(Some(q));
        for (k, v) in entries {
            s.entry(k, v, LOC);
        }
        s
    }

    #[test]
    fn ranges_follow_etcd_conventions() {
        assert_eq!(prefix_end(b"/a/"), b"/a0");
        assert_eq!(prefix_end(b"a\xff\xff"), b"b");
        assert_eq!(prefix_end(b"\xff"), [0]);
        let all = KeyRange::prefix(b"");
        assert!(all.contains(b"\x00") && all.contains(b"zzz") && !all.contains(b""));
        assert!(KeyRange::everything().contains(b""));
        let p = KeyRange::prefix(b"/a/");
        assert!(p.contains(b"/a/") && p.contains(b"/a/x") && !p.contains(b"/a0") && !p.contains(b"/a"));
        let one = KeyRange::single(b"k");
        assert!(one.contains(b"k") && !one.contains(b"k1"));
        let r = KeyRange::new(b"b", b"d");
        assert!(!r.contains(b"a") && r.contains(b"b") && r.contains(b"c\xff") && !r.contains(b"d"));
        assert!(KeyRange::from_key(b"m").contains(b"\xff\xff") && !KeyRange::from_key(b"m").contains(b"l"));
    }

    #[test]
    fn latest_event_per_key_at_a_revision() {
        let mut h = History::default();
        h.put(2, 0, "a", "1").put(3, 0, "b", "1").put(4, 0, "a", "2").del(5, 0, "b").put(6, 0, "b", "again");
        h.del(7, 0, "a").put(7, 1, "c", "txn");
        let at = |r: i64| {
            let q = KeyQuery { latest: Some(KeyRange::prefix(b"")), at: r, ..Default::default() };
            let s = run(&h.entries, &q);
            s.live_sorted()
                .iter()
                .map(|x| {
                    let kv = x.kv();
                    format!(
                        "{}={}@{}/c{}/v{}",
                        String::from_utf8_lossy(kv.key),
                        String::from_utf8_lossy(kv.value),
                        kv.mod_revision,
                        kv.create_revision,
                        kv.version
                    )
                })
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(at(1), "");
        assert_eq!(at(3), "a=1@2/c2/v1 b=1@3/c3/v1");
        assert_eq!(at(4), "a=2@4/c2/v2 b=1@3/c3/v1");
        assert_eq!(at(5), "a=2@4/c2/v2");
        assert_eq!(at(6), "a=2@4/c2/v2 b=again@6/c6/v1");
        assert_eq!(at(7), "b=again@6/c6/v1 c=txn@7/c7/v1");
        assert_eq!(at(i64::MAX), at(7));
    }

    #[test]
    fn history_and_bad_entries() {
        let mut h = History::default();
        h.put(2, 0, "a", "1").put(3, 0, "ab", "x").del(4, 0, "a").put(5, 0, "a", "2");
        let mut entries = h.entries.clone();
        entries.push((b"short".to_vec(), vec![]));
        entries.push((Revision { main: 9, sub: 0, tombstone: false }.to_key(), vec![0x0a, 9, 1]));
        let q = KeyQuery { history: Some(KeyRange::single(b"a")), at: i64::MAX, ..Default::default() };
        let s = run(&entries, &q);
        let revs: Vec<(i64, bool)> = s.history.iter().map(|x| (x.rev.main, x.rev.tombstone)).collect();
        assert_eq!(revs, vec![(2, false), (4, true), (5, false)]);
        assert_eq!(s.bad_count, 2);
        assert!(s.bad[0].what.contains("not a revision key"), "{:?}", s.bad);
        assert!(s.bad[1].what.contains("revision 9/0"), "{:?}", s.bad);
        assert_eq!(s.entries, 6);
        assert_eq!(s.last_main(), Some(9));
    }

    #[test]
    fn digests_group_subs_and_merge_across_subtrees() {
        let mut h = History::default();
        h.put(2, 0, "a", "1").put(3, 0, "b", "1").put(3, 1, "c", "1").del(4, 0, "a").put(5, 0, "d", "1");
        let digest = |entries: &[(Vec<u8>, Vec<u8>)]| {
            let mut s = DigestSink::new(Some((3, 4)));
            for (k, v) in entries {
                s.kv(k, v, false, LOC);
            }
            s
        };
        let whole = digest(&h.entries);
        assert_eq!(whole.revs.iter().map(|d| (d.main, d.entries)).collect::<Vec<_>>(), [(3, 2), (4, 1)]);
        let mut crc = crc32c::crc32c(&h.entries[1].0);
        for part in [&h.entries[1].1, &h.entries[2].0, &h.entries[2].1] {
            crc = crc32c::crc32c_append(crc, part);
        }
        assert_eq!(whole.revs[0].crc, crc);
        let mut left = digest(&h.entries[..2]);
        left.merge(digest(&h.entries[2..]));
        assert_eq!(left.revs, whole.revs, "a revision split between two subtrees");
        assert!(DigestSink::new(None).revs.is_empty());
    }

    #[test]
    fn parallel_merge_equals_sequential() {
        let mut h = History::default();
        for i in 0..60 {
            let k = format!("k{}", i % 7);
            if i % 5 == 4 {
                h.del(i + 2, 0, &k);
            } else {
                h.put(i + 2, 0, &k, &format!("v{i}"));
            }
        }
        let q = KeyQuery {
            latest: Some(KeyRange::everything()),
            history: Some(KeyRange::single(b"k3")),
            at: 40,
            hash_compact: Some(20),
        };
        let whole = run(&h.entries, &q);
        for cut in [1, 17, 30, 59] {
            let (a, b) = h.entries.split_at(cut);
            let mut left = run(a, &q);
            left.merge(run(b, &q));
            assert_eq!(left.live_sorted(), whole.live_sorted(), "cut {cut}");
            assert_eq!(left.history, whole.history);
            assert_eq!(left.held, whole.held);
            assert_eq!((left.tail_crc, left.tail_len), (whole.tail_crc, whole.tail_len));
            assert_eq!(left.last_key, whole.last_key);
        }
    }

    /// etcd's keyIndex, literally (`key_index.go`), restored as
    /// `restoreIntoIndex` does: the oracle for the latest-event rule.
    #[derive(Debug, Default)]
    struct Generations(Vec<Vec<(i64, i64)>>);

    impl Generations {
        fn is_empty(&self) -> bool {
            self.0.len() == 1 && self.0[0].is_empty()
        }
        /// `restore`/`put`/`tombstone`, with restoreIntoIndex's skipping.
        fn feed(&mut self, main: i64, sub: i64, tombstone: bool) {
            if self.0.is_empty() {
                if tombstone {
                    return; // tombstone of a key not in the index
                }
                self.0.push(vec![(main, sub)]);
                return;
            }
            let last = self.0.last_mut().unwrap();
            if tombstone {
                if last.is_empty() {
                    return; // ErrRevisionNotFound, logged and ignored
                }
                last.push((main, sub));
                self.0.push(Vec::new());
            } else {
                last.push((main, sub));
            }
        }
        /// `findGeneration` + `get`.
        fn get(&self, at: i64) -> Option<(i64, i64)> {
            if self.0.is_empty() || self.is_empty() {
                return None;
            }
            let lastg = self.0.len() - 1;
            let mut cg = lastg as i64;
            while cg >= 0 {
                let g = &self.0[cg as usize];
                if g.is_empty() {
                    cg -= 1;
                    continue;
                }
                if cg as usize != lastg && g.last().unwrap().0 <= at {
                    return None;
                }
                if g[0].0 <= at {
                    return g.iter().rev().find(|r| r.0 <= at).copied();
                }
                cg -= 1;
            }
            None
        }
        /// `keep`: doCompact, then drop a closed generation's tombstone.
        fn keep(&self, at: i64) -> Option<(i64, i64)> {
            if self.0.is_empty() || self.is_empty() {
                return None;
            }
            let mut gi = 0;
            while gi < self.0.len() - 1 {
                if self.0[gi].last().unwrap().0 > at {
                    break;
                }
                gi += 1;
            }
            let g = &self.0[gi];
            let idx = g.iter().rposition(|r| r.0 <= at)?;
            if idx == g.len() - 1 && gi != self.0.len() - 1 {
                return None;
            }
            Some(g[idx])
        }
    }

    /// A small deterministic generator (no external crates).
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    #[test]
    fn latest_event_rule_equals_etcd_generations() {
        for seed in 0..300u64 {
            let mut rng = Lcg(seed);
            let mut entries = Vec::new();
            let mut model: HashMap<String, Generations> = HashMap::new();
            let mut main = 1;
            for _ in 0..(5 + rng.next(40)) {
                main += 1;
                let subs = 1 + rng.next(3) as i64;
                let mut used = std::collections::HashSet::new();
                for sub in 0..subs {
                    let key = format!("k{}", rng.next(4));
                    if !used.insert(key.clone()) {
                        continue; // etcd changes a key once per txn
                    }
                    // Tombstones of absent keys too: restore must ignore them.
                    let tomb = rng.next(3) == 0;
                    entries.push(if tomb { del(main, sub, &key) } else { put(main, sub, &key, 0, 0, "v") });
                    model.entry(key).or_default().feed(main, sub, tomb);
                }
            }
            for at in 0..=main + 1 {
                let q = KeyQuery { latest: Some(KeyRange::everything()), at, ..Default::default() };
                let s = run(&entries, &q);
                for (key, g) in &model {
                    let ours =
                        s.latest.get(key.as_bytes()).filter(|x| !x.rev.tombstone).map(|x| (x.rev.main, x.rev.sub));
                    assert_eq!(ours, g.get(at), "seed {seed} at {at} key {key} get: {g:?}");
                    assert_eq!(ours, g.keep(at), "seed {seed} at {at} key {key} keep: {g:?}");
                }
            }
        }
    }
}
