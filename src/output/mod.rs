//! Printers. Every printer writes to any `io::Write`; nothing here decides
//! exit codes.
//!
//! Machine output (`-w json`) is a stable interface: keys are camelCase,
//! etcdutl's keys come first and keep etcdutl's names and meanings, and new
//! keys are only ever added.

pub mod check;
pub mod cluster;
pub mod defrag;
pub mod diff;
pub mod html;
pub mod inspect;
pub mod restore;
pub mod salvage;
pub mod space;
pub mod status;
pub mod table;
pub mod wal;

/// `-w/--write-out`, as in etcdutl.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WriteOut {
    #[default]
    Simple,
    Table,
    Json,
    Fields,
}

/// go-humanize's `Bytes` (SI units), as etcdutl prints sizes.
pub fn humanize_bytes(s: u64) -> String {
    const SIZES: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    if s < 10 {
        return format!("{s} B");
    }
    let base = 1000f64;
    let e = ((s as f64).ln() / base.ln()).floor();
    let suffix = SIZES.get(e as usize).copied().unwrap_or("EB");
    let val = ((s as f64) / base.powf(e) * 10.0 + 0.5).floor() / 10.0;
    if val < 10.0 { format!("{val:.1} {suffix}") } else { format!("{val:.0} {suffix}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn humanize_matches_go_humanize() {
        assert_eq!(humanize_bytes(0), "0 B");
        assert_eq!(humanize_bytes(9), "9 B");
        assert_eq!(humanize_bytes(20480), "20 kB");
        assert_eq!(humanize_bytes(24576), "25 kB");
        assert_eq!(humanize_bytes(2_101_248), "2.1 MB");
        assert_eq!(humanize_bytes(1_073_741_824), "1.1 GB");
        // Go's %.0f rounds half to even, like Rust's formatter.
        assert_eq!(humanize_bytes(20500), "20 kB");
        assert_eq!(humanize_bytes(21500), "22 kB");
    }
}
