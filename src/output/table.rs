//! A table in the shape of olekukonko/tablewriter as etcdctl/etcdutl
//! configure it: bordered, upper-case centred headers, right-aligned cells.

use std::io::{self, Write};

pub fn render(w: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let header: Vec<String> = header.iter().map(|h| h.to_uppercase().replace(['_', '.'], " ")).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(wd) = widths.get_mut(i) {
                *wd = (*wd).max(c.chars().count());
            }
        }
    }
    let line = {
        let mut s = String::from("+");
        for wd in &widths {
            s.push_str(&"-".repeat(wd + 2));
            s.push('+');
        }
        s
    };
    writeln!(w, "{line}")?;
    let mut s = String::from("|");
    for (h, wd) in header.iter().zip(&widths) {
        let gap = wd.saturating_sub(h.chars().count());
        let left = gap / 2;
        s.push_str(&format!(" {}{}{} |", " ".repeat(left), h, " ".repeat(gap - left)));
    }
    writeln!(w, "{s}")?;
    writeln!(w, "{line}")?;
    for row in rows {
        let mut s = String::from("|");
        for (c, wd) in row.iter().zip(&widths) {
            s.push_str(&format!(" {c:>wd$} |"));
        }
        writeln!(w, "{s}")?;
    }
    writeln!(w, "{line}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn etcdutl_shape() {
        let mut out = Vec::new();
        super::render(
            &mut out,
            &["hash", "revision", "total keys", "total size"],
            &[vec!["53fe0779".into(), "6".into(), "10".into(), "20 kB".into()]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "+----------+----------+------------+------------+\n\
             |   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |\n\
             +----------+----------+------------+------------+\n\
             | 53fe0779 |        6 |         10 |      20 kB |\n\
             +----------+----------+------------+------------+\n"
        );
    }
}
