//! The bbolt writer against a model: arbitrary buckets of arbitrary sorted
//! key/values are written, read back with our reader, and must come back
//! the same, with no findings.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use etcd_forensics::bolt::write::{Bucket, WriteOptions, write_db};
use etcd_forensics::bolt::{Db, KvLoc, Sink, WalkOptions, walk};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Input {
    buckets: Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>,
    /// Repeat each value to reach overflow pages sometimes.
    grow: u8,
    fill: u8,
}

#[derive(Default)]
struct Collect(Vec<(Vec<u8>, Vec<u8>)>);
impl<'a> Sink<'a> for Collect {
    fn kv(&mut self, k: &'a [u8], v: &'a [u8], _: bool, _: KvLoc) {
        self.0.push((k.to_vec(), v.to_vec()));
    }
    fn fresh(&self) -> Self {
        Collect::default()
    }
    fn merge(&mut self, later: Self) {
        self.0.extend(later.0);
    }
}

fuzz_target!(|input: Input| {
    // The model: non-empty names and keys (bbolt forbids empty ones), sorted, unique.
    let mut model: BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, Vec<u8>>> = BTreeMap::new();
    for (name, kvs) in input.buckets.into_iter().take(12) {
        if name.is_empty() || name.len() > 64 {
            continue;
        }
        let b = model.entry(name).or_default();
        for (k, v) in kvs.into_iter().take(400) {
            if k.is_empty() || k.len() > 512 {
                continue;
            }
            let mut v = v;
            if input.grow > 250 {
                v = v.repeat(usize::from(input.grow - 250) * 300);
            }
            b.insert(k, v);
        }
    }
    let buckets: Vec<Bucket<'_>> = model
        .iter()
        .map(|(n, kvs)| Bucket { name: n, entries: kvs.iter().map(|(k, v)| (k.as_slice(), v.as_slice())).collect() })
        .collect();
    let opts = WriteOptions { page_size: 4096, fill_percent: 0.1 + f64::from(input.fill % 10) / 10.0 };
    let mut file = Vec::new();
    write_db(&buckets, opts, &mut file).expect("valid model input writes");
    let db = Db::open(&file).expect("written file opens");
    for parallel in [false, true] {
        let r = walk(&db, WalkOptions { parallel, progress: None }, |_| Collect::default());
        assert!(r.findings.is_empty(), "{:?}", r.findings.iter().map(|f| &f.finding.what).collect::<Vec<_>>());
        let got: BTreeMap<Vec<u8>, BTreeMap<Vec<u8>, Vec<u8>>> =
            r.buckets.into_iter().map(|b| (b.name.to_vec(), b.sink.0.into_iter().collect())).collect();
        assert_eq!(got, model);
    }
});
