//! `report`: one self-contained HTML page.
//!
//! Rendered with maud: every value spliced in is HTML-escaped, in text and
//! in attributes, so keys, values, file names and member names (bytes an
//! attacker may choose) always render as text. The page loads nothing: its
//! CSS is inline, its pictures are inline SVG, it has no script at all, and
//! its Content-Security-Policy forbids scripts and every request, so even a
//! rendering bug could not make the page run code or call out. It reads the
//! same with JavaScript off, and prints.
//!
//! Hooks for tests and tools (stable): `#overall-verdict`, and per input a
//! `.subject` with `data-path`, `.verdict`, `.will-start`, `.finding-count`
//! (the length of `check -w json`'s `findings`), `.finding` rows with
//! `data-code`; the timeline SVGs `#timeline-raft` and `#timeline-revisions`
//! with one `g.lane[data-member]` per input; the treemap `#treemap` with one
//! `g.tile[data-prefix]` per key group.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::humanize_bytes;
use crate::jobs::report::{Checked, IncidentReport, Lane, Subject};
use crate::jobs::space::SpaceReport;
use crate::k8s::summary::K8sSummary;
use crate::report::{Finding, Severity};

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'";

const STYLE: &str = r#"
:root { --ink:#1d2330; --muted:#5b6475; --line:#d5d9e0; --clean:#1f7a3d; --warn:#a15c00; --bad:#b3261e; --info:#3456a8; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0 auto; max-width: 1180px; padding: 16px 24px 48px; }
h1 { font-size: 22px; margin: 8px 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 16px 0 6px; word-break: break-all; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12.5px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.muted { color: var(--muted); }
.banner { border-radius: 8px; padding: 14px 18px; margin: 14px 0; border: 2px solid; }
.banner.clean { border-color: var(--clean); background: #eaf6ee; }
.banner.repairable { border-color: var(--warn); background: #fdf3e4; }
.banner.damaged, .banner.error { border-color: var(--bad); background: #fbeaea; }
.banner .big { font-size: 26px; font-weight: 700; text-transform: uppercase; letter-spacing: .03em; }
.clean .big { color: var(--clean); } .repairable .big { color: var(--warn); } .damaged .big, .error .big { color: var(--bad); }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11.5px; padding: 1px 6px; border-radius: 4px; color: #fff; }
.sev.damage { background: var(--bad); } .sev.warning { background: var(--warn); } .sev.info { background: var(--info); }
.subject { margin: 8px 0; padding: 8px 12px; border-left: 4px solid var(--line); }
.subject.clean { border-color: var(--clean); } .subject.repairable { border-color: var(--warn); } .subject.damaged, .subject.error { border-color: var(--bad); }
.kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
.kv dt { color: var(--muted); } .kv dd { margin: 0; }
svg { display: block; max-width: 100%; height: auto; }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.legend span { display: inline-block; margin-right: 14px; font-size: 12px; }
.sw { display: inline-block; width: 10px; height: 10px; margin-right: 4px; vertical-align: -1px; }
.bar { display: flex; height: 10px; min-width: 120px; background: #eef0f3; }
.bar i { display: block; height: 10px; }
details summary { cursor: pointer; color: var(--muted); }
.hash { word-break: break-all; }
@media print { body { max-width: none; padding: 0; } details { display: block; } details > * { display: block; } h2 { break-after: avoid; } tr, .subject, svg { break-inside: avoid; } }
"#;

/// Fill colours.
const C_SEGMENT: &str = "#7a9cd6";
const C_WARN: &str = "#e39b2d";
const C_BAD: &str = "#d0453b";
const C_SNAP: &str = "#2e8b57";
const C_WALSNAP: &str = "#6a3d9a";
const C_APPLIED: &str = "#1d2330";
const C_COMMIT: &str = "#c2185b";
const C_LAST: &str = "#5b6475";
const C_CURRENT: &str = "#3f7fd9";
const C_SUPERSEDED: &str = "#e5a13a";
const C_TOMB: &str = "#9aa3b2";
const PALETTE: [&str; 10] =
    ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

fn sev_class(s: Severity) -> &'static str {
    s.as_str()
}

fn display_path(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// Render the whole page.
pub fn render(r: &IncidentReport) -> String {
    let title = format!(
        "etcd-forensics report: {}",
        r.inputs.iter().map(|i| display_path(&i.path)).collect::<Vec<_>>().join(", ")
    );
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta http-equiv="Content-Security-Policy" content=(CSP);
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content=(format!("{} {}", r.tool, r.tool_version));
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (header(r))
                (verdict(r))
                @if let Some(c) = &r.cluster { (cluster(c)) }
                (findings(r))
                (timeline(r))
                (space(r))
                @if let Some(k) = r.space.as_ref().and_then(|s| s.kubernetes.as_ref()) { (kubernetes(k)) }
                footer class="muted" {
                    p { "Generated by " (r.tool) " " (r.tool_version) " at " (r.generated_at)
                        ". The findings are those of " code { "etcd-forensics check -w json" } " on the same inputs; the space numbers those of "
                        code { "etcd-forensics space -w json" } "." }
                }
            }
        }
    };
    page.into_string()
}

fn header(r: &IncidentReport) -> Markup {
    html! {
        header id="header" {
            h1 { "etcd-forensics report" }
            p class="muted" { (r.tool) " " span id="tool-version" { (r.tool_version) } " · generated " span id="generated-at" { (r.generated_at) } }
            table id="inputs" {
                thead { tr { th { "input" } th { "kind" } th class="num" { "files" } th class="num" { "bytes" } } }
                tbody {
                    @for i in &r.inputs {
                        tr { td class="mono" { (display_path(&i.path)) } td { (match i.kind { crate::jobs::report::InputKind::DataDir => "data dir", crate::jobs::report::InputKind::DbFile => "db or snapshot file" }) }
                             td class="num" { (i.files.len()) } td class="num" { (i.bytes) " (" (humanize_bytes(i.bytes)) ")" } }
                    }
                }
            }
            details id="file-hashes" open {
                summary { "Every input file with its size and SHA-256 (to match this report to the files later)" }
                table {
                    thead { tr { th { "file" } th class="num" { "bytes" } th { "SHA-256" } } }
                    tbody {
                        @for i in &r.inputs {
                            @for f in &i.files {
                                tr class="file" {
                                    td class="mono" { (display_path(&f.path)) }
                                    td class="num" { (f.size) }
                                    td class="mono hash" {
                                        @if let Some(h) = &f.sha256 { (h) } @else { (f.error.as_deref().unwrap_or("unreadable")) }
                                    }
                                }
                            }
                            @if i.files_omitted > 0 { tr { td colspan="3" class="muted" { (i.files_omitted) " more files not hashed" } } }
                        }
                    }
                }
            }
        }
    }
}

/// The overall verdict: the single input's, or the cluster's.
fn overall(r: &IncidentReport) -> (&'static str, String) {
    if let (Some(c), true) = (&r.cluster, r.subjects.len() > 1) {
        let worst = r
            .subjects
            .iter()
            .map(|s| match s.check.verdict() {
                "clean" => 0,
                "repairable" => 1,
                _ => 2,
            })
            .max()
            .unwrap_or(2);
        let class = if c.outcome() == crate::jobs::Outcome::Verified && worst < 2 {
            if worst == 0 { "clean" } else { "repairable" }
        } else {
            "damaged"
        };
        let text = if c.intact && c.consistent && c.same_cluster {
            "cluster intact".to_string()
        } else {
            "cluster not intact".to_string()
        };
        return (class, text);
    }
    match r.subjects.first() {
        Some(s) => {
            let v = s.check.verdict();
            (v, v.to_string())
        }
        None => ("error", "error".into()),
    }
}

fn verdict(r: &IncidentReport) -> Markup {
    let (class, text) = overall(r);
    html! {
        section id="verdict" {
            div class=(format!("banner {class}")) {
                div class="big" id="overall-verdict" { (text) }
                @if let [one] = r.subjects.as_slice() {
                    @if let Some(w) = one.check.will_start() {
                        div { "etcd " strong { (if w { "will start" } else { "will NOT start" }) } " on this data dir." }
                    }
                    div { strong { "What to do: " } (one.check.next_step()) }
                } @else if let Some(c) = &r.cluster {
                    div { (c.startup.why) }
                    @if let Some(b) = &c.best { div { "Best source: " code { (display_path(b)) } } }
                }
            }
            @for s in &r.subjects { (subject(s)) }
        }
    }
}

fn subject(s: &Subject) -> Markup {
    let v = s.check.verdict();
    let count = s.check.findings().len();
    html! {
        div class=(format!("subject {v}")) data-path=(display_path(&s.path)) {
            div {
                @if let Some(n) = &s.name { strong { (n) } " · " }
                code { (display_path(&s.path)) } ": "
                strong class="verdict" { (v) }
                @if let Some(w) = s.check.will_start() {
                    " · etcd " span class="will-start" data-value=(w) { (if w { "will start" } else { "will NOT start" }) }
                }
                " · " span class="finding-count" { (count) } " findings ("
                (s.check.count(Severity::Damage)) " damage, " (s.check.count(Severity::Warning)) " warnings, " (s.check.count(Severity::Info)) " info)"
                @if s.check.findings_dropped() > 0 { ", and " (s.check.findings_dropped()) " more of the same kinds not listed" }
            }
            div class="muted" { "What to do: " (s.check.next_step()) }
            @if let Checked::Dir(d) = &s.check {
                dl class="kv" {
                    @if let (Some(m), Some(c)) = (&d.member_id, &d.cluster_id) { dt { "member / cluster" } dd class="mono" { (m) " / " (c) } }
                    @if let Some(w) = &d.written_by { dt { "written by" } dd { (w.release.map_or_else(|| "unknown release".to_string(), |r| format!("etcd {r}"))) span class="muted" { " (" (w.evidence) ")" } } }
                    @if let Some(db) = &d.db {
                        dt { "db" } dd { "revision " (db.revision) ", consistent index " (opt(db.consistent_index)) ", compacted at " (db.compact_revision.map_or("never".to_string(), |x| x.to_string())) ", " (opt(db.live_keys)) " live keys" }
                    }
                    @if let Some(w) = &d.wal {
                        dt { "WAL" } dd { (w.segments.len()) " segments, entries " (opt(w.first_index)) "…" (opt(w.last_index))
                            @if let Some(h) = &w.hard_state { ", commit " (h.commit) ", term " (h.term) } }
                    }
                    @if let Some(p) = &d.prediction {
                        dt { "after start" } dd { "revision " (p.revision_at_boot) " (" (p.entries_to_apply_at_boot) " committed entries replayed)" }
                    }
                    @if let Some(sc) = d.stopped_cleanly { dt { "stopped cleanly" } dd { (if sc { "yes" } else { "no" }) } }
                }
            }
            @if let Checked::Failed { error } = &s.check { p { (error) } }
        }
    }
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map_or_else(|| "-".to_string(), |x| x.to_string())
}

fn findings(r: &IncidentReport) -> Markup {
    // Grouped by file, in the order they were found.
    let mut groups: Vec<(String, Vec<&Finding>)> = Vec::new();
    for s in &r.subjects {
        for f in s.check.findings() {
            let file = f.location.file.as_deref().map_or_else(|| display_path(&s.path), display_path);
            match groups.iter_mut().find(|g| g.0 == file) {
                Some(g) => g.1.push(f),
                None => groups.push((file, vec![f])),
            }
        }
    }
    let total: usize = groups.iter().map(|g| g.1.len()).sum();
    html! {
        section id="findings" {
            h2 { "Findings " span class="muted" { "(" span id="finding-total" { (total) } ")" } }
            @if groups.is_empty() { p { "No findings: every checksum and invariant checked verifies." } }
            @for (file, list) in &groups {
                h3 class="mono" { (file) }
                table class="findings" {
                    thead { tr { th { "severity" } th { "code" } th class="num" { "offset" } th class="num" { "page" } th { "what" } th { "meaning" } th { "action" } } }
                    tbody {
                        @for f in list {
                            tr class="finding" data-code=(f.code) data-severity=(f.severity.as_str()) {
                                td { span class=(format!("sev {}", sev_class(f.severity))) { (f.severity.as_str()) } }
                                td class="mono" { (f.code) }
                                td class="num mono" { (opt(f.location.offset)) }
                                td class="num mono" { (opt(f.location.page)) }
                                td { (f.what)
                                    @if let Some(t) = &f.page_type { br; span class="muted" { (t) @if let Some(b) = &f.bucket { " of bucket " (b) } } }
                                    @if let Some(rv) = &f.revisions { br; span class="muted" { "affects " (rv.to_string()) } } }
                                td { (f.meaning) }
                                td { (f.action) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn cluster(c: &crate::jobs::cluster::ClusterReport) -> Markup {
    html! {
        section id="cluster" {
            h2 { "Cluster" }
            dl class="kv" {
                dt { "one cluster" } dd { (if c.same_cluster { "yes" } else { "no" }) " (" (c.cluster_ids.join(", ")) ")" }
                dt { "one history" } dd { (if c.consistent { "yes" } else { "no" })
                    @if let Some(r) = c.first_divergent_revision { ", first divergent revision " (r) } }
                @if let Some(q) = &c.quorum { dt { "quorum" } dd { (q.present.len()) " of " (q.voters) " voters present, " (q.needed) " needed: " (if q.formed { "formed" } else { "lost" }) } }
                @if let Some(a) = c.hash_kv_agree { dt { "HashKV" } dd { (if a { "agree" } else { "DISAGREE" }) @if let Some(r) = c.hash_kv_revision { " at revision " (r) } } }
                @if let Some(b) = &c.best { dt { "best source" } dd class="mono" { (display_path(b)) (if c.best_is_complete { "" } else { " (incomplete)" }) } }
                dt { "start-up" } dd { (c.startup.why) }
            }
            @if !c.reasons.is_empty() { ul { @for r in &c.reasons { li { (r) } } } }
            table id="members" {
                thead { tr { th { "member" } th { "verdict" } th class="num" { "applied" } th class="num" { "commit" } th class="num" { "last index" } th class="num" { "revision" } th class="num" { "behind (entries / revisions)" } th class="num" { "HashKV" } } }
                tbody {
                    @for m in &c.members {
                        tr { td { @if let Some(n) = &m.name { strong { (n) } br; } code { (display_path(&m.path)) } }
                             td { (format!("{:?}", m.verdict).to_lowercase()) (if m.will_start { "" } else { ", will not start" }) }
                             td class="num" { (opt(m.applied_index)) } td class="num" { (opt(m.commit_index)) } td class="num" { (opt(m.last_index)) }
                             td class="num" { (opt(m.revision)) }
                             td class="num" { @if let Some(b) = &m.behind { (b.entries) " / " (b.revisions) } @else { "-" } }
                             td class="num mono" { (m.hash_kv.map_or("-".to_string(), |h| h.to_string())) } }
                    }
                }
            }
        }
    }
}

/// A linear scale from `[lo, hi]` to `[x0, x1]`.
#[derive(Clone, Copy)]
struct Scale {
    lo: f64,
    hi: f64,
    x0: f64,
    x1: f64,
}

impl Scale {
    fn new(lo: f64, hi: f64, x0: f64, x1: f64) -> Scale {
        let hi = if hi <= lo { lo + 1.0 } else { hi };
        Scale { lo, hi, x0, x1 }
    }
    fn x(&self, v: f64) -> f64 {
        let t = ((v - self.lo) / (self.hi - self.lo)).clamp(0.0, 1.0);
        self.x0 + t * (self.x1 - self.x0)
    }
    fn ticks(&self, n: usize) -> Vec<f64> {
        let span = self.hi - self.lo;
        let raw = span / n.max(1) as f64;
        let mag = 10f64.powf(raw.log10().floor());
        let step =
            [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|s| span / s <= n as f64).unwrap_or(10.0 * mag).max(1.0);
        let mut t = (self.lo / step).ceil() * step;
        let mut out = Vec::new();
        while t <= self.hi && out.len() < 20 {
            out.push(t);
            t += step;
        }
        out
    }
}

const W: f64 = 1100.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 1080.0;
const LANE_H: f64 = 46.0;

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

fn axis(s: &Scale, y: f64, label: &str) -> Markup {
    html! {
        g class="axis" {
            line x1=(f1(s.x0)) x2=(f1(s.x1)) y1=(f1(y)) y2=(f1(y)) stroke="#888" {}
            @for t in s.ticks(8) {
                line x1=(f1(s.x(t))) x2=(f1(s.x(t))) y1=(f1(y)) y2=(f1(y + 4.0)) stroke="#888" {}
                text x=(f1(s.x(t))) y=(f1(y + 16.0)) text-anchor="middle" { (format!("{t:.0}")) }
            }
            text x=(f1(s.x0 - 8.0)) y=(f1(y + 16.0)) text-anchor="end" class="muted" { (label) }
        }
    }
}

fn vmark(x: f64, y: f64, h: f64, color: &str, width: f64, tip: String, dash: bool) -> Markup {
    html! {
        line x1=(f1(x)) x2=(f1(x)) y1=(f1(y)) y2=(f1(y + h)) stroke=(color) stroke-width=(f1(width)) stroke-dasharray=(if dash { "4 3" } else { "none" }) { title { (tip) } }
    }
}

/// A lane's label and background.
fn lane_frame(l: &Lane, y: f64) -> Markup {
    html! {
        text x=(f1(LEFT - 8.0)) y=(f1(y + LANE_H / 2.0 + 4.0)) text-anchor="end" { (l.label) }
        rect x=(f1(LEFT)) y=(f1(y + 8.0)) width=(f1(RIGHT - LEFT)) height=(f1(LANE_H - 16.0)) fill="#f4f5f7" {}
    }
}

fn raft_lane(l: &Lane, s: &Scale, y: f64) -> Markup {
    let top = y + 8.0;
    let h = LANE_H - 16.0;
    html! {
        g class="lane" data-member=(l.label) {
            (lane_frame(l, y))
            @for (i, seg) in l.segments.iter().enumerate() {
                @let a = seg.first_entry.unwrap_or(seg.name_index.saturating_add(1)).min(seg.name_index.saturating_add(1)) as f64;
                @let next = l.segments.get(i + 1).map(|n| n.name_index as f64);
                @let b = seg.last_entry.map(|x| x as f64).or(next).unwrap_or(a);
                @let color = match seg.worst { Some(Severity::Damage) => C_BAD, Some(Severity::Warning) => C_WARN, _ => C_SEGMENT };
                rect class="segment" x=(f1(s.x(a))) y=(f1(top + 4.0)) width=(f1((s.x(b) - s.x(a)).max(3.0))) height=(f1(h - 8.0)) fill=(color) stroke="#fff" {
                    title { "WAL segment " (seg.file) ": entries " (opt(seg.first_entry)) "…" (opt(seg.last_entry))
                        @if let Some(w) = seg.worst { " (" (w.as_str()) " found here)" } }
                }
            }
            @for (name, idx) in &l.snap_files {
                @let x = s.x(*idx as f64);
                path class="snap" d=(format!("M{} {} l5 6 l-5 6 l-5 -6 z", f1(x), f1(top - 6.0))) fill=(C_SNAP) { title { ".snap file " (name) " at index " (idx) } }
            }
            @for idx in &l.wal_snapshots {
                @let x = s.x(*idx as f64);
                path class="walsnap" d=(format!("M{} {} l5 -8 l-10 0 z", f1(x), f1(top + h + 6.0))) fill=(C_WALSNAP) { title { "WAL snapshot record at index " (idx) } }
            }
            @if let Some(ci) = l.consistent_index { (vmark(s.x(ci as f64), top - 2.0, h + 4.0, C_APPLIED, 2.5, format!("db consistent index (applied) {ci}"), false)) }
            @if let Some(c) = l.commit { (vmark(s.x(c as f64), top - 2.0, h + 4.0, C_COMMIT, 2.0, format!("hard state commit {c}"), true)) }
            @if let Some(li) = l.last_index { (vmark(s.x(li as f64), top - 2.0, h + 4.0, C_LAST, 2.0, format!("last index {li}"), false)) }
        }
    }
}

fn rev_lane(l: &Lane, s: &Scale, y: f64) -> Markup {
    let top = y + 8.0;
    let h = LANE_H - 16.0;
    html! {
        g class="lane" data-member=(l.label) {
            (lane_frame(l, y))
            @if let Some(cur) = l.revision {
                @let from = l.compact_revision.unwrap_or(1).max(1) as f64;
                rect class="history" x=(f1(s.x(from))) y=(f1(top + 6.0)) width=(f1((s.x(cur as f64) - s.x(from)).max(2.0))) height=(f1(h - 12.0)) fill=(C_CURRENT) opacity="0.55" {
                    title { "revisions kept: " (from) "…" (cur) }
                }
                (vmark(s.x(cur as f64), top - 2.0, h + 4.0, C_CURRENT, 2.5, format!("current revision {cur}"), false))
            }
            @if let Some(c) = l.compact_revision { (vmark(s.x(c as f64), top - 2.0, h + 4.0, C_TOMB, 2.5, format!("compact revision {c}"), false)) }
            @if let Some(b) = l.revision_at_boot {
                @if Some(b) != l.revision { (vmark(s.x(b as f64), top - 2.0, h + 4.0, C_COMMIT, 2.0, format!("revision after start (replay) {b}"), true)) }
            }
        }
    }
}

fn timeline(r: &IncidentReport) -> Markup {
    let lanes: Vec<&Lane> = r.subjects.iter().map(|s| &s.lane).collect();
    let raft = lanes
        .iter()
        .filter_map(|l| l.raft_span())
        .fold(None, |acc: Option<(u64, u64)>, (a, b)| Some(acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b)))));
    let revs = lanes
        .iter()
        .filter_map(|l| l.rev_span())
        .fold(None, |acc: Option<(i64, i64)>, (a, b)| Some(acc.map_or((a, b), |(x, y)| (x.min(a), y.max(b)))));
    let height = 14.0 + LANE_H * lanes.len() as f64 + 26.0;
    html! {
        section id="timeline" {
            h2 { "Timeline" }
            p class="legend" {
                span { i class="sw" style=(format!("background:{C_SEGMENT}")) {} "WAL segment" }
                span { i class="sw" style=(format!("background:{C_WARN}")) {} "segment with a warning" }
                span { i class="sw" style=(format!("background:{C_BAD}")) {} "segment with damage" }
                span { i class="sw" style=(format!("background:{C_SNAP}")) {} ".snap file" }
                span { i class="sw" style=(format!("background:{C_WALSNAP}")) {} "WAL snapshot record" }
                span { i class="sw" style=(format!("background:{C_APPLIED}")) {} "db consistent index (applied)" }
                span { i class="sw" style=(format!("background:{C_COMMIT}")) {} "commit / revision after start" }
                span { i class="sw" style=(format!("background:{C_LAST}")) {} "last index" }
            }
            h3 { "Raft log (index)" }
            @if let Some((lo, hi)) = raft {
                @let s = Scale::new(lo as f64, hi as f64, LEFT, RIGHT);
                svg id="timeline-raft" class="timeline" viewBox=(format!("0 0 {W} {}", f1(height))) width=(W) height=(f1(height)) role="img" {
                    title { "raft index of every member: WAL segments, snapshots, applied, commit and last index" }
                    @for (i, l) in lanes.iter().enumerate() { (raft_lane(l, &s, 6.0 + LANE_H * i as f64)) }
                    (axis(&s, 10.0 + LANE_H * lanes.len() as f64, "raft index"))
                }
            } @else { p class="muted" { "No raft indexes known (no WAL, no consistent index)." } }
            h3 { "Store (revision)" }
            @if let Some((lo, hi)) = revs {
                @let s = Scale::new(lo.min(1) as f64, hi as f64, LEFT, RIGHT);
                svg id="timeline-revisions" class="timeline" viewBox=(format!("0 0 {W} {}", f1(height))) width=(W) height=(f1(height)) role="img" {
                    title { "revisions of every member: compact revision, current revision, revision after start" }
                    @for (i, l) in lanes.iter().enumerate() { (rev_lane(l, &s, 6.0 + LANE_H * i as f64)) }
                    (axis(&s, 10.0 + LANE_H * lanes.len() as f64, "revision"))
                }
            } @else { p class="muted" { "No revisions known (no readable db)." } }
        }
    }
}

/// A rectangle of the treemap.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// Squarified treemap (Bruls, Huizing, van Wijk): lay `values` (largest
/// first, all > 0) out in `area`, rows along the shorter side, each row
/// kept while it improves the worst aspect ratio.
fn squarify(values: &[f64], area: Rect) -> Vec<Rect> {
    let total: f64 = values.iter().sum();
    let mut out = Vec::with_capacity(values.len());
    if total <= 0.0 || area.w <= 0.0 || area.h <= 0.0 {
        return out;
    }
    let scale = area.w * area.h / total;
    let areas: Vec<f64> = values.iter().map(|v| v * scale).collect();
    let mut free = area;
    let mut i = 0;
    while i < areas.len() {
        let side = free.w.min(free.h);
        let worst = |row: &[f64]| {
            let s: f64 = row.iter().sum();
            let (mx, mn) = row.iter().fold((0f64, f64::MAX), |(a, b), &v| (a.max(v), b.min(v)));
            let s2 = s * s;
            let w2 = side * side;
            (w2 * mx / s2).max(s2 / (w2 * mn))
        };
        let mut j = i + 1;
        while j < areas.len() {
            let (Some(cur), Some(next)) = (areas.get(i..j), areas.get(i..=j)) else { break };
            if worst(next) > worst(cur) {
                break;
            }
            j += 1;
        }
        let row = areas.get(i..j).unwrap_or(&[]);
        let sum: f64 = row.iter().sum();
        if free.w >= free.h {
            // Column on the left.
            let cw = if free.h > 0.0 { sum / free.h } else { 0.0 };
            let mut y = free.y;
            for a in row {
                let h = if cw > 0.0 { a / cw } else { 0.0 };
                out.push(Rect { x: free.x, y, w: cw, h });
                y += h;
            }
            free = Rect { x: free.x + cw, y: free.y, w: (free.w - cw).max(0.0), h: free.h };
        } else {
            let rh = if free.w > 0.0 { sum / free.w } else { 0.0 };
            let mut x = free.x;
            for a in row {
                let w = if rh > 0.0 { a / rh } else { 0.0 };
                out.push(Rect { x, y: free.y, w, h: rh });
                x += w;
            }
            free = Rect { x: free.x, y: free.y + rh, w: free.w, h: (free.h - rh).max(0.0) };
        }
        i = j;
    }
    out
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

fn space(r: &IncidentReport) -> Markup {
    let Some(sp) = &r.space else {
        return html! {
            section id="space" { h2 { "Space" } p class="muted" { "No space report: " (r.space_error.as_deref().unwrap_or("no db")) } }
        };
    };
    html! {
        section id="space" {
            h2 { "Space" }
            p { "Of " code { (r.space_of.as_deref().map(display_path).unwrap_or_default()) } ": "
                (humanize_bytes(sp.file.file_size)) " on disk, " (sp.file.page_size) "-byte pages, high-water mark " (sp.file.high_water_mark) " pages." }
            (treemap(sp))
            (pages(sp))
            (defrag(sp))
        }
    }
}

fn treemap(sp: &SpaceReport) -> Markup {
    let Some(keys) = &sp.keys else {
        return html! { p class="muted" { "No key bucket." } };
    };
    let groups: Vec<_> = keys.groups.iter().filter(|g| g.total_bytes > 0).collect();
    let values: Vec<f64> = groups.iter().map(|g| g.total_bytes as f64).collect();
    let (tw, th) = (1100.0, 420.0);
    let rects = squarify(&values, Rect { x: 0.0, y: 0.0, w: tw, h: th });
    let total = keys.total.total_bytes;
    html! {
        h3 { "The key bucket by prefix (depth " (keys.prefix_depth) ")" }
        p class="legend" {
            span { i class="sw" style=(format!("background:{C_CURRENT}")) {} "current" }
            span { i class="sw" style=(format!("background:{C_SUPERSEDED}")) {} "superseded (a compaction frees it)" }
            span { i class="sw" style=(format!("background:{C_TOMB}")) {} "tombstones" }
        }
        svg id="treemap" viewBox=(format!("0 0 {tw} {th}")) width=(tw) height=(th) role="img" {
            title { "key bucket bytes by key prefix" }
            @for (i, (g, rc)) in groups.iter().zip(&rects).enumerate() {
                @let color = PALETTE.get(i % PALETTE.len()).copied().unwrap_or("#999");
                @let strip = (rc.h * 0.18).clamp(0.0, 10.0);
                @let cw = rc.w * pct(g.current_bytes, g.total_bytes) / 100.0;
                @let sw = rc.w * pct(g.superseded_bytes, g.total_bytes) / 100.0;
                g class="tile" data-prefix=(g.prefix) {
                    title { (g.prefix) ": " (humanize_bytes(g.total_bytes)) ", " (g.keys) " keys (" (g.live_keys) " live), " (g.revisions) " revisions; current " (humanize_bytes(g.current_bytes)) ", superseded " (humanize_bytes(g.superseded_bytes)) ", tombstones " (humanize_bytes(g.tombstone_bytes)) }
                    rect x=(f1(rc.x)) y=(f1(rc.y)) width=(f1(rc.w)) height=(f1(rc.h)) fill=(color) stroke="#fff" stroke-width="2" {}
                    rect x=(f1(rc.x)) y=(f1(rc.y + rc.h - strip)) width=(f1(cw)) height=(f1(strip)) fill=(C_CURRENT) {}
                    rect x=(f1(rc.x + cw)) y=(f1(rc.y + rc.h - strip)) width=(f1(sw)) height=(f1(strip)) fill=(C_SUPERSEDED) {}
                    rect x=(f1(rc.x + cw + sw)) y=(f1(rc.y + rc.h - strip)) width=(f1((rc.w - cw - sw).max(0.0))) height=(f1(strip)) fill=(C_TOMB) {}
                    @if rc.w > 60.0 && rc.h > 30.0 {
                        text class="tile-label" x=(f1(rc.x + 5.0)) y=(f1(rc.y + 15.0)) { (shorten(&g.prefix, (rc.w / 6.5) as usize)) }
                        text x=(f1(rc.x + 5.0)) y=(f1(rc.y + 29.0)) { (humanize_bytes(g.total_bytes)) " · " (format!("{:.0}%", pct(g.total_bytes, total))) }
                    }
                }
            }
        }
        table id="prefixes" {
            thead { tr { th { "prefix" } th class="num" { "keys" } th class="num" { "live" } th class="num" { "revisions" } th class="num" { "bytes" } th { "current / superseded / tombstones" } th class="num" { "compactable" } } }
            tbody {
                @for g in keys.groups.iter().chain(std::iter::once(&keys.total)) {
                    tr { td class="mono" { (g.prefix) } td class="num" { (g.keys) } td class="num" { (g.live_keys) } td class="num" { (g.revisions) }
                         td class="num" { (humanize_bytes(g.total_bytes)) }
                         td { div class="bar" {
                             i style=(format!("width:{:.2}%;background:{C_CURRENT}", pct(g.current_bytes, g.total_bytes))) {}
                             i style=(format!("width:{:.2}%;background:{C_SUPERSEDED}", pct(g.superseded_bytes, g.total_bytes))) {}
                             i style=(format!("width:{:.2}%;background:{C_TOMB}", pct(g.tombstone_bytes, g.total_bytes))) {} } }
                         td class="num" { (humanize_bytes(g.compactable_bytes)) } }
                }
            }
        }
        @if keys.unreadable_entries > 0 { p { (keys.unreadable_entries) " entries (" (humanize_bytes(keys.unreadable_bytes)) ") could not be read." } }
    }
}

/// At most `n` characters of `s` (at least 4), with an ellipsis.
fn shorten(s: &str, n: usize) -> String {
    let n = n.max(4);
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).chain(std::iter::once('…')).collect() }
}

fn pages(sp: &SpaceReport) -> Markup {
    let p = &sp.file.pages;
    let rows: [(&str, u64); 11] = [
        ("meta", p.meta),
        ("freelist", p.freelist),
        ("branch", p.branch),
        ("branch overflow", p.branch_overflow),
        ("leaf", p.leaf),
        ("leaf overflow", p.leaf_overflow),
        ("free (listed)", p.free),
        ("unreachable (bbolt's free pages)", p.unreachable),
        ("damaged", p.damaged),
        ("past the high-water mark", p.past_hwm),
        ("missing (truncated file)", p.missing),
    ];
    let all: u64 = rows.iter().map(|r| r.1).sum();
    html! {
        h3 { "Pages by type" }
        table id="pages" {
            thead { tr { th { "pages" } th class="num" { "count" } th class="num" { "bytes" } th { "" } } }
            tbody {
                @for (name, n) in rows {
                    tr { td { (name) } td class="num" { (n) } td class="num" { (humanize_bytes(n.saturating_mul(u64::from(sp.file.page_size)))) }
                         td { div class="bar" { i style=(format!("width:{:.2}%;background:{C_SEGMENT}", pct(n, all))) {} } } }
                }
            }
        }
    }
}

fn defrag(sp: &SpaceReport) -> Markup {
    let d = &sp.defrag;
    html! {
        h3 { "Defragmentation estimate" }
        @if let Some(why) = &d.unavailable { p class="muted" { "No estimate: " (why) } }
        @else {
            p id="defrag" { "etcd's defrag would write " (d.pages) " pages (" (humanize_bytes(d.file_size)) "): "
                @if d.reclaimable >= 0 { strong { (humanize_bytes(d.reclaimable.unsigned_abs())) } " reclaimable" } @else { "the file is already smaller by " (humanize_bytes(d.reclaimable.unsigned_abs())) }
                (if d.exact { " (exact)." } else { " (estimate: several commits)." }) }
        }
    }
}

fn kubernetes(k: &K8sSummary) -> Markup {
    html! {
        section id="kubernetes" {
            h2 { "Kubernetes" }
            p { strong id="k8s-objects" { (k.objects) } " objects (" (humanize_bytes(k.bytes)) ") in " (k.resources.len()) " resources and " (k.namespace_count) " namespaces"
                @if k.encrypted > 0 { "; " (k.encrypted) " encrypted at rest" }
                @if k.other_keys > 0 { "; " (k.other_keys) " other /registry/ keys" } ". Values are never shown." }
            table id="k8s-resources" {
                thead { tr { th { "resource" } th class="num" { "objects" } th class="num" { "bytes" } th class="num" { "namespaces" } th { "stored as" } th { "encrypted at rest" } } }
                tbody {
                    @for r in &k.resources {
                        tr data-resource=(r.resource) { td class="mono" { (r.resource) } td class="num" { (r.objects) } td class="num" { (humanize_bytes(r.bytes)) } td class="num" { (r.namespaces) }
                             td { @if r.protobuf > 0 { (r.protobuf) " protobuf " } @if r.json > 0 { (r.json) " JSON " } @if r.other > 0 { (r.other) " other " } }
                             td { @if r.encrypted == 0 { span class="muted" { "no" } } @else {
                                 (r.encrypted) " of " (r.objects) ": "
                                 @for (p, n) in &r.providers { code { (p) } " (" (n) ") " } } } }
                    }
                }
            }
            h3 { "Namespaces" }
            table id="k8s-namespaces" {
                thead { tr { th { "namespace" } th class="num" { "objects" } th class="num" { "bytes" } } }
                tbody { @for n in &k.namespaces { tr { td class="mono" { (n.namespace) } td class="num" { (n.objects) } td class="num" { (humanize_bytes(n.bytes)) } } } }
            }
            @if k.namespace_count > k.namespaces.len() as u64 { p class="muted" { (k.namespace_count - k.namespaces.len() as u64) " more namespaces not listed." } }
            details {
                summary { "Objects per resource and namespace" }
                table id="k8s-cells" {
                    thead { tr { th { "resource" } th { "namespace" } th class="num" { "objects" } } }
                    tbody { @for c in &k.cells { tr { td class="mono" { (c.resource) } td class="mono" { (if c.namespace.is_empty() { "(cluster-scoped)" } else { c.namespace.as_str() }) } td class="num" { (c.objects) } } } }
                }
            }
            h3 { "Largest objects" }
            table id="k8s-largest" {
                thead { tr { th { "object" } th { "kind" } th class="num" { "bytes" } th class="num" { "mod revision" } th { "stored as" } } }
                tbody {
                    @for o in &k.largest {
                        tr { td class="mono" { (o.resource) "/" @if let Some(ns) = &o.namespace { (ns) "/" } (o.name) }
                             td { (o.kind.as_deref().unwrap_or("")) } td class="num" { (humanize_bytes(o.bytes)) } td class="num" { (o.mod_revision) } td { (o.encoding) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn treemap_fills_the_area_without_overlap() {
        let vals = [600.0, 300.0, 60.0, 25.0, 10.0, 5.0];
        let area = Rect { x: 0.0, y: 0.0, w: 600.0, h: 400.0 };
        let r = squarify(&vals, area);
        assert_eq!(r.len(), vals.len());
        let total: f64 = vals.iter().sum();
        for (v, rc) in vals.iter().zip(&r) {
            assert!((rc.w * rc.h - v / total * 240_000.0).abs() < 1e-6, "{rc:?} for {v}");
            assert!(rc.x >= -1e-9 && rc.y >= -1e-9 && rc.x + rc.w <= 600.0 + 1e-6 && rc.y + rc.h <= 400.0 + 1e-6);
        }
        for (i, a) in r.iter().enumerate() {
            for b in r.iter().skip(i + 1) {
                let ox = (a.x + a.w).min(b.x + b.w) - a.x.max(b.x);
                let oy = (a.y + a.h).min(b.y + b.h) - a.y.max(b.y);
                assert!(ox <= 1e-6 || oy <= 1e-6, "{a:?} overlaps {b:?}");
            }
        }
        assert!(squarify(&[], area).is_empty());
        assert!(squarify(&[1.0], Rect { w: 0.0, ..area }).is_empty());
    }

    #[test]
    fn scale_and_ticks_stay_in_range() {
        let s = Scale::new(5.0, 5.0, 0.0, 100.0);
        assert_eq!(s.x(5.0), 0.0);
        assert_eq!(s.x(1e18), 100.0);
        let s = Scale::new(0.0, 1234.0, 0.0, 100.0);
        let t = s.ticks(8);
        assert!(!t.is_empty() && t.len() <= 9, "{t:?}");
        assert!(t.iter().all(|v| (0.0..=1234.0).contains(v)));
    }

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("/registry/pods", 40), "/registry/pods");
        assert_eq!(shorten("ééééééé", 5), "éééé…");
    }
}
