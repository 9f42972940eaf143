//! A small fully connected regression network with hand-written
//! backpropagation and Adam, for predictor-based search (BANANAS, NPENAS).
//!
//! Plain Rust and `f64` so that it runs inside the sandbox with no
//! dependencies and gives the same numbers on every machine: WebAssembly's
//! float arithmetic is deterministic, and every random number (initial
//! weights, minibatch order) comes from the host's seeded stream.
//!
//! Inputs of architecture encodings are mostly zeros (a one-hot encoding of
//! six decisions has six ones among thirty inputs), so weights are stored
//! input-major and a zero input skips its whole row, in the forward pass and
//! in the weight gradient. That is what keeps training within the default
//! fuel: the cost of a layer is (non-zero inputs × outputs), not
//! (inputs × outputs).

use nasbox_sdk::{random, StrategyError};

/// How [`Mlp::fit`] trains: Adam on the mean squared error, minibatches
/// drawn epoch by epoch in a fresh random order.
#[derive(Debug, Clone, PartialEq)]
pub struct Training {
    /// Gradient steps. The cost of a fit is `steps × batch` forward and
    /// backward passes whatever the number of examples, so the fuel a fit
    /// needs does not grow with the search.
    pub steps: usize,
    /// Examples per step (fewer when there are fewer examples).
    pub batch: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// L2 penalty on the weights (not the biases), added to the gradient.
    pub weight_decay: f64,
}

impl Default for Training {
    fn default() -> Self {
        Training { steps: 150, batch: 32, lr: 0.01, weight_decay: 1e-4 }
    }
}

impl Training {
    /// Refuses settings that cannot train, naming the setting.
    pub fn validate(&self) -> Result<(), StrategyError> {
        let bad = |m: &str| Err(StrategyError::InvalidConfig(m.into()));
        if self.steps == 0 || self.steps > 100_000 {
            return bad("steps: must be in 1..=100000");
        }
        if self.batch == 0 || self.batch > 4096 {
            return bad("batch: must be in 1..=4096");
        }
        if !(self.lr > 0.0 && self.lr < 10.0) {
            return bad("lr: must be in (0, 10)");
        }
        if !(self.weight_decay >= 0.0 && self.weight_decay < 1.0) {
            return bad("weight_decay: must be in [0, 1)");
        }
        Ok(())
    }
}

/// One dense layer: `outputs` units, each `bias + Σ input × weight`.
#[derive(Debug, Clone)]
struct Layer {
    inputs: usize,
    outputs: usize,
    /// `w[i * outputs + o]`: input-major, so a zero input skips a row.
    w: Vec<f64>,
    b: Vec<f64>,
}

impl Layer {
    /// He-normal initialisation (the right scale for ReLU units).
    fn new(inputs: usize, outputs: usize) -> Layer {
        let scale = (2.0 / inputs.max(1) as f64).sqrt();
        Layer { inputs, outputs, w: (0..inputs * outputs).map(|_| scale * normal()).collect(), b: vec![0.0; outputs] }
    }

    fn forward(&self, x: &[f64], out: &mut Vec<f64>) {
        out.clear();
        out.extend_from_slice(&self.b);
        for (i, &xi) in x.iter().enumerate() {
            if xi != 0.0 {
                let row = &self.w[i * self.outputs..(i + 1) * self.outputs];
                out.iter_mut().zip(row).for_each(|(o, w)| *o += xi * w);
            }
        }
    }
}

/// A standard normal draw (Box–Muller) from the host's stream.
pub fn normal() -> f64 {
    let u1 = 1.0 - random::f64(); // in (0, 1]: ln stays finite
    let u2 = random::f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// A network with ReLU hidden layers and one linear output.
#[derive(Debug, Clone)]
pub struct Mlp {
    layers: Vec<Layer>,
}

impl Mlp {
    /// A freshly initialised network: `inputs` → each of `hidden` → 1.
    pub fn new(inputs: usize, hidden: &[usize]) -> Mlp {
        let mut sizes = vec![inputs];
        sizes.extend_from_slice(hidden);
        sizes.push(1);
        Mlp { layers: sizes.windows(2).map(|s| Layer::new(s[0], s[1])).collect() }
    }

    /// Number of weights and biases.
    pub fn parameters(&self) -> usize {
        self.layers.iter().map(|l| l.w.len() + l.b.len()).sum()
    }

    /// The prediction for one input.
    pub fn predict(&self, x: &[f64]) -> f64 {
        let mut a = x.to_vec();
        let mut next = Vec::new();
        for (k, layer) in self.layers.iter().enumerate() {
            layer.forward(&a, &mut next);
            if k + 1 < self.layers.len() {
                next.iter_mut().for_each(|v| *v = v.max(0.0));
            }
            std::mem::swap(&mut a, &mut next);
        }
        a[0]
    }

    /// Trains on `(xs[i], ys[i])` by Adam on the mean squared error. Does
    /// nothing without examples.
    pub fn fit(&mut self, xs: &[Vec<f64>], ys: &[f64], training: &Training) {
        assert_eq!(xs.len(), ys.len(), "one target per input");
        if xs.is_empty() {
            return;
        }
        let n = xs.len();
        let batch = training.batch.min(n);
        let mut adam = Adam::new(self, training.lr);
        let mut grads: Vec<Layer> = self.layers.iter().map(|l| Layer { w: vec![0.0; l.w.len()], b: vec![0.0; l.b.len()], ..*l }).collect();
        let mut order: Vec<usize> = (0..n).collect();
        let mut cursor = n; // start with a shuffle
        let mut acts: Vec<Vec<f64>> = vec![Vec::new(); self.layers.len() + 1];
        for _ in 0..training.steps {
            grads.iter_mut().for_each(|g| {
                g.w.iter_mut().for_each(|v| *v = 0.0);
                g.b.iter_mut().for_each(|v| *v = 0.0);
            });
            for _ in 0..batch {
                if cursor == n {
                    random::shuffle(&mut order);
                    cursor = 0;
                }
                let i = order[cursor];
                cursor += 1;
                self.backward(&xs[i], ys[i], &mut acts, &mut grads, 1.0 / batch as f64);
            }
            adam.step(&mut self.layers, &grads, training.weight_decay);
        }
    }

    /// Adds `scale ×` the gradient of ½(prediction − y)² to `grads`.
    fn backward(&self, x: &[f64], y: f64, acts: &mut [Vec<f64>], grads: &mut [Layer], scale: f64) {
        let last = self.layers.len() - 1;
        acts[0].clear();
        acts[0].extend_from_slice(x);
        for (k, layer) in self.layers.iter().enumerate() {
            let (done, rest) = acts.split_at_mut(k + 1);
            layer.forward(&done[k], &mut rest[0]);
            if k < last {
                rest[0].iter_mut().for_each(|v| *v = v.max(0.0));
            }
        }
        // delta: d loss / d pre-activation of the current layer's outputs.
        let mut delta = vec![scale * (acts[last + 1][0] - y)];
        for k in (0..=last).rev() {
            let (layer, g, input) = (&self.layers[k], &mut grads[k], &acts[k]);
            g.b.iter_mut().zip(&delta).for_each(|(gb, d)| *gb += d);
            for (i, &xi) in input.iter().enumerate() {
                if xi != 0.0 {
                    let row = &mut g.w[i * layer.outputs..(i + 1) * layer.outputs];
                    row.iter_mut().zip(&delta).for_each(|(gw, d)| *gw += xi * d);
                }
            }
            if k > 0 {
                // Back through the weights, then through the ReLU of layer k−1
                // (its output is this layer's input: zero where it was cut).
                let mut back = vec![0.0; layer.inputs];
                for (i, b) in back.iter_mut().enumerate() {
                    if input[i] > 0.0 {
                        let row = &layer.w[i * layer.outputs..(i + 1) * layer.outputs];
                        *b = row.iter().zip(&delta).map(|(w, d)| w * d).sum();
                    }
                }
                delta = back;
            }
        }
    }
}

/// Adam (Kingma & Ba 2015) over every weight and bias of a network.
struct Adam {
    lr: f64,
    t: i32,
    m: Vec<f64>,
    v: Vec<f64>,
}

impl Adam {
    const BETA1: f64 = 0.9;
    const BETA2: f64 = 0.999;
    const EPS: f64 = 1e-8;

    fn new(net: &Mlp, lr: f64) -> Adam {
        let n = net.parameters();
        Adam { lr, t: 0, m: vec![0.0; n], v: vec![0.0; n] }
    }

    /// One update; `weight_decay` × weight is added to the weights' (not
    /// the biases') gradients.
    fn step(&mut self, layers: &mut [Layer], grads: &[Layer], weight_decay: f64) {
        self.t += 1;
        let c1 = 1.0 - Self::BETA1.powi(self.t);
        let c2 = 1.0 - Self::BETA2.powi(self.t);
        // Plain slices, layer by layer: chained iterators over every
        // parameter cost several times the fuel of the arithmetic.
        let mut offset = 0;
        for (l, g) in layers.iter_mut().zip(grads) {
            for (p, g, decay) in [(&mut l.w, &g.w, weight_decay), (&mut l.b, &g.b, 0.0)] {
                let m = &mut self.m[offset..offset + p.len()];
                let v = &mut self.v[offset..offset + p.len()];
                for i in 0..p.len() {
                    let gi = g[i] + decay * p[i];
                    m[i] = Self::BETA1 * m[i] + (1.0 - Self::BETA1) * gi;
                    v[i] = Self::BETA2 * v[i] + (1.0 - Self::BETA2) * gi * gi;
                    p[i] -= self.lr * (m[i] / c1) / ((v[i] / c2).sqrt() + Self::EPS);
                }
                offset += p.len();
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use nasbox_sdk::native::seed_for_tests;

    /// The analytic gradient matches finite differences of the loss.
    #[test]
    #[allow(clippy::needless_range_loop)] // k and j index the network, its clones and the gradients alike
    fn backpropagation_matches_finite_differences() {
        seed_for_tests(5);
        let mut net = Mlp::new(4, &[5, 3]);
        // Biases away from zero, so that no unit sits on the ReLU's kink
        // (where finite differences see half a slope).
        net.layers.iter_mut().for_each(|l| l.b.iter_mut().for_each(|b| *b = 0.3 * normal()));
        let x = vec![0.3, 0.0, -1.2, 0.7];
        let y = 0.4;
        let loss = |n: &Mlp| 0.5 * (n.predict(&x) - y).powi(2);
        let mut acts = vec![Vec::new(); net.layers.len() + 1];
        let mut grads: Vec<Layer> = net.layers.iter().map(|l| Layer { w: vec![0.0; l.w.len()], b: vec![0.0; l.b.len()], ..*l }).collect();
        net.backward(&x, y, &mut acts, &mut grads, 1.0);
        let h = 1e-6;
        // Weights (`bias` false) and biases of every layer, one at a time.
        fn params(n: &mut Mlp, k: usize, bias: bool) -> &mut Vec<f64> {
            if bias {
                &mut n.layers[k].b
            } else {
                &mut n.layers[k].w
            }
        }
        for k in 0..net.layers.len() {
            for (bias, analytic) in [(false, &grads[k].w), (true, &grads[k].b)] {
                for j in 0..analytic.len() {
                    let (mut up, mut down) = (net.clone(), net.clone());
                    params(&mut up, k, bias)[j] += h;
                    params(&mut down, k, bias)[j] -= h;
                    let numeric = (loss(&up) - loss(&down)) / (2.0 * h);
                    assert!((numeric - analytic[j]).abs() < 1e-6, "layer {k} {} {j}: {numeric} vs {}", if bias { "bias" } else { "weight" }, analytic[j]);
                }
            }
        }
    }

    /// A nonlinear function of one-hot inputs (an interaction no linear model
    /// fits) is learned to a small error, and ranks the inputs right.
    #[test]
    fn learns_an_interaction_of_one_hot_inputs() {
        seed_for_tests(11);
        let f = |a: usize, b: usize| if a == b { 1.0 } else { -0.5 + 0.1 * a as f64 };
        let encode = |a: usize, b: usize| {
            let mut x = vec![0.0; 10];
            x[a] = 1.0;
            x[5 + b] = 1.0;
            x
        };
        let pairs: Vec<(usize, usize)> = (0..5).flat_map(|a| (0..5).map(move |b| (a, b))).collect();
        let xs: Vec<Vec<f64>> = pairs.iter().map(|&(a, b)| encode(a, b)).collect();
        let ys: Vec<f64> = pairs.iter().map(|&(a, b)| f(a, b)).collect();
        let mut net = Mlp::new(10, &[32, 32]);
        let before: f64 = xs.iter().zip(&ys).map(|(x, y)| (net.predict(x) - y).powi(2)).sum::<f64>() / 25.0;
        net.fit(&xs, &ys, &Training { steps: 600, batch: 25, lr: 0.01, weight_decay: 0.0 });
        let after: f64 = xs.iter().zip(&ys).map(|(x, y)| (net.predict(x) - y).powi(2)).sum::<f64>() / 25.0;
        assert!(after < 0.01, "mean squared error {before} → {after}");
        // The best cells are found by the prediction: every a == b ranks above every a != b.
        let lowest_diagonal = (0..5).map(|a| net.predict(&encode(a, a))).fold(f64::INFINITY, f64::min);
        let highest_off = pairs.iter().filter(|(a, b)| a != b).map(|&(a, b)| net.predict(&encode(a, b))).fold(f64::NEG_INFINITY, f64::max);
        assert!(lowest_diagonal > highest_off, "{lowest_diagonal} vs {highest_off}");
    }

    #[test]
    fn the_same_seed_trains_the_same_network() {
        let run = || {
            seed_for_tests(2);
            let xs: Vec<Vec<f64>> = (0..20).map(|i| vec![i as f64 / 20.0, 1.0]).collect();
            let ys: Vec<f64> = (0..20).map(|i| (i as f64 / 5.0).sin()).collect();
            let mut net = Mlp::new(2, &[8]);
            net.fit(&xs, &ys, &Training::default());
            net.predict(&[0.5, 1.0])
        };
        assert_eq!(run().to_bits(), run().to_bits());
    }

    #[test]
    fn bad_training_settings_are_named() {
        let bad = Training { batch: 0, ..Training::default() };
        assert!(matches!(bad.validate(), Err(StrategyError::InvalidConfig(m)) if m.contains("batch")));
        assert!(Training::default().validate().is_ok());
    }
}
