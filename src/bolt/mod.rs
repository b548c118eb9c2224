//! bolt (under construction)
