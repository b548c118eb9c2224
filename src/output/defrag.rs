//! `defrag` output.
//!
//! JSON (one object, [`crate::jobs::defrag::DefragReport`]): `source`,
//! `dbFile`, `output`, `written` (false when refused: nothing was
//! written), `findings` (as in `check -w json`: why it was refused, or a bad
//! meta page that did not stop it), `pageSize`, `metaInUse`, `txid`,
//! `sourcePages`, `sourceFileSize`, `sourceTrailer`, `freePages`, `pages`,
//! `fileSize`, `snapshot`, `sha256` (hex, with `--snapshot`), `status`
//! {`hash`, `revision`, `totalKey`, `totalSize`} (what `etcdutl snapshot
//! status` prints for the new file), `buckets` [{`name`, `entries`, `root`,
//! `pages`}].

use std::io::{self, Write};

use super::{WriteOut, humanize_bytes};
use crate::jobs::defrag::DefragReport;

pub fn print(w: &mut dyn Write, r: &DefragReport, how: WriteOut) -> io::Result<()> {
    if how == WriteOut::Json {
        let v = serde_json::to_value(r).unwrap_or_default();
        return writeln!(w, "{v}");
    }
    for f in &r.findings {
        super::check::print_finding(w, f)?;
    }
    if !r.written {
        return writeln!(
            w,
            "{}: refused: the db cannot be read completely; nothing was written (run `etcd-forensics salvage`)",
            r.db_file.display()
        );
    }
    let ps = u64::from(r.page_size);
    writeln!(
        w,
        "defragmented {} into {}: {} pages -> {} pages ({} -> {}), {} free pages given back",
        r.db_file.display(),
        r.output.display(),
        r.source_pages,
        r.pages,
        humanize_bytes(r.source_pages.saturating_mul(ps)),
        humanize_bytes(r.pages.saturating_mul(ps)),
        r.free_pages
    )?;
    for b in &r.buckets {
        let place = if b.root == 0 { "inline".to_string() } else { format!("root page {}, {} pages", b.root, b.pages) };
        writeln!(w, "  bucket {:<16} {:>10} entries ({place})", b.name, b.entries)?;
    }
    let s = &r.status;
    writeln!(
        w,
        "  status: hash {:x}, revision {}, total keys {}, total size {} (as `etcdutl snapshot status` prints it)",
        s.hash,
        s.revision,
        s.total_key,
        humanize_bytes(s.total_size)
    )?;
    if let Some(sum) = &r.sha256 {
        writeln!(w, "  sha256 trailer {sum}: `restore` accepts it without --skip-hash-check")?;
    }
    Ok(())
}
