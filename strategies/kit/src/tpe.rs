//! The tree-structured Parzen estimator for categorical spaces.
//!
//! TPE models p(x | good) and p(x | bad) instead of p(y | x): results are
//! split at the `gamma` quantile, each side gets a per-decision categorical
//! density (counts plus a uniform prior), and the next architecture is the
//! candidate, sampled from the good density, that maximises
//! l(x) / g(x) — which is proportional to expected improvement
//! (Bergstra, Bardenet, Bengio, Kégl, NeurIPS 2011).

use nasbox_sdk::{random, Genotype, StrategyError};

/// The model's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Tpe {
    /// Fraction of results counted as good.
    pub gamma: f64,
    /// Weight of the uniform prior, in pseudo-observations.
    pub prior_weight: f64,
    /// Candidates sampled from l(x) per suggestion.
    pub candidates: usize,
}

impl Default for Tpe {
    fn default() -> Self {
        Tpe { gamma: 0.25, prior_weight: 1.0, candidates: 24 }
    }
}

/// Per-decision categorical densities fitted to a set of genotypes.
struct Density(Vec<Vec<f64>>);

impl Density {
    fn fit(arities: &[u32], members: &[&Genotype], prior_weight: f64) -> Density {
        let total = members.len() as f64 + prior_weight;
        Density(
            arities
                .iter()
                .enumerate()
                .map(|(d, &a)| {
                    let mut p = vec![prior_weight / a as f64; a as usize];
                    for g in members {
                        p[g[d] as usize] += 1.0;
                    }
                    p.iter_mut().for_each(|x| *x /= total);
                    p
                })
                .collect(),
        )
    }

    fn sample(&self) -> Genotype {
        self.0
            .iter()
            .map(|p| {
                let mut u = random::f64();
                for (c, &pc) in p.iter().enumerate() {
                    if u < pc {
                        return c as u32;
                    }
                    u -= pc;
                }
                (p.len() - 1) as u32
            })
            .collect()
    }

    fn log_density(&self, g: &[u32]) -> f64 {
        self.0.iter().zip(g).map(|(p, &c)| p[c as usize].ln()).sum()
    }
}

impl Tpe {
    /// Checks the settings, naming the offending key.
    pub fn validate(&self) -> Result<(), StrategyError> {
        if !(self.gamma > 0.0 && self.gamma < 1.0) {
            return Err(StrategyError::InvalidConfig(format!("gamma: {} is not in (0, 1)", self.gamma)));
        }
        if !(self.prior_weight > 0.0 && self.prior_weight.is_finite()) {
            return Err(StrategyError::InvalidConfig(format!("prior_weight: {} must be positive", self.prior_weight)));
        }
        if self.candidates < 1 {
            return Err(StrategyError::InvalidConfig("candidates: must be at least 1".into()));
        }
        Ok(())
    }

    /// The next architecture given `results` (genotype, objective; higher is
    /// better), avoiding genotypes for which `taken` is true when it can.
    /// Needs at least two results; callers sample uniformly before that.
    pub fn suggest(&self, arities: &[u32], results: &[(Genotype, f64)], taken: impl Fn(&Genotype) -> bool) -> Genotype {
        let mut order: Vec<usize> = (0..results.len()).collect();
        order.sort_by(|&a, &b| results[b].1.total_cmp(&results[a].1).then(a.cmp(&b)));
        let n_good = ((self.gamma * results.len() as f64).ceil() as usize).clamp(1, results.len().saturating_sub(1).max(1));
        let good: Vec<&Genotype> = order[..n_good].iter().map(|&i| &results[i].0).collect();
        let bad: Vec<&Genotype> = order[n_good..].iter().map(|&i| &results[i].0).collect();
        let l = Density::fit(arities, &good, self.prior_weight);
        let g = Density::fit(arities, &bad, self.prior_weight);

        let mut best: Option<(f64, Genotype)> = None;
        let mut best_taken: Option<(f64, Genotype)> = None;
        for _ in 0..self.candidates {
            let x = l.sample();
            let score = l.log_density(&x) - g.log_density(&x);
            let slot = if taken(&x) { &mut best_taken } else { &mut best };
            if slot.as_ref().is_none_or(|(s, _)| score > *s) {
                *slot = Some((score, x));
            }
        }
        match (best, best_taken) {
            (Some((_, x)), _) => x,
            // Every candidate was taken: the model has converged; explore.
            (None, _) => {
                (0..64).map(|_| arities.iter().map(|&a| random::below(a as u64) as u32).collect::<Genotype>()).find(|x| !taken(x)).unwrap_or_else(|| l.sample())
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn densities_follow_counts_with_a_prior() {
        let a = vec![0u32, 1];
        let b = vec![0u32, 0];
        let d = Density::fit(&[2, 2], &[&a, &b], 1.0);
        // decision 0: counts [2, 0] + prior [0.5, 0.5] over 3.
        assert!((d.0[0][0] - 2.5 / 3.0).abs() < 1e-12);
        assert!((d.0[1][1] - 1.5 / 3.0).abs() < 1e-12);
        assert!(d.0.iter().all(|p| (p.iter().sum::<f64>() - 1.0).abs() < 1e-12));
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
        nasbox_sdk::native::seed_for_tests(9);
        let tpe = Tpe::default();
        let hits = (0..50).filter(|_| tpe.suggest(&[3, 4, 2], &results, |_| false)[0] == 2).count();
        assert!(hits > 40, "{hits}");
    }

    #[test]
    fn taken_genotypes_are_avoided_when_possible() {
        let results = vec![(vec![0u32, 0], 1.0), (vec![1, 1], 0.0), (vec![1, 0], 0.5)];
        nasbox_sdk::native::seed_for_tests(1);
        for _ in 0..20 {
            let x = Tpe::default().suggest(&[2, 2], &results, |g| g[0] == 0);
            assert_eq!(x[0], 1);
        }
    }

    #[test]
    fn bad_settings_name_the_key() {
        let bad = Tpe { gamma: 1.5, ..Tpe::default() };
        assert!(matches!(bad.validate(), Err(StrategyError::InvalidConfig(m)) if m.starts_with("gamma")));
    }
}
