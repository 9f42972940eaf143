//! What one-shot search costs per step, on CPU, against training one
//! stand-alone architecture of the same skeleton (nb201 at the search
//! defaults: C=8, N=1, batch 64, 32×32 synthetic images, 2 threads):
//!
//! - stand-alone: one SGD step of the network of a fixed cell;
//! - supernet path: one SGD step of the shared weights along the same
//!   cell (what ENAS and RS-WS do per training step);
//! - supernet relaxed: one DARTS step: a weight step through the mixture of
//!   all five operations on every edge, then the validation loss's gradient
//!   with respect to the mixing weights (two forward and backward passes);
//! - supernet sampled: one GDAS step on the same cell's one-hot sample,
//!   declared a sample (contract 0.1.1): the same two passes, each running
//!   only the sampled operation per edge;
//! - the same one-hot weights read as a mixture: the GDAS step as it was
//!   before 0.1.1 (and is for strategies that do not declare samples).
//!
//! The five alternate in blocks, 7 rounds after a warm-up; medians.
//!
//!     cargo bench -p nasbox --bench supernet

mod common;

use std::time::Instant;

use nasbox::data;
use nasbox::estimate::one_shot::{OneShot, OneShotOptions};
use nasbox::estimate::train::TrainOptions;
use nasbox::space::SearchSpace;
use nasbox::strategy::RelaxedKind;
use nasbox::train::{self, Skeleton};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

const CELL: &str = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|";
const BATCH: i64 = 64;
const STEPS: usize = 10;

fn main() -> anyhow::Result<()> {
    tch::set_num_threads(2);
    let space = SearchSpace::Nb201;
    let genotype = space.parse(CELL)?;
    let d = data::load("synthetic", 0)?;
    let splits = d.split(0.1, 0);
    let skeleton = Skeleton::for_data(&space, Some(8), Some(1), &splits.train, d.classes.len());
    let vs = nn::VarStore::new(Device::Cpu);
    let net = train::build(&vs.root(), &space, &genotype, &skeleton)?;
    let mut sgd = nn::Sgd { momentum: 0.9, ..Default::default() }.build(&vs, 0.025)?;
    let x = Tensor::randn([BATCH, 3, 32, 32], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(10, [BATCH], (Kind::Int64, Device::Cpu));
    let options = OneShotOptions { steps: STEPS, valid_batches: 1, ..OneShotOptions::default() };
    let train = TrainOptions { batch_size: BATCH as usize, threads: Some(2), ..TrainOptions::default() };
    let mut supernet = OneShot::new(&space, "synthetic", &train, 0, options)?;
    let uniform = vec![vec![0.2; 5]; 6];
    let one_hot: Vec<Vec<f64>> = genotype.iter().map(|&g| (0..5).map(|k| if k == g as usize { 1.0 } else { 0.0 }).collect()).collect();
    let (mut alone, mut path, mut relaxed, mut sampled, mut dense) = (vec![], vec![], vec![], vec![], vec![]);

    for round in 0..8 {
        let t = Instant::now();
        for _ in 0..STEPS {
            let loss = tch::nn::ModuleT::forward_t(net.as_ref(), &x, true).cross_entropy_for_logits(&y);
            sgd.backward_step(&loss);
        }
        let a = t.elapsed().as_secs_f64() / STEPS as f64;
        let p = {
            let t = Instant::now();
            supernet.evaluate_path(&genotype);
            t.elapsed().as_secs_f64() / STEPS as f64
        };
        let r = steps(&mut supernet, &uniform, RelaxedKind::Mixture, STEPS / 2);
        let g = steps(&mut supernet, &one_hot, RelaxedKind::Sample, STEPS);
        let d = steps(&mut supernet, &one_hot, RelaxedKind::Mixture, STEPS / 2);
        if round > 0 {
            // The first round warms up.
            alone.push(a);
            path.push(p);
            relaxed.push(r);
            sampled.push(g);
            dense.push(d);
        }
    }
    let [a, p, r, g, d] = [alone, path, relaxed, sampled, dense].map(common::median);
    println!("nb201 C=8 N=1, batch {BATCH}, CPU, 2 threads; medians of 7 rounds");
    // Relative to the path as well: the supernet rows share its code, and
    // on a loaded machine the stand-alone row (another optimiser) moved the
    // most between runs.
    println!("| what | ms per step | steps/s | training images/s | relative to stand-alone | relative to the path |");
    println!("|---|---|---|---|---|---|");
    for (name, s) in [
        ("stand-alone network", a),
        ("supernet, one path (ENAS, RS-WS)", p),
        ("supernet, relaxed (DARTS step)", r),
        ("supernet, sampled (GDAS step)", g),
        ("supernet, one-hot mixture (GDAS step before 0.1.1)", d),
    ] {
        println!("| {name} | {:.1} | {:.1} | {:.0} | {:.2} | {:.2} |", s * 1e3, 1.0 / s, BATCH as f64 / s, a / s, p / s);
    }
    Ok(())
}

/// Mean seconds per relaxed step, over `n` steps.
fn steps(supernet: &mut OneShot, weights: &[Vec<f64>], kind: RelaxedKind, n: usize) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        let e = supernet.evaluate_relaxed(weights, kind);
        assert!(e.gradient.is_some(), "{:?}", e.status);
    }
    t.elapsed().as_secs_f64() / n as f64
}
