//! Structured damage to real etcd bbolt files, shared by `bolt_file_mutate`
//! and `db_jobs_mutate`: bit flips, bytes, integers written into page
//! headers and element fields, page swaps/copies/zeroing, truncation,
//! extension, meta fields set with the checksum fixed up.

use arbitrary::Arbitrary;
use etcd_forensics::bolt::layout::{META_CHECKSUM, META_MAGIC};
use etcd_forensics::bolt::meta::fnv1a64;

/// The fixtures the edits start from: a one-leaf db whose buckets are all
/// inline (with a snapshot trailer), and a db with branch pages, separate
/// bucket pages and overflow values.
pub const TINY: &[u8] = include_bytes!("../../testdata/fixtures/tiny/snapshot.db");
pub const V351: &[u8] = include_bytes!("../../testdata/fixtures/v3.5.1/member-db");
pub const PAGE: usize = 4096;
pub const MAX_OPS: usize = 16;

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Width {
    U8,
    U16,
    U32,
    U64,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Value {
    /// Small numbers: counts, page ids, sizes.
    Small(u8),
    Raw(u64),
    Max,
    /// Add to the current value (off-by-one and friends).
    Delta(i8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum MetaField {
    Magic,
    Version,
    PageSize,
    Flags,
    Root,
    Sequence,
    Freelist,
    HighWaterMark,
    Txid,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    FlipBit {
        at: u32,
        bit: u8,
    },
    SetByte {
        at: u32,
        value: u8,
    },
    /// Write an integer at an offset inside a page (headers, element
    /// fields, bucket headers all sit at small page offsets).
    Put {
        page: u16,
        off: u16,
        width: Width,
        value: Value,
    },
    /// Write into an element field of a page: element `elem`, field offset
    /// `field` (0..16) inside the 16-byte element array entry.
    PutElem {
        page: u16,
        elem: u8,
        field: u8,
        width: Width,
        value: Value,
    },
    SwapPages {
        a: u16,
        b: u16,
    },
    CopyPage {
        from: u16,
        to: u16,
    },
    ZeroPage {
        page: u16,
    },
    Truncate {
        len: u32,
    },
    /// Cut to a page boundary (optionally keeping a 32-byte "trailer").
    TruncatePages {
        pages: u16,
        trailer: bool,
    },
    Extend {
        pages: u8,
        fill: u8,
    },
    /// Set a meta field and recompute the checksum, so bbolt would trust it.
    Meta {
        slot: bool,
        field: MetaField,
        value: Value,
    },
    /// Recompute a meta page's checksum after other edits.
    FixMeta {
        slot: bool,
    },
}

pub fn read(f: &[u8], at: usize, w: Width) -> u64 {
    let n = width(w);
    let mut b = [0u8; 8];
    if let Some(s) = f.get(at..at + n) {
        b[..n].copy_from_slice(s);
    }
    u64::from_le_bytes(b)
}

pub fn width(w: Width) -> usize {
    match w {
        Width::U8 => 1,
        Width::U16 => 2,
        Width::U32 => 4,
        Width::U64 => 8,
    }
}

pub fn put(f: &mut [u8], at: usize, w: Width, v: Value) {
    let n = width(w);
    let old = read(f, at, w);
    let v = match v {
        Value::Small(s) => u64::from(s),
        Value::Raw(r) => r,
        Value::Max => u64::MAX,
        Value::Delta(d) => old.wrapping_add(d as i64 as u64),
    };
    if let Some(s) = f.get_mut(at..at + n) {
        s.copy_from_slice(&v.to_le_bytes()[..n]);
    }
}

pub fn page_range(f: &[u8], page: u16) -> Option<std::ops::Range<usize>> {
    let pages = f.len() / PAGE;
    if pages == 0 {
        return None;
    }
    let p = usize::from(page) % pages;
    Some(p * PAGE..(p + 1) * PAGE)
}

pub fn fix_meta(f: &mut [u8], slot: bool) {
    let base = if slot { PAGE } else { 0 };
    let Some(body) = f.get(base + META_MAGIC..base + META_CHECKSUM) else { return };
    let sum = fnv1a64(body);
    if let Some(s) = f.get_mut(base + META_CHECKSUM..base + META_CHECKSUM + 8) {
        s.copy_from_slice(&sum.to_le_bytes());
    }
}

pub fn apply(f: &mut Vec<u8>, op: Op) {
    match op {
        Op::FlipBit { at, bit } => {
            if !f.is_empty() {
                let i = at as usize % f.len();
                f[i] ^= 1 << (bit % 8);
            }
        }
        Op::SetByte { at, value } => {
            if !f.is_empty() {
                let i = at as usize % f.len();
                f[i] = value;
            }
        }
        Op::Put { page, off, width, value } => {
            if let Some(r) = page_range(f, page) {
                put(f, r.start + usize::from(off) % PAGE, width, value);
            }
        }
        Op::PutElem { page, elem, field, width, value } => {
            if let Some(r) = page_range(f, page) {
                put(f, r.start + 16 + 16 * usize::from(elem) + usize::from(field % 16), width, value);
            }
        }
        Op::SwapPages { a, b } => {
            if let (Some(ra), Some(rb)) = (page_range(f, a), page_range(f, b))
                && ra != rb
            {
                let tmp = f[ra.clone()].to_vec();
                f.copy_within(rb.clone(), ra.start);
                f[rb].copy_from_slice(&tmp);
            }
        }
        Op::CopyPage { from, to } => {
            if let (Some(rf), Some(rt)) = (page_range(f, from), page_range(f, to)) {
                f.copy_within(rf, rt.start);
            }
        }
        Op::ZeroPage { page } => {
            if let Some(r) = page_range(f, page) {
                f[r].fill(0);
            }
        }
        Op::Truncate { len } => {
            if !f.is_empty() {
                let n = len as usize % f.len();
                f.truncate(n);
            }
        }
        Op::TruncatePages { pages, trailer } => {
            let n = (usize::from(pages) * PAGE + if trailer { 32 } else { 0 }).min(f.len());
            f.truncate(n);
        }
        Op::Extend { pages, fill } => {
            let n = f.len() + usize::from(pages % 8) * PAGE;
            f.resize(n, fill);
        }
        Op::Meta { slot, field, value } => {
            let off = META_MAGIC
                + match field {
                    MetaField::Magic => 0,
                    MetaField::Version => 4,
                    MetaField::PageSize => 8,
                    MetaField::Flags => 12,
                    MetaField::Root => 16,
                    MetaField::Sequence => 24,
                    MetaField::Freelist => 32,
                    MetaField::HighWaterMark => 40,
                    MetaField::Txid => 48,
                };
            let w = if off < META_MAGIC + 16 { Width::U32 } else { Width::U64 };
            let base = if slot { PAGE } else { 0 };
            put(f, base + off, w, value);
            fix_meta(f, slot);
        }
        Op::FixMeta { slot } => fix_meta(f, slot),
    }
}

/// `orig` with up to [`MAX_OPS`] of `ops` applied.
pub fn damaged(orig: &[u8], ops: Vec<Op>) -> Vec<u8> {
    let mut file = orig.to_vec();
    for op in ops.into_iter().take(MAX_OPS) {
        apply(&mut file, op);
    }
    file
}
