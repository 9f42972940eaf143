//! Turning results into conclusions: statistics for comparing strategies.

pub mod stats;
