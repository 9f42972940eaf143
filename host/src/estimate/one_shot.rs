//! The `supernet` estimator: one set of shared weights for the whole space
//! (see `train::supernet`), trained a little with every proposal.
//!
//! - A **discrete** proposal trains the shared weights on its path for
//!   `steps` minibatches, then scores the path with the shared weights on
//!   a fixed set of held-out validation batches (ENAS, Pham et al. 2018;
//!   random search with weight sharing, Li & Talwalkar 2019). So
//!   `reinforce` + `supernet` is ENAS and `random` + `supernet` is RS-WS.
//! - A **relaxed** proposal (weights per decision) takes one step of the
//!   network weights on a training batch through the continuous
//!   relaxation, then returns the validation loss on the next validation
//!   batch and its gradient with respect to the proposal's weights: the
//!   architecture optimiser (DARTS' first-order Adam, GDAS' Gumbel
//!   sampling) lives in the strategy.
//!
//! Everything is deterministic for a seed on CPU: the initial weights, and
//! the batches, which follow step counters. The state (weights, momentum,
//! counters) is saved after every proposal so a killed search resumes
//! exactly where the journal says it was.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::{Device, Kind, Reduction, Tensor};

use super::train::TrainOptions;
use super::Evaluation;
use crate::data::{self, augment, SplitMix};
use crate::space::{SearchSpace, Space};
use crate::strategy::RelaxedKind;
use crate::train::supernet::{self, Route, Supernet};
use crate::train::Skeleton;

/// How the shared weights are trained (`[supernet]` in a run's TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OneShotOptions {
    /// Training steps on a discrete proposal's path before it is scored.
    pub steps: usize,
    /// Validation batches a discrete proposal is scored on (always the
    /// same ones, so scores are comparable).
    pub valid_batches: usize,
    /// SGD on the shared weights, DARTS' recipe: lr 0.025, momentum 0.9,
    /// weight decay 3e-4, gradients clipped to norm 5.
    pub lr: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    pub grad_clip: f64,
}

impl Default for OneShotOptions {
    fn default() -> Self {
        OneShotOptions { steps: 20, valid_batches: 4, lr: 0.025, momentum: 0.9, weight_decay: 3e-4, grad_clip: 5.0 }
    }
}

/// A normalised split on the device.
struct Split {
    x: Tensor,
    y: Tensor,
    len: usize,
    /// The shuffled order (seed, epoch, indices) being drawn from, made
    /// once per epoch rather than once per batch.
    order: std::cell::RefCell<Option<(u64, u64, Tensor)>>,
}

impl Split {
    fn new(images: &data::Images, mean: &[f32], std: &[f32], limit: usize, seed: u64, device: Device) -> Split {
        let mut order: Vec<usize> = (0..images.len()).collect();
        SplitMix(seed).shuffle(&mut order);
        order.truncate(limit.clamp(1, images.len().max(1)));
        let pixels = augment::batch(images, &order, &augment::Augment { pad: 0, flip: false }, &mut SplitMix(0));
        let plane = images.height * images.width;
        let x = Tensor::from_slice(&augment::normalise(&pixels, images.channels, plane, mean, std))
            .view([order.len() as i64, images.channels as i64, images.height as i64, images.width as i64])
            .to_device(device);
        let labels: Vec<i64> = order.iter().map(|&i| images.labels[i] as i64).collect();
        Split { x, y: Tensor::from_slice(&labels).to_device(device), len: order.len(), order: Default::default() }
    }

    /// Batch `step` of an endless sequence of shuffled epochs.
    fn batch(&self, step: u64, size: usize, seed: u64) -> (Tensor, Tensor) {
        let per_epoch = self.len.div_ceil(size) as u64;
        let (epoch, k) = (step / per_epoch, (step % per_epoch) as usize);
        let mut cached = self.order.borrow_mut();
        if cached.as_ref().is_none_or(|(s, e, _)| (*s, *e) != (seed, epoch)) {
            let mut order: Vec<i64> = (0..self.len as i64).collect();
            SplitMix(seed ^ epoch.wrapping_mul(0x9e37_79b9_7f4a_7c15)).shuffle(&mut order);
            *cached = Some((seed, epoch, Tensor::from_slice(&order).to_device(self.x.device())));
        }
        let (_, _, order) = cached.as_ref().expect("just set");
        let idx = order.narrow(0, (k * size) as i64, (size.min(self.len - k * size)) as i64);
        (self.x.index_select(0, &idx), self.y.index_select(0, &idx))
    }

    /// The `k`-th batch in storage order (fixed scoring batches).
    fn fixed(&self, k: usize, size: usize) -> Option<(Tensor, Tensor)> {
        let start = k * size;
        (start < self.len).then(|| {
            let n = size.min(self.len - start) as i64;
            (self.x.narrow(0, start as i64, n), self.y.narrow(0, start as i64, n))
        })
    }
}

/// The shared weights and everything needed to go on training them.
pub struct OneShot {
    vs: VarStore,
    net: Box<dyn Supernet>,
    decisions: Space,
    options: OneShotOptions,
    train: Split,
    valid: Split,
    batch: usize,
    seed: u64,
    /// Momentum buffers, by variable name.
    momentum: Vec<(String, Tensor)>,
    /// Training and validation batches consumed so far.
    train_step: u64,
    valid_step: u64,
}

impl OneShot {
    /// Builds the supernet of `space` for `dataset`, seeded by `seed`, with
    /// the skeleton, batch size, data and device of `train`.
    pub fn new(space: &SearchSpace, dataset: &str, train: &TrainOptions, seed: u64, options: OneShotOptions) -> anyhow::Result<OneShot> {
        let batch = train.batch_size;
        anyhow::ensure!(batch > 0, "the supernet's batch size must be at least 1");
        anyhow::ensure!(options.steps > 0 && options.valid_batches > 0, "supernet steps and valid_batches must be at least 1");
        let d = data::load(dataset, seed)?;
        let splits = d.split(train.valid_fraction, seed);
        anyhow::ensure!(!splits.valid.is_empty(), "the supernet estimator needs validation data: valid_fraction {} leaves none", train.valid_fraction);
        let (mean, std) = splits.train.channel_stats();
        let device = crate::train::device(&train.device)?;
        if let Some(t) = train.threads {
            tch::set_num_threads(t);
        }
        let n_train = ((splits.train.len() as f64 * train.data_fraction).round() as usize).max(1);
        let train_split = Split::new(&splits.train, &mean, &std, n_train, seed ^ 0x7a11, device);
        let valid = Split::new(&splits.valid, &mean, &std, splits.valid.len(), seed ^ 0x7a12, device);
        let skeleton = Skeleton::for_data(space, train.channels, train.cells, &splits.train, d.classes.len());
        tch::manual_seed(seed as i64);
        let vs = VarStore::new(device);
        let net = supernet::build(&vs.root(), space, &skeleton)?;
        let momentum = trainable(&vs).into_iter().map(|(name, t)| (name, t.zeros_like())).collect();
        Ok(OneShot { vs, net, decisions: space.space(), options, train: train_split, valid, batch, seed, momentum, train_step: 0, valid_step: 0 })
    }

    /// Trains a path for `steps` batches, then scores it on the fixed
    /// validation batches.
    pub fn evaluate_path(&mut self, genotype: &[u32]) -> Evaluation {
        let started = Instant::now();
        let route = Route::Path(genotype);
        let mut train_loss = 0.0;
        for _ in 0..self.options.steps {
            let (x, y) = self.next_train();
            let loss = self.net.forward(&x, &route).cross_entropy_loss::<Tensor>(&y, None, Reduction::Mean, -100, 0.0);
            train_loss += loss.double_value(&[]);
            self.step(&loss);
        }
        train_loss /= self.options.steps as f64;
        if !train_loss.is_finite() {
            return Evaluation::failed(format!("diverged: the supernet's training loss became {train_loss} on this path"));
        }
        let (accuracy, valid_loss) = tch::no_grad(|| {
            let (mut correct, mut loss, mut seen) = (0.0, 0.0, 0usize);
            for k in 0..self.options.valid_batches {
                let Some((x, y)) = self.valid.fixed(k, self.batch) else { break };
                let logits = self.net.forward(&x, &route);
                let n = y.size()[0] as usize;
                correct += logits.argmax(-1, false).eq_tensor(&y).to_kind(Kind::Double).sum(Kind::Double).double_value(&[]);
                loss += logits.cross_entropy_for_logits(&y).double_value(&[]) * n as f64;
                seen += n;
            }
            (correct / seen as f64, loss / seen as f64)
        });
        let metrics = vec![("train-loss".into(), train_loss), ("valid-loss".into(), valid_loss), ("supernet-steps".into(), self.train_step as f64)];
        Evaluation::ok(accuracy, started.elapsed().as_secs_f64(), metrics)
    }

    /// One step of the network weights through the relaxation `weights`,
    /// then the validation loss on the next validation batch and its
    /// gradient with respect to `weights`. With `kind` `sample` (the
    /// strategy's `relaxation`), each one-hot row runs only its option
    /// (see [`Route::Sample`]); other rows, and every row of a `mixture`,
    /// mix all options.
    pub fn evaluate_relaxed(&mut self, weights: &[Vec<f64>], kind: RelaxedKind) -> Evaluation {
        let started = Instant::now();
        if let Err(e) = self.check_relaxed(weights) {
            return Evaluation::invalid(e);
        }
        let chosen: Vec<Option<u32>> = match kind {
            RelaxedKind::Sample => weights.iter().map(|row| supernet::sampled(row)).collect(),
            RelaxedKind::Mixture => vec![None; weights.len()],
        };
        let device = self.vs.device();
        let w: Vec<Tensor> = weights.iter().map(|v| Tensor::from_slice(v).to_kind(Kind::Float).to_device(device)).collect();
        let (x, y) = self.next_train();
        let loss = self.net.forward(&x, &route(&w, &chosen)).cross_entropy_loss::<Tensor>(&y, None, Reduction::Mean, -100, 0.0);
        let train_loss = loss.double_value(&[]);
        self.step(&loss);
        let (x, y) = self.valid.batch(self.valid_step, self.batch, self.seed ^ 0xba11);
        self.valid_step += 1;
        let (valid_loss, accuracy, gradient) = self.valid_gradient(&w, &chosen, &x, &y);
        if !(train_loss.is_finite() && valid_loss.is_finite()) {
            return Evaluation::failed(format!("diverged: the supernet's losses became {train_loss} (train) and {valid_loss} (valid)"));
        }
        let mut metrics = vec![("train-loss".into(), train_loss), ("valid-loss".into(), valid_loss), ("supernet-steps".into(), self.train_step as f64)];
        if kind == RelaxedKind::Sample {
            // So a user can see the samples ran as samples.
            metrics.push(("sampled-decisions".into(), chosen.iter().flatten().count() as f64));
        }
        let mut e = Evaluation::ok(accuracy, started.elapsed().as_secs_f64(), metrics);
        e.gradient = Some(gradient.iter().map(|g| Vec::<f64>::try_from(g.to_kind(Kind::Double).to_device(Device::Cpu)).expect("a 1-d gradient")).collect());
        e
    }

    /// The validation loss of the relaxation `weights` on one batch, its
    /// accuracy, and the loss's gradient with respect to the weights. A
    /// decision `chosen` at an option runs only that option (a sample);
    /// the others mix. The network weights are not changed.
    pub fn valid_gradient(&self, weights: &[Tensor], chosen: &[Option<u32>], x: &Tensor, y: &Tensor) -> (f64, f64, Vec<Tensor>) {
        let alphas: Vec<Tensor> = weights.iter().map(|w| w.detach().set_requires_grad(true)).collect();
        let logits = self.net.forward(x, &route(&alphas, chosen));
        let loss = logits.cross_entropy_for_logits(y);
        let accuracy = tch::no_grad(|| logits.argmax(-1, false).eq_tensor(y).to_kind(Kind::Double).mean(Kind::Double).double_value(&[]));
        let gradients = Tensor::run_backward(&[&loss], &alphas, false, false);
        // A row no computation read (a sample whose option adds nothing,
        // `none`, or one on a node nothing reaches) has no gradient: zero.
        let gradients = gradients.into_iter().zip(&alphas).map(|(g, a)| if g.defined() { g } else { a.zeros_like() }).collect();
        (loss.double_value(&[]), accuracy, gradients)
    }

    fn check_relaxed(&self, weights: &[Vec<f64>]) -> Result<(), String> {
        if weights.len() != self.decisions.decisions.len() {
            return Err(format!("{} weight vectors for {} decisions", weights.len(), self.decisions.decisions.len()));
        }
        for (d, w) in self.decisions.decisions.iter().zip(weights) {
            if w.len() != d.choices.len() {
                return Err(format!("decision `{}` has {} choices, its weights {} values", d.name, d.choices.len(), w.len()));
            }
        }
        Ok(())
    }

    fn next_train(&mut self) -> (Tensor, Tensor) {
        let b = self.train.batch(self.train_step, self.batch, self.seed ^ 0x7ea1);
        self.train_step += 1;
        b
    }

    /// SGD with momentum and weight decay on the shared weights, after
    /// clipping the gradient norm; gradients are cleared after.
    fn step(&mut self, loss: &Tensor) {
        let vars = trainable(&self.vs);
        for (_, v) in &vars {
            let mut v = v.shallow_clone();
            v.zero_grad();
        }
        loss.backward();
        let o = &self.options;
        tch::no_grad(|| {
            let norm = vars
                .iter()
                .filter(|(_, v)| v.grad().defined())
                .map(|(_, v)| v.grad().pow_tensor_scalar(2).sum(Kind::Double).double_value(&[]))
                .sum::<f64>()
                .sqrt();
            let scale = if norm > o.grad_clip { o.grad_clip / (norm + 1e-6) } else { 1.0 };
            for ((name, v), (mname, buf)) in vars.iter().zip(&mut self.momentum) {
                debug_assert_eq!(name, mname);
                let g = v.grad();
                if !g.defined() {
                    continue;
                }
                let d = g * scale + v * o.weight_decay;
                *buf = &*buf * o.momentum + d;
                let mut v = v.shallow_clone();
                let _ = v.f_sub_(&(&*buf * o.lr)).expect("in-place update");
                let mut g = v.grad();
                let _ = g.zero_();
            }
        });
    }

    /// Saves the state (weights, momentum, counters) to a safetensors file,
    /// atomically.
    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let cpu = |t: &Tensor| t.to_device(Device::Cpu);
        let mut named: Vec<(String, Tensor)> = self.vs.variables().into_iter().map(|(k, v)| (format!("net.{k}"), cpu(&v))).collect();
        named.extend(self.momentum.iter().map(|(k, v)| (format!("momentum.{k}"), cpu(v))));
        named.push(("counters".into(), Tensor::from_slice(&[self.train_step as i64, self.valid_step as i64])));
        let tmp = path.with_extension("tmp");
        Tensor::write_safetensors(&named, &tmp).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("renaming {} to {}", tmp.display(), path.display()))
    }

    /// Restores a state written by [`OneShot::save`] for the same space,
    /// skeleton and data.
    pub fn load(&mut self, path: &Path) -> anyhow::Result<()> {
        let tensors = Tensor::read_safetensors(path).with_context(|| format!("reading the supernet checkpoint {}", path.display()))?;
        let mut by_name: std::collections::HashMap<String, Tensor> = tensors.into_iter().collect();
        let vars = self.vs.variables();
        tch::no_grad(|| -> anyhow::Result<()> {
            for (name, mut v) in vars {
                let saved =
                    by_name.remove(&format!("net.{name}")).with_context(|| format!("{}: no `{name}`; it is not this run's supernet", path.display()))?;
                anyhow::ensure!(saved.size() == v.size(), "{}: `{name}` has shape {:?}, the supernet {:?}", path.display(), saved.size(), v.size());
                v.copy_(&saved);
            }
            let device = self.vs.device();
            for (name, buf) in &mut self.momentum {
                *buf = by_name.remove(&format!("momentum.{name}")).with_context(|| format!("{}: no momentum for `{name}`", path.display()))?.to_device(device);
            }
            Ok(())
        })?;
        let counters = Vec::<i64>::try_from(by_name.remove("counters").with_context(|| format!("{}: no counters", path.display()))?)?;
        anyhow::ensure!(counters.len() == 2, "{}: malformed counters", path.display());
        (self.train_step, self.valid_step) = (counters[0] as u64, counters[1] as u64);
        Ok(())
    }

    /// Training batches consumed so far.
    pub fn steps(&self) -> u64 {
        self.train_step
    }

    /// The shared weights (for tests and inspection).
    pub fn var_store(&self) -> &VarStore {
        &self.vs
    }
}

/// A mix of `weights`, or a sample where any decision was `chosen`.
fn route<'a>(weights: &'a [Tensor], chosen: &'a [Option<u32>]) -> Route<'a> {
    if chosen.iter().any(Option::is_some) {
        Route::Sample(weights, chosen)
    } else {
        Route::Mix(weights)
    }
}

/// The trainable variables, sorted by name.
fn trainable(vs: &VarStore) -> Vec<(String, Tensor)> {
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().filter(|(_, v)| v.requires_grad()).collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::ops::TORCH_TEST_LOCK;

    fn tiny(seed: u64) -> OneShot {
        let options = OneShotOptions { steps: 3, valid_batches: 2, ..OneShotOptions::default() };
        let train = TrainOptions { batch_size: 16, data_fraction: 0.05, channels: Some(2), cells: Some(1), ..TrainOptions::default() };
        OneShot::new(&SearchSpace::Nb201, "synthetic", &train, seed, options).unwrap()
    }

    #[test]
    fn the_gradient_for_the_weights_matches_finite_differences() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = tiny(1);
        // In float64, so that a small step leaves neither rounding (1e-16 /
        // 1e-6) nor truncation to speak of, and crosses a ReLU's kink only
        // by rare bad luck. (In float32 a step of 1e-2 was needed, and its
        // truncation error came within 7% of the tolerance: a change of the
        // synthetic images broke it.)
        s.vs.double();
        let (x, y) = s.valid.batch(0, 8, 3);
        let x = x.to_kind(Kind::Double);
        let weights: Vec<Tensor> = (0..6).map(|d| Tensor::from_slice(&[0.1 + 0.05 * d as f64, 0.3, 0.2, 0.25, 0.15])).collect();
        let (_, _, analytic) = s.valid_gradient(&weights, &[None; 6], &x, &y);
        let eps = 1e-6;
        for (d, k) in [(0, 1), (1, 3), (2, 0), (3, 2), (4, 4), (5, 3)] {
            let loss_at = |delta: f64| {
                let w: Vec<Tensor> =
                    weights
                        .iter()
                        .enumerate()
                        .map(|(i, t)| {
                            if i == d {
                                t + Tensor::from_slice(&[0.0f64; 5]).index_fill(0, &Tensor::from_slice(&[k as i64]), delta)
                            } else {
                                t.shallow_clone()
                            }
                        })
                        .collect();
                // Not `cross_entropy_for_logits`, whose log-softmax is float32.
                tch::no_grad(|| s.net.forward(&x, &Route::Mix(&w)).log_softmax(-1, Kind::Double).nll_loss(&y).double_value(&[]))
            };
            let numeric = (loss_at(eps) - loss_at(-eps)) / (2.0 * eps);
            let exact = analytic[d].double_value(&[k as i64]);
            // |error| / tolerance measured at most 0.0048 (AVX-512, AVX2 and
            // default kernels).
            assert!((numeric - exact).abs() <= 1e-6 + 1e-4 * exact.abs(), "decision {d}, option {k}: finite differences {numeric}, backward {exact}");
            // Option 0 is `none`: no computation reads its weight, so both are 0.
            assert!(k == 0 || exact.abs() > 1e-4, "decision {d}, option {k}: a gradient this small would not test much: {exact}");
        }
    }

    #[test]
    fn training_a_path_changes_only_shared_weights_on_that_path_and_state_round_trips() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = tiny(2);
        let before = s.vs.variables();
        let snapshot: std::collections::HashMap<String, Tensor> = before.iter().map(|(k, v)| (k.clone(), v.copy())).collect();
        let e = s.evaluate_path(&[3, 1, 1, 1, 1, 1]);
        assert_eq!(e.status, crate::run::journal::TrialStatus::Ok);
        let changed = |name: &str| !s.vs.variables()[name].equal(&snapshot[name]);
        assert!(changed("stage0.cell0.e0.op3.conv.weight"), "the path's conv trained");
        assert!(!changed("stage0.cell0.e0.op2.conv.weight"), "a conv off the path did not");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("supernet.safetensors");
        s.save(&path).unwrap();
        let a = s.evaluate_path(&[2, 2, 3, 1, 4, 3]);
        let mut t = tiny(2);
        t.load(&path).unwrap();
        assert_eq!(t.steps(), 3);
        let b = t.evaluate_path(&[2, 2, 3, 1, 4, 3]);
        assert_eq!((a.objective, a.metrics), (b.objective, b.metrics), "a restored supernet continues exactly");
    }

    /// GDAS' step: on a fixed batch, a sample runs the chosen operations
    /// only (the forward is the path's, scaled by the rows' values), the
    /// operations off it get no gradient, and the rows' gradient is the
    /// dense mixture's at the chosen entries and zero elsewhere, where the
    /// mixture's is not.
    #[test]
    fn a_sample_runs_only_the_chosen_operations_and_returns_the_straight_through_gradient() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let s = tiny(4);
        let (x, y) = s.valid.batch(0, 8, 3);
        // Convs on edges 0 and 3, a skip, a pool, and `none` on edge 4.
        let genotype = [3u32, 1, 4, 2, 0, 3];
        let value = [1.0f32, 0.7, 1.0, 1.3, 1.0, 0.9];
        let rows: Vec<Vec<f64>> = genotype.iter().zip(value).map(|(&g, v)| (0..5).map(|k| if k == g as usize { v as f64 } else { 0.0 }).collect()).collect();
        let chosen: Vec<Option<u32>> = rows.iter().map(|r| supernet::sampled(r)).collect();
        assert_eq!(chosen, genotype.iter().map(|&g| Some(g)).collect::<Vec<_>>());
        let w: Vec<Tensor> = rows.iter().map(|r| Tensor::from_slice(r).to_kind(Kind::Float)).collect();

        // Forward: with values 1 the sample is the path, exactly; with other
        // values, the mixture of the same rows.
        let ones: Vec<Tensor> =
            genotype.iter().map(|&g| Tensor::zeros([5], (Kind::Float, Device::Cpu)).index_fill(0, &Tensor::from_slice(&[g as i64]), 1.0)).collect();
        tch::no_grad(|| {
            let path = s.net.forward(&x, &Route::Path(&genotype));
            assert!(s.net.forward(&x, &Route::Sample(&ones, &chosen)).equal(&path), "a sample of ones is the path");
            let (a, b) = (s.net.forward(&x, &Route::Sample(&w, &chosen)), s.net.forward(&x, &Route::Mix(&w)));
            assert!(a.allclose(&b, 1e-5, 1e-6, false), "max diff {}", (a - b).abs().max().double_value(&[]));
        });

        // Only the chosen operations run: the convs off the sample get no
        // gradient at all.
        for mut v in s.vs.trainable_variables() {
            v.zero_grad();
        }
        s.net.forward(&x, &Route::Sample(&w, &chosen)).cross_entropy_for_logits(&y).backward();
        let vars = s.vs.variables();
        let trained = |name: &str| vars[name].grad().defined() && vars[name].grad().abs().sum(Kind::Float).double_value(&[]) > 0.0;
        assert!(trained("stage0.cell0.e0.op3.conv.weight") && trained("stage1.cell0.e5.op3.conv.weight"), "the sampled convs train");
        for (e, op) in [(0, 2), (1, 2), (1, 3), (2, 3), (3, 3), (4, 2), (5, 2)] {
            assert!(!trained(&format!("stage0.cell0.e{e}.op{op}.conv.weight")), "edge {e} op {op} was not sampled and did not run");
        }

        let (loss, _, sampled) = s.valid_gradient(&w, &chosen, &x, &y);
        let (dense_loss, _, dense) = s.valid_gradient(&w, &[None; 6], &x, &y);
        assert!((loss - dense_loss).abs() <= 1e-5 * dense_loss.abs(), "same loss: {loss} vs {dense_loss}");
        let mut dense_off = 0.0f64;
        for (d, &g) in genotype.iter().enumerate() {
            for k in 0..5 {
                let (a, b) = (sampled[d].double_value(&[k]), dense[d].double_value(&[k]));
                if k == g as i64 {
                    assert!((a - b).abs() <= 1e-6 + 1e-3 * b.abs(), "decision {d}: the chosen entry {a} is the mixture's {b}");
                } else {
                    assert_eq!(a, 0.0, "decision {d}, option {k}: zero off the sample");
                    dense_off = dense_off.max(b.abs());
                }
            }
        }
        assert!(dense_off > 1e-4, "the mixture's gradient off the sample is not zero ({dense_off}): the test tells them apart");
        assert!(sampled[4].abs().sum(Kind::Float).double_value(&[]) == 0.0, "`none` adds nothing: its row's gradient is zero");
        assert!(sampled[0].abs().sum(Kind::Float).double_value(&[]) > 0.0);
    }

    #[test]
    fn a_sampled_step_says_so_and_a_mixture_of_the_same_rows_does_not() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let one_hot: Vec<Vec<f64>> = [3usize, 1, 4, 2, 0, 3].iter().map(|&g| (0..5).map(|k| if k == g { 1.0 } else { 0.0 }).collect()).collect();
        let mut half = one_hot.clone();
        half[1] = vec![0.5, 0.5, 0.0, 0.0, 0.0];
        let metric = |e: &Evaluation| e.metrics.iter().find(|(n, _)| n == "sampled-decisions").map(|m| m.1);
        let e = tiny(5).evaluate_relaxed(&half, RelaxedKind::Sample);
        assert_eq!(metric(&e), Some(5.0), "the row of two non-zero values mixes");
        let g = e.gradient.unwrap();
        // (Option 0 is `none`: it adds nothing, so its gradient is zero in
        // any case.)
        assert!(g[1][1..].iter().all(|v| *v != 0.0), "a mixed row's gradient is dense: {:?}", g[1]);
        assert!(g[0].iter().enumerate().all(|(k, v)| (k == 3) == (*v != 0.0)), "a sampled row's is not: {:?}", g[0]);
        let e = tiny(5).evaluate_relaxed(&one_hot, RelaxedKind::Mixture);
        assert_eq!(metric(&e), None);
        assert!(e.gradient.unwrap()[0][1..].iter().all(|v| *v != 0.0), "a one-hot mixture's gradient is dense, as before 0.1.1");
    }

    #[test]
    fn a_relaxed_step_returns_a_gradient_of_the_proposal_s_shape() {
        let _lock = TORCH_TEST_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        let mut s = tiny(3);
        let e = s.evaluate_relaxed(&vec![vec![0.2; 5]; 6], RelaxedKind::Mixture);
        assert_eq!(e.status, crate::run::journal::TrialStatus::Ok);
        let g = e.gradient.unwrap();
        assert_eq!(g.iter().map(Vec::len).collect::<Vec<_>>(), vec![5; 6]);
        assert!(g.iter().flatten().all(|v| v.is_finite()) && g.iter().flatten().any(|v| *v != 0.0));
        let bad = s.evaluate_relaxed(&vec![vec![0.2; 4]; 6], RelaxedKind::Mixture);
        assert!(matches!(bad.status, crate::run::journal::TrialStatus::Invalid(r) if r.contains("has 5 choices")));
    }
}
