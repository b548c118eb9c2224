//! Opening a bbolt file: page-size detection, meta selection, page access.

use serde::Serialize;

use super::layout::*;
use super::meta::{Meta, MetaProblem};
use super::page::Page;
use crate::bytes::Bytes;
use crate::error::{Error, ErrorKind, Location, Result};

/// One of the two meta pages as found on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MetaSlot {
    /// 0 or 1.
    pub index: u8,
    /// File offset of the page.
    pub offset: u64,
    /// The parsed struct, valid or not (None if not even readable).
    pub meta: Option<Meta>,
    /// Why it is not usable, if it is not.
    pub problem: Option<MetaProblem>,
}

impl MetaSlot {
    fn read(index: u8, data: &[u8], offset: u64) -> MetaSlot {
        let page = usize::try_from(offset).ok().and_then(|o| data.get(o..)).unwrap_or(&[]);
        let page = page.get(..META_END).unwrap_or(page);
        let meta = Meta::parse(page);
        let problem = match Meta::validate(page) {
            Ok(m) if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&m.page_size) => {
                Some(MetaProblem::BadPageSize { found: m.page_size })
            }
            Ok(_) => None,
            Err(p) => Some(p),
        };
        MetaSlot { index, offset, meta, problem }
    }
    pub fn is_valid(&self) -> bool {
        self.problem.is_none() && self.meta.is_some()
    }
    pub fn valid_meta(&self) -> Option<&Meta> {
        if self.problem.is_none() { self.meta.as_ref() } else { None }
    }
}

/// An opened bbolt file.
#[derive(Debug, Clone)]
pub struct Db<'a> {
    data: &'a [u8],
    page_size: u32,
    slots: [MetaSlot; 2],
    current: u8,
    meta: Meta,
}

/// Why a file cannot be opened as a bbolt database at all.
#[derive(Debug, Clone)]
pub struct OpenFailure {
    pub error: Error,
    /// The meta pages as far as they could be read.
    pub slots: Vec<MetaSlot>,
}

impl<'a> Db<'a> {
    /// Open `data` (a whole file) as bbolt does, read-only.
    pub fn open(data: &'a [u8]) -> std::result::Result<Db<'a>, OpenFailure> {
        let len = data.len() as u64;
        let fail = |error: Error, slots: Vec<MetaSlot>| Err(OpenFailure { error, slots });
        if data.is_empty() {
            return fail(Error::new(ErrorKind::NotBolt("the file is empty (0 bytes)".into()), Location::at(0)), vec![]);
        }
        // Page size: meta 0 if it validates, else the first meta that
        // validates at 1 KiB .. 16 MiB, as bbolt >= 1.3.7 does
        // (`getPageSize`: it takes that meta's page size field whatever the
        // offset it was found at). This page size addresses every page,
        // meta 1 included; the chosen meta's own field does not.
        let slot0 = MetaSlot::read(0, data, 0);
        let page_size = match slot0.valid_meta() {
            Some(m) => Some(m.page_size),
            None => (0..15u32).find_map(|i| {
                let off = 1024u64 << i;
                if off >= len.saturating_sub(1024) {
                    return None;
                }
                let s = MetaSlot::read(1, data, off);
                s.valid_meta().map(|m| m.page_size)
            }),
        };
        // Fall back to the OS page size, as bbolt does.
        let page_size = page_size.unwrap_or(4096);
        let slot1 = MetaSlot::read(1, data, u64::from(page_size));
        let slots = [slot0, slot1];
        if len < 2 * u64::from(page_size) {
            return fail(
                Error::new(ErrorKind::Truncated { need: 2 * u64::from(page_size), have: len }, Location::at(len))
                    .with_hint("bbolt says \"file size too small\": both meta pages must be present"),
                slots.to_vec(),
            );
        }
        let pick = match (slots[0].valid_meta(), slots[1].valid_meta()) {
            (Some(a), Some(b)) => Some(if b.txid > a.txid { 1 } else { 0 }),
            (Some(_), None) => Some(0),
            (None, Some(_)) => Some(1),
            (None, None) => None,
        };
        let Some(current) = pick else {
            let why = slots
                .iter()
                .map(|s| format!("meta {}: {}", s.index, s.problem.as_ref().map(|p| p.to_string()).unwrap_or_default()))
                .collect::<Vec<_>>()
                .join("; ");
            return fail(
                Error::new(ErrorKind::NotBolt(format!("no valid meta page ({why})")), Location::at(0)),
                slots.to_vec(),
            );
        };
        let Some(meta) = slots.get(current).and_then(|s| s.valid_meta()).copied() else {
            return fail(Error::new(ErrorKind::NotBolt("no valid meta page".into()), Location::at(0)), slots.to_vec());
        };
        Ok(Db { data, page_size, slots, current: current as u8, meta })
    }

    /// The same bytes seen through a meta of the caller's choosing: the
    /// other meta page's tree, or a meta that fails validation but still
    /// names a tree (`salvage`). `index` is the meta page it came from.
    /// `None` when its page size is not one bbolt writes.
    pub fn with_meta(data: &'a [u8], meta: Meta, index: u8) -> Option<Db<'a>> {
        let ps = meta.page_size;
        if !(MIN_PAGE_SIZE..=MAX_PAGE_SIZE).contains(&ps) || !ps.is_power_of_two() {
            return None;
        }
        let slots = [MetaSlot::read(0, data, 0), MetaSlot::read(1, data, u64::from(ps))];
        Some(Db { data, page_size: ps, slots, current: index.min(1), meta })
    }

    pub fn data(&self) -> &'a [u8] {
        self.data
    }
    pub fn page_size(&self) -> u32 {
        self.page_size
    }
    pub fn meta(&self) -> &Meta {
        &self.meta
    }
    pub fn slots(&self) -> &[MetaSlot; 2] {
        &self.slots
    }
    /// Index (0/1) of the meta page in use.
    pub fn current_meta(&self) -> u8 {
        self.current
    }
    pub fn hwm(&self) -> u64 {
        self.meta.hwm
    }
    /// `HWM * pageSize`: what bbolt calls the size (`Tx.Size`).
    pub fn logical_size(&self) -> u64 {
        self.meta.hwm.saturating_mul(u64::from(self.page_size))
    }
    /// Number of whole pages present in the file.
    pub fn pages_in_file(&self) -> u64 {
        self.data.len() as u64 / u64::from(self.page_size)
    }
    /// File offset of page `pgid` (saturating).
    pub fn offset_of(&self, pgid: u64) -> u64 {
        pgid.saturating_mul(u64::from(self.page_size))
    }

    /// The header of page `pgid` and the bytes of its first page only.
    pub fn page_head(&self, pgid: u64) -> Result<Page<'a>> {
        let ps = u64::from(self.page_size);
        let off = self.offset_of(pgid);
        let bytes = self.range(off, ps).map_err(|e| e.on_page(pgid))?;
        Page::header(pgid, bytes).map_err(|e| e.on_page(pgid))
    }

    /// Page `pgid` with its whole overflow run. Errors if the run leaves the file.
    pub fn page(&self, pgid: u64) -> Result<Page<'a>> {
        let head = self.page_head(pgid)?;
        let pages = u64::from(head.overflow) + 1;
        let len = pages.saturating_mul(u64::from(self.page_size));
        let bytes = self.range(self.offset_of(pgid), len).map_err(|e| e.on_page(pgid))?;
        Ok(Page { bytes, ..head })
    }

    fn range(&self, off: u64, len: u64) -> Result<Bytes<'a>> {
        let all = Bytes::new(self.data, 0);
        match (usize::try_from(off), usize::try_from(len)) {
            (Ok(o), Ok(l)) => all.sub(o, l),
            _ => Err(Error::at(ErrorKind::Truncated { need: len, have: 0 }, off)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::meta::tests::meta_page;
    use super::*;

    fn file(ps: u32, metas: [(u64, u64); 2], extra_pages: usize) -> Vec<u8> {
        let mut f = Vec::new();
        for (i, (hwm, txid)) in metas.iter().enumerate() {
            f.extend(meta_page(i as u64, ps, 3, NO_FREELIST, *hwm, *txid));
        }
        f.resize(f.len() + extra_pages * ps as usize, 0);
        f
    }

    #[test]
    fn picks_newest_valid_meta() {
        let f = file(4096, [(4, 6), (4, 7)], 2);
        let db = Db::open(&f).unwrap();
        assert_eq!((db.current_meta(), db.meta().txid), (1, 7));
        let mut g = f.clone();
        g[4096 + 70] ^= 1; // break meta 1's checksum
        let db = Db::open(&g).unwrap();
        assert_eq!((db.current_meta(), db.meta().txid), (0, 6));
        assert!(!db.slots()[1].is_valid());
    }

    #[test]
    fn probes_page_size_when_meta0_is_bad() {
        let mut f = file(16384, [(4, 2), (4, 3)], 2);
        f[16] = 0; // meta 0 magic
        let db = Db::open(&f).unwrap();
        assert_eq!(db.page_size(), 16384);
        assert_eq!(db.current_meta(), 1);
    }

    #[test]
    fn unopenable_files() {
        assert!(Db::open(&[]).is_err());
        let f = file(4096, [(4, 2), (4, 3)], 0);
        let e = Db::open(&f[..5000]).unwrap_err();
        assert!(matches!(e.error.kind(), ErrorKind::Truncated { .. }), "{}", e.error);
        let mut g = f.clone();
        g[16] = 0;
        g[4096 + 16] = 0;
        let e = Db::open(&g).unwrap_err();
        assert!(e.error.to_string().contains("no valid meta page"), "{}", e.error);
        assert!(Db::open(&vec![0xA5u8; 100_000]).is_err());
    }

    #[test]
    fn page_access_is_bounded() {
        let f = file(4096, [(4, 2), (4, 3)], 2);
        let db = Db::open(&f).unwrap();
        assert!(db.page_head(3).is_ok());
        let e = db.page_head(4).unwrap_err();
        assert_eq!(e.location().page, Some(4));
        assert!(db.page_head(u64::MAX).is_err());
    }
}
