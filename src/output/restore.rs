//! `restore` output.
//!
//! JSON (one object): `{"restored": bool, "dryRun", "layout": "3.5"|"3.4",
//! "snapshot", "trailer", "dataDir", "walDir", "snapDir", "walFile",
//! "snapFile", "dbFile", "cluster": {"id": hex, "local": hex, "members":
//! [{"id": hex, "name", "peerUrls"}]}, "name", "consistentIndex", "term",
//! "revision", "compactRevision", "scheduledCompactRevision", "revisions",
//! "liveKeys", "statusHash", "totalKey", "dbSize", "dbPages",
//! "deletedMemberNamedKeys"}`. A refused snapshot prints
//! `{"restored": false, "snapshot", "findings": [...]}` (findings as in
//! `check -w json`).

use std::io::{self, Write};

use serde_json::json;

use super::WriteOut;
use crate::jobs::restore::{EtcdLayout, RestoreReport};

pub fn print(w: &mut dyn Write, r: &RestoreReport, how: WriteOut) -> io::Result<()> {
    let Some(p) = &r.plan else {
        if how == WriteOut::Json {
            let v = json!({"restored": false, "snapshot": r.snapshot, "findings": r.findings});
            return writeln!(w, "{v}");
        }
        for f in &r.findings {
            super::check::print_finding(w, f)?;
        }
        return writeln!(w, "{}: refused: the snapshot is damaged; nothing was written", r.snapshot.display());
    };
    if how == WriteOut::Json {
        let mut v = serde_json::to_value(p).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("restored".into(), json!(!p.dry_run));
        }
        return writeln!(w, "{v}");
    }
    let layout = match p.layout {
        EtcdLayout::V34 => "etcdctl 3.4",
        EtcdLayout::V35 => "etcdutl 3.5",
        EtcdLayout::V36 => "etcdutl 3.6",
        EtcdLayout::V37 => "etcdutl 3.7",
    };
    if p.dry_run {
        writeln!(
            w,
            "dry run: would restore {} into {} ({layout} layout); nothing written",
            p.snapshot.display(),
            p.data_dir.display()
        )?;
    } else {
        writeln!(w, "restored {} into {} ({layout} layout)", p.snapshot.display(), p.data_dir.display())?;
    }
    writeln!(w, "  member            {:x} ({})", p.cluster.local, p.name)?;
    writeln!(w, "  cluster           {:x}", p.cluster.id)?;
    for m in &p.cluster.members {
        writeln!(w, "  peer              {:x} {} {}", m.id, m.name, m.peer_urls.join(","))?;
    }
    writeln!(w, "  db                {} ({} pages, {} bytes)", p.db_file.display(), p.db_pages, p.db_size)?;
    writeln!(w, "  wal               {}", p.wal_file.display())?;
    writeln!(w, "  snap              {}", p.snap_file.display())?;
    let compact = match (p.compact_revision, p.scheduled_compact_revision) {
        (_, Some(s)) if Some(s) != p.compact_revision => format!(", etcd compacts to {s} at boot"),
        (Some(c), _) => format!(", compacted at {c}"),
        (None, _) => String::new(),
    };
    writeln!(w, "  revision          {}{compact}", p.revision)?;
    writeln!(w, "  keys              {} live, {} revisions", p.live_keys, p.revisions)?;
    writeln!(
        w,
        "  raft              index {}, term {} (consistent_index {})",
        p.consistent_index, p.term, p.consistent_index
    )?;
    writeln!(w, "  snapshot status   hash {:x}, revision {}, total keys {}", p.status_hash, p.revision, p.total_key)?;
    if !p.deleted_member_named_keys.is_empty() {
        writeln!(
            w,
            "  deleted user keys named like old member ids (as etcdctl 3.4 does): {}",
            p.deleted_member_named_keys.join(", ")
        )?;
    }
    Ok(())
}
