//! Parzen estimators, as Optuna's TPE builds them (its `_ParzenEstimator`):
//! the densities l(x) and g(x) of [`crate::tpe`]. Each observation has a
//! kernel in every decision, and a prior kernel keeps every value possible:
//!
//! - An ordered decision is modelled on its positions (the value rescaled
//!   to [0, 1], on the logarithm when log; see `nasbox_sdk::shape`) by
//!   Gaussians truncated to the decision's domain, widths by the neighbour
//!   rule; the prior sits at the centre of the domain, as wide as the
//!   domain. The probability of a choice is a kernel's mass over the
//!   choice's cell, the positions nearer to it than to any other choice
//!   (cut at the midpoints between neighbours in value order). A grid's
//!   domain reaches half a gap beyond its end values, so its end values
//!   have whole cells, as Optuna's `step` does for a discrete range; a
//!   continuous range's domain is the range itself, and its fine grid of
//!   choices is only where a draw is snapped to.
//! - A categorical decision has Optuna's smoothed indicator kernels, and a
//!   uniform prior.
//!
//! A side's density is either the mixture over observations of the
//! products of their kernels (multivariate) or, per decision, the mixture
//! of that decision's kernels (independent). Each decision is fitted only
//! on the observations in which it is active. Nothing here uses a
//! floating-point library function beyond `exp`, `ln`, `sqrt` and `cos`
//! (the normal distribution function is computed here).

use nasbox_sdk::{random, shape::normal, Genotype, Shape};

/// erfc(z) for z ≥ 0, to about 1e-15 relative: 1 − erf by the
/// everywhere-positive series of erf below 1.5 (where erfc is still large
/// enough that the subtraction keeps its digits), Laplace's continued
/// fraction above, evaluated bottom up with 10 + 180/z² terms (83 are
/// needed at 1.5, 27 at 3, 10 at 8: the far tails, most of a mixture's
/// kernels at most cells, cost little; TPE evaluates this some million
/// times a proposal on a large space, inside the sandbox's fuel).
fn erfc_nonnegative(z: f64) -> f64 {
    const FRAC_1_SQRT_PI: f64 = 0.564_189_583_547_756_3;
    if z < 1.5 {
        // erf z = 2/√π e^(-z²) Σ 2ⁿ z^(2n+1) / (1·3·…·(2n+1))
        let (mut term, mut sum, mut n) = (z, z, 0.0);
        while term > sum * 1e-17 {
            n += 1.0;
            term *= 2.0 * z * z / (2.0 * n + 1.0);
            sum += term;
        }
        1.0 - 2.0 * FRAC_1_SQRT_PI * (-z * z).exp() * sum
    } else {
        // erfc z = e^(-z²)/√π · 1/(z + (1/2)/(z + 1/(z + (3/2)/(z + …))))
        let mut f = z;
        let terms = 10 + (180.0 / (z * z)) as usize;
        for k in (1..=terms).rev() {
            f = z + (k as f64 / 2.0) / f;
        }
        FRAC_1_SQRT_PI * (-z * z).exp() / f
    }
}

/// Φ(b) − Φ(a) for the standard normal, a ≤ b, computed from the nearer
/// tail so that a cell far out keeps its relative precision.
pub fn normal_mass(a: f64, b: f64) -> f64 {
    const FRAC_1_SQRT_2: f64 = std::f64::consts::FRAC_1_SQRT_2;
    // Q(x) = 1 − Φ(x) = erfc(x/√2)/2 for x ≥ 0.
    let upper = |x: f64| 0.5 * erfc_nonnegative(x * FRAC_1_SQRT_2);
    let mass = if a >= 0.0 {
        upper(a) - upper(b)
    } else if b <= 0.0 {
        upper(-b) - upper(-a)
    } else {
        1.0 - upper(-a) - upper(b)
    };
    mass.max(0.0)
}

/// Optuna's `default_weights(n)`: all ones up to 25 observations; beyond,
/// the oldest n − 25 (in trial order) ramp linearly from 1/n up to 1, so the
/// model follows where the search has moved.
pub fn default_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp = n - 25;
    let step = |i: usize| if ramp > 1 { i as f64 / (ramp - 1) as f64 } else { 0.0 };
    let start = 1.0 / n as f64;
    (0..ramp).map(|i| start + (1.0 - start) * step(i)).chain(std::iter::repeat_n(1.0, 25)).collect()
}

/// Kernel widths by Optuna's rule (Bergstra et al. 2011's, as Optuna 5
/// computes it for both its univariate and multivariate TPE): among the
/// points and the domain's ends, sorted, each point's kernel is as wide as
/// its larger gap to a neighbour, except the lowest and highest point, which
/// only look inwards (`consider_endpoints` = false); then clipped to
/// [W / min(100, kernels + 1), W] for a domain of width W (the "magic
/// clip"), kernels counting the prior. Kernels narrow where observations
/// crowd, which is where TPE samples; the clip keeps a repeated value from
/// a zero width.
///
/// Ties are broken at random. On a grid most values repeat, and within a
/// run of equal values one copy gets the gap below, one the gap above and
/// the rest the floor: which copy is arbitrary (numpy's unstable sort, on
/// Optuna's side), but a fixed rule such as trial order picks the same
/// observation in every decision, so its product kernel is wide everywhere
/// and the others are narrow everywhere. Measured on Hartmann-6 on
/// 11-point grids (100 seeds × 100 trials, the `hartmann` example of commit 86f56958e4, since replaced by `function-bench`), ties by
/// trial order reach 2.91 ± 0.19, random ties 3.10 ± 0.10.
fn neighbour_widths(points: &[f64], lo: f64, hi: f64) -> Vec<f64> {
    let mut sorted: Vec<(f64, usize)> = points.iter().copied().enumerate().map(|(i, x)| (x, i)).collect();
    random::shuffle(&mut sorted);
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = sorted.len();
    let at = |r: isize| {
        if r < 0 {
            lo
        } else if r as usize >= n {
            hi
        } else {
            sorted[r as usize].0
        }
    };
    let width = hi - lo;
    let min = width / (2.0 + n as f64).min(100.0);
    let mut widths = vec![0.0; n];
    for (r, &(x, i)) in sorted.iter().enumerate() {
        let r = r as isize;
        let (below, above) = (x - at(r - 1), at(r + 1) - x);
        let w = if n >= 2 && r == 0 {
            above
        } else if n >= 2 && r as usize == n - 1 {
            below
        } else {
            below.max(above)
        };
        widths[i] = w.clamp(min, width);
    }
    widths
}

/// An index drawn with probability proportional to `weights`.
fn pick(weights: &[f64]) -> usize {
    let mut u = random::f64() * weights.iter().sum::<f64>();
    for (i, &w) in weights.iter().enumerate() {
        if u < w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// One decision's kernels on one side of the split: one per observation
/// (active in the decision), then the prior, last.
#[derive(Debug, Clone, PartialEq)]
pub enum Kernels {
    /// A single choice: nothing to model (one kernel, certain).
    Fixed,
    /// Optuna's categorical kernels: an observation's kernel puts weight 1
    /// on its own choice and `spread` = prior_weight / kernels on every
    /// choice, normalised; the prior is uniform.
    Categorical { arity: u32, own: Vec<u32>, spread: f64 },
    /// Gaussians on positions truncated to [lo, hi] (`inside`: each one's
    /// untruncated mass there). The prior sits at the domain's centre, as
    /// wide as the domain. `edges` are the cell boundaries in value order
    /// (the domain's ends outermost), `by_value` the choices in value
    /// order, `rank` each choice's place in it.
    Ordered { lo: f64, hi: f64, mus: Vec<f64>, sigmas: Vec<f64>, inside: Vec<f64>, edges: Vec<f64>, by_value: Vec<u32>, rank: Vec<usize> },
}

/// Where an ordered decision's kernels live: its cell edges in value order.
/// The first and last are the domain's ends: half a gap beyond the end
/// values on a grid, the range's ends when continuous.
pub fn cell_edges(shape: &Shape, d: usize) -> Vec<f64> {
    let p: Vec<f64> = shape.by_value(d).iter().map(|&c| shape.position(d, c)).collect();
    let n = p.len();
    let mut edges = Vec::with_capacity(n + 1);
    if n < 2 {
        return vec![0.0, 1.0];
    }
    let continuous = shape.is_continuous(d);
    edges.push(if continuous { p[0] } else { p[0] - 0.5 * (p[1] - p[0]) });
    edges.extend(p.windows(2).map(|w| 0.5 * (w[0] + w[1])));
    edges.push(if continuous { p[n - 1] } else { p[n - 1] + 0.5 * (p[n - 1] - p[n - 2]) });
    edges
}

impl Kernels {
    /// Decision `d`'s kernels on the observed `choices`.
    pub fn fit(shape: &Shape, d: usize, choices: &[u32], prior_weight: f64) -> Kernels {
        let arity = shape.arities()[d];
        if arity <= 1 {
            return Kernels::Fixed;
        }
        if !shape.is_ordered(d) {
            return Kernels::Categorical { arity, own: choices.to_vec(), spread: prior_weight / (choices.len() + 1) as f64 };
        }
        let edges = cell_edges(shape, d);
        let (lo, hi) = (edges[0], edges[edges.len() - 1]);
        let mut mus: Vec<f64> = choices.iter().map(|&c| shape.position(d, c)).collect();
        let mut sigmas = neighbour_widths(&mus, lo, hi);
        mus.push(0.5 * (lo + hi));
        sigmas.push(hi - lo);
        let inside = mus.iter().zip(&sigmas).map(|(&m, &s)| normal_mass((lo - m) / s, (hi - m) / s)).collect();
        let by_value = shape.by_value(d).to_vec();
        let mut rank = vec![0; arity as usize];
        for (r, &c) in by_value.iter().enumerate() {
            rank[c as usize] = r;
        }
        Kernels::Ordered { lo, hi, mus, sigmas, inside, edges, by_value, rank }
    }

    /// The probability of choice `c` under kernel `k` (the prior when `k`
    /// is the last).
    pub fn mass(&self, k: usize, c: u32) -> f64 {
        match self {
            Kernels::Fixed => 1.0,
            Kernels::Categorical { arity, own, spread } => match own.get(k) {
                Some(&o) => (spread + if o == c { 1.0 } else { 0.0 }) / (1.0 + *arity as f64 * spread),
                None => 1.0 / *arity as f64,
            },
            Kernels::Ordered { mus, sigmas, inside, edges, rank, .. } => {
                let r = rank[c as usize];
                let (m, s) = (mus[k], sigmas[k]);
                normal_mass((edges[r] - m) / s, (edges[r + 1] - m) / s) / inside[k]
            }
        }
    }

    /// A choice drawn from kernel `k`: for an ordered decision a point of the
    /// truncated Gaussian (by rejection: the centre lies in the domain and
    /// the width is at most the domain's, so at least a third of the draws
    /// land inside), snapped to the choice whose cell holds it (the nearest
    /// position, ties to the lower value, as `Shape::nearest`).
    pub fn sample(&self, k: usize) -> u32 {
        match self {
            Kernels::Fixed => 0,
            Kernels::Categorical { arity, own, spread } => match own.get(k) {
                Some(&o) if random::f64() * (1.0 + *arity as f64 * spread) < 1.0 => o,
                _ => random::below(*arity as u64) as u32,
            },
            Kernels::Ordered { lo, hi, mus, sigmas, edges, by_value, .. } => {
                let (m, s) = (mus[k], sigmas[k]);
                let x = (0..100).map(|_| m + s * normal()).find(|x| (*lo..=*hi).contains(x)).unwrap_or(m);
                let inner = &edges[1..edges.len() - 1];
                by_value[inner.partition_point(|&e| e < x)]
            }
        }
    }
}

/// One decision on one side: its kernels, and its own mixture weights over
/// them (the observations active in it, weighted, then the prior).
#[derive(Debug, Clone, PartialEq)]
pub struct Marginal {
    pub kernels: Kernels,
    weights: Vec<f64>,
    /// For each observation of the side, its kernel here (`None` where the
    /// decision is inactive in it).
    slot: Vec<Option<usize>>,
}

impl Marginal {
    /// The probability of choice `c`: the mixture's mass over its cell.
    pub fn probability(&self, c: u32) -> f64 {
        self.weights.iter().enumerate().map(|(k, w)| w * self.kernels.mass(k, c)).sum()
    }

    /// A choice drawn from the mixture.
    pub fn sample(&self) -> u32 {
        self.kernels.sample(pick(&self.weights))
    }

    /// The probability of `c` under observation `i`'s kernel, or the prior's
    /// (`i` = the number of observations); where the decision is inactive
    /// in observation `i`, under the whole mixture.
    fn factor(&self, i: usize, c: u32) -> f64 {
        match self.slot.get(i) {
            Some(Some(k)) => self.kernels.mass(*k, c),
            Some(None) => self.probability(c),
            None => self.kernels.mass(self.weights.len() - 1, c),
        }
    }

    fn sample_from(&self, i: usize) -> u32 {
        match self.slot.get(i) {
            Some(Some(k)) => self.kernels.sample(*k),
            Some(None) => self.sample(),
            None => self.kernels.sample(self.weights.len() - 1),
        }
    }
}

/// The density of one side (the good results, or the bad ones) over
/// genotypes, both as Optuna's independent TPE sees it (each decision's
/// [`Marginal`]) and as its multivariate TPE does (a mixture over
/// observations of products of their kernels, and the prior's product).
///
/// Conditions: a decision is fitted only on the observations in which it is
/// active. In an observation's product, a decision that the observation
/// lacks contributes the decision's marginal instead of a kernel, so the
/// product is still a distribution and an architecture that switches the
/// decision on is neither favoured nor penalised by that observation.
#[derive(Debug, Clone, PartialEq)]
pub struct Parzen {
    /// Joint weights: the observations', then the prior's, summing to 1.
    weights: Vec<f64>,
    pub decisions: Vec<Marginal>,
}

/// Mixture weights: the observations' (Optuna's `default_weights` when
/// `ramp`, else ones), then `prior_weight`, normalised; the prior alone when
/// there are no observations.
fn mixture_weights(n: usize, prior_weight: f64, ramp: bool) -> Vec<f64> {
    let mut w = if ramp { default_weights(n) } else { vec![1.0; n] };
    w.push(if n == 0 { 1.0 } else { prior_weight });
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    w
}

impl Parzen {
    /// The density of `members` (in trial order: `ramp` weighs the oldest
    /// less).
    pub fn fit(shape: &Shape, members: &[&Genotype], prior_weight: f64, ramp: bool) -> Parzen {
        let active: Vec<Vec<bool>> = members.iter().map(|g| shape.active(g)).collect();
        let decisions = (0..shape.len())
            .map(|d| {
                let mut slot = Vec::with_capacity(members.len());
                let mut choices = vec![];
                for (g, a) in members.iter().zip(&active) {
                    slot.push(a[d].then_some(choices.len()));
                    if a[d] {
                        choices.push(g[d]);
                    }
                }
                let kernels = Kernels::fit(shape, d, &choices, prior_weight);
                Marginal { kernels, weights: mixture_weights(choices.len(), prior_weight, ramp), slot }
            })
            .collect();
        Parzen { weights: mixture_weights(members.len(), prior_weight, ramp), decisions }
    }

    /// A genotype with every decision drawn from its marginal independently
    /// (inactive ones too: callers canonicalise).
    pub fn sample_each(&self) -> Genotype {
        self.decisions.iter().map(Marginal::sample).collect()
    }

    /// A genotype drawn from the joint mixture: an observation (or the
    /// prior) by weight, then every decision from its kernel.
    pub fn sample_joint(&self) -> Genotype {
        let i = pick(&self.weights);
        self.decisions.iter().map(|m| m.sample_from(i)).collect()
    }

    /// log of the joint density of `x` over the decisions marked `active`.
    pub fn log_joint(&self, x: &[u32], active: &[bool]) -> f64 {
        let terms: Vec<f64> = (0..self.weights.len())
            .map(|i| {
                self.weights[i].ln() + (0..x.len()).filter(|&d| active[d]).map(|d| self.decisions[d].factor(i, x[d]).max(f64::MIN_POSITIVE).ln()).sum::<f64>()
            })
            .collect();
        let top = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        top + terms.iter().map(|t| (t - top).exp()).sum::<f64>().ln()
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use nasbox_sdk::shape::{Condition, DecisionShape, Kind, Numbers};

    use nasbox_sdk::native::numbered_space as space;

    fn ordered(values: &[f64], log: bool, continuous: bool) -> DecisionShape {
        DecisionShape { kind: Kind::Ordered(Numbers { values: values.to_vec(), integer: false, log, continuous }), conditions: vec![] }
    }

    fn grid(n: usize) -> Vec<f64> {
        (0..n).map(|i| i as f64 / (n - 1) as f64).collect()
    }

    #[test]
    fn the_normal_distribution_function_matches_reference_values() {
        // erfc from tables (Abramowitz & Stegun / mpmath).
        for (z, want) in [
            (0.0, 1.0),
            (0.5, 0.479_500_122_186_953_5),
            (1.0, 0.157_299_207_050_285_13),
            (2.9, 4.109_787_809_945_886e-5),
            (3.0, 2.209_049_699_858_544e-5),
            (5.0, 1.537_459_794_428_035e-12),
        ] {
            let got = erfc_nonnegative(z);
            assert!(((got - want) / want).abs() < 1e-13, "erfc({z}) = {got}, not {want}");
        }
        assert!((normal_mass(-1.0, 1.0) - 0.682_689_492_137_085_9).abs() < 1e-14);
        assert!((normal_mass(f64::NEG_INFINITY, 0.0) - 0.5).abs() < 1e-15);
        // A far cell keeps its relative precision: Q(8) − Q(9) ≈ 6.2e-16.
        let far = normal_mass(8.0, 9.0);
        assert!((far / 6.219_831_985_865_866e-16 - 1.0).abs() < 1e-9, "{far}");
    }

    #[test]
    fn neighbour_widths_follow_optuna() {
        // Points 0.9, 0.1, 0.2 on [0, 1]: sorted 0.1 0.2 0.9; the lowest
        // looks up (0.1), 0.2 takes max(0.1, 0.7), the highest looks down
        // (0.7); the clip's floor is 1/5.
        let w = neighbour_widths(&[0.9, 0.1, 0.2], 0.0, 1.0);
        let want = [0.7, 0.2, 0.7];
        assert!(w.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{w:?}");
        // A lone point: both ends count.
        assert_eq!(neighbour_widths(&[0.25], 0.0, 1.0), vec![0.75]);
    }

    fn members(genotypes: &[Genotype]) -> Vec<&Genotype> {
        genotypes.iter().collect()
    }

    #[test]
    fn cell_masses_sum_to_one_over_the_choices() {
        let values: Vec<f64> = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 0.1].to_vec();
        let cat = DecisionShape { kind: Kind::Categorical, conditions: vec![] };
        let shape =
            Shape::new(&space(&[11, 6, 201, 4]), vec![ordered(&grid(11), false, false), ordered(&values, true, false), ordered(&grid(201), false, true), cat])
                .unwrap();
        let genotypes: Vec<Genotype> = vec![vec![3, 1, 40, 0], vec![4, 1, 200, 3], vec![10, 5, 0, 3], vec![3, 2, 41, 1]];
        let p = Parzen::fit(&shape, &members(&genotypes), 1.0, true);
        for (d, m) in p.decisions.iter().enumerate() {
            let total: f64 = (0..shape.arities()[d]).map(|c| m.probability(c)).sum();
            assert!((total - 1.0).abs() < 1e-12, "decision {d}: {total}");
            for k in 0..5 {
                let total: f64 = (0..shape.arities()[d]).map(|c| m.kernels.mass(k, c)).sum();
                assert!((total - 1.0).abs() < 1e-12, "decision {d}, kernel {k}: {total}");
            }
        }
        // The joint density sums to 1 too (over a grid small enough to list).
        let small = Shape::new(&space(&[5, 3]), vec![ordered(&grid(5), false, false), cat_shape()]).unwrap();
        let genotypes: Vec<Genotype> = vec![vec![1, 2], vec![4, 0], vec![1, 1]];
        let p = Parzen::fit(&small, &members(&genotypes), 1.0, true);
        let total: f64 = (0..15u32).map(|i| p.log_joint(&[i % 5, i / 5], &[true, true]).exp()).sum();
        assert!((total - 1.0).abs() < 1e-12, "{total}");
    }

    fn cat_shape() -> DecisionShape {
        DecisionShape { kind: Kind::Categorical, conditions: vec![] }
    }

    #[test]
    fn kernels_concentrate_near_the_observations() {
        let shape = Shape::new(&space(&[11]), vec![ordered(&grid(11), false, false)]).unwrap();
        let genotypes: Vec<Genotype> = [7u32, 7, 8, 7, 6].iter().map(|&c| vec![c]).collect();
        let m = &Parzen::fit(&shape, &members(&genotypes), 1.0, true).decisions[0];
        let p: Vec<f64> = (0..11).map(|c| m.probability(c)).collect();
        // The mode is at 7, and mass falls off on both sides of it.
        assert!((0..11).all(|c| c == 7 || p[c] < p[7]), "{p:?}");
        assert!(p[6] + p[7] + p[8] > 0.5 && p[0] < 0.05 && p[10] < p[8], "{p:?}");
        // Draws follow the masses.
        nasbox_sdk::native::seed_for_tests(3);
        let mut counts = [0usize; 11];
        for _ in 0..20_000 {
            counts[m.sample() as usize] += 1;
        }
        for c in 0..11 {
            assert!((counts[c] as f64 / 20_000.0 - p[c]).abs() < 0.015, "{c}: {counts:?} vs {p:?}");
        }
        // With no observations only the prior is left: near uniform, the
        // end values (whole cells) within 25% of the centre's probability.
        let m = &Parzen::fit(&shape, &[], 1.0, true).decisions[0];
        assert!(m.probability(0) > 0.75 * m.probability(5), "{} {}", m.probability(0), m.probability(5));
    }

    #[test]
    fn joint_draws_keep_what_observations_combine() {
        // Two clusters of good observations, around (2, 8) and (8, 2), on
        // 11-point grids: the joint mixture draws near one of them in both
        // decisions at once, rarely near (2, 2) or (8, 8), which the
        // marginals would give as often.
        let shape = Shape::new(&space(&[11, 11]), vec![ordered(&grid(11), false, false), ordered(&grid(11), false, false)]).unwrap();
        let genotypes: Vec<Genotype> = [[2, 8], [1, 9], [2, 9], [1, 8], [8, 2], [9, 1], [8, 1], [9, 2]].iter().map(|g| g.to_vec()).collect();
        let p = Parzen::fit(&shape, &members(&genotypes), 1.0, true);
        nasbox_sdk::native::seed_for_tests(5);
        let near = |x: &Genotype, a: u32, b: u32| x[0].abs_diff(a) <= 1 && x[1].abs_diff(b) <= 1;
        let count = |draw: &dyn Fn() -> Genotype| {
            let (mut kept, mut crossed) = (0, 0);
            for _ in 0..2000 {
                let x = draw();
                kept += (near(&x, 2, 8) || near(&x, 8, 2)) as usize;
                crossed += (near(&x, 2, 2) || near(&x, 8, 8)) as usize;
            }
            (kept, crossed)
        };
        let (kept, crossed) = count(&|| p.sample_joint());
        assert!(kept > 600 && crossed * 3 < kept, "joint: {kept} kept, {crossed} crossed");
        let (kept, crossed) = count(&|| p.sample_each());
        assert!(crossed * 3 > kept * 2, "independent: {kept} kept, {crossed} crossed");
        let both = [true, true];
        assert!(p.log_joint(&[2, 8], &both) > p.log_joint(&[2, 2], &both) + 1.0);
    }

    #[test]
    fn continuous_draws_snap_as_nearest_does() {
        let shape = Shape::new(&space(&[1001]), vec![ordered(&grid(1001), false, true)]).unwrap();
        let genotypes: Vec<Genotype> = vec![vec![100], vec![120], vec![900]];
        let m = &Parzen::fit(&shape, &members(&genotypes), 1.0, true).decisions[0];
        let Kernels::Ordered { lo, hi, mus, sigmas, edges, by_value, .. } = &m.kernels else { panic!() };
        assert_eq!((*lo, *hi), (0.0, 1.0));
        nasbox_sdk::native::seed_for_tests(8);
        for _ in 0..2000 {
            let x = (mus[0] + sigmas[0] * normal()).clamp(0.0, 1.0);
            assert_eq!(by_value[edges[1..1001].partition_point(|&e| e < x)], shape.nearest(0, x), "{x}");
            assert!(m.sample() < 1001);
        }
        // The end cells are half cells: the range ends where its values do.
        assert!(m.probability(0) < m.probability(1));
    }

    #[test]
    fn a_decision_is_fitted_only_where_it_is_active() {
        // d1 counts only when d0 = 1.
        let d1 = DecisionShape { conditions: vec![Condition { decision: 0, choices: vec![1] }], ..ordered(&grid(5), false, false) };
        let shape = Shape::new(&space(&[2, 5]), vec![cat_shape(), d1]).unwrap();
        // Inactive members hold 0 in d1 (canonical); active ones hold 4.
        let genotypes: Vec<Genotype> = vec![vec![0, 0], vec![0, 0], vec![1, 4], vec![1, 4], vec![0, 0], vec![1, 4], vec![0, 0]];
        let p = Parzen::fit(&shape, &members(&genotypes), 1.0, true);
        let active: Vec<&Genotype> = genotypes.iter().filter(|g| g[0] == 1).collect();
        assert_eq!(p.decisions[1].kernels, Parzen::fit(&shape, &active, 1.0, true).decisions[1].kernels);
        assert!(p.decisions[1].probability(4) > 3.0 * p.decisions[1].probability(0), "{:?}", p.decisions[1]);
        // The categorical decision sees all seven.
        assert!(p.decisions[0].probability(0) > p.decisions[0].probability(1));
        // Where d1 is off, the genotype's density is d0's alone: the
        // inactive d1 changes nothing.
        assert_eq!(p.log_joint(&[0, 0], &[true, false]), p.log_joint(&[0, 3], &[true, false]));
    }

    #[test]
    fn categorical_kernels_follow_optuna() {
        let shape = Shape::new(&space(&[3]), vec![cat_shape()]).unwrap();
        let k = Kernels::fit(&shape, 0, &[0, 2], 1.0);
        // spread 1/3: own (1 + 1/3) / 2, others (1/3) / 2; the prior 1/3.
        assert!((k.mass(0, 0) - 2.0 / 3.0).abs() < 1e-12 && (k.mass(0, 1) - 1.0 / 6.0).abs() < 1e-12);
        assert!((k.mass(2, 1) - 1.0 / 3.0).abs() < 1e-12);
        nasbox_sdk::native::seed_for_tests(2);
        let own = (0..10_000).filter(|_| k.sample(1) == 2).count();
        assert!((own as f64 / 10_000.0 - 2.0 / 3.0).abs() < 0.02, "{own}");
    }
}
