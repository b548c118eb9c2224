//! Writing WAL segments: framing, padding and the rolling CRC32C, byte for
//! byte as etcd's `wal.encoder` (`server/storage/wal/encoder.go` 3.6,
//! `server/wal/encoder.go` 3.5, `wal/encoder.go` 3.4) writes them.
//!
//! ```text
//! frame = u64 LE length word | walpb.Record{type, crc, data?} | P zeros
//!         word = N | (0x80|P) << 56 when P != 0, P = (8 - N % 8) % 8
//! crc   = crc32c_append(running, data) for data records (running starts at
//!         the previous segment's last CRC, 0 for a new WAL); a CRC record
//!         carries the running value and has no data
//! ```
//!
//! [`Encoder`] only builds bytes; [`write_segment`] puts them in a file
//! preallocated to [`SEGMENT_SIZE`] (64 000 000) bytes of zeros, as
//! `wal.Create` does (etcd uses `fallocate`; we extend with `set_len`, which
//! reads back as the same zeros), and fsyncs it.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;

use prost::Message;

use super::layout::{SEGMENT_SIZE, encode_len_word, padding_for, record_type};
use crate::error::{Error, Result};
use crate::proto::etcdserverpb::Metadata;
use crate::proto::raftpb::{Entry, HardState};
use crate::proto::walpb;

/// Builds the bytes of WAL records.
#[derive(Debug, Clone, Default)]
pub struct Encoder {
    crc: u32,
    buf: Vec<u8>,
}

impl Encoder {
    /// A new encoder whose running CRC starts at `prev_crc` (0 for the
    /// first segment of a new WAL).
    pub fn new(prev_crc: u32) -> Self {
        Encoder { crc: prev_crc, buf: Vec::new() }
    }

    /// The running CRC after the records so far.
    pub fn crc(&self) -> u32 {
        self.crc
    }

    /// Bytes so far (a multiple of 8).
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    fn frame(&mut self, rec: &walpb::Record) {
        let body = rec.encode_to_vec();
        let n = body.len() as u64;
        self.buf.extend_from_slice(&encode_len_word(n).to_le_bytes());
        self.buf.extend_from_slice(&body);
        self.buf.resize(self.buf.len() + padding_for(n) as usize, 0);
    }

    /// A record with data: the CRC chain moves on over `data`.
    pub fn record(&mut self, r#type: i64, data: &[u8]) {
        self.crc = crc32c::crc32c_append(self.crc, data);
        let rec = walpb::Record { r#type, crc: self.crc, data: Some(data.to_vec()) };
        self.frame(&rec);
    }

    /// The CRC record that starts every segment (no data, carries the running CRC).
    pub fn crc_record(&mut self) {
        let rec = walpb::Record { r#type: record_type::CRC, crc: self.crc, data: None };
        self.frame(&rec);
    }

    pub fn metadata(&mut self, md: &Metadata) {
        self.record(record_type::METADATA, &md.encode_to_vec());
    }

    pub fn entry(&mut self, e: &Entry) {
        self.record(record_type::ENTRY, &e.encode_to_vec());
    }

    pub fn state(&mut self, hs: &HardState) {
        self.record(record_type::STATE, &hs.encode_to_vec());
    }

    pub fn snapshot(&mut self, s: &walpb::Snapshot) {
        self.record(record_type::SNAPSHOT, &s.encode_to_vec());
    }
}

/// Create `path` (it must not exist) with mode 0600, write `bytes`, extend
/// it with zeros to [`SEGMENT_SIZE`] (or leave it longer if `bytes` are),
/// and fsync it.
pub fn write_segment(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = create_private(path)?;
    f.write_all(bytes).map_err(|e| Error::io("write", path, &e))?;
    let len = (bytes.len() as u64).max(SEGMENT_SIZE);
    f.set_len(len).map_err(|e| Error::io("preallocate", path, &e))?;
    f.sync_all().map_err(|e| Error::io("fsync", path, &e))?;
    Ok(())
}

/// `O_CREAT|O_EXCL|O_WRONLY`, mode 0600 (etcd's `PrivateFileMode`).
pub(crate) fn create_private(path: &Path) -> Result<File> {
    let mut o = OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path).map_err(|e| Error::io("create", path, &e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::raftpb::{ConfChange, ConfState};
    use crate::testvec::{CLUSTER_ID, NODE_ID, WAL_351_LAST, WAL_3423, WAL_3423_RECORDS, hex};
    use crate::wal::SegmentReader;

    /// The Appendix A records, written by us.
    fn appendix_a(conf_state: bool) -> Encoder {
        let mut e = Encoder::new(0);
        e.crc_record();
        e.metadata(&Metadata { node_id: NODE_ID, cluster_id: CLUSTER_ID });
        e.snapshot(&walpb::Snapshot { index: 0, term: 0, conf_state: None });
        let member = format!(r#"{{"id":{NODE_ID},"peerURLs":["http://127.0.0.1:25801"],"name":"s1"}}"#);
        let cc = ConfChange { id: 0, r#type: 0, node_id: NODE_ID, context: Some(member.into_bytes()) };
        e.entry(&Entry { r#type: 1, term: 1, index: 1, data: Some(cc.encode_to_vec()) });
        e.state(&HardState { term: 1, vote: NODE_ID, commit: 1 });
        let cs = conf_state.then(|| ConfState { voters: vec![NODE_ID], ..Default::default() });
        e.snapshot(&walpb::Snapshot { index: 1, term: 1, conf_state: cs });
        e
    }

    #[test]
    fn appendix_a_3_4_bytes() {
        let e = appendix_a(false);
        assert_eq!(e.bytes(), hex(WAL_3423).as_slice());
        assert_eq!(e.crc(), WAL_3423_RECORDS[5].2);
    }

    #[test]
    fn appendix_a_3_5_last_record() {
        let e = appendix_a(true);
        let want = hex(WAL_3423);
        assert_eq!(&e.bytes()[..0xe8], &want[..0xe8], "first 232 bytes equal 3.4's");
        assert_eq!(&e.bytes()[0xe8..], hex(WAL_351_LAST).as_slice());
        assert_eq!(e.bytes().len(), 272);
        assert_eq!(e.crc(), 0x8fe6e40b);
    }

    #[test]
    fn our_reader_reads_what_we_write() {
        let mut bytes = appendix_a(true).into_bytes();
        bytes.resize(8192, 0);
        let mut r = SegmentReader::new(&bytes, true, 0);
        let mut types = Vec::new();
        while let Some(rec) = r.next_record().unwrap() {
            types.push(rec.kind().name());
        }
        assert_eq!(types.len(), 6);
    }

    #[test]
    fn segment_file_is_preallocated_private_and_exclusive() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("0000000000000000-0000000000000000.wal");
        let bytes = appendix_a(false).into_bytes();
        write_segment(&p, &bytes).unwrap();
        let m = std::fs::metadata(&p).unwrap();
        assert_eq!(m.len(), SEGMENT_SIZE);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(m.permissions().mode() & 0o777, 0o600);
        }
        let back = std::fs::read(&p).unwrap();
        assert_eq!(&back[..bytes.len()], bytes.as_slice());
        assert!(back[bytes.len()..].iter().all(|&b| b == 0));
        assert!(write_segment(&p, &bytes).is_err(), "never overwrites");
    }
}
