//! snap (under construction)
