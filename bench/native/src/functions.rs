//! Standard global-optimisation test functions with known optima, all
//! maximised (the minimisation problems negated), each on its usual domain
//! (Surjanovic & Bingham's Virtual Library of Simulation Experiments).
//! `bench/function_peers.py` implements the same functions for Optuna and
//! checks that they agree with these at [`Function::checks`].

use std::f64::consts::{E, PI};

use nasbox_sdk::random::SplitMix64;

/// One test function.
#[derive(Clone)]
pub struct Function {
    pub name: &'static str,
    /// Lower and upper bound of each input, in input order.
    pub bounds: Vec<(f64, f64)>,
    /// The known maximum.
    pub optimum: f64,
    /// Inputs where it is reached (one of them when there are several).
    pub argmax: Vec<Vec<f64>>,
    eval: fn(&[f64]) -> f64,
}

impl Function {
    pub fn dim(&self) -> usize {
        self.bounds.len()
    }

    /// The (maximised) value at `x`.
    pub fn value(&self, x: &[f64]) -> f64 {
        debug_assert_eq!(x.len(), self.dim());
        (self.eval)(x)
    }

    /// Fixed points at which another implementation must agree: every
    /// known argmax, the centre and both corners of the domain, and five
    /// points drawn uniformly from a fixed stream.
    pub fn checks(&self) -> Vec<Vec<f64>> {
        let mut points = self.argmax.clone();
        points.push(self.bounds.iter().map(|(l, h)| (l + h) / 2.0).collect());
        points.push(self.bounds.iter().map(|b| b.0).collect());
        points.push(self.bounds.iter().map(|b| b.1).collect());
        let mut stream = SplitMix64(0x66_756e_6374 ^ self.dim() as u64);
        for _ in 0..5 {
            // 53 random bits → [0, 1), rounded to 6 digits so the point reads back exactly.
            points.push(self.bounds.iter().map(|(l, h)| round6(l + (stream.next_u64() >> 11) as f64 / (1u64 << 53) as f64 * (h - l))).collect());
        }
        points
    }
}

/// Every function of the suite, by name.
pub fn all() -> Vec<Function> {
    vec![
        Function {
            name: "branin",
            bounds: vec![(-5.0, 10.0), (0.0, 15.0)],
            optimum: -5.0 / (4.0 * PI),
            argmax: vec![vec![-PI, 12.275], vec![PI, 2.275], vec![3.0 * PI, 2.475]],
            eval: |x| -branin(x[0], x[1]),
        },
        Function {
            name: "hartmann3",
            bounds: vec![(0.0, 1.0); 3],
            optimum: 3.86278214782076,
            argmax: vec![vec![0.114614, 0.555649, 0.852547]],
            eval: |x| hartmann(x, &H3_A, &H3_P),
        },
        Function {
            name: "hartmann6",
            bounds: vec![(0.0, 1.0); 6],
            optimum: 3.32236801141551,
            argmax: vec![vec![0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573]],
            eval: |x| hartmann(x, &H6_A, &H6_P),
        },
        Function { name: "rosenbrock4", bounds: vec![(-5.0, 10.0); 4], optimum: 0.0, argmax: vec![vec![1.0; 4]], eval: |x| -rosenbrock(x) },
        Function { name: "levy5", bounds: vec![(-10.0, 10.0); 5], optimum: 0.0, argmax: vec![vec![1.0; 5]], eval: |x| -levy(x) },
        Function { name: "ackley5", bounds: vec![(-32.768, 32.768); 5], optimum: 0.0, argmax: vec![vec![0.0; 5]], eval: |x| -ackley(x) },
        Function {
            name: "styblinski4",
            bounds: vec![(-5.0, 5.0); 4],
            optimum: 4.0 * 39.166_165_703_771_41,
            argmax: vec![vec![-2.903_534_018_185_96; 4]],
            eval: |x| -styblinski_tang(x),
        },
    ]
}

/// The function called `name`.
pub fn by_name(name: &str) -> Option<Function> {
    all().into_iter().find(|f| f.name == name)
}

/// `x` rounded to 6 significant digits (as the host rounds a grid's values).
pub fn round6(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    format!("{x:.5e}").parse().unwrap_or(x)
}

fn branin(x1: f64, x2: f64) -> f64 {
    let (b, c, r, s, t) = (5.1 / (4.0 * PI * PI), 5.0 / PI, 6.0, 10.0, 1.0 / (8.0 * PI));
    (x2 - b * x1 * x1 + c * x1 - r).powi(2) + s * (1.0 - t) * x1.cos() + s
}

const H_ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];
const H3_A: [[f64; 3]; 4] = [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]];
const H3_P: [[f64; 3]; 4] = [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]];
const H6_A: [[f64; 6]; 4] =
    [[10.0, 3.0, 17.0, 3.5, 1.7, 8.0], [0.05, 10.0, 17.0, 0.1, 8.0, 14.0], [3.0, 3.5, 1.7, 10.0, 17.0, 8.0], [17.0, 8.0, 0.05, 10.0, 0.1, 14.0]];
const H6_P: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/// The Hartmann function, already maximised: Σ αᵢ exp(−Σⱼ Aᵢⱼ (xⱼ − Pᵢⱼ)²).
fn hartmann<const D: usize>(x: &[f64], a: &[[f64; D]; 4], p: &[[f64; D]; 4]) -> f64 {
    (0..4).map(|i| H_ALPHA[i] * (-(0..D).map(|j| a[i][j] * (x[j] - p[i][j]).powi(2)).sum::<f64>()).exp()).sum()
}

fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (w[0] - 1.0).powi(2)).sum()
}

fn levy(x: &[f64]) -> f64 {
    let w: Vec<f64> = x.iter().map(|v| 1.0 + (v - 1.0) / 4.0).collect();
    let d = w.len();
    let middle: f64 = w[..d - 1].iter().map(|wi| (wi - 1.0).powi(2) * (1.0 + 10.0 * (PI * wi + 1.0).sin().powi(2))).sum();
    (PI * w[0]).sin().powi(2) + middle + (w[d - 1] - 1.0).powi(2) * (1.0 + (2.0 * PI * w[d - 1]).sin().powi(2))
}

fn ackley(x: &[f64]) -> f64 {
    let n = x.len() as f64;
    let squares = x.iter().map(|v| v * v).sum::<f64>() / n;
    let cosines = x.iter().map(|v| (2.0 * PI * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * squares.sqrt()).exp() - cosines.exp() + 20.0 + E
}

fn styblinski_tang(x: &[f64]) -> f64 {
    0.5 * x.iter().map(|v| v.powi(4) - 16.0 * v * v + 5.0 * v).sum::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_known_argmax_reaches_the_optimum_and_nothing_checked_beats_it() {
        for f in all() {
            for x in &f.argmax {
                assert!((f.value(x) - f.optimum).abs() < 1e-4, "{}: {} at {x:?}, optimum {}", f.name, f.value(x), f.optimum);
                assert!(x.iter().zip(&f.bounds).all(|(v, (l, h))| l <= v && v <= h), "{}: argmax outside the domain", f.name);
            }
            for x in f.checks() {
                assert!(f.value(&x) <= f.optimum + 1e-4, "{} at {x:?}", f.name);
            }
        }
    }

    #[test]
    fn round6_keeps_six_significant_digits() {
        assert_eq!(round6(1.000_000_000_000_000_9), 1.0);
        assert_eq!(round6(-32.702464), -32.7025);
        assert_eq!(round6(0.0), 0.0);
    }
}
