//! Supernets: one network holding every architecture of a space, so that
//! architectures share weights (one-shot NAS). Each decision of the space
//! has one module per option; a forward pass takes a [`Route`] through it:
//! one option per decision (a path: ENAS, random search with weight
//! sharing), a mix of all options weighted per decision (the continuous
//! relaxation of DARTS), or a sample (GDAS: one weighted option per sampled
//! decision, so that a step costs about what a path's does).
//!
//! Batch norm always normalises with the batch's own statistics, as the
//! one-shot baselines of NAS-Bench-201 do: running statistics gathered
//! over many different paths would fit none of them.

pub mod chain;
pub mod darts;
pub mod nb201;

use tch::Tensor;

use super::Skeleton;
use crate::space::SearchSpace;

/// How a forward pass goes through the supernet.
pub enum Route<'a> {
    /// One option per decision; only its module runs.
    Path(&'a [u32]),
    /// One weight tensor per decision, of that decision's number of
    /// options: each decision's modules all run and their outputs are summed
    /// with these weights, as given (the strategy applies its own softmax).
    Mix(&'a [Tensor]),
    /// A GDAS sample: weights as in `Mix`, and per decision the option it
    /// was sampled at, if it was. A sampled decision runs only that option,
    /// its output scaled by its weight, so the weights' gradient is the
    /// straight-through one: that of the chosen option's weight, zero at
    /// the others, which never run. A `None` decision mixes as in `Mix`.
    Sample(&'a [Tensor], &'a [Option<u32>]),
}

impl Route<'_> {
    /// Whether option `k` of decision `d` takes part at all: not when
    /// another option was chosen (a path, or a sampled decision).
    pub fn runs(&self, d: usize, k: usize) -> bool {
        match self {
            Route::Path(g) => g[d] as usize == k,
            Route::Mix(_) => true,
            Route::Sample(_, chosen) => chosen[d].is_none_or(|c| c as usize == k),
        }
    }

    /// The weight option `k` of decision `d` is scaled by; `None` on a path,
    /// which runs its options unscaled. Only for options that [`Route::runs`].
    pub fn weight(&self, d: usize, k: usize) -> Option<Tensor> {
        match self {
            Route::Path(_) => None,
            Route::Mix(w) | Route::Sample(w, _) => Some(w[d].get(k as i64)),
        }
    }
}

/// The option a row of weights was sampled at: its only non-zero value's
/// index, or `None` when it has more than one (a mixture), or none at all
/// (nothing to sample; it mixes, as before).
pub fn sampled(row: &[f64]) -> Option<u32> {
    let mut nonzero = row.iter().enumerate().filter(|(_, w)| **w != 0.0);
    match (nonzero.next(), nonzero.next()) {
        (Some((k, _)), None) => Some(k as u32),
        _ => None,
    }
}

/// A network holding every architecture of a space.
pub trait Supernet {
    /// Logits for a batch, along `route`.
    fn forward(&self, xs: &Tensor, route: &Route) -> Tensor;
}

/// The supernet of `space` under `p`.
pub fn build(p: &tch::nn::Path, space: &SearchSpace, skeleton: &Skeleton) -> anyhow::Result<Box<dyn Supernet>> {
    match space {
        SearchSpace::Nb201 => Ok(Box::new(nb201::Nb201Supernet::new(p, skeleton))),
        SearchSpace::Darts => {
            anyhow::ensure!(skeleton.cells >= 3, "a DARTS supernet needs at least 3 cells (it has reductions at 1/3 and 2/3), not {}", skeleton.cells);
            Ok(Box::new(darts::DartsSupernet::new(p, skeleton)))
        }
        SearchSpace::Chain(spec) => Ok(Box::new(chain::ChainSupernet::new(p, spec, skeleton)?)),
        SearchSpace::Decisions(_) => Err(space.no_network().into()),
        SearchSpace::WithHp(_) => anyhow::bail!(
            "{}: a supernet shares one set of weights and cannot train each path with its own recipe; search it with the train estimator",
            space.name()
        ),
    }
}
