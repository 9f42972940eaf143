//! The zero-cost estimator of a search: one fixed minibatch of the run's
//! training data, a seeded reference sample of the space scored once, and
//! each proposal's objective is its rank vote against that reference (see
//! [`zero_cost`](super::zero_cost)). Each architecture's network is seeded
//! with the run's seed, so a repeated run gives the same scores.

use std::time::Instant;

use tch::{Device, Tensor};

use super::zero_cost::{score, Reference, Scores};
use super::Evaluation;
use crate::data::{self, augment};
use crate::space::{GenotypeError, SearchSpace};
use crate::train::Skeleton;

/// Images in the scoring minibatch.
pub const BATCH: usize = 64;
/// Architectures in the reference sample.
pub const REFERENCE: usize = 32;

/// Scores proposals with training-free proxies.
pub struct ZeroCost {
    space: SearchSpace,
    skeleton: Skeleton,
    x: Tensor,
    y: Tensor,
    seed: u64,
    reference: Reference,
}

impl ZeroCost {
    /// Loads the data, draws the minibatch and scores the reference sample
    /// (the slow part: [`REFERENCE`] architectures).
    pub fn new(space: &SearchSpace, dataset: &str, channels: Option<i64>, cells: Option<usize>, seed: u64) -> anyhow::Result<ZeroCost> {
        let d = data::load(dataset, seed)?;
        let splits = d.split(0.1, seed);
        let train = &splits.train;
        let mut order: Vec<usize> = (0..train.len()).collect();
        data::SplitMix(seed ^ 0x2e40).shuffle(&mut order);
        order.truncate(BATCH.min(train.len()));
        let (mean, std) = train.channel_stats();
        let pixels = augment::batch(train, &order, &augment::Augment { pad: 0, flip: false }, &mut data::SplitMix(0));
        let plane = train.height * train.width;
        let x = Tensor::from_slice(&augment::normalise(&pixels, train.channels, plane, &mean, &std))
            .view([order.len() as i64, train.channels as i64, train.height as i64, train.width as i64])
            .to_device(Device::Cpu);
        let labels: Vec<i64> = order.iter().map(|&i| train.labels[i] as i64).collect();
        let y = Tensor::from_slice(&labels);
        let skeleton = Skeleton::for_data(space, channels, cells, train, d.classes.len());
        let reference = Reference::sample(space, &skeleton, &x, &y, seed, REFERENCE)?;
        Ok(ZeroCost { space: space.clone(), skeleton, x, y, seed, reference })
    }

    /// The four proxies of one architecture.
    pub fn scores(&self, genotype: &[u32]) -> Result<Scores, GenotypeError> {
        score(&self.space, genotype, &self.skeleton, &self.x, &self.y, self.seed)
    }

    /// A trial: objective = the rank vote, metrics = each proxy.
    pub fn evaluate(&self, genotype: &[u32]) -> Evaluation {
        let started = Instant::now();
        match self.scores(genotype) {
            Ok(s) => {
                let metrics = Scores::NAMES.iter().zip(s.as_array()).filter(|(_, v)| v.is_finite()).map(|(n, v)| (n.to_string(), v)).collect();
                Evaluation::ok(self.reference.vote(&s), started.elapsed().as_secs_f64(), metrics)
            }
            Err(e) => Evaluation::failed(e.to_string()),
        }
    }
}
