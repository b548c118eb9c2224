//! `cluster PATH... --restore --out DIR`: a new cluster, one data dir per
//! member, from the best source (or `--from`).
//!
//! 1. The source: a snapshot file is used as is. A data dir's db is taken
//!    with the WAL entries it has past its consistent index, as `salvage`
//!    replays them: by default only the committed ones (what
//!    `etcd --force-new-cluster` keeps: it "discards uncommitted WAL
//!    entries"), with `--uncommitted keep` all of them (what raft commits
//!    when this member wins an election). The entries left out are listed.
//!    That state is written to a verified snapshot file in a temporary
//!    directory beside DIR.
//! 2. The members: `--member name=peer-url` repeated, else the kubeadm
//!    manifests' `--name` and `--initial-advertise-peer-urls`, else the
//!    source's member list. One new `--initial-cluster-token`.
//! 3. Every member's restore is planned (`restore --dry-run`: the snapshot
//!    is checked page by page) before anything is written; then each data
//!    dir is written under a hidden staging directory beside DIR, with the
//!    edited kubeadm manifests and the steps, everything fsynced, and the
//!    staging directory renamed to DIR last (DIR must not exist, or be an
//!    empty directory).
//!
//! `--bump-revision` (default 1 000 000 000) with `--mark-compacted` is on,
//! as the Kubernetes restore guides advise: clients (the apiserver's watch
//! cache, informers) that saw revisions past the source's must not see
//! those revisions reused with other data.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::kubeadm::{self, FieldChange, ManifestEdit};
use super::{ClusterOptions, ClusterReport, InputKind, analyze};
use crate::error::{Error, Result};
use crate::jobs::restore::{
    self as single, EtcdLayout, RestoreOptions, RestorePlan, absent_or_empty, fsync_dir, parent_dir,
};
use crate::jobs::salvage::{self, SalvageOptions, wal::WalEntry};
use crate::membership;
use crate::mvcc::version::Release;

/// The default revision bump: far above any revision a client can have
/// cached from a cluster that is being restored.
pub const DEFAULT_BUMP: u64 = 1_000_000_000;

/// What to do with the source member's log entries past its commit index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Uncommitted {
    /// Leave them out, as `etcd --force-new-cluster` does.
    #[default]
    Drop,
    /// Apply them too, as raft does when this member becomes leader.
    Keep,
}

#[derive(Debug, Clone)]
pub struct ClusterRestoreOptions {
    /// The members analysed (data dirs or snapshot files).
    pub paths: Vec<PathBuf>,
    /// The source, instead of the analysis' best one.
    pub from: Option<PathBuf>,
    pub out: PathBuf,
    /// `(name, peer URL)` of each new member.
    pub members: Vec<(String, String)>,
    /// `None`: a new random token.
    pub token: Option<String>,
    /// 0: no bump and no compaction mark.
    pub bump_revision: u64,
    pub uncommitted: Uncommitted,
    /// `None`: the layout of the source's etcd line.
    pub layout: Option<EtcdLayout>,
    /// kubeadm static pod manifests (`etcd.yaml`), one per member, matched
    /// by `--name`.
    pub kubeadm: Vec<PathBuf>,
    /// The data dir's path on each node, for the manifests and flags
    /// (default: the manifest's data hostPath + `-restored`, else
    /// `DIR/<name>`).
    pub host_data_dir: Option<String>,
    pub etcd_version: Option<Release>,
    pub dry_run: bool,
}

impl ClusterRestoreOptions {
    pub fn new(paths: Vec<PathBuf>, out: impl Into<PathBuf>) -> Self {
        ClusterRestoreOptions {
            paths,
            from: None,
            out: out.into(),
            members: Vec::new(),
            token: None,
            bump_revision: DEFAULT_BUMP,
            uncommitted: Uncommitted::Drop,
            layout: None,
            kubeadm: Vec::new(),
            host_data_dir: None,
            etcd_version: None,
            dry_run: false,
        }
    }
}

/// One new member.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemberPlan {
    pub name: String,
    pub peer_url: String,
    pub member_id: String,
    /// Where its data dir is written (under `out`).
    pub data_dir: PathBuf,
    /// Where it lives on its node (the `--data-dir` in `flags`).
    pub host_data_dir: String,
    /// The etcd command line that starts it.
    pub flags: Vec<String>,
    /// The edited kubeadm manifest, when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<PathBuf>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manifest_changes: Vec<FieldChange>,
}

/// What the source's log added, and what it left out.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceLog {
    pub consistent_index: Option<u64>,
    pub commit: Option<u64>,
    pub last_index: Option<u64>,
    /// Entries past the consistent index applied into the new cluster.
    pub applied: u64,
    /// Entries left out: past the commit with `--uncommitted drop` (and
    /// others that change no key: membership, auth, alarms).
    pub left_out: Vec<WalEntry>,
    pub left_out_total: u64,
    /// Left-out entries that were past the commit.
    pub dropped_uncommitted: u64,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRestorePlan {
    pub dry_run: bool,
    pub source: PathBuf,
    pub source_kind: InputKind,
    /// Why this source.
    pub source_reason: String,
    pub uncommitted: Uncommitted,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_log: Option<SourceLog>,
    pub out: PathBuf,
    pub initial_cluster: String,
    pub initial_cluster_token: String,
    pub cluster_id: String,
    pub bump_revision: u64,
    /// The source's revision, and the new cluster's (bumped).
    pub source_revision: i64,
    pub revision: i64,
    pub layout: EtcdLayout,
    pub members: Vec<MemberPlan>,
    /// What to do, in order.
    pub steps: Vec<String>,
    #[serde(skip)]
    pub analysis: ClusterReport,
}

fn usage(msg: impl Into<String>) -> Error {
    Error::usage(msg)
}

/// A new `--initial-cluster-token`: random, so that members of the old
/// cluster can never talk to the new one.
fn new_token() -> String {
    let mut b = [0u8; 8];
    let ok = fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b)).is_ok();
    if !ok {
        let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        b = ((t as u64) ^ (u64::from(std::process::id()) << 32)).to_be_bytes();
    }
    format!("etcd-forensics-{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>())
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("writing the new cluster", path, &e))?;
    f.write_all(bytes).and_then(|()| f.sync_all()).map_err(|e| Error::io("writing the new cluster", path, &e))
}

struct Manifest {
    path: PathBuf,
    text: String,
    facts: kubeadm::ManifestFacts,
}

fn read_manifests(paths: &[PathBuf]) -> Result<Vec<Manifest>> {
    let mut out = Vec::new();
    for p in paths {
        let text = fs::read_to_string(p).map_err(|e| Error::io("writing the new cluster", p, &e))?;
        let facts = kubeadm::read(&text).map_err(|e| usage(format!("{}: {e}", p.display())))?;
        if facts.name.is_none() {
            return Err(usage(format!("{}: the etcd command has no --name", p.display())));
        }
        out.push(Manifest { path: p.clone(), text, facts });
    }
    Ok(out)
}

/// Plan (and unless `dry_run`, write) the new cluster.
pub fn restore_cluster(opts: &ClusterRestoreOptions) -> Result<ClusterRestorePlan> {
    let mut paths = opts.paths.clone();
    if let Some(f) = &opts.from {
        if !paths.contains(f) {
            paths.push(f.clone());
        }
    }
    let analysis = analyze(&paths, &ClusterOptions { etcd_version: opts.etcd_version })?;
    let (source, source_reason) = match &opts.from {
        Some(f) => (f.clone(), "chosen with --from".to_string()),
        None => match &analysis.best {
            Some(b) => {
                (b.clone(), analysis.reasons.iter().find(|r| r.starts_with("best source")).cloned().unwrap_or_default())
            }
            None => {
                return Err(usage(
                    "no member can be the source (see `cluster` without --restore); name one with --from",
                ));
            }
        },
    };
    let src_report = analysis
        .members
        .iter()
        .find(|m| m.path == source)
        .cloned()
        .ok_or_else(|| usage(format!("{}: not analysed", source.display())))?;
    if let Some(e) = &src_report.error {
        return Err(usage(format!("{}: cannot be the source: {e}", source.display())));
    }
    if !src_report.will_start && src_report.kind == InputKind::DataDir && src_report.damage > 0 {
        return Err(usage(format!(
            "{}: damaged ({}); salvage it first (`etcd-forensics salvage {} --output salvaged.db`) and restore from that with --from salvaged.db",
            source.display(),
            src_report.damage_codes.join(", "),
            source.display()
        )));
    }

    // The output must not exist (or be an empty directory); checked again
    // at the rename.
    if !absent_or_empty(&opts.out)? {
        return Err(usage(format!("{}: exists and is not empty; name a new directory with --out", opts.out.display())));
    }
    let parent = parent_dir(&opts.out);
    if !parent.is_dir() {
        return Err(usage(format!("{}: the parent directory does not exist", parent.display())));
    }

    // Members.
    let manifests = read_manifests(&opts.kubeadm)?;
    let mut members: Vec<(String, String)> = opts.members.clone();
    if members.is_empty() && !manifests.is_empty() {
        for m in &manifests {
            let name = m.facts.name.clone().unwrap_or_default();
            let url = m
                .facts
                .initial_advertise_peer_urls
                .clone()
                .ok_or_else(|| usage(format!("{}: no --initial-advertise-peer-urls", m.path.display())))?;
            let first = url.split(',').next().unwrap_or_default().to_string();
            members.push((name, first));
        }
    }
    if members.is_empty() {
        for m in &src_report.members {
            if m.is_learner {
                continue;
            }
            let Some(url) = m.peer_urls.first() else { continue };
            if m.name.is_empty() {
                return Err(usage(format!(
                    "member {:x} of the source's list has no name (it never started); give every member with --member NAME=PEER-URL",
                    m.id
                )));
            }
            members.push((m.name.clone(), url.clone()));
        }
    }
    if members.is_empty() {
        return Err(usage(
            "no members: give --member NAME=PEER-URL for each new member (the source has no member list)",
        ));
    }
    let mut names: Vec<&str> = members.iter().map(|(n, _)| n.as_str()).collect();
    names.sort_unstable();
    if names.windows(2).any(|w| w.first() == w.get(1)) {
        return Err(usage("member names must be unique"));
    }
    for (n, _) in &members {
        if n.is_empty() || n.contains(['/', '\\', '\0']) || n == "." || n == ".." || n == "manifests" {
            return Err(usage(format!(
                "{n:?}: not usable as a member name (it names the member's directory under --out)"
            )));
        }
    }
    for m in &manifests {
        let name = m.facts.name.as_deref().unwrap_or_default();
        if !members.iter().any(|(n, _)| n == name) {
            return Err(usage(format!("{}: --name={name} is not one of the new members", m.path.display())));
        }
    }
    let initial_cluster = members.iter().map(|(n, u)| format!("{n}={u}")).collect::<Vec<_>>().join(",");
    let token = opts.token.clone().unwrap_or_else(new_token);

    // The source state, as a verified snapshot file in a temporary dir.
    let work = tempfile::Builder::new()
        .prefix(".etcd-forensics-cluster-")
        .tempdir_in(&parent)
        .map_err(|e| Error::io("writing the new cluster", &parent, &e))?;
    let (snapshot, skip_hash, source_log) = match src_report.kind {
        InputKind::Snapshot => {
            let with_trailer = crate::mvcc::scan::has_trailer(
                fs::metadata(&source).map_err(|e| Error::io("writing the new cluster", &source, &e))?.len(),
            );
            (source.clone(), !with_trailer, None)
        }
        InputKind::DataDir => {
            let out = work.path().join("source.snapshot.db");
            let mut so = SalvageOptions::new(&source, &out);
            so.committed_only = opts.uncommitted == Uncommitted::Drop;
            let rep = salvage::salvage(&so)?;
            if !rep.complete() {
                return Err(usage(format!(
                    "{}: reading it lost data (run `etcd-forensics salvage {}` to see what); salvage it to a file and restore from that with --from",
                    source.display(),
                    source.display()
                )));
            }
            let log = rep.wal.as_ref().map(|w| {
                let commit = w.commit.unwrap_or(0);
                SourceLog {
                    consistent_index: w.consistent_index,
                    commit: w.commit,
                    last_index: w.last_index,
                    applied: w.applied_total,
                    left_out: w.not_replayed.clone(),
                    left_out_total: w.not_replayed_total,
                    dropped_uncommitted: if opts.uncommitted == Uncommitted::Drop {
                        w.last_index.unwrap_or(0).saturating_sub(commit.max(w.consistent_index.unwrap_or(0)))
                    } else {
                        0
                    },
                }
            });
            (out, false, log)
        }
    };

    // Plan every member (checks the snapshot) before writing any.
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.tmp-", opts.out.file_name().map_or("cluster".into(), |n| n.to_string_lossy())))
        .tempdir_in(&parent)
        .map_err(|e| Error::io("writing the new cluster", &parent, &e))?;
    let ropts = |name: &str, url: &str, dir: PathBuf, dry_run: bool| RestoreOptions {
        snapshot: snapshot.clone(),
        data_dir: dir,
        wal_dir: None,
        name: name.to_string(),
        initial_cluster: initial_cluster.clone(),
        initial_cluster_token: token.clone(),
        initial_advertise_peer_urls: vec![url.to_string()],
        skip_hash_check: skip_hash,
        mark_compacted: opts.bump_revision > 0,
        bump_revision: opts.bump_revision,
        layout: opts.layout,
        dry_run,
    };
    let mut plans: Vec<RestorePlan> = Vec::new();
    for (name, url) in &members {
        let r = single::restore(&ropts(name, url, staging.path().join(name), true))?;
        if let Some(e) = single::refusal_error(&r) {
            return Err(e);
        }
        plans.extend(r.plan);
    }
    let first = plans.first().cloned().ok_or_else(|| usage("no member planned"))?;

    // Member plans: flags and manifests.
    let mut mplans = Vec::new();
    let mut edited: Vec<(String, String)> = Vec::new();
    for (i, (name, url)) in members.iter().enumerate() {
        let manifest = manifests.iter().find(|m| m.facts.name.as_deref() == Some(name.as_str()));
        let host = match (&opts.host_data_dir, manifest.and_then(|m| m.facts.host_data_dir.clone())) {
            (Some(h), _) => h.clone(),
            (None, Some(h)) => format!("{}-restored", h.trim_end_matches('/')),
            (None, None) => {
                std::path::absolute(&opts.out).unwrap_or_else(|_| opts.out.clone()).join(name).display().to_string()
            }
        };
        let member_id = plans
            .get(i)
            .and_then(|p| p.cluster.members.iter().find(|m| &m.name == name))
            .map(membership::Member::hex_id)
            .unwrap_or_default();
        let client_urls: Vec<String> = src_report
            .members
            .iter()
            .find(|m| &m.name == name)
            .map(|m| m.client_urls.clone())
            .or_else(|| manifest.and_then(|m| m.facts.advertise_client_urls.clone()).map(|u| vec![u]))
            .unwrap_or_default();
        let mut flags = vec![
            "etcd".to_string(),
            format!("--name={name}"),
            format!("--data-dir={}", manifest.and_then(|m| m.facts.data_dir.clone()).unwrap_or_else(|| host.clone())),
            format!("--initial-cluster={initial_cluster}"),
            format!("--initial-cluster-token={token}"),
            "--initial-cluster-state=new".to_string(),
            format!("--initial-advertise-peer-urls={url}"),
            format!("--listen-peer-urls={url}"),
        ];
        if !client_urls.is_empty() {
            flags.push(format!("--advertise-client-urls={}", client_urls.join(",")));
            flags.push(format!("--listen-client-urls={}", client_urls.join(",")));
        }
        let (mpath, changes) = match manifest {
            Some(m) => {
                let e = kubeadm::edit(
                    &m.text,
                    &ManifestEdit {
                        host_data_dir: host.clone(),
                        initial_cluster: initial_cluster.clone(),
                        initial_cluster_token: token.clone(),
                        initial_cluster_state: "new".into(),
                    },
                )
                .map_err(|e| usage(format!("{}: {e}", m.path.display())))?;
                edited.push((name.clone(), e.text));
                (Some(opts.out.join("manifests").join(name).join("etcd.yaml")), e.changes)
            }
            None => (None, Vec::new()),
        };
        mplans.push(MemberPlan {
            name: name.clone(),
            peer_url: url.clone(),
            member_id,
            data_dir: opts.out.join(name),
            host_data_dir: host,
            flags,
            manifest: mpath,
            manifest_changes: changes,
        });
    }
    let steps = steps_for(&mplans, &opts.out, !manifests.is_empty());
    let plan = ClusterRestorePlan {
        dry_run: opts.dry_run,
        source: source.clone(),
        source_kind: src_report.kind,
        source_reason,
        uncommitted: opts.uncommitted,
        source_log,
        out: opts.out.clone(),
        initial_cluster: initial_cluster.clone(),
        initial_cluster_token: token.clone(),
        cluster_id: format!("{:x}", first.cluster.id),
        bump_revision: opts.bump_revision,
        source_revision: first.revision - i64::try_from(opts.bump_revision).unwrap_or(0),
        revision: first.revision,
        layout: first.layout,
        members: mplans,
        steps,
        analysis,
    };
    if opts.dry_run {
        return Ok(plan);
    }

    // Write: every member, the manifests, the steps; then publish.
    for (name, url) in &members {
        let r = single::restore(&ropts(name, url, staging.path().join(name), false))?;
        if let Some(e) = single::refusal_error(&r) {
            return Err(e);
        }
    }
    for (name, text) in &edited {
        let dir = staging.path().join("manifests").join(name);
        fs::create_dir_all(&dir).map_err(|e| Error::io("writing the new cluster", &dir, &e))?;
        write_file(&dir.join("etcd.yaml"), text.as_bytes())?;
        fsync_dir(&dir)?;
        fsync_dir(&staging.path().join("manifests"))?;
    }
    let mut text = String::new();
    for (i, s) in plan.steps.iter().enumerate() {
        text.push_str(&format!("{}. {s}\n", i + 1));
    }
    write_file(&staging.path().join("STEPS.txt"), text.as_bytes())?;
    fsync_dir(staging.path())?;
    let staged = staging.keep();
    if opts.out.exists() {
        // an empty directory: rmdir fails if anything appeared meanwhile
        fs::remove_dir(&opts.out).map_err(|e| Error::io("writing the new cluster", &opts.out, &e))?;
    }
    if let Err(e) = fs::rename(&staged, &opts.out) {
        let _ = fs::remove_dir_all(&staged);
        return Err(Error::io("writing the new cluster", &opts.out, &e));
    }
    fsync_dir(&parent)?;
    Ok(plan)
}

fn steps_for(members: &[MemberPlan], out: &Path, kubeadm: bool) -> Vec<String> {
    let mut s = Vec::new();
    if kubeadm {
        s.push("on every control-plane node: stop the API server and etcd by moving their static pod manifests away: `mkdir -p /root/manifests-before-restore && mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/manifests/etcd.yaml /root/manifests-before-restore/`; wait until `crictl ps` lists neither".into());
    } else {
        s.push(
            "stop every etcd member of the old cluster (and every client that writes to it, e.g. the API servers)"
                .into(),
        );
    }
    for m in members {
        let here = std::path::absolute(&m.data_dir).is_ok_and(|p| p.display().to_string() == m.host_data_dir);
        s.push(if here {
            format!(
                "on {}'s node: its data dir is {} (if that node is another machine, copy it to the same path there, keeping the modes: `rsync -a`)",
                m.name, m.host_data_dir
            )
        } else {
            format!(
                "on {}'s node: copy {} to {} (keep the modes: `rsync -a` or `cp -a`; it must not exist there yet)",
                m.name,
                m.data_dir.display(),
                m.host_data_dir
            )
        });
    }
    if kubeadm {
        for m in members {
            if let Some(p) = &m.manifest {
                s.push(format!(
                    "on {}'s node: put {} in place as /etc/kubernetes/manifests/etcd.yaml",
                    m.name,
                    p.display()
                ));
            }
        }
        s.push("wait until every member is healthy: `etcdctl endpoint health --cluster` (with the etcd client certificates)".into());
        s.push("put /root/manifests-before-restore/kube-apiserver.yaml back into /etc/kubernetes/manifests/ on every control-plane node".into());
        s.push("restart kube-controller-manager, kube-scheduler and kubelet on every node so that they drop cached state; check `kubectl get nodes`".into());
    } else {
        for m in members {
            s.push(format!("start {}: {}", m.name, m.flags.join(" ")));
        }
        s.push("start the members together (a quorum must be up to elect a leader); check `etcdctl endpoint status --cluster`".into());
    }
    s.push(format!(
        "keep the old data dirs until the new cluster has been verified; {} can be deleted afterwards",
        out.display()
    ));
    s
}
