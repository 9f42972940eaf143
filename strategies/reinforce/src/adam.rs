//! Adam (Kingma & Ba, ICLR 2015), the optimizer both Zoph & Le and ENAS
//! train the controller with, and clipping by global norm.

use serde::{Deserialize, Serialize};

use crate::exact;

const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPSILON: f64 = 1e-8;

/// The optimizer's moments and step count. They are part of the snapshot: a
/// resumed search that restarted them would take different steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    #[serde(with = "exact::vec")]
    m: Vec<f64>,
    #[serde(with = "exact::vec")]
    v: Vec<f64>,
    steps: u64,
}

impl Adam {
    /// Zero moments for `len` parameters.
    pub fn new(len: usize) -> Adam {
        Adam { m: vec![0.0; len], v: vec![0.0; len], steps: 0 }
    }

    /// How many parameters the moments are for.
    pub fn len(&self) -> usize {
        self.m.len()
    }

    /// Whether the moments agree with each other in length (a restored state
    /// might not).
    pub fn is_consistent(&self) -> bool {
        self.m.len() == self.v.len()
    }

    /// Steps taken so far.
    #[cfg(test)]
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One descent step of `params` along `grad` with learning rate `lr`.
    pub fn step(&mut self, params: &mut [f64], grad: &[f64], lr: f64) {
        debug_assert!(params.len() == self.m.len() && grad.len() == self.m.len());
        self.steps += 1;
        // Bias correction undoes the moments' pull towards their zero start.
        let t = self.steps as f64;
        let correct1 = 1.0 - BETA1.powf(t);
        let correct2 = 1.0 - BETA2.powf(t);
        for (((p, &g), m), v) in params.iter_mut().zip(grad).zip(&mut self.m).zip(&mut self.v) {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *p -= lr * (*m / correct1) / ((*v / correct2).sqrt() + EPSILON);
        }
    }
}

/// Scales `grad` down so that its Euclidean norm is at most `max` (`0`
/// disables), and returns the norm it had. A single surprising reward then
/// cannot throw the policy far.
pub fn clip_global_norm(grad: &mut [f64], max: f64) -> f64 {
    let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
    if max > 0.0 && norm > max {
        let scale = max / norm;
        grad.iter_mut().for_each(|g| *g *= scale);
    }
    norm
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_moves_each_parameter_by_the_learning_rate_against_its_gradient() {
        // With bias correction, m̂/√v̂ is the gradient's sign on the first step.
        let mut adam = Adam::new(3);
        let mut p = vec![1.0, 1.0, 1.0];
        adam.step(&mut p, &[2.0, -0.5, 0.0], 0.1);
        assert!((p[0] - 0.9).abs() < 1e-6 && (p[1] - 1.1).abs() < 1e-6 && p[2] == 1.0, "{p:?}");
        assert_eq!(adam.steps(), 1);
    }

    #[test]
    fn minimises_a_quadratic() {
        let mut adam = Adam::new(2);
        let mut p = vec![3.0, -2.0];
        for _ in 0..2000 {
            let grad = [2.0 * (p[0] - 1.0), 2.0 * (p[1] + 0.5)];
            adam.step(&mut p, &grad, 0.01);
        }
        assert!((p[0] - 1.0).abs() < 1e-3 && (p[1] + 0.5).abs() < 1e-3, "{p:?}");
    }

    #[test]
    fn clipping_keeps_direction_and_bounds_norm() {
        let mut g = vec![3.0, 4.0];
        assert_eq!(clip_global_norm(&mut g, 1.0), 5.0);
        assert!((g[0] - 0.6).abs() < 1e-12 && (g[1] - 0.8).abs() < 1e-12);
        let mut g = vec![3.0, 4.0];
        clip_global_norm(&mut g, 0.0);
        assert_eq!(g, vec![3.0, 4.0]);
    }
}
