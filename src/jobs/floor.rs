//! The speed floor: reading a file once, the way every whole-file job must,
//! with nothing but a hardware CRC-32C over its bytes. `benches/compare.sh`
//! times each job against it (`etcd-forensics floor FILE`, a hidden
//! command), so "within 1.5x of the floor" is measured on the same machine,
//! the same file and the same mapping code as the jobs themselves.

use std::path::Path;

use crate::error::Result;
use crate::source::Source;

/// What [`run`] read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Floor {
    /// CRC-32C (Castagnoli, seed 0) of the whole file.
    pub crc32c: u32,
    pub bytes: u64,
}

/// Map `path` read-only as every job does and CRC it front to back on one
/// thread (the fastest CRC the CPU offers: folding with carry-less
/// multiplies).
pub fn run(path: &Path) -> Result<Floor> {
    let src = Source::open(path)?;
    Ok(Floor { crc32c: crate::crc::append(0, src.bytes()), bytes: src.len() })
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc_of_a_known_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        // CRC-32C check value of "123456789" (RFC 3720 B.4).
        std::fs::write(&p, b"123456789").unwrap();
        let f = super::run(&p).unwrap();
        assert_eq!((f.crc32c, f.bytes), (0xE306_9283, 9));
        std::fs::write(&p, b"").unwrap();
        assert_eq!(super::run(&p).unwrap().crc32c, 0);
    }
}
