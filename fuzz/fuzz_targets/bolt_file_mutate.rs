//! Real etcd files with fuzzer-chosen damage, then `scan_db` both ways.
//!
//! Random bytes rarely get past bbolt's meta checksum; starting from a real
//! file and applying a short list of structured edits (bit flips, integers
//! written into page headers and elements, page swaps and copies,
//! truncation, meta fields with the checksum fixed up) reaches the tree
//! walk, the inline buckets and the `key`-bucket checks at once.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use etcd_forensics::bolt::layout::{META_CHECKSUM, META_MAGIC};
use etcd_forensics::bolt::meta::fnv1a64;
use libfuzzer_sys::fuzz_target;

mod checks;

/// The fixtures the edits start from: a one-leaf db whose buckets are all
/// inline (with a snapshot trailer), and a db with branch pages, separate
/// bucket pages and overflow values.
const TINY: &[u8] = include_bytes!("../../testdata/fixtures/tiny/snapshot.db");
const V351: &[u8] = include_bytes!("../../testdata/fixtures/v3.5.1/member-db");
const PAGE: usize = 4096;
const MAX_OPS: usize = 16;

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Width {
    U8,
    U16,
    U32,
    U64,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Value {
    /// Small numbers: counts, page ids, sizes.
    Small(u8),
    Raw(u64),
    Max,
    /// Add to the current value (off-by-one and friends).
    Delta(i8),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum MetaField {
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
enum Op {
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

#[derive(Arbitrary, Debug)]
struct Input {
    big: bool,
    skip_trailer_hash: bool,
    ops: Vec<Op>,
}

fn read(f: &[u8], at: usize, w: Width) -> u64 {
    let n = width(w);
    let mut b = [0u8; 8];
    if let Some(s) = f.get(at..at + n) {
        b[..n].copy_from_slice(s);
    }
    u64::from_le_bytes(b)
}

fn width(w: Width) -> usize {
    match w {
        Width::U8 => 1,
        Width::U16 => 2,
        Width::U32 => 4,
        Width::U64 => 8,
    }
}

fn put(f: &mut [u8], at: usize, w: Width, v: Value) {
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

fn page_range(f: &[u8], page: u16) -> Option<std::ops::Range<usize>> {
    let pages = f.len() / PAGE;
    if pages == 0 {
        return None;
    }
    let p = usize::from(page) % pages;
    Some(p * PAGE..(p + 1) * PAGE)
}

fn fix_meta(f: &mut [u8], slot: bool) {
    let base = if slot { PAGE } else { 0 };
    let Some(body) = f.get(base + META_MAGIC..base + META_CHECKSUM) else { return };
    let sum = fnv1a64(body);
    if let Some(s) = f.get_mut(base + META_CHECKSUM..base + META_CHECKSUM + 8) {
        s.copy_from_slice(&sum.to_le_bytes());
    }
}

fn apply(f: &mut Vec<u8>, op: Op) {
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

fuzz_target!(|bytes: &[u8]| {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(bytes)) else { return };
    let mut file = if input.big { V351.to_vec() } else { TINY.to_vec() };
    for op in input.ops.into_iter().take(MAX_OPS) {
        apply(&mut file, op);
    }
    // Reproducing a crash: `BOLT_FILE_MUTATE_DUMP=out.db bolt_file_mutate
    // crash-input` writes the edited file, which then replays through the
    // plain `bolt_file` path (and belongs in testdata/fuzz/bolt_file/).
    if let Some(out) = std::env::var_os("BOLT_FILE_MUTATE_DUMP") {
        let _ = std::fs::write(out, &file);
    }
    checks::bolt_file(&file, input.skip_trailer_hash);
});
