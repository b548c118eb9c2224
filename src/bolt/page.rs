//! One page (plus its overflow run) and panic-free access to its elements.

use super::layout::*;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Result};

/// A page header plus the bytes of the whole run (`overflow + 1` pages).
#[derive(Debug, Clone, Copy)]
pub struct Page<'a> {
    /// The pgid we asked for (0 for an inline bucket page).
    pub pgid: u64,
    /// The `id` the page claims in its header.
    pub header_id: u64,
    pub flags: u16,
    pub count: u16,
    pub overflow: u32,
    /// Bytes of the whole run, starting at the page header.
    pub bytes: Bytes<'a>,
}

/// A leaf element with its key and value resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafElem<'a> {
    pub flags: u32,
    pub key: &'a [u8],
    pub value: &'a [u8],
}

impl LeafElem<'_> {
    pub fn is_bucket(&self) -> bool {
        self.flags & BUCKET_LEAF_FLAG != 0
    }
}

/// A branch element: the first key of a child and its pgid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BranchElem<'a> {
    pub key: &'a [u8],
    pub child: u64,
}

impl<'a> Page<'a> {
    /// Read the header of a page whose run is `bytes` (already bounded by
    /// the caller to the run's extent, or to one page when the overflow is
    /// not known yet).
    pub fn header(pgid: u64, bytes: Bytes<'a>) -> Result<Page<'a>> {
        Ok(Page {
            pgid,
            header_id: bytes.u64_le(PAGE_ID)?,
            flags: bytes.u16_le(PAGE_FLAGS)?,
            count: bytes.u16_le(PAGE_COUNT)?,
            overflow: bytes.u32_le(PAGE_OVERFLOW)?,
            bytes,
        })
    }

    pub fn is_branch(&self) -> bool {
        self.flags == BRANCH_FLAG
    }
    pub fn is_leaf(&self) -> bool {
        self.flags == LEAF_FLAG
    }
    pub fn type_name(&self) -> String {
        page_type_name(self.flags)
    }
    /// File offset of the page header.
    pub fn offset(&self) -> u64 {
        self.bytes.base()
    }

    fn element(&self, i: usize, size: usize) -> Result<(usize, Bytes<'a>)> {
        let off = i
            .checked_mul(size)
            .and_then(|x| x.checked_add(PAGE_HEADER_SIZE))
            .ok_or_else(|| Error::at(ErrorKind::Malformed("element index overflow".into()), self.offset()))?;
        let e = self.bytes.sub(off, size).map_err(|e| {
            Error::new(
                ErrorKind::Malformed(format!(
                    "element {i} of {} lies past the end of the page run ({} bytes)",
                    self.count,
                    self.bytes.len()
                )),
                e.location().clone(),
            )
        })?;
        Ok((off, e))
    }

    /// `len` bytes at `pos` past element offset `elem_off`; errors say which
    /// element and what ran out.
    fn payload(&self, i: usize, elem_off: usize, pos: u32, len: usize, what: &str) -> Result<&'a [u8]> {
        let start = elem_off.checked_add(pos as usize);
        match start.and_then(|s| self.bytes.slice(s, len).ok()) {
            Some(s) => Ok(s),
            None => Err(Error::at(
                ErrorKind::Malformed(format!(
                    "element {i}: {what} ({len} bytes at +{pos} from the element) runs past the end of the page run ({} bytes)",
                    self.bytes.len()
                )),
                self.bytes.base().saturating_add(elem_off as u64),
            )),
        }
    }

    /// Leaf element `i`.
    pub fn leaf(&self, i: usize) -> Result<LeafElem<'a>> {
        let (off, e) = self.element(i, LEAF_ELEMENT_SIZE)?;
        let flags = e.u32_le(0)?;
        let pos = e.u32_le(4)?;
        let ksize = e.u32_le(8)? as usize;
        let vsize = e.u32_le(12)? as usize;
        let kv_len = ksize
            .checked_add(vsize)
            .ok_or_else(|| Error::at(ErrorKind::Malformed("key+value size overflows".into()), e.base()))?;
        let kv = self.payload(i, off, pos, kv_len, "key and value")?;
        let (key, value) = kv
            .split_at_checked(ksize)
            .ok_or_else(|| Error::at(ErrorKind::Malformed("bad key size".into()), e.base()))?;
        Ok(LeafElem { flags, key, value })
    }

    /// Branch element `i`.
    pub fn branch(&self, i: usize) -> Result<BranchElem<'a>> {
        let (off, e) = self.element(i, BRANCH_ELEMENT_SIZE)?;
        let pos = e.u32_le(0)?;
        let ksize = e.u32_le(4)? as usize;
        let child = e.u64_le(8)?;
        let key = self.payload(i, off, pos, ksize, "key")?;
        Ok(BranchElem { key, child })
    }

    /// Bytes in use as bbolt's `Bucket.Stats()` counts them: the header,
    /// every element header, and the payloads up to the end of the last
    /// element's key (and value, for a leaf), found from that element's
    /// `pos` (bbolt relies on its writer placing payloads back to back).
    /// An empty page is just its header. Computed from the raw fields
    /// with saturating arithmetic, whatever they hold; when the last
    /// element itself lies outside the run, header + element headers.
    pub fn bbolt_in_use(&self) -> u64 {
        let header = PAGE_HEADER_SIZE as u64;
        let Some(last) = usize::from(self.count).checked_sub(1) else { return header };
        let elsz = if self.is_leaf() { LEAF_ELEMENT_SIZE } else { BRANCH_ELEMENT_SIZE };
        let elems = (last as u64).saturating_mul(elsz as u64).saturating_add(header);
        let at = PAGE_HEADER_SIZE.saturating_add(last.saturating_mul(elsz));
        let field = |off: usize| self.bytes.u32_le(at.saturating_add(off)).ok().map(u64::from);
        let tail = if self.is_leaf() {
            match (field(4), field(8), field(12)) {
                (Some(pos), Some(k), Some(v)) => Some(pos.saturating_add(k).saturating_add(v)),
                _ => None,
            }
        } else {
            match (field(0), field(4)) {
                (Some(pos), Some(k)) => Some(pos.saturating_add(k)),
                _ => None,
            }
        };
        elems.saturating_add(tail.unwrap_or(elsz as u64))
    }

    /// Number of ids stored in a freelist page and the offset they start at.
    pub fn freelist_span(&self) -> Result<(u64, usize)> {
        if self.count == FREELIST_COUNT_ESCAPE {
            Ok((self.bytes.u64_le(PAGE_HEADER_SIZE)?, PAGE_HEADER_SIZE + 8))
        } else {
            Ok((u64::from(self.count), PAGE_HEADER_SIZE))
        }
    }

    /// The ids of a freelist page. Errors if the ids run past the page run.
    pub fn freelist_ids(&self) -> Result<impl Iterator<Item = u64> + 'a> {
        let (n, start) = self.freelist_span()?;
        let need = n
            .checked_mul(8)
            .and_then(|b| usize::try_from(b).ok())
            .ok_or_else(|| Error::at(ErrorKind::Malformed(format!("freelist count {n} is absurd")), self.offset()))?;
        let ids = self.bytes.slice(start, need).map_err(|_| {
            Error::at(
                ErrorKind::Malformed(format!(
                    "freelist claims {n} ids ({need} bytes) but the page run has {} bytes after the header",
                    self.bytes.len().saturating_sub(start)
                )),
                self.offset(),
            )
        })?;
        Ok(ids.chunks_exact(8).map(|c| {
            let mut b = [0u8; 8];
            b.copy_from_slice(c);
            u64::from_le_bytes(b)
        }))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Build a page of `size` bytes from leaf (key, value, flags) entries,
    /// laid out as bbolt writes them.
    pub(crate) fn leaf_page(id: u64, size: usize, kvs: &[(&[u8], &[u8], u32)]) -> Vec<u8> {
        let mut p = vec![0u8; size];
        p[0..8].copy_from_slice(&id.to_le_bytes());
        p[8..10].copy_from_slice(&LEAF_FLAG.to_le_bytes());
        p[10..12].copy_from_slice(&(kvs.len() as u16).to_le_bytes());
        let mut data = 16 + 16 * kvs.len();
        for (i, (k, v, f)) in kvs.iter().enumerate() {
            let e = 16 + 16 * i;
            p[e..e + 4].copy_from_slice(&f.to_le_bytes());
            p[e + 4..e + 8].copy_from_slice(&((data - e) as u32).to_le_bytes());
            p[e + 8..e + 12].copy_from_slice(&(k.len() as u32).to_le_bytes());
            p[e + 12..e + 16].copy_from_slice(&(v.len() as u32).to_le_bytes());
            p[data..data + k.len()].copy_from_slice(k);
            data += k.len();
            p[data..data + v.len()].copy_from_slice(v);
            data += v.len();
        }
        p
    }

    pub(crate) fn branch_page(id: u64, size: usize, kids: &[(&[u8], u64)]) -> Vec<u8> {
        let mut p = vec![0u8; size];
        p[0..8].copy_from_slice(&id.to_le_bytes());
        p[8..10].copy_from_slice(&BRANCH_FLAG.to_le_bytes());
        p[10..12].copy_from_slice(&(kids.len() as u16).to_le_bytes());
        let mut data = 16 + 16 * kids.len();
        for (i, (k, c)) in kids.iter().enumerate() {
            let e = 16 + 16 * i;
            p[e..e + 4].copy_from_slice(&((data - e) as u32).to_le_bytes());
            p[e + 4..e + 8].copy_from_slice(&(k.len() as u32).to_le_bytes());
            p[e + 8..e + 16].copy_from_slice(&c.to_le_bytes());
            p[data..data + k.len()].copy_from_slice(k);
            data += k.len();
        }
        p
    }

    #[test]
    fn leaf_elements_resolve() {
        let p = leaf_page(3, 256, &[(b"a", b"1", 0), (b"bb", b"22", 1)]);
        let page = Page::header(3, Bytes::new(&p, 3 * 256)).unwrap();
        assert!(page.is_leaf());
        assert_eq!(page.leaf(0).unwrap(), LeafElem { flags: 0, key: b"a", value: b"1" });
        let e = page.leaf(1).unwrap();
        assert!(e.is_bucket());
        assert_eq!((e.key, e.value), (&b"bb"[..], &b"22"[..]));
    }

    #[test]
    fn bad_element_bounds_are_errors_with_offsets() {
        let mut p = leaf_page(3, 64, &[(b"a", b"1", 0)]);
        // vsize = 4 GiB - 1
        p[28..32].copy_from_slice(&u32::MAX.to_le_bytes());
        let page = Page::header(3, Bytes::new(&p, 192)).unwrap();
        let e = page.leaf(0).unwrap_err();
        assert_eq!(e.location().offset, Some(192 + 16));
        assert!(e.to_string().contains("element 0"), "{e}");
        // element 3 of a 64-byte page does not fit at all
        assert!(page.leaf(3).is_err());
        assert!(page.branch(usize::MAX).is_err());
    }

    #[test]
    fn in_use_as_bbolt_counts_it() {
        // leaf: 16 header + 2 * 16 elements + "a1" + "bb22"
        let p = leaf_page(3, 256, &[(b"a", b"1", 0), (b"bb", b"22", 0)]);
        let page = Page::header(3, Bytes::new(&p, 0)).unwrap();
        assert_eq!(page.bbolt_in_use(), 16 + 32 + 2 + 4);
        // branch: 16 + 2 * 16 + "a" + "mm"
        let p = branch_page(4, 256, &[(b"a", 7), (b"mm", 8)]);
        let page = Page::header(4, Bytes::new(&p, 0)).unwrap();
        assert_eq!(page.bbolt_in_use(), 16 + 32 + 1 + 2);
        // empty, and hostile fields: saturating, never a panic
        let p = leaf_page(5, 64, &[]);
        assert_eq!(Page::header(5, Bytes::new(&p, 0)).unwrap().bbolt_in_use(), 16);
        let mut p = leaf_page(5, 64, &[(b"a", b"1", 0)]);
        p[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
        p[24..28].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(Page::header(5, Bytes::new(&p, 0)).unwrap().bbolt_in_use(), 16 + 2 * u64::from(u32::MAX) + 1);
        p[10..12].copy_from_slice(&0xFFFFu16.to_le_bytes()); // last element past the page
        assert_eq!(Page::header(5, Bytes::new(&p, 0)).unwrap().bbolt_in_use(), 16 + 0xFFFE * 16 + 16);
    }

    #[test]
    fn freelist_forms() {
        let mut p = vec![0u8; 64];
        p[8..10].copy_from_slice(&FREELIST_FLAG.to_le_bytes());
        p[10..12].copy_from_slice(&2u16.to_le_bytes());
        p[16..24].copy_from_slice(&5u64.to_le_bytes());
        p[24..32].copy_from_slice(&9u64.to_le_bytes());
        let page = Page::header(2, Bytes::new(&p, 0)).unwrap();
        assert_eq!(page.freelist_ids().unwrap().collect::<Vec<_>>(), vec![5, 9]);
        // escape form: count 0xFFFF, real count in the first u64
        p[10..12].copy_from_slice(&0xFFFFu16.to_le_bytes());
        p[16..24].copy_from_slice(&2u64.to_le_bytes());
        p[24..32].copy_from_slice(&5u64.to_le_bytes());
        p[32..40].copy_from_slice(&9u64.to_le_bytes());
        let page = Page::header(2, Bytes::new(&p, 0)).unwrap();
        assert_eq!(page.freelist_ids().unwrap().collect::<Vec<_>>(), vec![5, 9]);
        // a hostile count is an error, not an allocation
        p[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        let page = Page::header(2, Bytes::new(&p, 0)).unwrap();
        assert!(page.freelist_ids().is_err());
    }
}
