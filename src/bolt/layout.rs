//! bbolt on-disk layout: offsets and constants.
//!
//! Written by bbolt (etcd 3.4: bbolt 1.3.x, `page.go`, `db.go`; etcd 3.6+:
//! bbolt 1.4/1.5, `internal/common/page.go`, `meta.go`). Byte order is the
//! writer's CPU order; every etcd file in practice is little-endian, which is
//! what we read.
//!
//! ```text
//! every page:
//! +0   8  id         u64   pgid of this page (bbolt >= 1.3.7 asserts it)
//! +8   2  flags      u16   0x01 branch, 0x02 leaf, 0x04 meta, 0x10 freelist
//! +10  2  count      u16   elements (branch/leaf), ids (freelist, 0xFFFF escape)
//! +12  4  overflow   u32   extra contiguous pages this page occupies
//! +16  ...            element array / meta struct / freelist ids
//!
//! meta page (pages 0 and 1), after the header:
//! +16  4  magic      0xED0CDAED
//! +20  4  version    2
//! +24  4  pageSize
//! +28  4  flags      unused
//! +32  8  root       root bucket's root pgid
//! +40  8  sequence   root bucket sequence
//! +48  8  freelist   freelist pgid, or u64::MAX when not persisted (etcd on Linux)
//! +56  8  pgid       high-water mark: one past the highest page in use
//! +64  8  txid
//! +72  8  checksum   FNV-1a 64 over bytes [16, 72)
//!
//! branch element (16 bytes, at 16 + 16*i):   leaf element (16 bytes):
//! +0 4 pos   distance element -> key          +0  4 flags  0x01 = nested bucket
//! +4 4 ksize                                  +4  4 pos    distance element -> key
//! +8 8 pgid  child page                       +8  4 ksize
//!                                             +12 4 vsize  (value follows key)
//!
//! bucket value (leaf element with flag 0x01):
//! +0  8 root      pgid of the bucket's root page, 0 = inline
//! +8  8 sequence
//! +16 ...         inline only: a whole leaf page (header + elements)
//! ```

/// Size of the common page header.
pub const PAGE_HEADER_SIZE: usize = 16;
pub const PAGE_ID: usize = 0;
pub const PAGE_FLAGS: usize = PAGE_ID + 8;
pub const PAGE_COUNT: usize = PAGE_FLAGS + 2;
pub const PAGE_OVERFLOW: usize = PAGE_COUNT + 2;

pub const BRANCH_FLAG: u16 = 0x01;
pub const LEAF_FLAG: u16 = 0x02;
pub const META_FLAG: u16 = 0x04;
pub const FREELIST_FLAG: u16 = 0x10;

/// Leaf element flag: the value is a nested bucket header.
pub const BUCKET_LEAF_FLAG: u32 = 0x01;

pub const META_MAGIC: usize = PAGE_HEADER_SIZE;
pub const META_VERSION: usize = META_MAGIC + 4;
pub const META_PAGE_SIZE: usize = META_VERSION + 4;
pub const META_FLAGS: usize = META_PAGE_SIZE + 4;
pub const META_ROOT: usize = META_FLAGS + 4;
pub const META_SEQUENCE: usize = META_ROOT + 8;
pub const META_FREELIST: usize = META_SEQUENCE + 8;
pub const META_PGID: usize = META_FREELIST + 8;
pub const META_TXID: usize = META_PGID + 8;
pub const META_CHECKSUM: usize = META_TXID + 8;
/// End of the meta struct.
pub const META_END: usize = META_CHECKSUM + 8;

pub const MAGIC: u32 = 0xED0C_DAED;
pub const VERSION: u32 = 2;
/// `meta.freelist` value meaning "freelist not persisted" (`PgidNoFreelist`).
pub const NO_FREELIST: u64 = u64::MAX;

pub const BRANCH_ELEMENT_SIZE: usize = 16;
pub const LEAF_ELEMENT_SIZE: usize = 16;
/// Size of the bucket header stored as a bucket's value.
pub const BUCKET_HEADER_SIZE: usize = 16;

/// bbolt refuses page counts at or above this in one node.
pub const MAX_ELEMENTS: usize = 0xFFFF;
/// Freelist `count` escape: the real count is the first u64.
pub const FREELIST_COUNT_ESCAPE: u16 = 0xFFFF;

/// bbolt key size limit (`MaxKeySize`).
pub const MAX_KEY_SIZE: usize = 32768;

/// Depth cap for tree descent. A bbolt tree of 2^64 keys with 2 keys per
/// node is 64 levels deep; anything deeper is a corrupt (cyclic) file.
pub const MAX_DEPTH: usize = 64;

/// Page sizes we accept from a meta page.
pub const MIN_PAGE_SIZE: u32 = 512;
pub const MAX_PAGE_SIZE: u32 = 1 << 28;

/// Human name of a page type for messages (`unknown<XX>` like bbolt).
pub fn page_type_name(flags: u16) -> String {
    match flags {
        BRANCH_FLAG => "branch".into(),
        LEAF_FLAG => "leaf".into(),
        META_FLAG => "meta".into(),
        FREELIST_FLAG => "freelist".into(),
        f => format!("unknown<{f:02x}>"),
    }
}
