//! Building blocks shared by the built-in strategies, usable by any strategy
//! written with the SDK:
//!
//! - [`tpe`]: the tree-structured Parzen estimator's density-ratio model
//!   (Bergstra et al. 2011, as Optuna runs it), used by `tpe` and `bohb`, on
//!   [`parzen`]'s per-decision densities (truncated Gaussian kernels on
//!   ordered values, counts on categories, fitted where a decision is
//!   active);
//! - [`hyperband`]: successive-halving brackets over the fidelity field
//!   (Li et al. 2017), used by `hyperband` and `bohb`;
//! - [`relax`]: architecture weights for differentiable search (softmax and
//!   its gradient, Gumbel draws, Adam, DARTS' derivation), used by `darts`
//!   and `gdas`;
//! - [`design`]: initial designs (a Latin design over the decisions' choices),
//!   the samples `npenas` (and `bananas` with `design`=latin) start from;
//! - [`mlp`]: a small regression network with hand-written backpropagation
//!   and Adam, [`encode`]: architecture encodings for predictors (one-hot,
//!   BANANAS' path encoding), and [`guided`]: predictor-guided search (an
//!   ensemble of networks, mutation candidates, an acquisition), used by
//!   `bananas` and `npenas`.

pub mod design;
pub mod encode;
pub mod guided;
pub mod hyperband;
pub mod mlp;
pub mod parzen;
pub mod relax;
pub mod tpe;
