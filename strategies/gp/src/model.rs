//! The Gaussian process: how a genotype becomes a point, the kernel, the
//! hyperparameters' posterior and its gradient, and predictions.
//!
//! Kernel: k(x, x') = σ² · m(r), m the Matérn 5/2 correlation
//! (1 + √5 r + 5/3 r²) e^{−√5 r}, with r² = Σ_d γ_d s_d(x, x') over the
//! modelled decisions (those with more than one choice), γ_d = 1/ℓ_d² their
//! inverse squared length scales (automatic relevance determination):
//!
//! - ordered decision: s_d = (p − p')², p the choice's position in [0, 1]
//!   (`Shape::position`, on the log for a log decision);
//! - categorical decision: s_d = [c ≠ c'], the overlap (Hamming) distance;
//! - an inactive decision (its conditions unmet): the categorical one is an
//!   extra choice of its own ("off"); the ordered one sits at position 0.5
//!   and one unit away along an extra axis, so s_d = 0 between two
//!   inactive values and (p − 0.5)² + 1 between an active and an inactive
//!   one.
//!
//! Every s_d is a squared Euclidean distance between embeddings (positions,
//! one-hot vectors scaled by 1/√2, the extra axis), so r is a Euclidean
//! distance and the kernel is positive definite for any γ. Observations
//! are standardised; a noise variance is added on the diagonal.
//!
//! Hyperparameters θ = (log γ_1..γ_D, log σ², log noise) maximise the log
//! marginal likelihood plus the log priors Optuna's GPSampler uses on the
//! same scales: −(0.1/γ + 0.1 γ) per length scale (length scales near the
//! range are a priori likely; far shorter or longer ones are not),
//! Gamma(2, 1) on σ², Gamma(1.1, 30) on the noise (small); within bounds
//! that keep the factorisation sound.

use crate::lbfgs;
use crate::linalg::{dot, row, Cholesky, InverseFactor};
use nasbox_sdk::Shape;

/// Marks an inactive decision in a point.
pub const OFF: f64 = -1.0;
const SQRT5: f64 = 2.236_067_977_499_79;
/// Smallest noise variance (of standardised observations): keeps K well
/// conditioned when the objective is deterministic.
pub const MIN_NOISE: f64 = 1e-6;

/// How a genotype becomes a point: one coordinate per modelled decision.
#[derive(Debug, Clone)]
pub struct Encoder {
    /// Modelled decisions (more than one choice).
    decisions: Vec<usize>,
    /// Per modelled decision: whether it is ordered.
    ordered: Vec<bool>,
    /// Per modelled decision: positions by choice (empty when categorical).
    positions: Vec<Vec<f64>>,
}

impl Encoder {
    /// The encoder for `shape`.
    pub fn new(shape: &Shape) -> Encoder {
        let decisions: Vec<usize> = (0..shape.len()).filter(|&d| shape.arities()[d] > 1).collect();
        let ordered = decisions.iter().map(|&d| shape.is_ordered(d)).collect();
        let positions =
            decisions.iter().map(|&d| if shape.is_ordered(d) { (0..shape.arities()[d]).map(|c| shape.position(d, c)).collect() } else { vec![] }).collect();
        Encoder { decisions, ordered, positions }
    }

    /// Number of modelled decisions (D).
    pub fn dims(&self) -> usize {
        self.decisions.len()
    }

    /// The decision behind modelled dimension `k`.
    pub fn decision(&self, k: usize) -> usize {
        self.decisions[k]
    }

    /// Per modelled decision: whether it is ordered.
    pub fn ordered(&self) -> &[bool] {
        &self.ordered
    }

    /// Appends the point of `genotype` (with `active` from
    /// `Shape::active`) to `out`: a position, a choice index, or [`OFF`].
    pub fn encode_into(&self, genotype: &[u32], active: &[bool], out: &mut Vec<f64>) {
        for (k, &d) in self.decisions.iter().enumerate() {
            let c = genotype[d];
            out.push(if !active[d] {
                OFF
            } else if self.ordered[k] {
                self.positions[k][c as usize]
            } else {
                c as f64
            });
        }
    }

    /// The point of `genotype`.
    pub fn encode(&self, shape: &Shape, genotype: &[u32]) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.dims());
        self.encode_into(genotype, &shape.active(genotype), &mut out);
        out
    }
}

/// s_d between two coordinates of a decision (see the module docs).
#[inline]
pub fn sq(ordered: bool, a: f64, b: f64) -> f64 {
    if ordered {
        match (a != OFF, b != OFF) {
            (true, true) => (a - b) * (a - b),
            (false, false) => 0.0,
            (true, false) => (a - 0.5) * (a - 0.5) + 1.0,
            (false, true) => (b - 0.5) * (b - 0.5) + 1.0,
        }
    } else if a == b {
        0.0
    } else {
        1.0
    }
}

/// Matérn 5/2 correlation at squared distance `r2`, and its derivative with
/// respect to `r2`.
#[inline]
pub fn matern(r2: f64) -> (f64, f64) {
    let r = r2.sqrt();
    let e = (-SQRT5 * r).exp();
    ((1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e, -5.0 / 6.0 * (1.0 + SQRT5 * r) * e)
}

/// Estimated fuel (about one unit per WebAssembly instruction) of one
/// [`Training::objective`] call on `n` points of `dims` decisions: the
/// factorisation and the inverse (n³/2 multiply-adds), the kernel (a square
/// root and an exponential) and the gradient terms per pair. The constants
/// are measured: the sandbox's fuel per `ask` (fit and acquisition
/// separately) divided by the evaluations made, at 100 and 200 results on
/// ten decisions.
pub fn fit_fuel(n: usize, dims: usize) -> f64 {
    let (n, d) = (n as f64, dims as f64);
    7.0 * n * n * n + n * n * (30.0 * d + 260.0)
}

/// Estimated fuel of one [`Posterior::predict`] with `n` points: the
/// kernel against each point, then the forward substitution (n²/2
/// multiply-adds); measured as [`fit_fuel`] is.
pub fn predict_fuel(n: usize, dims: usize) -> f64 {
    let (n, d) = (n as f64, dims as f64);
    7.0 * n * n + n * (50.0 * d + 400.0)
}

/// Kernel hyperparameters in natural units.
#[derive(Debug, Clone, PartialEq)]
pub struct Hyper {
    /// Inverse squared length scale per modelled decision.
    pub gamma: Vec<f64>,
    /// Signal variance σ².
    pub signal: f64,
    /// Noise variance.
    pub noise: f64,
}

impl Hyper {
    /// From θ = (log γ.., log σ², log noise).
    pub fn from_theta(theta: &[f64]) -> Hyper {
        let d = theta.len() - 2;
        Hyper { gamma: theta[..d].iter().map(|t| t.exp()).collect(), signal: theta[d].exp(), noise: theta[d + 1].exp() }
    }

    /// Where a fit starts without a previous one: length scales of the
    /// whole range, unit signal, noise 0.01 (Optuna's start).
    pub fn default_theta(dims: usize) -> Vec<f64> {
        let mut t = vec![0.0; dims + 2];
        t[dims + 1] = 0.01f64.ln();
        t
    }

    /// Bounds on θ: γ in [1e-4, 1e4], σ² in [1e-3, 1e3], noise in
    /// [`MIN_NOISE`], 10].
    pub fn bounds(dims: usize) -> (Vec<f64>, Vec<f64>) {
        let mut lo = vec![1e-4f64.ln(); dims + 2];
        let mut hi = vec![1e4f64.ln(); dims + 2];
        lo[dims] = 1e-3f64.ln();
        hi[dims] = 1e3f64.ln();
        lo[dims + 1] = MIN_NOISE.ln();
        hi[dims + 1] = 10f64.ln();
        (lo, hi)
    }
}

/// Training data for the hyperparameters: per pair of points (i > j, in
/// packed order) the D values s_d, and the standardised observations.
pub struct Training {
    dims: usize,
    n: usize,
    s: Vec<f64>,
    y: Vec<f64>,
}

impl Training {
    /// From `n` points of `ordered.len()` coordinates each, flat, and their
    /// standardised observations.
    pub fn new(points: &[f64], ordered: &[bool], y: Vec<f64>) -> Training {
        let dims = ordered.len();
        let n = y.len();
        let mut s = Vec::with_capacity(n * n.saturating_sub(1) / 2 * dims);
        for i in 0..n {
            for j in 0..i {
                for k in 0..dims {
                    s.push(sq(ordered[k], points[i * dims + k], points[j * dims + k]));
                }
            }
        }
        Training { dims, n, s, y }
    }

    /// Number of observations.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// The covariance matrix at `h`, packed lower rows, and per pair σ²·m
    /// and σ²·dm/dr².
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    fn covariance(&self, h: &Hyper) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let (n, dims) = (self.n, self.dims);
        let pairs = n * n.saturating_sub(1) / 2;
        let mut k = vec![0.0; row(n)];
        let mut km = Vec::with_capacity(pairs);
        let mut dk = Vec::with_capacity(pairs);
        let mut p = 0;
        for i in 0..n {
            let ri = row(i);
            for j in 0..i {
                let r2 = dot(&h.gamma, &self.s[p * dims..(p + 1) * dims]);
                let (m, dm) = matern(r2);
                k[ri + j] = h.signal * m;
                km.push(h.signal * m);
                dk.push(h.signal * dm);
                p += 1;
            }
            k[ri + i] = h.signal + h.noise;
        }
        (k, km, dk)
    }

    /// The log marginal likelihood of the observations under `h`, without
    /// the gradient; `None` when K does not factorise.
    pub fn log_likelihood(&self, h: &Hyper) -> Option<f64> {
        let (k, _, _) = self.covariance(h);
        let chol = Cholesky::new(k, self.n)?;
        let alpha = chol.solve(&self.y);
        Some(-0.5 * dot(&self.y, &alpha) - chol.half_log_det() - 0.5 * self.n as f64 * (2.0 * std::f64::consts::PI).ln())
    }

    /// What the fit minimises, −(log marginal likelihood + log prior), and
    /// its gradient with respect to θ; `None` when K does not factorise.
    pub fn objective(&self, theta: &[f64]) -> Option<(f64, Vec<f64>)> {
        let (value, at) = self.value(theta)?;
        Some((value, self.gradient(at)))
    }

    /// −(log marginal likelihood + log prior) at θ, with what
    /// [`Training::gradient`] needs; `None` when K does not factorise.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn value(&self, theta: &[f64]) -> Option<(f64, Factored)> {
        let (n, dims) = (self.n, self.dims);
        let h = Hyper::from_theta(theta);
        let (k, km, dk) = self.covariance(&h);
        let chol = Cholesky::new(k, n)?;
        let alpha = chol.solve(&self.y);
        let lml = -0.5 * dot(&self.y, &alpha) - chol.half_log_det() - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        // Log priors (up to constants).
        let mut prior = 0.0;
        for &gamma in &h.gamma {
            prior -= 0.1 / gamma + 0.1 * gamma;
        }
        prior += theta[dims] - h.signal; // Gamma(2, 1)
        prior += 0.1 * theta[dims + 1] - 30.0 * h.noise; // Gamma(1.1, 30)
        let value = -(lml + prior);
        if !value.is_finite() {
            return None;
        }
        Some((value, Factored { h, chol, alpha, km, dk }))
    }

    /// The gradient of [`Training::value`] with respect to θ.
    ///
    /// ∂ log p(y)/∂θ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θ), α = K⁻¹y (Rasmussen &
    /// Williams 2006, eq. 5.9); ∂K_ij/∂log γ_d = σ² m′(r²) γ_d s_d,ij.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    pub fn gradient(&self, at: Factored) -> Vec<f64> {
        let (n, dims) = (self.n, self.dims);
        let Factored { h, chol, alpha, km, dk } = at;
        let inv = chol.inverse();
        let mut grad = vec![0.0; dims + 2];
        let (mut g_signal, mut g_noise) = (0.0, 0.0);
        let mut p = 0;
        for i in 0..n {
            for j in 0..i {
                // The pair (i, j) and (j, i) together: ½ · 2.
                let w = alpha[i] * alpha[j] - inv[i * n + j];
                g_signal += w * km[p];
                let g = w * dk[p];
                for (gd, sd) in grad[..dims].iter_mut().zip(&self.s[p * dims..(p + 1) * dims]) {
                    *gd += g * sd;
                }
                p += 1;
            }
            let w = alpha[i] * alpha[i] - inv[i * n + i];
            g_signal += 0.5 * w * h.signal;
            g_noise += 0.5 * w * h.noise;
        }
        for (gd, gamma) in grad[..dims].iter_mut().zip(&h.gamma) {
            *gd *= gamma;
        }
        grad[dims] = g_signal;
        grad[dims + 1] = g_noise;
        // The log priors' derivatives in log units.
        for (gd, &gamma) in grad[..dims].iter_mut().zip(&h.gamma) {
            *gd += 0.1 / gamma - 0.1 * gamma;
        }
        grad[dims] += 1.0 - h.signal;
        grad[dims + 1] += 0.1 - 30.0 * h.noise;
        grad.into_iter().map(|g| -g).collect()
    }

    /// θ minimising [`Training::objective`] from each of `starts`, each
    /// run stopping after `max_evals` evaluations or at a (projected)
    /// gradient below 1e-2 in every coordinate; the best, with its value.
    pub fn fit(&self, starts: &[Vec<f64>], max_evals: usize) -> Option<(Vec<f64>, f64)> {
        let (lo, hi) = Hyper::bounds(self.dims);
        let mut best: Option<(Vec<f64>, f64)> = None;
        for start in starts {
            let (theta, value) = lbfgs::minimize(|t| self.value(t), |at| self.gradient(at), start, &lo, &hi, max_evals, 1e-2);
            if value.is_finite() && best.as_ref().is_none_or(|(_, b)| value < *b) {
                best = Some((theta, value));
            }
        }
        best
    }
}

/// A factorisation at some θ: what the gradient there needs.
pub struct Factored {
    h: Hyper,
    chol: Cholesky,
    alpha: Vec<f64>,
    km: Vec<f64>,
    dk: Vec<f64>,
}

/// The posterior at fixed hyperparameters, over the observed points and any
/// fantasies (pending proposals added with their predicted mean).
#[derive(Debug, Clone)]
pub struct Posterior {
    hyper: Hyper,
    /// The points by decision.
    columns: Vec<Column>,
    y: Vec<f64>,
    chol: Cholesky,
    /// L⁻¹, for the variances.
    inverse: InverseFactor,
    alpha: Vec<f64>,
}

impl Posterior {
    /// The posterior given `n` points (flat) and standardised observations
    /// `y`; `None` when K does not factorise.
    pub fn new(ordered: &[bool], hyper: Hyper, points: Vec<f64>, y: Vec<f64>) -> Option<Posterior> {
        let dims = ordered.len();
        let n = y.len();
        let mut k = vec![0.0; row(n)];
        for i in 0..n {
            let ri = row(i);
            for j in 0..i {
                k[ri + j] = hyper.signal * matern(r2(ordered, &hyper.gamma, &points[i * dims..(i + 1) * dims], &points[j * dims..(j + 1) * dims])).0;
            }
            k[ri + i] = hyper.signal + hyper.noise;
        }
        let chol = Cholesky::new(k, n)?;
        let alpha = chol.solve(&y);
        let inverse = InverseFactor::of(&chol);
        let mut columns: Vec<Column> = ordered.iter().map(|&o| if o { Column::Ordered(vec![], vec![]) } else { Column::Categorical(vec![]) }).collect();
        for p in points.chunks_exact(dims.max(1)).take(n) {
            push_point(&mut columns, p);
        }
        Some(Posterior { hyper, columns, y, chol, inverse, alpha })
    }

    /// Takes the generalised least-squares estimate of a constant mean,
    /// μ̂ = 1ᵀK⁻¹y / 1ᵀK⁻¹1, out of the observations, so that far from them
    /// the prediction reverts to μ̂ rather than to their plain average (which
    /// clustered observations pull towards their cluster); returns μ̂ (0 when
    /// it cannot be computed). Call before adding fantasies.
    pub fn center(&mut self) -> f64 {
        let a = self.chol.solve(&vec![1.0; self.len()]);
        let mu = dot(&a, &self.y) / a.iter().sum::<f64>();
        if !mu.is_finite() {
            return 0.0;
        }
        self.y.iter_mut().for_each(|v| *v -= mu);
        self.alpha = self.chol.solve(&self.y);
        mu
    }

    /// Number of points, fantasies included.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// The hyperparameters.
    pub fn hyper(&self) -> &Hyper {
        &self.hyper
    }

    /// σ²·m(r²(x, p)) against every point p, into `out`: [`r2`] summed
    /// decision by decision over all points (the same sums in the same
    /// order, so the same bits), which runs without a branch per pair.
    #[cfg_attr(target_arch = "wasm32", target_feature(enable = "simd128"))]
    fn cross_into(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.resize(self.len(), 0.0);
        for ((column, &g), &xk) in self.columns.iter().zip(&self.hyper.gamma).zip(x) {
            match column {
                Column::Ordered(position, off) => {
                    let (xp, xo) = embed(xk);
                    for ((r, &p), &o) in out.iter_mut().zip(position).zip(off) {
                        let (d1, d2) = (xp - p, xo - o);
                        *r += g * (d1 * d1 + d2 * d2);
                    }
                }
                Column::Categorical(choice) => {
                    for (r, &c) in out.iter_mut().zip(choice) {
                        *r += if c == xk { 0.0 } else { g };
                    }
                }
            }
        }
        let signal = self.hyper.signal;
        out.iter_mut().for_each(|r| *r = signal * matern(*r).0);
    }

    /// Posterior mean and variance of the latent function at `x`;
    /// `scratch` is reused between calls and holds the kernel against every
    /// point afterwards. O(n·D + n²/2).
    pub fn predict(&self, x: &[f64], scratch: &mut Vec<f64>) -> (f64, f64) {
        let signal = self.hyper.signal;
        self.cross_into(x, scratch);
        let mean = dot(scratch, &self.alpha);
        let var = (signal - self.inverse.norm2(scratch)).max(1e-12 * signal);
        (mean, var)
    }

    /// Adds `x` as an observation of its own predicted mean (a "kriging
    /// believer" fantasy, Ginsbourger et al. 2010): the mean stays, the
    /// variance around `x` collapses, so the next proposal of the same
    /// batch goes elsewhere. Returns that mean. O(n²).
    pub fn add_fantasy(&mut self, x: &[f64]) -> f64 {
        // `predict` leaves the kernel against every point in `cross`.
        let mut cross = Vec::new();
        let (mean, _) = self.predict(x, &mut cross);
        let signal = self.hyper.signal;
        let new_row = self.chol.push(&cross, signal + self.hyper.noise, 1e-9 * signal);
        self.inverse.push(new_row);
        push_point(&mut self.columns, x);
        self.y.push(mean);
        self.alpha = self.chol.solve(&self.y);
        mean
    }
}

/// One decision's coordinates of every point of a [`Posterior`]: an
/// ordered decision as two, its position (0.5 when inactive) and 1 when
/// inactive (else 0), so that the squared distance of the embeddings is
/// [`sq`]; a categorical one as its choice ([`OFF`] when inactive).
#[derive(Debug, Clone)]
enum Column {
    Ordered(Vec<f64>, Vec<f64>),
    Categorical(Vec<f64>),
}

/// An ordered coordinate's embedding: (position, 0), or (0.5, 1) inactive.
#[inline]
fn embed(v: f64) -> (f64, f64) {
    if v == OFF {
        (0.5, 1.0)
    } else {
        (v, 0.0)
    }
}

fn push_point(columns: &mut [Column], p: &[f64]) {
    for (column, &v) in columns.iter_mut().zip(p) {
        match column {
            Column::Ordered(position, off) => {
                let (a, b) = embed(v);
                position.push(a);
                off.push(b);
            }
            Column::Categorical(choice) => choice.push(v),
        }
    }
}

/// r² between two points.
#[inline]
pub fn r2(ordered: &[bool], gamma: &[f64], a: &[f64], b: &[f64]) -> f64 {
    let mut s = 0.0;
    for k in 0..gamma.len() {
        s += gamma[k] * sq(ordered[k], a[k], b[k]);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matern_matches_its_formula_and_derivative() {
        let (m, _) = matern(0.0);
        assert_eq!(m, 1.0);
        // r = 1: (1 + √5 + 5/3) e^{−√5}.
        let (m, dm) = matern(1.0);
        assert!((m - (1.0 + 5f64.sqrt() + 5.0 / 3.0) * (-(5f64.sqrt())).exp()).abs() < 1e-14);
        let h = 1e-6;
        let fd = (matern(1.0 + h).0 - matern(1.0 - h).0) / (2.0 * h);
        assert!((dm - fd).abs() < 1e-8, "{dm} vs {fd}");
    }

    #[test]
    fn inactive_decisions_are_an_extra_value() {
        assert_eq!(sq(true, 0.25, 0.75), 0.25);
        assert_eq!(sq(true, OFF, OFF), 0.0);
        assert_eq!(sq(true, 0.5, OFF), 1.0);
        assert_eq!(sq(true, OFF, 1.0), 1.25);
        assert_eq!(sq(false, 2.0, 2.0), 0.0);
        assert_eq!(sq(false, 2.0, 3.0), 1.0);
        assert_eq!(sq(false, OFF, 0.0), 1.0);
    }

    /// Two observations, one ordered decision, at hand-computed values:
    /// x = 0, 1 with γ = 1 (r = 1), σ² = 1, noise n.
    #[test]
    fn posterior_matches_hand_computed_values() {
        let noise = 0.01;
        let rho = matern(1.0).0; // 0.5239..
        let h = Hyper { gamma: vec![1.0], signal: 1.0, noise };
        let p = Posterior::new(&[true], h, vec![0.0, 1.0], vec![1.0, -1.0]).unwrap();
        let mut s = Vec::new();
        // At x = 0: k* = (1, ρ); K = [[1+n, ρ], [ρ, 1+n]].
        let det = (1.0 + noise) * (1.0 + noise) - rho * rho;
        let kinv = [(1.0 + noise) / det, -rho / det];
        let alpha0 = kinv[0] - kinv[1];
        let alpha1 = kinv[1] - kinv[0];
        let mean = alpha0 + rho * alpha1;
        let var = 1.0 - (kinv[0] * (1.0 + rho * rho) + 2.0 * kinv[1] * rho);
        let (m, v) = p.predict(&[0.0], &mut s);
        assert!((m - mean).abs() < 1e-12 && (v - var).abs() < 1e-12, "{m} {v} vs {mean} {var}");
        // Midway, by symmetry, the mean is 0.
        let (m, _) = p.predict(&[0.5], &mut s);
        assert!(m.abs() < 1e-12);
        // Far away (an inactive value is 1.25 from 0 in r²… and 1.0 from 0.5),
        // the prior: variance near σ².
        let (_, v) = p.predict(&[OFF], &mut s);
        assert!(v > 0.5);
    }

    #[test]
    fn log_likelihood_matches_the_closed_form() {
        let noise = 0.1;
        let rho = matern(0.25).0;
        let t = Training::new(&[0.0, 0.5], &[true], vec![1.0, 0.5]);
        let h = Hyper { gamma: vec![1.0], signal: 2.0, noise };
        // K = [[2.1, 2ρ], [2ρ, 2.1]].
        let (a, b) = (2.0 + noise, 2.0 * rho);
        let det = a * a - b * b;
        let quad = (a * 1.0 - 2.0 * b * 0.5 + a * 0.25) / det;
        let want = -0.5 * quad - 0.5 * det.ln() - (2.0 * std::f64::consts::PI).ln();
        assert!((t.log_likelihood(&h).unwrap() - want).abs() < 1e-12);
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        // Five points on one ordered and one categorical decision, one inactive.
        let points = [0.0, 0.0, 0.3, 1.0, 0.6, 0.0, 0.9, 2.0, OFF, 1.0];
        let t = Training::new(&points, &[true, false], vec![1.0, -0.5, 0.3, 0.8, -1.2]);
        let theta = [0.7f64.ln(), 2.0f64.ln(), 1.3f64.ln(), 0.05f64.ln()];
        let (_, g) = t.objective(&theta).unwrap();
        for i in 0..theta.len() {
            let (mut a, mut b) = (theta, theta);
            a[i] += 1e-6;
            b[i] -= 1e-6;
            let fd = (t.objective(&a).unwrap().0 - t.objective(&b).unwrap().0) / 2e-6;
            assert!((g[i] - fd).abs() < 1e-5 * (1.0 + fd.abs()), "θ{i}: {} vs {fd}", g[i]);
        }
    }

    #[test]
    fn fitting_finds_a_short_length_scale_for_a_wiggly_function() {
        let xs: Vec<f64> = (0..20).map(|i| i as f64 / 19.0).collect();
        let ys: Vec<f64> = xs.iter().map(|x| (12.0 * x).sin()).collect();
        let mean = ys.iter().sum::<f64>() / 20.0;
        let sd = (ys.iter().map(|y| (y - mean).powi(2)).sum::<f64>() / 20.0).sqrt();
        let t = Training::new(&xs, &[true], ys.iter().map(|y| (y - mean) / sd).collect());
        let start = Hyper::default_theta(1);
        let (theta, value) = t.fit(std::slice::from_ref(&start), 100).unwrap();
        assert!(value < t.objective(&start).unwrap().0);
        let h = Hyper::from_theta(&theta);
        // A period of ~0.5: length scales well below the range.
        assert!(h.gamma[0] > 5.0 && h.noise < 0.05, "{h:?}");
    }

    #[test]
    fn the_constant_mean_discounts_clustered_observations() {
        // Two coincident observations of 1 and a distant one of −1,
        // uncorrelated with them (r² = 400): 1ᵀK⁻¹ weighs the pair as one
        // observation of (nearly) twice the variance, so μ̂ is below the
        // plain average 1/3 and, with little noise, near 0.
        let h = Hyper { gamma: vec![400.0], signal: 1.0, noise: 1e-6 };
        let mut p = Posterior::new(&[true], h, vec![0.0, 0.0, 1.0], vec![1.0, 1.0, -1.0]).unwrap();
        let mu = p.center();
        // K = [[1+ε, 1, 0], [1, 1+ε, 0], [0, 0, 1+ε]] (the far entries ~1e-38):
        // 1ᵀK⁻¹ = (1/(2+ε), 1/(2+ε), 1/(1+ε)); μ̂ = (2/(2+ε) − 1/(1+ε)) / (2/(2+ε) + 1/(1+ε)).
        let e = 1e-6;
        let want = (2.0 / (2.0 + e) - 1.0 / (1.0 + e)) / (2.0 / (2.0 + e) + 1.0 / (1.0 + e));
        assert!((mu - want).abs() < 1e-6, "{mu} vs {want}");
        // Predictions are relative to μ̂: at an observation, its value minus μ̂; far away, 0.
        let mut s = Vec::new();
        assert!((p.predict(&[0.0], &mut s).0 - (1.0 - mu)).abs() < 1e-4);
        assert!(p.predict(&[0.5], &mut s).0.abs() < 1e-9);
    }

    #[test]
    fn fantasies_keep_the_mean_and_shrink_the_variance() {
        let h = Hyper { gamma: vec![4.0], signal: 1.0, noise: 1e-4 };
        let mut p = Posterior::new(&[true], h, vec![0.0, 1.0], vec![1.0, -1.0]).unwrap();
        let mut s = Vec::new();
        let (m0, v0) = p.predict(&[0.5], &mut s);
        p.add_fantasy(&[0.5]);
        let (m1, v1) = p.predict(&[0.5], &mut s);
        assert!((m0 - m1).abs() < 1e-6 && v1 < 0.01 * v0, "{m0} {v0} → {m1} {v1}");
        assert_eq!(p.len(), 3);
    }
}
