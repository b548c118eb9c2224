//! Meta pages (pages 0 and 1): parse, validate, choose the current one.
//!
//! bbolt keeps two meta pages; a transaction with id T writes page `T % 2`.
//! The meta with the larger txid that validates is current; if it fails,
//! the other is used (`DB.meta()`); if both fail the file cannot be opened.

use serde::Serialize;

use super::layout::*;
use crate::bytes::{le_u32, le_u64};

/// A parsed meta struct (whether or not it validates).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub page_id: u64,
    pub magic: u32,
    pub version: u32,
    pub page_size: u32,
    pub root: u64,
    pub sequence: u64,
    pub freelist: u64,
    /// High-water mark (`meta.pgid`).
    pub hwm: u64,
    pub txid: u64,
    pub checksum: u64,
}

/// Why a meta page is not usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "problem")]
pub enum MetaProblem {
    /// Fewer bytes than a meta page needs.
    Truncated,
    /// `invalid database` in bbolt.
    BadMagic { found: u32 },
    /// `version mismatch` in bbolt.
    BadVersion { found: u32 },
    /// `checksum error` in bbolt.
    BadChecksum { stored: u64, computed: u64 },
    /// Checksummed, but the page size is outside what any bbolt writes.
    BadPageSize { found: u32 },
}

impl std::fmt::Display for MetaProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MetaProblem::Truncated => write!(f, "meta page is truncated"),
            MetaProblem::BadMagic { found } => {
                write!(f, "bad magic {found:#010x} (want {MAGIC:#010x}): bbolt says \"invalid database\"")
            }
            MetaProblem::BadVersion { found } => {
                write!(f, "bad version {found} (want {VERSION}): bbolt says \"version mismatch\"")
            }
            MetaProblem::BadChecksum { stored, computed } => write!(
                f,
                "checksum mismatch: stored {stored:#018x}, computed {computed:#018x}: bbolt says \"checksum error\""
            ),
            MetaProblem::BadPageSize { found } => {
                write!(f, "page size {found} is outside {MIN_PAGE_SIZE}..={MAX_PAGE_SIZE}")
            }
        }
    }
}

/// FNV-1a 64, bbolt's meta checksum.
pub fn fnv1a64(data: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

impl Meta {
    /// Parse the meta struct from a page buffer (`page` starts at the page
    /// header). Returns `None` if the buffer is too short.
    pub fn parse(page: &[u8]) -> Option<Meta> {
        Some(Meta {
            page_id: le_u64(page, PAGE_ID)?,
            magic: le_u32(page, META_MAGIC)?,
            version: le_u32(page, META_VERSION)?,
            page_size: le_u32(page, META_PAGE_SIZE)?,
            root: le_u64(page, META_ROOT)?,
            sequence: le_u64(page, META_SEQUENCE)?,
            freelist: le_u64(page, META_FREELIST)?,
            hwm: le_u64(page, META_PGID)?,
            txid: le_u64(page, META_TXID)?,
            checksum: le_u64(page, META_CHECKSUM)?,
        })
    }

    /// Validate as bbolt >= 1.3.7 does (`Meta.Validate`): magic, version,
    /// then checksum. bbolt 1.3.6 also accepted a stored checksum of 0; we
    /// do not (a zero checksum is never written).
    pub fn validate(page: &[u8]) -> Result<Meta, MetaProblem> {
        let meta = Meta::parse(page).ok_or(MetaProblem::Truncated)?;
        if meta.magic != MAGIC {
            return Err(MetaProblem::BadMagic { found: meta.magic });
        }
        if meta.version != VERSION {
            return Err(MetaProblem::BadVersion { found: meta.version });
        }
        let computed = page.get(META_MAGIC..META_CHECKSUM).map(fnv1a64).ok_or(MetaProblem::Truncated)?;
        if computed != meta.checksum {
            return Err(MetaProblem::BadChecksum { stored: meta.checksum, computed });
        }
        Ok(meta)
    }

    pub fn has_freelist(&self) -> bool {
        self.freelist != NO_FREELIST
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Build a valid meta page of `page_size` bytes.
    pub(crate) fn meta_page(id: u64, page_size: u32, root: u64, freelist: u64, hwm: u64, txid: u64) -> Vec<u8> {
        let mut p = vec![0u8; page_size as usize];
        p[0..8].copy_from_slice(&id.to_le_bytes());
        p[8..10].copy_from_slice(&META_FLAG.to_le_bytes());
        p[16..20].copy_from_slice(&MAGIC.to_le_bytes());
        p[20..24].copy_from_slice(&VERSION.to_le_bytes());
        p[24..28].copy_from_slice(&page_size.to_le_bytes());
        p[32..40].copy_from_slice(&root.to_le_bytes());
        p[48..56].copy_from_slice(&freelist.to_le_bytes());
        p[56..64].copy_from_slice(&hwm.to_le_bytes());
        p[64..72].copy_from_slice(&txid.to_le_bytes());
        let c = fnv1a64(&p[16..72]);
        p[72..80].copy_from_slice(&c.to_le_bytes());
        p
    }

    /// A small file: two metas (root `root`, HWM = pages.len() + 2, no
    /// persisted freelist), then `pages` from pgid 2.
    pub(crate) fn small_file(page_size: u32, root: u64, pages: Vec<Vec<u8>>) -> Vec<u8> {
        let hwm = pages.len() as u64 + 2;
        let mut f = meta_page(0, page_size, root, NO_FREELIST, hwm, 2);
        f.extend(meta_page(1, page_size, root, NO_FREELIST, hwm, 3));
        for p in pages {
            f.extend(p);
        }
        f
    }

    /// A bucket header value: root pgid (0 = inline) and sequence 0.
    pub(crate) fn bucket_header(root: u64) -> Vec<u8> {
        let mut v = root.to_le_bytes().to_vec();
        v.extend(0u64.to_le_bytes());
        v
    }

    #[test]
    fn fnv_known_values() {
        assert_eq!(fnv1a64(b""), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a"), 0xaf63dc4c8601ec8c);
    }

    #[test]
    fn valid_meta_round_trips() {
        let p = meta_page(1, 4096, 3, NO_FREELIST, 5, 9);
        let m = Meta::validate(&p).unwrap();
        assert_eq!((m.page_id, m.root, m.hwm, m.txid, m.page_size), (1, 3, 5, 9, 4096));
        assert!(!m.has_freelist());
    }

    #[test]
    fn each_problem_is_detected() {
        let good = meta_page(0, 4096, 3, 2, 4, 0);
        let mut p = good.clone();
        p[16] ^= 1;
        assert!(matches!(Meta::validate(&p), Err(MetaProblem::BadMagic { .. })));
        let mut p = good.clone();
        p[20] = 3;
        assert!(matches!(Meta::validate(&p), Err(MetaProblem::BadVersion { found: 3 })));
        let mut p = good.clone();
        p[64] ^= 0x80;
        assert!(matches!(Meta::validate(&p), Err(MetaProblem::BadChecksum { .. })));
        assert_eq!(Meta::validate(&good[..70]), Err(MetaProblem::Truncated));
        // The page header is not covered by the checksum.
        let mut p = good;
        p[0] = 7;
        assert!(Meta::validate(&p).is_ok());
    }
}
