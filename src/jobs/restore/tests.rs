use super::*;
use crate::mvcc::DbScan;
use crate::wal::SegmentReader;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fixtures").join(p)
}

fn opts(snapshot: &str, dir: &Path) -> RestoreOptions {
    let mut o = RestoreOptions::new(fixture(snapshot), dir.join("data"));
    o.name = "s1".into();
    o.initial_cluster = "s1=http://127.0.0.1:25801".into();
    o.initial_cluster_token = "t".into();
    o.initial_advertise_peer_urls = vec!["http://127.0.0.1:25801".into()];
    o
}

fn scan(path: &Path) -> DbScan {
    let src = Source::open(path).unwrap();
    scan_db(src.bytes(), ScanOptions::default())
}

#[test]
fn restores_tiny_in_the_3_5_layout() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts("tiny/snapshot.db", dir.path());
    let r = restore(&o).unwrap();
    let plan = r.plan.unwrap();
    assert_eq!(plan.cluster.local, 0x1652b267d3c71c2b);
    assert_eq!(plan.cluster.id, 0x96fcb6c19f174725);
    assert_eq!((plan.consistent_index, plan.revision), (1, 4));
    // only the data dir was created beside it: no temp dir left
    let names: Vec<_> = fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, vec![std::ffi::OsString::from("data")]);

    let s = scan(&plan.db_file);
    assert!(s.findings.iter().all(|f| f.severity == Severity::Info), "{:?}", s.findings);
    let st = s.status.unwrap();
    assert_eq!((st.hash, st.revision, st.total_key), (plan.status_hash, plan.revision, plan.total_key));
    assert_eq!(s.consistent_index, Some(1));
    assert_eq!(s.term, Some(1));
    assert_eq!(s.members, vec!["1652b267d3c71c2b".to_string()]);
    assert_eq!(st.total_size, plan.db_size);

    let wal = fs::read(&plan.wal_file).unwrap();
    assert_eq!(wal.len(), 64_000_000);
    let want = crate::testvec::hex(crate::testvec::WAL_3423);
    assert_eq!(&wal[..0xe8], &want[..0xe8]);
    assert_eq!(&wal[0xe8..272], crate::testvec::hex(crate::testvec::WAL_351_LAST).as_slice());
    let mut rd = SegmentReader::new(&wal, true, 0);
    let mut n = 0;
    while rd.next_record().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 6);
    let snap = fs::read(&plan.snap_file).unwrap();
    assert_eq!(snap, crate::testvec::snap_3423());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&plan.data_dir), 0o700);
        assert_eq!(mode(&plan.data_dir.join("member")), 0o700);
        assert_eq!(mode(&plan.snap_dir), 0o700);
        assert_eq!(mode(&plan.wal_dir), 0o700);
        assert_eq!(mode(&plan.db_file), 0o600);
        assert_eq!(mode(&plan.wal_file), 0o600);
        assert_eq!(mode(&plan.snap_file), 0o644);
    }

    // a second restore into the same place is refused, nothing touched
    let e = restore(&o).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Usage(_)), "{e}");
    assert!(e.to_string().contains("not empty"), "{e}");
}

#[test]
fn the_3_4_layout_keeps_old_members_and_has_no_term() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts("v3.4.23/snapshot.db", dir.path());
    o.layout = Some(EtcdLayout::V34);
    let before = scan(&fixture("v3.4.23/snapshot.db"));
    let plan = restore(&o).unwrap().plan.unwrap();
    let s = scan(&plan.db_file);
    assert_eq!(s.members, before.members);
    assert_eq!(s.term, before.term);
    assert_eq!(s.consistent_index, Some(1));
    assert_eq!(s.compact_revision, Some(119));
    assert_eq!(s.status.unwrap().revision, 262);
    let wal = fs::read(&plan.wal_file).unwrap();
    assert_eq!(&wal[..256], crate::testvec::hex(crate::testvec::WAL_3423).as_slice());
    assert!(plan.deleted_member_named_keys.is_empty());
}

#[test]
fn dry_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts("v3.5.1/snapshot.db", dir.path());
    o.dry_run = true;
    let plan = restore(&o).unwrap().plan.unwrap();
    assert!(plan.dry_run);
    assert_eq!(plan.revision, 262);
    assert!(plan.db_size > 0);
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn bump_and_mark_compacted() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts("v3.5.1/snapshot.db", dir.path());
    o.bump_revision = 1000;
    let e = restore(&o).unwrap_err();
    assert!(e.to_string().contains("--mark-compacted required"), "{e}");
    o.mark_compacted = true;
    let plan = restore(&o).unwrap().plan.unwrap();
    assert_eq!(plan.revision, 1262);
    assert_eq!(plan.scheduled_compact_revision, Some(1262));
    let s = scan(&plan.db_file);
    assert_eq!(s.scheduled_compact_revision, Some(1262));
    assert_eq!(s.status.unwrap().revision, 1262);
    assert!(s.findings.iter().all(|f| f.severity == Severity::Info), "{:?}", s.findings);
    let mut o2 = opts("v3.5.1/snapshot.db", dir.path());
    o2.mark_compacted = true;
    assert!(restore(&o2).is_err());
}

#[test]
fn raw_db_needs_skip_hash_check_and_damage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts("v3.5.1/member-db", dir.path());
    let e = restore(&o).unwrap_err();
    assert!(e.to_string().contains("snapshot missing hash but --skip-hash-check=false"), "{e}");
    let mut o = o;
    o.skip_hash_check = true;
    o.dry_run = true;
    assert!(restore(&o).unwrap().plan.is_some());

    // a wrong trailer: refused with findings, nothing created
    let mut bytes = fs::read(fixture("tiny/snapshot.db")).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let bad = dir.path().join("bad.db");
    fs::write(&bad, &bytes).unwrap();
    let mut o = opts("tiny/snapshot.db", dir.path());
    o.snapshot = bad;
    let r = restore(&o).unwrap();
    assert!(r.plan.is_none());
    assert_eq!(r.outcome(), Outcome::Damaged);
    assert!(r.findings.iter().any(|f| f.code == "snapshot.trailer.mismatch"));
    assert!(!o.data_dir.exists());
}

#[test]
fn separate_wal_dir_and_three_members() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = opts("tiny/snapshot.db", dir.path());
    o.wal_dir = Some(dir.path().join("wal"));
    o.initial_cluster = "s1=http://127.0.0.1:24801,s2=http://127.0.0.1:24802,s3=http://127.0.0.1:24803".into();
    o.initial_advertise_peer_urls = vec!["http://127.0.0.1:24801".into()];
    o.initial_cluster_token = "ctok".into();
    let plan = restore(&o).unwrap().plan.unwrap();
    assert_eq!(plan.consistent_index, 3);
    assert_eq!(plan.cluster.local, 0x9f611b9b8fd8bba1);
    assert!(plan.wal_file.starts_with(dir.path().join("wal")));
    assert!(plan.wal_file.exists());
    assert!(!plan.data_dir.join("member/wal").exists());
    assert!(plan.snap_file.ends_with("0000000000000001-0000000000000003.snap"));
    let s = scan(&plan.db_file);
    assert_eq!(s.members.len(), 3);
    // an existing --wal-dir is refused
    let mut o2 = o.clone();
    o2.data_dir = dir.path().join("other");
    assert!(restore(&o2).unwrap_err().to_string().contains("wal-dir"));
}
