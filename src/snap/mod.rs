//! Raft snapshots: `member/snap/*.snap` (and the names of `*.snap.db`).
//!
//! **Who writes them**: etcd 3.4–3.6's snapshotter
//! (`server/etcdserver/api/snap/snapshotter.go`; `etcdserver/api/snap/` in
//! 3.4) with `WriteAndSyncFile`, every `--snapshot-count` applied entries,
//! and `etcdctl/etcdutl snapshot restore`. The file is written **before**
//! the matching WAL SNAPSHOT record. 3.7+ no longer reads them at boot and
//! the 3.8 development line no longer writes them (FORMATS.md §8).
//!
//! ```text
//! 0000000000000001-0000000000000001.snap   (<term>-<index>, 6491 bytes in Appendix A)
//! +-----------------------------------------------------------------------+
//! | 08 a1 d3 c4 8c 03        snappb.crc = CRC32C(data) = 0x319129a1        |
//! | 12 d2 32                 snappb.data, 6482 bytes = raftpb.Snapshot:    |
//! |   0a bb 32 {"Root":...}    data: v2 store JSON (6459 bytes)            |
//! |   12 12                    metadata:                                   |
//! |     0a 0c 08 <voter> 28 00   conf_state {voters, auto_leave}           |
//! |     10 01 18 01              index 1, term 1                           |
//! +-----------------------------------------------------------------------+
//! ```
//!
//! **Invariants checked** ([`snapfile`]): the file is not empty, the
//! envelope decodes, `data` is present and `crc` is non-zero (etcd: `snap:
//! empty snapshot`), CRC32C(data) = crc (`snap: crc mismatch`), the
//! `raftpb.Snapshot` decodes; then, beyond etcd: the name's term/index
//! match the metadata, the index is not 0, and the v2 store JSON parses
//! and holds a consistent membership ([`v2store`]). Every error carries
//! the file and offset.
//!
//! Modules: [`name`] (file names, candidate order), [`snapfile`] (decode and
//! check one file), [`v2store`] (membership from the JSON).

pub mod name;
pub mod snapfile;
pub mod v2store;
pub mod write;

pub use name::{SnapFileKind, SnapFiles, SnapName};
pub use snapfile::{
    ConfStateInfo, Snap, SnapAnomaly, SnapError, SnapFault, SnapReport, decode, inspect, inspect_bytes,
};
pub use v2store::{Member, V2Store, parse_v2_store};

#[cfg(test)]
mod tests;
