//! Find leaf pages by scanning every page of the file, not by walking the
//! tree: the last resort of `salvage` for data whose path from the root is
//! broken (a damaged branch page, a damaged meta page, a bucket header
//! pointing nowhere).
//!
//! bbolt never erases a page: a page freed by a later transaction keeps its
//! old bytes until it is reused, and etcd on Linux does not persist a
//! freelist, so a file holds, besides the live tree, stale copies of older
//! versions of its pages. A scan therefore finds three kinds of leaves:
//! live ones (also reachable), stale ones (older copies, possibly of data
//! since deleted) and orphaned live ones (cut off by damage above them).
//! This module only finds pages that look like leaves and elements that are
//! well-formed; which of them mean something is the caller's business
//! (for etcd's `key` bucket: `mvcc::recover`).
//!
//! A page is a candidate when its header says "leaf" (flags exactly 0x02),
//! it has at least one element and its overflow run stays inside the file.
//! Each element is read with the same bounds checks as the tree walk
//! (position, key and value inside the page run); elements with bucket
//! flags or that fail `accept` are counted, not returned. Pages are scanned
//! in parallel; results come back in page order.

use rayon::prelude::*;

use super::db::Db;
use super::layout::{LEAF_ELEMENT_SIZE, LEAF_FLAG, PAGE_HEADER_SIZE};
use super::page::LeafElem;

/// One element of a scanned leaf that the caller accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FoundElem<'a> {
    /// Element index in its page.
    pub index: usize,
    /// File offset of the element header.
    pub offset: u64,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// A page that looks like a leaf and holds accepted elements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLeaf<'a> {
    pub pgid: u64,
    /// The id the page header claims (bbolt writes the page's own id).
    pub header_id: u64,
    pub overflow: u32,
    pub count: u16,
    /// Accepted elements, in page order.
    pub elems: Vec<FoundElem<'a>>,
    /// Elements that could not be read or were not accepted.
    pub rejected: usize,
}

impl FoundLeaf<'_> {
    /// Every element was read and accepted, and the header names the page
    /// itself: most likely an intact copy.
    pub fn is_clean(&self) -> bool {
        self.rejected == 0 && self.header_id == self.pgid
    }
}

/// Pages scanned per rayon task.
const CHUNK: u64 = 1024;

/// Scan pages `2..pages_in_file` (the whole file, also past the high-water
/// mark: pages written by a transaction whose meta page was lost live
/// there) for leaves with elements `accept` takes.
pub fn scan_leaves<'a, F>(db: &Db<'a>, accept: F) -> Vec<FoundLeaf<'a>>
where
    F: Fn(&LeafElem<'a>) -> bool + Sync,
{
    let pages = db.pages_in_file();
    let chunks: Vec<u64> = (2..pages.max(2)).step_by(CHUNK as usize).collect();
    let parts: Vec<Vec<FoundLeaf<'a>>> = chunks
        .into_par_iter()
        .map(|start| {
            let end = start.saturating_add(CHUNK).min(pages);
            (start..end).filter_map(|id| scan_page(db, id, &accept)).collect()
        })
        .collect();
    parts.into_iter().flatten().collect()
}

/// Page `id` if it looks like a leaf with accepted elements.
pub fn scan_page<'a, F>(db: &Db<'a>, id: u64, accept: &F) -> Option<FoundLeaf<'a>>
where
    F: Fn(&LeafElem<'a>) -> bool,
{
    let head = db.page_head(id).ok()?;
    if head.flags != LEAF_FLAG || head.count == 0 {
        return None;
    }
    // `page` fails when the overflow run leaves the file.
    let page = db.page(id).ok()?;
    let mut elems = Vec::new();
    let mut rejected = 0usize;
    let base = page.offset();
    // Elements whose header lies past the run cannot be read: count them
    // without trying (a hostile count would cost 65 535 reads per page).
    let count = usize::from(page.count);
    let fit = page.bytes.len().saturating_sub(PAGE_HEADER_SIZE) / LEAF_ELEMENT_SIZE;
    let readable = count.min(fit);
    rejected += count - readable;
    for i in 0..readable {
        match page.leaf(i) {
            Ok(e) if !e.is_bucket() && e.flags == 0 && accept(&e) => {
                let offset = base.saturating_add((PAGE_HEADER_SIZE + i * LEAF_ELEMENT_SIZE) as u64);
                elems.push(FoundElem { index: i, offset, key: e.key, value: e.value });
            }
            _ => rejected += 1,
        }
    }
    if elems.is_empty() {
        return None;
    }
    Some(FoundLeaf { pgid: id, header_id: page.header_id, overflow: page.overflow, count: page.count, elems, rejected })
}

#[cfg(test)]
mod tests {
    use super::super::meta::tests::meta_page;
    use super::super::page::tests::{branch_page, leaf_page};
    use super::*;
    use crate::bolt::layout::NO_FREELIST;

    const PS: usize = 512;

    fn file(pages: Vec<Vec<u8>>) -> Vec<u8> {
        let hwm = pages.len() as u64 + 2;
        let mut f = meta_page(0, PS as u32, 2, NO_FREELIST, hwm, 2);
        f.extend(meta_page(1, PS as u32, 2, NO_FREELIST, hwm, 3));
        for p in pages {
            f.extend(p);
        }
        f
    }

    #[test]
    fn finds_leaves_anywhere_and_filters_elements() {
        let mut damaged = leaf_page(5, PS, &[(b"k1", b"good", 0), (b"k2", b"bad!", 0), (b"k3", b"good", 0)]);
        // element 2's ksize runs off the page
        damaged[16 + 32 + 8..16 + 32 + 12].copy_from_slice(&9999u32.to_le_bytes());
        let f = file(vec![
            leaf_page(2, PS, &[(b"a", b"good", 0), (b"b", b"x", 1)]), // a bucket element is rejected
            branch_page(3, PS, &[(b"a", 2)]),
            vec![0u8; PS],
            damaged,
        ]);
        // one more page past the high-water mark
        let mut f = f;
        f.extend(leaf_page(6, PS, &[(b"z", b"good", 0)]));
        let db = Db::open(&f).unwrap();
        assert_eq!(db.hwm(), 6);
        let found = scan_leaves(&db, |e| e.value == b"good");
        let got: Vec<(u64, Vec<&[u8]>, usize)> =
            found.iter().map(|l| (l.pgid, l.elems.iter().map(|e| e.key).collect(), l.rejected)).collect();
        assert_eq!(
            got,
            vec![(2, vec![&b"a"[..]], 1), (5, vec![&b"k1"[..]], 2), (6, vec![&b"z"[..]], 0)],
            "page 3 is a branch, page 4 is zeros"
        );
        assert!(found[2].is_clean());
        assert!(!found[1].is_clean());
        assert_eq!(found[1].elems[0].offset, 5 * PS as u64 + 16);
    }

    #[test]
    fn overflow_past_the_file_and_hostile_counts_are_skipped() {
        let mut p = leaf_page(2, PS, &[(b"a", b"good", 0)]);
        p[12..16].copy_from_slice(&1000u32.to_le_bytes()); // overflow runs past EOF
        let mut q = leaf_page(3, PS, &[(b"a", b"good", 0)]);
        q[10..12].copy_from_slice(&0xFFFFu16.to_le_bytes()); // count far beyond the page
        let f = file(vec![p, q]);
        let db = Db::open(&f).unwrap();
        let found = scan_leaves(&db, |e| e.value == b"good");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].pgid, 3);
        assert_eq!(found[0].rejected, 0xFFFF - 1);
    }
}
