//! Benchmarks of the whole-file scan and of page parsing.
//!
//! ```text
//! cargo bench --bench scan                         # fixtures only, about a minute
//! ETCD_FORENSICS_BENCH_DB=bench-data/big.snapshot.db cargo bench --bench scan
//! cargo bench --bench scan -- 'check/'             # criterion filter
//! ```
//!
//! * `status/<file>`: `jobs::status::status` (open, map, scan), what
//!   `etcd-forensics status` does; `status_verify_trailer/<file>` adds the
//!   SHA-256 trailer check (`status --verify-trailer`);
//! * `check/<file>` and `check_sequential/<file>`: `jobs::check::check_file`
//!   with the parallel and the sequential walk;
//! * `bolt_page/leaf`, `bolt_page/branch`: header plus every element of one
//!   page of the v3.5.1 fixture.
//!
//! `ETCD_FORENSICS_BENCH_DB` adds the same file benches on a large db or
//! snapshot (`benches/compare.sh` makes a 1 GiB one in `bench-data/`).
//! Throughput is reported in bytes of file per second.

// A missing fixture is a broken checkout: failing loudly is right here.
#![allow(clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};

use etcd_forensics::bolt::Db;
use etcd_forensics::bolt::page::Page;
use etcd_forensics::jobs::check::{CheckOptions, check_file};
use etcd_forensics::jobs::status::{StatusOptions, status};

/// A snapshot with a trailer, branch pages and overflow values.
const FIXTURE: &str = "testdata/fixtures/v3.5.1/snapshot.db";

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE)
}

/// The files to bench: the fixture, plus `$ETCD_FORENSICS_BENCH_DB`.
fn files() -> Vec<(String, PathBuf, u64)> {
    let mut v = Vec::new();
    let mut add = |name: String, path: PathBuf| match std::fs::metadata(&path) {
        Ok(m) => v.push((name, path, m.len())),
        Err(e) => eprintln!("skipping {}: {e}", path.display()),
    };
    add("v3.5.1-snapshot".into(), fixture());
    if let Some(p) = std::env::var_os("ETCD_FORENSICS_BENCH_DB") {
        let p = PathBuf::from(p);
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "bench-db".into());
        add(name, p);
    }
    v
}

/// Modest defaults; big files get flat sampling and enough time for about
/// 10 scans at 200 MiB/s (a loaded 2-core VM does 300-450 MiB/s).
fn configure(g: &mut BenchmarkGroup<'_, WallTime>, len: u64) {
    g.throughput(Throughput::Bytes(len));
    if len > 64 << 20 {
        g.sampling_mode(SamplingMode::Flat);
        let secs = (len as f64 / f64::from(200u32 << 20) * 12.0).max(20.0);
        g.measurement_time(Duration::from_secs_f64(secs));
    }
}

fn bench_files(c: &mut Criterion) {
    for (name, path, len) in files() {
        // `status` as the CLI runs it (trailer not hashed), then with the
        // SHA-256 trailer verified (`status --verify-trailer`).
        for (group, skip_hash_check) in [("status", true), ("status_verify_trailer", false)] {
            let mut g = c.benchmark_group(group);
            configure(&mut g, len);
            g.bench_function(&name, |b| {
                b.iter(|| {
                    let opts = StatusOptions { skip_hash_check, ..StatusOptions::default() };
                    let r = status(black_box(&path), opts).expect("status");
                    black_box(r.scan.status)
                })
            });
            g.finish();
        }

        let mut g = c.benchmark_group("check");
        configure(&mut g, len);
        g.bench_function(&name, |b| {
            b.iter(|| {
                let r = check_file(black_box(&path), CheckOptions::default()).expect("check");
                black_box(r.findings.len())
            })
        });
        g.finish();

        let mut g = c.benchmark_group("check_sequential");
        configure(&mut g, len);
        g.bench_function(&name, |b| {
            b.iter(|| {
                let opts = CheckOptions { sequential: true, ..CheckOptions::default() };
                let r = check_file(black_box(&path), opts).expect("check");
                black_box(r.findings.len())
            })
        });
        g.finish();
    }
}

/// The fullest page of the given kind in the fixture.
fn fullest_page<'a>(db: &Db<'a>, want_leaf: bool) -> Page<'a> {
    (2..db.hwm())
        .filter_map(|id| db.page(id).ok())
        .filter(|p| if want_leaf { p.is_leaf() } else { p.is_branch() })
        .max_by_key(|p| p.count)
        .unwrap_or_else(|| panic!("no {} page in {FIXTURE}", if want_leaf { "leaf" } else { "branch" }))
}

fn bench_page(c: &mut Criterion) {
    let data = std::fs::read(fixture()).expect("read fixture");
    let db = Db::open(&data).map_err(|f| f.error).expect("open fixture");
    let leaf = fullest_page(&db, true);
    let branch = fullest_page(&db, false);
    // Parse from the raw bytes every time, as the walk does.
    let leaf_bytes = leaf.bytes;
    let branch_bytes = branch.bytes;

    let mut g = c.benchmark_group("bolt_page");
    g.throughput(Throughput::Elements(u64::from(leaf.count)));
    g.bench_function(format!("leaf-{}-elements", leaf.count), |b| {
        b.iter(|| {
            let p = Page::header(leaf.pgid, black_box(leaf_bytes)).expect("header");
            let mut n = 0usize;
            for i in 0..usize::from(p.count) {
                if let Ok(e) = p.leaf(i) {
                    n += e.key.len() + e.value.len();
                }
            }
            black_box(n)
        })
    });
    g.throughput(Throughput::Elements(u64::from(branch.count)));
    g.bench_function(format!("branch-{}-elements", branch.count), |b| {
        b.iter(|| {
            let p = Page::header(branch.pgid, black_box(branch_bytes)).expect("header");
            let mut n = 0u64;
            for i in 0..usize::from(p.count) {
                if let Ok(e) = p.branch(i) {
                    n ^= e.child;
                }
            }
            black_box(n)
        })
    });
    g.finish();
}

fn config() -> Criterion {
    Criterion::default().sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3))
}

criterion_group! {
    name = benches;
    config = config();
    targets = bench_files, bench_page
}
criterion_main!(benches);
