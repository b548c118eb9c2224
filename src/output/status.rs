//! `status` output.
//!
//! JSON: etcdutl's `{"hash","revision","totalKey","totalSize"}` (+ 3.6+'s
//! `"version"`) first, with the values the applied release's etcdutl prints
//! (the writer's release by default: 3.4/3.5 count entries of all buckets,
//! 3.6+ distinct live keys), then our extra keys: `rules` (whose rules, and
//! why), `writtenBy` (the minor version the db records),
//! `allBucketEntries` (3.4/3.5's totalKey), `liveKeys` (3.6's), `tombstones`,
//! `compactRevision`, `scheduledCompactRevision`, `consistentIndex`, `term`,
//! `storageVersion`, `clusterVersion`, `pageSize`, `fileSize`,
//! `highWaterMark`, `txid`, `metaInUse`, `metas` (per meta page: `valid` or
//! the problem), `trailer` (`absent|valid|mismatch|unverified`),
//! `freePages`, `anomalies` (findings etcdutl does not report).
//! Absent values are omitted, never null.

use std::io::{self, Write};

use serde_json::{Map, Value, json};

use super::{WriteOut, humanize_bytes, table};
use crate::jobs::status::StatusReport;

/// `style`: the table borders; `None`: those of the applied release's
/// upstream etcdutl (box characters from 3.7 on).
pub fn print(
    w: &mut dyn Write,
    r: &StatusReport,
    how: WriteOut,
    compat: bool,
    style: Option<table::Style>,
) -> io::Result<()> {
    let Some(st) = &r.scan.status else { return Ok(()) };
    let hash_hex = format!("{:x}", st.hash);
    let size_h = humanize_bytes(st.total_size);
    let extras = extras(r);
    let total_key = r.total_key().unwrap_or(st.total_key);
    let version = r.version_column();
    match how {
        WriteOut::Json => {
            let mut m = Map::new();
            m.insert("hash".into(), json!(st.hash));
            m.insert("revision".into(), json!(st.revision));
            m.insert("totalKey".into(), json!(total_key));
            m.insert("totalSize".into(), json!(st.total_size));
            if let Some(v) = &version {
                m.insert("version".into(), json!(v));
            }
            if !compat {
                for (k, v) in extras {
                    m.insert(k.into(), v);
                }
            }
            writeln!(w, "{}", Value::Object(m))
        }
        WriteOut::Simple => {
            match &version {
                Some(v) => writeln!(w, "{hash_hex}, {}, {total_key}, {size_h}, {v}", st.revision)?,
                None => writeln!(w, "{hash_hex}, {}, {total_key}, {size_h}", st.revision)?,
            }
            if !compat {
                for (k, v) in &extras {
                    writeln!(w, "{k}: {}", plain(v))?;
                }
            }
            Ok(())
        }
        WriteOut::Table => {
            let style = style.unwrap_or(if r.applied.release.unicode_tables() {
                table::Style::Unicode
            } else {
                table::Style::Ascii
            });
            let mut header = vec!["hash", "revision", "total keys", "total size"];
            let mut row = vec![hash_hex, st.revision.to_string(), total_key.to_string(), size_h];
            if let Some(v) = &version {
                header.push("version");
                row.push(v.clone());
            }
            table::render_styled(w, &header, &[row], style)?;
            if !compat {
                let rows: Vec<Vec<String>> = extras.iter().map(|(k, v)| vec![k.to_string(), plain(v)]).collect();
                table::render_styled(w, &["detail", "value"], &rows, style)?;
            }
            Ok(())
        }
        WriteOut::Fields => {
            writeln!(w, "\"Hash\" : {}", st.hash)?;
            writeln!(w, "\"Revision\" : {}", st.revision)?;
            writeln!(w, "\"Keys\" : {total_key}")?;
            writeln!(w, "\"Size\" : {}", st.total_size)?;
            if let Some(v) = &version {
                writeln!(w, "\"Version\" : {v}")?;
            }
            if !compat {
                for (k, v) in &extras {
                    let mut name = k.to_string();
                    if let Some(c) = name.get_mut(0..1) {
                        c.make_ascii_uppercase();
                    }
                    writeln!(w, "\"{name}\" : {}", plain(v))?;
                }
            }
            Ok(())
        }
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) if a.iter().all(|x| x.is_string()) => {
            a.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join("; ")
        }
        other => other.to_string(),
    }
}

fn extras(r: &StatusReport) -> Vec<(&'static str, Value)> {
    let s = &r.scan;
    let mut v: Vec<(&'static str, Value)> = Vec::new();
    let mut opt = |k: &'static str, x: Option<Value>| {
        if let Some(x) = x {
            v.push((k, x));
        }
    };
    opt("rules", Some(json!(r.applied.describe())));
    opt("writtenBy", r.applied.writer.release.map(|x| json!(x.to_string())));
    opt("allBucketEntries", s.status.as_ref().map(|x| json!(x.total_key)));
    opt("liveKeys", s.live_keys.map(|x| json!(x)));
    opt("tombstones", s.tombstones.map(|x| json!(x)));
    opt("compactRevision", s.compact_revision.map(|x| json!(x)));
    opt("scheduledCompactRevision", s.scheduled_compact_revision.map(|x| json!(x)));
    opt("consistentIndex", s.consistent_index.map(|x| json!(x)));
    opt("term", s.term.map(|x| json!(x)));
    opt("storageVersion", s.storage_version.clone().map(|x| json!(x)));
    opt("clusterVersion", s.cluster_version.clone().map(|x| json!(x)));
    opt("pageSize", s.page_size.map(|x| json!(x)));
    opt("fileSize", Some(json!(s.file_size)));
    opt("highWaterMark", s.high_water_mark.map(|x| json!(x)));
    opt("txid", s.txid.map(|x| json!(x)));
    opt("metaInUse", s.meta_in_use.map(|x| json!(x)));
    opt(
        "metas",
        Some(Value::Array(
            s.metas
                .iter()
                .map(|m| {
                    json!(match &m.problem {
                        None => "valid".to_string(),
                        Some(p) => p.to_string(),
                    })
                })
                .collect(),
        )),
    );
    opt("trailer", Some(json!(s.trailer.as_str())));
    opt("freePages", Some(json!(s.free_pages)));
    let anomalies: Vec<Value> =
        r.anomalies().map(|f| json!(format!("{}: {}", f.location.clone().with_file(&r.path), f.what))).collect();
    if !anomalies.is_empty() {
        opt("anomalies", Some(Value::Array(anomalies)));
    }
    v
}

/// JSON printed (to stdout) when the file is refused, so CI gets data.
pub fn print_refusal_json(w: &mut dyn Write, r: &StatusReport) -> io::Result<()> {
    let findings: Vec<Value> = r
        .scan
        .findings
        .iter()
        .map(|f| {
            let mut f = f.clone();
            f.location = f.location.with_file(&r.path);
            serde_json::to_value(f).unwrap_or(Value::Null)
        })
        .collect();
    writeln!(w, "{}", json!({"error": r.refusal_message(), "findings": findings}))
}
