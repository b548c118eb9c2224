//! What `salvage` may put back into a bucket: entries read from the tree
//! plus entries found on pages the tree no longer reaches.
//!
//! Every revision of the `key` bucket is immutable: once etcd wrote
//! `main_sub` → KeyValue it never changes it, it only deletes it (by
//! compaction). So a well-formed copy of a revision found anywhere in the
//! file is a fact. What is *not* safe is putting back a revision the store
//! had legitimately deleted: a stale page (an older copy, freed by a later
//! transaction) can hold a put whose later tombstone was compacted away,
//! and putting the put back alone would resurrect a deleted key. Hence the
//! rules of [`merge_key_bucket`]:
//!
//! 1. entries read from the tree win, always;
//! 2. a found entry is used only inside a *lost range*: the key range of a
//!    page the walk could not read (from the branch keys above it). Outside
//!    those ranges the tree is complete, so an entry found there but absent
//!    from the tree was deleted by a compaction (counted as stale);
//! 3. inside a lost range, a found revision above the compact revision is
//!    used (nothing deletes those); at or below it, only a put that is the
//!    newest revision at or below the compact revision of its key among
//!    everything known (what a compaction keeps); tombstones at or below it
//!    are dropped (etcd 3.4.33-, 3.5.15- compaction deletes them), except,
//!    with `keep_compact_tombstone` (3.4.34+, 3.5.16+, 3.6+: compaction
//!    keeps a tombstone at exactly the compact revision), a tombstone at
//!    the compact revision that is its key's newest revision there;
//! 4. two different copies of one revision: the copy from a page that read
//!    cleanly wins, then the first in page order (counted as a conflict).
//!
//! Well-formed means: a 17-byte revision key (or 18 ending in `t`), and a
//! value that decodes as `mvccpb.KeyValue` with a non-empty key; for a put
//! `mod_revision` equal to the key's main revision, `0 < create_revision ≤
//! mod_revision` and `version ≥ 1`; for a tombstone nothing but the key
//! (what etcd writes). The other buckets follow rules 1, 2 and 4.

use std::collections::HashMap;

use super::kv;
use super::revision::Revision;

/// Is this `key`-bucket entry what etcd writes?
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyEntry {
    Valid(Revision),
    /// `etcdutl snapshot restore --bump-revision`'s marker: a put key with
    /// an empty value.
    Marker(Revision),
    Invalid(&'static str),
}

/// Classify a `key`-bucket entry (see the module docs).
pub fn key_entry(key: &[u8], value: &[u8]) -> KeyEntry {
    let Some(rev) = Revision::parse(key) else { return KeyEntry::Invalid("not a revision key") };
    if value.is_empty() && !rev.tombstone {
        return KeyEntry::Marker(rev);
    }
    let Ok(kv) = kv::decode(value) else { return KeyEntry::Invalid("the value is not a mvccpb.KeyValue") };
    if kv.key.is_empty() {
        return KeyEntry::Invalid("the KeyValue has an empty key");
    }
    if rev.tombstone {
        if kv.create_revision != 0 || kv.mod_revision != 0 || kv.version != 0 || !kv.value.is_empty() || kv.lease != 0 {
            return KeyEntry::Invalid("a tombstone's KeyValue holds more than the key");
        }
    } else if kv.mod_revision != rev.main {
        return KeyEntry::Invalid("mod_revision differs from the revision key");
    } else if kv.create_revision <= 0 || kv.create_revision > kv.mod_revision || kv.version <= 0 {
        return KeyEntry::Invalid("inconsistent create_revision/version");
    }
    KeyEntry::Valid(rev)
}

/// Is this `lease`-bucket entry what etcd writes: an 8-byte big-endian id
/// and a `leasepb.Lease` with that id and a positive TTL?
pub fn lease_entry(key: &[u8], value: &[u8]) -> bool {
    let Some(id) = crate::bytes::be_u64(key, 0) else { return false };
    if key.len() != 8 {
        return false;
    }
    match crate::proto::decode::<crate::proto::leasepb::Lease>(value, 0) {
        Ok(l) => l.id == id as i64 && l.ttl > 0,
        Err(_) => false,
    }
}

/// A key range `[lo, hi)` of a bucket whose pages could not be read
/// (`None`: unbounded).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LostRange {
    pub lo: Option<Vec<u8>>,
    pub hi: Option<Vec<u8>>,
}

impl LostRange {
    pub fn everything() -> Self {
        LostRange { lo: None, hi: None }
    }
    pub fn contains(&self, k: &[u8]) -> bool {
        self.lo.as_deref().is_none_or(|lo| k >= lo) && self.hi.as_deref().is_none_or(|hi| k < hi)
    }
}

/// An entry found on a scanned page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Found<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
    pub pgid: u64,
    /// The page read cleanly (every element accepted, header id right).
    pub clean: bool,
}

/// What a merge did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Merged<'a> {
    /// The bucket's entries, sorted by key, unique.
    pub entries: Vec<(&'a [u8], &'a [u8])>,
    /// Found entries put back (key, page).
    pub recovered: Vec<(&'a [u8], u64)>,
    /// Found entries equal to one read from the tree.
    pub duplicates: u64,
    /// Found entries outside every lost range and not in the tree: older
    /// copies of data since deleted.
    pub stale: u64,
    /// Found revisions at or below the compact revision that a compaction
    /// deleted (key bucket only).
    pub compacted: u64,
    /// Found copies of one key with different values.
    pub conflicts: u64,
}

/// Sort by key and keep the first of equal keys.
/// Equal bytes. Most found entries of a clean file were read from the very
/// pages the tree walk read, so the slices are often the same memory: then
/// no byte is compared (values of 8 KiB made this comparison most of a
/// merge).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    std::ptr::eq(a, b) || a == b
}

fn sort_unique<'a>(v: &mut Vec<(&'a [u8], &'a [u8])>) {
    v.sort_by(|a, b| a.0.cmp(b.0));
    v.dedup_by(|later, first| later.0 == first.0);
}

/// Rules 1, 2 and 4: the tree's entries plus found entries in lost ranges.
/// `keep(key, value)` may veto found entries (rule 3 for the key bucket).
fn merge_with<'a>(
    mut tree: Vec<(&'a [u8], &'a [u8])>,
    found: &[Found<'a>],
    lost: &[LostRange],
    mut keep: impl FnMut(&'a [u8], &'a [u8]) -> bool,
) -> Merged<'a> {
    sort_unique(&mut tree);
    let in_tree = |k: &[u8]| tree.binary_search_by(|(t, _)| (*t).cmp(k)).ok();
    let mut m = Merged::default();
    // Per key: the chosen copy (value, page, clean).
    let mut chosen: HashMap<&'a [u8], (&'a [u8], u64, bool)> = HashMap::new();
    for f in found {
        if let Some(i) = in_tree(f.key) {
            if tree.get(i).is_some_and(|(_, v)| same_bytes(v, f.value)) {
                m.duplicates += 1;
            } else {
                m.conflicts += 1;
            }
            continue;
        }
        if !lost.iter().any(|r| r.contains(f.key)) {
            m.stale += 1;
            continue;
        }
        match chosen.get_mut(f.key) {
            None => {
                chosen.insert(f.key, (f.value, f.pgid, f.clean));
            }
            Some(c) if same_bytes(c.0, f.value) => {}
            Some(c) => {
                m.conflicts += 1;
                if f.clean && !c.2 {
                    *c = (f.value, f.pgid, f.clean);
                }
            }
        }
    }
    let mut add: Vec<(&'a [u8], &'a [u8], u64)> = chosen.into_iter().map(|(k, (v, p, _))| (k, v, p)).collect();
    add.sort_by(|a, b| a.0.cmp(b.0));
    for (k, v, p) in add {
        if keep(k, v) {
            m.recovered.push((k, p));
            tree.push((k, v));
        } else {
            m.compacted += 1;
        }
    }
    sort_unique(&mut tree);
    m.entries = tree;
    m
}

/// Merge a bucket other than `key` (rules 1, 2, 4).
pub fn merge_bucket<'a>(tree: Vec<(&'a [u8], &'a [u8])>, found: &[Found<'a>], lost: &[LostRange]) -> Merged<'a> {
    merge_with(tree, found, lost, |_, _| true)
}

/// Merge the `key` bucket (rules 1–4). `tree` holds the entries read from
/// the tree that are well-formed; `found` only well-formed entries.
pub fn merge_key_bucket<'a>(
    tree: Vec<(&'a [u8], &'a [u8])>,
    found: &[Found<'a>],
    lost: &[LostRange],
    compact: Option<i64>,
    keep_compact_tombstone: bool,
) -> Merged<'a> {
    let c = compact.unwrap_or(-1);
    // Per user key, the newest revision <= c among everything known.
    let mut newest: HashMap<&'a [u8], Revision> = HashMap::new();
    if c > 0 {
        let all = tree.iter().map(|(k, v)| (*k, *v)).chain(found.iter().map(|f| (f.key, f.value)));
        for (k, v) in all {
            let (Some(rev), Some(user)) = (Revision::parse(k), kv::key_of(v)) else { continue };
            if rev.main > c {
                continue;
            }
            let e = newest.entry(user).or_insert(rev);
            if (rev.main, rev.sub) > (e.main, e.sub) {
                *e = rev;
            }
        }
    }
    merge_with(tree, found, lost, |k, v| {
        let Some(rev) = Revision::parse(k) else { return false };
        if rev.main > c {
            return true;
        }
        if rev.tombstone && !(keep_compact_tombstone && rev.main == c) {
            return false;
        }
        kv::key_of(v).and_then(|u| newest.get(u)).is_some_and(|n| n.main == rev.main && n.sub == rev.sub)
    })
}

/// Does `b` directly follow `a` in a `key` bucket above its compact
/// revision? Every main revision there has an entry and its sub revisions
/// are 0, 1, 2, …: the next entry is the next sub of the same main or sub 0
/// of the next main.
fn follows(a: Revision, b: Revision) -> bool {
    same_main_next(a, b) || (Some(b.main) == a.main.checked_add(1) && b.sub == 0)
}

/// `b` is the next sub of `a`'s main: this pins both down.
fn same_main_next(a: Revision, b: Revision) -> bool {
    b.main == a.main && Some(b.sub) == a.sub.checked_add(1)
}

/// Entries of one page out of sequence with their neighbours: a damaged
/// revision key that still parses (a tombstone's key is not checked
/// against its value, and no sub revision is). `items` are (element index,
/// revision) in page order; `None` (a marker, a bad entry) constrains
/// nothing, and only adjacent elements above `floor` (the compact revision:
/// a compaction leaves gaps below it) are compared. Flagged: an element
/// whose links to both neighbours are broken; one whose link to its
/// predecessor is broken while that predecessor follows its own; one whose
/// link to its successor is broken while that successor is pinned down by
/// the next sub of the same main after it. On an undamaged page every link
/// holds, so nothing is flagged.
pub fn out_of_sequence(items: &[(usize, Option<Revision>)], floor: i64) -> Vec<bool> {
    let above = |k: usize| items.get(k).and_then(|(_, r)| r.filter(|r| r.main > floor));
    // link[k]: the pair (k, k+1), when both exist above the floor and are
    // adjacent elements: (follows, pinned by the same main)
    let link = |k: usize| -> Option<(bool, bool)> {
        let (a, b) = (above(k)?, above(k + 1)?);
        let (ia, ib) = (items.get(k)?.0, items.get(k + 1)?.0);
        (ia.checked_add(1) == Some(ib)).then(|| (follows(a, b), same_main_next(a, b)))
    };
    let mut out = vec![false; items.len()];
    for (i, o) in out.iter_mut().enumerate() {
        if above(i).is_none() {
            continue;
        }
        let left = i.checked_sub(1).and_then(link);
        let right = link(i);
        let broken = |l: Option<(bool, bool)>| l.is_some_and(|(f, _)| !f);
        // A link (p, q) that holds pins q down given p; one pinned by the
        // same main's next sub pins p down given q too.
        let flag = (broken(left) && broken(right))
            || (broken(left) && !broken(right) && i.checked_sub(2).and_then(link).is_some_and(|(f, _)| f))
            || (broken(right) && !broken(left) && link(i + 1).is_some_and(|(_, pinned)| pinned));
        *o = flag;
    }
    out
}

/// Compress sorted main revisions into inclusive runs.
pub fn runs(mains: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for m in mains {
        match out.last_mut() {
            Some((_, hi)) if m == *hi || Some(m) == hi.checked_add(1) => *hi = m,
            _ => out.push((m, m)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mvccpb::KeyValue;
    use prost::Message;

    fn put(main: i64, key: &str, create: i64, version: i64) -> (Vec<u8>, Vec<u8>) {
        let kv = KeyValue {
            key: key.into(),
            create_revision: create,
            mod_revision: main,
            version,
            value: b"v".to_vec(),
            lease: 0,
        };
        (Revision { main, sub: 0, tombstone: false }.to_key(), kv.encode_to_vec())
    }
    fn del(main: i64, key: &str) -> (Vec<u8>, Vec<u8>) {
        (
            Revision { main, sub: 0, tombstone: true }.to_key(),
            KeyValue { key: key.into(), ..Default::default() }.encode_to_vec(),
        )
    }
    fn found(e: &(Vec<u8>, Vec<u8>), pgid: u64) -> Found<'_> {
        Found { key: &e.0, value: &e.1, pgid, clean: true }
    }
    fn range(lo: i64, hi: i64) -> LostRange {
        LostRange {
            lo: Some(Revision { main: lo, sub: 0, tombstone: false }.to_key()),
            hi: Some(Revision { main: hi, sub: 0, tombstone: false }.to_key()),
        }
    }
    fn mains(m: &Merged<'_>) -> Vec<i64> {
        m.entries.iter().map(|(k, _)| Revision::parse(k).unwrap().main).collect()
    }

    #[test]
    fn classifies_entries() {
        let (k, v) = put(5, "a", 3, 2);
        assert_eq!(key_entry(&k, &v), KeyEntry::Valid(Revision { main: 5, sub: 0, tombstone: false }));
        let (k2, _) = put(6, "a", 3, 3);
        assert_eq!(key_entry(&k2, &v), KeyEntry::Invalid("mod_revision differs from the revision key"));
        let (tk, tv) = del(7, "a");
        assert!(matches!(key_entry(&tk, &tv), KeyEntry::Valid(r) if r.tombstone));
        assert!(matches!(key_entry(&tk, &v), KeyEntry::Invalid(_)));
        assert!(matches!(key_entry(&k, b""), KeyEntry::Marker(_)));
        assert!(matches!(key_entry(b"short", &v), KeyEntry::Invalid(_)));
        assert!(matches!(key_entry(&k, &[0xff, 0xff]), KeyEntry::Invalid(_)));
        let (bk, bv) = put(5, "a", 9, 1);
        assert!(matches!(key_entry(&bk, &bv), KeyEntry::Invalid(_)));
    }

    #[test]
    fn leases() {
        let l = crate::proto::leasepb::Lease { id: 0x1234, ttl: 60, remaining_ttl: 0 };
        let v = l.encode_to_vec();
        assert!(lease_entry(&0x1234u64.to_be_bytes(), &v));
        assert!(!lease_entry(&0x1235u64.to_be_bytes(), &v));
        assert!(!lease_entry(&[0x12, 0x34], &v));
        assert!(!lease_entry(&0x1234u64.to_be_bytes(), b"\xff"));
    }

    #[test]
    fn found_entries_fill_lost_ranges_only() {
        let all: Vec<_> = (1..=10).map(|m| put(m, &format!("k{m}"), m, 1)).collect();
        // the tree lost revisions 4..=6 (a page whose range is [4, 7))
        let tree: Vec<(&[u8], &[u8])> = all
            .iter()
            .filter(|(k, _)| !(4..=6).contains(&Revision::parse(k).unwrap().main))
            .map(|(k, v)| (k.as_slice(), v.as_slice()))
            .collect();
        // not in the tree, outside the range: compacted
        let mut stale = put(2, "old", 1, 2);
        stale.0 = Revision { main: 2, sub: 1, tombstone: false }.to_key();
        let f = vec![found(&all[3], 9), found(&all[5], 9), found(&all[1], 8), found(&stale, 8)];
        let m = merge_key_bucket(tree, &f, &[range(4, 7)], None, false);
        assert_eq!(mains(&m), vec![1, 2, 3, 4, 6, 7, 8, 9, 10]);
        assert_eq!(m.recovered.len(), 2);
        assert_eq!((m.duplicates, m.stale, m.compacted, m.conflicts), (1, 1, 0, 0));
    }

    #[test]
    fn compacted_history_is_not_resurrected() {
        // compact at 10: key a put at 3, deleted at 5 (both compacted away);
        // key b put at 4 and 6 (4 compacted, 6 kept); key c put at 12.
        let a3 = put(3, "a", 3, 1);
        let a5 = del(5, "a");
        let b4 = put(4, "b", 4, 1);
        let b6 = put(6, "b", 4, 2);
        let c12 = put(12, "c", 12, 1);
        let f = vec![found(&a3, 7), found(&a5, 7), found(&b4, 7), found(&b6, 7), found(&c12, 7)];
        let m = merge_key_bucket(Vec::new(), &f, &[LostRange::everything()], Some(10), false);
        assert_eq!(mains(&m), vec![6, 12]);
        assert_eq!(m.compacted, 3);
        // without the tombstone, a put that is newest at the compaction stays
        let f = vec![found(&a3, 7)];
        assert_eq!(mains(&merge_key_bucket(Vec::new(), &f, &[LostRange::everything()], Some(10), false)), vec![3]);
    }

    #[test]
    fn a_tombstone_at_the_compact_revision_follows_the_writers_rules() {
        // compact at 5: key a put at 3 and deleted at 5 (the compact revision
        // itself), key b put at 2 and deleted at 4, key c put at 4
        let a3 = put(3, "a", 3, 1);
        let a5 = del(5, "a");
        let b2 = put(2, "b", 2, 1);
        let b4 = del(4, "b");
        let c4 = put(4, "c", 4, 1);
        let f = vec![found(&a3, 7), found(&a5, 7), found(&b2, 7), found(&b4, 7), found(&c4, 7)];
        let lost = [LostRange::everything()];
        // 3.4.33-, 3.5.15-: the compaction deleted every tombstone at or below it
        let m = merge_key_bucket(Vec::new(), &f, &lost, Some(5), false);
        assert_eq!(mains(&m), vec![4]);
        assert_eq!(m.compacted, 4);
        // 3.4.34+, 3.5.16+, 3.6+: the tombstone at exactly 5 stays, not the one at 4
        let m = merge_key_bucket(Vec::new(), &f, &lost, Some(5), true);
        assert_eq!(mains(&m), vec![4, 5]);
        assert!(Revision::parse(m.entries[1].0).unwrap().tombstone);
        assert_eq!(m.compacted, 3);
    }

    #[test]
    fn conflicting_copies_prefer_clean_pages() {
        let a = put(4, "a", 4, 1);
        let mut b = a.clone();
        b.1.push(0x30); // extra field: lease 0... still decodes; different bytes
        b.1.push(0x01);
        let f = vec![
            Found { key: &a.0, value: &a.1, pgid: 3, clean: false },
            Found { key: &b.0, value: &b.1, pgid: 5, clean: true },
        ];
        let m = merge_key_bucket(Vec::new(), &f, &[LostRange::everything()], None, false);
        assert_eq!(m.conflicts, 1);
        assert_eq!(m.entries, vec![(&b.0[..], &b.1[..])]);
        assert_eq!(m.recovered, vec![(&b.0[..], 5)]);
    }

    #[test]
    fn tree_entries_are_sorted_and_unique() {
        let a = put(4, "a", 4, 1);
        let b = put(2, "b", 2, 1);
        let tree = vec![(&a.0[..], &a.1[..]), (&b.0[..], &b.1[..]), (&a.0[..], &b.1[..])];
        let m = merge_bucket(tree, &[], &[]);
        assert_eq!(m.entries, vec![(&b.0[..], &b.1[..]), (&a.0[..], &a.1[..])]);
    }

    #[test]
    fn out_of_sequence_catches_flipped_revision_keys() {
        let r = |main: i64, sub: i64| Some(Revision { main, sub, tombstone: false });
        // healthy: a txn (7/0..7/2) then 8/0, 9/0
        let ok = [(0, r(7, 0)), (1, r(7, 1)), (2, r(7, 2)), (3, r(8, 0)), (4, r(9, 0))];
        assert_eq!(out_of_sequence(&ok, 0), vec![false; 5]);
        // a flipped main in the middle and at the end; a flipped sub
        let bad = [(0, r(7, 0)), (1, r(1 << 40, 1)), (2, r(7, 2)), (3, r(8, 0)), (4, r(9, 1 << 33)), (5, r(10, 0))];
        assert_eq!(out_of_sequence(&bad, 0), vec![false, true, false, false, true, false]);
        let first = [(0, r(1 << 40, 0)), (1, r(7, 1)), (2, r(7, 2))];
        assert_eq!(out_of_sequence(&first, 0), vec![true, false, false]);
        let second = [(0, r(7, 0)), (1, r(1 << 40, 1)), (2, r(8, 0))];
        assert_eq!(out_of_sequence(&second, 0), vec![false, true, false]);
        let last = [(0, r(8, 0)), (1, r(9, 0)), (2, r(77_777_777, 0))];
        assert_eq!(out_of_sequence(&last, 0), vec![false, false, true]);
        // below the compact revision gaps are normal
        let compacted = [(0, r(3, 0)), (1, r(40, 0)), (2, r(41, 0))];
        assert_eq!(out_of_sequence(&compacted, 40), vec![false; 3]);
        // non-adjacent elements (a rejected one between) constrain nothing
        let gap = [(0, r(8, 0)), (2, r(12, 0))];
        assert_eq!(out_of_sequence(&gap, 0), vec![false; 2]);
        // markers and bad entries break the chain
        let marker = [(0, r(8, 0)), (1, None), (2, r(1008, 0))];
        assert_eq!(out_of_sequence(&marker, 0), vec![false; 3]);
    }

    #[test]
    fn runs_compress() {
        assert_eq!(runs([1, 2, 3, 5, 7, 8]), vec![(1, 3), (5, 5), (7, 8)]);
        assert_eq!(runs([]), vec![]);
        assert_eq!(runs([4, 4, 5]), vec![(4, 5)]);
    }
}
