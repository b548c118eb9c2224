//! `space` output.
//!
//! JSON (one object, [`crate::jobs::space::SpaceReport`]; stable keys, new
//! keys only ever added):
//!
//! * `dbFile`;
//! * `file`: {`fileSize`, `pageSize`, `pagesInFile`, `tailBytes`,
//!   `highWaterMark`, `logicalSize`, `metaInUse`, `txid`,
//!   `freelistPersisted`, `pages`: {`meta`, `freelist`, `branch`,
//!   `branchOverflow`, `leaf`, `leafOverflow`, `free`, `unreachable`,
//!   `damaged`, `pastHwm`, `missing`}}; the first nine sum to
//!   `min(highWaterMark, pagesInFile)`, and with `pastHwm` to `pagesInFile`;
//! * `rootBucket`, `total`, and `buckets[].stats`: bbolt's `BucketStats`
//!   with camelCase names {`branchPageN`, `branchOverflowN`, `leafPageN`,
//!   `leafOverflowN`, `keyN`, `depth`, `branchAlloc`, `branchInuse`,
//!   `leafAlloc`, `leafInuse`, `bucketN`, `inlineBucketN`,
//!   `inlineBucketInuse`}; `total` is what `bbolt stats` prints;
//! * `buckets`: [{`name`, `root`, `stats`, `leafFill`}], `leafFill`: leaf
//!   pages in 10 % fill bins (`[0,10)`, ..., `[90,100]`);
//! * `keys` (absent without a `key` bucket): {`prefixDepth`, `groupCount`,
//!   `groups`: [{`prefix`, `groups`, `keys`, `liveKeys`, `revisions`,
//!   `maxRevisions`, `maxRevisionsKey`, `currentBytes`, `supersededBytes`,
//!   `tombstoneBytes`, `totalBytes`, `compactableBytes`}], `total` (same
//!   shape), `unreadableEntries`, `unreadableBytes`};
//! * `defrag`: {`pages`, `fileSize`, `reclaimable`, `commits`, `exact`,
//!   `unavailable`};
//! * `findings`: as in `check -w json`.

use std::io::{self, Write};

use super::{WriteOut, humanize_bytes, table};
use crate::bolt::stats::{BucketStats, FillHistogram};
use crate::jobs::space::SpaceReport;
use crate::mvcc::space::PrefixUsage;

pub fn print(w: &mut dyn Write, r: &SpaceReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let v = serde_json::to_value(r).unwrap_or_default();
        return writeln!(w, "{v}");
    }
    for f in &r.findings {
        super::check::print_finding(w, f)?;
    }
    print_pages(w, r)?;
    writeln!(w)?;
    print_buckets(w, r)?;
    writeln!(w)?;
    print_fill(w, &r.leaf_fill)?;
    if let Some(k) = &r.keys {
        writeln!(w)?;
        writeln!(
            w,
            "key bucket by prefix (first {} segment(s); {} group(s), largest first):",
            k.prefix_depth, k.group_count
        )?;
        let mut rows: Vec<Vec<String>> = k.groups.iter().map(prefix_row).collect();
        rows.push(prefix_row(&k.total));
        table::render(
            w,
            &[
                "prefix",
                "keys",
                "live",
                "revisions",
                "max revs",
                "key with max revs",
                "current",
                "superseded",
                "tombstones",
                "compactable",
                "total",
            ],
            &rows,
        )?;
        if k.unreadable_entries > 0 {
            writeln!(
                w,
                "{} entries ({} bytes) are not revisions of a readable KeyValue and are left out",
                k.unreadable_entries, k.unreadable_bytes
            )?;
        }
        writeln!(
            w,
            "compactable = superseded + tombstones: what a compaction at the current revision deletes \
             ({} of {})",
            humanize_bytes(k.total.compactable_bytes),
            humanize_bytes(k.total.total_bytes)
        )?;
    }
    writeln!(w)?;
    let d = &r.defrag;
    match &d.unavailable {
        Some(why) => writeln!(w, "defrag estimate: unavailable: {why}"),
        None => {
            let how = if d.exact {
                "exact: etcd's defrag writes it in one commit".to_string()
            } else {
                format!(
                    "etcd's defrag commits {} times (every 10000 puts): modelled, not exact (a few pages either way)",
                    d.commits
                )
            };
            writeln!(
                w,
                "defrag estimate: {} pages = {} bytes ({}); {how}\nreclaimable by defrag: {} bytes ({})",
                d.pages,
                d.file_size,
                humanize_bytes(d.file_size),
                d.reclaimable,
                if d.reclaimable < 0 {
                    "the file is smaller already".to_string()
                } else {
                    humanize_bytes(d.reclaimable.unsigned_abs())
                }
            )
        }
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 { "-".into() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

fn print_pages(w: &mut dyn Write, r: &SpaceReport) -> io::Result<()> {
    let f = &r.file;
    let p = &f.pages;
    let ps = u64::from(f.page_size);
    writeln!(
        w,
        "{}: {} bytes ({}), page size {}, {} pages in the file, high-water mark {} (meta {} in use, txid {})",
        r.db_file.display(),
        f.file_size,
        humanize_bytes(f.file_size),
        f.page_size,
        f.pages_in_file,
        f.high_water_mark,
        f.meta_in_use,
        f.txid
    )?;
    let unreachable = if f.freelist_persisted { "unreachable, unfreed" } else { "free (unreachable)" };
    let mut rows = Vec::new();
    let mut row = |name: &str, n: u64| {
        rows.push(vec![name.to_string(), n.to_string(), n.saturating_mul(ps).to_string(), pct(n, f.pages_in_file)]);
    };
    row("meta", p.meta);
    if f.freelist_persisted {
        row("freelist", p.freelist);
    }
    row("branch", p.branch);
    row("branch overflow", p.branch_overflow);
    row("leaf", p.leaf);
    row("leaf overflow", p.leaf_overflow);
    if f.freelist_persisted {
        row("free (freelist)", p.free);
    }
    row(unreachable, p.unreachable);
    if p.damaged > 0 {
        row("damaged", p.damaged);
    }
    row("past high-water mark", p.past_hwm);
    row("total", p.covered().saturating_add(p.past_hwm));
    if p.missing > 0 {
        row("missing (past end of file)", p.missing);
    }
    table::render(w, &["pages", "count", "bytes", "of file"], &rows)?;
    if f.tail_bytes > 0 {
        writeln!(w, "plus {} bytes after the last whole page (a snapshot file's SHA-256 trailer is 32)", f.tail_bytes)?;
    }
    Ok(())
}

fn bucket_row(name: &str, s: &BucketStats) -> Vec<String> {
    let alloc = s.branch_alloc.saturating_add(s.leaf_alloc);
    let inuse = s.branch_inuse.saturating_add(s.leaf_inuse);
    vec![
        name.to_string(),
        s.key_n.to_string(),
        s.depth.to_string(),
        s.branch_page_n.to_string(),
        s.branch_overflow_n.to_string(),
        s.leaf_page_n.to_string(),
        s.leaf_overflow_n.to_string(),
        alloc.to_string(),
        inuse.to_string(),
        pct(inuse, alloc),
        if s.inline_bucket_n > 0 { s.inline_bucket_inuse.to_string() } else { "-".into() },
    ]
}

fn print_buckets(w: &mut dyn Write, r: &SpaceReport) -> io::Result<()> {
    writeln!(w, "buckets (bbolt's Bucket.Stats(); total = `bbolt stats`):")?;
    let mut rows: Vec<Vec<String>> = r.buckets.iter().map(|b| bucket_row(&b.name, &b.stats)).collect();
    rows.push(bucket_row("(total)", &r.total));
    rows.push(bucket_row("(root bucket)", &r.root_bucket));
    table::render(
        w,
        &[
            "bucket",
            "keys",
            "depth",
            "branch",
            "branch ovf",
            "leaf",
            "leaf ovf",
            "alloc",
            "in use",
            "fill",
            "inline bytes",
        ],
        &rows,
    )
}

fn print_fill(w: &mut dyn Write, h: &FillHistogram) -> io::Result<()> {
    writeln!(w, "leaf pages by fill (in use / allocated):")?;
    let total: u64 = h.iter().sum();
    let rows: Vec<Vec<String>> = h
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let hi = if i + 1 == h.len() { "100]".to_string() } else { format!("{})", (i + 1) * 10) };
            vec![format!("[{}, {hi}", i * 10), n.to_string(), pct(*n, total)]
        })
        .collect();
    table::render(w, &["fill %", "leaf pages", "share"], &rows)
}

/// At most `max` characters, the cut marked with "...".
fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut t: String = s.chars().take(max.saturating_sub(3)).collect();
    t.push_str("...");
    t
}

fn prefix_row(g: &PrefixUsage) -> Vec<String> {
    vec![
        shorten(&g.prefix, 60),
        g.keys.to_string(),
        g.live_keys.to_string(),
        g.revisions.to_string(),
        g.max_revisions.to_string(),
        shorten(&g.max_revisions_key, 40),
        g.current_bytes.to_string(),
        g.superseded_bytes.to_string(),
        g.tombstone_bytes.to_string(),
        g.compactable_bytes.to_string(),
        g.total_bytes.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::bolt::write::{Bucket, WriteOptions, write_db};
    use crate::jobs::space::{SpaceOptions, space_of};

    fn report() -> SpaceReport {
        let vals: Vec<Vec<u8>> = (0..300u32).map(|i| format!("value-{i}").into_bytes()).collect();
        let keys: Vec<Vec<u8>> = (0..300u32).map(|i| format!("k{i:04}").into_bytes()).collect();
        let entries = keys.iter().zip(&vals).map(|(k, v)| (k.as_slice(), v.as_slice())).collect();
        let mut f = Vec::new();
        write_db(&[Bucket { name: b"data", entries }], WriteOptions { page_size: 4096, fill_percent: 0.9 }, &mut f)
            .unwrap();
        space_of(&f, Path::new("x.db"), &SpaceOptions::default()).unwrap()
    }

    #[test]
    /// 300 entries of ~30 bytes: 3 leaves under a branch, plus the root leaf.
    fn table_and_json() {
        let r = report();
        let mut out = Vec::new();
        print(&mut out, &r, WriteOut::Table).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("x.db: 28672 bytes (29 kB), page size 4096, 7 pages in the file, high-water mark 7"));
        assert!(text.contains("|                 leaf |     4 | 16384 |   57.1% |"), "{text}");
        assert!(text.contains("|          data |  300 |     2 |      1 |"), "{text}");
        assert!(text.contains("defrag estimate: 9 pages = 36864 bytes"), "{text}");
        assert!(text.contains("reclaimable by defrag: -8192 bytes (the file is smaller already)"), "{text}");
        let mut out = Vec::new();
        print(&mut out, &r, WriteOut::Json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(keys, ["buckets", "dbFile", "defrag", "file", "findings", "leafFill", "rootBucket", "total"]);
        assert_eq!(v["buckets"][0]["stats"]["keyN"], 300);
        assert_eq!(v["file"]["pages"]["leaf"], 4);
        assert_eq!(shorten("abcdefgh", 5), "ab...");
        assert_eq!(shorten("abc", 5), "abc");
    }
}
