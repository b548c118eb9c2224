//! A valid WAL segment, damaged once. `walgen` builds a segment from an
//! arbitrary list of records with our writer (optionally preallocated:
//! zeros after the records, as etcd's 64 MB segments are), then one
//! mutation is applied: a bit flip, a byte set, a truncation, a run of up
//! to 4 zeroed bytes (a burst CRC-32C always detects), or a record's whole
//! length word replaced. The damaged file is read as the last segment and
//! as an earlier one, and the dropped tail is listed with `salvage`.
//!
//! Properties:
//! * no panic, and the reader stops;
//! * every record that ends at or before the first changed byte comes
//!   back clean and equal to what was written (damage never reaches back);
//! * a change inside the records (or a cut short of their end) is never
//!   silent: the records read, their anomalies and how reading ended
//!   differ from the undamaged file's. Changes etcd's decoder cannot see
//!   (the CRC covers only `data`: a tag turned into an unknown field's, bits
//!   of the crc varint past 32) are no exception: the record is not as
//!   etcd writes it, `wal.record_not_as_etcd_writes`;
//! * a non-zero byte written at least one frame past the records of a
//!   preallocated segment is reported where it is, as data after the zero
//!   length word that ends the records;
//! * `salvage` lists records in order, inside the file, from where the
//!   reader stopped.
#![no_main]

use arbitrary::Arbitrary;
use etcd_forensics::wal::repair::salvage;
use etcd_forensics::wal::{SegmentEnd, SegmentReader};
use libfuzzer_sys::fuzz_target;

mod mutation;
mod walgen;
use mutation::Mutation;
use walgen::Records;

#[derive(Arbitrary, Debug)]
enum Damage {
    Bytes(Mutation),
    /// Replace the length word of record `record` (mod the count).
    SetLenWord {
        record: u16,
        word: u64,
    },
}

#[derive(Arbitrary, Debug)]
struct Input {
    records: Records,
    preallocate: bool,
    damage: Damage,
}

/// Everything the reader says about a file, for comparison.
fn outcome(data: &[u8], last: bool, prev_crc: u32) -> (String, u64) {
    let mut r = SegmentReader::new(data, last, prev_crc);
    let mut s = String::new();
    let mut n = 0usize;
    loop {
        match r.next_record() {
            Ok(Some(rec)) => {
                assert!(rec.end() <= data.len() as u64, "record past the input");
                s.push_str(&format!("{rec:?} {:?}\n", rec.anomalies()));
                n += 1;
                assert!(n <= data.len() / 8 + 1, "more records than frames");
            }
            Ok(None) => {
                s.push_str(&format!("end {:?}\n", r.end()));
                break;
            }
            Err(e) => {
                s.push_str(&format!("error {e:?}\n"));
                break;
            }
        }
    }
    (s, r.offset())
}

fuzz_target!(|input: Input| {
    let prev_crc = input.records.prev_crc;
    let seg = walgen::build(input.records);
    let records_end = seg.bytes.len();
    let mut original = seg.bytes;
    if input.preallocate {
        original.resize(records_end + 4096, 0);
    }
    if original.is_empty() {
        return;
    }
    let len = original.len();
    let mut data = original.clone();
    match input.damage {
        Damage::Bytes(m) => m.apply(&mut data),
        Damage::SetLenWord { record, word } => {
            if seg.ends.is_empty() {
                return;
            }
            let k = usize::from(record) % seg.ends.len();
            let at = if k == 0 { 0 } else { seg.ends[k - 1] as usize };
            data[at..at + 8].copy_from_slice(&word.to_le_bytes());
        }
    }
    // The first byte that differs, or where the shorter file ends.
    let first = original.iter().zip(&data).position(|(a, b)| a != b).unwrap_or(data.len().min(len));
    let changed_records = first < records_end;

    for last in [true, false] {
        let mut r = SegmentReader::new(&data, last, prev_crc);
        for (n, w) in seg.want.iter().enumerate() {
            if seg.ends[n] as usize > first {
                break;
            }
            match r.next_record() {
                Ok(Some(rec)) => walgen::check(n, &rec, w),
                other => panic!("record {n}, before the damage at {first}: {other:?}"),
            }
        }

        let (damaged, stop) = outcome(&data, last, prev_crc);
        if changed_records {
            let (clean, _) = outcome(&original, last, prev_crc);
            assert_ne!(damaged, clean, "a change at offset {first} went unnoticed");
        }

        if input.preallocate && data.len() == len {
            let nonzero = data[records_end..].iter().position(|b| *b != 0).map(|i| records_end + i);
            if let Some(m) = nonzero.filter(|m| *m >= records_end + 8) {
                let mut r = SegmentReader::new(&data, last, prev_crc);
                while let Ok(Some(_)) = r.next_record() {}
                assert_eq!(
                    r.end(),
                    Some(SegmentEnd::ZeroWord { offset: records_end as u64, nonzero_after: Some(m as u64) }),
                    "non-zero byte at {m} after the records"
                );
            }
        }

        let mut r = SegmentReader::new(&data, last, prev_crc);
        while let Ok(Some(_)) = r.next_record() {}
        assert_eq!(r.offset(), stop);
        let (dropped, total, entries) = salvage(&data, stop, Some(r.crc()));
        assert!(dropped.len() as u64 <= total && entries <= total);
        let mut prev = None;
        for d in &dropped {
            assert!(d.offset >= stop && d.offset < data.len() as u64, "dropped record outside the file");
            assert!(prev.is_none_or(|p| d.offset > p), "dropped records out of order");
            prev = Some(d.offset);
        }
    }
});
