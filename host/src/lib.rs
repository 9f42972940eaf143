//! nasbox: neural architecture search with sandboxed search strategies.
//!
//! The crate is organised by the parts of a NAS system:
//!
//! - [`data`]: the images architectures are trained and evaluated on.
//! - [`space`]: what can be searched — named categorical decisions.
//! - [`train`]: turning an architecture into a trained network and its
//!   validation accuracy, with libtorch.
//! - [`estimate`]: how a proposed architecture gets its score — training,
//!   early stopping, zero-cost proxies or a benchmark table.
//! - [`run`]: the search loop, its budget and the journal that loses nothing.
//! - [`strategy`]: who decides what to try next — WebAssembly components
//!   loaded into a sandbox and spoken to through the WIT contract in `wit/`.
//!
//! The `nasbox` binary is thin glue over these modules.

pub mod author;
pub mod data;
pub mod estimate;
pub mod export;
pub mod report;
pub mod run;
pub mod serve;
pub mod space;
pub mod strategy;
pub mod train;
pub mod units;

#[cfg(test)]
mod fuzz;
