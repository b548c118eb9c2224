//! A table in the shape of olekukonko/tablewriter as etcdctl/etcdutl
//! configure it: bordered, upper-case centred headers, right-aligned cells.

use std::io::{self, Write};

/// How the borders are drawn: `+-|` (tablewriter 0.x: etcd 3.4 to 3.6) or
/// box-drawing characters (tablewriter 1.x: etcd 3.7's etcdutl/etcdctl).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Ascii,
    Unicode,
}

pub fn render(w: &mut dyn Write, header: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    render_styled(w, header, rows, Style::Ascii)
}

/// The border characters: (left, joint, right, fill) for the top, the
/// line under the header and the bottom, and the vertical bar.
struct Borders {
    top: [char; 4],
    mid: [char; 4],
    bottom: [char; 4],
    bar: char,
}

const ASCII: Borders =
    Borders { top: ['+', '+', '+', '-'], mid: ['+', '+', '+', '-'], bottom: ['+', '+', '+', '-'], bar: '|' };
const UNICODE: Borders = Borders {
    top: ['\u{250c}', '\u{252c}', '\u{2510}', '\u{2500}'],
    mid: ['\u{251c}', '\u{253c}', '\u{2524}', '\u{2500}'],
    bottom: ['\u{2514}', '\u{2534}', '\u{2518}', '\u{2500}'],
    bar: '\u{2502}',
};

fn border(widths: &[usize], [left, joint, right, fill]: [char; 4]) -> String {
    let mut s = String::new();
    s.push(left);
    for (i, wd) in widths.iter().enumerate() {
        if i > 0 {
            s.push(joint);
        }
        s.extend(std::iter::repeat_n(fill, wd + 2));
    }
    s.push(right);
    s
}

pub fn render_styled(w: &mut dyn Write, header: &[&str], rows: &[Vec<String>], style: Style) -> io::Result<()> {
    let b = match style {
        Style::Ascii => &ASCII,
        Style::Unicode => &UNICODE,
    };
    let header: Vec<String> = header.iter().map(|h| h.to_uppercase().replace(['_', '.'], " ")).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, c) in row.iter().enumerate() {
            if let Some(wd) = widths.get_mut(i) {
                *wd = (*wd).max(c.chars().count());
            }
        }
    }
    writeln!(w, "{}", border(&widths, b.top))?;
    let mut s = String::new();
    s.push(b.bar);
    for (h, wd) in header.iter().zip(&widths) {
        let gap = wd.saturating_sub(h.chars().count());
        let left = gap / 2;
        s.push_str(&format!(" {}{}{} {}", " ".repeat(left), h, " ".repeat(gap - left), b.bar));
    }
    writeln!(w, "{s}")?;
    writeln!(w, "{}", border(&widths, b.mid))?;
    for row in rows {
        let mut s = String::new();
        s.push(b.bar);
        for (c, wd) in row.iter().zip(&widths) {
            // width in characters, not bytes (cells may hold any text)
            let pad = wd.saturating_sub(c.chars().count());
            s.push_str(&format!(" {}{c} {}", " ".repeat(pad), b.bar));
        }
        writeln!(w, "{s}")?;
    }
    writeln!(w, "{}", border(&widths, b.bottom))
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

    #[test]
    fn etcdutl_37_shape() {
        let mut out = Vec::new();
        super::render_styled(
            &mut out,
            &["hash", "revision", "total keys", "total size", "version"],
            &[vec!["a98d01b4".into(), "4".into(), "2".into(), "20 kB".into(), String::new()]],
            super::Style::Unicode,
        )
        .unwrap();
        // as etcdutl 3.7.3 printed it for testdata/fixtures/tiny/snapshot.db
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\u{250c}──────────┬──────────┬────────────┬────────────┬─────────┐\n\
             │   HASH   │ REVISION │ TOTAL KEYS │ TOTAL SIZE │ VERSION │\n\
             ├──────────┼──────────┼────────────┼────────────┼─────────┤\n\
             │ a98d01b4 │        4 │          2 │      20 kB │         │\n\
             └──────────┴──────────┴────────────┴────────────┴─────────┘\n"
        );
    }
}
