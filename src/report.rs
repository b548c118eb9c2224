//! Findings: damage (or oddities) found in a file, as data.
//!
//! A [`Finding`] is what `check` reports; jobs collect them and never print.
//! The JSON shape (camelCase keys) is part of the stable machine interface.

use serde::Serialize;

use crate::error::{Error, Location};

/// How bad a finding is. Ordered: `Info < Warning < Damage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; nothing is wrong.
    Info,
    /// Not damage, but etcd will act on it (e.g. repair a torn WAL tail).
    Warning,
    /// Bytes are provably damaged or inconsistent.
    Damage,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Damage => "damage",
        }
    }
}

/// An inclusive range of main revisions; `None` means open-ended (from the
/// oldest, or through the newest, revision in the file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RevRange {
    pub first: Option<i64>,
    pub last: Option<i64>,
}

impl std::fmt::Display for RevRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.first, self.last) {
            (Some(a), Some(b)) if a == b => write!(f, "revision {a}"),
            (Some(a), Some(b)) => write!(f, "revisions {a}..={b}"),
            (Some(a), None) => write!(f, "revisions from {a} on"),
            (None, Some(b)) => write!(f, "revisions up to {b}"),
            (None, None) => write!(f, "all revisions"),
        }
    }
}

/// One thing found in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub severity: Severity,
    /// Stable machine-readable identifier, e.g. `bolt.meta.checksum`.
    pub code: &'static str,
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_type: Option<String>,
    /// The bbolt bucket the page belongs to, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// For pages of the `key` bucket: the main revisions stored there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revisions: Option<RevRange>,
    /// What is wrong.
    pub what: String,
    /// What it means (what etcd does about it, what is lost).
    pub meaning: String,
    /// What the operator should do.
    pub action: String,
}

impl Finding {
    pub fn new(severity: Severity, code: &'static str, location: Location, what: impl Into<String>) -> Self {
        Finding {
            severity,
            code,
            location,
            page_type: None,
            bucket: None,
            revisions: None,
            what: what.into(),
            meaning: String::new(),
            action: String::new(),
        }
    }
    pub fn damage(code: &'static str, location: Location, what: impl Into<String>) -> Self {
        Finding::new(Severity::Damage, code, location, what)
    }
    pub fn warning(code: &'static str, location: Location, what: impl Into<String>) -> Self {
        Finding::new(Severity::Warning, code, location, what)
    }
    pub fn info(code: &'static str, location: Location, what: impl Into<String>) -> Self {
        Finding::new(Severity::Info, code, location, what)
    }
    /// A parse error turned into damage.
    pub fn from_error(code: &'static str, err: &Error) -> Self {
        Finding::damage(code, err.location().clone(), err.kind().to_string())
    }
    pub fn meaning(mut self, m: impl Into<String>) -> Self {
        self.meaning = m.into();
        self
    }
    pub fn action(mut self, a: impl Into<String>) -> Self {
        self.action = a.into();
        self
    }
    pub fn page_type(mut self, t: impl Into<String>) -> Self {
        self.page_type = Some(t.into());
        self
    }
    pub fn bucket(mut self, b: Option<String>) -> Self {
        self.bucket = b;
        self
    }
    pub fn revisions(mut self, r: Option<RevRange>) -> Self {
        self.revisions = r;
        self
    }
}

/// Highest severity among `findings`, if any.
pub fn worst(findings: &[Finding]) -> Option<Severity> {
    findings.iter().map(|f| f.severity).max()
}
