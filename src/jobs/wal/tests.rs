//! The wal job on crafted WAL bytes: directory resolution, decoding,
//! redaction, filters, the etcd view and `raw`.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use prost::Message;

use super::*;
use crate::proto::etcdserverpb::{
    AuthUserAddRequest, AuthUserChangePasswordRequest, CompactionRequest, DeleteRangeRequest,
    InternalAuthenticateRequest, InternalRaftRequest, LeaseGrantRequest, Metadata, PutRequest, Request, RequestHeader,
    RequestOp, TxnRequest, request_op,
};
use crate::proto::raftpb::{ConfChange, Entry, HardState};
use crate::proto::walpb;
use crate::wal::layout::{encode_len_word, record_type as rt};

pub(crate) const SEG0: &str = "0000000000000000-0000000000000000.wal";
pub(crate) const NODE: u64 = 0x8e9e05c52164694d;
pub(crate) const CLUSTER: u64 = 0xcdf818194e3a8c32;

/// Writes segments as etcd's encoder does.
pub(crate) struct Seg {
    pub buf: Vec<u8>,
    pub crc: u32,
}

impl Seg {
    /// Segment 0 as `wal.Create` writes it: CRC, METADATA, SNAPSHOT{0,0}.
    pub fn first() -> Seg {
        let mut s = Seg { buf: Vec::new(), crc: 0 };
        s.raw(rt::CRC, 0, None);
        s.rec(rt::METADATA, &Metadata { node_id: NODE, cluster_id: CLUSTER }.encode_to_vec());
        s.rec(rt::SNAPSHOT, &walpb::Snapshot::default().encode_to_vec());
        s
    }
    pub fn raw(&mut self, t: i64, crc: u32, data: Option<&[u8]>) -> usize {
        let rec = walpb::Record { r#type: t, crc, data: data.map(<[u8]>::to_vec) }.encode_to_vec();
        let at = self.buf.len();
        self.buf.extend(encode_len_word(rec.len() as u64).to_le_bytes());
        self.buf.extend(&rec);
        self.buf.resize(self.buf.len() + crate::wal::layout::padding_for(rec.len() as u64) as usize, 0);
        at
    }
    pub fn rec(&mut self, t: i64, data: &[u8]) -> usize {
        self.crc = crc32c::crc32c_append(self.crc, data);
        self.raw(t, self.crc, Some(data))
    }
    pub fn entry(&mut self, entry_type: i32, term: u64, index: u64, data: Option<Vec<u8>>) -> usize {
        self.rec(rt::ENTRY, &Entry { r#type: entry_type, term, index, data }.encode_to_vec())
    }
    pub fn irr(&mut self, term: u64, index: u64, r: InternalRaftRequest) -> usize {
        self.entry(0, term, index, Some(r.encode_to_vec()))
    }
    pub fn state(&mut self, term: u64, commit: u64) -> usize {
        self.rec(rt::STATE, &HardState { term, vote: NODE, commit }.encode_to_vec())
    }
    pub fn snapshot(&mut self, index: u64, term: u64) -> usize {
        self.rec(rt::SNAPSHOT, &walpb::Snapshot { index, term, conf_state: None }.encode_to_vec())
    }
    /// Zero-extended to `len`, as a preallocated last segment.
    pub fn bytes(&self, len: usize) -> Vec<u8> {
        let mut v = self.buf.clone();
        v.resize(v.len().max(len), 0);
        v
    }
}

pub(crate) fn with_header(id: u64, f: impl FnOnce(&mut InternalRaftRequest)) -> InternalRaftRequest {
    let mut r = InternalRaftRequest { header: Some(RequestHeader { id, ..Default::default() }), ..Default::default() };
    f(&mut r);
    r
}

pub(crate) fn put(k: &[u8], v: &[u8]) -> PutRequest {
    PutRequest { key: k.to_vec(), value: v.to_vec(), ..Default::default() }
}

/// A WAL with one of each kind of entry etcd writes, indexes 1..=13, a
/// STATE committing all of them.
pub(crate) fn sample() -> Seg {
    let mut s = Seg::first();
    let member = br#"{"id":10276657743932975437,"peerURLs":["http://127.0.0.1:2380"]}"#;
    let cc = ConfChange { id: 0, r#type: 0, node_id: NODE, context: Some(member.to_vec()) };
    s.entry(1, 1, 1, Some(cc.encode_to_vec()));
    s.state(1, 1);
    s.entry(0, 2, 2, None); // leader no-op
    let v2 =
        Request { id: 7, method: "PUT".into(), path: "/0/version".into(), val: "3.4.0".into(), ..Default::default() };
    s.entry(0, 2, 3, Some(v2.encode_to_vec()));
    s.irr(2, 4, with_header(0x10, |r| r.put = Some(put(b"foo", b"bar"))));
    s.irr(2, 5, with_header(0x11, |r| r.put = Some(put(&[0xff, 0x00], b"v"))));
    s.irr(
        2,
        6,
        with_header(0x12, |r| {
            r.delete_range =
                Some(DeleteRangeRequest { key: b"a".to_vec(), range_end: b"b".to_vec(), ..Default::default() })
        }),
    );
    let inner = TxnRequest {
        success: vec![RequestOp { request: Some(request_op::Request::RequestPut(put(b"in", b"ner"))) }],
        ..Default::default()
    };
    s.irr(
        2,
        7,
        with_header(0x13, |r| {
            r.txn = Some(TxnRequest {
                success: vec![RequestOp { request: Some(request_op::Request::RequestTxn(inner)) }],
                failure: vec![RequestOp { request: Some(request_op::Request::RequestPut(put(b"f", b"x"))) }],
                ..Default::default()
            })
        }),
    );
    s.irr(2, 8, with_header(0x14, |r| r.compaction = Some(CompactionRequest { revision: 3, physical: true })));
    s.irr(2, 9, with_header(0x15, |r| r.lease_grant = Some(LeaseGrantRequest { ttl: 60, id: 0x694d })));
    s.irr(
        2,
        10,
        with_header(0x16, |r| {
            r.auth_user_add = Some(AuthUserAddRequest {
                name: "bob".into(),
                password: "secret".into(),
                hashed_password: "$2a$10$secrethash".into(),
                options: None,
            })
        }),
    );
    s.irr(
        2,
        11,
        with_header(0x17, |r| {
            r.auth_user_change_password = Some(AuthUserChangePasswordRequest {
                name: "bob".into(),
                password: "secret2".into(),
                hashed_password: String::new(),
            })
        }),
    );
    s.irr(
        2,
        12,
        with_header(0x18, |r| {
            r.authenticate = Some(InternalAuthenticateRequest {
                name: "bob".into(),
                password: "secret3".into(),
                simple_token: "tok.secret4".into(),
            })
        }),
    );
    s.entry(0, 2, 13, Some(vec![0xff, 0xff, 0xff])); // undecodable normal entry
    s.state(2, 13);
    s
}

pub(crate) fn write_dir(segs: &[(&str, Vec<u8>)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    for (name, bytes) in segs {
        std::fs::write(d.path().join(name), bytes).unwrap();
    }
    d
}

/// An owned copy of what the sink saw.
#[derive(Debug, Clone)]
#[allow(clippy::large_enum_variant)] // test-only, a few dozen of them
pub(crate) enum Seen {
    Entry { index: u64, offset: u64, label: String, request: DecodedRequest, crc: CrcCheck },
    Error { fault: Fault, offset: u64, resume_at: Option<u64> },
}

pub(crate) fn run(dir: &Path, opts: &DumpOptions) -> (WalReport, Vec<Seen>, DumpStats) {
    let wal = open(dir).unwrap();
    let report = summarize(&wal).unwrap();
    let mut seen = Vec::new();
    let stats = dump(&wal, &report, opts, &mut |ev| {
        seen.push(match ev {
            DumpEvent::Entry(e) => Seen::Entry {
                index: e.index,
                offset: e.offset,
                label: e.request.label(),
                request: e.request.clone(),
                crc: e.crc,
            },
            DumpEvent::Error(e) => {
                Seen::Error { fault: e.error.fault, offset: e.error.record_offset, resume_at: e.resume_at }
            }
        });
        ControlFlow::Continue(())
    })
    .unwrap();
    (report, seen, stats)
}

fn indexes(seen: &[Seen]) -> Vec<u64> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Entry { index, .. } => Some(*index),
            Seen::Error { .. } => None,
        })
        .collect()
}

fn errors(seen: &[Seen]) -> Vec<(Fault, u64, Option<u64>)> {
    seen.iter()
        .filter_map(|s| match s {
            Seen::Error { fault, offset, resume_at } => Some((*fault, *offset, *resume_at)),
            Seen::Entry { .. } => None,
        })
        .collect()
}

#[test]
fn resolves_data_member_and_wal_dirs() {
    let d = tempfile::tempdir().unwrap();
    let wal = d.path().join("member").join("wal");
    std::fs::create_dir_all(&wal).unwrap();
    assert_eq!(resolve_wal_dir(Some(d.path()), None).unwrap(), wal);
    assert_eq!(resolve_wal_dir(Some(&d.path().join("member")), None).unwrap(), wal);
    assert_eq!(resolve_wal_dir(Some(&wal), None).unwrap(), wal);
    // --wal-dir wins, and is taken as it is
    let other = d.path().join("elsewhere");
    std::fs::create_dir(&other).unwrap();
    assert_eq!(resolve_wal_dir(Some(d.path()), Some(&other)).unwrap(), other);
    assert_eq!(resolve_wal_dir(None, Some(d.path())).unwrap(), PathBuf::from(d.path()));
    // missing, not a directory, nothing given
    let e = resolve_wal_dir(Some(&d.path().join("nope")), None).unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Io { .. }), "{e}");
    std::fs::write(d.path().join("file"), b"x").unwrap();
    assert!(resolve_wal_dir(Some(&d.path().join("file")), None).unwrap_err().to_string().contains("not a directory"));
    assert!(resolve_wal_dir(None, None).is_err());
    // a directory without segments cannot be read
    let e = open(&wal).unwrap_err();
    assert!(e.to_string().contains("no WAL segment"), "{e}");
}

#[test]
fn every_kind_of_entry_decodes_in_order() {
    let d = write_dir(&[(SEG0, sample().bytes(4096))]);
    let (report, seen, stats) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), (1..=13).collect::<Vec<_>>());
    let labels: Vec<String> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Entry { label, .. } => Some(label.clone()),
            Seen::Error { .. } => None,
        })
        .collect();
    assert_eq!(
        labels,
        [
            "confchange:AddNode",
            "noop",
            "v2:PUT",
            "put",
            "put",
            "delete_range",
            "txn",
            "compaction",
            "lease_grant",
            "auth_user_add",
            "auth_user_change_password",
            "authenticate",
            "undecodable"
        ]
    );
    assert!(errors(&seen).is_empty());
    assert_eq!((stats.entries_read, stats.entries_shown, stats.errors), (13, 13, 0));
    assert_eq!(report.entry_count, 13);
    assert_eq!(report.last_index(), Some(13));
    assert_eq!(report.summary.hard_state.unwrap().commit, 13);
    assert_eq!((report.outcome(), report.verdict()), (Outcome::Verified, "clean"));
    let md = report.summary.metadata.unwrap();
    assert_eq!((md.node_id, md.cluster_id), (NODE, CLUSTER));
}

#[test]
fn passwords_and_tokens_are_redacted() {
    let d = write_dir(&[(SEG0, sample().bytes(4096))]);
    let (_, seen, _) = run(d.path(), &DumpOptions::default());
    let all = format!("{seen:?}");
    assert!(!all.contains("secret"), "{all}");
    let reqs: Vec<&InternalRaftRequest> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Entry { request: DecodedRequest::Internal(r), .. } => Some(r),
            _ => None,
        })
        .collect();
    let add = reqs.iter().find_map(|r| r.auth_user_add.as_ref()).unwrap();
    assert_eq!((add.name.as_str(), add.password.as_str(), add.hashed_password.as_str()), ("bob", REDACTED, REDACTED));
    let cp = reqs.iter().find_map(|r| r.auth_user_change_password.as_ref()).unwrap();
    // an empty field stays empty: nothing to hide
    assert_eq!((cp.password.as_str(), cp.hashed_password.as_str()), (REDACTED, ""));
    let au = reqs.iter().find_map(|r| r.authenticate.as_ref()).unwrap();
    assert_eq!((au.name.as_str(), au.password.as_str(), au.simple_token.as_str()), ("bob", REDACTED, REDACTED));
}

#[test]
fn index_bounds_are_inclusive() {
    let d = write_dir(&[(SEG0, sample().bytes(4096))]);
    let opts = DumpOptions { start_index: Some(4), end_index: Some(6), ..Default::default() };
    let (_, seen, stats) = run(d.path(), &opts);
    assert_eq!(indexes(&seen), [4, 5, 6]);
    assert_eq!((stats.entries_read, stats.entries_shown), (13, 3));
    let opts = DumpOptions { start_index: Some(12), ..Default::default() };
    assert_eq!(indexes(&run(d.path(), &opts).1), [12, 13]);
    let opts = DumpOptions { end_index: Some(1), ..Default::default() };
    assert_eq!(indexes(&run(d.path(), &opts).1), [1]);
    let opts = DumpOptions { start_index: Some(14), ..Default::default() };
    assert!(indexes(&run(d.path(), &opts).1).is_empty());
}

#[test]
fn entry_types_filter_as_etcd_dump_logs_does() {
    let d = write_dir(&[(SEG0, sample().bytes(4096))]);
    let only = |names: &[&str]| {
        let entry_types = names.iter().map(|n| EntryTypeName::from_name(n).unwrap()).collect();
        indexes(&run(d.path(), &DumpOptions { entry_types, ..Default::default() }).1)
    };
    assert_eq!(only(&["ConfigChange"]), [1]);
    assert_eq!(only(&["Normal"]), (2..=13).collect::<Vec<_>>());
    assert_eq!(only(&["Request"]), [3]);
    // no-op entries count as (empty) InternalRaftRequests; undecodable ones don't
    assert_eq!(only(&["InternalRaftRequest"]), [2, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    assert_eq!(only(&["IRRPut"]), [4, 5]);
    assert_eq!(only(&["IRRDeleteRange"]), [6]);
    assert_eq!(only(&["IRRTxn"]), [7]);
    assert_eq!(only(&["IRRCompaction"]), [8]);
    assert_eq!(only(&["IRRLeaseGrant"]), [9]);
    assert!(only(&["IRRRange", "IRRLeaseRevoke", "IRRLeaseCheckpoint"]).is_empty());
    assert_eq!(only(&["ConfigChange", "IRRCompaction"]), [1, 8]);
    // names are etcd-dump-logs' exact spelling
    for (t, n) in EntryTypeName::ALL.iter().zip(EntryTypeName::NAMES) {
        assert_eq!(t.name(), n);
        assert_eq!(EntryTypeName::from_name(n), Some(*t));
    }
    assert_eq!(EntryTypeName::from_name("irrput"), None);
    assert_eq!(EntryTypeName::from_name("IRRAuth"), None);
}

/// Segment 0 with entries 1..=n (puts `k<i>`), a STATE after each.
fn puts(n: u64) -> (Seg, Vec<usize>) {
    let mut s = Seg::first();
    let mut offs = Vec::new();
    for i in 1..=n {
        let k = format!("k{i}");
        offs.push(s.irr(1, i, with_header(i, |r| r.put = Some(put(k.as_bytes(), b"value")))));
        s.state(1, i);
    }
    (s, offs)
}

#[test]
fn crc_mismatch_stops_the_dump_and_raw_reads_on() {
    let (s, offs) = puts(6);
    let mut b = s.bytes(8192);
    let bad = offs[2]; // entry 3
    let flip = bad + 8 + 30; // inside the key/value
    b[flip] ^= 0x01;
    let d = write_dir(&[(SEG0, b)]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), [1, 2]);
    // the fault comes last, where reading stopped
    assert!(matches!(seen.last(), Some(Seen::Error { fault: Fault::CrcMismatch, .. })));
    assert_eq!(errors(&seen), [(Fault::CrcMismatch, bad as u64, None)]);
    assert_eq!((report.outcome(), report.verdict(), report.entry_count), (Outcome::Damaged, "damaged", 2));
    assert_eq!(report.fault_segment(), Some(d.path().join(SEG0).as_path()));

    let (_, seen, stats) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
    assert_eq!(indexes(&seen), [1, 2, 3, 4, 5, 6]);
    let crcs: Vec<CrcCheck> = seen
        .iter()
        .filter_map(|s| match s {
            Seen::Entry { crc, .. } => Some(*crc),
            Seen::Error { .. } => None,
        })
        .collect();
    use CrcCheck::*;
    assert_eq!(crcs, [Verified, Verified, Mismatch, Verified, Verified, Verified]);
    let (fault, at, resume) = errors(&seen)[0];
    assert_eq!((fault, at), (Fault::CrcMismatch, bad as u64));
    assert!(resume.unwrap() > at);
    assert_eq!(stats.errors, 1);
}

#[test]
fn raw_resyncs_after_garbage_and_marks_the_first_record_unchecked() {
    let (s, offs) = puts(6);
    let mut b = s.bytes(8192);
    // garbage over the length words of entries 3 and its STATE: no frame there
    let (from, to) = (offs[2], offs[3]);
    for (i, x) in b[from..to].iter_mut().enumerate() {
        *x = 0xa5 ^ (i as u8);
    }
    let d = write_dir(&[(SEG0, b)]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), [1, 2]);
    assert_eq!(report.summary.fault.as_ref().unwrap().record_offset, from as u64);

    let (_, seen, _) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
    assert_eq!(indexes(&seen), [1, 2, 4, 5, 6]);
    let errs = errors(&seen);
    assert_eq!(errs.len(), 2, "{errs:?}"); // the garbage, and the gap 2 -> 4
    assert_eq!((errs[0].1, errs[0].2), (from as u64, Some(to as u64)));
    assert_eq!(errs[1].0, Fault::IndexGap);
    let first_after = seen.iter().find_map(|s| match s {
        Seen::Entry { index: 4, crc, offset, .. } => Some((*crc, *offset)),
        _ => None,
    });
    assert_eq!(first_after, Some((CrcCheck::Unchecked, to as u64)));
}

#[test]
fn raw_reads_past_a_zero_run_in_the_last_segment() {
    let (s, offs) = puts(4);
    let mut b = s.bytes(8192);
    b[offs[1]..offs[2]].fill(0); // entry 2 and its STATE zeroed
    let d = write_dir(&[(SEG0, b)]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), [1]);
    let f = report.summary.fault.as_ref().unwrap();
    assert_eq!((f.fault, f.outcome), (Fault::ZeroRunMidLog, EtcdOutcome::DropsSilently));
    assert_eq!(report.outcome(), Outcome::Damaged);
    let (_, seen, _) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
    assert_eq!(indexes(&seen), [1, 3, 4]);
    let errs = errors(&seen);
    assert_eq!(errs[0], (Fault::ZeroRunMidLog, offs[1] as u64, Some(offs[2] as u64)));
    assert_eq!(errs[1].0, Fault::IndexGap);
}

#[test]
fn torn_tail_is_verified_with_a_repairable_fault() {
    let (s, offs) = puts(5);
    let cut = offs[4] + 20; // inside entry 5
    let d = write_dir(&[(SEG0, s.buf[..cut].to_vec())]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), [1, 2, 3, 4]);
    let f = report.summary.fault.as_ref().unwrap();
    assert_eq!((f.fault, f.outcome, f.record_offset), (Fault::TornTail, EtcdOutcome::Repairs, offs[4] as u64));
    assert_eq!((report.outcome(), report.verdict(), report.entry_count), (Outcome::Verified, "repairable", 4));
    assert_eq!(report.summary.repair.as_ref().unwrap().offset, offs[4] as u64);
    let (_, seen, _) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
    assert_eq!(indexes(&seen), [1, 2, 3, 4]);
    assert_eq!(errors(&seen), [(Fault::TornTail, offs[4] as u64, None)]);
}

#[test]
fn an_index_gap_entry_is_not_listed_or_counted() {
    let mut s = Seg::first();
    s.irr(1, 1, with_header(1, |r| r.put = Some(put(b"a", b"1"))));
    let gap = s.irr(1, 3, with_header(2, |r| r.put = Some(put(b"b", b"2"))));
    let d = write_dir(&[(SEG0, s.bytes(4096))]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), [1]);
    assert_eq!(errors(&seen), [(Fault::IndexGap, gap as u64, None)]);
    assert_eq!(report.entry_count, 1);
    let (_, seen, _) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
    assert_eq!(indexes(&seen), [1, 3]);
    assert_eq!(errors(&seen), [(Fault::IndexGap, gap as u64, Some(gap as u64))]);
}

#[test]
fn last_index_counts_snapshot_records_and_segments_chain() {
    let (mut s0, _) = puts(3);
    s0.snapshot(3, 1);
    let crc = s0.crc;
    let mut s1 = Seg { buf: Vec::new(), crc };
    s1.raw(rt::CRC, crc, None);
    s1.rec(rt::METADATA, &Metadata { node_id: NODE, cluster_id: CLUSTER }.encode_to_vec());
    s1.state(1, 3);
    s1.irr(1, 4, with_header(4, |r| r.put = Some(put(b"k4", b"v"))));
    let d = write_dir(&[(SEG0, s0.buf.clone()), ("0000000000000001-0000000000000004.wal", s1.bytes(4096))]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert_eq!(indexes(&seen), [1, 2, 3, 4]);
    assert_eq!((report.last_index(), report.entry_count, report.summary.segments.len()), (Some(4), 4, 2));
    let snaps: Vec<(u64, u64)> = report.summary.snapshots.iter().map(|s| (s.index, s.term)).collect();
    assert_eq!(snaps, [(0, 0), (3, 1)]);
    // raw reads the same, across the segment boundary, with the CRC chain
    let (_, seen, stats) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
    assert_eq!(indexes(&seen), [1, 2, 3, 4]);
    assert_eq!(stats.errors, 0);

    // a WAL holding only a snapshot beyond its entries
    let mut s = Seg::first();
    s.snapshot(9, 2);
    let d = write_dir(&[(SEG0, s.bytes(1024))]);
    let (report, seen, _) = run(d.path(), &DumpOptions::default());
    assert!(seen.is_empty());
    assert_eq!((report.last_index(), report.summary.last_index), (Some(9), None));
}

#[test]
fn the_sink_can_stop_the_dump() {
    let (s, _) = puts(5);
    let d = write_dir(&[(SEG0, s.bytes(4096))]);
    let wal = open(d.path()).unwrap();
    let report = summarize(&wal).unwrap();
    for raw in [false, true] {
        let mut n = 0;
        let stats = dump(&wal, &report, &DumpOptions { raw, ..Default::default() }, &mut |_| {
            n += 1;
            if n == 2 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
        })
        .unwrap();
        assert_eq!(n, 2);
        assert!(stats.stopped);
    }
}

#[test]
fn raw_survives_every_single_byte_corruption() {
    // Nothing may panic or loop, whatever byte is damaged; and the entries
    // the normal dump lists are a prefix of the raw ones.
    let (s, _) = puts(4);
    let base = s.bytes(1024);
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join(SEG0);
    for i in (0..s.buf.len()).step_by(3) {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut b = base.clone();
            b[i] ^= flip;
            std::fs::write(&path, &b).unwrap();
            let (_, normal, _) = run(d.path(), &DumpOptions::default());
            let (_, raw, _) = run(d.path(), &DumpOptions { raw: true, ..Default::default() });
            let (n, r) = (indexes(&normal), indexes(&raw));
            assert!(r.len() >= n.len(), "byte {i} ^ {flip:#x}: {n:?} vs {r:?}");
        }
    }
}
