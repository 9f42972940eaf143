//! The tree-structured Parzen estimator (Bergstra, Bardenet, Bengio, Kégl,
//! NeurIPS 2011), as Optuna's `TPESampler` runs it.
//!
//! TPE models p(x | good) and p(x | bad) instead of p(y | x): results are
//! split into the best few (gamma) and the rest, each side gets a Parzen
//! density (see [`crate::parzen`]: truncated Gaussian kernels on the values
//! of ordered decisions, smoothed indicator kernels on categorical ones,
//! each decision fitted only where it is active), and the next architecture
//! is the candidate drawn from the good density l that maximises l(x) / g(x),
//! which is proportional to expected improvement.
//!
//! Multivariate by default, as Optuna 5 is for one objective (Falkner et
//! al. 2018): a candidate is drawn from one good observation's kernels in
//! every decision at once, and scored on the joint densities, so what the
//! model learns is which combinations scored well. Independent (Optuna 4's
//! default) draws and scores each decision on its own.
//!
//! Proposals still being evaluated can join the bad side (Optuna's
//! `constant_liar`): g then has mass where other workers already are, and
//! the ratio steers the next proposal elsewhere.

use nasbox_sdk::{Genotype, Shape, StrategyError};

pub use crate::parzen::default_weights;
use crate::parzen::Parzen;

/// How many results count as good.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// Optuna's default: min(⌈0.1 n⌉, 25) of n results. Few good results
    /// make l sharp, so the search exploits early; the cap keeps l from
    /// spreading over mediocre results on long runs.
    Optuna,
    /// A fixed fraction of the results, ⌈gamma n⌉.
    Fixed(f64),
}

/// Whether any decision of `shape` is ordered: what `auto` settings go by.
pub fn has_numbers(shape: &Shape) -> bool {
    (0..shape.len()).any(|d| shape.is_ordered(d))
}

impl Gamma {
    /// `auto` (see [`Gamma::auto`]), `optuna` or a fraction in (0, 1), for
    /// config key `key`.
    pub fn parse(key: &str, raw: &str, shape: &Shape) -> Result<Gamma, StrategyError> {
        match raw.trim() {
            "auto" => Ok(Gamma::auto(shape)),
            "optuna" => Ok(Gamma::Optuna),
            raw => match raw.parse::<f64>() {
                Ok(g) if g > 0.0 && g < 1.0 => Ok(Gamma::Fixed(g)),
                _ => Err(StrategyError::InvalidConfig(format!("{key}: `{raw}` is neither `auto`, `optuna` nor a fraction in (0, 1)"))),
            },
        }
    }

    /// Optuna's rule where decisions are numbers, a quarter of the results
    /// on an all-categorical space: there the sharper l of few good results
    /// stalls (a good cell's operations are copied rather than combined), and
    /// a quarter is what nasbox's TPE measured best with on NAS-Bench-201
    /// (`docs/src/guide/benchmarking.md`, where it beats Optuna's TPE).
    pub fn auto(shape: &Shape) -> Gamma {
        if has_numbers(shape) {
            Gamma::Optuna
        } else {
            Gamma::Fixed(0.25)
        }
    }

    /// Good results among `n` (at least one, and one fewer than `n` when
    /// there are two or more, so both sides have observations).
    pub fn good(&self, n: usize) -> usize {
        let k = match *self {
            Gamma::Optuna => ((0.1 * n as f64).ceil() as usize).min(25),
            Gamma::Fixed(g) => (g * n as f64).ceil() as usize,
        };
        k.clamp(1, n.saturating_sub(1).max(1))
    }
}

/// `auto`, `true` or `false` for config key `key`: whether the model is
/// multivariate. `auto` is multivariate exactly where some decision is a
/// number: joint kernels find which combinations of values score well
/// (Optuna 5's default), while on an all-categorical space an observation's
/// near-indicator kernels in every decision at once copy good cells instead
/// of recombining their operations.
pub fn parse_multivariate(key: &str, raw: &str, shape: &Shape) -> Result<bool, StrategyError> {
    match raw.trim() {
        "auto" => Ok(has_numbers(shape)),
        "true" => Ok(true),
        "false" => Ok(false),
        raw => Err(StrategyError::InvalidConfig(format!("{key}: `{raw}` is neither `auto`, `true` nor `false`"))),
    }
}

/// The model's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Tpe {
    pub gamma: Gamma,
    /// Weight of the prior kernel, in observations.
    pub prior_weight: f64,
    /// Candidates drawn from l(x) per suggestion.
    pub candidates: usize,
    /// Joint kernels (true) or one density per decision (false).
    pub multivariate: bool,
}

impl Default for Tpe {
    fn default() -> Self {
        Tpe { gamma: Gamma::Optuna, prior_weight: 1.0, candidates: 24, multivariate: true }
    }
}

/// log l(c) − log g(c) of each decision's marginals, per decision and
/// choice, computed on first use.
struct Ratio<'a> {
    l: &'a Parzen,
    g: &'a Parzen,
    cache: Vec<Vec<Option<f64>>>,
}

impl<'a> Ratio<'a> {
    fn new(shape: &Shape, l: &'a Parzen, g: &'a Parzen) -> Ratio<'a> {
        Ratio { l, g, cache: shape.arities().iter().map(|&a| vec![None; a as usize]).collect() }
    }

    fn get(&mut self, d: usize, c: u32) -> f64 {
        let (l, g) = (&self.l.decisions[d], &self.g.decisions[d]);
        *self.cache[d][c as usize].get_or_insert_with(|| l.probability(c).max(f64::MIN_POSITIVE).ln() - g.probability(c).max(f64::MIN_POSITIVE).ln())
    }
}

impl Tpe {
    /// Checks the settings, naming the offending key.
    pub fn validate(&self) -> Result<(), StrategyError> {
        if let Gamma::Fixed(g) = self.gamma {
            if !(g > 0.0 && g < 1.0) {
                return Err(StrategyError::InvalidConfig(format!("gamma: {g} is not in (0, 1)")));
            }
        }
        if !(self.prior_weight > 0.0 && self.prior_weight.is_finite()) {
            return Err(StrategyError::InvalidConfig(format!("prior_weight: {} must be positive", self.prior_weight)));
        }
        if self.candidates < 1 {
            return Err(StrategyError::InvalidConfig("candidates: must be at least 1".into()));
        }
        Ok(())
    }

    /// The good and the bad results' indices, each in trial order. Ties in
    /// value go to the earlier result.
    fn split(&self, results: &[(Genotype, f64)]) -> (Vec<usize>, Vec<usize>) {
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|&a, &b| results[b].1.total_cmp(&results[a].1).then(a.cmp(&b)));
        let mut bad = order.split_off(self.gamma.good(results.len()).min(order.len()));
        order.sort_unstable();
        bad.sort_unstable();
        (order, bad)
    }

    /// The densities of the good results (l) and of the bad ones with the
    /// `pending` genotypes, newest, after them (g).
    pub fn fit(&self, shape: &Shape, results: &[(Genotype, f64)], pending: &[Genotype]) -> (Parzen, Parzen) {
        let (good, bad) = self.split(results);
        let good: Vec<&Genotype> = good.iter().map(|&i| &results[i].0).collect();
        let bad: Vec<&Genotype> = bad.iter().map(|&i| &results[i].0).chain(pending).collect();
        (Parzen::fit(shape, &good, self.prior_weight, true), Parzen::fit(shape, &bad, self.prior_weight, true))
    }

    /// The next architecture, in canonical form, given `results` (genotype,
    /// objective; higher is better) and the genotypes still `pending` (the
    /// constant liar: pass none to ignore them), avoiding genotypes for
    /// which `taken` is true when it can. Needs at least two results;
    /// callers sample uniformly before that.
    pub fn suggest(&self, shape: &Shape, results: &[(Genotype, f64)], pending: &[Genotype], taken: impl Fn(&Genotype) -> bool) -> Genotype {
        let (l, g) = self.fit(shape, results, pending);
        let mut ranked = if self.multivariate { self.joint(shape, &l, &g) } else { self.independent(shape, &l, &g) };
        if let Some(x) = ranked.iter().find(|x| !taken(x)) {
            return x.clone();
        }
        // Every candidate was taken: the model has converged; explore.
        (0..64).map(|_| shape.sample()).find(|x| !taken(x)).unwrap_or_else(|| ranked.swap_remove(0))
    }

    /// Candidates drawn from l's joint mixture, best first by the joint
    /// log l − log g over the decisions active in each.
    fn joint(&self, shape: &Shape, l: &Parzen, g: &Parzen) -> Vec<Genotype> {
        let mut scored: Vec<(f64, Genotype)> = (0..self.candidates)
            .map(|_| shape.canonical(&l.sample_joint()))
            .map(|x| {
                let active = shape.active(&x);
                (l.log_joint(&x, &active) - g.log_joint(&x, &active), x)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        scored.into_iter().map(|(_, x)| x).collect()
    }

    /// Optuna's independent TPE: per decision, the best of `candidates`
    /// draws from its marginal l by its own l/g. Should that genotype be
    /// taken, the draws taken together as genotypes follow, best first by
    /// the sum of the ratios over their active decisions.
    fn independent(&self, shape: &Shape, l: &Parzen, g: &Parzen) -> Vec<Genotype> {
        let mut ratio = Ratio::new(shape, l, g);
        let draws: Vec<Genotype> = (0..self.candidates).map(|_| l.sample_each()).collect();
        let best: Genotype = (0..shape.len())
            .map(|d| {
                let mut best = (f64::NEG_INFINITY, draws[0][d]);
                for x in &draws {
                    let r = ratio.get(d, x[d]);
                    if r > best.0 {
                        best = (r, x[d]);
                    }
                }
                best.1
            })
            .collect();
        let mut scored: Vec<(f64, Genotype)> = draws
            .iter()
            .map(|x| shape.canonical(x))
            .map(|x| {
                let active = shape.active(&x);
                ((0..x.len()).filter(|&d| active[d]).map(|d| ratio.get(d, x[d])).sum(), x)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        std::iter::once(shape.canonical(&best)).chain(scored.into_iter().map(|(_, x)| x)).collect()
    }
}

/// A uniform draw that avoids `taken` when 64 tries allow it.
pub fn sample_avoiding(shape: &Shape, taken: impl Fn(&Genotype) -> bool) -> Genotype {
    let first = shape.sample();
    if !taken(&first) {
        return first;
    }
    (0..63).map(|_| shape.sample()).find(|x| !taken(x)).unwrap_or(first)
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use nasbox_sdk::shape::{DecisionShape, Kind};

    use nasbox_sdk::native::numbered_space as space;

    use nasbox_sdk::native::unit_grid as grid;

    #[test]
    fn gamma_follows_optuna_or_the_fraction_given() {
        assert_eq!([1, 10, 11, 100, 240, 260, 1000].map(|n| Gamma::Optuna.good(n)), [1, 1, 2, 10, 24, 25, 25]);
        assert_eq!(Gamma::Fixed(0.25).good(40), 10);
        assert_eq!(Gamma::Fixed(0.9).good(3), 2);
        let categories = Shape::categorical(&space(&[3, 3]));
        let numbers = Shape::new(&space(&[3, 3]), vec![grid(3), DecisionShape { kind: Kind::Categorical, conditions: vec![] }]).unwrap();
        assert_eq!(Gamma::parse("gamma", " auto ", &numbers).unwrap(), Gamma::Optuna);
        assert_eq!(Gamma::parse("gamma", "auto", &categories).unwrap(), Gamma::Fixed(0.25));
        assert_eq!(Gamma::parse("gamma", "optuna", &categories).unwrap(), Gamma::Optuna);
        assert_eq!(Gamma::parse("gamma", "0.2", &numbers).unwrap(), Gamma::Fixed(0.2));
        assert!(matches!(Gamma::parse("gamma", "1.5", &numbers), Err(StrategyError::InvalidConfig(m)) if m.starts_with("gamma")));
        assert!(parse_multivariate("m", "auto", &numbers).unwrap());
        assert!(!parse_multivariate("m", "auto", &categories).unwrap());
        assert!(matches!(parse_multivariate("multivariate", "yes", &numbers), Err(StrategyError::InvalidConfig(m)) if m.starts_with("multivariate")));
    }

    #[test]
    fn weights_ramp_the_oldest_beyond_25() {
        assert_eq!(default_weights(3), vec![1.0; 3]);
        assert_eq!(default_weights(25), vec![1.0; 25]);
        let w = default_weights(30);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-15 && w[4] == 1.0 && w[29] == 1.0);
        assert!(w.windows(2).all(|p| p[0] <= p[1]));
        assert_eq!(default_weights(26), [vec![1.0 / 26.0], vec![1.0; 25]].concat());
    }

    #[test]
    fn suggestions_concentrate_on_what_scored_well() {
        // Decision 0 choice 2 is what good results share.
        let results: Vec<(Genotype, f64)> = (0..40u32)
            .map(|i| {
                let g = vec![i % 3, i % 4, (i / 3) % 2];
                let y = if g[0] == 2 { 1.0 } else { 0.0 } + (i as f64) * 1e-3;
                (g, y)
            })
            .collect();
        let shape = Shape::categorical(&space(&[3, 4, 2]));
        nasbox_sdk::native::seed_for_tests(9);
        for multivariate in [true, false] {
            for gamma in [Gamma::Optuna, Gamma::Fixed(0.25)] {
                let tpe = Tpe { multivariate, gamma, ..Tpe::default() };
                let hits = (0..50).filter(|_| tpe.suggest(&shape, &results, &[], |_| false)[0] == 2).count();
                assert!(hits > 40, "multivariate {multivariate}, {gamma:?}: {hits}");
            }
        }
    }

    #[test]
    fn ordered_suggestions_land_near_the_good_values() {
        // The objective peaks at choice 7 of 11; every result is told.
        let shape = Shape::new(&space(&[11]), vec![grid(11)]).unwrap();
        let results: Vec<(Genotype, f64)> = (0..30u32).map(|i| (vec![(i * 7) % 11], -(((i * 7) % 11) as f64 - 7.0).powi(2))).collect();
        nasbox_sdk::native::seed_for_tests(4);
        let near = (0..100).filter(|_| Tpe::default().suggest(&shape, &results, &[], |_| false)[0].abs_diff(7) <= 1).count();
        assert!(near > 80, "{near}");
    }

    #[test]
    fn the_constant_liar_pushes_proposals_away_from_pending_ones() {
        // Every other point of a 21-point grid told, the objective peaking
        // at 10: the good side is 10 and 8, and alone TPE proposes 8 or 9
        // (where g is lowest) nearly always. Three workers are already
        // evaluating 9, 10 and 11: as bad results they make g heavy there,
        // and the proposals move off to 7 and below.
        let shape = Shape::new(&space(&[21]), vec![grid(21)]).unwrap();
        let results: Vec<(Genotype, f64)> = (0..11u32).map(|i| (vec![2 * i], -((2 * i).abs_diff(10) as f64))).collect();
        let pending: Vec<Genotype> = vec![vec![9], vec![10], vec![11]];
        let at_peak = |pending: &[Genotype]| {
            nasbox_sdk::native::seed_for_tests(6);
            (0..200).filter(|_| Tpe::default().suggest(&shape, &results, pending, |_| false)[0].abs_diff(10) <= 2).count()
        };
        let (alone, lied) = (at_peak(&[]), at_peak(&pending));
        assert!(alone > 150 && lied < 50, "near the peak: {alone} of 200 alone, {lied} with the lie");
    }

    #[test]
    fn taken_genotypes_are_avoided_when_possible() {
        let results = vec![(vec![0u32, 0], 1.0), (vec![1, 1], 0.0), (vec![1, 0], 0.5)];
        let shape = Shape::categorical(&space(&[2, 2]));
        nasbox_sdk::native::seed_for_tests(1);
        for multivariate in [true, false] {
            for _ in 0..20 {
                let x = Tpe { multivariate, ..Tpe::default() }.suggest(&shape, &results, &[], |g| g[0] == 0);
                assert_eq!(x[0], 1);
            }
        }
    }

    #[test]
    fn bad_settings_name_the_key() {
        let bad = Tpe { gamma: Gamma::Fixed(1.5), ..Tpe::default() };
        assert!(matches!(bad.validate(), Err(StrategyError::InvalidConfig(m)) if m.starts_with("gamma")));
        let bad = Tpe { prior_weight: 0.0, ..Tpe::default() };
        assert!(matches!(bad.validate(), Err(StrategyError::InvalidConfig(m)) if m.starts_with("prior_weight")));
    }
}
