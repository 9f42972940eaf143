//! How many architectures per second the zero-cost proxies score: all four
//! (naswot, grad_norm and snip from one forward/backward pass on the batch,
//! synflow from a float64 pass on one image) for NAS-Bench-201's benchmark
//! network (C=16, N=5) on a batch of 64 synthetic 32×32 images, on CPU with
//! 2 threads, over 20 seeded random architectures. Network construction is
//! included: it is part of what scoring a candidate costs.
//!
//! `cargo bench --bench zero_cost`

use std::time::Instant;

use nasbox::data::synthetic::{generate, Options};
use nasbox::estimate::zero_cost::{score, Scores};
use nasbox::space::SearchSpace;
use nasbox::train::Skeleton;
use tch::Tensor;

const ARCHS: usize = 20;
const BATCH: usize = 64;
const THREADS: i32 = 2;

fn main() {
    tch::set_num_threads(THREADS);
    let space = SearchSpace::Nb201;
    let skeleton = Skeleton { channels: 16, cells: 5, in_channels: 3, classes: 10, image_size: 32 };
    let data = generate(&Options { seed: 0, train: BATCH, test: 1, size: 32 });
    let (mean, std) = data.train.channel_stats();
    let plane = 32 * 32;
    let pixels: Vec<f32> = data.train.pixels.iter().enumerate().map(|(i, &p)| (p as f32 / 255.0 - mean[i / plane % 3]) / std[i / plane % 3]).collect();
    let x = Tensor::from_slice(&pixels).view([BATCH as i64, 3, 32, 32]);
    let y = Tensor::from_slice(&data.train.labels.iter().map(|&l| l as i64).collect::<Vec<_>>());
    let genotypes = space.sample(0, ARCHS).expect("nb201 samples");

    // Warm-up: libtorch's first calls allocate and pick kernels.
    score(&space, &genotypes[0], &skeleton, &x, &y, 0).expect("scores");

    println!("zero-cost proxies: nb201 C=16 N=5, batch {BATCH} of 32×32, CPU, {THREADS} threads, {ARCHS} architectures");
    println!("{:>4} {:>8}  {:>10} {:>8} {:>9} {:>9}  arch", "#", "ms", "synflow", "naswot", "grad_norm", "snip");
    let mut times = Vec::with_capacity(ARCHS);
    let start = Instant::now();
    for (i, g) in genotypes.iter().enumerate() {
        let t = Instant::now();
        let s: Scores = score(&space, g, &skeleton, &x, &y, i as u64).expect("scores");
        let ms = t.elapsed().as_secs_f64() * 1e3;
        times.push(ms);
        println!(
            "{i:>4} {ms:>8.1}  {:>10.3e} {:>8.2} {:>9.3} {:>9.3}  {}",
            s.synflow,
            s.naswot,
            s.grad_norm,
            s.snip,
            space.to_string(g).expect("sampled genotypes are valid")
        );
    }
    let total = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    println!();
    println!("{:<24} {:>10}", "architectures/s", format!("{:.2}", ARCHS as f64 / total));
    println!("{:<24} {:>10}", "median ms/architecture", format!("{:.1}", times[ARCHS / 2]));
    println!("{:<24} {:>10}", "min–max ms", format!("{:.0}–{:.0}", times[0], times[ARCHS - 1]));
}
