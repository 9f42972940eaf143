//! Turning results into conclusions: statistics for comparing strategies,
//! anytime curves, plots and reports.

pub mod cell;
pub mod compare;
pub mod html;
pub mod pareto;
pub mod plot;
pub use nasbox_stats as stats;
