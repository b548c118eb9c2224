//! `report`: the HTML page, opened in headless Chromium (Debian's
//! `chromium`, installed by `.ci/run`), asserted on the rendered DOM.
//!
//! Inputs made by real etcd 3.5.1: a clean member whose keys include
//! `<script>` and `<img onerror>` payloads, a copy with a torn WAL tail,
//! a copy with a bit flipped mid-log, the committed Kubernetes fixture, and
//! three members of one cluster. For each: the verdict, willStart and the
//! finding count equal `check -w json` on the same input; the timeline has
//! one lane per member; the treemap names the fixture's prefixes; the
//! document names no external URL and holds no script; the payloads render
//! as text and never run.
//!
//! With `REPORT_SCREENSHOTS=DIR`, each case also leaves a screenshot in DIR
//! (how the ones in docs/ are made).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use scraper::{Html, Selector};
use serde_json::Value;

use crate::util::{self, EtcdProcess, Three, record_offsets, wal_segments};

const XSS_KEY: &str = "/xss/<script>document.title='pwned'</script>";
const XSS_VALUE: &str = "<img src=x onerror=\"document.title='pwned'\">";

/// Chromium, or `None` (a failure under CI=true).
fn chromium() -> Option<PathBuf> {
    let candidates = [std::env::var_os("CHROMIUM").map(PathBuf::from), Some("/usr/bin/chromium".into())];
    for c in candidates.into_iter().flatten() {
        if c.is_file() {
            return Some(c);
        }
    }
    assert!(!util::in_ci(), "CI=true but chromium is missing (apt-get install chromium chromium-driver; .ci/run does)");
    eprintln!("skipping: chromium not installed");
    None
}

fn chromium_cmd(chrome: &Path, profile: &Path) -> Command {
    let mut c = Command::new(chrome);
    c.args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars"])
        .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// The DOM after Chromium loaded the page (scripts, if any, would have run).
fn dump_dom(chrome: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = util::run_bounded(
        chromium_cmd(chrome, profile.path()).arg("--dump-dom").arg(format!("file://{}", page.display())),
        Duration::from_secs(120),
    )
    .unwrap();
    assert!(out.status.success(), "chromium --dump-dom: {}", util::show(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn screenshot(chrome: &Path, page: &Path, name: &str) {
    let Some(dir) = std::env::var_os("REPORT_SCREENSHOTS") else { return };
    let profile = tempfile::tempdir().unwrap();
    let png = PathBuf::from(dir).join(format!("report-{name}.png"));
    let out = util::run_bounded(
        chromium_cmd(chrome, profile.path())
            .arg("--window-size=1200,3000")
            .arg(format!("--screenshot={}", png.display()))
            .arg(format!("file://{}", page.display())),
        Duration::from_secs(120),
    )
    .unwrap();
    assert!(out.status.success(), "chromium --screenshot: {}", util::show(&out));
}

fn sel(s: &str) -> Selector {
    Selector::parse(s).unwrap()
}

fn texts(doc: &Html, s: &str) -> Vec<String> {
    doc.select(&sel(s)).map(|e| e.text().collect::<String>().trim().to_string()).collect()
}

fn check_json(path: &Path) -> Value {
    let out = util::ours(["check", "-w", "json", path.to_str().unwrap()]);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("check -w json: {e}: {}", util::show(&out)))
}

/// Write a report of `paths`; its exit code and the rendered DOM.
fn report(chrome: &Path, paths: &[&Path], name: &str) -> (Option<i32>, Html, String) {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join(format!("{name}.html"));
    let mut args = vec!["report".to_string()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.extend(["--output".into(), page.display().to_string()]);
    let out = util::ours(&args);
    assert!(matches!(out.status.code(), Some(0 | 1)), "report {name}: {}", util::show(&out));
    // Never written over.
    let again = util::ours(&args);
    assert_eq!(again.status.code(), Some(2), "report over an existing file: {}", util::show(&again));
    let source = std::fs::read_to_string(&page).unwrap();
    assert_self_contained(&source, name);
    let dom = dump_dom(chrome, &page);
    screenshot(chrome, &page, name);
    (out.status.code(), Html::parse_document(&dom), source)
}

/// No script, no external URL, nothing that loads.
fn assert_self_contained(source: &str, name: &str) {
    let doc = Html::parse_document(source);
    assert_eq!(doc.select(&sel("script")).count(), 0, "{name}: the page has no script");
    for attr in ["src", "href", "srcset", "action", "xlink:href", "data"] {
        let found: Vec<String> = doc
            .select(&sel(&format!("[{}]", attr.replace(':', "\\:"))))
            .filter_map(|e| e.value().attr(attr).map(str::to_string))
            .collect();
        assert!(found.iter().all(|v| v.starts_with('#')), "{name}: {attr} attributes that load: {found:?}");
    }
    for needle in ["http://", "https://", "url(", "@import", "//cdn"] {
        assert!(!source.contains(needle), "{name}: the document names an external resource ({needle})");
    }
    let csp = doc.select(&sel("meta[http-equiv=\"Content-Security-Policy\"]")).next().expect("a CSP");
    assert!(csp.value().attr("content").unwrap().starts_with("default-src 'none'"), "{name}");
}

/// One subject's verdict, willStart and finding count equal `check -w json`.
fn assert_subject_matches_check(doc: &Html, path: &Path, name: &str) -> Value {
    let c = check_json(path);
    let subj = doc
        .select(&sel(".subject"))
        .find(|e| e.value().attr("data-path") == Some(path.to_str().unwrap()))
        .unwrap_or_else(|| panic!("{name}: no .subject for {}", path.display()));
    let one = |s: &str| subj.select(&sel(s)).next().map(|e| e.text().collect::<String>().trim().to_string());
    assert_eq!(one(".verdict").as_deref(), c["verdict"].as_str(), "{name}: verdict vs check {c}");
    let count = c["findings"].as_array().unwrap().len();
    assert_eq!(one(".finding-count"), Some(count.to_string()), "{name}: finding count vs check {c}");
    if let Some(w) = c["willStart"].as_bool() {
        let el = subj.select(&sel(".will-start")).next().expect("willStart shown");
        assert_eq!(el.value().attr("data-value"), Some(if w { "true" } else { "false" }), "{name}");
    }
    // Every finding of check is a row, with its code.
    let rows: Vec<String> =
        doc.select(&sel("tr.finding")).filter_map(|e| e.value().attr("data-code").map(str::to_string)).collect();
    for f in c["findings"].as_array().unwrap() {
        assert!(rows.iter().any(|r| Some(r.as_str()) == f["code"].as_str()), "{name}: finding {f} not shown");
    }
    c
}

fn lanes(doc: &Html, svg: &str) -> Vec<String> {
    doc.select(&sel(&format!("svg#{svg} g.lane")))
        .filter_map(|e| e.value().attr("data-member").map(str::to_string))
        .collect()
}

fn tile_prefixes(doc: &Html) -> Vec<String> {
    doc.select(&sel("svg#treemap g.tile")).filter_map(|e| e.value().attr("data-prefix").map(str::to_string)).collect()
}

fn assert_not_pwned(doc: &Html, name: &str) {
    // The document's title is ours: the payload would set it to "pwned".
    let title = texts(doc, "head > title");
    assert!(
        title.len() == 1 && title[0].starts_with("etcd-forensics report: "),
        "{name}: a script from the data ran: {title:?}"
    );
    assert_eq!(doc.select(&sel("img")).count(), 0, "{name}: a value became markup");
}

fn copy_dir(src: &Path, dst: &Path) {
    assert!(Command::new("cp").arg("-a").arg(src).arg(dst).status().unwrap().success());
}

#[test]
fn report_in_chromium_clean_torn_flipped_and_k8s() {
    let Some(chrome) = chromium() else { return };
    let Some(bins) = util::require_etcd35() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("clean");
    let mut p = EtcdProcess::start(&bins, &data, "m", &[] as &[&str]);
    for i in 0..30 {
        p.put(&format!("/app/config/{:02}", i % 10), &format!("value-{i}"));
        p.put(&format!("/app/users/{i:02}"), "u");
    }
    p.put(XSS_KEY, XSS_VALUE);
    p.stop();

    // Clean.
    let (code, doc, source) = report(&chrome, &[&data], "clean");
    assert_eq!(code, Some(0));
    let c = assert_subject_matches_check(&doc, &data, "clean");
    assert_eq!(texts(&doc, "#overall-verdict"), vec![c["verdict"].as_str().unwrap().to_string()]);
    assert_eq!(lanes(&doc, "timeline-raft"), vec!["clean"]);
    assert_eq!(lanes(&doc, "timeline-revisions"), vec!["clean"]);
    assert!(doc.select(&sel("svg#timeline-raft rect.segment")).count() >= 1, "WAL segments drawn");
    let tiles = tile_prefixes(&doc);
    for want in ["/app/config", "/app/users"] {
        assert!(tiles.iter().any(|t| t == want), "treemap tiles {tiles:?} lack {want}");
    }
    // The payload key is a tile and a table row, as text.
    let shown = texts(&doc, "#prefixes td");
    assert!(shown.iter().any(|t| t.starts_with("/xss/<script>")), "the key shows as text: {shown:?}");
    assert!(source.contains("/xss/&lt;script&gt;"), "escaped in the document");
    assert_not_pwned(&doc, "clean");
    // The header names the db with its SHA-256.
    let db = data.join("member/snap/db");
    let sha = {
        use sha2::{Digest, Sha256};
        util::hex(&Sha256::digest(std::fs::read(&db).unwrap()))
    };
    let rows = texts(&doc, "#file-hashes tr.file");
    assert!(rows.iter().any(|r| r.contains(db.to_str().unwrap()) && r.contains(&sha)), "{rows:?}");

    // Torn tail: repairable, will start.
    let torn = tmp.path().join("torn");
    copy_dir(&data, &torn);
    let seg = wal_segments(&torn).pop().unwrap();
    let b = std::fs::read(&seg).unwrap();
    let recs = record_offsets(&b);
    let (off, n) = *recs.iter().rev().find(|(o, n)| *n > 40 && b[o + 8] == 0x08 && b[o + 9] == 0x02).unwrap();
    let (last_off, last_n) = *recs.last().unwrap();
    let mut t = b[..last_off + 8 + last_n.next_multiple_of(8)].to_vec();
    t.extend_from_slice(&b[off..off + 8 + n / 2]);
    std::fs::write(&seg, &t).unwrap();
    let (code, doc, _) = report(&chrome, &[&torn], "torn-tail");
    assert_eq!(code, Some(0), "a torn tail is repairable");
    let c = assert_subject_matches_check(&doc, &torn, "torn-tail");
    assert_eq!(c["verdict"], "repairable");
    assert_eq!(texts(&doc, "#overall-verdict"), vec!["repairable".to_string()]);
    assert!(
        doc.select(&sel("svg#timeline-raft rect.segment")).any(|e| e.value().attr("fill") == Some("#e39b2d")),
        "the torn segment is marked"
    );

    // A bit flipped mid-log: damaged, will not start.
    let flip = tmp.path().join("flipped");
    copy_dir(&data, &flip);
    let seg = wal_segments(&flip).pop().unwrap();
    let mut b = std::fs::read(&seg).unwrap();
    let recs = record_offsets(&b);
    let (off, n) = recs[recs.len() / 2];
    b[off + 8 + n - 2] ^= 0x04;
    std::fs::write(&seg, &b).unwrap();
    let (code, doc, _) = report(&chrome, &[&flip], "mid-log-flip");
    assert_eq!(code, Some(1));
    let c = assert_subject_matches_check(&doc, &flip, "mid-log-flip");
    assert_eq!((c["verdict"].as_str(), c["willStart"].as_bool()), (Some("damaged"), Some(false)));
    assert_eq!(texts(&doc, "#overall-verdict"), vec!["damaged".to_string()]);
    assert!(
        doc.select(&sel("tr.finding")).any(|e| e.value().attr("data-code") == Some("wal.crc_mismatch")),
        "the CRC mismatch is listed"
    );
    assert!(
        doc.select(&sel("svg#timeline-raft rect.segment")).any(|e| e.value().attr("fill") == Some("#d0453b")),
        "the damaged segment is marked"
    );

    // The Kubernetes fixture (a snapshot file).
    let k8s = util::fixture("k8s/snapshot.db");
    let (code, doc, _) = report(&chrome, &[&k8s], "kubernetes");
    assert_eq!(code, Some(0));
    assert_subject_matches_check(&doc, &k8s, "kubernetes");
    let tiles = tile_prefixes(&doc);
    for want in ["/registry/pods", "/registry/secrets", "/registry/configmaps"] {
        assert!(tiles.iter().any(|t| t == want), "treemap tiles {tiles:?} lack {want}");
    }
    let resources: Vec<String> = doc
        .select(&sel("#k8s-resources tr[data-resource]"))
        .map(|e| e.value().attr("data-resource").unwrap().to_string())
        .collect();
    assert!(resources.iter().any(|r| r == "pods") && resources.iter().any(|r| r == "secrets"), "{resources:?}");
    let get = util::assert_success(&util::ours([
        "get",
        k8s.to_str().unwrap(),
        "/registry/",
        "--prefix",
        "--keys-only",
        "-w",
        "json",
    ]));
    let keys: Value = serde_json::from_str(get.trim()).unwrap();
    let objects = texts(&doc, "#k8s-objects");
    assert!(objects[0].parse::<usize>().unwrap() <= keys["count"].as_u64().unwrap() as usize, "{objects:?}");
}

#[test]
fn report_in_chromium_three_members() {
    let Some(chrome) = chromium() else { return };
    let Some(bins) = util::require_etcd35() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let three = Three::new(&bins, tmp.path(), "report-test");
    let procs = three.start();
    for i in 0..15 {
        util::put_rev(&procs[i % 3], &format!("/a/b/{i:02}"), "v", 20).expect("put");
    }
    util::stop_all(procs);
    let paths: Vec<&Path> = three.dirs.iter().map(PathBuf::as_path).collect();
    let (code, doc, _) = report(&chrome, &paths, "three-members");
    assert_eq!(code, Some(0));
    for p in &paths {
        assert_subject_matches_check(&doc, p, "three-members");
    }
    assert_eq!(lanes(&doc, "timeline-raft"), vec!["n0", "n1", "n2"], "one lane per member");
    assert_eq!(lanes(&doc, "timeline-revisions"), vec!["n0", "n1", "n2"], "one lane per member");
    assert_eq!(texts(&doc, "#overall-verdict"), vec!["cluster intact".to_string()]);
    assert_eq!(doc.select(&sel("#members tbody tr")).count(), 3);
}
