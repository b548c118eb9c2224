//! Which etcd wrote a db, and whose rules to follow when answering for it.
//!
//! A db records only a minor version: `meta/storageVersion` (3.6+, e.g.
//! `3.6.0`, `3.7.0`), `cluster/clusterVersion` (the cluster version the
//! members agreed on, e.g. `3.5.0`), and `meta/term` (written from 3.5 on).
//! Detection takes the first of these that parses; the rules applied by
//! default are those of the **newest** release of that minor version, since
//! that is what an operator runs today. `--etcd-version` names an exact
//! release for older rules (3.5.1's, for instance).
//!
//! What differs by release (each also documented where it is applied):
//! * `snapshot status`: 3.6+ counts distinct live keys as totalKey and adds
//!   `version` (= `meta/storageVersion`); 3.7's table is drawn with box
//!   characters ([`Release::status_live_total_key`], [`Release::status_version_column`],
//!   [`Release::unicode_tables`]).
//! * HashKV and the store's revisions ([`HashRules::for_version`]).

use std::fmt;

use serde::Serialize;

use super::hashkv::HashRules;

/// An etcd release: `3.6` (the newest 3.6.x) or `3.5.1` (exactly that one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Release {
    pub major: u32,
    pub minor: u32,
    /// `None`: the newest patch release of `major.minor`.
    pub patch: Option<u32>,
}

impl Release {
    pub const fn new(major: u32, minor: u32, patch: Option<u32>) -> Release {
        Release { major, minor, patch }
    }

    /// Parse `3.5.1`, `v3.5.1` or `3.6` (the newest 3.6.x).
    pub fn parse(text: &str) -> Option<Release> {
        let t = text.trim();
        let t = t.strip_prefix('v').unwrap_or(t);
        let mut it = t.split('.');
        let major = it.next()?.parse().ok()?;
        let minor = it.next()?.parse().ok()?;
        let patch = match it.next() {
            Some(p) => Some(p.parse().ok()?),
            None => None,
        };
        if it.next().is_some() {
            return None;
        }
        Some(Release { major, minor, patch })
    }

    /// The minor version a stored `major.minor.patch` string names (the
    /// patch a db stores is always 0, so it says nothing).
    fn minor_of(stored: &str) -> Option<Release> {
        let r = Release::parse(stored)?;
        Some(Release { patch: None, ..r })
    }

    /// `(major, minor)`, for comparisons.
    pub fn line(&self) -> (u32, u32) {
        (self.major, self.minor)
    }

    /// HashKV and revision rules of this release.
    pub fn hash_rules(&self) -> HashRules {
        HashRules::for_version(self.major, self.minor, self.patch.unwrap_or(u32::MAX))
    }

    /// 3.6+: `snapshot status` totalKey = distinct live user keys (3.4/3.5:
    /// entries of every bucket).
    pub fn status_live_total_key(&self) -> bool {
        self.line() >= (3, 6)
    }

    /// 3.6+: `snapshot status` prints a `version` (meta/storageVersion).
    pub fn status_version_column(&self) -> bool {
        self.line() >= (3, 6)
    }

    /// 3.7's etcdutl draws tables with box-drawing characters
    /// (tablewriter 1.x); earlier ones with `+`, `-` and `|`.
    pub fn unicode_tables(&self) -> bool {
        self.line() >= (3, 7)
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.patch {
            Some(p) => write!(f, "{}.{}.{p}", self.major, self.minor),
            None => write!(f, "{}.{}", self.major, self.minor),
        }
    }
}

impl Serialize for Release {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Which etcd wrote a db, from what the db itself records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writer {
    /// The minor version (`patch` is `None`), or `None` when nothing in the
    /// db tells.
    pub release: Option<Release>,
    /// What the guess rests on, e.g. `meta/storageVersion = "3.6.0"`.
    pub evidence: String,
}

impl Writer {
    /// [`Writer::detect`] from what a [`super::DbScan`] read of the meta and
    /// cluster buckets.
    pub fn of_scan(scan: &super::DbScan) -> Writer {
        Writer::detect(scan.storage_version.as_deref(), scan.cluster_version.as_deref(), scan.term.is_some())
    }

    /// Detect from the db's `meta/storageVersion`, `cluster/clusterVersion`
    /// and whether `meta/term` exists, in that order of trust.
    pub fn detect(storage_version: Option<&str>, cluster_version: Option<&str>, has_term: bool) -> Writer {
        if let Some(sv) = storage_version {
            if let Some(r) = Release::minor_of(sv) {
                return Writer { release: Some(r), evidence: format!("meta/storageVersion = {sv:?}") };
            }
        }
        if let Some(cv) = cluster_version {
            if let Some(r) = Release::minor_of(cv) {
                // A 3.6+ member writes storageVersion once the cluster version
                // is known; clusterVersion alone says at least that minor.
                return Writer { release: Some(r), evidence: format!("cluster/clusterVersion = {cv:?}") };
            }
        }
        if has_term {
            return Writer {
                release: Some(Release::new(3, 5, None)),
                evidence: "meta/term is present (written from 3.5 on), no storageVersion".into(),
            };
        }
        Writer { release: None, evidence: "no storageVersion, clusterVersion or meta/term in the db".into() }
    }
}

/// The rules an answer follows and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// The release whose rules were applied.
    pub release: Release,
    /// `requested` (--etcd-version), `detected` (from the db) or `default`
    /// (nothing in the db tells).
    pub source: &'static str,
    /// Who wrote the db, as far as it tells.
    pub writer: Writer,
}

/// When the db does not tell: 3.5's newest rules (3.5 is the line that
/// writes no storageVersion and is still the most common).
pub const FALLBACK: Release = Release::new(3, 5, None);

impl Applied {
    pub fn choose(requested: Option<Release>, writer: Writer) -> Applied {
        match (requested, writer.release) {
            (Some(r), _) => Applied { release: r, source: "requested", writer },
            (None, Some(r)) => Applied { release: r, source: "detected", writer },
            (None, None) => Applied { release: FALLBACK, source: "default", writer },
        }
    }

    /// One line for people: `etcd 3.6 rules (detected: meta/storageVersion = "3.6.0")`.
    pub fn describe(&self) -> String {
        let what = match self.source {
            "requested" => "--etcd-version".to_string(),
            "detected" => format!("written by etcd {}: {}", self.writer_text(), self.writer.evidence),
            _ => format!("{}; newest 3.5 rules", self.writer.evidence),
        };
        format!("etcd {} rules ({what})", self.release)
    }

    fn writer_text(&self) -> String {
        self.writer.release.map_or_else(|| "?".into(), |r| r.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        assert_eq!(Release::parse("3.5.1"), Some(Release::new(3, 5, Some(1))));
        assert_eq!(Release::parse("v3.6"), Some(Release::new(3, 6, None)));
        assert_eq!(Release::parse("3"), None);
        assert_eq!(Release::parse("3.6.0.1"), None);
        assert_eq!(Release::parse("3.x"), None);
        assert_eq!(Release::new(3, 6, None).to_string(), "3.6");
        assert_eq!(Release::new(3, 5, Some(16)).to_string(), "3.5.16");
    }

    #[test]
    fn detection_order() {
        let w = Writer::detect(Some("3.6.0"), Some("3.5.0"), true);
        assert_eq!(w.release, Some(Release::new(3, 6, None)));
        assert!(w.evidence.contains("storageVersion"));
        let w = Writer::detect(Some(""), Some("3.5.0"), true);
        assert_eq!(w.release, Some(Release::new(3, 5, None)));
        let w = Writer::detect(None, None, true);
        assert_eq!(w.release, Some(Release::new(3, 5, None)));
        let w = Writer::detect(None, Some("3.4.0"), false);
        assert_eq!(w.release, Some(Release::new(3, 4, None)));
        assert_eq!(Writer::detect(None, None, false).release, None);
        assert_eq!(Writer::detect(Some("3.7.0"), None, true).release, Some(Release::new(3, 7, None)));
    }

    #[test]
    fn newest_patch_rules() {
        // 3.5 newest: R = compact revision answered, tombstone at C skipped.
        let r = Release::new(3, 5, None).hash_rules();
        assert!(!r.compacted_inclusive && r.skip_compact_tombstone && r.current_includes_scheduled);
        // 3.5.1 exactly: the old rules.
        assert_eq!(Release::new(3, 5, Some(1)).hash_rules(), HashRules::ETCD_3_5_1);
        let r = Release::new(3, 4, None).hash_rules();
        assert!(!r.compacted_inclusive && r.skip_compact_tombstone);
        assert!(Release::new(3, 6, None).status_live_total_key());
        assert!(!Release::new(3, 5, None).status_live_total_key());
        assert!(Release::new(3, 7, Some(3)).unicode_tables() && !Release::new(3, 6, None).unicode_tables());
    }

    #[test]
    fn choose_says_why() {
        let a = Applied::choose(None, Writer::detect(Some("3.6.0"), None, true));
        assert_eq!((a.release, a.source), (Release::new(3, 6, None), "detected"));
        assert!(a.describe().contains("3.6"), "{}", a.describe());
        let a = Applied::choose(Release::parse("3.5.1"), Writer::detect(Some("3.6.0"), None, true));
        assert_eq!((a.release.to_string(), a.source), ("3.5.1".to_string(), "requested"));
        let a = Applied::choose(None, Writer::detect(None, None, false));
        assert_eq!((a.release, a.source), (FALLBACK, "default"));
    }
}
