//! `diff` output.
//!
//! JSON: `{"identical", "comparable" (some revision is stored on both
//! sides), "a": SIDE, "b": SIDE, "comparedFrom", "comparedTo",
//! "firstDivergentRevision" (null when none), "hashes": [{"revision", "a",
//! "b"}] (HashKV of each side; null where a side refuses the revision),
//! "keysDiffering", "keys": [{"key", "a", "b"}]}`; SIDE is `{"path",
//! "currentRevision", "compactRevision"}`; `keys` lists at most 1000 keys
//! whose state at `comparedTo` differs, with each side's KeyValue in
//! `etcdctl get -w json`'s shape (base64 key and value) or null when the key
//! is absent there.

use std::io::{self, Write};

use serde::Serialize;

use super::WriteOut;
use super::inspect::base64;
use crate::jobs::diff::{DiffReport, HashPair, KeyValue, Side};
use crate::mvcc::schema::show_bytes;

#[derive(Serialize)]
struct KvJson {
    key: String,
    create_revision: i64,
    mod_revision: i64,
    version: i64,
    value: String,
    #[serde(skip_serializing_if = "is_zero")]
    lease: i64,
}

fn is_zero(v: &i64) -> bool {
    *v == 0
}

fn kv_json(kv: &KeyValue) -> KvJson {
    KvJson {
        key: base64(&kv.key),
        create_revision: kv.create_revision,
        mod_revision: kv.mod_revision,
        version: kv.version,
        value: base64(&kv.value),
        lease: kv.lease,
    }
}

#[derive(Serialize)]
struct KeyJson {
    key: String,
    a: Option<KvJson>,
    b: Option<KvJson>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DiffJson<'a> {
    identical: bool,
    comparable: bool,
    a: &'a Side,
    b: &'a Side,
    compared_from: i64,
    compared_to: i64,
    first_divergent_revision: Option<i64>,
    hashes: &'a [HashPair],
    keys_differing: u64,
    keys: Vec<KeyJson>,
}

fn side_line(name: &str, s: &Side) -> String {
    let compacted =
        if s.compact_revision >= 0 { format!("compacted at {}", s.compact_revision) } else { "never compacted".into() };
    format!("{name}: {} (revision {}, {compacted})", s.path.display(), s.current_revision)
}

fn kv_text(kv: &Option<KeyValue>) -> String {
    match kv {
        None => "absent".into(),
        Some(kv) => format!(
            "{} (create {}, mod {}, version {}{})",
            show_bytes(&kv.value),
            kv.create_revision,
            kv.mod_revision,
            kv.version,
            if kv.lease != 0 { format!(", lease {:016x}", kv.lease) } else { String::new() }
        ),
    }
}

fn hash_text(h: Option<u32>) -> String {
    h.map_or_else(|| "refused".into(), |h| h.to_string())
}

pub fn print(w: &mut dyn Write, r: &DiffReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let j = DiffJson {
            identical: r.identical(),
            comparable: r.comparable(),
            a: &r.a,
            b: &r.b,
            compared_from: r.from,
            compared_to: r.to,
            first_divergent_revision: r.first_divergent,
            hashes: &r.hashes,
            keys_differing: r.keys_differing,
            keys: r
                .keys
                .iter()
                .map(|k| KeyJson { key: base64(&k.key), a: k.a.as_ref().map(kv_json), b: k.b.as_ref().map(kv_json) })
                .collect(),
        };
        serde_json::to_writer(&mut *w, &j).map_err(io::Error::other)?;
        return writeln!(w);
    }
    writeln!(w, "{}", side_line("a", &r.a))?;
    writeln!(w, "{}", side_line("b", &r.b))?;
    if !r.comparable() {
        return writeln!(
            w,
            "cannot compare: no revision is stored on both sides (one store ends at {}, compaction removed everything up to {})",
            r.to,
            r.from - 1
        );
    }
    writeln!(w, "compared revisions {}..={}", r.from, r.to)?;
    if r.a.compact_revision != r.b.compact_revision {
        writeln!(w, "hashkv not compared: the compact revisions differ (etcd compares hashes only when they agree)")?;
    }
    for h in &r.hashes {
        let verdict = if h.a.is_some() && h.a == h.b { "equal" } else { "differ" };
        writeln!(w, "hashkv at {}: a {}, b {} ({verdict})", h.revision, hash_text(h.a), hash_text(h.b))?;
    }
    match r.first_divergent {
        Some(d) => writeln!(w, "first divergent revision: {d}")?,
        None if r.keys_differing > 0 => writeln!(
            w,
            "no stored revision above {} differs: the histories diverged at or below it, where compaction removed the evidence",
            r.from - 1
        )?,
        None => {
            let ahead = match r.a.current_revision.cmp(&r.b.current_revision) {
                std::cmp::Ordering::Greater => format!("; a is {} revisions ahead", r.a.current_revision - r.to),
                std::cmp::Ordering::Less => format!("; b is {} revisions ahead", r.b.current_revision - r.to),
                std::cmp::Ordering::Equal => String::new(),
            };
            writeln!(w, "identical: the same history through revision {}{ahead}", r.to)?;
        }
    }
    if r.keys_differing > 0 {
        writeln!(w, "keys that differ at revision {} ({}):", r.to, r.keys_differing)?;
        for k in &r.keys {
            writeln!(w, "  {}: a {} | b {}", show_bytes(&k.key), kv_text(&k.a), kv_text(&k.b))?;
        }
        if r.keys_differing > r.keys.len() as u64 {
            writeln!(w, "  ... and {} more", r.keys_differing - r.keys.len() as u64)?;
        }
    }
    Ok(())
}
