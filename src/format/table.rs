//! placeholder, replaced by the format helper
