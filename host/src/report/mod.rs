//! Turning results into conclusions: statistics for comparing strategies,
//! anytime curves, plots and reports.

pub mod cell;
pub mod compare;
pub mod html;
pub mod pareto;
pub mod plot;
pub mod stats;
