//! `cluster` output.
//!
//! JSON: the [`ClusterReport`] as is: `members` (each with `path`, `kind`,
//! `verdict`, `willStart`, `memberId`, `clusterId`, `name`, `members`, `membersAtBoot` (3.4/3.5 rules),
//! `appliedIndex`, `term`, `commitIndex`, `lastIndex`, `lastTerm`,
//! `revision`, `compactRevision`, `revisionAtBoot`, `revisionAfterCommit`,
//! `replayAtBoot`, `uncommittedEntries`, `stoppedCleanly`, `hashKv`,
//! `damage`, `warnings`, `damageCodes`, `error`, `behind`, `divergentFrom`,
//! `rules`, `removed`), `sameCluster`, `clusterIds`, `consistent`,
//! `firstDivergentRevision`, `hashKvRevision`, `hashKvAgree`, `best`,
//! `bestIsComplete`, `reasons`, `quorum` {voters, needed, present, formed},
//! `startup` {possible, order, why}, `intact`.

use std::io::{self, Write};

use super::WriteOut;
use super::table::render;
use crate::datadir::Verdict;
use crate::jobs::cluster::restore::ClusterRestorePlan;
use crate::jobs::cluster::{ClusterReport, MemberReport};

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |x| x.to_string())
}

fn verdict(m: &MemberReport) -> &'static str {
    if m.error.is_some() {
        return "unreadable";
    }
    match m.verdict {
        Verdict::Clean => "clean",
        Verdict::Repairable => "repairable",
        Verdict::Damaged => "damaged",
    }
}

fn behind(m: &MemberReport, r: &ClusterReport) -> String {
    if r.best.as_ref() == Some(&m.path) {
        return "best source".into();
    }
    if m.removed {
        return "REMOVED member".into();
    }
    m.behind.map_or_else(|| "-".into(), |b| format!("{} entries, {} revs", b.entries, b.revisions))
}

pub fn print(w: &mut dyn Write, r: &ClusterReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        return writeln!(w, "{}", serde_json::to_string(r).unwrap_or_default());
    }
    let header = [
        "path",
        "name",
        "member id",
        "verdict",
        "starts",
        "applied",
        "commit",
        "last index",
        "revision",
        "compact",
        "hashkv",
        "behind",
    ];
    let rows: Vec<Vec<String>> = r
        .members
        .iter()
        .map(|m| {
            vec![
                m.path.display().to_string(),
                m.name.clone().unwrap_or_else(|| "-".into()),
                m.member_id.clone().unwrap_or_else(|| "-".into()),
                verdict(m).into(),
                if m.will_start { "yes".into() } else { "NO".into() },
                opt(m.applied_index),
                opt(m.commit_index),
                opt(m.last_index),
                opt(m.revision_after_commit.or(m.revision)),
                opt(m.compact_revision),
                m.hash_kv.map_or_else(|| "-".into(), |h| h.to_string()),
                behind(m, r),
            ]
        })
        .collect();
    match how {
        WriteOut::Table => render(w, &header, &rows)?,
        _ => {
            for row in &rows {
                writeln!(w, "{}", row.join(", "))?;
            }
        }
    }
    writeln!(w)?;
    writeln!(
        w,
        "cluster: {}; history {}{}",
        if r.same_cluster {
            format!("one cluster ({})", r.cluster_ids.first().map_or("id unknown", |s| s.as_str()))
        } else {
            format!("{} different clusters ({})", r.cluster_ids.len(), r.cluster_ids.join(", "))
        },
        if r.consistent {
            "consistent".to_string()
        } else {
            format!("DIVERGES at revision {}", opt(r.first_divergent_revision))
        },
        match (r.hash_kv_revision, r.hash_kv_agree) {
            (Some(rev), Some(true)) => format!("; HashKV at revision {rev} agrees"),
            (Some(rev), _) => format!("; HashKV at revision {rev} DIFFERS"),
            _ => String::new(),
        }
    )?;
    if let Some(q) = &r.quorum {
        writeln!(
            w,
            "quorum: {} of {} voting members present and starting, {} needed: {}",
            q.present.len(),
            q.voters,
            q.needed,
            if q.formed { "formed" } else { "LOST" }
        )?;
    }
    writeln!(w, "best source: {}", r.best.as_ref().map_or("none".into(), |p| p.display().to_string()))?;
    for reason in &r.reasons {
        writeln!(w, "  - {reason}")?;
    }
    writeln!(w, "start as is: {}: {}", if r.startup.possible { "yes" } else { "no" }, r.startup.why)?;
    if r.startup.possible && r.startup.order.len() > 1 {
        let order: Vec<String> = r.startup.order.iter().map(|p| p.display().to_string()).collect();
        writeln!(w, "  order: {}", order.join(", then "))?;
    }
    writeln!(w, "verdict: {}", if r.intact { "intact" } else { "NOT intact" })
}

/// `cluster --restore` output. JSON: `{"analysis": <cluster JSON>,
/// "restore": {"dryRun", "source", "sourceKind", "sourceReason",
/// "uncommitted", "sourceLog" {consistentIndex, commit, lastIndex, applied,
/// leftOut, leftOutTotal, droppedUncommitted}, "out", "initialCluster",
/// "initialClusterToken", "clusterId", "bumpRevision", "sourceRevision",
/// "revision", "layout", "members": [{name, peerUrl, memberId, dataDir,
/// hostDataDir, flags, manifest, manifestChanges}], "steps"}}`.
pub fn print_restore(w: &mut dyn Write, p: &ClusterRestorePlan, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let v = serde_json::json!({"analysis": &p.analysis, "restore": p});
        return writeln!(w, "{v}");
    }
    print(w, &p.analysis, how)?;
    writeln!(w)?;
    writeln!(
        w,
        "{} a new cluster of {} member{} in {} from {} ({}):",
        if p.dry_run { "would write" } else { "wrote" },
        p.members.len(),
        if p.members.len() == 1 { "" } else { "s" },
        p.out.display(),
        p.source.display(),
        p.source_reason
    )?;
    if let Some(l) = &p.source_log {
        writeln!(
            w,
            "  source log: applied index {}, commit {}, last index {}: {} entries applied{}",
            opt(l.consistent_index),
            opt(l.commit),
            opt(l.last_index),
            l.applied,
            if l.dropped_uncommitted > 0 {
                format!(
                    "; {} entries past the commit DROPPED (as etcd --force-new-cluster does; --uncommitted keep applies them)",
                    l.dropped_uncommitted
                )
            } else {
                String::new()
            }
        )?;
        for e in l.left_out.iter().filter(|e| !e.committed) {
            writeln!(w, "    dropped: index {} term {} {}", e.index, e.term, e.op)?;
        }
    }
    writeln!(
        w,
        "  revision {} (source {} + bump {}){}, cluster id {}, token {}, layout etcd {}",
        p.revision,
        p.source_revision,
        p.bump_revision,
        if p.bump_revision > 0 { ", marked compacted" } else { "" },
        p.cluster_id,
        p.initial_cluster_token,
        serde_json::to_value(p.layout).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    )?;
    for m in &p.members {
        writeln!(
            w,
            "  member {} ({}), data dir {} -> {} on its node",
            m.name,
            m.member_id,
            m.data_dir.display(),
            m.host_data_dir
        )?;
        writeln!(w, "    {}", m.flags.join(" "))?;
        if let Some(mp) = &m.manifest {
            writeln!(
                w,
                "    manifest {}: {}",
                mp.display(),
                m.manifest_changes.iter().map(|c| c.field.clone()).collect::<Vec<_>>().join(", ")
            )?;
        }
    }
    writeln!(w, "steps{}:", if p.dry_run { "" } else { " (also in STEPS.txt)" })?;
    for (i, s) in p.steps.iter().enumerate() {
        writeln!(w, "  {}. {s}", i + 1)?;
    }
    Ok(())
}
