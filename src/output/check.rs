//! `check` output.
//!
//! JSON: `{"path", "verdict": "clean"|"damaged", "findings": [...],
//! "findingsDropped", "summary": {"damage","warning","info"}}`; each finding
//! has `severity`, `code`, `location` {`file`,`offset`,`page`}, optional
//! `pageType`, `bucket`, `revisions` {`first`,`last`}, and `what`,
//! `meaning`, `action`.

use std::io::{self, Write};

use serde_json::json;

use super::WriteOut;
use crate::jobs::check::CheckReport;
use crate::report::{Finding, Severity};

pub fn print(w: &mut dyn Write, r: &CheckReport, how: WriteOut) -> io::Result<()> {
    match how {
        WriteOut::Json => {
            let mut v = serde_json::to_value(r).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "summary".into(),
                    json!({
                        "damage": r.count(Severity::Damage),
                        "warning": r.count(Severity::Warning),
                        "info": r.count(Severity::Info),
                    }),
                );
            }
            writeln!(w, "{v}")
        }
        _ => {
            for f in &r.findings {
                print_finding(w, f)?;
            }
            if r.findings_dropped > 0 {
                writeln!(
                    w,
                    "... and {} more findings of the same kinds (use -w json for the first ones per bucket)",
                    r.findings_dropped
                )?;
            }
            let (d, wn, i) = (r.count(Severity::Damage), r.count(Severity::Warning), r.count(Severity::Info));
            writeln!(w, "{}: {} ({d} damage, {wn} warnings, {i} info)", r.path.display(), r.verdict)
        }
    }
}

pub fn print_finding(w: &mut dyn Write, f: &Finding) -> io::Result<()> {
    let mut head = format!("{}: {}", f.severity.as_str(), f.location);
    if let Some(t) = &f.page_type {
        head.push_str(&format!(" [{t}"));
        if let Some(b) = &f.bucket {
            head.push_str(&format!(" of bucket {b}"));
        }
        head.push(']');
    } else if let Some(b) = &f.bucket {
        head.push_str(&format!(" [bucket {b}]"));
    }
    writeln!(w, "{head}: {}", f.what)?;
    if let Some(r) = &f.revisions {
        writeln!(w, "    affects: {r}")?;
    }
    if !f.meaning.is_empty() {
        writeln!(w, "    meaning: {}", f.meaning)?;
    }
    if !f.action.is_empty() {
        writeln!(w, "    action:  {}", f.action)?;
    }
    Ok(())
}

/// `check DATA_DIR` output.
///
/// JSON: `{"verdict": "clean"|"repairable"|"damaged", "willStart": bool,
/// "memberId", "clusterId" (hex), "paths", "db" {consistentIndex, term,
/// revision, compactRevision, liveKeys, members, alarms}, "wal" (the WAL
/// summary etcd's ReadAll would see), "snapshot" {path, term, index},
/// "prediction" {revisionAtBoot, revisionAfterCommit, ...}, "stoppedCleanly"
/// (db and WAL in step, nothing to replay), "findings",
/// "summary"}`.
pub fn print_dir(w: &mut dyn Write, d: &crate::datadir::Diagnosis, how: WriteOut) -> io::Result<()> {
    let count = |s: Severity| d.findings.iter().filter(|f| f.severity == s).count();
    match how {
        WriteOut::Json => {
            let mut v = serde_json::to_value(d).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert(
                    "summary".into(),
                    json!({"damage": count(Severity::Damage), "warning": count(Severity::Warning), "info": count(Severity::Info)}),
                );
            }
            writeln!(w, "{v}")
        }
        _ => {
            for f in &d.findings {
                print_finding(w, f)?;
            }
            if let (Some(m), Some(c)) = (&d.member_id, &d.cluster_id) {
                writeln!(w, "member {m} of cluster {c}")?;
            }
            if let Some(db) = &d.db {
                writeln!(
                    w,
                    "db: revision {}, consistent index {}, compacted at {}{}",
                    db.revision,
                    db.consistent_index.map_or("-".into(), |x| x.to_string()),
                    db.compact_revision.map_or("never".into(), |x| x.to_string()),
                    d.db_swapped_in.as_ref().map_or(String::new(), |f| format!(
                        " (of {}, which etcd renames over the db at boot)",
                        f.display()
                    ))
                )?;
            }
            if let Some(wal) = &d.wal {
                let hs = wal
                    .hard_state
                    .map_or("none".to_string(), |h| format!("term {} vote {:x} commit {}", h.term, h.vote, h.commit));
                writeln!(
                    w,
                    "wal: {} segments, entries {}..{}, hard state {hs}",
                    wal.segments.len(),
                    wal.first_index.map_or("-".into(), |x| x.to_string()),
                    wal.last_index.map_or("-".into(), |x| x.to_string())
                )?;
            }
            if let Some(s) = &d.snapshot {
                if s.from_wal_record {
                    let how = "its newest snapshot record; etcd 3.7 opens no .snap file";
                    writeln!(
                        w,
                        "snapshot: term {} index {} (from the WAL in {}: {how})",
                        s.term,
                        s.index,
                        s.path.display()
                    )?;
                } else {
                    writeln!(w, "snapshot: term {} index {} ({})", s.term, s.index, s.path.display())?;
                }
            }
            if let Some(p) = &d.prediction {
                writeln!(
                    w,
                    "after start: revision {} ({} committed entries applied at boot); {} once all {} WAL entries are committed",
                    p.revision_at_boot,
                    p.entries_to_apply_at_boot,
                    p.revision_after_commit,
                    p.entries_to_apply_after_commit
                )?;
            }
            match d.stopped_cleanly {
                Some(true) => writeln!(w, "stopped cleanly: yes (db and WAL in step, nothing to replay)")?,
                Some(false) => writeln!(w, "stopped cleanly: no (see datadir.unclean_stop)")?,
                None => {}
            }
            let verdict = match d.verdict {
                crate::datadir::Verdict::Clean => "clean",
                crate::datadir::Verdict::Repairable => "repairable (etcd repairs it on start)",
                crate::datadir::Verdict::Damaged => "damaged",
            };
            writeln!(
                w,
                "{}: {verdict}; etcd {} ({} damage, {} warnings, {} info)",
                d.paths.data_dir.display(),
                if d.will_start { "will start" } else { "will NOT start" },
                count(Severity::Damage),
                count(Severity::Warning),
                count(Severity::Info)
            )
        }
    }
}
