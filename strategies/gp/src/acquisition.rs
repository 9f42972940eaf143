//! The acquisition: log expected improvement, and its maximisation over
//! the space by random candidates plus coordinate-wise local search.
//!
//! EI(x) = σ(x) · h(z), z = (μ(x) − y* − ξ)/σ(x), h(z) = φ(z) + z Φ(z)
//! (Jones, Schonlau, Welch 1998). Its logarithm is computed without
//! underflow far below the incumbent (Ament et al. 2023, "Unexpected
//! improvements to expected improvement"), so candidates that all have
//! a negligible EI are still ranked.

use std::collections::BTreeSet;

use nasbox_sdk::{random, Genotype, Shape};

use crate::model::{Encoder, Posterior};

const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;

/// exp(x²)·erfc(x) for x ≥ 0 (Numerical Recipes' `erfcc` without its
/// exp(−x²), relative error below 1.2e-7).
fn erfcx(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.5 * x);
    let poly = -1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06 + t * (0.278_868_07 + t * (-1.135_203_98 + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    t * poly.exp()
}

/// The standard normal distribution function.
pub fn cdf(z: f64) -> f64 {
    let x = -z * FRAC_1_SQRT_2;
    let erfc = if x >= 0.0 { erfcx(x) * (-x * x).exp() } else { 2.0 - erfcx(-x) * (-x * x).exp() };
    0.5 * erfc
}

/// log h(z), h(z) = φ(z) + z Φ(z), finite for every finite z.
pub fn log_h(z: f64) -> f64 {
    if z > -1.0 {
        return (INV_SQRT_2PI * (-0.5 * z * z).exp() + z * cdf(z)).ln();
    }
    // z = −u, u ≥ 1: h = e^{−u²/2} (1/√(2π) − u/2 · erfcx(u/√2)); the
    // bracket cancels for large u, where its asymptotic series is exact
    // to ~1e-6 relative.
    let u = -z;
    let bracket = if u < 10.0 {
        INV_SQRT_2PI - 0.5 * u * erfcx(u * FRAC_1_SQRT_2)
    } else {
        let w = 1.0 / (u * u);
        INV_SQRT_2PI * w * (1.0 - w * (3.0 - w * (15.0 - 105.0 * w)))
    };
    -0.5 * u * u + bracket.ln()
}

/// log EI at posterior mean `mean` and variance `var`, against incumbent
/// `best` with margin `xi`.
pub fn log_ei(mean: f64, var: f64, best: f64, xi: f64) -> f64 {
    let sd = var.sqrt();
    log_h((mean - best - xi) / sd) + sd.ln()
}

/// One proposal's maximisation of log EI.
pub struct Search<'a> {
    /// The space's shape.
    pub shape: &'a Shape,
    /// How genotypes become points.
    pub encoder: &'a Encoder,
    /// The posterior (fantasies included).
    pub posterior: &'a Posterior,
    /// The incumbent, standardised.
    pub best: f64,
    /// EI's margin, standardised.
    pub xi: f64,
    /// Genotypes already proposed (canonical): never returned.
    pub proposed: &'a BTreeSet<Genotype>,
    /// Most acquisition evaluations, random candidates and local search
    /// together (at least the random candidates).
    pub budget: usize,
}

/// What a search found: the best unproposed canonical genotype seen, its
/// log EI, and the evaluations it took.
pub struct Found {
    pub genotype: Option<Genotype>,
    pub score: f64,
    pub evaluations: usize,
}

struct Tracker<'a, 'b> {
    search: &'b Search<'a>,
    scratch: Vec<f64>,
    point: Vec<f64>,
    evaluations: usize,
    best: Option<(f64, Genotype)>,
}

impl Tracker<'_, '_> {
    /// log EI of `genotype` (raw: inactive decisions may hold any choice),
    /// remembering the best unproposed canonical form.
    fn score(&mut self, genotype: &[u32]) -> f64 {
        let s = self.search;
        let active = s.shape.active(genotype);
        self.point.clear();
        s.encoder.encode_into(genotype, &active, &mut self.point);
        let (mean, var) = s.posterior.predict(&self.point, &mut self.scratch);
        let score = log_ei(mean, var, s.best, s.xi);
        self.evaluations += 1;
        if self.best.as_ref().is_none_or(|(b, _)| score > *b) {
            let canonical: Genotype = genotype.iter().zip(&active).map(|(&g, &a)| if a { g } else { 0 }).collect();
            if !s.proposed.contains(&canonical) {
                self.best = Some((score, canonical));
            }
        }
        score
    }
}

impl Search<'_> {
    /// The choices local search tries instead of `c` on decision `d`: every
    /// other choice of a categorical decision or of an ordered one with up
    /// to 32 choices; on a finer grid (a continuous range), the neighbours
    /// and the nearest choices 0.3, 0.1, 0.03 and 0.01 away in position.
    fn alternatives(&self, d: usize, c: u32, out: &mut Vec<u32>) {
        out.clear();
        let arity = self.shape.arities()[d];
        if !self.shape.is_ordered(d) || arity <= 32 {
            out.extend((0..arity).filter(|&x| x != c));
            return;
        }
        let (below, above) = self.shape.neighbours(d, c);
        out.extend(below);
        out.extend(above);
        let p = self.shape.position(d, c);
        for delta in [0.3, 0.1, 0.03, 0.01] {
            for q in [p - delta, p + delta] {
                if (0.0..=1.0).contains(&q) {
                    let x = self.shape.nearest(d, q);
                    if x != c && !out.contains(&x) {
                        out.push(x);
                    }
                }
            }
        }
    }

    /// Maximises log EI: `candidates` uniform samples, then coordinate
    /// ascent (each sweep tries the `alternatives` of every
    /// active modelled decision, in random order, and moves to the best
    /// improvement) from each of `starts` and the best `from_samples`
    /// samples, sharing what is left of the budget equally.
    pub fn run(&self, candidates: usize, starts: &[Genotype], from_samples: usize) -> Found {
        let mut t = Tracker { search: self, scratch: Vec::new(), point: Vec::new(), evaluations: 0, best: None };
        let mut scored: Vec<(f64, Genotype)> = (0..candidates)
            .map(|_| {
                let g = self.shape.sample();
                (t.score(&g), g)
            })
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut origins: Vec<Genotype> = starts.to_vec();
        for (_, g) in scored.into_iter() {
            if origins.len() >= starts.len() + from_samples {
                break;
            }
            if !origins.contains(&g) {
                origins.push(g);
            }
        }
        let mut alternatives = Vec::new();
        let mut order: Vec<usize> = (0..self.encoder.dims()).map(|k| self.encoder.decision(k)).collect();
        for (i, origin) in origins.iter().enumerate() {
            let left = self.budget.saturating_sub(t.evaluations);
            let share = left / (origins.len() - i);
            let stop = t.evaluations + share;
            let mut g = origin.clone();
            let mut current = t.score(&g);
            'climb: loop {
                let mut moved = false;
                random::shuffle(&mut order);
                for &d in &order {
                    if !self.shape.active(&g)[d] {
                        continue;
                    }
                    self.alternatives(d, g[d], &mut alternatives);
                    let original = g[d];
                    let mut best = (current, original);
                    for &c in &alternatives {
                        if t.evaluations >= stop {
                            break 'climb;
                        }
                        g[d] = c;
                        let s = t.score(&g);
                        if s > best.0 + 1e-12 {
                            best = (s, c);
                        }
                    }
                    g[d] = best.1;
                    if best.1 != original {
                        current = best.0;
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        let (score, genotype) = match t.best {
            Some((s, g)) => (s, Some(g)),
            None => (f64::NEG_INFINITY, None),
        };
        Found { genotype, score, evaluations: t.evaluations }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// h(z) straight from its closed form: accurate where it does not
    /// underflow or cancel (moderate z).
    fn h_direct(z: f64) -> f64 {
        INV_SQRT_2PI * (-0.5 * z * z).exp() + z * cdf(z)
    }

    #[test]
    fn the_normal_cdf_matches_known_values() {
        assert!((cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((cdf(1.0) - 0.841_344_746).abs() < 1e-7);
        assert!((cdf(-2.0) - 0.022_750_132).abs() < 1e-8);
        assert!((cdf(3.0) - 0.998_650_102).abs() < 1e-7);
    }

    #[test]
    fn log_h_is_accurate_and_monotone_far_into_the_tail() {
        for z in [-0.5, 0.0, 1.0, 3.0, -1.0, -2.0, -4.0] {
            assert!((log_h(z) - h_direct(z).ln()).abs() < 1e-5, "{z}: {} vs {}", log_h(z), h_direct(z).ln());
        }
        // Continuous where the branches meet, and increasing throughout.
        for edge in [-1.0, -10.0] {
            let (a, b) = (log_h(edge - 1e-9), log_h(edge + 1e-9));
            assert!((a - b).abs() < 1e-5, "{edge}: {a} {b}");
        }
        let mut last = f64::NEG_INFINITY;
        for i in 0..4000 {
            let z = -60.0 + i as f64 * 0.0163;
            let v = log_h(z);
            assert!(v.is_finite() && v > last, "{z}");
            last = v;
        }
        // Asymptotically h(z) ≈ φ(z)/z².
        let z: f64 = -30.0;
        assert!((log_h(z) - ((INV_SQRT_2PI).ln() - 0.5 * z * z - 2.0 * (-z).ln())).abs() < 1e-2);
    }
}
