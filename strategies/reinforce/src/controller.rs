//! The controller network of Zoph & Le: an LSTM that makes the space's
//! decisions one after another, each conditioned on the ones before it.
//!
//! At decision `t` the LSTM's input is a learned start vector (`t = 0`) or the
//! embedding of the choice taken at `t − 1`, from a table of that decision's
//! own; a linear head of decision `t` turns the hidden state into logits over
//! its choices. As in ENAS (Pham et al. 2018) the logits are divided by a
//! temperature and squashed to `c·tanh(·)`, which bounds how sure the policy
//! can get and so keeps it exploring.
//!
//! All parameters live in one flat vector (see [`Controller::len`]) so that
//! the optimizer, gradient clipping and the snapshot treat them as one.

use nasbox_sdk::{random, Genotype};

use crate::lstm;

/// The shape of a controller and where each parameter block sits in the flat
/// vector. It is derived from the space and the config, never stored.
#[derive(Debug, Clone)]
pub struct Controller {
    hidden: usize,
    arities: Vec<usize>,
    temperature: f64,
    tanh_constant: f64,
    /// Offset of the start vector (`hidden`).
    start: usize,
    /// Offset of the LSTM weights (`4·hidden × 2·hidden`), followed directly
    /// by its bias (`4·hidden`).
    lstm: usize,
    /// Offset of each decision's embedding table (`arity × hidden`). The last
    /// decision has none: no step follows it to take its choice as input.
    embed: Vec<usize>,
    /// Offset of each decision's head: weights (`arity × hidden`) followed by
    /// bias (`arity`).
    head: Vec<usize>,
    len: usize,
}

/// One decision of a forward pass.
struct Decided {
    cell: lstm::Step,
    /// `tanh(z / temperature)` of the head's outputs `z`, when squashing.
    squashed: Vec<f64>,
    log_probs: Vec<f64>,
    choice: usize,
}

impl Controller {
    /// A controller for decisions of `arities` (each at least 1).
    pub fn new(arities: &[u32], hidden: usize, temperature: f64, tanh_constant: f64) -> Controller {
        let arities: Vec<usize> = arities.iter().map(|&a| a as usize).collect();
        let mut len = 0;
        let mut take = |n: usize| {
            len += n;
            len - n
        };
        let start = take(hidden);
        let lstm = take(8 * hidden * hidden + 4 * hidden);
        let embed = arities.iter().take(arities.len().saturating_sub(1)).map(|a| take(a * hidden)).collect();
        let head = arities.iter().map(|a| take(a * hidden + a)).collect();
        Controller { hidden, arities, temperature, tanh_constant, start, lstm, embed, head, len }
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Fresh parameters, uniform in `[-range, range)`, drawn from the host's
    /// stream so that the search is the same for the same seed.
    pub fn init(&self, range: f64) -> Vec<f64> {
        (0..self.len).map(|_| (2.0 * random::f64() - 1.0) * range).collect()
    }

    /// Whether `genotype` is an architecture of this controller's space.
    pub fn fits(&self, genotype: &[u32]) -> bool {
        genotype.len() == self.arities.len() && genotype.iter().zip(&self.arities).all(|(&c, &a)| (c as usize) < a)
    }

    /// An architecture drawn from the policy.
    pub fn sample(&self, params: &[f64]) -> Genotype {
        self.forward(params, |_, log_probs| categorical(log_probs)).iter().map(|d| d.choice as u32).collect()
    }

    /// `log π(genotype)`: the log-probability that [`Controller::sample`]
    /// draws `genotype`.
    #[cfg(test)]
    pub fn log_prob(&self, params: &[f64], genotype: &[u32]) -> f64 {
        self.forward(params, |t, _| genotype[t] as usize).iter().map(|d| d.log_probs[d.choice]).sum()
    }

    /// The REINFORCE loss of having drawn `genotype` and earned `advantage`
    /// over the baseline,
    ///
    /// `L = −advantage · Σₜ log π(aₜ) − entropy_weight · Σₜ H(πₜ)`,
    ///
    /// and its gradient, added into `grad`. The forward pass is replayed with
    /// `genotype`'s choices as the inputs (teacher forcing), so the gradient
    /// is for the parameters as they are now.
    pub fn loss_and_gradient(&self, params: &[f64], genotype: &[u32], advantage: f64, entropy_weight: f64, grad: &mut [f64]) -> f64 {
        debug_assert!(self.fits(genotype) && params.len() == self.len && grad.len() == self.len);
        let hidden = self.hidden;
        let lstm_weights = 8 * hidden * hidden;
        let trace = self.forward(params, |t, _| genotype[t] as usize);
        let mut loss = 0.0;
        let mut dh_next = vec![0.0; hidden];
        let mut dc_next = vec![0.0; hidden];
        for (t, d) in trace.iter().enumerate().rev() {
            let arity = self.arities[t];
            let probs: Vec<f64> = d.log_probs.iter().map(|l| l.exp()).collect();
            let entropy: f64 = -probs.iter().zip(&d.log_probs).map(|(p, l)| p * l).sum::<f64>();
            loss += -advantage * d.log_probs[d.choice] - entropy_weight * entropy;

            // ∂L/∂logits: the policy-gradient term A·(p − onehot) plus the
            // entropy term w·p·(log p + H), then back through the squashing.
            let dz: Vec<f64> = (0..arity)
                .map(|k| {
                    let onehot = if k == d.choice { 1.0 } else { 0.0 };
                    let dlogit = advantage * (probs[k] - onehot) + entropy_weight * probs[k] * (d.log_probs[k] + entropy);
                    let dsquash = if self.tanh_constant > 0.0 { self.tanh_constant * (1.0 - d.squashed[k] * d.squashed[k]) } else { 1.0 };
                    dlogit * dsquash / self.temperature
                })
                .collect();

            let head = self.head[t];
            let w = &params[head..head + arity * hidden];
            let mut dh = dh_next;
            let (dw, db) = grad[head..head + arity * hidden + arity].split_at_mut(arity * hidden);
            for k in 0..arity {
                db[k] += dz[k];
                for j in 0..hidden {
                    dw[k * hidden + j] += dz[k] * d.cell.h[j];
                    dh[j] += dz[k] * w[k * hidden + j];
                }
            }

            let w = &params[self.lstm..self.lstm + lstm_weights];
            let (dw, db) = grad[self.lstm..self.lstm + lstm_weights + 4 * hidden].split_at_mut(lstm_weights);
            let back = lstm::backward(w, &d.cell, &dh, &dc_next, dw, db);
            let input = match t {
                0 => self.start,
                _ => self.embed[t - 1] + genotype[t - 1] as usize * hidden,
            };
            grad[input..input + hidden].iter_mut().zip(&back.dx).for_each(|(g, d)| *g += d);
            dh_next = back.dh_prev;
            dc_next = back.dc_prev;
        }
        loss
    }

    /// Runs the controller over every decision; `choose(t, log_probs)` picks
    /// decision `t`'s choice, which becomes the next step's input.
    fn forward(&self, params: &[f64], mut choose: impl FnMut(usize, &[f64]) -> usize) -> Vec<Decided> {
        let hidden = self.hidden;
        let lstm_weights = 8 * hidden * hidden;
        let (w, b) = params[self.lstm..self.lstm + lstm_weights + 4 * hidden].split_at(lstm_weights);
        let mut h = vec![0.0; hidden];
        let mut c = vec![0.0; hidden];
        let mut trace: Vec<Decided> = Vec::with_capacity(self.arities.len());
        for (t, &arity) in self.arities.iter().enumerate() {
            let x = match trace.last() {
                None => &params[self.start..self.start + hidden],
                Some(prev) => {
                    let at = self.embed[t - 1] + prev.choice * hidden;
                    &params[at..at + hidden]
                }
            };
            let cell = lstm::forward(w, b, x, &h, &c);
            let (head_w, head_b) = params[self.head[t]..self.head[t] + arity * hidden + arity].split_at(arity * hidden);
            let scaled: Vec<f64> = head_w
                .chunks_exact(hidden)
                .zip(head_b)
                .map(|(row, bias)| (bias + row.iter().zip(&cell.h).map(|(a, b)| a * b).sum::<f64>()) / self.temperature)
                .collect();
            let (squashed, logits) = if self.tanh_constant > 0.0 {
                let s: Vec<f64> = scaled.iter().map(|z| z.tanh()).collect();
                let l = s.iter().map(|s| self.tanh_constant * s).collect();
                (s, l)
            } else {
                (Vec::new(), scaled)
            };
            let log_probs = log_softmax(&logits);
            let choice = choose(t, &log_probs);
            h.clone_from(&cell.h);
            c.clone_from(&cell.c);
            trace.push(Decided { cell, squashed, log_probs, choice });
        }
        trace
    }
}

/// `log softmax(logits)`, shifted by the maximum so that no `exp` overflows.
fn log_softmax(logits: &[f64]) -> Vec<f64> {
    let max = logits.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let log_sum = max + logits.iter().map(|l| (l - max).exp()).sum::<f64>().ln();
    logits.iter().map(|l| l - log_sum).collect()
}

/// An index drawn with the given log-probabilities, by one uniform draw
/// from the host's stream.
fn categorical(log_probs: &[f64]) -> usize {
    let u = random::f64();
    let mut cumulative = 0.0;
    for (k, l) in log_probs.iter().enumerate() {
        cumulative += l.exp();
        if u < cumulative {
            return k;
        }
    }
    // Rounding left the total a hair under 1 and `u` above it.
    log_probs.len() - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parameters in [-1, 1] from a fixed sequence, independent of the SDK's
    /// generator; wider than the real init so that every gradient is large
    /// enough to compare.
    fn params(n: usize, salt: u64) -> Vec<f64> {
        let mut s = 0x2545_f491_4f6c_dd1d_u64 ^ salt;
        (0..n)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
            })
            .collect()
    }

    fn check_gradient(controller: &Controller, genotype: &[u32], advantage: f64, entropy_weight: f64, salt: u64) {
        let p = params(controller.len(), salt);
        let mut grad = vec![0.0; controller.len()];
        let loss = controller.loss_and_gradient(&p, genotype, advantage, entropy_weight, &mut grad);
        assert!(loss.is_finite());
        let eps = 1e-5;
        let mut worst = (0.0, 0);
        let mut significant = 0;
        for i in 0..p.len() {
            let at = |delta: f64| {
                let mut q = p.clone();
                q[i] += delta;
                controller.loss_and_gradient(&q, genotype, advantage, entropy_weight, &mut vec![0.0; q.len()])
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            // Relative error, with a floor so that gradients that are zero
            // both ways (unused embedding rows) compare absolutely.
            let error = (grad[i] - numeric).abs() / grad[i].abs().max(numeric.abs()).max(1e-6);
            if error > worst.0 {
                worst = (error, i);
            }
            if grad[i].abs() > 1e-8 {
                significant += 1;
            }
        }
        assert!(worst.0 < 1e-4, "parameter {} of {}: relative error {:e}", worst.1, p.len(), worst.0);
        // Guard against a vacuous pass: every parameter but the embeddings of
        // choices not taken (12 of 203 here) must matter.
        assert!(significant * 100 > p.len() * 90, "only {significant} of {} gradients are non-negligible", p.len());
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let arities = [2, 3, 2];
        for (temperature, tanh_constant) in [(5.0, 2.5), (1.0, 0.0), (0.7, 1.1)] {
            let c = Controller::new(&arities, 4, temperature, tanh_constant);
            for (salt, genotype) in [(1, [1, 2, 0]), (2, [0, 0, 1]), (3, [1, 1, 1])] {
                check_gradient(&c, &genotype, 0.8, 0.0, salt);
                check_gradient(&c, &genotype, -1.3, 0.3, salt + 10);
                // Entropy alone (no advantage), so that term is checked on its own.
                check_gradient(&c, &genotype, 0.0, 0.5, salt + 20);
            }
        }
    }

    #[test]
    fn layout_covers_every_parameter_once() {
        let c = Controller::new(&[2, 3, 2], 4, 1.0, 0.0);
        // start 4, LSTM 4·4·8 + 16, embeddings (2 + 3)·4, heads (2 + 3 + 2)·5.
        assert_eq!(c.len(), 4 + 128 + 16 + 20 + 35);
        assert_eq!(c.head.last().unwrap() + 2 * 4 + 2, c.len());
    }

    #[test]
    fn sampled_frequencies_follow_the_policy() {
        let c = Controller::new(&[3, 2], 3, 1.0, 0.0);
        let p = params(c.len(), 7);
        let n = 20_000;
        let mut counts = [[0usize; 2]; 3];
        for _ in 0..n {
            let g = c.sample(&p);
            counts[g[0] as usize][g[1] as usize] += 1;
        }
        for a in 0..3 {
            for b in 0..2 {
                let expected = c.log_prob(&p, &[a, b]).exp();
                let seen = counts[a as usize][b as usize] as f64 / n as f64;
                assert!((seen - expected).abs() < 0.015, "{a},{b}: seen {seen}, policy {expected}");
            }
        }
    }
}
