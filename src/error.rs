//! Errors: "the tool cannot go on".
//!
//! Damage found inside a file is *not* an error; it is a
//! [`Finding`](crate::report::Finding) in a report. An [`Error`] means we could
//! not even get that far (file unreadable, not an etcd file at all, a record
//! stream we cannot continue past). Every error carries a [`Location`]: the
//! parser fills in the offset and page, whoever opened the file adds its path.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in which file something happened.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
}

impl Location {
    pub fn at(offset: u64) -> Self {
        Location { file: None, offset: Some(offset), page: None }
    }
    pub fn page(page: u64, offset: u64) -> Self {
        Location { file: None, offset: Some(offset), page: Some(page) }
    }
    pub fn file(path: &Path) -> Self {
        Location { file: Some(path.to_path_buf()), offset: None, page: None }
    }
    pub fn with_file(mut self, path: &Path) -> Self {
        if self.file.is_none() {
            self.file = Some(path.to_path_buf());
        }
        self
    }
    pub fn is_empty(&self) -> bool {
        self.file.is_none() && self.offset.is_none() && self.page.is_none()
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            sep = ": ";
        }
        match (self.page, self.offset) {
            (Some(p), Some(o)) => write!(f, "{sep}page {p} (offset {o:#x})"),
            (Some(p), None) => write!(f, "{sep}page {p}"),
            (None, Some(o)) => write!(f, "{sep}offset {o:#x}"),
            (None, None) => Ok(()),
        }
    }
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    #[error("cannot {action}: {message}")]
    Io { action: &'static str, message: String },
    #[error("truncated: need {need} bytes, have {have}")]
    Truncated { need: u64, have: u64 },
    #[error("checksum mismatch: stored {expected:#x}, computed {actual:#x}")]
    BadChecksum { expected: u64, actual: u64 },
    #[error("page {page} is past the high-water mark {high_water}")]
    PageOutOfRange { page: u64, high_water: u64 },
    #[error("page {page} is reached twice (cycle or shared page)")]
    Cycle { page: u64 },
    #[error("not a bbolt database: {0}")]
    NotBolt(String),
    #[error("{0}")]
    Malformed(String),
    #[error("protobuf decode failed: {0}")]
    Proto(String),
    #[error("{0}")]
    Usage(String),
}

/// An error with the place it happened. Boxed so `Result<T>` stays small.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(Box<Inner>);

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    kind: ErrorKind,
    location: Location,
    hint: Option<String>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, location: Location) -> Self {
        Error(Box::new(Inner { kind, location, hint: None }))
    }
    pub fn at(kind: ErrorKind, offset: u64) -> Self {
        Error::new(kind, Location::at(offset))
    }
    pub fn malformed(msg: impl Into<String>, location: Location) -> Self {
        Error::new(ErrorKind::Malformed(msg.into()), location)
    }
    pub fn usage(msg: impl Into<String>) -> Self {
        Error::new(ErrorKind::Usage(msg.into()), Location::default())
    }
    pub fn io(action: &'static str, path: &Path, err: &std::io::Error) -> Self {
        Error::new(ErrorKind::Io { action, message: err.to_string() }, Location::file(path))
    }
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }
    pub fn location(&self) -> &Location {
        &self.0.location
    }
    pub fn hint(&self) -> Option<&str> {
        self.0.hint.as_deref()
    }
    /// Add the path of the file the error happened in (if not already known).
    pub fn in_file(mut self, path: &Path) -> Self {
        let loc = std::mem::take(&mut self.0.location);
        self.0.location = loc.with_file(path);
        self
    }
    /// Attach the page id (if not already known).
    pub fn on_page(mut self, page: u64) -> Self {
        if self.0.location.page.is_none() {
            self.0.location.page = Some(page);
        }
        self
    }
    /// What the user should do next.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.0.location.is_empty() {
            write!(f, "{}: ", self.0.location)?;
        }
        write!(f, "{}", self.0.kind)?;
        if let Some(h) = &self.0.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Error({self})")
    }
}

impl std::error::Error for Error {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_file_page_and_offset() {
        let e = Error::new(ErrorKind::PageOutOfRange { page: 9000, high_water: 8800 }, Location::page(4211, 0x1073000))
            .in_file(Path::new("member/snap/db"));
        assert_eq!(
            e.to_string(),
            "member/snap/db: page 4211 (offset 0x1073000): page 9000 is past the high-water mark 8800"
        );
    }

    #[test]
    fn in_file_keeps_first_path() {
        let e =
            Error::at(ErrorKind::Truncated { need: 8, have: 3 }, 16).in_file(Path::new("a")).in_file(Path::new("b"));
        assert_eq!(e.location().file.as_deref(), Some(Path::new("a")));
        assert_eq!(e.to_string(), "a: offset 0x10: truncated: need 8 bytes, have 3");
    }
}
