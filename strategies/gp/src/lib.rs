//! GP: Bayesian optimisation with a Gaussian process (Snoek, Larochelle,
//! Adams, "Practical Bayesian Optimization of Machine Learning Algorithms",
//! NeurIPS 2012), the method Optuna's `GPSampler` and BoTorch use.
//!
//! Why: on a few ordered decisions (learning rate, width, depth, dropout)
//! a GP with a Matérn 5/2 kernel and one length scale per decision is the
//! most sample-efficient model there is: it learns which decisions matter
//! and how smoothly the objective varies along each from a few dozen
//! results, and expected improvement trades the predicted mean against the
//! uncertainty. TPE models each decision on its own; a GP models their
//! interaction. A categorical overlap term per decision makes it work on
//! cell spaces (NAS-Bench-201's six edges × five operations) too.
//!
//! How (see the modules for the details):
//!
//! - Startup: the first `startup` proposals are a Latin design: ordered
//!   decisions stratified over positions (each tenth of the range once in
//!   ten points), categorical ones with every choice equally often (as
//!   `nasbox_kit::design::latin`). Ten by default, as Optuna does.
//! - Model ([`model`]): Matérn 5/2 with automatic relevance determination
//!   on positions of ordered decisions, an overlap (Hamming) term per
//!   categorical decision, inactive decisions as an extra value; observations
//!   standardised; a noise variance; a constant prior mean estimated by
//!   generalised least squares (ordinary kriging, as in Jones et al.'s EGO)
//!   rather than the plain average, which the results clustered around good
//!   regions pull up (the average overrates unexplored corners: on Hartmann6
//!   it lifted the best at 50 trials from 3.10 ± 0.29 to 3.17 ± 0.09 over
//!   40 seeds). Hyperparameters maximise the marginal likelihood times
//!   Optuna's priors, by L-BFGS on their logarithms, started from the last
//!   fit (and every `refit` results also from the default), on at most 100
//!   results, with a bounded number of evaluations.
//! - Acquisition ([`acquisition`]): log expected improvement, maximised over
//!   `candidates` uniform samples (`Shape::sample`) plus coordinate-wise local
//!   search from the two best results and the three best samples (every
//!   other value of an ordered decision with up to 32, neighbours and jumps
//!   of 0.01 to 0.3 in position on finer grids and continuous ranges, every
//!   other choice of a categorical one). The best canonical genotype not
//!   proposed before is the proposal.
//! - Parallel workers: each pending proposal is added to the GP as an
//!   observation of its own predicted mean ("kriging believer",
//!   Ginsbourger et al. 2010), which counts towards the incumbent too, so a
//!   batch spreads out instead of piling up.
//! - Failed trials are never re-proposed and otherwise ignored.
//!
//! Cost: the GP uses at most `history` results (the best half and the most
//! recent), and the fit and the acquisition each stop at a fixed amount of
//! estimated fuel (4·10⁸ each), so an `ask` stays within the sandbox's
//! default fuel (2·10⁹) whatever the number of results: measured, at most
//! 8.3·10⁸ at 200 results (with scalar dot products; the SIMD ones of
//! [`linalg::dot`] use fewer instructions). In the sandbox a 100-trial search
//! spends 2–3 ms per trial in `gp` on two to four decisions, about a tenth
//! of Optuna's GPSampler (`bench/gp_time.py`, docs/src/results.md).
//!
//! On the 6-dimensional Hartmann function over 11-point grids (the
//! `hartmann` example of commit 86f56958e4, since replaced by `function-bench`), the grid's maximum 3.2216 was reached within 100
//! trials in 28 of 40 seeds; the others stopped in the second basin (3.1076).

pub mod acquisition;
pub mod lbfgs;
pub mod linalg;
pub mod model;

use std::collections::{BTreeMap, BTreeSet};

use nasbox_sdk::{
    genotype, random, state, Best, Config, ConfigKey, Genotype, Observation, Proposal, RunContext, Shape, Space, Strategy, StrategyError, StrategyInfo,
};
use serde::{Deserialize, Serialize};

use acquisition::Search;
use model::{Encoder, Hyper, Posterior, Training};

/// What an `ask` may spend, in fuel (about one unit per WebAssembly
/// instruction; the sandbox's default is 2·10⁹ per call), estimated from
/// the operation counts in [`model::fit_fuel`] and [`model::predict_fuel`]:
/// the hyperparameter fit, and the acquisition (shared by the proposals of
/// one `ask`). Measured in the sandbox (wasmtime's fuel counter, ten
/// decisions: six 11-point grids and four of five categories) the most
/// an `ask` used was 1.8·10⁸ at 50 results, 5.8·10⁸ at 100, 8.3·10⁸ at 200
/// (ask(1) and ask(8) alike; the same on 30- and 32-decision categorical
/// spaces), and 1.2·10⁹ with `history` = 500 at 500 results.
const FIT_FUEL: f64 = 4.0e8;
const ACQUISITION_FUEL: f64 = 4.0e8;
/// Fewest and most evaluations of the fit's objective per `ask`.
const FIT_EVALS: (usize, usize) = (10, 100);
/// The fit uses at most this many results (the best half and the most
/// recent of those the GP uses): its cost grows with their cube, and the
/// hyperparameters change little beyond.
const FIT_POINTS: usize = 100;
/// Local-search starts taken from the best uniform candidates (besides the
/// two best results).
const FROM_SAMPLES: usize = 3;

/// The strategy.
pub struct Gp {
    shape: Shape,
    encoder: Encoder,
    settings: Settings,
    state: State,
}

struct Settings {
    startup: usize,
    candidates: usize,
    xi: f64,
    refit: usize,
    history: usize,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct State {
    /// Successful results: genotype and objective, in arrival order.
    results: Vec<(Genotype, f64)>,
    /// Every genotype proposed, canonical.
    proposed: BTreeSet<Genotype>,
    pending: BTreeMap<u64, Genotype>,
    next_trial: u64,
    best: Best,
    /// The startup design not yet proposed (made on the first `ask`).
    design: Vec<Genotype>,
    designed: bool,
    /// The last fit's θ (log γ.., log σ², log noise), where the next starts.
    theta: Option<Vec<f64>>,
    /// Number of results at the last fit that also started from the default.
    cold_at: usize,
}

impl Strategy for Gp {
    fn info() -> StrategyInfo {
        let key = |name: &str, default: &str, description: &str| ConfigKey { name: name.into(), default: default.into(), description: description.into() };
        StrategyInfo {
            name: "gp".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Gaussian-process Bayesian optimisation: Matérn 5/2 with one length scale per ordered decision and an overlap \
                          kernel on categorical ones, hyperparameters by marginal likelihood, log expected improvement maximised by \
                          random candidates and local search (Snoek et al. 2012)."
                .into(),
            config: vec![
                key("startup", "10", "proposals from a Latin design before the GP is used (at least 1)"),
                key("candidates", "512", "uniform candidates scored per proposal before local search (at least 1)"),
                key("xi", "0", "expected improvement's margin over the incumbent, in standard deviations of the results (≥ 0)"),
                key("refit", "5", "results between fits that restart the hyperparameters from the default as well as from the last fit (at least 1)"),
                key("history", "200", "most results the GP uses: the best half and the most recent (10 to 500; its cost grows with their square to cube, and past ~300 the acquisition's share of the fuel buys few evaluations)"),
            ],
            supports_snapshot: true,
        }
    }

    fn init(space: Space, config: Config, _context: RunContext) -> Result<Self, StrategyError> {
        let invalid = |m: String| Err(StrategyError::InvalidConfig(m));
        let startup: usize = config.get("startup")?;
        let candidates: usize = config.get("candidates")?;
        let xi: f64 = config.get("xi")?;
        let refit: usize = config.get("refit")?;
        let history: usize = config.get("history")?;
        if startup < 1 {
            return invalid("startup: must be at least 1".into());
        }
        if candidates < 1 {
            return invalid("candidates: must be at least 1".into());
        }
        if !(xi >= 0.0 && xi.is_finite()) {
            return invalid(format!("xi: {xi} is not a finite number ≥ 0"));
        }
        if refit < 1 {
            return invalid("refit: must be at least 1".into());
        }
        if !(10..=500).contains(&history) {
            return invalid(format!("history: {history} is not between 10 and 500"));
        }
        let shape = Shape::of(&space);
        let encoder = Encoder::new(&shape);
        Ok(Gp { shape, encoder, settings: Settings { startup, candidates, xi, refit, history }, state: State::default() })
    }

    fn ask(&mut self, n: u32) -> Result<Vec<Proposal>, StrategyError> {
        if !self.state.designed {
            self.state.design = design(&self.shape, self.settings.startup);
            self.state.design.reverse(); // popped from the back
            self.state.designed = true;
        }
        let mut out = Vec::new();
        let mut model: Option<Model> = None;
        let mut modelled = false;
        for _ in 0..n {
            let g = if let Some(g) = self.next_design() {
                Some(g)
            } else if !self.state.results.is_empty() {
                if !modelled {
                    model = self.model();
                    modelled = true;
                }
                match &mut model {
                    Some(m) => self.acquire(m, ACQUISITION_FUEL / n as f64),
                    None => self.sample_unproposed(),
                }
            } else {
                self.sample_unproposed()
            };
            let Some(g) = g else { break };
            if let Some(m) = &mut model {
                let x = self.encoder.encode(&self.shape, &g);
                m.fantasize(&x);
            }
            self.state.proposed.insert(g.clone());
            self.state.pending.insert(self.state.next_trial, g.clone());
            self.state.next_trial += 1;
            out.push(genotype::propose(g));
        }
        Ok(out)
    }

    fn tell(&mut self, observations: Vec<Observation>) -> Result<(), StrategyError> {
        for o in &observations {
            self.state.pending.remove(&o.trial);
            self.state.best.offer(o);
            if let Some((g, v)) = genotype::success(o) {
                // A genotype from elsewhere that does not fit the space
                // (which a host never sends) is kept out of the model.
                if self.shape.fits(g) {
                    self.state.results.push((g.clone(), v));
                }
            }
        }
        Ok(())
    }

    fn recommend(&self) -> Result<Option<Genotype>, StrategyError> {
        Ok(self.state.best.genotype())
    }

    fn snapshot(&self) -> Result<Vec<u8>, StrategyError> {
        state::save(&self.state)
    }

    fn restore(&mut self, state: Vec<u8>) -> Result<(), StrategyError> {
        let s: State = state::load(&state)?;
        let fits = |g: &Genotype| self.shape.fits(g);
        if !s.results.iter().all(|(g, _)| fits(g)) || !s.design.iter().all(fits) || !s.pending.values().all(fits) {
            return Err(StrategyError::InvalidState("a genotype does not fit this space".into()));
        }
        if s.theta.as_ref().is_some_and(|t| t.len() != self.encoder.dims() + 2) {
            return Err(StrategyError::InvalidState("hyperparameters for another space".into()));
        }
        self.state = s;
        Ok(())
    }
}

/// The GP of one `ask`, with what EI needs.
struct Model {
    posterior: Posterior,
    /// The best standardised result.
    best: f64,
    /// The two best results' genotypes: local search starts there.
    elite: Vec<Genotype>,
}

impl Model {
    /// Adds a pending proposal at `x` as an observation of its predicted
    /// mean (the kriging believer), and counts that mean towards the
    /// incumbent, as the believer's data set does (Ginsbourger et al. 2010):
    /// otherwise, when a pending proposal is predicted above the best
    /// result, expected improvement stays high right next to it (its
    /// variance is gone but its mean still beats the incumbent), and the
    /// next proposals crowd around it instead of spreading out.
    fn fantasize(&mut self, x: &[f64]) {
        let mean = self.posterior.add_fantasy(x);
        self.best = self.best.max(mean);
    }
}

impl Gp {
    /// The next startup design point not proposed before.
    fn next_design(&mut self) -> Option<Genotype> {
        while let Some(g) = self.state.design.pop() {
            if !self.state.proposed.contains(&g) {
                return Some(g);
            }
        }
        None
    }

    /// A uniform sample not proposed before (64 tries), else the first
    /// unproposed genotype of a small space; `None` when it is exhausted.
    fn sample_unproposed(&self) -> Option<Genotype> {
        (0..64).map(|_| self.shape.sample()).find(|g| !self.state.proposed.contains(g)).or_else(|| self.enumerate_unproposed())
    }

    /// The first canonical genotype not proposed before, in a space of at
    /// most a million genotypes; `None` when every one was proposed or the
    /// space is larger (then proposals repeat rather than stop a search
    /// that may have room left).
    fn enumerate_unproposed(&self) -> Option<Genotype> {
        let arities = self.shape.arities();
        let size = arities.iter().try_fold(1u64, |acc, &a| acc.checked_mul(a as u64)).unwrap_or(u64::MAX);
        if size > 1_000_000 {
            return Some(self.shape.sample());
        }
        let mut g = vec![0u32; arities.len()];
        for _ in 0..size {
            let c = self.shape.canonical(&g);
            if !self.state.proposed.contains(&c) {
                return Some(c);
            }
            for d in (0..g.len()).rev() {
                g[d] += 1;
                if g[d] < arities[d] {
                    break;
                }
                g[d] = 0;
            }
        }
        None
    }

    /// Results the GP uses: all, or past `history` the best half and the
    /// most recent others, in arrival order.
    fn used_results(&self) -> Vec<usize> {
        let values: Vec<f64> = self.state.results.iter().map(|r| r.1).collect();
        select(&values, self.settings.history)
    }

    /// Fits the hyperparameters and builds the posterior over the results
    /// and the pending proposals; `None` when the factorisation fails even
    /// at the default hyperparameters.
    fn model(&mut self) -> Option<Model> {
        let used = self.used_results();
        let dims = self.encoder.dims();
        let mut points = Vec::with_capacity(used.len() * dims);
        let mut ys = Vec::with_capacity(used.len());
        for &i in &used {
            let (g, v) = &self.state.results[i];
            points.extend(self.encoder.encode(&self.shape, g));
            ys.push(*v);
        }
        let n = ys.len() as f64;
        let mean = ys.iter().sum::<f64>() / n;
        let sd = (ys.iter().map(|y| (y - mean) * (y - mean)).sum::<f64>() / n).sqrt();
        // Equal results (up to rounding) carry no scale: leave them unscaled.
        let largest = ys.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let sd = if sd > 1e-12 * largest && sd.is_finite() { sd } else { 1.0 };
        let y: Vec<f64> = ys.iter().map(|v| (v - mean) / sd).collect();

        let fit = select(&y, FIT_POINTS);
        let fit_points: Vec<f64> = fit.iter().flat_map(|&i| points[i * dims..(i + 1) * dims].iter().copied()).collect();
        let training = Training::new(&fit_points, self.encoder.ordered(), fit.iter().map(|&i| y[i]).collect());
        let mut starts: Vec<Vec<f64>> = self.state.theta.iter().cloned().collect();
        let results = self.state.results.len();
        if starts.is_empty() || results >= self.state.cold_at + self.settings.refit {
            starts.push(Hyper::default_theta(dims));
            self.state.cold_at = results;
        }
        let evals = ((FIT_FUEL / model::fit_fuel(training.len(), dims)) as usize).clamp(FIT_EVALS.0, FIT_EVALS.1) / starts.len();
        let fitted = training.fit(&starts, evals);
        let theta = fitted.map(|(t, _)| t).unwrap_or_else(|| Hyper::default_theta(dims));
        self.state.theta = Some(theta.clone());
        let mut posterior = Posterior::new(self.encoder.ordered(), Hyper::from_theta(&theta), points.clone(), y.clone())
            .or_else(|| Posterior::new(self.encoder.ordered(), Hyper::from_theta(&Hyper::default_theta(dims)), points, y.clone()))?;
        // The constant prior mean: the generalised least-squares estimate
        // (ordinary kriging, as in Jones et al.'s EGO; the likelihood's
        // optimum at this θ), not the plain average: results cluster around
        // the good region, and the average then overrates unexplored corners.
        let offset = posterior.center();
        let best = y.iter().cloned().fold(f64::NEG_INFINITY, f64::max) - offset;
        let mut order: Vec<usize> = (0..used.len()).collect();
        order.sort_by(|&a, &b| y[b].total_cmp(&y[a]).then(a.cmp(&b)));
        let elite = order.iter().take(2).map(|&k| self.state.results[used[k]].0.clone()).collect();
        let mut model = Model { posterior, best, elite };
        for g in self.state.pending.values() {
            let x = self.encoder.encode(&self.shape, g);
            model.fantasize(&x);
        }
        Some(model)
    }

    /// The proposal maximising log EI under `model`, spending about `fuel`.
    fn acquire(&self, model: &Model, fuel: f64) -> Option<Genotype> {
        let evaluations = ((fuel / model::predict_fuel(model.posterior.len(), self.encoder.dims())) as usize).max(32);
        let candidates = self.settings.candidates.min(evaluations / 2);
        let budget = evaluations;
        let search = Search {
            shape: &self.shape,
            encoder: &self.encoder,
            posterior: &model.posterior,
            best: model.best,
            xi: self.settings.xi,
            proposed: &self.state.proposed,
            budget,
        };
        let found = search.run(candidates, &model.elite, FROM_SAMPLES);
        found.genotype.or_else(|| self.sample_unproposed())
    }
}

/// Indices of `values` to keep under a cap: all when they fit, else the
/// best ⌊cap/2⌋ (ties to the earlier) and the most recent others, in order.
fn select(values: &[f64], cap: usize) -> Vec<usize> {
    if values.len() <= cap {
        return (0..values.len()).collect();
    }
    let mut by_value: Vec<usize> = (0..values.len()).collect();
    by_value.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut keep = vec![false; values.len()];
    for &i in &by_value[..cap / 2] {
        keep[i] = true;
    }
    let mut left = cap - cap / 2;
    for i in (0..values.len()).rev() {
        if left == 0 {
            break;
        }
        if !keep[i] {
            keep[i] = true;
            left -= 1;
        }
    }
    (0..values.len()).filter(|&i| keep[i]).collect()
}

/// The startup design: `n` genotypes, ordered decisions stratified over
/// positions (one draw in each of n equal slices of [0, 1], mapped to the
/// nearest choice), categorical ones from a Latin design over choices; in
/// canonical form.
fn design(shape: &Shape, n: usize) -> Vec<Genotype> {
    let mut rows = vec![vec![0u32; shape.len()]; n];
    for d in 0..shape.len() {
        let arity = shape.arities()[d];
        if arity < 2 {
            continue;
        }
        let mut strata: Vec<usize> = (0..n).collect();
        random::shuffle(&mut strata);
        if shape.is_ordered(d) {
            for (row, &s) in rows.iter_mut().zip(&strata) {
                row[d] = shape.nearest(d, (s as f64 + random::f64()) / n as f64);
            }
        } else {
            // Choices in a random order, repeated: each appears n/arity
            // times (±1), in random rows.
            let mut order: Vec<u32> = (0..arity).collect();
            random::shuffle(&mut order);
            for (row, &s) in rows.iter_mut().zip(&strata) {
                row[d] = order[s % arity as usize];
            }
        }
    }
    rows.iter().map(|g| shape.canonical(g)).collect()
}

nasbox_sdk::export_strategy!(Gp);

#[cfg(test)]
mod tests;
