//! jobs (under construction)
