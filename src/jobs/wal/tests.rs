//! Tests of the wal job.
