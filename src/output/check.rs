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
