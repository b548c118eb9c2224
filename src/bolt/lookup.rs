//! Point reads: find one top-level bucket by name and list its entries,
//! descending from the root as bbolt's `Cursor.seek` does, without walking
//! the whole file.
//!
//! Used to read small buckets (etcd's `meta`) before a full walk needs
//! what they say (the compact revision decides how the `key` bucket is
//! read). Damage is an [`Error`], not a finding: callers that want every
//! finding run [`walk`](super::walk) as well.
//!
//! Guards, as in the walker: every page id must be below the high-water
//! mark and its whole run inside the file ([`Db::page`]); descent is capped
//! at [`MAX_DEPTH`]; a page reached twice ends the read with
//! [`ErrorKind::Cycle`].

use std::collections::HashSet;

use super::db::Db;
use super::layout::{BUCKET_HEADER_SIZE, MAX_DEPTH};
use super::page::Page;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Location, Result};

/// A key/value borrowed from the file.
pub type Entry<'a> = (&'a [u8], &'a [u8]);

/// A top-level bucket found by [`bucket`].
#[derive(Debug, Clone, Copy)]
pub enum BucketRef<'a> {
    /// Root page id of the bucket's own tree.
    Tree(u64),
    /// An inline bucket: its leaf page lives in the parent's value.
    Inline(Page<'a>),
}

fn checked_page<'a>(db: &Db<'a>, pgid: u64) -> Result<Page<'a>> {
    if pgid < 2 || pgid >= db.hwm() {
        return Err(Error::new(
            ErrorKind::PageOutOfRange { page: pgid, high_water: db.hwm() },
            Location { file: None, offset: None, page: Some(pgid) },
        ));
    }
    let p = db.page(pgid)?;
    if !p.is_branch() && !p.is_leaf() {
        return Err(Error::new(
            ErrorKind::Malformed(format!("page {pgid} is a {} page inside a bucket tree", p.type_name())),
            Location::page(pgid, p.offset()),
        ));
    }
    Ok(p)
}

/// The top-level bucket `name`, or `None` if the root has no such bucket.
pub fn bucket<'a>(db: &Db<'a>, name: &[u8]) -> Result<Option<BucketRef<'a>>> {
    let mut pgid = db.meta().root;
    let mut seen = HashSet::new();
    for _ in 0..=MAX_DEPTH {
        if !seen.insert(pgid) {
            return Err(Error::new(ErrorKind::Cycle { page: pgid }, Location::default()));
        }
        let p = checked_page(db, pgid)?;
        if p.is_branch() {
            // The last child whose first key is <= name (the first if none).
            let mut child = None;
            for i in 0..usize::from(p.count) {
                let e = p.branch(i).map_err(|e| e.on_page(pgid))?;
                if child.is_some() && e.key > name {
                    break;
                }
                child = Some(e.child);
            }
            let Some(c) = child else { return Ok(None) };
            pgid = c;
            continue;
        }
        for i in 0..usize::from(p.count) {
            let e = p.leaf(i).map_err(|e| e.on_page(pgid))?;
            if e.key != name {
                continue;
            }
            if !e.is_bucket() {
                return Ok(None);
            }
            let at = p.offset();
            let b = Bytes::new(e.value, at);
            let root = b.u64_le(0).map_err(|e| e.on_page(pgid))?;
            if root != 0 {
                return Ok(Some(BucketRef::Tree(root)));
            }
            let page = b.tail(BUCKET_HEADER_SIZE).and_then(|pb| Page::header(0, pb)).map_err(|e| e.on_page(pgid))?;
            if !page.is_leaf() {
                return Err(Error::new(
                    ErrorKind::Malformed(format!("inline bucket page type is {}, want leaf", page.type_name())),
                    Location::page(pgid, at),
                ));
            }
            return Ok(Some(BucketRef::Inline(page)));
        }
        return Ok(None);
    }
    Err(Error::malformed(format!("root tree deeper than {MAX_DEPTH} levels"), Location::default()))
}

/// Every key/value of a bucket, in key order. Nested buckets are listed
/// with their header as the value (etcd never nests buckets).
pub fn entries<'a>(db: &Db<'a>, b: BucketRef<'a>) -> Result<Vec<Entry<'a>>> {
    let mut out = Vec::new();
    let leaf_into = |p: &Page<'a>, out: &mut Vec<Entry<'a>>| -> Result<()> {
        for i in 0..usize::from(p.count) {
            let e = p.leaf(i).map_err(|e| e.on_page(p.pgid))?;
            out.push((e.key, e.value));
        }
        Ok(())
    };
    let root = match b {
        BucketRef::Inline(p) => {
            leaf_into(&p, &mut out)?;
            return Ok(out);
        }
        BucketRef::Tree(root) => root,
    };
    let mut seen = HashSet::new();
    let mut stack = vec![(root, 0usize)];
    while let Some((pgid, depth)) = stack.pop() {
        if depth > MAX_DEPTH {
            return Err(Error::malformed(format!("bucket tree deeper than {MAX_DEPTH} levels"), Location::default()));
        }
        if !seen.insert(pgid) {
            return Err(Error::new(ErrorKind::Cycle { page: pgid }, Location::default()));
        }
        let p = checked_page(db, pgid)?;
        if p.is_leaf() {
            leaf_into(&p, &mut out)?;
            continue;
        }
        let first = stack.len();
        for i in 0..usize::from(p.count) {
            let e = p.branch(i).map_err(|e| e.on_page(pgid))?;
            stack.push((e.child, depth + 1));
        }
        // Children are visited first to last: pop order is the reverse of push.
        if let Some(kids) = stack.get_mut(first..) {
            kids.reverse();
        }
    }
    Ok(out)
}

/// The last key/value of a bucket (bbolt's `Cursor.Last`): descends the
/// rightmost path only.
pub fn last_entry<'a>(db: &Db<'a>, b: BucketRef<'a>) -> Result<Option<Entry<'a>>> {
    let last_of = |p: &Page<'a>| -> Result<Option<Entry<'a>>> {
        match usize::from(p.count).checked_sub(1) {
            Some(i) => p.leaf(i).map(|e| Some((e.key, e.value))).map_err(|e| e.on_page(p.pgid)),
            None => Ok(None),
        }
    };
    let mut pgid = match b {
        BucketRef::Inline(p) => return last_of(&p),
        BucketRef::Tree(root) => root,
    };
    let mut seen = HashSet::new();
    for _ in 0..=MAX_DEPTH {
        if !seen.insert(pgid) {
            return Err(Error::new(ErrorKind::Cycle { page: pgid }, Location::default()));
        }
        let p = checked_page(db, pgid)?;
        if p.is_leaf() {
            // bbolt skips empty leaves backwards; a valid tree has none.
            return last_of(&p);
        }
        let Some(i) = usize::from(p.count).checked_sub(1) else { return Ok(None) };
        pgid = p.branch(i).map_err(|e| e.on_page(pgid))?.child;
    }
    Err(Error::malformed(format!("bucket tree deeper than {MAX_DEPTH} levels"), Location::default()))
}

/// The entries of top-level bucket `name`, or `None` if there is none.
pub fn bucket_entries<'a>(db: &Db<'a>, name: &[u8]) -> Result<Option<Vec<Entry<'a>>>> {
    match bucket(db, name)? {
        Some(b) => entries(db, b).map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::BUCKET_LEAF_FLAG;
    use super::super::meta::tests::{bucket_header, small_file};
    use super::super::page::tests::{branch_page, leaf_page};
    use super::*;

    const PS: usize = 512;

    fn file(root: u64, pages: Vec<Vec<u8>>) -> Vec<u8> {
        small_file(PS as u32, root, pages)
    }

    fn header(root: u64) -> Vec<u8> {
        bucket_header(root)
    }

    /// root (page 2, branch) -> leaves 3 ("a": inline bucket) and 4 ("m": bucket at 5);
    /// 5 is a branch over leaves 6 and 7.
    fn sample() -> Vec<u8> {
        let mut inline = header(0);
        inline.extend(leaf_page(0, 64, &[(b"x", b"1", 0)]).into_iter().take(16 + 16 + 2));
        let root = branch_page(2, PS, &[(b"a", 3), (b"m", 4)]);
        let l3 = leaf_page(3, PS, &[(b"a", &inline, BUCKET_LEAF_FLAG), (b"b", b"plain", 0)]);
        let l4 = leaf_page(4, PS, &[(b"m", &header(5), BUCKET_LEAF_FLAG)]);
        let b5 = branch_page(5, PS, &[(b"k1", 6), (b"k3", 7)]);
        let l6 = leaf_page(6, PS, &[(b"k1", b"v1", 0), (b"k2", b"v2", 0)]);
        let l7 = leaf_page(7, PS, &[(b"k3", b"v3", 0)]);
        file(2, vec![root, l3, l4, b5, l6, l7])
    }

    #[test]
    fn finds_inline_and_tree_buckets() {
        let f = sample();
        let db = Db::open(&f).unwrap();
        let inline = bucket_entries(&db, b"a").unwrap().unwrap();
        assert_eq!(inline, vec![(&b"x"[..], &b"1"[..])]);
        let tree = bucket_entries(&db, b"m").unwrap().unwrap();
        let keys: Vec<&[u8]> = tree.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![&b"k1"[..], b"k2", b"k3"]);
        let m = bucket(&db, b"m").unwrap().unwrap();
        assert_eq!(last_entry(&db, m).unwrap(), Some((&b"k3"[..], &b"v3"[..])));
        let a = bucket(&db, b"a").unwrap().unwrap();
        assert_eq!(last_entry(&db, a).unwrap(), Some((&b"x"[..], &b"1"[..])));
        assert!(bucket_entries(&db, b"b").unwrap().is_none(), "a plain key is not a bucket");
        assert!(bucket_entries(&db, b"zzz").unwrap().is_none());
        assert!(bucket_entries(&db, b"0").unwrap().is_none());
    }

    #[test]
    fn damage_is_an_error_not_a_panic() {
        // Bucket root past the high-water mark.
        let l = leaf_page(2, PS, &[(b"m", &header(99), BUCKET_LEAF_FLAG)]);
        let f = file(2, vec![l]);
        let db = Db::open(&f).unwrap();
        let e = bucket_entries(&db, b"m").unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::PageOutOfRange { page: 99, .. }), "{e}");
        // A branch pointing at itself.
        let b = branch_page(2, PS, &[(b"a", 2)]);
        let f = file(2, vec![b]);
        let db = Db::open(&f).unwrap();
        assert!(matches!(bucket(&db, b"a").unwrap_err().kind(), ErrorKind::Cycle { page: 2 }));
    }
}
