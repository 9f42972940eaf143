//! Architecture weights for differentiable search (DARTS, GDAS): one
//! vector of logits α per decision, turned into mixing weights the host
//! relaxes the space with, updated from the gradient the host returns
//! (of the validation loss with respect to the mixing weights), and
//! derived into a discrete architecture at the end.

use nasbox_sdk::{random, Genotype, Observation, Space, Status, StrategyError};
use serde::{Deserialize, Serialize};

/// Softmax of `logits / temperature`.
pub fn softmax(logits: &[f64], temperature: f64) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|l| ((l - max) / temperature).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// The gradient with respect to the logits of a softmax (at temperature
/// `temperature`) whose output `p` received the gradient `g`:
/// ∂L/∂αᵢ = pᵢ (gᵢ − Σⱼ pⱼ gⱼ) / τ.
pub fn softmax_backward(p: &[f64], g: &[f64], temperature: f64) -> Vec<f64> {
    let dot: f64 = p.iter().zip(g).map(|(p, g)| p * g).sum();
    p.iter().zip(g).map(|(p, g)| p * (g - dot) / temperature).collect()
}

/// A standard Gumbel draw, from the host's randomness.
pub fn gumbel() -> f64 {
    // f64() is in [0, 1); keep away from both ends.
    let u = random::f64().clamp(1e-12, 1.0 - 1e-12);
    -(-u.ln()).ln()
}

/// A standard normal draw (Box–Muller).
pub fn normal() -> f64 {
    let u = random::f64().max(1e-300);
    let v = random::f64();
    (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
}

/// The mean over decisions of the entropy of softmax(α), and what it is
/// for uniform weights: how far a differentiable search has committed.
pub fn mean_entropy(alphas: &[Vec<f64>]) -> (f64, f64) {
    let n = alphas.len().max(1) as f64;
    let h = alphas.iter().map(|a| softmax(a, 1.0).iter().filter(|&&p| p > 0.0).map(|p| -p * p.ln()).sum::<f64>()).sum::<f64>() / n;
    let uniform = alphas.iter().map(|a| (a.len() as f64).ln()).sum::<f64>() / n;
    (h, uniform)
}

/// Reports progress through the host's log (shown with `-v`): every 10
/// steps, the weights' entropy and the architecture they derive.
pub fn log_progress(name: &str, step: u64, space: &Space, alphas: &[Vec<f64>]) {
    if step == 1 || step.is_multiple_of(10) {
        let (h, uniform) = mean_entropy(alphas);
        nasbox_sdk::log::debug(&format!("{name} step {step}: mean entropy of the weights {h:.4} (uniform {uniform:.4}), derived {:?}", derive(space, alphas)));
    }
}

/// Index of the largest value; ties go to the first.
pub fn argmax(values: &[f64]) -> usize {
    values.iter().enumerate().fold((0, f64::NEG_INFINITY), |best, (i, &v)| if v > best.1 { (i, v) } else { best }).0
}

/// Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient, as
/// DARTS optimises its architecture weights (lr 3e-4, β = (0.5, 0.999),
/// weight decay 1e-3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
    m: Vec<Vec<f64>>,
    v: Vec<Vec<f64>>,
    t: u64,
}

impl Adam {
    pub fn new(shape: &[usize], lr: f64, beta1: f64, beta2: f64, weight_decay: f64) -> Adam {
        let zeros = || shape.iter().map(|&n| vec![0.0; n]).collect();
        Adam { lr, beta1, beta2, weight_decay, m: zeros(), v: zeros(), t: 0 }
    }

    /// One step on `params` with gradient `grad` (same shapes).
    pub fn step(&mut self, params: &mut [Vec<f64>], grad: &[Vec<f64>]) {
        self.t += 1;
        let (c1, c2) = (1.0 - self.beta1.powi(self.t as i32), 1.0 - self.beta2.powi(self.t as i32));
        for ((p, g), (m, v)) in params.iter_mut().zip(grad).zip(self.m.iter_mut().zip(self.v.iter_mut())) {
            for i in 0..p.len() {
                let g = g[i] + self.weight_decay * p[i];
                m[i] = self.beta1 * m[i] + (1.0 - self.beta1) * g;
                v[i] = self.beta2 * v[i] + (1.0 - self.beta2) * g * g;
                p[i] -= self.lr * (m[i] / c1) / ((v[i] / c2).sqrt() + 1e-8);
            }
        }
    }
}

/// Learns from the result of a relaxed proposal made from `probs` (the
/// softmax at temperature `tau` whose sample was proposed): one Adam step
/// on `alphas` with the gradient passed through that softmax. `Ok(false)`
/// for a failed step (a diverged batch), which is skipped; an error where
/// the host gave no gradient (not a supernet) or could not relax the space.
pub fn learn(name: &str, o: &Observation, probs: &[Vec<f64>], tau: f64, adam: &mut Adam, alphas: &mut [Vec<f64>]) -> Result<bool, StrategyError> {
    match (&o.status, &o.gradient) {
        (Status::Ok, Some(g)) => {
            let grad: Vec<Vec<f64>> = probs.iter().zip(g).map(|(p, g)| softmax_backward(p, g, tau)).collect();
            adam.step(alphas, &grad);
            Ok(true)
        }
        (Status::Ok, None) => Err(StrategyError::UnsupportedSpace(format!("{name} needs gradients: run it with --estimator supernet"))),
        (Status::Invalid(r), _) => Err(StrategyError::UnsupportedSpace(format!("the host cannot relax this space: {r}"))),
        (Status::Failed(_), _) => Ok(false),
    }
}

/// The discrete architecture the logits stand for: the strongest option of
/// each decision; in the DARTS cell space, DARTS' rule instead.
pub fn derive(space: &Space, alphas: &[Vec<f64>]) -> Genotype {
    if space.name == "darts" {
        if let Some(g) = derive_darts(space, alphas) {
            return g;
        }
    }
    alphas.iter().map(|a| argmax(a) as u32).collect()
}

/// DARTS' rule (Liu et al. 2019) for a cell space encoded as, per node,
/// two slots `CELL.NODE{a,b}.input` and `.op`: an edge i → node is as
/// strong as the slots that read from i make it (the slot's weight for
/// input i times its strongest operation other than `none`); each node
/// keeps its two strongest distinct inputs, each with its strongest
/// operation other than `none`. `None` if the space is not laid out so.
pub fn derive_darts(space: &Space, alphas: &[Vec<f64>]) -> Option<Genotype> {
    let mut genotype = vec![0u32; alphas.len()];
    let names: Vec<&str> = space.decisions.iter().map(|d| d.name.as_str()).collect();
    let mut d = 0;
    while d < names.len() {
        // A node: decisions d..d+4 are a.input, a.op, b.input, b.op.
        let node = names[d].strip_suffix("a.input")?;
        if names.get(d + 1)? != &format!("{node}a.op") || names.get(d + 2)? != &format!("{node}b.input") || names.get(d + 3)? != &format!("{node}b.op") {
            return None;
        }
        let none = space.decisions[d + 1].choices.iter().position(|c| c == "none");
        let best_op = |op: &[f64]| -> (usize, f64) {
            let p = softmax(op, 1.0);
            p.iter().enumerate().filter(|(k, _)| Some(*k) != none).fold((0, f64::NEG_INFINITY), |b, (k, &v)| if v > b.1 { (k, v) } else { b })
        };
        let inputs = alphas[d].len();
        let mut edges: Vec<(f64, usize, usize)> = (0..inputs)
            .map(|i| {
                [(d, d + 1), (d + 2, d + 3)]
                    .iter()
                    .map(|&(input, op)| {
                        let (k, strength) = best_op(&alphas[op]);
                        (softmax(&alphas[input], 1.0)[i] * strength, i, k)
                    })
                    .fold((f64::NEG_INFINITY, i, 0), |b, e| if e.0 > b.0 { e } else { b })
            })
            .collect();
        edges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for (slot, &(_, input, op)) in edges.iter().take(2).enumerate() {
            genotype[d + 2 * slot] = input as u32;
            genotype[d + 2 * slot + 1] = op as u32;
        }
        if inputs < 2 {
            genotype[d + 2] = genotype[d];
            genotype[d + 3] = genotype[d + 1];
        }
        d += 4;
    }
    Some(genotype)
}

#[cfg(test)]
mod tests {
    use super::*;
    use nasbox_sdk::Decision;

    #[test]
    fn softmax_backward_matches_finite_differences() {
        let logits = [0.3, -1.2, 0.8, 0.1];
        let g = [0.5, -0.3, 1.1, 0.2];
        let loss = |l: &[f64]| softmax(l, 0.7).iter().zip(&g).map(|(p, g)| p * g).sum::<f64>();
        let analytic = softmax_backward(&softmax(&logits, 0.7), &g, 0.7);
        for i in 0..4 {
            let (mut up, mut down) = (logits, logits);
            up[i] += 1e-6;
            down[i] -= 1e-6;
            let numeric = (loss(&up) - loss(&down)) / 2e-6;
            assert!((numeric - analytic[i]).abs() < 1e-8, "{i}: {numeric} vs {}", analytic[i]);
        }
    }

    #[test]
    fn adam_descends_a_quadratic() {
        let mut p = vec![vec![3.0, -2.0]];
        let mut adam = Adam::new(&[2], 0.1, 0.9, 0.999, 0.0);
        for _ in 0..500 {
            let g = vec![p[0].iter().map(|x| 2.0 * x).collect::<Vec<_>>()];
            adam.step(&mut p, &g);
        }
        assert!(p[0].iter().all(|x| x.abs() < 0.05), "{p:?}");
    }

    fn darts_like() -> Space {
        let ops: Vec<String> = ["none", "skip", "conv"].iter().map(|s| s.to_string()).collect();
        let mut decisions = vec![];
        for node in 2..4 {
            for slot in ["a", "b"] {
                decisions.push(Decision { name: format!("normal.{node}{slot}.input"), choices: (0..node).map(|i| i.to_string()).collect() });
                decisions.push(Decision { name: format!("normal.{node}{slot}.op"), choices: ops.clone() });
            }
        }
        Space { name: "darts".into(), decisions }
    }

    #[test]
    fn darts_rule_keeps_two_distinct_inputs_and_never_none() {
        let space = darts_like();
        // Node 2: both slots prefer input 1, `none` strongest; node 3: slot a
        // prefers input 2 with conv, slot b input 0 with skip.
        let alphas = vec![
            vec![0.0, 2.0],
            vec![5.0, 1.0, 0.5],
            vec![0.0, 3.0],
            vec![5.0, 0.2, 0.9],
            vec![0.0, 0.0, 4.0],
            vec![0.0, 0.0, 3.0],
            vec![4.0, 0.0, 0.0],
            vec![0.0, 2.0, 0.0],
        ];
        let g = derive(&space, &alphas);
        assert_eq!(&g[..4], &[1, 1, 0, 1], "node 2: input 1 first (strongest), then input 0; skip, never the stronger none");
        assert_eq!(&g[4..], &[2, 2, 0, 1], "node 3: input 2 with conv, input 0 with skip");
        assert_ne!(g[0], g[2], "two distinct inputs");
        // Other spaces: argmax per decision.
        let plain = Space { name: "nb201".into(), decisions: space.decisions.clone() };
        assert_eq!(derive(&plain, &alphas), vec![1, 0, 1, 0, 2, 2, 0, 1]);
    }
}
