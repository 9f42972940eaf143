//! nasbox: neural architecture search with sandboxed search strategies.
//!
//! The crate is organised by the parts of a NAS system and what surrounds
//! them, one module each:
//!
//! - [`space`]: what can be searched: each space's decisions as a strategy
//!   sees them (categorical, or ordered numbers, possibly conditional) and
//!   its notation for architectures.
//! - [`strategy`]: who decides what to try next: WebAssembly components
//!   loaded into a sandbox and spoken to through the WIT contract in `wit/`.
//! - [`estimate`]: how a proposed architecture gets its score: training,
//!   early stopping, zero-cost proxies, shared weights (one-shot), a
//!   benchmark table or the user's own command.
//! - [`train`]: turning an architecture into a trained network and its
//!   validation accuracy, with libtorch; the supernets of one-shot search.
//! - [`data`]: the datasets architectures are trained and evaluated on.
//! - [`run`]: the search loop, its budget, the journal that loses nothing,
//!   and where trials run (local worker processes, Slurm jobs).
//! - [`report`]: turning results into conclusions: statistics for comparing
//!   strategies, anytime curves, Pareto fronts and hypervolume, plots and
//!   HTML reports.
//! - [`export`]: a trained network as a standalone PyTorch module that
//!   loads nasbox's weights.
//! - [`author`]: writing a strategy: `nasbox strategy new` and
//!   `nasbox strategy build`.
//! - [`serve`]: `nasbox serve`, the read-only web dashboard over run and
//!   bench folders.
//! - [`units`]: quantities as people write them in flags and `run.toml`:
//!   durations, sizes, large counts and paths with `~`.
//! - [`user_cache`]: the folder under `~/.cache/nasbox` that compiled and unpacked
//!   strategies and toolchains go to.
//!
//! The `nasbox` binary (`host/src/main.rs`, `host/src/cli/`) is thin glue
//! over these modules. The user guide, the strategy author's guide and the
//! reference are the book in `docs/` (an mdBook; its table of contents is
//! `docs/src/SUMMARY.md`).

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
pub mod user_cache;

#[cfg(test)]
mod fuzz;
