//! WAL scan throughput: verify (framing, CRC chain) and decode every entry
//! and its request, over a generated multi-segment WAL in the real format.
//!
//! Reports bytes per second of segment data; the target is >= 1 GB/s.
//! `verify_and_decode_entries` is what `check` and `wal --summary` do;
//! `verify_and_decode_requests` also decodes every request into owned
//! prost structs (what `wal` printing does).
//! `ETCD_FORENSICS_BENCH_WAL_MB` sets the WAL size (default 192 MB,
//! three 64 MB segments).

// Bench setup failing is a failed bench: the panic-family lints guard library
// code that reads hostile files.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use prost::Message;

use etcd_forensics::proto::etcdserverpb::{InternalRaftRequest, Metadata, PutRequest, RequestHeader};
use etcd_forensics::proto::raftpb::{Entry, HardState};
use etcd_forensics::proto::walpb;
use etcd_forensics::wal::layout::{encode_len_word, padding_for};
use etcd_forensics::wal::{ScanStart, WalDir};

const SEGMENT: usize = 64_000_000;

struct Writer {
    buf: Vec<u8>,
    crc: u32,
}

impl Writer {
    fn record(&mut self, t: i64, data: Option<Vec<u8>>) {
        if let Some(d) = &data {
            self.crc = crc32c::crc32c_append(self.crc, d);
        }
        let rec = walpb::Record { r#type: t, crc: self.crc, data }.encode_to_vec();
        let n = rec.len() as u64;
        self.buf.extend_from_slice(&encode_len_word(n).to_le_bytes());
        self.buf.extend_from_slice(&rec);
        self.buf.resize(self.buf.len() + padding_for(n) as usize, 0);
    }
}

/// Write `mb` MB of WAL into `dir`: segments of 64 MB, each opening with a
/// CRC record and the metadata, filled with put entries and STATE records.
fn generate(dir: &Path, mb: usize) -> u64 {
    let meta = Metadata { node_id: 0x1652b267d3c71c2b, cluster_id: 0x96fcb6c19f174725 }.encode_to_vec();
    let mut index = 0u64;
    let mut crc = 0u32;
    let mut total = 0u64;
    let segments = mb.div_ceil(64).max(1);
    for seq in 0..segments {
        let mut w = Writer { buf: Vec::with_capacity(SEGMENT + 4096), crc };
        w.record(4, None);
        w.buf.truncate(0);
        // CRC record carries the running CRC: re-encode with it explicitly.
        let rec = walpb::Record { r#type: 4, crc, data: None }.encode_to_vec();
        w.buf.extend_from_slice(&encode_len_word(rec.len() as u64).to_le_bytes());
        w.buf.extend_from_slice(&rec);
        w.buf.resize(w.buf.len() + padding_for(rec.len() as u64) as usize, 0);
        w.record(1, Some(meta.clone()));
        if seq == 0 {
            w.record(5, Some(walpb::Snapshot { index: 0, term: 0, conf_state: None }.encode_to_vec()));
        }
        let first = index + 1;
        while w.buf.len() < SEGMENT {
            index += 1;
            let req = InternalRaftRequest {
                header: Some(RequestHeader { id: index, ..Default::default() }),
                put: Some(PutRequest {
                    key: format!("/registry/pods/default/pod-{:08}", index % 50_000).into_bytes(),
                    value: vec![b'v'; 120 + (index % 200) as usize],
                    ..Default::default()
                }),
                ..Default::default()
            };
            let e = Entry { r#type: 0, term: 2, index, data: Some(req.encode_to_vec()) };
            w.record(2, Some(e.encode_to_vec()));
            if index % 16 == 0 {
                w.record(3, Some(HardState { term: 2, vote: 1, commit: index }.encode_to_vec()));
            }
        }
        crc = w.crc;
        let name = format!("{seq:016x}-{first:016x}.wal");
        let mut f = std::fs::File::create(dir.join(name)).unwrap();
        f.write_all(&w.buf).unwrap();
        total += w.buf.len() as u64;
    }
    total
}

fn bench(c: &mut Criterion) {
    let mb = std::env::var("ETCD_FORENSICS_BENCH_WAL_MB").ok().and_then(|s| s.parse().ok()).unwrap_or(192);
    let dir = tempfile::tempdir().unwrap();
    let bytes = generate(dir.path(), mb);
    let wal = WalDir::open(dir.path()).unwrap();
    // sanity: the generated WAL reads clean
    let s = wal.scan().unwrap();
    assert!(s.fault.is_none(), "{:?}", s.fault);
    let mut g = c.benchmark_group("wal");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes));
    g.bench_function("verify_and_decode_requests", |b| {
        b.iter(|| {
            let mut puts = 0u64;
            let s = wal
                .scan_with(ScanStart::All, |_, rec| {
                    if let Ok(e) = rec.entry() {
                        if let etcd_forensics::proto::DecodedRequest::Internal(r) = e.request() {
                            puts += u64::from(r.put.is_some());
                        }
                    }
                })
                .unwrap();
            assert!(s.fault.is_none());
            puts
        })
    });
    // The scan itself parses every record and every entry header (type,
    // term, index) and checks the CRC chain: what `check` and `wal --summary` do.
    g.bench_function("verify_and_decode_entries", |b| b.iter(|| wal.scan().unwrap().entry_count));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
