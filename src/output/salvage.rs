//! `salvage` output.
//!
//! JSON (one object, [`crate::jobs::salvage::SalvageReport`]): `source`,
//! `dbFile`, `output`, `pageSize`, `filePages`;
//! `meta` {`used`, `other` (each `index`, `txid`, `root`,
//! `highWaterMark`, `valid`, `problem`, `skippedPages`), `reason`,
//! `sameTree`, `revertDiff` [{`bucket`, `lostByReverting`, `onlyInOther`,
//! `changed`, `revisionsLostByReverting`, `revisionsOnlyInOther`}]};
//! `skippedPages` [{`page`, `offset`, `pageType`, `bucket`, `code`, `what`,
//! `lo`, `hi` (hex key bounds), `revisions` {`first`, `last`}}];
//! `badEntries` [{`page`, `offset`, `key`, `why`}], `badEntriesTotal`;
//! `recovered` {`pagesScanned`, `keyLeavesFound`, `revisions`, `ranges`,
//! `pages`, `duplicates`, `stale`, `compacted`, `conflicts`, `leases`};
//! `lost` {`ranges`, `revisions`, `partial`, `unknownFrom`,
//! `belowCompaction`}; `keysNewestLost` [{`key`, `lost` {`main`, `sub`,
//! `tombstone`}, `standIn` (same, or null: the key is gone), `source`,
//! `replayed` (the revision the WAL replay wrote it at, if it did)}],
//! `lostRevisionsNamed`; `missingLeases` (hex ids); `bucketsAffected`
//! [{`bucket`, `what`}]; `wal` {`walDir`, `segments`, `consistentIndex`,
//! `commit`, `lastIndex`, `cut` {`segment`, `offset`, `code`, `what`,
//! `etcd`} or null, `applied` [{`index`, `term`, `op`, `revision`,
//! `committed`, `note`}], `appliedTotal`, `appliedUncommitted`, `revisions`,
//! `notReplayed`, `notReplayedTotal`, `lost` (entries past the consistent
//! index after the cut), `lostTotal`, `afterCutInDb`, `skippedBecause`,
//! `rebuilt` {`anchorIndex`, `anchorRevision`, `entriesReplayed`,
//! `revisionAtConsistentIndex`, `revisionsVerified`, `revisions`, `ranges`,
//! `notRebuiltBecause`} (when the key bucket lost pages)}
//! (data dirs only); `result` {`revision`,
//! `compactRevision`, `revisions`, `liveKeys`, `consistentIndex`, `term`,
//! `pages`, `fileSize`, `sha256`, `status` {`hash`, `revision`, `totalKey`,
//! `totalSize`}}. Revision ranges are `{"first", "last"}` (inclusive).

use std::io::{self, Write};

use super::{WriteOut, humanize_bytes};
use crate::jobs::salvage::SalvageReport;
use crate::report::RevRange;

fn ranges(r: &[RevRange]) -> String {
    let mut parts: Vec<String> = r
        .iter()
        .take(20)
        .map(|x| match (x.first, x.last) {
            (Some(a), Some(b)) if a == b => a.to_string(),
            (Some(a), Some(b)) => format!("{a}..={b}"),
            (Some(a), None) => format!("{a}.."),
            (None, Some(b)) => format!("..={b}"),
            (None, None) => "all".into(),
        })
        .collect();
    if r.len() > 20 {
        parts.push(format!("... ({} ranges)", r.len()));
    }
    parts.join(", ")
}

pub fn print(w: &mut dyn Write, r: &SalvageReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let v = serde_json::to_value(r).unwrap_or_default();
        return writeln!(w, "{v}");
    }
    let m = &r.meta;
    writeln!(w, "salvaged {} into {}", r.db_file.display(), r.output.display())?;
    writeln!(
        w,
        "meta: used page {} (txid {}{}): {}",
        m.used.index,
        m.used.txid,
        if m.used.valid { "" } else { ", fails validation" },
        m.reason
    )?;
    if let Some(o) = &m.other {
        let state = match &o.problem {
            Some(p) => format!("invalid: {p}"),
            None => "valid".into(),
        };
        writeln!(w, "      other page {} (txid {}) is {state}", o.index, o.txid)?;
        if m.same_tree {
            writeln!(w, "      both name the same tree: reverting to it loses nothing")?;
        }
    }
    for d in &m.revert_diff {
        let revs = if d.revisions_lost_by_reverting.is_empty() {
            String::new()
        } else {
            format!(" (revisions {})", ranges(&d.revisions_lost_by_reverting))
        };
        writeln!(
            w,
            "      reverting to it: bucket {} loses {} entries{revs}, has {} others, {} changed",
            d.bucket, d.lost_by_reverting, d.only_in_other, d.changed
        )?;
    }
    if r.skipped_pages.is_empty() {
        writeln!(w, "pages skipped: none (every page of the tree read)")?;
    } else {
        writeln!(w, "pages skipped: {}", r.skipped_pages.len())?;
        for p in r.skipped_pages.iter().take(50) {
            let at = match (p.page, p.offset) {
                (Some(pg), Some(o)) => format!("page {pg} (offset {o:#x})"),
                (Some(pg), None) => format!("page {pg}"),
                _ => "page ?".into(),
            };
            let kind = p.page_type.as_deref().unwrap_or("page");
            let bucket =
                if p.bucket.is_empty() { "the root bucket".to_string() } else { format!("bucket {}", p.bucket) };
            let revs = p.revisions.map(|x| format!("; {x}")).unwrap_or_default();
            writeln!(w, "  {at} [{kind} of {bucket}]: {}{revs}", p.what)?;
        }
    }
    if r.bad_entries_total > 0 {
        writeln!(w, "damaged entries dropped from readable pages: {}", r.bad_entries_total)?;
        for b in r.bad_entries.iter().take(20) {
            writeln!(w, "  page {} (offset {:#x}) key {}: {}", b.page, b.offset, b.key, b.why)?;
        }
    }
    let rc = &r.recovered;
    writeln!(
        w,
        "recovered from unreachable pages: {} revisions{} from {} pages ({} pages scanned, {} look like key-bucket leaves; {} stale copies and {} compacted revisions not put back{})",
        rc.revisions,
        if rc.ranges.is_empty() { String::new() } else { format!(" ({})", ranges(&rc.ranges)) },
        rc.pages.len(),
        rc.pages_scanned,
        rc.key_leaves_found,
        rc.stale,
        rc.compacted,
        if rc.conflicts > 0 { format!(", {} conflicting copies", rc.conflicts) } else { String::new() }
    )?;
    writeln!(w, "compaction rules: {}", r.rules.describe())?;
    let l = &r.lost;
    if l.revisions == 0 {
        writeln!(w, "lost revisions: none known")?;
    } else {
        writeln!(w, "lost revisions: {} ({})", l.revisions, ranges(&l.ranges))?;
    }
    {
        if !l.partial.is_empty() {
            writeln!(w, "  partly lost (some changes of the transaction missing): {:?}", l.partial)?;
        }
        if let Some(u) = l.unknown_from {
            writeln!(w, "  the newest revisions are under a lost page: any from {u} on are lost, how many is unknown")?;
        }
    }
    if !r.keys_newest_lost.is_empty() {
        writeln!(
            w,
            "keys whose newest revision is lost ({} of the {} lost revisions the damaged pages still name):",
            r.keys_newest_lost.len(),
            r.lost_revisions_named
        )?;
        for k in r.keys_newest_lost.iter().take(50) {
            let lost = format!("{}/{}{}", k.lost.main, k.lost.sub, if k.lost.tombstone { " (delete)" } else { "" });
            let stand = match k.stand_in {
                Some(s) if s.tombstone => format!("deleted at {}/{}", s.main, s.sub),
                Some(s) => format!("revision {}/{} stands in", s.main, s.sub),
                None => "the key does not exist in the snapshot".into(),
            };
            let replayed = k
                .replayed
                .map(|r| {
                    format!(
                        "; the WAL replay wrote it again at {}/{}, its version counted without the lost revision",
                        r.main, r.sub
                    )
                })
                .unwrap_or_default();
            writeln!(w, "  {} lost {lost}: {stand}{replayed} [{}]", k.key, k.source)?;
        }
        if r.keys_newest_lost.len() > 50 {
            writeln!(w, "  ... {} keys in all", r.keys_newest_lost.len())?;
        }
    }
    if l.below_compaction {
        writeln!(
            w,
            "  a lost range reaches below the compact revision, where compacted and lost revisions look alike"
        )?;
    }
    for b in &r.buckets_affected {
        writeln!(w, "bucket {}: {}", b.bucket, b.what)?;
    }
    if !r.missing_leases.is_empty() {
        writeln!(
            w,
            "leases live keys carry but the lease bucket lacks (those keys never expire): {}",
            r.missing_leases.join(", ")
        )?;
    }
    if let Some(wr) = &r.wal {
        print_wal(w, wr)?;
    }
    let x = &r.result;
    writeln!(
        w,
        "result: revision {}, {} revisions, {} live keys, compacted at {}, {} pages ({}), status hash {:x}",
        x.revision,
        x.revisions,
        x.live_keys,
        x.compact_revision.map_or_else(|| "never".into(), |c| c.to_string()),
        x.pages,
        humanize_bytes(x.file_size),
        x.status.hash
    )?;
    writeln!(
        w,
        "  {} checks clean and has a SHA-256 trailer: `etcd-forensics restore {} --data-dir DIR` makes a data dir of it",
        r.output.display(),
        r.output.display()
    )
}

fn print_wal(w: &mut dyn Write, r: &crate::jobs::salvage::wal::WalReplay) -> io::Result<()> {
    if let Some(why) = &r.skipped_because {
        return writeln!(w, "wal {}: not replayed: {why}", r.wal_dir.display());
    }
    let ci = r.consistent_index.unwrap_or(0);
    let revs = r.revisions.map(|x| format!(", writing {x}")).unwrap_or_default();
    writeln!(
        w,
        "wal {}: {} entries past the db's consistent index {ci} applied{revs}{}",
        r.wal_dir.display(),
        r.applied_total,
        if r.applied_uncommitted > 0 {
            format!(" ({} of them not yet committed, as a restarted single member applies them)", r.applied_uncommitted)
        } else {
            String::new()
        }
    )?;
    for e in r.applied.iter().filter(|e| e.note.is_some() && e.revision.is_none()).take(20) {
        writeln!(w, "  index {} {}: {}", e.index, e.op, e.note.as_deref().unwrap_or_default())?;
    }
    for e in r.not_replayed.iter().take(20) {
        writeln!(w, "  not replayed: index {} {}: {}", e.index, e.op, e.note.as_deref().unwrap_or_default())?;
    }
    if r.not_replayed_total > 20 {
        writeln!(w, "  ... {} entries not replayed in all", r.not_replayed_total)?;
    }
    if let Some(b) = &r.rebuilt {
        match &b.not_rebuilt_because {
            None => writeln!(
                w,
                "  lost revisions rebuilt from entries the db had applied: {}{} (replayed {} entries from index {} at revision {}, {} revisions checked byte for byte against the db)",
                b.revisions,
                if b.ranges.is_empty() { String::new() } else { format!(" ({})", ranges(&b.ranges)) },
                b.entries_replayed,
                b.anchor_index.unwrap_or(0),
                b.anchor_revision.unwrap_or(0),
                b.revisions_verified
            )?,
            Some(why) => writeln!(w, "  lost revisions not rebuilt from the WAL: {why}")?,
        }
    }
    match &r.cut {
        None => writeln!(w, "  the WAL reads to its end")?,
        Some(c) => {
            let seg = c.segment.as_ref().map(|p| p.display().to_string()).unwrap_or_default();
            writeln!(w, "  reading stopped at {seg} offset {:#x} ({}: {}); etcd {}", c.offset, c.code, c.what, c.etcd)?;
            if r.lost_total == 0 {
                writeln!(
                    w,
                    "  nothing past the consistent index lies after the cut ({} entries after it are already in the db)",
                    r.after_cut_in_db
                )?;
            } else {
                let first = r.lost.first().map_or(0, |e| e.index);
                let last = r.lost.last().map_or(0, |e| e.index);
                writeln!(w, "  lost after the cut: {} entries (index {first}..={last}):", r.lost_total)?;
                for e in r.lost.iter().take(20) {
                    let note = e.note.as_deref().map(|n| format!(" ({n})")).unwrap_or_default();
                    writeln!(w, "    index {} term {} {}{note}", e.index, e.term, e.op)?;
                }
            }
        }
    }
    Ok(())
}
