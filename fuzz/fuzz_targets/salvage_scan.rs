//! salvage's page scanner: a real file's two meta pages (so the file opens)
//! followed by arbitrary bytes as pages. Every page is scanned for leaves
//! with `key`-bucket or `lease`-bucket entries, every accepted element is
//! classified again, and the revision runs are computed. Checks: elements
//! lie inside the input, pages come back in order, no panics.
#![no_main]

use etcd_forensics::bolt::Db;
use etcd_forensics::bolt::scavenge::scan_leaves;
use etcd_forensics::mvcc::recover::{KeyEntry, key_entry, lease_entry, runs};
use libfuzzer_sys::fuzz_target;

static FIXTURE: &[u8] = include_bytes!("../../testdata/fixtures/tiny/member-db");

fuzz_target!(|data: &[u8]| {
    let mut file = FIXTURE.get(..8192).unwrap_or_default().to_vec();
    file.extend_from_slice(data);
    let Ok(db) = Db::open(&file) else { return };
    let found =
        scan_leaves(&db, |e| !matches!(key_entry(e.key, e.value), KeyEntry::Invalid(_)) || lease_entry(e.key, e.value));
    let range = file.as_ptr_range();
    let mut prev = 0;
    let mut mains = Vec::new();
    for leaf in &found {
        assert!(leaf.pgid >= prev, "pages out of order");
        prev = leaf.pgid;
        for e in &leaf.elems {
            assert!(range.contains(&e.key.as_ptr()) && e.value.as_ptr_range().end <= range.end);
            if let KeyEntry::Valid(r) | KeyEntry::Marker(r) = key_entry(e.key, e.value) {
                mains.push(r.main);
            }
        }
    }
    mains.sort_unstable();
    let _ = runs(mains);
});
