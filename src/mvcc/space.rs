//! Where the `key` bucket's bytes go, by user-key prefix (`space`).
//!
//! Every entry of the `key` bucket is one revision of one user key (the
//! `key` field of its `mvccpb.KeyValue`, FORMATS.md §2.1, §2.2). An entry
//! takes `16 + len(revision key) + len(value)` bytes of a leaf page (the
//! leaf element header, then key and value): that is what "bytes" means
//! here, and the sum over all entries plus 16 bytes per leaf page is the
//! bucket's `LeafInuse`.
//!
//! Per user key, the newest stored revision is its current state: a put
//! (the key is live; its bytes are "current") or a tombstone (deleted).
//! Everything else is history that a compaction at the current revision
//! deletes (FORMATS.md §2.4): older puts ("superseded") and tombstones.
//! One exception: etcd ≥ 3.4.34 / 3.5.16 / 3.6 keeps a tombstone that is
//! exactly at the compaction revision; its bytes are still counted as
//! tombstone bytes.
//!
//! Keys are grouped by their first `depth` segments: split on `/` after an
//! optional leading `/`, so with depth 2 `/registry/pods/ns/name` belongs
//! to `/registry/pods` (Kubernetes: bytes by resource type); a key with
//! fewer segments is its own group.

use std::collections::HashMap;

use serde::Serialize;

use super::kv;
use super::revision::Revision;
use super::schema::show_bytes;

/// Name of the group holding what did not make the top N.
pub const OTHER: &str = "(other)";

/// Bytes an entry takes in a leaf page: element header, key, value.
pub fn entry_bytes(key: &[u8], value: &[u8]) -> u64 {
    16u64.saturating_add(key.len() as u64).saturating_add(value.len() as u64)
}

/// The first `depth` `/`-separated segments of `key` (after an optional
/// leading `/`); the whole key when it has fewer. `depth` 0 is treated as 1.
pub fn prefix_of(key: &[u8], depth: usize) -> &[u8] {
    let depth = depth.max(1);
    let start = usize::from(key.first() == Some(&b'/'));
    let mut seen = 0usize;
    for (i, &b) in key.iter().enumerate().skip(start) {
        if b == b'/' {
            seen += 1;
            if seen == depth {
                return key.get(..i).unwrap_or(key);
            }
        }
    }
    key
}

/// One prefix group (or the totals, or "(other)").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrefixUsage {
    /// The prefix, shown as text (escaped when not printable UTF-8).
    pub prefix: String,
    /// Groups folded into this row (1 for a prefix; more for "(other)" and totals).
    pub groups: u64,
    /// Distinct user keys with at least one stored revision.
    pub keys: u64,
    /// Keys whose newest revision is a put.
    pub live_keys: u64,
    /// Stored revisions (puts and tombstones).
    pub revisions: u64,
    /// Most revisions stored for one key, and that key (the smallest on a tie).
    pub max_revisions: u64,
    pub max_revisions_key: String,
    /// Bytes of the newest put of each live key: what stays after a compaction.
    pub current_bytes: u64,
    /// Bytes of older puts.
    pub superseded_bytes: u64,
    /// Bytes of tombstones.
    pub tombstone_bytes: u64,
    /// All three.
    pub total_bytes: u64,
    /// `superseded_bytes + tombstone_bytes`: what a compaction at the
    /// current revision deletes from the bucket.
    pub compactable_bytes: u64,
}

impl PrefixUsage {
    fn add(&mut self, o: &PrefixUsage) {
        self.groups = self.groups.saturating_add(o.groups);
        self.keys = self.keys.saturating_add(o.keys);
        self.live_keys = self.live_keys.saturating_add(o.live_keys);
        self.revisions = self.revisions.saturating_add(o.revisions);
        if o.max_revisions > self.max_revisions
            || (o.max_revisions == self.max_revisions
                && o.max_revisions > 0
                && o.max_revisions_key < self.max_revisions_key)
        {
            self.max_revisions = o.max_revisions;
            self.max_revisions_key.clone_from(&o.max_revisions_key);
        }
        self.current_bytes = self.current_bytes.saturating_add(o.current_bytes);
        self.superseded_bytes = self.superseded_bytes.saturating_add(o.superseded_bytes);
        self.tombstone_bytes = self.tombstone_bytes.saturating_add(o.tombstone_bytes);
        self.total_bytes = self.total_bytes.saturating_add(o.total_bytes);
        self.compactable_bytes = self.compactable_bytes.saturating_add(o.compactable_bytes);
    }
}

/// The `key` bucket by prefix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUsage {
    pub prefix_depth: usize,
    /// Groups in the file (before `top` cut them).
    pub group_count: u64,
    /// The largest groups by total bytes (ties by prefix), then
    /// "(other)" when more groups exist than `top`.
    pub groups: Vec<PrefixUsage>,
    /// Every readable entry.
    pub total: PrefixUsage,
    /// Entries whose key is not a revision key or whose value is not a
    /// KeyValue (etcd fails on them at boot): counted here only.
    pub unreadable_entries: u64,
    pub unreadable_bytes: u64,
}

/// One user key while counting.
#[derive(Debug, Clone, Copy, Default)]
struct KeyAcc {
    revisions: u64,
    total: u64,
    tombstones: u64,
    /// Bytes and kind of the newest revision seen so far.
    newest: u64,
    newest_rev: Option<Revision>,
}

/// Count `entries` (the `key` bucket, in key order) by prefix.
pub fn key_usage(entries: &[(&[u8], &[u8])], prefix_depth: usize, top: usize) -> KeyUsage {
    let mut keys: HashMap<&[u8], KeyAcc> = HashMap::new();
    let mut out = KeyUsage { prefix_depth, ..KeyUsage::default() };
    for &(k, v) in entries {
        let bytes = entry_bytes(k, v);
        let (Some(rev), Ok(kv)) = (Revision::parse(k), kv::decode(v)) else {
            out.unreadable_entries += 1;
            out.unreadable_bytes = out.unreadable_bytes.saturating_add(bytes);
            continue;
        };
        let a = keys.entry(kv.key).or_default();
        a.revisions += 1;
        a.total = a.total.saturating_add(bytes);
        if rev.tombstone {
            a.tombstones = a.tombstones.saturating_add(bytes);
        }
        // The bucket is in revision order, but do not rely on it.
        if a.newest_rev.is_none_or(|n| rev > n) {
            a.newest_rev = Some(rev);
            a.newest = bytes;
        }
    }
    let mut groups: HashMap<&[u8], PrefixUsage> = HashMap::new();
    for (key, a) in keys {
        let live = a.newest_rev.is_some_and(|r| !r.tombstone);
        let current = if live { a.newest } else { 0 };
        let one = PrefixUsage {
            prefix: String::new(),
            groups: 0,
            keys: 1,
            live_keys: u64::from(live),
            revisions: a.revisions,
            max_revisions: a.revisions,
            max_revisions_key: show_bytes(key),
            current_bytes: current,
            superseded_bytes: a.total.saturating_sub(current).saturating_sub(a.tombstones),
            tombstone_bytes: a.tombstones,
            total_bytes: a.total,
            compactable_bytes: a.total.saturating_sub(current),
        };
        let g = groups.entry(prefix_of(key, prefix_depth)).or_default();
        g.add(&one);
    }
    let mut list: Vec<PrefixUsage> = groups
        .into_iter()
        .map(|(p, mut g)| {
            g.prefix = if p.is_empty() { "(empty key)".into() } else { show_bytes(p) };
            g.groups = 1;
            g
        })
        .collect();
    list.sort_by(|a, b| b.total_bytes.cmp(&a.total_bytes).then_with(|| a.prefix.cmp(&b.prefix)));
    out.group_count = list.len() as u64;
    let mut total = PrefixUsage { prefix: "(total)".into(), ..PrefixUsage::default() };
    for g in &list {
        total.add(g);
    }
    out.total = total;
    if list.len() > top {
        let rest = list.split_off(top);
        let mut other = PrefixUsage { prefix: OTHER.into(), ..PrefixUsage::default() };
        for g in &rest {
            other.add(g);
        }
        list.push(other);
    }
    out.groups = list;
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvcc::index::tests::History;

    #[test]
    fn prefixes() {
        assert_eq!(prefix_of(b"/registry/pods/ns/name", 2), b"/registry/pods");
        assert_eq!(prefix_of(b"/registry/pods/ns/name", 1), b"/registry");
        assert_eq!(prefix_of(b"/registry/pods/ns/name", 9), b"/registry/pods/ns/name");
        assert_eq!(prefix_of(b"/plain/a", 2), b"/plain/a");
        assert_eq!(prefix_of(b"/plain/a", 1), b"/plain");
        assert_eq!(prefix_of(b"a/b/c", 1), b"a");
        assert_eq!(prefix_of(b"/", 1), b"/");
        assert_eq!(prefix_of(b"//x", 1), b"/");
        assert_eq!(prefix_of(b"", 2), b"");
        assert_eq!(prefix_of(b"abc", 0), b"abc");
    }

    fn borrowed(e: &[(Vec<u8>, Vec<u8>)]) -> Vec<(&[u8], &[u8])> {
        e.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect()
    }

    #[test]
    fn every_number_of_a_small_history() {
        let mut h = History::default();
        h.put(2, 0, "/a/x", "1").put(3, 0, "/a/x", "22").put(4, 0, "/a/y", "1").del(5, 0, "/a/y");
        h.put(6, 0, "/b/z", "1").put(6, 1, "/a/x", "333");
        let mut e = h.entries.clone();
        e.push((b"garbage".to_vec(), b"x".to_vec()));
        let sizes: Vec<u64> = e.iter().map(|(k, v)| entry_bytes(k, v)).collect();
        let u = key_usage(&borrowed(&e), 1, 20);
        assert_eq!((u.unreadable_entries, u.unreadable_bytes), (1, 16 + 7 + 1));
        assert_eq!(u.group_count, 2);
        let a = &u.groups[0];
        assert_eq!(a.prefix, "/a");
        assert_eq!((a.keys, a.live_keys, a.revisions, a.max_revisions), (2, 1, 5, 3));
        assert_eq!(a.max_revisions_key, "/a/x");
        // /a/x newest put at 6_1 (entry 5) is current; 2 and 3 superseded;
        // /a/y: put at 4 superseded, tombstone at 5.
        assert_eq!(a.current_bytes, sizes[5]);
        assert_eq!(a.superseded_bytes, sizes[0] + sizes[1] + sizes[2]);
        assert_eq!(a.tombstone_bytes, sizes[3]);
        assert_eq!(a.compactable_bytes, a.superseded_bytes + a.tombstone_bytes);
        assert_eq!(a.total_bytes, a.current_bytes + a.compactable_bytes);
        let b = &u.groups[1];
        assert_eq!(
            (b.prefix.as_str(), b.keys, b.live_keys, b.current_bytes, b.compactable_bytes),
            ("/b", 1, 1, sizes[4], 0)
        );
        assert_eq!(u.total.total_bytes, sizes[..6].iter().sum::<u64>());
        assert_eq!((u.total.keys, u.total.revisions, u.total.groups, u.total.max_revisions), (3, 6, 2, 3));
        // top 1: the rest folds into "(other)"
        let u1 = key_usage(&borrowed(&e), 1, 1);
        assert_eq!(u1.groups.len(), 2);
        assert_eq!(u1.groups[1].prefix, OTHER);
        assert_eq!(u1.groups[1], PrefixUsage { prefix: OTHER.into(), ..b.clone() });
        // top 0: everything is "(other)", equal to the total
        let u0 = key_usage(&borrowed(&e), 1, 0);
        assert_eq!(u0.groups, vec![PrefixUsage { prefix: OTHER.into(), ..u.total.clone() }]);
    }

    #[test]
    fn empty_values_and_keys() {
        // a --bump-revision marker: 17-byte key, empty value (KeyValue with an empty key)
        let marker = Revision { main: 9, sub: 0, tombstone: false }.to_key();
        let e = vec![(marker.as_slice(), &b""[..])];
        let u = key_usage(&e, 2, 20);
        assert_eq!(u.groups[0].prefix, "(empty key)");
        assert_eq!(u.groups[0].current_bytes, 16 + 17);
        let empty = key_usage(&[], 2, 20);
        assert!(empty.groups.is_empty() && empty.group_count == 0);
        assert_eq!(empty.total, PrefixUsage { prefix: "(total)".into(), ..PrefixUsage::default() });
    }
}
