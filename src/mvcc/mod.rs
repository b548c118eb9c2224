//! mvcc (under construction)
